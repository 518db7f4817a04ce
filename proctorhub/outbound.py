"""The one way proctorhub makes an outbound HTTP request (tool JWKS, webhooks, registration checks).

Every URL proctorhub fetches was typed by someone else (a tool's administrator, an lms's), so a
fetch must not become a way into the hub's own network or a way to hold its threads:

- one overall deadline for the whole exchange (name resolution, connect, TLS, headers, body),
  not a timeout per read: a server that drips one byte a second is cut off at the deadline;
- the response body is capped (``max_response_bytes``); past it the fetch fails, or with
  ``truncate=True`` stops reading and answers what it has (a webhook needs only its first KB);
- redirects are never followed: a 3xx is answered as it is, and callers treat it as a failure;
- the host name is resolved once, every address it resolves to must be global (not private,
  loopback, link-local, shared, multicast, reserved or unspecified, IPv4-mapped forms included),
  and the connection goes to that checked address (TLS still verifies the name), so a DNS answer
  that changes between the check and the connection (rebinding) cannot move it;
  ``proctorhub.outbound.allow_private_addresses = true`` (development and tests) allows
  non-global unicast addresses;
- no proxy from the environment, no compression, HTTP(S) only;
- failures raise ``OutboundError`` whose text is the same generic sentence for every target and
  every cause, so an error shown to a caller cannot be used to scan ports or networks; its
  ``reason`` (``bad_url``, ``refused_address``, ``resolve``, ``connect``, ``tls``, ``timeout``,
  ``too_large``, ``protocol``) is for logs and for staff-only pages.

API::

    fetcher = request.outbound                      # or Fetcher.from_settings(app_settings)
    response = fetcher.request("POST", url, headers={"Content-Type": "application/json"},
                               body=b"...", timeout=10.0, max_response_bytes=1024, truncate=True)
    response.status, response.headers, response.body, response.truncated, response.ok
    document = fetcher.get_json(url, timeout=5.0, max_response_bytes=64 * 1024)  # 2xx JSON or OutboundError
    fetcher.check_url(url)                          # at configuration-save time: OutboundRefused or None

``check_url`` refuses a URL whose host is a literal non-global address or a name that resolves to
one; a name that does not resolve at all is let through (it may resolve later, and the fetch checks
again). The module-level ``request``, ``get_json`` and ``check_url`` take ``allow_private`` instead
of a ``Fetcher``.
"""

from __future__ import annotations

import functools
import heapq
import http.client
import ipaddress
import itertools
import json
import os
import re
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from urllib.parse import urlsplit

GENERIC_MESSAGE = "the remote server could not be reached or gave no usable answer"
CHUNK_BYTES = 16 * 1024
CHECK_URL_TIMEOUT_SECONDS = 3.0
USER_AGENT = "proctorhub"
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_LINE_BREAK_OR_NUL = re.compile(r"[\r\n\x00]")

# Name resolution has no timeout of its own: it runs here, and the caller waits no longer than
# its deadline (a resolver that hangs keeps one of these threads, never a request thread).
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="proctorhub-resolve")


class OutboundError(Exception):
    """An outbound request failed. ``str()`` is generic; ``reason`` says why, for logs only."""

    def __init__(self, reason: str):
        super().__init__(GENERIC_MESSAGE)
        self.reason = reason


