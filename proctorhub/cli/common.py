"""What the commands share: reading the ini file, opening the database, refusing bad input."""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager

from pyramid.paster import get_appsettings, setup_logging

from ..models import get_engine, get_session_factory
from ..settings import effective_settings, parse_settings


class CommandError(Exception):
    """A refusal printed on standard error; the command exits with status 2."""


def add_ini_argument(parser) -> None:
    parser.add_argument("ini", metavar="INI", help="the ini file, e.g. development.ini")


def fits(column):
    """An argparse ``type``: text no longer than ``column`` holds, so the database never refuses it."""
    limit = column.type.length

    def check(value: str) -> str:
        if len(value) > limit:
            raise argparse.ArgumentTypeError(f"at most {limit} characters, not {len(value)}")
        return value

    return check


def load_settings(ini: str) -> dict:
    if not os.path.exists(ini):
        raise CommandError(f"no such ini file: {ini}")
    setup_logging(ini)
    settings = effective_settings(get_appsettings(ini, name="main"))
    if not str(settings.get("sqlalchemy.url", "")).strip():
        raise CommandError(f"no database: set PROCTORHUB_DATABASE_URL (or sqlalchemy.url in {ini})")
    return settings


def open_engine(ini: str):
    return get_engine(load_settings(ini))


@contextmanager
def session_for(ini: str):
    """A session that commits when the block ends without error."""
    settings = load_settings(ini)
    engine = get_engine(settings)
    session = get_session_factory(engine)()
    try:
        yield session, parse_settings(settings)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()
