"""Serve one WSGI app with waitress, for the benchmark's server subprocess.

``python -m bench.serve APP_FACTORY THREADS`` reads the app's settings as a JSON object on
standard input, builds the app with ``APP_FACTORY`` (``module:callable``, a
``paste.app_factory``), listens on a free port of 127.0.0.1 and prints that port on one line
before serving. The parent stops it with SIGTERM. The access log goes nowhere unless
``BENCH_ACCESS_LOG`` names a file (to compare the server's own latency with the client's).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys

import waitress


def load_factory(spec: str):
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def main(argv: list[str]) -> int:
    factory_spec, threads = argv[0], int(argv[1])
    settings = json.load(sys.stdin)
    # Request logging would cost time the benchmark is measuring; warnings still show.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)-5.5s [%(name)s] %(message)s")
    # Under load waitress warns each time a request waits for a free thread: expected here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # The access log is on, as in production, and formatted as production formats it; the lines
    # go nowhere, so the terminal's speed is not measured.
    access = logging.getLogger("proctorhub.access")
    access.setLevel(logging.INFO)
    access.propagate = False
    sink = logging.StreamHandler(open(os.environ.get("BENCH_ACCESS_LOG", os.devnull), "w"))  # noqa: SIM115 - lives as long as the process
    sink.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5.5s [%(name)s:%(lineno)s][%(threadName)s] "
                                        "%(message)s"))
    access.addHandler(sink)
    app = load_factory(factory_spec)({}, **settings)
    # Port 0: the kernel picks a free port, so nothing can take it between choosing and binding.
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.effective_port, flush=True)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
