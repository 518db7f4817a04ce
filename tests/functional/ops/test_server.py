"""The waitress runner: health checks while every request thread is busy, and a graceful SIGTERM."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from waitress import wasyncore
from waitress.server import create_server

from proctorhub import main
from proctorhub.operations.server import HealthLaneDispatcher

from ... import factories as f
from ...fault_proxy import FaultProxy
from .test_database_faults import TIMEOUTS, attempt_body


def get(port: int, path: str, timeout: float = 10.0, headers=None, method="GET", body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def timed_get(port, path, **kw):
    began = time.monotonic()
    status, body = get(port, path, **kw)
    return status, body, time.monotonic() - began


class served:
    """The app in waitress on a free port, with the health lane, in this process."""

    def __init__(self, app, threads):
        self.dispatcher = HealthLaneDispatcher()
        self.dispatcher.set_thread_count(threads)
        self.server = create_server(app, host="127.0.0.1", port=0, _dispatcher=self.dispatcher)

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        return self.server.effective_port

    def __exit__(self, *exc):
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self.thread.join(timeout=5)
        self.dispatcher.shutdown(timeout=1)


def test_health_checks_are_answered_when_every_thread_is_busy(app):
    release = threading.Event()

    def blocking(environ, start_response):
        if environ["PATH_INFO"] == "/busy":
            release.wait(10)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"done"]
        return app(environ, start_response)

    with served(blocking, threads=2) as port, ThreadPoolExecutor(4) as pool:
        busy = [pool.submit(get, port, "/busy") for _ in range(3)]
        time.sleep(0.3)  # both threads now wait; the third request waits in the queue
        status, body, seconds = timed_get(port, "/healthz", timeout=3)
        assert (status, seconds < 1.5) == (200, True)
        assert b'"ok"' in body
        status, _, seconds = timed_get(port, "/readyz", timeout=3)
        assert status == 200 and seconds < 2
        # An ordinary request does wait for a thread.
        waiting = pool.submit(get, port, "/", 10)
        time.sleep(0.3)
        assert not waiting.done()
        release.set()
        assert [future.result()[0] for future in busy] == [200, 200, 200]
        assert waiting.result()[0] == 200


@pytest.mark.postgresql_only
def test_readyz_says_503_quickly_while_the_database_stalls(base_settings, dbengine, dbsession):
    url = sa.engine.make_url(base_settings["sqlalchemy.url"])
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    application = main({}, **{**base_settings, **TIMEOUTS, "proctorhub.readyz_timeout_seconds": "1",
                              "sqlalchemy.url": url.set(port=proxy.port).render_as_string(hide_password=False)})
    lms = {**f.auth(f.token(dbsession)), "Content-Type": "application/json"}
    try:
        with served(application, threads=2) as port, ThreadPoolExecutor(4) as pool:
            proxy.stall()
            stuck = [pool.submit(get, port, "/api/v1/attempts", 20, lms, "POST",
                                 __import__("json").dumps(attempt_body(n))) for n in (1, 2, 3)]
            time.sleep(0.3)
            status, _, seconds = timed_get(port, "/healthz", timeout=3)
            assert status == 200 and seconds < 1
            status, body, seconds = timed_get(port, "/readyz", timeout=6)
            assert status == 503 and b"database_unavailable" in body and seconds < 4
            assert {future.result()[0] for future in stuck} == {503}
            proxy.restore()
            assert get(port, "/readyz")[0] == 200
    finally:
        application.registry["dbengine"].dispose()
        proxy.close()


SERVER = textwrap.dedent("""
    import sys, time
    from proctorhub.operations.server import serve

    def app(environ, start_response):
        time.sleep(float(environ.get("QUERY_STRING") or 0))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"finished"]

    sys.exit(serve(app, listen="127.0.0.1:0", threads=4, shutdown_timeout=5))
""")


def test_sigterm_lets_requests_in_flight_finish():
    process = subprocess.Popen([sys.executable, "-u", "-c", SERVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
        with ThreadPoolExecutor(3) as pool:
            in_flight = [pool.submit(get, port, "/?1.0") for _ in range(3)]
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            with pytest.raises(OSError):  # no new connections
                get(port, "/", timeout=2)
            assert [future.result() for future in in_flight] == [(200, b"finished")] * 3
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
