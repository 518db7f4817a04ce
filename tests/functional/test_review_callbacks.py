"""POST /api/v1/reviews/{backend}: every behaviour and error of DESIGN.md 5.2 and the section 3 decision."""

import datetime as dt
import json
import time

import pytest
from sqlalchemy import func, select

from proctorhub.models import Attempt, Event, Review, ReviewComment, ReviewHistory, utcnow

from .. import factories as f
from ..statement_cache import statements_compiled_every_time

SS = "/api/v1/reviews/softwaresecure"
REST = "/api/v1/reviews/rest"


def rows(dbsession, model):
    dbsession.expire_all()
    return dbsession.execute(select(model).order_by(model.id)).scalars().all()


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(model)).scalar_one()


def status_of(dbsession, attempt):
    dbsession.expire_all()
    return dbsession.get(Attempt, attempt.id).status


def post(testapp, url, payload, status=200, **sign):
    backend = url.rsplit("/", 1)[1]
    body, headers = f.signed(backend, payload, **sign)
    return testapp.post(url, body, headers=headers, status=status).json


def assert_nothing_stored(dbsession):
    assert count(dbsession, Review) == 0
    assert count(dbsession, ReviewComment) == 0
    assert count(dbsession, Event) == 0


# -- the SoftwareSecure shape -----------------------------------------------------------------


def test_softwaresecure_review_is_stored_with_webcam_then_desktop_comments(testapp, dbsession):
    attempt = f.attempt(dbsession, external_id="SSI-RECORD-1")
    answer = post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code, status="Suspicious"))
    assert answer["status"] == "suspicious" and answer["vendor_status"] == "Suspicious"
    assert answer["attempt"]["status"] == "second_review_required"
    comments = rows(dbsession, ReviewComment)
    assert [(c.start, c.stop, c.duration, c.comment, c.status) for c in comments] == [
        (10, 20, 10, "Looking away", "Rules Violation"),
        (100, 105, 5, "Second person", "Suspicious"),
        (12, 88, 76, "Browsing other websites", "Suspicious"),
    ]
    review = rows(dbsession, Review)[0]
    assert review.backend == "softwaresecure" and review.attempt_code == attempt.attempt_code


def test_video_link_is_never_stored_in_clear(testapp, dbsession):
    attempt = f.attempt(dbsession)
    post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code))
    review = rows(dbsession, Review)[0]
    assert review.raw_payload["videoReviewLink"] == "[redacted]"
    assert "secret-link" not in json.dumps(review.raw_payload)
    assert review.raw_payload["examMetaData"]["examCode"] == attempt.attempt_code


@pytest.mark.parametrize(
    ("vendor_status", "review_status", "attempt_status"),
    [
        ("Clean", "passed", "verified"),
        ("Rules Violation", "violation", "verified"),
        ("Suspicious", "suspicious", "second_review_required"),
        ("Not Reviewed", "not_reviewed", "error"),
    ],
)
def test_softwaresecure_status_mapping(testapp, dbsession, vendor_status, review_status, attempt_status):
    attempt = f.attempt(dbsession)
    answer = post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code, status=vendor_status))
    assert answer["status"] == review_status
    assert status_of(dbsession, attempt) == attempt_status


# -- the decision table, row by row ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("review_status", "is_practice", "attempt_status"),
    [
        pytest.param("passed", False, "verified", id="rule1-passing-status-verifies"),
        # violation passes for softwaresecure (above) but not for the REST backend.
        pytest.param("violation", False, "second_review_required", id="rule1-passing-statuses-are-the-backends"),
        pytest.param("not_reviewed", False, "error", id="rule2-not-reviewed-is-error"),
        pytest.param("suspicious", True, "rejected", id="rule4-practice-exam-rejects"),
        pytest.param("suspicious", False, "second_review_required", id="rule5-otherwise-second-review-required"),
    ],
)
def test_decision_table(testapp, dbsession, review_status, is_practice, attempt_status):
    """Rules 1, 2, 4 and 5; rule 3 needs a staff reviewer or a setting, below."""
    attempt = f.attempt(dbsession, f.exam(dbsession, is_practice=is_practice))
    post(testapp, REST, f.rest_payload(attempt.attempt_code, status=review_status))
    assert status_of(dbsession, attempt) == attempt_status


