"""Helpers shared by the admin's JSON and HTML views."""

from __future__ import annotations

import colander

from ..errors import InvalidPayload
from ..schemas import parse_json_object, validate


@colander.deferred
def enabled_backend(node, kw):
    """One of the enabled backends (the schema is bound with ``backends=request.backends.names()``)."""
    return colander.OneOf(kw.get("backends", ()))


def json_body(request, schema) -> dict:
    """The JSON body validated by ``schema``: a failure is 400 ``invalid_payload`` with field details."""
    return validate(schema, parse_json_object(request.body))


def form_data(request, schema, *, lists=()) -> tuple[dict | None, dict]:
    """A browser form validated by ``schema``: ``(data, {})`` or ``(None, {field: message})``.

    Form views show the messages beside the fields instead of an error page.
    """
    raw = {}
    for key in request.POST.keys():
        if key == "csrf_token":
            continue
        raw[key] = request.POST.getall(key) if key in lists else request.POST.get(key)
    for key in lists:
        raw.setdefault(key, [])
    try:
        return validate(schema, raw), {}
    except InvalidPayload as error:
        return None, dict(error.details.get("fields", {}))


def admin_url(request, resource, *elements, query: dict | None = None) -> str:
    """The URL of an admin resource (the tree hangs under the ``admin`` route)."""
    kw = {"query": query} if query else {}
    return request.resource_url(resource, *elements, route_name="admin", **kw)
