"""The replay ledger: a tool's nonce or jti is accepted once, by any process.

Entries are kept until the token that carried them can no longer verify (its ``exp`` plus the
leeway), then purged (by each process, at most once a minute).
"""

from __future__ import annotations

import datetime as dt
import time

import zope.sqlalchemy
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..models import ReplayEntry, utcnow
from .errors import LtiError

# Expired entries are deleted at most this often per process (a DELETE per message is waste).
PURGE_INTERVAL_SECONDS = 60.0
_last_purge = float("-inf")

ledger_t = ReplayEntry.__table__


def _insert_if_new(dialect_insert):
    return dialect_insert(ledger_t).on_conflict_do_nothing(
        index_elements=[ledger_t.c.issuer, ledger_t.c.kind, ledger_t.c.value]).returning(ledger_t.c.id)


# Built once: executed with parameters, it reuses one compiled form.
INSERT_IF_NEW = {"postgresql": _insert_if_new(postgresql_insert), "sqlite": _insert_if_new(sqlite_insert)}


def remember_once(dbsession, *, issuer: str, kind: str, value, exp, leeway: int) -> None:
    """Record ``value``; an ``LtiError`` ``replayed_<kind>`` if it was recorded before."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise LtiError(f"the JWT's {kind} must be a non-empty string of at most 255 characters",
                       code=f"missing_{kind}" if not value else f"invalid_{kind}")
    now = utcnow()
    global _last_purge
    if time.monotonic() - _last_purge >= PURGE_INTERVAL_SECONDS:
        _last_purge = time.monotonic()
        dbsession.execute(delete(ReplayEntry).where(ReplayEntry.expires_at < now))
    expires_at = max(dt.datetime.fromtimestamp(int(exp), dt.UTC) + dt.timedelta(seconds=leeway), now)
    connection = dbsession.connection()
    # One statement decides, also between processes: the unique key lets one insert win.
    inserted = connection.execute(INSERT_IF_NEW[connection.dialect.name], {
        "issuer": issuer, "kind": kind, "value": value, "expires_at": expires_at, "created_at": now,
    }).first()
    if inserted is None:
        raise LtiError(f"this {kind} was used before", code=f"replayed_{kind}")
    zope.sqlalchemy.mark_changed(dbsession)