def test_rule3_staff_reviewer_rejects(testapp, dbsession):
    # A reviewer of the attempt's course (see tests/functional/security/test_vendor_reviewer.py).
    staff = f.staff(dbsession, email="Judge@Example.edu", courses=["course-v1:Test+T1+2026"],
                    password_hash="$argon2id$placeholder")
    attempt = f.attempt(dbsession)
    answer = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="suspicious",
                                                 reviewed_by="judge@example.edu"))
    assert answer["reviewed_by"] == "Judge@Example.edu"
    assert rows(dbsession, Review)[0].reviewer_id == staff.id
    assert status_of(dbsession, attempt) == "rejected"


def test_rule3_unknown_reviewer_email_is_no_reviewer(testapp, dbsession):
    attempt = f.attempt(dbsession)
    answer = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="suspicious",
                                                 reviewed_by="stranger@example.edu"))
    assert answer["reviewed_by"] is None
    assert status_of(dbsession, attempt) == "second_review_required"


def test_rule3_second_reviews_not_required_rejects(make_app, dbsession):
    app = make_app(**{"proctorhub.require_failure_second_reviews": "false"})
    attempt = f.attempt(dbsession)
    post(app, REST, f.rest_payload(attempt.attempt_code, status="violation"))
    assert status_of(dbsession, attempt) == "rejected"


# -- events ------------------------------------------------------------------------------------


def test_events_for_the_review_and_the_status_change(testapp, dbsession):
    attempt = f.attempt(dbsession)
    post(testapp, REST, f.rest_payload(attempt.attempt_code))
    events = rows(dbsession, Event)
    assert [e.kind for e in events] == ["review.received", "attempt.status_changed"]
    assert events[1].payload["from"] == "submitted" and events[1].payload["to"] == "verified"
    assert {e.attempt_code for e in events} == {attempt.attempt_code}


def test_an_attempt_that_needs_a_person_gets_a_needs_attention_event(testapp, dbsession):
    for status, outcome in (("suspicious", "second_review_required"), ("not_reviewed", "error")):
        attempt = f.attempt(dbsession, user_id=f"learner-{status}")
        post(testapp, REST, f.rest_payload(attempt.attempt_code, status=status))
        events = [e for e in rows(dbsession, Event) if e.attempt_code == attempt.attempt_code]
        assert [e.kind for e in events] == ["review.received", "attempt.status_changed", "review.needs_attention"]
        assert events[2].payload["attempt_status"] == outcome


# -- archived attempts -------------------------------------------------------------------------------


def test_archived_attempt_keeps_its_status_but_the_review_is_stored(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    attempt = f.attempt(dbsession, status="started")
    testapp.delete(f"/api/v1/attempts/{attempt.attempt_code}", headers=lms)
    answer = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="passed"))
    assert answer["attempt"]["archived"] is True
    assert status_of(dbsession, attempt) == "started"
    assert count(dbsession, Review) == 1
    assert [e.kind for e in rows(dbsession, Event)] == ["review.received"]


# -- updates on and off --------------------------------------------------------------------------


def test_update_replaces_comments_and_keeps_history(testapp, dbsession):
    attempt = f.attempt(dbsession)
    post(testapp, REST, f.rest_payload(attempt.attempt_code, status="suspicious"))
    newer = [{"start": 1, "stop": 3, "duration": 2, "comment": "Noise", "status": "ok"},
             {"start": 9, "stop": 12, "duration": 3, "comment": "Talking", "status": "suspicious"}]
    answer = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="passed", comments=newer))
    assert answer["outcome"] == "updated"
    assert [c.comment for c in rows(dbsession, ReviewComment)] == ["Noise", "Talking"]
    history = rows(dbsession, ReviewHistory)
    assert len(history) == 1
    assert history[0].status == "suspicious"
    assert [c["comment"] for c in history[0].comments] == ["Phone visible"]
    assert count(dbsession, Review) == 1
    assert status_of(dbsession, attempt) == "verified"


