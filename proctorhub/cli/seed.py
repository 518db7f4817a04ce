"""``proctorhub seed INI --reviews N``: fill the database with N synthetic reviews (and their attempts).

For load tests and the queue benchmark, never for production data. Rows go in by PostgreSQL
``COPY`` (about a million reviews a minute) or, on SQLite, by batched ``executemany``. The queue
gets the mix a real one has: about 5% need a second review, 10% are suspicious, the rest passed.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from sqlalchemy import func, insert, select, text

from ..models import DEFAULT_SLUG, Attempt, Exam, Lms, QueuePriority, Review, utcnow
from .common import CommandError, add_ini_argument, fits, open_engine

ATTEMPT_COLUMNS = ("id", "exam_id", "user_id", "user_name", "user_email", "attempt_number", "attempt_code",
                   "status", "end_assessment_return", "created_at", "modified_at", "started_at", "submitted_at",
                   "completed_at")
REVIEW_COLUMNS = ("id", "attempt_code", "attempt_id", "exam_id", "context_id", "backend", "status",
                  "vendor_status", "raw_payload", "payload_digest", "queue_priority", "created_at", "modified_at")
BATCH = 20_000


def register(commands) -> None:
    parser = commands.add_parser("seed", help="insert N synthetic reviews (for benchmarks)",
                                 description="Insert N synthetic attempts with their reviews, spread over "
                                 "courses and exams, for load tests and the review-queue benchmark.")
    add_ini_argument(parser)
    parser.add_argument("--reviews", type=int, required=True, metavar="N")
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--exams-per-course", type=int, default=4)
    parser.add_argument("--backend", default="rest", type=fits(Review.__table__.c.backend))
    parser.set_defaults(handler=run)


def _kind(i: int) -> tuple[str, str, str, int]:
    """(review status, vendor status, attempt status, queue priority) for the i-th synthetic review."""
    slot = i % 20
    if slot == 0:
        return "violation", "Rules Violation", "second_review_required", QueuePriority.second_review_required
    if slot in (1, 2):
        return "suspicious", "Suspicious", "rejected", QueuePriority.suspicious
    return "passed", "Clean", "verified", QueuePriority.other


def _rows(count: int, first_attempt_id: int, first_review_id: int, exams: list[tuple[int, str]], backend: str,
          run: str, base: dt.datetime, which: int):
    """Row ``which`` (0: attempt, 1: review) of each pair, generated lazily: a million rows never sit in memory."""
    for i in range(count):
        exam_id, context_id = exams[i % len(exams)]
        status, vendor_status, attempt_status, priority = _kind(i)
        code = f"seed-{run}-{i}"
        at = base + dt.timedelta(seconds=i)
        attempt_id = first_attempt_id + i
        yield ((
            (attempt_id, exam_id, f"seed-{run}-{i}", f"Learner {i}", f"learner{i}@seed.invalid", 1, code,
             attempt_status, False, at, at, at, at, at),
            (first_review_id + i, code, attempt_id, exam_id, context_id, backend, status, vendor_status, "{}",
             "0" * 64, int(priority), at, at),
        )[which])


def _default_lms(connection) -> int:
    """The lms the seeded exams belong to: `default`, made if a database has none."""
    lms_id = connection.execute(select(Lms.id).where(Lms.slug == DEFAULT_SLUG)).scalar()
    if lms_id is None:
        lms_id = connection.execute(insert(Lms).values(name="Default LMS", slug=DEFAULT_SLUG, created_at=utcnow())
                                    .returning(Lms.id)).scalar_one()
    return lms_id


def _make_exams(connection, courses: int, per_course: int, backend: str) -> list[tuple[int, str]]:
    run = secrets.token_hex(3)
    now = dt.datetime.now(dt.UTC)
    lms_id = _default_lms(connection)
    values = [
        {"lms_id": lms_id, "context_id": f"course-v1:Seed+S{c}+{run}", "resource_link_id": f"seed-{run}-{c}-{e}",
         "name": f"Seeded exam {c}.{e}", "is_proctored": True, "is_practice": False, "backend": backend,
         "created_at": now, "modified_at": now}
        for c in range(courses) for e in range(per_course)
    ]
    connection.execute(insert(Exam), values)
    return [tuple(row) for row in connection.execute(
        select(Exam.id, Exam.context_id).where(Exam.resource_link_id.like(f"seed-{run}-%")).order_by(Exam.id))]


def _copy(connection, table: str, columns, rows) -> None:
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _executemany(connection, model, columns, rows) -> None:
    batch = []
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        for key in ("created_at", "modified_at", "started_at", "submitted_at", "completed_at"):
            if key in values:
                values[key] = values[key].replace(tzinfo=dt.UTC)
        if "raw_payload" in values:
            values["raw_payload"] = {}
        batch.append(values)
        if len(batch) >= BATCH:
            connection.execute(insert(model), batch)
            batch = []
    if batch:
        connection.execute(insert(model), batch)


def seed_reviews(engine, count: int, *, courses: int = 50, exams_per_course: int = 4, backend: str = "rest") -> int:
    """Insert ``count`` attempts with one review each; return how many reviews there are now."""
    with engine.begin() as connection:
        exams = _make_exams(connection, courses, exams_per_course, backend)
        first_attempt = (connection.execute(select(func.max(Attempt.id))).scalar() or 0) + 1
        first_review = (connection.execute(select(func.max(Review.id))).scalar() or 0) + 1
        run = secrets.token_hex(4)
        base = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=30)
        attempts, reviews = (_rows(count, first_attempt, first_review, exams, backend, run, base, which)
                             for which in (0, 1))
        if engine.dialect.name == "postgresql":
            # A bulk load runs for minutes by design: the request-sized statement timeout
            # (proctorhub.db.statement_timeout_seconds) does not apply to it.
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            _copy(connection, "attempt", ATTEMPT_COLUMNS, attempts)
            _copy(connection, "review", REVIEW_COLUMNS, reviews)
            for table in ("attempt", "review"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        else:
            _executemany(connection, Attempt, ATTEMPT_COLUMNS, attempts)
            _executemany(connection, Review, REVIEW_COLUMNS, reviews)
        total = connection.execute(select(func.count()).select_from(Review)).scalar_one()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SET statement_timeout = 0"))
            connection.execute(text("ANALYZE exam, attempt, review"))
            connection.execute(text("RESET statement_timeout"))
    return total


def run(args) -> int:
    if args.reviews < 1 or args.courses < 1 or args.exams_per_course < 1:
        raise CommandError("--reviews, --courses and --exams-per-course must be at least 1")
    engine = open_engine(args.ini)
    started = time.perf_counter()
    try:
        total = seed_reviews(engine, args.reviews, courses=args.courses, exams_per_course=args.exams_per_course,
                             backend=args.backend)
    finally:
        engine.dispose()
    print(f"seeded {args.reviews} reviews in {time.perf_counter() - started:.1f} s; {total} reviews in the database")
    return 0
