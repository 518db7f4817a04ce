"""``/admin/lms/{slug}/webhooks/``: receivers made, changed, rotated; bad input refused with nothing written."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from proctorhub.models import Delivery, Event, WebhookEndpoint

from ... import factories as f
from .conftest import JSON, register

HOOK = "https://hooks.lms.example.edu/proctorhub"


def count(dbsession, model) -> int:
    dbsession.rollback()
    return dbsession.execute(select(func.count()).select_from(model)).scalar_one()


def test_create_answers_the_secret_once_and_stores_it_encrypted(testapp, admin, dbsession):
    created = testapp.post_json("/admin/lms/default/webhooks/",
                                {"url": HOOK, "events": ["review.received"], "description": "grades"},
                                headers=admin, status=201).json
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert (created["url"], created["events"], created["lms"], created["enabled"]) == \
        (HOOK, ["review.received"], "default", True)
    row = dbsession.get(WebhookEndpoint, created["id"])
    assert secret not in row.secret and secret[6:] not in row.secret
    shown = testapp.get(f"/admin/lms/default/webhooks/{created['id']}", headers=admin).json
    listed = testapp.get("/admin/lms/default/webhooks/", headers=admin).json["webhooks"]
    assert "secret" not in shown and [w["id"] for w in listed] == [created["id"]]
    assert secret not in testapp.get("/admin/lms/default/webhooks/", headers=admin).text
    # The lms's own page lists its receivers and links to them and to the deliveries.
    lms_page = testapp.get("/admin/lms/default", headers=admin).json
    assert [w["id"] for w in lms_page["webhooks"]] == [created["id"]]
    assert lms_page["links"]["deliveries"].endswith("/admin/lms/default/deliveries/")
    html = testapp.get("/admin/lms/default", headers={**admin, "Accept": "text/html"}).text
    assert HOOK in html and secret not in html


def test_events_default_to_all(testapp, admin):
    created = testapp.post_json("/admin/lms/default/webhooks/", {"url": HOOK}, headers=admin, status=201).json
    assert created["events"] == ["*"]


@pytest.fixture
def strict_app(make_app):
    """An app as production runs it: only global addresses."""
    return make_app(**{"proctorhub.outbound.allow_private_addresses": "false"})


@pytest.mark.parametrize("body, code", [
    ({"url": "http://hooks.lms.example.edu/in"}, "url_not_https"),
    ({"url": "http://127.0.0.1:9000/in"}, "url_not_https"),
    ({"url": "https://10.0.0.5/in"}, "private_address"),
    ({"url": "https://127.0.0.1/in"}, "private_address"),
    ({"url": "https://[fd00::1]/in"}, "private_address"),
    ({"url": "https://169.254.169.254/in"}, "private_address"),
    ({"url": "https://admin:pw@hooks.lms.example.edu/in"}, "url_has_credentials"),
    ({"url": "https://hooks.lms.example.edu/in#frag"}, "url_has_fragment"),
    ({"url": "javascript:alert(1)"}, "invalid_url"),
    ({"url": HOOK, "events": ["review.recieved"]}, "unknown_event_type"),
    ({"url": HOOK, "events": "review.received"}, "invalid_payload"),
    ({"url": HOOK, "secret": "whsec_mine"}, "invalid_payload"),
    ({"events": ["*"]}, "invalid_payload"),
])
def test_bad_receivers_are_refused_and_nothing_is_written(strict_app, admin, dbsession, body, code):
    answer = strict_app.post_json("/admin/lms/default/webhooks/", body, headers=admin, status=400).json
    assert answer["error"]["code"] == code
    assert count(dbsession, WebhookEndpoint) == 0


def test_development_allows_http_to_loopback(testapp, admin):
    assert register(testapp, admin, "http://127.0.0.1:9000/in")["url"] == "http://127.0.0.1:9000/in"


def test_unknown_lms_is_404(testapp, admin, dbsession):
    answer = testapp.post_json("/admin/lms/nope/webhooks/", {"url": HOOK}, headers=admin, status=404).json
    assert answer["error"]["code"] == "unknown_lms"
    assert testapp.get("/admin/lms/nope/webhooks/", headers=admin, status=404).json["error"]["code"] == "unknown_lms"
    assert count(dbsession, WebhookEndpoint) == 0


def test_reviewers_and_lms_tokens_cannot_manage_receivers(testapp, dbsession):
    for role in ("reviewer", "lms"):
        headers = {**f.auth(f.token(dbsession, role=role, name=role)), **JSON}
        answer = testapp.post_json("/admin/lms/default/webhooks/", {"url": HOOK}, headers=headers, expect_errors=True)
        assert answer.status_int in (403, 404)
    assert count(dbsession, WebhookEndpoint) == 0


def test_patch_changes_url_events_and_enabled(testapp, admin, dbsession):
    created = register(testapp, admin, HOOK)
    path = f"/admin/lms/default/webhooks/{created['id']}"
    changed = testapp.patch_json(path, {"url": HOOK + "/v2", "events": ["attempt.status_changed"], "enabled": False},
                                 headers=admin).json
    assert (changed["url"], changed["events"], changed["enabled"]) == (HOOK + "/v2", ["attempt.status_changed"], False)
    assert testapp.patch_json(path, {"enabled": True}, headers=admin).json["enabled"] is True


def test_a_bad_patch_changes_nothing(strict_app, admin, dbsession):
    created = register(strict_app, admin, HOOK)
    path = f"/admin/lms/default/webhooks/{created['id']}"
    for body, code in (({"url": "https://192.168.1.1/x", "enabled": False}, "private_address"),
                       ({"events": ["nope"], "url": HOOK + "/other"}, "unknown_event_type"),
                       ({"enabled": "no"}, "invalid_payload")):
        assert strict_app.patch_json(path, body, headers=admin, status=400).json["error"]["code"] == code
    dbsession.rollback()
    row = dbsession.get(WebhookEndpoint, created["id"])
    assert (row.url, row.events, row.enabled) == (HOOK, ["*"], True)


def test_rotation_gives_a_new_secret_and_keeps_the_old_one_signing_for_a_while(testapp, admin, dbsession):
    created = register(testapp, admin, HOOK)
    rotated = testapp.post(f"/admin/lms/default/webhooks/{created['id']}/rotate-secret", headers=admin).json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    row = dbsession.get(WebhookEndpoint, created["id"])
    assert row.previous_secret is not None and row.previous_secret_expires_at is not None


def _other_lms_delivery(dbsession):
    """A receiver and a delivery of the lms `other`."""
    other = f.lms(dbsession, "other")
    attempt = f.attempt(dbsession, f.exam(dbsession, lms_id=other.id))
    endpoint = WebhookEndpoint(lms_id=other.id, url=HOOK, events=["*"], description="", secret="x", enabled=True)
    event = Event(kind="review.received", attempt_id=attempt.id, attempt_code=attempt.attempt_code, payload={})
    dbsession.add_all([endpoint, event])
    dbsession.flush()
    delivery = Delivery(event_id=event.id, endpoint_id=endpoint.id, attempt_id=attempt.id, kind=event.kind, body="{}",
                        status="failed", tries=7)
    dbsession.add(delivery)
    dbsession.commit()
    return endpoint, delivery


def test_another_lms_receivers_and_deliveries_do_not_exist_here(testapp, admin, dbsession):
    endpoint, delivery = _other_lms_delivery(dbsession)
    mine = register(testapp, admin, HOOK)
    answer = testapp.post(f"/admin/lms/default/deliveries/{delivery.id}/replay", headers=admin, status=404).json
    assert answer["error"]["code"] == "unknown_delivery"
    answer = testapp.post(f"/admin/lms/default/webhooks/{mine['id']}/deliveries/{delivery.id}/replay",
                          headers=admin, status=404).json
    assert answer["error"]["code"] == "unknown_delivery"
    other_hook = f"/admin/lms/default/webhooks/{endpoint.id}"
    for path in (other_hook, other_hook + "/deliveries/"):
        assert testapp.get(path, headers=admin, status=404).json["error"]["code"] == "unknown_webhook"
    testapp.patch_json(f"/admin/lms/default/webhooks/{endpoint.id}", {"enabled": False}, headers=admin, status=404)
    dbsession.rollback()
    assert dbsession.get(Delivery, delivery.id).status == "failed"
    assert dbsession.get(WebhookEndpoint, endpoint.id).enabled is True
    # Its own lms sees it, and may replay it.
    replayed = testapp.post(f"/admin/lms/other/deliveries/{delivery.id}/replay", headers=admin).json
    assert (replayed["status"], replayed["tries"]) == ("pending", 0)


def test_html_pages_register_and_show_the_secret_once(testapp, admin, dbsession):
    html = {**admin, "Accept": "text/html"}
    page = testapp.get("/admin/lms/default/webhooks/", headers=html)
    assert "Register a receiver" in page.text
    created = testapp.post("/admin/lms/default/webhooks/", {"url": HOOK, "events": ["*"]}, headers=html, status=201)
    assert "whsec_" in created.text
    row = dbsession.execute(select(WebhookEndpoint)).scalar_one()
    page = testapp.get(f"/admin/lms/default/webhooks/{row.id}", headers=html)
    assert HOOK in page.text and "whsec_" not in page.text
    refused = testapp.post("/admin/lms/default/webhooks/", {"url": "ftp://x"}, headers=html, status=400)
    assert "invalid_url" in refused.text
    assert count(dbsession, WebhookEndpoint) == 1


def _deliveries(dbsession, endpoint_id, count) -> list[int]:
    """``count`` deliveries to the receiver, oldest first; every third one failed."""
    attempt = f.attempt(dbsession)
    events = [Event(kind="review.received", attempt_id=attempt.id, attempt_code=attempt.attempt_code, payload={})
              for _ in range(count)]
    dbsession.add_all(events)
    dbsession.flush()
    rows = [Delivery(event_id=event.id, endpoint_id=endpoint_id, attempt_id=attempt.id, kind=event.kind, body="{}",
                     status="failed" if n % 3 == 0 else "delivered") for n, event in enumerate(events)]
    dbsession.add_all(rows)
    dbsession.commit()
    return [row.id for row in rows]


def test_deliveries_page_back_to_the_oldest(testapp, admin, dbsession):
    hook = register(testapp, admin, HOOK)
    ids = _deliveries(dbsession, hook["id"], 55)
    newest_first = ids[::-1]
    first = testapp.get("/admin/lms/default/deliveries/", headers=admin).json
    assert [d["id"] for d in first["deliveries"]] == newest_first[:50] and first["previous"] is None
    second = testapp.get(first["next"], headers=admin).json
    assert [d["id"] for d in second["deliveries"]] == newest_first[50:]
    assert second["next"] is None
    assert [d["id"] for d in testapp.get(second["previous"], headers=admin).json["deliveries"]] == newest_first[:50]

    # One receiver's, filtered and in small pages: the filter rides along on the links.
    failed = [i for n, i in enumerate(ids) if n % 3 == 0][::-1]
    path = f"/admin/lms/default/webhooks/{hook['id']}/deliveries/?status=failed&limit=10"
    seen, page = [], testapp.get(path, headers=admin).json
    while True:
        seen += [d["id"] for d in page["deliveries"]]
        assert {d["status"] for d in page["deliveries"]} == {"failed"}
        if page["next"] is None:
            break
        assert "status=failed" in page["next"] and "limit=10" in page["next"]
        page = testapp.get(page["next"], headers=admin).json
    assert seen == failed
    assert testapp.get("/admin/lms/default/deliveries/?limit=0", headers=admin,
                       status=400).json["error"]["code"] == "invalid_payload"


def test_the_deliveries_pages_link_to_the_older_ones(testapp, admin, dbsession):
    html = {**admin, "Accept": "text/html"}
    hook = register(testapp, admin, HOOK)
    ids = _deliveries(dbsession, hook["id"], 55)
    for path in ("/admin/lms/default/deliveries/", f"/admin/lms/default/webhooks/{hook['id']}"):
        page = testapp.get(path, headers=html)
        assert listed(page) == ids[::-1][:50]
        [next_page] = re.findall(r'rel="next" href="([^"]+)"', page.text)
        assert urlsplit(unescape(next_page)).path.rstrip("/") == path.rstrip("/")
        older = testapp.get(unescape(next_page), headers=html)
        assert listed(older) == ids[::-1][50:] and 'rel="next"' not in older.text


def listed(page) -> list[int]:
    """The delivery ids a page lists, in its order."""
    return [int(n) for n in re.findall(r'<td class="mono">(\d+)<div', page.text)]
