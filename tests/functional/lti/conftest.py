"""Fixtures for the LTI flow: platform keys, a tool, its configuration, and a flow driver."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from sqlalchemy import func, select
from webtest import TestApp

from proctorhub.lti.keys import new_key
from proctorhub.models import (
    Attempt,
    AttemptControl,
    BrowserSession,
    Event,
    KeyState,
    Launch,
    PlatformKey,
    ReplayEntry,
    Review,
    SessionData,
)

from ... import factories as f
from ...lti_tool import FakeTool, path_of

ISSUER = "http://platform.test"
AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"
ACS_ACTIONS = ["pause", "resume", "terminate", "update", "flag"]


@pytest.fixture(scope="session")
def platform_key_rows(encryptor):
    """Generated once per run (2048-bit keys are slow to make); inserted afresh for each test."""
    return [new_key(KeyState.active, encryptor), new_key(KeyState.next, encryptor)]


def _copy(key: PlatformKey) -> PlatformKey:
    return PlatformKey(kid=key.kid, state=key.state, private_key_encrypted=key.private_key_encrypted,
                       public_jwk=dict(key.public_jwk), created_at=key.created_at, activated_at=key.activated_at)


@pytest.fixture
def platform_keys(dbsession, platform_key_rows):
    rows = [_copy(k) for k in platform_key_rows]
    dbsession.add_all(rows)
    dbsession.commit()
    return rows


@pytest.fixture(scope="session")
def tool():
    return FakeTool()


@pytest.fixture
def tool_config(dbsession, tool, platform_keys):
    return f.configuration(dbsession, public_key_pem=tool.public_pem(), acs_actions=list(ACS_ACTIONS))


@pytest.fixture
def lms(dbsession):
    return f.token(dbsession)


def snapshot(dbsession) -> dict:
    """Everything an LTI step may change, to assert that a refusal changed nothing."""
    dbsession.expire_all()
    return {
        "attempts": [(a.attempt_code, a.status, a.end_assessment_return, a.verified_user, a.started_at,
                      a.extra_time_seconds, a.paused_seconds, a.paused_at, a.modified_at)
                     for a in dbsession.execute(select(Attempt).order_by(Attempt.id)).scalars()],
        "controls": dbsession.execute(select(func.count()).select_from(AttemptControl)).scalar_one(),
        "reviews": dbsession.execute(select(func.count()).select_from(Review)).scalar_one(),
        "launches": [(row.id, row.entered_at, row.authorized_at, row.message_hint_hash, row.browser_session_id)
                     for row in dbsession.execute(select(Launch).order_by(Launch.id)).scalars()],
        "session_data": [(row.id, row.used_at) for row in dbsession.execute(select(SessionData)).scalars()],
        "browser_sessions": dbsession.execute(select(func.count()).select_from(BrowserSession)).scalar_one(),
        "ledger": sorted(dbsession.execute(select(ReplayEntry.kind, ReplayEntry.value)).all()),
        "events": dbsession.execute(select(func.count()).select_from(Event)).scalar_one(),
    }


class Flow:
    """Drives the LTI steps through WebTest, one browser (cookie jar) per ``Flow``."""

    def __init__(self, testapp, *, lms, config, tool):
        self.app = testapp
        self.lms = lms
        self.config = config
        self.tool = tool

    def create_launch(self, *, message_type="LtiStartProctoring", user_id="learner-1", resource_link_id="exam-1",
                      attempt_number=1, status=201, **extra):
        body = {"config_id": self.config.id, "message_type": message_type,
                "user": {"id": user_id, "role": "student", "name": "Ada Learner"},
                "resource_link": {"id": resource_link_id, "title": "Final exam"},
                "context": {"id": "course-1", "title": "Course"}, "attempt_number": attempt_number,
                "return_url": "https://lms.test/courses/1/return", **extra}
        return self.app.post_json("/api/v1/launches", body, headers=f.auth(self.lms), status=status).json

    def enter(self, launch, status=302):
        return self.app.get(path_of(launch["launch_url"]), status=status)

    def authorize(self, params, status=200, method="post"):
        if method == "get":
            return self.app.get("/lti/authorize", params, status=status)
        return self.app.post("/lti/authorize", params, status=status)

    def id_token(self, page) -> tuple[str, dict]:
        _action, fields = self.tool.form_fields(page.text)
        return fields["id_token"], jwt.decode(fields["id_token"], options={"verify_signature": False})

    def start_proctoring(self, **launch_fields) -> dict:
        """Launch API, browser entry and authorization: the LtiStartProctoring claims."""
        entry = self.enter(self.create_launch(**launch_fields))
        _token, claims = self.id_token(self.authorize(self.tool.authentication_request(entry.location)))
        return claims

    def start(self, signed: str, status=302, **kw):
        return self.app.post("/lti/start-assessment", {"JWT": signed}, status=status, **kw)

    def signed(self, claims, **overrides) -> str:
        return self.tool.start_assessment(claims, platform_issuer=ISSUER, **overrides)


@pytest.fixture
def flow(testapp, lms, tool_config, tool):
    return Flow(testapp, lms=lms, config=tool_config, tool=tool)


@pytest.fixture
def other_browser(app, lms, tool_config, tool):
    return Flow(TestApp(app), lms=lms, config=tool_config, tool=tool)


def past(seconds: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
