"""Signed review callbacks are accepted once: a ledger of signed messages until their window ends.

A vendor's signature covers ``"<t>." + body`` and is good for ``signature_window_seconds`` either
side of ``t``. Within that window anybody who saw a callback (a proxy log, a shared debugging
paste) could post it again, and an earlier review resent after a later one would revert the
review and its attempt. So each signed message (its timestamp and body, whatever the header's
formatting) is written to the replay ledger, shared by every process, until the window ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import zope.sqlalchemy
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..lti.replay import purge_if_due
from ..models import ReplayEntry, utcnow

ledger_t = ReplayEntry.__table__

KIND = "review"


def _insert_if_new(dialect_insert):
    return dialect_insert(ledger_t).on_conflict_do_nothing(
        index_elements=[ledger_t.c.issuer, ledger_t.c.kind, ledger_t.c.value]).returning(ledger_t.c.id)


# Built once: executed with parameters, it reuses one compiled form.
INSERT_IF_NEW = {"postgresql": _insert_if_new(postgresql_insert), "sqlite": _insert_if_new(sqlite_insert)}


def signed_message(timestamp: int, body: bytes) -> str:
    return hashlib.sha256(f"{timestamp}.".encode() + body).hexdigest()


def remember_signed_message(dbsession, *, backend: str, timestamp: int, body: bytes, window_seconds: int) -> bool:
    """Record the signed message; False if it was recorded before (a replay)."""
    purge_if_due(dbsession)
    connection = dbsession.connection()
    now = utcnow()
    expires_at = dt.datetime.fromtimestamp(timestamp + window_seconds + 1, dt.UTC)
    inserted = connection.execute(INSERT_IF_NEW[connection.dialect.name], {
        "issuer": f"backend:{backend}", "kind": KIND, "value": signed_message(timestamp, body),
        "expires_at": max(expires_at, now), "created_at": now,
    }).first()
    zope.sqlalchemy.mark_changed(dbsession)
    return inserted is not None
