"""Webhook deliveries per second (PostgreSQL), with 1 and 4 workers, beside a floor of plain POSTs.

The receiver is a small WSGI app under waitress in its own process (answers 204 to every POST).
Each worker is its own process running ``proctorhub.worker.Worker`` (as ``proctorhub worker``
does), started and ready before the events exist. Then ``EVENTS`` outbox events (each about its
own attempt, so ordering holds nothing back) are committed at once and the clock runs until the
database says every delivery is delivered: handing out, signing, sending and recording included.

The floor is what one process does with plain HTTP (measured half before and half after each
workers' run): a body of the same size POSTed one after another, each on a connection of its
own, as every delivery is (outbound.py resolves and checks the receiver's address for each
request and closes the connection after it). The same POSTs over one keep-alive connection are
measured too and shown in the notes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from proctorhub.models import Attempt, AttemptStatus, Delivery, Event, Exam, Lms, WebhookEndpoint, utcnow
from proctorhub.models.attempt import new_attempt_code
from proctorhub.settings import parse_settings
from proctorhub.webhooks.secrets import SecretBox
from proctorhub.webhooks.signing import new_secret

from .harness import (
    ROOT,
    Check,
    LoadResult,
    Row,
    SectionResult,
    Server,
    app_settings,
    fresh_database,
)

NAME = "deliveries"
TITLE = "webhook deliveries per second to a local receiver, 1 and 4 workers (PostgreSQL), beside plain POSTs"
EVENTS = {1: 1500, 4: 3000}
FLOOR_POSTS = 1500
TARGET_RATIO = 0.5
MAX_SECONDS = 120


def receiver_app(global_config, **settings):
    """The receiver: 204 to every request, after reading its body."""

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"].read(length)
        start_response("204 No Content", [("Content-Length", "0")])
        return [b""]

    return app


def _arrange(database, receiver_url: str, count: int) -> list[int]:
    """An endpoint for the lms `default` and ``count`` attempts; answers their ids."""
    with Session(database.engine) as session:
        lms = session.execute(sa.select(Lms).where(Lms.slug == "default")).scalar_one()
        box = SecretBox.from_settings(parse_settings(app_settings(database)))
        # Made before the events, so it gets them all; the earlier runs' receivers are turned off.
        session.execute(sa.update(WebhookEndpoint).values(enabled=False))
        session.add(WebhookEndpoint(lms_id=lms.id, url=receiver_url, events=["*"], description="bench",
                                    secret=box.seal(new_secret()), enabled=True,
                                    created_at=utcnow() - dt.timedelta(minutes=1)))
        exam = Exam(lms_id=lms.id, context_id="course-bench", resource_link_id=f"bench-{time.monotonic_ns()}",
                    name="Bench exam", is_proctored=True, is_practice=False)
        session.add(exam)
        session.flush()
        ids = session.execute(sa.insert(Attempt).returning(Attempt.id), [
            {"exam_id": exam.id, "user_id": f"learner-{i}", "attempt_number": 1, "attempt_code": new_attempt_code(),
             "status": AttemptStatus.submitted.value} for i in range(count)]).scalars().all()
        session.commit()
    return list(ids)


def _emit(database, attempt_ids: list[int]) -> None:
    with Session(database.engine) as session:
        codes = dict(session.execute(sa.select(Attempt.id, Attempt.attempt_code)
                                     .where(Attempt.id.in_(attempt_ids))).all())
        now = utcnow()
        session.execute(sa.insert(Event), [
            {"kind": "attempt.status_changed", "attempt_id": i, "attempt_code": codes[i], "created_at": now,
             "payload": {"from": "submitted", "to": "verified", "reason": "bench"}} for i in attempt_ids])
        session.commit()


def _delivered(database) -> int:
    with database.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(Delivery)
                                  .where(Delivery.status == "delivered")).scalar_one()


@contextlib.contextmanager
def _workers(database, count: int):
    settings = app_settings(database, **{"proctorhub.worker.poll_seconds": "0.05"})
    processes = [subprocess.Popen([sys.executable, "-m", "bench.deliveries", "worker"], cwd=ROOT, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(count)]
    try:
        for process in processes:
            process.stdin.write(json.dumps(settings))
            process.stdin.close()
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a bench worker did not start")
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _measure_workers(database, receiver_url: str, workers: int, events: int) -> LoadResult:
    attempt_ids = _arrange(database, receiver_url, events)
    before = _delivered(database)
    with _workers(database, workers):
        began = time.perf_counter()
        _emit(database, attempt_ids)
        while _delivered(database) - before < events:
            if time.perf_counter() - began > MAX_SECONDS:
                raise RuntimeError(f"{workers} workers delivered {_delivered(database) - before} of {events} "
                                   f"events in {MAX_SECONDS} s")
            time.sleep(0.02)
        seconds = time.perf_counter() - began
    return LoadResult(clients=workers, requests=events, seconds=seconds, latencies_ms=[], errors=[])


def _floor_body() -> tuple[bytes, dict]:
    body = json.dumps({"type": "attempt.status_changed", "timestamp": utcnow().isoformat(),
                       "data": {"attempt_code": new_attempt_code(), "lms": "default", "status": "verified",
                                "previous_status": "submitted", "padding": "x" * 600}}).encode()
    headers = {"Content-Type": "application/json", "webhook-id": "msg_bench", "webhook-timestamp": "0",
               "webhook-signature": "v1,AAAA"}
    return body, headers


def _measure_floor(port: int, posts: int, *, keep_alive: bool) -> LoadResult:
    """``posts`` POSTs one after another from this process: each on a connection of its own (as a
    webhook sender that checks the receiver's address for every request must, and as
    ``urllib.request.urlopen`` does), or all over one keep-alive connection."""
    body, headers = _floor_body()
    latencies = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    began = time.perf_counter()
    for _ in range(posts):
        start = time.perf_counter()
        if not keep_alive:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/hooks", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if not keep_alive:
            connection.close()
        if response.status != 204:
            raise RuntimeError(f"the receiver answered {response.status}")
        latencies.append((time.perf_counter() - start) * 1000)
    seconds = time.perf_counter() - began
    connection.close()
    return LoadResult(clients=1, requests=posts, seconds=seconds, latencies_ms=latencies, errors=[])


def run_section(databases=("postgresql",)) -> SectionResult:
    result = SectionResult(name=NAME, title=TITLE)
    if "postgresql" not in databases:
        result.notes.append("measured on PostgreSQL only (several workers share one database)")
        return result
    kept_alive = {}
    with fresh_database("postgresql") as database, Server("bench.deliveries:receiver_app", {}) as receiver:
        url = f"http://127.0.0.1:{receiver.port}/hooks"
        _measure_floor(receiver.port, 200, keep_alive=False)  # warm-up
        rates = {}
        for workers in (1, 4):
            # The floor on both sides of the workers' run, so that a change in the machine's load
            # during the run falls on both alike (as harness.compare alternates its rounds).
            before = _measure_floor(receiver.port, FLOOR_POSTS // 2, keep_alive=False)
            kept_alive[workers] = _measure_floor(receiver.port, FLOOR_POSTS, keep_alive=True).rate
            subject = _measure_workers(database, url, workers, EVENTS[workers])
            after = _measure_floor(receiver.port, FLOOR_POSTS - FLOOR_POSTS // 2, keep_alive=False)
            rates[workers] = subject.rate
            result.rows.append(Row(NAME, "postgresql", workers, subject, LoadResult.combine([before, after])))
    one = result.rows[0]
    result.checks.append(Check(f"1 worker at least {TARGET_RATIO}x plain POSTs from one process",
                               one.ratio >= TARGET_RATIO, f"{one.ratio:.2f}x ({rates[1]:.0f}/s vs "
                                                          f"{one.floor.rate:.0f}/s)"))
    result.checks.append(Check("4 workers deliver more per second than 1", rates[4] > rates[1],
                               f"{rates[4]:.0f}/s vs {rates[1]:.0f}/s"))
    result.notes.append("clients = workers; a worker's rate counts an event from its commit to its delivery "
                        "recorded (handed out, signed, sent, answer kept); no per-event latency is shown")
    result.notes.append("floor: one POST per connection, one after another; over one keep-alive connection "
                        f"instead the same process made {kept_alive[1]:.0f}/s and {kept_alive[4]:.0f}/s "
                        f"(1 worker = {rates[1] / kept_alive[1]:.2f}x, 4 workers = {rates[4] / kept_alive[4]:.2f}x "
                        "of that)")
    return result


def _worker_main() -> int:
    """A bench worker process: settings as JSON on stdin; says "ready", then runs until SIGTERM."""
    import signal
    import threading

    from proctorhub.models import get_engine, get_session_factory
    from proctorhub.settings import parse_settings
    from proctorhub.worker import Worker, parse_worker_settings

    settings = json.load(sys.stdin)
    engine = get_engine(settings)
    worker = Worker(get_session_factory(engine), parse_settings(settings), parse_worker_settings(settings))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run_once()  # connections made, statements compiled
    print("ready", flush=True)
    worker.run(stop)
    worker.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
        raise SystemExit(_worker_main())
    from .__main__ import report

    began = time.perf_counter()
    print(report([run_section()], time.perf_counter() - began))
