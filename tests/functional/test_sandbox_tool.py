"""The sandbox tool on its own: what it refuses at login and launch, and what it signs.

A stand-in platform here is only an RSA key whose JWKS is served on 127.0.0.1; the tool is driven
through WebTest (one cookie jar per browser). The whole flow against proctorhub is in test_sandbox.py.
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from proctorhub_sandbox import cli
from proctorhub_sandbox.app import make_app
from proctorhub_sandbox.keys import ToolKey
from proctorhub_sandbox.settings import ToolSettings
from webtest import TestApp

from ..live import serve

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"
CLIENT_ID = "sandbox-client"
TOOL = "http://tool.test"
DROP = object()


class Platform:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "platform-key-1"
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        self.url = ""

    def app(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(self.jwks).encode()]

    def id_token(self, nonce, *, key=None, kid=None, algorithm="RS256", message_type="LtiStartProctoring",
                 **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": "learner-1", "iat": now - 5,
            "exp": now + 300, "nonce": nonce, "name": "Ada Learner", "email": "ada@example.edu",
            LTI + "message_type": message_type, LTI + "version": "1.3.0", LTI + "deployment_id": "1",
            LTI + "target_link_uri": f"{TOOL}/launch", LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "resource_link": {"id": "final-exam", "title": "Final exam"}, AP + "attempt_number": 2,
        }
        if message_type == "LtiStartProctoring":
            claims[AP + "session_data"] = "session-data-123"
            claims[AP + "start_assessment_url"] = f"{self.url}/lti/start-assessment"
        for name, value in overrides.items():
            name = {"session_data": AP + "session_data", "deployment_id": LTI + "deployment_id",
                    "version": LTI + "version", "target_link_uri": LTI + "target_link_uri",
                    "attempt_number": AP + "attempt_number", "start_assessment_url": AP + "start_assessment_url",
                    }.get(name, name)
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        if algorithm == "HS256":
            return jwt.encode(claims, "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256",
                              headers={"kid": self.kid})
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers={"kid": kid or self.kid})


@pytest.fixture(scope="module")
def platform():
    platform = Platform()
    with serve(platform.app, threads=2) as url:
        platform.url = url
        yield platform


@pytest.fixture(scope="module")
def tool_key(tmp_path_factory):
    return ToolKey.load_or_create(tmp_path_factory.mktemp("tool") / "key.pem")


@pytest.fixture
def tool(platform, tool_key, tmp_path):
    settings = ToolSettings(platform_url=platform.url, client_id=CLIENT_ID, base_url=TOOL,
                            review_secret="s", db_file=str(tmp_path / "tool.sqlite"))
    return make_app(settings, key=tool_key)


@pytest.fixture
def browser(tool):
    return TestApp(tool)


def login_params(platform, **overrides):
    params = {"iss": platform.url, "login_hint": "learner-1", "target_link_uri": f"{TOOL}/launch",
              "lti_message_hint": "hint-1", "lti_deployment_id": "1", "client_id": CLIENT_ID}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def login(browser, platform) -> dict:
    answer = browser.get("/login", login_params(platform), status=302)
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.location).query).items()}


def launch(browser, token, state, status=200):
    return browser.post("/launch", {"id_token": token, "state": state}, status=status)


def refused(answer) -> str:
    return answer.headers["X-Sandbox-Error"]


def test_login_sends_the_browser_to_the_platform_with_a_bound_state_and_nonce(browser, platform):
    answer = browser.post("/login", login_params(platform), status=302)
    assert answer.location.startswith(f"{platform.url}/lti/authorize?")
    request = {k: v[0] for k, v in parse_qs(urlsplit(answer.location).query).items()}
    assert {k: request[k] for k in ("scope", "response_type", "response_mode", "prompt", "client_id",
                                    "redirect_uri", "login_hint", "lti_message_hint")} == {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
        "client_id": CLIENT_ID, "redirect_uri": f"{TOOL}/launch", "login_hint": "learner-1",
        "lti_message_hint": "hint-1"}
    assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32 and request["state"] != request["nonce"]
    cookie = answer.headers["Set-Cookie"]
    assert "proctorhub_sandbox=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(("override", "code"), [
    ({"iss": "https://evil.test"}, "unknown_issuer"),
    ({"login_hint": None}, "missing_login_hint"),
    ({"target_link_uri": "https://evil.test/launch"}, "invalid_target_link_uri"),
    ({"client_id": "someone-else"}, "unknown_client_id"),
    ({"lti_deployment_id": "2"}, "invalid_deployment_id"),
])
def test_login_refusals(browser, platform, override, code):
    assert refused(browser.get("/login", login_params(platform, **override), status=400)) == code


def test_valid_start_proctoring_launch_shows_the_proctoring_check(browser, platform):
    request = login(browser, platform)
    page = launch(browser, platform.id_token(request["nonce"]), request["state"])
    assert "Proctoring check" in page.text and "Start exam" in page.text and "Ada Learner" in page.text


def test_end_assessment_launch_shows_the_review_form(browser, platform):
    request = login(browser, platform)
    page = launch(browser, platform.id_token(request["nonce"], message_type="LtiEndAssessment",
                                             **{LTI + "custom": {"attempt_code": "code-from-platform"}}),
                  request["state"])
    assert "Exam ended" in page.text and 'value="code-from-platform"' in page.text
    for status in ("passed", "suspicious", "violation", "not_reviewed"):
        assert f'<option value="{status}"' in page.text


@pytest.mark.parametrize(("token_args", "code"), [
    ({"aud": "someone-else", "azp": DROP}, "invalid_audience"),
    ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "invalid_azp"),
    ({"iss": "https://evil.test"}, "invalid_issuer"),
    ({"exp": int(time.time()) - 120}, "expired_id_token"),
    ({"iat": int(time.time()) + 600}, "immature_id_token"),
    ({"sub": DROP}, "missing_claim"),
    ({"nonce": "another-nonce"}, "nonce_mismatch"),
    ({"algorithm": "HS256"}, "invalid_algorithm"),
    ({"algorithm": "RS512"}, "invalid_algorithm"),
    ({"kid": "no-such-kid"}, "unknown_kid"),
    ({"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)}, "invalid_signature"),
    ({"version": "1.1"}, "invalid_version"),
    ({"message_type": "LtiResourceLinkRequest"}, "invalid_message_type"),
    ({"deployment_id": "2"}, "invalid_deployment_id"),
    ({"target_link_uri": "https://evil.test/launch"}, "invalid_target_link_uri"),
    ({"session_data": DROP}, "missing_claim"),
    ({"start_assessment_url": DROP}, "missing_claim"),
    ({"start_assessment_url": "javascript:alert(1)"}, "invalid_start_assessment_url"),
    ({"attempt_number": "2"}, "missing_claim"),
    ({LTI + "resource_link": {"title": "no id"}}, "missing_claim"),
])
def test_launch_refusals_name_the_failed_check(browser, platform, token_args, code):
    request = login(browser, platform)
    nonce = token_args.pop("nonce", request["nonce"])
    answer = launch(browser, platform.id_token(nonce, **token_args), request["state"], status=400)
    assert refused(answer) == code
    assert "Start exam" not in answer.text


def test_state_must_come_from_this_browser(browser, tool, platform):
    request = login(browser, platform)
    other = TestApp(tool)
    token = platform.id_token(request["nonce"])
    assert refused(launch(other, token, request["state"], status=400)) == "state_mismatch"
    assert refused(launch(browser, token, "another-state", status=400)) == "state_mismatch"


def test_an_id_token_is_accepted_once_even_with_a_replayed_cookie(browser, platform):
    request = login(browser, platform)
    cookie = browser.cookies["proctorhub_sandbox"]
    token = platform.id_token(request["nonce"])
    launch(browser, token, request["state"])
    # The state is spent in the new cookie...
    assert refused(launch(browser, token, request["state"], status=400)) == "state_mismatch"
    # ...and with the old cookie put back, the nonce ledger still refuses it.
    browser.set_cookie("proctorhub_sandbox", cookie)
    assert refused(launch(browser, token, request["state"], status=400)) == "replayed_nonce"


def start_form(page) -> dict:
    form = page.forms[0]
    return {name: form[name].value for name in ("csrf_token", "launch")}


def test_start_exam_signs_lti_start_assessment_with_the_tool_key(browser, platform, tool_key):
    request = login(browser, platform)
    page = launch(browser, platform.id_token(request["nonce"]), request["state"])
    form = page.forms[0]
    form["end_assessment_return"] = False
    posted = form.submit(status=200)
    auto = posted.forms["auto-post"]
    assert auto.action == f"{platform.url}/lti/start-assessment"
    token = auto["JWT"].value
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == tool_key.kid
    jwks = browser.get("/jwks").json
    assert browser.get("/.well-known/jwks.json").json == jwks
    key = jwt.algorithms.RSAAlgorithm.from_jwk(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=platform.url, issuer=CLIENT_ID,
                        options={"require": ["iat", "exp", "nonce", "jti"]})
    assert claims[LTI + "message_type"] == "LtiStartAssessment" and claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == "1"
    assert claims[LTI + "resource_link"] == {"id": "final-exam", "title": "Final exam"}
    assert claims[AP + "attempt_number"] == 2 and claims[AP + "session_data"] == "session-data-123"
    assert claims[AP + "end_assessment_return"] is False
    assert claims[AP + "verified_user"] == {"name": "Ada Learner", "email": "ada@example.edu"}
    assert claims["nonce"] != request["nonce"] and 0 < claims["exp"] - claims["iat"] <= 300


def test_start_needs_this_browser_and_its_csrf_token(browser, tool, platform):
    request = login(browser, platform)
    fields = start_form(launch(browser, platform.id_token(request["nonce"]), request["state"]))
    answer = browser.post("/start", {"launch": fields["launch"]}, status=403)
    assert refused(answer) == "bad_csrf_token"
    other = TestApp(tool)
    other_csrf = other.get("/").forms[0]["csrf_token"].value
    assert refused(other.post("/start", {"launch": fields["launch"], "csrf_token": other_csrf},
                              status=400)) == "browser_mismatch"
    assert refused(browser.post("/start", {**fields, "launch": secrets.token_urlsafe(32)},
                                status=400)) == "unknown_launch"
    browser.post("/start", fields, status=200)
    assert refused(browser.post("/start", fields, status=400)) == "launch_used"


def test_an_end_assessment_launch_cannot_start_an_exam(browser, platform):
    request = login(browser, platform)
    page = launch(browser, platform.id_token(request["nonce"], message_type="LtiEndAssessment"), request["state"])
    launch_id = secrets.token_urlsafe(8)
    assert 'name="launch"' not in page.text
    csrf = page.forms[0]["csrf_token"].value
    assert refused(browser.post("/start", {"launch": launch_id, "csrf_token": csrf}, status=400)) == "unknown_launch"


def test_review_form_refuses_bad_input_before_posting(browser):
    csrf = browser.get("/").forms[0]["csrf_token"].value
    base = {"csrf_token": csrf, "attempt_code": "code", "status": "passed", "comment_1": "Phone",
            "comment_1_start": "1", "comment_1_stop": "2", "comment_1_status": "suspicious"}
    assert refused(browser.post("/review", {**base, "attempt_code": " "}, status=400)) == "invalid_review_form"
    assert refused(browser.post("/review", {**base, "status": "clean"}, status=400)) == "invalid_review_form"
    assert refused(browser.post("/review", {**base, "comment_1_start": "soon"}, status=400)) == "invalid_review_form"
    assert refused(browser.post("/review", {k: v for k, v in base.items() if k != "csrf_token"},
                                status=403)) == "bad_csrf_token"


def test_key_file_is_made_once_private_and_reloaded(tmp_path):
    path = tmp_path / "key.pem"
    made = ToolKey.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert ToolKey.load_or_create(path).kid == made.kid


def test_registration_prints_the_admin_configuration_body(capsys):
    assert cli.main(["registration", "--port", "7001", "--name", "My sandbox"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body == {"name": "My sandbox", "deployment_id": "1", "oidc_login_url": "http://localhost:7001/login",
                    "launch_url": "http://localhost:7001/launch", "redirect_uris": ["http://localhost:7001/launch"],
                    "jwks_url": "http://localhost:7001/jwks", "proctoring_enabled": True, "backend": "sandbox"}


def test_serve_requires_the_platform_and_client_id(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--port", "7001"])
    assert exit_info.value.code == 2
    assert "--platform" in capsys.readouterr().err


def test_platform_errors_sent_back_as_a_query_are_shown_and_id_tokens_only_accepted_posted(browser, platform):
    answer = browser.get("/launch", {"error": "access_denied", "error_description": "no session cookie",
                                     "state": "s"}, status=400)
    assert refused(answer) == "platform_refused" and "no session cookie" in answer.text
    request = login(browser, platform)
    answer = browser.get("/launch", {"id_token": platform.id_token(request["nonce"]), "state": request["state"]},
                         status=405)
    assert refused(answer) == "missing_id_token"


@pytest.mark.parametrize(("document", "status", "code"), [
    ({"keys": 5}, 502, "platform_jwks_unavailable"),  # once a 500
    ([1], 502, "platform_jwks_unavailable"),
    ({"keys": [{"kty": "RSA", "kid": [1]}]}, 400, "unknown_kid"),  # once a 500: an unhashable kid
    ({"keys": [{"kty": "RSA", "kid": "platform-key-1", "n": 5, "e": "AQAB"}]}, 400, "unknown_kid"),  # once a 500
])
def test_malformed_platform_jwks_is_refused_by_name(platform, tool_key, tmp_path, document, status, code):
    def jwks(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(document).encode()]

    with serve(jwks, threads=1) as url:
        settings = ToolSettings(platform_url=platform.url, client_id=CLIENT_ID, base_url=TOOL,
                                platform_jwks_url=url, db_file=str(tmp_path / "tool.sqlite"))
        browser = TestApp(make_app(settings, key=tool_key))
        request = login(browser, platform)
        answer = launch(browser, platform.id_token(request["nonce"]), request["state"], status=status)
    assert refused(answer) == code
