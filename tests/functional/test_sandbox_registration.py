"""The sandbox tool registers itself (LTI Dynamic Registration) against a running proctorhub, an
admin approves it, and a whole proctoring launch with the Assessment Control Service then works.

Nothing is typed by hand: the admin program starts the registration with the tool's initiation
URL; the admin's browser (``requests``) opens the redirect URL; the tool reads proctorhub's
OpenID configuration and posts its metadata over real HTTP, keeps the client_id and deployment_id
it is given, and answers with the page that posts ``org.imsglobal.lti.close``. Every server
listens on 127.0.0.1 (waitress).
"""

from __future__ import annotations

import secrets
import time

import jwt
import pytest
import requests
from proctorhub_sandbox.app import make_app
from proctorhub_sandbox.keys import ToolKey
from proctorhub_sandbox.settings import ToolSettings
from sqlalchemy import select

from proctorhub import main
from proctorhub.lti.keys import new_key
from proctorhub.models import KeyState, Registration, Review, ToolConfiguration

from .. import factories as f
from ..live import serve
from .sandbox_browser import Browser
from .test_sandbox import Deferred, World, _lms_page, attempt_row, start_exam

ACS_SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"
ACS_TYPE = "application/vnd.ims.lti-ap.v1.control+json"


@pytest.fixture(scope="module")
def sandbox_key(tmp_path_factory):
    return ToolKey.load_or_create(tmp_path_factory.mktemp("sandbox-registration") / "key.pem")


@pytest.fixture
def servers(base_settings, dbengine, dbsession, sandbox_key, tmp_path, encryptor):
    """proctorhub, the sandbox tool (started with no client_id) and an LMS page, on 127.0.0.1."""
    platform_app, tool_app = Deferred(), Deferred()
    with serve(platform_app) as platform, serve(tool_app) as tool, serve(_lms_page, threads=2) as lms:
        platform_app.app = main({}, **{**base_settings, "proctorhub.issuer": platform})
        dbsession.add(new_key(KeyState.active, encryptor))
        dbsession.commit()
        settings = ToolSettings(platform_url=platform, base_url=tool, review_secret=f.SECRETS["sandbox"],
                                db_file=str(tmp_path / "sandbox.sqlite"))
        tool_app.app = make_app(settings, key=sandbox_key)
        yield platform, tool, lms, tool_app.app.registry.tool
    platform_app.app.registry["dbengine"].dispose()


def admin_post(platform, admin, path, body=None, status=200):
    answer = requests.post(f"{platform}{path}", json=body, timeout=30,
                           headers={"Authorization": f"Bearer {admin}", "Accept": "application/json"})
    assert answer.status_code == status, answer.text
    return answer.json()


