"""JWT verification: each failure maps to the code naming its check."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from proctorhub.lti.errors import LtiError
from proctorhub.lti.tokens import unverified_header, unverified_issuer, verify

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key=KEY, **claims):
    now = int(time.time())
    body = {"iss": "tool", "aud": "http://platform.test", "iat": now, "exp": now + 60, "nonce": "n"}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256",
                      headers={"kid": "k1"})


def _verify(token):
    return verify(token, KEY.public_key(), audience="http://platform.test", issuer="tool", leeway=60,
                  required=["iss", "aud", "exp", "iat", "nonce"])


@pytest.mark.parametrize(("claims", "code"), [
    ({"key": OTHER}, "invalid_signature"),
    ({"exp": -120}, "token_expired"),
    ({"iat": 600, "exp": 900}, "issued_in_future"),
    ({"aud": "http://other.test"}, "invalid_audience"),
    ({"iss": "someone"}, "invalid_issuer"),
    ({"nonce": None}, "missing_nonce"),
    ({"exp": None}, "missing_claim"),
])
def test_each_failure_has_its_code(claims, code):
    now = int(time.time())
    # Times are offsets from now, made when the test runs (not at collection).
    claims = {k: now + v if k in {"iat", "exp"} and v is not None else v for k, v in claims.items()}
    with pytest.raises(LtiError) as caught:
        _verify(_token(**claims))
    assert caught.value.code == code and caught.value.status == 400


def test_within_leeway_is_accepted():
    now = int(time.time())
    assert _verify(_token(iat=now + 30, exp=now - 30))["nonce"] == "n"


def test_unverified_helpers_refuse_other_algorithms_and_garbage():
    hs = jwt.encode({"iss": "tool"}, "secret-secret-secret-secret-secret", algorithm="HS256")
    for token, code in [(hs, "invalid_algorithm"), ("not.a.jwt", "malformed_jwt")]:
        with pytest.raises(LtiError) as caught:
            unverified_header(token)
        assert caught.value.code == code
    assert unverified_issuer(_token()) == "tool"
    with pytest.raises(LtiError) as caught:
        unverified_issuer(_token(iss=None))
    assert caught.value.code == "invalid_issuer"
