"""Shared by the Dynamic Registration tests: a registration request built from the LTI Dynamic
Registration 1.0 specification's own example (section 3.5.2, the "Virtual Garden" tool), adapted
to a proctoring tool, and a way to start registrations as an admin."""

from __future__ import annotations

import copy
from urllib.parse import parse_qs, urlsplit

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
ACS_SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"

# The specification's example registration request, as it reads there (its grant type is spelled
# "implict"), with two changes for proctoring: the messages are LtiStartProctoring and
# LtiEndAssessment instead of LtiDeepLinkingRequest, and the scope is the Assessment Control
# Service's instead of the Assignment and Grade and Names and Roles services'.
SPEC_REQUEST = {
    "application_type": "web",
    "response_types": ["id_token"],
    "grant_types": ["implict", "client_credentials"],
    "initiate_login_uri": "https://client.example.org/lti",
    "redirect_uris": ["https://client.example.org/callback", "https://client.example.org/callback2"],
    "client_name": "Virtual Garden",
    "client_name#ja": "バーチャルガーデン",
    "jwks_uri": "https://client.example.org/.well-known/jwks.json",
    "logo_uri": "https://client.example.org/logo.png",
    "policy_uri": "https://client.example.org/privacy",
    "policy_uri#ja": "https://client.example.org/privacy?lang=ja",
    "tos_uri": "https://client.example.org/tos",
    "tos_uri#ja": "https://client.example.org/tos?lang=ja",
    "token_endpoint_auth_method": "private_key_jwt",
    "contacts": ["ve7jtb@example.org", "mary@example.org"],
    "scope": ACS_SCOPE,
    TOOL_CONFIGURATION: {
        "domain": "client.example.org",
        "description": "Learn Botany by tending to your little (virtual) garden.",
        "description#ja": "小さな（仮想）庭に行くことで植物学を学びましょう。",
        "target_link_uri": "https://client.example.org/lti",
        "custom_parameters": {"context_history": "$Context.id.history"},
        "claims": ["iss", "sub", "name", "given_name", "family_name"],
        "messages": [
            {"type": "LtiStartProctoring", "target_link_uri": "https://client.example.org/lti",
             "label": "Proctor this exam", "label#ja": "この試験を監督する"},
            {"type": "LtiEndAssessment"},
        ],
    },
}


def spec_request(**changes) -> dict:
    """A deep copy of ``SPEC_REQUEST``; ``changes`` replace top-level members (None removes one)."""
    body = copy.deepcopy(SPEC_REQUEST)
    for key, value in changes.items():
        key = TOOL_CONFIGURATION if key == "tool" else key
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def tool_configuration(**changes) -> dict:
    tool = copy.deepcopy(SPEC_REQUEST[TOOL_CONFIGURATION])
    for key, value in changes.items():
        if value is None:
            tool.pop(key, None)
        else:
            tool[key] = value
    return tool


def start_registration(testapp, admin_token: str, initiation_url="https://client.example.org/register?lang=en",
                       status=201, **extra) -> dict:
    """``POST /admin/registrations/`` as an admin program; the answer plus the ``registration_token``."""
    answer = testapp.post_json("/admin/registrations/", {"initiation_url": initiation_url, **extra},
                               headers={"Authorization": f"Bearer {admin_token}", "Accept": "application/json"},
                               status=status).json
    if status == 201:
        query = parse_qs(urlsplit(answer["redirect_url"]).query)
        answer["registration_token"] = query["registration_token"][0]
        answer["openid_configuration"] = query["openid_configuration"][0]
    return answer


def register(testapp, token: str | None, body, status=200, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(body, dict):
        return testapp.post_json("/lti/register", body, headers=headers, status=status, **kw)
    return testapp.post("/lti/register", body, headers={**headers, "Content-Type": "application/json"},
                        status=status, **kw)
