"""Laying incident comments out on a timeline over the exam session (drawn as inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass

MIN_WIDTH_PERCENT = 0.6  # a one-second incident in a two-hour exam must still be visible
MIN_HIT_PERCENT = 2.5  # and a pointer can still hit it: a transparent target at least this wide
MAX_TICKS = 6  # at most this many intervals between tick labels...
LABEL_BUDGET = 28  # ...and fewer for long labels: (label length + 1) x intervals stays within this many
# characters, so that labels never overlap even on a 390 px phone.


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
    hit_left: float = 0.0
    hit_width: float = 0.0


@dataclass
class Timeline:
    total_seconds: int
    marks: list[Mark]
    lanes: int
    ticks: list[tuple[float, str]]


def _tick_step(total: int, max_ticks: int = MAX_TICKS) -> int:
    """A round step (1, 2, 5, 10, 15, 30 s, minutes, hours, then powers of ten of hours) giving at
    most ``MAX_TICKS`` intervals, whatever the length: a comment at ``stop=2147483647`` is 6 ticks."""
    steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200]
    steps += [86400 * m * 10**k for k in range(12) for m in (1, 2, 5)]
    return next((step for step in steps if total / step <= max_ticks), steps[-1])


def layout(comments, *, session_seconds: int | None = None) -> Timeline:
    """Number the comments in time order and place each in the first lane where it (and the target a
    pointer clicks, at least ``MIN_HIT_PERCENT`` wide) overlaps nothing, as a percentage of the session."""
    latest = max((max(c.stop, c.start + c.duration) for c in comments), default=0)
    total = max(latest, session_seconds or 0, 1)
    marks: list[Mark] = []
    lane_ends: list[float] = []
    in_order = sorted(comments, key=lambda c: (c.start, max(c.stop, c.start + c.duration), c.comment))
    for number, comment in enumerate(in_order, start=1):
        stop = max(comment.stop, comment.start + comment.duration, comment.start)
        left = 100.0 * comment.start / total
        width = max(100.0 * (stop - comment.start) / total, MIN_WIDTH_PERCENT)
        hit = max(width, MIN_HIT_PERCENT)
        hit_left = max(0.0, min(left + width / 2 - hit / 2, 100.0 - hit))
        # Lanes keep the targets apart, not only the marks: a tiny mark's target is no other's.
        for lane, end in enumerate(lane_ends):
            if end <= hit_left:
                lane_ends[lane] = hit_left + hit
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(hit_left + hit)
        marks.append(Mark(number=number, start=comment.start, stop=stop, duration=comment.duration,
                          comment=comment.comment, status=comment.status, severity=severity(comment.status),
                          lane=lane, left=round(min(left, 100.0 - width), 3), width=round(width, 3),
                          hit_left=round(hit_left, 3),
                          hit_width=round(hit, 3)))
    step = _tick_step(total, max(1, min(MAX_TICKS, LABEL_BUDGET // (len(clock(total)) + 1))))
    ticks = [(round(100.0 * t / total, 3), clock(t)) for t in range(0, total + 1, step)]
    return Timeline(total_seconds=total, marks=marks, lanes=max(len(lane_ends), 1), ticks=ticks)


def session_seconds(attempt) -> int | None:
    """How long the learner's session was, when we know: from start to submission, else the time limit."""
    if attempt.started_at and attempt.submitted_at and attempt.submitted_at > attempt.started_at:
        return int((attempt.submitted_at - attempt.started_at).total_seconds())
    if attempt.exam.time_limit_mins:
        return attempt.exam.time_limit_mins * 60
    return None
