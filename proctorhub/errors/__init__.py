"""Typed errors: every refusal has an HTTP status, a stable code and a message.

Views raise these; the exception views in ``errors.views`` render them as
``{"error": {"status", "code", "message", "details"}}`` for programs and as a page for browsers.
"""

from __future__ import annotations


class ProctorhubError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, details=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}

    def headers(self) -> dict:
        """Response headers that belong with this refusal (``Retry-After``, ``Allow``)."""
        return {}

    def as_json(self) -> dict:
        return {
            "error": {
                "status": self.status,
                "code": self.code,
                "message": self.message,
                "details": self.details,
            }
        }


class InvalidPayload(ProctorhubError):
    status = 400
    code = "invalid_payload"


class BadRequest(ProctorhubError):
    status = 400
    code = "bad_request"


class Unauthenticated(ProctorhubError):
    status = 401
    code = "unauthenticated"


class Forbidden(ProctorhubError):
    status = 403
    code = "forbidden"


class NotFound(ProctorhubError):
    status = 404
    code = "not_found"


class Conflict(ProctorhubError):
    status = 409
    code = "conflict"


class PreconditionFailed(ProctorhubError):
    status = 412
    code = "precondition_failed"


class PayloadTooLarge(ProctorhubError):
    status = 413
    code = "payload_too_large"


class DatabaseUnavailable(ProctorhubError):
    """The database refused, dropped or did not answer in time: try again after ``retry_after`` seconds."""

    status = 503
    code = "database_unavailable"

    def __init__(self, message: str, *, retry_after: int, details=None):
        super().__init__(message, details={"retry_after": retry_after, **(details or {})})
        self.retry_after = retry_after

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


class MethodNotAllowed(ProctorhubError):
    """Something is at this URL, but it answers none of ``allowed`` to this method."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str, allowed):
        self.allowed = sorted(allowed)
        super().__init__(f"{method} is not answered here; use {', '.join(self.allowed)}",
                         details={"method": method, "allowed": self.allowed})

    def headers(self) -> dict:
        return {"Allow": ", ".join(self.allowed)}


class NotAcceptable(ProctorhubError):
    """Something is here for this method, in none of the media types the Accept header allows."""

    status = 406
    code = "not_acceptable"


class UnsupportedMediaType(ProctorhubError):
    status = 415
    code = "unsupported_media_type"


def colander_details(invalid) -> dict:
    """Field-level messages from a ``colander.Invalid``, keyed by dotted path."""
    return {"fields": {key or "(body)": message for key, message in invalid.asdict().items()}}


def includeme(config):
    config.include(".views")
    config.include(".request_limits")
