"""The staff session cookie and CSRF protection for the forms that rely on it.

The session is a signed (HMAC-SHA512), HttpOnly, SameSite=Lax cookie holding only the staff
user's id and the CSRF token; its secret is ``proctorhub.session_secret`` (or
``PROCTORHUB_SESSION_SECRET``). There is no fallback secret: a generated one would differ per
process and sign everyone out on every restart, so start-up stops instead.
"""

from __future__ import annotations

from pyramid.session import SignedCookieSessionFactory

from ..settings import SettingsError
from .policy import accepts_session_cookie

COOKIE_NAME = "proctorhub_session"
# Idle staff sessions end after eight hours (a working day); active ones are re-signed every 10 minutes.
SESSION_TIMEOUT_SECONDS = 8 * 3600
REISSUE_SECONDS = 600

def csrf_applies(request) -> bool:
    """Whether Pyramid checks the CSRF token on this (unsafe-method) request.

    CSRF is an attack on ambient credentials. A request carrying an ``Authorization`` header
    authenticates with it and never with the cookie, so it needs no token; neither does a
    request to a resource that never takes the session cookie (``accepts_session_cookie``:
    the LMS API, vendor callbacks, the LTI endpoints).
    """
    if request.authorization is not None:
        return False
    return accepts_session_cookie(request)


MIN_SECRET_BYTES = 32
# development.ini's value: public, so it must never sign a real deployment's cookies.
DEVELOPMENT_SECRETS = frozenset({"dev-session-secret-change-me"})
NEW_SECRET_HINT = ("Use a long random string, the same in every process, e.g. "
                   "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.")


def session_secret_problem(app_settings) -> str | None:
    """Why the session secret cannot sign cookies here, or None. Weak secrets pass only in
    explicit development mode; a missing one never does."""
    secret = app_settings.session_secret
    if not secret.strip():
        return ("proctorhub.session_secret (or PROCTORHUB_SESSION_SECRET) must be set: it signs the staff "
                "session cookie. " + NEW_SECRET_HINT)
    if app_settings.development_mode:
        return None
    if secret in DEVELOPMENT_SECRETS:
        return ("proctorhub.session_secret is the development value from development.ini; outside "
                "proctorhub.development_mode a deployment needs its own. " + NEW_SECRET_HINT)
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        return (f"proctorhub.session_secret (or PROCTORHUB_SESSION_SECRET) is shorter than {MIN_SECRET_BYTES} "
                "bytes; outside proctorhub.development_mode it must be at least that long. " + NEW_SECRET_HINT)
    return None


def includeme(config):
    app_settings = config.registry.app_settings
    problem = session_secret_problem(app_settings)
    if problem:
        raise SettingsError(problem)
    config.set_session_factory(
        SignedCookieSessionFactory(
            app_settings.session_secret,
            cookie_name=COOKIE_NAME,
            salt="proctorhub.session.",
            hashalg="sha512",
            secure=app_settings.secure_cookies,
            httponly=True,
            samesite="Lax",
            timeout=SESSION_TIMEOUT_SECONDS,
            reissue_time=REISSUE_SECONDS,
        )
    )
    # Every unsafe request that could ride on the cookie must carry the session's CSRF token
    # (form field ``csrf_token`` or header ``X-CSRF-Token``); see ``csrf_applies``.
    config.set_default_csrf_options(require_csrf=True, callback=csrf_applies)
