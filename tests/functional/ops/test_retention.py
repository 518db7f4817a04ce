"""proctorhub purge / retention.purge: what has expired goes, in batches; nothing else does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import sqlalchemy as sa

from proctorhub.cli import main as cli
from proctorhub.models import BrowserSession, Event, Launch, ReplayEntry, SessionData, SigninThrottle, utcnow
from proctorhub.retention import purge
from proctorhub.settings import parse_settings

from ... import factories as f
from .test_cli_errors import ini_for

NOW = utcnow()
AGO = NOW - dt.timedelta(hours=1)
LATER = NOW + dt.timedelta(hours=1)


def hexes():
    return secrets.token_hex(32)


def arrange(dbsession):
    """Two of each kind, expired and current; returns the ids that must survive."""
    attempt = f.attempt(dbsession)
    configuration = f.configuration(dbsession)

    def browser(expires):
        row = BrowserSession(cookie_hash=hexes(), user_id="learner-1", expires_at=expires)
        dbsession.add(row)
        dbsession.flush()
        return row

    def launch(expires, session=None):
        row = Launch(token_hash=hexes(), attempt_id=attempt.id, configuration_id=configuration.id,
                     message_type="LtiStartProctoring", user_id="learner-1", user_role="learner",
                     return_url="https://lms.test/", expires_at=expires,
                     browser_session_id=session.id if session else None)
        dbsession.add(row)
        dbsession.flush()
        return row

    def session_data(expires, launch_row, session):
        row = SessionData(value_hash=hexes(), browser_session_id=session.id, launch_id=launch_row.id,
                          attempt_id=attempt.id, expires_at=expires)
        dbsession.add(row)
        dbsession.flush()
        return row

    # An expired launch whose session_data lives on (an exam lasts hours, a launch URL minutes).
    live_session = browser(LATER)
    held_launch = launch(AGO, live_session)
    live_data = session_data(LATER, held_launch, live_session)
    # Everything of a finished exam has expired.
    dead_session = browser(AGO)
    dead_launches = [launch(AGO, dead_session) for _ in range(5)]
    session_data(AGO, dead_launches[0], dead_session)
    fresh_launch = launch(LATER)
    dbsession.add_all([
        ReplayEntry(issuer="tool", kind="nonce", value="old", expires_at=AGO),
        ReplayEntry(issuer="tool", kind="nonce", value="new", expires_at=LATER),
        SigninThrottle(key="idle@example.edu", failures=3, last_failure_at=NOW - dt.timedelta(days=2)),
        SigninThrottle(key="locked@example.edu", failures=9, last_failure_at=NOW - dt.timedelta(days=2),
                       locked_until=LATER),
        SigninThrottle(key="recent@example.edu", failures=1, last_failure_at=AGO),
        Event(kind="review.received", delivered_at=NOW - dt.timedelta(days=31)),
        Event(kind="review.received", delivered_at=NOW - dt.timedelta(days=1)),
        Event(kind="review.received", delivered_at=None, created_at=NOW - dt.timedelta(days=90)),
    ])
    dbsession.commit()
    return {"launches": {held_launch.id, fresh_launch.id}, "sessions": {live_session.id},
            "session_data": {live_data.id}}


def ids(dbsession, column):
    dbsession.expire_all()
    return set(dbsession.execute(sa.select(column)).scalars())


def test_purge_deletes_what_has_expired_and_nothing_else(dbsession, dbengine, base_settings):
    kept = arrange(dbsession)
    app_settings = parse_settings(base_settings)
    small_batches = dataclasses.replace(app_settings,
                                        retention=dataclasses.replace(app_settings.retention, batch_size=2))
    counts = purge(dbengine, small_batches, now=NOW)
    assert counts == {"session_data": 1, "launches": 5, "browser_sessions": 1, "replay_ledger": 1,
                      "signin_throttle": 1, "delivered_events": 1}
    assert ids(dbsession, Launch.id) == kept["launches"]
    assert ids(dbsession, BrowserSession.id) == kept["sessions"]
    assert ids(dbsession, SessionData.id) == kept["session_data"]
    assert ids(dbsession, ReplayEntry.value) == {"new"}
    assert ids(dbsession, SigninThrottle.key) == {"locked@example.edu", "recent@example.edu"}
    assert len(ids(dbsession, Event.id)) == 2
    # Nothing more to do the second time.
    assert set(purge(dbengine, app_settings, now=NOW).values()) == {0}


def test_the_purge_command(dbsession, dbengine, db_url, tmp_path, capsys):
    arrange(dbsession)
    assert cli(["purge", ini_for(tmp_path, db_url)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "launches: 5" in out and "replay_ledger: 1" in out and "delivered_events: 1" in out
    assert len(ids(dbsession, Launch.id)) == 2
