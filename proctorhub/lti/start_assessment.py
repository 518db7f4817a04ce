"""``POST /lti/start-assessment``: the tool's ``LtiStartAssessment`` starts the attempt.

Every check of DESIGN.md 5.3 runs before anything changes; a refusal is a 400 whose code names
the failed check, and its transaction is aborted, so nothing it touched (the replay ledger
included) is kept.
"""

from __future__ import annotations

import hmac

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import select

from ..attempts.lifecycle import move
from ..models import AttemptStatus, BrowserSession, SessionData, ToolConfiguration, digest, utcnow
from ..security import Permission
from . import claims as c
from .browser import COOKIE_NAME
from .errors import LtiError
from .replay import remember_once
from .single_use import spend
from .tokens import unverified_header, unverified_issuer, verify
from .tool_keys import tool_public_key

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "nonce"]


def verify_tool_message_key(request, token: str) -> tuple[ToolConfiguration, object]:
    """The tool that claims to have signed ``token`` and its key with the token's kid."""
    header = unverified_header(token)
    client_id = unverified_issuer(token)
    configuration = request.dbsession.execute(
        select(ToolConfiguration).where(ToolConfiguration.client_id == client_id)
    ).scalar_one_or_none()
    if configuration is None:
        raise LtiError("the JWT's iss is not the client_id of a registered tool", code="invalid_issuer")
    return configuration, tool_public_key(configuration, header.get("kid"), request.app_settings)


def verify_tool_message(request, token: str) -> tuple[ToolConfiguration, dict]:
    """The tool's configuration and the verified claims of a JWT it signed for this platform."""
    configuration, key = verify_tool_message_key(request, token)
    claims = verify(token, key, audience=request.app_settings.issuer, issuer=configuration.client_id,
                    leeway=request.app_settings.lti_leeway_seconds, required=REQUIRED_CLAIMS)
    return configuration, claims


def _issued_session_data(request, claims) -> SessionData:
    value = claims.get(c.SESSION_DATA)
    if not isinstance(value, str) or not value:
        raise LtiError("session_data is missing", code="session_data_mismatch")
    cookie = request.cookies.get(COOKIE_NAME)
    # The browser session and what was issued to it, in one query.
    rows = request.dbsession.execute(
        select(BrowserSession.id, SessionData).select_from(BrowserSession)
        .outerjoin(SessionData, SessionData.browser_session_id == BrowserSession.id)
        .where(BrowserSession.cookie_hash == digest(cookie or ""), BrowserSession.expires_at > utcnow())
    ).all() if cookie else []
    if not rows:
        raise LtiError("this browser has no launch session (cookie missing or expired)", code="missing_browser_session")
    presented = digest(value)
    issued = [row for _session_id, row in rows if row is not None]
    # Compared in constant time against every session_data issued to this browser session.
    match = next((row for row in issued if hmac.compare_digest(row.value_hash, presented)), None)
    if match is None:
        raise LtiError("session_data is not the one issued to this browser session", code="session_data_mismatch")
    if match.used_at is not None:
        raise LtiError("session_data was used already", code="session_data_used")
    if match.expires_at <= utcnow():
        raise LtiError("session_data has expired", code="session_data_expired")
    return match


@view_config(route_name="lti.start_assessment", request_method="POST", permission=Permission.lti)
def start_assessment(request):
    """Verify ``LtiStartAssessment``; start the attempt and send the browser back to the LMS."""
    token = request.POST.get("JWT")
    if not token:
        raise LtiError("the form field JWT is missing", code="missing_jwt")
    configuration, claims = verify_tool_message(request, token)
    remember_once(request.dbsession, issuer=configuration.client_id, kind="nonce", value=claims.get("nonce"),
                  exp=claims["exp"], leeway=request.app_settings.lti_leeway_seconds)
    if "jti" in claims:
        remember_once(request.dbsession, issuer=configuration.client_id, kind="jti", value=claims["jti"],
                      exp=claims["exp"], leeway=request.app_settings.lti_leeway_seconds)
    if claims.get(c.MESSAGE_TYPE) != c.START_ASSESSMENT:
        raise LtiError("message_type must be LtiStartAssessment", code="invalid_message_type")
    if claims.get(c.VERSION) != c.LTI_VERSION:
        raise LtiError("version must be 1.3.0", code="invalid_version")
    if claims.get(c.DEPLOYMENT_ID) != configuration.deployment_id:
        raise LtiError("deployment_id is not the tool's deployment", code="invalid_deployment_id")
    issued = _issued_session_data(request, claims)
    if issued.launch.configuration_id != configuration.id:
        raise LtiError("session_data was issued to another tool", code="session_data_mismatch")
    attempt = issued.attempt
    if claims.get(c.ATTEMPT_NUMBER) != attempt.attempt_number:
        raise LtiError("attempt_number is not the launch's", code="attempt_number_mismatch",
                       details={"expected": attempt.attempt_number})
    resource_link = claims.get(c.RESOURCE_LINK)
    if not isinstance(resource_link, dict) or resource_link.get("id") != attempt.exam.resource_link_id:
        raise LtiError("resource_link.id is not the launch's", code="resource_link_mismatch")

    if not spend(request.dbsession, issued, "used_at"):
        raise LtiError("session_data was used already", code="session_data_used")
    move(request.dbsession, attempt, AttemptStatus.started, reason="LtiStartAssessment")
    attempt.end_assessment_return = claims.get(c.END_ASSESSMENT_RETURN) is True
    verified_user = claims.get(c.VERIFIED_USER)
    attempt.verified_user = verified_user if isinstance(verified_user, dict) else None
    response = HTTPFound(location=issued.launch.return_url)
    response.headers["Cache-Control"] = "no-store"
    return response
