"""``/admin/reviews/``: the review queue, a review, claims, second reviews one at a time and in bulk."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlencode

import colander
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import exception_view_config
from sqlalchemy import select
from webob.multidict import MultiDict

from ..attempts.incidents import flagged_incidents
from ..errors import Forbidden, InvalidPayload, NotFound
from ..lti.acs_review import ACS_BACKEND
from ..models import Exam, Review, ReviewStatus
from ..reviews.decision import decide_attempt_status
from ..reviews.video import video_link
from ..schemas import INT_MAX, StrictBool, validate
from ..security import Permission
from . import audit
from .forms import admin_url, form_data, json_body, render_page
from .queue import (
    BUCKETS,
    CLAIM_TTL,
    COUNT_CAP,
    SLA,
    SORTS,
    QueueFilters,
    exams_of_courses,
    neighbour,
    parse_filters,
    queue_page,
    sort_key,
    visible_courses,
)
from .resources import ReviewResource, ReviewsResource, admin_view
from .second_review import (
    ReviewConflict,
    SecondReviewSchema,
    claim,
    conflicts,
    decide,
    live_claim,
    passing_statuses,
    release,
    version,
)
from .serialize import review_detail_json, review_summary_json
from .timeline import layout, session_seconds

TEMPLATES = "proctorhub:templates/admin/"
MAX_EXAM_CHOICES = 300
MAX_BULK = 200
# The review page's link back to the queue it was opened from carries that queue's query string.
QUEUE_PARAM = "queue"


def _page_url(request, context, filters: QueueFilters, **cursor) -> str:
    return admin_url(request, context, query=filters.query_params(**cursor))


def _queue_links(request, context, page) -> dict:
    filters = page.filters
    return {
        "next": _page_url(request, context, filters, after=page.next_cursor) if page.next_cursor else None,
        "previous": (_page_url(request, context, filters, before=page.previous_cursor)
                     if page.previous_cursor else None),
        "first": (_page_url(request, context, filters) if (filters.after or filters.before) else None),
    }


@admin_view(context=ReviewsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_review)
def review_list(context, request):
    """The queue as JSON: ``reviews`` in queue order, ``total`` (capped at ``total_cap``), the counts per
    bucket, and the ``next`` and ``previous`` pages' URLs (or null)."""
    page = queue_page(request.dbsession, parse_filters(request.GET), visible_courses(request.identity))
    links = _queue_links(request, context, page)
    return {
        "reviews": [review_summary_json(r) for r in page.reviews],
        "total": page.total,
        "total_cap": COUNT_CAP,
        "counts": page.counts,
        "next_cursor": page.next_cursor,
        "next": links["next"],
        "previous_cursor": page.previous_cursor,
        "previous": links["previous"],
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


def _age(created_at, now):
    seconds = max(0, int((now - created_at).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _queue_query(filters: QueueFilters, cursor: dict) -> str:
    return urlencode(filters.query_params(**cursor))


@admin_view(context=ReviewsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "queue.jinja2", permission=Permission.view_review)
def review_queue_page(context, request):
    courses = visible_courses(request.identity)
    filters = parse_filters(request.GET)
    page = queue_page(request.dbsession, filters, courses)
    now = dt.datetime.now(dt.UTC)
    here = {key: request.GET[key] for key in ("after", "before") if request.GET.get(key)}
    queue_query = _queue_query(filters, here)
    return {
        "page": page,
        "filters": filters,
        "choices": _filter_choices(request, courses, filters),
        "links": _queue_links(request, context, page),
        "buckets": [(name, label, page.counts.get(name), _page_url(request, context, filters, bucket=name))
                    for name, label in BUCKETS.items()],
        "sorts": [(name, label) for name, label in SORTS.items()],
        "count_cap": COUNT_CAP,
        "queue_query": queue_query,
        "review_url": lambda review: admin_url(request, context, str(review.id), query={QUEUE_PARAM: queue_query}),
        "age": lambda review: _age(review.created_at, now),
        "overdue": lambda review: review.decided_at is None and now - review.created_at > SLA,
        "claimed": lambda review: live_claim(review, now),
        "sla_hours": int(SLA.total_seconds() // 3600),
        "can_decide": request.identity.role in ("admin", "reviewer"),
        "statuses": [s.value for s in ReviewStatus],
        "nav": "reviews",
    }


def _raw_requested(request) -> bool:
    return request.GET.get("raw", "") not in ("", "0", "false", "no")


@admin_view(context=ReviewResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_review)
def review_show(context, request):
    """A review with its comments, attempt, history and audit trail; ``?raw=1`` adds the redacted payload."""
    review = context.row
    answer = review_detail_json(review, audit_entries=audit.entries_for(request.dbsession, "review", review.id),
                                raw=_raw_requested(request), now=request.now)
    # Only here (staff who may see this review), never in the queue, the LMS API or the raw payload.
    answer["video_link"] = _video_for(request, context)
    return answer


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


def queue_context(request, source) -> tuple[QueueFilters | None, str]:
    """The queue a review was opened from (``?queue=<its query string>``): its filters and query string.

    A query string the queue itself would refuse is ignored: the page links to the plain queue.
    """
    raw = source.get(QUEUE_PARAM, "")
    if not raw or len(raw) > 2000:
        return None, ""
    try:
        filters = parse_filters(MultiDict(parse_qsl(raw, keep_blank_values=False)))
    except InvalidPayload:
        return None, ""
    return filters, raw


def _queue_url(request, context, raw: str) -> str:
    queue = context.__parent__
    if raw:
        return admin_url(request, queue) + "?" + raw
    return admin_url(request, queue, query={"course": context.row.context_id})


def _review_url(request, queue_resource, review, raw: str) -> str:
    return admin_url(request, queue_resource, str(review.id), query={QUEUE_PARAM: raw} if raw else None)


def _step_url(request, context, review, raw: str) -> str | None:
    return _review_url(request, context.__parent__, review, raw) if review is not None else None


def _neighbours(request, context, filters) -> dict:
    if filters is None:
        return {"previous": None, "next": None}
    courses = visible_courses(request.identity)
    dbsession = request.dbsession
    answer = {}
    for name, backwards in (("previous", True), ("next", False)):
        try:
            answer[name] = neighbour(dbsession, filters, courses, context.row, backwards=backwards)
        except Forbidden:
            answer[name] = None
    return answer


def _review_page(context, request, *, errors=None, form=None, conflict=None, problem=None):
    review = context.row
    attempt = review.attempt
    root = context.__parent__.__parent__
    source = request.POST if request.method == "POST" else request.GET
    filters, raw = queue_context(request, source)
    around = _neighbours(request, context, filters)
    holder = live_claim(review)
    me = request.identity.staff_user_id
    incidents = list(review.comments)
    if review.backend != ACS_BACKEND:  # a review through ACS holds the tool's flags as its comments already
        incidents += flagged_incidents(request.dbsession, attempt)
    return {
        "review": review,
        "attempt": attempt,
        "exam": attempt.exam,
        "timeline": layout(incidents, session_seconds=session_seconds(attempt)),
        "history": list(reversed(review.history)),
        "audit_entries": audit.entries_for(request.dbsession, "review", review.id),
        "raw": _raw_requested(request),
        "raw_url": admin_url(request, context, query={"raw": "1", **({QUEUE_PARAM: raw} if raw else {})}) + "#raw",
        "outcomes": _outcomes(request, review),
        "statuses": [s.value for s in ReviewStatus],
        "can_decide": request.has_permission(Permission.decide_review, context),
        "attempt_url": admin_url(request, root["attempts"], attempt.attempt_code),
        "exam_url": admin_url(request, root["exams"], str(attempt.exam_id)),
        "queue_url": _queue_url(request, context, raw),
        "queue_query": raw,
        "previous_url": _step_url(request, context, around["previous"], raw),
        "next_url": _step_url(request, context, around["next"], raw),
        "claim_holder": holder,
        "claimed_by_me": holder is not None and me is not None and holder.id == me,
        "claim_minutes": int(CLAIM_TTL.total_seconds() // 60),
        "self_url": admin_url(request, context),
        "claim_url": admin_url(request, context, "claim"),
        "release_url": admin_url(request, context, "release"),
        "version": version(review),
        "video": _video_for(request, context),
        "errors": errors or {},
        "form": form or {},
        "conflict": conflict,
        "problem": problem,
        "nav": "reviews",
    }


def _video_for(request, context):
    """The vendor's video link for staff who may see this review (``None`` when there is none)."""
    if not request.has_permission(Permission.view_review, context):
        return None
    return video_link(request, context.row)


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
    """A second review: ``{"status": passed|violation|suspicious|not_reviewed|verified|rejected, "note"?,
    "seen"?, "confirm"?}``.

    Records the caller as the reviewer, keeps the replaced state in the history, settles the
    attempt by the decision table and answers with the review (its ``attempt`` included). A review
    someone else has claimed, or (with ``seen``, the ``version`` read) one that changed since, is
    409 ``review_conflict`` with what changed, unless ``"confirm": true``.
    """
    data = json_body(request, _second_review_schema())
    review = decide(request, context.row, status=data["status"], note=data["note"], seen=data["seen"],
                    confirm=data["confirm"])
    return review_detail_json(review, audit_entries=audit.entries_for(request.dbsession, "review", review.id),
                              raw=False, now=request.now)


def _render_review(context, request, status: int, **page):
    return render_page(TEMPLATES + "review.jinja2", _review_page(context, request, **page), request=request,
                       status=status)


def _form_values(request) -> dict:
    return {"status": request.POST.get("status", ""), "note": request.POST.get("note", "")}


@admin_view(context=ReviewResource, request_method="POST", accept="text/html",
             permission=Permission.decide_review)
def second_review_form(context, request):
    data, errors, values = form_data(request, _second_review_schema())
    if data is None:
        return _render_review(context, request, 400, errors=errors, form=values,
                              problem="The decision was not saved: " + "; ".join(
                                  f"{name}: {message}" for name, message in errors.items()))
    filters, raw = queue_context(request, request.POST)
    review = context.row
    key = sort_key(review, filters.sort) if filters is not None else None
    try:
        review = decide(request, review, status=data["status"], note=data["note"], seen=data["seen"],
                        confirm=data["confirm"], strict=True)
    except ReviewConflict as conflict:
        return _render_review(context, request, 409, form=values, conflict=conflict.details,
                              problem="Not saved yet: " + conflict.message + ".")
    message = f"Second review saved: the review is {review.status}, the attempt is {review.attempt.status}."
    if request.POST.get("then") == "next" and filters is not None:
        staff_id = review.reviewer_id
        following = neighbour(request.dbsession, filters, visible_courses(request.identity), review, key=key,
                              skip_claimed_by_others_of=staff_id)
        if following is None:
            request.session.flash(message + " That was the last review in this queue.")
            return HTTPSeeOther(_queue_url(request, context, raw))
        # The next review is taken for this reviewer, so that nobody else starts on it meanwhile.
        try:
            claim(request, following)
        except ReviewConflict:  # pragma: no cover - skipped above; a race at most
            pass
        request.session.flash(message + " This is the next review in the queue.")
        return HTTPSeeOther(_review_url(request, context.__parent__, following, raw))
    request.session.flash(message)
    return HTTPSeeOther(_review_url(request, context.__parent__, review, raw))


# -- claims ------------------------------------------------------------------------------------------

class ClaimSchema(colander.MappingSchema):
    take_over = colander.SchemaNode(StrictBool(), missing=False)


def _claim_json(review) -> dict:
    holder = live_claim(review)
    return {"id": review.id, "claimed_by": holder.email if holder else None,
            "claimed_at": review.claimed_at.isoformat() if holder else None}


@admin_view(context=ReviewResource, name="claim", request_method="POST", accept="application/json",
             renderer="json", permission=Permission.decide_review)
def claim_json(context, request):
    """Take the review (``{"take_over": true}`` to take it from someone else); 409 if another holds it."""
    data = json_body(request, ClaimSchema(colander.Mapping(unknown="raise"))) if request.body else {"take_over": False}
    return _claim_json(claim(request, context.row, take_over=data["take_over"]))


@admin_view(context=ReviewResource, name="release", request_method="POST", accept="application/json",
             renderer="json", permission=Permission.decide_review)
def release_json(context, request):
    return _claim_json(release(request, context.row))


@admin_view(context=ReviewResource, name="claim", request_method="POST", accept="text/html",
             permission=Permission.decide_review)
def claim_form(context, request):
    _, raw = queue_context(request, request.POST)
    try:
        claim(request, context.row, take_over=request.POST.get("take_over") == "on")
    except ReviewConflict as conflict:
        return _render_review(context, request, 409, problem=conflict.message + ".")
    request.session.flash("You have taken this review: others are told you are on it for "
                          f"{int(CLAIM_TTL.total_seconds() // 60)} minutes.")
    return HTTPSeeOther(_review_url(request, context.__parent__, context.row, raw))


@admin_view(context=ReviewResource, name="release", request_method="POST", accept="text/html",
             permission=Permission.decide_review)
def release_form(context, request):
    _, raw = queue_context(request, request.POST)
    try:
        release(request, context.row)
    except ReviewConflict as conflict:
        return _render_review(context, request, 409, problem=conflict.message + ".")
    request.session.flash("You have released this review.")
    return HTTPSeeOther(_review_url(request, context.__parent__, context.row, raw))


# -- a refused CSRF token on the decision form: the page again, with what was typed ------------------

@exception_view_config(BadCSRFToken, route_name="admin", request_method="POST")
@exception_view_config(BadCSRFOrigin, route_name="admin", request_method="POST")
def review_form_bad_csrf(exc, request):
    from ..errors.views import bad_csrf, wants_html

    context = _traversed_review(request)
    if context is None or not wants_html(request) or request.identity is None \
            or not request.has_permission(Permission.decide_review, context):
        return bad_csrf(exc, request)
    return _render_review(context, request, 403, form=_form_values(request),
                          problem="Not saved: the form had expired or came from another page (its CSRF token "
                                  "did not match your session). Your choice and note are kept below; "
                                  "send them again.")


def _traversed_review(request):
    traversed = tuple(getattr(request, "traversed", None) or ())
    if len(traversed) != 2 or traversed[0] != "reviews":
        return None
    try:
        return request.root["reviews"][traversed[1]]
    except KeyError:
        return None


# -- bulk decisions ------------------------------------------------------------------------------------

class BulkSchema(colander.MappingSchema):
    ids = colander.SchemaNode(colander.Sequence(), colander.SchemaNode(colander.Int(),
                              validator=colander.Range(min=1, max=INT_MAX)),
                              validator=colander.Length(min=1, max=MAX_BULK))
    status = SecondReviewSchema().get("status").clone()
    note = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=5000))
    confirm = colander.SchemaNode(StrictBool(), missing=False)


def _bulk(request, context, data) -> list[Review]:
    """Decide every review in ``data["ids"]``, or none: one missing, forbidden or held by someone else
    refuses the whole request."""
    ids = list(dict.fromkeys(data["ids"]))
    missing, refused = [], []
    resources = []
    for review_id in ids:
        try:
            resource = context[str(review_id)]
        except KeyError:
            missing.append(review_id)
            continue
        if not request.has_permission(Permission.view_review, resource):
            missing.append(review_id)  # another course's review is as unknown as a missing one
            continue
        if not request.has_permission(Permission.decide_review, resource):
            refused.append(review_id)
        resources.append(resource)
    if missing:
        raise NotFound("some of these reviews do not exist", details={"ids": missing})
    if refused:
        raise Forbidden("some of these reviews are not in your courses", details={"ids": refused})
    staff = audit.acting_staff(request)
    if not data["confirm"]:
        held = {}
        for resource in resources:
            reasons = conflicts(resource.row, staff.id, seen=None, strict=False)
            if reasons is not None:
                held[str(resource.row.id)] = reasons
        if held:
            raise ReviewConflict("someone else is working on some of these reviews; confirm to decide them anyway",
                                 details={"reviews": held})
    return [decide(request, resource.row, status=data["status"], note=data["note"]) for resource in resources]


@admin_view(context=ReviewsResource, name="bulk", request_method="POST", accept="application/json",
             renderer="json", permission=Permission.view_review)
def bulk_json(context, request):
    """``{"ids": [...], "status", "note"?, "confirm"?}``: the same second review for each (one audit entry each)."""
    data = json_body(request, BulkSchema(colander.Mapping(unknown="raise")))
    decided = _bulk(request, context, data)
    return {"reviews": [review_summary_json(r) for r in decided]}


@admin_view(context=ReviewsResource, name="bulk", request_method="POST", accept="text/html",
             permission=Permission.view_review)
def bulk_form(context, request):
    post = request.POST
    _, raw = queue_context(request, post)
    back = admin_url(request, context) + ("?" + raw if raw else "")
    ids = [value for value in post.getall("ids") if value.isascii() and value.isdigit() and len(value) <= 10]
    if not ids:
        request.session.flash("Select at least one review for a bulk decision.")
        return HTTPSeeOther(back)
    data = validate(BulkSchema(), {"ids": [int(i) for i in ids], "status": post.get("status", "") or colander.null,
                                   "note": post.get("note", ""), "confirm": post.get("confirm") == "on"})
    decided = _bulk(request, context, data)
    request.session.flash(f"Second review saved for {len(decided)} review{'s' if len(decided) != 1 else ''}: "
                          f"{data['status'].replace('_', ' ')}.")
    return HTTPSeeOther(back)
