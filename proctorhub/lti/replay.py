"""The replay ledger: a tool's nonce or jti is accepted once, by any process.

Entries are kept until the token that carried them can no longer verify (its ``exp`` plus the
leeway), then purged (by each process, at most once a minute).
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..models import ReplayEntry, utcnow
from .errors import LtiError

# Expired entries are deleted at most this often per process (a DELETE per message is waste).
PURGE_INTERVAL_SECONDS = 60.0
_last_purge = float("-inf")


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
    insert = postgresql_insert if dbsession.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement decides, also between processes: the unique key lets one insert win.
    inserted = dbsession.execute(
        insert(ReplayEntry).values(issuer=issuer, kind=kind, value=value, expires_at=expires_at, created_at=now)
        .on_conflict_do_nothing(index_elements=["issuer", "kind", "value"]).returning(ReplayEntry.id)
    ).first()
    if inserted is None:
        raise LtiError(f"this {kind} was used before", code=f"replayed_{kind}")
