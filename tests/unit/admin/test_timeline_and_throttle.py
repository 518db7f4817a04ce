from types import SimpleNamespace

import pytest

from proctorhub.admin.queue import parse_filters
from proctorhub.admin.throttle import client_network, lock_seconds
from proctorhub.admin.timeline import clock, layout, severity
from proctorhub.errors import InvalidPayload


def comment(start, stop, status="Suspicious"):
    return SimpleNamespace(start=start, stop=stop, duration=stop - start, comment="c", status=status)


def test_overlapping_incidents_go_to_separate_lanes_numbered_in_time_order():
    timeline = layout([comment(10, 20), comment(100, 105), comment(12, 88, "Rules Violation")], session_seconds=300)
    by_number = {m.number: m for m in timeline.marks}
    assert [(m.start, m.number) for m in timeline.marks] == [(10, 1), (12, 2), (100, 3)]
    assert timeline.total_seconds == 300 and timeline.lanes == 2
    assert (by_number[1].lane, by_number[2].lane, by_number[3].lane) == (0, 1, 0)
    assert by_number[2].severity == "violation" and by_number[1].left == pytest.approx(10 / 3, abs=0.01)
    assert timeline.ticks[0] == (0.0, "0:00") and timeline.ticks[-1][1] == "5:00"


def test_session_shorter_than_incidents_grows_to_fit_and_tiny_incidents_stay_visible():
    timeline = layout([comment(0, 1), comment(7000, 7200)], session_seconds=60)
    assert timeline.total_seconds == 7200
    assert timeline.marks[0].width >= 0.6


def test_helpers():
    assert clock(3725) == "1:02:05" and clock(65) == "1:05"
    assert severity("Clean") == "clean" and severity("weird") == "other"
    assert [lock_seconds(n, 5) for n in (4, 5, 6, 20)] == [0, 30, 60, 900]
    assert [lock_seconds(n, 20) for n in (19, 20, 21)] == [0, 30, 60]
    assert client_network("192.0.2.7") == "192.0.2.7" and client_network("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_network("2001:db8:1:2:a::1") == client_network("2001:db8:1:2:b::9") == "2001:db8:1:2::/64"
    assert client_network(None) == client_network("not an address") == "unknown"


def test_queue_filters_parse_and_refuse():
    filters = parse_filters({"after": "1.42", "course": "c", "unreviewed": "1", "limit": "10"})
    assert (filters.after, filters.course, filters.unreviewed, filters.limit) == ((1, 42), "c", True, 10)
    assert filters.query_params(after="2.5") == {"course": "c", "unreviewed": "1", "limit": 10, "after": "2.5"}
    with pytest.raises(InvalidPayload):
        parse_filters({"after": "1;drop"})
