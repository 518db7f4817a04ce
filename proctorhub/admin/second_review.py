"""A staff second review: a new status and a note, recorded and settled like a vendor's review.

The reviewer is recorded, the replaced state goes to the review's history (the same snapshot the
vendor updates use), and the attempt is settled by the decision table of DESIGN.md section 3.
Since a staff reviewer is now set, a failing status rejects the attempt instead of asking for yet
another second review.
"""

from __future__ import annotations

import colander
from sqlalchemy import select

from .. import events
from ..models import Review, ReviewStatus
from ..reviews.service import settle_attempt, snapshot
from . import audit

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


def decide(request, review: Review, *, status: str, note: str) -> Review:
    """Apply a second review to ``review`` and settle its attempt; return the review."""
    dbsession = request.dbsession
    # Two reviewers deciding at once: the later waits for the earlier and snapshots its result.
    dbsession.execute(
        select(Review).where(Review.id == review.id).with_for_update(of=Review)
        .execution_options(populate_existing=True)
    )
    passing = passing_statuses(request, review)
    new_status = review_status_for(status, passing)
    staff = audit.acting_staff(request)
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
    return review
