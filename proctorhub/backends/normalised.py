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


def _optional_string(payload: Mapping, field: str, *, whole_numbers: bool = False) -> str | None:
    """A non-empty string; with ``whole_numbers``, also a whole number kept as text, as the LMS
    API reads identifiers (``schemas.Identifier``)."""
    value = payload.get(field)
    if value is None:
        return None
    if whole_numbers and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        expected = "a non-empty string or a whole number" if whole_numbers else "a non-empty string"
        raise InvalidPayload(f"{field} must be {expected} when given",
                             details={"fields": {field: f"must be {expected}"}})
    return value.strip()


class NormalisedPayloadBackend(ReviewBackend):
    """A vendor whose callback is the normalised review plus ``attempt_code`` and ``external_id``."""

    def attempt_code(self, payload: Mapping) -> str:
        code = _optional_string(payload, "attempt_code")
        if code is None:
            raise InvalidPayload("attempt_code is required", details={"fields": {"attempt_code": "required"}})
        return code

    def external_id(self, payload: Mapping) -> str | None:
        # The vendor's own record id, which the LMS may have registered as a number.
        return _optional_string(payload, "external_id", whole_numbers=True)

    def normalise(self, payload: Mapping) -> dict:
        return {"status": payload.get("status"), "comments": payload.get("comments") or [],
                "reviewed_by": payload.get("reviewed_by")}
