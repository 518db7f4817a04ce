"""Refuse request bodies over ``proctorhub.max_body_bytes`` before any view reads them."""

from __future__ import annotations

from pyramid.tweens import MAIN

from . import PayloadTooLarge


def body_limit_tween_factory(handler, registry):
    limit = registry.app_settings.max_body_bytes

    def body_limit_tween(request):
        length = request.content_length
        if length is not None and length > limit:
            raise PayloadTooLarge(
                f"the request body is {length} bytes; the limit is {limit}",
                details={"limit": limit, "content_length": length},
            )
        if length is None and request.method in {"POST", "PUT", "PATCH"} and request.is_body_readable:
            # Chunked upload: read at most one byte past the limit to decide.
            body = request.body_file.read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge(f"the request body exceeds the limit of {limit} bytes",
                                      details={"limit": limit})
            request.body = body
        return handler(request)

    return body_limit_tween


def includeme(config):
    # Under the exception-view tween so the refusal is rendered in the one error shape;
    # no view has touched the database yet, so nothing is written.
    config.add_tween("proctorhub.errors.body_limit.body_limit_tween_factory", over=MAIN)
