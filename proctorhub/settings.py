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
from dataclasses import dataclass, field

from pyramid.settings import asbool, aslist

BACKEND_PREFIX = "proctorhub.backend."

DEFAULTS = {
    "proctorhub.issuer": "http://localhost:6543",
    "proctorhub.allow_review_updates": "true",
    "proctorhub.require_failure_second_reviews": "true",
    "proctorhub.backends": "",
    "proctorhub.max_body_bytes": str(1024 * 1024),
    "proctorhub.signature_window_seconds": "300",
    "proctorhub.lti.leeway_seconds": "60",
    "proctorhub.lti.launch_ttl_seconds": "600",
    "proctorhub.lti.id_token_ttl_seconds": "300",
    "proctorhub.lti.jwks_timeout_seconds": "5",
    "proctorhub.lti.jwks_cache_seconds": "300",
    "proctorhub.lti.jwks_refetches_per_minute": "10",
    "proctorhub.session_secret": "",
    "proctorhub.secure_cookies": "false",
    # Database time limits (PostgreSQL; SQLite keeps its own busy timeout). A database that is
    # down or stalled costs a request at most about these, then a 503 database_unavailable.
    "proctorhub.db.connect_timeout_seconds": "5",
    "proctorhub.db.statement_timeout_seconds": "5",
    "proctorhub.db.lock_timeout_seconds": "3",
    "proctorhub.db.pool_timeout_seconds": "3",
    "proctorhub.db.retry_after_seconds": "5",
    # GET /readyz gives the database this long to answer before it says 503.
    "proctorhub.readyz_timeout_seconds": "2",
    # Check each pooled connection before use, so a database restarted while the service was
    # idle costs no request.
    "sqlalchemy.pool_pre_ping": "true",
    "proctorhub.development_mode": "false",
    "proctorhub.encryption_keys": "",
    "proctorhub.outbound.allow_private_addresses": "false",
}


class SettingsError(ValueError):
    """A setting is missing or cannot be read; start-up stops with this message."""


@dataclass(frozen=True)
class DatabaseSettings:
    """How long the database may take before a request gives up on it (seconds)."""

    connect_timeout: float = 5.0
    statement_timeout: float = 5.0
    lock_timeout: float = 3.0
    pool_timeout: float = 3.0
    retry_after: int = 5
    pool_pre_ping: bool = True


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
    id_token_ttl_seconds: int = 300
    jwks_timeout_seconds: float = 5.0
    jwks_cache_seconds: int = 300
    jwks_refetches_per_minute: int = 10
    session_secret: str = ""
    secure_cookies: bool = False
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    readyz_timeout_seconds: float = 2.0
    # Explicit development mode: development defaults (encryption key, weak session secret) are
    # accepted only when this is on; a deployment nobody tuned refuses to start without real ones.
    development_mode: bool = False
    encryption_keys: tuple[str, ...] = ()
    # Outbound requests may go to private, loopback and link-local addresses (development, tests).
    outbound_allow_private_addresses: bool = False

    def options_for(self, backend: str) -> dict[str, str]:
        return dict(self.backend_options.get(backend, {}))


def _env_overrides(settings: dict) -> dict:
    merged = dict(settings)
    if os.environ.get("PROCTORHUB_DATABASE_URL"):
        merged["sqlalchemy.url"] = os.environ["PROCTORHUB_DATABASE_URL"]
    if os.environ.get("PROCTORHUB_SESSION_SECRET"):
        merged["proctorhub.session_secret"] = os.environ["PROCTORHUB_SESSION_SECRET"]
    if os.environ.get("PROCTORHUB_ENCRYPTION_KEYS"):
        merged["proctorhub.encryption_keys"] = os.environ["PROCTORHUB_ENCRYPTION_KEYS"]
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