class OutboundRefused(OutboundError):
    """The URL is not one proctorhub may fetch (scheme, form, or a non-global address)."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # as written, without brackets
    port: int
    path: str  # path and query, at least "/"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _parse(url: str) -> _Target:
    if not isinstance(url, str):
        raise OutboundRefused("bad_url")
    return _parse_text(url)


# A pure function of the text, and a worker parses the same few receiver URLs over and over.
# (A refusal raises, and lru_cache keeps no exception: a bad URL is parsed again every time.)
@functools.lru_cache(maxsize=1024)
def _parse_text(url: str) -> _Target:
    if not url.isascii() or _SPACE_OR_CONTROL.search(url):
        raise OutboundRefused("bad_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused("bad_url") from None
    if port == 0:
        raise OutboundRefused("bad_url")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username is not None \
            or parts.password is not None:
        raise OutboundRefused("bad_url")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


@functools.lru_cache(maxsize=1024)
def _literal(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_allowed(address, allow_private: bool) -> bool:
    """Whether proctorhub may connect to this IP address."""
    address = ipaddress.ip_address(address)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified:
        return False
    if allow_private:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local:
            return False
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not address_allowed(embedded, allow_private):
            return False
    return address.is_global and not address.is_reserved


# What an address is does not change; the check of each resolution's answer is the same function
# of the same text. The names themselves are resolved again for every request.
_address_allowed_cached = functools.lru_cache(maxsize=4096)(address_allowed)


def _resolve(target: _Target, deadline: float) -> list[tuple]:
    """The (family, sockaddr) pairs the host resolves to, within the deadline."""
    literal = _literal(target.host)
    if literal is not None:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return [(family, (str(literal), target.port))]
    future = _resolver.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(deadline - time.monotonic(), 0.001))
    except FutureTimeout:
        future.cancel()
        raise OutboundError("timeout") from None
    except (OSError, UnicodeError):
        raise OutboundError("resolve") from None
    pairs = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr) not in pairs:
            pairs.append((family, sockaddr))
    if not pairs:
        raise OutboundError("resolve")
    return pairs


def _checked_addresses(target: _Target, deadline: float, allow_private: bool) -> list[tuple]:
    pairs = _resolve(target, deadline)
    # Every address must pass: a name that also resolves to an internal address is refused
    # whole, rather than hoping the connection picks the other one.
    if not all(_address_allowed_cached(sockaddr[0], allow_private) for _family, sockaddr in pairs):
        raise OutboundRefused("refused_address")
    return pairs


class _Watchdog:
    """Shuts the socket down at the deadline, which ends any read or write blocked on it."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.expired = False
        self.cancelled = False
        self._sock = None
        self._lock = threading.Lock()
        _deadlines.add(self)

    def watch(self, sock) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shut()

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
        _deadlines.cancelled()


class _Deadlines:
    """One thread per process fires every request's watchdog at its deadline.

    A thread per request (``threading.Timer``) cost more than the rest of a request to a nearby
    receiver. Here a request costs a heap push, and a wake-up of the thread only when its deadline
    is sooner than every other. A cancelled watchdog stays in the heap until its deadline comes
    round (deadlines are mostly in the order they were added) or until the cancelled ones are the
    greater part of the heap, which is then rebuilt: the heap holds at most about twice the
    requests in flight, plus those of the last few seconds.
    """

    COMPACT_AT = 256

    def __init__(self):
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._condition = threading.Condition(threading.Lock())
        self._order = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def add(self, watchdog: _Watchdog) -> None:
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="proctorhub-outbound-deadlines", daemon=True)
                self._thread.start()
            sooner = not self._heap or watchdog.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watchdog.deadline, next(self._order), watchdog))
            if sooner:
                self._condition.notify()

    def cancelled(self) -> None:
        with self._condition:
            self._cancelled += 1
            if self._cancelled >= self.COMPACT_AT and self._cancelled * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._condition.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                due = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    watchdog = heapq.heappop(self._heap)[2]
                    if watchdog.cancelled:
                        self._cancelled = max(self._cancelled - 1, 0)
                    else:
                        due.append(watchdog)
            for watchdog in due:  # outside the lock: a shutdown may take a moment
                watchdog.fire()


_deadlines = _Deadlines()


def _after_fork() -> None:
    # The thread does not survive a fork; the child starts its own with its first request.
    global _deadlines
    _deadlines = _Deadlines()


os.register_at_fork(after_in_child=_after_fork)


def _connect(target: _Target, pairs: list[tuple], deadline: float, watchdog: _Watchdog):
    last_reason = "connect"
    for family, sockaddr in pairs:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OutboundError("timeout")
        sock = socket.socket(family, socket.SOCK_STREAM)
        watchdog.watch(sock)
        sock.settimeout(remaining)
        try:
            sock.connect(sockaddr)
        except TimeoutError:
            sock.close()
            raise OutboundError("timeout") from None
        except OSError:
            sock.close()
            last_reason = "timeout" if watchdog.expired else "connect"
            continue
        if target.scheme == "https":
            try:
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=target.host)
            except (ssl.SSLError, ssl.CertificateError):
                sock.close()
                raise OutboundError("tls") from None
            except OSError:
                sock.close()
                raise OutboundError("timeout" if watchdog.expired else "tls") from None
            watchdog.watch(sock)
        return sock
    raise OutboundError(last_reason)


