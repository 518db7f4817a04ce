"""Purging what has expired, in short batches: ``purge(engine, app_settings, now)``.

Called by ``proctorhub purge INI`` (once) and by ``proctorhub worker INI`` (on a schedule). What goes:

- launches past ``expires_at`` that no session_data row still names;
- session_data past ``expires_at``;
- LTI browser sessions past ``expires_at`` that no launch or session_data row still names;
- replay-ledger entries (used nonces and ``jti``s) past ``expires_at``: a token that old is refused
  on its own ``exp`` anyway;
- sign-in throttle rows not locked and without a failure for ``proctorhub.retention.signin_throttle_hours``;
- events delivered more than ``proctorhub.retention.delivered_event_days`` ago.

Each batch deletes at most ``proctorhub.retention.batch_size`` rows by primary key, in a transaction of
its own, so no table is locked for long and requests go on meanwhile. On PostgreSQL the batch's
rows are picked ``FOR UPDATE SKIP LOCKED``: two purges at once (two workers) share the work, and a
row a request holds is left for the next purge.

Other features add what they store to ``PURGE_STEPS`` (a step is ``Step(name, table, expired)``,
``expired(now, retention)`` returning the WHERE clause of what may go); the webhook deliveries of
a purged event must go first (a step placed before ``delivered events``) or cascade.

Usage from another process::

    from proctorhub.retention import purge
    counts = purge(engine, app_settings)            # now = the clock
    counts = purge(engine, app_settings, now=when)  # {"launches": 12, "session_data": 3, ...}
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from .models import BrowserSession, Event, Launch, ReplayEntry, SessionData, SigninThrottle, utcnow
from .settings import RetentionSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    name: str
    table: sa.Table
    expired: Callable[[dt.datetime, RetentionSettings], sa.ColumnElement[bool]]


def _unreferenced(column, *referencing) -> sa.ColumnElement[bool]:
    return sa.and_(*(~sa.exists().where(ref == column) for ref in referencing))


PURGE_STEPS: list[Step] = [
    # session_data first: it names launches and browser sessions.
    Step("session_data", SessionData.__table__, lambda now, r: SessionData.expires_at < now),
    Step("launches", Launch.__table__,
         lambda now, r: sa.and_(Launch.expires_at < now, _unreferenced(Launch.id, SessionData.launch_id))),
    Step("browser_sessions", BrowserSession.__table__,
         lambda now, r: sa.and_(BrowserSession.expires_at < now,
                                _unreferenced(BrowserSession.id, Launch.browser_session_id,
                                              SessionData.browser_session_id))),
    Step("replay_ledger", ReplayEntry.__table__, lambda now, r: ReplayEntry.expires_at < now),
    Step("signin_throttle", SigninThrottle.__table__,
         lambda now, r: sa.and_(SigninThrottle.last_failure_at < now - dt.timedelta(hours=r.signin_throttle_hours),
                                sa.or_(SigninThrottle.locked_until.is_(None), SigninThrottle.locked_until < now))),
    Step("delivered_events", Event.__table__,
         lambda now, r: Event.delivered_at < now - dt.timedelta(days=r.delivered_event_days)),
]


def _delete_batch(engine: sa.Engine, step: Step, now: dt.datetime, retention: RetentionSettings) -> int:
    [key] = step.table.primary_key.columns
    batch = (sa.select(key).where(step.expired(now, retention)).limit(retention.batch_size)
             .with_for_update(skip_locked=True))
    with engine.begin() as connection:
        return connection.execute(sa.delete(step.table).where(key.in_(batch.scalar_subquery()))).rowcount


def purge(engine: sa.Engine, app_settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete everything that has expired at ``now``; return how many rows went, by step name.

    ``engine`` is a SQLAlchemy engine (the app's ``registry["dbengine"]`` or ``models.get_engine``);
    ``app_settings`` the typed ``AppSettings`` (its ``retention`` part is read). Safe to run at any
    time, from any number of processes at once.
    """
    now = now or utcnow()
    retention = app_settings.retention
    counts: dict[str, int] = {}
    for step in PURGE_STEPS:
        total = 0
        while True:
            deleted = _delete_batch(engine, step, now, retention)
            total += deleted
            if deleted < retention.batch_size:
                break
        counts[step.name] = total
    if any(counts.values()):
        log.info("purged %s", ", ".join(f"{count} {name}" for name, count in counts.items() if count))
    return counts
