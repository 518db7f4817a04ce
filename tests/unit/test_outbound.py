"""proctorhub.outbound: the deadline, the size cap, no redirects, and no internal addresses."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from proctorhub import outbound
from proctorhub.outbound import GENERIC_MESSAGE, Fetcher, OutboundError, OutboundRefused


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body: bytes, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        if self.path == "/jwks":
            self._send(200, json.dumps({"keys": []}).encode(), [("Content-Type", "application/json")])
        elif self.path == "/big":
            self._send(200, b"x" * (100 * 1024))
        elif self.path == "/redirect":
            self._send(302, b"", [("Location", "/jwks")])
        elif self.path == "/drip":
            # Headers at once, then a byte every 0.2 s: each read is quick, the whole is not.
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/slow-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for index in range(50):
                self.wfile.write(f"X-Slow-{index}: y\r\n".encode())
                self.wfile.flush()
                time.sleep(0.2)
        else:
            self._send(404, b"nothing here")

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        self._send(201, b"received:" + body + b"!" * 4000)


@contextmanager
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def _shared_server():
    with http_server() as pair:
        yield pair


@pytest.fixture
def server(_shared_server):
    _shared_server[0].seen.clear()
    return _shared_server


def test_get_json_from_an_allowed_address(server):
    _server, base = server
    assert outbound.get_json(f"{base}/jwks", timeout=5, allow_private=True) == {"keys": []}


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/jwks", "http://localhost:{port}/jwks", "http://[::1]:{port}/jwks",
    "http://[::ffff:127.0.0.1]:{port}/jwks", "http://10.1.2.3/jwks", "http://192.168.0.1/jwks",
    "http://172.16.0.1/jwks", "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://0.0.0.0:{port}/", "http://224.0.0.1/",
    "http://[2002:7f00:1::]/", "http://240.0.0.1/",
])
def test_non_global_addresses_are_refused_before_connecting(server, url):
    srv, base = server
    port = base.rsplit(":", 1)[1]
    with pytest.raises(OutboundRefused) as caught:
        outbound.get_json(url.format(port=port), timeout=2)
    assert caught.value.reason == "refused_address"
    assert str(caught.value) == GENERIC_MESSAGE
    assert srv.seen == []


def test_multicast_and_unspecified_stay_refused_even_where_private_is_allowed():
    for url in ("http://224.0.0.1/", "http://0.0.0.0/", "http://[::]/"):
        with pytest.raises(OutboundRefused):
            outbound.request("GET", url, timeout=1, max_response_bytes=10, allow_private=True)


def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(server, monkeypatch):
    srv, base = server
    port = int(base.rsplit(":", 1)[1])
    answers = [[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]]
    calls = []

    def rebinding_resolver(host, *args, **kwargs):
        calls.append(host)
        if answers:
            return answers.pop()
        # A second lookup (the rebinding attack's chance) would point somewhere else.
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.9.9.9", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    assert outbound.get_json(f"http://tool.test:{port}/jwks", timeout=5, allow_private=True) == {"keys": []}
    assert calls == ["tool.test"]
    assert srv.seen[0][2]["Host"] == f"tool.test:{port}"


def test_a_name_with_any_internal_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443)),
    ])
    with pytest.raises(OutboundRefused):
        outbound.get_json("https://tool.example/jwks", timeout=2)


def test_one_deadline_for_the_whole_body(server):
    _srv, base = server
    started = time.monotonic()
    with pytest.raises(OutboundError) as caught:
        outbound.get_json(f"{base}/drip", timeout=1, allow_private=True)
    assert time.monotonic() - started < 1.8
    assert caught.value.reason == "timeout"
    assert str(caught.value) == GENERIC_MESSAGE


def test_one_deadline_for_headers_that_trickle(server):
    _srv, base = server
    started = time.monotonic()
    with pytest.raises(OutboundError) as caught:
        outbound.request("GET", f"{base}/slow-headers", timeout=1, max_response_bytes=100, allow_private=True)
    assert time.monotonic() - started < 1.8
    assert caught.value.reason == "timeout"


def test_a_sooner_deadline_added_later_is_kept(server):
    """One thread keeps every request's deadline: a short one that comes after a long one still
    cuts its own request on time, and the long one runs to its own deadline, not the short one's."""
    _srv, base = server
    outcomes = {}

    def fetch(name, timeout):
        started = time.monotonic()
        try:
            outbound.request("GET", f"{base}/slow-headers", timeout=timeout, max_response_bytes=100,
                             allow_private=True)
        except OutboundError as error:
            outcomes[name] = (error.reason, time.monotonic() - started)

    long = threading.Thread(target=fetch, args=("long", 3.0))
    long.start()
    time.sleep(0.2)
    fetch("short", 0.5)
    long.join()
    assert outcomes["short"][0] == "timeout" and outcomes["short"][1] < 1.2
    assert outcomes["long"][0] == "timeout" and 2.8 < outcomes["long"][1] < 3.8


