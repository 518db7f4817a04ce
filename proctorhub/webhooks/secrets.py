"""Receiver secrets at rest: sealed with the deployment's encryption keys (``proctorhub.crypto``).

HMAC signing needs the secret itself, so it cannot be hashed like an API token; it is encrypted
instead, and a database dump alone reveals none.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..crypto import Encryptor, build_encryptor


@dataclass(frozen=True)
class SecretBox:
    encryptor: Encryptor

    @classmethod
    def from_settings(cls, app_settings) -> SecretBox:
        return cls(build_encryptor(app_settings))

    def seal(self, secret: str) -> str:
        return self.encryptor.encrypt(secret)

    def open(self, stored: str) -> str:
        return self.encryptor.decrypt_text(stored)
