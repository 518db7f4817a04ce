"""Issue 13 finding 12: no existence oracle for other courses' ids; per-lms return_url hosts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from proctorhub.models import Attempt, Launch, ReviewHistory
from proctorhub.settings import SettingsError, parse_settings

from ... import factories as f
from ..admin.conftest import HTML, receive_review, staff_token, staff_with_password

JSON = {"Accept": "application/json"}


@pytest.fixture
def world(testapp, dbsession):
    reviewer = staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    mine = receive_review(testapp, dbsession, course="course-A")
    other = receive_review(testapp, dbsession, course="course-B", user_id="u2")
    return {"reviewer": f.auth(staff_token(dbsession, reviewer)), "mine": mine, "other": other}


def test_another_courses_ids_answer_exactly_as_missing_ones(testapp, dbsession, world):
    """The oracle: 403 for another course's review, 404 for a review that does not exist."""
    h, other = {**world["reviewer"], **JSON}, world["other"]
    pairs = [(f"/admin/reviews/{other.id}", "/admin/reviews/999999"),
             (f"/admin/attempts/{other.attempt_code}", "/admin/attempts/no-such-attempt-code"),
             (f"/admin/exams/{other.exam_id}", "/admin/exams/999999")]
    for theirs, missing in pairs:
        a = testapp.get(theirs, headers=h, status=404).json["error"]
        b = testapp.get(missing, headers=h, status=404).json["error"]
        assert (a["code"], a["details"]) == (b["code"], b["details"]) == ("not_found", {})
        assert a["message"].replace(theirs, "PATH") == b["message"].replace(missing, "PATH")
    assert testapp.get(f"/admin/reviews/{world['mine'].id}", headers=h, status=200)


def test_deciding_another_courses_review_is_a_404_and_changes_nothing(testapp, dbsession, world):
    before = dbsession.execute(select(func.count()).select_from(ReviewHistory)).scalar_one()
    testapp.post_json(f"/admin/reviews/{world['other'].id}", {"status": "passed"},
                      headers={**world["reviewer"], **JSON}, status=404)
    dbsession.expire_all()
    assert dbsession.execute(select(func.count()).select_from(ReviewHistory)).scalar_one() == before
    assert dbsession.get(Attempt, world["other"].attempt_id).status == "second_review_required"


def test_strangers_learn_nothing_either(testapp, dbsession, world):
    """Not signed in: an existing id and a missing one both ask for a sign-in."""
    for path in (f"/admin/reviews/{world['other'].id}", "/admin/reviews/999999"):
        assert testapp.get(path, headers=JSON, status=401).json["error"]["code"] == "unauthenticated"
        assert "/admin/sign-in" in testapp.get(path, headers=HTML, status=302).location


RETURN_HOSTS = {"proctorhub.lms.default.return_url_hosts": "lms.example.edu *.moodle.example.org"}


def _launch(app, dbsession, lms, return_url, status):
    config = f.configuration(dbsession, public_key_pem=None, jwks_url="https://tool.test/jwks")
    return app.post_json("/api/v1/launches", {
        "config_id": config.id, "message_type": "LtiStartProctoring", "user": {"id": "learner-1", "role": "learner"},
        "resource_link": {"id": f"exam-{config.id}"}, "context": {"id": "course-1"}, "attempt_number": 1,
        "return_url": return_url}, headers=f.auth(lms), status=status).json


def test_return_url_hosts_can_be_limited_per_lms(make_app, dbsession, lms):
    app = make_app(**RETURN_HOSTS)
    for url in ("https://evil.example/phish", "https://lms.example.edu.evil.example/", "https://moodle.example.org/",
                "https://xmoodle.example.org/"):
        error = _launch(app, dbsession, lms, url, 400)["error"]
        assert error["code"] == "invalid_payload" and "return_url" in error["details"]["fields"]
    dbsession.expire_all()
    assert dbsession.execute(select(func.count()).select_from(Launch)).scalar_one() == 0
    assert dbsession.execute(select(func.count()).select_from(Attempt)).scalar_one() == 0
    for url in ("https://LMS.example.edu/courses/1", "https://a.b.moodle.example.org/x"):
        assert _launch(app, dbsession, lms, url, 201)["launch_url"]
    # Another lms without a list keeps any host.
    other = f.token(dbsession, lms_slug=f.lms(dbsession, "other").slug)
    assert _launch(app, dbsession, other, "https://anywhere.example/", 201)["launch_url"]


@pytest.mark.parametrize("value", ["https://lms.example.edu", "lms.example.edu/path", "*", "a.*.example"])
def test_a_malformed_host_list_stops_start_up(value):
    with pytest.raises(SettingsError, match="return_url_hosts"):
        parse_settings({"proctorhub.lms.default.return_url_hosts": value})
