"""Spending a single-use record (launch URL, message hint, session data) exactly once.

A conditional UPDATE (``... WHERE used IS NULL``) decides between concurrent requests, even in
different processes: the database lets one of them change the row, and the other sees zero rows
changed and is refused, instead of both reading "unused" and both going on.
"""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, insert, select, update

from ..attempts import lifecycle
from ..models import utcnow
from ..models.dialect import Guard, dialect_of, insert_into, mark_written


def spend_row(dbsession, table, row_id: int, column: str, **also) -> bool:
    """Set the row's ``column`` to now if it is still empty, and the ``also`` columns with it, in one
    statement; whether this request was the one that did."""
    connection = dbsession.connection()
    if dialect_of(connection).count(connection, _spend_guard(table, column, tuple(also), None),
                                    _spend_parameters(row_id, also)) != 1:
        return False
    mark_written(dbsession)
    return True


def spend_then_move(dbsession, table, row_id: int, column: str, *, move: dict | None,
                    new_row: tuple | None = None, **also) -> bool:
    """``spend_row``, then, only if this request spent the row, the attempt's move
    (``lifecycle.plan_move(**move)``, none when ``move`` is None); whether this request spent it.
    The lifecycle check runs first (409 ``invalid_status_change``).

    ``new_row=(new_table, values, spent_column)`` first inserts ``values`` into ``new_table`` and
    sets the spent row's ``spent_column`` to the new row's id. Where the dialect chains writes
    all of it is one statement (one round trip)."""
    planned = lifecycle.plan_move(**move) if move else None
    chained = planned is not None and dialect_of(dbsession).chains_writes
    new_key, new_parameters = None, {}
    if new_row is not None:
        new_table, values, spent_column = new_row
        if chained:
            # Inserted by the statement that spends the row.
            new_key = (new_table, tuple(values), spent_column)
            new_parameters = {f"new_{name}": value for name, value in values.items()}
        else:
            connection = dbsession.connection()
            (inserted,) = dialect_of(connection).run(connection, insert_into(new_table, ("id",)), values)
            also[spent_column] = inserted["id"]
    if planned is None:
        return spend_row(dbsession, table, row_id, column, **also)
    guard = Guard(_spend_guard(table, column, tuple(also), new_key),
                  {**_spend_parameters(row_id, also), **new_parameters})
    return lifecycle.write_move(dbsession, move["attempt_id"], planned, guard=guard)


@functools.cache
def _spend_guard(table, column: str, others: tuple[str, ...], new_key: tuple | None):
    """``UPDATE table SET column = now, others ... WHERE id = :spend_row_id AND column IS NULL``, and
    with ``new_key`` (only where the dialect chains writes) the ``new_row AS (INSERT ...)`` whose
    id it sets. Parameter names are unlike column names: an INSERT's execution takes
    column-named ones as values."""
    values = {column: bindparam("spend_now", type_=table.c[column].type),
              **{name: bindparam(f"spend_{name}", type_=table.c[name].type) for name in others}}
    if new_key is not None:
        new_table, new_columns, spent_column = new_key
        new_row = (
            insert(new_table)
            .values({name: bindparam(f"new_{name}", type_=new_table.c[name].type) for name in new_columns})
            .returning(new_table.c.id).cte("new_row")
        )
        values[spent_column] = select(new_row.c.id).scalar_subquery()
    return update(table).where(table.c.id == bindparam("spend_row_id"), table.c[column].is_(None)).values(values)


def _spend_parameters(row_id: int, also: dict) -> dict:
    return {"spend_row_id": row_id, "spend_now": utcnow(), **{f"spend_{name}": value for name, value in also.items()}}
