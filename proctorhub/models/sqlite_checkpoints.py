"""SQLite's WAL checkpoints, moved off the request path.

In WAL mode a commit appends the pages it changed to the ``-wal`` file, and SQLite copies them
back into the database file (a checkpoint, ending with an fsync) inside whichever commit takes
the WAL past 1000 pages. A review callback changes about twenty pages, so one callback in fifty
paid for the checkpoint of the other forty-nine: milliseconds on a request that otherwise takes
one or two.

Instead one thread per process checkpoints every SQLite database file its engines use, a few
times a second, in ``PASSIVE`` mode, which waits for nobody (readers and the writer go on; a
checkpoint that another process is running is left to it). Its own connection does the work,
and the sqlite3 module lets go of the GIL while SQLite copies and syncs. Request connections
keep SQLite's automatic checkpoint only as a backstop, far beyond what the thread lets the WAL
reach, for a process whose thread could not keep up.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import urllib.parse
import weakref

import sqlalchemy

from .faults import RateLimitedLog

report_failure = RateLimitedLog(logging.getLogger(__name__))

# How often the thread looks; a look with nothing to copy reads the WAL index and returns.
INTERVAL_SECONDS = 0.1
# Pages a request connection lets the WAL reach before it checkpoints itself (SQLite's default
# is 1000): about 40 MB, which the thread never lets the WAL come near.
BACKSTOP_PAGES = 10000


class Checkpointer:
    """The process's checkpoint thread and the database files it keeps checkpointed."""

    def __init__(self):
        self._lock = threading.Lock()
        # Database path -> the engines that use it; a path is dropped with its last engine.
        self._files: dict[str, weakref.WeakSet] = {}
        # Database path -> (the file's inode, a connection to it).
        self._connections: dict[str, tuple[int, sqlite3.Connection]] = {}
        self._thread: threading.Thread | None = None

    def watch(self, engine, path: str) -> None:
        with self._lock:
            self._files.setdefault(path, weakref.WeakSet()).add(engine)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="proctorhub-sqlite-checkpoints",
                                                daemon=True)
                self._thread.start()

    def unwatch(self, engine, path: str) -> None:
        """``engine`` no longer uses ``path`` (it was disposed of); the file is let go with its
        last engine."""
        with self._lock:
            engines = self._files.get(path)
            if engines is not None:
                engines.discard(engine)

    def _run(self) -> None:
        while True:
            time.sleep(INTERVAL_SECONDS)
            with self._lock:
                gone = [path for path, engines in self._files.items() if not engines]
                for path in gone:
                    del self._files[path]
                paths = list(self._files)
            for path in gone:
                self._forget(path)
            for path in paths:
                self.checkpoint(path)

    def _forget(self, path: str) -> None:
        _, connection = self._connections.pop(path, (None, None))
        if connection is not None:
            connection.close()

    def checkpoint(self, path: str) -> None:
        """One PASSIVE checkpoint of ``path``; a failure is logged and tried again next time.

        The connection follows the file: a file removed is not created again, and a new file in
        its place gets a new connection."""
        try:
            inode = os.stat(path).st_ino
        except OSError as error:
            self._forget(path)
            report_failure("SQLite checkpoint of %s skipped (tried again shortly): %s", path, error)
            return
        try:
            known, connection = self._connections.get(path, (None, None))
            if known != inode:
                self._forget(path)
                uri = f"file:{urllib.parse.quote(path)}?mode=rw"
                connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
                self._connections[path] = (inode, connection)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:
            self._forget(path)
            report_failure("SQLite checkpoint of %s failed (tried again shortly): %s", path, error)


_checkpointer = Checkpointer()


def _after_fork() -> None:
    # The thread does not survive a fork and the inherited connections must not be used in the
    # child: it keeps the files its engines use and checkpoints them from a thread of its own.
    files = {path: engines for path, engines in _checkpointer._files.items() if engines}
    fresh = Checkpointer()
    for path, engines in files.items():
        for engine in engines:
            fresh.watch(engine, path)
    globals()["_checkpointer"] = fresh


os.register_at_fork(after_in_child=_after_fork)


def sqlite_file(url) -> str | None:
    """The absolute path of the file behind a SQLite URL; None for an in-memory database (and for
    another database). A ``file:`` URI (``?uri=true``) names its file after the prefix."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if url.query.get("uri") in ("true", "1"):
        if url.query.get("mode") == "memory" or not database.startswith("file:"):
            return None
        database = urllib.parse.unquote(database.removeprefix("file:").split("?", 1)[0])
    if not database or database.startswith((":memory:", "file::memory:")):
        return None
    return os.path.abspath(database)


def checkpoint_in_background(engine) -> bool:
    """Checkpoint ``engine``'s database file from the process's checkpoint thread; True if it
    will (connections then keep SQLite's own checkpoint only as the backstop).

    An engine disposed of stops the checkpoints of its file (which is often removed next: a test's
    or a benchmark's database), and its next connection starts them again."""
    path = sqlite_file(engine.url)
    if path is None:
        return False
    _checkpointer.watch(engine, path)
    # Looked up when called: a fork replaces the process's checkpointer.
    sqlalchemy.event.listen(engine, "engine_disposed", lambda disposed: _checkpointer.unwatch(disposed, path))
    sqlalchemy.event.listen(engine.pool, "connect", lambda *_: _checkpointer.watch(engine, path))
    return True
