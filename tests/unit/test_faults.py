"""Which database errors are a database that is down or too slow, and the one log line they make."""

import logging

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from proctorhub.models import faults
from proctorhub.models.timeouts import engine_options, postgresql_connect_args
from proctorhub.settings import SettingsError, parse_database_settings


class DriverError(Exception):
    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(cls, message, sqlstate=None, invalidated=False):
    return cls("SELECT 1", {}, DriverError(message, sqlstate), connection_invalidated=invalidated)


@pytest.mark.parametrize("error", [
    wrapped(sa_exc.OperationalError, "connection refused"),
    wrapped(sa_exc.OperationalError, "canceling statement due to statement timeout", "57014"),
    wrapped(sa_exc.OperationalError, "canceling statement due to lock timeout", "55P03"),
    wrapped(sa_exc.InterfaceError, "the connection is closed"),
    wrapped(sa_exc.ProgrammingError, "server closed the connection", invalidated=True),
    sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
])
def test_unavailable(error):
    assert faults.is_unavailable(error)


@pytest.mark.parametrize("error", [
    wrapped(sa_exc.ProgrammingError, "syntax error at or near"),
    wrapped(sa_exc.OperationalError, "could not serialize access", "40001"),
    wrapped(sa_exc.OperationalError, "deadlock detected", "40P01"),
    ValueError("not a database error"),
])
def test_bugs_and_lost_races_are_not_unavailability(error):
    assert not faults.is_unavailable(error)


def test_lost_races():
    assert faults.is_lost_race(wrapped(sa_exc.OperationalError, "deadlock detected", "40P01"))
    assert not faults.is_lost_race(wrapped(sa_exc.OperationalError, "connection refused"))


def test_the_log_says_it_once_per_interval_and_counts_the_rest(caplog):
    limited = faults.RateLimitedLog(logging.getLogger("proctorhub.test"), interval=60)
    with caplog.at_level(logging.WARNING, logger="proctorhub.test"):
        assert limited("database unavailable: %s", "refused") is True
        assert [limited("database unavailable: %s", "refused") for _ in range(5)] == [False] * 5
        limited._next = 0  # the interval has passed
        assert limited("database unavailable: %s", "refused") is True
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["database unavailable: refused",
                        "database unavailable: refused (5 more since the last such line)"]


def test_a_one_line_description_without_sql():
    error = wrapped(sa_exc.OperationalError, "connection refused\nIs the server running?")
    assert faults.describe(error) == "DriverError: connection refused"


def test_database_settings_defaults_and_postgresql_options():
    database = parse_database_settings({})
    assert (database.connect_timeout, database.statement_timeout, database.lock_timeout,
            database.pool_timeout, database.retry_after, database.pool_pre_ping,
            database.pool_use_lifo) == (5, 5, 3, 3, 5, True, True)
    args = postgresql_connect_args(database)
    assert args == {"connect_timeout": 5, "options": "-c statement_timeout=5000 -c lock_timeout=3000"}
    assert engine_options(make_url("sqlite://"), database) == {"pool_pre_ping": True}
    assert engine_options(make_url("sqlite:///file.sqlite"), database) == {"pool_pre_ping": True,
                                                                          "pool_use_lifo": True}
    assert engine_options(make_url("postgresql+psycopg:///x"), database)["pool_timeout"] == 3
    assert parse_database_settings({"sqlalchemy.pool_pre_ping": "false"}).pool_pre_ping is False
    assert parse_database_settings({"sqlalchemy.pool_use_lifo": "false"}).pool_use_lifo is False


@pytest.mark.parametrize("key", ["proctorhub.db.statement_timeout_seconds", "proctorhub.db.connect_timeout_seconds",
                                 "proctorhub.db.retry_after_seconds"])
def test_bad_database_settings_are_named(key):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        parse_database_settings({key: "0" if "retry" in key else "soon"})
