"""``POST /api/v1/reviews/{backend}``: a vendor posts its review of an attempt."""

from __future__ import annotations

import datetime as dt

import colander
from pyramid.view import view_config

from ..attempts.serialize import attempt_json, review_json
from ..backends.errors import AuthenticationFailed, BadReviewStatus
from ..backends.schema import REVIEW_STATUSES, NormalisedReviewSchema
from ..errors import Conflict, InvalidPayload, PreconditionFailed, colander_details
from ..schemas import parse_json_object
from ..security import Permission
from .replay import ledger_entry
from .service import payload_digest, store_vendor_review
from .target import load_review_target
from .video import encrypted_video_link


def normalise(backend, payload: dict) -> dict:
    """The plugin's normalised review, validated: a faulty plugin never writes bad rows."""
    normalised = backend.normalise(payload)
    try:
        return NormalisedReviewSchema().deserialize(normalised)
    except colander.Invalid as invalid:
        details = colander_details(invalid)
        if "status" in details["fields"]:
            raise BadReviewStatus(
                f"the review status {normalised.get('status')!r} is not one of {', '.join(REVIEW_STATUSES)}",
                details=details,
            ) from None
        raise InvalidPayload("the review does not match the normalised review shape", details=details) from None


def check_vendor_record(backend, attempt, payload: dict) -> None:
    """The vendor's record id must name the same attempt (case-insensitively)."""
    vendor_id = backend.external_id(payload)
    if backend.requires_external_id and not (vendor_id and attempt.external_id):
        raise AuthenticationFailed(
            "unsigned callbacks are accepted only when they carry the vendor record id the attempt was "
            "registered with",
            code="external_id_required",
        )
    if vendor_id is None or attempt.external_id is None:
        return
    if vendor_id.strip().lower() != attempt.external_id.strip().lower():
        raise Conflict(
            "the vendor record id in the review does not match the attempt's",
            code="external_id_mismatch",
            details={"attempt_code": attempt.attempt_code},
        )


@view_config(route_name="reviews.callback", request_method="POST", renderer="json",
             permission=Permission.submit_review)
def review_callback(context, request):
    """Authenticate, normalise, store the review and its comments, and settle the attempt."""
    backend = context.backend
    body = request.body
    signed_at = backend.authenticate(request.headers, body)
    # A signed message goes to the replay ledger (with the attempt's read, in one round trip
    # where the database allows): a resend of it is then known as a replay.
    ledger = None
    if signed_at is not None:
        ledger = ledger_entry(backend=backend.name, timestamp=signed_at, body=body,
                              window_seconds=backend.signature_window_seconds)
        signed_at = dt.datetime.fromtimestamp(signed_at, dt.UTC)
    payload = parse_json_object(body)
    attempt_code = backend.attempt_code(payload)
    normalised = normalise(backend, payload)

    target, fresh = load_review_target(request.dbsession, attempt_code, remember=ledger)
    replayed = not fresh
    check_vendor_record(backend, target, payload)
    exam = target.exam
    if exam.backend is not None and exam.backend != backend.name:
        raise Conflict(
            f"this attempt's exam is reviewed through backend {exam.backend!r}, not {backend.name!r}",
            code="backend_mismatch",
            details={"expected": exam.backend, "received": backend.name},
        )
    if not exam.is_proctored:
        raise PreconditionFailed(
            "the attempt's exam is no longer proctored; its reviews are not accepted",
            code="exam_not_proctored",
            details={"exam_id": exam.id},
        )
    stored = store_vendor_review(
        request.dbsession,
        backend=backend,
        target=target,
        normalised=normalised,
        redacted_payload=backend.redact(payload),
        digest=payload_digest(body),
        vendor_status=backend.vendor_status(payload),
        app_settings=request.app_settings,
        signed_at=signed_at,
        replayed=replayed,
        video_link_encrypted=encrypted_video_link(request, backend, payload),
    )
    answer = review_json(stored.review)
    answer["outcome"] = stored.outcome
    answer["attempt"] = attempt_json(stored.attempt, stored.review, now=request.now)
    return answer
