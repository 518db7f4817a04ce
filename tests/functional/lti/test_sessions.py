"""Sessions that last an exam: the browser session and session_data outlive the launch URL, a
crashed browser can be launched again without touching the clock, and after a reset the next
attempt takes the next attempt number."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select
from webtest import TestApp

from proctorhub.models import Attempt, Event

from ... import factories as f
from .conftest import Flow, snapshot
from .test_acs import _acs, _token

T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def _attempt(dbsession, **where) -> Attempt:
    dbsession.expire_all()
    return dbsession.execute(select(Attempt).filter_by(**where)).scalar_one()


def test_start_assessment_after_the_launch_url_expired(make_app, lms, tool_config, tool, dbsession):
    flow = Flow(make_app(**{"proctorhub.lti.launch_ttl_seconds": "1"}), lms=lms, config=tool_config, tool=tool)
    claims = flow.start_proctoring()
    launch = flow.create_launch(user_id="learner-9")
    time.sleep(1.3)  # the launch URL's lifetime is over; the vendor's checks are still going on
    assert flow.enter(launch, status=400).json["error"]["code"] == "launch_expired"
    flow.start(flow.signed(claims))
    assert _attempt(dbsession, user_id="learner-1").status == "started"


def test_a_relaunch_after_a_crash_keeps_the_clock(flow, app, dbsession):
    # The first browser is given a session_data, then crashes before the tool starts the exam.
    first = flow.start_proctoring()
    second_browser = Flow(TestApp(app), lms=flow.lms, config=flow.config, tool=flow.tool)
    second = second_browser.start_proctoring()
    assert second["https://purl.imsglobal.org/spec/lti-ap/claim/session_data"] != \
        first["https://purl.imsglobal.org/spec/lti-ap/claim/session_data"]
    # The relaunch spent the first browser's session_data.
    before = snapshot(dbsession)
    assert flow.start(flow.signed(first), status=400).json["error"]["code"] == "session_data_used"
    assert snapshot(dbsession) == before
    second_browser.start(second_browser.signed(second))
    attempt = _attempt(dbsession)
    attempt.started_at = T0
    dbsession.commit()
    # The exam runs; the browser crashes again; a third launch for the running attempt works.
    third_browser = Flow(TestApp(app), lms=flow.lms, config=flow.config, tool=flow.tool)
    launch = third_browser.create_launch()
    assert launch["attempt"]["status"] == "started"
    third_browser.start(third_browser.signed(third_browser_claims(third_browser, launch)))
    attempt = _attempt(dbsession)
    assert attempt.status == "started" and attempt.started_at == T0
    moves = [e.payload["to"] for e in dbsession.execute(
        select(Event).where(Event.kind == "attempt.status_changed").order_by(Event.id)).scalars()]
    assert moves == ["ready_to_start", "started"]


def third_browser_claims(browser, launch):
    entry = browser.enter(launch)
    _token_, claims = browser.id_token(browser.authorize(browser.tool.authentication_request(entry.location)))
    return claims


def test_a_paused_attempt_relaunched_stays_paused(flow, app, dbsession):
    flow.start(flow.signed(flow.start_proctoring()))
    token = _token(flow)["access_token"]
    assert _acs(flow, token, "pause")["status"] == "paused"
    paused_at = _attempt(dbsession).paused_at
    again = Flow(TestApp(app), lms=flow.lms, config=flow.config, tool=flow.tool)
    again.start(again.signed(again.start_proctoring()))
    attempt = _attempt(dbsession)
    assert attempt.status == "paused" and attempt.paused_at == paused_at
    assert _acs(flow, token, "resume")["status"] == "running"


def test_no_relaunch_once_the_attempt_is_over(flow, dbsession):
    flow.start(flow.signed(flow.start_proctoring()))
    attempt = _attempt(dbsession)
    attempt.status = "submitted"
    dbsession.commit()
    before = snapshot(dbsession)
    assert flow.create_launch(status=409)["error"]["code"] == "invalid_status_change"
    assert snapshot(dbsession) == before


def test_after_an_archive_the_next_attempt_needs_the_next_number(flow, testapp, dbsession):
    body = {"config_id": flow.config.id, "user": {"id": "learner-1"}, "resource_link": {"id": "exam-1"},
            "context": {"id": "course-1"}, "attempt_number": 1}
    code = testapp.post_json("/api/v1/attempts", body, headers=f.auth(flow.lms), status=201).json["attempt_code"]
    testapp.delete(f"/api/v1/attempts/{code}", headers=f.auth(flow.lms))
    before = snapshot(dbsession)
    refused = testapp.post_json("/api/v1/attempts", body, headers=f.auth(flow.lms), status=409).json["error"]
    assert refused["code"] == "attempt_number_used" and refused["details"]["next_attempt_number"] == 2
    # The launch API's fast path refuses it the same way.
    refused = flow.create_launch(status=409)["error"]
    assert refused["code"] == "attempt_number_used" and refused["details"]["next_attempt_number"] == 2
    assert snapshot(dbsession) == before
    assert flow.create_launch(attempt_number=2)["attempt"]["attempt_number"] == 2
