"""The attempt a vendor callback is about, read in one query without the ORM.

The callback is the hot path: one joined SELECT gives everything the checks, the decision and
the answer need, as plain frozen values that ``attempts.serialize`` renders like ORM rows.
"""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, exists, select

from ..attempts.facts import FACTS_QUERY, AttemptFacts, facts_of
from ..attempts.service import unknown_attempt
from ..lti.replay import remembering_cte, remembering_parameters
from ..models import Attempt
from ..models.dialect import dialect_of, mark_written
from .replay import remember_signed_message

# The callback's target: the attempt with this code.
TARGET_QUERY = FACTS_QUERY.where(Attempt.__table__.c.attempt_code == bindparam("code"))


@functools.cache
def target_remembering_query(dialect):
    """Where the dialect chains writes: the same read, writing a signed message to the replay
    ledger in the same round trip (column ``remembered``: it was new)."""
    return TARGET_QUERY.add_columns(exists(select(remembering_cte(dialect, 1).c.kind)).label("remembered"))


def load_review_target(dbsession, attempt_code: str, *, remember: dict | None = None) -> tuple[AttemptFacts, bool]:
    """The attempt with this code, live or archived (404 ``unknown_attempt`` otherwise), and
    whether the signed message's ledger entry ``remember`` (``replay.ledger_entry``) was new:
    False for a replay. Without an entry (an unsigned callback) that is True."""
    connection = dbsession.connection()
    dialect = dialect_of(connection)
    fresh = True
    if remember is None:
        row = _one_or_none(dialect.run(connection, TARGET_QUERY, {"code": attempt_code}))
    elif dialect.chains_writes:
        row = _one_or_none(dialect.run(connection, target_remembering_query(dialect),
                                       {"code": attempt_code, **remembering_parameters([remember])}))
        mark_written(dbsession)
        fresh = row is not None and row["remembered"]
    else:
        fresh = remember_signed_message(dbsession, remember)
        row = _one_or_none(dialect.run(connection, TARGET_QUERY, {"code": attempt_code}))
    if row is None:
        raise unknown_attempt(attempt_code)
    return facts_of(row), fresh


def _one_or_none(rows: list[dict]) -> dict | None:
    return rows[0] if rows else None  # attempt codes are unique
