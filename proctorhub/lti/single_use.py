"""Spending a single-use record (launch URL, message hint, session data) exactly once.

A conditional UPDATE (``... WHERE used IS NULL``) decides between concurrent requests, even in
different processes: the database lets one of them change the row, and the other sees zero rows
changed and is refused, instead of both reading "unused" and both going on.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from ..models import utcnow


def spend(dbsession, row, column: str, **also) -> bool:
    """Set ``row.<column>`` to now if it is still empty, and the ``also`` columns with it, in one
    statement; whether this request was the one that did."""
    model = type(row)
    values = {column: utcnow(), **also}
    result = dbsession.execute(
        update(model).where(model.id == row.id, getattr(model, column).is_(None)).values(values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True
