"""Permissions: every view names one of these."""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    # LMS API: attempts and launches.
    lms = "lms"
    # A vendor posting a review; the backend authenticates it (signature) in the view.
    submit_review = "submit_review"
    # LTI protocol endpoints (browser entry, authorization, start assessment, JWKS, token, ACS):
    # open to everyone at the ACL; each view authenticates by the LTI means its step requires.
    lti = "lti"
    # Staff admin.
    view_admin = "view_admin"
    view_review = "view_review"
    decide_review = "decide_review"
    view_exam = "view_exam"
    edit_exam = "edit_exam"
    view_attempt = "view_attempt"
    manage_configurations = "manage_configurations"
    manage_lms = "manage_lms"
    view_backends = "view_backends"


def role_principal(role: str) -> str:
    return f"role:{role}"


def course_principal(lms_id: int, context_id: str) -> str:
    """A reviewer's course: a context id within one lms (the same id in another lms is another course)."""
    return f"course:{lms_id}:{context_id}"
