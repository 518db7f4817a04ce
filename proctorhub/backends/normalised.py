"""A base for vendors that post proctorhub's normalised review themselves, with the attempt code::

    {"attempt_code": "...", "external_id": "..."?, "status": "passed", "comments": [...],
     "reviewed_by": "reviewer@example.edu"?}

There is nothing to translate. proctorhub validates the review part with its own schema, as it
does every backend's output (an unknown ``status`` is 400 ``bad_review_status``, malformed
comments or ``reviewed_by`` 400 ``invalid_payload``), so a subclass only names itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import ReviewBackend
from .errors import InvalidPayload


def _optional_string(payload: Mapping, field: str) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(f"{field} must be a non-empty string when given",
                             details={"fields": {field: "must be a non-empty string"}})
    return value.strip()


class NormalisedPayloadBackend(ReviewBackend):
    """A vendor whose callback is the normalised review plus ``attempt_code`` and ``external_id``."""

    def attempt_code(self, payload: Mapping) -> str:
        code = _optional_string(payload, "attempt_code")
        if code is None:
            raise InvalidPayload("attempt_code is required", details={"fields": {"attempt_code": "required"}})
        return code

    def external_id(self, payload: Mapping) -> str | None:
        return _optional_string(payload, "external_id")

    def normalise(self, payload: Mapping) -> dict:
        return {"status": payload.get("status"), "comments": payload.get("comments") or [],
                "reviewed_by": payload.get("reviewed_by")}
