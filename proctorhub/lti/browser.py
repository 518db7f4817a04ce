"""The browser session: a random cookie set at the launch entry, stored as a digest server-side.

It binds the later steps (authorization, start assessment) to the browser that entered the
launch. SameSite=None because the tool's pages post back to the platform cross-site.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from webob.cookies import make_cookie

from ..models import BrowserSession, digest, utcnow

COOKIE_NAME = "proctorhub_lti"
COOKIE_PATH = "/lti"


def current_browser_session(request) -> BrowserSession | None:
    value = request.cookies.get(COOKIE_NAME)
    if not value:
        return None
    session = request.dbsession.execute(
        select(BrowserSession).where(BrowserSession.cookie_hash == digest(value))
    ).scalar_one_or_none()
    if session is None or session.expires_at <= utcnow():
        return None
    return session


def bind_browser_session(request, response, user_id: str) -> BrowserSession:
    """This browser's session for ``user_id``: the current one when it is that user's, else a new one."""
    lifetime = dt.timedelta(seconds=request.app_settings.launch_ttl_seconds)
    session = current_browser_session(request)
    if session is not None and session.user_id == user_id:
        session.expires_at = utcnow() + lifetime
        value = request.cookies[COOKIE_NAME]
    else:
        value = secrets.token_urlsafe(32)
        session = BrowserSession(cookie_hash=digest(value), user_id=user_id, expires_at=utcnow() + lifetime)
        request.dbsession.add(session)
        request.dbsession.flush()
    cookie = make_cookie(COOKIE_NAME, value, max_age=int(lifetime.total_seconds()), path=COOKIE_PATH,
                         httponly=True, secure=request.app_settings.secure_cookies)
    # WebOb refuses SameSite=None without Secure, which plain-http development needs; the tool's
    # cross-site form posts need SameSite=None, and production sets proctorhub.secure_cookies.
    response.headers.add("Set-Cookie", cookie + "; SameSite=None")
    return session
