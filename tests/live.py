"""Serving a WSGI app with waitress on a free loopback port, for tests that need real HTTP."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from waitress import wasyncore
from waitress.server import create_server


@contextmanager
def serve(app, threads: int = 8):
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Sockets are closed by the loop's own thread (closing them from here, while it polls
        # them, makes it fail on a closed descriptor); with none left, its loop ends.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            # The trigger's descriptor is gone already (seen on a loaded machine: EBADF): the loop
            # is over, so nothing polls the sockets any more and they are closed from here.
            wasyncore.close_all(server._map)
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()
