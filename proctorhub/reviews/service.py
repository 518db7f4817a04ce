"""Storing a normalised review and settling its attempt.

Used by the vendor callback and by staff second reviews, so both keep the same history,
events and status decision. A vendor's first review for an attempt (nearly every callback)
takes a Core fast path (``new_review``); resends and updates go through the ORM.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select

from ..attempts import lifecycle
from ..attempts.facts import AttemptFacts
from ..errors import Conflict
from ..events import attention_event
from ..models import (
    Attempt,
    AttemptStatus,
    AuditEntry,
    Event,
    EventKind,
    QueuePriority,
    Review,
    ReviewComment,
    ReviewHistory,
    ReviewStatus,
    Role,
    StaffCourse,
    StaffUser,
    utcnow,
)
from ..models.dialect import mark_written
from ..models.retry import flush_or_retry
from .decision import decide_attempt_status
from .new_review import NewReview, ReviewCommentFacts, ReviewFacts, write_new_review


@dataclass
class StoredReview:
    review: Review | ReviewFacts  # ReviewFacts on the fast path
    attempt: Attempt | AttemptFacts  # the attempt as it is after the review
    outcome: str  # "created", "updated" or "unchanged"


def payload_digest(body: bytes) -> str:
    """Identifies a resend: the same bytes posted again change nothing."""
    return hashlib.sha256(body).hexdigest()


def find_staff_by_email(dbsession, email: str | None) -> StaffUser | None:
    if not email:
        return None
    return dbsession.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).scalar_one_or_none()


@dataclass(frozen=True)
class VendorReviewer:
    """What a vendor's ``reviewed_by`` amounts to: a staff user who may review the attempt's
    course, or only ``text`` (kept, warned about, and counted as no reviewer)."""

    staff: StaffUser | None = None
    text: str | None = None


IGNORED_REVIEWER_ACTION = "vendor_reviewer_ignored"


def vendor_reviewer(dbsession, reviewed_by: str | None, target: AttemptFacts) -> VendorReviewer:
    """As edx-proctoring checks that a vendor's reviewer is course staff: ``reviewed_by`` counts
    only when it names a person (a staff user with a password, not disabled) who is an admin or
    a reviewer of this attempt's course (its lms and context id)."""
    if not reviewed_by or not reviewed_by.strip():
        return VendorReviewer()
    staff = find_staff_by_email(dbsession, reviewed_by)
    if staff is not None and staff.password_hash is not None and staff.disabled_at is None:
        if staff.role == Role.admin:
            return VendorReviewer(staff=staff)
        if staff.role == Role.reviewer and dbsession.execute(select(StaffCourse.staff_user_id).where(
                StaffCourse.staff_user_id == staff.id, StaffCourse.lms_id == target.exam.lms.id,
                StaffCourse.context_id == target.exam.context_id)).first() is not None:
            return VendorReviewer(staff=staff)
    return VendorReviewer(text=reviewed_by.strip()[:255])


def warn_ignored_reviewer(dbsession, *, review_id: int, backend_name: str, reviewer: VendorReviewer) -> None:
    """The review's audit trail says which ``reviewed_by`` was not counted."""
    if reviewer.text is not None:
        dbsession.add(AuditEntry(actor=f"vendor:{backend_name}"[:255], object_type="review",
                                 object_id=str(review_id), action=IGNORED_REVIEWER_ACTION,
                                 changes={"reviewed_by": [reviewer.text, None]}))


def queue_priority(review_status: str, attempt_status: str) -> int:
    if attempt_status == AttemptStatus.second_review_required:
        return QueuePriority.second_review_required
    if review_status == ReviewStatus.suspicious:
        return QueuePriority.suspicious
    return QueuePriority.other


def snapshot(review: Review, replaced_by: str) -> ReviewHistory:
    """The review's state before an update, as a history row."""
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
        backend=review.backend,
        signed_at=review.signed_at,
        vendor_reviewed_by=review.vendor_reviewed_by,
        video_link_encrypted=review.video_link_encrypted,
        decided_at=review.decided_at,
        replaced_by=replaced_by,
        valid_from=review.modified_at,
    )


