"""The admin's OpenAPI request shapes say what the admin's colander schemas enforce: the same
lengths, ranges and choices, both ways. The document lists its limits by hand; this test is
what keeps the copy true (a server looser than its document, or stricter, fails here)."""

from __future__ import annotations

import colander
import pytest

from proctorhub.admin.configurations import ConfigurationSchema
from proctorhub.admin.exams import ExamUpdateSchema
from proctorhub.admin.lms import LmsSchema
from proctorhub.admin.registrations import StartSchema
from proctorhub.admin.reviews import BulkSchema
from proctorhub.admin.second_review import SecondReviewSchema
from proctorhub.openapi.admin import SCHEMAS
from proctorhub.schemas import INT_MAX, INT_MIN, StrictInt
from proctorhub.webhooks.views import WebhookCreateSchema, WebhookUpdateSchema

PAIRS = [
    ("ConfigurationCreate", ConfigurationSchema),
    ("ConfigurationUpdate", ConfigurationSchema),
    ("ExamUpdate", ExamUpdateSchema),
    ("LmsRequest", LmsSchema),
    ("WebhookCreate", WebhookCreateSchema),
    ("WebhookUpdate", WebhookUpdateSchema),
    ("SecondReview", SecondReviewSchema),
    ("BulkDecision", BulkSchema),
    ("RegistrationRequest", StartSchema),
]
# colander types whose limits are what their validators say. Fields of a schema class of their
# own (RedirectUris, EventTypes, ...) or of a custom type check their values inside: the
# functional tests of those endpoints cover them.
PLAIN = (colander.String, colander.Int, colander.Float, colander.Sequence, colander.Boolean)


def _validators(node) -> list:
    found = []
    pending = [node.validator] if node.validator is not None else []
    while pending:
        validator = pending.pop()
        if isinstance(validator, colander.All):
            pending.extend(validator.validators)
        else:
            found.append(validator)
    return found


def enforced(node) -> dict:
    """The JSON Schema keywords ``node``'s validators and type amount to."""
    limits = {}
    sequence = isinstance(node.typ, colander.Sequence)
    for validator in _validators(node):
        if isinstance(validator, colander.Length):
            low, high = ("minItems", "maxItems") if sequence else ("minLength", "maxLength")
            if validator.min:
                limits[low] = validator.min
            if validator.max is not None:
                limits[high] = validator.max
        elif isinstance(validator, colander.Range):
            if validator.min is not None:
                limits["minimum"] = validator.min
            if validator.max is not None:
                limits["maximum"] = validator.max
        elif isinstance(validator, colander.OneOf):
            limits["enum"] = sorted(validator.choices)
    if isinstance(node.typ, StrictInt):
        limits["minimum"] = max(limits.get("minimum", INT_MIN), INT_MIN)
        limits["maximum"] = min(limits.get("maximum", INT_MAX), INT_MAX)
    return limits


def documented(schema: dict) -> dict:
    if "anyOf" in schema:  # nullable(...): the value's own shape
        (schema,) = [option for option in schema["anyOf"] if option != {"type": "null"}]
    limits = {key: schema[key] for key in ("minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum")
              if key in schema}
    if "enum" in schema:
        limits["enum"] = sorted(schema["enum"])
    if limits.get("minimum") == INT_MIN and schema.get("type") != "integer":
        limits.pop("minimum")
    return limits


def _unwrapped(schema: dict) -> dict:
    if "anyOf" in schema:
        (schema,) = [option for option in schema["anyOf"] if option != {"type": "null"}]
    return schema


def pairs_of(name: str, schema_class):
    """(path, colander node, documented shape) for every plain field of the request body."""
    document = SCHEMAS[name]
    for node in schema_class().children:
        assert node.name in document["properties"], f"{name} does not document {node.name!r}"
        shape = document["properties"][node.name]
        if type(node) is not colander.SchemaNode:
            continue
        if type(node.typ) is colander.Sequence:
            yield f"{name}.{node.name}", node, shape
            yield f"{name}.{node.name}[]", node.children[0], _unwrapped(shape)["items"]
        elif isinstance(node.typ, PLAIN):
            yield f"{name}.{node.name}", node, shape


CHECKED = [(path, node, shape) for name, schema_class in PAIRS for path, node, shape in pairs_of(name, schema_class)]


@pytest.mark.parametrize(("path", "node", "shape"), CHECKED, ids=[path for path, _, _ in CHECKED])
def test_the_document_states_the_limits_the_schema_enforces(path, node, shape):
    assert documented(shape) == enforced(node)


def test_every_field_of_each_request_body_is_documented_and_nothing_more():
    for name, schema_class in PAIRS:
        fields = {node.name for node in schema_class().children}
        assert set(SCHEMAS[name]["properties"]) == fields, name
