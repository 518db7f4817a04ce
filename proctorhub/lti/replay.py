"""The replay ledger: a tool's nonce or jti is accepted once, by any process.

Entries are kept until the token that carried them can no longer verify (its ``exp`` plus the
leeway), then purged.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..models import ReplayEntry, utcnow
from .errors import LtiError


def remember_once(dbsession, *, issuer: str, kind: str, value, exp, leeway: int) -> None:
    """Record ``value``; an ``LtiError`` ``replayed_<kind>`` if it was recorded before."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise LtiError(f"the JWT's {kind} must be a non-empty string of at most 255 characters",
                       code=f"missing_{kind}" if not value else f"invalid_{kind}")
    now = utcnow()
    dbsession.execute(delete(ReplayEntry).where(ReplayEntry.expires_at < now))
    seen = dbsession.execute(
        select(ReplayEntry.id).where(ReplayEntry.issuer == issuer, ReplayEntry.kind == kind,
                                     ReplayEntry.value == value)
    ).first()
    if seen is not None:
        raise LtiError(f"this {kind} was used before", code=f"replayed_{kind}")
    expires_at = dt.datetime.fromtimestamp(int(exp), dt.UTC) + dt.timedelta(seconds=leeway)
    dbsession.add(ReplayEntry(issuer=issuer, kind=kind, value=value, expires_at=max(expires_at, now)))
    try:
        dbsession.flush()
    except IntegrityError:
        # Another request carried the same value at the same moment and won: a replay, not a retry.
        raise LtiError(f"this {kind} was used before", code=f"replayed_{kind}") from None
