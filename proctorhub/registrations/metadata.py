"""What a tool sends to the registration endpoint, read strictly.

LTI Dynamic Registration 1.0: OpenID Connect client metadata (``application_type``,
``response_types``, ``grant_types``, ``initiate_login_uri``, ``redirect_uris``, ``jwks_uri``,
``token_endpoint_auth_method``, ``scope``, ``client_name``...) plus the
``https://purl.imsglobal.org/spec/lti-tool-configuration`` object (``domain``,
``target_link_uri``, ``messages``, ``claims``, ``custom_parameters``...).

Every refusal is a ``RegistrationRefused`` with its own code; nothing is written before the
whole document has passed. Members we do not know (``client_name#ja``, ``logo_uri``...) are kept
as the tool sent them, to show the admin, and never acted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import colander

from ..errors import ProctorhubError, colander_details
from ..lti.claims import ACS_SCOPE
from ..models import MessageType
from ..schemas import http_url, tool_url

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
# The scopes a registration may ask for: proctorhub offers the Assessment Control Service.
OFFERED_SCOPES = ("openid", ACS_SCOPE)
SUPPORTED_MESSAGES = tuple(message_type.value for message_type in MessageType)
REQUIRED_GRANTS = {"implicit", "client_credentials"}
# The specification's own registration example spells it "implict"; tools copied it.
GRANT_ALIASES = {"implict": "implicit"}

REQUIRED = ("application_type", "response_types", "grant_types", "initiate_login_uri", "redirect_uris",
            "jwks_uri", "token_endpoint_auth_method", TOOL_CONFIGURATION)
REQUIRED_IN_TOOL = ("domain", "target_link_uri", "messages")


class RegistrationRefused(ProctorhubError):
    """A registration request proctorhub will not accept; ``code`` names the failed check."""

    status = 400
    code = "invalid_client_metadata"


def _string(max_length: int = 2048, **kw):
    return colander.SchemaNode(colander.String(), validator=colander.Length(min=1, max=max_length), **kw)


class _Strings(colander.SequenceSchema):
    value = _string()


class _StringMap(colander.SchemaNode):
    """A JSON object of strings to strings (``custom_parameters``)."""

    schema_type = colander.Mapping

    def __init__(self, **kw):
        super().__init__(colander.Mapping(unknown="preserve"), **kw)

    def validator(self, node, value):
        for key, item in value.items():
            if not isinstance(item, str) or len(key) > 255 or len(item) > 2048:
                raise colander.Invalid(node, f"{key!r} must be a string of at most 2048 characters")


class _Message(colander.MappingSchema):
    type = _string(64)
    target_link_uri = _string(missing=colander.null)
    label = _string(255, missing=colander.null)
    icon_uri = _string(missing=colander.null)
    custom_parameters = _StringMap(missing=colander.null)
    roles = _Strings(missing=colander.null)
    placements = _Strings(missing=colander.null)


class _Messages(colander.SequenceSchema):
    message = _Message(colander.Mapping(unknown="preserve"))


class _ToolConfiguration(colander.MappingSchema):
    domain = _string(255)
    target_link_uri = _string()
    messages = _Messages(validator=colander.Length(min=1, max=20))
    claims = _Strings(missing=colander.null)
    custom_parameters = _StringMap(missing=colander.null)
    description = _string(4000, missing=colander.null)


class _ClientMetadata(colander.MappingSchema):
    application_type = _string(32)
    response_types = _Strings(validator=colander.Length(min=1, max=10))
    grant_types = _Strings(validator=colander.Length(min=1, max=10))
    initiate_login_uri = _string()
    redirect_uris = _Strings(validator=colander.Length(min=1, max=20))
    jwks_uri = _string()
    token_endpoint_auth_method = _string(64)
    client_name = _string(200, missing=colander.null)
    scope = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=2048))
    logo_uri = _string(missing=colander.null)
    client_uri = _string(missing=colander.null)
    tos_uri = _string(missing=colander.null)
    policy_uri = _string(missing=colander.null)
    contacts = _Strings(missing=colander.null)


# Unknown members are kept: the specification lets tools send localised variants and more.
SCHEMA = _ClientMetadata(colander.Mapping(unknown="preserve"))
SCHEMA[TOOL_CONFIGURATION] = _ToolConfiguration(colander.Mapping(unknown="preserve"), name=TOOL_CONFIGURATION)


@dataclass(frozen=True)
class ToolMetadata:
    """A registration request that passed every check."""

    client_name: str
    initiate_login_uri: str
    redirect_uris: tuple[str, ...]
    jwks_uri: str
    launch_url: str
    end_assessment_url: str | None  # None: LtiEndAssessment goes to launch_url too
    scopes: tuple[str, ...]
    messages: tuple[dict, ...]
    document: dict  # as the tool sent it

    @property
    def fetched_urls(self) -> tuple[str, ...]:
        """The URLs proctorhub itself fetches or sends browsers to (checked against private addresses)."""
        urls = [self.initiate_login_uri, self.jwks_uri, self.launch_url, *self.redirect_uris]
        urls += [self.end_assessment_url] if self.end_assessment_url else []
        urls += [m["target_link_uri"] for m in self.messages if m.get("target_link_uri")]
        return tuple(dict.fromkeys(urls))

    @property
    def wants_acs(self) -> bool:
        return ACS_SCOPE in self.scopes


def _refuse(code: str, message: str, field: str | None = None, why: str | None = None):
    details = {"fields": {field: why or message}} if field else {}
    raise RegistrationRefused(message, code=code, details=details)


def _check_url(validator, field: str, value: str, code: str) -> None:
    try:
        validator(colander.SchemaNode(colander.String(), name=field), value)
    except colander.Invalid as invalid:
        _refuse(code, f"{field} {invalid.msg}", field, str(invalid.msg))


def _missing(body: dict) -> list[str]:
    missing = [name for name in REQUIRED if body.get(name) in (None, "", [])]
    tool = body.get(TOOL_CONFIGURATION)
    if isinstance(tool, dict):
        missing += [f"{TOOL_CONFIGURATION}.{name}" for name in REQUIRED_IN_TOOL if tool.get(name) in (None, "", [])]
    return missing


def _domain_parts(domain: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a tool's ``domain`` (a host name, with a port if any), or None if it is not one."""
    if not domain or any(ch in domain for ch in "/@?#") or domain.startswith("."):
        return None
    try:
        parts = urlsplit("//" + domain)
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


