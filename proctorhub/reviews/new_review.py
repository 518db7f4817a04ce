"""Writing a vendor's first review for an attempt: review, comments, events and the attempt's move.

The callback's hot path. On PostgreSQL the whole write is one statement (data-modifying CTEs),
so it costs one round trip; elsewhere (SQLite, in-process) it is four statements that
``Dialect.run`` hands straight to the driver.
Either way the review row goes in with ``ON CONFLICT DO NOTHING``: when a racing twin has
stored it first, nothing at all is written and ``write_new_review`` answers ``None``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import insert

from ..models import Attempt, Event, EventKind, Review, ReviewComment, StaffUser
from ..models.dialect import dialect_of
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
    events: list[dict]  # kind, payload; review.received gets the new review's id
    attempt_move: dict | None  # lifecycle.changed_columns(...) when the attempt moves


def write_new_review(connection, new: NewReview) -> int | None:
    """The new review's id, or ``None`` if the attempt already has a review (nothing written)."""
    if dialect_of(connection).chains_writes:
        return _in_one_statement(connection, new)
    return _statement_by_statement(connection, new)


def _with_review_id(event: dict, review_id: int) -> dict:
    if event["kind"] != EventKind.review_received.value:
        return event
    return {**event, "payload": {"review_id": review_id, **event["payload"]}}


# -- SQLite (and any other database): prepared statements, one after another -------------------

INSERT_COMMENTS = insert(comment_t)
INSERT_EVENTS = insert(event_t)
MOVE_ATTEMPT = (
    attempt_t.update()
    .where(attempt_t.c.id == sa.bindparam("attempt_id"))
    .values(
        status=sa.bindparam("move_status"),
        modified_at=sa.bindparam("moved_at", type_=UTCDateTime()),
        **{column: sa.func.coalesce(sa.bindparam(f"new_{column}", type_=UTCDateTime()), attempt_t.c[column])
           for column in MOVE_COLUMNS},
    )
)


def _statement_by_statement(connection, new: NewReview) -> int | None:
    dialect = dialect_of(connection)
    insert_review_if_new = dialect.insert_if_new_statement(review_t, unique=review_t.c.attempt_code)
    inserted = dialect.run(connection, insert_review_if_new, new.review)
    if not inserted:
        return None
    review_id = inserted[0]["id"]
    if new.comments:
        dialect.run(connection, INSERT_COMMENTS, [{**c, "review_id": review_id} for c in new.comments])
    attempt_id, attempt_code = new.review["attempt_id"], new.review["attempt_code"]
    if new.attempt_move:
        move = new.attempt_move
        dialect.run(connection, MOVE_ATTEMPT, {"attempt_id": attempt_id, "move_status": move["status"],
                                               "moved_at": move["modified_at"],
                                               **{f"new_{column}": move.get(column) for column in MOVE_COLUMNS}})
    now = new.review["created_at"]
    dialect.run(connection, INSERT_EVENTS, [
        {**_with_review_id(e, review_id), "attempt_id": attempt_id, "attempt_code": attempt_code,
         "created_at": now, "delivered_at": None}
        for e in new.events
    ])
    return review_id


# -- PostgreSQL: one statement, one round trip -------------------------------------------------

ONE_STATEMENT = sa.text("""
WITH new_review AS (
    INSERT INTO review (attempt_code, attempt_id, exam_id, context_id, backend, status, vendor_status,
                        raw_payload, payload_digest, signed_at, reviewer_id, vendor_reviewed_by,
                        video_link_encrypted, queue_priority, created_at, modified_at)
    VALUES (:attempt_code, :attempt_id, :exam_id, :context_id, :backend, :status, :vendor_status,
            CAST(:raw_payload AS JSONB), :payload_digest, :signed_at, :reviewer_id, :vendor_reviewed_by,
            :video_link_encrypted, :queue_priority, :created_at, :modified_at)
    ON CONFLICT (attempt_code) DO NOTHING
    RETURNING id
), new_comments AS (
    INSERT INTO review_comment (review_id, position, start, stop, duration, comment, status)
    SELECT new_review.id, c.position, c.start, c.stop, c.duration, c.comment, c.status
    FROM new_review, jsonb_to_recordset(CAST(:comments AS JSONB))
        AS c(position integer, start integer, stop integer, duration integer, comment text, status text)
), moved_attempt AS (
    UPDATE attempt SET status = :move_status, modified_at = :created_at,
        started_at = COALESCE(:started_at, started_at),
        submitted_at = COALESCE(:submitted_at, submitted_at),
        completed_at = COALESCE(:completed_at, completed_at)
    WHERE id = :attempt_id AND :moves AND EXISTS (SELECT 1 FROM new_review)
), new_events AS (
    INSERT INTO event (kind, attempt_id, attempt_code, payload, created_at, delivered_at)
    SELECT e.item ->> 'kind', :attempt_id, :attempt_code,
        CASE WHEN e.item ->> 'kind' = :review_received
             THEN jsonb_build_object('review_id', new_review.id) || (e.item -> 'payload')
             ELSE e.item -> 'payload' END,
        :created_at, NULL
    FROM new_review, jsonb_array_elements(CAST(:events AS JSONB)) WITH ORDINALITY AS e(item, n)
    ORDER BY e.n
)
SELECT id FROM new_review
""").bindparams(
    *(sa.bindparam(name, type_=UTCDateTime()) for name in ("created_at", "modified_at", "signed_at",
                                                            *MOVE_COLUMNS)),
).columns(id=sa.Integer)


def _in_one_statement(connection, new: NewReview) -> int | None:
    move = new.attempt_move or {}
    parameters = {
        **new.review,
        "raw_payload": json.dumps(new.review["raw_payload"]),
        "comments": json.dumps(new.comments),
        "events": json.dumps([{"kind": e["kind"], "payload": e["payload"]} for e in new.events]),
        "moves": bool(move),
        "move_status": move.get("status", ""),
        **{column: move.get(column) for column in MOVE_COLUMNS},
        "review_received": EventKind.review_received.value,
    }
    rows = dialect_of(connection).run(connection, ONE_STATEMENT, parameters)
    return rows[0]["id"] if rows else None