def overwrite_review(dbsession, review: Review, *, replaced_by: str | None, backend: str, status: str,
                     vendor_status: str, raw_payload: dict, digest: str, comments: list[ReviewComment],
                     signed_at: dt.datetime | None, video_link_encrypted: str | None, reviewer: StaffUser | None,
                     vendor_reviewed_by: str | None, modified_at: dt.datetime | None = None) -> None:
    """Make ``review`` say what a newer review says and nothing of what it said before: each
    field given is written (None clears it), its comments are replaced, a staff note is cleared.
    Its former state stays as a history row naming ``replaced_by`` (None: a review not stored
    yet, with no former state). ``modified_at`` None leaves the time to the column's update
    default. Each caller makes its own checks first, then emits its event and settles the attempt
    (the vendor callback's update, an ACS terminate)."""
    if replaced_by is not None:
        dbsession.add(snapshot(review, replaced_by=replaced_by))
    review.comments[:] = comments
    review.backend = backend
    review.status = status
    review.vendor_status = vendor_status
    review.raw_payload = raw_payload
    review.payload_digest = digest
    review.signed_at = signed_at
    review.video_link_encrypted = video_link_encrypted
    review.reviewer = reviewer
    review.vendor_reviewed_by = vendor_reviewed_by
    # A staff decision on the review it replaces is not a decision on this one.
    review.note = None
    review.decided_at = None
    if modified_at is not None:
        review.modified_at = modified_at


def _comment_values(normalised: dict) -> list[dict]:
    return [
        {"position": i, "start": c["start"], "stop": c["stop"], "duration": c["duration"],
         "comment": c.get("comment", ""), "status": c["status"]}
        for i, c in enumerate(normalised.get("comments", ()))
    ]


def decide(review_status: str, *, has_staff_reviewer: bool, attempt, passing_statuses,
           app_settings) -> tuple[AttemptStatus, bool]:
    """The status the decision table gives, and whether the attempt may take it."""
    decided = decide_attempt_status(
        review_status=review_status,
        passing_statuses=frozenset(passing_statuses),
        has_staff_reviewer=has_staff_reviewer,
        require_failure_second_reviews=app_settings.require_failure_second_reviews,
        is_practice=attempt.exam.is_practice,
    )
    moves = attempt.archived_at is None and attempt.status != decided and lifecycle.can_move(attempt.status, decided)
    return decided, moves


def store_vendor_review(dbsession, *, backend, target: AttemptFacts, normalised: dict, redacted_payload: dict,
                        digest: str, vendor_status: str, app_settings, signed_at: dt.datetime | None = None,
                        replayed: bool = False, video_link_encrypted: str | None = None) -> StoredReview:
    """Create or update the attempt's review from a vendor callback, then settle the attempt.

    ``signed_at`` is the vendor signature's time (None if unsigned); ``replayed`` says the replay
    ledger had this signed message already: then only a resend of the stored review is answered
    (``unchanged``), anything else is refused. ``video_link_encrypted`` is the payload's video
    link as ``reviews.video`` encrypted it (None: the payload has none); it is written with the
    review, and an update without one clears the old one."""
    named = vendor_reviewer(dbsession, normalised.get("reviewed_by"), target)
    reviewer = named.staff
    if replayed:
        return _store_over_existing(dbsession, backend=backend, target=target, normalised=normalised,
                                    redacted_payload=redacted_payload, digest=digest, vendor_status=vendor_status,
                                    reviewer=named, app_settings=app_settings, signed_at=signed_at,
                                    replayed=True, video_link_encrypted=video_link_encrypted)
    decided, moves = decide(normalised["status"], has_staff_reviewer=reviewer is not None, attempt=target,
                            passing_statuses=backend.passing_statuses, app_settings=app_settings)
    status_after = decided.value if moves else target.status
    now = utcnow()
    review_values = {
        "attempt_code": target.attempt_code,
        "attempt_id": target.id,
        "exam_id": target.exam_id,
        "context_id": target.exam.context_id,
        "backend": backend.name,
        "status": normalised["status"],
        "vendor_status": vendor_status,
        "raw_payload": redacted_payload,
        "payload_digest": digest,
        "signed_at": signed_at,
        "reviewer_id": reviewer.id if reviewer else None,
        "vendor_reviewed_by": named.text,
        "video_link_encrypted": video_link_encrypted,
        "queue_priority": queue_priority(normalised["status"], status_after),
        "created_at": now,
        "modified_at": now,
    }
    events = [{
        "kind": EventKind.review_received.value, "attempt_id": target.id, "attempt_code": target.attempt_code,
        "payload": {"status": normalised["status"], "vendor_status": vendor_status, "backend": backend.name,
                    "outcome": "created"},
    }]
    move = None
    if moves:
        move = lifecycle.changed_columns(target.started_at, decided, now)
        reason = f"review created by {backend.name}"
        events.append(lifecycle.status_event(target.id, target.attempt_code, target.status, decided, reason=reason))
        attention = attention_event(target.id, target.attempt_code, decided.value, reason)
        if attention is not None:
            events.append(attention)
    comments = _comment_values(normalised)
    # The unique attempt_code decides between racing twins inside the database: the loser's
    # insert does nothing (on PostgreSQL, after waiting for the winner to commit) and it
    # carries on as a resend of the stored review.
    review_id = write_new_review(dbsession, NewReview(
        review=review_values, comments=comments, events=events, attempt_move=move,
    ))
    if review_id is None:
        return _store_over_existing(dbsession, backend=backend, target=target, normalised=normalised,
                                    redacted_payload=redacted_payload, digest=digest, vendor_status=vendor_status,
                                    reviewer=named, app_settings=app_settings, signed_at=signed_at,
                                    video_link_encrypted=video_link_encrypted)
    warn_ignored_reviewer(dbsession, review_id=review_id, backend_name=backend.name, reviewer=named)
    attempt = target.changed(**move) if move else target
    # Core statements are invisible to zope.sqlalchemy: say that this transaction wrote.
    mark_written(dbsession)
    review = ReviewFacts(id=review_id, reviewer=reviewer,
                         comments=tuple(ReviewCommentFacts(**c) for c in comments), **review_values)
    return StoredReview(review, attempt, "created")


