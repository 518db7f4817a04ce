"""``GET /healthz`` and ``GET /readyz``.

Neither takes a connection from the request pool: ``/readyz`` asks the database through an
engine of its own, without a pool, with time limits of ``proctorhub.readyz_timeout_seconds``,
so it answers (503) quickly when the database or the pool is stuck.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ..errors import DatabaseUnavailable
from ..migrations import head_revision
from ..models import faults
from ..models.timeouts import engine_options
from ..models.timeouts import install as install_timeouts
from ..settings import DatabaseSettings

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


def readiness_engine(url: str, timeout: float) -> sa.Engine:
    limits = DatabaseSettings(connect_timeout=timeout, statement_timeout=timeout, lock_timeout=timeout,
                              pool_timeout=timeout, pool_pre_ping=False)
    options = engine_options(sa.engine.make_url(url), limits, queued=False)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, **options)
    install_timeouts(engine, limits)
    return engine


def database_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@view_config(route_name="ops.healthz", renderer="json", permission=NO_PERMISSION_REQUIRED)
def healthz(request):
    """The process is up and answering. Nothing else is asked."""
    return {"status": "ok"}


@view_config(route_name="ops.readyz", renderer="json", permission=NO_PERMISSION_REQUIRED)
def readyz(request):
    """The database answers within the readiness timeout and its schema is the newest."""
    engine = request.registry["readiness_engine"]
    expected = request.registry["schema_head"]
    retry_after = request.app_settings.database.retry_after
    try:
        revision = database_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        faults.report_unavailable("not ready: %s", faults.describe(exc))
        raise DatabaseUnavailable("the database does not answer within the readiness timeout",
                                  retry_after=retry_after) from None
    if revision != expected:
        raise DatabaseUnavailable(f"the database schema is at {revision or 'nothing'}, not {expected}: "
                                  "run `proctorhub initdb INI`", retry_after=retry_after,
                                  details={"schema": revision, "expected": expected})
    return {"status": "ready", "schema": revision}


def includeme(config):
    settings = config.get_settings()
    engine = readiness_engine(settings["sqlalchemy.url"], config.registry.app_settings.readyz_timeout_seconds)
    config.registry["readiness_engine"] = engine
    config.registry["schema_head"] = head_revision(engine)
    config.add_route("ops.healthz", "/healthz")
    config.add_route("ops.readyz", "/readyz")