@pytest.mark.parametrize("reviewed_by", [None, "judge@example.edu"])
def test_a_first_reviews_answer_is_what_the_lms_then_reads(testapp, dbsession, reviewed_by):
    """A first review is written with Core and answered from plain values (ReviewFacts and the
    moved AttemptFacts): the answer is the JSON the attempts API renders from the stored rows."""
    lms = f.auth(f.token(dbsession))
    f.staff(dbsession, email="judge@example.edu", role="admin", password_hash="$argon2id$placeholder")
    now = utcnow()
    attempt = f.attempt(dbsession, f.exam(dbsession, time_limit_mins=60), external_id="VENDOR-9",
                        started_at=now - dt.timedelta(minutes=30), submitted_at=now - dt.timedelta(minutes=5))
    comments = [{"start": 5, "stop": 15, "duration": 10, "comment": "Phone visible", "status": "suspicious"},
                {"start": 20, "stop": 21, "duration": 1, "comment": "", "status": "ok"}]
    answer = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="suspicious", comments=comments,
                                                reviewed_by=reviewed_by))
    assert answer.pop("outcome") == "created"
    shown = testapp.get(f"/api/v1/attempts/{attempt.attempt_code}", headers=lms, status=200).json
    assert answer.pop("attempt") == shown
    assert answer == shown["review"]
    assert shown["status"] == ("rejected" if reviewed_by else "second_review_required")
    assert shown["review"]["reviewed_by"] == reviewed_by
    assert [c["comment"] for c in shown["review"]["comments"]] == ["Phone visible", ""]
    assert shown["time"]["time_limit_seconds"] == 3600


@pytest.mark.parametrize("url", [SS, REST])
def test_every_statement_of_a_callback_is_cached_by_sqlalchemy(testapp, app, dbsession, url):
    """The callback's hot path compiles nothing afresh (see tests/statement_cache.py), for a new
    review and for an update."""
    make_payload = f.softwaresecure_payload if url == SS else f.rest_payload
    post(testapp, url, make_payload(f.attempt(dbsession).attempt_code))  # warm
    attempt = f.attempt(dbsession)
    with statements_compiled_every_time(app.registry["dbengine"]) as compiled_every_time:
        post(testapp, url, make_payload(attempt.attempt_code, status="Suspicious" if url == SS else "suspicious"))
        post(testapp, url, make_payload(attempt.attempt_code))
    assert compiled_every_time == []


def test_another_backend_may_not_update_the_review(testapp, dbsession):
    # The exam names no backend, so the first review's backend is the attempt's.
    attempt = f.attempt(dbsession, external_id="SSI-RECORD-1")
    post(testapp, REST, f.rest_payload(attempt.attempt_code, status="suspicious"))
    error = post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code, status="Rules Violation"),
                 status=409)["error"]
    assert error["code"] == "backend_mismatch"
    assert error["details"] == {"expected": "rest", "received": "softwaresecure"}
    review = rows(dbsession, Review)[0]
    assert (review.backend, review.status, review.vendor_status) == ("rest", "suspicious", "suspicious")
    # review.received, attempt.status_changed and review.needs_attention of the first review only.
    assert count(dbsession, ReviewHistory) == 0 and count(dbsession, Event) == 3
    assert status_of(dbsession, attempt) == "second_review_required"


def test_identical_resend_changes_nothing(testapp, dbsession):
    attempt = f.attempt(dbsession)
    payload = f.rest_payload(attempt.attempt_code)
    post(testapp, REST, payload)
    again = post(testapp, REST, payload)
    assert again["outcome"] == "unchanged"
    assert count(dbsession, ReviewHistory) == 0
    assert count(dbsession, Event) == 2


def test_second_review_refused_when_updates_are_off(make_app, dbsession):
    app = make_app(**{"proctorhub.allow_review_updates": "false"})
    attempt = f.attempt(dbsession)
    post(app, REST, f.rest_payload(attempt.attempt_code, status="suspicious"))
    error = post(app, REST, f.rest_payload(attempt.attempt_code, status="passed"), status=409)["error"]
    assert error["code"] == "review_exists"
    assert rows(dbsession, Review)[0].status == "suspicious"
    assert count(dbsession, ReviewHistory) == 0
    assert status_of(dbsession, attempt) == "second_review_required"


# -- errors -----------------------------------------------------------------------------------------


def test_unknown_backend_is_404(testapp, dbsession):
    error = testapp.post("/api/v1/reviews/nobody", b"{}", status=404).json["error"]
    assert error["code"] == "unknown_backend"
    assert "rest" in error["details"]["enabled"]


