"""``/admin/registrations/``: an admin starts an LTI Dynamic Registration (admins only).

``POST`` ``{"initiation_url", "configuration_id"?, "backend"?}`` answers 201 with the
registration's ``id``, ``expires_at`` and ``redirect_url``: the tool's initiation URL with
``openid_configuration`` and a one-time ``registration_token``. In a browser, the page opens the
tool there in a window and closes it when the tool posts ``org.imsglobal.lti.close``; the
registration's own page then shows what came of it. ``configuration_id`` starts a new
registration of a tool already configured: its answer waits for approval as an update.
"""

from __future__ import annotations

import colander
from pyramid.renderers import render_to_response
from sqlalchemy import select

from ..attempts.serialize import iso
from ..errors import Conflict, NotFound, ProctorhubError
from ..models import ConfigurationStatus, Registration, ToolConfiguration
from ..registrations import service
from ..schemas import StrictInt, tool_url
from ..security import Permission
from . import audit
from .forms import admin_url, enabled_backend, form_data, json_body, render_page
from .resources import RegistrationResource, RegistrationsResource, admin_view

TEMPLATES = "proctorhub:templates/admin/"
LISTED = 50


class StartSchema(colander.MappingSchema):
    initiation_url = colander.SchemaNode(colander.String(), validator=colander.All(colander.Length(max=2048),
                                                                                   tool_url))
    configuration_id = colander.SchemaNode(StrictInt(), missing=None, validator=colander.Range(min=1))
    backend = colander.SchemaNode(colander.String(), missing=None, validator=enabled_backend)


def schema_for(request) -> StartSchema:
    return StartSchema(colander.Mapping(unknown="raise")).bind(backends=request.backends.names())


def _configuration(request, data: dict) -> ToolConfiguration | None:
    """The configuration a registration is started for, if one is named; it must be open to updates."""
    if data.get("configuration_id") in (None, colander.null):
        return None
    configuration = request.dbsession.get(ToolConfiguration, data["configuration_id"])
    if configuration is None:
        raise NotFound("no tool configuration has this id", code="unknown_configuration",
                       details={"configuration_id": data["configuration_id"]})
    if configuration.status == ConfigurationStatus.rejected:
        raise Conflict("this tool configuration was rejected; start a registration for a new tool instead",
                               code="configuration_rejected")
    return configuration


def _start(request, data: dict) -> service.Started:
    configuration = _configuration(request, data)
    backend = data.get("backend") if data.get("backend") not in ("", colander.null) else None
    started = service.start(
        request.dbsession, issuer=request.app_settings.issuer,
        ttl_seconds=request.app_settings.registration_ttl_seconds, initiation_url=data["initiation_url"],
        started_by=audit.actor_label(request), started_by_staff_id=request.identity.staff_user_id,
        configuration=configuration, backend=backend,
    )
    audit.record(request, object_type="registration", object_id=started.registration.id, action="start",
                 changes={"initiation_url": [None, data["initiation_url"]],
                          **({"configuration_id": [None, configuration.id]} if configuration else {})})
    return started


def registration_json(request, registration: Registration) -> dict:
    configuration_url = None
    if registration.configuration_id is not None:
        configuration_url = request.route_url("admin", traverse=f"/configurations/{registration.configuration_id}")
    return {
        "id": registration.id,
        "kind": registration.kind,
        "status": service.registration_state(registration),
        "initiation_url": registration.initiation_url,
        "configuration_id": registration.configuration_id,
        "configuration_url": configuration_url,
        "backend": registration.backend,
        "started_by": registration.started_by,
        "created_at": iso(registration.created_at),
        "expires_at": iso(registration.expires_at),
        "used_at": iso(registration.used_at),
    }


def _recent(request) -> list[Registration]:
    return list(request.dbsession.execute(
        select(Registration).order_by(Registration.id.desc()).limit(LISTED)).scalars())


# -- JSON ----------------------------------------------------------------------------------------------

@admin_view(context=RegistrationsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.manage_configurations)
def registration_list(context, request):
    return {"registrations": [registration_json(request, row) for row in _recent(request)]}


@admin_view(context=RegistrationsResource, request_method="POST", accept="application/json", renderer="json",
             permission=Permission.manage_configurations)
def registration_start(context, request):
    """Start a registration: 201 ``{"id", "expires_at", "redirect_url", ...}``. The registration
    token inside ``redirect_url`` is shown this once."""
    started = _start(request, json_body(request, schema_for(request)))
    request.response.status_int = 201
    return {**registration_json(request, started.registration), "redirect_url": started.redirect_url}


@admin_view(context=RegistrationResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.manage_configurations)
def registration_show(context, request):
    return registration_json(request, context.row)


# -- HTML ----------------------------------------------------------------------------------------------

def _list_page(request, context, *, values=None, errors=None, status=200):
    configurations = list(request.dbsession.execute(
        select(ToolConfiguration).where(ToolConfiguration.status != ConfigurationStatus.rejected)
        .order_by(ToolConfiguration.name)).scalars())
    return render_page(TEMPLATES + "registrations.jinja2", {
        "registrations": [registration_json(request, row) for row in _recent(request)],
        "configurations": configurations, "backends": request.backends.names(),
        "values": values or {}, "errors": errors or {}, "action": admin_url(request, context),
        "url": lambda row: admin_url(request, context, str(row["id"])), "nav": "configurations",
    }, request=request, status=status)


@admin_view(context=RegistrationsResource, request_method="GET", accept="text/html",
             permission=Permission.manage_configurations)
def registrations_page(context, request):
    return _list_page(request, context)


@admin_view(context=RegistrationsResource, request_method="POST", accept="text/html",
             permission=Permission.manage_configurations)
def registration_start_form(context, request):
    """The started registration's page: it opens the tool (the token is in this page only)."""
    data, errors, values = form_data(request, schema_for(request))
    if data is not None:
        try:
            started = _start(request, data)
        except ProctorhubError as error:
            errors = {"configuration_id": error.message}
        else:
            response = render_to_response(TEMPLATES + "registration.jinja2", {
                "registration": registration_json(request, started.registration),
                "redirect_url": started.redirect_url,
                "status_url": admin_url(request, context, str(started.registration.id)),
                "nav": "configurations",
            }, request=request)
            response.status_int = 201
            return response
    return _list_page(request, context, values=values, errors=errors, status=400)


@admin_view(context=RegistrationResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "registration.jinja2", permission=Permission.manage_configurations)
def registration_page(context, request):
    return {"registration": registration_json(request, context.row), "redirect_url": None, "status_url": None,
            "nav": "configurations"}
