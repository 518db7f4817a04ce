"""The lms is a hard boundary (DESIGN.md 5.1): two lmss with the same context, resource link and
user ids never meet, on every route of the LMS API; another lms's attempt is 404
``unknown_attempt``, never 403; a request naming another backend or tool configuration than the
exam's is 409 and writes nothing."""

import pytest
from sqlalchemy import func, select

from proctorhub.models import Attempt, Event, Exam, Launch

from .. import factories as f

BODY = {
    "user": {"id": "learner-7", "name": "Grace", "email": "grace@example.edu"},
    "resource_link": {"id": "rl-final", "title": "Final"},
    "context": {"id": "course-1", "title": "Course 1"},
    "attempt_number": 1,
    "external_id": "VENDOR-A",
    "exam": {"name": "Final exam", "time_limit_mins": 90},
}


def rows(dbsession, model) -> int:
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def two_lmss(dbsession):
    """Tokens of two lmss: `default` and `other`."""
    f.lms(dbsession, "other", "Other LMS")
    return f.auth(f.token(dbsession, name="a")), f.auth(f.token(dbsession, name="b", lms_slug="other"))


@pytest.fixture
def launchable(dbsession):
    return f.configuration(dbsession)


def launch_body(config_id, **changes):
    body = {key: BODY[key] for key in ("resource_link", "context", "attempt_number")}
    return {**body, "config_id": config_id, "message_type": "LtiStartProctoring",
            "user": {**BODY["user"], "role": "learner"}, "return_url": "https://lms.test/return", **changes}


def test_same_ids_in_two_lmss_are_two_exams_and_two_attempts(testapp, dbsession, two_lmss):
    a, b = two_lmss
    first = testapp.post_json("/api/v1/attempts", BODY, headers=a, status=201).json
    second = testapp.post_json("/api/v1/attempts", {**BODY, "external_id": "VENDOR-B"}, headers=b, status=201).json
    assert first["attempt_code"] != second["attempt_code"]
    assert (first["lms"], second["lms"]) == ("default", "other")
    assert (first["external_id"], second["external_id"]) == ("VENDOR-A", "VENDOR-B")
    assert first["exam_id"] != second["exam_id"]
    assert rows(dbsession, Exam) == 2 and rows(dbsession, Attempt) == 2
    # Each finds its own again, unchanged by the other.
    again = testapp.post_json("/api/v1/attempts", {**BODY, "external_id": "X"}, headers=b, status=200).json
    assert again["attempt_code"] == second["attempt_code"] and again["external_id"] == "VENDOR-B"


def test_another_lmss_attempt_does_not_exist(testapp, dbsession, two_lmss):
    a, b = two_lmss
    code = testapp.post_json("/api/v1/attempts", BODY, headers=a, status=201).json["attempt_code"]
    for method, path in (("get", f"/api/v1/attempts/{code}"), ("delete", f"/api/v1/attempts/{code}"),
                         ("post", f"/api/v1/attempts/{code}/submit")):
        error = getattr(testapp, method)(path, headers=b, status=404).json["error"]
        assert error["code"] == "unknown_attempt" and error["details"] == {"attempt_code": code}
    # The same answer as for a code that names nothing: no existence oracle.
    missing = testapp.get("/api/v1/attempts/no-such-code", headers=b, status=404).json["error"]
    assert missing["code"] == "unknown_attempt" and missing["message"] == error["message"]
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    assert attempt.archived_at is None and attempt.status == "created"
    assert rows(dbsession, Event) == 0
    # Its own lms still reaches it.
    assert testapp.get(f"/api/v1/attempts/{code}", headers=a).json["lms"] == "default"
    testapp.post(f"/api/v1/attempts/{code}/submit", headers=a, status=200)
    testapp.delete(f"/api/v1/attempts/{code}", headers=a, status=200)


def test_end_assessment_return_is_within_the_callers_lms_and_context(testapp, dbsession, two_lmss):
    a, b = two_lmss
    testapp.post_json("/api/v1/attempts", BODY, headers=a, status=201)
    dbsession.execute(Attempt.__table__.update().values(end_assessment_return=True))
    dbsession.commit()
    query = "/api/v1/end-assessment-return?user_id=learner-7&resource_link_id=rl-final"
    assert testapp.get(query, headers=a).json == {"end_assessment_return": True}
    assert testapp.get(query, headers=b).json == {"end_assessment_return": False}
    assert testapp.get(query + "&context_id=course-1", headers=a).json == {"end_assessment_return": True}
    assert testapp.get(query + "&context_id=course-2", headers=a).json == {"end_assessment_return": False}
    assert testapp.get(query + "&context_id=course-1", headers=b).json == {"end_assessment_return": False}
    # An lms token cannot reach into another lms by naming it.
    assert testapp.get(query + "&lms=default", headers=b).json == {"end_assessment_return": False}


