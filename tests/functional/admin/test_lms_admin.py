"""``/admin/lms/``: lmss and their tokens (admins only), and reviewer courses as (lms, context) pairs
across the queue, exams and attempts."""

import pytest
from sqlalchemy import func, select

from proctorhub.models import Lms

from ... import factories as f
from .conftest import HTML, csrf_from, receive_review, sign_in, staff_token, staff_with_password


def lms_count(dbsession) -> int:
    dbsession.expire_all()
    return dbsession.execute(select(func.count()).select_from(Lms)).scalar_one()


def test_lms_list_and_create_as_json(testapp, dbsession, admin_token):
    admin = f.auth(admin_token)
    made = testapp.post_json("/admin/lms/", {"name": "Canvas (Law)"}, headers=admin, status=201).json
    assert made["slug"] == "canvas-law" and made["name"] == "Canvas (Law)"
    assert made["url"].endswith("/admin/lms/canvas-law")
    listed = testapp.get("/admin/lms/", headers=admin).json["lms"]
    assert [row["slug"] for row in listed] == ["canvas-law", "default"]
    duplicate = testapp.post_json("/admin/lms/", {"name": "Again", "slug": "canvas-law"}, headers=admin,
                                  status=409).json["error"]
    assert duplicate["code"] == "lms_exists" and duplicate["details"] == {"lms": "canvas-law"}
    for bad in ("Canvas", "a/b", "-x", "x" * 65, "../default", ""):
        body = {"name": "Bad", "slug": bad} if bad else {"name": "///"}
        error = testapp.post_json("/admin/lms/", body, headers=admin, status=400).json["error"]
        assert error["code"] == "invalid_payload" and "slug" in error["details"]["fields"]
    error = testapp.post_json("/admin/lms/", {"name": "X", "nope": 1}, headers=admin, status=400).json["error"]
    assert error["code"] == "invalid_payload"
    assert lms_count(dbsession) == 2


def test_an_lms_shows_its_tokens_and_unknown_slugs_are_404(testapp, dbsession, admin_token):
    admin = f.auth(admin_token)
    f.lms(dbsession, "canvas")
    f.token(dbsession, name="canvas-prod", lms_slug="canvas")
    f.token(dbsession, name="moodle-prod")
    shown = testapp.get("/admin/lms/canvas", headers=admin).json
    assert shown["slug"] == "canvas" and [t["name"] for t in shown["tokens"]] == ["canvas-prod"]
    assert "token_hash" not in shown["tokens"][0]
    for name in ("nobody", "Canvas", "%C2%B2", "x" * 80):
        assert testapp.get(f"/admin/lms/{name}", headers=admin, status=404).json["error"]["code"] == "unknown_lms"
    # The slug's children are for the lms's parts (webhooks, deliveries): none is a 404 today.
    testapp.get("/admin/lms/canvas/nothing-here", headers=admin, status=404)


def test_reviewers_and_lms_tokens_may_not_see_lmss(testapp, dbsession, reviewer_a):
    reviewer = f.auth(staff_token(dbsession, reviewer_a))
    testapp.get("/admin/lms/", headers=reviewer, status=403)
    testapp.get("/admin/lms/default", headers=reviewer, status=403)
    testapp.post_json("/admin/lms/", {"name": "Sneaky"}, headers=reviewer, status=403)
    lms = f.auth(f.token(dbsession))
    testapp.get("/admin/lms/", headers=lms, status=403)
    assert lms_count(dbsession) == 1


