"""The worker as people run it: ``proctorhub worker INI``, and embedded in the web process (``make serve``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proctorhub import events
from proctorhub.cli import main
from proctorhub.migrations import upgrade_to_head
from proctorhub.models import get_engine, get_session_factory

from ... import factories as f
from .conftest import JSON, register

ROOT = Path(__file__).parents[3]


@pytest.fixture
def ini(tmp_path, db_url):
    text = (ROOT / "testing.ini").read_text().replace("sqlite:///%(here)s/testing.sqlite", db_url)
    path = tmp_path / "worker.ini"
    path.write_text(text)
    return str(path)


def test_help_says_what_it_does(capsys):
    with pytest.raises(SystemExit) as done:
        main(["worker", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "webhook" in text and "SIGTERM" in text and "--once" in text


def test_worker_once_delivers_what_is_due(ini, testapp, admin, dbsession, receiver, capsys):
    register(testapp, admin, receiver.url)
    events.emit(dbsession, events.EventKind.attempt_control, f.attempt(dbsession), {"action": "pause"})
    dbsession.commit()
    assert main(["worker", ini, "--once"]) == 0
    assert "sent 1 deliveries (1 delivered)" in capsys.readouterr().out
    assert len(receiver.accepted()) == 1


def test_worker_stops_cleanly_on_sigterm(ini):
    command = [str(Path(sys.executable).parent / "proctorhub"), "worker", ini]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=environment)
    try:
        deadline = time.monotonic() + 30
        for line in process.stderr:
            if "running" in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def serve_database(tmp_path, db_kind, db_url, dbengine):
    """SQLite: a database file of its own, as `make serve` has (apart from what other tests' servers
    did to the suite's file); PostgreSQL: the suite's database."""
    if db_kind != "sqlite":
        yield db_url, dbengine
        return
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    engine = get_engine({"sqlalchemy.url": url})
    upgrade_to_head(engine)
    yield url, engine
    engine.dispose()


def test_the_web_process_delivers_with_an_embedded_worker(make_app, serve_database, receiver):
    url, engine = serve_database
    session = get_session_factory(engine)()
    try:
        admin = {**f.auth(f.token(session, role="admin", name="admin")), **JSON}
        app = make_app(**{"sqlalchemy.url": url, "proctorhub.worker.embedded": "true",
                          "proctorhub.worker.poll_seconds": "0.1"})
        try:
            register(app, admin, receiver.url)
            events.emit(session, events.EventKind.attempt_control, f.attempt(session), {"action": "pause"})
            session.commit()
            deadline = time.monotonic() + 15
            while not receiver.accepted() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(receiver.accepted()) == 1
        finally:
            app.app.registry["worker_stop"].set()
    finally:
        session.close()
