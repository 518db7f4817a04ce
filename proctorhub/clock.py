"""The application's clock: one per registry, so that time-dependent answers (the attempt's
time ledger, ACS pauses) can be read and tested at fixed moments without sleeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .models.meta import utcnow


class Clock:
    """``now()`` is aware UTC. Tests replace ``registry.clock`` with ``Clock(lambda: moment)``."""

    def __init__(self, source: Callable[[], dt.datetime] = utcnow):
        self._source = source

    def now(self) -> dt.datetime:
        return self._source()


def includeme(config):
    config.registry.clock = Clock()
    # Read once per request, so every step of one request sees the same moment.
    config.add_request_method(lambda request: request.registry.clock.now(), "now", reify=True)
