"""Writing a vendor's first review for an attempt: review, comments, events and the attempt's move.

The callback's hot path. On PostgreSQL the whole write is one statement (data-modifying CTEs),
so it costs one round trip; elsewhere (SQLite, in-process) it is four statements that go
straight to the driver: the review, its comments, and the attempt's move with its events written
by ``Dialect.move_attempt`` as every status move is.
Either way the review row goes in with ``ON CONFLICT DO NOTHING``: when a racing twin has
stored it first, nothing at all is written and ``write_new_review`` answers ``None``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import JSONB

from ..models import Attempt, Event, EventKind, Review, ReviewComment, StaffUser
from ..models.dialect import dialect_of, insert_into
from ..models.meta import UTCDateTime

review_t = Review.__table__
comment_t = ReviewComment.__table__
event_t = Event.__table__
attempt_t = Attempt.__table__

MOVE_COLUMNS = ("started_at", "submitted_at", "completed_at")


@dataclass(frozen=True)
class ReviewCommentFacts:
    position: int
    start: int
    stop: int
    duration: int
    comment: str
    status: str


@dataclass(frozen=True)
class ReviewFacts:
    """A review ``write_new_review`` wrote, as plain values: the columns written, the new id,
    the staff reviewer who counts (None if none) and the comments. ``attempts.serialize``
    renders it as it renders a ``Review``."""

    id: int
    attempt_code: str
    attempt_id: int
    exam_id: int
    context_id: str
    backend: str
    status: str
    vendor_status: str
    raw_payload: dict
    payload_digest: str
    signed_at: dt.datetime | None
    reviewer_id: int | None
    vendor_reviewed_by: str | None
    video_link_encrypted: str | None
    queue_priority: int
    created_at: dt.datetime
    modified_at: dt.datetime
    reviewer: StaffUser | None
    comments: tuple[ReviewCommentFacts, ...]


@dataclass
class NewReview:
    review: dict  # ReviewFacts' columns (all but id, reviewer and comments)
    comments: list[dict]  # position, start, stop, duration, comment, status
    events: list[dict]  # kind, attempt_id, attempt_code, payload; review.received gets the new review's id
    attempt_move: dict | None  # lifecycle.changed_columns(...) when the attempt moves


def write_new_review(dbsession, new: NewReview) -> int | None:
    """The new review's id, or ``None`` if the attempt already has a review (nothing written)."""
    if dialect_of(dbsession).chains_writes:
        return _in_one_statement(dbsession.connection(), new)
    return _statement_by_statement(dbsession, new)


def _with_review_id(event: dict, review_id: int) -> dict:
    if event["kind"] != EventKind.review_received.value:
        return event
    return {**event, "payload": {"review_id": review_id, **event["payload"]}}


# -- SQLite (and any other database): prepared statements, one after another -------------------

def _statement_by_statement(dbsession, new: NewReview) -> int | None:
    connection = dbsession.connection()
    dialect = dialect_of(connection)
    insert_review_if_new = dialect.insert_if_new_statement(review_t, unique=review_t.c.attempt_code)
    inserted = dialect.run(connection, insert_review_if_new, new.review)
    if not inserted:
        return None
    review_id = inserted[0]["id"]
    if new.comments:
        dialect.run(connection, insert_into(comment_t), [{**c, "review_id": review_id} for c in new.comments])
    # The attempt's move (if it moves) and the events, as every status move is written.
    dialect.move_attempt(dbsession, new.review["attempt_id"], new.attempt_move or {},
                         [_with_review_id(e, review_id) for e in new.events], at=new.review["created_at"])
    return review_id


# -- PostgreSQL: one statement, one round trip -------------------------------------------------

# The review's own columns, as ``NewReview.review`` holds them.
REVIEW_COLUMNS = tuple(f.name for f in fields(ReviewFacts) if f.name not in ("id", "reviewer", "comments"))
COMMENT_COLUMNS = tuple(f.name for f in fields(ReviewCommentFacts))
EVENT_COLUMNS = ("kind", "attempt_id", "attempt_code", "payload", "created_at", "delivered_at")


