"""Where a complete LTI launch's time goes: ``python -m bench.profile_launches [--db sqlite|postgresql] [-n N]``.

Builds the real app in this process on a fresh database and drives N complete launches (launch
API, browser entry, authorize, start assessment) straight through the WSGI app (no HTTP, no
threads), keeping each learner's cookie by hand. Prints the time per launch, the SQL statements
of each step, and cProfile's self time grouped by package, then proctorhub's slowest functions by
cumulative time. Not part of ``make bench``.
"""

from __future__ import annotations

import collections
import json
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import jwt

from proctorhub import main as make_app
from tests.lti_tool import AP, FakeTool, path_of

from .harness import app_settings, fresh_database
from .launches import arrange
from .profile_reviews import profile_main, profile_report, profiled, wsgi_environ

WARM_UP = 40
STEPS = ("launch API", "browser entry", "authorize", "start assessment")


class Browser:
    def __init__(self, app):
        self.app = app
        self.cookies: dict[str, str] = {}

    def call(self, method: str, url: str, body: bytes = b"", headers: dict | None = None, expect: int = 200):
        parts = urlsplit(url)
        environ = wsgi_environ(method, parts.path, query=parts.query, body=body, headers=headers)
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"], answer["headers"] = status, response_headers

        content = b"".join(self.app(environ, start_response))
        if not answer["status"].startswith(str(expect)):
            raise RuntimeError(f"{method} {parts.path} -> {answer['status']}: {content[:300]!r}")
        headers_out = {}
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                cookie = SimpleCookie(value)
                self.cookies.update({k: m.value for k, m in cookie.items()})
            headers_out[name.lower()] = value
        return headers_out, content


def launch(app, *, learner: int, lms_token: str, config_id: int, tool: FakeTool, issuer: str, mark=None) -> None:
    mark = mark or (lambda step: None)
    browser = Browser(app)
    body = json.dumps({
        "config_id": config_id, "message_type": "LtiStartProctoring",
        "user": {"id": f"learner-{learner}", "role": "learner", "name": f"Learner {learner}"},
        "resource_link": {"id": "bench-exam", "title": "Bench exam"},
        "context": {"id": "course-bench", "title": "Bench course"}, "attempt_number": 1,
        "return_url": "https://lms.test/return",
    }).encode()
    mark(0)
    _, answer = browser.call("POST", "/api/v1/launches", body, {
        "Authorization": f"Bearer {lms_token}", "Content-Type": "application/json"}, expect=201)
    mark(1)
    entry, _ = browser.call("GET", path_of(json.loads(answer)["launch_url"]), expect=302)
    params = tool.authentication_request(entry["location"])
    mark(2)
    _, page = browser.call("POST", "/lti/authorize", urlencode(params).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"})
    _action, fields = tool.form_fields(page.decode())
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    signed = tool.start_assessment(claims, platform_issuer=issuer)
    mark(3)
    done, _ = browser.call("POST", path_of(claims[AP + "start_assessment_url"]), urlencode({"JWT": signed}).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"}, expect=302)
    mark(None)
    if done["location"] != "https://lms.test/return":
        raise RuntimeError(f"start assessment sent the browser to {done['location']!r}")


def profile(kind: str, count: int) -> str:
    out = []
    tool = FakeTool()
    with fresh_database(kind) as database:
        settings = app_settings(database)
        token, config_id = arrange(database, tool)
        app = make_app({}, **settings)
        common = {"lms_token": token, "config_id": config_id, "tool": tool, "issuer": settings["proctorhub.issuer"]}
        learners = iter(range(WARM_UP + 2 * count))
        for _ in range(WARM_UP):
            launch(app, learner=next(learners), **common)

        began = time.perf_counter()
        for _ in range(count):
            launch(app, learner=next(learners), **common)
        plain_ms = (time.perf_counter() - began) * 1000 / count

        statements = [collections.Counter() for _ in STEPS]
        current = {"step": None}

        def mark(step):
            current["step"] = step

        def count_statement(_conn, _cursor, statement, *_args):
            if current["step"] is not None:
                statements[current["step"]][statement.split(None, 1)[0].upper()] += 1

        engine = app.registry["dbengine"]
        def work():
            for _ in range(count):
                launch(app, learner=next(learners), mark=mark, **common)

        profiler = profiled(engine, count_statement, work)

    out.append(f"{kind}: {plain_ms:.2f} ms per launch in-process ({1000 / plain_ms:.0f}/s, tool's signature "
               "included), no profiler")
    total = sum(sum(c.values()) for c in statements)
    out.append(f"  SQL statements per launch: {total / count:g} (plus BEGIN/COMMIT)")
    for name, counter in zip(STEPS, statements, strict=True):
        out.append(f"    {name:17} {sum(counter.values()) / count:4g}: " + ", ".join(
            f"{verb} {n / count:g}" for verb, n in counter.most_common()))
    out += profile_report(profiler, count, unit="launch", rows=16, functions=36)
    return "\n".join(out)


def main(argv=None) -> int:
    return profile_main(argv, prog="python -m bench.profile_launches", doc=__doc__, profile=profile,
                        unit="launches", default=200)


if __name__ == "__main__":
    raise SystemExit(main())
