"""The review queue: filters and keyset pagination over ``(queue_priority, id)``.

``second_review_required`` first, then ``suspicious``, then the rest (``QueuePriority``); within a
priority, oldest first. A page is found by seeking past the last row of the previous one, so the
thousandth page costs what the first does: ``ix_review_queue (queue_priority, id)`` serves the
unfiltered queue and ``ix_review_context_queue (context_id, queue_priority, id)`` a course's.
"""

from __future__ import annotations

from dataclasses import dataclass

import colander
from sqlalchemy import select, tuple_
from sqlalchemy.orm import defaultload, defer

from ..errors import Forbidden, InvalidPayload, colander_details
from ..models import Attempt, Exam, Review, ReviewStatus
from ..schemas import INT_MAX, parse_row_id

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Cursor(colander.String):
    """``<queue_priority>.<id>``: where the previous page ended."""

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value in (colander.null, ""):
            return colander.null
        priority, dot, review_id = value.partition(".")
        priority = int(priority) if priority.isascii() and priority.isdigit() and len(priority) <= 2 else None
        review_id = parse_row_id(review_id)
        if not dot or priority is None or review_id is None:
            raise colander.Invalid(node, "must read <priority>.<id>, as given in the previous page's next link")
        return priority, review_id


class QueueFilterSchema(colander.MappingSchema):
    status = colander.SchemaNode(colander.String(), missing=colander.null,
                                 validator=colander.OneOf([s.value for s in ReviewStatus] + [""]))
    course = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))
    exam = colander.SchemaNode(colander.Int(), missing=colander.null, validator=colander.Range(min=1, max=INT_MAX))
    backend = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=64))
    unreviewed = colander.SchemaNode(colander.Boolean(false_choices=("", "0", "false", "no", "off")),
                                     missing=False)
    after = colander.SchemaNode(Cursor(), missing=colander.null)
    limit = colander.SchemaNode(colander.Int(), missing=DEFAULT_PAGE_SIZE,
                                validator=colander.Range(min=1, max=MAX_PAGE_SIZE))


# What the query string may carry.
FILTER_FIELDS = tuple(child.name for child in QueueFilterSchema().children)


@dataclass
class QueueFilters:
    status: str | None = None
    course: str | None = None
    exam: int | None = None
    backend: str | None = None
    unreviewed: bool = False
    after: tuple[int, int] | None = None
    limit: int = DEFAULT_PAGE_SIZE

    def query_params(self, **changes) -> dict:
        """The query string for this filter (e.g. a next-page link), without empty fields."""
        values = {"status": self.status, "course": self.course, "exam": self.exam, "backend": self.backend,
                  "unreviewed": "1" if self.unreviewed else None,
                  "limit": self.limit if self.limit != DEFAULT_PAGE_SIZE else None}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_filters(params) -> QueueFilters:
    """The queue's filters from a query string; a bad one is 400 ``invalid_payload`` naming the field."""
    raw = {key: params.get(key) for key in FILTER_FIELDS if params.get(key) is not None}
    try:
        data = QueueFilterSchema().deserialize(raw)
    except colander.Invalid as invalid:
        raise InvalidPayload("the queue's filters are not valid", details=colander_details(invalid)) from None
    values = {k: (None if v in (colander.null, "") else v) for k, v in data.items()}
    values["unreviewed"] = bool(data["unreviewed"])
    return QueueFilters(**values)


@dataclass
class QueuePage:
    reviews: list[Review]
    filters: QueueFilters
    next_cursor: str | None


# A queue row shows none of these: the vendor's redacted payload (often the largest column), the
# learner's verified claims, and the exam's tool configuration (its PEM key among them).
ROW_LOADING = (
    defer(Review.raw_payload),
    defaultload(Review.attempt).defer(Attempt.verified_user),
    defaultload(Review.attempt).defaultload(Attempt.exam).lazyload(Exam.configuration),
)


Courses = tuple[tuple[int, str], ...]


def visible_courses(identity) -> Courses | None:
    """``None`` for admins (every course), else the reviewer's courses: (lms id, context id) pairs."""
    if identity.role == "admin":
        return None
    return tuple(identity.courses)


def exams_of_courses(courses: Courses):
    """A condition on ``Exam``: the exam is in one of ``courses`` (its lms and context both match)."""
    return tuple_(Exam.lms_id, Exam.context_id).in_(courses)


def queue_page(dbsession, filters: QueueFilters, courses: Courses | None) -> QueuePage:
    """One page of the queue; ``courses`` are the ones a reviewer is limited to (``None``: all)."""
    page = select(Review.id)
    if filters.course is not None:
        if courses is not None:
            courses = tuple(pair for pair in courses if pair[1] == filters.course)
            if not courses:
                raise Forbidden("this course is not one of yours", details={"course": filters.course})
        page = page.where(Review.context_id == filters.course)
    if courses is not None:
        # The context ids narrow through ix_review_context_queue; the exams then keep only the
        # reviewer's lms for each (the same context id in another lms is another course).
        page = page.where(Review.context_id.in_({context for _, context in courses}),
                          Review.exam_id.in_(select(Exam.id).where(exams_of_courses(courses))))
    if filters.status is not None:
        page = page.where(Review.status == filters.status)
    if filters.exam is not None:
        page = page.where(Review.exam_id == filters.exam)
    if filters.backend is not None:
        page = page.where(Review.backend == filters.backend)
    if filters.unreviewed:
        page = page.where(Review.reviewer_id.is_(None))
    if filters.after is not None:
        page = page.where(tuple_(Review.queue_priority, Review.id) > tuple_(*filters.after))
    # The page's ids first, from the index alone; only then the rows with their attempts and exams.
    # Joined in one query, PostgreSQL misjudges how many rows follow the cursor and joins them all
    # before sorting (120 ms deep in a million reviews instead of a few).
    page = page.order_by(Review.queue_priority, Review.id).limit(filters.limit + 1).subquery()
    query = (select(Review).join(page, Review.id == page.c.id).order_by(Review.queue_priority, Review.id)
             .options(*ROW_LOADING))
    rows = list(dbsession.execute(query).unique().scalars())
    next_cursor = None
    if len(rows) > filters.limit:
        rows = rows[: filters.limit]
        last = rows[-1]
        next_cursor = f"{last.queue_priority}.{last.id}"
    return QueuePage(reviews=rows, filters=filters, next_cursor=next_cursor)
