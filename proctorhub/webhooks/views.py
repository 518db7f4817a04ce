"""``/admin/lms/{slug}/webhooks/``: an lms's webhook receivers and their deliveries (admins only).

JSON for programs, HTML for people, the same checks for both (``service``). Each bad input is a
4xx with its own code and writes nothing: ``invalid_url``, ``url_not_https``, ``url_has_credentials``,
``url_has_fragment``, ``private_address``, ``unknown_event_type``, ``invalid_payload``; a receiver
or delivery of another lms is 404 ``unknown_webhook`` / ``unknown_delivery``; a replay of a delivery
a worker is sending right now is 409 ``delivery_in_flight``.
"""

from __future__ import annotations

from functools import partial

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from ..admin.forms import admin_url, json_body, render_page
from ..admin.listing import PageSchema, page_links, parse_list_params
from ..admin.resources import admin_view
from ..attempts.serialize import iso
from ..errors import Conflict, ProctorhubError
from ..models import utcnow
from ..models.webhook import DeliveryStatus
from ..schemas import StrictBool
from ..security import Permission
from . import service
from .resources import DeliveriesResource, DeliveryResource, WebhookResource, WebhooksResource
from .secrets import SecretBox

TEMPLATES = "proctorhub:templates/admin/"
PERMISSION = Permission.manage_lms


class EventTypes(colander.SequenceSchema):
    event = colander.SchemaNode(colander.String())


class WebhookCreateSchema(colander.MappingSchema):
    url = colander.SchemaNode(colander.String())
    events = EventTypes(missing=["*"])
    description = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=500))


class WebhookUpdateSchema(colander.MappingSchema):
    url = colander.SchemaNode(colander.String(), missing=colander.drop)
    events = EventTypes(missing=colander.drop)
    description = colander.SchemaNode(colander.String(), missing=colander.drop, validator=colander.Length(max=500))
    enabled = colander.SchemaNode(StrictBool(), missing=colander.drop)


def _box(request) -> SecretBox:
    return SecretBox(request.registry.encryptor)


def _overlap(request):
    return request.registry.worker_settings.rotation_overlap


def _allow_private(request) -> bool:
    return request.app_settings.outbound_allow_private_addresses


def endpoint_json(request, context, endpoint) -> dict:
    return {
        "id": endpoint.id,
        "lms": context.lms.slug,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": iso(endpoint.failing_since),
        "previous_secret_expires_at": iso(endpoint.previous_secret_expires_at)
        if endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > utcnow() else None,
        "created_at": iso(endpoint.created_at),
        "modified_at": iso(endpoint.modified_at),
    }


def try_json(row) -> dict:
    return {"started_at": iso(row.started_at), "duration_ms": row.duration_ms, "response_status": row.response_status,
            "response_body": row.response_body, "error": row.error}


def delivery_json(delivery, tries, now) -> dict:
    sending_until = service.sending_until(delivery, now)
    return {
        "id": delivery.id,
        "webhook": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "type": delivery.kind,
        "webhook_id": delivery.webhook_id,
        "status": delivery.status,
        "tries": delivery.tries,
        "next_try_at": iso(delivery.next_try_at) if delivery.status == DeliveryStatus.pending else None,
        "in_flight": sending_until is not None,
        "leased_until": iso(sending_until),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "delivered_at": iso(delivery.delivered_at),
        "attempts": [try_json(t) for t in tries],
    }


class DeliveryListSchema(PageSchema):
    status = colander.SchemaNode(colander.String(), missing=None,
                                 validator=colander.OneOf([s.value for s in DeliveryStatus]))


def _deliveries(request, context: DeliveriesResource):
    """A page of deliveries (``?status=``, paged as the admin's other lists) and the tries of each."""
    params = parse_list_params(request.GET, DeliveryListSchema())
    page = service.deliveries_of(request.dbsession, context.lms.id, context.endpoint_id, status=params["status"],
                                 after=params["after"], before=params["before"], limit=params["limit"])
    return params, page, service.tries_of(request.dbsession, [d.id for d in page.rows])


# -- JSON ------------------------------------------------------------------------------------------------

@admin_view(context=WebhooksResource, request_method="GET", accept="application/json", renderer="json",
             permission=PERMISSION)