def test_launches_never_meet_across_lmss(testapp, dbsession, two_lmss, launchable):
    a, b = two_lmss
    body = launch_body(launchable.id)
    first = testapp.post_json("/api/v1/launches", body, headers=a, status=201).json
    # The other lms's first launch at the same ids makes its own exam and attempt (the fast path
    # must not find the first lms's exam).
    second = testapp.post_json("/api/v1/launches", body, headers=b, status=201).json
    assert first["attempt"]["attempt_code"] != second["attempt"]["attempt_code"]
    assert (first["attempt"]["lms"], second["attempt"]["lms"]) == ("default", "other")
    assert rows(dbsession, Exam) == 2 and rows(dbsession, Attempt) == 2 and rows(dbsession, Launch) == 2
    # A second learner of the other lms now takes the fast path, still within that lms.
    third = testapp.post_json("/api/v1/launches", {**body, "user": {"id": "learner-8", "role": "learner"}},
                              headers=b, status=201).json
    exams = dict(dbsession.execute(select(Attempt.attempt_code, Attempt.exam_id)).all())
    assert exams[third["attempt"]["attempt_code"]] == exams[second["attempt"]["attempt_code"]]
    assert third["attempt"]["lms"] == "other" and third["attempt"]["time"]["time_limit_seconds"] is None
    # LtiEndAssessment for the first lms's attempt, asked by the other lms: not owed there.
    dbsession.execute(Attempt.__table__.update().values(end_assessment_return=True))
    dbsession.commit()
    end = launch_body(launchable.id, message_type="LtiEndAssessment")
    testapp.post_json("/api/v1/launches", end, headers=a, status=201)
    assert rows(dbsession, Launch) == 4


def test_admin_token_must_name_the_lms_when_several_exist(testapp, dbsession, two_lmss):
    a, _b = two_lmss
    admin = f.auth(f.token(dbsession, role="admin"))
    error = testapp.post_json("/api/v1/attempts", BODY, headers=admin, status=400).json["error"]
    assert error["code"] == "lms_required"
    assert testapp.get("/api/v1/attempts/x?lms=nobody", headers=admin, status=404).json["error"]["code"] == \
        "unknown_lms"
    assert rows(dbsession, Exam) == 0
    made = testapp.post_json("/api/v1/attempts?lms=other", BODY, headers=admin, status=201).json
    assert made["lms"] == "other"
    code = made["attempt_code"]
    testapp.get(f"/api/v1/attempts/{code}?lms=other", headers=admin, status=200)
    assert testapp.get(f"/api/v1/attempts/{code}?lms=default", headers=admin,
                       status=404).json["error"]["code"] == "unknown_attempt"
    testapp.get(f"/api/v1/attempts/{code}", headers=a, status=404)


def test_the_attempt_shape_carries_lms_backend_and_time(testapp, dbsession, two_lmss):
    a, _b = two_lmss
    made = testapp.post_json("/api/v1/attempts", {**BODY, "backend": "rest"}, headers=a, status=201).json
    assert made["lms"] == "default" and made["backend"] == "rest"
    assert made["time"] == {"time_limit_seconds": 5400, "extra_time_seconds": 0, "started_at": None,
                            "paused_seconds": 0, "due_at": None, "remaining_seconds": None}
    shown = testapp.get(f"/api/v1/attempts/{made['attempt_code']}", headers=a).json
    assert shown["time"] == made["time"] and shown["backend"] == "rest"


def test_a_request_naming_another_backend_is_409_and_writes_nothing(testapp, dbsession, two_lmss):
    a, _b = two_lmss
    testapp.post_json("/api/v1/attempts", {**BODY, "backend": "rest"}, headers=a, status=201)
    other_learner = {**BODY, "user": {"id": "learner-9"}, "backend": "softwaresecure"}
    error = testapp.post_json("/api/v1/attempts", other_learner, headers=a, status=409).json["error"]
    assert error["code"] == "backend_mismatch"
    assert error["details"] == {"exam_backend": "rest", "requested_backend": "softwaresecure"}
    assert rows(dbsession, Attempt) == 1
    assert dbsession.execute(select(Exam.backend)).scalar_one() == "rest"


def test_a_request_naming_another_configuration_is_409_and_writes_nothing(testapp, dbsession, two_lmss):
    a, _b = two_lmss
    first, second = f.configuration(dbsession), f.configuration(dbsession)
    testapp.post_json("/api/v1/attempts", {**BODY, "config_id": first.id}, headers=a, status=201)
    other_learner = {**BODY, "user": {"id": "learner-9"}, "config_id": second.id}
    error = testapp.post_json("/api/v1/attempts", other_learner, headers=a, status=409).json["error"]
    assert error["code"] == "configuration_mismatch"
    assert error["details"] == {"exam_config_id": first.id, "requested_config_id": second.id}
    launch = launch_body(second.id, user={"id": "learner-9", "role": "learner"})
    error = testapp.post_json("/api/v1/launches", launch, headers=a, status=409).json["error"]
    assert error["code"] == "configuration_mismatch"
    assert error["details"] == {"exam_config_id": first.id, "requested_config_id": second.id}
    assert rows(dbsession, Attempt) == 1 and rows(dbsession, Launch) == 0
    assert dbsession.execute(select(Exam.configuration_id)).scalar_one() == first.id


def test_an_exam_of_another_lms_with_another_backend_does_not_conflict(testapp, dbsession, two_lmss):
    a, b = two_lmss
    testapp.post_json("/api/v1/attempts", {**BODY, "backend": "rest"}, headers=a, status=201)
    made = testapp.post_json("/api/v1/attempts", {**BODY, "backend": "softwaresecure"}, headers=b, status=201).json
    assert made["backend"] == "softwaresecure"


def test_a_revoked_lms_token_is_refused(testapp, dbsession, two_lmss):
    from proctorhub.cli.tokens import revoke_tokens

    _a, b = two_lmss
    assert revoke_tokens(dbsession, "b") == 1
    dbsession.commit()
    testapp.post_json("/api/v1/attempts", BODY, headers=b, status=401)
    assert rows(dbsession, Attempt) == 0
