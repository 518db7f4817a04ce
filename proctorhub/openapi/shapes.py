"""The pieces every part of the OpenAPI document is built from: helpers, the one error shape, and
the attempt and review shapes that the LMS API and the admin both answer with."""

from __future__ import annotations

from ..models import AttemptStatus


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict, **constraints) -> dict:
    return {"type": "array", "items": items, **constraints}


def obj(properties: dict, *, required=(), closed: bool = False) -> dict:
    """An object schema. ``closed``: a request body that refuses unknown fields (``unknown="raise"``)."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def json_content(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def json_body(schema: dict, *, required: bool = True) -> dict:
    return {"required": required, **json_content(schema)}


def answer(description: str, schema: dict) -> dict:
    return {"description": description, **json_content(schema)}


ERROR_DESCRIPTIONS = {
    400: "Bad input (invalid_payload with field details, or another stable code)",
    401: "No or unknown credentials",
    403: "The caller may not do this",
    404: "Not found (for an attempt: none of the caller's lms)",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict (backend_mismatch, configuration_mismatch, review_exists, ...)",
    412: "Precondition failed (e.g. proctoring disabled)",
    413: "Body over proctorhub.max_body_bytes",
    415: "Unsupported media type",
    503: "database_unavailable: try again after Retry-After seconds",
}


def errors(*statuses: int, described: dict | None = None) -> dict:
    """Error answers in the one error shape; ``described`` words some statuses for one part of the API."""
    words = {**ERROR_DESCRIPTIONS, **(described or {})}
    return {str(status): answer(words[status], ref("Error")) for status in statuses}


STRING = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUMBER = {"type": "number"}
DATETIME = {"type": "string", "format": "date-time"}
URI = {"type": "string", "format": "uri"}
# Row ids fit the database's integer columns.
INT_MAX = 2_147_483_647
ROW_ID = {"type": "integer", "minimum": 1, "maximum": INT_MAX}

# The review's own fields (a queue row has these without the comments).
REVIEW_FIELDS = {
    "id": INT, "attempt_code": STRING, "backend": nullable(STRING), "status": STRING,
    "vendor_status": nullable(STRING), "reviewed_by": nullable(STRING),
    "created_at": DATETIME, "modified_at": DATETIME,
}


def attempt_shape(review: dict) -> dict:
    """The one attempt shape (DESIGN.md 5.1), carrying ``review`` as given (the whole review, or a
    list row's reference to it)."""
    return obj({
        "attempt_code": STRING, "lms": STRING, "backend": nullable(STRING),
        "status": {"enum": [s.value for s in AttemptStatus]},
        "attempt_number": INT, "exam_id": INT, "context_id": nullable(STRING), "resource_link_id": STRING,
        "user_id": STRING, "user_name": nullable(STRING), "user_email": nullable(STRING),
        "external_id": nullable(STRING), "end_assessment_return": BOOL,
        "verified_user": nullable({"type": "object"}), "archived": BOOL,
        "created_at": DATETIME, "modified_at": DATETIME,
        "time": ref("AttemptTime"), "review": review,
    }, required=("attempt_code", "lms", "backend", "status", "attempt_number", "exam_id", "user_id",
                 "resource_link_id", "external_id", "end_assessment_return", "verified_user", "archived",
                 "time", "review"))


SCHEMAS = {
    "Error": obj({"error": obj({"status": INT, "code": STRING, "message": STRING, "details": {"type": "object"}},
                               required=("status", "code", "message", "details"))},
                 required=("error",)),
    "Comment": obj({"start": nullable(INT), "stop": nullable(INT), "duration": nullable(INT),
                    "comment": nullable(STRING), "status": nullable(STRING)},
                   required=("start", "stop", "duration", "comment", "status")),
    "Review": obj({**REVIEW_FIELDS, "comments": array(ref("Comment"))},
                  required=("status", "vendor_status", "reviewed_by", "comments")),
    "AttemptTime": obj({"time_limit_seconds": nullable(INT), "extra_time_seconds": nullable(INT),
                        "started_at": nullable(DATETIME), "paused_seconds": nullable(INT),
                        "due_at": nullable(DATETIME), "remaining_seconds": nullable(INT)},
                       required=("time_limit_seconds", "extra_time_seconds", "started_at", "paused_seconds",
                                 "due_at", "remaining_seconds")),
    "Attempt": attempt_shape(nullable(ref("Review"))),
}
