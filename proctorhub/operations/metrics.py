"""``GET /metrics``: Prometheus text format, for this process.

What is measured:

- ``proctorhub_http_requests_total{route, method, status}`` and
  ``proctorhub_http_request_duration_seconds{route}`` (a histogram), by the access-log tween;
- ``proctorhub_db_pool_checked_out``, ``proctorhub_db_pool_overflow`` and
  ``proctorhub_db_pool_size``, read from the engine's pool at each scrape;
- ``proctorhub_waitress_queue_depth`` and ``proctorhub_waitress_threads_busy`` when the process
  is served by ``proctorhub.operations.server`` (``[server:main] use = egg:proctorhub#main``);
- the webhook deliveries: ``proctorhub_webhook_deliveries_pending``,
  ``proctorhub_webhook_delivery_lag_seconds`` and ``proctorhub_webhook_deliveries_total{outcome}``.

Each app has its own ``Metrics`` (``request.registry.metrics``), so apps in one process (the test
suite builds many) never share a series. Every waitress process is scraped on its own.

Feeding it from another feature (the webhook deliveries, for example)::

    metrics = config.registry.metrics
    # a value this process knows as it happens:
    metrics.deliveries.labels(outcome="delivered").inc()
    # a value the database knows, read when Prometheus scrapes (keep the query short: it
    # runs inside GET /metrics):
    metrics.add_scrape_hook(lambda: metrics.deliveries_pending.set(count_pending()))
    # a gauge of your own:
    metrics.gauge("proctorhub_digest_emails_pending", "Digest emails waiting to be sent").set(3)

A scrape hook that raises is logged once per interval and skipped; the others still run.
"""

from __future__ import annotations

import hmac
import logging
import threading

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..errors import Unauthenticated
from ..models.faults import RateLimitedLog

log = logging.getLogger(__name__)
report_hook_failure = RateLimitedLog(log, interval=60)

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# The waitress dispatcher serving this process, when proctorhub.operations.server serves it.
_waitress = {"dispatcher": None}


def serve_dispatcher(dispatcher) -> None:
    _waitress["dispatcher"] = dispatcher


class PoolCollector:
    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        pool = self.engine.pool
        for name, doc, read in (
            ("proctorhub_db_pool_checked_out", "Database connections in use by requests", "checkedout"),
            ("proctorhub_db_pool_overflow", "Connections opened beyond the pool's size (negative: room left)",
             "overflow"),
            ("proctorhub_db_pool_size", "The pool's configured size", "size"),
        ):
            reader = getattr(pool, read, None)
            if callable(reader):
                yield GaugeMetricFamily(name, doc, value=reader())


class WaitressCollector:
    def collect(self):
        dispatcher = _waitress["dispatcher"]
        if dispatcher is None:
            return
        yield GaugeMetricFamily("proctorhub_waitress_queue_depth", "Requests waiting for a free waitress thread",
                                value=len(dispatcher.queue))
        yield GaugeMetricFamily("proctorhub_waitress_threads_busy", "Waitress threads serving a request",
                                value=max(0, dispatcher.active_count))


class Metrics:
    def __init__(self, engine=None):
        self.registry = CollectorRegistry()
        self.requests = Counter("proctorhub_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("proctorhub_http_request_duration_seconds", "Time to answer a request",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.deliveries_pending = Gauge("proctorhub_webhook_deliveries_pending",
                                        "Webhook deliveries due and not yet delivered", registry=self.registry)
        self.delivery_lag = Gauge("proctorhub_webhook_delivery_lag_seconds",
                                  "How long the oldest pending webhook delivery has been due", registry=self.registry)
        self.deliveries = Counter("proctorhub_webhook_deliveries", "Webhook delivery attempts, by outcome",
                                  ["outcome"], registry=self.registry)
        if engine is not None:
            self.registry.register(PoolCollector(engine))
        self.registry.register(WaitressCollector())
        self._gauges: dict[str, Gauge] = {}
        self._hooks: list = []
        self._lock = threading.Lock()
        # (route, method, status) -> the request counter's and latency histogram's children.
        self._series: dict[tuple, tuple] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        # Any client can send any method name: only the standard ones become series of their own.
        method = method if method in STANDARD_METHODS else "other"
        series = self._series.get((route, method, status))
        if series is None:  # labels() checks and locks; its answer is the same child every time
            series = self._series[route, method, status] = (self.requests.labels(route, method, str(status)),
                                                            self.latency.labels(route))
        series[0].inc()
        series[1].observe(seconds)

    def gauge(self, name: str, documentation: str, labelnames=()) -> Gauge:
        """A gauge in this app's registry, made on first use and the same object after."""
        with self._lock:
            if name not in self._gauges:
                self._gauges[name] = Gauge(name, documentation, list(labelnames), registry=self.registry)
            return self._gauges[name]

    def add_scrape_hook(self, hook) -> None:
        """``hook()`` runs at each scrape, before the values are read: set gauges from it."""
        self._hooks.append(hook)

    def render(self) -> bytes:
        for hook in self._hooks:
            try:
                hook()
            except Exception as exc:  # one broken hook must not hide every other metric
                report_hook_failure("a metrics scrape hook failed: %s: %s", type(exc).__name__, exc)
        return generate_latest(self.registry)


def check_scraper(request) -> None:
    """With ``proctorhub.metrics_token`` set, only a caller presenting it may read the metrics."""
    expected = request.app_settings.metrics_token
    if not expected:
        return
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), expected.encode()):
        raise Unauthenticated("GET /metrics needs the bearer token set in proctorhub.metrics_token",
                              code="invalid_token")


@view_config(route_name="ops.metrics", permission=NO_PERMISSION_REQUIRED)
def metrics_view(request):
    """Prometheus text format. Expose it to the scraper only: with ``proctorhub.metrics_token``,
    or by blocking it at the reverse proxy (see README, Deploying)."""
    check_scraper(request)
    return Response(body=request.registry.metrics.render(), content_type=CONTENT_TYPE_LATEST.split(";")[0],
                    charset="utf-8")


def includeme(config):
    config.registry.metrics = Metrics(config.registry.get("dbengine"))
    config.add_route("ops.metrics", "/metrics")
