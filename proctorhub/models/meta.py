"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Constraint names are fixed so that Alembic migrations can name them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps are aware UTC in Python and naive UTC in the database.

    SQLite has no time zones; storing naive UTC everywhere keeps comparisons identical on
    SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is expected")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = metadata


def digest(secret: str) -> str:
    """The stored form of a random secret handed out once (API token, launch token, message hint,
    cookie, session_data): hex SHA-256. The secrets carry 256 random bits, so a plain hash makes
    a stolen table useless; a slow password hash would only slow every request."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
