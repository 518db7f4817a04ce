"""Building rows for tests: each helper adds, commits and returns what it made."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from proctorhub.backends import sign
from proctorhub.cli.tokens import create_token
from proctorhub.models import DEFAULT_SLUG, Attempt, Exam, Lms, StaffCourse, StaffUser, ToolConfiguration

SECRETS = {"softwaresecure": "test-softwaresecure-secret", "rest": "test-rest-secret",
           "sandbox": "test-sandbox-secret"}


def lms(dbsession, slug=DEFAULT_SLUG, name=None) -> Lms:
    """The lms with this slug, made if new (every test database starts with `default`)."""
    row = dbsession.execute(select(Lms).where(Lms.slug == slug)).scalar_one_or_none()
    if row is None:
        row = Lms(slug=slug, name=name or f"LMS {slug}")
        dbsession.add(row)
        dbsession.commit()
    return row


def token(dbsession, role="lms", name="test", lms_slug=None):
    """A new API token; an lms token belongs to ``lms_slug`` (default: `default`)."""
    if role == "lms":
        lms_slug = lms(dbsession, lms_slug or DEFAULT_SLUG).slug
    raw = create_token(dbsession, role, name, lms_slug)
    dbsession.commit()
    return raw


def auth(raw_token: str) -> dict:
    return {"Authorization": f"Bearer {raw_token}"}


def configuration(dbsession, **fields) -> ToolConfiguration:
    defaults = {
        "name": f"Tool {time.monotonic_ns()}",
        "deployment_id": "deployment-1",
        "oidc_login_url": "https://tool.test/login",
        "launch_url": "https://tool.test/launch",
        "redirect_uris": ["https://tool.test/launch"],
        "backend": None,
    }
    row = ToolConfiguration(**{**defaults, **fields})
    dbsession.add(row)
    dbsession.commit()
    return row


def exam(dbsession, **fields) -> Exam:
    defaults = {"context_id": "course-v1:Test+T1+2026", "resource_link_id": f"link-{time.monotonic_ns()}",
                "name": "Final exam", "is_proctored": True, "is_practice": False}
    if "lms" not in fields and "lms_id" not in fields:
        defaults["lms_id"] = lms(dbsession).id
    row = Exam(**{**defaults, **fields})
    dbsession.add(row)
    dbsession.commit()
    return row


def attempt(dbsession, exam_row=None, **fields) -> Attempt:
    exam_row = exam_row or exam(dbsession)
    defaults = {"user_id": "learner-1", "user_name": "Ada Learner", "user_email": "ada@example.edu",
                "attempt_number": 1, "status": "submitted"}
    row = Attempt(exam_id=exam_row.id, **{**defaults, **fields})
    dbsession.add(row)
    dbsession.commit()
    return row


def staff(dbsession, email="reviewer@example.edu", role="reviewer", courses=(), **fields) -> StaffUser:
    """A staff user; each course is a context id (in the lms `default`) or an (lms slug, context id) pair."""
    pairs = [course if isinstance(course, tuple) else (DEFAULT_SLUG, course) for course in courses]
    row = StaffUser(email=email, role=role, courses=[StaffCourse(lms_id=lms(dbsession, slug).id, context_id=context)
                                                     for slug, context in pairs], **fields)
    dbsession.add(row)
    dbsession.commit()
    return row


def signed(backend: str, payload, *, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, dict]:
    """The body and headers of a signed review callback."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "X-Proctorhub-Signature": sign(secret or SECRETS[backend], timestamp, body),
    }
    return body, headers


def softwaresecure_payload(attempt_code: str, status="Clean", record_locator="SSI-RECORD-1", **extra) -> dict:
    payload = {
        "examDate": "2026-11-20T10:00:00Z",
        "examProcessingStatus": "Review Completed",
        "examTakerEmail": "ada@example.edu",
        "examTakerFirstName": "Ada",
        "examTakerLastName": "Learner",
        "keySetVersion": "",
        "examApiData": {"duration": 60, "examCode": attempt_code, "examName": "Final exam"},
        "examMetaData": {
            "examCode": attempt_code,
            "examName": "Final exam",
            "examUrl": "https://lms.test/exam",
            "orgExtra": {"examStartDate": "2026-11-20T10:00:00Z", "examEndDate": "2026-11-20T11:00:00Z"},
            "reviewedExam": True,
            "reviewerNotes": "Closed book",
            "ssiExamToken": "4E44F7AA-275D-4741-B531-73AE2407ECFB",
            "ssiProduct": "rp-now",
            "ssiRecordLocator": record_locator,
        },
        "reviewStatus": status,
        "videoReviewLink": "https://vendor.test/video/secret-link",
        "desktopComments": [
            {"comments": "Browsing other websites", "duration": 76, "eventFinish": 88, "eventStart": 12,
             "eventStatus": "Suspicious"},
        ],
        "webCamComments": [
            {"comments": "Looking away", "duration": 10, "eventFinish": 20, "eventStart": 10,
             "eventStatus": "Rules Violation"},
            {"comments": "Second person", "duration": 5, "eventFinish": 105, "eventStart": 100,
             "eventStatus": "Suspicious"},
        ],
    }
    payload.update(extra)
    return payload


def rest_payload(attempt_code: str, status="passed", comments=None, **extra) -> dict:
    payload = {"attempt_code": attempt_code, "status": status,
               "comments": comments if comments is not None else [
                   {"start": 5, "stop": 15, "duration": 10, "comment": "Phone visible", "status": "suspicious"}]}
    payload.update(extra)
    return payload