def webhook_list(context, request):
    return {"webhooks": [endpoint_json(request, context, e) for e in service.endpoints_of(request.dbsession,
                                                                                          context.lms.id)]}


@admin_view(context=WebhooksResource, request_method="POST", accept="application/json", renderer="json",
             permission=PERMISSION)
def webhook_create(context, request):
    """Register a receiver: ``{"url", "events": ["*"] | types, "description"?}`` → 201 with its ``id`` and
    its signing ``secret`` (``whsec_…``), shown this once."""
    data = json_body(request, WebhookCreateSchema(colander.Mapping(unknown="raise")))
    endpoint, secret = service.create_endpoint(request.dbsession, _box(request), lms_id=context.lms.id,
                                               url=data["url"], events=data["events"],
                                               description=data["description"], allow_private=_allow_private(request))
    request.response.status_int = 201
    return {**endpoint_json(request, context, endpoint), "secret": secret}


@admin_view(context=WebhookResource, request_method="GET", accept="application/json", renderer="json",
             permission=PERMISSION)
def webhook_show(context, request):
    return endpoint_json(request, context.__parent__, context.row)


@admin_view(context=WebhookResource, request_method=("PATCH", "PUT"), accept="application/json", renderer="json",
             permission=PERMISSION)
def webhook_update(context, request):
    """Change some of ``url``, ``events``, ``enabled``, ``description``."""
    data = json_body(request, WebhookUpdateSchema(colander.Mapping(unknown="raise")))
    service.update_endpoint(context.row, data, allow_private=_allow_private(request))
    return endpoint_json(request, context.__parent__, context.row)


@admin_view(context=WebhookResource, name="rotate-secret", request_method="POST", accept="application/json",
             renderer="json", permission=PERMISSION)
def webhook_rotate(context, request):
    """A new secret (shown this once); messages carry a signature with the old one too until
    ``previous_secret_expires_at``."""
    secret = service.rotate_secret(context.row, _box(request), overlap=_overlap(request))
    return {**endpoint_json(request, context.__parent__, context.row), "secret": secret}


@admin_view(context=DeliveriesResource, request_method="GET", accept="application/json", renderer="json",
             permission=PERMISSION)
def delivery_list(context, request):
    """Deliveries newest first (``?status=pending|delivered|failed``), each with its tries and, while a
    worker is sending it, ``in_flight`` and the lease's end ``leased_until``; ``limit`` a page with
    ``next``/``previous`` page URLs."""
    params, page, tries = _deliveries(request, context)
    links = page_links(request, context, page, params)
    now = utcnow()
    return {"deliveries": [delivery_json(d, tries[d.id], now) for d in page.rows], "next": links["next"],
            "previous": links["previous"]}


@admin_view(context=DeliveryResource, request_method="GET", accept="application/json", renderer="json",
             permission=PERMISSION)
def delivery_show(context, request):
    return delivery_json(context.row, service.tries_of(request.dbsession, [context.row.id])[context.row.id],
                         utcnow())


@admin_view(context=DeliveryResource, name="replay", request_method="POST", accept="application/json",
             renderer="json", permission=PERMISSION)
def delivery_replay(context, request):
    """Send the delivery again (same ``webhook-id`` and body) at the worker's next round; 409
    ``delivery_in_flight`` while a worker is sending it."""
    service.replay(request.dbsession, context.row)
    return delivery_json(context.row, service.tries_of(request.dbsession, [context.row.id])[context.row.id],
                         utcnow())


# -- HTML ------------------------------------------------------------------------------------------------

def _form_events(request) -> list[str]:
    chosen = request.POST.getall("events")
    return chosen or ["*"]


def _webhooks_page(context, request, *, values=None, error=None, secret=None, created=None, status=200):
    return render_page(TEMPLATES + "webhooks.jinja2", {
        "lms": context.lms, "webhooks": service.endpoints_of(request.dbsession, context.lms.id),
        "event_types": service.EVENT_TYPES, "values": values or {"url": "", "events": ["*"], "description": ""},
        "error": error, "secret": secret, "created": created,
        "url": lambda endpoint: admin_url(request, context, str(endpoint.id)),
        "lms_url": admin_url(request, context.__parent__), "nav": "lms",
    }, request=request, status=status)


