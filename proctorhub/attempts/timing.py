"""The attempt's time ledger, read at one moment (DESIGN.md 5.1 ``time``, REFERENCE.md 4.3).

    due_at = started_at + time limit + extra time + every pause (the one under way up to now)

Remaining time is computed, never stored: while paused the due time moves with the clock, so
the remaining time stands still. After the attempt is submitted or completed the clock is read
at that moment. Every function takes ``now``, so tests read the ledger at fixed clock points.
"""

from __future__ import annotations

import datetime as dt


def paused_seconds(attempt, now: dt.datetime) -> int:
    """Pauses that are over plus the one under way, up to ``now``."""
    total = getattr(attempt, "paused_seconds", 0) or 0
    paused_at = getattr(attempt, "paused_at", None)
    if paused_at is not None and now > paused_at:
        total += int((now - paused_at).total_seconds())
    return total


def _stopped_at(attempt) -> dt.datetime | None:
    """When the clock stopped for good (submission, or any completion), if it has."""
    return getattr(attempt, "submitted_at", None) or getattr(attempt, "completed_at", None)


def time_fields(attempt, now: dt.datetime) -> dict:
    """The attempt shape's ``time`` at ``now``: nulls where unknown (no time limit, not started)."""
    stopped = _stopped_at(attempt)
    if stopped is not None and stopped < now:
        now = stopped
    limit_mins = getattr(getattr(attempt, "exam", None), "time_limit_mins", None)
    limit = limit_mins * 60 if limit_mins is not None else None
    extra = getattr(attempt, "extra_time_seconds", 0) or 0
    started_at = getattr(attempt, "started_at", None)
    paused = paused_seconds(attempt, now) if started_at is not None else 0
    due_at = remaining = None
    if limit is not None and started_at is not None:
        due_at = started_at + dt.timedelta(seconds=limit + extra + paused)
        remaining = max(0, int((due_at - now).total_seconds()))
    return {
        "time_limit_seconds": limit,
        "extra_time_seconds": extra,
        "started_at": started_at.isoformat() if started_at else None,
        "paused_seconds": paused,
        "due_at": due_at.isoformat() if due_at else None,
        "remaining_seconds": remaining,
    }
