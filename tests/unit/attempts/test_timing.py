"""The time ledger read at fixed clock points: pauses stop the clock, extra time is a total."""

import datetime as dt
from types import SimpleNamespace

from proctorhub.attempts.timing import time_fields

T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def attempt(**fields):
    values = {"started_at": T0, "extra_time_seconds": 0, "paused_seconds": 0, "paused_at": None,
              "submitted_at": None, "completed_at": None, "exam": SimpleNamespace(time_limit_mins=60)}
    values.update(fields)
    return SimpleNamespace(**values)


def test_not_started_or_no_limit_gives_nulls():
    fields = time_fields(attempt(started_at=None), at(5))
    assert fields == {"time_limit_seconds": 3600, "extra_time_seconds": 0, "started_at": None, "paused_seconds": 0,
                      "due_at": None, "remaining_seconds": None}
    unlimited = time_fields(attempt(exam=SimpleNamespace(time_limit_mins=None)), at(5))
    assert unlimited["time_limit_seconds"] is None and unlimited["due_at"] is None
    assert unlimited["started_at"] == T0.isoformat()


def test_running_clock():
    fields = time_fields(attempt(), at(10))
    assert fields["remaining_seconds"] == 50 * 60 and fields["due_at"] == at(60).isoformat()


def test_a_pause_under_way_stops_the_clock():
    paused = attempt(paused_at=at(10))
    for minute in (10, 25, 300):
        fields = time_fields(paused, at(minute))
        assert fields["remaining_seconds"] == 50 * 60
        assert fields["paused_seconds"] == (minute - 10) * 60
        assert fields["due_at"] == at(60 + minute - 10).isoformat()


def test_pauses_over_and_extra_time_move_the_due_time():
    fields = time_fields(attempt(paused_seconds=900, extra_time_seconds=1200), at(30))
    assert fields["due_at"] == at(60 + 15 + 20).isoformat() and fields["remaining_seconds"] == 65 * 60


def test_the_clock_stops_at_submission_and_never_goes_below_zero():
    done = attempt(submitted_at=at(40))
    assert time_fields(done, at(500))["remaining_seconds"] == 20 * 60
    assert time_fields(attempt(), at(90))["remaining_seconds"] == 0
