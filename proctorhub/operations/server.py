"""Serving proctorhub with waitress: health checks that never queue, and a graceful SIGTERM.

Use it from the ini file (development.ini and production.ini do)::

    [server:main]
    use = egg:proctorhub#main
    listen = 0.0.0.0:6543
    threads = 8
    shutdown_timeout = 30

Every waitress option is accepted as waitress takes it; ``shutdown_timeout`` (seconds) is ours.

- ``GET /healthz`` and ``GET /readyz`` do not wait for a request thread: they are served on a
  thread of their own (at most ``HEALTH_THREADS`` at once), so a load balancer still gets an
  answer when every request thread is stuck on a slow database.
- On SIGTERM (and SIGINT) the process stops accepting connections, lets the requests already
  received finish and their answers be sent (for at most ``shutdown_timeout`` seconds), closes
  the idle connections, and exits with status 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ThreadedTaskDispatcher

from .health import HEALTH_PATHS
from .metrics import serve_dispatcher

log = logging.getLogger(__name__)

HEALTH_THREADS = 4


class HealthLaneDispatcher(ThreadedTaskDispatcher):
    """Waitress's dispatcher, except that health checks skip the queue."""

    def __init__(self):
        super().__init__()
        self._health_slots = threading.BoundedSemaphore(HEALTH_THREADS)

    def add_task(self, task):
        requests = getattr(task, "requests", None)
        if requests and getattr(requests[0], "path", None) in HEALTH_PATHS and self._health_slots.acquire(False):
            threading.Thread(target=self._serve_health, args=(task,), name="proctorhub-health", daemon=True).start()
            return
        super().add_task(task)

    def _serve_health(self, task):
        try:
            task.service()
        except BaseException:
            self.logger.exception("Exception when servicing %r", task)
        finally:
            self._health_slots.release()

    def busy(self) -> bool:
        with self.lock:
            return bool(self.queue) or self.active_count > 0


def _socket_map(server) -> dict:
    return getattr(server, "map", None) or server._map


def _stop_accepting(socket_map: dict) -> None:
    for dispatcher in list(socket_map.values()):
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.accepting = False
            # The listening socket only: the server's own close() would close the trigger too,
            # which the drain still needs to reach this thread.
            wasyncore.dispatcher.close(dispatcher)


def _requests_in_flight(socket_map: dict) -> bool:
    for dispatcher in list(socket_map.values()):
        if isinstance(dispatcher, HTTPChannel) and (dispatcher.requests or dispatcher.total_outbufs_len):
            return True
    return False


def _listening(server) -> list[tuple[str, int]]:
    if hasattr(server, "effective_listen"):  # several listen addresses
        return [(host, port) for host, port in server.effective_listen]
    return [(server.effective_host, server.effective_port)]


class GracefulStop:
    """What SIGTERM sets off: stop accepting, drain, close."""

    def __init__(self, server, dispatcher: HealthLaneDispatcher, timeout: float):
        self.server = server
        self.dispatcher = dispatcher
        self.timeout = timeout
        self.started = threading.Event()

    def __call__(self, signum=None, _frame=None):
        if self.started.is_set():
            return
        self.started.set()
        log.warning("stopping: no new connections; finishing the requests in flight (at most %s s)", self.timeout)
        threading.Thread(target=self._drain, name="proctorhub-drain", daemon=True).start()

    def _drain(self):
        socket_map = _socket_map(self.server)
        # Sockets belong to the loop's thread: it closes them (see tests/live.py).
        self.server.trigger.pull_trigger(lambda: _stop_accepting(socket_map))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and (self.dispatcher.busy() or _requests_in_flight(socket_map)):
            time.sleep(0.05)
        if _requests_in_flight(socket_map):
            log.warning("stopping with requests still in flight after %s s", self.timeout)
        # With no socket left in its map, waitress's loop returns.
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(socket_map))


def serve(app, **kw):
    """Serve ``app`` until SIGTERM or SIGINT; returns once stopped."""
    timeout = float(kw.pop("shutdown_timeout", 30))
    threads = int(kw.get("threads", 4))
    dispatcher = HealthLaneDispatcher()
    dispatcher.set_thread_count(threads)
    server = create_server(app, _dispatcher=dispatcher, **kw)
    serve_dispatcher(dispatcher)
    stop = GracefulStop(server, dispatcher, timeout)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for host, port in _listening(server):
        print(f"Serving on http://{host}:{port}", flush=True)
    try:
        server.run()
    finally:
        dispatcher.shutdown(cancel_pending=True, timeout=1)
    return 0


def serve_paste(app, global_conf, **kw):
    """The ``paste.server_runner`` (``use = egg:proctorhub#main``)."""
    return serve(app, **kw)
