"""What every benchmark section shares: a fresh database, a waitress server, a load runner.

A section measures its subject and a floor on the same stack in the same run, so the ratio
between them says something even when the machine is busier or slower than usual.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from pyramid.paster import get_appsettings

from proctorhub.cli.initdb import AFTER_MIGRATE
from proctorhub.migrations import upgrade_to_head
from proctorhub.models import get_engine
from proctorhub.settings import parse_settings

ROOT = Path(__file__).resolve().parent.parent
TESTING_INI = ROOT / "testing.ini"
# The same as development.ini's [server:main]; the floor and the subject always get the same.
WAITRESS_THREADS = 8
# A maintenance database on the local cluster (trust auth), used only to create and drop ours.
PG_SERVER_URL = os.environ.get("PROCTORHUB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE_KINDS = ("sqlite", "postgresql")


# -- databases -----------------------------------------------------------------------


@dataclass
class Database:
    """A throwaway database migrated to head, with an engine for arranging rows."""

    kind: str
    url: str
    engine: sa.Engine


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path | None = None) -> Iterator[Database]:
    """A new database of ``kind`` ("sqlite" or "postgresql") as ``proctorhub initdb`` leaves it, removed afterwards."""
    cleanup = contextlib.ExitStack()
    with cleanup:
        if kind == "sqlite":
            if workdir is None:
                workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="proctorhub-bench-")))
            url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.sqlite'}"
        elif kind == "postgresql":
            name = f"proctorhub_bench_{uuid.uuid4().hex[:12]}"
            server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
            with server.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

            def drop():
                with server.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                server.dispose()

            cleanup.callback(drop)
            url = sa.engine.make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
        else:
            raise ValueError(f"unknown database kind {kind!r}; expected one of {', '.join(DATABASE_KINDS)}")
        # The same engine (and SQLite pragmas) as the app: arranging rows goes through the same settings.
        engine = get_engine({"sqlalchemy.url": url})
        cleanup.callback(engine.dispose)
        upgrade_to_head(engine)
        # Whatever `proctorhub initdb` does after migrating (e.g. the first platform key); its
        # messages would only interleave with the report.
        database = Database(kind=kind, url=url, engine=engine)
        typed = parse_settings(app_settings(database))  # the served app's (testing.ini's) encryption keys
        with contextlib.redirect_stdout(io.StringIO()):
            for step in AFTER_MIGRATE:
                step(engine, typed)
        yield database


def app_settings(database: Database, ini: Path = TESTING_INI, **overrides: str) -> dict:
    """The ini's ``[app:main]`` settings pointed at ``database``."""
    settings = dict(get_appsettings(str(ini), name="main"))
    settings.pop("__file__", None)
    settings.pop("here", None)
    settings["sqlalchemy.url"] = database.url
    settings.update(overrides)
    return settings


# -- the server ----------------------------------------------------------------------


class Server:
    """A waitress process serving one app on a free port of 127.0.0.1.

    ``factory`` is a ``module:callable`` app factory, e.g. ``proctorhub:main``.
    """

    def __init__(self, factory: str, settings: dict, *, threads: int = WAITRESS_THREADS,
                 env: dict | None = None):
        self.factory = factory
        self.settings = settings
        self.threads = threads
        self.env = env
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", self.factory, str(self.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True,
            env={**os.environ, **(self.env or {})},
        )
        self.process.stdin.write(json.dumps(self.settings))
        self.process.stdin.close()
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.wait(timeout=10)
            raise RuntimeError(f"{self.factory} did not start (exit code {self.process.returncode}); see above")
        self.port = int(line)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- load ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class LoadError(RuntimeError):
    """A request under load did not get the expected answer: the figures would be meaningless."""


@dataclass
class LoadResult:
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: list[str]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def combine(cls, results: list[LoadResult]) -> LoadResult:
        return cls(clients=results[0].clients, requests=sum(r.requests for r in results),
                   seconds=sum(r.seconds for r in results),
                   latencies_ms=[ms for r in results for ms in r.latencies_ms],
                   errors=[e for r in results for e in r.errors])

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50)

    @property
    def p99_ms(self) -> float:
        return self.percentile(99)


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1, with a cookie jar of one browser."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def send(self, request: Request) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = dict(request.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        self.connection.request(request.method, request.path, body=request.body or None, headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or ():
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, response.headers, body

    def expect(self, request: Request, status: int) -> tuple[http.client.HTTPMessage, bytes]:
        """Send; ``LoadError`` unless the answer has ``status``."""
        got, headers, body = self.send(request)
        if got != status:
            raise LoadError(f"{request.method} {request.path} -> {got} (expected {status}): {body[:300]!r}")
        return headers, body

    def close(self) -> None:
        self.connection.close()


