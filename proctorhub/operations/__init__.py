"""Watching the service run: health and readiness, metrics, the access log with request ids.

- ``GET /healthz``: the process answers (no database);
- ``GET /readyz``: the database answers, at the newest schema, within
  ``proctorhub.readyz_timeout_seconds``; 503 ``database_unavailable`` otherwise;
- ``GET /metrics``: Prometheus text (``metrics.py``);
- one access-log line per request on the ``proctorhub.access`` logger (``access_log.py``).

``server.py`` is the waitress runner (``[server:main] use = egg:proctorhub#main``) that answers
the health routes even when every request thread is busy and stops gracefully on SIGTERM.
"""


def includeme(config):
    config.include(".metrics")
    config.include(".access_log")
    config.include(".health")
