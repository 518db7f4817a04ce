"""Migration 0005 (lms tenants) on a database populated at the revision before it: every row is kept,
and everything that existed belongs to the lms `default`."""

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from proctorhub.migrations import alembic_config
from proctorhub.models import get_engine, metadata

from ..conftest import PG_SERVER_URL


@pytest.fixture
def empty_engine(db_kind, base_settings, tmp_path):
    """An engine on a database of its own, with no schema yet."""
    if db_kind == "sqlite":
        engine = get_engine({**base_settings, "sqlalchemy.url": f"sqlite:///{tmp_path / 'm.sqlite'}"})
        yield engine
        engine.dispose()
        return
    name = f"proctorhub_migration_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    engine = get_engine({**base_settings, "sqlalchemy.url": url})
    yield engine
    engine.dispose()
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


TOUCHED = {"lms", "exam", "api_token", "staff_user", "staff_course"}
# Columns later revisions add to those tables (not there yet at 0005).
LATER_COLUMNS = {("staff_user", "email_digest")}


def touched_by_0005(obj, name, type_, _reflected, _compare_to):
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    if type_ == "column" and (table, name) in LATER_COLUMNS:
        return False
    return table in TOUCHED


def before_0005(engine) -> str:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    return ScriptDirectory.from_config(config).get_revision("0005").down_revision


def migrate(engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def table(connection, name):
    return sa.Table(name, sa.MetaData(), autoload_with=connection)


def populate_before_0005(engine) -> None:
    now = dt.datetime(2026, 11, 1, 12, 0)
    with engine.begin() as c:
        c.execute(table(c, "tool_configuration").insert(), [{
            "id": 1, "name": "Tool", "client_id": "client-1", "deployment_id": "1", "redirect_uris": [],
            "proctoring_enabled": True, "acs_actions": [], "created_at": now, "modified_at": now}])
        c.execute(table(c, "exam").insert(), [
            {"id": 1, "context_id": "course-1", "resource_link_id": "rl-1", "name": "Final", "is_proctored": True,
             "is_practice": False, "configuration_id": 1, "created_at": now, "modified_at": now},
            {"id": 2, "context_id": "", "resource_link_id": "rl-2", "name": "Quiz", "is_proctored": True,
             "is_practice": True, "configuration_id": None, "created_at": now, "modified_at": now}])
        c.execute(table(c, "attempt").insert(), [
            {"id": 1, "exam_id": 1, "user_id": "u1", "attempt_number": 1, "attempt_code": "code-1",
             "status": "submitted", "end_assessment_return": False, "created_at": now, "modified_at": now},
            {"id": 2, "exam_id": 2, "user_id": "u2", "attempt_number": 1, "attempt_code": "code-2",
             "status": "created", "end_assessment_return": True, "created_at": now, "modified_at": now}])
        c.execute(table(c, "staff_user").insert(), [
            {"id": 1, "email": "rev@example.edu", "role": "reviewer", "courses": ["course-1", "course-2"],
             "created_at": now},
            {"id": 2, "email": "admin@example.edu", "role": "admin", "courses": [], "created_at": now}])
        c.execute(table(c, "api_token").insert(), [
            {"id": 1, "name": "moodle", "role": "lms", "token_hash": "a" * 64, "staff_user_id": None,
             "created_at": now},
            {"id": 2, "name": "ops", "role": "admin", "token_hash": "b" * 64, "staff_user_id": None,
             "created_at": now},
            {"id": 3, "name": "rev", "role": "reviewer", "token_hash": "c" * 64, "staff_user_id": 1,
             "created_at": now}])


def test_0005_keeps_every_row_under_default(empty_engine):
    migrate(empty_engine, before_0005(empty_engine))
    populate_before_0005(empty_engine)
    migrate(empty_engine, "0005")
    with empty_engine.connect() as c:
        lmss = c.execute(sa.text("SELECT id, slug FROM lms")).all()
        assert [slug for _, slug in lmss] == ["default"]
        default_id = lmss[0][0]
        assert c.execute(sa.text("SELECT id, lms_id, context_id, resource_link_id FROM exam ORDER BY id")).all() == [
            (1, default_id, "course-1", "rl-1"), (2, default_id, "", "rl-2")]
        assert c.execute(sa.text("SELECT attempt_code, exam_id, status FROM attempt ORDER BY id")).all() == [
            ("code-1", 1, "submitted"), ("code-2", 2, "created")]
        assert c.execute(sa.text("SELECT name, role, lms_id FROM api_token ORDER BY id")).all() == [
            ("moodle", "lms", default_id), ("ops", "admin", None), ("rev", "reviewer", None)]
        assert c.execute(sa.text("SELECT staff_user_id, lms_id, context_id FROM staff_course "
                                 "ORDER BY context_id")).all() == [
            (1, default_id, "course-1"), (1, default_id, "course-2")]
        assert "courses" not in {col["name"] for col in sa.inspect(c).get_columns("staff_user")}
        if c.dialect.name == "sqlite":
            assert c.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert not [name for name in sa.inspect(c).get_table_names() if name.startswith("_keep_")]
        # The tables 0005 made or rebuilt are what the models describe (as on a database made from
        # scratch); later revisions' tables are not there yet.
        context = MigrationContext.configure(c, opts={"compare_type": True, "include_object": touched_by_0005})
        assert compare_metadata(context, metadata) == []
    # The same context and resource link may now exist in another lms, but not twice in one.
    with empty_engine.begin() as c:
        c.execute(sa.text("INSERT INTO lms (name, slug, created_at) VALUES ('Other', 'other', '2026-11-02')"))
        other = c.execute(sa.text("SELECT id FROM lms WHERE slug = 'other'")).scalar_one()
        c.execute(sa.text("INSERT INTO exam (id, lms_id, context_id, resource_link_id, name, is_proctored, is_practice,"
                          " created_at, modified_at) VALUES (100, :lms, 'course-1', 'rl-1', 'Final', true, false,"
                          " '2026-11-02', '2026-11-02')"), {"lms": other})
    with pytest.raises(sa.exc.IntegrityError), empty_engine.begin() as c:
        c.execute(sa.text("INSERT INTO exam (id, lms_id, context_id, resource_link_id, name, is_proctored, is_practice,"
                          " created_at, modified_at) VALUES (100, :lms, 'course-1', 'rl-1', 'Final', true, false,"
                          " '2026-11-02', '2026-11-02')"), {"lms": default_id})
    with empty_engine.begin() as c:
        c.execute(sa.text("DELETE FROM exam WHERE lms_id = :lms"), {"lms": other})


def test_0005_downgrades_back_to_context_ids(empty_engine):
    migrate(empty_engine, before_0005(empty_engine))
    populate_before_0005(empty_engine)
    migrate(empty_engine, "0005")
    migrate(empty_engine, before_0005(empty_engine), down=True)
    with empty_engine.connect() as c:
        assert "lms" not in sa.inspect(c).get_table_names()
        assert c.execute(sa.text("SELECT count(*) FROM attempt")).scalar_one() == 2
        courses = c.execute(table(c, "staff_user").select().order_by(sa.text("id"))).mappings().all()
        assert [row["courses"] for row in courses] == [["course-1", "course-2"], []]
