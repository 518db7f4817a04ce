"""The incidents a proctoring tool flagged through ACS, placed on the session's timeline beside a
review's comments (seconds since the attempt started), so staff see them where they review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ..models import AttemptControl


@dataclass(frozen=True)
class Incident:
    """Shaped like a review comment (``admin.timeline.layout`` and the incident table read both)."""

    start: int
    stop: int
    duration: int
    comment: str
    status: str


def _moment(control: AttemptControl) -> dt.datetime:
    """The incident's own time when the tool sent one, else when it arrived."""
    if control.incident_time:
        return dt.datetime.fromisoformat(control.incident_time)
    return control.created_at


def incident(control: AttemptControl, started_at: dt.datetime | None) -> Incident:
    start = max(0, int((_moment(control) - started_at).total_seconds())) if started_at else 0
    reason = " ".join(part for part in (control.reason_msg or "",
                                        f"(reason {control.reason_code})" if control.reason_code else "") if part)
    if control.incident_severity is None:
        status = "Flagged"
    elif control.incident_severity > 0:
        status = f"Suspicious (severity {control.incident_severity:g})"
    else:
        status = "Flagged (severity 0)"
    return Incident(start=start, stop=start, duration=0, comment=reason or "Flagged by the proctoring tool",
                    status=status)


def flagged_incidents(dbsession, attempt) -> list[Incident]:
    """The attempt's ACS flags, oldest first."""
    flags = dbsession.execute(
        select(AttemptControl).where(AttemptControl.attempt_id == attempt.id, AttemptControl.action == "flag")
        .order_by(AttemptControl.id)
    ).scalars()
    return [incident(flag, attempt.started_at) for flag in flags]