def test_finished_requests_leave_no_deadlines_behind(server):
    srv, base = server
    for _ in range(3 * outbound._Deadlines.COMPACT_AT):
        outbound.request("POST", f"{base}/hook", body=b"{}", timeout=30, max_response_bytes=10, truncate=True,
                         allow_private=True)
    # Long deadlines, all finished: the heap was rebuilt rather than holding a request's worth each.
    assert len(outbound._deadlines._heap) <= 2 * outbound._Deadlines.COMPACT_AT
    assert len(srv.seen) == 3 * outbound._Deadlines.COMPACT_AT


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nInjected: 1"}, {"X-Evil": "a\nb"}, {"Bad Name": "x"},
                                     {"X-Text": "caf\u00e9 \u2603"}])
def test_headers_that_would_break_the_request_are_refused_before_connecting(server, headers):
    srv, base = server
    with pytest.raises(OutboundError) as caught:
        outbound.request("POST", f"{base}/hook", headers=headers, body=b"{}", timeout=5, max_response_bytes=10,
                         allow_private=True)
    assert caught.value.reason == "protocol"
    assert srv.seen == []


def test_a_body_over_the_cap_fails_or_is_truncated(server):
    _srv, base = server
    with pytest.raises(OutboundError) as caught:
        outbound.get_json(f"{base}/big", timeout=5, max_response_bytes=64 * 1024, allow_private=True)
    assert caught.value.reason == "too_large"
    response = outbound.request("GET", f"{base}/big", timeout=5, max_response_bytes=1024, truncate=True,
                                allow_private=True)
    assert response.status == 200 and response.truncated and response.body == b"x" * 1024


def test_redirects_are_answered_not_followed(server):
    srv, base = server
    response = outbound.request("GET", f"{base}/redirect", timeout=5, max_response_bytes=1024, allow_private=True)
    assert response.status == 302 and not response.ok
    assert response.headers["location"] == "/jwks"
    assert [seen[1] for seen in srv.seen] == ["/redirect"]
    with pytest.raises(OutboundError) as caught:
        outbound.get_json(f"{base}/redirect", timeout=5, allow_private=True)
    assert caught.value.reason == "status"


def test_post_sends_method_headers_and_body_and_answers_status_and_first_kb(server):
    srv, base = server
    fetcher = Fetcher(allow_private=True)
    response = fetcher.request("POST", f"{base}/hook", headers={"Content-Type": "application/json", "webhook-id": "m1"},
                               body=b'{"a": 1}', timeout=5, max_response_bytes=1024, truncate=True)
    assert response.status == 201 and response.ok and response.truncated
    assert response.body.startswith(b'received:{"a": 1}') and len(response.body) == 1024
    method, path, headers, body = srv.seen[0]
    assert (method, path, body) == ("POST", "/hook", b'{"a": 1}')
    assert headers["webhook-id"] == "m1" and headers["Content-Type"] == "application/json"


