"""Issue 13 finding 8: security headers on every response."""

from __future__ import annotations

import re
from pathlib import Path

from ... import factories as f
from ..admin.conftest import HTML, csrf_from, sign_in, staff_with_password
from ..lti.conftest import ACS_ACTIONS, ISSUER, Flow
from ..registration_helpers import SPEC_REQUEST, register, start_registration

PACKAGE = Path(__file__).parents[3] / "proctorhub"
TEMPLATES = PACKAGE / "templates"


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


def test_every_lti_step_carrying_a_token_is_not_stored(testapp, dbsession, lms, tool, platform_keys):
    """The security headers tween alone says ``no-store`` to every LTI answer that carries a
    launch token, an id_token, an access token or the attempt's state; no view says it itself."""
    config = f.configuration(dbsession, public_key_pem=tool.public_pem(), acs_actions=list(ACS_ACTIONS))
    flow = Flow(testapp, lms=lms, config=config, tool=tool)
    entry = flow.enter(flow.create_launch())  # 302 to the tool's login
    page = flow.authorize(tool.authentication_request(entry.location))  # the id_token form
    refused = flow.authorize(tool.authentication_request(
        flow.enter(flow.create_launch(resource_link_id="exam-2")).location, state="s-1", prompt="login"),
        status=400)  # the refusal form-posted back to the registered redirect_uri
    assert tool.form_fields(refused.text)[1]["error"] == "invalid_request"
    started = flow.start(flow.signed(flow.id_token(page)[1]))  # 302 back to the LMS
    assertion = tool.client_assertion(config.client_id, f"{ISSUER}/lti/token")
    token = testapp.post("/lti/token", {
        "grant_type": "client_credentials", "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "scope": "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"})
    token_refused = testapp.post("/lti/token", {"grant_type": "password"}, status=400)
    control = testapp.post_json("/lti/acs", {
        "user": {"sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1, "action": "pause"},
        headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert control.json == {"status": "paused", "extra_time": 0}
    for response in (entry, page, refused, started, token, token_refused, control):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        assert_common(response)
    # The token endpoint's answers, refusals too, also say so to HTTP/1.0 caches (RFC 6749 5.1).
    assert token.headers["Pragma"] == token_refused.headers["Pragma"] == "no-cache"


def test_registration_answers_carrying_tokens_are_not_stored(testapp, dbsession):
    """The registration token (admin's JSON and page) and the registered client (the tool's
    answer) are not stored by any cache."""
    admin_token = f.token(dbsession, role="admin", name="admin program")
    started = testapp.post_json("/admin/registrations/", {"initiation_url": "https://client.example.org/register"},
                                headers={**f.auth(admin_token), "Accept": "application/json"}, status=201)
    registered = register(testapp, start_registration(testapp, admin_token)["registration_token"], SPEC_REQUEST)
    assert registered.json["client_id"]
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, "admin@example.edu")
    form = testapp.get("/admin/registrations/", headers=HTML)
    started_page = testapp.post("/admin/registrations/", {"csrf_token": csrf_from(form.text),
                                                          "initiation_url": "https://client.example.org/register"},
                                headers=HTML, status=201)
    assert "registration_token=" in started.json["redirect_url"] and "data-redirect-url" in started_page.text
    for response in (started, registered, started_page):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        assert_common(response)


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


def test_only_the_tween_says_no_store():
    """One place decides what may not be cached: a view that set it by hand would hide a response
    the tween's rule no longer covered."""
    sets_it = re.compile(r"""(\[["']Cache-Control["']\]|cache_control)\s*=\s*["']no-store""")
    setters = [str(module.relative_to(PACKAGE)) for module in PACKAGE.rglob("*.py")
               if sets_it.search(module.read_text())]
    assert setters == ["security/headers.py"]
