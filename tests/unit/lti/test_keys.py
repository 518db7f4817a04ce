"""Platform keys are parsed once per process, whatever the number of signatures."""

from __future__ import annotations

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization

from proctorhub.crypto import Encryptor
from proctorhub.lti import keys
from proctorhub.models import KeyState

ENCRYPTOR = Encryptor([Fernet.generate_key()])


class _Rows:
    def __init__(self, kid, pem):
        self.kid, self.pem = kid, pem

    def execute(self, statement):
        text = str(statement)
        value = self.pem if "private_key_encrypted" in text else self.kid
        return _Result(value)


class _Result:
    def __init__(self, value):
        self.value = value

    def scalar_one_or_none(self):
        return self.value

    def scalar_one(self):
        return self.value


def test_new_key_is_rsa_2048_with_a_public_jwk():
    key = keys.new_key(KeyState.next, ENCRYPTOR)
    assert "PRIVATE" not in key.private_key_encrypted
    private = serialization.load_pem_private_key(ENCRYPTOR.decrypt(key.private_key_encrypted), None)
    assert private.key_size >= 2048
    assert key.public_jwk["kid"] == key.kid and "d" not in key.public_jwk
    assert key.state == "next" and key.activated_at is None


def test_private_key_parsed_once_per_kid(monkeypatch):
    key = keys.new_key(KeyState.active, ENCRYPTOR)
    calls = []
    real = serialization.load_pem_private_key

    def counting(data, password):
        calls.append(1)
        return real(data, password)

    monkeypatch.setattr(keys.serialization, "load_pem_private_key", counting)
    rows = _Rows(key.kid, key.private_key_encrypted)
    tokens = [keys.sign(rows, {"sub": str(i)}, encryptor=ENCRYPTOR) for i in range(5)]
    assert len(calls) == 1
    public = jwt.algorithms.RSAAlgorithm.from_jwk(key.public_jwk)
    assert [jwt.decode(t, public, algorithms=["RS256"])["sub"] for t in tokens] == ["0", "1", "2", "3", "4"]
    assert all(jwt.get_unverified_header(t)["kid"] == key.kid for t in tokens)
