"""Staff sign-in and sign-out (``/admin/sign-in``, ``/admin/sign-out``).

Failed sign-ins are throttled per (email, client address) and per client address, in the
database (``admin.throttle``): every process slows the same guesser, and nobody can lock an
account out for its owner elsewhere. Signing out ends every session of the user (their session
generation moves on, see ``security.policy``).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config
from sqlalchemy import func, select

from ..models import StaffUser, utcnow
from ..security.passwords import hash_password, needs_rehash, verify_password
from . import throttle as th
from .forms import render_page

TEMPLATE = "proctorhub:templates/admin/signin.jinja2"


def safe_next(request, value: str | None) -> str:
    """Only a path on this site, in printable ASCII without spaces: never an absolute or
    scheme-relative URL (an open redirect), nor anything a Location header cannot carry."""
    if (value and value.startswith("/") and not value.startswith("//") and "\\" not in value
            and all(0x21 <= ord(ch) <= 0x7E for ch in value)):
        return value
    return request.route_path("admin", traverse="/reviews/")


def _form(request, *, email="", error=None, status=200):
    return render_page(TEMPLATE, {
        "email": email, "error": error, "next": request.params.get("next", ""), "nav": None,
    }, request=request, status=status)


@view_config(route_name="admin.signin", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def signin_page(request):
    return _form(request)


@view_config(route_name="admin.signin", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def signin(request):
    email = request.POST.get("email", "").strip().lower()[:255]
    password = request.POST.get("password", "")
    # Decided before anything is written, so that a bad value cannot fail after the commit.
    next_path = safe_next(request, request.POST.get("next"))
    dbsession = request.dbsession
    now = utcnow()
    throttle = th.load(dbsession, email, request.client_addr)
    wait = throttle.seconds_locked(now)
    if wait:
        return _form(request, email=email, status=429,
                     error=f"Too many failed sign-ins from here. Try again in {wait} seconds.")
    staff = dbsession.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email)
    ).scalar_one_or_none() if email else None
    usable = staff is not None and staff.disabled_at is None and staff.role in ("admin", "reviewer")
    if not verify_password(staff.password_hash if usable else None, password):
        th.record_failure(dbsession, throttle, now)
        return _form(request, email=email, status=401, error="Wrong email or password.")
    th.record_success(dbsession, throttle)
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    # A fresh session and CSRF token for the signed-in user.
    request.session.invalidate()
    headers = remember(request, staff.id, generation=staff.session_generation)
    request.session.new_csrf_token()
    return HTTPSeeOther(next_path, headers=headers)


@view_config(route_name="admin.signout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def signout(request):
    """End the session: this cookie, any copy of it, and the user's other sessions."""
    identity = request.identity
    if identity is not None and identity.kind == "staff":
        staff = request.dbsession.get(StaffUser, identity.staff_user_id)
        if staff is not None:
            staff.session_generation += 1
    headers = forget(request)
    request.session.invalidate()
    request.session.flash("You are signed out.")
    return HTTPSeeOther(request.route_path("admin.signin"), headers=headers)
