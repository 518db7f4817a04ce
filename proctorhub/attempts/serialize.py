"""The one JSON shape of an attempt (and its review), used by every answer that carries one."""

from __future__ import annotations

from ..models import Attempt, Review
from .timing import time_fields


def iso(value):
    return value.isoformat() if value is not None else None


def comment_json(comment) -> dict:
    return {
        "start": comment.start,
        "stop": comment.stop,
        "duration": comment.duration,
        "comment": comment.comment,
        "status": comment.status,
    }


def review_fields(review: Review) -> dict:
    """The review's own fields, without its comments (a queue row lists many reviews)."""
    return {
        "id": review.id,
        "attempt_code": review.attempt_code,
        "backend": review.backend,
        "status": review.status,
        "vendor_status": review.vendor_status,
        "reviewed_by": review.reviewer.email if review.reviewer else None,
        "created_at": iso(review.created_at),
        "modified_at": iso(review.modified_at),
    }


def review_json(review: Review | None) -> dict | None:
    if review is None:
        return None
    return {**review_fields(review), "comments": [comment_json(c) for c in review.comments]}



def attempt_json(attempt: Attempt, review: Review | None, *, now) -> dict:
    """``now`` is the moment the ``time`` fields are read at: the request's clock (``request.now``),
    required so that no answer reads the wall clock instead."""
    exam = attempt.exam
    return {
        "attempt_code": attempt.attempt_code,
        "lms": exam.lms.slug,
        "backend": exam.backend,
        "status": attempt.status,
        "attempt_number": attempt.attempt_number,
        "exam_id": attempt.exam_id,
        "context_id": exam.context_id,
        "resource_link_id": exam.resource_link_id,
        "user_id": attempt.user_id,
        "user_name": attempt.user_name,
        "user_email": attempt.user_email,
        "external_id": attempt.external_id,
        "end_assessment_return": attempt.end_assessment_return,
        "verified_user": attempt.verified_user,
        "archived": attempt.archived,
        "created_at": iso(attempt.created_at),
        "modified_at": iso(attempt.modified_at),
        "time": time_fields(attempt, now),  # the time ledger at the request's clock (attempts.timing)
        "review": review_json(review),
    }
