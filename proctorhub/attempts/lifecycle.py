"""Attempt status changes (DESIGN.md section 3), each recorded as an event."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Conflict
from ..events import attention_event
from ..models import COMPLETED_STATUSES, Attempt, AttemptStatus, Event, EventKind, utcnow
from ..models.dialect import Guard, dialect_of

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


def past_submission(status: str) -> bool:
    """Whether the attempt has gone past ``submitted``: reviewed or terminated. Submitting or
    terminating it is then 409 (the LMS API and the ACS both ask here); a submitted attempt may
    still be submitted again or terminated."""
    return status in COMPLETED_STATUSES and status != S.submitted


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
    if past_submission(new):
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


@dataclass(frozen=True)
class PlannedMove:
    """What one status move writes: the attempt's changed columns and the outbox rows recording it."""

    columns: dict
    events: tuple[dict, ...]


def plan_move(*, attempt_id: int, attempt_code: str, old: str, started_at, new: AttemptStatus | str, reason: str,
              now=None, also: dict | None = None) -> PlannedMove | None:
    """The move of an attempt (known by these column values) to ``new``, with ``also`` set with
    it; None when the status stays. Raises ``Conflict`` (409 ``invalid_status_change``) for a
    move the lifecycle forbids."""
    new = AttemptStatus(new)
    if old == new.value:
        return None
    check_move(old, new)
    events = [status_event(attempt_id, attempt_code, old, new, reason)]
    attention = attention_event(attempt_id, attempt_code, new.value, reason)
    if attention is not None:
        events.append(attention)
    return PlannedMove({**changed_columns(started_at, new, now or utcnow()), **(also or {})}, tuple(events))


def move(dbsession, attempt: Attempt, new: AttemptStatus | str, *, reason: str, now=None) -> bool:
    """Move ``attempt`` (an ORM object) to ``new``; return whether its status changed.

    Raises ``Conflict`` (409 ``invalid_status_change``) for a move the lifecycle forbids.
    """
    planned = plan_move(attempt_id=attempt.id, attempt_code=attempt.attempt_code, old=attempt.status,
                        started_at=attempt.started_at, new=new, reason=reason, now=now)
    if planned is None:
        return False
    for column, value in planned.columns.items():
        setattr(attempt, column, value)
    for event in planned.events:
        dbsession.add(Event(**event))
    return True


def write_move(dbsession, attempt_id: int, planned: PlannedMove, *, guard: Guard | None = None) -> bool:
    """``move`` for an attempt read as plain values (no ORM object): Core statements, one round
    trip on PostgreSQL. With ``guard``, only if the guard's UPDATE changed a row; whether the
    move was written."""
    return dialect_of(dbsession).move_attempt(dbsession, attempt_id, planned.columns, planned.events, guard=guard)
