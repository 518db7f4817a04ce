"""Launches: the LMS asks for a launch URL (``POST /api/v1/launches``); the learner's browser
enters it (``GET /lti/launch/{token}``) and is sent to the tool's OIDC login."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode

import colander
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import select

from ..api.attempts import AttemptTargetSchema, UserSchema, attempt_request
from ..attempts.lifecycle import can_move, move
from ..attempts.serialize import attempt_json
from ..attempts.service import find_or_create_attempt, get_configuration, review_of
from ..errors import Conflict, NotFound, PreconditionFailed
from ..models import AttemptStatus, Launch, MessageType, digest, utcnow
from ..schemas import StrictInt, parse_json_object, validate
from ..security import Permission
from .browser import bind_browser_session
from .claims import ROLE_NAMES
from .errors import LtiError
from .single_use import spend


def role_uri(value: str) -> str:
    return value if value.startswith(("http://", "https://")) else ROLE_NAMES[value.lower()]


def _role(node, value):
    if not value.startswith(("http://", "https://")) and value.lower() not in ROLE_NAMES:
        raise colander.Invalid(node, f"must be a LIS role URI or one of: {', '.join(ROLE_NAMES)}")


class LaunchUserSchema(UserSchema):
    role = colander.SchemaNode(colander.String(), validator=colander.All(colander.Length(min=1, max=255), _role))


def _http_url(node, value):
    if not value.startswith(("http://", "https://")):
        raise colander.Invalid(node, "must be an http(s) URL")


class CreateLaunchSchema(AttemptTargetSchema):
    config_id = colander.SchemaNode(StrictInt(), validator=colander.Range(min=1))
    message_type = colander.SchemaNode(colander.String(), validator=colander.OneOf([m.value for m in MessageType]))
    user = LaunchUserSchema()
    return_url = colander.SchemaNode(colander.String(), validator=colander.All(colander.Length(max=2048), _http_url))


@view_config(route_name="api.launches", request_method="POST", renderer="json", permission=Permission.lms)
def create_launch(request):
    """Create a single-use launch for the learner's browser: 201 ``{launch_url, expires_at, attempt}``."""
    data = validate(CreateLaunchSchema(), parse_json_object(request.body))
    configuration = get_configuration(request.dbsession, data["config_id"])
    if not configuration.proctoring_enabled:
        raise PreconditionFailed("proctoring is not enabled for this tool configuration", code="proctoring_disabled")
    if not (configuration.oidc_login_url and configuration.launch_url and configuration.redirect_uris):
        raise PreconditionFailed("the tool configuration lacks its OIDC login URL, launch URL or redirect URIs",
                                 code="configuration_incomplete")
    attempt, created = find_or_create_attempt(request.dbsession, request.backends, attempt_request(data))
    if attempt.exam.configuration_id != configuration.id:
        raise Conflict("this exam is proctored through another tool configuration", code="configuration_mismatch",
                       details={"exam_configuration_id": attempt.exam.configuration_id})
    message_type = MessageType(data["message_type"])
    if message_type == MessageType.start_proctoring and not can_move(attempt.status, AttemptStatus.ready_to_start):
        raise Conflict(f"the attempt is {attempt.status}; it cannot be started again", code="invalid_status_change",
                       details={"from": attempt.status, "to": AttemptStatus.ready_to_start.value})
    if message_type == MessageType.end_assessment and not attempt.end_assessment_return:
        raise Conflict("the tool did not ask for an LtiEndAssessment launch for this attempt",
                       code="end_assessment_not_requested")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    launch = Launch(
        token_hash=digest(token), attempt=attempt, configuration=configuration, message_type=message_type.value,
        user_id=data["user"]["id"], user_role=role_uri(data["user"]["role"]), return_url=data["return_url"],
        created_at=now, expires_at=now + dt.timedelta(seconds=request.app_settings.launch_ttl_seconds),
    )
    request.dbsession.add(launch)
    request.dbsession.flush()
    request.response.status_int = 201
    return {
        "launch_url": f"{request.app_settings.issuer}/lti/launch/{token}",
        "expires_at": launch.expires_at.isoformat(),
        "attempt": attempt_json(attempt, None if created else review_of(request.dbsession, attempt)),
    }


@view_config(route_name="lti.launch", request_method="GET", permission=Permission.lti)
def enter_launch(request):
    """The browser's entry: bind the browser session, then third-party-initiated login at the tool."""
    launch = request.dbsession.execute(
        select(Launch).where(Launch.token_hash == digest(request.matchdict["token"]))
    ).scalar_one_or_none()
    if launch is None:
        raise NotFound("this launch URL is not known", code="unknown_launch")
    if launch.entered_at is not None:
        raise LtiError("this launch URL was used already; ask the LMS for a new one", code="launch_used")
    if launch.expires_at <= utcnow():
        raise LtiError("this launch URL has expired; ask the LMS for a new one", code="launch_expired")
    configuration = launch.configuration
    hint = secrets.token_urlsafe(32)
    response = HTTPFound()
    response.headers["Cache-Control"] = "no-store"
    browser_session = bind_browser_session(request, response, launch.user_id)
    if not spend(request.dbsession, launch, "entered_at", message_hint_hash=digest(hint),
                 browser_session_id=browser_session.id):
        raise LtiError("this launch URL was used already; ask the LMS for a new one", code="launch_used")
    if launch.message_type == MessageType.start_proctoring:
        move(request.dbsession, launch.attempt, AttemptStatus.ready_to_start, reason="launch")
    query = {
        "iss": request.app_settings.issuer,
        "login_hint": launch.user_id,
        "target_link_uri": configuration.launch_url,
        "lti_message_hint": hint,
        "lti_deployment_id": configuration.deployment_id,
        "client_id": configuration.client_id,
    }
    response.location = (configuration.oidc_login_url
                         + ("&" if "?" in configuration.oidc_login_url else "?") + urlencode(query))
    return response
