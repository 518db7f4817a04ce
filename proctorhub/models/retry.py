"""Turning lost unique-constraint races into retries."""

from __future__ import annotations

from pyramid_retry import mark_error_retryable
from sqlalchemy.exc import IntegrityError


def flush_or_retry(dbsession) -> None:
    """Flush; if another transaction just inserted the same unique key, retry the request.

    Safe because a retried request starts a fresh transaction and sees the winner's row,
    then answers as if it had come second (found, not created). On the last attempt the
    error reaches the exception view as a 409.
    """
    try:
        dbsession.flush()
    except IntegrityError as exc:
        mark_error_retryable(exc)
        raise
