"""The id_token proctorhub sends a tool: RS256 with kid, iat backdated, every claim a
Proctoring Services message needs."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ..models import AttemptStatus, MessageType
from ..models.configuration import target_link_uri
from . import claims as c
from .custom import substituted
from .keys import sign
from .platform import tool_platform
from .urls import platform_urls

if TYPE_CHECKING:
    from .authorize_service import LaunchFacts

# Backdating iat tolerates tools whose clocks run a little behind ours.
IAT_BACKDATE_SECONDS = 5


def id_token_claims(request, launch: LaunchFacts, *, nonce: str, session_data: str | None, now: int) -> dict:
    configuration = launch.configuration
    attempt = launch.attempt
    exam = attempt.exam
    issuer = request.app_settings.issuer
    body = {
        "iss": issuer,
        "aud": configuration.client_id,
        "azp": configuration.client_id,
        "sub": launch.user_id,
        "iat": now - IAT_BACKDATE_SECONDS,
        "exp": now + request.app_settings.id_token_ttl_seconds,
        "nonce": nonce,
        "jti": secrets.token_urlsafe(16),
        c.MESSAGE_TYPE: launch.message_type,
        c.VERSION: c.LTI_VERSION,
        c.DEPLOYMENT_ID: configuration.deployment_id,
        c.TARGET_LINK_URI: target_link_uri(launch.message_type, configuration.launch_url,
                                           configuration.end_assessment_url),
        c.ROLES: [launch.user_role],
        c.RESOURCE_LINK: {"id": exam.resource_link_id, "title": exam.resource_link_title or exam.name},
        c.ATTEMPT_NUMBER: attempt.attempt_number,
    }
    if exam.context_id:
        body[c.CONTEXT] = {"id": exam.context_id, "title": exam.context_title}
    body[c.LAUNCH_PRESENTATION] = {"return_url": launch.return_url, "document_target": "window"}
    body[c.TOOL_PLATFORM] = dict(tool_platform(issuer))
    if configuration.custom:
        body[c.CUSTOM] = substituted(configuration.custom, {
            "user_id": launch.user_id, "user_name": attempt.user_name, "user_email": attempt.user_email,
            "given_name": attempt.user_given_name, "family_name": attempt.user_family_name,
            "resource_link_id": exam.resource_link_id, "resource_link_title": exam.resource_link_title,
            "context_id": exam.context_id or None, "context_title": exam.context_title,
            "attempt_code": attempt.attempt_code, "attempt_number": attempt.attempt_number,
        })
    if attempt.user_given_name:
        body["given_name"] = attempt.user_given_name
    if attempt.user_family_name:
        body["family_name"] = attempt.user_family_name
    if launch.message_type == MessageType.end_assessment and attempt.status == AttemptStatus.error:
        # The attempt ended in error (its review could not be made): the tool tells the learner.
        body[c.ERRORMSG] = "The proctoring session could not be reviewed; the exam ended in error."
        body[c.ERRORLOG] = f"attempt {attempt.attempt_code} ended with status error"
    if attempt.user_name:
        body["name"] = attempt.user_name
    if attempt.user_email:
        body["email"] = attempt.user_email
    if session_data is not None:
        urls = platform_urls(issuer)
        body[c.START_ASSESSMENT_URL] = urls["start_assessment_url"]
        body[c.SESSION_DATA] = session_data
        if configuration.acs_actions:
            body[c.ACS] = {"assessment_control_url": urls["assessment_control_url"],
                           "actions": list(configuration.acs_actions)}
    return body


def make_id_token(request, launch: LaunchFacts, *, nonce: str, session_data: str | None, now: int,
                  active_kid: str | None = None) -> str:
    """``launch`` as ``authorize_service`` read it, with its configuration, attempt and exam."""
    claims = id_token_claims(request, launch, nonce=nonce, session_data=session_data, now=now)
    return sign(request.dbsession, claims, encryptor=request.encryptor, active_kid=active_kid)