def _store_over_existing(dbsession, *, backend, target: AttemptFacts, normalised, redacted_payload, digest,
                         vendor_status, reviewer: VendorReviewer, app_settings, signed_at=None,
                         replayed=False, video_link_encrypted=None) -> StoredReview:
    """A review is stored already: refuse, keep it (identical resend), or update it with history."""
    review = dbsession.execute(
        select(Review).where(Review.attempt_code == target.attempt_code).with_for_update(of=Review)
    ).scalar_one_or_none()
    if review is None:  # only after a replayed message: the review it made is gone
        raise Conflict("this signed callback was received before", code="replayed_signature",
                       details={"attempt_code": target.attempt_code})
    attempt = review.attempt
    if not app_settings.allow_review_updates:
        raise Conflict(
            "a review for this attempt is already stored and updates are turned off",
            code="review_exists",
            details={"attempt_code": target.attempt_code, "review_id": review.id},
        )
    if review.backend != backend.name:
        # The review's backend decides its passing statuses, now and at second reviews: another
        # vendor's update would leave the row naming one backend and holding another's verdict.
        raise Conflict(
            f"this attempt's review came through backend {review.backend!r}, not {backend.name!r}",
            code="backend_mismatch",
            details={"expected": review.backend, "received": backend.name},
        )
    if review.payload_digest == digest:
        return StoredReview(review, attempt, "unchanged")
    if replayed:
        raise Conflict("this signed callback was received before; sign each callback afresh",
                       code="replayed_signature", details={"attempt_code": target.attempt_code})
    if signed_at is not None and review.signed_at is not None and signed_at < review.signed_at:
        raise Conflict("this review was signed before the review stored for the attempt",
                       code="stale_review",
                       details={"attempt_code": target.attempt_code, "signed_at": signed_at.isoformat(),
                                "stored_signed_at": review.signed_at.isoformat()})
    overwrite_review(dbsession, review, replaced_by=f"vendor:{backend.name}", backend=backend.name,
                     status=normalised["status"], vendor_status=vendor_status, raw_payload=redacted_payload,
                     digest=digest, comments=[ReviewComment(**c) for c in _comment_values(normalised)],
                     signed_at=signed_at, video_link_encrypted=video_link_encrypted, reviewer=reviewer.staff,
                     vendor_reviewed_by=reviewer.text)
    flush_or_retry(dbsession)
    dbsession.add(
        Event(
            kind=EventKind.review_received.value,
            attempt_id=attempt.id,
            attempt_code=attempt.attempt_code,
            payload={"review_id": review.id, "status": review.status, "vendor_status": vendor_status,
                     "backend": backend.name, "outcome": "updated"},
        )
    )
    warn_ignored_reviewer(dbsession, review_id=review.id, backend_name=backend.name, reviewer=reviewer)
    settle_attempt(dbsession, review=review, attempt=attempt, passing_statuses=backend.passing_statuses,
                   app_settings=app_settings, reason=f"review updated by {backend.name}")
    return StoredReview(review, attempt, "updated")


def settle_attempt(dbsession, *, review: Review, attempt: Attempt, passing_statuses, app_settings,
                   reason: str) -> AttemptStatus | None:
    """Apply the decision table; archived and terminated attempts keep their status.

    Returns the status decided (whether or not the attempt could take it).
    """
    decided, moves = decide(review.status,
                            has_staff_reviewer=review.reviewer_id is not None or review.reviewer is not None,
                            attempt=attempt, passing_statuses=passing_statuses, app_settings=app_settings)
    if moves:
        lifecycle.move(dbsession, attempt, decided, reason=reason)
    review.queue_priority = queue_priority(review.status, attempt.status)
    return decided
