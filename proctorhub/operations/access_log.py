"""One access-log line per request, with its request id; the request metrics.

The request id is the client's ``X-Request-Id`` when it is a sensible token (up to 128 letters,
digits and ``-._:``), otherwise a new random one; the answer echoes it in ``X-Request-Id`` and
``request.request_id`` holds it. The line goes to the ``proctorhub.access`` logger at INFO:

    <request id> <method> <path> <route> <status> <milliseconds>ms

with the same fields in ``extra`` for the JSON formatter (``operations.logs``). The health
routes are counted in the metrics but not logged: a load balancer asks every few seconds.

A request that pyramid_retry runs again (a lost race) is logged and counted once, for the
attempt whose answer the client gets.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time

from pyramid.tweens import INGRESS
from pyramid_retry import is_error_retryable, is_last_attempt

log = logging.getLogger("proctorhub.access")

REQUEST_ID = "proctorhub.request_id"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNLOGGED_ROUTES = frozenset({"ops.healthz", "ops.readyz"})


class _RequestIds:
    """New request ids: 32 hex digits, a random half drawn once per process and a counter. Ids
    need to be unique, not secret, and drawing 16 random bytes per request costs a system call."""

    def __init__(self):
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_ids = _RequestIds()


def _after_fork() -> None:
    # A forked child must not repeat its parent's ids.
    global _ids
    _ids = _RequestIds()


os.register_at_fork(after_in_child=_after_fork)


def request_id_for(environ) -> str:
    if REQUEST_ID not in environ:
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        environ[REQUEST_ID] = offered if _ACCEPTABLE_ID.fullmatch(offered) else _ids.new()
    return environ[REQUEST_ID]


def _will_be_retried(request) -> bool:
    exc = getattr(request, "exception", None)
    return exc is not None and not is_last_attempt(request) and is_error_retryable(request, exc)


def access_log_tween_factory(handler, registry):
    metrics = registry.metrics

    def access_log_tween(request):
        began = time.perf_counter()
        request_id = request_id_for(request.environ)
        status = 500
        try:
            response = handler(request)
            status = response.status_int
            response.headers["X-Request-Id"] = request_id
            return response
        finally:
            if not _will_be_retried(request):
                seconds = time.perf_counter() - began
                route = request.matched_route.name if request.matched_route is not None else "(none)"
                metrics.observe(route, request.method, status, seconds)
                if route not in UNLOGGED_ROUTES and log.isEnabledFor(logging.INFO):
                    path = request.environ.get("PATH_INFO", "")
                    milliseconds = round(seconds * 1000, 1)
                    log.info("%s %s %s %s %d %.1fms", request_id, request.method, path, route, status, milliseconds,
                             extra={"request_id": request_id, "method": request.method, "path": path,
                                    "route": route, "status": status, "duration_ms": milliseconds})

    return access_log_tween


def includeme(config):
    config.add_request_method(lambda request: request_id_for(request.environ), "request_id", reify=True)
    # Outermost: it times and logs everything the other tweens do, the transaction's commit included.
    config.add_tween("proctorhub.operations.access_log.access_log_tween_factory", under=INGRESS)
