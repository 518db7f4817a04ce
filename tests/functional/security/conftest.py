"""Fixtures for the attack tests of issue 13."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from proctorhub.security import passwords

# The LTI flow's fixtures, for the attacks that need a launch.
from ..lti.conftest import lms, platform_key_rows, platform_keys, tool  # noqa: F401


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 at its cheapest: these tests sign in dozens of times to count, lock and end
    sessions; what they check does not depend on the hash's cost."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
