"""Start-up checks that need more than the settings themselves (see ``settings.STARTUP_CHECKS``)."""

from __future__ import annotations

import sqlalchemy as sa

from ..crypto import build_encryptor
from ..migrations import head_revision
from ..models import faults
from ..security.session import session_secret_problem
from ..settings import SettingsError
from .health import database_revision, readiness_engine

DEFAULT_TIMEOUT_SECONDS = 5.0


def session_secret_problems(given: dict, app_settings):
    problem = session_secret_problem(app_settings) if app_settings is not None else None
    if problem:
        yield problem


def encryption_key_problems(given: dict, app_settings):
    if app_settings is None:
        return
    try:
        build_encryptor(app_settings)
    except SettingsError as exc:
        yield str(exc)


def shown_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unreadable)"


def database_problems(given: dict, app_settings):
    """The database answers and its schema is the newest (``proctorhub initdb`` makes it so)."""
    url = str(given.get("sqlalchemy.url", "")).strip()
    if not url:
        return  # settings.deployment_problems says so
    try:
        sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        yield f"sqlalchemy.url is not a database URL: {url!r}"
        return
    timeout = app_settings.database.connect_timeout if app_settings else DEFAULT_TIMEOUT_SECONDS
    engine = readiness_engine(url, timeout)
    try:
        revision = database_revision(engine)
    except sa.exc.ProgrammingError:
        revision = None  # no alembic_version table: an empty database
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc.orig):
            revision = None
        else:
            yield f"the database at {shown_url(url)} does not answer: {faults.describe(exc)}"
            return
    except sa.exc.SQLAlchemyError as exc:
        yield f"the database at {shown_url(url)} does not answer: {faults.describe(exc)}"
        return
    finally:
        engine.dispose()
    head = head_revision(engine)
    if revision != head:
        yield (f"the database at {shown_url(url)} is at schema {revision or '(empty)'}, this version needs "
               f"{head}: run `proctorhub initdb INI` before serving")