def _in_domain(url: str, host: str, port: int | None) -> bool:
    """The URL's host is the domain or below it; a domain with a port also fixes the port."""
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    if hostname != host and not hostname.endswith("." + host):
        return False
    return port is None or (parts.port or (443 if parts.scheme == "https" else 80)) == port


def read_tool_metadata(body: dict) -> ToolMetadata:
    """The checked registration request, or ``RegistrationRefused`` naming the first failed check."""
    missing = _missing(body)
    if missing:
        raise RegistrationRefused(f"required client metadata is missing: {', '.join(missing)}",
                                  code="missing_client_metadata",
                                  details={"fields": {name: "Required" for name in missing}})
    try:
        data = SCHEMA.deserialize(body)
    except colander.Invalid as invalid:
        raise RegistrationRefused("the client metadata does not have the expected shape",
                                  code="invalid_client_metadata", details=colander_details(invalid)) from None
    tool = data[TOOL_CONFIGURATION]

    if data["application_type"] != "web":
        _refuse("invalid_application_type", "application_type must be \"web\"", "application_type")
    if set(data["response_types"]) != {"id_token"}:
        _refuse("invalid_response_types", "response_types must be [\"id_token\"]", "response_types")
    grants = {GRANT_ALIASES.get(grant, grant) for grant in data["grant_types"]}
    if not REQUIRED_GRANTS <= grants:
        _refuse("invalid_grant_types", "grant_types must include implicit and client_credentials", "grant_types")
    if data["token_endpoint_auth_method"] != "private_key_jwt":
        _refuse("invalid_token_endpoint_auth_method", "token_endpoint_auth_method must be private_key_jwt "
                "(proctorhub verifies the tool's JWTs with the keys at its jwks_uri)", "token_endpoint_auth_method")

    for index, uri in enumerate(data["redirect_uris"]):
        _check_url(tool_url, f"redirect_uris.{index}", uri, "invalid_redirect_uri")
    _check_url(tool_url, "initiate_login_uri", data["initiate_login_uri"], "invalid_url")
    _check_url(tool_url, "jwks_uri", data["jwks_uri"], "invalid_url")
    _check_url(tool_url, f"{TOOL_CONFIGURATION}.target_link_uri", tool["target_link_uri"], "invalid_url")
    # Shown to the admin as links, never fetched: any http(s) URL (no javascript: and the like).
    for name in ("logo_uri", "client_uri", "tos_uri", "policy_uri"):
        if data[name] is not colander.null:
            _check_url(http_url, name, data[name], "invalid_url")

    messages = []
    for index, message in enumerate(tool["messages"]):
        field = f"{TOOL_CONFIGURATION}.messages.{index}"
        if message["type"] not in SUPPORTED_MESSAGES:
            _refuse("unsupported_message_type", f"message type {message['type']!r} is not supported; proctorhub "
                    f"launches {' and '.join(SUPPORTED_MESSAGES)}", f"{field}.type",
                    f"must be one of: {', '.join(SUPPORTED_MESSAGES)}")
        if message["target_link_uri"] is not colander.null:
            _check_url(tool_url, f"{field}.target_link_uri", message["target_link_uri"], "invalid_url")
        if message["icon_uri"] is not colander.null:
            _check_url(http_url, f"{field}.icon_uri", message["icon_uri"], "invalid_url")
        messages.append({key: value for key, value in message.items() if value is not colander.null})
    types = [message["type"] for message in messages]
    if MessageType.start_proctoring.value not in types:
        _refuse("missing_start_proctoring", "messages must include LtiStartProctoring: it is the launch proctorhub "
                "sends a proctoring tool", f"{TOOL_CONFIGURATION}.messages")
    if len(set(types)) != len(types):
        _refuse("invalid_client_metadata", "each message type may be listed once", f"{TOOL_CONFIGURATION}.messages")

    # A message without a target_link_uri of its own is launched at the tool's.
    by_type = {message["type"]: message.get("target_link_uri") or tool["target_link_uri"] for message in messages}
    launch_url = by_type[MessageType.start_proctoring.value]
    end_url = by_type.get(MessageType.end_assessment.value, launch_url)

    domain = tool["domain"].strip()
    domain_parts = _domain_parts(domain)
    if domain_parts is None:
        _refuse("invalid_client_metadata", "domain is a host name (with a port, if any), without a scheme or path",
                f"{TOOL_CONFIGURATION}.domain")
    for field, url in [("initiate_login_uri", data["initiate_login_uri"]),
                       (f"{TOOL_CONFIGURATION}.target_link_uri", tool["target_link_uri"]),
                       *[(f"redirect_uris.{i}", uri) for i, uri in enumerate(data["redirect_uris"])],
                       *[(f"{TOOL_CONFIGURATION}.messages.{i}.target_link_uri", m["target_link_uri"])
                         for i, m in enumerate(messages) if m.get("target_link_uri")]]:
        if not _in_domain(url, *domain_parts):
            _refuse("domain_mismatch", f"{field} is not in the tool's domain {domain!r}", field,
                    f"must be in the domain {domain!r}")

    scopes = tuple(dict.fromkeys(data["scope"].split()))
    not_offered = [scope for scope in scopes if scope not in OFFERED_SCOPES]
    if not_offered:
        raise RegistrationRefused(f"scope not offered: {', '.join(not_offered)}", code="invalid_scope",
                                  details={"fields": {"scope": f"not offered: {', '.join(not_offered)}"},
                                           "offered": list(OFFERED_SCOPES)})

    return ToolMetadata(
        # Without a client_name, the tool is named by its domain.
        client_name=(data["client_name"] or "").strip() or domain,
        initiate_login_uri=data["initiate_login_uri"],
        redirect_uris=tuple(data["redirect_uris"]),
        jwks_uri=data["jwks_uri"],
        launch_url=launch_url,
        end_assessment_url=end_url if end_url != launch_url else None,
        scopes=scopes,
        messages=tuple(messages),
        document=body,
    )
