"""The end of an exam, for the LMS: whether an ``LtiEndAssessment`` is owed, and submitting."""

from __future__ import annotations

import colander
from pyramid.view import view_config
from sqlalchemy import select

from ..attempts.lifecycle import move
from ..attempts.serialize import attempt_json
from ..attempts.service import get_attempt, review_of
from ..errors import Conflict
from ..models import COMPLETED_STATUSES, Attempt, AttemptStatus, Exam
from ..schemas import Identifier, validate
from ..security import Permission


class EndAssessmentReturnQuery(colander.MappingSchema):
    user_id = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))
    resource_link_id = colander.SchemaNode(Identifier(), validator=colander.Length(max=255))
    # Left out: any context of the caller's lms (resource link ids alone then name the exam).
    context_id = colander.SchemaNode(Identifier(), missing=colander.null, validator=colander.Length(max=255))


@view_config(route_name="api.end_assessment_return", request_method="GET", renderer="json",
             permission=Permission.lms)
def end_assessment_return(request):
    """``{"end_assessment_return": bool}`` for the user's latest live attempt at this resource link
    (and ``context_id``, when given), within the caller's lms."""
    query = validate(EndAssessmentReturnQuery(), {k: v for k, v in request.GET.items() if k != "lms"})
    latest = (
        select(Attempt).join(Exam, Attempt.exam_id == Exam.id)
        .where(Exam.lms_id == request.lms.id, Attempt.user_id == query["user_id"],
               Exam.resource_link_id == query["resource_link_id"], Attempt.archived_at.is_(None))
        .order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(1)
    )
    if query["context_id"] is not colander.null:
        latest = latest.where(Exam.context_id == query["context_id"])
    attempt = request.dbsession.execute(latest).scalar_one_or_none()
    return {"end_assessment_return": bool(attempt is not None and attempt.end_assessment_return)}


@view_config(route_name="api.attempt_submit", request_method="POST", renderer="json", permission=Permission.lms)
def submit_attempt(request):
    """The learner finished: the attempt is ``submitted``; the answer says whether an
    ``LtiEndAssessment`` launch is owed (``end_assessment_return``)."""
    attempt = get_attempt(request.dbsession, request.matchdict["attempt_code"], request.lms.id)
    if attempt.status in COMPLETED_STATUSES and attempt.status != AttemptStatus.submitted:
        # Submitting again is harmless; a reviewed or terminated attempt is past submission.
        raise Conflict(f"the attempt is {attempt.status}; it was submitted already", code="invalid_status_change",
                       details={"from": attempt.status, "to": AttemptStatus.submitted.value})
    move(request.dbsession, attempt, AttemptStatus.submitted, reason="submitted by the LMS")
    return {
        "end_assessment_return": attempt.end_assessment_return,
        "attempt": attempt_json(attempt, review_of(request.dbsession, attempt)),
    }
