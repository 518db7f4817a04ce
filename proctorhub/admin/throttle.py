"""Sign-in throttling: per (email, client address) and per client address, in the database.

The old throttle counted failures per email alone, so anybody could lock any admin out by
guessing wrong five times. Now a lock only ever falls on the address that failed:

- an (email, address) pair is locked after ``PAIR_FREE_FAILURES`` failures in a row, for
  ``BASE_LOCK_SECONDS`` doubling with each further failure up to ``MAX_LOCK_SECONDS``;
- an address is locked the same way after ``ADDRESS_FREE_FAILURES`` failures for any emails, so
  one client cannot spread its guesses over many accounts;
- the right password from an address that has not failed is never refused;
- failures older than ``FORGET_AFTER`` no longer count; ``proctorhub purge`` and the worker delete
  such rows after ``proctorhub.retention.signin_throttle_hours`` (``retention.py``);
- IPv6 clients are counted per /64 network, which one subscriber usually holds whole.

While a key is locked the password is not even checked.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from sqlalchemy import select

from ..models import SigninThrottle
from ..models.retry import flush_or_retry

PAIR_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
BASE_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
FORGET_AFTER = dt.timedelta(hours=1)


def client_network(address: str | None) -> str:
    """The unit a client is counted in: its IPv4 address, or its IPv6 /64."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


def lock_seconds(failures: int, free: int) -> int:
    if failures < free:
        return 0
    return min(BASE_LOCK_SECONDS * 2 ** (failures - free), MAX_LOCK_SECONDS)


@dataclass
class Throttle:
    """The two rows that govern one sign-in attempt (either may not exist yet)."""

    pair_key: str
    address_key: str
    pair: SigninThrottle | None
    address: SigninThrottle | None

    def seconds_locked(self, now: dt.datetime) -> int:
        return max(_seconds_locked(self.pair, now), _seconds_locked(self.address, now))


def _seconds_locked(row: SigninThrottle | None, now: dt.datetime) -> int:
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return max(1, int((row.locked_until - now).total_seconds() + 0.999))


def load(dbsession, email: str, client_addr: str | None) -> Throttle:
    network = client_network(client_addr)
    pair_key, address_key = f"pair:{network} {email}"[:400], f"address:{network}"
    rows = {row.key: row for row in dbsession.execute(
        select(SigninThrottle).where(SigninThrottle.key.in_([pair_key, address_key])).with_for_update()
    ).scalars()}
    return Throttle(pair_key, address_key, rows.get(pair_key), rows.get(address_key))


def _count(dbsession, row: SigninThrottle | None, key: str, free: int, now: dt.datetime) -> SigninThrottle:
    if row is None:
        row = SigninThrottle(key=key, failures=0)
        dbsession.add(row)
    elif row.last_failure_at is not None and now - row.last_failure_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    locked = lock_seconds(row.failures, free)
    row.locked_until = now + dt.timedelta(seconds=locked) if locked else None
    return row


def record_failure(dbsession, throttle: Throttle, now: dt.datetime) -> None:
    throttle.pair = _count(dbsession, throttle.pair, throttle.pair_key, PAIR_FREE_FAILURES, now)
    throttle.address = _count(dbsession, throttle.address, throttle.address_key, ADDRESS_FREE_FAILURES, now)
    # Two first failures at once: the loser's insert is retried and finds the row.
    flush_or_retry(dbsession)


def record_success(dbsession, throttle: Throttle) -> None:
    """The pair's count starts again; the address's does not (one good account must not wash
    away a client's guesses at others), it is forgotten with time."""
    if throttle.pair is not None:
        dbsession.delete(throttle.pair)
