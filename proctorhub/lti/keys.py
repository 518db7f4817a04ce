"""The platform's RSA signing keys: made, rotated, published, and parsed once per process.

A key is published (``next``) before it signs (``active``), and a ``retired`` key stays published
until ``retire_after``, when every token it signed has expired. The private half is stored
encrypted (``proctorhub.crypto``). Decrypting and parsing a PEM costs about 30 ms, a hundred
signatures, so parsed keys are cached per process by ``kid``; a kid never changes its key
material, so the cache needs no invalidation.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ..crypto import DecryptionError, Encryptor, build_encryptor
from ..errors import ProctorhubError
from ..models import KeyState, PlatformKey, utcnow
from ..models.dialect import dialect_of

KEY_BITS = 2048
ALGORITHM = "RS256"
# Access tokens for the Assessment Control Service live this long (see acs.py).
ACCESS_TOKEN_TTL_SECONDS = 3600

_private_keys: dict[str, rsa.RSAPrivateKey] = {}
_public_keys: dict[str, rsa.RSAPublicKey] = {}
_lock = threading.Lock()


class NoSigningKey(ProctorhubError):
    status = 503
    code = "no_signing_key"


class UndecryptableSigningKey(ProctorhubError):
    status = 503
    code = "no_signing_key"


def new_key(state: KeyState, encryptor: Encryptor) -> PlatformKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    kid = secrets.token_urlsafe(16)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    now = utcnow()
    return PlatformKey(kid=kid, state=state.value, private_key_encrypted=encryptor.encrypt(pem), public_jwk=jwk,
                       created_at=now,
                       activated_at=now if state == KeyState.active else None)


def _keys_in(dbsession, state: KeyState) -> list[PlatformKey]:
    return list(dbsession.execute(
        select(PlatformKey).where(PlatformKey.state == state.value).order_by(PlatformKey.created_at)
    ).scalars())


def ensure_keys(dbsession, encryptor: Encryptor) -> list[str]:
    """Make an active and a next key where there are none; return the kids made (idempotent)."""
    made = []
    if not _keys_in(dbsession, KeyState.active):
        key = new_key(KeyState.active, encryptor)
        dbsession.add(key)
        made.append(key.kid)
    if not _keys_in(dbsession, KeyState.next):
        key = new_key(KeyState.next, encryptor)
        dbsession.add(key)
        made.append(key.kid)
    dbsession.flush()
    return made


def ensure_platform_keys(engine, app_settings) -> None:
    """``initdb`` step: the first signing key and its successor."""
    with sessionmaker(bind=engine)() as session, session.begin():
        made = ensure_keys(session, build_encryptor(app_settings))
    if made:
        print(f"platform keys created: {', '.join(made)}")


def retire_window(app_settings) -> dt.timedelta:
    """How long a retired key stays published: the longest-lived token it signed, plus leeway."""
    longest = max(app_settings.id_token_ttl_seconds, ACCESS_TOKEN_TTL_SECONDS)
    return dt.timedelta(seconds=longest + app_settings.lti_leeway_seconds)


def rotate(dbsession: Session, app_settings) -> dict:
    """Promote the next key, retire the active one, publish a new next key, drop expired ones."""
    now = utcnow()
    encryptor = build_encryptor(app_settings)
    ensure_keys(dbsession, encryptor)
    retired = []
    for key in _keys_in(dbsession, KeyState.active):
        key.state = KeyState.retired.value
        key.retired_at = now
        key.retire_after = now + retire_window(app_settings)
        retired.append(key.kid)
    promoted = _keys_in(dbsession, KeyState.next)[0]
    promoted.state = KeyState.active.value
    promoted.activated_at = now
    successor = new_key(KeyState.next, encryptor)
    dbsession.add(successor)
    dropped = []
    for key in _keys_in(dbsession, KeyState.retired):
        if key.retire_after is not None and key.retire_after <= now:
            dropped.append(key.kid)
            dbsession.delete(key)
    dbsession.flush()
    return {"retired": retired, "active": promoted.kid, "next": successor.kid, "dropped": dropped}


def _published(now):
    """Next and active keys, and retired ones until ``retire_after`` (``now``: a time or a parameter)."""
    return or_(PlatformKey.state != KeyState.retired.value, PlatformKey.retire_after > now)


def published_keys(dbsession) -> list[PlatformKey]:
    return list(dbsession.execute(
        select(PlatformKey).where(_published(utcnow())).order_by(PlatformKey.created_at)).scalars())


def jwks(dbsession) -> dict:
    return {"keys": [dict(key.public_jwk) for key in published_keys(dbsession)]}


def _active_kid(dbsession) -> str | None:
    # Read every time (one indexed query): a kid cached across requests could outlive its row.
    return dbsession.execute(ACTIVE_KID).scalar_one_or_none()


# The active kid as a statement of its own, and as a column other queries can carry.
ACTIVE_KID = (
    select(PlatformKey.kid).where(PlatformKey.state == KeyState.active.value)
    .order_by(PlatformKey.activated_at.desc()).limit(1)
)
ACTIVE_KID_COLUMN = ACTIVE_KID.scalar_subquery().label("active_kid")


def private_key(dbsession, kid: str | None, encryptor: Encryptor) -> rsa.RSAPrivateKey:
    """The parsed private key of the active ``kid`` (read in the caller's query); the PEM is read,
    decrypted and parsed once per process."""
    if kid is None:
        raise NoSigningKey("the platform has no active signing key; run `proctorhub initdb INI`")
    key = _private_keys.get(kid)
    if key is None:
        stored = dbsession.execute(
            select(PlatformKey.private_key_encrypted).where(PlatformKey.kid == kid)).scalar_one()
        try:
            pem = encryptor.decrypt(stored)
        except DecryptionError:
            raise UndecryptableSigningKey(
                "the platform's signing key cannot be decrypted with the configured encryption keys "
                "(PROCTORHUB_ENCRYPTION_KEYS)") from None
        with _lock:
            key = _private_keys.setdefault(kid, serialization.load_pem_private_key(pem, None))
    return key


def signing_key(dbsession, encryptor: Encryptor) -> tuple[str, rsa.RSAPrivateKey]:
    """The active key's kid and parsed private key; the PEM is read and parsed once per process."""
    kid = _active_kid(dbsession)
    return kid, private_key(dbsession, kid, encryptor)


# Built once: every ACS request asks it (the access token's kid), so it runs on the driver.
PUBLISHED_JWK = select(PlatformKey.public_jwk).where(
    PlatformKey.kid == bindparam("kid"), _published(bindparam("now", type_=PlatformKey.retire_after.type)))


def public_key(dbsession, kid: str) -> rsa.RSAPublicKey | None:
    """A still-published key's public half by kid (for tokens the platform issued itself), or None."""
    connection = dbsession.connection()
    found = dialect_of(connection).first(connection, PUBLISHED_JWK, {"kid": kid, "now": utcnow()})
    if found is None:
        return None
    published = found.public_jwk
    key = _public_keys.get(kid)
    if key is None:
        with _lock:
            key = _public_keys.setdefault(kid, jwt.algorithms.RSAAlgorithm.from_jwk(published))
    return key


def sign(dbsession, claims: dict, *, encryptor: Encryptor, active_kid: str | None = None) -> str:
    """Sign with the active key; ``active_kid`` when the caller's own query read it already."""
    kid, key = ((active_kid, private_key(dbsession, active_kid, encryptor)) if active_kid
                else signing_key(dbsession, encryptor))
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})
