"""The reviewer's workbench: search, buckets, sorts and pages both ways; save and next, back to the
queue, claims, confirmations, bulk decisions; a refused form keeps what was typed."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from proctorhub.models import AuditEntry, Review

from ... import factories as f
from .conftest import HTML, csrf_from, receive_review, sign_in, staff_token, staff_with_password


def _ids(testapp, token, query):
    return [r["id"] for r in testapp.get(f"/admin/reviews/?{query}", headers=f.auth(token)).json["reviews"]]


@pytest.fixture
def mixed(testapp, dbsession):
    """Six reviews in two courses, with learners to search for."""
    rows = {}
    for key, course, status, user_id, name, email in [
        ("v1", "course-A", "violation", "u-100", "Ada Lovelace", "ada@example.edu"),
        ("p1", "course-A", "passed", "u-200", "Grace Hopper", "grace@example.edu"),
        ("s1", "course-B", "suspicious", "u-300", "Alan Turing", "alan@example.edu"),
        ("n1", "course-B", "not_reviewed", "u-400", "Edsger Dijkstra", "edsger@example.edu"),
        ("v2", "course-C", "violation", "u-500", "Ada Byron", "byron@example.edu"),
        ("p2", "course-C", "passed", "u_600", "Barbara Liskov", "Barbara.Liskov@Example.edu"),
    ]:
        rows[key] = receive_review(testapp, dbsession, course=course, status=status, user_id=user_id,
                                   user_name=name, user_email=email)
    return rows


def test_search_by_learner_id_email_name_and_attempt_code(testapp, dbsession, admin_token, mixed):
    assert _ids(testapp, admin_token, "q=u-300") == [mixed["s1"].id]
    # an email in any case, or its start; a name's start in any case
    assert _ids(testapp, admin_token, "q=barbara.liskov%40example.EDU") == [mixed["p2"].id]
    assert _ids(testapp, admin_token, "q=grace%40") == [mixed["p1"].id]
    assert set(_ids(testapp, admin_token, "q=ada")) == {mixed["v1"].id, mixed["v2"].id}
    assert _ids(testapp, admin_token, f"q={mixed['n1'].attempt_code}") == [mixed["n1"].id]
    # LIKE wildcards are text: "u_6" matches the id u_600 only as a prefix of a name or email, never u-600
    assert _ids(testapp, admin_token, "q=%25") == []
    assert _ids(testapp, admin_token, "q=u_600") == [mixed["p2"].id]
    assert _ids(testapp, admin_token, "q=nobody") == []
    # the search combines with the other filters, and with a reviewer's courses
    assert _ids(testapp, admin_token, "q=ada&course=course-C") == [mixed["v2"].id]
    reviewer = f.staff(dbsession, email="rev-b@example.edu", courses=["course-B"])
    token = staff_token(dbsession, reviewer)
    assert _ids(testapp, token, "q=ada") == []
    assert _ids(testapp, token, "q=alan") == [mixed["s1"].id]
    # the HTML queue says what it searched for and how many match
    admin = staff_with_password(dbsession, "admin@example.edu", role="admin")
    assert admin.id
    sign_in(testapp, "admin@example.edu")
    page = testapp.get("/admin/reviews/?q=ada", headers=HTML)
    assert "2 reviews matching “ada”" in page.text


def test_counts_per_bucket_and_total(testapp, dbsession, admin_token, mixed):
    answer = testapp.get("/admin/reviews/", headers=f.auth(admin_token)).json
    # needs decision: the attempts in second_review_required (the violations and the suspicious one)
    assert answer["counts"] == {"needs_decision": 3, "error": 1, "decided_today": 0, "all": 6}
    assert answer["total"] == 6
    testapp.post_json(f"/admin/reviews/{mixed['v1'].id}", {"status": "passed"}, headers=f.auth(admin_token))
    answer = testapp.get("/admin/reviews/?bucket=decided_today", headers=f.auth(admin_token)).json
    assert [r["id"] for r in answer["reviews"]] == [mixed["v1"].id] and answer["total"] == 1
    assert answer["counts"]["needs_decision"] == 2
    assert _ids(testapp, admin_token, "bucket=error") == [mixed["n1"].id]
    assert _ids(testapp, admin_token, "bucket=needs_decision") == [mixed["s1"].id, mixed["v2"].id]
    # counts follow the other filters
    assert testapp.get("/admin/reviews/?course=course-A", headers=f.auth(admin_token)).json["counts"]["all"] == 2
    error = testapp.get("/admin/reviews/?bucket=mine", headers=f.auth(admin_token), status=400).json["error"]
    assert "bucket" in error["details"]["fields"]


def test_counts_stop_at_the_cap(testapp, dbsession, admin_token, mixed, monkeypatch):
    from proctorhub.admin import queue

    monkeypatch.setattr(queue, "COUNT_CAP", 3)
    answer = testapp.get("/admin/reviews/", headers=f.auth(admin_token)).json
    assert answer["counts"]["all"] == 4 and answer["counts"]["error"] == 1


@pytest.mark.parametrize("sort", ["priority", "age", "-age", "severity", "course"])
def test_every_sort_pages_forwards_and_backwards_over_the_same_rows(testapp, dbsession, admin_token, mixed, sort):
    h = f.auth(admin_token)
    everything = testapp.get(f"/admin/reviews/?sort={sort}&limit=200", headers=h).json["reviews"]
    order = [r["id"] for r in everything]
    assert sorted(order) == sorted(r.id for r in mixed.values())
    forwards, url, last = [], f"/admin/reviews/?sort={sort}&limit=4", None
    while url:
        answer = testapp.get(url, headers=h).json
        forwards += [r["id"] for r in answer["reviews"]]
        url, last = answer["next"], answer
    assert forwards == order
    # from the last page, previous pages walk back to the start
    backwards, url = [r["id"] for r in last["reviews"]], last["previous"]
    while url:
        answer = testapp.get(url, headers=h).json
        backwards = [r["id"] for r in answer["reviews"]] + backwards
        url = answer["previous"]
    assert backwards == order
    if sort == "age":
        assert order == sorted(order)
    if sort == "-age":
        assert order == sorted(order, reverse=True)
    if sort == "severity":
        statuses = [r["status"] for r in everything]
        assert statuses == ["violation", "violation", "suspicious", "not_reviewed", "passed", "passed"]
    if sort == "course":
        assert [r["context_id"] for r in everything] == sorted(r["context_id"] for r in everything)


def test_bad_cursors_are_400_naming_the_field(testapp, dbsession, admin_token):
    h = f.auth(admin_token)
    for query, field in [("sort=age&after=1.2", "after"), ("sort=severity&before=x.1", "before"),
                         ("after=0.1&before=0.2", "before"), ("sort=sideways", "sort")]:
        error = testapp.get(f"/admin/reviews/?{query}", headers=h, status=400).json["error"]
        assert error["code"] == "invalid_payload" and field in error["details"]["fields"], query


def _decision_form(page, **values):
    form = page.forms["second-review"]
    for key, value in values.items():
        form[key] = value
    return form


def test_save_and_next_walks_the_filtered_queue_and_back_to_queue_keeps_it(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, "admin@example.edu")
    queue_url = "/admin/reviews/?bucket=needs_decision&sort=age&limit=1"
    queue = testapp.get(queue_url, headers=HTML)
    first_link = re.search(r'<a class="open" id="[^"]*" href="([^"]+)"', queue.text).group(1).replace("&amp;", "&")
    review = testapp.get(first_link, headers=HTML)
    back = re.search(r'<a class="back-to-queue" href="([^"]+)"', review.text).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(back).query) == parse_qs(urlsplit(queue_url).query)
    assert f"/admin/reviews/{mixed['v1'].id}?" in first_link
    form = _decision_form(review, status="passed", note="fine")
    moved = form.submit("then", value="next", headers=HTML, status=303)
    # the next review of the same filtered queue (needs decision, oldest first), with the same way back
    assert f"/admin/reviews/{mixed['s1'].id}?" in moved.location
    assert parse_qs(urlsplit(moved.location).query)["queue"] == [urlsplit(queue_url).query]
    nxt = testapp.get(moved.location, headers=HTML)
    assert "Second review saved" in nxt.text and "This is the next review" in nxt.text
    # Save and next also took the next review for this reviewer
    dbsession.expire_all()
    assert dbsession.get(Review, mixed["s1"].id).claimed_by_id is not None
    assert "You have taken this review" in nxt.text
    third = _decision_form(nxt, status="violation").submit("then", value="next", headers=HTML, status=303)
    assert f"/admin/reviews/{mixed['v2'].id}?" in third.location
    nxt = testapp.get(third.location, headers=HTML)
    last = _decision_form(nxt, status="violation").submit("then", value="next", headers=HTML, status=303)
    assert last.location.endswith(queue_url[len("/admin/reviews/"):]) and "/admin/reviews/?" in last.location
    landed = testapp.get(last.location, headers=HTML)
    assert "last review in this queue" in landed.text


def test_save_and_next_skips_reviews_someone_else_has_taken(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    other = f.staff(dbsession, email="other@example.edu", role="admin")
    other_token = staff_token(dbsession, other)
    testapp.post_json(f"/admin/reviews/{mixed['v2'].id}/claim", {}, headers=f.auth(other_token))
    sign_in(testapp, "admin@example.edu")
    page = testapp.get(f"/admin/reviews/{mixed['v1'].id}?queue=sort%3Dage", headers=HTML)
    moved = _decision_form(page, status="passed").submit("then", value="next", headers=HTML, status=303)
    # the next by age is p1 (v2 is taken by someone else, and comes later anyway); walk and check v2 is skipped
    ids = []
    while "/admin/reviews/?" not in moved.location:
        review_id = int(re.search(r"/admin/reviews/(\d+)\?", moved.location).group(1))
        ids.append(review_id)
        page = testapp.get(moved.location, headers=HTML)
        moved = _decision_form(page, status="passed").submit("then", value="next", headers=HTML, status=303)
    assert mixed["v2"].id not in ids and len(ids) == 4


def test_a_review_taken_by_someone_else_asks_for_confirmation_and_keeps_the_form(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    other = f.staff(dbsession, email="other@example.edu", role="admin")
    other_token = staff_token(dbsession, other)
    review = mixed["v1"]
    sign_in(testapp, "admin@example.edu")
    page = testapp.get(f"/admin/reviews/{review.id}", headers=HTML)
    # meanwhile the other reviewer takes it
    claimed = testapp.post_json(f"/admin/reviews/{review.id}/claim", {}, headers=f.auth(other_token)).json
    assert claimed["claimed_by"] == "other@example.edu"
    refused = _decision_form(page, status="passed", note="my note").submit("then", value="stay", headers=HTML,
                                                                             status=409)
    assert "other@example.edu took it" in refused.text and ">my note</textarea>" in refused.text
    assert 'value="passed" checked' in refused.text and 'id="problem"' in refused.text
    dbsession.expire_all()
    assert dbsession.get(Review, review.id).reviewer_id is None
    # confirming decides it
    done = refused.forms["second-review"].submit("then", value="stay", headers=HTML, status=303)
    assert done.location.split("?")[0].endswith(f"/admin/reviews/{review.id}")
    dbsession.expire_all()
    stored = dbsession.get(Review, review.id)
    assert stored.status == "passed" and stored.note == "my note" and stored.claimed_by_id is None


def test_a_review_decided_meanwhile_shows_what_changed(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    other = f.staff(dbsession, email="other@example.edu", role="admin")
    other_token = staff_token(dbsession, other)
    review = mixed["s1"]
    sign_in(testapp, "admin@example.edu")
    page = testapp.get(f"/admin/reviews/{review.id}", headers=HTML)
    testapp.post_json(f"/admin/reviews/{review.id}", {"status": "violation", "note": "theirs"},
                      headers=f.auth(other_token))
    refused = _decision_form(page, status="passed").submit("then", value="stay", headers=HTML, status=409)
    assert "other@example.edu decided it" in refused.text and "It is now violation" in refused.text
    assert "Changed by staff:other@example.edu" not in refused.text or "it was suspicious" in refused.text
    dbsession.expire_all()
    assert dbsession.get(Review, review.id).status == "violation"


def test_json_conflicts_claims_and_release(testapp, dbsession, mixed):
    me = f.staff(dbsession, email="me@example.edu", role="admin")
    other = f.staff(dbsession, email="other@example.edu", role="admin")
    mine, theirs = staff_token(dbsession, me), staff_token(dbsession, other)
    review = mixed["p1"]
    testapp.post_json(f"/admin/reviews/{review.id}/claim", {}, headers=f.auth(theirs))
    again = testapp.post_json(f"/admin/reviews/{review.id}/claim", {}, headers=f.auth(mine), status=409).json
    assert again["error"]["code"] == "review_conflict"
    assert again["error"]["details"]["claimed_by"] == "other@example.edu"
    error = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "violation"}, headers=f.auth(mine),
                              status=409).json["error"]
    assert error["code"] == "review_conflict" and error["details"]["claimed_by"] == "other@example.edu"
    testapp.post_json(f"/admin/reviews/{review.id}/release", {}, headers=f.auth(mine), status=409)
    # a stale version is refused with what changed, then confirmed
    detail = testapp.get(f"/admin/reviews/{review.id}", headers=f.auth(mine)).json
    assert detail["claimed_by"] == "other@example.edu"
    testapp.post_json(f"/admin/reviews/{review.id}/release", {}, headers=f.auth(theirs))
    testapp.post_json(f"/admin/reviews/{review.id}", {"status": "suspicious"}, headers=f.auth(theirs))
    stale = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "violation", "seen": 0},
                              headers=f.auth(mine), status=409).json["error"]
    assert stale["details"]["changes"][0]["replaced_by"] == "staff:other@example.edu"
    assert stale["details"]["version"] == 1
    done = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "violation", "seen": 0, "confirm": True},
                             headers=f.auth(mine)).json
    assert done["status"] == "violation" and done["claimed_by"] is None
    # take over needs saying so
    testapp.post_json(f"/admin/reviews/{review.id}/claim", {}, headers=f.auth(theirs))
    taken = testapp.post_json(f"/admin/reviews/{review.id}/claim", {"take_over": True}, headers=f.auth(mine)).json
    assert taken["claimed_by"] == "me@example.edu"
    entries = dbsession.execute(select(AuditEntry.action).where(AuditEntry.object_id == str(review.id))).scalars()
    assert "claim_taken_over" in list(entries)


def test_an_expired_claim_blocks_nobody(testapp, dbsession, mixed):
    me = f.staff(dbsession, email="me@example.edu", role="admin")
    other = f.staff(dbsession, email="other@example.edu", role="admin")
    review = dbsession.get(Review, mixed["p1"].id)
    review.claimed_by_id = other.id
    review.claimed_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    dbsession.commit()
    answer = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "violation"},
                               headers=f.auth(staff_token(dbsession, me))).json
    assert answer["status"] == "violation"


def test_reviewer_cannot_claim_another_course(testapp, dbsession, mixed):
    reviewer = f.staff(dbsession, email="rev-a@example.edu", courses=["course-A"])
    token = staff_token(dbsession, reviewer)
    testapp.post_json(f"/admin/reviews/{mixed['s1'].id}/claim", {}, headers=f.auth(token), status=404)
    assert dbsession.get(Review, mixed["s1"].id).claimed_by_id is None


def test_bulk_decisions_one_audit_entry_each_all_or_nothing(testapp, dbsession, mixed):
    reviewer = f.staff(dbsession, email="rev-a@example.edu", courses=["course-A", "course-B"])
    token = staff_token(dbsession, reviewer)
    h = f.auth(token)
    # one review outside the reviewer's courses refuses the lot, as unknown as a missing one
    error = testapp.post_json("/admin/reviews/bulk", {"ids": [mixed["v1"].id, mixed["v2"].id], "status": "passed"},
                              headers=h, status=404).json["error"]
    assert error["details"]["ids"] == [mixed["v2"].id]
    testapp.post_json("/admin/reviews/bulk", {"ids": [mixed["v1"].id, 999999], "status": "passed"}, headers=h,
                      status=404)
    testapp.post_json("/admin/reviews/bulk", {"ids": [], "status": "passed"}, headers=h, status=400)
    testapp.post_json("/admin/reviews/bulk", {"ids": [mixed["v1"].id], "status": "great"}, headers=h, status=400)
    assert dbsession.execute(select(func.count()).select_from(AuditEntry)).scalar() == 0
    answer = testapp.post_json("/admin/reviews/bulk", {"ids": [mixed["v1"].id, mixed["s1"].id], "status": "passed",
                                                        "note": "bulk"}, headers=h).json
    assert {r["id"] for r in answer["reviews"]} == {mixed["v1"].id, mixed["s1"].id}
    dbsession.expire_all()
    entries = dbsession.execute(select(AuditEntry).where(AuditEntry.action == "second_review")).scalars().all()
    assert sorted(int(e.object_id) for e in entries) == sorted([mixed["v1"].id, mixed["s1"].id])
    assert all(dbsession.get(Review, mixed[k].id).note == "bulk" for k in ("v1", "s1"))


def test_bulk_form_in_the_browser_page(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, "admin@example.edu")
    queue = testapp.get("/admin/reviews/?course=course-B", headers=HTML)
    form = queue.forms["bulk"]
    for box in form.fields["ids"]:
        box.checked = True
    form["status"] = "violation"
    done = form.submit(headers=HTML, status=303)
    assert "course=course-B" in done.location
    page = testapp.get(done.location, headers=HTML)
    assert "Second review saved for 2 reviews" in page.text
    dbsession.expire_all()
    assert {dbsession.get(Review, mixed[k].id).status for k in ("s1", "n1")} == {"violation"}
    # nothing selected: a message, nothing written
    empty = testapp.post("/admin/reviews/bulk", {"status": "passed", "csrf_token": csrf_from(page.text)},
                         headers=HTML, status=303)
    assert "Select at least one review" in testapp.get(empty.location, headers=HTML).text


def test_refused_csrf_shows_the_review_with_what_was_typed(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, "admin@example.edu")
    review = mixed["s1"]
    page = testapp.post(f"/admin/reviews/{review.id}", {"status": "violation", "note": "typed before expiry",
                                                        "csrf_token": "stale"}, headers=HTML, status=403)
    assert 'id="problem"' in page.text and "CSRF" in page.text
    assert ">typed before expiry</textarea>" in page.text and 'value="violation" checked' in page.text
    # the page carries a fresh token: sending again works
    page.forms["second-review"].submit("then", value="stay", headers=HTML, status=303)
    dbsession.expire_all()
    assert dbsession.get(Review, review.id).note == "typed before expiry"


def test_review_page_accessibility_markup(testapp, dbsession, mixed):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, "admin@example.edu")
    page = testapp.get(f"/admin/reviews/{mixed['v1'].id}", headers=HTML)
    text = page.text
    assert 'class="skip" href="#main"' in text and 'aria-current="page">Review queue' in text
    assert "<legend>Decision</legend>" in text and 'role="img"' not in text
    assert "style=" not in text and "<script>" not in text and "onclick" not in text
    refused = testapp.post(f"/admin/reviews/{mixed['v1'].id}", {"status": "", "note": "x",
                                                                "csrf_token": csrf_from(text)},
                           headers=HTML, status=400)
    assert 'aria-invalid="true" aria-describedby="status-problem"' in refused.text
    assert 'id="status-problem"' in refused.text


def test_a_huge_incident_makes_a_small_page_with_few_ticks(testapp, dbsession):
    # A comment at stop=2147483647 once drew a tick every two hours: a 49 MB page.
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    review = receive_review(testapp, dbsession, comments=[
        {"start": 0, "stop": 2147483647, "duration": 2147483647, "comment": "forever", "status": "suspicious"},
        {"start": 3, "stop": 4, "duration": 1, "comment": "blink", "status": "violation"}])
    sign_in(testapp, "admin@example.edu")
    page = testapp.get(f"/admin/reviews/{review.id}", headers=HTML)
    assert len(page.body) < 100_000
    assert 2 <= page.text.count('class="tick-label"') <= 7
    # numbered in time order; the one-second incident still has a target wide enough to hit
    rows = dict(re.findall(r'<tr class="incident" id="incident-(\d+)">(.*?)</tr>', page.text, re.S))
    assert "forever" in rows["1"] and "blink" in rows["2"]
    assert 'aria-label="Incident 2, violation' in page.text


def test_error_pages_keep_the_admin_layout_and_speak_plainly(testapp, dbsession, mixed):
    staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    sign_in(testapp, "rev-a@example.edu")
    missing = testapp.get("/admin/nothing-here", headers=HTML, status=404)
    assert "There is nothing here (404)" in missing.text and '<nav aria-label="Admin">' in missing.text
    refused = testapp.get("/admin/configurations/", headers=HTML, status=403)
    assert "Your account may not" in refused.text and "course-A" in refused.text
    assert "manage_configurations" not in refused.text.split("Error code")[0]
    bad = testapp.get("/admin/reviews/?limit=0", headers=HTML, status=400)
    assert "This request could not be used (400)" in bad.text and "<code>limit</code>" in bad.text
    expired = testapp.post("/admin/sign-out", {}, headers=HTML, status=403)
    assert "The form had expired" in expired.text and '<nav aria-label="Admin">' in expired.text
