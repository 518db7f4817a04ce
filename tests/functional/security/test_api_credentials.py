"""Issue 13 finding 4: the LMS API takes bearer tokens only, and JSON only as application/json."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from proctorhub.models import Attempt, Exam, Launch, ToolConfiguration

from ... import factories as f
from ..admin.conftest import sign_in, staff_with_password

ATTEMPT = {"backend": "rest", "user": {"id": "learner-9"}, "resource_link": {"id": "exam-9"},
           "context": {"id": "course-A"}, "attempt_number": 1, "exam": {"name": "Forged"}}


def counts(dbsession) -> tuple:
    dbsession.expire_all()
    return tuple(dbsession.execute(select(func.count()).select_from(model)).scalar_one()
                 for model in (Attempt, Exam, Launch, ToolConfiguration))


@pytest.fixture
def admin_browser(testapp, dbsession):
    """An admin signed in with the session cookie, as a page on another site would find them."""
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, "admin@example.edu")
    return testapp


def test_a_staff_session_cookie_does_not_authenticate_the_lms_api(admin_browser, dbsession):
    """The attack: a page the signed-in admin visits posts to the API; the browser adds the cookie."""
    attempt = f.attempt(dbsession)
    before = counts(dbsession)
    created = admin_browser.post_json("/api/v1/attempts", ATTEMPT, status=401).json["error"]
    assert created["code"] == "unauthenticated"
    assert admin_browser.get(f"/api/v1/attempts/{attempt.attempt_code}", status=401).json["error"][
        "code"] == "unauthenticated"
    admin_browser.delete(f"/api/v1/attempts/{attempt.attempt_code}", status=401)
    admin_browser.get("/api/v1/end-assessment-return", {"user_id": "learner-1", "resource_link_id": "x"},
                      status=401)
    assert counts(dbsession) == before
    dbsession.expire_all()
    assert dbsession.get(Attempt, attempt.id).archived_at is None
    # The same admin's pages still work with the cookie.
    assert admin_browser.get("/admin/reviews/", headers={"Accept": "application/json"}, status=200)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "", "application/jsonx"])
def test_json_bodies_must_be_sent_as_application_json(testapp, dbsession, content_type):
    """What a cross-site form can send without a CORS preflight is refused before it is read."""
    token = f.token(dbsession)
    before = counts(dbsession)
    headers = {**f.auth(token), "Content-Type": content_type}
    body = json.dumps(ATTEMPT)
    error = testapp.post("/api/v1/attempts", body, headers=headers, status=415).json["error"]
    assert error["code"] == "unsupported_media_type"
    launch = testapp.post("/api/v1/launches", body, headers=headers, status=415).json["error"]
    assert launch["code"] == "unsupported_media_type"
    assert counts(dbsession) == before


def test_admin_json_bodies_must_be_application_json_too(testapp, dbsession):
    token = f.token(dbsession, role="admin", name="admin program")
    body = json.dumps({"name": "T", "oidc_login_url": "https://tool.test/login", "launch_url": "https://tool.test/l",
                       "redirect_uris": ["https://tool.test/l"], "jwks_url": "https://tool.test/jwks"})
    before = counts(dbsession)
    error = testapp.post("/admin/configurations/", body, headers={
        **f.auth(token), "Accept": "application/json", "Content-Type": "text/plain"}, status=415).json["error"]
    assert error["code"] == "unsupported_media_type"
    assert counts(dbsession) == before
    # application/json with a charset is still JSON.
    testapp.post("/admin/configurations/", body, headers={
        **f.auth(token), "Accept": "application/json", "Content-Type": "application/json; charset=utf-8"},
        status=201)


def test_the_lms_api_still_takes_its_bearer_tokens(testapp, dbsession):
    token = f.token(dbsession)
    created = testapp.post_json("/api/v1/attempts", ATTEMPT, headers=f.auth(token), status=201).json
    assert created["attempt_code"]


def test_vendor_callbacks_take_no_api_token_or_cookie(admin_browser, dbsession):
    """A review callback authenticates only by the backend's signature."""
    attempt = f.attempt(dbsession)
    token = f.token(dbsession, role="admin", name="admin program")
    body = json.dumps(f.rest_payload(attempt.attempt_code))
    for headers in ({"Content-Type": "application/json"}, {**f.auth(token), "Content-Type": "application/json"}):
        error = admin_browser.post("/api/v1/reviews/rest", body, headers=headers, status=401).json["error"]
        assert error["code"] == "missing_signature"
    assert counts(dbsession)[0] == 1
