"""The Assessment Control Service: ``POST /lti/token`` (OAuth 2 client credentials with a JWT
assertion) and ``POST /lti/acs`` (pause, resume, terminate, update, flag) that the tool calls
during the exam."""

from __future__ import annotations

import secrets
import time

import colander
from pyramid.view import view_config
from sqlalchemy import select

from ..attempts.lifecycle import move
from ..attempts.serialize import attempt_json
from ..attempts.service import review_of
from ..errors import NotFound, ProctorhubError, Unauthenticated
from ..models import Attempt, AttemptStatus, Event, Exam, ToolConfiguration
from ..schemas import FiniteNumber, Identifier, StrictInt, drop_nulls, parse_json_object, validate
from ..security import Permission
from . import claims as c
from .errors import LtiError
from .keys import ACCESS_TOKEN_TTL_SECONDS, public_key, sign
from .replay import remember_once
from .tokens import unverified_header, unverified_header_and_claims, verify
from .tool_keys import tool_public_key
from .urls import platform_urls

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# What each action makes of the attempt; update and flag only record an event.
ACTION_STATUS = {"pause": AttemptStatus.paused, "resume": AttemptStatus.started,
                 "terminate": AttemptStatus.terminated}
ACS_EVENT_KIND = "acs.{action}"


class OAuthError(ProctorhubError):
    """A token-endpoint refusal with its RFC 6749 code (``invalid_client``, ``invalid_grant`` ...)."""

    status = 400


def _configuration(dbsession, client_id: str) -> ToolConfiguration | None:
    return dbsession.execute(
        select(ToolConfiguration).where(ToolConfiguration.client_id == client_id)
    ).scalar_one_or_none()


def _assertion_client_and_key(request, assertion: str) -> tuple[ToolConfiguration, object]:
    """The tool whose client_id the assertion's (unverified) iss names, and its key with the
    assertion's kid."""
    header, unverified = unverified_header_and_claims(assertion)
    configuration = _configuration(request.dbsession, unverified["iss"])
    if configuration is None:
        raise LtiError("the JWT's iss is not the client_id of a registered tool", code="invalid_issuer")
    return configuration, tool_public_key(configuration, header.get("kid"), request.app_settings)


@view_config(route_name="lti.token", request_method="POST", renderer="json", permission=Permission.lti)
def issue_token(request):
    """Client credentials with a JWT assertion signed by the tool: an ACS access token."""
    form = request.POST
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("grant_type must be client_credentials", code="unsupported_grant_type")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        raise OAuthError("a client_assertion of type jwt-bearer is required", code="invalid_request")
    scopes = set((form.get("scope") or "").split())
    if c.ACS_SCOPE not in scopes:
        raise OAuthError(f"scope must include {c.ACS_SCOPE}", code="invalid_scope")
    urls = platform_urls(request.app_settings.issuer)
    token_url = urls["token_endpoint"]
    try:
        configuration, key = _assertion_client_and_key(request, form["client_assertion"])
        claims = verify(form["client_assertion"], key, audience=[token_url, request.app_settings.issuer],
                        issuer=configuration.client_id, leeway=request.app_settings.lti_leeway_seconds,
                        required=["iss", "sub", "aud", "exp", "iat", "jti"])
        if claims["sub"] != configuration.client_id:
            raise LtiError("sub must be the client_id", code="invalid_subject")
        remember_once(request.dbsession, issuer=configuration.client_id, kind="jti", value=claims["jti"],
                      exp=claims["exp"], leeway=request.app_settings.lti_leeway_seconds)
    except LtiError as exc:
        raise OAuthError(f"the client assertion is refused: {exc.message}", code="invalid_client",
                         status=401, details={"check": exc.code}) from None
    if configuration.status != "active" or not configuration.proctoring_enabled or not configuration.acs_actions:
        raise OAuthError("this tool is not offered the Assessment Control Service", code="unauthorized_client")
    now = int(time.time())
    access_token = sign(request.dbsession, {
        "iss": request.app_settings.issuer, "aud": urls["assessment_control_url"],
        "sub": configuration.client_id, "scope": c.ACS_SCOPE, "iat": now,
        "exp": now + ACCESS_TOKEN_TTL_SECONDS, "jti": secrets.token_urlsafe(16),
    }, encryptor=request.encryptor)
    request.response.headers["Cache-Control"] = "no-store"
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "scope": c.ACS_SCOPE}


