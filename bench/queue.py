"""The review queue with a million reviews: ``python -m bench.queue [--reviews N] [--keep]``.

Makes a fresh PostgreSQL database (127.0.0.1:5432, or ``PROCTORHUB_BENCH_PG_URL``), migrates it,
seeds N reviews with ``proctorhub seed``'s code, then times the admin's queue through the whole
WSGI app (security policy, traversal, query, template): the first page (with its counts per
bucket), a page deep in the queue (keyset cursor near the end), the counts alone (JSON, one row),
a search by attempt code and one by email, and the other sorts (severity, course, newest first).
Target: under 100 ms p95 each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from pyramid.paster import get_appsettings
from webtest import TestApp

from proctorhub import main as make_app
from proctorhub.cli.seed import seed_reviews
from proctorhub.cli.tokens import create_token
from proctorhub.migrations import upgrade_to_head
from proctorhub.models import Attempt, Review, get_engine, get_session_factory

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL = os.environ.get("PROCTORHUB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGET_MS = 100.0


def _timed(testapp, url: str, headers: dict, runs: int, expect: str = 'class="list compact queue"') -> list[float]:
    for _ in range(3):  # warm the connection pool, template cache and PostgreSQL's buffers
        testapp.get(url, headers=headers, status=200)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = testapp.get(url, headers=headers, status=200)
        timings.append((time.perf_counter() - started) * 1000)
        assert expect in response.text, url
    return timings


def _line(label: str, timings: list[float]) -> str:
    p50 = statistics.median(timings)
    p95 = sorted(timings)[int(len(timings) * 0.95) - 1]
    verdict = "ok" if p95 < TARGET_MS else "OVER TARGET"
    return f"{label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (target < {TARGET_MS:.0f} ms: {verdict})"


def run(reviews: int, runs: int, keep: bool) -> int:
    name = f"proctorhub_bench_queue_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = get_engine({"sqlalchemy.url": url})
        upgrade_to_head(engine)
        started = time.perf_counter()
        total = seed_reviews(engine, reviews)
        print(f"review queue: seeded {total} reviews on PostgreSQL in {time.perf_counter() - started:.1f} s")
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
        # the queue's counts and keyset pages read their indexes alone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("SET statement_timeout = 0"))  # a bulk maintenance step, not a request
            connection.execute(sa.text("VACUUM ANALYZE review"))
            connection.execute(sa.text("VACUUM ANALYZE attempt"))
        session = get_session_factory(engine)()
        token = create_token(session, "admin", "bench")
        session.commit()
        deep_index = max(0, int(total * 0.99) - 1)
        priority, review_id = session.execute(
            sa.select(Review.queue_priority, Review.id).order_by(Review.queue_priority, Review.id)
            .offset(deep_index).limit(1)).one()
        # A learner in the middle of the seeded rows, found by attempt code and by email.
        middle_code, middle_email = session.execute(
            sa.select(Attempt.attempt_code, Attempt.user_email).order_by(Attempt.id)
            .offset(total // 2).limit(1)).one()
        course_deep = session.execute(
            sa.select(Review.context_id, Review.id).order_by(Review.context_id, Review.id)
            .offset(deep_index).limit(1)).one()
        session.close()
        engine.dispose()

        settings = dict(get_appsettings(str(ROOT / "testing.ini"), name="main"))
        settings["sqlalchemy.url"] = url
        app = make_app({}, **settings)
        testapp = TestApp(app)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
        json_headers = {**headers, "Accept": "application/json"}
        code_q, email_q = quote(middle_code), quote(middle_email.upper())
        cases = [
            ("review queue, first page with counts (HTML):", "/admin/reviews/", headers, None),
            (f"review queue, page at row {deep_index + 1:,}:", f"/admin/reviews/?after={priority}.{review_id}",
             headers, None),
            ("review queue, counts per bucket (JSON):", "/admin/reviews/?limit=1", json_headers, '"counts"'),
            ("review queue, search by attempt code:", f"/admin/reviews/?q={code_q}", headers, "1 review matching"),
            ("review queue, search by email (any case):", f"/admin/reviews/?q={email_q}", headers, "1 review matching"),
            ("review queue, sorted by severity:", "/admin/reviews/?sort=severity", headers, None),
            ("review queue, sorted by course, deep page:",
             f"/admin/reviews/?sort=course&after={quote(course_deep[0])}.{course_deep[1]}", headers, None),
            ("review queue, newest first:", "/admin/reviews/?sort=-age", headers, None),
            ("review queue, needs decision, oldest first:", "/admin/reviews/?bucket=needs_decision&sort=age",
             headers, None),
        ]
        for label, url, case_headers, expect in cases:
            timings = _timed(testapp, url, case_headers, runs, expect or 'class="list compact queue"')
            print(_line(label, timings))
        app.registry["dbengine"].dispose()
    finally:
        if not keep:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
        server.dispose()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    return run(args.reviews, args.runs, args.keep)


if __name__ == "__main__":
    sys.exit(main())
