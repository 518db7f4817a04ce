"""Errors a backend plugin raises; each becomes a 4xx in the one JSON error shape."""

from __future__ import annotations

from ..errors import InvalidPayload, ProctorhubError


class BackendError(ProctorhubError):
    """Base for errors raised by or about a backend plugin."""


class BadReviewStatus(BackendError):
    status = 400
    code = "bad_review_status"


class AuthenticationFailed(BackendError):
    """The callback did not prove it came from the vendor."""

    status = 401
    code = "bad_signature"


class MissingSignature(AuthenticationFailed):
    code = "missing_signature"


class SignatureExpired(AuthenticationFailed):
    code = "signature_expired"


__all__ = [
    "AuthenticationFailed",
    "BackendError",
    "BadReviewStatus",
    "InvalidPayload",
    "MissingSignature",
    "SignatureExpired",
]
