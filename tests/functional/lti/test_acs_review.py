"""Tools that review through ACS (Proctorio as edx-exams integrates it): a terminate with a
"submitted" reason code and a severity settles the attempt through the decision table."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from proctorhub.models import Attempt, Event, Review, ReviewHistory, utcnow

from .conftest import snapshot
from .test_acs import _send, _token

PROCTORIO_TERMINATE = {"user": {"sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1,
                       "action": "terminate", "reason_code": "1", "incident_time": "2026-11-29T10:50:00Z",
                       "incident_severity": "0.1"}


@pytest.fixture
def reviewing(flow, dbsession):
    flow.config.acs_review = True
    flow.config.acs_severity_threshold = 0.25
    flow.config.acs_submitted_reason_codes = ["1", "2"]
    dbsession.add(flow.config)
    dbsession.commit()
    return flow


def _start(flow, user_id="learner-1"):
    flow.start(flow.signed(flow.start_proctoring(user_id=user_id)))
    return _token(flow)["access_token"]


def _review(dbsession, user_id="learner-1"):
    dbsession.expire_all()
    attempt = dbsession.execute(select(Attempt).where(Attempt.user_id == user_id)).scalar_one()
    review = dbsession.execute(select(Review).where(Review.attempt_code == attempt.attempt_code)).scalar_one_or_none()
    return attempt, review


def test_a_low_severity_submission_is_verified_with_the_request_as_raw_payload(reviewing, dbsession):
    token = _start(reviewing)
    _send(reviewing, token, {**PROCTORIO_TERMINATE, "action": "flag", "reason_msg": "looked away",
                             "incident_time": "2026-11-29T10:20:00Z", "incident_severity": 0.05})
    answer = _send(reviewing, token, PROCTORIO_TERMINATE, content_type="application/json", accept="application/json")
    assert answer.json == {"status": "complete", "extra_time": 0}
    attempt, review = _review(dbsession)
    assert attempt.status == "verified" and attempt.submitted_at is not None
    assert review.status == "passed" and review.backend == "acs"
    assert review.raw_payload == PROCTORIO_TERMINATE
    assert [c.comment for c in review.comments] == ["looked away (reason 1)"]
    kinds = [e.kind for e in dbsession.execute(select(Event).order_by(Event.id)).scalars()]
    assert "review.received" in kinds and kinds.count("attempt.control") == 2
    # A retried terminate stores nothing twice.
    before = snapshot(dbsession)
    assert _send(reviewing, token, PROCTORIO_TERMINATE).json == {"status": "complete", "extra_time": 0}
    assert snapshot(dbsession) == before


def test_above_the_threshold_needs_a_second_review(reviewing, dbsession):
    token = _start(reviewing)
    _send(reviewing, token, {**PROCTORIO_TERMINATE, "incident_severity": 0.8, "reason_code": "2"})
    attempt, review = _review(dbsession)
    assert review.status == "suspicious" and attempt.status == "second_review_required"


def test_other_reason_codes_or_tools_not_reviewing_terminate(reviewing, dbsession):
    token = _start(reviewing)
    _send(reviewing, token, {**PROCTORIO_TERMINATE, "reason_code": "12056"})
    attempt, review = _review(dbsession)
    assert attempt.status == "terminated" and review is None
    reviewing.config.acs_review = False
    dbsession.add(reviewing.config)
    dbsession.commit()
    token = _start(reviewing, user_id="learner-2")
    body = json.loads(json.dumps(PROCTORIO_TERMINATE))
    body["user"]["sub"] = "learner-2"
    assert _send(reviewing, token, body).json["status"] == "terminated"
    attempt, review = _review(dbsession, "learner-2")
    assert attempt.status == "terminated" and review is None


def test_severity_threshold_and_codes_are_configuration_settings(testapp, dbsession):
    from ... import factories as f

    admin = f.token(dbsession, role="admin", name="admin program")
    body = {"name": "Proctorio", "oidc_login_url": "https://tool.test/login", "launch_url": "https://tool.test/launch",
            "redirect_uris": ["https://tool.test/launch"], "public_key_pem": None, "jwks_url": None}
    from ...lti_tool import FakeTool

    body["public_key_pem"] = FakeTool().public_pem()
    created = testapp.post_json("/admin/configurations/", {**body, "acs_review": True, "acs_severity_threshold": 0.4,
                                                            "acs_submitted_reason_codes": ["1"]},
                                headers=f.auth(admin), status=201).json
    assert (created["acs_review"], created["acs_severity_threshold"], created["acs_submitted_reason_codes"]) == \
        (True, 0.4, ["1"])
    refused = testapp.patch_json(f"/admin/configurations/{created['id']}", {"acs_severity_threshold": 1.5},
                                 headers=f.auth(admin), status=400).json["error"]
    assert "acs_severity_threshold" in refused["details"]["fields"]
    defaults = testapp.post_json("/admin/configurations/", {**body, "name": "Other"}, headers=f.auth(admin),
                                 status=201).json
    assert defaults["acs_severity_threshold"] == 0.25 and defaults["acs_review"] is False


def test_a_terminate_replaces_an_earlier_review_whole(reviewing, dbsession):
    token = _start(reviewing)
    attempt, _ = _review(dbsession)
    now = utcnow()
    dbsession.add(Review(attempt_code=attempt.attempt_code, attempt_id=attempt.id, exam_id=attempt.exam_id,
                         context_id="course-1", backend="rest", status="suspicious", vendor_status="Suspicious",
                         raw_payload={"early": True}, payload_digest="0" * 64, signed_at=now,
                         vendor_reviewed_by="someone@vendor.test", video_link_encrypted="sealed", note="seen",
                         created_at=now, modified_at=now))
    dbsession.commit()
    _send(reviewing, token, PROCTORIO_TERMINATE)
    attempt, review = _review(dbsession)
    assert attempt.status == "verified"
    assert (review.backend, review.status, review.raw_payload) == ("acs", "passed", PROCTORIO_TERMINATE)
    assert (review.signed_at, review.video_link_encrypted, review.vendor_reviewed_by, review.note) == (
        None, None, None, None)
    [history] = dbsession.execute(select(ReviewHistory).where(ReviewHistory.review_id == review.id)).scalars()
    assert history.replaced_by == "acs:terminate" and history.raw_payload == {"early": True}
