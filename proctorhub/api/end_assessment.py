"""``/api/v1`` at the end of an exam: whether an ``LtiEndAssessment`` launch is owed
(``GET /api/v1/end-assessment-return``, the service form of ``get_end_assessment_return``), and
submitting the attempt (``POST /api/v1/attempts/{attempt_code}/submit``)."""

from __future__ import annotations

import colander
from pyramid.view import view_config

from ..attempts.serialize import attempt_json
from ..attempts.service import get_attempt, latest_live_attempt, review_of, submit
from ..schemas import Identifier, drop_nulls, validate
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
    query = drop_nulls(validate(EndAssessmentReturnQuery(), {k: v for k, v in request.GET.items() if k != "lms"}))
    attempt = latest_live_attempt(request.dbsession, lms_id=request.lms.id, user_id=query["user_id"],
                                  resource_link_id=query["resource_link_id"], context_id=query.get("context_id"))
    return {"end_assessment_return": bool(attempt is not None and attempt.end_assessment_return)}


@view_config(route_name="api.attempt_submit", request_method="POST", renderer="json", permission=Permission.lms)
def submit_attempt(request):
    """The learner finished: the attempt is ``submitted``; the answer says whether an
    ``LtiEndAssessment`` launch is owed (``end_assessment_return``)."""
    attempt = get_attempt(request.dbsession, request.matchdict["attempt_code"], request.lms.id)
    submit(request.dbsession, attempt)
    return {
        "end_assessment_return": attempt.end_assessment_return,
        "attempt": attempt_json(attempt, review_of(request.dbsession, attempt), now=request.now),
    }
