"""Refuse, before any view reads them, requests no view could store or answer.

- a body over ``proctorhub.max_body_bytes`` (413 ``payload_too_large``);
- a NUL character in the URL's path or query, or in a form body (400 ``invalid_value``): no
  database column can store one, and PostgreSQL refuses it outright;
- a ``multipart/form-data`` body (415): every form here, the LTI ones included, is
  ``application/x-www-form-urlencoded``, and a file part where a view expects text is no field.

JSON bodies are checked for NUL characters where they are parsed (``schemas.parse_json_object``).
"""

from __future__ import annotations

from pyramid.tweens import MAIN

from . import BadRequest, PayloadTooLarge, ProctorhubError

FORM = "application/x-www-form-urlencoded"


def _refuse_nul(request, body: bytes | None) -> None:
    where = None
    if "\x00" in request.environ.get("PATH_INFO", ""):
        where = "the URL's path"
    elif "%00" in request.environ.get("QUERY_STRING", ""):
        where = "the URL's query"
    elif body is not None and request.content_type == FORM and b"%00" in body:
        where = "the form"
    if where:
        raise BadRequest(f"{where} holds a NUL character, which cannot be stored", code="invalid_value")


def request_limits_tween_factory(handler, registry):
    limit = registry.app_settings.max_body_bytes

    def request_limits_tween(request):
        length = request.content_length
        if length is not None and length > limit:
            raise PayloadTooLarge(
                f"the request body is {length} bytes; the limit is {limit}",
                details={"limit": limit, "content_length": length},
            )
        body = None
        if length is None and request.method in {"POST", "PUT", "PATCH"} and request.is_body_readable:
            # Chunked upload: read at most one byte past the limit to decide.
            body = request.body_file.read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge(f"the request body exceeds the limit of {limit} bytes",
                                      details={"limit": limit})
            request.body = body
        elif request.content_type == FORM:
            body = request.body
        if request.content_type == "multipart/form-data":
            raise ProctorhubError("forms are accepted as application/x-www-form-urlencoded, not multipart",
                                  code="unsupported_media_type", status=415)
        _refuse_nul(request, body)
        return handler(request)

    return request_limits_tween


def includeme(config):
    # Under the exception-view tween so the refusal is rendered in the one error shape;
    # no view has touched the database yet, so nothing is written.
    config.add_tween("proctorhub.errors.request_limits.request_limits_tween_factory", over=MAIN)
