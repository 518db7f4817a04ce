"""Issue 13 finding 8: security headers on every response."""

from __future__ import annotations

import re
from pathlib import Path

from ... import factories as f
from ..admin.conftest import HTML, sign_in, staff_with_password
from ..lti.conftest import ACS_ACTIONS, Flow

TEMPLATES = Path(__file__).parents[3] / "proctorhub" / "templates"


def csp(response) -> dict:
    return {part.split()[0]: part.split()[1:] for part in
            (p.strip() for p in response.headers["Content-Security-Policy"].split(";")) if part}


def assert_common(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # testing.ini: secure_cookies off


def assert_not_frameable(response):
    assert response.headers["X-Frame-Options"] == "DENY"
    assert csp(response)["frame-ancestors"] == ["'none'"]


def test_admin_pages_refuse_framing_and_caching_and_run_no_inline_script(testapp, dbsession):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    signin_page = testapp.get("/admin/sign-in", headers=HTML)
    for response in (signin_page, sign_in(testapp, "admin@example.edu"),
                     testapp.get("/admin/reviews/", headers=HTML),
                     testapp.get("/admin/reviews/", headers={"Accept": "application/json"}),
                     testapp.get("/admin/reviews/999999", headers=HTML, status=404)):
        assert_common(response)
        assert_not_frameable(response)
        assert response.headers["Cache-Control"] == "no-store"
    policy = csp(testapp.get("/admin/reviews/", headers=HTML))
    assert policy["script-src"][0] == "'self'" and policy["script-src"][1].startswith("'nonce-")
    assert "'unsafe-inline'" not in policy["script-src"] and policy["object-src"] == ["'none'"]


def test_json_answers_allow_nothing_and_are_not_stored(testapp, dbsession):
    token = f.token(dbsession)
    for response in (testapp.get("/api/v1/attempts/nope", headers=f.auth(token), status=404),
                     testapp.get("/api/v1/attempts/nope", status=401)):
        assert_common(response)
        assert_not_frameable(response)
        assert csp(response)["default-src"] == ["'none'"]
        assert response.headers["Cache-Control"] == "no-store"


def test_the_auto_submit_form_runs_by_its_nonce_and_may_be_framed(testapp, dbsession, lms, tool, platform_keys):
    config = f.configuration(dbsession, public_key_pem=tool.public_pem(), acs_actions=list(ACS_ACTIONS))
    flow = Flow(testapp, lms=lms, config=config, tool=tool)
    entry = flow.enter(flow.create_launch())
    page = flow.authorize(tool.authentication_request(entry.location))
    nonce = csp(page)["script-src"][1][len("'nonce-"):-1]
    inline = [attributes for attributes in re.findall(r"<script([^>]*)>", page.text) if "src=" not in attributes]
    assert inline == [f' nonce="{nonce}"'] and len(nonce) >= 16
    assert "X-Frame-Options" not in page.headers and "frame-ancestors" not in csp(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert_common(page)
    # A fresh nonce every time.
    other = flow.authorize(tool.authentication_request(flow.enter(flow.create_launch(
        resource_link_id="exam-2")).location))
    assert csp(other)["script-src"][1] != csp(page)["script-src"][1]


def test_token_endpoint_answers_are_not_stored(testapp):
    refused = testapp.post("/lti/token", {"grant_type": "client_credentials"}, status=(400, 401))
    assert refused.headers["Cache-Control"] == "no-store"
    assert_common(refused)


def test_hsts_when_cookies_are_secure(make_app):
    app = make_app(**{"proctorhub.secure_cookies": "true"})
    assert app.get("/", status=200).headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_template_has_an_inline_script_without_the_nonce():
    inline = []
    for template in TEMPLATES.rglob("*.jinja2"):
        for attributes in re.findall(r"<script([^>]*)>", template.read_text()):
            if "src=" not in attributes and "csp_nonce" not in attributes:
                inline.append(template.name)
    assert inline == []
    assert any("csp_nonce" in t.read_text() for t in TEMPLATES.rglob("*.jinja2"))
