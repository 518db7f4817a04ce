"""The Assessment Control Service: a token from a signed client assertion, then actions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from proctorhub.models import Attempt, Event

from .conftest import ISSUER, snapshot

SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _token(flow, assertion=None, status=200, **form):
    body = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "scope": SCOPE,
            "client_assertion": assertion or flow.tool.client_assertion(flow.config.client_id, f"{ISSUER}/lti/token"),
            **form}
    return flow.app.post("/lti/token", body, status=status).json


@pytest.fixture
def started(flow):
    flow.start(flow.signed(flow.start_proctoring()))
    return _token(flow)["access_token"]


def _acs(flow, token, action, status=200, **extra):
    body = {"user": {"iss": ISSUER, "sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1,
            "action": action, **extra}
    return flow.app.post_json("/lti/acs", body, headers={"Authorization": f"Bearer {token}"}, status=status).json


def test_pause_resume_flag_terminate(flow, started, dbsession):
    assert _acs(flow, started, "pause")["status"] == "paused"
    assert _acs(flow, started, "resume")["status"] == "started"
    flagged = _acs(flow, started, "flag", incident_severity=0.5, reason_msg="second face")
    assert flagged["status"] == "started"
    assert _acs(flow, started, "terminate")["status"] == "terminated"
    dbsession.expire_all()
    assert dbsession.execute(select(Attempt.status)).scalar_one() == "terminated"
    kinds = [e.kind for e in dbsession.execute(select(Event).order_by(Event.id)).scalars()]
    assert "acs.flag" in kinds


def test_client_assertion_is_single_use(flow, started, dbsession):
    assertion = flow.tool.client_assertion(flow.config.client_id, f"{ISSUER}/lti/token")
    _token(flow, assertion)
    before = snapshot(dbsession)
    refused = _token(flow, assertion, status=401)["error"]
    assert refused["code"] == "invalid_client" and refused["details"]["check"] == "replayed_jti"
    assert snapshot(dbsession) == before


def test_token_refusals(flow, started, dbsession):
    before = snapshot(dbsession)
    assert _token(flow, status=400, grant_type="password")["error"]["code"] == "unsupported_grant_type"
    assert _token(flow, status=400, scope="openid")["error"]["code"] == "invalid_scope"
    wrong_aud = flow.tool.client_assertion(flow.config.client_id, "https://elsewhere.test/token")
    assert _token(flow, wrong_aud, status=401)["error"]["details"]["check"] == "invalid_audience"
    assert snapshot(dbsession) == before


def test_acs_refusals_change_nothing(flow, started, dbsession):
    before = snapshot(dbsession)
    assert _acs(flow, "not-a-token", "pause", status=401)["error"]["code"] == "invalid_token"
    assert _acs(flow, started, "pause", status=404, attempt_number=2)["error"]["code"] == "unknown_attempt"
    assert _acs(flow, started, "explode", status=400)["error"]["code"] == "invalid_payload"
    flow.config.acs_actions = ["pause"]
    dbsession.add(flow.config)
    dbsession.commit()
    assert _acs(flow, started, "terminate", status=400)["error"]["code"] == "unsupported_action"
    assert snapshot(dbsession) == before
