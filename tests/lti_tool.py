"""A stand-in LTI proctoring tool for tests and the benchmark, independent of proctorhub's code.

``FakeTool`` holds its own RSA key, publishes it (PEM or JWKS), answers a platform's
third-party-initiated login with an OIDC authentication request, reads the id_token out of the
platform's auto-posting form, and signs ``LtiStartAssessment`` and client assertions.
``JwksServer`` serves a JWKS on 127.0.0.1 from a thread. ``run_launch`` drives one complete launch
(launch API, browser entry, authorize, start assessment) over HTTP with ``requests``;
``begin_launch`` stops before the start assessment.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"
DROP = object()  # an override value that removes the claim


class FakeTool:
    def __init__(self, *, redirect_uri: str = "https://tool.test/launch", kid: str | None = None, key=None):
        self.key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid or secrets.token_hex(8)
        self.redirect_uri = redirect_uri

    # --- publishing the key -------------------------------------------------------------
    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def jwk(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def jwks(self) -> dict:
        return {"keys": [self.jwk()]}

    # --- the OIDC login -----------------------------------------------------------------
    def authentication_request(self, login_location: str, **overrides) -> dict:
        """The query of the OIDC authentication request answering a third-party-initiated login
        (the platform's redirect to the tool's login URL). ``None`` in overrides drops a parameter."""
        login = {k: v[0] for k, v in parse_qs(urlsplit(login_location).query).items()}
        params = {
            "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
            "client_id": login["client_id"], "redirect_uri": self.redirect_uri,
            "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12),
            "login_hint": login["login_hint"], "lti_message_hint": login["lti_message_hint"],
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    @staticmethod
    def form_fields(page: str) -> tuple[str, dict]:
        """The action and hidden fields of the platform's auto-posting form."""
        action = html.unescape(re.search(r'<form[^>]*action="([^"]*)"', page).group(1))
        fields = {html.unescape(n): html.unescape(v)
                  for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)}
        return action, fields

    # --- signing ------------------------------------------------------------------------
    def start_assessment(self, id_token_claims: dict, *, platform_issuer: str, now: int | None = None,
                         end_assessment_return: bool = True, verified_user: dict | None = None,
                         headers: dict | None = None, key=None, algorithm: str = "RS256", **overrides) -> str:
        """An ``LtiStartAssessment`` JWT answering an ``LtiStartProctoring`` whose claims are given.

        ``overrides`` replace claims (``DROP`` removes one); ``key``/``algorithm``/``headers`` allow
        deliberately wrong signatures."""
        now = int(time.time()) if now is None else now
        claims = {
            "iss": id_token_claims["aud"],
            "aud": platform_issuer,
            "iat": now,
            "exp": now + 300,
            "nonce": secrets.token_urlsafe(16),
            LTI + "message_type": "LtiStartAssessment",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": id_token_claims[LTI + "deployment_id"],
            LTI + "resource_link": {"id": id_token_claims[LTI + "resource_link"]["id"]},
            AP + "attempt_number": id_token_claims[AP + "attempt_number"],
            AP + "session_data": id_token_claims[AP + "session_data"],
            AP + "end_assessment_return": end_assessment_return,
            AP + "verified_user": verified_user or {"given_name": "Ada", "family_name": "Learner"},
        }
        for name, value in overrides.items():
            name = {"message_type": LTI + "message_type", "version": LTI + "version",
                    "deployment_id": LTI + "deployment_id", "resource_link": LTI + "resource_link",
                    "attempt_number": AP + "attempt_number", "session_data": AP + "session_data"}.get(name, name)
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        header = {"kid": self.kid, **(headers or {})}
        return jwt.encode(claims, key if key is not None else self.key, algorithm=algorithm, headers=header)

    def client_assertion(self, client_id: str, token_url: str, *, now: int | None = None) -> str:
        now = int(time.time()) if now is None else now
        claims = {"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 300,
                  "jti": secrets.token_urlsafe(16)}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


class JwksServer:
    """Serves ``documents`` (a mutable JWKS) at ``http://127.0.0.1:<port>/jwks.json``; counts fetches."""

    def __init__(self, jwks: dict):
        self.jwks = jwks
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                outer.fetches += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def begin_launch(http, bases, *, lms_token: str, config_id: int, tool: FakeTool, user_id: str = "learner-1",
                 resource_link_id: str = "exam-1", attempt_number: int = 1,
                 return_url: str = "https://lms.test/return", context_id: str = "course-1") -> dict:
    """Launch API, browser entry and authorization with a ``requests.Session`` (the browser).

    ``bases`` lists base URLs (``http://127.0.0.1:port``); step *i* goes to ``bases[i % len(bases)]``,
    so two bases make the steps alternate between two processes. Returns the launch API's answer
    and the LtiStartProctoring claims."""
    base = [bases[i % len(bases)] for i in range(3)]
    answer = http.post(f"{base[0]}/api/v1/launches", json={
        "config_id": config_id, "message_type": "LtiStartProctoring",
        "user": {"id": user_id, "role": "learner"}, "resource_link": {"id": resource_link_id},
        "context": {"id": context_id}, "attempt_number": attempt_number, "return_url": return_url,
    }, headers={"Authorization": f"Bearer {lms_token}"})
    answer.raise_for_status()
    launch = answer.json()
    entry = http.get(base[1] + path_of(launch["launch_url"]), allow_redirects=False)
    assert entry.status_code == 302, entry.text
    params = tool.authentication_request(entry.headers["Location"])
    form = http.post(f"{base[2]}/lti/authorize", data=params, allow_redirects=False)
    assert form.status_code == 200, form.text
    _action, fields = tool.form_fields(form.text)
    return {"launch": launch, "claims": jwt.decode(fields["id_token"], options={"verify_signature": False})}


def run_launch(http, bases, *, platform_issuer: str, tool: FakeTool, **launch_fields) -> dict:
    """One complete LtiStartProctoring launch (launch API, browser entry, authorize, start
    assessment) through HTTP; the fourth step goes to ``bases[3 % len(bases)]``. Returns the
    launch API's answer, the id_token claims and the final redirect (the LMS return URL)."""
    begun = begin_launch(http, bases, tool=tool, **launch_fields)
    claims = begun["claims"]
    signed = tool.start_assessment(claims, platform_issuer=platform_issuer)
    start_url = bases[3 % len(bases)] + path_of(claims[AP + "start_assessment_url"])
    done = http.post(start_url, data={"JWT": signed}, allow_redirects=False)
    assert done.status_code == 302, done.text
    return {**begun, "location": done.headers["Location"]}
