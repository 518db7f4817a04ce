"""Issue 13 finding 5: signing out (or a password change, or `staff disable`) ends a session for
good, copies of its cookie included, and no session outlives its absolute lifetime."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from webtest import TestApp

from proctorhub.cli import main
from proctorhub.models import StaffUser
from proctorhub.security import policy
from proctorhub.security.session import COOKIE_NAME

from ... import factories as f
from ...conftest import ROOT
from ..admin.conftest import HTML, PASSWORD, csrf_from, sign_in, staff_token, staff_with_password

EMAIL = "admin@example.edu"
JSON = {"Accept": "application/json"}


@pytest.fixture
def admin(dbsession):
    return staff_with_password(dbsession, EMAIL, role="admin")


@pytest.fixture
def ini(tmp_path, db_url):
    text = (ROOT / "testing.ini").read_text().replace("sqlite:///%(here)s/testing.sqlite", db_url)
    path = tmp_path / "staff.ini"
    path.write_text(text)
    return str(path)


def copy_of(testapp) -> TestApp:
    """Another browser holding a copy of ``testapp``'s session cookie (stolen, or kept)."""
    other = TestApp(testapp.app)
    other.set_cookie(COOKIE_NAME, testapp.cookies[COOKIE_NAME])
    return other


def signed_in(testapp) -> bool:
    status = testapp.get("/admin/reviews/", headers=JSON, expect_errors=True).status_int
    assert status in (200, 401)
    return status == 200


def generation(dbsession) -> int:
    dbsession.expire_all()
    return dbsession.execute(select(StaffUser.session_generation).where(StaffUser.email == EMAIL)).scalar_one()


def test_a_copied_cookie_stops_working_at_sign_out(testapp, dbsession, admin):
    sign_in(testapp, EMAIL)
    thief = copy_of(testapp)
    assert signed_in(thief)
    page = testapp.get("/admin/reviews/", headers=HTML)
    testapp.post("/admin/sign-out", {"csrf_token": csrf_from(page.text)}, headers=HTML, status=303)
    assert not signed_in(testapp)
    error = thief.get("/admin/reviews/", headers=JSON, status=401).json["error"]
    assert error["code"] == "unauthenticated"
    thief.get("/admin/reviews/", headers=HTML, status=302)  # to the sign-in page
    # The thief's copy cannot act either (its CSRF token is still in the cookie).
    csrf = csrf_from(page.text)
    thief.post("/admin/sign-out", {"csrf_token": csrf}, headers=HTML, status=303)
    assert generation(dbsession) == 1  # only the real sign-out moved it on
    sign_in(testapp, EMAIL)
    assert signed_in(testapp) and not signed_in(thief)


def test_a_session_ends_at_its_absolute_lifetime_however_active(make_app, dbsession, admin, monkeypatch):
    testapp = make_app(**{"proctorhub.session_max_age_seconds": "3600"})
    sign_in(testapp, EMAIL)
    assert signed_in(testapp)
    real_time = policy.time.time
    monkeypatch.setattr(policy.time, "time", lambda: real_time() + 3500)
    assert signed_in(testapp)  # still within the hour, and active
    monkeypatch.setattr(policy.time, "time", lambda: real_time() + 3601)
    assert not signed_in(testapp)


def test_a_password_change_ends_every_session(testapp, dbsession, admin, ini, monkeypatch, capsys):
    sign_in(testapp, EMAIL)
    laptop = copy_of(testapp)
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new passphrase\n"))
    assert main(["staff", "password", ini, "--email", "Admin@Example.edu"]) == 0
    assert "sessions have ended" in capsys.readouterr().out
    assert not signed_in(testapp) and not signed_in(laptop)
    sign_in(TestApp(testapp.app), EMAIL, PASSWORD, status=401)
    sign_in(testapp, EMAIL, "a brand new passphrase")
    assert signed_in(testapp)


def test_staff_password_refuses_what_create_refuses(ini, dbsession, admin, monkeypatch, capsys):
    before = dbsession.execute(select(StaffUser.password_hash)).scalar_one()
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "password", ini, "--email", EMAIL]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new passphrase\n"))
    assert main(["staff", "password", ini, "--email", "nobody@example.edu"]) == 2
    assert "no staff user" in capsys.readouterr().err
    dbsession.expire_all()
    assert dbsession.execute(select(StaffUser.password_hash)).scalar_one() == before
    assert generation(dbsession) == 0


def test_staff_disable_ends_sessions_tokens_and_sign_in(testapp, dbsession, admin, ini, capsys):
    token = staff_token(dbsession, admin)
    sign_in(testapp, EMAIL)
    assert testapp.get("/admin/reviews/", headers={**JSON, **f.auth(token)}, status=200)
    assert main(["staff", "disable", ini, "--email", EMAIL]) == 0
    assert "disabled" in capsys.readouterr().out
    assert not signed_in(testapp)
    fresh = TestApp(testapp.app)
    assert fresh.get("/admin/reviews/", headers={**JSON, **f.auth(token)}, status=401).json["error"][
        "code"] == "unauthenticated"
    page = sign_in(fresh, EMAIL, PASSWORD, status=401)
    assert "Wrong email or password" in page.text
    dbsession.expire_all()
    assert dbsession.execute(select(StaffUser.disabled_at)).scalar_one() is not None
