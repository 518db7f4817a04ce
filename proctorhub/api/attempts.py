"""``/api/v1/attempts``: the LMS creates, reads and archives attempts, within its own lms
(``request.lms``): another lms's attempt is 404 ``unknown_attempt``, as if it did not exist."""

from __future__ import annotations

import colander
from pyramid.view import view_config

from ..attempts.serialize import attempt_json
from ..attempts.service import AttemptRequest, archive, find_or_create_attempt, get_attempt, review_of
from ..schemas import Identifier, StrictBool, StrictInt, drop_nulls, json_request_body, validate
from ..security import Permission


class UserSchema(colander.MappingSchema):
    id = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))
    name = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))
    email = colander.SchemaNode(colander.String(), missing=colander.null,
                                validator=colander.All(colander.Length(max=255), colander.Email()))
    given_name = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))
    family_name = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))


class LinkSchema(colander.MappingSchema):
    id = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))
    title = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))


class ExamSchema(colander.MappingSchema):
    name = colander.SchemaNode(colander.String(), preparer=lambda v: v.strip() if isinstance(v, str) else v,
                               validator=colander.Length(min=1, max=255))
    time_limit_mins = colander.SchemaNode(StrictInt(), missing=colander.null, validator=colander.Range(min=1))
    is_practice = colander.SchemaNode(StrictBool(), missing=False)


class AttemptTargetSchema(colander.MappingSchema):
    """What identifies an attempt; shared with the launch API."""

    config_id = colander.SchemaNode(StrictInt(), missing=colander.null)
    user = UserSchema()
    resource_link = LinkSchema()
    context = LinkSchema(missing=colander.null)
    attempt_number = colander.SchemaNode(StrictInt(), validator=colander.Range(min=1))
    external_id = colander.SchemaNode(Identifier(), missing=colander.null, validator=colander.Length(max=255))


class CreateAttemptSchema(AttemptTargetSchema):
    backend = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=64))
    exam = ExamSchema(missing=colander.null)


def attempt_request(data: dict) -> AttemptRequest:
    data = drop_nulls(data)
    return AttemptRequest(
        user=data["user"],
        resource_link=data["resource_link"],
        attempt_number=data["attempt_number"],
        context=data.get("context"),
        exam=data.get("exam"),
        config_id=data.get("config_id"),
        backend=data.get("backend"),
        external_id=data.get("external_id"),
    )


@view_config(route_name="api.attempts", request_method="POST", renderer="json", permission=Permission.lms)
def create_attempt(request):
    """Find or create the learner's attempt: 201 when created, 200 when it already existed."""
    data = validate(CreateAttemptSchema(), json_request_body(request))
    attempt, created = find_or_create_attempt(request.dbsession, request.backends, request.lms.id,
                                              attempt_request(data))
    request.response.status_int = 201 if created else 200
    return attempt_json(attempt, None if created else review_of(request.dbsession, attempt), now=request.now)


@view_config(route_name="api.attempt", request_method="GET", renderer="json", permission=Permission.lms)
def show_attempt(request):
    attempt = get_attempt(request.dbsession, request.matchdict["attempt_code"], request.lms.id)
    return attempt_json(attempt, review_of(request.dbsession, attempt), now=request.now)


@view_config(route_name="api.attempt", request_method="DELETE", renderer="json", permission=Permission.lms)
def archive_attempt(request):
    """Archive the attempt (a reset or retake). It is never erased; late reviews still land."""
    attempt = get_attempt(request.dbsession, request.matchdict["attempt_code"], request.lms.id)
    archive(request.dbsession, attempt)
    return attempt_json(attempt, review_of(request.dbsession, attempt), now=request.now)
