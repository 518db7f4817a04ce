"""The browser session: a random cookie set at the launch entry, stored as a digest server-side.

It binds the later steps (authorization, start assessment) to the browser that entered the
launch. SameSite=None because the tool's pages post back to the platform cross-site.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, update
from webob.cookies import make_cookie

from ..models import digest, utcnow
from ..models.dialect import dialect_of, mark_written
from .tables import session_t

COOKIE_NAME = "proctorhub_lti"
COOKIE_PATH = "/lti"


@dataclass(frozen=True)
class BrowserSessionFacts:
    """A browser session as a launch step's query read it (the row the cookie's digest names)."""

    id: int
    user_id: str
    expires_at: dt.datetime


# Built once: executed with parameters, each reuses one compiled form.
EXTEND_SESSION = update(session_t).where(session_t.c.id == bindparam("session_id"))


def cookie_hash(request) -> str | None:
    """The digest of this browser's session cookie, for a query to match; None without one."""
    value = request.cookies.get(COOKIE_NAME)
    return digest(value) if value else None


def bind_browser_session(request, response, user_id: str,
                         current: BrowserSessionFacts | None) -> tuple[int | None, dict | None]:
    """This browser's session for ``user_id``: the ``current`` one (as the caller's query read
    it, or None) when it is live and that user's, extended, as ``(id, None)``; else
    ``(None, values)`` of a new one for the caller to insert (with its other writes). Sets the
    cookie on ``response``."""
    lifetime = dt.timedelta(seconds=request.app_settings.session_ttl_seconds)
    now = utcnow()
    expires_at = now + lifetime
    if current is not None and current.expires_at > now and current.user_id == user_id:
        connection = request.dbsession.connection()
        dialect_of(connection).run(connection, EXTEND_SESSION, {"session_id": current.id, "expires_at": expires_at})
        mark_written(request.dbsession)
        bound = current.id, None
        value = request.cookies[COOKIE_NAME]
    else:
        value = secrets.token_urlsafe(32)
        bound = None, {"cookie_hash": digest(value), "user_id": user_id, "created_at": now,
                       "expires_at": expires_at}
    cookie = make_cookie(COOKIE_NAME, value, max_age=int(lifetime.total_seconds()), path=COOKIE_PATH,
                         httponly=True, secure=request.app_settings.secure_cookies)
    # WebOb refuses SameSite=None without Secure, which plain-http development needs; the tool's
    # cross-site form posts need SameSite=None, and production sets proctorhub.secure_cookies.
    response.headers.add("Set-Cookie", cookie + "; SameSite=None")
    return bound
