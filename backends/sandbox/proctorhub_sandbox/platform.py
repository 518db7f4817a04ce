"""Verifying what the platform (proctorhub) sends the tool: its id_token, against its JWKS."""

from __future__ import annotations

import hmac
import threading
import time

import jwt
import requests

from . import claims as c
from .errors import ToolError

REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "nonce"]
MESSAGE_TYPES = (c.START_PROCTORING, c.END_ASSESSMENT)


class PlatformKeys:
    """The platform's public keys by ``kid``: fetched with a timeout, cached, and fetched once
    more when a token names a kid the cache does not hold (the platform may have rotated)."""

    def __init__(self, jwks_url: str, *, cache_seconds: int = 300, timeout: float = 5.0):
        self.jwks_url = jwks_url
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self._keys: dict[str, object] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        try:
            response = requests.get(self.jwks_url, timeout=self.timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ToolError("platform_jwks_unavailable", f"the platform's JWKS at {self.jwks_url} could not be "
                            f"read: {exc}", status=502) from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ToolError("platform_jwks_unavailable", f"the platform's JWKS at {self.jwks_url} is not a JSON "
                            "object with a list of keys", status=502)
        keys = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
                continue
            try:
                keys[entry["kid"]] = jwt.algorithms.RSAAlgorithm.from_jwk(entry)
            except (jwt.PyJWTError, ValueError, KeyError, TypeError, AttributeError):
                continue  # a key the tool cannot read is one the platform cannot sign for it with
        with self._lock:
            self._keys, self._fetched_at = keys, time.monotonic()

    def key(self, kid: str):
        fetched = False
        if time.monotonic() - self._fetched_at > self.cache_seconds:
            self._fetch()
            fetched = True
        if kid not in self._keys and not fetched:
            self._fetch()
        if kid not in self._keys:
            raise ToolError("unknown_kid", f"no key in the platform's JWKS has kid {kid!r}")
        return self._keys[kid]


def unverified_header(token: str) -> dict:
    """The JWT header, read before any verification (only to choose the key)."""
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ToolError("malformed_id_token", f"the id_token is not a JWT: {exc}") from None


def verify_id_token(token: str, *, keys: PlatformKeys, issuer: str, client_id: str, deployment_id: str,
                    nonce: str, launch_url: str, leeway: int) -> dict:
    """The claims of an id_token the platform issued to this tool for the nonce this browser was given.

    Refuses (``ToolError`` with a code naming the check) anything but RS256 with a known kid, another
    issuer or audience, an expired or future token, a missing required claim, another nonce, and
    LTI claims that are not those of a Proctoring Services launch of this deployment.
    """
    header = unverified_header(token)
    if header.get("alg") != "RS256":
        raise ToolError("invalid_algorithm", f"the id_token must be RS256, not {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ToolError("unknown_kid", "the id_token header has no kid")
    try:
        body = jwt.decode(
            token, keys.key(kid), algorithms=["RS256"], audience=client_id, issuer=issuer, leeway=leeway,
            options={"require": REQUIRED_CLAIMS, "verify_signature": True, "verify_exp": True,
                     "verify_iat": True, "verify_aud": True, "verify_iss": True},
        )
    except jwt.InvalidAudienceError:
        raise ToolError("invalid_audience", "the id_token's aud is not this tool's client_id") from None
    except jwt.InvalidIssuerError:
        raise ToolError("invalid_issuer", "the id_token's iss is not the platform's issuer") from None
    except jwt.ExpiredSignatureError:
        raise ToolError("expired_id_token", "the id_token has expired") from None
    except jwt.ImmatureSignatureError:
        raise ToolError("immature_id_token", "the id_token's iat is in the future") from None
    except jwt.MissingRequiredClaimError as exc:
        raise ToolError("missing_claim", f"the id_token lacks the {exc.claim} claim") from None
    except jwt.InvalidSignatureError:
        raise ToolError("invalid_signature", "the id_token's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise ToolError("invalid_id_token", f"the id_token does not verify: {exc}") from None

    audiences = body["aud"] if isinstance(body["aud"], list) else [body["aud"]]
    if (len(audiences) > 1 or "azp" in body) and body.get("azp") != client_id:
        raise ToolError("invalid_azp", "the id_token's azp is not this tool's client_id")
    if not isinstance(body["nonce"], str) or not hmac.compare_digest(body["nonce"], nonce):
        raise ToolError("nonce_mismatch", "the id_token's nonce is not the one this browser was given")
    check_lti_claims(body, deployment_id=deployment_id, launch_url=launch_url)
    return body


def check_lti_claims(body: dict, *, deployment_id: str, launch_url: str) -> None:
    if body.get(c.VERSION) != c.LTI_VERSION:
        raise ToolError("invalid_version", f"the LTI version must be {c.LTI_VERSION}")
    if body.get(c.MESSAGE_TYPE) not in MESSAGE_TYPES:
        raise ToolError("invalid_message_type",
                        f"message_type must be one of {', '.join(MESSAGE_TYPES)}, not {body.get(c.MESSAGE_TYPE)!r}")
    if body.get(c.DEPLOYMENT_ID) != deployment_id:
        raise ToolError("invalid_deployment_id", "the id_token's deployment_id is not this tool's deployment")
    if body.get(c.TARGET_LINK_URI) != launch_url:
        raise ToolError("invalid_target_link_uri", "the id_token's target_link_uri is not this tool's launch URL")
    resource_link = body.get(c.RESOURCE_LINK)
    if not isinstance(resource_link, dict) or not isinstance(resource_link.get("id"), str) or not resource_link["id"]:
        raise ToolError("missing_claim", "the id_token lacks resource_link.id")
    attempt_number = body.get(c.ATTEMPT_NUMBER)
    if not isinstance(attempt_number, int) or isinstance(attempt_number, bool) or attempt_number < 1:
        raise ToolError("missing_claim", "the id_token lacks a positive integer attempt_number")
    if body[c.MESSAGE_TYPE] == c.START_PROCTORING:
        for name in (c.SESSION_DATA, c.START_ASSESSMENT_URL):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ToolError("missing_claim", f"an LtiStartProctoring id_token needs {name}")
        if not body[c.START_ASSESSMENT_URL].startswith(("https://", "http://")):
            raise ToolError("invalid_start_assessment_url", "start_assessment_url must be an http(s) URL")
