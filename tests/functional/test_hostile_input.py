"""Input no column can store is a 400 in the one error shape, with nothing written, on both databases."""

import json

import pytest
from sqlalchemy import func, select

from proctorhub.models import Attempt, Exam, Review, ReviewComment

from .. import factories as f

ATTEMPT = {"user": {"id": "u1"}, "resource_link": {"id": "rl1"}, "context": {"id": "c1"}, "attempt_number": 1}


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(model)).scalar_one()


def error_of(response) -> dict:
    assert set(response.json) == {"error"}
    return response.json["error"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attempt_number": 2**31}, "attempt_number"),
        ({"attempt_number": 10**19}, "attempt_number"),
        ({"exam": {"name": "Final", "time_limit_mins": 10**12}}, "exam.time_limit_mins"),
        ({"config_id": 10**12}, "config_id"),
        ({"exam": {"name": "   "}}, "exam.name"),
    ],
)
def test_out_of_range_numbers_and_blank_names_on_the_attempts_api(testapp, dbsession, change, field):
    lms = f.auth(f.token(dbsession))
    error = error_of(testapp.post_json("/api/v1/attempts", {**ATTEMPT, **change}, headers=lms, status=400))
    assert error["code"] == "invalid_payload" and field in error["details"]["fields"]
    assert count(dbsession, Attempt) == 0 and count(dbsession, Exam) == 0


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**ATTEMPT, "user": {"id": "a\u0000b"}}).encode(),
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'{"user": {"id": "u1"}, "attempt_number": NaN}',
        b'{"user": {"id": "u1"}, "attempt_number": Infinity}',
        b'{"user": {"id": "u1"}, "attempt_number": 1e999}',
        json.dumps({**ATTEMPT, "user": {"id": "a\ud800b"}}).encode(),
        json.dumps({**ATTEMPT, "user": {"id": "a\udc00"}}).encode().replace(b"\\udc00", b"\\uDC00"),
    ],
    ids=["nul", "deeply-nested", "nan", "infinity", "overflowing-number", "lone-surrogate",
         "lone-surrogate-upper-case-escape"],
)
def test_unstorable_json_on_the_attempts_api(testapp, dbsession, body):
    lms = f.auth(f.token(dbsession))
    response = testapp.post("/api/v1/attempts", body, headers={**lms, "Content-Type": "application/json"},
                            status=400)
    assert error_of(response)["code"] == "invalid_payload"
    assert count(dbsession, Attempt) == 0


@pytest.mark.parametrize("path", ["/api/v1/attempts/a%00b", "/api/v1/attempts/x?user=a%00"])
def test_nul_in_the_url_is_400(testapp, dbsession, path):
    lms = f.auth(f.token(dbsession))
    assert error_of(testapp.get(path, headers=lms, status=400))["code"] == "invalid_value"


