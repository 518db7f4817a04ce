"""Tools that review through ACS (Proctorio, as edx-exams integrates it): no review callback
comes; the tool ends the exam with ``terminate``, a ``reason_code`` and an ``incident_severity``.

Where the tool configuration says so (``acs_review``), a terminate whose reason code means "the
learner submitted" (``acs_submitted_reason_codes``) settles the attempt like a review: the
attempt is submitted, a review is stored (``passed`` at or under the severity threshold,
``suspicious`` above it; ``not_reviewed`` without a severity) with the ACS request as its raw
payload and the attempt's flags as its comments, and the decision table (DESIGN.md 3) decides.
Any other terminate ends the attempt as ``terminated``.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from ..attempts import lifecycle
from ..attempts.incidents import flagged_incidents
from ..errors import Conflict
from ..models import AttemptStatus, Event, EventKind, Review, ReviewComment, ReviewStatus
from ..models.retry import flush_or_retry
from ..reviews.service import overwrite_review, settle_attempt

ACS_BACKEND = "acs"
PASSING = frozenset({ReviewStatus.passed.value})


def review_status(severity: float | None, threshold: float) -> ReviewStatus:
    if severity is None:
        return ReviewStatus.not_reviewed
    return ReviewStatus.suspicious if severity > threshold else ReviewStatus.passed


def _flags_as_comments(dbsession, attempt) -> list[ReviewComment]:
    """The attempt's ACS flags as the review's comments, on the session's timeline."""
    return [ReviewComment(position=i, start=flag.start, stop=flag.stop, duration=flag.duration,
                          comment=flag.comment, status=flag.status)
            for i, flag in enumerate(flagged_incidents(dbsession, attempt))]


def settle_terminate(dbsession, *, attempt, configuration, control, raw: dict, now, app_settings) -> None:
    submitted = configuration.acs_review and control.reason_code in (configuration.acs_submitted_reason_codes or [])
    if not submitted:
        lifecycle.move(dbsession, attempt, AttemptStatus.terminated, reason="ACS terminate", now=now)
        return
    lifecycle.move(dbsession, attempt, AttemptStatus.submitted, reason="ACS terminate: submitted by the learner",
                   now=now)
    status = review_status(control.incident_severity, configuration.acs_severity_threshold)
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode("utf-8")).hexdigest()
    vendor_status = f"terminate {control.reason_code}, severity {control.incident_severity}"
    # Read before anything is added (a query flushes what the session holds).
    comments = _flags_as_comments(dbsession, attempt)
    review = dbsession.execute(
        select(Review).where(Review.attempt_code == attempt.attempt_code).with_for_update(of=Review)
    ).scalar_one_or_none()
    outcome, replaced_by = "created", None
    if review is None:
        review = Review(attempt_code=attempt.attempt_code, attempt_id=attempt.id, exam_id=attempt.exam_id,
                        context_id=attempt.exam.context_id, backend=ACS_BACKEND, created_at=now)
    else:
        if not app_settings.allow_review_updates:
            raise Conflict("a review for this attempt is already stored and updates are turned off",
                           code="review_exists", details={"attempt_code": attempt.attempt_code})
        outcome, replaced_by = "updated", "acs:terminate"
    # Everything the review said comes from this terminate now: nothing of a vendor review it
    # replaces (its backend, signature time, video link, named reviewer, staff note) stays behind.
    overwrite_review(dbsession, review, replaced_by=replaced_by, backend=ACS_BACKEND, status=status.value,
                     vendor_status=vendor_status[:255], raw_payload=raw, digest=digest, comments=comments,
                     signed_at=None, video_link_encrypted=None, reviewer=None, vendor_reviewed_by=None,
                     modified_at=now)
    dbsession.add(review)
    flush_or_retry(dbsession)
    dbsession.add(Event(kind=EventKind.review_received.value, attempt_id=attempt.id,
                        attempt_code=attempt.attempt_code, created_at=now,
                        payload={"review_id": review.id, "status": review.status, "vendor_status": vendor_status,
                                 "backend": ACS_BACKEND, "outcome": outcome}))
    # (settle_attempt sets the review's queue priority from the attempt's new status.)
    settle_attempt(dbsession, review=review, attempt=attempt, passing_statuses=PASSING, app_settings=app_settings,
                   reason="review through ACS terminate")
