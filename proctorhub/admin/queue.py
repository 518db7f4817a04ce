"""The review queue: buckets, search, sorting and keyset pages that go forwards and backwards.

Every sort is a keyset over an index, so the thousandth page costs what the first does:

- ``priority`` (the default): ``second_review_required`` first, then ``suspicious``, then the rest,
  oldest first within each, over ``ix_review_queue (queue_priority, id)`` (a course's over
  ``ix_review_context_queue``);
- ``age`` oldest first and ``-age`` newest first, over the primary key;
- ``severity``: the review status, worst first (``SEVERITY_RANK``), one status at a time over
  ``ix_review_status (status, id)``;
- ``course``: over ``ix_review_context_id (context_id, id)``.

A cursor is ``<sort key>.<id>`` of the row a page ended (``after``) or began (``before``) at; the
``age`` sorts' is the bare id. The queue's ``q`` searches learners (id, the start of an email or a
name, any case) and attempt codes. Counts per bucket stop at ``COUNT_CAP``: counting a million
rows exactly would cost more than the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import colander
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import defaultload, defer

from ..errors import Forbidden, InvalidPayload, colander_details
from ..models import Attempt, Exam, Review, ReviewStatus
from ..models.review import SEVERITY_RANK, QueuePriority
from ..schemas import INT_MAX, parse_row_id

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 10_000
# A search matching more learners than this is left to the database to join, page by page.
SEARCH_ID_CAP = 1_000
# A claim keeps others off a review this long (then anyone may take it).
CLAIM_TTL = dt.timedelta(minutes=30)
# A review waiting longer than this for a decision is overdue.
SLA = dt.timedelta(hours=48)

BUCKETS = {
    "needs_decision": "Needs decision",
    "error": "Error",
    "decided_today": "Decided today",
    "all": "All",
}
SORTS = {
    "priority": "Priority",
    "age": "Oldest first",
    "-age": "Newest first",
    "severity": "Severity",
    "course": "Course",
}
STATUS_BY_RANK = {rank: status.value for status, rank in SEVERITY_RANK.items()}


class QueueFilterSchema(colander.MappingSchema):
    status = colander.SchemaNode(colander.String(), missing=colander.null,
                                 validator=colander.OneOf([s.value for s in ReviewStatus] + [""]))
    course = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))
    exam = colander.SchemaNode(colander.Int(), missing=colander.null, validator=colander.Range(min=1, max=INT_MAX))
    backend = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=64))
    unreviewed = colander.SchemaNode(colander.Boolean(false_choices=("", "0", "false", "no", "off")),
                                     missing=False)
    bucket = colander.SchemaNode(colander.String(), missing="all", validator=colander.OneOf(list(BUCKETS)))
    q = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=255))
    sort = colander.SchemaNode(colander.String(), missing="priority", validator=colander.OneOf(list(SORTS)))
    after = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=300))
    before = colander.SchemaNode(colander.String(), missing=colander.null, validator=colander.Length(max=300))
    limit = colander.SchemaNode(colander.Int(), missing=DEFAULT_PAGE_SIZE,
                                validator=colander.Range(min=1, max=MAX_PAGE_SIZE))


# What the query string may carry.
FILTER_FIELDS = tuple(child.name for child in QueueFilterSchema().children)
# The fields that say which rows are in the queue (not where a page starts or how long it is).
SELECTION_FIELDS = ("status", "course", "exam", "backend", "unreviewed", "bucket", "q", "sort")


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None
    course: str | None = None
    exam: int | None = None
    backend: str | None = None
    unreviewed: bool = False
    bucket: str = "all"
    q: str | None = None
    sort: str = "priority"
    after: tuple | None = None
    before: tuple | None = None
    limit: int = DEFAULT_PAGE_SIZE

    def query_params(self, **changes) -> dict:
        """The query string for this selection (e.g. a next-page link), without empty or default fields."""
        values = {"status": self.status, "course": self.course, "exam": self.exam, "backend": self.backend,
                  "unreviewed": "1" if self.unreviewed else None,
                  "bucket": self.bucket if self.bucket != "all" else None, "q": self.q,
                  "sort": self.sort if self.sort != "priority" else None,
                  "limit": self.limit if self.limit != DEFAULT_PAGE_SIZE else None}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def parse_cursor(sort: str, value: str, field_name: str) -> tuple:
    """``(key, id)`` from ``<key>.<id>`` (``(None, id)`` for the age sorts); 400 naming the field otherwise."""
    key, dot, review_id = value.rpartition(".")
    review_id = parse_row_id(review_id)
    parsed = None
    if review_id is not None:
        if sort in ("age", "-age"):
            parsed = (None, review_id) if not dot else None
        elif sort == "course":
            parsed = (key, review_id) if dot else None
        elif dot and key.isascii() and key.isdigit() and len(key) <= 2:
            parsed = (int(key), review_id)
    if parsed is None:
        shape = "<id>" if sort in ("age", "-age") else "<key>.<id>"
        raise InvalidPayload("the queue's filters are not valid", details={"fields": {
            field_name: f"must read {shape}, as given in the previous or next page's link"}})
    return parsed


def parse_filters(params) -> QueueFilters:
    """The queue's filters from a query string; a bad one is 400 ``invalid_payload`` naming the field."""
    raw = {key: params.get(key) for key in FILTER_FIELDS if params.get(key) is not None}
    try:
        data = QueueFilterSchema().deserialize(raw)
    except colander.Invalid as invalid:
        raise InvalidPayload("the queue's filters are not valid", details=colander_details(invalid)) from None
    values = {k: (None if v in (colander.null, "") else v) for k, v in data.items()}
    values["unreviewed"] = bool(data["unreviewed"])
    values["q"] = (values["q"] or "").strip() or None
    for name in ("after", "before"):
        if values[name] is not None:
            values[name] = parse_cursor(values["sort"], values[name], name)
    if values["after"] is not None and values["before"] is not None:
        raise InvalidPayload("the queue's filters are not valid",
                             details={"fields": {"before": "give after or before, not both"}})
    return QueueFilters(**values)


