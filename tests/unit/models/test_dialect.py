"""The database seam (models/dialect.py), on the suite's database, and the guard that keeps every
dialect difference behind it."""

from __future__ import annotations

import ast
import datetime as dt
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, func, select, update

import proctorhub
from proctorhub.attempts import lifecycle
from proctorhub.attempts.service import LIVE_ATTEMPT
from proctorhub.errors import Conflict
from proctorhub.lti.replay import UNIQUE_ENTRY
from proctorhub.models import Attempt, Event, Exam, ReplayEntry, get_session_factory, utcnow
from proctorhub.models.dialect import Guard, PostgreSQL, SQLite, choose, dialect_of
from tests import factories

PACKAGE = Path(proctorhub.__file__).parent
# Start-up and command-line code may look at the engine's dialect itself; nothing on a request's path may.
ALLOWED = {
    "models/dialect.py": "the seam itself",
    "models/timeouts.py": "engine set-up: the psycopg watchdog",
    "cli/initdb.py": "a command: refuses PostgreSQL's system databases",
    "cli/seed.py": "a command: bulk loading",
}
ALLOWED_FOLDERS = ("alembic/",)  # migrations run once, per database


def dialect_tests_and_mark_changed(source: str) -> list[str]:
    """Where ``source`` reads ``<x>.dialect.name`` or names ``mark_changed``, as ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr == "name" and isinstance(node.value, ast.Attribute)
                and node.value.attr == "dialect"):
            found.append(f"{node.lineno}: reads dialect.name")
        named = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name)
                 else None)
        if named == "mark_changed" or (isinstance(node, ast.ImportFrom)
                                       and any(alias.name == "mark_changed" for alias in node.names)):
            found.append(f"{node.lineno}: mark_changed")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def test_the_guard_finds_what_it_looks_for():
    assert dialect_tests_and_mark_changed(
        "if connection.dialect.name == 'postgresql':\n"
        "    zope.sqlalchemy.mark_changed(dbsession)\n"
        "from zope.sqlalchemy import mark_changed\n"
        "session.get_bind().dialect.name\n"
    ) == ["1: reads dialect.name", "2: mark_changed", "3: mark_changed", "4: reads dialect.name"]
    assert dialect_tests_and_mark_changed("dialect_of(dbsession).chains_writes\nbackend.name\n") == []


def test_only_the_seam_and_start_up_code_test_the_dialect_or_mark_sessions_changed():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ALLOWED or relative.startswith(ALLOWED_FOLDERS):
            continue
        found = dialect_tests_and_mark_changed(path.read_text())
        if found:
            offenders[relative] = found
    assert offenders == {}, "use proctorhub.models.dialect (dialect_of(...), mark_written) instead"
    for relative in ALLOWED:
        assert (PACKAGE / relative).exists(), f"{relative} is allowed but gone: take it off the list"


# -- choosing ------------------------------------------------------------------------------------------

def test_the_engine_gets_its_dialect_once(dbengine, db_kind):
    dialect = dialect_of(dbengine)
    assert type(dialect) is {"sqlite": SQLite, "postgresql": PostgreSQL}[db_kind]
    assert dialect.chains_writes is (db_kind == "postgresql")
    session = get_session_factory(dbengine)()
    try:
        assert dialect_of(session) is dialect
        assert dialect_of(session.connection()) is dialect
    finally:
        session.close()


def test_an_engine_proctorhub_did_not_make_has_no_dialect(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    with pytest.raises(RuntimeError, match="get_engine"):
        dialect_of(engine)


def test_an_unsupported_database_is_a_start_up_error():
    engine = sa.create_mock_engine("mysql://", lambda *args, **kwargs: None)
    with pytest.raises(RuntimeError, match="postgresql or sqlite, not mysql"):
        choose(engine)


# -- writes outside the ORM ----------------------------------------------------------------------------

def entry(value: str) -> dict:
    now = utcnow()
    return {"issuer": "tool-1", "kind": "nonce", "value": value, "expires_at": now + dt.timedelta(minutes=5),
            "created_at": now}


def ledger_values(dbsession) -> list[str]:
    dbsession.rollback()
    return list(dbsession.execute(select(ReplayEntry.value).order_by(ReplayEntry.value)).scalars())


def test_insert_if_new_inserts_once_and_the_request_commits_it(request_session, tm, dbsession):
    dialect = dialect_of(request_session)
    first = dialect.insert_if_new(request_session, ReplayEntry.__table__, entry("n-1"), unique=UNIQUE_ENTRY)
    assert first is not None and first["id"] > 0
    assert dialect.insert_if_new(request_session, ReplayEntry.__table__, entry("n-1"), unique=UNIQUE_ENTRY) is None
    tm.commit()
    assert ledger_values(dbsession) == ["n-1"]


def test_a_core_write_not_marked_written_is_rolled_back(request_session, tm, dbsession):
    # Why mark_written exists: zope.sqlalchemy ends a transaction it saw no write in with a rollback.
    request_session.connection().execute(sa.insert(ReplayEntry.__table__), entry("n-2"))
    tm.commit()
    assert ledger_values(dbsession) == []


def test_insert_if_new_takes_a_partial_unique_index_as_its_conflict_target(request_session, tm, dbsession):
    exam = factories.exam(dbsession)
    values = {"exam_id": exam.id, "user_id": "learner-1", "attempt_number": 1}
    dialect = dialect_of(request_session)
    first = dialect.insert_if_new(request_session, Attempt.__table__, values, unique=LIVE_ATTEMPT,
                                  returning=("id", "attempt_code", "status"))
    assert first["status"] == "created" and first["attempt_code"]
    assert dialect.insert_if_new(request_session, Attempt.__table__, values, unique=LIVE_ATTEMPT) is None
    # An archived attempt steps aside: the index covers live attempts only.
    request_session.connection().execute(update(Attempt.__table__).where(Attempt.id == first["id"])
                                         .values(archived_at=utcnow()))
    second = dialect.insert_if_new(request_session, Attempt.__table__, values, unique=LIVE_ATTEMPT)
    assert second is not None and second["id"] != first["id"]
    tm.commit()
    dbsession.rollback()
    assert dbsession.execute(select(func.count()).select_from(Attempt).where(Attempt.exam_id == exam.id)
                             ).scalar_one() == 2


# -- the status move -------------------------------------------------------------------------------------

# A guard on another table than the attempt's: the exam's time limit, set only while it has none.
# modified_at is set by hand: nested in a CTE, an UPDATE gets no onupdate values from SQLAlchemy.
exam_t = Exam.__table__
SET_TIME_LIMIT = (update(exam_t).where(exam_t.c.id == bindparam("guard_exam_id"), exam_t.c.time_limit_mins.is_(None))
                  .values(time_limit_mins=bindparam("guard_minutes"),
                          modified_at=bindparam("guard_now", type_=exam_t.c.modified_at.type)))


@pytest.fixture
def created_attempt(dbsession):
    return factories.attempt(dbsession, status="created")


def planned(attempt, new, reason="launch"):
    return lifecycle.plan_move(attempt_id=attempt.id, attempt_code=attempt.attempt_code, old=attempt.status,
                               started_at=attempt.started_at, new=new, reason=reason)


@contextmanager
def statements_on(engine, session):
    """The SQL statements executed on ``engine`` while open (a round trip each), counted where
    they reach the driver: hot-path statements go straight to it (models/driver.py), past
    SQLAlchemy's events. On SQLite as SQLite itself traces them on ``session``'s connection; on
    PostgreSQL at the dialect's ``do_execute`` methods, which both paths call."""
    seen: list[str] = []

    def trace(statement):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    if engine.dialect.name == "sqlite":
        driver = session.connection().connection.driver_connection
        driver.set_trace_callback(trace)
        try:
            yield seen
        finally:
            driver.set_trace_callback(None)
        return
    dialect = engine.dialect
    names = ("do_execute", "do_executemany", "do_execute_no_params")
    originals = {name: dialect.__dict__.get(name) for name in names}

    def noting(method):
        def call(cursor, statement, *args, **kwargs):
            seen.append(statement)
            return method(cursor, statement, *args, **kwargs)
        return call

    for name in names:
        setattr(dialect, name, noting(getattr(dialect, name)))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            if original is None:
                delattr(dialect, name)
            else:
                setattr(dialect, name, original)


