"""The tool's public keys: from its JWKS URL (fetched with a deadline, cached, refetched once when
a kid is unknown) or from a PEM in its configuration. Parsed keys are cached per process.

Every fetch goes through ``proctorhub.outbound`` (one overall deadline, at most
``MAX_JWKS_BYTES``, no redirects, public addresses only), and a tool's slow or hostile server
cannot hold more than one of proctorhub's threads:

- one fetch per URL at a time: while it runs, other requests use the cached copy (even a stale
  one), or wait for it at most ``FOLLOWER_WAIT_SECONDS`` and then fail;
- a failed fetch is remembered for ``FAILURE_CACHE_SECONDS``, during which the URL is not
  fetched again and requests fail at once;
- refetches for unknown kids are budgeted per JWKS URL (``jwks_refetches_per_minute`` in any 60
  seconds, per process): a tool that rotates its key is looked up again at once, but a stream of
  tokens with made-up kids cannot keep proctorhub's threads waiting on the tool's server;
- every failure answers the same 502 text, whatever the target or the cause.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

import jwt
from cryptography.hazmat.primitives import serialization

from ..errors import ProctorhubError
from ..outbound import Fetcher, OutboundError
from .errors import LtiError

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 64 * 1024
FAILURE_CACHE_SECONDS = 10.0
FOLLOWER_WAIT_SECONDS = 0.25
REFETCH_WINDOW_SECONDS = 60.0
UNAVAILABLE = "the tool's keys could not be fetched; try again later"

_jwks: dict[str, tuple[float, dict]] = {}  # url -> (fetched at, {kid: key})
_failures: dict[str, float] = {}  # url -> when its last fetch failed
_fetching: dict[str, threading.Event] = {}  # url -> set when the fetch running now ends
_pems: dict[str, object] = {}
_refetches: dict[str, collections.deque] = {}  # url -> times of its recent unknown-kid refetches
_lock = threading.Lock()


class ToolKeysUnavailable(ProctorhubError):
    status = 502
    code = "tool_jwks_unavailable"


def forget() -> None:
    """Drop every cached document, failure and budget (tests start from nothing)."""
    with _lock:
        _jwks.clear()
        _failures.clear()
        _refetches.clear()


def _parse(document) -> dict:
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ToolKeysUnavailable(UNAVAILABLE)
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
    return keys


def _fetch(url: str, app_settings, *, stale_ok: bool) -> dict:
    """The tool's keys, fetched now by this thread, or by the one fetching them already."""
    with _lock:
        failed_at = _failures.get(url)
        if failed_at is not None and time.monotonic() - failed_at < FAILURE_CACHE_SECONDS:
            raise ToolKeysUnavailable(UNAVAILABLE)
        running = _fetching.get(url)
        if running is None:
            done = _fetching[url] = threading.Event()
    if running is not None:
        cached = _jwks.get(url)
        if stale_ok and cached is not None:
            return cached[1]
        running.wait(FOLLOWER_WAIT_SECONDS)
        with _lock:
            cached = _jwks.get(url)
            if running.is_set() and cached is not None and url not in _failures:
                return cached[1]
        raise ToolKeysUnavailable(UNAVAILABLE)
    try:
        try:
            document = Fetcher.from_settings(app_settings).get_json(
                url, timeout=app_settings.jwks_timeout_seconds, max_response_bytes=MAX_JWKS_BYTES)
            keys = _parse(document)
        except (OutboundError, ToolKeysUnavailable) as exc:
            log.warning("tool JWKS fetch failed (%s): %s", getattr(exc, "reason", "not a JWKS"), url)
            with _lock:
                _failures[url] = time.monotonic()
            raise ToolKeysUnavailable(UNAVAILABLE) from None
        with _lock:
            _jwks[url] = (time.monotonic(), keys)
            _failures.pop(url, None)
        return keys
    finally:
        with _lock:
            _fetching.pop(url, None)
        done.set()


def _from_jwks(url: str, kid: str | None, app_settings):
    if not kid:
        raise LtiError("the JWT header has no kid; the tool publishes a JWKS", code="unknown_kid")
    cached = _jwks.get(url)
    fetched_now = False
    if cached is None or time.monotonic() - cached[0] > app_settings.jwks_cache_seconds:
        keys, fetched_now = _fetch(url, app_settings, stale_ok=True), True
    else:
        keys = cached[1]
    if kid not in keys and not fetched_now and _refetch_allowed(url, app_settings.jwks_refetches_per_minute):
        # The tool may have rotated its key since we cached its JWKS: look once more.
        keys = _fetch(url, app_settings, stale_ok=False)
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
