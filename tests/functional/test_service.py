"""The home page, authentication, and the one error shape on every kind of refusal."""

from proctorhub.models import ApiToken, utcnow

from .. import factories as f

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_home_names_the_service_its_version_and_its_parts(testapp):
    page = testapp.get("/", headers=BROWSER, status=200)
    assert "proctorhub" in page.text and "0.1.0" in page.text
    for part in ("/api/v1/", "/lti/jwks", "/admin/"):
        assert part in page.text
    answer = testapp.get("/", status=200).json
    assert answer["service"] == "proctorhub" and answer["version"] == "0.1.0"


def test_unknown_route_is_404_json_for_programs_and_a_page_for_browsers(testapp):
    error = testapp.get("/no/such/thing", status=404).json["error"]
    assert error["code"] == "not_found" and error["status"] == 404
    page = testapp.get("/no/such/thing", headers=BROWSER, status=404)
    assert page.content_type == "text/html" and "not_found" in page.text


def test_api_routes_answer_json_even_to_browsers(testapp):
    answer = testapp.get("/api/v1/attempts/abc", headers=BROWSER, status=401)
    assert answer.content_type == "application/json"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(testapp, dbsession):
    raw = f.token(dbsession)
    row = dbsession.query(ApiToken).one()
    row.revoked_at = utcnow()
    dbsession.commit()
    error = testapp.get("/api/v1/attempts/abc", headers=f.auth(raw), status=401).json["error"]
    assert "revoked" in error["message"]


def test_other_authorization_schemes_are_401(testapp):
    error = testapp.get("/api/v1/attempts/abc", headers={"Authorization": "Basic dXNlcjpwYXNz"}, status=401).json
    assert "Bearer" in error["error"]["message"]


def test_wrong_method_is_a_4xx_in_the_error_shape(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    error = testapp.put_json("/api/v1/attempts", {}, headers=lms, expect_errors=True)
    assert 400 <= error.status_int < 500
    assert set(error.json["error"]) == {"status", "code", "message", "details"}
