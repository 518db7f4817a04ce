"""JSON shapes of the admin's objects (attempts and reviews keep the API's one shape)."""

from __future__ import annotations

from ..attempts.serialize import attempt_json, iso, review_fields, review_json
from ..lti.setup_values import tool_setup_values
from ..models import ToolConfiguration
from .audit import audit_json


def configuration_json(request, configuration: ToolConfiguration, *, setup: bool = True) -> dict:
    answer = {
        "id": configuration.id,
        "name": configuration.name,
        "client_id": configuration.client_id,
        "deployment_id": configuration.deployment_id,
        "oidc_login_url": configuration.oidc_login_url,
        "launch_url": configuration.launch_url,
        "end_assessment_url": configuration.end_assessment_url,
        "redirect_uris": list(configuration.redirect_uris or []),
        "jwks_url": configuration.jwks_url,
        "public_key_pem": configuration.public_key_pem,
        "proctoring_enabled": configuration.proctoring_enabled,
        "acs_actions": list(configuration.acs_actions or []),
        "backend": configuration.backend,
        "acs_review": configuration.acs_review,
        "acs_severity_threshold": configuration.acs_severity_threshold,
        "acs_submitted_reason_codes": list(configuration.acs_submitted_reason_codes or []),
        "custom": dict(configuration.custom or {}),
        "status": configuration.status,
        # What the tool asked for when it registered itself (null for hand-made configurations),
        # and a later registration waiting for approval.
        "registration": configuration.registration,
        "pending_update": configuration.pending_update,
        "created_at": iso(configuration.created_at),
        "modified_at": iso(configuration.modified_at),
    }
    if setup:
        answer["tool_setup"] = tool_setup_values(request, configuration)
    return answer


def exam_json(exam) -> dict:
    return {
        "id": exam.id,
        "name": exam.name,
        "lms": exam.lms.slug,
        "context_id": exam.context_id,
        "context_title": exam.context_title,
        "resource_link_id": exam.resource_link_id,
        "resource_link_title": exam.resource_link_title,
        "time_limit_mins": exam.time_limit_mins,
        "is_proctored": exam.is_proctored,
        "is_practice": exam.is_practice,
        "configuration_id": exam.configuration_id,
        "backend": exam.backend,
        "created_at": iso(exam.created_at),
        "modified_at": iso(exam.modified_at),
    }


def review_summary_json(review) -> dict:
    """A queue row: no comments or payload, so a page is one query."""
    attempt = review.attempt
    return {
        **review_fields(review),
        "lms": attempt.exam.lms.slug,
        "context_id": review.context_id,
        "exam_id": review.exam_id,
        "exam_name": attempt.exam.name,
        "queue_priority": review.queue_priority,
        "attempt_status": attempt.status,
        "user_id": attempt.user_id,
        "user_name": attempt.user_name,
    }


def claim_json(review) -> dict:
    from .second_review import live_claim

    holder = live_claim(review)
    return {"claimed_by": holder.email if holder else None,
            "claimed_at": iso(review.claimed_at) if holder else None}


def history_json(entry) -> dict:
    return {
        "id": entry.id,
        "status": entry.status,
        "vendor_status": entry.vendor_status,
        "reviewed_by": entry.reviewer.email if entry.reviewer else None,
        "note": entry.note,
        "comments": entry.comments,
        "replaced_by": entry.replaced_by,
        "valid_from": iso(entry.valid_from),
        "replaced_at": iso(entry.replaced_at),
    }


def review_detail_json(review, *, audit_entries, raw: bool, now) -> dict:
    answer = review_json(review)
    answer.update(
        context_id=review.context_id,
        exam_id=review.exam_id,
        note=review.note,
        # A vendor's reviewed_by that named nobody who may review this course (not counted).
        vendor_reviewed_by=review.vendor_reviewed_by,
        queue_priority=review.queue_priority,
        attempt=attempt_json(review.attempt, review, now=now),
        history=[history_json(h) for h in review.history],
        audit=[audit_json(e) for e in audit_entries],
        # What a decision sends back as "seen", to be told if the review changed meanwhile.
        version=len(review.history),
        decided_at=iso(review.decided_at),
        **claim_json(review),
    )
    # The redacted payload is large and rarely needed: sent only when asked for (?raw=1).
    if raw:
        answer["raw_payload"] = review.raw_payload
    return answer


def status_history_json(event) -> dict:
    return {
        "from": event.payload.get("from"),
        "to": event.payload.get("to"),
        "reason": event.payload.get("reason"),
        "at": iso(event.created_at),
    }