def events_of(dbsession, attempt) -> list[tuple[str, dict]]:
    return [(e.kind, e.payload) for e in dbsession.execute(
        select(Event).where(Event.attempt_id == attempt.id).order_by(Event.id)).scalars()]


def reread(dbsession, row):
    dbsession.rollback()
    dbsession.expire_all()
    return dbsession.get(type(row), row.id)


# The round trips a move costs: one where the dialect chains writes, else the guard, the attempt's
# UPDATE and the events' INSERT.
ROUND_TRIPS = {"postgresql": {False: 1, True: 1}, "sqlite": {False: 2, True: 3}}


def test_a_move_writes_the_attempt_and_its_event(request_session, tm, dbsession, created_attempt, dbengine,
                                                 db_kind):
    move = planned(created_attempt, "ready_to_start")
    with statements_on(dbengine, request_session) as seen:
        assert lifecycle.write_move(request_session, created_attempt.id, move) is True
    assert len(seen) == ROUND_TRIPS[db_kind][False]
    tm.commit()
    attempt = reread(dbsession, created_attempt)
    assert attempt.status == "ready_to_start" and attempt.modified_at == move.columns["modified_at"]
    assert events_of(dbsession, attempt) == [
        ("attempt.status_changed", {"from": "created", "to": "ready_to_start", "reason": "launch"})]


