"""SQLite's WAL checkpoints in the background (models/sqlite_checkpoints.py), on files of their own."""

from __future__ import annotations

import os
import sqlite3
import time

import sqlalchemy as sa

from proctorhub.models import get_engine, sqlite_checkpoints
from proctorhub.models.sqlite_checkpoints import BACKSTOP_PAGES, Checkpointer, checkpoint_in_background, sqlite_file

ROWS, ROW_BYTES = 400, 8000  # about 3 MB: 800 pages, below SQLite's own threshold of 1000


def write_pages(engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)"))
        connection.execute(sa.text("INSERT INTO filler (body) VALUES (:body)"),
                           [{"body": os.urandom(ROW_BYTES)} for _ in range(ROWS)])


def copied_into_the_file(path, seconds: float = 5) -> bool:
    """Whether the pages ``write_pages`` wrote reach the database file itself within ``seconds``."""
    deadline = time.monotonic() + seconds
    while path.stat().st_size < ROWS * ROW_BYTES and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.stat().st_size >= ROWS * ROW_BYTES


def test_a_file_database_is_checkpointed_by_the_thread_not_by_commits(tmp_path):
    path = tmp_path / "db.sqlite"
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{path}"})
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == BACKSTOP_PAGES
        write_pages(engine)
        # A commit leaves its pages in the WAL; only a checkpoint copies them into the file.
        assert copied_into_the_file(path)
    finally:
        engine.dispose()


def test_a_disposed_engine_lets_its_file_go_until_it_connects_again(tmp_path):
    path = tmp_path / "db.sqlite"
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{path}"})
    watched = sqlite_checkpoints._checkpointer._files
    try:
        with engine.connect():
            pass
        assert engine in watched[str(path)]
        engine.dispose()
        assert engine not in watched.get(str(path), ())
        # Removed now (as a test or a benchmark removes its database), the file is not looked for.
        os.remove(path)
        with engine.connect():
            pass
        assert engine in watched[str(path)]
    finally:
        engine.dispose()


def test_an_in_memory_database_is_left_to_sqlite():
    engine = get_engine({"sqlalchemy.url": "sqlite://"})
    try:
        assert checkpoint_in_background(engine) is False
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
    finally:
        engine.dispose()


def test_a_removed_file_is_not_created_again_and_a_new_one_is_followed(tmp_path):
    path = tmp_path / "db.sqlite"
    checkpointer = Checkpointer()
    first = sqlite3.connect(path)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("CREATE TABLE t (x)")
    first.commit()
    checkpointer.checkpoint(str(path))
    first.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")

    checkpointer.checkpoint(str(path))
    assert not path.exists()

    second = sqlite3.connect(path)
    second.execute("PRAGMA journal_mode=WAL")
    second.execute("PRAGMA wal_autocheckpoint=0")
    second.execute("CREATE TABLE u (x BLOB)")
    second.executemany("INSERT INTO u VALUES (?)", [(os.urandom(4000),) for _ in range(50)])
    second.commit()
    before = path.stat().st_size
    checkpointer.checkpoint(str(path))
    assert path.stat().st_size > before  # the new file's pages were copied in
    second.close()


def test_the_pool_hands_out_the_connection_used_last(tmp_path):
    # Newest first keeps one connection's caches warm at low concurrency (settings: pool_use_lifo).
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    try:
        first, second = engine.raw_connection(), engine.raw_connection()
        used_last = second.driver_connection
        first.close()
        second.close()
        again = engine.raw_connection()
        assert again.driver_connection is used_last
        again.close()
    finally:
        engine.dispose()


def test_the_file_of_a_sqlite_url_in_each_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    file_of = lambda url: sqlite_file(sa.engine.make_url(url))  # noqa: E731
    assert file_of("sqlite:///rel.sqlite") == str(tmp_path / "rel.sqlite")
    assert file_of(f"sqlite:///file:{tmp_path}/uri.sqlite?uri=true") == str(tmp_path / "uri.sqlite")
    assert [file_of(url) for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:mem?mode=memory&uri=true",
                                     "postgresql+psycopg:///x")] == [None, None, None, None]


def test_an_in_memory_database_takes_the_pool_setting_of_the_ini_without_failing():
    # The ini's pool_use_lifo reached SingletonThreadPool, which refuses it: start-up failed.
    engine = get_engine({"sqlalchemy.url": "sqlite://", "sqlalchemy.pool_use_lifo": "true"})
    engine.dispose()


def test_after_a_fork_the_files_are_still_checkpointed(tmp_path):
    path = tmp_path / "db.sqlite"
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{path}"})
    try:
        sqlite_checkpoints._after_fork()  # as the child of a fork runs it
        child = sqlite_checkpoints._checkpointer
        assert str(path) in child._files and child._thread is not None and child._thread.is_alive()
        write_pages(engine)
        assert copied_into_the_file(path)
    finally:
        engine.dispose()
