"""Hot-path statements handed straight to the database driver.

SQLAlchemy spends 50 to 200 µs of Python on each Core execution (the compiled-cache lookup, an
execution context, parameter processing, a result object, and on psycopg the cursor's column
descriptions). SQLite in the same process needs a fraction of that to run a statement, and a
PostgreSQL round trip on the same host not much more; a review callback runs two to six of them.
A ``DriverStatement`` is compiled once by SQLAlchemy itself (its SQL still comes from the
tables), with the type processors of its parameters and columns looked up once; running it
passes the SQL and the processed values to a driver cursor and nothing else.

Only ``Dialect.run`` and ``Dialect.count`` use this. What SQLAlchemy would have done around the
cursor is kept:

- the cursor is driven through the dialect's ``do_execute``/``do_executemany``, so the time
  limits that ``models.timeouts`` puts on those apply;
- on SQLite a write first takes the process's writer queue (``sqlite_writers``);
- a driver error goes through SQLAlchemy's own handling: it arrives as SQLAlchemy's
  ``DBAPIError`` subclass (what ``errors.views`` and ``pyramid_retry`` always saw), and a
  dropped connection is invalidated, never handed out again;
- rows come back as dicts keyed like ``Result.mappings()``, their values processed as
  SQLAlchemy processes them.

Python-side column defaults are SQLAlchemy's work: a statement that needs one (an INSERT that
leaves such a column out) is not taken (``compile`` answers None) and runs through SQLAlchemy as
usual; so does a ``text()`` statement that does not declare its columns.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import TextClause

from .sqlite_writers import writer_queue

_REQUIRED = object()  # a parameter every execution must give


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    #: (name, bind processor or None, the value the statement carries or ``_REQUIRED``), in order.
    parameters: tuple[tuple[str, Callable | None, object], ...]
    #: Whether the driver takes the values by name (a dict) rather than in order (a tuple).
    named: bool
    #: The result's keys and each column's result processor (empty for no rows).
    keys: tuple[str, ...]
    processors: tuple[Callable | None, ...]
    writes: bool

    @classmethod
    def compile(cls, statement, dialect, parameter_names: Sequence[str]) -> DriverStatement | None:
        """``statement`` compiled for ``dialect``, executions giving values for
        ``parameter_names`` (the columns an INSERT or UPDATE sets); None if an execution would
        need SQLAlchemy's own work: a Python-side column default, a computed parameter, an
        ``IN`` list (expanded at each execution)."""
        if isinstance(statement, TextClause):  # its rows would have no names
            return None
        # A copy is compiled: reading what an UPDATE returns memoizes it on the statement, and
        # SQLAlchemy's generative copies keep that memo, so a later ``statement.returning(...)``
        # (a Guard nested in a CTE) would return nothing.
        statement = statement.execution_options()
        compiled = statement.compile(dialect=dialect, column_keys=list(parameter_names))
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            return None
        if compiled.escaped_bind_names:  # names the driver spells differently
            return None
        if any(bind.callable is not None or bind.expanding or bind.literal_execute
               for bind in compiled.binds.values()):
            return None
        named = compiled.positiontup is None
        if named and dialect.paramstyle != "pyformat":  # the only named style read here (psycopg's)
            return None
        # By name: those the SQL names (the compiler also keeps binds it rendered under another name).
        names = ([name for name in compiled.binds if f"%({name})s" in compiled.string] if named
                 else compiled.positiontup)
        parameters = []
        for name in names:
            bind = compiled.binds[name]
            parameters.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect),
                               _REQUIRED if bind.required else bind.value))
        # A SELECT's columns, or an INSERT's or UPDATE's RETURNING columns.
        columns = statement.exported_columns if statement.is_select or compiled.effective_returning else {}
        return cls(sql=compiled.string, parameters=tuple(parameters), named=named, keys=tuple(columns.keys()),
                   processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                                    for column in columns.values()),
                   writes=bool(compiled.isinsert or compiled.isupdate or compiled.isdelete))

    def values(self, given: dict) -> tuple | dict:
        out = []
        for name, process, default in self.parameters:
            value = given.get(name, default)
            if value is _REQUIRED:
                raise sa_exc.StatementError(f"a value is required for bind parameter {name!r}", self.sql, given, None)
            out.append(value if process is None else process(value))
        if self.named:
            return {name: value for (name, _, _), value in zip(self.parameters, out, strict=True)}
        return tuple(out)

    def run(self, connection, parameters: dict | list[dict]) -> list[dict]:
        """Execute on ``connection`` (a SQLAlchemy ``Connection`` in a transaction): the rows, as
        dicts; a list of parameter sets runs as one executemany (no rows)."""
        return [dict(zip(self.keys, values, strict=True)) for values in self._fetch(connection, parameters)]

    def rows(self, connection, parameters: dict) -> list[tuple]:
        """``run``, the rows as named tuples (read by attribute, as SQLAlchemy's ``Row``)."""
        return [self.row_type._make(values) for values in self._fetch(connection, parameters)]

    @functools.cached_property
    def row_type(self) -> type:
        return collections.namedtuple("Row", self.keys)

    def _fetch(self, connection, parameters: dict | list[dict]):
        # A RETURNING statement is finished only once its rows are read.
        rows = self._execute(connection, parameters, lambda cursor: cursor.fetchall() if self.keys else [])
        processors = self.processors
        if not any(processors):
            return rows
        return [tuple(value if process is None else process(value)
                      for process, value in zip(processors, row, strict=True)) for row in rows]

    def count(self, connection, parameters: dict) -> int:
        """Execute an UPDATE or DELETE on ``connection``: how many rows it changed."""
        return self._execute(connection, parameters, lambda cursor: cursor.rowcount)

    def _execute(self, connection, parameters: dict | list[dict], read):
        if self.writes:
            queue = writer_queue(connection.engine)
            if queue is not None:
                queue.enter(connection.info)
        dialect = connection.dialect
        many = isinstance(parameters, list)
        values = [self.values(p) for p in parameters] if many else self.values(parameters)
        cursor = connection.connection.driver_connection.cursor()
        try:
            if many:
                dialect.do_executemany(cursor, self.sql, values, None)
                return []
            dialect.do_execute(cursor, self.sql, values, None)
            return read(cursor)
        except driver_errors(connection) as error:
            # SQLAlchemy's own handling: its exception class, and a dropped connection invalidated.
            connection._handle_dbapi_exception(error, self.sql, values, cursor, None)
            raise  # not reached: the line above raises
        finally:
            cursor.close()


def driver_errors(connection) -> type[Exception]:
    return connection.dialect.loaded_dbapi.Error
