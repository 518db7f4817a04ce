"""Several workers on one PostgreSQL database share the work and send each event once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from proctorhub import events
from proctorhub.models import Delivery

from ... import factories as f
from .conftest import register


@pytest.mark.postgresql_only
def test_two_workers_deliver_each_event_once(testapp, admin, dbsession, receiver, make_worker):
    hook = register(testapp, admin, receiver.url)
    attempts = [f.attempt(dbsession, user_id=f"learner-{i}") for i in range(30)]
    for n in range(3):
        for attempt in attempts:
            events.emit(dbsession, events.EventKind.attempt_control, attempt, {"n": n})
    dbsession.commit()
    workers = [make_worker(**{"proctorhub.worker.batch_size": "7"}) for _ in range(2)]
    done = [0, 0]

    def run(index):
        # Bounded by time, not by rounds: a worker whose rounds find everything leased by the
        # other (each round is then quick) must not give up while the other is still sending.
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            result = workers[index].run_once()
            done[index] += result.sent
            if not result.busy:
                if _all_sent():
                    return
                time.sleep(0.01)

    def _all_sent():
        return len(receiver.accepted()) >= 90

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = Counter(r.webhook_id for r in receiver.received)
    assert len(ids) == 90 and set(ids.values()) == {1}
    assert all(done), done  # both took part
    order = {}
    for r in receiver.received:
        data = Webhook(hook["secret"]).verify(r.body, r.headers)["data"]
        order.setdefault(data["attempt_code"], []).append(data["n"])
    assert all(ns == [0, 1, 2] for ns in order.values())
    dbsession.rollback()
    assert {d.status for d in dbsession.execute(select(Delivery)).scalars()} == {"delivered"}
