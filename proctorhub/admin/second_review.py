"""A staff second review: a new status and a note, recorded and settled like a vendor's review.

The reviewer is recorded, the replaced state goes to the review's history (the same snapshot the
vendor updates use), and the attempt is settled by the decision table of DESIGN.md section 3.
Since a staff reviewer is now set, a failing status rejects the attempt instead of asking for yet
another second review.
"""

from __future__ import annotations

import datetime as dt

import colander
from sqlalchemy import select

from .. import events
from ..errors import Conflict
from ..models import Review, ReviewStatus
from ..reviews.service import settle_attempt, snapshot
from ..schemas import StrictBool, StrictInt
from . import audit
from .queue import CLAIM_TTL

DEFAULT_PASSING = frozenset({ReviewStatus.passed.value})

# A reviewer may also say what the attempt's outcome should be; it becomes the review status that
# yields that outcome for this review's backend.
OUTCOME_ALIASES = ("verified", "rejected")


class SecondReviewSchema(colander.MappingSchema):
    status = colander.SchemaNode(
        colander.String(),
        validator=colander.OneOf([s.value for s in ReviewStatus] + list(OUTCOME_ALIASES)),
    )
    note = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=5000))
    # The review's version (its number of history rows) when the reviewer read it: a decision on a
    # review that changed since is refused with what changed, unless confirmed.
    seen = colander.SchemaNode(StrictInt(), missing=None, validator=colander.Range(min=0, max=10**6))
    # Decide even though someone else claimed or decided the review meanwhile.
    confirm = colander.SchemaNode(StrictBool(), missing=False)


class ReviewConflict(Conflict):
    """409 ``review_conflict``: someone else holds the review, or it changed since the reviewer read it."""

    code = "review_conflict"


def live_claim(review: Review, now: dt.datetime | None = None):
    """The staff user holding a claim on ``review`` that has not expired, or ``None``."""
    if review.claimed_by_id is None or review.claimed_at is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    return review.claimed_by if review.claimed_at > now - CLAIM_TTL else None


def version(review: Review) -> int:
    return len(review.history)


def conflicts(review: Review, staff_id: int, *, seen: int | None, strict: bool) -> dict | None:
    """Why a decision by ``staff_id`` needs confirming, and what changed since ``seen``; ``None`` if it does not.

    ``strict`` (the browser's form) also asks when another staff member already decided the review.
    """
    reasons = {}
    holder = live_claim(review)
    if holder is not None and holder.id != staff_id:
        reasons["claimed_by"] = holder.email
        reasons["claimed_at"] = review.claimed_at.isoformat()
    current = version(review)
    if seen is not None and seen != current:
        reasons["changes"] = [
            {"replaced_by": entry.replaced_by, "replaced_at": entry.replaced_at.isoformat(),
             "status_before": entry.status}
            for entry in review.history[seen:]
        ] if seen < current else []
        reasons["status_now"] = review.status
        reasons["reviewed_by_now"] = review.reviewer.email if review.reviewer else None
    if strict and review.reviewer_id is not None and review.reviewer_id != staff_id and review.decided_at:
        reasons["decided_by"] = review.reviewer.email if review.reviewer else None
        reasons["decided_at"] = review.decided_at.isoformat()
    if not reasons:
        return None
    reasons["version"] = current
    return reasons


def passing_statuses(request, review: Review) -> frozenset[str]:
    backend = request.backends.get(review.backend)
    return frozenset(backend.passing_statuses) if backend is not None else DEFAULT_PASSING


def review_status_for(status: str, passing: frozenset[str]) -> str:
    if status == "verified":
        return ReviewStatus.passed.value if ReviewStatus.passed in passing else sorted(passing)[0]
    if status == "rejected":
        for candidate in (ReviewStatus.violation, ReviewStatus.suspicious):
            if candidate not in passing:
                return candidate.value
    return status