def cursor_of(review: Review, sort: str) -> str:
    if sort in ("age", "-age"):
        return str(review.id)
    if sort == "course":
        return f"{review.context_id}.{review.id}"
    if sort == "severity":
        return f"{SEVERITY_RANK.get(review.status, len(SEVERITY_RANK))}.{review.id}"
    return f"{review.queue_priority}.{review.id}"


def sort_key(review: Review, sort: str) -> tuple:
    key, _, review_id = cursor_of(review, sort).rpartition(".")
    if sort in ("age", "-age"):
        return (None, review.id)
    return (key if sort == "course" else int(key), int(review_id))


@dataclass
class QueuePage:
    reviews: list[Review]
    filters: QueueFilters
    next_cursor: str | None
    previous_cursor: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    search_broad: bool = False

    @property
    def total(self) -> int | None:
        return self.counts.get(self.filters.bucket)


# A queue row shows none of these: the vendor's redacted payload (often the largest column), the
# learner's verified claims, and the exam's tool configuration (its PEM key among them).
ROW_LOADING = (
    defer(Review.raw_payload),
    defer(Review.video_link_encrypted),
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


def start_of_today(now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def learner_condition(q: str):
    """An attempt whose code or learner id is ``q``, or whose learner's email or name starts with it (any case)."""
    prefix = _like_prefix(q)
    return or_(
        Attempt.attempt_code == q,
        Attempt.user_id == q,
        func.lower(Attempt.user_email).like(prefix, escape="\\"),
        func.lower(Attempt.user_name).like(prefix, escape="\\"),
    )


def _search(dbsession, q: str):
    """A condition on reviews for ``q``, and whether it matched so many learners that it was left to SQL."""
    attempts = select(Attempt.id).where(learner_condition(q))
    # A narrow search (the usual: one code, one email) becomes a list of ids the review index finds;
    # a broad one stays a subquery, which the queue's index walk filters until the page is full.
    ids = list(dbsession.execute(attempts.limit(SEARCH_ID_CAP + 1)).scalars())
    if len(ids) > SEARCH_ID_CAP:
        return Review.attempt_id.in_(attempts), True
    return Review.attempt_id.in_(ids), False


def _selection(filters: QueueFilters, courses, search_condition, *, bucket: str | None = None):
    """The conditions choosing the queue's rows (``bucket`` overrides the filters' own)."""
    conditions = []
    if filters.course is not None:
        conditions.append(Review.context_id == filters.course)
    if courses is not None:
        # The context ids narrow through ix_review_context_queue; the exams then keep only the
        # reviewer's lms for each (the same context id in another lms is another course).
        conditions.append(Review.context_id.in_({context for _, context in courses}))
        conditions.append(Review.exam_id.in_(select(Exam.id).where(exams_of_courses(courses))))
    if filters.status is not None:
        conditions.append(Review.status == filters.status)
    if filters.exam is not None:
        conditions.append(Review.exam_id == filters.exam)
    if filters.backend is not None:
        conditions.append(Review.backend == filters.backend)
    if filters.unreviewed:
        conditions.append(Review.reviewer_id.is_(None))
    if search_condition is not None:
        conditions.append(search_condition)
    bucket = filters.bucket if bucket is None else bucket
    if bucket == "needs_decision":
        conditions.append(Review.queue_priority == int(QueuePriority.second_review_required))
    elif bucket == "error":
        conditions.append(Review.status == ReviewStatus.not_reviewed.value)
    elif bucket == "decided_today":
        conditions.append(Review.decided_at >= start_of_today())
    return conditions


def _keyset_ids(dbsession, conditions, sort: str, cursor, backwards: bool, limit: int) -> list[int]:
    """Up to ``limit`` ids in ``sort`` order after ``cursor`` (before it when ``backwards``), in page order."""
    if sort == "severity":
        return _severity_ids(dbsession, conditions, cursor, backwards, limit)
    key_column = {"priority": Review.queue_priority, "course": Review.context_id}.get(sort)
    descending = (sort == "-age") != backwards
    columns = ([key_column] if key_column is not None else []) + [Review.id]
    query = select(Review.id).where(*conditions)
    if cursor is not None:
        key, review_id = cursor
        if key_column is None:
            query = query.where(Review.id < review_id if descending else Review.id > review_id)
        else:
            here = tuple_(key_column, Review.id)
            query = query.where(here < tuple_(key, review_id) if descending else here > tuple_(key, review_id))
    query = query.order_by(*(c.desc() if descending else c for c in columns)).limit(limit)
    ids = list(dbsession.execute(query).scalars())
    return ids[::-1] if backwards else ids


def _severity_ids(dbsession, conditions, cursor, backwards: bool, limit: int) -> list[int]:
    ranks = sorted(STATUS_BY_RANK, reverse=backwards)
    if cursor is not None:
        ranks = [r for r in ranks if (r <= cursor[0] if backwards else r >= cursor[0])]
    ids: list[int] = []
    for rank in ranks:
        if len(ids) >= limit:
            break
        query = select(Review.id).where(*conditions, Review.status == STATUS_BY_RANK[rank])
        if cursor is not None and rank == cursor[0]:
            query = query.where(Review.id < cursor[1] if backwards else Review.id > cursor[1])
        query = query.order_by(Review.id.desc() if backwards else Review.id).limit(limit - len(ids))
        ids.extend(dbsession.execute(query).scalars())
    return ids[::-1] if backwards else ids


def capped_count(dbsession, conditions) -> int:
    inner = select(Review.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    return dbsession.execute(select(func.count()).select_from(inner)).scalar_one()


def narrow_courses(filters: QueueFilters, courses: Courses | None) -> Courses | None:
    """A reviewer's courses, narrowed to the one the filter names; 403 if it is none of theirs."""
    if filters.course is None or courses is None:
        return courses
    narrowed = tuple(pair for pair in courses if pair[1] == filters.course)
    if not narrowed:
        raise Forbidden("this course is not one of yours", details={"course": filters.course})
    return narrowed


def queue_page(dbsession, filters: QueueFilters, courses: Courses | None, *,
               counts: bool = True) -> QueuePage:
    """One page of the queue; ``courses`` are the ones a reviewer is limited to (``None``: all)."""
    courses = narrow_courses(filters, courses)
    search, broad = _search(dbsession, filters.q) if filters.q else (None, False)
    conditions = _selection(filters, courses, search)
    backwards = filters.before is not None
    cursor = filters.before if backwards else filters.after
    ids = _keyset_ids(dbsession, conditions, filters.sort, cursor, backwards, filters.limit + 1)
    more = len(ids) > filters.limit
    if more:
        ids = ids[1:] if backwards else ids[: filters.limit]
    rows = {r.id: r for r in dbsession.execute(
        select(Review).where(Review.id.in_(ids)).options(*ROW_LOADING)).unique().scalars()} if ids else {}
    reviews = [rows[i] for i in ids if i in rows]
    next_cursor = previous_cursor = None
    if reviews:
        # Forwards there is a previous page whenever a cursor brought us here; backwards, a next one.
        if backwards or more:
            next_cursor = cursor_of(reviews[-1], filters.sort)
        if (more if backwards else cursor is not None):
            previous_cursor = cursor_of(reviews[0], filters.sort)
    bucket_counts = {}
    if counts:
        for bucket in BUCKETS:
            bucket_counts[bucket] = capped_count(dbsession, _selection(filters, courses, search, bucket=bucket))
    return QueuePage(reviews=reviews, filters=filters, next_cursor=next_cursor, previous_cursor=previous_cursor,
                     counts=bucket_counts, search_broad=broad)


def neighbour(dbsession, filters: QueueFilters, courses, review: Review, *, backwards: bool = False,
              key: tuple | None = None, skip_claimed_by_others_of: int | None = None,
              now: dt.datetime | None = None) -> Review | None:
    """The review after (or before) ``review`` in the filtered queue, from the sort key it had then.

    With ``skip_claimed_by_others_of`` (a staff id), reviews someone else holds a live claim on
    are passed over: "Save and next" leads to work nobody else is doing.
    """
    courses = narrow_courses(filters, courses)
    search, _ = _search(dbsession, filters.q) if filters.q else (None, False)
    conditions = _selection(filters, courses, search)
    if skip_claimed_by_others_of is not None:
        since = (now or dt.datetime.now(dt.UTC)) - CLAIM_TTL
        conditions.append(or_(Review.claimed_by_id.is_(None), Review.claimed_by_id == skip_claimed_by_others_of,
                              Review.claimed_at < since))
    cursor = key if key is not None else sort_key(review, filters.sort)
    ids = _keyset_ids(dbsession, conditions, filters.sort, cursor, backwards, 1)
    return dbsession.get(Review, ids[0]) if ids else None


def with_cursor(filters: QueueFilters, **changes) -> QueueFilters:
    return replace(filters, **changes)
