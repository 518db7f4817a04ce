"""Posting a review to proctorhub the way a vendor does: JSON signed with the shared secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

from .errors import ToolError

STATUSES = ("passed", "suspicious", "violation", "not_reviewed")
COMMENT_SLOTS = 2


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Proctorhub-Signature``: HMAC-SHA256 of ``"<t>." + body``, as DESIGN.md 5.2 defines it."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _int(form, name: str) -> int:
    raw = (form.get(name) or "").strip()
    try:
        return int(raw)
    except ValueError:
        raise ToolError("invalid_review_form", f"{name} must be a whole number of seconds, not {raw!r}") from None


def payload_from_form(form) -> dict:
    """The review payload from the review form (``attempt_code``, ``status``, comment slots)."""
    attempt_code = (form.get("attempt_code") or "").strip()
    if not attempt_code:
        raise ToolError("invalid_review_form", "the attempt code is required")
    status = form.get("status")
    if status not in STATUSES:
        raise ToolError("invalid_review_form", f"status must be one of {', '.join(STATUSES)}")
    comments = []
    for slot in range(1, COMMENT_SLOTS + 1):
        text = (form.get(f"comment_{slot}") or "").strip()
        if not text:
            continue
        start, stop = _int(form, f"comment_{slot}_start"), _int(form, f"comment_{slot}_stop")
        comments.append({"start": start, "stop": stop, "duration": stop - start, "comment": text,
                         "status": (form.get(f"comment_{slot}_status") or "suspicious").strip()})
    payload = {"attempt_code": attempt_code, "status": status, "comments": comments}
    external_id = (form.get("external_id") or "").strip()
    if external_id:
        payload["external_id"] = external_id
    return payload


def send_review(url: str, secret: str, payload: dict, *, timeout: float = 10.0) -> tuple[int, object]:
    """POST the signed review; proctorhub's status code and answer (JSON, or text if it is not JSON)."""
    body = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "X-Proctorhub-Signature": signature_header(secret, int(time.time()), body)}
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise ToolError("platform_unreachable", f"the review could not be posted to {url}: {exc}", status=502) from None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text
