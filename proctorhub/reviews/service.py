"""Storing a normalised review and settling its attempt.

Used by the vendor callback and by staff second reviews, so both keep the same history,
events and status decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from ..attempts import lifecycle
from ..errors import Conflict
from ..models import (
    Attempt,
    AttemptStatus,
    Event,
    EventKind,
    QueuePriority,
    Review,
    ReviewComment,
    ReviewHistory,
    ReviewStatus,
    StaffUser,
)
from ..models.retry import flush_or_retry
from .decision import decide_attempt_status


@dataclass
class StoredReview:
    review: Review
    outcome: str  # "created", "updated" or "unchanged"


def payload_digest(payload) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find_staff_by_email(dbsession, email: str | None) -> StaffUser | None:
    if not email:
        return None
    return dbsession.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).scalar_one_or_none()


def queue_priority(review_status: str, attempt_status: str) -> int:
    if attempt_status == AttemptStatus.second_review_required:
        return QueuePriority.second_review_required
    if review_status == ReviewStatus.suspicious:
        return QueuePriority.suspicious
    return QueuePriority.other


def _snapshot(review: Review, replaced_by: str) -> ReviewHistory:
    return ReviewHistory(
        review_id=review.id,
        status=review.status,
        vendor_status=review.vendor_status,
        raw_payload=review.raw_payload,
        comments=[
            {"start": c.start, "stop": c.stop, "duration": c.duration, "comment": c.comment, "status": c.status}
            for c in review.comments
        ],
        reviewer_id=review.reviewer_id,
        note=review.note,
        replaced_by=replaced_by,
        valid_from=review.modified_at,
    )


def _comments(normalised: dict) -> list[ReviewComment]:
    return [
        ReviewComment(position=i, start=c["start"], stop=c["stop"], duration=c["duration"],
                      comment=c.get("comment", ""), status=c["status"])
        for i, c in enumerate(normalised.get("comments", ()))
    ]


def store_vendor_review(
    dbsession,
    *,
    backend,
    attempt: Attempt,
    normalised: dict,
    redacted_payload: dict,
    digest: str,
    vendor_status: str,
    app_settings,
) -> StoredReview:
    """Create or update the attempt's review from a vendor callback, then settle the attempt."""
    existing = dbsession.execute(
        select(Review).where(Review.attempt_code == attempt.attempt_code).with_for_update(of=Review)
        # The attempt is already in the session: joining attempt, exam and configuration again
        # (Review.attempt is eager) would only cost time.
        .options(lazyload(Review.attempt))
    ).scalar_one_or_none()
    reviewer = find_staff_by_email(dbsession, normalised.get("reviewed_by"))
    if existing is not None:
        if not app_settings.allow_review_updates:
            raise Conflict(
                "a review for this attempt is already stored and updates are turned off",
                code="review_exists",
                details={"attempt_code": attempt.attempt_code, "review_id": existing.id},
            )
        if existing.payload_digest == digest:
            return StoredReview(existing, "unchanged")
        review = existing
        dbsession.add(_snapshot(review, replaced_by=f"vendor:{backend.name}"))
        review.comments[:] = _comments(normalised)
        outcome = "updated"
    else:
        review = Review(
            attempt_code=attempt.attempt_code,
            attempt_id=attempt.id,
            exam_id=attempt.exam_id,
            context_id=attempt.exam.context_id,
            backend=backend.name,
            comments=_comments(normalised),
        )
        dbsession.add(review)
        outcome = "created"
    review.status = normalised["status"]
    review.vendor_status = vendor_status
    review.raw_payload = redacted_payload
    review.payload_digest = digest
    review.reviewer = reviewer
    review.note = None
    # The queue priority settle_attempt will give, set before the insert so that a new review
    # is written once (not inserted, then updated again for its priority).
    decided, moves = _decide(review, attempt, backend.passing_statuses, app_settings)
    review.queue_priority = queue_priority(review.status, decided if moves else attempt.status)
    # Two identical callbacks racing: the loser's insert fails here and its request is retried,
    # then finds the winner's review above.
    flush_or_retry(dbsession)
    dbsession.add(
        Event(
            kind=EventKind.review_received.value,
            attempt_id=attempt.id,
            attempt_code=attempt.attempt_code,
            payload={"review_id": review.id, "status": review.status, "vendor_status": vendor_status,
                     "backend": backend.name, "outcome": outcome},
        )
    )
    settle_attempt(dbsession, review=review, attempt=attempt, passing_statuses=backend.passing_statuses,
                   app_settings=app_settings, reason=f"review {outcome} by {backend.name}")
    return StoredReview(review, outcome)


def settle_attempt(dbsession, *, review: Review, attempt: Attempt, passing_statuses, app_settings,
                   reason: str) -> AttemptStatus | None:
    """Apply the decision table; archived and terminated attempts keep their status.

    Returns the status decided (whether or not the attempt could take it).
    """
    decided, moves = _decide(review, attempt, passing_statuses, app_settings)
    if moves:
        lifecycle.move(dbsession, attempt, decided, reason=reason)
    review.queue_priority = queue_priority(review.status, attempt.status)
    return decided


def _decide(review: Review, attempt: Attempt, passing_statuses, app_settings) -> tuple[AttemptStatus, bool]:
    """The status the decision table gives, and whether the attempt may take it."""
    decided = decide_attempt_status(
        review_status=review.status,
        passing_statuses=frozenset(passing_statuses),
        has_staff_reviewer=review.reviewer_id is not None or review.reviewer is not None,
        require_failure_second_reviews=app_settings.require_failure_second_reviews,
        is_practice=attempt.exam.is_practice,
    )
    return decided, attempt.archived_at is None and lifecycle.can_move(attempt.status, decided)
