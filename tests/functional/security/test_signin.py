"""Issue 13 findings 9 and 10: sign-in's `next` and its throttle."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from proctorhub.admin import throttle
from proctorhub.models import SigninThrottle, utcnow
from proctorhub.security import passwords

from ..admin.conftest import HTML, PASSWORD, csrf_from, staff_with_password

ADMIN = "admin@example.edu"
HERE, THERE = "198.51.100.7", "203.0.113.9"


@pytest.fixture
def admin(dbsession):
    return staff_with_password(dbsession, ADMIN, role="admin")


@pytest.fixture
def no_wait(monkeypatch):
    """Unknown emails cost no waiting in these tests (the waiting itself is tested below)."""
    monkeypatch.setattr(passwords, "VERIFY_SECONDS", 0)


def attempt(testapp, email, password, *, address, status, next_path=""):
    environ = {"REMOTE_ADDR": address}
    page = testapp.get("/admin/sign-in", headers=HTML, extra_environ=environ)
    return testapp.post("/admin/sign-in", {"email": email, "password": password, "next": next_path,
                                           "csrf_token": csrf_from(page.text)},
                        headers=HTML, extra_environ=environ, status=status)


def rows(dbsession) -> dict:
    dbsession.expire_all()
    return {row.key: (row.failures, row.locked_until is not None)
            for row in dbsession.execute(select(SigninThrottle)).scalars()}


# -- finding 10: nobody can lock an admin out from somewhere else ---------------------------------

def test_wrong_passwords_from_one_address_do_not_lock_the_admin_out_elsewhere(testapp, dbsession, admin):
    """The attack: five wrong passwords from anywhere locked the account for up to 15 minutes."""
    for _ in range(5):
        attempt(testapp, ADMIN, "not the password", address=HERE, status=401)
    attempt(testapp, ADMIN, "not the password", address=HERE, status=429)
    refused = attempt(testapp, ADMIN, PASSWORD, address=HERE, status=429)  # the guesser's address
    assert "Too many failed sign-ins" in refused.text
    assert rows(dbsession)[f"pair:{HERE} {ADMIN}"] == (5, True)  # counted until locked, then not checked
    attempt(testapp, ADMIN, PASSWORD, address=THERE, status=303)  # the admin, elsewhere
    assert f"pair:{THERE} {ADMIN}" not in rows(dbsession)


def test_an_address_guessing_across_many_emails_is_locked(testapp, dbsession, admin, no_wait):
    for index in range(throttle.ADDRESS_FREE_FAILURES):
        attempt(testapp, f"user{index}@example.edu", "guess-guess", address=HERE, status=401)
    assert rows(dbsession)[f"address:{HERE}"] == (throttle.ADDRESS_FREE_FAILURES, True)
    attempt(testapp, "fresh@example.edu", "guess-guess", address=HERE, status=429)
    attempt(testapp, ADMIN, PASSWORD, address=THERE, status=303)


def test_ipv6_clients_are_counted_per_64(testapp, dbsession, admin):
    for index in range(5):
        attempt(testapp, ADMIN, "not the password", address=f"2001:db8:7:7::{index + 1}", status=401)
    attempt(testapp, ADMIN, PASSWORD, address="2001:db8:7:7::ffff", status=429)
    attempt(testapp, ADMIN, PASSWORD, address="2001:db8:7:8::1", status=303)


def test_old_failures_are_forgotten(testapp, dbsession, admin):
    now = utcnow()
    old = now - throttle.FORGET_AFTER - dt.timedelta(minutes=1)
    dbsession.add_all([
        SigninThrottle(key=f"pair:{HERE} {ADMIN}", failures=4, last_failure_at=old),
        SigninThrottle(key="address:192.0.2.1", failures=3, last_failure_at=old),
        SigninThrottle(key="address:192.0.2.2", failures=30, last_failure_at=old,
                       locked_until=now + dt.timedelta(minutes=5)),  # still locked: kept
    ])
    dbsession.commit()
    attempt(testapp, ADMIN, "not the password", address=HERE, status=401)
    # The pair's four old failures no longer count: this one is the first. The sign-in deletes
    # nothing: old rows go with `proctorhub purge` (tests/functional/ops/test_retention.py).
    assert rows(dbsession) == {f"pair:{HERE} {ADMIN}": (1, False), f"address:{HERE}": (1, False),
                               "address:192.0.2.1": (3, False), "address:192.0.2.2": (30, True)}


def test_unknown_emails_cost_no_argon2_work(testapp, dbsession, admin, monkeypatch):
    verified, slept = [], []
    real = passwords._hasher

    class Counting:
        def verify(self, *args):
            verified.append(1)
            return real.verify(*args)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    monkeypatch.setattr(passwords, "time", SimpleNamespace(sleep=slept.append))
    for index in range(3):
        attempt(testapp, f"nobody{index}@example.edu", "guess-guess", address=HERE, status=401)
    assert verified == [] and slept == [passwords.VERIFY_SECONDS] * 3
    attempt(testapp, ADMIN, "not the password", address=HERE, status=401)
    assert verified == [1] and len(slept) == 3
    assert passwords.VERIFY_SECONDS > 0


# -- finding 9: `next` is a printable ASCII local path, or the queue ------------------------------

@pytest.mark.parametrize("next_path", [
    "/admin/exams/\r\nSet-Cookie: stolen=1", "/admin/exams/\nX", "/admin/révisions/", "/admin/exams/ 1",
"//evil.example/", "https://evil.example/", "/\\evil.example",
])
def test_a_next_that_is_not_a_plain_local_path_goes_to_the_queue(testapp, dbsession, admin, next_path):
    landed = attempt(testapp, ADMIN, PASSWORD, address=HERE, status=303, next_path=next_path)
    assert landed.location == "http://localhost/admin/reviews/"
    assert "stolen" not in str(landed.headers)
    assert testapp.get("/admin/reviews/", headers={"Accept": "application/json"}, status=200)


def test_a_plain_local_next_is_followed(testapp, dbsession, admin):
    landed = attempt(testapp, ADMIN, PASSWORD, address=HERE, status=303, next_path="/admin/exams/?q=a%20b")
    assert landed.location == "http://localhost/admin/exams/?q=a%20b"
    dbsession.expire_all()
    assert dbsession.execute(select(func.count()).select_from(SigninThrottle)).scalar_one() == 0
