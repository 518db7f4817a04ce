"""Review callbacks from the sandbox vendor.

    {"attempt_code": "...", "external_id": "..."?, "status": "passed", "comments": [...],
     "reviewed_by": "reviewer@example.edu"?}
"""

from __future__ import annotations

from collections.abc import Mapping

from proctorhub.backends import ReviewBackend
from proctorhub.backends.errors import BadReviewStatus, InvalidPayload
from proctorhub.backends.schema import REVIEW_STATUSES


def _optional_string(payload: Mapping, field: str) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(f"{field} must be a non-empty string when given",
                             details={"fields": {field: "must be a non-empty string"}})
    return value.strip()


class SandboxBackend(ReviewBackend):
    name = "sandbox"
    verbose_name = "Sandbox vendor (local stand-in)"
    passing_statuses = frozenset({"passed"})

    def attempt_code(self, payload: Mapping) -> str:
        code = _optional_string(payload, "attempt_code")
        if code is None:
            raise InvalidPayload("attempt_code is required", details={"fields": {"attempt_code": "required"}})
        return code

    def external_id(self, payload: Mapping) -> str | None:
        return _optional_string(payload, "external_id")

    def normalise(self, payload: Mapping) -> dict:
        status = payload.get("status")
        if status not in REVIEW_STATUSES:
            raise BadReviewStatus(
                f"status {status!r} is not one of {', '.join(REVIEW_STATUSES)}",
                details={"status": status, "allowed": list(REVIEW_STATUSES)},
            )
        # Anything else malformed (comments, reviewed_by) is refused by proctorhub's own schema.
        return {"status": status, "comments": payload.get("comments") or [], "reviewed_by": payload.get("reviewed_by")}