def acs(platform, access_token, action, **extra):
    body = {"user": {"sub": "learner-1"}, "resource_link": {"id": "final-exam"}, "attempt_number": 1,
            "action": action, "incident_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "incident_severity": 0.2, "reason_code": "12056", "reason_msg": "Background noise", **extra}
    answer = requests.post(f"{platform}/lti/acs", json=body, timeout=30, headers={
        "Authorization": f"Bearer {access_token}", "Content-Type": ACS_TYPE, "Accept": ACS_TYPE})
    assert answer.status_code == 200, answer.text
    return answer


def acs_access_token(platform, tool, client_id) -> str:
    """The tool's client credentials grant, with an assertion signed by the tool's own key."""
    now = int(time.time())
    token_url = f"{platform}/lti/token"
    assertion = tool.key.sign({"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 300,
                               "jti": secrets.token_urlsafe(16)})
    answer = requests.post(token_url, timeout=30, data={
        "grant_type": "client_credentials", "scope": ACS_SCOPE,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_the_sandbox_registers_itself_is_approved_and_proctors_an_exam_with_acs(servers, dbsession):
    platform, tool_url, lms, tool = servers
    admin = f.token(dbsession, role="admin", name="admin program")
    lms_token = f.token(dbsession, role="lms", name="lms")

    # 1. The admin starts a registration with the tool's initiation URL; the browser opens it.
    started = admin_post(platform, admin, "/admin/registrations/",
                         {"initiation_url": f"{tool_url}/register", "backend": "sandbox"}, status=201)
    admin_browser = Browser()
    page = admin_browser.get(started["redirect_url"])
    assert page.status_code == 200, page.text
    assert "org.imsglobal.lti.close" in page.text and "(window.opener || window.parent)" in page.text

    # 2. The tool registered: a pending configuration with what it asked for; it kept its client_id.
    dbsession.expire_all()
    configuration = dbsession.execute(select(ToolConfiguration)).scalar_one()
    client = tool.client()
    assert (client.client_id, client.deployment_id) == (configuration.client_id, configuration.deployment_id)
    assert configuration.client_id in page.text
    assert configuration.status == "pending" and configuration.backend == "sandbox"
    assert (configuration.oidc_login_url, configuration.launch_url, configuration.jwks_url) == (
        f"{tool_url}/login", f"{tool_url}/launch", f"{tool_url}/jwks")
    assert configuration.redirect_uris == [f"{tool_url}/launch"]
    assert configuration.registration["scopes"] == [ACS_SCOPE]
    assert [m["type"] for m in configuration.registration["messages"]] == ["LtiStartProctoring", "LtiEndAssessment"]
    assert dbsession.execute(select(Registration)).scalar_one().used_at is not None
    # The registration URL worked once.
    assert admin_browser.get(started["redirect_url"]).headers["X-Sandbox-Error"] == "registration_refused"

    world = World(platform, tool_url, lms, configuration, lms_token)
    refused = requests.post(f"{platform}/api/v1/launches", headers=world.headers, timeout=30, json={
        "config_id": configuration.id, "message_type": "LtiStartProctoring",
        "user": {"id": "learner-1", "role": "learner"}, "resource_link": {"id": "final-exam"},
        "context": {"id": "course-1"}, "attempt_number": 1, "return_url": world.return_url})
    assert refused.status_code == 412 and refused.json()["error"]["code"] == "configuration_pending"

    # 3. The admin approves; the whole flow runs with the values the tool registered.
    assert admin_post(platform, admin, f"/admin/configurations/{configuration.id}/approve")["status"] == "active"
    learner = Browser()
    code = start_exam(world, learner, dbsession)
    assert attempt_row(dbsession, code).status == "started"

    # 4. The tool uses the Assessment Control Service it asked for: pause, then resume.
    access_token = acs_access_token(platform, tool, client.client_id)
    claims = jwt.decode(access_token, options={"verify_signature": False})
    assert claims["sub"] == client.client_id
    acs(platform, access_token, "pause")
    assert attempt_row(dbsession, code).status == "paused"
    acs(platform, access_token, "resume")
    assert attempt_row(dbsession, code).status == "started"

    # 5. The end of the exam and the vendor's review, as with a configuration made by hand.
    assert world.submit_attempt(code)["end_assessment_return"] is True
    end = world.launch("LtiEndAssessment")
    ended = learner.submit(learner.get(end["launch_url"]))
    assert ended.status_code == 200 and "Exam ended" in ended.text, ended.text
    result = learner.submit(ended, attempt_code=code, status="passed")
    assert result.status_code == 200 and 'id="attempt-status">verified<' in result.text, result.text
    dbsession.expire_all()
    assert dbsession.execute(select(Review.backend)).scalar_one() == "sandbox"


def test_the_sandbox_registers_only_with_its_own_platform(servers, dbsession):
    platform, tool_url, _lms, tool = servers
    browser = Browser()
    for query, code in [("", "missing_openid_configuration"),
                        ("?openid_configuration=https://evil.example/.well-known/openid-configuration"
                         "&registration_token=x", "untrusted_platform")]:
        answer = browser.get(f"{tool_url}/register{query}")
        assert answer.status_code == 400 and answer.headers["X-Sandbox-Error"] == code
    # Before it registered, the tool refuses launches by name.
    answer = browser.get(f"{tool_url}/login?iss={platform}&login_hint=x&target_link_uri={tool_url}/launch")
    assert answer.status_code == 409 and answer.headers["X-Sandbox-Error"] == "not_registered"
    assert dbsession.execute(select(ToolConfiguration)).first() is None