@functools.cache
def _one_statement(dialect):
    """``WITH new_review AS (INSERT ... ON CONFLICT DO NOTHING RETURNING id), new_comments AS
    (INSERT ... SELECT FROM jsonb_to_recordset(:comments)), moved_attempt AS (UPDATE attempt ...),
    new_events AS (INSERT ... SELECT FROM jsonb_array_elements(:events) WITH ORDINALITY) SELECT id
    FROM new_review``: the review's columns come from ``NewReview.review``, the comments and events
    as JSON arrays; nothing is written when the review exists. Built once per dialect. Parameter
    names are unlike column names: an execution's column-named parameters would be taken as
    values of the nested INSERTs and UPDATE."""
    new_review = (
        dialect.insert_if_new_statement(review_t, unique=review_t.c.attempt_code)
        .values({name: sa.bindparam(f"new_{name}", type_=review_t.c[name].type) for name in REVIEW_COLUMNS})
        .cte("new_review")
    )
    comments = (
        sa.func.jsonb_to_recordset(sa.bindparam("comments", type_=JSONB))
        .table_valued(*(sa.column(name, comment_t.c[name].type) for name in COMMENT_COLUMNS))
        .render_derived(name="c", with_types=True)
    )
    new_comments = insert(comment_t).from_select(
        ["review_id", *COMMENT_COLUMNS],
        sa.select(new_review.c.id, *(comments.c[name] for name in COMMENT_COLUMNS))
        .select_from(new_review).join(comments, sa.true()),
    ).cte("new_comments")
    attempt_id = sa.bindparam("for_attempt_id", type_=attempt_t.c.id.type)
    written_at = sa.bindparam("written_at", type_=UTCDateTime())
    moved_attempt = (
        attempt_t.update()
        .where(attempt_t.c.id == attempt_id, sa.bindparam("moves", type_=sa.Boolean),
               sa.exists(sa.select(new_review.c.id)))
        .values(status=sa.bindparam("move_status", type_=attempt_t.c.status.type), modified_at=written_at,
                **{column: sa.func.coalesce(sa.bindparam(f"move_{column}", type_=UTCDateTime()), attempt_t.c[column])
                   for column in MOVE_COLUMNS})
        .cte("moved_attempt")
    )
    events = (
        sa.func.jsonb_array_elements(sa.bindparam("events", type_=JSONB))
        .table_valued(sa.column("item", JSONB), with_ordinality="n")
        .render_derived(name="e")
    )
    kind = events.c.item["kind"].astext
    payload = events.c.item["payload"]
    # review.received names the new review, whose id only this statement knows.
    with_review_id = sa.func.jsonb_build_object("review_id", new_review.c.id).op("||")(payload)
    new_events = insert(event_t).from_select(
        list(EVENT_COLUMNS),
        sa.select(kind, attempt_id, sa.bindparam("for_attempt_code", type_=event_t.c.attempt_code.type),
                  sa.case((kind == EventKind.review_received.value, with_review_id), else_=payload),
                  written_at, sa.null())
        .select_from(new_review).join(events, sa.true()).order_by(events.c.n),
    ).cte("new_events")
    return sa.select(new_review.c.id).add_cte(new_comments, moved_attempt, new_events)


def _in_one_statement(connection, new: NewReview) -> int | None:
    dialect = dialect_of(connection)
    move = new.attempt_move or {}
    parameters = {
        **{f"new_{name}": new.review[name] for name in REVIEW_COLUMNS},
        "comments": new.comments,
        "events": [{"kind": e["kind"], "payload": e["payload"]} for e in new.events],
        "for_attempt_id": new.review["attempt_id"], "for_attempt_code": new.review["attempt_code"],
        "written_at": new.review["created_at"],
        "moves": bool(move),
        "move_status": move.get("status", ""),
        **{f"move_{column}": move.get(column) for column in MOVE_COLUMNS},
    }
    rows = dialect.run(connection, _one_statement(dialect), parameters)
    return rows[0]["id"] if rows else None
