"""Settings, read and coerced once at start-up.

Views never parse setting strings per request: they read the typed ``AppSettings`` on the
registry (``request.app_settings``). Secrets may come from the environment so that
``production.ini`` holds none:

- ``PROCTORHUB_DATABASE_URL`` overrides ``sqlalchemy.url``;
- ``PROCTORHUB_SESSION_SECRET`` overrides ``proctorhub.session_secret``;
- ``PROCTORHUB_ENCRYPTION_KEYS`` overrides ``proctorhub.encryption_keys`` (Fernet keys, comma- or
  space-separated, newest first: see ``proctorhub.crypto``);
- ``PROCTORHUB_BACKEND_<NAME>_<OPTION>`` overrides ``proctorhub.backend.<name>.<option>``
  (for example ``PROCTORHUB_BACKEND_SOFTWARESECURE_SECRET``).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from pyramid.settings import asbool, aslist

BACKEND_PREFIX = "proctorhub.backend."
LMS_PREFIX = "proctorhub.lms."
# A return_url host allowed for an lms: a host name, or *.domain for any host below it.
HOST_ENTRY = re.compile(r"(\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")

DEFAULTS = {
    "proctorhub.issuer": "http://localhost:6543",
    "proctorhub.allow_review_updates": "true",
    "proctorhub.require_failure_second_reviews": "true",
    "proctorhub.backends": "",
    "proctorhub.max_body_bytes": str(1024 * 1024),
    "proctorhub.signature_window_seconds": "300",
    "proctorhub.lti.leeway_seconds": "60",
    "proctorhub.lti.launch_ttl_seconds": "600",
    # The browser session and session_data outlive the launch URL: a vendor's identity and system
    # checks plus a whole exam (a relaunch after a crash issues fresh ones).
    "proctorhub.lti.session_ttl_hours": "6",
    "proctorhub.lti.id_token_ttl_seconds": "300",
    "proctorhub.lti.jwks_timeout_seconds": "5",
    "proctorhub.lti.jwks_cache_seconds": "300",
    "proctorhub.lti.jwks_refetches_per_minute": "10",
    "proctorhub.lti.registration_ttl_seconds": "3600",
    "proctorhub.session_secret": "",
    "proctorhub.secure_cookies": "false",
    # Database time limits (PostgreSQL; SQLite keeps its own busy timeout). A database that is
    # down or stalled costs a request at most about these, then a 503 database_unavailable.
    "proctorhub.db.connect_timeout_seconds": "5",
    "proctorhub.db.statement_timeout_seconds": "5",
    "proctorhub.db.lock_timeout_seconds": "3",
    "proctorhub.db.pool_timeout_seconds": "3",
    "proctorhub.db.retry_after_seconds": "5",
    # What `proctorhub purge` keeps (see retention.py): delivered events for this many days,
    # sign-in throttle rows this many hours after their last failure; rows per batch.
    "proctorhub.retention.delivered_event_days": "30",
    "proctorhub.retention.signin_throttle_hours": "24",
    "proctorhub.retention.batch_size": "1000",
    # GET /readyz gives the database this long to answer before it says 503.
    "proctorhub.readyz_timeout_seconds": "2",
    # GET /metrics asks for "Authorization: Bearer <this>" when it is set (empty: open, for a
    # deployment that blocks /metrics at its reverse proxy instead).
    "proctorhub.metrics_token": "",
    # Check each pooled connection before use, so a database restarted while the service was
    # idle costs no request.
    "sqlalchemy.pool_pre_ping": "true",
    # Hand out the connection used last: at low concurrency one connection keeps serving, its
    # caches warm (SQLite's page cache, which another connection's commit empties; psycopg's
    # prepared statements), and surplus connections idle until the pool lets them go.
    "sqlalchemy.pool_use_lifo": "true",
    "proctorhub.development_mode": "false",
    "proctorhub.session_max_age_seconds": str(12 * 3600),
    "proctorhub.encryption_keys": "",
    "proctorhub.outbound.allow_private_addresses": "false",
}


class SettingsError(ValueError):
    """A setting is missing or cannot be read; start-up stops with this message.

    ``problems`` lists each one when several were found at once."""

    def __init__(self, message: str, *, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems) if problems else [message]


class StartupError(SettingsError, SystemExit):
    """Everything start-up found wrong, in one message.

    Also a ``SystemExit``: left uncaught (``pserve``), it prints the message, with no traceback,
    and the process exits with status 1.
    """

    def __init__(self, problems: list[str]):
        message = "proctorhub cannot start:\n" + "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(message, problems=problems)
        self.code = message


@dataclass(frozen=True)
class DatabaseSettings:
    """How long the database may take before a request gives up on it (seconds)."""

    connect_timeout: float = 5.0
    statement_timeout: float = 5.0
    lock_timeout: float = 3.0
    pool_timeout: float = 3.0
    retry_after: int = 5
    pool_pre_ping: bool = True
    pool_use_lifo: bool = True


@dataclass(frozen=True)
class RetentionSettings:
    """What ``retention.purge`` keeps, and how many rows one of its batches deletes."""

    delivered_event_days: int = 30
    signin_throttle_hours: int = 24
    batch_size: int = 1000


@dataclass(frozen=True)
class AppSettings:
    issuer: str
    allow_review_updates: bool
    require_failure_second_reviews: bool
    backends: tuple[str, ...]
    backend_options: dict[str, dict[str, str]] = field(default_factory=dict)
    max_body_bytes: int = 1024 * 1024
    signature_window_seconds: int = 300
    lti_leeway_seconds: int = 60
    launch_ttl_seconds: int = 600
    session_ttl_seconds: int = 6 * 3600
    id_token_ttl_seconds: int = 300
    jwks_timeout_seconds: float = 5.0
    jwks_cache_seconds: int = 300
    jwks_refetches_per_minute: int = 10
    registration_ttl_seconds: int = 3600
    session_secret: str = ""
    secure_cookies: bool = False
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    readyz_timeout_seconds: float = 2.0
    metrics_token: str = ""
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # Explicit development mode: development defaults (encryption key, weak session secret) are
    # accepted only when this is on; a deployment nobody tuned refuses to start without real ones.
    development_mode: bool = False
    # A staff session ends this long after its sign-in, however active (idle ones end sooner).
    session_max_age_seconds: int = 12 * 3600
    encryption_keys: tuple[str, ...] = ()
    # Outbound requests may go to private, loopback and link-local addresses (development, tests).
    outbound_allow_private_addresses: bool = False
    # lms slug -> the hosts its launches' return_url may name (proctorhub.lms.<slug>.return_url_hosts).
    lms_return_url_hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def options_for(self, backend: str) -> dict[str, str]:
        return dict(self.backend_options.get(backend, {}))


# Every setting that differs between deployments, and the environment variable that sets it
# (the environment wins over the ini file). Plugin options: PROCTORHUB_BACKEND_<NAME>_<OPTION>.
ENVIRONMENT = {
    "PROCTORHUB_DATABASE_URL": "sqlalchemy.url",
    "PROCTORHUB_ISSUER": "proctorhub.issuer",
    "PROCTORHUB_SESSION_SECRET": "proctorhub.session_secret",
    "PROCTORHUB_ENCRYPTION_KEYS": "proctorhub.encryption_keys",
    "PROCTORHUB_BACKENDS": "proctorhub.backends",
    "PROCTORHUB_METRICS_TOKEN": "proctorhub.metrics_token",
    # The worker's mail (worker/settings.py reads them through the same overrides).
    "PROCTORHUB_MAIL_HOST": "proctorhub.mail.host",
    "PROCTORHUB_MAIL_USERNAME": "proctorhub.mail.username",
    "PROCTORHUB_MAIL_PASSWORD": "proctorhub.mail.password",
    "PROCTORHUB_MAIL_FROM_ADDRESS": "proctorhub.mail.from_address",
}


def _env_overrides(settings: dict) -> dict:
    merged = dict(settings)
    for variable, key in ENVIRONMENT.items():
        if os.environ.get(variable):
            merged[key] = os.environ[variable]
    for key, value in os.environ.items():
        if key.startswith("PROCTORHUB_BACKEND_") and value:
            name, _, option = key[len("PROCTORHUB_BACKEND_"):].lower().partition("_")
            if name and option:
                merged[f"{BACKEND_PREFIX}{name}.{option}"] = value
    return merged


def _int(settings: dict, key: str, minimum: int = 0) -> int:
    raw = settings[key]
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{key} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{key} must be at least {minimum}, not {value}")
    return value


def _positive_number(settings: dict, key: str, unit: str) -> float:
    """A finite number above zero, in ``unit`` (named in the message when it is not)."""
    raw = settings[key]
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{key} must be a number of {unit}, not {raw!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{key} must be a number of {unit} above 0, not {raw!r}")
    return value


def _seconds(settings: dict, key: str) -> float:
    """A time limit in seconds: a finite number above zero."""
    return _positive_number(settings, key, "seconds")


def _hours_as_seconds(settings: dict, key: str) -> int:
    """A lifetime in hours (fractions allowed), above zero, as whole seconds."""
    return max(1, round(_positive_number(settings, key, "hours") * 3600))


def parse_database_settings(raw: dict, problems: list[str] | None = None) -> DatabaseSettings:
    """The database time limits; ``models.get_engine`` reads them once per engine.

    With ``problems``, unreadable values are added to it (and defaults used) instead of raised."""
    settings = {**DEFAULTS, **raw}
    found: list[str] = []

    def read(parse, key, *args):
        try:
            return parse(settings, key, *args)
        except SettingsError as exc:
            found.append(str(exc))
            return parse(DEFAULTS, key, *args)

    database = DatabaseSettings(
        connect_timeout=read(_seconds, "proctorhub.db.connect_timeout_seconds"),
        statement_timeout=read(_seconds, "proctorhub.db.statement_timeout_seconds"),
        lock_timeout=read(_seconds, "proctorhub.db.lock_timeout_seconds"),
        pool_timeout=read(_seconds, "proctorhub.db.pool_timeout_seconds"),
        retry_after=read(_int, "proctorhub.db.retry_after_seconds", 1),
        pool_pre_ping=asbool(settings["sqlalchemy.pool_pre_ping"]),
        pool_use_lifo=asbool(settings["sqlalchemy.pool_use_lifo"]),
    )
    if problems is not None:
        problems.extend(found)
    elif found:
        raise SettingsError("; ".join(found), problems=found)
    return database


def parse_settings(raw: dict) -> AppSettings:
    """Turn the ini's ``[app:main]`` strings (plus environment overrides) into ``AppSettings``."""
    settings = {**DEFAULTS, **_env_overrides(raw)}
    problems: list[str] = []

    def whole(key, minimum=0):
        try:
            return _int(settings, key, minimum)
        except SettingsError as exc:
            problems.append(str(exc))
            return minimum

    def seconds(key):
        try:
            return _seconds(settings, key)
        except SettingsError as exc:
            problems.append(str(exc))
            return 1.0

    def hours(key):
        try:
            return _hours_as_seconds(settings, key)
        except SettingsError as exc:
            problems.append(str(exc))
            return 3600

    backend_options: dict[str, dict[str, str]] = {}
    for key, value in settings.items():
        if key.startswith(BACKEND_PREFIX):
            name, _, option = key[len(BACKEND_PREFIX):].partition(".")
            if not name or not option:
                problems.append(f"{key} should read proctorhub.backend.<name>.<option>")
                continue
            backend_options.setdefault(name, {})[option] = str(value)
    lms_return_url_hosts: dict[str, tuple[str, ...]] = {}
    for key, value in settings.items():
        if key.startswith(LMS_PREFIX):
            slug, _, option = key[len(LMS_PREFIX):].partition(".")
            if not slug or option != "return_url_hosts":
                problems.append(f"{key} should read proctorhub.lms.<slug>.return_url_hosts")
                continue
            hosts = tuple(h.strip().lower().rstrip(".") for h in str(value).replace(",", " ").split())
            wrong = [host for host in hosts if not HOST_ENTRY.fullmatch(host)]
            problems.extend(f"{key}: {host!r} is not a host name (or *.domain)" for host in wrong)
            lms_return_url_hosts[slug] = hosts
    issuer = str(settings["proctorhub.issuer"]).strip().rstrip("/")
    if not issuer.startswith(("http://", "https://")):
        problems.append(f"proctorhub.issuer must be an http(s) URL, not {issuer!r}")
    database = parse_database_settings(settings, problems)
    typed = AppSettings(
        issuer=issuer,
        allow_review_updates=asbool(settings["proctorhub.allow_review_updates"]),
        require_failure_second_reviews=asbool(settings["proctorhub.require_failure_second_reviews"]),
        backends=tuple(aslist(settings["proctorhub.backends"])),
        backend_options=backend_options,
        max_body_bytes=whole("proctorhub.max_body_bytes", minimum=1),
        signature_window_seconds=whole("proctorhub.signature_window_seconds", minimum=1),
        lti_leeway_seconds=whole("proctorhub.lti.leeway_seconds"),
        launch_ttl_seconds=whole("proctorhub.lti.launch_ttl_seconds", minimum=1),
        session_ttl_seconds=hours("proctorhub.lti.session_ttl_hours"),
        id_token_ttl_seconds=whole("proctorhub.lti.id_token_ttl_seconds", minimum=1),
        jwks_timeout_seconds=seconds("proctorhub.lti.jwks_timeout_seconds"),
        jwks_cache_seconds=whole("proctorhub.lti.jwks_cache_seconds"),
        jwks_refetches_per_minute=whole("proctorhub.lti.jwks_refetches_per_minute"),
        registration_ttl_seconds=whole("proctorhub.lti.registration_ttl_seconds", minimum=1),
        session_secret=str(settings["proctorhub.session_secret"]),
        secure_cookies=asbool(settings["proctorhub.secure_cookies"]),
        database=database,
        readyz_timeout_seconds=seconds("proctorhub.readyz_timeout_seconds"),
        metrics_token=str(settings["proctorhub.metrics_token"]).strip(),
        retention=RetentionSettings(
            delivered_event_days=whole("proctorhub.retention.delivered_event_days", minimum=1),
            signin_throttle_hours=whole("proctorhub.retention.signin_throttle_hours", minimum=1),
            batch_size=whole("proctorhub.retention.batch_size", minimum=1),
        ),
        development_mode=asbool(settings["proctorhub.development_mode"]),
        session_max_age_seconds=whole("proctorhub.session_max_age_seconds", minimum=60),
        encryption_keys=tuple(key for key in str(settings["proctorhub.encryption_keys"]).replace(",", " ").split()),
        outbound_allow_private_addresses=asbool(settings["proctorhub.outbound.allow_private_addresses"]),
        lms_return_url_hosts=lms_return_url_hosts,
    )
    if problems:
        error = SettingsError("; ".join(problems), problems=problems)
        error.partial = typed  # defaults where a value was unreadable: the start-up checks still run
        raise error
    return typed


