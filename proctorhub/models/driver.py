"""Hot-path statements handed straight to the SQLite driver.

SQLAlchemy spends about 50 to 100 µs of Python on each Core execution (the compiled-cache lookup,
an execution context, parameter processing, a result object). In the same process SQLite needs a
fraction of that to run the statement, and a review callback runs six of them. A
``DriverStatement`` is compiled once by SQLAlchemy itself (its SQL still comes from the tables),
with the type processors of its parameters and columns looked up once; running it passes the SQL
and the processed values to the sqlite3 cursor and nothing else.

Only ``Dialect.run`` uses this, and only on SQLite. What SQLAlchemy would have done around the
cursor is kept: a write first takes the process's writer queue (``sqlite_writers``), a driver
error is raised as SQLAlchemy's own ``DBAPIError`` subclass (so ``errors.views`` and
``pyramid_retry`` see what they always see), and rows come back as dicts keyed like
``Result.mappings()``. Python-side column defaults are SQLAlchemy's work: a statement that needs
one (an INSERT that leaves such a column out) is not taken (``compile`` answers None) and runs
through SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from .sqlite_writers import writer_queue

_REQUIRED = object()  # a parameter every execution must give


@dataclass(frozen=True)
class DriverStatement:
    sql: str
    #: (name, bind processor or None, the value the statement carries or ``_REQUIRED``), in order.
    parameters: tuple[tuple[str, Callable | None, object], ...]
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
        compiled = statement.compile(dialect=dialect, column_keys=list(parameter_names))
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            return None
        if compiled.positiontup is None:  # a driver with named parameters: not one this is for
            return None
        if any(bind.callable is not None or bind.expanding or bind.literal_execute
               for bind in compiled.binds.values()):
            return None
        parameters = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            parameters.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect),
                               _REQUIRED if bind.required else bind.value))
        # A SELECT's columns, or an INSERT's or UPDATE's RETURNING columns.
        columns = statement.exported_columns if statement.is_select or compiled.effective_returning else {}
        return cls(sql=compiled.string, parameters=tuple(parameters), keys=tuple(columns.keys()),
                   processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                                    for column in columns.values()),
                   writes=bool(compiled.isinsert or compiled.isupdate or compiled.isdelete))

    def values(self, given: dict) -> tuple:
        out = []
        for name, process, default in self.parameters:
            value = given.get(name, default)
            if value is _REQUIRED:
                raise sa_exc.StatementError(f"a value is required for bind parameter {name!r}", self.sql, given, None)
            out.append(value if process is None else process(value))
        return tuple(out)

    def run(self, connection, parameters: dict | list[dict]) -> list[dict]:
        """Execute on ``connection`` (a SQLAlchemy ``Connection`` in a transaction): the rows, as
        dicts; a list of parameter sets runs as one executemany (no rows)."""
        # A RETURNING statement is finished only once its rows are read.
        rows = self._execute(connection, parameters, lambda cursor: cursor.fetchall())
        return [
            {key: (process(value) if process is not None else value)
             for key, process, value in zip(self.keys, self.processors, row, strict=True)}
            for row in rows
        ]

    def count(self, connection, parameters: dict) -> int:
        """Execute an UPDATE or DELETE on ``connection``: how many rows it changed."""
        return self._execute(connection, parameters, lambda cursor: cursor.rowcount)

    def _execute(self, connection, parameters: dict | list[dict], read):
        if self.writes:
            queue = writer_queue(connection.engine)
            if queue is not None:
                queue.enter(connection.info)
        driver = connection.connection.driver_connection
        many = isinstance(parameters, list)
        values = [self.values(p) for p in parameters] if many else self.values(parameters)
        try:
            if many:
                driver.executemany(self.sql, values)
                return []
            return read(driver.execute(self.sql, values))
        except driver_errors(connection) as error:
            raise sa_exc.DBAPIError.instance(self.sql, values, error, driver_errors(connection),
                                             dialect=connection.dialect) from error


def driver_errors(connection) -> type[Exception]:
    return connection.dialect.loaded_dbapi.Error