def test_events_without_a_move_are_written_alone_at_the_time_given(request_session, tm, dbsession,
                                                                    created_attempt, dbengine):
    at = utcnow() - dt.timedelta(seconds=5)
    flagged = {"kind": "attempt.control", "attempt_code": created_attempt.attempt_code, "payload": {"action": "flag"}}
    with statements_on(dbengine, request_session) as seen:
        assert dialect_of(request_session).move_attempt(request_session, created_attempt.id, {}, [flagged],
                                                        at=at) is True
    assert len(seen) == 1  # the events' INSERT, no UPDATE of the attempt
    tm.commit()
    attempt = reread(dbsession, created_attempt)
    assert (attempt.status, attempt.modified_at) == ("created", created_attempt.modified_at)
    stored = dbsession.execute(select(Event).where(Event.attempt_id == attempt.id)).scalars().all()
    assert [(e.kind, e.payload, e.created_at) for e in stored] == [("attempt.control", {"action": "flag"}, at)]


def test_a_guarded_move_happens_when_the_guard_changes_its_row(request_session, tm, dbsession, created_attempt,
                                                               dbengine, db_kind):
    move = planned(created_attempt, "ready_to_start")
    guard = Guard(SET_TIME_LIMIT, {"guard_exam_id": created_attempt.exam_id, "guard_minutes": 90,
                                   "guard_now": utcnow()})
    with statements_on(dbengine, request_session) as seen:
        assert lifecycle.write_move(request_session, created_attempt.id, move, guard=guard) is True
    assert len(seen) == ROUND_TRIPS[db_kind][True]
    tm.commit()
    attempt = reread(dbsession, created_attempt)
    assert attempt.status == "ready_to_start"
    assert attempt.exam.time_limit_mins == 90
    assert [kind for kind, _ in events_of(dbsession, attempt)] == ["attempt.status_changed"]


def test_a_guarded_move_writes_nothing_when_the_guard_changes_no_row(request_session, tm, dbsession, created_attempt):
    exam = dbsession.get(Exam, created_attempt.exam_id)
    exam.time_limit_mins = 60
    dbsession.commit()
    move = planned(created_attempt, "ready_to_start")
    guard = Guard(SET_TIME_LIMIT, {"guard_exam_id": created_attempt.exam_id, "guard_minutes": 90,
                                   "guard_now": utcnow()})
    assert lifecycle.write_move(request_session, created_attempt.id, move, guard=guard) is False
    tm.commit()
    attempt = reread(dbsession, created_attempt)
    assert attempt.status == "created"
    assert attempt.exam.time_limit_mins == 60
    assert events_of(dbsession, attempt) == []


def test_a_move_that_needs_attention_writes_both_events(request_session, tm, dbsession):
    started = factories.attempt(dbsession, status="submitted")
    move = planned(started, "second_review_required", reason="review created by rest")
    assert lifecycle.write_move(request_session, started.id, move) is True
    tm.commit()
    attempt = reread(dbsession, started)
    assert attempt.status == "second_review_required" and attempt.completed_at is not None
    assert events_of(dbsession, attempt) == [
        ("attempt.status_changed", {"from": "submitted", "to": "second_review_required",
                                    "reason": "review created by rest"}),
        ("review.needs_attention", {"attempt_status": "second_review_required", "reason": "review created by rest"}),
    ]


def test_the_orm_move_writes_what_the_plan_says(dbsession, created_attempt):
    plan = planned(created_attempt, "ready_to_start")
    assert lifecycle.move(dbsession, created_attempt, "ready_to_start", reason="launch",
                          now=plan.columns["modified_at"]) is True
    assert {column: getattr(created_attempt, column) for column in plan.columns} == plan.columns
    added = [(e.kind, e.attempt_id, e.payload) for e in dbsession.new if isinstance(e, Event)]
    assert added == [(event["kind"], event["attempt_id"], event["payload"]) for event in plan.events]


def test_a_forbidden_move_is_refused_and_a_move_to_the_same_status_is_none(created_attempt):
    with pytest.raises(Conflict) as refused:
        lifecycle.plan_move(attempt_id=created_attempt.id, attempt_code=created_attempt.attempt_code,
                            old="terminated", started_at=None, new="started", reason="x")
    assert refused.value.code == "invalid_status_change"
    assert lifecycle.plan_move(attempt_id=created_attempt.id, attempt_code=created_attempt.attempt_code,
                               old="created", started_at=None, new="created", reason="x") is None


# -- the lock ----------------------------------------------------------------------------------------------

def test_try_lock_is_held_by_one_transaction_at_a_time_where_it_matters(dbengine, db_kind):
    factory = get_session_factory(dbengine)
    first, second = factory(), factory()
    try:
        assert dialect_of(first).try_lock(first, 4242) is True
        # PostgreSQL: another transaction is refused until the first ends. SQLite has one
        # writer at a time anyway, so everybody may go on.
        assert dialect_of(second).try_lock(second, 4242) is (db_kind == "sqlite")
        first.rollback()
        assert dialect_of(second).try_lock(second, 4242) is True
    finally:
        first.close()
        second.close()
