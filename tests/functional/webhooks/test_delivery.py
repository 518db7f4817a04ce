"""Webhook delivery through the worker, to a real receiver on a loopback port, with a clock the test moves.

Every message is verified with the ``standardwebhooks`` package, as an LMS would verify it.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
import threading
import time
from collections import defaultdict

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from proctorhub import events
from proctorhub.attempts.serialize import iso
from proctorhub.errors import NotFound
from proctorhub.models import Delivery, DeliveryTry, Event, WebhookEndpoint
from proctorhub.webhooks import delivery as delivery_module
from proctorhub.webhooks import service

from ... import factories as f
from ..ops.test_operations import sample
from .conftest import register


def verified(secret: str, received) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


def emit_controls(dbsession, attempts, per_attempt: int) -> None:
    """``per_attempt`` attempt.control events for each attempt, numbered in the order they happen."""
    for n in range(per_attempt):
        for attempt in attempts:
            events.emit(dbsession, events.EventKind.attempt_control, attempt, {"action": "flag", "n": n})
    dbsession.commit()


def deliveries(dbsession) -> list[Delivery]:
    dbsession.rollback()
    return list(dbsession.execute(select(Delivery).order_by(Delivery.id)).scalars())


def test_a_review_reaches_the_receiver_signed(testapp, admin, dbsession, receiver, make_worker):
    hook = register(testapp, admin, receiver.url)
    lms_token = f.auth(f.token(dbsession, role="lms", name="lms"))
    attempt = testapp.post_json("/api/v1/attempts", {
        "backend": "rest", "user": {"id": "learner-1"}, "context": {"id": "course-1"},
        "resource_link": {"id": "final"}, "attempt_number": 1}, headers=lms_token, status=201).json
    code = attempt["attempt_code"]
    body, headers = f.signed("rest", f.rest_payload(code, status="suspicious"))
    testapp.post("/api/v1/reviews/rest", body, headers=headers, status=200)

    make_worker().run_until_idle()

    messages = [verified(hook["secret"], r) for r in receiver.accepted()]
    assert [m["type"] for m in messages] == ["review.received", "attempt.status_changed", "review.needs_attention"]
    assert all(m["data"]["attempt_code"] == code and m["data"]["lms"] == "default" for m in messages)
    changed = messages[1]["data"]
    assert (changed["previous_status"], changed["status"]) == ("created", "second_review_required")
    assert changed["review"]["status"] == "suspicious"
    assert messages[0]["data"]["review"]["comments"][0]["comment"] == "Phone visible"
    assert messages[2]["data"]["attempt_status"] == "second_review_required"
    rows = deliveries(dbsession)
    assert [(d.status, d.tries, d.last_status) for d in rows] == [("delivered", 1, 200)] * 3
    # The admin shows each delivery with its try and the receiver's answer.
    shown = testapp.get(f"/admin/lms/default/webhooks/{hook['id']}/deliveries/", headers=admin).json["deliveries"]
    assert {d["status"] for d in shown} == {"delivered"}
    assert shown[0]["attempts"][0]["response_status"] == 200 and '"ok"' in shown[0]["attempts"][0]["response_body"]


def test_a_staff_second_review_sends_review_decided(testapp, admin, dbsession, receiver, make_worker):
    hook = register(testapp, admin, receiver.url, events=["review.decided"])
    attempt = f.attempt(dbsession)
    body, headers = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"))
    review_id = testapp.post("/api/v1/reviews/rest", body, headers=headers).json["id"]
    testapp.post_json(f"/admin/reviews/{review_id}", {"status": "verified", "note": "fine"}, headers=admin)
    make_worker().run_until_idle()
    messages = [verified(hook["secret"], r) for r in receiver.accepted()]
    assert [m["type"] for m in messages] == ["review.decided"]
    assert messages[0]["data"]["attempt_status"] == "verified"
    assert messages[0]["data"]["previous_attempt_status"] == "second_review_required"


def test_filters_and_lms_boundaries(testapp, admin, dbsession, receiver, make_worker):
    register(testapp, admin, receiver.url, events=["review.received"])
    f.lms(dbsession, "other")
    register(testapp, admin, receiver.url + "/other", slug="other")
    attempt = f.attempt(dbsession)
    events.emit(dbsession, events.EventKind.attempt_control, attempt, {"action": "pause"})
    events.emit(dbsession, events.EventKind.review_received, attempt, {"status": "passed"})
    # A kind outside the contract's types (as older code wrote) is never sent, even to "*".
    dbsession.add(Event(kind="acs.flag", attempt_id=attempt.id, attempt_code=attempt.attempt_code, payload={}))
    dbsession.commit()
    make_worker().run_until_idle()
    received = receiver.accepted()
    assert len(received) == 1 and json.loads(received[0].body)["type"] == "review.received"
    assert len(deliveries(dbsession)) == 1
    # Every event was handed out, delivered to someone or not.
    assert dbsession.execute(select(Event).where(Event.delivered_at.is_(None))).first() is None


def test_a_receiver_made_later_gets_only_what_happens_after(testapp, admin, dbsession, receiver, make_worker):
    attempt = f.attempt(dbsession)
    events.emit(dbsession, events.EventKind.attempt_control, attempt, {"n": "before"})
    dbsession.commit()
    time.sleep(0.01)
    register(testapp, admin, receiver.url)
    events.emit(dbsession, events.EventKind.attempt_control, attempt, {"n": "after"})
    dbsession.commit()
    make_worker().run_until_idle()
    assert [json.loads(r.body)["data"]["n"] for r in receiver.accepted()] == ["after"]


def test_a_receiver_down_for_a_while_gets_everything_in_order(testapp, admin, dbsession, receiver, make_worker,
                                                              clock):
    hook = register(testapp, admin, receiver.url)
    attempts = [f.attempt(dbsession, user_id=f"learner-{i}") for i in range(4)]
    receiver.stop()  # connection refused
    emit_controls(dbsession, attempts, per_attempt=3)
    worker = make_worker()
    worker.run_once()
    # Only the first event of each attempt was tried: the later ones wait behind it.
    rows = deliveries(dbsession)
    assert sorted(d.tries for d in rows) == [0] * 8 + [1] * 4
    for minutes in (0.2, 6, 35):
        clock.advance(minutes=minutes)
        worker.run_once()
    assert not receiver.received
    # One try answered too slowly: the receiver got it, the worker did not see the answer.
    receiver.start()
    receiver.mode = "hang"
    receiver.hang_seconds = 1.5
    clock.advance(hours=3)
    worker.run_once()
    receiver.mode = "ok"
    clock.advance(hours=6)
    worker.run_until_idle()
    clock.advance(hours=11)
    worker.run_until_idle()

    accepted = [verified(hook["secret"], r) for r in receiver.accepted()]
    by_attempt = defaultdict(list)
    for message in accepted:
        by_attempt[message["data"]["attempt_code"]].append(message["data"]["n"])
    assert {code: ns for code, ns in by_attempt.items()} == {a.attempt_code: [0, 1, 2] for a in attempts}
    # Every request ever made for one webhook-id carried the same body: duplicates are recognisable.
    bodies = defaultdict(set)
    for r in receiver.received:
        bodies[r.webhook_id].add(r.body)
    assert len(bodies) == 12 and all(len(b) == 1 for b in bodies.values())
    assert [d.status for d in deliveries(dbsession)] == ["delivered"] * 12


@pytest.mark.parametrize("mode", ["error", "hang", "reset", "redirect", "huge"])
def test_a_misbehaving_receiver_is_retried_later_and_never_stalls_the_worker(
        testapp, admin, dbsession, receiver, make_worker, clock, mode):
    register(testapp, admin, receiver.url)
    receiver.mode = mode
    receiver.hang_seconds = 5
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=1)
    worker = make_worker()
    began, started = time.monotonic(), clock.now
    worker.run_once()
    assert time.monotonic() - began < 4  # the 1 s deadline holds, whatever the receiver does
    [row] = deliveries(dbsession)
    if mode == "huge":
        # 2xx is delivered; only the first KB was read, and the worker stopped reading there.
        assert row.status == "delivered"
        [kept] = dbsession.execute(select(DeliveryTry)).scalars().all()
        assert len(kept.response_body) == 1024
        assert receiver.huge_sent < 50 * 1024 * 1024
        return
    assert (row.status, row.tries) == ("pending", 1)
    wait = row.next_try_at - started
    assert dt.timedelta(seconds=4) <= wait <= dt.timedelta(seconds=10)
    [kept] = dbsession.execute(select(DeliveryTry)).scalars().all()
    assert kept.error
    if mode == "error":
        assert (kept.response_status, len(kept.response_body)) == (500, 1024)
    if mode == "redirect":
        assert kept.response_status == 302 and "redirect" in kept.error
        assert len(receiver.received) == 1  # /elsewhere was never asked for
    # Not due yet: nothing is sent before the wait is over.
    worker.run_once()
    assert deliveries(dbsession)[0].tries == 1


def test_a_delivery_is_given_up_when_the_schedule_runs_out_and_the_next_one_goes(
        testapp, admin, dbsession, receiver, make_worker, clock):
    register(testapp, admin, receiver.url)
    receiver.mode = "error"
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=2)
    worker = make_worker(**{"proctorhub.webhooks.retry_schedule": "1s 1s"})
    for _ in range(3):
        worker.run_once()
        clock.advance(seconds=2)
    first, second = deliveries(dbsession)
    assert (first.status, first.tries, second.tries) == ("failed", 3, 0)
    receiver.mode = "ok"
    worker.run_until_idle()
    assert [d.status for d in deliveries(dbsession)] == ["failed", "delivered"]


def test_410_gone_disables_the_receiver_with_its_reason(testapp, admin, dbsession, receiver, make_worker):
    hook = register(testapp, admin, receiver.url)
    receiver.mode = "gone"
    attempt = f.attempt(dbsession)
    emit_controls(dbsession, [attempt], per_attempt=2)
    worker = make_worker()
    worker.run_until_idle()
    rows = deliveries(dbsession)
    assert [(d.status, d.tries) for d in rows] == [("failed", 1), ("pending", 0)]
    shown = testapp.get(f"/admin/lms/default/webhooks/{hook['id']}", headers=admin).json
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    assert len(receiver.received) == 1
    # Disabled: no new deliveries are made for it, nothing more is sent.
    emit_controls(dbsession, [attempt], per_attempt=1)
    worker.run_until_idle()
    assert len(deliveries(dbsession)) == 2 and len(receiver.received) == 1


def test_days_of_failure_disable_the_receiver(testapp, admin, dbsession, receiver, make_worker, clock):
    hook = register(testapp, admin, receiver.url)
    receiver.mode = "error"
    attempts = [f.attempt(dbsession, user_id=f"l{i}") for i in range(2)]
    emit_controls(dbsession, attempts[:1], per_attempt=1)
    worker = make_worker(**{"proctorhub.webhooks.disable_after_hours": "2"})
    worker.run_once()
    assert dbsession.get(WebhookEndpoint, hook["id"]).failing_since is not None
    clock.advance(hours=3)
    emit_controls(dbsession, attempts[1:], per_attempt=1)
    worker.run_until_idle()
    dbsession.rollback()
    endpoint = dbsession.get(WebhookEndpoint, hook["id"])
    assert endpoint.enabled is False and "2 hours" in endpoint.disabled_reason
    # Staff turn it back on: the failures count afresh and sending resumes.
    receiver.mode = "ok"
    testapp.patch_json(f"/admin/lms/default/webhooks/{hook['id']}", {"enabled": True}, headers=admin)
    clock.advance(hours=3)
    worker.run_until_idle()
    assert {d.status for d in deliveries(dbsession)} == {"delivered"}


def test_a_worker_killed_mid_delivery_loses_nothing(testapp, admin, dbsession, receiver, make_worker, clock):
    register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=1)
    doomed, survivor = make_worker(), make_worker()
    doomed.hand_out()
    with doomed.transaction() as session:  # it claims the delivery, then dies before sending
        claimed = delivery_module.claim(session, doomed.box, now=clock.now, limit=10,
                                        lease_until=clock.now + dt.timedelta(seconds=60))
    assert len(claimed) == 1
    survivor.run_once()
    assert receiver.received == []  # the claim holds while it may still be sending
    clock.advance(seconds=61)
    survivor.run_until_idle()
    assert len(receiver.accepted()) == 1
    assert deliveries(dbsession)[0].status == "delivered"


def test_replay_sends_the_same_message_again(testapp, admin, dbsession, receiver, make_worker):
    hook = register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=1)
    worker = make_worker()
    worker.run_until_idle()
    [row] = deliveries(dbsession)
    replayed = testapp.post(f"/admin/lms/default/webhooks/{hook['id']}/deliveries/{row.id}/replay",
                            headers=admin).json
    assert replayed["status"] == "pending"
    worker.run_until_idle()
    first, second = receiver.accepted()
    assert first.webhook_id == second.webhook_id and first.body == second.body
    assert verified(hook["secret"], second)["type"] == "attempt.control"
    assert len(testapp.get(f"/admin/lms/default/deliveries/{row.id}", headers=admin).json["attempts"]) == 2


def test_a_delivery_being_sent_is_not_replayed_beside_its_send(testapp, admin, dbsession, receiver, make_worker,
                                                               clock):
    hook = register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=1)
    sending, other = make_worker(), make_worker()
    sending.hand_out()
    with sending.transaction() as session:  # it claims the delivery, and is sending it now
        [outgoing] = delivery_module.claim(session, sending.box, now=clock.now, limit=10,
                                           lease_until=clock.now + dt.timedelta(seconds=60))
    paths = [f"/admin/lms/default/deliveries/{outgoing.delivery_id}/replay",
             f"/admin/lms/default/webhooks/{hook['id']}/deliveries/{outgoing.delivery_id}/replay"]
    for path in paths:
        refused = testapp.post(path, headers=admin, status=409).json["error"]
        assert refused["code"] == "delivery_in_flight" and refused["details"]["delivery_id"] == outgoing.delivery_id
    html = testapp.post(paths[0], {"csrf_token": "x"}, headers={**admin, "Accept": "text/html"}, status=303)
    assert "being sent" in html.follow(headers={**admin, "Accept": "text/html"}).text
    [row] = deliveries(dbsession)
    assert (row.status, row.tries) == ("pending", 0) and row.next_try_at > clock.now
    other.run_until_idle()
    assert receiver.received == []  # no second send beside the first

    result = delivery_module.send(sending.fetcher, outgoing, timeout=1)
    with sending.transaction() as session:
        delivery_module.record(session, [result], now=clock.now, schedule=sending.settings.retry_schedule,
                               disable_after=sending.settings.disable_after)
    # Once the send is recorded, it may be replayed, and the worker sends it once more.
    assert testapp.post(paths[1], headers=admin).json["status"] == "pending"
    other.run_until_idle()
    assert [r.webhook_id for r in receiver.accepted()] == [outgoing.webhook_id] * 2
    assert deliveries(dbsession)[0].status == "delivered"


def test_a_late_record_of_a_run_out_lease_leaves_the_next_claims_lease(testapp, admin, dbsession, receiver,
                                                                       make_worker, clock):
    register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=1)
    first, second = make_worker(), make_worker()
    first.hand_out()
    with first.transaction() as session:  # the first worker claims it, then stalls past its lease
        [stalled] = delivery_module.claim(session, first.box, now=clock.now, limit=1,
                                          lease_until=clock.now + dt.timedelta(seconds=30))
    clock.advance(seconds=31)
    new_lease = clock.now + dt.timedelta(seconds=30)
    with second.transaction() as session:  # the second takes it over and is sending it now
        [taken] = delivery_module.claim(session, second.box, now=clock.now, limit=1, lease_until=new_lease)
    assert taken.delivery_id == stalled.delivery_id
    result = delivery_module.send(first.fetcher, stalled, timeout=1)
    with first.transaction() as session:  # the first worker's try is recorded late
        delivery_module.record(session, [result], now=clock.now, schedule=first.settings.retry_schedule,
                               disable_after=first.settings.disable_after)
    [row] = deliveries(dbsession)
    assert row.leased_until == new_lease  # the second worker's lease still holds
    refused = testapp.post(f"/admin/lms/default/deliveries/{row.id}/replay", headers=admin, status=409).json
    assert refused["error"]["code"] == "delivery_in_flight"


def test_the_deliveries_pages_show_a_delivery_being_sent_and_offer_no_replay_of_it(testapp, admin, dbsession, receiver,
                                                                                 make_worker, clock):
    hook = register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession), f.attempt(dbsession)], per_attempt=1)
    sending = make_worker()
    sending.hand_out()
    lease_until = clock.now + dt.timedelta(seconds=60)
    with sending.transaction() as session:  # it claims one delivery, and is sending it now
        [outgoing] = delivery_module.claim(session, sending.box, now=clock.now, limit=1, lease_until=lease_until)
    [idle] = [row.id for row in deliveries(dbsession) if row.id != outgoing.delivery_id]
    html = {**admin, "Accept": "text/html"}
    lists = ["/admin/lms/default/deliveries/", f"/admin/lms/default/webhooks/{hook['id']}/deliveries/"]

    def shown(in_flight: bool) -> None:
        for path in lists:
            listed = {d["id"]: d for d in testapp.get(path, headers=admin).json["deliveries"]}
            assert (listed[outgoing.delivery_id]["in_flight"], listed[idle]["in_flight"]) == (in_flight, False)
            assert listed[outgoing.delivery_id]["leased_until"] == (iso(lease_until) if in_flight else None)
            assert listed[idle]["leased_until"] is None
        assert testapp.get(f"{lists[0]}{outgoing.delivery_id}", headers=admin).json["in_flight"] is in_flight
        for page in ("/admin/lms/default/deliveries/", f"/admin/lms/default/webhooks/{hook['id']}"):
            rows = {int(row.group(1)): row.group(0) for row in re.finditer(
                r'<tr><td class="mono">(\d+)<div.*?</tr>', testapp.get(page, headers=html).text, re.S)}
            assert ("being sent" in rows[outgoing.delivery_id]) is in_flight
            assert (f"{outgoing.delivery_id}/replay" in rows[outgoing.delivery_id]) is not in_flight
            assert "being sent" not in rows[idle] and f"{idle}/replay" in rows[idle]
            # Each Replay button names its delivery to a screen reader; the buttons are told apart.
            assert f'Replay<span class="visually-hidden"> delivery {idle}</span></button>' in rows[idle]

    shown(in_flight=True)
    page = testapp.get(lists[0], headers=html).text
    assert f'being sent, lease until <time class="utc" datetime="{lease_until.isoformat()}">' in page
    assert lease_until.strftime("%Y-%m-%d %H:%M:%S UTC") in page

    # The worker died mid-send: once its lease has run out, the delivery is no longer being sent.
    row = dbsession.get(Delivery, outgoing.delivery_id)
    row.leased_until = row.next_try_at = clock.now - dt.timedelta(seconds=1)
    dbsession.commit()
    shown(in_flight=False)
    assert testapp.post(f"{lists[0]}{outgoing.delivery_id}/replay", headers=admin).json["in_flight"] is False


def test_during_rotation_both_secrets_verify_then_only_the_new(testapp, admin, dbsession, receiver, make_worker,
                                                               clock):
    hook = register(testapp, admin, receiver.url)
    rotated = testapp.post(f"/admin/lms/default/webhooks/{hook['id']}/rotate-secret", headers=admin).json
    attempt = f.attempt(dbsession)
    worker = make_worker()
    emit_controls(dbsession, [attempt], per_attempt=1)
    worker.run_until_idle()
    message = receiver.accepted()[-1]
    assert verified(hook["secret"], message) and verified(rotated["secret"], message)
    clock.advance(hours=25)
    emit_controls(dbsession, [attempt], per_attempt=1)
    worker.run_until_idle()
    message = receiver.accepted()[-1]
    assert verified(rotated["secret"], message)
    assert len(message.headers["webhook-signature"].split(" ")) == 1


def test_a_running_worker_keeps_what_it_started_with_out_of_full_collections(make_worker):
    gc.unfreeze()
    worker = make_worker()
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, args=(stop,))
    try:
        runner.start()
        deadline = time.monotonic() + 5
        while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        # The modules, mappers and settings it runs with are not scanned by every full collection.
        assert gc.get_freeze_count() > 10_000
    finally:
        stop.set()
        runner.join(timeout=10)
        gc.unfreeze()
    assert not runner.is_alive()


def test_metrics_show_the_deliveries_due_and_the_embedded_workers_tries(testapp, admin, dbsession, receiver,
                                                                       make_worker):
    hook = register(testapp, admin, receiver.url)
    lms_token = f.auth(f.token(dbsession, role="lms", name="lms"))
    code = testapp.post_json("/api/v1/attempts", {
        "backend": "rest", "user": {"id": "learner-1"}, "context": {"id": "course-1"},
        "resource_link": {"id": "final"}, "attempt_number": 1}, headers=lms_token, status=201).json["attempt_code"]
    body, headers = f.signed("rest", f.rest_payload(code, status="suspicious"))
    testapp.post("/api/v1/reviews/rest", body, headers=headers, status=200)
    worker = make_worker()
    worker.metrics = testapp.app.registry.metrics
    assert worker.hand_out() == 3
    text = testapp.get("/metrics").text
    assert sample(text, "proctorhub_webhook_deliveries_pending") == 3
    assert sample(text, "proctorhub_webhook_delivery_lag_seconds") >= 0
    # A disabled receiver's deliveries wait for no worker: they are not counted as due.
    hook_url = f"/admin/lms/default/webhooks/{hook['id']}"
    testapp.patch_json(hook_url, {"enabled": False}, headers=admin)
    assert sample(testapp.get("/metrics").text, "proctorhub_webhook_deliveries_pending") == 0
    testapp.patch_json(hook_url, {"enabled": True}, headers=admin)
    worker.run_until_idle()
    text = testapp.get("/metrics").text
    assert sample(text, "proctorhub_webhook_deliveries_pending") == 0
    assert sample(text, "proctorhub_webhook_delivery_lag_seconds") == 0
    assert sample(text, "proctorhub_webhook_deliveries_total", outcome="delivered") == 3


def test_a_replay_of_a_delivery_purged_meanwhile_is_404(testapp, admin, dbsession, receiver, make_worker):
    register(testapp, admin, receiver.url)
    emit_controls(dbsession, [f.attempt(dbsession)], per_attempt=1)
    make_worker().hand_out()
    [row] = deliveries(dbsession)
    with dbsession.get_bind().begin() as other:  # retention deletes it between lookup and replay
        other.execute(Delivery.__table__.delete())
    with pytest.raises(NotFound) as refused:
        service.replay(dbsession, row)
    assert refused.value.code == "unknown_delivery"
