"""Staff passwords: Argon2id (argon2-cffi) with its recommended parameters."""

from __future__ import annotations

import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_LENGTH = 10

# An unknown email must take as long as a wrong password, or response times would tell which
# emails have accounts; but hashing for it would let a flood of made-up emails spend the CPU.
# So an unknown email waits (no CPU) for as long as a verification took here, measured once.
_DUMMY_HASH = _hasher.hash("proctorhub: no such staff user")
_started = time.perf_counter()
try:
    _hasher.verify(_DUMMY_HASH, "proctorhub: the wrong password")
except VerifyMismatchError:
    pass
VERIFY_SECONDS = time.perf_counter() - _started


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (unknown user) False, after the time a real
    verification takes but without its work."""
    if password_hash is None:
        time.sleep(VERIFY_SECONDS)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or ``None``."""
    if len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters long"
    if password.strip() != password:
        return "the password must not start or end with spaces"
    return None