def test_url_that_is_not_utf8_is_400(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    assert error_of(testapp.get("/api/v1/attempts/%ff%fe", headers=lms, status=400))["code"] == "bad_request"


def test_nul_in_a_form_is_400(testapp):
    response = testapp.post("/lti/start-assessment", "JWT=a%00b",
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, status=400)
    assert error_of(response)["code"] == "invalid_value"


@pytest.mark.parametrize(
    ("comments", "field"),
    [
        ([{"start": 10**12, "stop": 10**12, "duration": 0, "comment": "", "status": "x"}], "comments.0.start"),
        ([{"start": 1.5, "stop": 3, "duration": 2, "comment": "", "status": "x"}], "comments.0.start"),
        ([{"start": "7", "stop": 9, "duration": 2, "comment": "", "status": "x"}], "comments.0.start"),
        ([{"start": 1, "stop": 3, "duration": True, "comment": "", "status": "x"}], "comments.0.duration"),
    ],
)
def test_comment_times_must_be_whole_numbers_in_range(testapp, dbsession, comments, field):
    attempt = f.attempt(dbsession)
    body, headers = f.signed("rest", f.rest_payload(attempt.attempt_code, comments=comments))
    error = error_of(testapp.post("/api/v1/reviews/rest", body, headers=headers, status=400))
    assert error["code"] == "invalid_payload" and field in error["details"]["fields"]
    assert count(dbsession, Review) == 0 and count(dbsession, ReviewComment) == 0


@pytest.mark.parametrize(
    "body",
    [
        lambda code: json.dumps(f.rest_payload(code, extra="a\u0000")).encode(),
        lambda code: json.dumps(f.rest_payload(code, **{"k\u0000": 1})).encode(),
        lambda code: json.dumps(f.rest_payload(code)).encode()[:-1] + b', "x": NaN}',
        lambda code: b"[" * 3000 + b"]" * 3000,
        lambda code: json.dumps(f.rest_payload(code)).encode()[:-1] + b', "x": 1e999}',
        lambda code: json.dumps(f.rest_payload(code + "\ud800")).encode(),
        lambda code: json.dumps(f.rest_payload(code, comments=[
            {"start": 1, "stop": 2, "duration": 1, "comment": "a\udfff", "status": "ok"}])).encode(),
    ],
    ids=["nul-value", "nul-key", "nan", "deeply-nested", "overflowing-number", "lone-surrogate-code",
         "lone-surrogate-comment"],
)
def test_unstorable_review_payloads(testapp, dbsession, body):
    attempt = f.attempt(dbsession)
    signed_body, headers = f.signed("rest", body(attempt.attempt_code))
    error = error_of(testapp.post("/api/v1/reviews/rest", signed_body, headers=headers, status=400))
    assert error["code"] == "invalid_payload"
    assert count(dbsession, Review) == 0


@pytest.mark.parametrize("status", [["Clean"], {"a": 1}, 5, None])
def test_softwaresecure_status_of_the_wrong_type(testapp, dbsession, status):
    attempt = f.attempt(dbsession)
    body, headers = f.signed("softwaresecure", f.softwaresecure_payload(attempt.attempt_code, status=status))
    error = error_of(testapp.post("/api/v1/reviews/softwaresecure", body, headers=headers, status=400))
    assert error["code"] == "bad_review_status"
    assert count(dbsession, Review) == 0


def test_query_that_is_not_utf8_is_400(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    response = testapp.get("/api/v1/end-assessment-return?user_id=%ff&resource_link_id=a", headers=lms,
                           status=400)
    assert error_of(response)["code"] == "bad_request"


def test_multipart_forms_are_415(testapp):
    response = testapp.post("/lti/start-assessment", {"JWT": "x"}, upload_files=[("file", "jwt.txt", b"x")],
                            status=415)
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("name", ["%C2%B2", "99999999999", "0"])
def test_admin_ids_that_cannot_be_rows_are_404(testapp, dbsession, name):
    admin = f.auth(f.token(dbsession, role="admin"))
    for collection in ("reviews", "exams", "configurations"):
        assert error_of(testapp.get(f"/admin/{collection}/{name}", headers=admin, status=404))["code"] == "not_found"


@pytest.mark.parametrize("query", ["after=%C2%B2.1", "after=1.%C2%B2", "after=1.99999999999999999999",
                                   "exam=99999999999999999999999", "exam=%C2%B2"])
def test_bad_queue_filters_are_400(testapp, dbsession, query):
    admin = f.auth(f.token(dbsession, role="admin"))
    assert error_of(testapp.get(f"/admin/reviews/?{query}", headers=admin, status=400))["code"] == "invalid_payload"


@pytest.mark.parametrize("url", ["https://[::1", "https://tool.example:99999/", "https://u:p@tool.example:abc/",
                                 "https://tool.example/login\x01", "https://tool.example/\r\nX-Evil: 1",
                                 "https://tool.example/log✓in"])
def test_malformed_tool_urls_are_400(testapp, dbsession, url):
    admin = f.auth(f.token(dbsession, role="admin"))
    body = {"name": "T", "oidc_login_url": url, "launch_url": "https://tool.example/launch",
            "redirect_uris": ["https://tool.example/launch"], "jwks_url": "https://tool.example/jwks"}
    error = error_of(testapp.post_json("/admin/configurations/", body, headers=admin, status=400))
    assert "oidc_login_url" in error["details"]["fields"]


@pytest.mark.parametrize("role", ["teachingassistant", "contentdeveloper"])
def test_launch_roles_whose_uris_are_long(testapp, dbsession, role):
    lms = f.auth(f.token(dbsession))
    configuration = f.configuration(dbsession)
    body = {"config_id": configuration.id, "message_type": "LtiStartProctoring",
            "user": {"id": "u1", "role": role}, "resource_link": {"id": "rl1"}, "attempt_number": 1,
            "return_url": "https://lms.test/return"}
    assert testapp.post_json("/api/v1/launches", body, headers=lms, status=201).json["launch_url"]
