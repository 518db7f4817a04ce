"""Launches: the LMS asks for a launch URL (``POST /api/v1/launches``); the learner's browser
enters it (``GET /lti/launch/{token}``) and is sent to the tool's OIDC login."""

from __future__ import annotations

import datetime as dt
import secrets
from types import SimpleNamespace

import colander
import zope.sqlalchemy
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from sqlalchemy import and_, bindparam, insert, select

from ..api.attempts import AttemptTargetSchema, UserSchema, attempt_request
from ..attempts.lifecycle import can_move
from ..attempts.serialize import attempt_json
from ..attempts.service import (
    AttemptRequest,
    find_or_create_attempt,
    get_configuration,
    insert_attempt_if_new,
    review_of,
)
from ..errors import Conflict, NotFound, PreconditionFailed
from ..lms.return_urls import check_return_url
from ..models import AttemptStatus, ConfigurationStatus, MessageType, digest, utcnow
from ..models.configuration import target_link_uri
from ..schemas import StrictInt, http_url, json_request_body, validate
from ..security import Permission
from .browser import bind_browser_session, cookie_hash
from .claims import ROLE_NAMES
from .errors import LtiError
from .single_use import spend_then_move
from .tables import attempt_t, config_t, exam_t, launch_t, session_t
from .urls import platform_urls, with_query


def role_uri(value: str) -> str:
    return value if value.startswith(("http://", "https://")) else ROLE_NAMES[value.lower()]


def _role(node, value):
    if not value.startswith(("http://", "https://")) and value.lower() not in ROLE_NAMES:
        raise colander.Invalid(node, f"must be a LIS role URI or one of: {', '.join(ROLE_NAMES)}")


class LaunchUserSchema(UserSchema):
    role = colander.SchemaNode(colander.String(), validator=colander.All(colander.Length(min=1, max=255), _role))


class CreateLaunchSchema(AttemptTargetSchema):
    config_id = colander.SchemaNode(StrictInt(), validator=colander.Range(min=1))
    message_type = colander.SchemaNode(colander.String(), validator=colander.OneOf([m.value for m in MessageType]))
    user = LaunchUserSchema()
    return_url = colander.SchemaNode(colander.String(), validator=colander.All(colander.Length(max=2048), http_url))


# Built once. The tool configuration, the exam at this resource link and the learner's live
# attempt, in one statement (the exam and attempt LEFT JOINed, so a first launch still finds the tool).
LAUNCH_TARGET_QUERY = (
    select(
        config_t.c.id, config_t.c.status, config_t.c.proctoring_enabled, config_t.c.oidc_login_url,
        config_t.c.launch_url, config_t.c.redirect_uris, config_t.c.backend,
        exam_t.c.id.label("exam_id"), exam_t.c.configuration_id.label("exam_configuration_id"),
        exam_t.c.backend.label("exam_backend"), exam_t.c.time_limit_mins,
        attempt_t.c.id.label("attempt_id"),
    )
    .select_from(config_t)
    .outerjoin(exam_t, and_(exam_t.c.lms_id == bindparam("lms_id"), exam_t.c.context_id == bindparam("context_id"),
                            exam_t.c.resource_link_id == bindparam("resource_link_id")))
    .outerjoin(attempt_t, and_(attempt_t.c.exam_id == exam_t.c.id, attempt_t.c.user_id == bindparam("user_id"),
                               attempt_t.c.attempt_number == bindparam("attempt_number"),
                               attempt_t.c.archived_at.is_(None)))
    .where(config_t.c.id == bindparam("config_id"))
)
INSERT_LAUNCH = insert(launch_t)