def _read_body(response, limit: int, truncate: bool) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while True:
        chunk = response.read(min(CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if truncate:
                return b"".join(chunks)[:limit], True
            raise OutboundError("too_large")


METHODS_EXPECTING_BODY = frozenset({"PATCH", "POST", "PUT"})


def _request_head(method: str, target: _Target, headers: dict | None, body: bytes | None) -> bytes:
    """The request line and headers, as http.client would write them (one request, then close).

    Written here rather than header by header through ``http.client.HTTPConnection``: that costs
    more than the rest of a request to a nearby receiver. The same checks: a method that is a
    token, names that are tokens, values without line breaks, Latin-1 text."""
    if not _TOKEN.fullmatch(method):
        raise ValueError("bad method")
    fields = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
              "Connection": "close", **(headers or {})}
    if body is not None:
        fields["Content-Length"] = str(len(body))
    elif method in METHODS_EXPECTING_BODY:
        # As http.client does: a POST without a body says so, or a server may wait for one (411).
        fields["Content-Length"] = "0"
    lines = [f"{method} {target.path} HTTP/1.1"]
    for name, value in fields.items():
        value = str(value)
        if not _TOKEN.fullmatch(name) or _LINE_BREAK_OR_NUL.search(value):
            raise ValueError("bad header")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


def request(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None,
            timeout: float, max_response_bytes: int, truncate: bool = False,
            allow_private: bool = False) -> OutboundResponse:
    """Send one request under the rules of this module's docstring; answer any status as it is."""
    deadline = time.monotonic() + timeout
    target = _parse(url)
    pairs = _checked_addresses(target, deadline, allow_private)
    watchdog = _Watchdog(deadline)
    sock = response = None
    try:
        head = _request_head(method.upper(), target, headers, body)
        sock = _connect(target, pairs, deadline, watchdog)
        # Head and body in one write; the answer is read by http.client's own parser.
        sock.sendall(head + body if body else head)
        response = http.client.HTTPResponse(sock, method=method.upper())
        response.begin()
        content, truncated = _read_body(response, max_response_bytes, truncate)
        # The watchdog's shutdown reads as an end of stream: what came before it is not an answer.
        if watchdog.expired:
            raise OutboundError("timeout")
        if not truncated and response.length:  # fewer bytes than Content-Length promised
            raise OutboundError("protocol")
        return OutboundResponse(status=response.status,
                                headers={name.lower(): value for name, value in response.getheaders()},
                                body=content, truncated=truncated)
    except OutboundError:
        raise
    except TimeoutError:
        raise OutboundError("timeout") from None
    except (OSError, http.client.HTTPException, ValueError):
        raise OutboundError("timeout" if watchdog.expired else "protocol") from None
    finally:
        watchdog.cancel()
        if response is not None:
            response.close()
        if sock is not None:
            sock.close()


def get_json(url: str, *, timeout: float, max_response_bytes: int = 64 * 1024,
             allow_private: bool = False):
    """GET a JSON document: a 2xx answer whose body parses, or ``OutboundError``."""
    response = request("GET", url, headers={"Accept": "application/json"}, timeout=timeout,
                       max_response_bytes=max_response_bytes, allow_private=allow_private)
    if not response.ok:
        raise OutboundError("status")
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise OutboundError("protocol") from None


def check_url(url: str, *, allow_private: bool = False, timeout: float = CHECK_URL_TIMEOUT_SECONDS) -> None:
    """Refuse (``OutboundRefused``) a URL proctorhub would never fetch: not http(s), or whose host
    is a non-global address or a name resolving to one. A name that does not resolve passes."""
    target = _parse(url)
    try:
        _checked_addresses(target, time.monotonic() + timeout, allow_private)
    except OutboundRefused:
        raise
    except OutboundError:
        return


@dataclass(frozen=True)
class Fetcher:
    """The module's functions bound to the deployment's settings (``request.outbound``)."""

    allow_private: bool = False

    @classmethod
    def from_settings(cls, app_settings) -> Fetcher:
        return cls(allow_private=app_settings.outbound_allow_private_addresses)

    def request(self, method: str, url: str, **kwargs) -> OutboundResponse:
        return request(method, url, allow_private=self.allow_private, **kwargs)

    def get_json(self, url: str, **kwargs):
        return get_json(url, allow_private=self.allow_private, **kwargs)

    def check_url(self, url: str, **kwargs) -> None:
        check_url(url, allow_private=self.allow_private, **kwargs)


def includeme(config):
    fetcher = Fetcher.from_settings(config.registry.app_settings)
    config.registry.outbound = fetcher
    config.add_request_method(lambda request: request.registry.outbound, "outbound", reify=True)
