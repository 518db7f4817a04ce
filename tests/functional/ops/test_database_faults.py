"""A database that drops, refuses or stops answering: quick 503s, recovery without a restart.

The app reaches PostgreSQL through ``tests.fault_proxy``, which the tests cut, stall and restore.
"""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa
from webtest import TestApp

from proctorhub import main
from proctorhub.models import Attempt

from ... import factories as f
from ...fault_proxy import FaultProxy

pytestmark = pytest.mark.postgresql_only

TIMEOUTS = {
    "proctorhub.db.connect_timeout_seconds": "1",
    "proctorhub.db.statement_timeout_seconds": "1",
    "proctorhub.db.lock_timeout_seconds": "1",
    "proctorhub.db.pool_timeout_seconds": "1",
    "proctorhub.db.retry_after_seconds": "7",
}
# connect (libpq's least, 2 s) + statement (1 s) + the watchdog's grace (1 s), and some slack.
WORST_SECONDS = 6.0


@pytest.fixture
def proxy(db_url):
    url = sa.engine.make_url(db_url)
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture
def faulty_app(base_settings, dbengine, proxy):
    url = sa.engine.make_url(base_settings["sqlalchemy.url"]).set(host="127.0.0.1", port=proxy.port)
    application = main({}, **{**base_settings, **TIMEOUTS,
                              "sqlalchemy.url": url.render_as_string(hide_password=False)})
    yield TestApp(application)
    application.registry["dbengine"].dispose()


def attempt_body(n: int) -> dict:
    return {"backend": "rest", "user": {"id": f"learner-{n}"}, "context": {"id": "course-1"},
            "resource_link": {"id": "final"}, "attempt_number": n, "exam": {"name": "Final"}}


def timed(call):
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


def assert_unavailable(response, seconds):
    assert response.status_int == 503, response.text
    error = response.json["error"]
    assert error["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "7"
    assert seconds < WORST_SECONDS, f"took {seconds:.1f} s"
    return error


def stored_codes(dbsession) -> set[str]:
    dbsession.expire_all()
    return set(dbsession.execute(sa.select(Attempt.attempt_code)).scalars())


def test_cut_stall_and_restore(faulty_app, proxy, dbsession, caplog):
    lms = f.auth(f.token(dbsession))
    acknowledged = []
    statuses = []

    def create(n):
        response = faulty_app.post_json("/api/v1/attempts", attempt_body(n), headers=lms, expect_errors=True)
        statuses.append(response.status_int)
        if response.status_int in (200, 201):
            acknowledged.append(response.json["attempt_code"])
        return response

    assert create(1).status_int == 201

    # Dropped and refused connections: the pooled connection is found dead, a new one refused.
    proxy.cut()
    with caplog.at_level(logging.WARNING, logger="proctorhub"):
        for n in (2, 3, 4):
            response, seconds = timed(lambda n=n: create(n))
            error = assert_unavailable(response, seconds)
            assert error["details"]["outcome"] == "not_stored"
        response, seconds = timed(lambda: faulty_app.get(f"/api/v1/attempts/{acknowledged[0]}", headers=lms,
                                                          expect_errors=True))
        assert_unavailable(response, seconds)
    # One line for the lot, and no traceback.
    lines = [r for r in caplog.records if r.name == "proctorhub.models.faults"]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "database unavailable" in lines[0].getMessage()

    # Back without a restart.
    proxy.restore()
    assert create(5).status_int == 201

    # A database that stops answering: the watchdog and the connect timeout bound each request.
    proxy.stall()
    for n in (6, 7):
        response, seconds = timed(lambda n=n: create(n))
        assert_unavailable(response, seconds)
    proxy.restore()
    assert create(8).status_int == 201
    assert faulty_app.get(f"/api/v1/attempts/{acknowledged[-1]}", headers=lms).json["status"] == "created"

    assert 500 not in statuses
    assert set(acknowledged) <= stored_codes(dbsession)
    assert len(acknowledged) == 3


def test_a_failed_commit_says_the_outcome_is_unknown_and_whether_to_resend(faulty_app, proxy, dbsession):
    lms = f.auth(f.token(dbsession))
    engine = faulty_app.app.registry["dbengine"]

    def cut_at_commit(_connection):
        proxy.cut()

    sa.event.listen(engine, "commit", cut_at_commit)
    try:
        response = faulty_app.post_json("/api/v1/attempts", attempt_body(1), headers=lms, expect_errors=True)
    finally:
        sa.event.remove(engine, "commit", cut_at_commit)
    error = assert_unavailable(response, 0)
    assert error["details"] == {"retry_after": 7, "outcome": "unknown", "safe_to_resend": True}
    assert "may or may not have been stored" in error["message"]

    # Sending it again once the database is back stores the attempt once.
    proxy.restore()
    again = faulty_app.post_json("/api/v1/attempts", attempt_body(1), headers=lms)
    assert again.status_int == 201
    assert stored_codes(dbsession) == {again.json["attempt_code"]}


def test_a_slow_statement_is_cancelled_by_the_server(faulty_app, dbsession, dbengine):
    """A row lock held elsewhere: lock_timeout ends the wait with a 503, and nothing is stored."""
    lms = f.auth(f.token(dbsession))
    code = faulty_app.post_json("/api/v1/attempts", attempt_body(1), headers=lms).json["attempt_code"]
    body, headers = f.signed("rest", {"attempt_code": code, "status": "passed", "comments": []})
    with dbengine.connect() as blocker:
        blocker.execute(sa.text("SELECT 1 FROM attempt WHERE attempt_code = :c FOR UPDATE"), {"c": code})
        response, seconds = timed(lambda: faulty_app.post("/api/v1/reviews/rest", body, headers=headers,
                                                          expect_errors=True))
        blocker.rollback()
    assert_unavailable(response, seconds)
    assert faulty_app.post("/api/v1/reviews/rest", body, headers=headers).status_int == 200
