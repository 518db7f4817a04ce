"""Writing to the outbox: one call per thing that happened to an attempt.

The event row joins the caller's transaction, so it exists exactly when the change does; the
worker later hands it to the lms's webhook receivers (``proctorhub.webhooks``) and the email
digests. Event types and the ``data`` each carries are DESIGN.md 5.5; ``EventKind`` names them.

    from proctorhub import events
    events.emit(dbsession, events.EventKind.attempt_control, attempt,
                {"action": "pause", "reason_code": "...", "incident_time": "..."})

``data`` holds what is particular to the event; every webhook body's ``data`` also gets the
``attempt_code`` and ``lms`` (slug) of the attempt, added when the event is sent.
"""

from __future__ import annotations

from .models import Attempt, Event, EventKind

# An attempt in one of these statuses needs a person: the review.needs_attention event and the
# staff's email digest.
ATTENTION_STATUSES = frozenset({"second_review_required", "error"})

__all__ = ["ATTENTION_STATUSES", "EventKind", "attention_event", "emit"]


def emit(dbsession, kind: EventKind | str, attempt: Attempt, data: dict | None = None) -> Event:
    """Add an event about ``attempt`` to the outbox, in ``dbsession``'s transaction."""
    event = Event(kind=EventKind(kind).value, attempt_id=attempt.id, attempt_code=attempt.attempt_code,
                  payload=dict(data or {}))
    dbsession.add(event)
    return event


def attention_event(attempt_id: int, attempt_code: str, new_status: str, reason: str) -> dict | None:
    """The ``review.needs_attention`` row owed when an attempt moves to ``new_status``, or None."""
    if new_status not in ATTENTION_STATUSES:
        return None
    return {"kind": EventKind.review_needs_attention.value, "attempt_id": attempt_id,
            "attempt_code": attempt_code, "payload": {"attempt_status": new_status, "reason": reason}}
