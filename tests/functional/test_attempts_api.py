"""The LMS attempts API: POST/GET/DELETE /api/v1/attempts."""

from sqlalchemy import func, select

from proctorhub.models import Attempt, Exam

from .. import factories as f

BODY = {
    "user": {"id": "learner-7", "name": "Grace", "email": "grace@example.edu"},
    "resource_link": {"id": "rl-final", "title": "Final"},
    "context": {"id": "course-1", "title": "Course 1"},
    "attempt_number": 1,
    "external_id": "VENDOR-7",
    "exam": {"name": "Final exam", "time_limit_mins": 90},
}


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_then_find_the_same_attempt(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    first = testapp.post_json("/api/v1/attempts", BODY, headers=lms, status=201).json
    again = testapp.post_json("/api/v1/attempts", BODY, headers=lms, status=200).json
    assert first["attempt_code"] == again["attempt_code"]
    assert len(first["attempt_code"]) >= 32
    assert first["status"] == "created"
    assert first["user_id"] == "learner-7"
    assert first["resource_link_id"] == "rl-final"
    assert first["external_id"] == "VENDOR-7"
    assert first["archived"] is False and first["review"] is None
    assert count(dbsession, Attempt) == 1 and count(dbsession, Exam) == 1
    exam = dbsession.execute(select(Exam)).scalar_one()
    assert (exam.context_id, exam.name, exam.time_limit_mins) == ("course-1", "Final exam", 90)


def test_get_shows_the_documented_shape(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    code = testapp.post_json("/api/v1/attempts", BODY, headers=lms).json["attempt_code"]
    shown = testapp.get(f"/api/v1/attempts/{code}", headers=lms, status=200).json
    for key in ("attempt_code", "status", "attempt_number", "exam_id", "user_id", "resource_link_id",
                "external_id", "end_assessment_return", "verified_user", "archived", "review"):
        assert key in shown


def test_codes_are_unique_per_attempt_number(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    one = testapp.post_json("/api/v1/attempts", BODY, headers=lms).json["attempt_code"]
    two = testapp.post_json("/api/v1/attempts", {**BODY, "attempt_number": 2}, headers=lms, status=201).json
    assert two["attempt_code"] != one
    assert count(dbsession, Exam) == 1


def test_archive_keeps_the_attempt_and_allows_a_retake(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    code = testapp.post_json("/api/v1/attempts", BODY, headers=lms).json["attempt_code"]
    archived = testapp.delete(f"/api/v1/attempts/{code}", headers=lms, status=200).json
    assert archived["archived"] is True
    assert testapp.get(f"/api/v1/attempts/{code}", headers=lms).json["archived"] is True
    # A retake takes the next attempt number; the archived one's number is 409 naming it.
    reused = testapp.post_json("/api/v1/attempts", BODY, headers=lms, status=409).json["error"]
    assert reused["code"] == "attempt_number_used"
    assert reused["details"]["next_attempt_number"] == BODY["attempt_number"] + 1
    retake = testapp.post_json("/api/v1/attempts", {**BODY, "attempt_number": BODY["attempt_number"] + 1},
                               headers=lms, status=201).json
    assert retake["attempt_code"] != code
    assert count(dbsession, Attempt) == 2


def test_unknown_attempt_is_404(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    error = testapp.get("/api/v1/attempts/nope", headers=lms, status=404).json["error"]
    assert error["code"] == "unknown_attempt"
    assert testapp.delete("/api/v1/attempts/nope", headers=lms, status=404).json["error"]["code"] == "unknown_attempt"


def test_anonymous_is_401_and_wrong_role_is_403(testapp, dbsession):
    error = testapp.post_json("/api/v1/attempts", BODY, status=401).json["error"]
    assert error == {"status": 401, "code": "unauthenticated", "message": error["message"], "details": {}}
    bad = testapp.get("/api/v1/attempts/x", headers={"Authorization": "Bearer not-a-token"}, status=401).json
    assert "not recognised" in bad["error"]["message"]
    reviewer = f.auth(f.token(dbsession, role="reviewer"))
    refused = testapp.post_json("/api/v1/attempts", BODY, headers=reviewer, status=403).json
    assert refused["error"]["code"] == "forbidden"
    assert count(dbsession, Attempt) == 0


def test_admin_token_may_use_the_lms_api(testapp, dbsession):
    admin = f.auth(f.token(dbsession, role="admin"))
    testapp.post_json("/api/v1/attempts", BODY, headers=admin, status=201)


def test_invalid_bodies_are_400_with_field_details_and_write_nothing(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    bad = testapp.post("/api/v1/attempts", b"{not json", headers={**lms, "Content-Type": "application/json"},
                       status=400).json["error"]
    assert bad["code"] == "invalid_payload"
    missing = testapp.post_json("/api/v1/attempts", {"user": {}}, headers=lms, status=400).json["error"]
    assert missing["code"] == "invalid_payload"
    assert {"user.id", "resource_link", "attempt_number"} <= set(missing["details"]["fields"])
    wrong_type = testapp.post_json("/api/v1/attempts", {**BODY, "attempt_number": "one"}, headers=lms,
                                   status=400).json["error"]
    assert "attempt_number" in wrong_type["details"]["fields"]
    testapp.post_json("/api/v1/attempts", [1, 2], headers=lms, status=400)
    assert count(dbsession, Attempt) == 0 and count(dbsession, Exam) == 0


def test_unknown_backend_or_configuration_is_refused(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    error = testapp.post_json("/api/v1/attempts", {**BODY, "backend": "nobody"}, headers=lms, status=400).json
    assert "backend" in error["error"]["details"]["fields"]
    error = testapp.post_json("/api/v1/attempts", {**BODY, "config_id": 999}, headers=lms, status=404).json
    assert error["error"]["code"] == "unknown_configuration"
    assert count(dbsession, Exam) == 0


def test_configuration_backend_becomes_the_exams(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    configuration = f.configuration(dbsession, backend="rest")
    testapp.post_json("/api/v1/attempts", {**BODY, "config_id": configuration.id}, headers=lms, status=201)
    exam = dbsession.execute(select(Exam)).scalar_one()
    assert (exam.backend, exam.configuration_id) == ("rest", configuration.id)


def test_numeric_ids_are_kept_as_text(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    body = {**BODY, "user": {"id": 42}, "resource_link": {"id": 7}}
    shown = testapp.post_json("/api/v1/attempts", body, headers=lms, status=201).json
    assert (shown["user_id"], shown["resource_link_id"]) == ("42", "7")


def test_an_existing_attempt_comes_with_its_review(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    code = testapp.post_json("/api/v1/attempts", BODY, headers=lms, status=201).json["attempt_code"]
    body, headers = f.signed("rest", f.rest_payload(code, external_id="VENDOR-7"))
    testapp.post("/api/v1/reviews/rest", body, headers=headers, status=200)
    again = testapp.post_json("/api/v1/attempts", BODY, headers=lms, status=200).json
    assert again["review"]["status"] == "passed" and again["status"] == "verified"
