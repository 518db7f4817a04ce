"""Helpers shared by the admin's JSON and HTML views."""

from __future__ import annotations

import re

import colander
from pyramid.renderers import render_to_response

from ..errors import InvalidPayload
from ..schemas import json_request_body, validate

# A whole number typed into a form; anything else reaches the schema as text, which says what is wrong.
FORM_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")


@colander.deferred
def enabled_backend(node, kw):
    """One of the enabled backends (the schema is bound with ``backends=request.backends.names()``)."""
    return colander.OneOf(kw.get("backends", ()))


def json_body(request, schema) -> dict:
    """The JSON body validated by ``schema``: a failure is 400 ``invalid_payload`` with field details."""
    return validate(schema, json_request_body(request))


def json_update(request, schema, row, fields) -> dict:
    """A partial update: the JSON body over ``row``'s current ``fields``, validated by ``schema`` as a whole.

    Fields not sent keep their values, and the schema's rules across fields see the result. A
    field sent as ``null`` is cleared where the schema lets it be empty (``missing=None``); any
    other ``null`` is 400 ``invalid_payload``: it would otherwise take the field's default (turn
    proctoring back on, say), which is not what clearing it means.
    """
    sent = json_request_body(request)
    refused = {key: "may not be null" for key, value in sent.items()
               if value is None and (node := schema.get(key)) is not None and node.missing is not None}
    if refused:
        raise InvalidPayload("the request sets fields that cannot be empty to null", details={"fields": refused})
    merged = {key: getattr(row, key) for key in fields} | sent
    return validate(schema, {key: colander.null if value is None else value for key, value in merged.items()})


def _form_value(post, node):
    """One field of a browser form, as the JSON schema ``node`` expects it."""
    if isinstance(node.typ, colander.Sequence):
        # Checkboxes sharing a name, or a textarea with one value a line.
        return [line.strip() for value in post.getall(node.name) for line in value.splitlines() if line.strip()]
    if isinstance(node.typ, colander.Boolean):
        # A ticked checkbox (the templates give none a value) sends "on"; an unticked one sends nothing.
        return post.get(node.name) == "on"
    text = post.get(node.name, "").strip()
    if isinstance(node.typ, colander.Int) and FORM_INTEGER.fullmatch(text):
        return int(text)
    return text


def form_data(request, schema) -> tuple[dict | None, dict, dict]:
    """A browser form read field by field as ``schema`` expects it, and validated by it.

    Answers ``(data, {}, values)`` or ``(None, {field: message}, values)``: form views show the
    messages beside the fields, in a form filled with ``values`` (what the staff member sent),
    instead of an error page. Fields the schema does not name (the CSRF token) are not read.
    """
    values = {node.name: _form_value(request.POST, node) for node in schema.children}
    # An empty field is one not given: the schema's default applies, or it says "Required".
    given = {key: colander.null if value == "" else value for key, value in values.items()}
    try:
        return validate(schema, given), {}, values
    except InvalidPayload as error:
        return None, dict(error.details.get("fields", {})), values


def admin_url(request, resource, *elements, query: dict | None = None) -> str:
    """The URL of an admin resource (the tree hangs under the ``admin`` route)."""
    kw = {"query": query} if query else {}
    return request.resource_url(resource, *elements, route_name="admin", **kw)


def render_page(template: str, values: dict, *, request, status: int = 200):
    """A page rendered with its status: a refused form comes back with the status of its refusal."""
    response = render_to_response(template, values, request=request)
    response.status_int = status
    return response
