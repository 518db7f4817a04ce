"""``/admin/configurations/``: LTI tool registrations (admins only)."""

from __future__ import annotations

import re

import colander
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from ..errors import Conflict
from ..lti.setup_values import tool_setup_values
from ..models import ToolConfiguration
from ..models.configuration import ACS_ACTIONS
from ..outbound import OutboundRefused
from ..registrations.service import awaiting_approval
from ..schemas import FiniteNumber, StrictBool, tool_url
from ..security import Permission
from . import audit
from .forms import admin_url, enabled_backend, form_data, json_body, json_update, render_page
from .resources import ConfigurationResource, ConfigurationsResource, admin_view
from .serialize import configuration_json
from .tool_setup import LABELS

TEMPLATES = "proctorhub:templates/admin/"
FIELDS = ("name", "deployment_id", "oidc_login_url", "launch_url", "redirect_uris", "jwks_url", "public_key_pem",
          "proctoring_enabled", "acs_actions", "backend", "acs_review", "acs_severity_threshold",
          "acs_submitted_reason_codes", "custom")
# An LTI custom parameter's name: what a tool's launch handler can read as a plain key.
CUSTOM_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class FormNumber(FiniteNumber):
    """A finite number; from the form, the text of one."""

    def deserialize(self, node, cstruct):
        if isinstance(cstruct, str):
            try:
                cstruct = float(cstruct)
            except ValueError:
                raise colander.Invalid(node, "must be a number") from None
        return super().deserialize(node, cstruct)


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


class ReasonCodes(colander.SequenceSchema):
    code = colander.SchemaNode(colander.String(), validator=colander.Length(min=1, max=255))


class CustomParameters(colander.SchemaType):
    """LTI custom parameters: a JSON object of names to text values, or (from the form) one
    ``name=value`` a line. Values may hold substitution variables ($User.id, ...)."""

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None or cstruct == "":
            return {}
        if isinstance(cstruct, str):
            pairs = {}
            for number, line in enumerate(cstruct.splitlines(), start=1):
                if not line.strip():
                    continue
                name, sep, value = line.partition("=")
                if not sep:
                    raise colander.Invalid(node, f"line {number}: write name=value")
                pairs[name.strip()] = value.strip()
            cstruct = pairs
        if not isinstance(cstruct, dict) or len(cstruct) > 50:
            raise colander.Invalid(node, "must be an object of at most 50 names to text values")
        for name, value in cstruct.items():
            if not CUSTOM_NAME.fullmatch(name):
                raise colander.Invalid(node, f"{name!r}: a name is 1 to 64 letters, digits, '_', '.' or '-'")
            if not isinstance(value, str) or len(value) > 1000:
                raise colander.Invalid(node, f"{name!r}: a value is text of at most 1000 characters")
        return dict(cstruct)


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
    # A tool reviewing through ACS (Proctorio in edx-exams): a terminate with one of these reason
    # codes settles the attempt like a review, suspicious above the severity threshold.
    acs_review = colander.SchemaNode(StrictBool(), missing=False)
    acs_severity_threshold = colander.SchemaNode(FormNumber(), missing=0.25, validator=colander.Range(min=0, max=1))
    acs_submitted_reason_codes = ReasonCodes(missing=[])
    custom = colander.SchemaNode(CustomParameters(), missing={})

    def validator(self, node, value):
        if not value.get("jwks_url") and not value.get("public_key_pem"):
            raise colander.Invalid(node["jwks_url"], "give the tool's JWKS URL or its PEM public key")
        if value.get("jwks_url"):
            # proctorhub fetches this URL itself: refuse now what the fetch would refuse later.
            try:
                node.bindings["outbound"].check_url(value["jwks_url"])
            except OutboundRefused:
                raise colander.Invalid(node["jwks_url"], "must not name a private, loopback, link-local or other "
                                                         "non-public address (or a host resolving to one)") from None


def schema_for(request) -> ConfigurationSchema:
    return ConfigurationSchema(colander.Mapping(unknown="raise")).bind(backends=request.backends.names(),
                                                                        outbound=request.outbound)


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
    audit.apply_update(request, configuration, data, object_type="configuration")
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
    data = json_update(request, schema_for(request), context.row, FIELDS)
    return configuration_json(request, update(request, context.row, data))


# -- HTML ----------------------------------------------------------------------------------------------

def _form_page(request, *, values, errors, action, configuration=None, status=200):
    return render_page(TEMPLATES + "configuration_form.jinja2", {
        "values": values, "errors": errors, "action": action, "configuration": configuration,
        "acs_choices": ACS_ACTIONS, "backends": request.backends.names(), "nav": "configurations",
    }, request=request, status=status)


def _submit_form(request, save, *, action, configuration=None):
    """Validate the form and ``save(data)``; on a refusal, the form again with what was sent and why."""
    data, errors, values = form_data(request, schema_for(request))
    if data is not None:
        try:
            return save(data)
        except Conflict as conflict:
            errors = conflict.details["fields"]
    return _form_page(request, values=values, errors=errors, action=action, configuration=configuration,
                      status=400)


@admin_view(context=ConfigurationsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "configurations.jinja2", permission=Permission.manage_configurations)
def configurations_page(context, request):
    rows = list(request.dbsession.execute(select(ToolConfiguration).order_by(ToolConfiguration.name)).scalars())
    awaiting = [row for row in rows if awaiting_approval(row)]
    # What waits for an admin's approval comes first.
    rows = awaiting + [row for row in rows if row not in awaiting]
    return {"configurations": rows, "awaiting": awaiting, "new_url": admin_url(request, context, "new"),
            "registrations_url": admin_url(request, context.__parent__["registrations"]),
            "url": lambda row: admin_url(request, context, str(row.id)), "nav": "configurations"}


@admin_view(context=ConfigurationsResource, name="new", request_method="GET", accept="text/html",
             permission=Permission.manage_configurations)
def configuration_new_page(context, request):
    values = {"deployment_id": "1", "proctoring_enabled": True, "redirect_uris": [], "acs_actions": [],
              "acs_severity_threshold": 0.25, "acs_submitted_reason_codes": [], "custom": {}}
    return _form_page(request, values=values, errors={}, action=admin_url(request, context))


@admin_view(context=ConfigurationsResource, request_method="POST", accept="text/html",
             permission=Permission.manage_configurations)
def configuration_create_form(context, request):
    def save(data):
        configuration = create(request, data)
        request.session.flash(f"Tool configuration “{configuration.name}” created.")
        return HTTPSeeOther(admin_url(request, context, str(configuration.id)))

    return _submit_form(request, save, action=admin_url(request, context))


@admin_view(context=ConfigurationResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "configuration.jinja2", permission=Permission.manage_configurations)
def configuration_page(context, request):
    return {
        "configuration": context.row,
        "setup": tool_setup_values(request, context.row),
        "labels": LABELS,
        "edit_url": admin_url(request, context, "edit"),
        "awaiting_approval": awaiting_approval(context.row),
        "approve_url": admin_url(request, context, "approve"),
        "reject_url": admin_url(request, context, "reject"),
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
    def save(data):
        update(request, context.row, data)
        request.session.flash("Tool configuration saved.")
        return HTTPSeeOther(admin_url(request, context))

    return _submit_form(request, save, action=admin_url(request, context), configuration=context.row)
