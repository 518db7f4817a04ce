"""SQLite takes one writer at a time: let a process's threads queue for it on a lock.

Left to itself, a SQLite connection that finds the database locked sleeps and retries
(1, 2, 5, 10 ... 100 ms), so with several waitress threads writing, a request can sleep far
longer than the write it waited for. Threads of one process instead wait on a lock taken at
their transaction's first write and given back at its commit or rollback; other processes
still meet SQLite's own lock and busy timeout.
"""

from __future__ import annotations

import threading

import sqlalchemy

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
HOLDS = "proctorhub.sqlite_writer"


class WriterQueue:
    def __init__(self):
        self._lock = threading.Lock()
        self._owner: int | None = None

    def before_execute(self, connection, _cursor, statement, *_args):
        info = connection.info
        if info.get(HOLDS) or not statement.lstrip()[:7].upper().startswith(WRITES):
            return
        if self._owner == threading.get_ident():
            # This thread already writes through another connection: taking the lock again
            # would wait on itself. SQLite's own lock decides between the two.
            return
        self._lock.acquire()
        self._owner = threading.get_ident()
        info[HOLDS] = True

    def release(self, info) -> None:
        if info.pop(HOLDS, False):
            self._owner = None
            self._lock.release()

    def on_transaction_end(self, connection):
        self.release(connection.info)

    def on_pool_return(self, _dbapi_connection, record, *_args):
        self.release(record.info)


def queue_sqlite_writers(engine) -> None:
    queue = WriterQueue()
    sqlalchemy.event.listen(engine, "before_cursor_execute", queue.before_execute)
    sqlalchemy.event.listen(engine, "commit", queue.on_transaction_end)
    sqlalchemy.event.listen(engine, "rollback", queue.on_transaction_end)
    # A connection dropped or invalidated mid-transaction must not keep the lock.
    sqlalchemy.event.listen(engine.pool, "checkin", queue.on_pool_return)
    sqlalchemy.event.listen(engine.pool, "invalidate", queue.on_pool_return)
