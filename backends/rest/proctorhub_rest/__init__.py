"""Generic REST review callbacks: the vendor posts proctorhub's normalised review itself.

    {"attempt_code": "...", "external_id": "..."?, "status": "passed", "comments": [...],
     "reviewed_by": "reviewer@example.edu"?}
"""

from __future__ import annotations

from collections.abc import Mapping

from proctorhub.backends import ReviewBackend
from proctorhub.backends.errors import BadReviewStatus, InvalidPayload
from proctorhub.backends.schema import REVIEW_STATUSES


class RestBackend(ReviewBackend):
    name = "rest"
    verbose_name = "Generic REST"
    passing_statuses = frozenset({"passed"})

    def attempt_code(self, payload: Mapping) -> str:
        code = payload.get("attempt_code")
        if not isinstance(code, str) or not code.strip():
            raise InvalidPayload("attempt_code is required", details={"fields": {"attempt_code": "required"}})
        return code.strip()

    def external_id(self, payload: Mapping) -> str | None:
        value = payload.get("external_id")
        return None if value is None else str(value)

    def normalise(self, payload: Mapping) -> dict:
        status = payload.get("status")
        if status not in REVIEW_STATUSES:
            raise BadReviewStatus(
                f"status {status!r} is not one of {', '.join(REVIEW_STATUSES)}",
                details={"status": status, "allowed": list(REVIEW_STATUSES)},
            )
        return {
            "status": status,
            "comments": payload.get("comments") or [],
            "reviewed_by": payload.get("reviewed_by"),
        }