def test_lms_pages_and_form(testapp, dbsession, admin_user):
    sign_in(testapp, "admin@example.edu")
    page = testapp.get("/admin/lms/", headers=HTML)
    assert "default" in page.text and "Add an LMS" in page.text
    form = {"name": "Moodle", "slug": "moodle", "csrf_token": csrf_from(page.text)}
    created = testapp.post("/admin/lms/", form, headers=HTML, status=303)
    assert created.location.endswith("/admin/lms/moodle")
    again = testapp.post("/admin/lms/", form, headers=HTML, status=400)
    assert "exists already" in again.text and 'value="Moodle"' in again.text
    bad = testapp.post("/admin/lms/", {**form, "slug": "Not A Slug"}, headers=HTML, status=400)
    assert "lower-case letters" in bad.text
    f.token(dbsession, name="moodle-prod", lms_slug="moodle")
    shown = testapp.get("/admin/lms/moodle", headers=HTML)
    assert "moodle-prod" in shown.text and "--lms moodle" in shown.text
    assert lms_count(dbsession) == 2


def test_lms_form_needs_its_csrf_token(testapp, dbsession, admin_user):
    sign_in(testapp, "admin@example.edu")
    assert "bad_csrf_token" in testapp.post("/admin/lms/", {"name": "Moodle"}, headers=HTML, status=403).text
    assert lms_count(dbsession) == 1


@pytest.fixture
def same_course_in_two_lmss(testapp, dbsession):
    """course-A in `default` and course-A in `other`, each with a reviewed attempt."""
    other = f.lms(dbsession, "other")
    mine = receive_review(testapp, dbsession, course="course-A", user_id="learner-mine")
    theirs = receive_review(testapp, dbsession, user_id="learner-theirs",
                            exam_row=f.exam(dbsession, context_id="course-A", lms_id=other.id))
    return mine, theirs


def test_a_reviewers_course_is_in_one_lms(testapp, dbsession, reviewer_a, same_course_in_two_lmss):
    mine, theirs = same_course_in_two_lmss
    reviewer = f.auth(staff_token(dbsession, reviewer_a))  # course-A of `default`
    queue = testapp.get("/admin/reviews/", headers=reviewer).json["reviews"]
    assert [r["id"] for r in queue] == [mine.id] and queue[0]["lms"] == "default"
    assert [r["id"] for r in testapp.get("/admin/reviews/?course=course-A", headers=reviewer).json["reviews"]] == [
        mine.id]
    exams = testapp.get("/admin/exams/", headers=reviewer).json["exams"]
    assert [e["id"] for e in exams] == [mine.exam_id] and exams[0]["lms"] == "default"
    testapp.get(f"/admin/reviews/{mine.id}", headers=reviewer, status=200)
    # Another lms's course: as unknown as a missing id (issue 13 finding 12).
    testapp.get(f"/admin/reviews/{theirs.id}", headers=reviewer, status=404)
    testapp.get(f"/admin/exams/{theirs.exam_id}", headers=reviewer, status=404)
    testapp.get(f"/admin/attempts/{theirs.attempt_code}", headers=reviewer, status=404)
    assert testapp.get(f"/admin/attempts/{mine.attempt_code}", headers=reviewer).json["lms"] == "default"
    # The same pages in a browser.
    page = testapp.get("/admin/reviews/", headers={**HTML, **reviewer})
    assert "learner-mine" in page.text and "learner-theirs" not in page.text


def test_a_reviewer_of_both_lmss_sees_both(testapp, dbsession, same_course_in_two_lmss):
    mine, theirs = same_course_in_two_lmss
    both = staff_with_password(dbsession, "both@example.edu", courses=["course-A", ("other", "course-A")])
    reviewer = f.auth(staff_token(dbsession, both))
    queue = testapp.get("/admin/reviews/", headers=reviewer).json["reviews"]
    assert sorted(r["id"] for r in queue) == sorted([mine.id, theirs.id])
    testapp.get(f"/admin/reviews/{theirs.id}", headers=reviewer, status=200)
    # An admin filters the exams by lms.
    admin = f.auth(f.token(dbsession, role="admin"))
    exams = testapp.get("/admin/exams/?lms=other", headers=admin).json["exams"]
    assert [e["id"] for e in exams] == [theirs.exam_id]
