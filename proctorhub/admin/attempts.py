"""``/admin/attempts/``: attempts newest first; ``/admin/attempts/{attempt_code}``: an attempt, its
review and its status history."""

from __future__ import annotations

import colander
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..attempts.serialize import attempt_json, iso
from ..attempts.service import review_of
from ..attempts.timing import time_fields
from ..models import Attempt, AttemptControl, AttemptStatus, Event, EventKind, Exam, Review
from ..security import Permission
from .forms import admin_url
from .listing import ListSchema, exams_matching, id_page, page_links, parse_list_params
from .queue import exams_of_courses, learner_condition, visible_courses
from .resources import AttemptResource, AttemptsResource, admin_view
from .serialize import status_history_json

TEMPLATES = "proctorhub:templates/admin/"


def controls(dbsession, attempt) -> list[AttemptControl]:
    """The ACS actions the tool applied to the attempt, oldest first (flags are its incidents)."""
    return list(dbsession.execute(
        select(AttemptControl).where(AttemptControl.attempt_id == attempt.id).order_by(AttemptControl.id)
    ).scalars())


def status_history(dbsession, attempt) -> list[Event]:
    return list(dbsession.execute(
        select(Event)
        .where(Event.attempt_id == attempt.id, Event.kind == EventKind.attempt_status_changed.value)
        .order_by(Event.id)
    ).scalars())


def control_json(control: AttemptControl) -> dict:
    return {"action": control.action, "incident_time": control.incident_time,
            "incident_severity": control.incident_severity, "extra_time": control.extra_time,
            "reason_code": control.reason_code, "reason_msg": control.reason_msg,
            "status_before": control.status_before, "status_after": control.status_after,
            "created_at": control.created_at.isoformat()}


@admin_view(context=AttemptResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_attempt)
def attempt_show(context, request):
    """The attempt in the API's shape, plus ``status_history`` (oldest first)."""
    attempt = context.row
    answer = attempt_json(attempt, review_of(request.dbsession, attempt), now=request.now)
    answer["acs_controls"] = [control_json(c) for c in controls(request.dbsession, attempt)]
    answer["status_history"] = [status_history_json(e) for e in status_history(request.dbsession, attempt)]
    return answer


@admin_view(context=AttemptResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "attempt.jinja2", permission=Permission.view_attempt)
def attempt_page(context, request):
    attempt = context.row
    review = review_of(request.dbsession, attempt)
    root = context.__parent__.__parent__
    return {
        "attempt": attempt,
        "exam": attempt.exam,
        "review": review,
        "history": status_history(request.dbsession, attempt),
        "time": time_fields(attempt, request.now),
        "controls": controls(request.dbsession, attempt),
        "review_url": admin_url(request, root["reviews"], str(review.id)) if review else None,
        "exam_url": admin_url(request, root["exams"], str(attempt.exam_id)),
        "nav": "attempts",
    }


class AttemptListSchema(ListSchema):
    status = colander.SchemaNode(colander.String(), missing="",
                                 validator=colander.OneOf([s.value for s in AttemptStatus] + [""]))
    q = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=255))


def _attempts_page(request):
    params = parse_list_params(request.GET, AttemptListSchema())
    params["q"] = params["q"].strip()
    query = select(Attempt).options(joinedload(Attempt.exam))
    courses = visible_courses(request.identity)
    if courses is not None:
        query = query.where(Attempt.exam_id.in_(select(Exam.id).where(exams_of_courses(courses))))
    if params["course"]:
        query = query.where(Attempt.exam_id.in_(exams_matching(params["course"])))
    if params["status"]:
        query = query.where(Attempt.status == params["status"])
    if params["q"]:
        query = query.where(learner_condition(params["q"]))
    page = id_page(request.dbsession, query, Attempt.id, after=params["after"], before=params["before"],
                   limit=params["limit"])
    return params, page


def _list_json(attempt, review, *, now) -> dict:
    answer = attempt_json(attempt, None, now=now)
    # A list row names its review (no comments): the attempt's page has the whole of it.
    answer["review"] = None if review is None else {"id": review.id, "status": review.status,
                                                    "modified_at": iso(review.modified_at)}
    return answer


@admin_view(context=AttemptsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_attempt)
def attempt_list(context, request):
    """Attempts newest first: ``course`` (any part of the course id), ``status``, ``q`` (a learner's id,
    the start of their email or name, or an attempt code), ``limit``; ``next``/``previous`` page URLs."""
    params, page = _attempts_page(request)
    reviews = {}
    if page.rows:
        reviews = {r.attempt_id: r for r in request.dbsession.execute(
            select(Review.id, Review.attempt_id, Review.status, Review.modified_at)
            .where(Review.attempt_id.in_([a.id for a in page.rows])))}
    links = page_links(request, context, page, params)
    return {"attempts": [_list_json(a, reviews.get(a.id), now=request.now) for a in page.rows],
            "next": links["next"], "previous": links["previous"]}


@admin_view(context=AttemptsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "attempts.jinja2", permission=Permission.view_attempt)
def attempts_page(context, request):
    params, page = _attempts_page(request)
    return {"attempts": page.rows, "params": params, "links": page_links(request, context, page, params),
            "statuses": [s.value for s in AttemptStatus],
            "url": lambda attempt: admin_url(request, context, attempt.attempt_code), "nav": "attempts"}
