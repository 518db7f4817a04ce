"""proctorhub.crypto: secrets at rest under keys from the environment, rotatable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from proctorhub.crypto import DEVELOPMENT_KEY, DecryptionError, Encryptor, build_encryptor
from proctorhub.settings import SettingsError, parse_settings

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_round_trip_and_no_clear_text():
    encryptor = Encryptor([NEW])
    token = encryptor.encrypt("-----BEGIN PRIVATE KEY-----\nsecret\n")
    assert "PRIVATE" not in token and "secret" not in token
    assert token.isascii() and Encryptor.is_encrypted(token)
    assert not Encryptor.is_encrypted("-----BEGIN PRIVATE KEY-----")
    assert encryptor.decrypt_text(token) == "-----BEGIN PRIVATE KEY-----\nsecret\n"


def test_rotation_newest_first():
    old_token = Encryptor([OLD]).encrypt("video link")
    both = Encryptor([NEW, OLD])
    assert both.decrypt_text(old_token) == "video link"
    assert not both.is_current(old_token)
    rotated = both.rotate(old_token)
    assert both.is_current(rotated)
    assert Encryptor([NEW]).decrypt_text(rotated) == "video link"
    # Once the old key is dropped, what it alone encrypted no longer opens.
    with pytest.raises(DecryptionError):
        Encryptor([NEW]).decrypt(old_token)


def test_tampered_or_foreign_values_are_refused():
    encryptor = Encryptor([NEW])
    token = encryptor.encrypt("x")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    for value in (tampered, "not a token", Encryptor([OLD]).encrypt("x")):
        with pytest.raises(DecryptionError):
            encryptor.decrypt(value)


def test_keys_from_the_environment_newest_first(monkeypatch):
    old_token = Encryptor([OLD]).encrypt("s")
    monkeypatch.setenv("PROCTORHUB_ENCRYPTION_KEYS", f"{NEW}, {OLD}")
    settings = parse_settings({"proctorhub.encryption_keys": Fernet.generate_key().decode()})
    assert settings.encryption_keys == (NEW, OLD)
    encryptor = build_encryptor(settings)
    assert encryptor.decrypt_text(old_token) == "s"
    assert Encryptor([NEW]).decrypt_text(encryptor.encrypt("t")) == "t"


def test_no_keys_refuses_to_start_unless_development_mode_is_explicit(monkeypatch):
    monkeypatch.delenv("PROCTORHUB_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(SettingsError, match="PROCTORHUB_ENCRYPTION_KEYS"):
        build_encryptor(parse_settings({}))
    development = build_encryptor(parse_settings({"proctorhub.development_mode": "true"}))
    assert Encryptor([DEVELOPMENT_KEY]).decrypt_text(development.encrypt("dev")) == "dev"


@pytest.mark.parametrize("keys", ["not-a-key", f"{NEW},short", "A" * 44])
def test_malformed_keys_stop_start_up(keys, monkeypatch):
    monkeypatch.delenv("PROCTORHUB_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(SettingsError, match="not a Fernet key"):
        build_encryptor(parse_settings({"proctorhub.encryption_keys": keys}))


def test_the_app_refuses_to_start_without_keys(base_settings, monkeypatch):
    from proctorhub import main

    monkeypatch.delenv("PROCTORHUB_ENCRYPTION_KEYS", raising=False)
    settings = {**base_settings, "proctorhub.encryption_keys": "", "proctorhub.development_mode": "false"}
    with pytest.raises(SettingsError, match="PROCTORHUB_ENCRYPTION_KEYS"):
        main({}, **settings)
