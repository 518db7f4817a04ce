"""``/admin/configurations/``: LTI tool registrations (admins only)."""

from __future__ import annotations

from urllib.parse import urlsplit

import colander
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import select

from ..errors import Conflict
from ..models import ToolConfiguration
from ..schemas import StrictBool, parse_json_object, validate
from ..security import Permission
from . import audit
from .forms import admin_url, enabled_backend, json_body
from .resources import ConfigurationResource, ConfigurationsResource, admin_view
from .serialize import configuration_json
from .tool_setup import LABELS, platform_values

TEMPLATES = "proctorhub:templates/admin/"
ACS_ACTIONS = ("pause", "resume", "terminate", "update", "flag")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
FIELDS = ("name", "deployment_id", "oidc_login_url", "launch_url", "redirect_uris", "jwks_url", "public_key_pem",
          "proctoring_enabled", "acs_actions", "backend")


def tool_url(node, value):
    """An absolute https URL (http only on the loopback, for a tool on the same machine), no fragment."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise colander.Invalid(node, "is not a well-formed URL (check the host and port)") from None
    if value != value.strip() or any(c.isspace() for c in value):
        raise colander.Invalid(node, "must not contain spaces")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise colander.Invalid(node, "must be an absolute https:// URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise colander.Invalid(node, "must use https:// (http:// is allowed only for localhost)")
    if parts.fragment:
        raise colander.Invalid(node, "must not have a #fragment")


def pem_public_key(node, value):
    try:
        load_pem_public_key(value.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        raise colander.Invalid(node, "must be a PEM-encoded public key (-----BEGIN PUBLIC KEY-----)") from None


def _url_node(**kw):
    return colander.SchemaNode(colander.String(), validator=colander.All(colander.Length(max=2048), tool_url), **kw)


class RedirectUris(colander.SequenceSchema):
    uri = _url_node()


class AcsActions(colander.SequenceSchema):
    action = colander.SchemaNode(colander.String(), validator=colander.OneOf(ACS_ACTIONS))


class ConfigurationSchema(colander.MappingSchema):
    """A tool configuration, as JSON or from the form. Redirect URIs are kept as the exact strings given."""

    name = colander.SchemaNode(colander.String(), validator=colander.Length(min=1, max=200))
    deployment_id = colander.SchemaNode(colander.String(), missing="1", validator=colander.Length(min=1, max=255))
    oidc_login_url = _url_node()
    launch_url = _url_node()
    redirect_uris = RedirectUris(validator=colander.Length(min=1, max=20))
    jwks_url = _url_node(missing=None)
    public_key_pem = colander.SchemaNode(colander.String(), missing=None,
                                         validator=colander.All(colander.Length(max=20000), pem_public_key))
    proctoring_enabled = colander.SchemaNode(StrictBool(), missing=True)
    acs_actions = AcsActions(missing=[])
    backend = colander.SchemaNode(colander.String(), missing=None, validator=enabled_backend)

    def validator(self, node, value):
        if not value.get("jwks_url") and not value.get("public_key_pem"):
            raise colander.Invalid(node["jwks_url"], "give the tool's JWKS URL or its PEM public key")


def schema_for(request) -> ConfigurationSchema:
    return ConfigurationSchema(colander.Mapping(unknown="raise")).bind(backends=request.backends.names())


def _current(configuration: ToolConfiguration) -> dict:
    return {key: getattr(configuration, key) for key in FIELDS}


def _clean(data: dict) -> dict:
    data = {key: data.get(key) for key in FIELDS}
    for key in ("jwks_url", "public_key_pem", "backend"):
        if data[key] in ("", colander.null):
            data[key] = None
    if data["public_key_pem"]:
        data["public_key_pem"] = data["public_key_pem"].strip() + "\n"
    return data


def _check_name_free(request, name: str, exclude_id: int | None = None) -> None:
    query = select(ToolConfiguration.id).where(ToolConfiguration.name == name)
    if exclude_id is not None:
        query = query.where(ToolConfiguration.id != exclude_id)
    if request.dbsession.execute(query).first() is not None:
        raise Conflict(f"a tool configuration is already named {name!r}", code="configuration_name_taken",
                       details={"fields": {"name": "already taken"}})


def create(request, data: dict) -> ToolConfiguration:
    data = _clean(data)
    _check_name_free(request, data["name"])
    configuration = ToolConfiguration(**data)
    request.dbsession.add(configuration)
    request.dbsession.flush()
    audit.record(request, object_type="configuration", object_id=configuration.id, action="create",
                 changes={key: [None, value] for key, value in data.items() if value not in (None, [], "")})
    return configuration


def update(request, configuration: ToolConfiguration, data: dict) -> ToolConfiguration:
    data = _clean(data)
    _check_name_free(request, data["name"], exclude_id=configuration.id)
    changes = audit.diff(configuration, data)
    for key, value in data.items():
        setattr(configuration, key, value)
    if changes:
        request.dbsession.flush()
        audit.record(request, object_type="configuration", object_id=configuration.id, action="update",
                     changes=changes)
    return configuration


# -- JSON ----------------------------------------------------------------------------------------------

@admin_view(context=ConfigurationsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.manage_configurations)
def configuration_list(context, request):
    rows = request.dbsession.execute(select(ToolConfiguration).order_by(ToolConfiguration.name)).scalars()
    return {"configurations": [configuration_json(request, row, setup=False) for row in rows]}


@admin_view(context=ConfigurationsResource, request_method="POST", accept="application/json", renderer="json",
             permission=Permission.manage_configurations)
def configuration_create(context, request):
    """Register a tool: 201 with the configuration and what the tool's administrator must enter."""
    configuration = create(request, json_body(request, schema_for(request)))
    request.response.status_int = 201
    return configuration_json(request, configuration)


