"""The vendor backend plugin interface.

A backend turns one vendor's review callback into the normalised review (``schema.py``).
Plugins subclass :class:`ReviewBackend`, are published as their own distributions and
register in the ``proctorhub.backends`` entry-point group::

    [options.entry_points]
    proctorhub.backends =
        myvendor = myvendor_proctorhub:MyVendorBackend

The entry-point name is what operators list in ``proctorhub.backends`` and use in
``proctorhub.backend.<name>.<option>`` settings.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import time
from collections.abc import Mapping

from pyramid.settings import asbool

from .errors import AuthenticationFailed, MissingSignature, SignatureExpired

SIGNATURE_HEADER = "X-Proctorhub-Signature"
REDACTED = "[redacted]"
MAX_TIMESTAMP = 10**12  # unix seconds: some 30,000 years from now


def _hmac_hex(secret: str, prefix: bytes, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), prefix, hashlib.sha256)
    mac.update(body)  # rather than prefix + body: no copy of a body that may be large
    return mac.hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Proctorhub-Signature`` value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_hmac_hex(secret, f'{timestamp}.'.encode(), body)}"


def _parse_signature(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
            # Bounded, so that comparing it with the float clock cannot overflow.
            if timestamp is None or not 0 <= timestamp < MAX_TIMESTAMP:
                raise AuthenticationFailed(f"{SIGNATURE_HEADER}: t must be unix seconds")
        elif key == "v1" and value and value.isascii():
            # Anything else is no hex digest, and compare_digest would raise on non-ASCII text.
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise AuthenticationFailed(f"{SIGNATURE_HEADER} must read t=<unix seconds>,v1=<hex HMAC-SHA256>")
    return timestamp, signatures


class ReviewBackend(abc.ABC):
    """One vendor's review callback format and authentication.

    Subclasses set :attr:`name` and implement :meth:`attempt_code` and :meth:`normalise`;
    the rest has defaults. An instance is made once at start-up with the backend's options
    (``proctorhub.backend.<name>.<option>`` settings) and must be safe to share between threads.
    """

    #: The entry-point name (short, lowercase).
    name: str = ""
    #: A human-readable name for the admin.
    verbose_name: str = ""
    #: Normalised statuses that verify the attempt.
    passing_statuses: frozenset[str] = frozenset({"passed"})
    #: Dotted paths of payload fields never stored in clear (e.g. video links).
    redacted_fields: tuple[str, ...] = ()
    #: Whether this vendor can sign callbacks at all. If not, an operator may set
    #: ``allow_unsigned = true`` and the vendor record id check becomes mandatory.
    can_sign: bool = True

    def __init__(self, options: Mapping[str, str], *, signature_window_seconds: int = 300):
        self.options = dict(options)
        self.secret = self.options.get("secret") or None
        self.allow_unsigned = asbool(self.options.get("allow_unsigned", False))
        self.signature_window_seconds = signature_window_seconds

    # -- what every vendor must say -------------------------------------------------

    @abc.abstractmethod
    def attempt_code(self, payload: Mapping) -> str:
        """The attempt code the vendor was given at launch; raise ``InvalidPayload`` if absent."""

    @abc.abstractmethod
    def normalise(self, payload: Mapping) -> dict:
        """The normalised review: ``{"status", "comments", "reviewed_by"}``.

        Raise ``BadReviewStatus`` for a status the vendor should not send, ``InvalidPayload``
        for a malformed payload. The result is validated again by proctorhub.
        """

    # -- defaults a vendor may override -------------------------------------------------

    def external_id(self, payload: Mapping) -> str | None:
        """The vendor's own record id for the attempt, or ``None`` if the format has none."""
        return None

    def vendor_status(self, payload: Mapping) -> str:
        """The vendor's raw status string, stored beside the normalised one."""
        return str(payload.get("status", ""))

    def check_startup(self) -> None:
        """Raise ``ValueError`` if the options cannot work; called once at start-up."""
        if not self.secret and not self.allow_unsigned:
            raise ValueError(
                f"backend {self.name!r} needs proctorhub.backend.{self.name}.secret "
                f"(or PROCTORHUB_BACKEND_{self.name.upper()}_SECRET)"
                + ("" if self.can_sign else " or allow_unsigned = true")
            )
        if self.allow_unsigned and self.can_sign:
            raise ValueError(f"backend {self.name!r} can sign its callbacks; allow_unsigned is refused")

    @property
    def requires_external_id(self) -> bool:
        """Unsigned callbacks are accepted only with the vendor record id check."""
        return self.allow_unsigned and not self.secret

    def authenticate(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> int | None:
        """Prove the callback came from the vendor; raise ``AuthenticationFailed`` if not.

        Default: ``X-Proctorhub-Signature: t=<unix seconds>,v1=<hex>``, an HMAC-SHA256 of
        ``"<t>." + body`` with the shared secret, within the signature window.

        Returns the signature's timestamp (unix seconds) for a signed callback, ``None`` for an
        unsigned one. With a timestamp, proctorhub accepts the same signed message once within
        the window (a resend of the stored review's own body answers ``unchanged``), and refuses
        an update signed before the review it would replace.
        """
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            if self.requires_external_id:
                return None
            raise MissingSignature(f"the callback has no {SIGNATURE_HEADER} header")
        if not self.secret:
            raise AuthenticationFailed(f"backend {self.name!r} has no secret to check signatures with")
        timestamp, signatures = _parse_signature(header)
        now = time.time() if now is None else now
        if abs(now - timestamp) > self.signature_window_seconds:
            raise SignatureExpired(
                f"the signature's timestamp is {int(now - timestamp)} seconds away from now; "
                f"at most {self.signature_window_seconds} are allowed",
                details={"timestamp": timestamp, "window_seconds": self.signature_window_seconds},
            )
        expected = [
            _hmac_hex(self.secret, f"{timestamp}.".encode(), body),
            # Also accepted: the HMAC of the timestamp and body with no separator, for vendors that
            # read "a signature of the timestamp and raw body" literally. A JSON body starts with
            # "{", so the two messages can never be confused.
            _hmac_hex(self.secret, str(timestamp).encode(), body),
        ]
        # Compare every candidate in constant time (a vendor may send old and new during rotation).
        if not any(hmac.compare_digest(e, candidate) for e in expected for candidate in signatures):
            raise AuthenticationFailed("the signature does not match the body")
        return timestamp

    def video_link(self, payload: Mapping) -> str | None:
        """The vendor's recording of the exam as an absolute http(s) URL, or ``None``.

        proctorhub stores it encrypted (never in clear, never in the raw payload: list its field in
        :attr:`redacted_fields` too) and shows it only to staff who may see the review.
        """
        return None

    def redact(self, payload: Mapping) -> dict:
        """The payload with :attr:`redacted_fields` replaced; the original is left untouched."""
        redacted = dict(payload)
        for path in self.redacted_fields:
            redacted = _redacted(redacted, path.split("."))
        return redacted

    def describe(self) -> dict:
        return {
            "name": self.name,
            "verbose_name": self.verbose_name or self.name,
            "passing_statuses": sorted(self.passing_statuses),
            "redacted_fields": list(self.redacted_fields),
            "signed": bool(self.secret),
            "allow_unsigned": self.allow_unsigned,
        }


def _redacted(node, parts: list[str]):
    """``node`` with the field at ``parts`` replaced, copying only the containers on the way."""
    if isinstance(node, list):
        return [_redacted(item, parts) for item in node]
    if not isinstance(node, Mapping) or not parts or parts[0] not in node:
        return node
    head, rest = parts[0], parts[1:]
    copied = dict(node)
    if rest:
        copied[head] = _redacted(node[head], rest)
    elif node[head] not in (None, ""):
        copied[head] = REDACTED
    return copied
