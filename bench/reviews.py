"""Review callbacks (``POST /api/v1/reviews/softwaresecure``) beside the one-insert floor.

Every callback is a distinct, signed SoftwareSecure review of a distinct attempt created
before timing, so each request takes the whole real path: signature check, JSON parse,
plugin normalisation and validation, attempt lookup, review + comments + events stored,
attempt settled. Statuses rotate through all four verdicts so every row of the decision
table is exercised. After the run the stored reviews are counted against the answers.
"""

from __future__ import annotations

import itertools
import json
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from proctorhub.backends import SIGNATURE_HEADER, sign
from proctorhub.models import DEFAULT_SLUG, Attempt, AttemptStatus, Event, Exam, Lms, Review, ReviewComment
from proctorhub.models.attempt import new_attempt_code
from tests.factories import softwaresecure_payload

from .harness import (
    DATABASE_KINDS,
    Check,
    Database,
    Request,
    Row,
    SectionResult,
    Server,
    Side,
    app_settings,
    compare,
    fresh_database,
    run_load,
    work_needed,
)

NAME = "reviews"
TITLE = "Review callbacks through waitress, beside a one-insert floor"
BACKEND = "softwaresecure"
VENDOR_STATUSES = ("Clean", "Suspicious", "Rules Violation", "Not Reviewed")
WARM_UP = 150
# (client threads, requests, at most seconds): bounded both ways so the whole run stays short.
PLAN = ((1, 450, 4.5), (8, 1200, 6.0))
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


def create_attempts(database: Database, count: int) -> list[tuple[str, str]]:
    """``count`` submitted attempts on one proctored exam: their (attempt code, vendor record id)."""
    with Session(database.engine) as session:
        lms = session.execute(sa.select(Lms).where(Lms.slug == DEFAULT_SLUG)).scalar_one()
        exam = Exam(lms=lms, context_id="course-v1:Bench+B1+2026", resource_link_id="bench-final",
                    name="Bench final", is_proctored=True, is_practice=False, backend=BACKEND)
        session.add(exam)
        session.flush()
        attempts = [(new_attempt_code(), f"SSI-BENCH-{i:06d}") for i in range(count)]
        session.execute(
            sa.insert(Attempt),
            [
                {"exam_id": exam.id, "user_id": f"learner-{i}", "user_name": f"Learner {i}",
                 "user_email": f"learner{i}@example.edu", "attempt_number": 1, "attempt_code": code,
                 "external_id": record, "status": AttemptStatus.submitted.value}
                for i, (code, record) in enumerate(attempts)
            ],
        )
        session.commit()
    return attempts


def callback_requests(attempts, secret: str) -> list[Request]:
    """One signed callback per attempt, signed now (the signature window is minutes)."""
    statuses = itertools.cycle(VENDOR_STATUSES)
    requests = []
    for code, record in attempts:
        body = json.dumps(softwaresecure_payload(code, status=next(statuses), record_locator=record)).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, int(time.time()), body)}
        requests.append(Request("POST", f"/api/v1/reviews/{BACKEND}", body, headers))
    return requests


def floor_requests(count: int) -> list[Request]:
    """The floor gets bodies of the same size and shape; it stores each one as one row."""
    body = json.dumps(softwaresecure_payload(new_attempt_code(), record_locator="SSI-BENCH-000000")).encode()
    headers = {"Content-Type": "application/json"}
    return [Request("POST", "/floor/row", body, headers) for _ in range(count)]


def count_rows(database: Database) -> dict:
    with database.engine.connect() as connection:
        counts = {
            model.__tablename__: connection.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
            for model in (Review, ReviewComment)
        }
        # The review and status-change events each callback owes (review.needs_attention comes on top
        # for some outcomes).
        counts["event"] = connection.execute(sa.select(sa.func.count()).select_from(Event).where(
            Event.kind.in_(["review.received", "attempt.status_changed"]))).scalar_one()
        return counts


def run_on(kind: str, result: SectionResult) -> None:
    needed = work_needed(PLAN, WARM_UP)
    with fresh_database(kind) as database:
        settings = app_settings(database)
        attempts = create_attempts(database, needed)
        secret = settings[f"proctorhub.backend.{BACKEND}.secret"]
        with Server("bench.floor:main", settings) as floor_server, Server("proctorhub:main", settings) as app_server:
            subject = Side(app_server, callback_requests(attempts, secret), run_load)
            measured = compare(subject, Side(floor_server, floor_requests(needed), run_load),
                               plan=PLAN, warm_up=WARM_UP, what=f"review callbacks on {kind}")
        stored = count_rows(database)

    answered = subject.completed
    # Three comments per payload, one review event plus one status-change event per callback.
    if stored != {"review": answered, "review_comment": 3 * answered, "event": 2 * answered}:
        raise RuntimeError(f"on {kind}, {answered} callbacks answered 200 but the database holds {stored}")
    result.notes.append(f"{kind}: {answered} callbacks stored {stored['review']} reviews, "
                        f"{stored['review_comment']} comments, {stored['event']} events")

    for clients, _, _ in PLAN:
        row = Row(NAME, kind, clients, *measured[clients])
        result.rows.append(row)
        result.checks.append(Check(
            f"{kind}, {clients} client{'s' if clients > 1 else ''}: callback rate >= {TARGET_RATIO}x floor",
            row.ratio >= TARGET_RATIO,
            f"{row.subject.rate:.0f}/s vs {row.floor.rate:.0f}/s = {row.ratio:.2f}x",
        ))
    p99 = measured[8][0].p99_ms
    result.checks.append(Check(f"{kind}, 8 clients: callback p99 < {TARGET_P99_MS:.0f} ms", p99 < TARGET_P99_MS,
                               f"p99 {p99:.1f} ms"))


def run_section(databases=DATABASE_KINDS) -> SectionResult:
    result = SectionResult(name=NAME, title=TITLE)
    for kind in databases:
        run_on(kind, result)
    return result
