"""``POST /api/v1/launches``: the LMS asks for a single-use launch URL for the learner's browser
(the service form of ``get_lti_1p3_launch_start_url(launch_data)``)."""

from __future__ import annotations

import datetime as dt
import secrets

import colander
from pyramid.view import view_config

from ..attempts.serialize import attempt_json
from ..attempts.service import review_of
from ..lms.return_urls import check_return_url
from ..lti.claims import ROLE_NAMES
from ..lti.launch_service import create_launch as create_launch_row
from ..lti.urls import platform_urls
from ..models import MessageType, digest, utcnow
from ..schemas import StrictInt, http_url, json_request_body, validate
from ..security import Permission
from .attempts import AttemptTargetSchema, UserSchema, attempt_request


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


@view_config(route_name="api.launches", request_method="POST", renderer="json", permission=Permission.lms)
def create_launch(request):
    """Create a single-use launch for the learner's browser: 201 ``{launch_url, expires_at, attempt}``."""
    data = validate(CreateLaunchSchema(), json_request_body(request))
    check_return_url(request, data["return_url"])
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + dt.timedelta(seconds=request.app_settings.launch_ttl_seconds)
    launch = {"token_hash": digest(token), "message_type": data["message_type"], "user_id": data["user"]["id"],
              "user_role": role_uri(data["user"]["role"]), "return_url": data["return_url"],
              "created_at": now, "expires_at": expires_at}
    attempt, created = create_launch_row(request.dbsession, lms=request.lms, backends=request.backends, data=data,
                                         target=attempt_request(data), launch=launch)
    request.response.status_int = 201
    return {
        "launch_url": platform_urls(request.app_settings.issuer)["launch_url_prefix"] + token,
        "expires_at": expires_at.isoformat(),
        "attempt": attempt_json(attempt, None if created else review_of(request.dbsession, attempt),
                                now=request.now),
    }