def effective_settings(raw: dict) -> dict:
    """The raw settings with the environment's overrides applied (used for the database URL)."""
    return _env_overrides(raw)


# -- start-up checks ----------------------------------------------------------------------
#
# ``check_startup`` runs every check below and stops start-up with ONE message listing every
# problem. A check is ``check(given, app_settings) -> iterable of problems (str)``: ``given`` is
# what the ini and the environment set (no defaults), ``app_settings`` the typed settings (with
# defaults in place of values that could not be read), or None. Add a check by appending its dotted name here.
STARTUP_CHECKS = [
    "proctorhub.settings:deployment_problems",
    "proctorhub.operations.startup:session_secret_problems",
    "proctorhub.operations.startup:encryption_key_problems",
    "proctorhub.operations.startup:database_problems",
    "proctorhub.worker.settings:worker_settings_problems",
]


def deployment_problems(given: dict, app_settings: AppSettings | None):
    development = asbool(given.get("proctorhub.development_mode", "false"))
    if not str(given.get("sqlalchemy.url", "")).strip():
        yield "sqlalchemy.url is not set: set PROCTORHUB_DATABASE_URL (or sqlalchemy.url in the ini file)"
    if not development and not str(given.get("proctorhub.issuer", "")).strip():
        yield ("proctorhub.issuer is not set: set PROCTORHUB_ISSUER to the URL tools know this platform by, "
               "e.g. https://proctorhub.example.edu")


def startup_problems(raw: dict) -> list[str]:
    """Every problem start-up can see, in the order found; empty when all is well."""
    from pyramid.path import DottedNameResolver

    given = _env_overrides(raw)
    problems: list[str] = []
    try:
        app_settings = parse_settings(raw)
    except SettingsError as exc:
        problems.extend(exc.problems)
        app_settings = getattr(exc, "partial", None)
    resolver = DottedNameResolver()
    for name in STARTUP_CHECKS:
        problems.extend(resolver.resolve(name)(given, app_settings))
    return problems


def check_startup(raw: dict) -> None:
    """Raise ``StartupError`` listing every problem, or return when there is none."""
    problems = startup_problems(raw)
    if problems:
        raise StartupError(problems)


def includeme(config):
    config.registry.settings.update(effective_settings(config.registry.settings))
    config.registry.app_settings = parse_settings(config.registry.settings)
    config.add_request_method(lambda request: request.registry.app_settings, "app_settings", reify=True)
