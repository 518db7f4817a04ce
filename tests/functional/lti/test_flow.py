"""The whole LtiStartProctoring → LtiStartAssessment → LtiEndAssessment flow."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from proctorhub.models import Attempt, Launch, ReplayEntry, SessionData

from ... import factories as f
from ...statement_cache import statements_compiled_every_time
from .conftest import ISSUER, snapshot


def test_start_proctoring_then_start_assessment_starts_the_attempt(flow, dbsession):
    launch = flow.create_launch()
    assert launch["launch_url"].startswith(f"{ISSUER}/lti/launch/")
    assert launch["attempt"]["status"] == "created"
    entry = flow.enter(launch)
    login = {k: v[0] for k, v in parse_qs(urlsplit(entry.location).query).items()}
    assert entry.location.startswith("https://tool.test/login?")
    assert login["iss"] == ISSUER and login["login_hint"] == "learner-1"
    assert login["client_id"] == flow.config.client_id and login["lti_deployment_id"] == "deployment-1"
    assert login["target_link_uri"] == "https://tool.test/launch"
    cookie = entry.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=None" in cookie and "Path=/lti" in cookie

    page = flow.authorize(flow.tool.authentication_request(entry.location, state="st-1"))
    action, fields = flow.tool.form_fields(page.text)
    assert action == "https://tool.test/launch" and fields["state"] == "st-1"
    _token, claims = flow.id_token(page)
    assert claims["https://purl.imsglobal.org/spec/lti-ap/claim/start_assessment_url"] == (
        f"{ISSUER}/lti/start-assessment")

    answer = flow.start(flow.signed(claims, verified_user={"given_name": "Ada", "email": "ada@example.edu"}))
    assert answer.location == "https://lms.test/courses/1/return"
    dbsession.expire_all()
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    assert attempt.status == "started" and attempt.started_at is not None
    assert attempt.end_assessment_return is True
    assert attempt.verified_user == {"given_name": "Ada", "email": "ada@example.edu"}
    assert dbsession.execute(select(SessionData)).scalar_one().used_at is not None
    assert len(dbsession.execute(select(ReplayEntry)).all()) == 1


def test_replayed_start_assessment_is_refused_and_changes_nothing(flow, dbsession):
    claims = flow.start_proctoring()
    signed = flow.signed(claims)
    flow.start(signed)
    before = snapshot(dbsession)
    answer = flow.start(signed, status=400)
    assert answer.json["error"]["code"] == "replayed_nonce"
    assert snapshot(dbsession) == before


def test_launch_url_is_single_use(flow, dbsession):
    launch = flow.create_launch()
    flow.enter(launch)
    before = snapshot(dbsession)
    assert flow.enter(launch, status=400).json["error"]["code"] == "launch_used"
    assert snapshot(dbsession) == before


def test_end_assessment_return_submit_and_end_assessment_launch(flow, testapp, dbsession):
    from ... import factories as f

    query = {"user_id": "learner-1", "resource_link_id": "exam-1"}
    claims = flow.start_proctoring()
    assert testapp.get("/api/v1/end-assessment-return", query, headers=f.auth(flow.lms)).json == {
        "end_assessment_return": False}
    flow.start(flow.signed(claims, end_assessment_return=True))
    assert testapp.get("/api/v1/end-assessment-return", query, headers=f.auth(flow.lms)).json == {
        "end_assessment_return": True}
    code = dbsession.execute(select(Attempt.attempt_code)).scalar_one()
    submitted = testapp.post(f"/api/v1/attempts/{code}/submit", headers=f.auth(flow.lms)).json
    assert submitted["end_assessment_return"] is True
    assert submitted["attempt"]["status"] == "submitted"

    end = flow.create_launch(message_type="LtiEndAssessment")
    entry = flow.enter(end)
    _token, end_claims = flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))
    assert end_claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiEndAssessment"
    assert end_claims["https://purl.imsglobal.org/spec/lti-ap/claim/attempt_number"] == 1
    assert "https://purl.imsglobal.org/spec/lti-ap/claim/session_data" not in end_claims
    dbsession.expire_all()
    assert dbsession.execute(select(Attempt.status)).scalar_one() == "submitted"
    assert [row.authorized_at is not None for row in dbsession.execute(select(Launch)).scalars()] == [True, True]


def test_end_assessment_launch_refused_when_the_tool_did_not_ask(flow, dbsession):
    claims = flow.start_proctoring()
    flow.start(flow.signed(claims, end_assessment_return=False))
    before = snapshot(dbsession)
    answer = flow.create_launch(message_type="LtiEndAssessment", status=409)
    assert answer["error"]["code"] == "end_assessment_not_requested"
    assert snapshot(dbsession) == before


def test_launch_api_refusals(flow, testapp, dbsession):
    from ... import factories as f

    body = {"config_id": flow.config.id, "message_type": "LtiStartProctoring", "user": {"id": "u1"},
            "resource_link": {"id": "exam-1"}, "attempt_number": 1, "return_url": "javascript:alert(1)"}
    refused = testapp.post_json("/api/v1/launches", body, headers=f.auth(flow.lms), status=400).json["error"]
    assert refused["code"] == "invalid_payload"
    assert set(refused["details"]["fields"]) == {"user.role", "return_url"}
    body.update(user={"id": "u1", "role": "learner"}, return_url="https://lms.test/r", config_id=999)
    assert testapp.post_json("/api/v1/launches", body, headers=f.auth(flow.lms),
                             status=404).json["error"]["code"] == "unknown_configuration"
    body.update(config_id=flow.config.id, message_type="LtiResourceLinkRequest")
    testapp.post_json("/api/v1/launches", body, headers=f.auth(flow.lms), status=400)
    body.update(message_type="LtiStartProctoring")
    testapp.post_json("/api/v1/launches", body, status=401)
    testapp.post_json("/api/v1/launches", body, headers=f.auth(f.token(dbsession, role="reviewer")), status=403)
    assert snapshot(dbsession)["attempts"] == [] and snapshot(dbsession)["launches"] == []


def test_submit_is_idempotent_but_not_after_completion(flow, testapp, dbsession):
    from ... import factories as f

    flow.start(flow.signed(flow.start_proctoring()))
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    url = f"/api/v1/attempts/{attempt.attempt_code}/submit"
    assert testapp.post(url, headers=f.auth(flow.lms)).json["attempt"]["status"] == "submitted"
    assert testapp.post(url, headers=f.auth(flow.lms)).json["attempt"]["status"] == "submitted"
    attempt.status = "verified"
    dbsession.commit()
    before = snapshot(dbsession)
    refused = testapp.post(url, headers=f.auth(flow.lms), status=409).json["error"]
    assert refused["code"] == "invalid_status_change"
    assert snapshot(dbsession) == before
    assert testapp.post("/api/v1/attempts/nope/submit", headers=f.auth(flow.lms),
                        status=404).json["error"]["code"] == "unknown_attempt"


def test_submit_is_refused_once_reviewed_or_terminated(flow, testapp, dbsession):
    from ... import factories as f

    flow.start(flow.signed(flow.start_proctoring()))
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    url = f"/api/v1/attempts/{attempt.attempt_code}/submit"
    for status in ("verified", "rejected", "second_review_required", "error", "terminated"):
        attempt.status = status
        dbsession.commit()
        before = snapshot(dbsession)
        refused = testapp.post(url, headers=f.auth(flow.lms), status=409).json["error"]
        assert refused["code"] == "invalid_status_change"
        assert refused["details"] == {"from": status, "to": "submitted"}
        assert snapshot(dbsession) == before


def test_a_launchs_attempt_is_what_the_lms_then_reads(flow, testapp):
    """The first launch sets the exam up (the general path, through the ORM); the next learner's
    takes the Core fast path and is answered from plain values (AttemptFacts): both answers are
    the JSON the attempts API renders from the stored rows."""
    for user_id in ("learner-1", "learner-2"):
        answer = flow.create_launch(user_id=user_id)["attempt"]
        shown = testapp.get(f"/api/v1/attempts/{answer['attempt_code']}", headers=f.auth(flow.lms), status=200).json
        assert answer == shown
        assert (shown["user_id"], shown["status"], shown["review"]) == (user_id, "created", None)


def test_every_statement_of_a_launch_is_cached_by_sqlalchemy(flow, app):
    """A statement compiled afresh for every launch once cost each launch on PostgreSQL about
    1.4 ms (see tests/statement_cache.py)."""
    flow.start(flow.signed(flow.start_proctoring(user_id="learner-warm")))
    with statements_compiled_every_time(app.registry["dbengine"]) as compiled_every_time:
        flow.app.reset()  # a new browser
        flow.start(flow.signed(flow.start_proctoring(user_id="learner-2")))
    assert compiled_every_time == []


def _archive(flow, testapp, attempt_code: str) -> None:
    testapp.delete(f"/api/v1/attempts/{attempt_code}", headers=f.auth(flow.lms))


def test_a_launch_handed_out_before_a_reset_cannot_start_the_archived_attempt(flow, testapp, dbsession):
    launch = flow.create_launch()
    _archive(flow, testapp, launch["attempt"]["attempt_code"])
    assert flow.enter(launch, status=400).json["error"]["code"] == "launch_expired"
    dbsession.expire_all()
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    assert attempt.status == "created" and attempt.archived_at is not None


def test_session_data_issued_before_a_reset_cannot_start_the_archived_attempt(flow, testapp, dbsession):
    claims = flow.start_proctoring()
    code = dbsession.execute(select(Attempt.attempt_code)).scalar_one()
    _archive(flow, testapp, code)
    before = snapshot(dbsession)
    assert flow.start(flow.signed(claims), status=400).json["error"]["code"] == "session_data_expired"
    assert snapshot(dbsession) == before
    # The learner's next launch, with the next attempt number, makes a new attempt, which starts.
    flow.app.reset()
    flow.start(flow.signed(flow.start_proctoring(attempt_number=2)))
    dbsession.expire_all()
    statuses = sorted((a.archived_at is None, a.status) for a in dbsession.execute(select(Attempt)).scalars())
    assert statuses == [(False, "ready_to_start"), (True, "started")]
