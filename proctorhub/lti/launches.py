"""``GET /lti/launch/{token}``: the learner's browser enters the launch URL the LMS got from
``POST /api/v1/launches`` (``api.launches``) and is sent to the tool's OIDC login."""

from __future__ import annotations

import secrets

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..models.configuration import target_link_uri
from ..security import Permission
from .browser import BrowserSessionFacts, bind_browser_session, cookie_hash
from .launch_service import enter, launch_entry
from .urls import with_query


@view_config(route_name="lti.launch", request_method="GET", permission=Permission.lti)
def enter_launch(request):
    """The browser's entry: bind the browser session, then third-party-initiated login at the tool."""
    launch = launch_entry(request.dbsession, token=request.matchdict["token"], cookie_hash=cookie_hash(request))
    hint = secrets.token_urlsafe(32)
    response = HTTPFound()
    current = None if launch.session_id is None else BrowserSessionFacts(
        id=launch.session_id, user_id=launch.session_user_id, expires_at=launch.session_expires_at)
    session_id, new_session = bind_browser_session(request, response, launch.user_id, current)
    enter(request.dbsession, launch, session_id=session_id, new_session=new_session, hint=hint)
    query = {
        "iss": request.app_settings.issuer,
        "login_hint": launch.user_id,
        "target_link_uri": target_link_uri(launch.message_type, launch.launch_url, launch.end_assessment_url),
        "lti_message_hint": hint,
        "lti_deployment_id": launch.deployment_id,
        "client_id": launch.client_id,
    }
    response.location = with_query(launch.oidc_login_url, query)
    return response
