"""Issue 13 finding 7: a vendor's `reviewed_by` counts only for staff who may review the course."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from proctorhub.models import Attempt, AuditEntry, Review, utcnow

from ... import factories as f

REST = "/api/v1/reviews/rest"
COURSE = "course-v1:Test+T1+2026"  # the factories' exam
PERSON = "$argon2id$placeholder"  # a staff user who signs in (tokens' own staff rows have no password)


def post(testapp, attempt, reviewed_by, status="suspicious", timestamp=None):
    body, headers = f.signed("rest", f.rest_payload(attempt.attempt_code, status=status, reviewed_by=reviewed_by),
                             timestamp=timestamp)
    return testapp.post(REST, body, headers=headers, status=200).json


def outcome(dbsession, attempt):
    dbsession.expire_all()
    review = dbsession.execute(select(Review).where(Review.attempt_code == attempt.attempt_code)).scalar_one()
    warnings = dbsession.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.changes)
                                 .where(AuditEntry.object_type == "review", AuditEntry.object_id == str(review.id))
                                 .order_by(AuditEntry.id)).all()
    return dbsession.get(Attempt, attempt.id).status, review.reviewer_id, review.vendor_reviewed_by, warnings


@pytest.mark.parametrize("who", ["other-course", "same-context-other-lms", "unknown", "disabled-admin",
                                 "token-row"])
def test_a_reviewed_by_without_the_right_to_review_counts_as_no_reviewer(testapp, dbsession, who):
    """The attack: a vendor names a staff account of another course; the suspicious review became
    final (`rejected`) as if that person had decided."""
    email = f"{who}@example.edu"
    if who == "other-course":
        f.staff(dbsession, email=email, courses=["course-v1:Other+O1+2026"], password_hash=PERSON)
    elif who == "same-context-other-lms":
        f.lms(dbsession, "other")
        f.staff(dbsession, email=email, courses=[("other", COURSE)], password_hash=PERSON)
    elif who == "disabled-admin":
        f.staff(dbsession, email=email, role="admin", password_hash=PERSON, disabled_at=utcnow())
    elif who == "token-row":
        f.staff(dbsession, email=email, role="admin", password_hash=None)
    attempt = f.attempt(dbsession)
    answer = post(testapp, attempt, email.upper())
    assert answer["reviewed_by"] is None and answer["attempt"]["status"] == "second_review_required"
    status, reviewer_id, kept, warnings = outcome(dbsession, attempt)
    assert (status, reviewer_id, kept) == ("second_review_required", None, email.upper())
    assert warnings == [("vendor:rest", "vendor_reviewer_ignored", {"reviewed_by": [email.upper(), None]})]


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_a_reviewer_of_the_course_or_an_admin_counts(testapp, dbsession, role):
    courses = [COURSE] if role == "reviewer" else []
    staff = f.staff(dbsession, email="judge@example.edu", role=role, courses=courses, password_hash=PERSON)
    attempt = f.attempt(dbsession)
    answer = post(testapp, attempt, "Judge@Example.edu")
    assert answer["reviewed_by"] == "judge@example.edu"
    assert outcome(dbsession, attempt) == ("rejected", staff.id, None, [])


def test_an_update_naming_a_stranger_is_decided_without_a_reviewer(testapp, dbsession):
    f.staff(dbsession, email="judge@example.edu", courses=[COURSE], password_hash=PERSON)
    f.staff(dbsession, email="stranger@example.edu", courses=["elsewhere"], password_hash=PERSON)
    attempt = f.attempt(dbsession, status="submitted")
    now = int(time.time())
    post(testapp, attempt, None, status="suspicious", timestamp=now - 10)
    assert outcome(dbsession, attempt)[0] == "second_review_required"
    answer = post(testapp, attempt, "stranger@example.edu", status="violation", timestamp=now)
    assert answer["outcome"] == "updated" and answer["reviewed_by"] is None
    status, reviewer_id, kept, warnings = outcome(dbsession, attempt)
    assert (status, reviewer_id, kept) == ("second_review_required", None, "stranger@example.edu")
    assert [w[1] for w in warnings] == ["vendor_reviewer_ignored"]
