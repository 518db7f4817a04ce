"""``/admin/reviews/``: the review queue, a review, and the second review."""

from __future__ import annotations

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import select

from ..models import Exam, ReviewStatus
from ..reviews.decision import decide_attempt_status
from ..security import Permission
from . import audit
from .forms import admin_url, form_data, json_body
from .queue import exams_of_courses, parse_filters, queue_page, visible_courses
from .resources import ReviewResource, ReviewsResource, admin_view
from .second_review import SecondReviewSchema, decide, passing_statuses
from .serialize import review_detail_json, review_summary_json
from .timeline import layout, session_seconds

TEMPLATES = "proctorhub:templates/admin/"
MAX_EXAM_CHOICES = 300


def _next_url(request, context, page) -> str | None:
    if page.next_cursor is None:
        return None
    return admin_url(request, context, query=page.filters.query_params(after=page.next_cursor))


@admin_view(context=ReviewsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_review)
def review_list(context, request):
    """The queue as JSON: ``reviews`` in queue order and ``next`` (the next page's URL) or null."""
    page = queue_page(request.dbsession, parse_filters(request.GET), visible_courses(request.identity))
    return {
        "reviews": [review_summary_json(r) for r in page.reviews],
        "next_cursor": page.next_cursor,
        "next": _next_url(request, context, page),
    }


def _filter_choices(request, courses, filters):
    dbsession = request.dbsession
    if courses is None:
        course_choices = list(dbsession.execute(
            select(Exam.context_id).distinct().order_by(Exam.context_id).limit(MAX_EXAM_CHOICES)).scalars())
    else:
        course_choices = sorted({context for _, context in courses})
    exams = select(Exam.id, Exam.name, Exam.context_id).order_by(Exam.context_id, Exam.name, Exam.id)
    if filters.course is not None:
        exams = exams.where(Exam.context_id == filters.course)
    if courses is not None:
        exams = exams.where(exams_of_courses(courses))
    return {
        "courses": course_choices,
        "exams": dbsession.execute(exams.limit(MAX_EXAM_CHOICES)).all(),
        "backends": request.backends.names(),
        "statuses": [s.value for s in ReviewStatus],
    }


@admin_view(context=ReviewsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "queue.jinja2", permission=Permission.view_review)
def review_queue_page(context, request):
    courses = visible_courses(request.identity)
    filters = parse_filters(request.GET)
    page = queue_page(request.dbsession, filters, courses)
    return {
        "page": page,
        "filters": filters,
        "choices": _filter_choices(request, courses, filters),
        "next_url": _next_url(request, context, page),
        "first_url": (admin_url(request, context, query=filters.query_params()) if filters.after else None),
        "review_url": lambda review: admin_url(request, context, str(review.id)),
        "nav": "reviews",
    }


def _raw_requested(request) -> bool:
    return request.GET.get("raw", "") not in ("", "0", "false", "no")


@admin_view(context=ReviewResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_review)
def review_show(context, request):
    """A review with its comments, attempt, history and audit trail; ``?raw=1`` adds the redacted payload."""
    review = context.row
    return review_detail_json(review, audit_entries=audit.entries_for(request.dbsession, "review", review.id),
                              raw=_raw_requested(request))


def _outcomes(request, review) -> dict:
    """What each status would make of the attempt if a staff reviewer chose it now."""
    passing = passing_statuses(request, review)
    return {
        status.value: decide_attempt_status(
            review_status=status.value, passing_statuses=passing, has_staff_reviewer=True,
            require_failure_second_reviews=request.app_settings.require_failure_second_reviews,
            is_practice=review.attempt.exam.is_practice,
        ).value
        for status in ReviewStatus
    }


def _review_page(context, request, *, errors=None, form=None):
    review = context.row
    attempt = review.attempt
    return {
        "review": review,
        "attempt": attempt,
        "exam": attempt.exam,
        "timeline": layout(review.comments, session_seconds=session_seconds(attempt)),
        "history": list(reversed(review.history)),
        "audit_entries": audit.entries_for(request.dbsession, "review", review.id),
        "raw": _raw_requested(request),
        "raw_url": admin_url(request, context, query={"raw": "1"}) + "#raw",
        "outcomes": _outcomes(request, review),
        "statuses": [s.value for s in ReviewStatus],
        "can_decide": request.has_permission(Permission.decide_review, context),
        "attempt_url": admin_url(request, context.__parent__.__parent__["attempts"], attempt.attempt_code),
        "exam_url": admin_url(request, context.__parent__.__parent__["exams"], str(attempt.exam_id)),
        "queue_url": admin_url(request, context.__parent__, query={"course": review.context_id}),
        "errors": errors or {},
        "form": form or {},
        "nav": "reviews",
    }


@admin_view(context=ReviewResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "review.jinja2", permission=Permission.view_review)
def review_page(context, request):
    return _review_page(context, request)


def _second_review_schema():
    # Unknown keys are refused: a misspelt "note" must not be dropped without a word.
    return SecondReviewSchema(colander.Mapping(unknown="raise"))


@admin_view(context=ReviewResource, request_method=("POST", "PUT", "PATCH"), accept="application/json",
             renderer="json", permission=Permission.decide_review)
def second_review(context, request):
    """A second review: ``{"status": passed|violation|suspicious|not_reviewed|verified|rejected, "note"?}``.

    Records the caller as the reviewer, keeps the replaced state in the history, settles the
    attempt by the decision table and answers with the review (its ``attempt`` included).
    """
    data = json_body(request, _second_review_schema())
    review = decide(request, context.row, status=data["status"], note=data["note"])
    return review_detail_json(review, audit_entries=audit.entries_for(request.dbsession, "review", review.id),
                              raw=False)


@admin_view(context=ReviewResource, request_method="POST", accept="text/html",
             permission=Permission.decide_review)
def second_review_form(context, request):
    data, errors, values = form_data(request, _second_review_schema())
    if data is None:
        response = render_to_response(TEMPLATES + "review.jinja2",
                                      _review_page(context, request, errors=errors, form=values),
                                      request=request)
        response.status_int = 400
        return response
    review = decide(request, context.row, status=data["status"], note=data["note"])
    request.session.flash(f"Second review saved: the review is {review.status}, the attempt is "
                          f"{review.attempt.status}.")
    return HTTPSeeOther(admin_url(request, context))

