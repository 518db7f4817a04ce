"""Hot-path statements (``Dialect.run``, models/driver.py): the rows, values and errors SQLAlchemy
itself would give, past SQLAlchemy's execution, the writer queue and the time limits kept, a
dropped connection invalidated, and SQLAlchemy's own path where it must."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from proctorhub.models import Attempt, Event, ReplayEntry, get_engine, utcnow
from proctorhub.models.dialect import dialect_of, mark_written
from proctorhub.models.driver import DriverStatement
from proctorhub.models.sqlite_writers import HOLDS, writer_queue
from proctorhub.reviews.target import TARGET_QUERY
from tests import factories

event_t = Event.__table__
ledger_t = ReplayEntry.__table__


@pytest.fixture
def attempt(dbsession):
    exam = factories.exam(dbsession, time_limit_mins=90)
    row = factories.attempt(dbsession, exam=exam, status="started")
    row.started_at = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    dbsession.commit()
    return row


def test_a_select_gives_the_rows_and_types_sqlalchemy_gives(request_session, attempt):
    connection = request_session.connection()
    expected = [dict(row) for row in connection.execute(TARGET_QUERY, {"code": attempt.attempt_code}).mappings()]
    rows = dialect_of(connection).run(connection, TARGET_QUERY, {"code": attempt.attempt_code})
    assert rows == expected and len(rows) == 1
    row = rows[0]
    # Types as the ORM gives them: an aware datetime, a real bool, an int.
    assert row["started_at"] == dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    assert row["is_proctored"] is True and row["time_limit_mins"] == 90
    assert dialect_of(connection).run(connection, TARGET_QUERY, {"code": "no-such-code"}) == []


def test_rows_read_by_attribute_and_position_as_sqlalchemys_rows(request_session, attempt):
    connection = request_session.connection()
    dialect = dialect_of(connection)
    expected = connection.execute(TARGET_QUERY, {"code": attempt.attempt_code}).all()
    rows = dialect.rows(connection, TARGET_QUERY, {"code": attempt.attempt_code})
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected] and len(rows) == 1
    assert rows[0].attempt_code == attempt.attempt_code
    assert rows[0].started_at == dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    assert dialect.first(connection, TARGET_QUERY, {"code": attempt.attempt_code}) == rows[0]
    assert dialect.first(connection, TARGET_QUERY, {"code": "no-such-code"}) is None


def test_writes_are_stored_with_their_types_and_committed_with_the_request(request_session, tm, dbsession, attempt):
    connection = request_session.connection()
    dialect = dialect_of(connection)
    now = utcnow()
    events = [{"kind": f"test.{i}", "attempt_id": attempt.id, "attempt_code": attempt.attempt_code,
               "payload": {"n": i, "text": "é"}, "created_at": now, "delivered_at": None} for i in range(3)]
    assert dialect.run(connection, insert(event_t), events) == []
    moved = (update(Attempt.__table__).where(Attempt.id == bindparam("attempt_id"))
             .values(status=bindparam("new_status"), modified_at=bindparam("at", type_=Attempt.modified_at.type)))
    dialect.run(connection, moved, {"attempt_id": attempt.id, "new_status": "submitted", "at": now})
    mark_written(request_session)
    tm.commit()

    stored = dbsession.execute(select(Event).order_by(Event.id)).scalars().all()
    assert [(e.kind, e.payload, e.created_at) for e in stored] == [(f"test.{i}", {"n": i, "text": "é"}, now)
                                                                   for i in range(3)]
    dbsession.refresh(attempt)
    assert (attempt.status, attempt.modified_at) == ("submitted", now)


def test_an_executemany_of_nothing_runs_nothing(request_session):
    connection = request_session.connection()
    assert dialect_of(connection).run(connection, insert(event_t), []) == []


def test_a_statement_that_needs_a_python_default_runs_through_sqlalchemy(request_session, dbsession):
    exam = factories.exam(dbsession)
    dbsession.commit()
    connection = request_session.connection()
    # attempt_code, status, created_at ... come from the model's Python-side defaults.
    values = {"exam_id": exam.id, "user_id": "learner-9", "attempt_number": 1}
    statement = insert(Attempt.__table__).returning(Attempt.__table__.c.attempt_code, Attempt.__table__.c.status)
    assert DriverStatement.compile(statement, connection.dialect, tuple(values)) is None
    [row] = dialect_of(connection).run(connection, statement, values)
    assert row["status"] == "created" and len(row["attempt_code"]) > 8


def test_an_in_list_runs_through_sqlalchemy(request_session, attempt):
    connection = request_session.connection()
    attempt_t = Attempt.__table__
    statement = select(attempt_t.c.attempt_code).where(attempt_t.c.id.in_(bindparam("ids", expanding=True)))
    assert DriverStatement.compile(statement, connection.dialect, ("ids",)) is None
    assert dialect_of(connection).run(connection, statement, {"ids": [attempt.id, -1]}) == [
        {"attempt_code": attempt.attempt_code}]


def test_a_driver_error_is_sqlalchemys_error(request_session):
    connection = request_session.connection()
    entry = {"issuer": "tool-1", "kind": "nonce", "value": "n-1", "created_at": utcnow(),
             "expires_at": utcnow() + dt.timedelta(minutes=5)}
    dialect_of(connection).run(connection, insert(ledger_t), entry)
    with pytest.raises(sa.exc.IntegrityError):
        dialect_of(connection).run(connection, insert(ledger_t), entry)


def test_a_missing_parameter_is_refused_before_the_database_sees_it(request_session):
    connection = request_session.connection()
    with pytest.raises(sa.exc.StatementError, match="'code'"):
        dialect_of(connection).run(connection, TARGET_QUERY, {"attempt_code": "x"})


def test_on_sqlite_the_driver_runs_it_and_a_write_waits_for_the_writer_queue(tmp_path):
    # Whatever database the suite runs on: this is SQLite's path.
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'driver.sqlite'}"})
    ledger_t.create(engine)
    seen = []

    def note(_connection, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        with engine.connect() as connection:
            dialect = dialect_of(connection)
            read = select(ledger_t.c.value).where(ledger_t.c.kind == bindparam("kind"))
            assert dialect.run(connection, read, {"kind": "nonce"}) == []
            assert not connection.info.get(HOLDS)  # a read does not queue
            dialect.run(connection, insert(ledger_t), {"issuer": "t", "kind": "nonce", "value": "v",
                                                       "created_at": utcnow(), "expires_at": utcnow()})
            assert connection.info.get(HOLDS)
            assert dialect.run(connection, read, {"kind": "nonce"}) == [{"value": "v"}]
            connection.commit()
        assert seen == []  # nothing went through SQLAlchemy's execution to the cursor
        assert not writer_queue(engine).lock.locked()  # given back with the connection
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
        engine.dispose()


def test_the_statement_goes_past_sqlalchemys_execution_to_the_driver(request_session, dbengine, attempt):
    seen = []

    def note(_connection, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(dbengine, "before_cursor_execute", note)
    try:
        connection = request_session.connection()
        rows = dialect_of(connection).run(connection, TARGET_QUERY, {"code": attempt.attempt_code})
    finally:
        sa.event.remove(dbengine, "before_cursor_execute", note)
    assert [row["attempt_code"] for row in rows] == [attempt.attempt_code]
    assert seen == []


def test_the_dialects_execute_is_called_so_its_time_limits_apply(request_session, dbengine, attempt, monkeypatch):
    # models.timeouts puts its watchdog on the dialect's do_execute methods.
    called = []
    plain = dbengine.dialect.do_execute

    def watched(cursor, statement, parameters, context=None):
        called.append(statement)
        return plain(cursor, statement, parameters, context)

    monkeypatch.setattr(dbengine.dialect, "do_execute", watched)
    connection = request_session.connection()
    dialect_of(connection).run(connection, TARGET_QUERY, {"code": attempt.attempt_code})
    assert len(called) == 1 and called[0].startswith("SELECT")


@pytest.mark.postgresql_only
def test_a_connection_dropped_under_a_statement_is_invalidated(request_session, dbengine, attempt):
    connection = request_session.connection()
    backend_pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with dbengine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
    with pytest.raises(sa.exc.OperationalError) as raised:
        dialect_of(connection).run(connection, TARGET_QUERY, {"code": attempt.attempt_code})
    # As SQLAlchemy's own execution would: the error says so, and the pool will not hand it out again.
    assert raised.value.connection_invalidated is True
    assert connection.invalidated


def test_a_statement_run_on_the_driver_can_still_be_built_on(request_session):
    # A Guard's UPDATE runs on its own, and later nested in a CTE with RETURNING: compiling it for
    # the driver must leave nothing on it that the RETURNING form would inherit.
    connection = request_session.connection()
    spend = update(ledger_t).where(ledger_t.c.value == bindparam("spent_value")).values(
        expires_at=bindparam("until", type_=ledger_t.c.expires_at.type))
    parameters = {"spent_value": "v-1", "until": utcnow()}
    assert DriverStatement.compile(spend, connection.dialect, tuple(parameters)) is not None
    assert dialect_of(connection).count(connection, spend, parameters) == 0
    assert list(spend.returning(ledger_t.c.id).cte("guard").c.keys()) == ["id"]


def test_a_named_paramstyle_other_than_pyformat_is_left_to_sqlalchemy():
    # Only psycopg's %(name)s is read by name; a driver set to :name runs through SQLAlchemy.
    assert DriverStatement.compile(TARGET_QUERY, sqlite.dialect(paramstyle="named"), ("code",)) is None
    assert DriverStatement.compile(TARGET_QUERY, postgresql.psycopg.dialect(), ("code",)).named is True
    assert DriverStatement.compile(TARGET_QUERY, sqlite.dialect(), ("code",)).named is False
