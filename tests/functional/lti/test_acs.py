"""The Assessment Control Service (DESIGN.md 5.3): a token from a signed client assertion, then
every action in the spec's media type, and every refusal with the database unchanged."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from sqlalchemy import select

from proctorhub.lti import claims as c
from proctorhub.lti.keys import sign
from proctorhub.models import Attempt, AttemptControl, Event

from ... import factories as f
from ...lti_tool import FakeTool
from .conftest import AP, ISSUER, snapshot

SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONTROL = "application/vnd.ims.lti-ap.v1.control+json"


def _token(flow, assertion=None, status=200, **form):
    body = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "scope": SCOPE,
            "client_assertion": assertion or flow.tool.client_assertion(flow.config.client_id, f"{ISSUER}/lti/token"),
            **form}
    return flow.app.post("/lti/token", body, status=status).json


@pytest.fixture
def started(flow):
    flow.start(flow.signed(flow.start_proctoring()))
    return _token(flow)["access_token"]


def _send(flow, token, body, *, status=200, content_type=CONTROL, accept=CONTROL):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    return flow.app.post("/lti/acs", json.dumps(body), headers=headers, status=status)


def _body(action, **extra):
    return {"user": {"iss": ISSUER, "sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1,
            "action": action, **extra}


def _acs(flow, token, action, status=200, **extra):
    return _send(flow, token, _body(action, **extra), status=status).json


def _attempt(dbsession) -> Attempt:
    dbsession.expire_all()
    return dbsession.execute(select(Attempt)).scalar_one()


def _kinds(dbsession) -> list[str]:
    return [e.kind for e in dbsession.execute(select(Event).order_by(Event.id)).scalars()]


def test_every_action_answers_the_spec_shape_in_its_media_type(flow, started, dbsession):
    answer = _send(flow, started, _body("pause", incident_time="2026-11-29T10:00:00Z"))
    assert answer.content_type == CONTROL
    assert answer.json == {"status": "paused", "extra_time": 0}
    assert _acs(flow, started, "resume", incident_time="2026-11-29T10:05:00Z") == {"status": "running",
                                                                                    "extra_time": 0}
    assert _acs(flow, started, "update", extra_time=15) == {"status": "running", "extra_time": 15}
    assert _acs(flow, started, "flag", incident_severity=0.5, reason_code="12056",
                reason_msg="second face") == {"status": "running", "extra_time": 15}
    assert _acs(flow, started, "terminate", reason_code="99") == {"status": "terminated", "extra_time": 15}
    attempt = _attempt(dbsession)
    assert attempt.status == "terminated" and attempt.extra_time_seconds == 900
    controls = dbsession.execute(select(AttemptControl).order_by(AttemptControl.id)).scalars().all()
    assert [row.action for row in controls] == ["pause", "resume", "update", "flag", "terminate"]
    assert controls[3].reason_msg == "second face" and controls[3].incident_severity == 0.5
    events = dbsession.execute(select(Event).where(Event.kind == "attempt.control").order_by(Event.id)).scalars()
    data = [e.payload for e in events]
    assert [d["action"] for d in data] == ["pause", "resume", "update", "flag", "terminate"]
    assert all(d["attempt_code"] == attempt.attempt_code and "lms" in d for d in data)
    # Status changes are also told as status changes.
    assert _kinds(dbsession).count("attempt.status_changed") >= 4


def test_each_action_writes_its_columns_and_tells_the_move_before_the_action(flow, started, dbsession):
    earlier = len(_kinds(dbsession))
    _acs(flow, started, "pause", incident_time="2026-11-29T10:00:00Z")
    paused = _attempt(dbsession)
    assert paused.status == "paused" and paused.paused_at is not None
    _acs(flow, started, "update", extra_time=5)
    _acs(flow, started, "flag", reason_code="7")
    _acs(flow, started, "resume", incident_time="2026-11-29T10:05:00Z")
    attempt = _attempt(dbsession)
    assert (attempt.status, attempt.paused_at, attempt.extra_time_seconds) == ("started", None, 300)
    assert attempt.modified_at >= paused.modified_at
    # In the outbox, in this order: each status change, then the action that made it.
    assert _kinds(dbsession)[earlier:] == [
        "attempt.status_changed", "attempt.control",   # pause
        "attempt.control",                             # update: no status change
        "attempt.control",                             # flag
        "attempt.status_changed", "attempt.control",   # resume
    ]
    ledger = dbsession.execute(select(AttemptControl).order_by(AttemptControl.id)).scalars().all()
    assert [(row.action, row.status_before, row.status_after) for row in ledger] == [
        ("pause", "started", "paused"), ("update", "paused", "paused"), ("flag", "paused", "paused"),
        ("resume", "paused", "started")]


def test_plain_json_is_accepted_and_answered_in_kind(flow, started):
    answer = _send(flow, started, _body("pause"), content_type="application/json", accept=None)
    assert answer.status_int == 200 and answer.content_type == "application/json"
    assert answer.json["status"] == "paused"
    spec = _send(flow, started, _body("resume"), content_type="application/json", accept=f"{CONTROL}, */*;q=0.1")
    assert spec.content_type == CONTROL and spec.json["status"] == "running"


def test_edx_exams_and_oat_formats(flow, started, dbsession):
    """edx-exams' Proctorio terminate sends severity as a string; OAT's AcsControl sends every field."""
    oat = {"user": {"iss": ISSUER, "sub": "learner-1"},
           "resource_link": {"id": "exam-1", "title": "Final exam", "description": "the final"},
           "attempt_number": 1, "action": "flag", "incident_time": "2026-11-29T10:45:33Z",
           "incident_severity": 0.1, "extra_time": 0, "reason_code": "12056",
           "reason_msg": "Excessive background noise outside candidate control"}
    assert _send(flow, started, oat).json == {"status": "running", "extra_time": 0}
    edx = {"user": {"sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1,
           "action": "terminate", "reason_code": "12056", "incident_time": "2026-11-29T10:50:00+00:00",
           "incident_severity": "0.8"}
    assert _send(flow, started, edx, content_type="application/json", accept="application/json").json == {
        "status": "terminated", "extra_time": 0}
    control = dbsession.execute(select(AttemptControl).where(AttemptControl.action == "terminate")).scalar_one()
    assert control.incident_severity == 0.8


def test_the_same_request_twice_changes_nothing_twice(flow, started, dbsession):
    for body in (_body("pause"), _body("update", extra_time=10), _body("flag", incident_time="2026-11-29T10:00:00Z",
                                                                          reason_msg="phone")):
        first = _send(flow, started, body).json
        before = snapshot(dbsession)
        assert _send(flow, started, body).json == first
        assert snapshot(dbsession) == before
    assert _attempt(dbsession).extra_time_seconds == 600
    # extra_time is the total granted, not an increment: a second update to 10 changes nothing.
    _send(flow, started, _body("update", extra_time=10, incident_time="2026-11-29T10:09:00Z"))
    assert _attempt(dbsession).extra_time_seconds == 600
    # A retried flag comes back after another request: its incident_time names it, still once.
    flagged = _body("flag", incident_time="2026-11-29T10:00:00Z", reason_msg="phone")
    before = snapshot(dbsession)
    _send(flow, started, flagged)
    assert snapshot(dbsession) == before


def test_string_and_numeric_severity_bounds(flow, started, dbsession):
    before = snapshot(dbsession)
    for bad in ("1.5", 2, -0.1, "abc", True, [0.5], "nan"):
        refused = _acs(flow, started, "flag", status=400, incident_severity=bad)["error"]
        assert refused["code"] == "invalid_payload" and "incident_severity" in refused["details"]["fields"]
    assert snapshot(dbsession) == before
    assert _acs(flow, started, "flag", incident_severity="1")["status"] == "running"
    assert _acs(flow, started, "flag", incident_severity=0)["status"] == "running"


def test_a_submitted_attempt_may_be_terminated_but_not_a_reviewed_one(flow, started, dbsession):
    attempt = _attempt(dbsession)
    for status in ("verified", "rejected", "second_review_required", "error"):
        attempt.status = status
        dbsession.commit()
        before = snapshot(dbsession)
        refused = _acs(flow, started, "terminate", status=409)["error"]
        assert refused["code"] == "invalid_status_change"
        assert refused["details"] == {"action": "terminate", "from": status, "status": "complete"}
        assert snapshot(dbsession) == before
    attempt.status = "submitted"
    dbsession.commit()
    assert _acs(flow, started, "terminate") == {"status": "terminated", "extra_time": 0}
    assert _attempt(dbsession).status == "terminated"


def test_extra_time_must_be_whole_non_negative_minutes(flow, started, dbsession):
    before = snapshot(dbsession)
    for bad in (-5, 1.5, "10", True):
        refused = _acs(flow, started, "update", status=400, extra_time=bad)["error"]
        assert refused["code"] == "invalid_payload" and "extra_time" in refused["details"]["fields"]
    assert _acs(flow, started, "update", status=400)["error"]["details"]["fields"] == {"extra_time": "Required"}
    assert snapshot(dbsession) == before


def test_impossible_transitions_are_409(flow, started, dbsession):
    before = snapshot(dbsession)
    refused = _acs(flow, started, "resume", status=409)["error"]
    assert refused["code"] == "invalid_status_change" and refused["details"]["status"] == "running"
    assert snapshot(dbsession) == before
    _acs(flow, started, "terminate")
    before = snapshot(dbsession)
    assert _acs(flow, started, "pause", status=409)["error"]["details"]["from"] == "terminated"
    assert _acs(flow, started, "update", status=409, extra_time=5)["error"]["code"] == "invalid_status_change"
    assert snapshot(dbsession) == before


def test_unknown_attempt_resource_link_or_user_is_404(flow, started, dbsession):
    before = snapshot(dbsession)
    cases = {"attempt_number": _body("pause", attempt_number=2),
             "resource_link": _body("pause", resource_link={"id": "nowhere"}),
             "user": _body("pause", user={"sub": "someone-else"})}
    for missing, body in cases.items():
        refused = _send(flow, started, body, status=404).json["error"]
        assert refused["code"] == "unknown_attempt" and refused["details"]["missing"] == missing
    assert snapshot(dbsession) == before


def test_user_iss_is_optional_but_must_be_ours(flow, started, dbsession):
    before = snapshot(dbsession)
    refused = _send(flow, started, _body("pause", user={"iss": "https://other.test", "sub": "learner-1"}),
                    status=400).json["error"]
    assert "user.iss" in refused["details"]["fields"]
    assert snapshot(dbsession) == before
    assert _send(flow, started, _body("pause", user={"sub": "learner-1"})).json["status"] == "paused"


def test_unacceptable_accept_and_content_type(flow, started, dbsession):
    before = snapshot(dbsession)
    assert _send(flow, started, _body("pause"), accept="text/html", status=406).json["error"]["code"] == \
        "not_acceptable"
    assert _send(flow, started, _body("pause"), content_type="text/plain", status=415).json["error"]["code"] == \
        "unsupported_media_type"
    assert snapshot(dbsession) == before


def test_actions_not_offered_are_403_and_the_claim_lists_exactly_the_offered(flow, dbsession):
    flow.config.acs_actions = ["pause", "resume"]
    dbsession.add(flow.config)
    dbsession.commit()
    claims = flow.start_proctoring()
    assert claims[AP + "acs"]["actions"] == ["pause", "resume"]
    flow.start(flow.signed(claims))
    token = _token(flow)["access_token"]
    before = snapshot(dbsession)
    for action in ("terminate", "update", "flag"):
        refused = _acs(flow, token, action, status=403, extra_time=1)["error"]
        assert refused["code"] == "unsupported_action" and refused["details"]["offered"] == ["pause", "resume"]
    assert snapshot(dbsession) == before


def test_a_token_for_another_tool_or_scope_is_401(flow, started, dbsession, encryptor):
    other_tool = FakeTool()
    other = f.configuration(dbsession, public_key_pem=other_tool.public_pem(), acs_actions=["pause"])
    assertion = other_tool.client_assertion(other.client_id, f"{ISSUER}/lti/token")
    foreign = flow.app.post("/lti/token", {"grant_type": "client_credentials", "scope": SCOPE,
                                           "client_assertion_type": ASSERTION_TYPE,
                                           "client_assertion": assertion}).json["access_token"]
    now = int(time.time())
    unscoped = sign(dbsession, {"iss": ISSUER, "aud": f"{ISSUER}/lti/acs", "sub": flow.config.client_id,
                                "scope": "openid", "iat": now, "exp": now + 60, "jti": "x"}, encryptor=encryptor)
    elsewhere = sign(dbsession, {"iss": ISSUER, "aud": f"{ISSUER}/lti/token", "sub": flow.config.client_id,
                                 "scope": c.ACS_SCOPE, "iat": now, "exp": now + 60, "jti": "y"}, encryptor=encryptor)
    dbsession.commit()
    before = snapshot(dbsession)
    assert _acs(flow, foreign, "pause", status=401)["error"]["details"]["check"] == "client"
    assert _acs(flow, unscoped, "pause", status=401)["error"]["code"] == "insufficient_scope"
    assert _acs(flow, elsewhere, "pause", status=401)["error"]["details"]["check"] == "invalid_audience"
    assert _acs(flow, "not-a-token", "pause", status=401)["error"]["code"] == "invalid_token"
    assert snapshot(dbsession) == before


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
    now = int(time.time())
    expired = sign(dbsession, {"iss": ISSUER, "aud": f"{ISSUER}/lti/acs", "sub": flow.config.client_id,
                               "scope": c.ACS_SCOPE, "iat": now - 7200, "exp": now - 3600, "jti": "old"},
                   encryptor=encryptor)
    dbsession.commit()
    before = snapshot(dbsession)
    refused = _acs(flow, expired, "pause", status=401)["error"]
    assert refused["code"] == "invalid_token" and refused["details"]["check"] == "token_expired"
    assert snapshot(dbsession) == before


# --- the token endpoint ------------------------------------------------------------------------

def test_token_errors_are_rfc6749(flow, started, dbsession):
    before = snapshot(dbsession)
    refused = flow.app.post("/lti/token", {"grant_type": "password"}, status=400)
    assert refused.json["error"] == "unsupported_grant_type" and refused.json["error_description"]
    assert refused.headers["Cache-Control"] == "no-store"
    assert _token(flow, status=400, scope="openid")["error"] == "invalid_scope"
    assert _token(flow, status=400, client_assertion_type="other")["error"] == "invalid_request"
    wrong_aud = flow.tool.client_assertion(flow.config.client_id, "https://elsewhere.test/token")
    refused = flow.app.post("/lti/token", {"grant_type": "client_credentials", "scope": SCOPE,
                                           "client_assertion_type": ASSERTION_TYPE, "client_assertion": wrong_aud},
                            status=401)
    assert refused.json["error"] == "invalid_client" and refused.json["details"]["check"] == "invalid_audience"
    assert "WWW-Authenticate" in refused.headers
    assert snapshot(dbsession) == before


def test_client_assertion_is_single_use(flow, started, dbsession):
    assertion = flow.tool.client_assertion(flow.config.client_id, f"{ISSUER}/lti/token")
    _token(flow, assertion)
    before = snapshot(dbsession)
    refused = _token(flow, assertion, status=401)
    assert refused["error"] == "invalid_client" and refused["details"]["check"] == "replayed_jti"
    assert snapshot(dbsession) == before


def test_a_learners_start_assessment_jwt_buys_no_access_token(flow, dbsession):
    """Issue 13 finding 6: the LtiStartAssessment JWT is in the learner's browser. Exchanged at
    /lti/token (its aud is the issuer), it must not give the learner the tool's ACS powers."""
    claims = flow.start_proctoring()
    start_jwt = flow.signed(claims, sub=flow.config.client_id, jti="start-jwt-1")
    before = snapshot(dbsession)
    refused = _token(flow, start_jwt, status=401)
    assert refused["error"] == "invalid_client" and refused["details"]["check"] == "invalid_audience"
    # Even naming the token endpoint among its audiences, a JWT with LTI message claims is refused.
    both = flow.signed(claims, aud=[ISSUER, f"{ISSUER}/lti/token"], sub=flow.config.client_id, jti="start-jwt-2")
    refused = _token(flow, both, status=401)
    assert refused["error"] == "invalid_client" and refused["details"]["check"] == "lti_message_claims"
    assert snapshot(dbsession) == before
    # The issuer alone as a client assertion's aud is refused too.
    issuer_aud = flow.tool.client_assertion(flow.config.client_id, ISSUER)
    assert _token(flow, issuer_aud, status=401)["details"]["check"] == "invalid_audience"
    # And the real flow still works afterwards.
    flow.start(flow.signed(claims))
    token = _token(flow)["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == SCOPE
