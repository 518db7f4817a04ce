"""Identical callbacks sent at the same moment, through a real waitress server."""

import http.client
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from proctorhub import main
from proctorhub.models import Event, Review, ReviewComment, ReviewHistory

from .. import factories as f
from ..live import serve

SENDERS = 8


def send_together(base_url: str, body: bytes, headers: dict) -> list[tuple[int, dict]]:
    parts = urlsplit(base_url)
    barrier = threading.Barrier(SENDERS)
    results: list = [None] * SENDERS

    def send(index):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.connect()
        barrier.wait()
        connection.request("POST", "/api/v1/reviews/rest", body=body, headers=headers)
        response = connection.getresponse()
        results[index] = (response.status, response.read())
        connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def count(dbsession, model):
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("updates", ["true", "false"])
def test_identical_callbacks_store_one_review_and_no_500(base_settings, dbengine, dbsession, updates):
    app = main({}, **{**base_settings, "proctorhub.allow_review_updates": updates})
    attempt = f.attempt(dbsession)
    body, headers = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"))
    try:
        with serve(app) as base_url:
            results = send_together(base_url, body, headers)
    finally:
        app.registry["dbengine"].dispose()
    statuses = sorted(status for status, _ in results)
    assert 500 not in statuses
    assert statuses.count(200) >= 1
    if updates == "true":
        assert statuses == [200] * SENDERS
    else:
        assert statuses == [200] + [409] * (SENDERS - 1)
    assert count(dbsession, Review) == 1
    assert count(dbsession, ReviewComment) == 1
    assert count(dbsession, ReviewHistory) == 0
    kinds = dbsession.execute(select(Event.kind).order_by(Event.id)).scalars().all()
    assert kinds == ["review.received", "attempt.status_changed", "review.needs_attention"]
