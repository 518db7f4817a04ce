"""The replay ledger: a tool's nonce or jti is accepted once, by any process.

Entries are kept until the token that carried them can no longer verify (its ``exp`` plus the
leeway); then retention (``proctorhub purge``, and the worker on its schedule) deletes them.
"""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import bindparam, select, union_all

from ..models import utcnow
from ..models.dialect import dialect_of, mark_written
from .errors import LtiError
from .tables import ledger_t

# An entry is new unless the ledger has its issuer, kind and value.
UNIQUE_ENTRY = next(constraint for constraint in ledger_t.constraints
                    if constraint.name == "uq_lti_replay_ledger_issuer_kind_value")


def _check(kind: str, value) -> None:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise LtiError(f"the JWT's {kind} must be a non-empty string of at most 255 characters",
                       code=f"missing_{kind}" if not value else f"invalid_{kind}")


# The ledger keeps a nonce until its token expires; a token meant to live longer than this is
# refused rather than remembered for ever.
MAX_TOKEN_LIFETIME = dt.timedelta(hours=24)


def _entry(issuer: str, kind: str, value, exp, leeway: int) -> dict:
    now = utcnow()
    try:
        expires = dt.datetime.fromtimestamp(int(exp), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise LtiError("the JWT's exp is not a time", code="invalid_exp") from None
    if expires > now + MAX_TOKEN_LIFETIME:
        raise LtiError(f"the JWT's exp is more than {MAX_TOKEN_LIFETIME} away", code="invalid_exp")
    if len(issuer) > ledger_t.c.issuer.type.length:
        raise LtiError("the JWT's iss is too long to be a client_id", code="invalid_issuer")
    expires_at = max(expires + dt.timedelta(seconds=leeway), now)
    return {"issuer": issuer, "kind": kind, "value": value, "expires_at": expires_at, "created_at": now}


def remember_once(dbsession, *, issuer: str, kind: str, value, exp, leeway: int) -> None:
    """Record ``value``; an ``LtiError`` ``replayed_<kind>`` if it was recorded before."""
    _check(kind, value)
    # One statement decides, also between processes: the unique key lets one insert win.
    inserted = dialect_of(dbsession).insert_if_new(dbsession, ledger_t, _entry(issuer, kind, value, exp, leeway),
                                                   unique=UNIQUE_ENTRY)
    if inserted is None:
        raise LtiError(f"this {kind} was used before", code=f"replayed_{kind}")


# --- Where the dialect chains writes (PostgreSQL): remembering in the statement that first reads
# the message's tool ---------------------------------------------------------------------------
#
# The nonce and jti are inserted (ON CONFLICT DO NOTHING) by the start assessment's first query,
# before the signature is verified; the refusals still come in their order, after verification,
# and any refusal aborts the transaction, the inserted entries with it.

def entries_to_remember(dbsession, unverified: dict, *, issuer: str, leeway: int) -> list[dict]:
    """The ledger entries an unverified message would add, for ``remembering_cte``; none where
    the message's own values are unusable (``remember_once`` then decides after verification)."""
    entries = []
    for kind in ("nonce", "jti"):
        value = unverified.get(kind)
        try:
            _check(kind, value)
            entries.append(_entry(issuer, kind, value, unverified.get("exp"), leeway))
        except LtiError:
            continue
    return entries


@functools.cache
def remembering_cte(dialect, count: int):
    """``remembered AS (INSERT INTO lti_replay_ledger SELECT ... [UNION ALL SELECT ...] ON CONFLICT
    DO NOTHING RETURNING kind)`` for ``count`` entries, their parameters named by
    ``remembering_parameters``. Rows come from SELECTs, not a multi-row VALUES: SQLAlchemy cannot
    cache a multi-row VALUES, and would compile the start assessment's query on every message."""
    rows = [select(*(bindparam(f"remember_{i}_{name}", type_=ledger_t.c[name].type) for name in ENTRY_COLUMNS))
            for i in range(count)]
    source = rows[0] if count == 1 else union_all(*rows)
    return (dialect.insert(ledger_t).from_select(list(ENTRY_COLUMNS), source)
            .on_conflict_do_nothing(**dialect.conflict_target(UNIQUE_ENTRY))
            .returning(ledger_t.c.kind).cte("remembered"))


ENTRY_COLUMNS = ("issuer", "kind", "value", "expires_at", "created_at")


def remembering_parameters(entries: list[dict]) -> dict:
    return {f"remember_{i}_{name}": entry[name] for i, entry in enumerate(entries) for name in ENTRY_COLUMNS}


def remembered_once(dbsession, *, issuer: str, kind: str, value, exp, leeway: int, entries: list[dict],
                    remembered: list) -> None:
    """After verification, ``remember_once``'s checks and refusals for a ``value`` the first query
    may have inserted already (``remembered``: the kinds it did insert)."""
    _check(kind, value)
    if not any(entry["kind"] == kind and entry["value"] == value for entry in entries):
        remember_once(dbsession, issuer=issuer, kind=kind, value=value, exp=exp, leeway=leeway)
        return
    if kind not in (remembered or ()):
        raise LtiError(f"this {kind} was used before", code=f"replayed_{kind}")
    mark_written(dbsession)
