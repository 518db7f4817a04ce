"""Telling a database that is down or too slow apart from a bug, and saying so once.

A request that meets such a database is answered 503 ``database_unavailable`` with
``Retry-After`` (``errors.views.database_unavailable``); the log gets one line per interval
saying how many requests were refused and why, not a traceback per request.

Whether a client may simply send a refused request again depends on when the database failed:

- before COMMIT: nothing was stored; every request may be sent again;
- at COMMIT: the database may or may not have stored the change. Requests in ``SAFE_TO_RESEND``
  store their effect once however often they are sent (a review callback stores one review for
  an attempt, attempt creation finds the attempt it made, a repeated ACS action changes nothing
  twice), so they may be sent again. Any other request should be checked first (e.g. read the
  attempt or the configuration back) before it is sent again.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

# (route name, method): requests whose effect is stored once however often they are sent.
SAFE_TO_RESEND = frozenset({
    ("reviews.callback", "POST"),      # one review per attempt; the same callback twice stores it once
    ("api.attempts", "POST"),          # finds the attempt (200) that the first request created (201)
    ("api.launches", "POST"),          # finds the attempt; a second launch URL is harmless, the first expires
    ("api.attempt_submit", "POST"),    # submitting a submitted attempt changes nothing
    ("api.attempt", "DELETE"),         # archiving an archived attempt changes nothing
    ("lti.acs", "POST"),               # the same ACS request twice changes nothing twice
    ("lti.token", "POST"),             # another access token; the first still expires on time
})

# Set in the WSGI environ when the request's session starts its COMMIT.
COMMITTING = "proctorhub.committing"

# SQLSTATEs of a transaction that lost to a concurrent one; pyramid_retry retries these first.
LOST_RACE_SQLSTATES = frozenset({"40001", "40P01"})


def sqlstate(exc) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def is_lost_race(exc) -> bool:
    return sqlstate(exc) in LOST_RACE_SQLSTATES


def is_unavailable(exc) -> bool:
    """A database that is unreachable, dropped the connection, timed out or has no free connection."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.PendingRollbackError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) and not is_lost_race(exc)
    return False


def mark_committing(session) -> None:
    """``before_commit`` of every request's session: a failure from here on is a failed COMMIT."""
    request = session.info.get("request")
    if request is not None:
        request.environ[COMMITTING] = True


def safe_to_resend(request) -> bool:
    route = getattr(request, "matched_route", None)
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return True
    return route is not None and (route.name, request.method) in SAFE_TO_RESEND


class RateLimitedLog:
    """At most one warning per ``interval`` seconds, counting the refusals in between."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0):
        self.logger = logger
        self.interval = interval
        self._lock = threading.Lock()
        self._next = 0.0
        self._suppressed = 0

    def __call__(self, message: str, *args) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._suppressed += 1
                return False
            self._next = now + self.interval
            suppressed, self._suppressed = self._suppressed, 0
        if suppressed:
            message += f" ({suppressed} more since the last such line)"
        self.logger.warning(message, *args)
        return True


report_unavailable = RateLimitedLog(log)


def describe(exc) -> str:
    """One line: the kind of failure and the driver's first line, without the SQL or its parameters."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first_line}"
