"""Work done outside requests: webhook delivery, email digests, purging expired rows.

``Worker`` (``loop.py``) does one round at a time; ``proctorhub worker INI`` runs it until stopped.
With ``proctorhub.worker.embedded = true`` (development.ini) the web process runs one in a thread,
so ``make serve`` delivers webhooks with no second command.
"""

from __future__ import annotations

import atexit
import logging
import threading

from .loop import RoundResult, Worker  # noqa: F401
from .settings import WorkerSettings, parse_worker_settings  # noqa: F401

log = logging.getLogger(__name__)


def start_embedded(registry) -> threading.Event:
    """Run a worker in a daemon thread of this process; answer the event that stops it."""
    worker = Worker(registry["dbsession_factory"], registry.app_settings, registry.worker_settings,
                    metrics=registry.metrics)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="proctorhub-worker", daemon=True)
    thread.start()

    def finish():
        stop.set()
        thread.join(timeout=registry.worker_settings.timeout_seconds + 5)

    atexit.register(finish)
    registry["worker_stop"] = stop
    return stop


def includeme(config):
    registry = config.registry
    registry.worker_settings = parse_worker_settings(config.get_settings())
    if registry.worker_settings.embedded:
        # Once the configuration is committed (the engine and session factory exist by then).
        config.action(None, lambda: start_embedded(registry), order=1000)
