"""Time limits on every conversation with PostgreSQL, so a stalled database costs seconds, not threads.

Three layers, each for a different fault:

- ``connect_timeout`` (libpq): a database that does not accept or finish a connection;
- ``statement_timeout`` and ``lock_timeout`` (the server's own settings, sent when connecting): a
  database that answers, but too slowly, or a row lock held by another transaction;
- a watchdog on the client: a network or server that stops answering altogether (the server's
  own timers cannot help when its answers never arrive). A call to the database (a statement,
  COMMIT, ROLLBACK, the pool's pre-ping) still waiting a little after ``statement_timeout`` has
  its socket shut down; psycopg then raises a disconnect error, SQLAlchemy discards the
  connection, and the request is answered 503 ``database_unavailable``.

SQLite has no network to stall; it keeps its busy timeout (``models.dialect._tune_sqlite``).
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time

from ..settings import DatabaseSettings
from .faults import RateLimitedLog
from .sqlite_checkpoints import sqlite_file

report_cut = RateLimitedLog(logging.getLogger(__name__))

# How long past statement_timeout the watchdog waits: long enough for the server's own
# cancellation to arrive first when the server is merely slow.
GRACE_SECONDS = 1.0
# How often the watchdog looks at the calls under way.
TICK_SECONDS = 0.1


def postgresql_connect_args(database: DatabaseSettings) -> dict:
    """libpq parameters: the connect timeout, and the server-side timers for every session."""
    options = (f"-c statement_timeout={int(database.statement_timeout * 1000)} "
               f"-c lock_timeout={int(database.lock_timeout * 1000)}")
    # libpq reads connect_timeout in whole seconds, and treats 1 as 2.
    return {"connect_timeout": max(2, round(database.connect_timeout)), "options": options}


class Watchdog:
    """Shuts down the socket of a database call that outlives its deadline.

    One thread per process serves every engine; it starts with the first watched call. A
    watched call costs a lock, a clock read and a dict entry.
    """

    def __init__(self):
        self._calls: dict[int, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def begin(self, dbapi_connection, limit: float) -> int:
        token = next(self._ids)
        with self._lock:
            self._calls[token] = (time.monotonic() + limit, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="proctorhub-db-watchdog", daemon=True)
                self._thread.start()
        return token

    def end(self, token: int) -> None:
        with self._lock:
            self._calls.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            now = time.monotonic()
            with self._lock:
                overdue = [token for token, (deadline, _) in self._calls.items() if deadline <= now]
                connections = [self._calls.pop(token)[1] for token in overdue]
            for connection in connections:
                cut(connection)


def cut(dbapi_connection) -> None:
    """Shut down a psycopg connection's socket: the call blocked on it fails as a disconnect."""
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # already closed: nothing waits on it
        return
    try:
        # A second descriptor for the same socket: shutting it down wakes the blocked call;
        # closing it leaves psycopg's own descriptor for psycopg to close.
        with socket.socket(fileno=os.dup(fd)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        return
    report_cut("a database call took longer than its time limit; its connection was closed")


watchdog = Watchdog()


def watch_dialect(dialect, limit: float) -> None:
    """Put every blocking call the dialect makes on a connection under the watchdog.

    The dialect object belongs to one engine, so wrapping its methods changes that engine only.
    """

    def watched(method, connection_of):
        def call(first, *args, **kwargs):
            token = watchdog.begin(connection_of(first), limit)
            try:
                return method(first, *args, **kwargs)
            finally:
                watchdog.end(token)

        return call

    def of_cursor(cursor):
        return cursor.connection

    def of_connection(connection):
        return connection

    for name in ("do_execute", "do_execute_no_params", "do_executemany"):
        setattr(dialect, name, watched(getattr(dialect, name), of_cursor))
    for name in ("do_commit", "do_rollback", "do_ping"):
        setattr(dialect, name, watched(getattr(dialect, name), of_connection))


# Options only a pool that queues its connections takes (create_engine refuses them otherwise).
QUEUE_OPTIONS = ("pool_use_lifo", "pool_timeout")


def engine_options(url, database: DatabaseSettings, *, queued: bool = True) -> dict:
    """Keyword arguments for ``create_engine`` that put the time limits in place; ``queued``
    False for an engine whose pool keeps no connections (the readiness check's NullPool)."""
    options = {"pool_pre_ping": database.pool_pre_ping}
    postgresql = url.get_backend_name() == "postgresql"
    if postgresql:
        options["connect_args"] = postgresql_connect_args(database)
        options["pool_timeout"] = database.pool_timeout
    # An in-memory SQLite database has one connection per thread, no queue.
    if queued and (postgresql or sqlite_file(url) is not None):
        options["pool_use_lifo"] = database.pool_use_lifo
    else:
        for name in QUEUE_OPTIONS:
            options.pop(name, None)
    return options


def install(engine, database: DatabaseSettings) -> None:
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        watch_dialect(engine.dialect, database.statement_timeout + GRACE_SECONDS)
