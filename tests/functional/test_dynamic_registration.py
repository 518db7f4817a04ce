"""LTI Dynamic Registration: discovery, starting a registration, the registration endpoint with
every refusal, approval, and a tool updating its registration.

The registering "tool" here is a client written from the specification alone: it posts the
specification's own example registration request, adapted to proctoring messages
(``registration_helpers.SPEC_REQUEST``). The sandbox tool registering itself over HTTP is in
``test_sandbox_registration.py``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from proctorhub.lti.keys import new_key
from proctorhub.models import AuditEntry, KeyState, Registration, ToolConfiguration, digest, utcnow

from .. import factories as f
from ..live import serve
from ..lti_tool import FakeTool, JwksServer
from .registration_helpers import (
    ACS_SCOPE,
    SPEC_REQUEST,
    TOOL_CONFIGURATION,
    register,
    spec_request,
    start_registration,
    tool_configuration,
)

ISSUER = "http://platform.test"
ACS_ACTIONS = ["pause", "resume", "terminate", "update", "flag"]


@pytest.fixture
def admin_token(dbsession):
    return f.token(dbsession, role="admin", name="admin program")


@pytest.fixture
def lms_token(dbsession):
    return f.token(dbsession, role="lms", name="lms")


def configurations(dbsession) -> list[ToolConfiguration]:
    dbsession.expire_all()
    return list(dbsession.execute(select(ToolConfiguration).order_by(ToolConfiguration.id)).scalars())


def registration_row(dbsession, registration_id) -> Registration:
    dbsession.expire_all()
    return dbsession.get(Registration, registration_id)


def launch(testapp, lms_token, config_id, status=201):
    body = {"config_id": config_id, "message_type": "LtiStartProctoring",
            "user": {"id": "learner-1", "role": "learner"}, "resource_link": {"id": "final-exam"},
            "context": {"id": "course-1"}, "attempt_number": 1, "return_url": "https://lms.example.edu/back"}
    return testapp.post_json("/api/v1/launches", body, headers=f.auth(lms_token), status=status).json


def approve(testapp, admin_token, config_id, decision="approve", status=200):
    return testapp.post(f"/admin/configurations/{config_id}/{decision}",
                        headers={"Authorization": f"Bearer {admin_token}", "Accept": "application/json"},
                        status=status).json


# -- discovery --------------------------------------------------------------------------------------


def test_openid_configuration_publishes_registration_and_the_proctoring_platform(testapp):
    document = testapp.get("/.well-known/openid-configuration").json
    assert document["issuer"] == ISSUER
    assert document["registration_endpoint"] == f"{ISSUER}/lti/register"
    assert document["authorization_endpoint"] == f"{ISSUER}/lti/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/lti/token"
    assert document["jwks_uri"] == f"{ISSUER}/lti/jwks"
    assert {"openid", ACS_SCOPE} <= set(document["scopes_supported"])
    assert document["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "RS256" in document["token_endpoint_auth_signing_alg_values_supported"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["response_types_supported"] == ["id_token"]
    assert document["subject_types_supported"] == ["public"]
    assert {"iss", "sub", "aud", "name", "given_name", "family_name", "email"} <= set(document["claims_supported"])
    platform = document["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert platform["product_family_code"] == "proctorhub" and platform["version"]
    assert {"type": "LtiStartProctoring"} in platform["messages_supported"]
    assert {"type": "LtiEndAssessment"} in platform["messages_supported"]
    assert all(isinstance(m, dict) and set(m) >= {"type"} for m in platform["messages_supported"])


# -- starting a registration --------------------------------------------------------------------------


def test_an_admin_starts_a_registration_with_a_one_time_token_stored_hashed(testapp, dbsession, admin_token):
    before = utcnow()
    answer = start_registration(testapp, admin_token)
    assert set(answer) >= {"id", "expires_at", "redirect_url"}
    assert answer["redirect_url"].startswith("https://client.example.org/register?lang=en&")
    assert answer["openid_configuration"] == f"{ISSUER}/.well-known/openid-configuration"
    token = answer["registration_token"]
    assert len(token) >= 40
    row = registration_row(dbsession, answer["id"])
    assert row.token_hash == digest(token) and token not in json.dumps(answer["id"])
    assert row.used_at is None and row.kind == "create" and row.started_by == "token:admin program"
    lifetime = row.expires_at - before
    assert dt.timedelta(seconds=3590) <= lifetime <= dt.timedelta(seconds=3610)
    assert dt.datetime.fromisoformat(answer["expires_at"]) == row.expires_at
    # Nothing else about the registration shows the token again.
    shown = testapp.get(f"/admin/registrations/{answer['id']}", headers=f.auth(admin_token)).json
    assert shown["status"] == "waiting" and token not in json.dumps(shown)


@pytest.mark.parametrize(("body", "field"), [
    ({"initiation_url": "javascript:alert(1)"}, "initiation_url"),
    ({"initiation_url": "http://tool.example.org/register"}, "initiation_url"),
    ({}, "initiation_url"),
    ({"initiation_url": "https://tool.example.org/r", "backend": "nope"}, "backend"),
    ({"initiation_url": "https://tool.example.org/r", "surprise": 1}, "(body)"),
])
def test_starting_a_registration_refuses_bad_input(testapp, dbsession, admin_token, body, field):
    error = testapp.post_json("/admin/registrations/", body, headers=f.auth(admin_token), status=400).json["error"]
    assert error["code"] == "invalid_payload" and field in error["details"]["fields"]
    assert dbsession.execute(select(func.count()).select_from(Registration)).scalar_one() == 0


def test_only_admins_start_registrations(testapp, dbsession, lms_token):
    reviewer = f.token(dbsession, role="reviewer", name="reviewer")
    body = {"initiation_url": "https://tool.example.org/r"}
    assert testapp.post_json("/admin/registrations/", body, headers=f.auth(reviewer), status=403)
    assert testapp.post_json("/admin/registrations/", body, headers=f.auth(lms_token), status=403)
    assert testapp.post_json("/admin/registrations/", body, status=401)
    assert dbsession.execute(select(func.count()).select_from(Registration)).scalar_one() == 0


# -- a client written from the specification registers ---------------------------------------------------


def test_the_specification_example_registers_pending_until_approved(testapp, dbsession, admin_token, lms_token):
    started = start_registration(testapp, admin_token, backend="rest")
    answer = register(testapp, started["registration_token"], SPEC_REQUEST)
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json
    (configuration,) = configurations(dbsession)
    assert body["client_id"] == configuration.client_id
    assert body[TOOL_CONFIGURATION]["deployment_id"] == configuration.deployment_id
    assert body["client_name"] == "Virtual Garden" and body["scope"] == ACS_SCOPE
    assert body["redirect_uris"] == SPEC_REQUEST["redirect_uris"]
    assert configuration.status == "pending" and configuration.name == "Virtual Garden"
    assert (configuration.oidc_login_url, configuration.launch_url, configuration.jwks_url) == (
        "https://client.example.org/lti", "https://client.example.org/lti",
        "https://client.example.org/.well-known/jwks.json")
    assert configuration.redirect_uris == SPEC_REQUEST["redirect_uris"]
    assert configuration.acs_actions == ACS_ACTIONS and configuration.backend == "rest"
    assert configuration.registration["scopes"] == [ACS_SCOPE]
    assert [m["type"] for m in configuration.registration["messages"]] == ["LtiStartProctoring", "LtiEndAssessment"]
    assert configuration.registration["metadata"]["client_name#ja"] == "バーチャルガーデン"
    row = registration_row(dbsession, started["id"])
    assert row.used_at is not None and row.configuration_id == configuration.id
    assert dbsession.execute(select(AuditEntry.action).where(AuditEntry.object_type == "configuration")).scalars(
    ).all() == ["register"]

    # The token is spent: a second use is 401 and creates nothing.
    again = register(testapp, started["registration_token"], SPEC_REQUEST, status=401)
    assert again.json["error"]["code"] == "registration_token_used"
    assert "invalid_token" in again.headers["WWW-Authenticate"]
    assert len(configurations(dbsession)) == 1

    # Pending: no launch.
    refused = launch(testapp, lms_token, configuration.id, status=412)["error"]
    assert refused["code"] == "configuration_pending"
    # The admin sees what the tool asked for, then approves; launches work.
    shown = testapp.get(f"/admin/configurations/{configuration.id}", headers=f.auth(admin_token)).json
    assert shown["status"] == "pending" and shown["registration"]["scopes"] == [ACS_SCOPE]
    approved = approve(testapp, admin_token, configuration.id)
    assert approved["status"] == "active"
    assert launch(testapp, lms_token, configuration.id)["launch_url"].startswith(f"{ISSUER}/lti/launch/")
    assert approve(testapp, admin_token, configuration.id, status=409)["error"]["code"] == "nothing_to_approve"


def test_a_rejected_registration_never_launches(testapp, dbsession, admin_token, lms_token):
    started = start_registration(testapp, admin_token)
    register(testapp, started["registration_token"], SPEC_REQUEST)
    (configuration,) = configurations(dbsession)
    assert approve(testapp, admin_token, configuration.id, "reject")["status"] == "rejected"
    assert launch(testapp, lms_token, configuration.id, status=412)["error"]["code"] == "configuration_rejected"
    assert approve(testapp, admin_token, configuration.id, status=409)["error"]["code"] == "nothing_to_approve"
    # A rejected tool cannot be updated through a new registration either.
    refused = start_registration(testapp, admin_token, configuration_id=configuration.id, status=409)
    assert refused["error"]["code"] == "configuration_rejected"


def test_two_registrations_of_one_product_get_two_names(testapp, dbsession, admin_token):
    for _ in range(2):
        register(testapp, start_registration(testapp, admin_token)["registration_token"], SPEC_REQUEST)
    assert [c.name for c in configurations(dbsession)] == ["Virtual Garden", "Virtual Garden (2)"]
    assert len({c.client_id for c in configurations(dbsession)}) == 2


def test_each_message_is_launched_at_its_own_target_link_uri(testapp, dbsession, admin_token, lms_token):
    tool = tool_configuration(messages=[
        {"type": "LtiStartProctoring", "target_link_uri": "https://client.example.org/lti/proctor"},
        {"type": "LtiEndAssessment", "target_link_uri": "https://client.example.org/lti/end"}])
    register(testapp, start_registration(testapp, admin_token)["registration_token"], spec_request(tool=tool))
    (configuration,) = configurations(dbsession)
    assert configuration.launch_url == "https://client.example.org/lti/proctor"
    assert configuration.end_assessment_url == "https://client.example.org/lti/end"
    approve(testapp, admin_token, configuration.id)
    exam = f.exam(dbsession, context_id="course-1", resource_link_id="final-exam", configuration_id=configuration.id)
    f.attempt(dbsession, exam, status="submitted", end_assessment_return=True)
    for message_type, target in [("LtiEndAssessment", "https://client.example.org/lti/end"),
                                 ("LtiStartProctoring", "https://client.example.org/lti/proctor")]:
        body = {"config_id": configuration.id, "message_type": message_type,
                "user": {"id": "learner-1", "role": "learner"}, "resource_link": {"id": "final-exam"},
                "context": {"id": "course-1"}, "attempt_number": 1 if message_type == "LtiEndAssessment" else 2,
                "return_url": "https://lms.example.edu/back"}
        answer = testapp.post_json("/api/v1/launches", body, headers=f.auth(lms_token), status=201).json
        entered = TestApp(testapp.app).get(answer["launch_url"].replace(ISSUER, ""), status=302)
        assert parse_qs(urlsplit(entered.location).query)["target_link_uri"] == [target]


def test_a_registration_without_a_client_name_is_named_by_its_domain(testapp, dbsession, admin_token):
    register(testapp, start_registration(testapp, admin_token)["registration_token"], spec_request(client_name=None))
    assert [c.name for c in configurations(dbsession)] == ["client.example.org"]


def test_a_registration_without_the_acs_scope_offers_no_acs(testapp, dbsession, admin_token):
    register(testapp, start_registration(testapp, admin_token)["registration_token"], spec_request(scope=None))
    (configuration,) = configurations(dbsession)
    assert configuration.acs_actions == [] and configuration.registration["scopes"] == []


# -- every bad input, refused with its own code, nothing created, the token still unspent ------------------


BAD_REQUESTS = [
    ("missing field", spec_request(jwks_uri=None), "missing_client_metadata", "jwks_uri"),
    ("missing tool configuration", spec_request(tool=None), "missing_client_metadata", TOOL_CONFIGURATION),
    ("missing domain", spec_request(tool=tool_configuration(domain=None)), "missing_client_metadata",
     f"{TOOL_CONFIGURATION}.domain"),
    ("wrong auth method", spec_request(token_endpoint_auth_method="client_secret_basic"),
     "invalid_token_endpoint_auth_method", "token_endpoint_auth_method"),
    ("non-https redirect URI", spec_request(redirect_uris=["http://client.example.org/callback"]),
     "invalid_redirect_uri", "redirect_uris.0"),
    ("unsupported message type", spec_request(tool=tool_configuration(messages=[
        {"type": "LtiStartProctoring"}, {"type": "LtiDeepLinkingRequest"}])), "unsupported_message_type",
     f"{TOOL_CONFIGURATION}.messages.1.type"),
    ("scope not offered", spec_request(scope=f"{ACS_SCOPE} https://purl.imsglobal.org/spec/lti-ags/scope/score"),
     "invalid_scope", "scope"),
    ("application type", spec_request(application_type="native"), "invalid_application_type", "application_type"),
    ("response types", spec_request(response_types=["code"]), "invalid_response_types", "response_types"),
    ("grant types", spec_request(grant_types=["implicit"]), "invalid_grant_types", "grant_types"),
    ("URL outside the domain", spec_request(initiate_login_uri="https://elsewhere.example.net/lti"),
     "domain_mismatch", "initiate_login_uri"),
    ("no LtiStartProctoring", spec_request(tool=tool_configuration(messages=[{"type": "LtiEndAssessment"}])),
     "missing_start_proctoring", f"{TOOL_CONFIGURATION}.messages"),
    ("end assessment outside the domain", spec_request(tool=tool_configuration(messages=[
        {"type": "LtiStartProctoring"},
        {"type": "LtiEndAssessment", "target_link_uri": "https://elsewhere.example.net/end"}])),
     "domain_mismatch", f"{TOOL_CONFIGURATION}.messages.1.target_link_uri"),
    ("redirect URIs not a list", spec_request(redirect_uris="https://client.example.org/callback"),
     "invalid_client_metadata", "redirect_uris"),
    ("script logo", spec_request(logo_uri="javascript:alert(1)"), "invalid_url", "logo_uri"),
    ("JWKS URL with a fragment", spec_request(jwks_uri="https://client.example.org/jwks#x"), "invalid_url",
     "jwks_uri"),
    ("login URL with CR/LF", spec_request(initiate_login_uri="https://client.example.org/lti\r\nX: 1"),
     "invalid_url", "initiate_login_uri"),
]


@pytest.mark.parametrize(("body", "code", "field"), [case[1:] for case in BAD_REQUESTS],
                         ids=[case[0] for case in BAD_REQUESTS])
def test_bad_registration_requests_are_refused_by_name(testapp, dbsession, admin_token, body, code, field):
    started = start_registration(testapp, admin_token)
    error = register(testapp, started["registration_token"], body, status=400).json["error"]
    assert error["code"] == code and error["status"] == 400
    assert field in error["details"]["fields"], error
    assert configurations(dbsession) == []
    assert registration_row(dbsession, started["id"]).used_at is None
    # The refusal left the token unspent: the tool may correct its request and send it again.
    register(testapp, started["registration_token"], SPEC_REQUEST)
    assert len(configurations(dbsession)) == 1


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'{"client_name": "x\\u0000"}'])
def test_a_body_that_is_not_a_json_object_is_400(testapp, dbsession, admin_token, body):
    started = start_registration(testapp, admin_token)
    assert register(testapp, started["registration_token"], body, status=400).json["error"]["code"] == (
        "invalid_payload")
    assert configurations(dbsession) == [] and registration_row(dbsession, started["id"]).used_at is None


def test_a_body_over_the_size_limit_is_413(testapp, dbsession, admin_token):
    started = start_registration(testapp, admin_token)
    body = spec_request(contacts=[f"person{i}@example.org" for i in range(4000)])
    assert len(json.dumps(body)) > 65536
    error = register(testapp, started["registration_token"], body, status=413).json["error"]
    assert error["code"] == "payload_too_large"
    assert configurations(dbsession) == [] and registration_row(dbsession, started["id"]).used_at is None


@pytest.mark.parametrize(("url_field", "value"), [
    ("jwks_uri", "https://10.0.0.5/.well-known/jwks.json"),
    ("initiate_login_uri", "https://127.0.0.1/lti"),
    ("redirect_uris", ["https://169.254.169.254/latest/meta-data"]),
    ("redirect_uris", ["https://[::1]/callback"]),
])
def test_urls_pointing_to_private_addresses_are_refused(make_app, dbsession, admin_token, url_field, value):
    testapp = make_app(**{"proctorhub.outbound.allow_private_addresses": "false"})
    started = start_registration(testapp, admin_token)
    host = "[::1]" if "[::1]" in str(value) else str(value).split("/")[2]
    body = spec_request(**{url_field: value}, tool=tool_configuration(domain=host))
    if url_field != "initiate_login_uri":
        body["initiate_login_uri"] = f"https://{host}/lti"
    body[TOOL_CONFIGURATION]["target_link_uri"] = f"https://{host}/lti"
    body[TOOL_CONFIGURATION]["messages"] = [{"type": "LtiStartProctoring"}]
    body["redirect_uris"] = value if url_field == "redirect_uris" else [f"https://{host}/callback"]
    error = register(testapp, started["registration_token"], body, status=400).json["error"]
    assert error["code"] == "private_address"
    assert configurations(dbsession) == [] and registration_row(dbsession, started["id"]).used_at is None


# -- the registration token ------------------------------------------------------------------------------


def test_registration_tokens_missing_unknown_expired_or_reused_are_401(testapp, dbsession, admin_token):
    started = start_registration(testapp, admin_token)
    for token, code in [(None, "missing_registration_token"), ("", "missing_registration_token"),
                        ("not-a-token-we-issued", "invalid_registration_token")]:
        answer = register(testapp, token, SPEC_REQUEST, status=401)
        assert answer.json["error"]["code"] == code and answer.headers["WWW-Authenticate"].startswith("Bearer")
    # An admin API token is no registration token.
    assert register(testapp, admin_token, SPEC_REQUEST, status=401).json["error"]["code"] == (
        "invalid_registration_token")
    row = registration_row(dbsession, started["id"])
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    dbsession.commit()
    expired = register(testapp, started["registration_token"], SPEC_REQUEST, status=401).json["error"]
    assert expired["code"] == "registration_token_expired"
    assert testapp.get(f"/admin/registrations/{started['id']}", headers=f.auth(admin_token)).json["status"] == (
        "expired")
    assert configurations(dbsession) == []


# -- a tool updates its registration ------------------------------------------------------------------------


def test_a_new_registration_of_a_known_tool_waits_for_approval_and_keeps_the_live_values(
        testapp, dbsession, admin_token, lms_token):
    configuration = f.configuration(dbsession, oidc_login_url="https://client.example.org/lti",
                                    launch_url="https://client.example.org/lti",
                                    redirect_uris=["https://client.example.org/callback"],
                                    jwks_url="https://client.example.org/old-jwks.json", acs_actions=[])
    live = (configuration.client_id, configuration.deployment_id, configuration.jwks_url, configuration.name)
    started = start_registration(testapp, admin_token, configuration_id=configuration.id)
    assert started["kind"] == "update" and started["configuration_id"] == configuration.id
    body = register(testapp, started["registration_token"], SPEC_REQUEST).json
    # The tool keeps its client_id and deployment.
    assert (body["client_id"], body[TOOL_CONFIGURATION]["deployment_id"]) == live[:2]
    (row,) = configurations(dbsession)
    assert (row.client_id, row.deployment_id, row.jwks_url, row.name) == live
    assert row.status == "active" and row.acs_actions == []
    assert row.pending_update["values"]["jwks_url"] == SPEC_REQUEST["jwks_uri"]
    # The live values still launch while the update waits.
    launch(testapp, lms_token, row.id)
    listed = testapp.get("/admin/configurations/", headers=f.auth(admin_token)).json["configurations"]
    assert listed[0]["pending_update"] is not None

    approved = approve(testapp, admin_token, row.id)
    assert approved["jwks_url"] == SPEC_REQUEST["jwks_uri"] and approved["acs_actions"] == ACS_ACTIONS
    assert approved["redirect_uris"] == SPEC_REQUEST["redirect_uris"] and approved["pending_update"] is None
    assert approved["client_id"] == live[0] and approved["registration"]["client_name"] == "Virtual Garden"
    actions = dbsession.execute(select(AuditEntry.action).where(AuditEntry.object_type == "configuration")
                                .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["registration_update", "approve"]


def test_a_rejected_update_leaves_the_configuration_as_it_was(testapp, dbsession, admin_token):
    configuration = f.configuration(dbsession, jwks_url="https://client.example.org/old-jwks.json")
    started = start_registration(testapp, admin_token, configuration_id=configuration.id)
    register(testapp, started["registration_token"], SPEC_REQUEST)
    rejected = approve(testapp, admin_token, configuration.id, "reject")
    assert rejected["status"] == "active" and rejected["pending_update"] is None
    assert rejected["jwks_url"] == "https://client.example.org/old-jwks.json"


def test_a_registration_for_an_unknown_configuration_is_404(testapp, dbsession, admin_token):
    error = start_registration(testapp, admin_token, configuration_id=999, status=404)["error"]
    assert error["code"] == "unknown_configuration"
    assert dbsession.execute(select(func.count()).select_from(Registration)).scalar_one() == 0


def test_one_token_sent_by_several_requests_at_once_registers_once(app, dbsession, admin_token):
    """The token is spent by a conditional update in the registering transaction: of eight
    requests sent at the same moment, one registers and the others are 401."""
    senders = 8
    started = start_registration(TestApp(app), admin_token)
    body = json.dumps(SPEC_REQUEST).encode()
    headers = {"Authorization": f"Bearer {started['registration_token']}", "Content-Type": "application/json"}
    barrier = threading.Barrier(senders)
    statuses: list = [None] * senders

    with serve(app, threads=senders) as url:
        parts = urlsplit(url)

        def send(index):
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            connection.connect()
            barrier.wait()
            connection.request("POST", "/lti/register", body=body, headers=headers)
            response = connection.getresponse()
            statuses[index] = (response.status, json.loads(response.read()))
            connection.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)

    assert sorted(status for status, _ in statuses) == [200] + [401] * (senders - 1)
    assert {answer["error"]["code"] for status, answer in statuses if status == 401} == {"registration_token_used"}
    (configuration,) = configurations(dbsession)
    (client_id,) = [answer["client_id"] for status, answer in statuses if status == 200]
    assert configuration.client_id == client_id


def test_a_pending_tool_gets_no_acs_token_until_approved(testapp, dbsession, admin_token, encryptor):
    """The tool asked for the ACS scope and signs a valid client assertion with the key at its
    registered jwks_uri: while pending, the token endpoint refuses it; once approved, it answers."""
    dbsession.add(new_key(KeyState.active, encryptor))
    dbsession.commit()
    tool = FakeTool()
    with JwksServer(tool.jwks()) as jwks:
        base = jwks.url.rsplit("/", 1)[0]
        host = urlsplit(base).hostname
        body = spec_request(initiate_login_uri=f"{base}/login", redirect_uris=[f"{base}/launch"], jwks_uri=jwks.url,
                            tool=tool_configuration(domain=host, target_link_uri=f"{base}/launch",
                                                    messages=[{"type": "LtiStartProctoring"}]))
        register(testapp, start_registration(testapp, admin_token)["registration_token"], body)
        (configuration,) = configurations(dbsession)
        assert configuration.status == "pending" and configuration.acs_actions == ACS_ACTIONS

        def token_request():
            return testapp.post("/lti/token", {
                "grant_type": "client_credentials", "scope": ACS_SCOPE,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": tool.client_assertion(configuration.client_id, f"{ISSUER}/lti/token")},
                expect_errors=True)

        refused = token_request()
        assert refused.status_int in (400, 401) and "unauthorized_client" in refused.text
        assert "access_token" not in refused.json
        approve(testapp, admin_token, configuration.id)
        granted = token_request()
        assert granted.status_int == 200 and granted.json["access_token"]