def lock(dbsession, review: Review) -> Review:
    # Two reviewers deciding at once: the later waits for the earlier and reads its result.
    dbsession.execute(
        select(Review).where(Review.id == review.id).with_for_update(of=Review)
        .execution_options(populate_existing=True)
    )
    dbsession.expire(review, ["history"])
    return review


def decide(request, review: Review, *, status: str, note: str, seen: int | None = None, confirm: bool = True,
           strict: bool = False, now: dt.datetime | None = None) -> Review:
    """Apply a second review to ``review`` and settle its attempt; return the review.

    Unless ``confirm``, a review another staff member holds a live claim on (or, with ``seen``,
    one that changed since the reviewer read it) is refused with ``ReviewConflict``, nothing written.
    """
    dbsession = request.dbsession
    lock(dbsession, review)
    staff = audit.acting_staff(request)
    if not confirm:
        reasons = conflicts(review, staff.id, seen=seen, strict=strict)
        if reasons is not None:
            raise ReviewConflict("someone else claimed or decided this review since you opened it; "
                                 "look at what changed and confirm to decide anyway", details=reasons)
    passing = passing_statuses(request, review)
    new_status = review_status_for(status, passing)
    attempt = review.attempt
    before = {
        "status": review.status,
        "reviewed_by": review.reviewer.email if review.reviewer else None,
        "note": review.note,
        "attempt_status": attempt.status,
    }
    dbsession.add(snapshot(review, replaced_by=f"staff:{staff.email}"))
    review.status = new_status
    review.reviewer = staff
    review.reviewer_id = staff.id
    review.note = note.strip() or None
    review.decided_at = now or dt.datetime.now(dt.UTC)
    # The decision ends the claim.
    review.claimed_by_id = None
    review.claimed_by = None
    review.claimed_at = None
    settle_attempt(dbsession, review=review, attempt=attempt, passing_statuses=passing,
                   app_settings=request.app_settings, reason=f"second review by {staff.email}")
    events.emit(dbsession, events.EventKind.review_decided, attempt, {
        "review_id": review.id, "status": review.status, "previous_status": before["status"],
        "reviewed_by": staff.email, "attempt_status": attempt.status,
        "previous_attempt_status": before["attempt_status"]})
    after = {"status": review.status, "reviewed_by": staff.email, "note": review.note,
             "attempt_status": attempt.status}
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    audit.record(request, object_type="review", object_id=review.id, action="second_review",
                 changes=changes, staff=staff)
    dbsession.flush()
    dbsession.expire(review, ["history"])  # the snapshot just written is the newest of them
    return review


def claim(request, review: Review, *, take_over: bool = False, now: dt.datetime | None = None) -> Review:
    """Take ``review`` for the acting staff user; another's live claim is a 409 unless ``take_over``."""
    lock(request.dbsession, review)
    staff = audit.acting_staff(request)
    holder = live_claim(review, now)
    if holder is not None and holder.id != staff.id and not take_over:
        raise ReviewConflict(f"{holder.email} is working on this review",
                             details={"claimed_by": holder.email, "claimed_at": review.claimed_at.isoformat()})
    if holder is not None and holder.id != staff.id:
        audit.record(request, object_type="review", object_id=review.id, action="claim_taken_over",
                     changes={"claimed_by": [holder.email, staff.email]}, staff=staff)
    review.claimed_by_id = staff.id
    review.claimed_by = staff
    review.claimed_at = now or dt.datetime.now(dt.UTC)
    return review


def release(request, review: Review) -> Review:
    """Give up one's own claim (another's stays: a 409)."""
    lock(request.dbsession, review)
    staff = audit.acting_staff(request)
    holder = live_claim(review)
    if holder is not None and holder.id != staff.id:
        raise ReviewConflict(f"{holder.email} holds this review, not you",
                             details={"claimed_by": holder.email, "claimed_at": review.claimed_at.isoformat()})
    review.claimed_by_id = None
    review.claimed_by = None
    review.claimed_at = None
    return review
