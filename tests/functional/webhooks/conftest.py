"""A receiver, a clock the tests move, and workers bound to the test database."""

from __future__ import annotations

import datetime as dt

import pytest

from proctorhub.models import get_session_factory, utcnow
from proctorhub.settings import parse_settings
from proctorhub.worker import Worker, parse_worker_settings

from ... import factories as f
from ...receiver import Receiver

JSON = {"Accept": "application/json"}


class Clock:
    """The workers' time: the real time plus however far the test has moved it on."""

    def __init__(self):
        self.offset = dt.timedelta()

    @property
    def now(self) -> dt.datetime:
        return utcnow() + self.offset

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> dt.datetime:
        self.offset += dt.timedelta(**kw)
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def make_worker(base_settings, dbengine, clock):
    """``make_worker(**setting overrides)``: a worker on the test database with a 1 s deadline per try."""
    workers = []

    def factory(**overrides):
        raw = {**base_settings, "proctorhub.webhooks.timeout_seconds": "1", "proctorhub.worker.batch_size": "20",
               **overrides}
        worker = Worker(get_session_factory(dbengine), parse_settings(raw), parse_worker_settings(raw), clock=clock)
        workers.append(worker)
        return worker

    yield factory
    for worker in workers:
        worker.close()


@pytest.fixture
def admin(dbsession) -> dict:
    return {**f.auth(f.token(dbsession, role="admin", name="admin")), **JSON}


def register(testapp, admin, url, *, slug="default", events=("*",), status=201):
    """A receiver registered through the admin API: its JSON (with the secret)."""
    return testapp.post_json(f"/admin/lms/{slug}/webhooks/", {"url": url, "events": list(events)},
                             headers=admin, status=status).json