def _bearer_client(request) -> str:
    authorization = request.authorization
    if authorization is None or str(authorization.authtype).lower() != "bearer" or not authorization.params:
        raise Unauthenticated("send the access token from /lti/token as a Bearer token", code="invalid_token")
    token = str(authorization.params).strip()
    try:
        kid = unverified_header(token).get("kid")
    except LtiError:
        raise Unauthenticated("the access token is not valid", code="invalid_token") from None
    key = public_key(request.dbsession, kid) if kid else None
    if key is None:
        raise Unauthenticated("the access token was not signed by a published key", code="invalid_token")
    issuer = request.app_settings.issuer
    try:
        claims = verify(token, key, audience=platform_urls(issuer)["assessment_control_url"], issuer=issuer,
                        leeway=request.app_settings.lti_leeway_seconds,
                        required=["iss", "aud", "sub", "exp", "iat", "scope"])
    except LtiError as exc:
        raise Unauthenticated(f"the access token is not valid: {exc.message}", code="invalid_token",
                              details={"check": exc.code}) from None
    if c.ACS_SCOPE not in str(claims["scope"]).split():
        raise Unauthenticated("the access token lacks the ACS scope", code="insufficient_scope", status=403)
    return claims["sub"]


class AcsUserSchema(colander.MappingSchema):
    iss = colander.SchemaNode(colander.String(), missing=colander.null)
    sub = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))


class AcsLinkSchema(colander.MappingSchema):
    id = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))


class AcsRequestSchema(colander.MappingSchema):
    user = AcsUserSchema()
    resource_link = AcsLinkSchema()
    attempt_number = colander.SchemaNode(StrictInt(), validator=colander.Range(min=1))
    action = colander.SchemaNode(colander.String(),
                                 validator=colander.OneOf(["pause", "resume", "terminate", "update", "flag"]))
    incident_time = colander.SchemaNode(colander.String(), missing=colander.null)
    incident_severity = colander.SchemaNode(FiniteNumber(), missing=colander.null)
    extended_time = colander.SchemaNode(StrictInt(), missing=colander.null)
    reason_code = colander.SchemaNode(colander.String(), missing=colander.null)
    reason_msg = colander.SchemaNode(colander.String(), missing=colander.null)


@view_config(route_name="lti.acs", request_method="POST", renderer="json", permission=Permission.lti)
def assessment_control(request):
    """Apply an ACS action to the attempt named by user, resource link and attempt number."""
    client_id = _bearer_client(request)
    data = drop_nulls(validate(AcsRequestSchema(), parse_json_object(request.body)))
    configuration = _configuration(request.dbsession, client_id)
    if configuration is None:
        raise Unauthenticated("the access token's client is no longer registered", code="invalid_token")
    action = data["action"]
    if action not in (configuration.acs_actions or []):
        raise LtiError(f"the action {action!r} is not offered to this tool", code="unsupported_action",
                       details={"offered": list(configuration.acs_actions or [])})
    attempt = request.dbsession.execute(
        select(Attempt).join(Exam, Attempt.exam_id == Exam.id).where(
            Exam.configuration_id == configuration.id, Exam.resource_link_id == data["resource_link"]["id"],
            Attempt.user_id == data["user"]["sub"], Attempt.attempt_number == data["attempt_number"],
            Attempt.archived_at.is_(None))
    ).scalar_one_or_none()
    if attempt is None:
        raise NotFound("no attempt matches this user, resource link and attempt number", code="unknown_attempt")
    if action in ACTION_STATUS:
        move(request.dbsession, attempt, ACTION_STATUS[action], reason=f"ACS {action}")
    else:
        request.dbsession.add(Event(kind=ACS_EVENT_KIND.format(action=action), attempt_id=attempt.id,
                                    attempt_code=attempt.attempt_code,
                                    payload={k: v for k, v in data.items() if k not in {"user"}}))
    return {"action": action, "status": attempt.status,
            "attempt": attempt_json(attempt, review_of(request.dbsession, attempt))}
