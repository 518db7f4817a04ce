"""The time ledger through the ACS, read at fixed clock points (the app's clock is injected)
in the LMS API and on the admin's attempt page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from proctorhub.clock import Clock
from proctorhub.models import Attempt

from ... import factories as f
from .conftest import Flow
from .test_acs import _acs, _token

T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def timed(make_app, lms, tool_config, tool, dbsession):
    """A started attempt at a 60-minute exam, started at T0, and an app whose clock we set."""
    testapp = make_app()
    moment = [T0]
    testapp.app.registry.clock = Clock(lambda: moment[0])
    flow = Flow(testapp, lms=lms, config=tool_config, tool=tool)
    flow.start(flow.signed(flow.start_proctoring()))
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    attempt.started_at = T0
    attempt.exam.time_limit_mins = 60
    dbsession.commit()
    flow.token = _token(flow)["access_token"]
    flow.code = attempt.attempt_code
    flow.moment = moment
    return flow


def _time(flow, minutes, admin=None):
    flow.moment[0] = at(minutes)
    answer = flow.app.get(f"/api/v1/attempts/{flow.code}", headers=f.auth(flow.lms)).json["time"]
    if admin is not None:
        as_json = {**f.auth(admin), "Accept": "application/json"}
        shown = flow.app.get(f"/admin/attempts/{flow.code}", headers=as_json).json
        assert shown["time"] == answer
        # Every admin answer that carries the attempt reads it at the app's clock too.
        [listed] = flow.app.get("/admin/attempts/", headers=as_json).json["attempts"]
        [in_exam] = flow.app.get(f"/admin/exams/{shown['exam_id']}", headers=as_json).json["attempts"]
        assert listed["time"] == in_exam["time"] == answer
    return answer


def _act(flow, minutes, action, **extra):
    flow.moment[0] = at(minutes)
    return _acs(flow, flow.token, action, **extra)


def test_pauses_and_extra_time_at_fixed_clock_points(timed, dbsession):
    admin = f.token(dbsession, role="admin", name="admin program")
    t = _time(timed, 10, admin)
    assert t == {"time_limit_seconds": 3600, "extra_time_seconds": 0, "started_at": T0.isoformat(),
                 "paused_seconds": 0, "due_at": at(60).isoformat(), "remaining_seconds": 3000}
    assert _act(timed, 10, "pause") == {"status": "paused", "extra_time": 0}
    t = _time(timed, 25, admin)
    assert (t["remaining_seconds"], t["paused_seconds"], t["due_at"]) == (3000, 900, at(75).isoformat())
    assert _act(timed, 25, "resume")["status"] == "running"
    t = _time(timed, 30, admin)
    assert (t["remaining_seconds"], t["paused_seconds"], t["due_at"]) == (2700, 900, at(75).isoformat())
    assert _act(timed, 30, "update", extra_time=20) == {"status": "running", "extra_time": 20}
    t = _time(timed, 30)
    assert (t["extra_time_seconds"], t["due_at"], t["remaining_seconds"]) == (1200, at(95).isoformat(), 3900)
    # The total granted, not an increment: 5 minutes in all now.
    assert _act(timed, 31, "update", extra_time=5)["extra_time"] == 5
    assert _time(timed, 31)["due_at"] == at(80).isoformat()
    _act(timed, 40, "pause")
    # Terminated while paused: the pause ends there, and the clock stops for good.
    assert _act(timed, 50, "terminate")["status"] == "terminated"
    t = _time(timed, 200, admin)
    assert (t["paused_seconds"], t["due_at"], t["remaining_seconds"]) == (1500, at(90).isoformat(), 2400)
    page = timed.app.get(f"/admin/attempts/{timed.code}", headers={**f.auth(admin), "Accept": "text/html"})
    assert "40:00" in page.text and "acs-terminate" in page.text and "acs-update" in page.text


def test_pause_and_resume_keep_the_start_and_sum_the_pauses(timed, dbsession):
    _act(timed, 10, "pause")
    _act(timed, 20, "resume")
    dbsession.expire_all()
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    assert attempt.started_at == T0 and attempt.paused_seconds == 600 and attempt.paused_at is None
