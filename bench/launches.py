"""Complete LTI launches through waitress, beside a floor of as many one-row round trips.

One launch is the four round trips of an ``LtiStartProctoring`` launch, each for a distinct
learner (so a distinct attempt) in a fresh browser (cookie jar):

1. ``POST /api/v1/launches`` (LMS bearer token): the attempt and a single-use launch URL;
2. ``GET /lti/launch/{token}``: binds the browser session, redirects to the tool's login;
3. ``POST /lti/authorize``: the tool's OIDC authentication request; the platform signs an id_token;
4. ``POST /lti/start-assessment``: the tool's signed ``LtiStartAssessment``; the platform verifies it
   and starts the attempt.

The tool's side (``tests.lti_tool.FakeTool``) runs in the client: it reads the id_token without
verifying it and signs its ``LtiStartAssessment`` (one RS256 signature per launch). The floor is four
round trips to the bare floor app, each writing one row, one of them also making one RS256 signature
and one verification with PyJWT on the server; its client signs the same ``LtiStartAssessment`` as a
launch's client does, so the tool's own work weighs on both sides alike.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from proctorhub.cli.tokens import create_token
from proctorhub.models import DEFAULT_SLUG, Attempt, Exam, Lms, ToolConfiguration
from tests.lti_tool import AP, FakeTool, path_of

from .harness import (
    DATABASE_KINDS,
    Check,
    Client,
    Database,
    LoadError,
    Request,
    Row,
    SectionResult,
    Server,
    Side,
    app_settings,
    compare,
    fresh_database,
    work_needed,
)

NAME = "launches"
TITLE = "Complete LTI launches (4 round trips) through waitress, beside a floor of 4 one-row round trips + RS256"
ROUND_TRIPS = 4
WARM_UP = 40
# (client threads, launches, at most seconds).
PLAN = ((1, 300, 9.0), (8, 480, 8.0))
TARGET_RATIO = 0.5  # within 2x of the floor


class Launcher:
    """What every launch shares: the LMS token, the tool configuration, the tool's key."""

    def __init__(self, *, lms_token: str, config_id: int, tool: FakeTool, issuer: str):
        self.lms_headers = {"Authorization": f"Bearer {lms_token}", "Content-Type": "application/json"}
        self.config_id = config_id
        self.tool = tool
        self.issuer = issuer

    def task(self, learner: int):
        def launch(client: Client) -> None:
            client.cookies.clear()  # a new browser for each learner
            body = json.dumps({
                "config_id": self.config_id, "message_type": "LtiStartProctoring",
                "user": {"id": f"learner-{learner}", "role": "learner", "name": f"Learner {learner}"},
                "resource_link": {"id": "bench-exam", "title": "Bench exam"},
                "context": {"id": "course-bench", "title": "Bench course"}, "attempt_number": 1,
                "return_url": "https://lms.test/return",
            }).encode()
            _, answer = client.expect(Request("POST", "/api/v1/launches", body, self.lms_headers), 201)
            entry, _ = client.expect(Request("GET", path_of(json.loads(answer)["launch_url"])), 302)
            params = self.tool.authentication_request(entry["Location"])
            form = Request("POST", "/lti/authorize", urlencode(params).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"})
            _, page = client.expect(form, 200)
            _action, fields = self.tool.form_fields(page.decode())
            claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
            signed = self.tool.start_assessment(claims, platform_issuer=self.issuer)
            start = Request("POST", path_of(claims[AP + "start_assessment_url"]), urlencode({"JWT": signed}).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})
            done, _ = client.expect(start, 302)
            if done["Location"] != "https://lms.test/return":
                raise LoadError(f"start assessment sent the browser to {done['Location']!r}")

        return launch


def floor_task_for(tool: FakeTool, issuer: str):
    """The floor's set of round trips, with the same client-side tool work as a launch.

    In a launch the client also plays the tool: it signs an ``LtiStartAssessment`` (one RS256
    signature), work that a real tool does on its own server. The floor's client signs the same
    message with the same key, so both sides carry it and the ratio compares the servers alone.
    """
    claims = {"aud": "bench-client", "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-1",
              "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "bench-exam"},
              AP + "attempt_number": 1, AP + "session_data": "bench-session-data"}

    def floor_task(client: Client) -> None:
        headers = {"Content-Type": "application/json"}
        for _ in range(ROUND_TRIPS - 1):
            client.expect(Request("POST", "/floor/row", b'{"step": "row"}', headers), 200)
        tool.start_assessment(claims, platform_issuer=issuer)
        client.expect(Request("POST", "/floor/jwt", b'{"step": "jwt"}', headers), 200)

    return floor_task


def arrange(database: Database, tool: FakeTool) -> tuple[str, int]:
    with Session(database.engine) as session:
        config = ToolConfiguration(name="Bench tool", deployment_id="deployment-1",
                                   oidc_login_url="https://tool.test/login", launch_url="https://tool.test/launch",
                                   redirect_uris=[tool.redirect_uri], public_key_pem=tool.public_pem(),
                                   acs_actions=["pause", "resume", "terminate", "update", "flag"])
        # The exam exists before learners launch, as in a course (and 8 first launches do not race
        # to create it: that race is retried, and its warnings would only clutter the report).
        lms = session.execute(sa.select(Lms).where(Lms.slug == DEFAULT_SLUG)).scalar_one()
        session.add(Exam(lms=lms, context_id="course-bench", context_title="Bench course",
                         resource_link_id="bench-exam", resource_link_title="Bench exam", name="Bench exam",
                         configuration=config))
        session.add(config)
        token = create_token(session, "lms", "bench LMS")
        session.commit()
        return token, config.id


def run_on(kind: str, result: SectionResult, tool: FakeTool) -> None:
    needed = work_needed(PLAN, WARM_UP)
    with fresh_database(kind) as database:
        settings = app_settings(database)
        token, config_id = arrange(database, tool)
        launcher = Launcher(lms_token=token, config_id=config_id, tool=tool, issuer=settings["proctorhub.issuer"])
        with Server("bench.floor:main", settings) as floor_server, Server("proctorhub:main", settings) as app_server:
            subject = Side(app_server, [launcher.task(i) for i in range(needed)])
            floor_task = floor_task_for(tool, settings["proctorhub.issuer"])
            measured = compare(subject, Side(floor_server, [floor_task] * needed),
                               plan=PLAN, warm_up=WARM_UP, what=f"launches on {kind}")
        with database.engine.connect() as connection:
            started = connection.execute(
                sa.select(sa.func.count()).select_from(Attempt).where(Attempt.status == "started")
            ).scalar_one()

    launched = subject.completed
    if started != launched:
        raise RuntimeError(f"on {kind}, {launched} launches completed but {started} attempts are started")
    result.notes.append(f"{kind}: {launched} launches started {started} attempts")
    for clients, _, _ in PLAN:
        row = Row(NAME, kind, clients, *measured[clients])
        result.rows.append(row)
        result.checks.append(Check(
            f"{kind}, {clients} client{'s' if clients > 1 else ''}: launch rate within 2x of floor",
            row.ratio >= TARGET_RATIO,
            f"{row.subject.rate:.0f}/s vs {row.floor.rate:.0f}/s = {row.ratio:.2f}x",
        ))


def run_section(databases=DATABASE_KINDS) -> SectionResult:
    result = SectionResult(name=NAME, title=TITLE)
    result.notes.append(f"rates are complete launches (and floor sets of {ROUND_TRIPS} round trips) per second; "
                        "latencies are per launch")
    tool = FakeTool()
    for kind in databases:
        run_on(kind, result, tool)
    return result
