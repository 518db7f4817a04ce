"""SoftwareSecure's videoReviewLink: stored only encrypted, shown only on the review's staff page."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from cryptography.fernet import Fernet
from sqlalchemy import String, cast, inspect, select, text

from proctorhub.crypto import Encryptor
from proctorhub.models import Review
from proctorhub.reviews.video import video_link
from proctorhub.settings import parse_settings

from ... import factories as f
from .conftest import HTML, receive_review, sign_in, staff_token, staff_with_password

LINK = "https://vendor.test/video/secret-link"


def _everything_stored(dbsession) -> str:
    """Every column of every table, as text."""
    chunks = []
    connection = dbsession.connection()
    for table in inspect(connection).get_table_names():
        columns = [c["name"] for c in inspect(connection).get_columns(table)]
        for row in connection.execute(select(*(cast(text(f'"{c}"'), String) for c in columns))
                                      .select_from(text(f'"{table}"'))):
            chunks.extend(str(value) for value in row if value is not None)
    return "\n".join(chunks)


def test_the_video_link_is_never_stored_logged_or_served_in_clear(testapp, dbsession, caplog):
    caplog.set_level(logging.DEBUG)
    reviewer = staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1", time_limit_mins=60)
    stored = dbsession.get(Review, review.id)
    assert stored.video_link_encrypted and LINK not in stored.video_link_encrypted
    assert "secret-link" not in _everything_stored(dbsession)
    # the LMS API, the queue and the raw-payload view never carry it
    lms = f.auth(f.token(dbsession, role="lms"))
    assert "secret-link" not in testapp.get(f"/api/v1/attempts/{review.attempt_code}", headers=lms).text
    token = staff_token(dbsession, reviewer)
    assert "secret-link" not in testapp.get("/admin/reviews/", headers=f.auth(token)).text
    raw = testapp.get(f"/admin/reviews/{review.id}?raw=1", headers=f.auth(token)).json
    assert raw["raw_payload"]["videoReviewLink"] == "[redacted]" and raw["video_link"] == LINK
    # the staff page shows it as a link, with each incident's offset
    sign_in(testapp, "rev-a@example.edu")
    page = testapp.get(f"/admin/reviews/{review.id}", headers=HTML)
    assert f'href="{LINK}"' in page.text and f'href="{LINK}#t=10"' in page.text
    assert "secret-link" not in testapp.get(f"/admin/reviews/{review.id}?raw=1", headers=HTML).text.split(
        'id="raw"')[1]
    assert "secret-link" not in testapp.get(f"/admin/attempts/{review.attempt_code}", headers=HTML).text
    # nor in anything logged on the way
    assert "secret-link" not in caplog.text
    assert "secret-link" not in _everything_stored(dbsession)


def test_staff_of_another_course_never_see_it(testapp, dbsession):
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1", course="course-A")
    other = f.staff(dbsession, email="rev-b@example.edu", courses=["course-B"])
    answer = testapp.get(f"/admin/reviews/{review.id}", headers=f.auth(staff_token(dbsession, other)), status=404)
    assert "secret-link" not in answer.text


def test_an_update_without_a_link_forgets_the_old_one(testapp, dbsession):
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1")
    payload = f.softwaresecure_payload(review.attempt_code, status="Clean", record_locator="SSI-RECORD-1")
    del payload["videoReviewLink"]
    body, headers = f.signed("softwaresecure", payload)
    testapp.post("/api/v1/reviews/softwaresecure", body, headers=headers, status=200)
    dbsession.expire_all()
    assert dbsession.get(Review, review.id).video_link_encrypted is None


def test_a_link_that_is_not_a_web_address_is_not_kept(testapp, dbsession):
    exam = f.exam(dbsession, context_id="course-A")
    attempt = f.attempt(dbsession, exam, external_id="SSI-RECORD-1")
    payload = f.softwaresecure_payload(attempt.attempt_code, status="Clean", videoReviewLink="javascript:alert(1)")
    body, headers = f.signed("softwaresecure", payload)
    testapp.post("/api/v1/reviews/softwaresecure", body, headers=headers, status=200)
    stored = dbsession.execute(select(Review).where(Review.attempt_code == attempt.attempt_code)).scalar_one()
    assert stored.video_link_encrypted is None and "javascript" not in _everything_stored(dbsession)


def test_rotated_keys_still_open_it_and_unknown_keys_show_nothing(testapp, dbsession, base_settings, caplog):
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1")
    stored = dbsession.get(Review, review.id)
    old_keys = parse_settings(base_settings).encryption_keys
    new_key = Fernet.generate_key()
    # a new key first, the old one still listed: the stored link opens
    assert video_link(SimpleNamespace(encryptor=Encryptor([new_key, *old_keys])), stored) == LINK
    # only keys that never encrypted it: nothing is shown, and nothing secret is logged
    assert video_link(SimpleNamespace(encryptor=Encryptor([new_key])), stored) is None
    assert "secret-link" not in caplog.text and stored.video_link_encrypted not in caplog.text
