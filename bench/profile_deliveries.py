"""Where one worker's time goes per delivered event: ``python -m bench.profile_deliveries [-n N]``.

On a fresh PostgreSQL database with the bench's local receiver (``bench.deliveries``), N events
are committed and one ``Worker`` in this process delivers them round by round (``run_once``, one
lane, so every step runs on this thread and the phases add up), then the same again under
cProfile. Prints the wall time per event of each phase (hand out, claim, send, record), the SQL
statements per event, and cProfile's CPU self time by package (the send pool's threads included).
Not part of ``make bench``.
"""

from __future__ import annotations

import collections
import cProfile
import os
import sys
import threading
import time

from proctorhub.models import get_engine, get_session_factory
from proctorhub.settings import parse_settings
from proctorhub.webhooks import delivery, fanout
from proctorhub.worker import Worker, parse_worker_settings

from .deliveries import _arrange, _delivered, _emit
from .harness import Server, app_settings, fresh_database
from .profile_reviews import counting_statements, profile_main, profile_report


class Phases:
    """Wall time per step of a round, gathered by wrapping the module functions the worker calls."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.cpu = collections.Counter()
        self._lock = threading.Lock()

    def wrap(self, module, name: str, label: str):
        original = getattr(module, name)

        def timed(*args, **kwargs):
            began, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                with self._lock:  # sends run on several threads at once
                    self.seconds[label] += time.perf_counter() - began
                    self.cpu[label] += time.thread_time() - cpu

        setattr(module, name, timed)
        return lambda: setattr(module, name, original)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process (Linux; other users of the cluster count too)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() != "postgres":
                        continue
                total += _cpu_seconds(int(entry))
            except OSError:
                continue
    return total


def _run(worker: Worker, database, url: str, count: int, cpu: collections.Counter | None = None,
         receiver_pid: int | None = None, profiler: cProfile.Profile | None = None) -> float:
    attempt_ids = _arrange(database, url, count)
    before = _delivered(database)
    _emit(database, attempt_ids)
    if profiler is not None:  # the worker's work only, not the arranging
        profiler.enable()
    began = time.perf_counter()
    own, theirs = time.process_time(), _cpu_seconds(receiver_pid) if receiver_pid else 0.0
    database_cpu = _postgres_cpu_seconds()
    while _delivered(database) - before < count:
        worker.run_once()
    if cpu is not None:
        cpu["worker process"] += time.process_time() - own
        cpu["receiver process"] += _cpu_seconds(receiver_pid) - theirs
        cpu["PostgreSQL (all sessions)"] += _postgres_cpu_seconds() - database_cpu
    return time.perf_counter() - began


def profile(kind: str, count: int) -> str:
    if kind != "postgresql":
        return f"{kind}: not profiled (the bench measures deliveries on PostgreSQL only)"
    out = []
    with fresh_database("postgresql") as database, Server("bench.deliveries:receiver_app", {}) as receiver:
        url = f"http://127.0.0.1:{receiver.port}/hooks"
        raw = app_settings(database)
        engine = get_engine(raw)
        worker = Worker(get_session_factory(engine), parse_settings(raw), parse_worker_settings(raw),
                        purge=None)
        _run(worker, database, url, 200)  # warm-up: connections made, statements compiled

        phases = Phases()
        restore = [phases.wrap(fanout, "hand_out", "hand out"), phases.wrap(delivery, "claim", "claim"),
                   phases.wrap(delivery, "record", "record"), phases.wrap(delivery, "send", "send (one try)")]
        original_map = worker._pool.map

        def timed_map(*args):
            began = time.perf_counter()
            results = list(original_map(*args))
            phases.seconds["send (the batch)"] += time.perf_counter() - began
            return results

        worker._pool.map = timed_map
        statements = collections.Counter()

        def count_statement(_conn, _cursor, statement, *_args):
            statements[statement.split(None, 1)[0].upper()] += 1

        cpu = collections.Counter()
        with counting_statements(engine, count_statement):
            seconds = _run(worker, database, url, count, cpu, receiver.process.pid)
        worker._pool.map = original_map
        for undo in restore:
            undo()

        # cProfile counting each thread's CPU time (a wait costs nothing), on this thread and on each
        # send thread (threading.setprofile reaches new threads only, so the pool is made anew); the
        # profiles are merged.
        worker._pool.shutdown()
        worker._pool = type(worker._pool)(max_workers=worker.settings.concurrency)
        profilers = []
        lock = threading.Lock()

        def per_thread(*_args):
            profiler = cProfile.Profile(time.thread_time)
            with lock:
                profilers.append(profiler)
            sys.setprofile(None)
            profiler.enable()

        main_profiler = cProfile.Profile(time.thread_time)
        threading.setprofile(per_thread)
        _run(worker, database, url, count, profiler=main_profiler)
        main_profiler.disable()
        threading.setprofile(None)
        worker.close()
        for profiler in profilers:
            profiler.disable()
        engine.dispose()

    total = sum(value for label, value in phases.seconds.items() if label != "send (one try)")
    out.append(f"{kind}: {seconds * 1000 / count:.3f} ms per event with one lane ({count / seconds:.0f}/s), "
               "no profiler")
    out.append("  wall time per event by phase: " + ", ".join(
        f"{label} {s * 1000 / count:.3f} ms" for label, s in phases.seconds.most_common())
        + f" (other {(seconds - total) * 1000 / count:.3f} ms)")
    out.append("  CPU per event: " + ", ".join(f"{label} {s * 1000 / count:.3f} ms" for label, s in cpu.items())
               + "; of the worker's, by phase (each on its own thread): " + ", ".join(
                   f"{label} {s * 1000 / count:.3f} ms" for label, s in phases.cpu.most_common()))
    out.append("  SQL statements per event: " + ", ".join(
        f"{name} {n / count:.3g}" for name, n in statements.most_common()))
    out += profile_report(_Merged([main_profiler, *profilers]), count, unit="event", rows=16, functions=30)
    return "\n".join(out)


class _Merged:
    """Several threads' profiles as one, in the shape ``pstats.Stats`` loads."""

    def __init__(self, profilers):
        self._stats = {}
        for profiler in profilers:
            profiler.create_stats()
            for key, (cc, nc, tt, ct, callers) in profiler.stats.items():
                c0, n0, t0, u0, callers0 = self._stats.get(key, (0, 0, 0.0, 0.0, {}))
                self._stats[key] = (c0 + cc, n0 + nc, t0 + tt, u0 + ct, {**callers0, **callers})

    def create_stats(self):
        # pstats takes the dict away after loading it; every load gets it anew.
        self.stats = dict(self._stats)


def main(argv=None) -> int:
    return profile_main(argv, prog="python -m bench.profile_deliveries", doc=__doc__, profile=profile,
                        unit="events", default=1500)


if __name__ == "__main__":
    raise SystemExit(main())
