"""The Assessment Control Service's endpoints: ``POST /lti/token`` (OAuth 2 client credentials
with a JWT assertion) and ``POST /lti/acs`` (pause, resume, terminate, update, flag), which the
tool calls during and after the exam. The rules live in ``control.py`` and ``access_tokens.py``."""

from __future__ import annotations

import datetime as dt

import colander
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config

from ..errors import InvalidPayload, NotAcceptable, UnsupportedMediaType
from ..models.configuration import ACS_ACTIONS
from ..schemas import Identifier, StrictInt, drop_nulls, parse_json_object, validate
from ..security import Permission
from . import access_tokens
from .access_tokens import OAuthError
from .acs_review import settle_terminate
from .control import ControlRequest, apply_control

CONTROL_MEDIA_TYPE = "application/vnd.ims.lti-ap.v1.control+json"
ACCEPTED_MEDIA_TYPES = (CONTROL_MEDIA_TYPE, "application/json")


@view_config(route_name="lti.token", request_method="POST", renderer="json", permission=Permission.lti)
def issue_token(request):
    """Client credentials with a JWT assertion signed by the tool: an ACS access token.
    Refusals are RFC 6749 section 5.2 answers (``{"error", "error_description"}``)."""
    answer = access_tokens.issue(request.dbsession, request.POST, settings=request.app_settings,
                                 encryptor=request.encryptor)
    # RFC 6749 5.1 asks HTTP/1.0 caches too (the security headers tween sets Cache-Control).
    request.response.headers["Pragma"] = "no-cache"
    return answer


@exception_view_config(OAuthError)
def oauth_refused(exc, request):
    body = {"error": exc.code, "error_description": exc.message}
    if exc.details:
        body["details"] = exc.details
    response = Response(json_body=body, content_type="application/json", status=exc.status)
    response.headers["Pragma"] = "no-cache"  # as on the answer (RFC 6749 5.1)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="proctorhub", error="invalid_client"'
    return response


def _severity(node, value):
    if not 0 <= value <= 1:
        raise colander.Invalid(node, "must be between 0 and 1")


class Severity(colander.Float):
    """A JSON number, or a string holding one (edx-exams' Proctorio integration sends a string)."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, str):
            try:
                cstruct = float(cstruct.strip())
            except ValueError:
                raise colander.Invalid(node, "must be a number from 0 to 1") from None
        if isinstance(cstruct, bool) or not isinstance(cstruct, int | float) or cstruct != cstruct:
            raise colander.Invalid(node, "must be a number from 0 to 1")
        return float(cstruct)


def _incident_time(node, value):
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise colander.Invalid(node, "must be an ISO 8601 date and time, e.g. 2018-02-01T10:45:33Z") from None
    if moment.tzinfo is None:
        raise colander.Invalid(node, "must name its time zone (Z for UTC)")


class AcsUserSchema(colander.MappingSchema):
    iss = colander.SchemaNode(colander.String(), missing=colander.null)
    sub = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))


class AcsLinkSchema(colander.MappingSchema):
    id = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))


class AcsRequestSchema(colander.MappingSchema):
    user = AcsUserSchema()
    resource_link = AcsLinkSchema()
    attempt_number = colander.SchemaNode(StrictInt(), validator=colander.Range(min=1))
    action = colander.SchemaNode(colander.String(), validator=colander.OneOf(ACS_ACTIONS))
    incident_time = colander.SchemaNode(colander.String(), missing=colander.null,
                                        validator=colander.All(colander.Length(max=64), _incident_time))
    incident_severity = colander.SchemaNode(Severity(), missing=colander.null, validator=_severity)
    # Whole minutes, the total granted (the spec's implementers read it so: Celtic, TAO).
    extra_time = colander.SchemaNode(StrictInt(), missing=colander.null, validator=colander.Range(min=0, max=100000))
    reason_code = colander.SchemaNode(Identifier(), missing=colander.null, validator=colander.Length(max=255))
    reason_msg = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=4000))


def _answer_media_type(request) -> str:
    """The media type of the answer: 406 when the caller accepts neither the spec's nor JSON.
    A caller that sent plain JSON and accepts anything gets plain JSON back."""
    sent = (request.content_type or "").lower()
    offers = list(ACCEPTED_MEDIA_TYPES)
    if sent == "application/json":
        offers.reverse()
    if not request.accept:
        return offers[0]
    acceptable = request.accept.acceptable_offers(offers)
    if not acceptable:
        raise NotAcceptable(f"the ACS answers {CONTROL_MEDIA_TYPE} (or application/json); the Accept header "
                            "allows neither", details={"offered": list(ACCEPTED_MEDIA_TYPES)})
    return acceptable[0][0]


def _control_request(request) -> tuple[ControlRequest, dict]:
    if (request.content_type or "").lower() not in ACCEPTED_MEDIA_TYPES:
        raise UnsupportedMediaType(f"send the request as {CONTROL_MEDIA_TYPE} (or application/json)",
                                   details={"content_type": request.content_type or None})
    raw = parse_json_object(request.body)
    data = drop_nulls(validate(AcsRequestSchema(), raw))
    issuer = data["user"].get("iss")
    # Not required (a 1EdTech correction), but when sent it must be ours.
    if issuer is not None and issuer != request.app_settings.issuer:
        raise InvalidPayload("user.iss is not this platform's issuer",
                             details={"fields": {"user.iss": f"must be {request.app_settings.issuer}"}})
    control = ControlRequest(
        user_sub=data["user"]["sub"], resource_link_id=data["resource_link"]["id"],
        attempt_number=data["attempt_number"], action=data["action"],
        **{name: data.get(name) for name in ("incident_time", "incident_severity", "extra_time", "reason_code",
                                             "reason_msg")})
    return control, raw


@view_config(route_name="lti.acs", request_method="POST", permission=Permission.lti)
def assessment_control(request):
    """Apply an ACS action to the attempt named by user, resource link and attempt number:
    200 ``{"status": "none|running|paused|terminated|complete", "extra_time": minutes}``."""
    media_type = _answer_media_type(request)
    client_id = access_tokens.bearer_client(request)
    control, raw = _control_request(request)
    now = request.now

    def on_terminate(attempt, configuration):
        settle_terminate(request.dbsession, attempt=attempt, configuration=configuration, control=control,
                         raw=raw, now=now, app_settings=request.app_settings)

    result = apply_control(request.dbsession, client_id=client_id, request=control, raw=raw, now=now,
                           on_terminate=on_terminate)
    return Response(json_body={"status": result.status, "extra_time": result.extra_time},
                    content_type=media_type, charset=None)
