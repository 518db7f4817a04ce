"""``/admin/exams/``: exams, whether they are proctored, and their attempts."""

from __future__ import annotations

import colander
from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from ..attempts.serialize import attempt_json
from ..models import Attempt, Exam, Lms, Review
from ..schemas import StrictBool, StrictInt
from ..security import Permission
from . import audit
from .forms import admin_url, enabled_backend, form_data, json_update, render_page
from .listing import ListSchema, course_condition, id_page, page_links, parse_list_params
from .queue import exams_of_courses, visible_courses
from .resources import ExamResource, ExamsResource, admin_view
from .serialize import exam_json

TEMPLATES = "proctorhub:templates/admin/"
ATTEMPTS_SHOWN = 100
FIELDS = ("name", "time_limit_mins", "is_proctored", "is_practice", "backend")


class ExamUpdateSchema(colander.MappingSchema):
    """What staff may change on an exam; its course and resource link come from the LMS."""

    name = colander.SchemaNode(colander.String(), validator=colander.Length(min=1, max=255))
    time_limit_mins = colander.SchemaNode(StrictInt(), missing=None, validator=colander.Range(min=1))
    is_proctored = colander.SchemaNode(StrictBool())
    is_practice = colander.SchemaNode(StrictBool())
    backend = colander.SchemaNode(colander.String(), missing=None, validator=enabled_backend)


class ExamListSchema(ListSchema):
    lms = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=64))


def _schema(request):
    return ExamUpdateSchema(colander.Mapping(unknown="raise")).bind(backends=request.backends.names())


def update(request, exam: Exam, data: dict) -> Exam:
    audit.apply_update(request, exam, {key: data[key] for key in FIELDS}, object_type="exam")
    return exam


def _exams(request):
    """A page of exams, newest first: ``lms`` (a slug), ``course`` (any part of the course id), paged by id."""
    params = parse_list_params(request.GET, ExamListSchema())
    query = select(Exam)
    courses = visible_courses(request.identity)
    if courses is not None:
        query = query.where(exams_of_courses(courses))
    if params["course"]:
        query = query.where(course_condition(Exam.context_id, params["course"]))
    if params["lms"]:
        query = query.where(Exam.lms_id.in_(select(Lms.id).where(Lms.slug == params["lms"])))
    page = id_page(request.dbsession, query, Exam.id, after=params["after"], before=params["before"],
                   limit=params["limit"])
    return params, page


@admin_view(context=ExamsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_exam)
def exam_list(context, request):
    """Exams newest first (``?course=`` any part of a context id, ``?lms=`` one lms's), ``limit`` a page
    with ``next``/``previous`` page URLs; reviewers see their courses' only."""
    params, page = _exams(request)
    links = page_links(request, context, page, params)
    return {"exams": [exam_json(e) for e in page.rows], "next": links["next"], "previous": links["previous"]}


@admin_view(context=ExamsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "exams.jinja2", permission=Permission.view_exam)
def exams_page(context, request):
    params, page = _exams(request)
    return {"exams": page.rows, "course": params["course"], "lms": params["lms"],
            "links": page_links(request, context, page, params),
            "url": lambda exam: admin_url(request, context, str(exam.id)), "nav": "exams"}


def _attempts(request, exam):
    return request.dbsession.execute(
        select(Attempt, Review)
        .outerjoin(Review, Review.attempt_id == Attempt.id)
        .where(Attempt.exam_id == exam.id)
        .order_by(Attempt.id.desc())
        .limit(ATTEMPTS_SHOWN)
    ).all()


@admin_view(context=ExamResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_exam)
def exam_show(context, request):
    answer = exam_json(context.row)
    answer["attempts"] = [attempt_json(attempt, review, now=request.now)
                          for attempt, review in _attempts(request, context.row)]
    answer["audit"] = [audit.audit_json(e) for e in audit.entries_for(request.dbsession, "exam", context.row.id)]
    return answer


@admin_view(context=ExamResource, request_method=("PUT", "PATCH", "POST"), accept="application/json",
             renderer="json", permission=Permission.edit_exam)
def exam_update(context, request):
    """Change some of ``name``, ``time_limit_mins``, ``is_proctored``, ``is_practice``, ``backend``."""
    data = json_update(request, _schema(request), context.row, FIELDS)
    return exam_json(update(request, context.row, data))


def _exam_page(context, request, *, values=None, errors=None, status=200):
    """The exam's page; its form filled with ``values`` (what was sent) when they were refused."""
    root = context.__parent__.__parent__
    return render_page(TEMPLATES + "exam.jinja2", {
        "exam": context.row,
        "values": values or {key: getattr(context.row, key) for key in FIELDS},
        "attempts": _attempts(request, context.row),
        "attempt_url": lambda attempt: admin_url(request, root["attempts"], attempt.attempt_code),
        "review_url": lambda review: admin_url(request, root["reviews"], str(review.id)),
        "queue_url": admin_url(request, root["reviews"], query={"exam": context.row.id}),
        "audit_entries": audit.entries_for(request.dbsession, "exam", context.row.id),
        "can_edit": request.has_permission(Permission.edit_exam, context),
        "backends": request.backends.names(),
        "errors": errors or {},
        "nav": "exams",
    }, request=request, status=status)


@admin_view(context=ExamResource, request_method="GET", accept="text/html", permission=Permission.view_exam)
def exam_page(context, request):
    return _exam_page(context, request)


@admin_view(context=ExamResource, request_method="POST", accept="text/html", permission=Permission.edit_exam)
def exam_update_form(context, request):
    data, errors, values = form_data(request, _schema(request))
    if data is None:
        return _exam_page(context, request, values=values, errors=errors, status=400)
    update(request, context.row, data)
    request.session.flash("Exam saved.")
    return HTTPSeeOther(admin_url(request, context))
