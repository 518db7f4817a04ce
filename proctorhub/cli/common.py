"""What the commands share: reading the ini file and opening the database."""

from __future__ import annotations

import os
from contextlib import contextmanager

from pyramid.paster import get_appsettings, setup_logging

from ..models import get_engine, get_session_factory
from ..settings import effective_settings, parse_settings


def add_ini_argument(parser) -> None:
    parser.add_argument("ini", metavar="INI", help="the ini file, e.g. development.ini")


def load_settings(ini: str) -> dict:
    from . import CommandError

    if not os.path.exists(ini):
        raise CommandError(f"no such ini file: {ini}")
    setup_logging(ini)
    return effective_settings(get_appsettings(ini, name="main"))


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
