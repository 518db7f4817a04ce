"""``proctorhub worker INI``: deliver webhooks, send email digests and purge expired rows until stopped."""

from __future__ import annotations

import signal
import sys
import threading

from ..models import get_engine, get_session_factory
from ..settings import parse_settings
from ..worker import Worker, parse_worker_settings
from .common import add_ini_argument, load_settings


def register(commands) -> None:
    parser = commands.add_parser(
        "worker", help="deliver webhooks, send email digests and purge expired rows, until stopped",
        description="Hand outbox events to the lms's webhook receivers and send them (signed, retried "
        "with backoff), mail the staff digests of reviews that need attention, and purge expired rows. "
        "Runs until SIGTERM or SIGINT, finishing the round in flight. Several workers may share one "
        "PostgreSQL database; on SQLite run one.")
    add_ini_argument(parser)
    parser.add_argument("--once", action="store_true",
                        help="run rounds until nothing is due, then exit (instead of running until stopped)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    settings = load_settings(args.ini)
    engine = get_engine(settings)
    worker = Worker(get_session_factory(engine), parse_settings(settings), parse_worker_settings(settings))
    try:
        if args.once:
            result = worker.run_until_idle()
            print(f"handed out {result.handed_out} events, sent {result.sent} deliveries "
                  f"({result.delivered} delivered), {result.emails} emails, purged {result.purged} rows")
            return 0
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        print("proctorhub worker: running; SIGTERM or SIGINT stops it after the round in flight",
              file=sys.stderr, flush=True)
        worker.run(stop)
        return 0
    finally:
        worker.close()
        engine.dispose()
