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


def test_acs_access_tokens_are_not_looked_up_as_api_tokens(flow, started, app):
    from sqlalchemy import event

    api_token_queries = []

    def note(_connection, _cursor, statement, *_rest):
        if "api_token" in statement:
            api_token_queries.append(statement)

    engine = app.registry["dbengine"]
    event.listen(engine, "after_cursor_execute", note)
    try:
        assert _acs(flow, started, "pause")["status"] == "paused"
    finally:
        event.remove(engine, "after_cursor_execute", note)
    assert api_token_queries == []


def test_expired_access_token_names_the_failed_check(flow, started, dbsession, encryptor):
    import time

    from proctorhub.lti import claims as c
    from proctorhub.lti.keys import sign

    now = int(time.time())
    expired = sign(dbsession, {"iss": ISSUER, "aud": f"{ISSUER}/lti/acs", "sub": flow.config.client_id,
                               "scope": c.ACS_SCOPE, "iat": now - 7200, "exp": now - 3600, "jti": "old"},
                   encryptor=encryptor)
    dbsession.commit()
    before = snapshot(dbsession)
    refused = _acs(flow, expired, "pause", status=401)["error"]
    assert refused["code"] == "invalid_token" and refused["details"]["check"] == "token_expired"
    assert snapshot(dbsession) == before


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
