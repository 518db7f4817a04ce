"""ACS actions per second through waitress, beside a floor of one signed-token check plus one
conditional UPDATE.

Each action is a ``pause`` of its own started attempt (``POST /lti/acs`` with the tool's access
token, in the spec's media type): the access token's RS256 check, the attempt found and locked,
the replay check, the attempt's conditional move, its ledger row and its events. The floor's
request verifies an RS256 bearer token (with audience, issuer and expiry, as the ACS does) and
runs one ``UPDATE ... WHERE status = 'started'`` on a row of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from proctorhub.models import DEFAULT_SLUG, Attempt, AttemptControl, Exam, Lms, ToolConfiguration
from tests.lti_tool import FakeTool

from .floor import floor_metadata, floor_state
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

NAME = "acs"
TITLE = "ACS actions (pause) through waitress, beside a floor of one RS256 token check + one conditional UPDATE"
WARM_UP = 40
PLAN = ((1, 300, 8.0), (8, 480, 8.0))
CONTROL = "application/vnd.ims.lti-ap.v1.control+json"
SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"


def arrange(database: Database, tool: FakeTool, learners: int) -> str:
    """A tool offered ACS, one exam, and ``learners`` started attempts; the tool's client_id."""
    now = dt.datetime.now(dt.UTC)
    with Session(database.engine) as session:
        config = ToolConfiguration(name="Bench tool", deployment_id="deployment-1",
                                   oidc_login_url="https://tool.test/login", launch_url="https://tool.test/launch",
                                   redirect_uris=[tool.redirect_uri], public_key_pem=tool.public_pem(),
                                   acs_actions=["pause", "resume", "terminate", "update", "flag"])
        lms = session.execute(sa.select(Lms).where(Lms.slug == DEFAULT_SLUG)).scalar_one()
        exam = Exam(lms=lms, context_id="course-bench", resource_link_id="bench-exam", name="Bench exam",
                    configuration=config, time_limit_mins=60)
        session.add_all([config, exam])
        session.flush()
        session.execute(sa.insert(Attempt), [
            {"exam_id": exam.id, "user_id": f"learner-{i}", "attempt_number": 1, "attempt_code": f"bench-{i}",
             "status": "started", "started_at": now, "created_at": now, "modified_at": now}
            for i in range(learners)])
        client_id = config.client_id
        session.commit()
    with database.engine.begin() as connection:
        floor_metadata.create_all(connection)
        connection.execute(sa.insert(floor_state), [{"id": i, "status": "started"} for i in range(learners)])
    return client_id


def access_token(port: int, tool: FakeTool, client_id: str, issuer: str) -> str:
    client = Client(port)
    try:
        form = urlencode({"grant_type": "client_credentials", "scope": SCOPE,
                          "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                          "client_assertion": tool.client_assertion(client_id, f"{issuer}/lti/token")}).encode()
        _, body = client.expect(Request("POST", "/lti/token", form,
                                        {"Content-Type": "application/x-www-form-urlencoded"}), 200)
        return json.loads(body)["access_token"]
    finally:
        client.close()


def pause_task(token: str, learner: int):
    body = json.dumps({"user": {"sub": f"learner-{learner}"}, "resource_link": {"id": "bench-exam"},
                       "attempt_number": 1, "action": "pause",
                       "incident_time": "2026-11-29T10:00:00Z"}).encode()
    request = Request("POST", "/lti/acs", body, {"Authorization": f"Bearer {token}", "Content-Type": CONTROL,
                                                  "Accept": CONTROL})

    def pause(client: Client) -> None:
        _, answer = client.expect(request, 200)
        if json.loads(answer)["status"] != "paused":
            raise LoadError(f"learner-{learner}'s pause answered {answer!r}")

    return pause


def floor_task(token: str, row: int):
    request = Request("POST", "/floor/acs", json.dumps({"id": row}).encode(),
                      {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})

    def conditional_update(client: Client) -> None:
        client.expect(request, 200)

    return conditional_update


def run_on(kind: str, result: SectionResult, tool: FakeTool) -> None:
    needed = work_needed(PLAN, WARM_UP)
    with fresh_database(kind) as database:
        settings = app_settings(database)
        client_id = arrange(database, tool, needed)
        with Server("bench.floor:main", settings) as floor_server, Server("proctorhub:main", settings) as app_server:
            token = access_token(app_server.port, tool, client_id, settings["proctorhub.issuer"])
            floor_token = floor_access_token(floor_server.port)
            subject = Side(app_server, [pause_task(token, i) for i in range(needed)])
            floor = Side(floor_server, [floor_task(floor_token, i) for i in range(needed)])
            measured = compare(subject, floor, plan=PLAN, warm_up=WARM_UP, what=f"ACS actions on {kind}")
        with database.engine.connect() as connection:
            paused = connection.execute(sa.select(sa.func.count()).select_from(Attempt)
                                        .where(Attempt.status == "paused")).scalar_one()
            controls = connection.execute(sa.select(sa.func.count()).select_from(AttemptControl)).scalar_one()
    if not paused == controls == subject.completed:
        raise RuntimeError(f"on {kind}, {subject.completed} pauses answered, {paused} attempts paused, "
                           f"{controls} ACS ledger rows")
    result.notes.append(f"{kind}: {subject.completed} pauses paused {paused} attempts")
    for clients, _, _ in PLAN:
        row = Row(NAME, kind, clients, *measured[clients])
        result.rows.append(row)
        result.checks.append(Check(f"{kind}, {clients} client{'s' if clients > 1 else ''}: ACS actions beside "
                                   "the floor (measured, no target)", True,
                                   f"{row.subject.rate:.0f}/s vs {row.floor.rate:.0f}/s = {row.ratio:.2f}x"))


def floor_access_token(port: int) -> str:
    client = Client(port)
    try:
        _, body = client.expect(Request("GET", "/floor/token"), 200)
        return json.loads(body)["token"]
    finally:
        client.close()


def run_section(databases=DATABASE_KINDS) -> SectionResult:
    result = SectionResult(name=NAME, title=TITLE)
    result.notes.append("rates are ACS actions (and floor requests) per second, each on its own attempt (row)")
    tool = FakeTool()
    for kind in databases:
        run_on(kind, result, tool)
    return result