def test_missing_signature_is_401(testapp, dbsession):
    attempt = f.attempt(dbsession)
    error = testapp.post_json(REST, f.rest_payload(attempt.attempt_code), status=401).json["error"]
    assert error["code"] == "missing_signature"
    assert_nothing_stored(dbsession)


def test_signature_with_the_wrong_secret_is_401(testapp, dbsession):
    attempt = f.attempt(dbsession)
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code), status=401, secret="guess")["error"]
    assert error["code"] == "bad_signature"
    assert_nothing_stored(dbsession)


def test_tampered_body_is_401(testapp, dbsession):
    attempt = f.attempt(dbsession)
    body, headers = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"))
    tampered = body.replace(b'"suspicious"', b'"passed"')
    error = testapp.post(REST, tampered, headers=headers, status=401).json["error"]
    assert error["code"] == "bad_signature"
    assert_nothing_stored(dbsession)


def test_another_backends_secret_is_401(testapp, dbsession):
    attempt = f.attempt(dbsession)
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code), status=401,
                 secret=f.SECRETS["softwaresecure"])["error"]
    assert error["code"] == "bad_signature"


@pytest.mark.parametrize("offset", [-301, 301])
def test_signature_outside_the_window_is_401(testapp, dbsession, offset):
    attempt = f.attempt(dbsession)
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code), status=401,
                 timestamp=int(time.time()) + offset)["error"]
    assert error["code"] == "signature_expired"
    assert_nothing_stored(dbsession)


@pytest.mark.parametrize("header", ["v1=abc", "t=notanumber,v1=abc", "t=123", "garbage", f"t={'9' * 400},v1=abc"])
def test_malformed_signature_header_is_401(testapp, dbsession, header):
    attempt = f.attempt(dbsession)
    body = json.dumps(f.rest_payload(attempt.attempt_code)).encode()
    error = testapp.post(REST, body, headers={"X-Proctorhub-Signature": header}, status=401).json["error"]
    assert error["code"] == "bad_signature"


def test_a_non_ascii_signature_is_401_not_500(testapp, dbsession):
    attempt = f.attempt(dbsession)
    body = json.dumps(f.rest_payload(attempt.attempt_code)).encode()
    header = f"t={int(time.time())},v1=\xe9\xe9"
    error = testapp.post(REST, body, headers={"X-Proctorhub-Signature": header}, status=401).json["error"]
    assert error["code"] == "bad_signature"
    assert_nothing_stored(dbsession)


def test_malformed_json_is_400(testapp, dbsession):
    error = post(testapp, REST, b"{this is not json", status=400)["error"]
    assert error["code"] == "invalid_payload"


def test_schema_errors_are_400_with_details(testapp, dbsession):
    attempt = f.attempt(dbsession)
    bad_comments = [{"start": "soon", "stop": 3, "duration": 2, "status": "x"}]
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code, comments=bad_comments), status=400)["error"]
    assert error["code"] == "invalid_payload"
    assert "comments.0.start" in error["details"]["fields"]
    missing_code = post(testapp, REST, {"status": "passed"}, status=400)["error"]
    assert missing_code["code"] == "invalid_payload" and "attempt_code" in missing_code["details"]["fields"]
    no_meta = post(testapp, SS, {"reviewStatus": "Clean"}, status=400)["error"]
    assert no_meta["code"] == "invalid_payload"
    assert_nothing_stored(dbsession)


def test_stop_before_start_is_400(testapp, dbsession):
    attempt = f.attempt(dbsession)
    comments = [{"start": 50, "stop": 10, "duration": 0, "comment": "", "status": "x"}]
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code, comments=comments), status=400)["error"]
    assert "comments.0.stop" in error["details"]["fields"]


def test_unknown_status_is_400(testapp, dbsession):
    attempt = f.attempt(dbsession)
    error = post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code, status="Bananas"), status=400)["error"]
    assert error["code"] == "bad_review_status"
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="great"), status=400)["error"]
    assert error["code"] == "bad_review_status" and "status" in error["details"]["fields"]
    assert_nothing_stored(dbsession)
    assert status_of(dbsession, attempt) == "submitted"


def test_unknown_attempt_is_404(testapp, dbsession):
    error = post(testapp, SS, f.softwaresecure_payload("no-such-code"), status=404)["error"]
    assert error["code"] == "unknown_attempt"
    assert_nothing_stored(dbsession)


