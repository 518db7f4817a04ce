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
    "proctorhub.development_mode": "false",
    "proctorhub.session_max_age_seconds": str(12 * 3600),
    "proctorhub.encryption_keys": "",
    "proctorhub.outbound.allow_private_addresses": "false",
}


class SettingsError(ValueError):
    """A setting is missing or cannot be read; start-up stops with this message."""


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


def _hours_as_seconds(settings: dict, key: str) -> int:
    """A lifetime in hours (fractions allowed), above zero, as whole seconds."""
    raw = settings[key]
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{key} must be a number of hours, not {raw!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{key} must be a number of hours above 0, not {raw!r}")
    return max(1, round(value * 3600))


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
    lms_return_url_hosts: dict[str, tuple[str, ...]] = {}
    for key, value in settings.items():
        if key.startswith(LMS_PREFIX):
            slug, _, option = key[len(LMS_PREFIX):].partition(".")
            if not slug or option != "return_url_hosts":
                raise SettingsError(f"{key} should read proctorhub.lms.<slug>.return_url_hosts")
            hosts = tuple(h.strip().lower().rstrip(".") for h in str(value).replace(",", " ").split())
            for host in hosts:
                if not HOST_ENTRY.fullmatch(host):
                    raise SettingsError(f"{key}: {host!r} is not a host name (or *.domain)")
            lms_return_url_hosts[slug] = hosts
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
        session_ttl_seconds=_hours_as_seconds(settings, "proctorhub.lti.session_ttl_hours"),
        id_token_ttl_seconds=_int(settings, "proctorhub.lti.id_token_ttl_seconds", minimum=1),
        jwks_timeout_seconds=_seconds(settings, "proctorhub.lti.jwks_timeout_seconds"),
        jwks_cache_seconds=_int(settings, "proctorhub.lti.jwks_cache_seconds"),
        jwks_refetches_per_minute=_int(settings, "proctorhub.lti.jwks_refetches_per_minute"),
        registration_ttl_seconds=_int(settings, "proctorhub.lti.registration_ttl_seconds", minimum=1),
        session_secret=str(settings["proctorhub.session_secret"]),
        secure_cookies=asbool(settings["proctorhub.secure_cookies"]),
        development_mode=asbool(settings["proctorhub.development_mode"]),
        session_max_age_seconds=_int(settings, "proctorhub.session_max_age_seconds", minimum=60),
        encryption_keys=tuple(key for key in str(settings["proctorhub.encryption_keys"]).replace(",", " ").split()),
        outbound_allow_private_addresses=asbool(settings["proctorhub.outbound.allow_private_addresses"]),
        lms_return_url_hosts=lms_return_url_hosts,
    )


def effective_settings(raw: dict) -> dict:
    """The raw settings with the environment's overrides applied (used for the database URL)."""
    return _env_overrides(raw)


def includeme(config):
    config.registry.settings.update(effective_settings(config.registry.settings))
    config.registry.app_settings = parse_settings(config.registry.settings)
    config.add_request_method(lambda request: request.registry.app_settings, "app_settings", reify=True)
