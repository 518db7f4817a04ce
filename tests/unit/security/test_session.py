"""Issue 13 finding 11: weak session secrets stop start-up unless development mode is explicit."""

from __future__ import annotations

import pytest

from proctorhub import main
from proctorhub.security.session import MIN_SECRET_BYTES, session_secret_problem
from proctorhub.settings import SettingsError, parse_settings

STRONG = "k" * MIN_SECRET_BYTES


@pytest.mark.parametrize(("secret", "development", "refused"), [
    ("", False, "must be set"),
    ("", True, "must be set"),
    ("   ", True, "must be set"),
    ("short-secret", False, "shorter than 32 bytes"),
    ("k" * (MIN_SECRET_BYTES - 1), False, "shorter than 32 bytes"),
    ("dev-session-secret-change-me", False, "development value"),
    ("short-secret", True, None),
    ("dev-session-secret-change-me", True, None),
    (STRONG, False, None),
    ("é" * 16, False, None),  # 32 bytes in UTF-8
])
def test_session_secret_rules(secret, development, refused, monkeypatch):
    monkeypatch.delenv("PROCTORHUB_SESSION_SECRET", raising=False)
    settings = parse_settings({"proctorhub.session_secret": secret,
                               "proctorhub.development_mode": "true" if development else "false"})
    problem = session_secret_problem(settings)
    if refused is None:
        assert problem is None
    else:
        assert refused in problem


@pytest.mark.parametrize("secret", ["test-session-secret", "dev-session-secret-change-me"])
def test_the_app_refuses_to_start_with_a_weak_secret_outside_development_mode(base_settings, secret, monkeypatch):
    monkeypatch.delenv("PROCTORHUB_SESSION_SECRET", raising=False)
    settings = {**base_settings, "proctorhub.development_mode": "false", "proctorhub.session_secret": secret}
    with pytest.raises(SettingsError, match="session_secret"):
        main({}, **settings)


def test_the_environment_secret_is_checked_too(base_settings, monkeypatch, dbengine):
    monkeypatch.setenv("PROCTORHUB_SESSION_SECRET", "too-short-from-env")
    with pytest.raises(SettingsError, match="shorter than 32 bytes"):
        main({}, **{**base_settings, "proctorhub.development_mode": "false"})
    monkeypatch.setenv("PROCTORHUB_SESSION_SECRET", STRONG)
    app = main({}, **{**base_settings, "proctorhub.development_mode": "false"})
    app.registry["dbengine"].dispose()
