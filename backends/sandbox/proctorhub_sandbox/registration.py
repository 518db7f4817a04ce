"""LTI Dynamic Registration, the tool's side: read the platform's OpenID configuration, post the
tool's client metadata to its registration endpoint, keep the client_id and deployment_id it
answers.

The tool registers only with the platform it was started for (``--platform``): the OpenID
configuration must come from that platform's host and name its issuer, so a registration URL
crafted by someone else cannot make the tool trust another platform.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from . import claims as c
from .errors import ToolError

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
ACS_SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"
TIMEOUT_SECONDS = 10
#: What the tool must find in the platform's configuration before it registers.
REQUIRED_ENDPOINTS = ("issuer", "registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri")


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _message_types(platform: dict) -> set[str]:
    """``messages_supported`` as objects with ``type`` (or, as some platforms send it, plain strings)."""
    supported = platform.get("messages_supported") or []
    return {m.get("type") if isinstance(m, dict) else m for m in supported if isinstance(m, dict | str)}


def fetch_platform_configuration(url: str, settings) -> dict:
    """The platform's OpenID configuration, checked to be the one of the platform this tool trusts."""
    if not url:
        raise ToolError("missing_openid_configuration", "the registration URL has no openid_configuration")
    if _host(url) != _host(settings.platform_url):
        raise ToolError("untrusted_platform", f"this tool registers only with {settings.platform_url}, not {url}")
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"},
                                allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ToolError("platform_configuration_unavailable", f"the platform's OpenID configuration at {url} could "
                        f"not be read: {exc}", status=502) from None
    if not isinstance(document, dict):
        raise ToolError("invalid_platform_configuration", "the platform's OpenID configuration is not a JSON object",
                        status=502)
    missing = [name for name in REQUIRED_ENDPOINTS if not isinstance(document.get(name), str) or not document[name]]
    if missing:
        raise ToolError("invalid_platform_configuration", f"the platform's OpenID configuration lacks "
                        f"{', '.join(missing)}", status=502)
    if document["issuer"].rstrip("/") != settings.issuer:
        raise ToolError("untrusted_platform", f"the OpenID configuration's issuer is {document['issuer']!r}, not "
                        f"the platform this tool trusts ({settings.issuer})")
    if _host(document["registration_endpoint"]) != _host(url):
        raise ToolError("invalid_platform_configuration", "the registration endpoint is not on the platform's host",
                        status=502)
    platform = document.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform, dict) or c.START_PROCTORING not in _message_types(platform):
        raise ToolError("unsupported_platform", "the platform does not offer LtiStartProctoring launches", status=502)
    return document


def client_metadata(settings, document: dict) -> dict:
    """The tool's registration request: OpenID client metadata and its LTI tool configuration."""
    platform = document[PLATFORM_CONFIGURATION]
    messages = [{"type": c.START_PROCTORING, "target_link_uri": settings.launch_url, "label": "Proctoring check"}]
    if c.END_ASSESSMENT in _message_types(platform):
        messages.append({"type": c.END_ASSESSMENT, "target_link_uri": settings.launch_url, "label": "Exam ended"})
    scopes = [ACS_SCOPE] if ACS_SCOPE in (document.get("scopes_supported") or []) else []
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": settings.login_url,
        "redirect_uris": [settings.launch_url],
        "client_name": settings.name,
        "jwks_uri": settings.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(settings.base_url).netloc,
            "target_link_uri": settings.launch_url,
            "description": "A local stand-in for an online-proctoring vendor (proctorhub's sandbox).",
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": messages,
            # The platform fills this in each launch: the review form needs no pasted attempt code.
            "custom_parameters": {"attempt_code": "$Attempt.code"},
        },
    }


def register(settings, store, openid_configuration: str, registration_token: str | None) -> dict:
    """Register the tool with the platform; keep and answer its client_id and deployment_id."""
    document = fetch_platform_configuration(openid_configuration, settings)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        response = requests.post(document["registration_endpoint"], json=client_metadata(settings, document),
                                 headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        raise ToolError("registration_failed", f"the platform's registration endpoint could not be reached: {exc}",
                        status=502) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        detail = error.get("message") if isinstance(error, dict) else response.text[:500]
        raise ToolError("registration_refused", f"the platform refused the registration (HTTP "
                        f"{response.status_code}): {detail}", status=502)
    client_id = answer.get("client_id")
    tool = answer.get(TOOL_CONFIGURATION)
    deployment_id = tool.get("deployment_id") if isinstance(tool, dict) else None
    if not isinstance(client_id, str) or not client_id or not isinstance(deployment_id, str) or not deployment_id:
        raise ToolError("registration_refused", "the platform's answer lacks the client_id or the deployment_id",
                        status=502)
    store.save_registration(settings.issuer, client_id, deployment_id)
    return {"client_id": client_id, "deployment_id": deployment_id, "issuer": settings.issuer}
