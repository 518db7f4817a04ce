"""Attempt status changes (DESIGN.md section 3), each recorded as an event."""

from __future__ import annotations

from ..errors import Conflict
from ..events import attention_event
from ..models import COMPLETED_STATUSES, Attempt, AttemptStatus, Event, EventKind, utcnow

S = AttemptStatus

# Moves among the incomplete statuses; any incomplete status may also move to a completed one.
INCOMPLETE_MOVES = {
    S.created: {S.ready_to_start, S.started},
    S.ready_to_start: {S.ready_to_start, S.started},
    S.started: {S.paused},
    S.paused: {S.started},
}


def can_move(old: str, new: str) -> bool:
    old, new = AttemptStatus(old), AttemptStatus(new)
    if old == new:
        return True
    if new in COMPLETED_STATUSES:
        # A completed attempt only moves among completed statuses; terminated is final.
        return old != S.terminated
    if old in COMPLETED_STATUSES:
        return False
    return new in INCOMPLETE_MOVES.get(old, set())


def check_move(old: str, new: AttemptStatus) -> None:
    """Raise ``Conflict`` (409 ``invalid_status_change``) for a move the lifecycle forbids."""
    if not can_move(old, new):
        raise Conflict(
            f"the attempt is {old}; it cannot become {new.value}",
            code="invalid_status_change",
            details={"from": old, "to": new.value},
        )


def changed_columns(attempt_started_at, new: AttemptStatus, now) -> dict:
    """The attempt's columns that a move to ``new`` sets, besides ``status``."""
    columns = {"status": new.value, "modified_at": now}
    if new == S.started and attempt_started_at is None:
        columns["started_at"] = now
    if new == S.submitted:
        columns["submitted_at"] = now
    if new in COMPLETED_STATUSES and new != S.submitted:
        columns["completed_at"] = now
    return columns


def status_event(attempt_id: int, attempt_code: str, old: str, new: AttemptStatus, reason: str) -> dict:
    """The outbox row recording one status change."""
    return {
        "kind": EventKind.attempt_status_changed.value,
        "attempt_id": attempt_id,
        "attempt_code": attempt_code,
        "payload": {"from": old, "to": new.value, "reason": reason},
    }


def move(dbsession, attempt: Attempt, new: AttemptStatus | str, *, reason: str, now=None) -> bool:
    """Move ``attempt`` to ``new``; return whether its status changed.

    Raises ``Conflict`` (409 ``invalid_status_change``) for a move the lifecycle forbids.
    """
    new = AttemptStatus(new)
    old = attempt.status
    if old == new.value:
        return False
    check_move(old, new)
    for column, value in changed_columns(attempt.started_at, new, now or utcnow()).items():
        setattr(attempt, column, value)
    dbsession.add(Event(**status_event(attempt.id, attempt.attempt_code, old, new, reason)))
    attention = attention_event(attempt.id, attempt.attempt_code, new.value, reason)
    if attention is not None:
        dbsession.add(Event(**attention))
    return True