def _new_attempt_fast(request, data: dict, target: AttemptRequest, launch: dict):
    """A first ``LtiStartProctoring`` launch of a learner at an exam already set up for this tool
    (nearly every launch): one SELECT, then the new attempt and its ``launch`` row in one INSERT
    each (one statement on PostgreSQL); the attempt's values. None when anything else holds (no
    exam yet, an attempt exists, a check will refuse, a racing twin won the insert), having
    written nothing; the general path then decides, with every check."""
    if data["message_type"] != MessageType.start_proctoring:
        return None
    lms = request.lms
    context_id, resource_link_id = (target.context or {}).get("id", ""), target.resource_link["id"]
    row = request.dbsession.connection().execute(LAUNCH_TARGET_QUERY, {
        "config_id": data["config_id"], "lms_id": lms.id, "context_id": context_id,
        "resource_link_id": resource_link_id,
        "user_id": target.user["id"], "attempt_number": target.attempt_number,
    }).one_or_none()
    if (row is None or row.status != ConfigurationStatus.active or not row.proctoring_enabled
            or not (row.oidc_login_url and row.launch_url and row.redirect_uris)
            or row.exam_id is None or row.exam_configuration_id != row.id or row.attempt_id is not None
            or (row.backend is not None and (row.backend not in request.backends or row.exam_backend is None))):
        return None
    launch = {**launch, "configuration_id": row.id}
    attempt = insert_attempt_if_new(request.dbsession, row.exam_id, target,
                                    then_insert=(launch_t, "attempt_id", launch))
    if attempt is None:
        return None
    # The exam's lms, context and resource link are the ones it was found by.
    exam = SimpleNamespace(lms=SimpleNamespace(slug=lms.slug), context_id=context_id,
                           resource_link_id=resource_link_id, backend=row.exam_backend,
                           time_limit_mins=row.time_limit_mins)
    return SimpleNamespace(**attempt, archived=False, exam=exam)


@view_config(route_name="api.launches", request_method="POST", renderer="json", permission=Permission.lms)
def create_launch(request):
    """Create a single-use launch for the learner's browser: 201 ``{launch_url, expires_at, attempt}``."""
    data = validate(CreateLaunchSchema(), json_request_body(request))
    check_return_url(request, data["return_url"])
    target = attempt_request(data)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + dt.timedelta(seconds=request.app_settings.launch_ttl_seconds)
    launch = {"token_hash": digest(token), "message_type": data["message_type"], "user_id": data["user"]["id"],
              "user_role": role_uri(data["user"]["role"]), "return_url": data["return_url"],
              "created_at": now, "expires_at": expires_at}
    attempt = _new_attempt_fast(request, data, target, launch)
    created = True
    if attempt is None:
        attempt, created = _find_or_create_for_launch(request, data, target)
        request.dbsession.connection().execute(INSERT_LAUNCH, {
            **launch, "attempt_id": attempt.id, "configuration_id": attempt.exam.configuration_id})
        zope.sqlalchemy.mark_changed(request.dbsession)
    request.response.status_int = 201
    return {
        "launch_url": platform_urls(request.app_settings.issuer)["launch_url_prefix"] + token,
        "expires_at": expires_at.isoformat(),
        "attempt": attempt_json(attempt, None if created else review_of(request.dbsession, attempt)),
    }


