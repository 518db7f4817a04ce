"""Hostile values the LTI routes once let through: each is now a 400 naming the field or check,
with nothing written, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from proctorhub.models import Event

from .conftest import snapshot
from .test_acs import _acs, _token


@pytest.mark.parametrize("return_url", [
    "https://lms.test/return\r\nSet-Cookie: x=1",  # once a 500 at the start assessment's redirect
    "https://lms.test/r\x7f",
    "https://lms.test/cours\u00e9",  # a Location header is latin-1 at best; browsers expect ASCII
    "https://lms.test/\u2713",  # not even latin-1: the server failed after committing the start
    "https://lms.test/a b",
    "https:///no-host",
    "https://lms.test:99999/",
])
def test_return_url_that_cannot_be_a_location_is_refused_at_the_launch_api(flow, dbsession, return_url):
    refused = flow.create_launch(return_url=return_url, status=400)["error"]
    assert refused["code"] == "invalid_payload" and set(refused["details"]["fields"]) == {"return_url"}
    assert snapshot(dbsession)["attempts"] == [] and snapshot(dbsession)["launches"] == []


@pytest.mark.parametrize("return_url", ["https://lms.test/cours%C3%A9?next=%2Fx&y=1", "http://localhost:6543/"])
def test_percent_encoded_return_url_with_a_query_is_the_redirect(flow, return_url):
    claims = flow.start_proctoring(return_url=return_url)
    assert flow.start(flow.signed(claims)).location == return_url


@pytest.mark.parametrize("attempt_number", [True, 1.0, "1"])
def test_attempt_number_must_be_the_launchs_integer(flow, dbsession, attempt_number):
    claims = flow.start_proctoring()  # attempt 1, which Python holds equal to true and 1.0
    before = snapshot(dbsession)
    answer = flow.start(flow.signed(claims, attempt_number=attempt_number), status=400)
    assert answer.json["error"]["code"] == "attempt_number_mismatch"
    assert snapshot(dbsession) == before


@pytest.mark.parametrize(("field", "value"), [
    ("incident_severity", "nan"),  # once NaN in the event's payload on SQLite, a DataError on PostgreSQL
    ("incident_severity", "1e999"),
    ("incident_severity", "inf"),
    ("incident_severity", True),
    ("extra_time", "12"),
    ("extra_time", 1.5),
    ("extra_time", 10**40),
])
def test_acs_numbers_must_be_numbers(flow, dbsession, field, value):
    flow.start(flow.signed(flow.start_proctoring()))
    token = _token(flow)["access_token"]
    events = dbsession.execute(select(func.count()).select_from(Event)).scalar_one()
    refused = _acs(flow, token, "update", status=400, **{"extra_time": 1, field: value})["error"]
    assert refused["code"] == "invalid_payload" and set(refused["details"]["fields"]) == {field}
    dbsession.expire_all()
    assert dbsession.execute(select(func.count()).select_from(Event)).scalar_one() == events


def test_acs_numbers_that_are_numbers_are_recorded(flow, dbsession):
    flow.start(flow.signed(flow.start_proctoring()))
    token = _token(flow)["access_token"]
    _acs(flow, token, "flag", incident_severity=1)
    _acs(flow, token, "update", incident_severity="0.25", extra_time=600)
    payloads = [e.payload for e in dbsession.execute(select(Event).where(Event.kind == "attempt.control")
                                                     .order_by(Event.id)).scalars()]
    assert payloads[0]["incident_severity"] == 1.0
    assert payloads[1]["incident_severity"] == 0.25 and payloads[1]["extra_time"] == 600