@admin_view(context=WebhooksResource, request_method="GET", accept="text/html", permission=PERMISSION)
def webhooks_page(context, request):
    return _webhooks_page(context, request)


@admin_view(context=WebhooksResource, request_method="POST", accept="text/html", permission=PERMISSION)
def webhook_create_form(context, request):
    values = {"url": request.POST.get("url", "").strip(), "events": _form_events(request),
              "description": request.POST.get("description", "").strip()[:500]}
    try:
        endpoint, secret = service.create_endpoint(
            request.dbsession, _box(request), lms_id=context.lms.id, url=values["url"], events=values["events"],
            description=values["description"], allow_private=_allow_private(request))
    except ProctorhubError as error:
        return _webhooks_page(context, request, values=values, error=error, status=error.status)
    # The secret is shown on this page only: no redirect, it is never shown again.
    return _webhooks_page(context, request, secret=secret, created=endpoint, status=201)


def _webhook_page(context, request, *, error=None, secret=None, status=200):
    deliveries = DeliveriesResource(request, "deliveries", context, lms=context.lms, endpoint_id=context.row.id)
    params, page, tries = _deliveries(request, deliveries)
    return render_page(TEMPLATES + "webhook.jinja2", {
        "lms": context.lms, "webhook": context.row, "event_types": service.EVENT_TYPES,
        "deliveries": page.rows, "tries": tries, "links": page_links(request, context, page, params),
        "error": error, "secret": secret,
        "rotating_until": endpoint_json(request, context.__parent__, context.row)["previous_secret_expires_at"],
        "self_url": admin_url(request, context),
        "replay_url": lambda delivery: admin_url(request, deliveries, str(delivery.id), "replay"),
        "sending_until": partial(service.sending_until, now=utcnow()),
        "list_url": admin_url(request, context.__parent__), "nav": "lms",
    }, request=request, status=status)


@admin_view(context=WebhookResource, request_method="GET", accept="text/html", permission=PERMISSION)
def webhook_page(context, request):
    return _webhook_page(context, request)


@admin_view(context=WebhookResource, request_method="POST", accept="text/html", permission=PERMISSION)
def webhook_update_form(context, request):
    changes = {"url": request.POST.get("url", "").strip(), "events": _form_events(request),
               "description": request.POST.get("description", "").strip()[:500],
               "enabled": request.POST.get("enabled") == "on"}
    try:
        service.update_endpoint(context.row, changes, allow_private=_allow_private(request))
    except ProctorhubError as error:
        request.dbsession.expire(context.row)
        return _webhook_page(context, request, error=error, status=error.status)
    request.session.flash("Receiver saved.")
    return HTTPSeeOther(admin_url(request, context))


@admin_view(context=WebhookResource, name="rotate-secret", request_method="POST", accept="text/html",
             permission=PERMISSION)
def webhook_rotate_form(context, request):
    secret = service.rotate_secret(context.row, _box(request), overlap=_overlap(request))
    return _webhook_page(context, request, secret=secret)


@admin_view(context=DeliveriesResource, request_method="GET", accept="text/html", permission=PERMISSION)
def deliveries_page(context, request):
    if context.endpoint_id is not None:
        return HTTPSeeOther(admin_url(request, context.__parent__))
    params, page, tries = _deliveries(request, context)
    return render_to_response(TEMPLATES + "deliveries.jinja2", {
        "lms": context.lms, "deliveries": page.rows, "tries": tries,
        "links": page_links(request, context, page, params),
        "replay_url": lambda delivery: admin_url(request, context, str(delivery.id), "replay"),
        "sending_until": partial(service.sending_until, now=utcnow()),
        "lms_url": admin_url(request, context.__parent__), "nav": "lms",
    }, request=request)


@admin_view(context=DeliveryResource, name="replay", request_method="POST", accept="text/html",
             permission=PERMISSION)
def delivery_replay_form(context, request):
    try:
        service.replay(request.dbsession, context.row)
    except Conflict as conflict:  # back to the list, which shows it being sent: nothing was changed
        request.session.flash(f"Not replayed: {conflict.message}.")
    else:
        request.session.flash(f"Delivery {context.row.id} will be sent again.")
    return HTTPSeeOther(admin_url(request, context.__parent__))
