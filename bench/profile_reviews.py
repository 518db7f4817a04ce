"""Where a review callback's time goes: ``python -m bench.profile_reviews [--db sqlite|postgresql] [-n N]``.

Builds the real app in this process on a fresh database, sends N distinct signed callbacks
straight to the WSGI app (no HTTP, no threads), and prints the time per callback, the SQL
statements per callback, and cProfile's self time grouped by package (SQLAlchemy by
subpackage), then the slowest functions by cumulative time. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import pstats
import re
import sys
import time

from proctorhub import main as make_app

from .harness import DATABASE_KINDS, Request, app_settings, fresh_database
from .reviews import BACKEND, callback_requests, create_attempts

WARM_UP = 100


def wsgi_environ(method: str, path: str, *, query: str = "", body: bytes = b"", headers: dict | None = None) -> dict:
    """A WSGI environ for one request straight to the app (no HTTP)."""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


@contextlib.contextmanager
def counting_statements(engine, on_statement):
    """Call ``on_statement(None, cursor, statement)`` for every statement run on ``engine``'s
    connections while open. Counted at the dialect's ``do_execute`` methods, which SQLAlchemy's
    execution and the driver fast path (``models.driver``) both call; SQLAlchemy's events see only
    the former."""
    dialect = engine.dialect
    names = ("do_execute", "do_executemany", "do_execute_no_params")
    own = {name: dialect.__dict__[name] for name in names if name in dialect.__dict__}

    def noting(method):
        def call(cursor, statement, *args, **kwargs):
            on_statement(None, cursor, statement)
            return method(cursor, statement, *args, **kwargs)
        return call

    for name in names:
        setattr(dialect, name, noting(getattr(dialect, name)))
    try:
        yield
    finally:
        for name in names:
            if name in own:
                setattr(dialect, name, own[name])
            else:
                delattr(dialect, name)


def profiled(engine, on_statement, work) -> cProfile.Profile:
    """Run ``work()`` under cProfile, with ``on_statement`` called for every statement
    (``counting_statements``). Disposes of the engine afterwards."""
    profiler = cProfile.Profile()
    with counting_statements(engine, on_statement):
        profiler.enable()
        try:
            work()
        finally:
            profiler.disable()
            engine.dispose()
    return profiler


def profile_main(argv, *, prog: str, doc: str, profile, unit: str, default: int) -> int:
    """The command line both profilers share: ``[--db sqlite|postgresql]... [-n N]``."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=DATABASE_KINDS, dest="databases")
    parser.add_argument("-n", type=int, default=default, help=f"{unit} timed (and as many profiled)")
    args = parser.parse_args(argv)
    for kind in args.databases or DATABASE_KINDS:
        print(profile(kind, args.n), flush=True)
    return 0


def call(app, request: Request) -> None:
    environ = wsgi_environ(request.method, request.path, body=request.body, headers=request.headers)
    statuses = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"{request.path} -> {statuses[0]}: {body[:300]!r}")


def group(filename: str, function: str) -> str:
    if "site-packages/" in filename:
        package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        if package == "sqlalchemy":
            package += "." + filename.split("sqlalchemy/", 1)[1].split("/", 1)[0].removesuffix(".py")
        return package
    if "/proctorhub" in filename:
        return "proctorhub and its plugins"
    if filename.startswith("~") or filename == "<built-in>":
        return f"built-in {function}"
    return "stdlib " + filename.rsplit("/", 1)[-1]


def profile_report(profiler, count: int, *, unit: str, rows: int, functions: int) -> list[str]:
    """Self time grouped by package, then proctorhub's functions (and the ORM's flushes and the
    transaction commit) by cumulative time; ``count`` requests were profiled."""
    out = []
    by_group: collections.Counter = collections.Counter()
    for (filename, _line, function), (_cc, _nc, self_time, _cum, _callers) in pstats.Stats(profiler).stats.items():
        by_group[group(filename, function)] += self_time
    total = sum(by_group.values())
    out.append(f"  self time by package under cProfile ({total * 1000 / count:.2f} ms per {unit}):")
    for name, seconds in by_group.most_common(rows):
        out.append(f"    {seconds / total:6.1%}  {seconds * 1000 / count:6.3f} ms  {name}")
    listing = io.StringIO()
    # proctorhub's own functions, plus the two places the ORM does its work: every flush, and the
    # commit pyramid_tm makes after the view (which flushes what the view added last).
    wanted = r"proctorhub|transaction/_transaction\.py:\d+\(commit\)|orm/session\.py:\d+\(flush\)"
    pstats.Stats(profiler, stream=listing).sort_stats("cumulative").print_stats(wanted, functions)
    out.append("  by cumulative time (proctorhub's functions, every ORM flush, the transaction commit):")
    out += ["    " + line for line in listing.getvalue().splitlines()
            if line.strip()[:1].isdigit() and re.search(wanted, line)]
    return out


def profile(kind: str, count: int) -> str:
    out = []
    with fresh_database(kind) as database:
        settings = app_settings(database)
        app = make_app({}, **settings)
        requests = callback_requests(create_attempts(database, WARM_UP + 2 * count),
                                     settings[f"proctorhub.backend.{BACKEND}.secret"])
        for request in requests[:WARM_UP]:
            call(app, request)

        timed = requests[WARM_UP:WARM_UP + count]
        began = time.perf_counter()
        for request in timed:
            call(app, request)
        plain_ms = (time.perf_counter() - began) * 1000 / count

        statements = collections.Counter()
        engine = app.registry["dbengine"]

        def count_statement(_conn, _cursor, statement, *_args):
            statements[statement.split(None, 1)[0].upper()] += 1

        def work():
            for request in requests[WARM_UP + count:]:
                call(app, request)

        profiler = profiled(engine, count_statement, work)

    out.append(f"{kind}: {plain_ms:.2f} ms per callback in-process ({1000 / plain_ms:.0f}/s), no profiler")
    out.append("  SQL statements per callback: " + ", ".join(
        f"{name} {n / count:g}" for name, n in statements.most_common()) + " (plus BEGIN/COMMIT)")
    out += profile_report(profiler, count, unit="callback", rows=14, functions=28)
    return "\n".join(out)


def main(argv=None) -> int:
    return profile_main(argv, prog="python -m bench.profile_reviews", doc=__doc__, profile=profile,
                        unit="callbacks", default=500)


if __name__ == "__main__":
    raise SystemExit(main())
