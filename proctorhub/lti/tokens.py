"""Verifying JWTs that tools send: every call names its algorithm, audience, issuer, leeway and
required claims, and each failure becomes an ``LtiError`` whose code names the failed check."""

from __future__ import annotations

import jwt

from .errors import LtiError

ALGORITHMS = ["RS256"]


def unverified_header(token: str) -> dict:
    """The JOSE header, read WITHOUT verifying the signature: only to pick the key and refuse
    algorithms other than RS256 before anything else."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LtiError("the JWT cannot be decoded", code="malformed_jwt") from None
    if header.get("alg") not in ALGORITHMS:
        raise LtiError(f"the JWT is signed with {header.get('alg')!r}; only RS256 is accepted",
                       code="invalid_algorithm", details={"alg": header.get("alg")})
    return header


def unverified_issuer(token: str) -> str:
    """The ``iss`` claim read WITHOUT verifying the signature: only to find whose key verifies it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise LtiError("the JWT cannot be decoded", code="malformed_jwt") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise LtiError("the JWT has no iss claim", code="invalid_issuer")
    return issuer


def unverified_header_and_claims(token: str) -> tuple[dict, dict]:
    """The header and claims, WITHOUT verifying the signature, from one reading of the token
    (PyJWT checks every character of a segment each time it reads one), with the checks of
    ``unverified_header`` and ``unverified_issuer``: a token either would refuse goes through
    both, in order, for the same refusal. The claims only pick the key and prepare work that a
    failed verification undoes."""
    try:
        unverified = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        unverified = None
    header = unverified and unverified["header"]
    issuer = unverified and unverified["payload"].get("iss")
    if (not unverified or header.get("alg") not in ALGORITHMS
            or not isinstance(issuer, str) or not issuer):
        # The helpers refuse such a token with their own codes, in their order.
        header = unverified_header(token)
        unverified_issuer(token)
        return header, jwt.decode(token, options={"verify_signature": False})
    return header, unverified["payload"]


def verify(token: str, key, *, audience: str | list[str], issuer: str, leeway: int,
           required: list[str]) -> dict:
    """The verified claims of ``token``, or an ``LtiError`` naming the failed check."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": required, "verify_signature": True, "verify_exp": True,
                     "verify_iat": True, "verify_aud": True, "verify_iss": True},
        )
    except jwt.InvalidSignatureError:
        raise LtiError("the JWT's signature does not verify", code="invalid_signature") from None
    except jwt.ExpiredSignatureError:
        raise LtiError("the JWT has expired", code="token_expired") from None
    except jwt.ImmatureSignatureError as exc:
        if "iat" in str(exc):
            raise LtiError("the JWT is issued in the future", code="issued_in_future") from None
        raise LtiError("the JWT is not valid yet", code="token_not_yet_valid") from None
    except jwt.InvalidAudienceError:
        raise LtiError("the JWT's aud does not name this platform", code="invalid_audience",
                       details={"expected": audience}) from None
    except jwt.InvalidIssuerError:
        raise LtiError("the JWT's iss is not the tool's client_id", code="invalid_issuer") from None
    except jwt.MissingRequiredClaimError as exc:
        code = "missing_nonce" if exc.claim == "nonce" else "missing_claim"
        raise LtiError(f"the JWT has no {exc.claim} claim", code=code, details={"claim": exc.claim}) from None
    except jwt.InvalidAlgorithmError:
        raise LtiError("only RS256 is accepted", code="invalid_algorithm") from None
    except jwt.PyJWTError as exc:
        raise LtiError(f"the JWT is invalid: {exc}", code="malformed_jwt") from None
