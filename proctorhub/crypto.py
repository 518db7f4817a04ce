"""Secrets at rest: encrypted with keys from the environment, so a database dump reveals none.

Keys are Fernet keys (AES-128-CBC + HMAC-SHA256, from ``cryptography``), given newest first in
``PROCTORHUB_ENCRYPTION_KEYS`` (or ``proctorhub.encryption_keys``), separated by commas or spaces.
The newest key encrypts; every listed key decrypts. To rotate: put a new key first and keep the
old ones after it, re-encrypt what is stored (``Encryptor.rotate``), then drop the old keys. A new
key::

    python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'

Without keys proctorhub refuses to start, unless ``proctorhub.development_mode = true``: then a
fixed development key (public, in this file) is used, which protects nothing.

API::

    encryptor = request.encryptor                 # or build_encryptor(app_settings), read once
    token = encryptor.encrypt("secret text")      # ASCII text, safe for a text column
    encryptor.decrypt_text(token)                 # "secret text"; DecryptionError if no key fits
    encryptor.rotate(token)                       # the same secret under the newest key
    encryptor.is_encrypted(value)                 # whether a stored value looks like a token

A column that holds tokens is registered with ``register_encrypted_column(Model.__table__.c.x)``
next to its model; ``proctorhub keys reencrypt INI`` (``reencrypt_all``) then moves every value
of every registered column to the newest key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update

from .settings import SettingsError

# Public on purpose: only for explicit development mode, where nothing real is stored.
DEVELOPMENT_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"proctorhub development encryption key; protects nothing").digest()).decode("ascii")
# Every Fernet token starts with its version byte 0x80, which base64url writes as "gAAAAA".
TOKEN_PREFIX = "gAAAAA"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key (or was tampered with)."""


class Encryptor:
    """Encrypts with the first key, decrypts with any."""

    def __init__(self, keys):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernets = [Fernet(key) for key in keys]
        self._multi = MultiFernet(self._fernets)

    def encrypt(self, data: str | bytes) -> str:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self._multi.encrypt(data).decode("ascii")

    def decrypt(self, token: str | bytes) -> bytes:
        if isinstance(token, str):
            token = token.encode("ascii", "replace")
        try:
            return self._multi.decrypt(token)
        except InvalidToken:
            raise DecryptionError("no configured encryption key decrypts this value") from None

    def decrypt_text(self, token: str | bytes) -> str:
        return self.decrypt(token).decode("utf-8")

    def rotate(self, token: str | bytes) -> str:
        """The same secret encrypted with the newest key (DecryptionError if no key fits)."""
        if isinstance(token, str):
            token = token.encode("ascii", "replace")
        try:
            return self._multi.rotate(token).decode("ascii")
        except InvalidToken:
            raise DecryptionError("no configured encryption key decrypts this value") from None

    def is_current(self, token: str | bytes) -> bool:
        """Whether the newest key decrypts this token (so rotating it would change nothing)."""
        if isinstance(token, str):
            token = token.encode("ascii", "replace")
        try:
            self._fernets[0].decrypt(token)
        except InvalidToken:
            return False
        return True

    @staticmethod
    def is_encrypted(value) -> bool:
        return isinstance(value, str | bytes) and (
            value.startswith(TOKEN_PREFIX) if isinstance(value, str) else value.startswith(TOKEN_PREFIX.encode()))


ENCRYPTED_COLUMNS: list = []  # sqlalchemy Columns whose values are Encryptor tokens (or NULL)


def register_encrypted_column(column):
    """Declare that ``column`` (of a table with a one-column primary key) holds tokens."""
    if column not in ENCRYPTED_COLUMNS:
        ENCRYPTED_COLUMNS.append(column)
    return column


def reencrypt_all(dbsession, encryptor: Encryptor) -> dict[str, int]:
    """Re-encrypt every registered column's values that the newest key did not encrypt; answers
    how many values changed per ``table.column``. DecryptionError if a value opens with no key."""
    changed = {}
    for column in ENCRYPTED_COLUMNS:
        table = column.table
        (primary,) = table.primary_key.columns
        count = 0
        rows = dbsession.execute(select(primary, column).where(column.is_not(None))).all()
        for key, value in rows:
            if not encryptor.is_current(value):
                dbsession.execute(update(table).where(primary == key).values({column.name: encryptor.rotate(value)}))
                count += 1
        changed[f"{table.name}.{column.name}"] = count
    return changed


def build_encryptor(app_settings) -> Encryptor:
    """The deployment's encryptor; ``SettingsError`` (start-up stops) when its keys are unusable."""
    keys = list(app_settings.encryption_keys)
    if not keys:
        if not app_settings.development_mode:
            raise SettingsError(
                "no encryption keys: set PROCTORHUB_ENCRYPTION_KEYS (or proctorhub.encryption_keys) to one or "
                "more Fernet keys, newest first, or proctorhub.development_mode = true for a development key")
        keys = [DEVELOPMENT_KEY]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SettingsError(
                f"encryption key {position} of {len(keys)} is not a Fernet key (32 bytes, url-safe base64)") from None
    return Encryptor(keys)


def includeme(config):
    config.registry.encryptor = build_encryptor(config.registry.app_settings)
    config.add_request_method(lambda request: request.registry.encryptor, "encryptor", reify=True)
