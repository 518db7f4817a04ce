"""Catching statements SQLAlchemy cannot cache.

SQLAlchemy compiles a statement once and reuses the compiled form by the statement's shape; a
statement it cannot key (a multi-row VALUES, for one) is compiled again on every execution. On
a hot path that costs more than the database's own work, and nothing else notices it.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats


@contextmanager
def statements_compiled_every_time(engine):
    """Collects, while open, the SQL of every statement executed on ``engine`` that SQLAlchemy
    had no cache key for."""
    found: list[str] = []

    def note(_connection, _cursor, statement, _parameters, context, _many):
        if context.compiled is not None and context.cache_hit is CacheStats.NO_CACHE_KEY:
            found.append(statement)

    event.listen(engine, "after_cursor_execute", note)
    try:
        yield found
    finally:
        event.remove(engine, "after_cursor_execute", note)
