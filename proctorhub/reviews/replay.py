"""Signed review callbacks are accepted once: a ledger of signed messages until their window ends.

A vendor's signature covers ``"<t>." + body`` and is good for ``signature_window_seconds`` either
side of ``t``. Within that window anybody who saw a callback (a proxy log, a shared debugging
paste) could post it again, and an earlier review resent after a later one would revert the
review and its attempt. So each signed message (its timestamp and body, whatever the header's
formatting) is written to the replay ledger, shared by every process, until the window ends.

On PostgreSQL the entry is inserted by the query that reads the callback's attempt
(``target.load_review_target``), which saves the callback a round trip; elsewhere it is a
statement of its own (``remember_signed_message``).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from ..lti.replay import UNIQUE_ENTRY
from ..models import ReplayEntry, utcnow
from ..models.dialect import dialect_of

ledger_t = ReplayEntry.__table__

KIND = "review"


def signed_message(timestamp: int, body: bytes) -> str:
    return hashlib.sha256(f"{timestamp}.".encode() + body).hexdigest()


def ledger_entry(*, backend: str, timestamp: int, body: bytes, window_seconds: int) -> dict:
    """The ledger row for a signed message (its columns)."""
    now = utcnow()
    expires_at = dt.datetime.fromtimestamp(timestamp + window_seconds + 1, dt.UTC)
    return {"issuer": f"backend:{backend}", "kind": KIND, "value": signed_message(timestamp, body),
            "expires_at": max(expires_at, now), "created_at": now}


def remember_signed_message(dbsession, entry: dict) -> bool:
    """Record the ledger ``entry``; False if it was recorded before (a replay)."""
    return dialect_of(dbsession).insert_if_new(dbsession, ledger_t, entry, unique=UNIQUE_ENTRY) is not None
