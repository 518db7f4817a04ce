"""Arranging the admin's world: staff with passwords and tokens, reviews received through the app."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from proctorhub.models import ApiToken, Review, digest
from proctorhub.security.passwords import hash_password

from ... import factories as f

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html"}


def staff_with_password(dbsession, email, role="reviewer", courses=(), password=PASSWORD):
    return f.staff(dbsession, email=email, role=role, courses=courses, password_hash=hash_password(password))


def staff_token(dbsession, staff_user) -> str:
    raw = "ph_" + secrets.token_urlsafe(32)
    dbsession.add(ApiToken(role=staff_user.role, name=staff_user.email, token_hash=digest(raw),
                           staff_user_id=staff_user.id))
    dbsession.commit()
    return raw


def receive_review(testapp, dbsession, *, course="course-A", status="suspicious", backend="rest", comments=None,
                   exam_row=None, user_id="learner-1", time_limit_mins=None, **attempt_fields):
    """An attempt in ``course`` whose vendor review arrived through the callback; returns the Review."""
    exam_row = exam_row or f.exam(dbsession, context_id=course, time_limit_mins=time_limit_mins)
    attempt = f.attempt(dbsession, exam_row, user_id=user_id, **attempt_fields)
    if backend == "rest":
        payload = f.rest_payload(attempt.attempt_code, status=status, comments=comments)
    else:
        payload = f.softwaresecure_payload(attempt.attempt_code, status=status, record_locator="SSI-RECORD-1")
    body, headers = f.signed(backend, payload)
    testapp.post(f"/api/v1/reviews/{backend}", body, headers=headers, status=200)
    dbsession.expire_all()
    return dbsession.execute(select(Review).where(Review.attempt_code == attempt.attempt_code)).scalar_one()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(testapp, email, password=PASSWORD, *, status=303, next_path=""):
    page = testapp.get("/admin/sign-in", headers=HTML)
    return testapp.post("/admin/sign-in", {"email": email, "password": password, "next": next_path,
                                           "csrf_token": csrf_from(page.text)}, headers=HTML, status=status)


@pytest.fixture
def admin_user(dbsession):
    return staff_with_password(dbsession, "admin@example.edu", role="admin")


@pytest.fixture
def reviewer_a(dbsession):
    return staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])


@pytest.fixture
def admin_token(dbsession):
    return f.token(dbsession, role="admin", name="admin program")
