"""Laying incident comments out on a timeline over the exam session (drawn as inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass

MIN_WIDTH_PERCENT = 0.6  # a one-second incident in a two-hour exam must still be visible and clickable


def severity(status: str) -> str:
    """A CSS class for an incident status, whatever words the vendor uses."""
    text = (status or "").lower()
    if "violation" in text:
        return "violation"
    if "suspicious" in text:
        return "suspicious"
    if text in {"clean", "passed", "ok", "info", "normal"}:
        return "clean"
    return "other"


def clock(seconds: int | float | None) -> str:
    """``h:mm:ss`` or ``m:ss``."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class Mark:
    number: int
    start: int
    stop: int
    duration: int
    comment: str
    status: str
    severity: str
    lane: int = 0
    left: float = 0.0
    width: float = 0.0


@dataclass
class Timeline:
    total_seconds: int
    marks: list[Mark]
    lanes: int
    ticks: list[tuple[float, str]]


def _tick_step(total: int) -> int:
    for step in (10, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if total / step <= 8:
            return step
    return 7200


def layout(comments, *, session_seconds: int | None = None) -> Timeline:
    """Place each comment in the first lane where it overlaps nothing, as a percentage of the session."""
    latest = max((max(c.stop, c.start + c.duration) for c in comments), default=0)
    total = max(latest, session_seconds or 0, 1)
    marks: list[Mark] = []
    lane_ends: list[float] = []
    numbered = sorted(enumerate(comments, start=1), key=lambda pair: (pair[1].start, pair[1].stop))
    for number, comment in numbered:
        stop = max(comment.stop, comment.start + comment.duration, comment.start)
        left = 100.0 * comment.start / total
        width = max(100.0 * (stop - comment.start) / total, MIN_WIDTH_PERCENT)
        for lane, end in enumerate(lane_ends):
            if end <= left:
                lane_ends[lane] = left + width
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(left + width)
        marks.append(Mark(number=number, start=comment.start, stop=stop, duration=comment.duration,
                          comment=comment.comment, status=comment.status, severity=severity(comment.status),
                          lane=lane, left=round(min(left, 100.0 - width), 3), width=round(width, 3)))
    step = _tick_step(total)
    ticks = [(round(100.0 * t / total, 3), clock(t)) for t in range(0, total + 1, step)]
    return Timeline(total_seconds=total, marks=marks, lanes=max(len(lane_ends), 1), ticks=ticks)


def session_seconds(attempt) -> int | None:
    """How long the learner's session was, when we know: from start to submission, else the time limit."""
    if attempt.started_at and attempt.submitted_at and attempt.submitted_at > attempt.started_at:
        return int((attempt.submitted_at - attempt.started_at).total_seconds())
    if attempt.exam.time_limit_mins:
        return attempt.exam.time_limit_mins * 60
    return None
