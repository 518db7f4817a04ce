"""``GET|POST /lti/authorize``: the OIDC authentication request of an LTI launch.

The client and its redirect_uri are checked first: until both are known to be registered, a
refusal is shown as a page, never redirected. Every later refusal goes back to the tool's
redirect_uri with its OAuth error code. Success is an auto-submitting form that posts
``id_token`` and ``state`` to the redirect_uri.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select

from ..models import Launch, MessageType, SessionData, ToolConfiguration, digest, utcnow
from ..security import Permission
from .browser import current_browser_session
from .errors import AuthorizationError
from .id_token import make_id_token
from .single_use import spend


def _find_client(dbsession, client_id: str | None) -> ToolConfiguration:
    configuration = None
    if client_id:
        configuration = dbsession.execute(
            select(ToolConfiguration).where(ToolConfiguration.client_id == client_id)
        ).scalar_one_or_none()
    if configuration is None:
        raise AuthorizationError("unauthorized_client", "client_id is not a registered tool", check="client_id")
    return configuration


def _launch_for(request, configuration, hint: str | None, refuse) -> Launch:
    if not hint:
        raise refuse("invalid_request", "lti_message_hint is missing", "lti_message_hint")
    launch = request.dbsession.execute(
        select(Launch).where(Launch.message_hint_hash == digest(hint))
    ).scalar_one_or_none()
    if launch is None or launch.configuration_id != configuration.id:
        raise refuse("invalid_request", "lti_message_hint names no launch of this client", "lti_message_hint")
    if launch.authorized_at is not None:
        raise refuse("invalid_request", "lti_message_hint was used already", "lti_message_hint_used")
    if launch.expires_at <= utcnow():
        raise refuse("invalid_request", "lti_message_hint has expired", "lti_message_hint_expired")
    return launch


@view_config(route_name="lti.authorize", request_method=("GET", "POST"), permission=Permission.lti)
def authorize(request):
    """Check the OIDC authentication request; answer with the id_token as an auto-posting form."""
    params = request.POST if request.method == "POST" else request.GET
    configuration = _find_client(request.dbsession, params.get("client_id"))
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or redirect_uri not in (configuration.redirect_uris or []):
        raise AuthorizationError("invalid_request", "redirect_uri is not one of the tool's registered redirect URIs",
                                 check="redirect_uri")
    state = params.get("state")

    def refuse(code: str, message: str, check: str) -> AuthorizationError:
        return AuthorizationError(code, message, check=check, redirect_uri=redirect_uri, state=state)

    if not configuration.proctoring_enabled:
        raise refuse("unauthorized_client", "proctoring is not enabled for this tool", "proctoring_enabled")
    if "openid" not in (params.get("scope") or "").split():
        raise refuse("invalid_scope", "scope must be openid", "scope")
    if params.get("response_type") != "id_token":
        raise refuse("unsupported_response_type", "response_type must be id_token", "response_type")
    if params.get("response_mode") != "form_post":
        raise refuse("invalid_request", "response_mode must be form_post", "response_mode")
    if params.get("prompt") != "none":
        raise refuse("invalid_request", "prompt must be none", "prompt")
    nonce = params.get("nonce")
    if not nonce:
        raise refuse("invalid_request", "nonce is missing", "nonce")
    session = current_browser_session(request)
    if session is None:
        raise refuse("access_denied", "this browser has not entered a launch (no session cookie)", "browser_session")
    if not params.get("login_hint"):
        raise refuse("invalid_request", "login_hint is missing", "login_hint")
    if params.get("login_hint") != session.user_id:
        raise refuse("access_denied", "login_hint is not the user of this browser session", "login_hint")
    launch = _launch_for(request, configuration, params.get("lti_message_hint"), refuse)
    if launch.browser_session_id != session.id:
        raise refuse("access_denied", "the launch was entered by another browser", "browser_session")

    if not spend(request.dbsession, launch, "authorized_at"):
        raise refuse("invalid_request", "lti_message_hint was used already", "lti_message_hint_used")
    now = utcnow()
    session_data = None
    if launch.message_type == MessageType.start_proctoring:
        session_data = secrets.token_urlsafe(32)
        request.dbsession.add(SessionData(
            value_hash=digest(session_data), browser_session_id=session.id, launch_id=launch.id,
            attempt_id=launch.attempt_id, created_at=now,
            expires_at=now + dt.timedelta(seconds=request.app_settings.launch_ttl_seconds),
        ))
    id_token = make_id_token(request, launch, nonce=nonce, session_data=session_data, now=int(time.time()))
    fields = {"id_token": id_token}
    if state is not None:
        fields["state"] = state
    response = render_to_response(
        "proctorhub:templates/lti_form_post.jinja2",
        {"action": redirect_uri, "fields": fields, "tool_name": configuration.name},
        request=request,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