def run_tasks(port: int, tasks: Iterable[Callable[[Client], object]], *, clients: int,
              max_seconds: float) -> LoadResult:
    """Run ``tasks`` from ``clients`` threads, each with its own keep-alive ``Client``.

    A task is one timed unit (one request, or a whole launch of several round trips); it raises
    to report a failure. Threads take the next task from the shared sequence until it runs out or
    ``max_seconds`` pass; the rate is completed tasks over the wall time from the common start.
    """
    pending = iter(list(tasks))
    take = threading.Lock()
    start_together = threading.Barrier(clients + 1)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    deadline = [0.0]

    def worker(index: int) -> None:
        client = Client(port)
        mine = latencies[index]
        try:
            start_together.wait()
            while time.perf_counter() < deadline[0]:
                with take:
                    task = next(pending, None)
                if task is None:
                    return
                began = time.perf_counter()
                try:
                    task(client)
                except LoadError as exc:
                    errors.append(str(exc))
                mine.append((time.perf_counter() - began) * 1000)
        except Exception as exc:  # reported with the figures, never swallowed
            errors.append(f"client {index}: {type(exc).__name__}: {exc}")
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + max_seconds
    start_together.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    all_latencies = [ms for per_client in latencies for ms in per_client]
    return LoadResult(clients=clients, requests=len(all_latencies), seconds=elapsed,
                      latencies_ms=all_latencies, errors=errors)


def run_load(port: int, requests: Iterable[Request], *, clients: int, max_seconds: float,
             expect: int = 200) -> LoadResult:
    """``run_tasks`` where each task is one request expecting ``expect``."""
    return run_tasks(port, (functools.partial(_one_request, request, expect) for request in requests),
                     clients=clients, max_seconds=max_seconds)


def _one_request(request: Request, expect: int, client: Client) -> None:
    client.expect(request, expect)


@dataclass
class Side:
    """One side of a comparison: a running server, the work it gets (enough for every run), and
    the runner that sends it (``run_load`` for ``Request`` items, ``run_tasks`` for callables)."""

    server: Server
    work: list
    runner: Callable = run_tasks
    cursor: int = 0
    #: Items answered as expected so far, warm-up included (to check against the rows stored).
    completed: int = 0

    def run(self, count: int, clients: int, max_seconds: float, what: str) -> LoadResult:
        chunk = self.work[self.cursor:self.cursor + count]
        if len(chunk) < count:
            raise ValueError(f"{what}: {count} items needed, {len(chunk)} left")
        self.cursor += count
        result = checked(self.runner(self.server.port, chunk, clients=clients, max_seconds=max_seconds), what)
        self.completed += result.requests
        return result


def compare(subject: Side, floor: Side, *, plan, warm_up: int, what: str, rounds: int = 3) -> dict:
    """Subject and floor, measured in alternating rounds so that a change in the machine's load
    (other processes) falls on both alike.

    Both are warmed up with ``warm_up`` items on 8 clients. Then for each ``(clients, count,
    max_seconds)`` of ``plan``, ``rounds`` rounds of floor then subject, each with ``count /
    rounds`` fresh items and ``max_seconds / rounds``. Returns ``{clients: (subject, floor)}``
    with each side's rounds combined (requests over the summed time; every latency).
    """
    floor.run(warm_up, 8, 10, f"{what}: floor warm-up")
    subject.run(warm_up, 8, 10, f"{what}: warm-up")
    results = {}
    for clients, count, max_seconds in plan:
        per_round = count // rounds
        subject_runs, floor_runs = [], []
        for _ in range(rounds):
            floor_runs.append(floor.run(per_round, clients, max_seconds / rounds, f"{what}: floor, {clients} clients"))
            subject_runs.append(subject.run(per_round, clients, max_seconds / rounds, f"{what}, {clients} clients"))
        results[clients] = (LoadResult.combine(subject_runs), LoadResult.combine(floor_runs))
    return results


def work_needed(plan, warm_up: int, rounds: int = 3) -> int:
    """How many items one side of ``compare`` may use."""
    return warm_up + sum(count // rounds * rounds for _, count, _ in plan)


def checked(result: LoadResult, what: str) -> LoadResult:
    """``result``, or ``LoadError`` naming the first failures."""
    if result.errors:
        shown = "\n  ".join(result.errors[:5])
        raise LoadError(f"{what}: {len(result.errors)} of {result.requests} requests failed:\n  {shown}")
    return result


# -- what sections report ------------------------------------------------------------


@dataclass
class Row:
    """One measured line of the table: a subject beside its floor."""

    section: str
    database: str
    clients: int
    subject: LoadResult
    floor: LoadResult

    @property
    def ratio(self) -> float:
        return self.subject.rate / self.floor.rate if self.floor.rate else float("nan")


@dataclass
class Check:
    """A target and whether this run met it."""

    description: str
    met: bool
    detail: str


@dataclass
class SectionResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Sections that print their own report (run as a subprocess) put it here.
    text: str = ""