def test_vendor_record_id_is_compared_case_insensitively(testapp, dbsession):
    attempt = f.attempt(dbsession, external_id="ABC-123")
    post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code, record_locator="abc-123"))
    assert count(dbsession, Review) == 1


def test_vendor_record_id_mismatch_is_409(testapp, dbsession):
    attempt = f.attempt(dbsession, external_id="ABC-123")
    error = post(testapp, SS, f.softwaresecure_payload(attempt.attempt_code, record_locator="XYZ-999"),
                 status=409)["error"]
    assert error["code"] == "external_id_mismatch"
    assert_nothing_stored(dbsession)
    assert status_of(dbsession, attempt) == "submitted"


@pytest.mark.parametrize("external_id", [{"record": "ABC-123"}, ["ABC-123"], True, 1.5, "  "])
def test_a_vendor_record_id_that_is_no_string_is_400(testapp, dbsession, external_id):
    # It used to be compared as Python's str() of whatever came: a 409 mismatch, or a match by accident.
    attempt = f.attempt(dbsession, external_id="ABC-123")
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code, external_id=external_id), status=400)["error"]
    assert error["code"] == "invalid_payload" and "external_id" in error["details"]["fields"]
    assert_nothing_stored(dbsession)


def test_a_vendor_record_id_sent_as_a_whole_number_is_read_as_text(testapp, dbsession):
    # As the LMS API reads identifiers: 12345 is the record id "12345".
    attempt = f.attempt(dbsession, external_id="12345")
    post(testapp, REST, f.rest_payload(attempt.attempt_code, external_id=12345))
    assert count(dbsession, Review) == 1


def test_exam_no_longer_proctored_is_412(testapp, dbsession):
    attempt = f.attempt(dbsession, f.exam(dbsession, is_proctored=False))
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code), status=412)["error"]
    assert error["code"] == "exam_not_proctored"
    assert_nothing_stored(dbsession)


def test_another_vendors_attempt_is_refused(testapp, dbsession):
    attempt = f.attempt(dbsession, f.exam(dbsession, backend="softwaresecure"))
    error = post(testapp, REST, f.rest_payload(attempt.attempt_code), status=409)["error"]
    assert error["code"] == "backend_mismatch"
    assert_nothing_stored(dbsession)


def test_body_over_the_limit_is_413(testapp, dbsession):
    attempt = f.attempt(dbsession)
    huge = f.rest_payload(attempt.attempt_code, padding="x" * 70_000)  # testing.ini: 65536 bytes
    error = post(testapp, REST, huge, status=413)["error"]
    assert error["code"] == "payload_too_large"
    assert_nothing_stored(dbsession)


def test_every_error_has_the_one_shape(testapp, dbsession):
    error = testapp.post("/api/v1/reviews/rest", b"{}", status=401).json
    assert set(error) == {"error"}
    assert set(error["error"]) == {"status", "code", "message", "details"}
    assert error["error"]["status"] == 401


def test_the_first_review_writes_every_row_it_owes(testapp, dbsession):
    attempt = f.attempt(dbsession, status="started")
    answer = post(testapp, REST, f.rest_payload(attempt.attempt_code, status="passed"))
    dbsession.expire_all()
    stored = dbsession.get(Attempt, attempt.id)
    assert stored.status == "verified" and stored.completed_at is not None and stored.started_at is None
    review = rows(dbsession, Review)[0]
    assert review.id == answer["id"] and review.queue_priority == 2 and review.created_at is not None
    comments = rows(dbsession, ReviewComment)
    assert [(c.review_id, c.position, c.comment) for c in comments] == [(review.id, 0, "Phone visible")]
    received, moved = rows(dbsession, Event)
    assert received.payload["review_id"] == review.id and received.payload["outcome"] == "created"
    assert moved.payload == {"from": "started", "to": "verified", "reason": "review created by rest"}
    assert received.created_at is not None and received.delivered_at is None


def test_a_review_without_comments(testapp, dbsession):
    attempt = f.attempt(dbsession)
    post(testapp, REST, f.rest_payload(attempt.attempt_code, comments=[]))
    assert count(dbsession, Review) == 1 and count(dbsession, ReviewComment) == 0
