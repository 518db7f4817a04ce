"""Issue 13 finding 1: the tool's JWKS URL is never a way into the hub's own network."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select
from webtest import TestApp

from proctorhub.models import Attempt, ToolConfiguration

from ... import factories as f
from ...live import serve
from ...lti_tool import begin_launch
from .conftest import AP, ISSUER, Flow, snapshot

TOOL = {
    "name": "Internal probe",
    "deployment_id": "dep-1",
    "oidc_login_url": "https://tool.test/login",
    "launch_url": "https://tool.test/launch",
    "redirect_uris": ["https://tool.test/launch"],
    "backend": "rest",
}
PUBLIC_ONLY = {"proctorhub.outbound.allow_private_addresses": "false"}


@pytest.mark.parametrize("jwks_url", [
    "https://127.0.0.1:8443/jwks", "https://localhost/jwks", "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.7/jwks", "https://[::1]/jwks", "https://[::ffff:192.168.1.1]/jwks",
])
def test_a_configuration_naming_an_internal_jwks_url_is_refused(make_app, dbsession, jwks_url):
    app = make_app(**PUBLIC_ONLY)
    token = f.token(dbsession, role="admin", name="admin program")
    created = app.post_json("/admin/configurations/", {**TOOL, "jwks_url": jwks_url}, headers=f.auth(token),
                            status=400).json["error"]
    assert created["code"] == "invalid_payload"
    assert "jwks_url" in created["details"]["fields"]
    assert dbsession.execute(select(ToolConfiguration)).first() is None


def test_an_update_to_an_internal_jwks_url_is_refused(make_app, dbsession):
    app = make_app(**PUBLIC_ONLY)
    token = f.token(dbsession, role="admin", name="admin program")
    created = app.post_json("/admin/configurations/", {**TOOL, "jwks_url": "https://93.184.216.34/jwks"},
                            headers=f.auth(token), status=201).json
    refused = app.patch_json(f"/admin/configurations/{created['id']}", {"jwks_url": "http://localhost:9000/jwks"},
                             headers=f.auth(token), status=400).json["error"]
    assert "jwks_url" in refused["details"]["fields"]
    dbsession.expire_all()
    assert dbsession.execute(select(ToolConfiguration.jwks_url)).scalar_one() == "https://93.184.216.34/jwks"


# -- the fetch itself ------------------------------------------------------------------------------

class ToolServer:
    """A tool's web server for the attacks: ``routes`` maps a path to a handler(handler) function;
    every request is counted in ``hits`` by path. ``release`` ends every request still held."""

    def __init__(self, routes):
        self.hits: list[str] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the stdlib's name
                outer.hits.append(self.path)
                try:
                    routes[self.path](self, outer)
                except OSError:
                    pass  # proctorhub hung up, as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _slow(handler, server):
    server.release.wait(30)  # never answers within any deadline


def _huge(handler, server):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(300 * 1024 * 1024))
    handler.end_headers()
    handler.wfile.write(b'{"keys": [' + b" " * (1024 * 1024))
    server.release.wait(5)


def _redirect(handler, server):
    handler.send_response(302)
    handler.send_header("Location", f"{server.base}/internal/admin")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _internal(handler, server):
    body = b'{"keys": []}'
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


ROUTES = {"/slow": _slow, "/huge": _huge, "/redirect": _redirect, "/internal/admin": _internal}


@pytest.fixture
def tool_server():
    with ToolServer(ROUTES) as server:
        yield server


def _attempt(flow, dbsession, jwks_url, *, status=502, **launch_fields):
    flow.config = f.configuration(dbsession, jwks_url=jwks_url, public_key_pem=None)
    claims = flow.start_proctoring(**launch_fields)
    before = snapshot(dbsession)
    started = time.monotonic()
    answer = flow.start(flow.signed(claims), status=status)
    return answer.json["error"], time.monotonic() - started, before


def test_no_browser_session_no_fetch(flow, dbsession, tool_server):
    """The JWT names a registered tool, but the request carries no launch session: refused before
    proctorhub calls the tool's server at all."""
    flow.config = f.configuration(dbsession, jwks_url=f"{tool_server.base}/slow", public_key_pem=None)
    claims = flow.start_proctoring()
    stranger = Flow(TestApp(flow.app.app), lms=flow.lms, config=flow.config, tool=flow.tool)
    answer = stranger.start(flow.signed(claims), status=400)
    assert answer.json["error"]["code"] == "missing_browser_session"
    forged = flow.signed({**claims, AP + "session_data": "guessed"})
    assert flow.start(forged, status=400).json["error"]["code"] == "session_data_mismatch"
    assert tool_server.hits == []


