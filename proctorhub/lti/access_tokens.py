"""ACS access tokens: issued at ``/lti/token`` for a tool's signed client assertion (1EdTech
Security Framework 4.1, RFC 7523), then checked on every ACS call.

The assertion must be made for the token endpoint: ``aud`` is the token endpoint URL and nothing
else, and a JWT carrying LTI message claims is refused, so the ``LtiStartAssessment`` JWT a
learner's browser carries (``aud`` the issuer) can never buy an access token.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import select

from ..errors import ProctorhubError, Unauthenticated
from ..models import ConfigurationStatus, ToolConfiguration
from . import claims as c
from .errors import LtiError
from .keys import ACCESS_TOKEN_TTL_SECONDS, public_key, sign
from .replay import remember_once
from .tokens import unverified_header, unverified_header_and_claims, verify
from .tool_keys import tool_public_key
from .urls import platform_urls

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Claims of LTI messages (id_token, LtiStartAssessment ...): none belongs in a client assertion.
LTI_CLAIM_PREFIXES = ("https://purl.imsglobal.org/spec/lti",)


class OAuthError(ProctorhubError):
    """A token-endpoint refusal, answered as RFC 6749 section 5.2: ``{"error": code,
    "error_description": message}``; ``invalid_client`` is a 401, the others 400."""

    status = 400


def configuration_for_client(dbsession, client_id: str) -> ToolConfiguration | None:
    """The tool configuration whose client_id this is (the token endpoint's and the ACS's lookup)."""
    return dbsession.execute(
        select(ToolConfiguration).where(ToolConfiguration.client_id == client_id)
    ).scalar_one_or_none()


def _verified_assertion(dbsession, assertion: str, settings) -> tuple[ToolConfiguration, dict]:
    """The tool and the assertion's claims, every check passed (``LtiError`` naming the check)."""
    header, unverified = unverified_header_and_claims(assertion)
    configuration = configuration_for_client(dbsession, unverified["iss"])
    if configuration is None:
        raise LtiError("the JWT's iss is not the client_id of a registered tool", code="invalid_issuer")
    key = tool_public_key(configuration, header.get("kid"), settings)
    claims = verify(assertion, key, audience=platform_urls(settings.issuer)["token_endpoint"],
                    issuer=configuration.client_id, leeway=settings.lti_leeway_seconds,
                    required=["iss", "sub", "aud", "exp", "iat", "jti"])
    if claims["sub"] != configuration.client_id:
        raise LtiError("sub must be the client_id", code="invalid_subject")
    if any(name.startswith(LTI_CLAIM_PREFIXES) for name in claims):
        raise LtiError("a client assertion carries no LTI message claims (this is an LTI message, not an "
                       "assertion made for the token endpoint)", code="lti_message_claims")
    remember_once(dbsession, issuer=configuration.client_id, kind="jti", value=claims["jti"],
                  exp=claims["exp"], leeway=settings.lti_leeway_seconds)
    return configuration, claims


def issue(dbsession, form, *, settings, encryptor) -> dict:
    """The token response for the client-credentials ``form``, or an ``OAuthError``."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("grant_type must be client_credentials", code="unsupported_grant_type")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        raise OAuthError("a client_assertion of type jwt-bearer is required", code="invalid_request")
    scopes = set((form.get("scope") or "").split())
    if c.ACS_SCOPE not in scopes:
        raise OAuthError(f"scope must include {c.ACS_SCOPE}", code="invalid_scope")
    try:
        configuration, _claims = _verified_assertion(dbsession, form["client_assertion"], settings)
    except LtiError as exc:
        raise OAuthError(f"the client assertion is refused: {exc.message}", code="invalid_client",
                         status=401, details={"check": exc.code}) from None
    if (configuration.status != ConfigurationStatus.active or not configuration.proctoring_enabled
            or not configuration.acs_actions):
        raise OAuthError("this tool is not offered the Assessment Control Service", code="unauthorized_client")
    now = int(time.time())
    access_token = sign(dbsession, {
        "iss": settings.issuer, "aud": platform_urls(settings.issuer)["assessment_control_url"],
        "sub": configuration.client_id, "scope": c.ACS_SCOPE, "iat": now,
        "exp": now + ACCESS_TOKEN_TTL_SECONDS, "jti": secrets.token_urlsafe(16),
    }, encryptor=encryptor)
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "scope": c.ACS_SCOPE}


def bearer_client(request) -> str:
    """The client_id of the valid ACS access token the request carries; 401 otherwise (no token,
    a token we did not sign, expired, for another audience, or without the ACS scope)."""
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
        raise Unauthenticated("the access token was not granted the ACS scope", code="insufficient_scope",
                              details={"check": "scope"})
    return claims["sub"]