@admin_view(context=ConfigurationResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.manage_configurations)
def configuration_show(context, request):
    answer = configuration_json(request, context.row)
    answer["audit"] = [audit.audit_json(e) for e in audit.entries_for(request.dbsession, "configuration",
                                                                       context.row.id)]
    return answer


@admin_view(context=ConfigurationResource, request_method=("PUT", "PATCH", "POST"), accept="application/json",
             renderer="json", permission=Permission.manage_configurations)
def configuration_update(context, request):
    """Change some fields; those not sent keep their values. The client id never changes."""
    body = parse_json_object(request.body)
    data = validate(schema_for(request), {**_json_ready(_current(context.row)), **body})
    return configuration_json(request, update(request, context.row, data))


def _json_ready(values: dict) -> dict:
    return {key: (colander.null if value is None else value) for key, value in values.items()}


# -- HTML ----------------------------------------------------------------------------------------------

def _form_values(request) -> dict:
    """The form's fields as the JSON schema expects them."""
    post = request.POST
    return {
        "name": post.get("name", "").strip(),
        "deployment_id": post.get("deployment_id", "").strip() or "1",
        "oidc_login_url": post.get("oidc_login_url", "").strip(),
        "launch_url": post.get("launch_url", "").strip(),
        "redirect_uris": [line.strip() for line in post.get("redirect_uris", "").splitlines() if line.strip()],
        "jwks_url": post.get("jwks_url", "").strip() or colander.null,
        "public_key_pem": post.get("public_key_pem", "").strip() or colander.null,
        "proctoring_enabled": post.get("proctoring_enabled") == "on",
        "acs_actions": post.getall("acs_actions"),
        "backend": post.get("backend", "").strip() or colander.null,
    }


def _validate_form(request):
    values = _form_values(request)
    try:
        return schema_for(request).deserialize(values), {}, values
    except colander.Invalid as invalid:
        errors = {key: message for key, message in invalid.asdict().items()}
        return None, errors, values


def _form_page(request, *, values, errors, action, configuration=None, status=200):
    response = render_to_response(TEMPLATES + "configuration_form.jinja2", {
        "values": values, "errors": errors, "action": action, "configuration": configuration,
        "acs_choices": ACS_ACTIONS, "backends": request.backends.names(), "nav": "configurations",
    }, request=request)
    response.status_int = status
    return response


@admin_view(context=ConfigurationsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "configurations.jinja2", permission=Permission.manage_configurations)
def configurations_page(context, request):
    rows = list(request.dbsession.execute(select(ToolConfiguration).order_by(ToolConfiguration.name)).scalars())
    return {"configurations": rows, "new_url": admin_url(request, context, "new"),
            "url": lambda row: admin_url(request, context, str(row.id)), "nav": "configurations"}


@admin_view(context=ConfigurationsResource, name="new", request_method="GET", accept="text/html",
             permission=Permission.manage_configurations)
def configuration_new_page(context, request):
    values = {"deployment_id": "1", "proctoring_enabled": True, "redirect_uris": [], "acs_actions": []}
    return _form_page(request, values=values, errors={}, action=admin_url(request, context))


@admin_view(context=ConfigurationsResource, request_method="POST", accept="text/html",
             permission=Permission.manage_configurations)
def configuration_create_form(context, request):
    data, errors, values = _validate_form(request)
    if data is not None:
        try:
            configuration = create(request, data)
        except Conflict as conflict:
            errors = conflict.details["fields"]
        else:
            request.session.flash(f"Tool configuration “{configuration.name}” created.")
            return HTTPSeeOther(admin_url(request, context, str(configuration.id)))
    return _form_page(request, values=values, errors=errors, action=admin_url(request, context), status=400)


@admin_view(context=ConfigurationResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "configuration.jinja2", permission=Permission.manage_configurations)
def configuration_page(context, request):
    return {
        "configuration": context.row,
        "setup": platform_values(request, context.row),
        "labels": LABELS,
        "edit_url": admin_url(request, context, "edit"),
        "audit_entries": audit.entries_for(request.dbsession, "configuration", context.row.id),
        "nav": "configurations",
    }


@admin_view(context=ConfigurationResource, name="edit", request_method="GET", accept="text/html",
             permission=Permission.manage_configurations)
def configuration_edit_page(context, request):
    return _form_page(request, values=_current(context.row), errors={}, action=admin_url(request, context),
                      configuration=context.row)


@admin_view(context=ConfigurationResource, request_method="POST", accept="text/html",
             permission=Permission.manage_configurations)
def configuration_update_form(context, request):
    data, errors, values = _validate_form(request)
    if data is not None:
        try:
            update(request, context.row, data)
        except Conflict as conflict:
            errors = conflict.details["fields"]
        else:
            request.session.flash("Tool configuration saved.")
            return HTTPSeeOther(admin_url(request, context))
    return _form_page(request, values=values, errors=errors, action=admin_url(request, context),
                      configuration=context.row, status=400)
