"""LtiStartAssessment refusals: each names the failed check and changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ...lti_tool import DROP, FakeTool
from .conftest import snapshot

OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged(signed: str, alg: str, secret: bytes | None) -> str:
    """The same claims under a hand-made header: ``alg`` none (no signature) or HMAC with ``secret``."""
    claims = jwt.decode(signed, options={"verify_signature": False})
    header = {**jwt.get_unverified_header(signed), "alg": alg}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = "" if secret is None else _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    return f"{signing_input}.{signature}"




def _cases(flow, claims):
    now = int(time.time())
    good = flow.signed(claims)
    return {
        "alg_none": ("invalid_algorithm", forged(good, "none", None)),
        "hs256_with_public_key": ("invalid_algorithm", forged(good, "HS256", flow.tool.public_pem().encode())),
        "wrong_signature": ("invalid_signature", flow.signed(claims, key=OTHER_KEY)),
        "expired": ("token_expired", flow.signed(claims, now=now - 1000)),
        "iat_in_future": ("issued_in_future", flow.signed(claims, iat=now + 600, exp=now + 900)),
        "wrong_aud": ("invalid_audience", flow.signed(claims, aud="https://another-platform.test")),
        "wrong_iss": ("invalid_issuer", flow.signed(claims, iss="not-a-registered-client")),
        "missing_nonce": ("missing_nonce", flow.signed(claims, nonce=DROP)),
        "wrong_deployment_id": ("invalid_deployment_id", flow.signed(claims, deployment_id="deployment-2")),
        "wrong_session_data": ("session_data_mismatch", flow.signed(claims, session_data="forged-session-data")),
        "wrong_attempt_number": ("attempt_number_mismatch", flow.signed(claims, attempt_number=2)),
        "wrong_resource_link": ("resource_link_mismatch", flow.signed(claims, resource_link={"id": "exam-2"})),
        "wrong_message_type": ("invalid_message_type", flow.signed(claims, message_type="LtiStartProctoring")),
        "wrong_version": ("invalid_version", flow.signed(claims, version="1.1.0")),
        "exp_centuries_away": ("invalid_exp", flow.signed(claims, exp=10**12)),
        "iss_too_long_for_a_client_id": ("invalid_issuer", flow.signed(claims, iss="x" * 300)),
    }


CASES = ["alg_none", "hs256_with_public_key", "wrong_signature", "expired", "iat_in_future", "wrong_aud",
         "wrong_iss", "missing_nonce", "wrong_deployment_id", "wrong_session_data", "wrong_attempt_number",
         "wrong_resource_link", "wrong_message_type", "wrong_version", "exp_centuries_away",
         "iss_too_long_for_a_client_id"]


@pytest.mark.parametrize("case", CASES)
def test_refused_with_its_code_and_no_state_change(flow, dbsession, case):
    claims = flow.start_proctoring()
    code, token = _cases(flow, claims)[case]
    before = snapshot(dbsession)
    answer = flow.start(token, status=400)
    assert answer.json["error"]["code"] == code
    assert snapshot(dbsession) == before
    assert before["attempts"][0][1] == "ready_to_start"
    # The refusal spent nothing: the genuine message still starts the attempt.
    flow.start(flow.signed(claims))
    assert snapshot(dbsession)["attempts"][0][1] == "started"


def test_browser_gets_a_page_with_the_code(flow, dbsession):
    claims = flow.start_proctoring()
    before = snapshot(dbsession)
    page = flow.start(flow.signed(claims, attempt_number=3), status=400, headers={"Accept": "text/html"})
    assert page.content_type == "text/html"
    assert "attempt_number_mismatch" in page.text
    assert snapshot(dbsession) == before


def test_nonce_replayed_in_another_message_is_refused(flow, dbsession):
    first = flow.start_proctoring()
    flow.start(flow.signed(first, nonce="nonce-1"))
    second = flow.start_proctoring(resource_link_id="exam-2")
    before = snapshot(dbsession)
    answer = flow.start(flow.signed(second, nonce="nonce-1"), status=400)
    assert answer.json["error"]["code"] == "replayed_nonce"
    assert snapshot(dbsession) == before


def test_reused_session_data_is_refused(flow, dbsession):
    claims = flow.start_proctoring()
    flow.start(flow.signed(claims))
    before = snapshot(dbsession)
    answer = flow.start(flow.signed(claims), status=400)  # a fresh nonce, the same session_data
    assert answer.json["error"]["code"] == "session_data_used"
    assert snapshot(dbsession) == before


def test_session_data_from_another_browser_session_is_refused(flow, other_browser, dbsession):
    mine = flow.start_proctoring()
    other_browser.start_proctoring(user_id="learner-2")
    before = snapshot(dbsession)
    answer = other_browser.start(other_browser.signed(mine), status=400)
    assert answer.json["error"]["code"] == "session_data_mismatch"
    assert snapshot(dbsession) == before
    flow.start(flow.signed(mine))  # still good in the browser it was issued to


def test_no_browser_session_is_refused(flow, app, dbsession):
    from webtest import TestApp

    claims = flow.start_proctoring()
    before = snapshot(dbsession)
    answer = TestApp(app).post("/lti/start-assessment", {"JWT": flow.signed(claims)}, status=400)
    assert answer.json["error"]["code"] == "missing_browser_session"
    assert snapshot(dbsession) == before


def test_missing_jwt_is_refused(flow, dbsession):
    flow.start_proctoring()
    before = snapshot(dbsession)
    assert flow.app.post("/lti/start-assessment", {}, status=400).json["error"]["code"] == "missing_jwt"
    assert snapshot(dbsession) == before


def test_key_from_jwks_unknown_kid_and_rotation(flow, dbsession):
    from ... import factories as f
    from ...lti_tool import JwksServer

    tool = FakeTool()
    with JwksServer(tool.jwks()) as server:
        flow.config = f.configuration(dbsession, jwks_url=server.url, public_key_pem=None)
        flow.tool = tool
        claims = flow.start_proctoring()
        stranger = FakeTool()
        before = snapshot(dbsession)
        answer = flow.start(stranger.start_assessment(claims, platform_issuer="http://platform.test"), status=400)
        assert answer.json["error"]["code"] == "unknown_kid"
        assert snapshot(dbsession) == before
        assert server.fetches == 1  # fetched just now: no second look
        again = flow.start(stranger.start_assessment(claims, platform_issuer="http://platform.test"), status=400)
        assert again.json["error"]["code"] == "unknown_kid"
        assert server.fetches == 2  # from the cache, the unknown kid made it look once more
        assert snapshot(dbsession) == before

        # The tool rotates to a new key: the unknown kid triggers one refetch, then it verifies.
        rotated = FakeTool(key=OTHER_KEY)
        server.jwks = {"keys": [tool.jwk(), rotated.jwk()]}
        flow.start(rotated.start_assessment(claims, platform_issuer="http://platform.test"))
        assert server.fetches == 3
        assert snapshot(dbsession)["attempts"][0][1] == "started"


def test_made_up_kids_refetch_the_tool_jwks_within_a_budget(flow, dbsession):
    """Each unknown kid looks the tool's JWKS up once more, but no more than
    jwks_refetches_per_minute (10) times in any 60 seconds: tokens with made-up kids cannot keep
    proctorhub's threads waiting on the tool's server."""
    from proctorhub.lti import tool_keys

    from ... import factories as f
    from ...lti_tool import JwksServer

    tool = FakeTool()
    with JwksServer(tool.jwks()) as server:
        flow.config = f.configuration(dbsession, jwks_url=server.url, public_key_pem=None)
        flow.tool = tool
        claims = flow.start_proctoring()
        before = snapshot(dbsession)
        for _ in range(12):  # the first fetches the JWKS; the next ten each refetch it; the last does not
            stranger = FakeTool(key=OTHER_KEY, kid=f"made-up-{_}")
            answer = flow.start(stranger.start_assessment(claims, platform_issuer="http://platform.test"),
                                status=400)
            assert answer.json["error"]["code"] == "unknown_kid"
        assert server.fetches == 1 + 10
        assert snapshot(dbsession) == before

        # A minute later the budget is back: a rotated key is found.
        recent = tool_keys._refetches[server.url]
        recent.extend(t - 61 for t in [recent.popleft() for _ in range(len(recent))])
        rotated = FakeTool(key=OTHER_KEY)
        server.jwks = {"keys": [tool.jwk(), rotated.jwk()]}
        flow.start(rotated.start_assessment(claims, platform_issuer="http://platform.test"))
        assert server.fetches == 12
        assert snapshot(dbsession)["attempts"][0][1] == "started"


def test_unreachable_tool_jwks_is_a_502_and_changes_nothing(flow, dbsession):
    import socket

    from ... import factories as f

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    flow.config = f.configuration(dbsession, jwks_url=f"http://127.0.0.1:{port}/jwks.json", public_key_pem=None)
    claims = flow.start_proctoring()
    before = snapshot(dbsession)
    answer = flow.start(flow.signed(claims), status=502)
    assert answer.json["error"]["code"] == "tool_jwks_unavailable"
    assert snapshot(dbsession) == before


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        ({"keys": 5}, 502, "tool_jwks_unavailable"),
        ([1], 502, "tool_jwks_unavailable"),
        ({"keys": ["x"]}, 400, "unknown_kid"),  # readable, but no key in it
        ({"keys": [{"kty": "RSA", "kid": [1]}]}, 400, "unknown_kid"),
    ],
)
def test_malformed_tool_jwks_is_refused_and_changes_nothing(flow, dbsession, document, status, code):
    from ... import factories as f
    from ...lti_tool import JwksServer

    with JwksServer(document) as server:
        flow.config = f.configuration(dbsession, jwks_url=server.url, public_key_pem=None)
        claims = flow.start_proctoring()
        before = snapshot(dbsession)
        answer = flow.start(flow.signed(claims), status=status)
    assert answer.json["error"]["code"] == code
    assert snapshot(dbsession) == before
