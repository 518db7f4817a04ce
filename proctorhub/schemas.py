"""Shared request-body helpers and colander types."""

from __future__ import annotations

import json

import colander

from .errors import InvalidPayload, colander_details


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


class StrictInt(colander.Int):
    """An integer given as a JSON number (no strings, no booleans, no fractions)."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if isinstance(cstruct, bool) or not isinstance(cstruct, int):
            raise colander.Invalid(node, "must be a whole number")
        return cstruct


class StrictBool(colander.Boolean):
    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be true or false")
        return cstruct


def parse_json_object(body: bytes) -> dict:
    """The request body as a JSON object, or 400 ``invalid_payload`` saying what is wrong."""
    if not body:
        raise InvalidPayload("the request body is empty; a JSON object is expected")
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidPayload(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidPayload("the request body must be a JSON object")
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
