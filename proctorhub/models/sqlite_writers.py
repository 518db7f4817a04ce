"""SQLite takes one writer at a time: let a process's threads queue for it on a lock.

Left to itself, a SQLite connection that finds the database locked sleeps and retries
(1, 2, 5, 10 ... 100 ms), so with several waitress threads writing, a request can sleep far
longer than the write it waited for. Threads of one process instead wait on a lock taken at
their transaction's first write and given back when the transaction is over; other processes
still meet SQLite's own lock and busy timeout.
"""

from __future__ import annotations

import threading
import weakref

import sqlalchemy

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
HOLDS = "proctorhub.sqlite_writer"


class WriterQueue:
    def __init__(self):
        self.lock = threading.Lock()
        self._owner: int | None = None

    def before_execute(self, connection, _cursor, statement, *_args):
        if statement.lstrip()[:7].upper().startswith(WRITES):
            self.enter(connection.info)

    def enter(self, info) -> None:
        """Wait for this process's turn to write, unless the connection (its ``info``) has it."""
        if info.get(HOLDS):
            return
        if self._owner == threading.get_ident():
            # This thread already writes through another connection: taking the lock again
            # would wait on itself. SQLite's own lock decides between the two.
            return
        self.lock.acquire()
        self._owner = threading.get_ident()
        info[HOLDS] = True

    def release(self, info) -> None:
        if info.pop(HOLDS, False):
            self._owner = None
            self.lock.release()

    def on_checkin(self, _dbapi_connection, record):
        self.release(record.info)

    def on_invalidate(self, _dbapi_connection, record, _exception):
        self.release(record.info)


_queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def writer_queue(engine) -> WriterQueue | None:
    return _queues.get(engine)


def queue_sqlite_writers(engine) -> None:
    queue = _queues[engine] = WriterQueue()
    sqlalchemy.event.listen(engine, "before_cursor_execute", queue.before_execute)
    # Given back when the connection goes back to the pool, which is after its COMMIT has
    # finished (SQLAlchemy's commit event comes before it: a writer let in then would meet
    # SQLite's lock, and its sleeps, while the commit and any WAL checkpoint still run).
    sqlalchemy.event.listen(engine.pool, "checkin", queue.on_checkin)
    # A connection dropped or invalidated mid-transaction must not keep the lock.
    sqlalchemy.event.listen(engine.pool, "invalidate", queue.on_invalidate)