def test_a_huge_jwks_is_cut_off_at_64_kb(flow, dbsession, tool_server):
    error, took, before = _attempt(flow, dbsession, f"{tool_server.base}/huge")
    assert error["code"] == "tool_jwks_unavailable"
    assert took < 3
    assert snapshot(dbsession) == before


def test_a_redirect_is_not_followed(flow, dbsession, tool_server):
    error, _took, before = _attempt(flow, dbsession, f"{tool_server.base}/redirect")
    assert error["code"] == "tool_jwks_unavailable"
    assert tool_server.hits == ["/redirect"]  # never the internal URL it pointed at
    assert snapshot(dbsession) == before


def test_one_deadline_and_the_failure_is_remembered(make_app, dbsession, lms, tool, platform_keys, tool_server):
    app = make_app(**{"proctorhub.lti.jwks_timeout_seconds": "1"})
    flow = Flow(app, lms=lms, config=None, tool=tool)
    error, took, before = _attempt(flow, dbsession, f"{tool_server.base}/slow")
    assert error["code"] == "tool_jwks_unavailable" and 0.9 < took < 2.5
    # At once again: the failure is remembered, the tool's server is not asked a second time.
    started = time.monotonic()
    again = flow.start(flow.signed(flow.start_proctoring(user_id="learner-2")), status=502).json["error"]
    assert again["code"] == "tool_jwks_unavailable" and time.monotonic() - started < 0.5
    assert tool_server.hits == ["/slow"]
    assert snapshot(dbsession)["attempts"][0] == before["attempts"][0]


def test_internal_addresses_are_refused_at_fetch_time(make_app, dbsession, lms, tool, platform_keys, tool_server):
    """A configuration that predates the save-time check (or a name that resolves differently
    later) still never reaches an internal address."""
    flow = Flow(make_app(**PUBLIC_ONLY), lms=lms, config=None, tool=tool)
    error, _took, before = _attempt(flow, dbsession, f"{tool_server.base}/internal/admin")
    assert error["code"] == "tool_jwks_unavailable"
    assert tool_server.hits == []
    assert snapshot(dbsession) == before


def test_the_502_text_is_the_same_for_every_target_and_cause(flow, dbsession, tool_server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/jwks.json"
    errors = []
    urls = (closed, f"{tool_server.base}/redirect", f"{tool_server.base}/huge", f"{tool_server.base}/nothing")
    for index, url in enumerate(urls):
        error, _took, _before = _attempt(flow, dbsession, url, resource_link_id=f"exam-{index}")
        errors.append(error)
    assert len({(e["code"], e["message"], json.dumps(e["details"])) for e in errors}) == 1
    assert "127.0.0.1" not in errors[0]["message"] and errors[0]["details"] == {}


def test_eight_slow_jwks_requests_do_not_stall_the_server(make_app, dbsession, lms, tool, platform_keys,
                                                          tool_server):
    """Issue 13's stall: eight browsers in live launches post LtiStartAssessment while the tool's
    JWKS never answers. One thread waits on the tool (to the deadline), the others give up at
    once, and a `GET /` at the same moment answers within a second."""
    app = make_app(**{"proctorhub.lti.jwks_timeout_seconds": "2"}).app
    config = f.configuration(dbsession, jwks_url=f"{tool_server.base}/slow", public_key_pem=None)
    with serve(app) as base:
        browsers, tokens = [], []
        for index in range(8):
            http = requests.Session()
            begun = begin_launch(http, [base], lms_token=lms, config_id=config.id, tool=tool,
                                 user_id=f"learner-{index}")
            browsers.append(http)
            tokens.append(tool.start_assessment(begun["claims"], platform_issuer=ISSUER))
        answers: list = [None] * 8

        def start(index):
            answers[index] = browsers[index].post(f"{base}/lti/start-assessment", data={"JWT": tokens[index]},
                                                  allow_redirects=False, timeout=30)

        threads = [threading.Thread(target=start, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)  # all eight are in proctorhub now
        started = time.monotonic()
        home = requests.get(f"{base}/", timeout=5)
        home_took = time.monotonic() - started
        for thread in threads:
            thread.join(timeout=30)
    assert home.status_code == 200 and home_took < 1.0, home_took
    assert [answer.status_code for answer in answers] == [502] * 8
    assert {answer.json()["error"]["code"] for answer in answers} == {"tool_jwks_unavailable"}
    assert tool_server.hits == ["/slow"]  # one fetch for the eight
    dbsession.expire_all()
    statuses = dbsession.execute(select(Attempt.status)).scalars().all()
    assert statuses == ["ready_to_start"] * 8
