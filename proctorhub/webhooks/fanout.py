"""Handing outbox events to the lms's receivers: one delivery per (event, receiver that wants it).

The message body is made here, once per event, and stored with each delivery: every try and every
replay sends the same bytes under the same ``webhook-id``. ``data`` describes the attempt as it is
when the event is handed out (normally within a second of the change); ``status`` and
``previous_status`` of an ``attempt.status_changed`` are those of the change itself.

On PostgreSQL one worker at a time hands events out (a transaction-scoped advisory lock; the
others skip the step): events are handed out in id order, so a later event of an attempt never
becomes a delivery before an earlier one. Sending is shared by every worker (``delivery.claim``).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, select, update
from sqlalchemy.orm import selectinload

from ..attempts.facts import FACTS_QUERY, AttemptFacts, facts_of
from ..attempts.serialize import attempt_json, iso, review_json
from ..models import Attempt, Event, EventKind, Review
from ..models.dialect import dialect_of
from ..models.webhook import Delivery, DeliveryStatus, WebhookEndpoint, new_webhook_id
from . import service

# Any number: the key of the advisory lock that makes handing out a one-worker-at-a-time step.
HAND_OUT_LOCK = 0x70726F63  # "proc"
EVENT_TYPES = frozenset(service.EVENT_TYPES)
event_t = Event.__table__
delivery_t = Delivery.__table__


def _hand_out_lock(session) -> bool:
    return dialect_of(session).try_lock(session, HAND_OUT_LOCK)


def event_data(event, attempt: Attempt | AttemptFacts, review: Review | None, lms_slug: str, *,
               now: dt.datetime) -> dict:
    """The ``data`` of the webhook body for ``event`` (DESIGN.md 5.5): an ``Event`` or a row with its
    ``kind``, ``payload`` and ``created_at``; the attempt's ``time`` as it is at ``now`` (the hand-out)."""
    payload = dict(event.payload or {})
    if event.kind == EventKind.attempt_status_changed:
        data = attempt_json(attempt, review, now=now)
        data["status"] = payload.get("to", attempt.status)
        data["previous_status"] = payload.get("from")
        data["reason"] = payload.get("reason")
    else:
        data = payload
        if event.kind in (EventKind.review_received, EventKind.review_needs_attention, EventKind.review_decided):
            data["review"] = review_json(review)
        if event.kind == EventKind.review_needs_attention:
            data["context_id"] = attempt.exam.context_id
            data["resource_link_id"] = attempt.exam.resource_link_id
    data["attempt_code"] = attempt.attempt_code
    data["lms"] = lms_slug
    return data


def message_body(event, attempt: Attempt | AttemptFacts, review: Review | None, lms_slug: str, *,
                 now: dt.datetime) -> str:
    return json.dumps({"type": event.kind, "timestamp": iso(event.created_at),
                       "data": event_data(event, attempt, review, lms_slug, now=now)}, separators=(",", ":"))


def _take_events(session, *, now: dt.datetime, limit: int) -> list:
    """Up to ``limit`` events not handed out yet, in id order, marked handed out at ``now``.

    One statement, as ``delivery.claim``: ``WITH waiting AS (SELECT id ... FOR UPDATE SKIP LOCKED
    LIMIT n) UPDATE event ... FROM waiting RETURNING ...``; the rows (not ORM objects) carry what a
    message body needs of an event."""
    waiting = (select(event_t.c.id).where(event_t.c.delivered_at.is_(None)).order_by(event_t.c.id).limit(limit)
               .with_for_update(skip_locked=True)).cte("waiting")
    taken = session.execute(
        update(event_t).where(event_t.c.id == waiting.c.id, event_t.c.delivered_at.is_(None))
        .values(delivered_at=now)
        .returning(event_t.c.id, event_t.c.kind, event_t.c.attempt_id, event_t.c.payload, event_t.c.created_at)).all()
    return sorted(taken, key=lambda row: row.id)


def hand_out(session, *, now: dt.datetime, limit: int) -> int:
    """Turn up to ``limit`` events not handed out yet into deliveries; answer how many events were read."""
    if not _hand_out_lock(session):
        return 0
    events = _take_events(session, now=now, limit=limit)
    if not events:
        return 0
    # Plain values, not ORM objects: hundreds of attempts (with exam and lms) per round.
    attempts = {row["id"]: facts_of(row) for row in session.execute(
        FACTS_QUERY.where(Attempt.__table__.c.id.in_({e.attempt_id for e in events if e.attempt_id is not None})))
        .mappings()}
    lms_ids = {a.exam.lms.id for a in attempts.values()}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    if lms_ids:
        for endpoint in session.execute(select(WebhookEndpoint).where(
                WebhookEndpoint.lms_id.in_(lms_ids), WebhookEndpoint.enabled.is_(True))
                .order_by(WebhookEndpoint.id)).scalars():
            endpoints.setdefault(endpoint.lms_id, []).append(endpoint)
    wanted = []
    for event in events:
        attempt = attempts.get(event.attempt_id)
        if attempt is None or event.kind not in EVENT_TYPES:
            continue  # only the types of the contract go out (older rows may carry other kinds)
        # A receiver gets what happened since it was made, never the lms's whole past.
        targets = [ep for ep in endpoints.get(attempt.exam.lms.id, ())
                   if ep.wants(event.kind) and ep.created_at <= event.created_at]
        if targets:
            wanted.append((event, attempt, targets))
    if wanted:
        codes = {attempt.attempt_code for _, attempt, _ in wanted}
        reviews = {r.attempt_code: r for r in session.execute(
            select(Review).where(Review.attempt_code.in_(codes)).options(selectinload(Review.comments))).scalars()}
        rows = []
        for event, attempt, targets in wanted:
            body = message_body(event, attempt, reviews.get(attempt.attempt_code), attempt.exam.lms.slug, now=now)
            rows += [{"event_id": event.id, "endpoint_id": endpoint.id, "attempt_id": attempt.id, "kind": event.kind,
                      "webhook_id": new_webhook_id(), "body": body, "status": DeliveryStatus.pending.value,
                      "tries": 0, "next_try_at": now, "created_at": now} for endpoint in targets]
        session.execute(insert(delivery_t), rows)
    return len(events)
