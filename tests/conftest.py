"""Fixtures shared by the whole suite.

The suite runs once per database: ``pytest --db=sqlite`` (the default) or ``--db=postgresql``.
Each run gets a fresh database built by the Alembic migrations (so they are tested too); after
each test every table is emptied, so tests see committed rows exactly as production does.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyramid.paster import get_appsettings
from webtest import TestApp

from proctorhub import main
from proctorhub.crypto import build_encryptor
from proctorhub.lti import tool_keys
from proctorhub.migrations import upgrade_to_head
from proctorhub.models import DEFAULT_SLUG, Lms, get_engine, get_session_factory, metadata, utcnow
from proctorhub.settings import parse_settings

HERE = Path(__file__).parent
ROOT = HERE.parent
PG_SERVER_URL = os.environ.get("PROCTORHUB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgresql"], default=os.environ.get("PROCTORHUB_TEST_DB", "sqlite"),
                     help="the database the suite runs on")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgresql_only`` are left out of a SQLite run (deselected, not skipped)."""
    if config.getoption("--db") == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_report_header(config):
    return f"proctorhub database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_kind(pytestconfig) -> str:
    return pytestconfig.getoption("--db")


@pytest.fixture(scope="session")
def db_url(db_kind, tmp_path_factory):
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'proctorhub.sqlite'}"
        return
    # One database per test process, so parallel runs never share state.
    name = f"proctorhub_test_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_SERVER_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session")
def base_settings(db_url) -> dict:
    settings = dict(get_appsettings(str(ROOT / "testing.ini"), name="main"))
    settings["sqlalchemy.url"] = db_url
    return settings


@pytest.fixture(scope="session")
def encryptor(base_settings):
    """The test deployment's encryptor (testing.ini's key), for rows the tests insert themselves."""
    return build_encryptor(parse_settings(base_settings))


@pytest.fixture(scope="session")
def dbengine(base_settings):
    engine = get_engine(base_settings)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request):
    yield
    if "dbengine" not in request.fixturenames:
        return
    engine = request.getfixturevalue("dbengine")
    with engine.begin() as connection:
        # Only tables the migrations made (test_migrations checks that they match the models).
        existing = set(sa.inspect(connection).get_table_names())
        for table in reversed(metadata.sorted_tables):
            if table.name in existing:
                connection.execute(table.delete())
        if "lms" in existing:
            # As a freshly migrated database has it: the lms `default`.
            connection.execute(Lms.__table__.insert().values(name="Default LMS", slug=DEFAULT_SLUG,
                                                             created_at=utcnow()))


@pytest.fixture(autouse=True)
def _forget_tool_keys():
    """Each test starts without the process's cache of tool JWKS documents (a later test's JWKS
    server may get an earlier one's port, and so its URL)."""
    yield
    tool_keys.forget()


@pytest.fixture
def dbsession(dbengine):
    """A plain session for arranging and checking rows; commit to make rows visible to the app."""
    session = get_session_factory(dbengine)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture(scope="session")
def app(base_settings, dbengine):
    return main({}, **base_settings)


@pytest.fixture
def make_app(base_settings, dbengine):
    """Build an app with some settings changed, e.g. ``make_app(**{"proctorhub.allow_review_updates": "false"})``."""
    apps = []

    def factory(**overrides):
        application = main({}, **{**base_settings, **overrides})
        apps.append(application)
        return TestApp(application)

    yield factory
    for application in apps:
        application.registry["dbengine"].dispose()


@pytest.fixture
def testapp(app, dbengine):
    return TestApp(app)
