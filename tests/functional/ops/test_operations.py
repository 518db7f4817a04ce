"""/healthz, /readyz, /metrics, the access log and request ids."""

from __future__ import annotations

import json
import logging

from proctorhub.migrations import head_revision
from proctorhub.operations.logs import JsonFormatter

from ... import factories as f

BODY = {"backend": "rest", "user": {"id": "learner-1"}, "context": {"id": "course-1"},
        "resource_link": {"id": "final"}, "attempt_number": 1, "exam": {"name": "Final"}}


def test_healthz_and_readyz(testapp, dbengine):
    assert testapp.get("/healthz").json == {"status": "ok"}
    assert testapp.get("/readyz").json == {"status": "ready", "schema": head_revision(dbengine)}


def test_readyz_refuses_a_database_behind_the_newest_schema(testapp, dbengine):
    import sqlalchemy as sa
    with dbengine.begin() as connection:
        head = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = testapp.get("/readyz", status=503)
    finally:
        with dbengine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    error = response.json["error"]
    assert error["code"] == "database_unavailable" and error["details"]["schema"] == "0001"
    assert response.headers["Retry-After"]


def test_request_ids_are_honoured_echoed_or_made(testapp):
    assert testapp.get("/healthz", headers={"X-Request-Id": "lb-4f2a.17"}).headers["X-Request-Id"] == "lb-4f2a.17"
    made = testapp.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32
    for hostile in ("two words", "x" * 129, "a\u00e9b"):
        echoed = testapp.get("/healthz", headers={"X-Request-Id": hostile}).headers["X-Request-Id"]
        assert echoed != hostile and len(echoed) == 32
    # Errors carry one too.
    assert len(testapp.get("/nowhere", status=404).headers["X-Request-Id"]) == 32


def test_one_access_log_line_per_request(testapp, dbsession, caplog):
    lms = f.auth(f.token(dbsession))
    with caplog.at_level(logging.INFO, logger="proctorhub.access"):
        testapp.post_json("/api/v1/attempts", BODY, headers={**lms, "X-Request-Id": "req-1"}, status=201)
        testapp.get("/api/v1/attempts/nope", headers={**lms, "X-Request-Id": "req-2"}, status=404)
        testapp.get("/healthz")
    lines = [r for r in caplog.records if r.name == "proctorhub.access"]
    assert [(r.request_id, r.method, r.route, r.status) for r in lines] == [
        ("req-1", "POST", "api.attempts", 201), ("req-2", "GET", "api.attempt", 404)]
    assert lines[0].getMessage().startswith("req-1 POST /api/v1/attempts api.attempts 201 ")
    assert lines[0].duration_ms >= 0


def sample(text: str, name: str, **labels) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return None


def test_metrics_count_requests_and_show_the_pool(make_app, dbsession):
    app = make_app()
    lms = f.auth(f.token(dbsession))
    app.post_json("/api/v1/attempts", BODY, headers=lms, status=201)
    app.post_json("/api/v1/attempts", BODY, headers=lms, status=200)
    app.get("/api/v1/attempts/nope", headers=lms, status=404)
    response = app.get("/metrics")
    assert response.content_type == "text/plain"
    text = response.text
    assert sample(text, "proctorhub_http_requests_total", route="api.attempts", method="POST", status="201") == 1
    assert sample(text, "proctorhub_http_requests_total", route="api.attempts", method="POST", status="200") == 1
    assert sample(text, "proctorhub_http_requests_total", route="api.attempt", method="GET", status="404") == 1
    assert sample(text, "proctorhub_http_request_duration_seconds_count", route="api.attempts") == 2
    assert sample(text, "proctorhub_db_pool_checked_out") == 0
    assert sample(text, "proctorhub_db_pool_overflow") is not None


def test_other_features_feed_gauges_through_scrape_hooks(make_app):
    app = make_app()
    metrics = app.app.registry.metrics
    metrics.add_scrape_hook(lambda: metrics.deliveries_pending.set(4))
    metrics.add_scrape_hook(lambda: 1 / 0)  # a broken hook hides nothing else
    metrics.add_scrape_hook(lambda: metrics.gauge("proctorhub_test_backlog", "a test gauge").set(9))
    metrics.deliveries.labels(outcome="delivered").inc()
    text = app.get("/metrics").text
    assert sample(text, "proctorhub_webhook_deliveries_pending") == 4
    assert sample(text, "proctorhub_test_backlog") == 9
    assert sample(text, "proctorhub_webhook_deliveries_total", outcome="delivered") == 1


def test_json_log_lines():
    record = logging.LogRecord("proctorhub.access", logging.INFO, __file__, 1, "%s done", ("req-9",), None)
    record.request_id = "req-9"
    record.status = 201
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "req-9 done" and line["request_id"] == "req-9" and line["status"] == 201
    assert line["level"] == "INFO" and line["logger"] == "proctorhub.access" and line["time"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = logging.LogRecord("proctorhub", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exception"]


def test_metrics_ask_for_the_scrapers_token_when_one_is_set(make_app):
    app = make_app(**{"proctorhub.metrics_token": "scrape-me-0123456789"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic scrape-me-0123456789"}):
        refused = app.get("/metrics", headers=headers, status=401)
        assert refused.json["error"]["code"] == "invalid_token"
        assert "proctorhub_http_requests_total" not in refused.text
    text = app.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}, status=200).text
    # The refusals were counted, as every answer is.
    assert sample(text, "proctorhub_http_requests_total", route="ops.metrics", method="GET", status="401") == 3


def test_metrics_token_comes_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("PROCTORHUB_METRICS_TOKEN", "from-the-environment-42")
    app = make_app()
    app.get("/metrics", status=401)
    app.get("/metrics", headers={"Authorization": "Bearer from-the-environment-42"}, status=200)


def test_unknown_methods_share_one_metrics_label(make_app):
    app = make_app()
    for method in ("FOO1", "FOO2", "BREW"):
        app.request("/api/v1/attempts", method=method, expect_errors=True)
    text = app.get("/metrics").text
    assert "FOO1" not in text and "BREW" not in text
    assert sample(text, "proctorhub_http_requests_total", route="api.attempts", method="other", status="405") == 3