def _find_or_create_for_launch(request, data: dict, target: AttemptRequest):
    """The general path, through the ORM: every check, in order, with its refusal."""
    configuration = get_configuration(request.dbsession, data["config_id"])
    if configuration.status != ConfigurationStatus.active:
        # A tool that registered itself launches only once an admin approved it.
        raise PreconditionFailed(f"this tool configuration is {configuration.status}: an admin must approve it "
                                 "before it can be launched", code=f"configuration_{configuration.status}",
                                 details={"status": configuration.status})
    if not configuration.proctoring_enabled:
        raise PreconditionFailed("proctoring is not enabled for this tool configuration", code="proctoring_disabled")
    if not (configuration.oidc_login_url and configuration.launch_url and configuration.redirect_uris):
        raise PreconditionFailed("the tool configuration lacks its OIDC login URL, launch URL or redirect URIs",
                                 code="configuration_incomplete")
    attempt, created = find_or_create_attempt(request.dbsession, request.backends, request.lms.id, target)
    if attempt.exam.configuration_id != configuration.id:
        raise Conflict("this exam is proctored through another tool configuration", code="configuration_mismatch",
                       details={"exam_config_id": attempt.exam.configuration_id,
                                "requested_config_id": configuration.id})
    message_type = MessageType(data["message_type"])
    if message_type == MessageType.start_proctoring and not can_move(attempt.status, AttemptStatus.ready_to_start):
        raise Conflict(f"the attempt is {attempt.status}; it cannot be started again", code="invalid_status_change",
                       details={"from": attempt.status, "to": AttemptStatus.ready_to_start.value})
    if message_type == MessageType.end_assessment and not attempt.end_assessment_return:
        raise Conflict("the tool did not ask for an LtiEndAssessment launch for this attempt",
                       code="end_assessment_not_requested")
    # The launch row is written with Core below; what the ORM changed goes first.
    request.dbsession.flush()
    return attempt, created


# Built once. The browser's current session (if its cookie names one) is LEFT JOINed by the
# cookie's digest, so the entry reads launch, tool, attempt and session in one statement.
ENTRY_QUERY = (
    select(
        launch_t.c.id, launch_t.c.entered_at, launch_t.c.expires_at, launch_t.c.message_type, launch_t.c.user_id,
        launch_t.c.attempt_id,
        config_t.c.launch_url, config_t.c.end_assessment_url, config_t.c.oidc_login_url, config_t.c.deployment_id,
        config_t.c.client_id,
        attempt_t.c.attempt_code, attempt_t.c.status.label("attempt_status"), attempt_t.c.started_at,
        session_t.c.id.label("session_id"), session_t.c.user_id.label("session_user_id"),
        session_t.c.expires_at.label("session_expires_at"),
    )
    .join_from(launch_t, config_t, config_t.c.id == launch_t.c.configuration_id)
    .join(attempt_t, attempt_t.c.id == launch_t.c.attempt_id)
    .outerjoin(session_t, session_t.c.cookie_hash == bindparam("cookie_hash"))
    .where(launch_t.c.token_hash == bindparam("token_hash"))
)


@view_config(route_name="lti.launch", request_method="GET", permission=Permission.lti)
def enter_launch(request):
    """The browser's entry: bind the browser session, then third-party-initiated login at the tool."""
    launch = request.dbsession.connection().execute(ENTRY_QUERY, {
        "token_hash": digest(request.matchdict["token"]), "cookie_hash": cookie_hash(request),
    }).one_or_none()
    if launch is None:
        raise NotFound("this launch URL is not known", code="unknown_launch")
    if launch.entered_at is not None:
        raise LtiError("this launch URL was used already; ask the LMS for a new one", code="launch_used")
    if launch.expires_at <= utcnow():
        raise LtiError("this launch URL has expired; ask the LMS for a new one", code="launch_expired")
    hint = secrets.token_urlsafe(32)
    response = HTTPFound()
    response.headers["Cache-Control"] = "no-store"
    current = None if launch.session_id is None else SimpleNamespace(
        id=launch.session_id, user_id=launch.session_user_id, expires_at=launch.session_expires_at)
    session_id, new_session = bind_browser_session(request, response, launch.user_id, current)
    move = None
    if launch.message_type == MessageType.start_proctoring:
        move = {"attempt_id": launch.attempt_id, "attempt_code": launch.attempt_code, "old": launch.attempt_status,
                "started_at": launch.started_at, "new": AttemptStatus.ready_to_start, "reason": "launch"}
    bound = {"browser_session_id": session_id} if new_session is None else {}
    if not spend_then_move(request.dbsession, launch_t, launch.id, "entered_at", move=move,
                           new_row=new_session and (session_t, new_session, "browser_session_id"),
                           message_hint_hash=digest(hint), **bound):
        raise LtiError("this launch URL was used already; ask the LMS for a new one", code="launch_used")
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
