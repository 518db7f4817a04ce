"""Which status an attempt takes once its review is stored (DESIGN.md section 3)."""

from __future__ import annotations

from ..models import AttemptStatus, ReviewStatus


def decide_attempt_status(
    *,
    review_status: str,
    passing_statuses: frozenset[str],
    has_staff_reviewer: bool,
    require_failure_second_reviews: bool,
    is_practice: bool,
) -> AttemptStatus:
    """First match wins."""
    if review_status in passing_statuses:
        return AttemptStatus.verified
    if review_status == ReviewStatus.not_reviewed:
        return AttemptStatus.error
    if has_staff_reviewer or not require_failure_second_reviews:
        return AttemptStatus.rejected
    if is_practice:
        return AttemptStatus.rejected
    return AttemptStatus.second_review_required