def _seconds(settings: dict, key: str) -> float:
    """A time limit in seconds: a finite number above zero."""
    raw = settings[key]
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{key} must be a number of seconds, not {raw!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{key} must be a number of seconds above 0, not {raw!r}")
    return value


def parse_database_settings(raw: dict) -> DatabaseSettings:
    """The database time limits; ``models.get_engine`` reads them once per engine."""
    settings = {**DEFAULTS, **raw}
    return DatabaseSettings(
        connect_timeout=_seconds(settings, "proctorhub.db.connect_timeout_seconds"),
        statement_timeout=_seconds(settings, "proctorhub.db.statement_timeout_seconds"),
        lock_timeout=_seconds(settings, "proctorhub.db.lock_timeout_seconds"),
        pool_timeout=_seconds(settings, "proctorhub.db.pool_timeout_seconds"),
        retry_after=_int(settings, "proctorhub.db.retry_after_seconds", minimum=1),
        pool_pre_ping=asbool(settings["sqlalchemy.pool_pre_ping"]),
    )


def parse_settings(raw: dict) -> AppSettings:
    """Turn the ini's ``[app:main]`` strings (plus environment overrides) into ``AppSettings``."""
    settings = {**DEFAULTS, **_env_overrides(raw)}
    backend_options: dict[str, dict[str, str]] = {}
    for key, value in settings.items():
        if key.startswith(BACKEND_PREFIX):
            name, _, option = key[len(BACKEND_PREFIX):].partition(".")
            if not name or not option:
                raise SettingsError(f"{key} should read proctorhub.backend.<name>.<option>")
            backend_options.setdefault(name, {})[option] = str(value)
    issuer = str(settings["proctorhub.issuer"]).strip().rstrip("/")
    if not issuer.startswith(("http://", "https://")):
        raise SettingsError(f"proctorhub.issuer must be an http(s) URL, not {issuer!r}")
    return AppSettings(
        issuer=issuer,
        allow_review_updates=asbool(settings["proctorhub.allow_review_updates"]),
        require_failure_second_reviews=asbool(settings["proctorhub.require_failure_second_reviews"]),
        backends=tuple(aslist(settings["proctorhub.backends"])),
        backend_options=backend_options,
        max_body_bytes=_int(settings, "proctorhub.max_body_bytes", minimum=1),
        signature_window_seconds=_int(settings, "proctorhub.signature_window_seconds", minimum=1),
        lti_leeway_seconds=_int(settings, "proctorhub.lti.leeway_seconds"),
        launch_ttl_seconds=_int(settings, "proctorhub.lti.launch_ttl_seconds", minimum=1),
        id_token_ttl_seconds=_int(settings, "proctorhub.lti.id_token_ttl_seconds", minimum=1),
        jwks_timeout_seconds=_seconds(settings, "proctorhub.lti.jwks_timeout_seconds"),
        jwks_cache_seconds=_int(settings, "proctorhub.lti.jwks_cache_seconds"),
        jwks_refetches_per_minute=_int(settings, "proctorhub.lti.jwks_refetches_per_minute"),
        session_secret=str(settings["proctorhub.session_secret"]),
        secure_cookies=asbool(settings["proctorhub.secure_cookies"]),
        database=parse_database_settings(settings),
        readyz_timeout_seconds=_seconds(settings, "proctorhub.readyz_timeout_seconds"),
        development_mode=asbool(settings["proctorhub.development_mode"]),
        encryption_keys=tuple(key for key in str(settings["proctorhub.encryption_keys"]).replace(",", " ").split()),
        outbound_allow_private_addresses=asbool(settings["proctorhub.outbound.allow_private_addresses"]),
    )


def effective_settings(raw: dict) -> dict:
    """The raw settings with the environment's overrides applied (used for the database URL)."""
    return _env_overrides(raw)


def includeme(config):
    config.registry.settings.update(effective_settings(config.registry.settings))
    config.registry.app_settings = parse_settings(config.registry.settings)
    config.add_request_method(lambda request: request.registry.app_settings, "app_settings", reify=True)
