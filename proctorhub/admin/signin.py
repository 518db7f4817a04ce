"""Staff sign-in and sign-out (``/admin/sign-in``, ``/admin/sign-out``).

Failed sign-ins are counted per email in the database (``signin_throttle``), known accounts or
not, so every process slows the same guesser: after ``FREE_FAILURES`` in a row, the email is
locked for ``BASE_LOCK_SECONDS``, doubling with each further failure up to ``MAX_LOCK_SECONDS``.
While locked, the password is not even checked.
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config
from sqlalchemy import func, select

from ..models import SigninThrottle, StaffUser, utcnow
from ..models.retry import flush_or_retry
from ..security.passwords import hash_password, needs_rehash, verify_password

TEMPLATE = "proctorhub:templates/admin/signin.jinja2"
FREE_FAILURES = 5
BASE_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60


def safe_next(request, value: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (an open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return request.route_path("admin", traverse="/reviews/")


def lock_seconds(failures: int) -> int:
    if failures < FREE_FAILURES:
        return 0
    return min(BASE_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)


def _throttle(dbsession, email: str) -> SigninThrottle | None:
    return dbsession.execute(
        select(SigninThrottle).where(SigninThrottle.email == email).with_for_update()
    ).scalar_one_or_none()


def seconds_locked(throttle: SigninThrottle | None, now: dt.datetime) -> int:
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return 0
    return max(1, int((throttle.locked_until - now).total_seconds() + 0.999))


def record_failure(dbsession, email: str, throttle: SigninThrottle | None, now: dt.datetime) -> None:
    if throttle is None:
        throttle = SigninThrottle(email=email, failures=0)
        dbsession.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = now
    locked = lock_seconds(throttle.failures)
    throttle.locked_until = now + dt.timedelta(seconds=locked) if locked else None
    # Two failures for a new email at once: the loser's insert is retried and finds the row.
    flush_or_retry(dbsession)


def _form(request, *, email="", error=None, status=200):
    response = render_to_response(TEMPLATE, {
        "email": email, "error": error, "next": request.params.get("next", ""), "nav": None,
    }, request=request)
    response.status_int = status
    return response


@view_config(route_name="admin.signin", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def signin_page(request):
    return _form(request)


@view_config(route_name="admin.signin", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def signin(request):
    email = request.POST.get("email", "").strip().lower()[:255]
    password = request.POST.get("password", "")
    dbsession = request.dbsession
    now = utcnow()
    throttle = _throttle(dbsession, email)
    wait = seconds_locked(throttle, now)
    if wait:
        return _form(request, email=email, status=429,
                     error=f"Too many failed sign-ins for this email. Try again in {wait} seconds.")
    staff = dbsession.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email)
    ).scalar_one_or_none() if email else None
    if not verify_password(staff.password_hash if staff else None, password) or staff.role not in ("admin",
                                                                                                  "reviewer"):
        record_failure(dbsession, email, throttle, now)
        return _form(request, email=email, status=401, error="Wrong email or password.")
    if throttle is not None:
        dbsession.delete(throttle)
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    # A fresh session and CSRF token for the signed-in user.
    request.session.invalidate()
    headers = remember(request, staff.id)
    request.session.new_csrf_token()
    return HTTPSeeOther(safe_next(request, request.POST.get("next")), headers=headers)


@view_config(route_name="admin.signout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def signout(request):
    headers = forget(request)
    request.session.invalidate()
    request.session.flash("You are signed out.")
    return HTTPSeeOther(request.route_path("admin.signin"), headers=headers)