def test_errors_read_the_same_whatever_failed(server):
    _srv, base = server
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    failures = []
    for url, allow in ((f"http://127.0.0.1:{port}/", True), ("http://127.0.0.1/", False),
                       (f"{base}/big", True), ("ftp://example.com/", True)):
        with pytest.raises(OutboundError) as caught:
            outbound.get_json(url, timeout=2, max_response_bytes=10, allow_private=allow)
        failures.append(caught.value)
    assert {str(failure) for failure in failures} == {GENERIC_MESSAGE}
    assert [failure.reason for failure in failures] == ["connect", "refused_address", "too_large", "bad_url"]


@pytest.mark.parametrize("url", [
    "ftp://tool.example/jwks", "file:///etc/passwd", "http://user:pw@tool.example/", "http:///nohost",
    "https://tool.example:99999/", "https://tool.example:0/", "https://tool.example/\r\nX: y", "https://tööl.example/",
])
def test_urls_that_are_not_plain_http_are_refused(url):
    with pytest.raises(OutboundRefused) as caught:
        outbound.check_url(url, allow_private=True)
    assert caught.value.reason == "bad_url"


def test_check_url_at_configuration_time(monkeypatch):
    for url in ("http://127.0.0.1/jwks", "https://10.0.0.8/jwks", "http://[::1]/", "https://169.254.169.254/"):
        with pytest.raises(OutboundRefused):
            outbound.check_url(url)
    outbound.check_url("https://93.184.216.34/jwks")
    outbound.check_url("http://127.0.0.1/jwks", allow_private=True)

    def resolver(host, *args, **kwargs):
        if host == "internal.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.5", 443))]
        raise socket.gaierror("no such name")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(OutboundRefused):
        outbound.check_url("https://internal.example/jwks")
    # A name that does not resolve today may tomorrow: the fetch checks it again then.
    outbound.check_url("https://not-yet.example/jwks")


def test_fetcher_follows_the_setting():
    from proctorhub.settings import parse_settings

    assert Fetcher.from_settings(parse_settings({})).allow_private is False
    allowed = parse_settings({"proctorhub.outbound.allow_private_addresses": "true"})
    assert Fetcher.from_settings(allowed).allow_private is True


class _Recorder:
    """A socket stand-in that keeps what http.client writes."""

    def __init__(self):
        self.sent = b""

    def sendall(self, data):
        self.sent += data

    def close(self):
        pass


def _split(raw: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    return line, sorted(tuple(field.split(": ", 1)) for field in fields), body


@pytest.mark.parametrize("url", ["http://hooks.example.edu/in", "http://hooks.example.edu:8080/in?lms=a&x=%20",
                                 "https://hooks.example.edu/", "https://hooks.example.edu:8443/p/q",
                                 "http://[2001:db8::1]:9000/hook", "http://192.0.2.7/"])
@pytest.mark.parametrize("body", [None, b"{}", b'{"type":"review.received","data":{"a":"\xc3\xa9"}}'])
def test_the_request_head_is_what_http_client_would_write(url, body):
    headers = {"Content-Type": "application/json", "webhook-id": "msg_1", "webhook-signature": "v1,abc= v1,def="}
    target = outbound._parse(url)
    ours = outbound._request_head("POST", target, headers, body) + (body or b"")

    connection = http.client.HTTPConnection(target.host, target.port)
    connection.sock = _Recorder()
    if target.scheme == "https" and target.port == 443:
        # http.client knows the default port by its connection class alone.
        connection.default_port = 443
    connection.request("POST", target.path, body=body,
                       headers={"User-Agent": outbound.USER_AGENT, "Connection": "close", **headers})
    theirs = connection.sock.sent

    assert _split(ours) == _split(theirs)
    assert ours.endswith(b"\r\n\r\n" + (body or b""))
