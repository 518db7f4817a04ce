"""The tool's public keys: from its JWKS URL (fetched with a timeout, cached, refetched once when
a kid is unknown) or from a PEM in its configuration. Parsed keys are cached per process.

Refetches for unknown kids are budgeted per JWKS URL (``jwks_refetches_per_minute`` in any
60 seconds, per process): a tool that rotates its key is looked up again at once, but a stream
of tokens with made-up kids cannot keep proctorhub's threads waiting on the tool's server."""

from __future__ import annotations

import collections
import threading
import time

import jwt
import requests
from cryptography.hazmat.primitives import serialization

from ..errors import ProctorhubError
from .errors import LtiError

_jwks: dict[str, tuple[float, dict]] = {}  # url -> (fetched at, {kid: key})
_pems: dict[str, object] = {}
_refetches: dict[str, collections.deque] = {}  # url -> times of its recent unknown-kid refetches
_lock = threading.Lock()
REFETCH_WINDOW_SECONDS = 60.0


class ToolKeysUnavailable(ProctorhubError):
    status = 502
    code = "tool_jwks_unavailable"


def _fetch(url: str, timeout: float) -> dict:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ToolKeysUnavailable(f"the tool's JWKS at {url} could not be read: {exc}") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ToolKeysUnavailable(f"the tool's JWKS at {url} is not a JSON object with a list of keys")
    keys = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("alg", "RS256") != "RS256":
            continue
        try:
            keys[entry["kid"]] = jwt.algorithms.RSAAlgorithm.from_jwk(entry)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError, AttributeError):
            continue  # a key we cannot read is a key the tool cannot sign with here
    with _lock:
        _jwks[url] = (time.monotonic(), keys)
    return keys


def _from_jwks(url: str, kid: str | None, app_settings):
    if not kid:
        raise LtiError("the JWT header has no kid; the tool publishes a JWKS", code="unknown_kid")
    cached = _jwks.get(url)
    fetched_now = False
    if cached is None or time.monotonic() - cached[0] > app_settings.jwks_cache_seconds:
        keys, fetched_now = _fetch(url, app_settings.jwks_timeout_seconds), True
    else:
        keys = cached[1]
    if kid not in keys and not fetched_now and _refetch_allowed(url, app_settings.jwks_refetches_per_minute):
        # The tool may have rotated its key since we cached its JWKS: look once more.
        keys = _fetch(url, app_settings.jwks_timeout_seconds)
    if kid not in keys:
        raise LtiError("no key in the tool's JWKS has this kid", code="unknown_kid", details={"kid": kid})
    return keys[kid]


def _refetch_allowed(url: str, budget: int) -> bool:
    """Whether the budget of unknown-kid refetches of ``url`` has room now (and if so, spend it)."""
    now = time.monotonic()
    with _lock:
        recent = _refetches.setdefault(url, collections.deque())
        while recent and now - recent[0] >= REFETCH_WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= budget:
            return False
        recent.append(now)
        return True


def _from_pem(pem: str):
    key = _pems.get(pem)
    if key is None:
        try:
            key = serialization.load_pem_public_key(pem.encode("ascii"))
        except ValueError:
            raise ToolKeysUnavailable("the configuration's public key is not a PEM public key") from None
        with _lock:
            key = _pems.setdefault(pem, key)
    return key


def tool_public_key(configuration, kid: str | None, app_settings):
    """The key that verifies a JWT from this tool with this header ``kid``."""
    if configuration.jwks_url:
        return _from_jwks(configuration.jwks_url, kid, app_settings)
    if configuration.public_key_pem:
        return _from_pem(configuration.public_key_pem)
    raise ToolKeysUnavailable("the tool configuration has neither a JWKS URL nor a public key",
                              code="no_tool_key")
