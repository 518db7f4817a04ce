"""``/admin/lms/``: the lmss (tenants) and, for each, its API tokens (admins only).

An admin creates an lms here (JSON ``{"name", "slug"?}`` or the form), as ``proctorhub lms
create`` does: 400 ``invalid_payload`` for a bad name or slug, 409 ``lms_exists`` for a slug in use.
"""

from __future__ import annotations

import colander
from pyramid.httpexceptions import HTTPSeeOther

from ..attempts.serialize import iso
from ..errors import Conflict, InvalidPayload
from ..lms.service import create_lms, list_lmss, tokens_of
from ..models import ApiToken, Lms
from ..security import Permission
from ..webhooks import service as webhooks_service
from .forms import admin_url, form_data, json_body, render_page
from .resources import LmsResource, LmssResource, admin_view

TEMPLATES = "proctorhub:templates/admin/"


class LmsSchema(colander.MappingSchema):
    """A new lms; its slug is made from the name when not given (see ``models.lms``)."""

    name = colander.SchemaNode(colander.String(), preparer=lambda v: v.strip() if isinstance(v, str) else v,
                               validator=colander.Length(min=1, max=200))
    slug = colander.SchemaNode(colander.String(), missing=None, validator=colander.Length(max=64))


def _schema():
    return LmsSchema(colander.Mapping(unknown="raise"))


def lms_json(request, context, lms: Lms) -> dict:
    return {"slug": lms.slug, "name": lms.name, "created_at": iso(lms.created_at),
            "url": admin_url(request, context, lms.slug)}


def token_json(token: ApiToken) -> dict:
    return {"id": token.id, "name": token.name, "role": token.role, "created_at": iso(token.created_at),
            "revoked_at": iso(token.revoked_at)}


def _lms_parent(context):
    return context.__parent__


# -- JSON ----------------------------------------------------------------------------------------------

@admin_view(context=LmssResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.manage_lms)
def lms_list(context, request):
    return {"lms": [lms_json(request, context, lms) for lms in list_lmss(request.dbsession)]}


@admin_view(context=LmssResource, request_method="POST", accept="application/json", renderer="json",
             permission=Permission.manage_lms)
def lms_create(context, request):
    """Create an lms: 201 with it (``slug``, ``name``, ``url``)."""
    data = json_body(request, _schema())
    lms = create_lms(request.dbsession, data["name"], data["slug"])
    request.response.status_int = 201
    return lms_json(request, context, lms)


@admin_view(context=LmsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.manage_lms)
def lms_show(context, request):
    """The lms and its API tokens (names and dates; a token itself is never shown again)."""
    answer = lms_json(request, _lms_parent(context), context.row)
    answer["tokens"] = [token_json(t) for t in tokens_of(request.dbsession, context.row)]
    # Its webhook receivers (managed below it, at webhooks/) and where their deliveries are.
    answer["webhooks"] = [{"id": e.id, "url": e.url, "events": list(e.events), "enabled": e.enabled,
                           "disabled_reason": e.disabled_reason}
                          for e in webhooks_service.endpoints_of(request.dbsession, context.row.id)]
    answer["links"] = {"webhooks": admin_url(request, context, "webhooks", ""),
                       "deliveries": admin_url(request, context, "deliveries", "")}
    return answer


# -- HTML ----------------------------------------------------------------------------------------------

def _list_page(context, request, *, values=None, errors=None, status=200):
    return render_page(TEMPLATES + "lmss.jinja2", {
        "lmss": list_lmss(request.dbsession),
        "url": lambda lms: admin_url(request, context, lms.slug),
        "action": admin_url(request, context),
        "values": values or {},
        "errors": errors or {},
        "nav": "lms",
    }, request=request, status=status)


@admin_view(context=LmssResource, request_method="GET", accept="text/html", permission=Permission.manage_lms)
def lms_list_page(context, request):
    return _list_page(context, request)


@admin_view(context=LmssResource, request_method="POST", accept="text/html", permission=Permission.manage_lms)
def lms_create_form(context, request):
    data, errors, values = form_data(request, _schema())
    if data is not None:
        try:
            lms = create_lms(request.dbsession, data["name"], data["slug"] or None)
        except (InvalidPayload, Conflict) as refusal:
            errors = refusal.details.get("fields") or {"slug": refusal.message}
        else:
            request.session.flash(f"LMS “{lms.name}” created: {lms.slug}.")
            return HTTPSeeOther(admin_url(request, context, lms.slug))
    return _list_page(context, request, values=values, errors=errors, status=400)


@admin_view(context=LmsResource, request_method="GET", accept="text/html", renderer=TEMPLATES + "lms.jinja2",
             permission=Permission.manage_lms)
def lms_page(context, request):
    return {"lms": context.row, "tokens": tokens_of(request.dbsession, context.row), "nav": "lms",
            "webhooks": webhooks_service.endpoints_of(request.dbsession, context.row.id),
            "webhooks_url": admin_url(request, context, "webhooks", ""),
            "deliveries_url": admin_url(request, context, "deliveries", "")}
