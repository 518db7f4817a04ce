"""The seam between proctorhub and its databases: every PostgreSQL/SQLite difference, chosen once.

``get_engine`` picks the engine's ``Dialect`` as it builds the engine; code that runs per request
asks ``dialect_of(dbsession)`` (or of a connection) for it and calls its methods, and never reads
a dialect's name. Where a feature writes in one round trip on PostgreSQL (data-modifying CTEs)
and statement by statement elsewhere, both of its forms stay beside the feature, which picks one
by the capability ``chains_writes``.

Core statements are invisible to zope.sqlalchemy, which would end a transaction it saw no write
in with a rollback: ``mark_written`` is the one place that says a transaction wrote outside the
ORM. Statements are built once per shape and kept, so each execution reuses one compiled form.
"""

from __future__ import annotations

import abc
import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import sqlalchemy
import zope.sqlalchemy
from sqlalchemy import (
    Column,
    Index,
    UniqueConstraint,
    Update,
    bindparam,
    exists,
    func,
    insert,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .attempt import Attempt
from .driver import DriverStatement
from .event import Event
from .meta import utcnow
from .sqlite_checkpoints import BACKSTOP_PAGES, checkpoint_in_background
from .sqlite_writers import queue_sqlite_writers

attempt_t = Attempt.__table__
event_t = Event.__table__
EVENT_COLUMNS = ("kind", "attempt_id", "attempt_code", "payload", "created_at")

_chosen: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mark_written(dbsession) -> None:
    """Say that ``dbsession``'s transaction wrote through Core statements the ORM did not see,
    so that the request's transaction commits them."""
    zope.sqlalchemy.mark_changed(dbsession)


@dataclass(frozen=True)
class Guard:
    """The condition a write waits for: an UPDATE whose WHERE holds it (built once, so its
    compiled form is reused) and its parameters. The write happens only if the UPDATE changed a
    row. Where the dialect chains writes the UPDATE runs nested in the write's statement, and
    SQLAlchemy gives a nested statement no column defaults or ``onupdate`` values: the UPDATE sets
    every column it changes. Parameter names must differ from column names (an INSERT's execution
    takes column-named ones as values) and from the ``move_``, ``set_`` and ``event_`` ones of
    ``move_attempt``."""

    statement: Update
    parameters: dict


class Dialect(abc.ABC):
    """What differs between the databases proctorhub runs on. One instance per engine."""

    name: ClassVar[str]
    #: Whether one statement may chain several writes (``WITH a AS (INSERT ... RETURNING ...)
    #: UPDATE ...``), so that a feature's whole write costs one round trip.
    chains_writes: ClassVar[bool]

    def __init__(self):
        self._statements: dict = {}

    @abc.abstractmethod
    def set_up(self, engine) -> None:
        """Tune a new engine for this database (``choose`` calls it once)."""

    @abc.abstractmethod
    def insert(self, table):
        """This database's INSERT into ``table``: one that offers ``on_conflict_do_nothing``."""

    @abc.abstractmethod
    def try_lock(self, session, key: int) -> bool:
        """Take the lock ``key`` until the end of ``session``'s transaction, unless another
        transaction holds it; whether this one has it now. Never waits."""

    def _kept(self, key, build):
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = build()
        return statement

    def conflict_target(self, unique) -> dict:
        """``on_conflict_do_nothing``'s arguments for ``unique``: an ``Index`` (partial or not), a
        ``UniqueConstraint`` or a unique ``Column``."""
        if isinstance(unique, Index):
            return {"index_elements": list(unique.expressions),
                    "index_where": unique.dialect_options[self.name]["where"]}
        if isinstance(unique, UniqueConstraint):
            return {"index_elements": list(unique.columns)}
        if isinstance(unique, Column):
            return {"index_elements": [unique]}
        raise TypeError(f"not a unique index, constraint or column: {unique!r}")

    def insert_if_new_statement(self, table, *, unique, returning: Sequence[str] = ("id",)):
        """``INSERT INTO table ... ON CONFLICT (unique) DO NOTHING RETURNING returning``, built once
        per shape: no row comes back when a row with the same ``unique`` values exists."""
        returning = tuple(returning)
        return self._kept(("insert_if_new", table, unique, returning), lambda: (
            self.insert(table).on_conflict_do_nothing(**self.conflict_target(unique))
            .returning(*(table.c[name] for name in returning))))

    def insert_if_new(self, dbsession, table, values: dict, *, unique, returning: Sequence[str] = ("id",)):
        """Insert ``values`` into ``table`` unless a row with the same ``unique`` values exists,
        in one statement that also decides between concurrent requests: the new row's
        ``returning`` columns (a mapping), or None when the row existed and nothing was written."""
        statement = self.insert_if_new_statement(table, unique=unique, returning=returning)
        rows = self.run(dbsession.connection(), statement, values)
        if not rows:
            return None
        mark_written(dbsession)
        return rows[0]

    def run(self, connection, statement, parameters: dict | list[dict]) -> list[dict]:
        """Run one of a hot path's Core statements (built once): the rows it returns, as dicts
        keyed like ``Result.mappings()`` (none for a statement without rows). A list of parameter
        sets is one executemany (an empty list runs nothing). The statement goes straight to the
        driver (``models.driver``) unless it needs SQLAlchemy's own work; the caller marks a write
        with ``mark_written`` as usual."""
        if isinstance(parameters, list) and not parameters:
            return []
        return self._run(connection, statement, parameters)

    def _run(self, connection, statement, parameters: dict | list[dict]) -> list[dict]:
        names = tuple(parameters[0] if isinstance(parameters, list) else parameters)
        prepared = self._driver_statement(connection, statement, names)
        if prepared is None:  # it needs SQLAlchemy's own work
            result = connection.execute(statement, parameters)
            return [dict(row) for row in result.mappings()] if result.returns_rows else []
        return prepared.run(connection, parameters)

    def rows(self, connection, statement, parameters: dict) -> list[tuple]:
        """``run``, the rows read by attribute (``row.status``) and position, as SQLAlchemy's
        ``Result.all()`` gives them."""
        prepared = self._driver_statement(connection, statement, tuple(parameters))
        if prepared is None:
            return connection.execute(statement, parameters).all()
        return prepared.rows(connection, parameters)

    def first(self, connection, statement, parameters: dict) -> tuple | None:
        """``rows``' first row, or None: for a statement that finds at most one."""
        found = self.rows(connection, statement, parameters)
        return found[0] if found else None

    def count(self, connection, statement, parameters: dict) -> int:
        """``run`` for an UPDATE or DELETE: how many rows it changed."""
        prepared = self._driver_statement(connection, statement, tuple(parameters))
        if prepared is None:
            return connection.execute(statement, parameters).rowcount
        return prepared.count(connection, parameters)

    def _driver_statement(self, connection, statement, names: tuple) -> DriverStatement | None:
        """``statement`` compiled for the driver (``models.driver``), once per statement object and
        parameter names; None when it must run through SQLAlchemy."""
        key = ("driver", statement, names)
        prepared = self._statements.get(key, False)
        if prepared is False:
            prepared = self._statements[key] = DriverStatement.compile(statement, connection.dialect, names)
        return prepared

    def move_attempt(self, dbsession, attempt_id: int, columns: dict, events: Sequence[dict], *,
                     guard: Guard | None = None, at=None) -> bool:
        """Write an attempt's status move through Core (``attempts.lifecycle.write_move`` plans it):
        set ``columns`` on attempt ``attempt_id`` and insert the outbox ``events`` (each with its
        ``kind``, ``attempt_code`` and ``payload``), created ``at`` (default: now). With ``guard``,
        all of it only if the guard's UPDATE changed a row. Without ``columns`` (and guard) only
        the events are written. Whether the move was written."""
        created_at = at or utcnow()
        events = [{**event, "attempt_id": attempt_id, "created_at": created_at} for event in events]
        connection = dbsession.connection()
        if not columns and guard is None:
            self.run(connection, INSERT_EVENT, events)
        elif not self._move_attempt(connection, attempt_id, columns, events, guard):
            return False
        mark_written(dbsession)
        return True

    @abc.abstractmethod
    def _move_attempt(self, connection, attempt_id: int, columns: dict, events: list[dict],
                      guard: Guard | None) -> bool:
        ...


class PostgreSQL(Dialect):
    name = "postgresql"
    chains_writes = True

    def set_up(self, engine) -> None:
        pass  # nothing to tune here: models.timeouts sets its time limits

    def insert(self, table):
        return postgresql.insert(table)

    def try_lock(self, session, key: int) -> bool:
        return bool(session.execute(TRY_ADVISORY_LOCK, {"key": key}).scalar())

    def _move_attempt(self, connection, attempt_id, columns, events, guard) -> bool:
        # One round trip: WITH [guard AS (UPDATE ... RETURNING id),] moved AS (UPDATE attempt ...
        # RETURNING id) INSERT INTO event ... SELECT ... FROM moved.
        statement = self._kept(("move_attempt", tuple(columns), len(events), guard and guard.statement),
                               lambda: self._move_statement(tuple(columns), len(events),
                                                            guard and guard.statement))
        parameters = {"move_attempt_id": attempt_id, **{f"set_{name}": value for name, value in columns.items()},
                      **{f"event_{i}_{name}": event[name] for i, event in enumerate(events)
                         for name in EVENT_COLUMNS if name != "attempt_id"}}
        if guard is None:
            self.run(connection, statement, parameters)
            return True
        (row,) = self.run(connection, statement, {**guard.parameters, **parameters})
        return bool(row["moved"])

    @staticmethod
    def _move_statement(columns: tuple[str, ...], event_count: int, guard_statement):
        moved = update(attempt_t).where(attempt_t.c.id == bindparam("move_attempt_id"))
        guard = None
        if guard_statement is not None:
            guard = guard_statement.returning(guard_statement.table.c.id).cte("guard")
            moved = moved.where(exists(select(guard.c.id)))
        moved = (moved.values({name: bindparam(f"set_{name}", type_=attempt_t.c[name].type) for name in columns})
                 .returning(attempt_t.c.id).cte("moved"))
        rows = [select(*(moved.c.id if name == "attempt_id" else
                         bindparam(f"event_{i}_{name}", type_=event_t.c[name].type) for name in EVENT_COLUMNS))
                .select_from(moved) for i in range(event_count)]
        logged = insert(event_t).from_select(list(EVENT_COLUMNS), rows[0] if event_count == 1 else union_all(*rows))
        if guard is None:
            return logged
        return (select(func.count().label("moved")).select_from(guard)
                .add_cte(moved, logged.returning(event_t.c.id).cte("logged")))


TRY_ADVISORY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")


class SQLite(Dialect):
    name = "sqlite"
    # SQLite has no data-modifying CTEs; in the same process a statement costs little.
    chains_writes = False

    def set_up(self, engine) -> None:
        tune = _tune_sqlite_checkpointed_elsewhere if checkpoint_in_background(engine) else _tune_sqlite
        sqlalchemy.event.listen(engine, "connect", tune)
        queue_sqlite_writers(engine)

    def insert(self, table):
        return sqlite.insert(table)

    def try_lock(self, session, key: int) -> bool:
        return True  # one writer at a time anyway

    def _move_attempt(self, connection, attempt_id, columns, events, guard) -> bool:
        if guard is not None and self.count(connection, guard.statement, guard.parameters) != 1:
            return False
        self.run(connection, UPDATE_ATTEMPT, {"move_attempt_id": attempt_id, **columns})
        self.run(connection, INSERT_EVENT, events)
        return True


# Built once. The attempt's SET clause comes from the execution's parameters.
@functools.cache
def insert_into(table, returning: tuple[str, ...] = ()):
    """``INSERT INTO table`` (``RETURNING`` those columns), built once per table: a hot path's
    statement object is the key of its compiled form (``Dialect.run``)."""
    statement = insert(table)
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


UPDATE_ATTEMPT = update(attempt_t).where(attempt_t.c.id == bindparam("move_attempt_id"))
INSERT_EVENT = insert_into(event_t)


def _tune_sqlite(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; the busy timeout makes concurrent
    # writers (several waitress threads or processes) queue instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _tune_sqlite_checkpointed_elsewhere(dbapi_connection, record):
    """``_tune_sqlite``, for a file that ``sqlite_checkpoints`` checkpoints: SQLite's own
    checkpoint, inside a commit, stays only as the backstop."""
    _tune_sqlite(dbapi_connection, record)
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")


DIALECTS = {dialect.name: dialect for dialect in (PostgreSQL, SQLite)}


def choose(engine) -> Dialect:
    """Pick and set up ``engine``'s dialect (once, as the engine is built); a start-up error for a
    database proctorhub does not support."""
    try:
        kind = DIALECTS[engine.dialect.name]
    except KeyError:
        raise RuntimeError(f"proctorhub runs on {' or '.join(sorted(DIALECTS))}, not {engine.dialect.name} "
                           f"(sqlalchemy.url)") from None
    dialect = _chosen[engine] = kind()
    dialect.set_up(engine)
    return dialect


def dialect_of(db) -> Dialect:
    """The dialect chosen for the engine behind ``db``: a session, a connection or an engine."""
    bind = db.get_bind() if isinstance(db, Session) else db
    try:
        return _chosen[bind.engine]
    except KeyError:
        raise RuntimeError("this engine was not made by proctorhub.models.get_engine, which chooses its "
                           "dialect") from None
