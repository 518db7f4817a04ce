"""Shared request-body helpers and colander types."""

from __future__ import annotations

import json
import math
from urllib.parse import urlsplit

import colander

from .errors import InvalidPayload, UnsupportedMediaType, colander_details


class Identifier(colander.String):
    """An LMS identifier: a non-empty string; whole numbers are accepted and kept as text."""

    def deserialize(self, node, cstruct):
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be a string")
        if isinstance(cstruct, int):
            cstruct = str(cstruct)
        if cstruct is not colander.null and not isinstance(cstruct, str):
            raise colander.Invalid(node, "must be a string")
        value = super().deserialize(node, cstruct)
        if value is not colander.null:
            value = value.strip()
            if not value:
                raise colander.Invalid(node, "must not be empty")
        return value


# Integer columns are 32-bit on every database we run on.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def parse_row_id(text: str) -> int | None:
    """A row id written in ASCII digits that fits an id column, else ``None``."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= INT_MAX else None


class StrictInt(colander.Int):
    """An integer given as a JSON number (no strings, no booleans, no fractions) that fits the
    database's integer columns."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if isinstance(cstruct, bool) or not isinstance(cstruct, int):
            raise colander.Invalid(node, "must be a whole number")
        if not INT_MIN <= cstruct <= INT_MAX:
            raise colander.Invalid(node, f"must be between {INT_MIN} and {INT_MAX}")
        return cstruct


class FiniteNumber(colander.Float):
    """A JSON number (no strings, no booleans) that is finite."""

    def deserialize(self, node, cstruct):
        if cstruct is not colander.null and (isinstance(cstruct, bool) or not isinstance(cstruct, int | float)):
            raise colander.Invalid(node, "must be a number")
        value = super().deserialize(node, cstruct)
        if value is not colander.null and not math.isfinite(value):
            raise colander.Invalid(node, "must be a finite number")
        return value


def http_url(node, value):
    """An absolute http(s) URL with a host, that a Location header can carry as it is: printable
    ASCII without spaces (anything else percent-encoded), and a port, if any, from 0 to 65535."""
    if not (value.isascii() and value.isprintable()) or " " in value:
        raise colander.Invalid(node, "must be an http(s) URL of printable ASCII characters without spaces "
                                     "(percent-encode any others)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise colander.Invalid(node, "is not a well-formed URL (check the host and port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise colander.Invalid(node, "must be an absolute http(s) URL")


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def tool_url(node, value):
    """A URL of an LTI tool (its login, launch, redirect and JWKS URLs, typed by an admin or sent
    by the tool at registration): as ``http_url``, and https (http only on the loopback, for a tool
    on the same machine), without a fragment."""
    http_url(node, value)
    parts = urlsplit(value)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise colander.Invalid(node, "must use https:// (http:// is allowed only for localhost)")
    if parts.fragment:
        raise colander.Invalid(node, "must not have a #fragment")


class StrictBool(colander.Boolean):
    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be true or false")
        return cstruct


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large to be stored as a number")
    return value


def _unstorable(text: str) -> bool:
    """A NUL character, or a lone surrogate (an escape like \\ud800 without its pair): text
    no database column can store, nor UTF-8 encode."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _holds_unstorable(value) -> bool:
    if isinstance(value, str):
        return _unstorable(value)
    if isinstance(value, dict):
        return any(_holds_unstorable(k) or _holds_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_unstorable(v) for v in value)
    return False


# Only an escape can put either into a parsed string: look for them only when one is there at all.
_UNSTORABLE_ESCAPES = (b"\\u0000", b"\\ud", b"\\uD")


def json_request_body(request) -> dict:
    """The request's JSON object body; 415 unless it is sent as ``application/json``.

    A cross-site form can post any body as ``text/plain`` (or a form encoding) without a CORS
    preflight; only a JSON media type needs one. So a JSON API refuses every other type."""
    media_type = (request.content_type or "").lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            "send the JSON body with Content-Type: application/json",
            details={"expected": "application/json", "received": media_type or None})
    return parse_json_object(request.body)


def parse_json_object(body: bytes) -> dict:
    """The request body as a JSON object, or 400 ``invalid_payload`` saying what is wrong.

    Refused too, because no database column could store them: ``NaN``, ``Infinity`` and numbers
    too large for a float (which Python's reader would accept), NUL characters and lone UTF-16
    surrogates in any string or key.
    """
    if not body:
        raise InvalidPayload("the request body is empty; a JSON object is expected")
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
        unstorable = any(escape in body for escape in _UNSTORABLE_ESCAPES) and _holds_unstorable(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidPayload(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidPayload("the request body is nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidPayload("the request body must be a JSON object")
    if unstorable:
        raise InvalidPayload("the request body holds a NUL character (\\u0000) or a lone surrogate (such as "
                             "\\ud800 without its pair), which cannot be stored")
    return value


def validate(schema: colander.SchemaNode, data) -> dict:
    """``schema.deserialize(data)``; a failure is a 400 with field-level details."""
    try:
        return schema.deserialize(data)
    except colander.Invalid as invalid:
        raise InvalidPayload("the request body does not match the expected shape",
                             details=colander_details(invalid)) from None


def drop_nulls(value):
    """Remove colander's ``null`` markers (optional fields that were not sent)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not colander.null and v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value
