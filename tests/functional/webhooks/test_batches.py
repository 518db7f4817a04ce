"""Deliveries go out in batches: one claim, one round of sends, one record per batch.

A batch must behave as the deliveries would one by one: two claims side by side never take the
same delivery, a receiver that fails holds back no other receiver's deliveries, and an attempt's
events still go out one after another.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from proctorhub import events
from proctorhub.models import Delivery, Event
from proctorhub.webhooks import delivery as delivery_module
from proctorhub.webhooks import fanout

from ... import factories as f
from ...receiver import Receiver
from .conftest import register
from .test_delivery import deliveries, emit_controls


@pytest.mark.postgresql_only
def test_two_batch_claims_side_by_side_take_disjoint_deliveries(testapp, admin, dbsession, receiver, make_worker,
                                                                clock):
    register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession, user_id=f"learner-{i}") for i in range(30)], per_attempt=1)
    first, second = make_worker(), make_worker()
    first.hand_out()
    lease = clock.now + dt.timedelta(seconds=60)
    # The first claim's transaction is still open (its rows locked) while the second claims.
    with first.transaction() as one:
        taken_first = delivery_module.claim(one, first.box, now=clock.now, limit=20, lease_until=lease)
        with second.transaction() as two:
            taken_second = delivery_module.claim(two, second.box, now=clock.now, limit=20, lease_until=lease)
    ids_first = {o.delivery_id for o in taken_first}
    ids_second = {o.delivery_id for o in taken_second}
    assert len(ids_first) == 20 and len(ids_second) == 10 and not ids_first & ids_second
    # Both leases hold now: a third claim finds nothing until they run out.
    with first.transaction() as three:
        assert delivery_module.claim(three, first.box, now=clock.now, limit=50, lease_until=lease) == []
    clock.advance(seconds=61)
    with first.transaction() as four:
        assert len(delivery_module.claim(four, first.box, now=clock.now, limit=50, lease_until=lease)) == 30


@pytest.mark.postgresql_only
def test_two_hand_outs_side_by_side_make_each_delivery_once(testapp, admin, dbsession, receiver, make_worker, clock):
    register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession, user_id=f"learner-{i}") for i in range(12)], per_attempt=1)
    first, second = make_worker(), make_worker()
    with first.transaction() as one:
        assert fanout.hand_out(one, now=clock.now, limit=5) == 5
        with second.transaction() as two:
            assert fanout.hand_out(two, now=clock.now, limit=50) == 0  # one hand-out at a time
    with second.transaction() as three:
        assert fanout.hand_out(three, now=clock.now, limit=50) == 7
    rows = deliveries(dbsession)
    assert len(rows) == 12 and len({row.event_id for row in rows}) == 12
    # Taken in id order: the first hand-out had the five oldest events.
    oldest = sorted(rows, key=lambda row: row.event_id)[:5]
    assert max(row.id for row in oldest) < min(row.id for row in rows if row not in oldest)
    assert dbsession.execute(select(Event).where(Event.delivered_at.is_(None))).first() is None


def test_a_failing_receiver_holds_back_no_other_in_its_batch(testapp, admin, dbsession, receiver, make_worker,
                                                             clock):
    broken = Receiver().start()
    try:
        broken.mode = "error"
        register(testapp, admin, broken.url)
        register(testapp, admin, receiver.url)
        attempts = [f.attempt(dbsession, user_id=f"learner-{i}") for i in range(4)]
        emit_controls(dbsession, attempts, per_attempt=2)
        worker = make_worker(**{"proctorhub.worker.batch_size": "50"})
        worker.run_once()
        # One batch held every first event to both receivers: the working one got them all.
        assert len(broken.received) == 4
        by_attempt: dict[str, list[int]] = {}
        for message in receiver.accepted():
            data = json.loads(message.body)["data"]
            by_attempt.setdefault(data["attempt_code"], []).append(data["n"])
        assert by_attempt == {attempt.attempt_code: [0] for attempt in attempts}
        worker.run_until_idle()
        for message in receiver.accepted()[4:]:
            data = json.loads(message.body)["data"]
            by_attempt[data["attempt_code"]].append(data["n"])
        # In order per attempt at the working receiver; the broken one's second events wait behind its first.
        assert all(ns == [0, 1] for ns in by_attempt.values())
        rows = deliveries(dbsession)
        good = [row for row in rows if row.status == "delivered"]
        waiting = [row for row in rows if row.status == "pending"]
        assert len(good) == 8 and len(waiting) == 8
        assert sorted(row.tries for row in waiting) == [0] * 4 + [1] * 4
        assert len(broken.received) == 4
    finally:
        broken.stop()


def test_events_of_one_attempt_in_one_batch_go_out_one_after_another(testapp, admin, dbsession, receiver,
                                                                      make_worker):
    register(testapp, admin, receiver.url)
    attempt = f.attempt(dbsession)
    for n in range(5):
        events.emit(dbsession, events.EventKind.attempt_control, attempt, {"action": "flag", "n": n})
    dbsession.commit()
    worker = make_worker(**{"proctorhub.worker.batch_size": "50"})
    sent = []
    while True:
        result = worker.run_once()
        if not result.busy:
            break
        sent.append(result.sent)
    # Never two of the attempt's deliveries in flight at once, however big the batch.
    assert sent == [1, 1, 1, 1, 1]
    assert [json.loads(r.body)["data"]["n"] for r in receiver.accepted()] == [0, 1, 2, 3, 4]
    assert {row.status for row in dbsession.execute(select(Delivery)).scalars()} == {"delivered"}
