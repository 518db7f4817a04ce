"""``proctorhub purge INI``: delete expired rows once (the worker does it on a schedule)."""

from __future__ import annotations

from ..models import get_engine
from ..retention import purge
from ..settings import parse_settings
from .common import add_ini_argument, load_settings


def register(commands) -> None:
    parser = commands.add_parser(
        "purge", help="delete expired launches, sessions, replay entries, throttle rows and old delivered events",
        description="Delete what has expired, in short batches (tables stay usable meanwhile): launches, "
        "LTI browser sessions and session_data past their expiry, replay-ledger entries past theirs, sign-in "
        "throttle rows idle for proctorhub.retention.signin_throttle_hours, and events delivered more than "
        "proctorhub.retention.delivered_event_days ago. Prints how many rows of each went. Safe to run at any "
        "time, also beside the worker.",
    )
    add_ini_argument(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    settings = load_settings(args.ini)
    app_settings = parse_settings(settings)
    engine = get_engine(settings)
    try:
        counts = purge(engine, app_settings)
    finally:
        engine.dispose()
    for name, count in counts.items():
        print(f"{name}: {count}")
    return 0
