"""The database: engine, sessions bound to the request's transaction, and every model."""

from __future__ import annotations

import sqlalchemy
import zope.sqlalchemy
from sqlalchemy import engine_from_config
from sqlalchemy.orm import configure_mappers, sessionmaker

from ..settings import parse_database_settings
from .attempt import COMPLETED_STATUSES, Attempt, AttemptStatus  # noqa: F401
from .audit import AuditEntry  # noqa: F401
from .configuration import ConfigurationStatus, ToolConfiguration  # noqa: F401
from .control import AttemptControl  # noqa: F401
from .dialect import choose as choose_dialect
from .event import Event, EventKind  # noqa: F401
from .exam import Exam  # noqa: F401
from .faults import mark_committing
from .lms import DEFAULT_SLUG, Lms  # noqa: F401
from .lti import (  # noqa: F401
    BrowserSession,
    KeyState,
    Launch,
    MessageType,
    PlatformKey,
    ReplayEntry,
    SessionData,
)
from .meta import Base, digest, metadata, utcnow  # noqa: F401
from .registration import Registration  # noqa: F401
from .review import QueuePriority, Review, ReviewComment, ReviewHistory, ReviewStatus  # noqa: F401
from .signin import SigninThrottle  # noqa: F401
from .staff import ApiToken, Role, StaffCourse, StaffUser  # noqa: F401
from .timeouts import QUEUE_OPTIONS, engine_options
from .timeouts import install as install_timeouts
from .webhook import (  # noqa: F401
    Delivery,
    DeliveryStatus,
    DeliveryTry,
    WebhookEndpoint,
    WorkerSchedule,
    WorkerScheduleSent,
)

configure_mappers()


def get_engine(settings, prefix="sqlalchemy."):
    """The engine for ``sqlalchemy.url``, with the database time limits of ``proctorhub.db.*`` and
    its ``dialect.Dialect`` chosen."""
    database = parse_database_settings(settings)
    url = sqlalchemy.engine.make_url(settings[prefix + "url"])
    # The pool's options come from engine_options alone, read once into ``database``: the ini's
    # own spelling of them would reach a pool that refuses them.
    raw = {key: value for key, value in settings.items()
           if key.removeprefix(prefix) not in QUEUE_OPTIONS or not key.startswith(prefix)}
    engine = engine_from_config(raw, prefix, **engine_options(url, database))
    install_timeouts(engine, database)
    # Once per engine: request code asks dialect_of() for it and never tests a dialect's name.
    choose_dialect(engine)
    return engine


def get_session_factory(engine):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    # A database failure after this point leaves the outcome unknown (errors.views says so).
    sqlalchemy.event.listen(factory, "before_commit", mark_committing)
    return factory


def get_tm_session(session_factory, transaction_manager, request=None):
    """A session joined to ``transaction_manager``: it commits or aborts with the request."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def includeme(config):
    settings = config.get_settings()
    # The transaction manager belongs to the request, so a retried request starts clean.
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # pyramid_tm would ask for the caller's identity before routing, to label the transaction
    # (nothing here reads the label); the security policy then could not see which resource is
    # called, and looked an LTI access token up among the API tokens.
    settings["tm.annotate_user"] = "false"
    # One transaction per request: a failed request leaves no partial rows.
    config.include("pyramid_tm")
    # Re-run a request whose transaction lost a race (serialization failure, or a
    # unique-constraint race that a view marks as retryable): each attempt is a fresh transaction.
    settings.setdefault("retry.attempts", "3")
    config.include("pyramid_retry")

    engine = get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry["dbengine"] = engine
    config.registry["dbsession_factory"] = session_factory

    config.add_request_method(
        lambda request: get_tm_session(session_factory, request.tm, request=request),
        "dbsession",
        reify=True,
    )
