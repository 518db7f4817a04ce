"""The worker's settings (webhook delivery, email digests), read and coerced once.

Everything here has a default; ``development.ini`` and ``production.ini`` document each. The mail
credentials may come from the environment (``PROCTORHUB_MAIL_USERNAME``, ``PROCTORHUB_MAIL_PASSWORD``)
and so may the SMTP host (``PROCTORHUB_MAIL_HOST``), so that ``production.ini`` holds none.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pyramid.settings import asbool

from ..settings import SettingsError, _env_overrides, _int, _positive_number, _seconds

DEFAULTS = {
    "proctorhub.worker.embedded": "false",
    "proctorhub.worker.poll_seconds": "1",
    "proctorhub.worker.batch_size": "100",
    "proctorhub.worker.concurrency": "8",
    "proctorhub.worker.lanes": "2",
    "proctorhub.webhooks.timeout_seconds": "10",
    "proctorhub.webhooks.retry_schedule": "5s 5m 30m 2h 5h 10h 10h",
    "proctorhub.webhooks.disable_after_hours": "72",
    "proctorhub.webhooks.rotation_overlap_hours": "24",
    "proctorhub.mail.transport": "log",
    "proctorhub.mail.host": "localhost",
    "proctorhub.mail.port": "587",
    "proctorhub.mail.starttls": "true",
    "proctorhub.mail.username": "",
    "proctorhub.mail.password": "",
    "proctorhub.mail.from_address": "proctorhub@localhost",
    "proctorhub.mail.timeout_seconds": "30",
    "proctorhub.mail.digest_interval_seconds": "3600",
}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|m|h|d)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class MailSettings:
    transport: str  # "smtp", or "log": the message goes to the log instead (development)
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    from_address: str
    timeout_seconds: float
    digest_interval: dt.timedelta


@dataclass(frozen=True)
class WorkerSettings:
    embedded: bool
    poll_seconds: float
    batch_size: int
    concurrency: int
    lanes: int
    timeout_seconds: float
    retry_schedule: tuple[dt.timedelta, ...]
    disable_after: dt.timedelta
    rotation_overlap: dt.timedelta
    mail: MailSettings


def parse_schedule(raw: str) -> tuple[dt.timedelta, ...]:
    """``"5s 5m 30m 2h"`` → the waits before the second, third ... try."""
    words = str(raw).replace(",", " ").split()
    delays = []
    for word in words:
        match = _DURATION.fullmatch(word.strip().lower())
        if match is None:
            raise SettingsError(f"proctorhub.webhooks.retry_schedule: {word!r} is not a duration such as 5s, 5m, 2h")
        delays.append(dt.timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)]))
    if not delays:
        raise SettingsError("proctorhub.webhooks.retry_schedule must list at least one wait, e.g. 5s 5m 30m")
    return tuple(delays)


def parse_worker_settings(raw: dict) -> WorkerSettings:
    settings = {**DEFAULTS, **_env_overrides(raw)}
    transport = str(settings["proctorhub.mail.transport"]).strip().lower()
    if transport not in ("smtp", "log"):
        raise SettingsError(f"proctorhub.mail.transport must be smtp or log, not {transport!r}")
    mail = MailSettings(
        transport=transport,
        host=str(settings["proctorhub.mail.host"]).strip(),
        port=_int(settings, "proctorhub.mail.port", minimum=1),
        starttls=asbool(settings["proctorhub.mail.starttls"]),
        username=str(settings["proctorhub.mail.username"]),
        password=str(settings["proctorhub.mail.password"]),
        from_address=str(settings["proctorhub.mail.from_address"]).strip(),
        timeout_seconds=_seconds(settings, "proctorhub.mail.timeout_seconds"),
        digest_interval=dt.timedelta(seconds=_int(settings, "proctorhub.mail.digest_interval_seconds", minimum=1)),
    )
    return WorkerSettings(
        embedded=asbool(settings["proctorhub.worker.embedded"]),
        poll_seconds=_seconds(settings, "proctorhub.worker.poll_seconds"),
        batch_size=_int(settings, "proctorhub.worker.batch_size", minimum=1),
        concurrency=_int(settings, "proctorhub.worker.concurrency", minimum=1),
        lanes=_int(settings, "proctorhub.worker.lanes", minimum=1),
        timeout_seconds=_seconds(settings, "proctorhub.webhooks.timeout_seconds"),
        retry_schedule=parse_schedule(settings["proctorhub.webhooks.retry_schedule"]),
        disable_after=dt.timedelta(
            hours=_positive_number(settings, "proctorhub.webhooks.disable_after_hours", "hours")),
        rotation_overlap=dt.timedelta(
            hours=_positive_number(settings, "proctorhub.webhooks.rotation_overlap_hours", "hours")),
        mail=mail,
    )


def worker_settings_problems(given: dict, _app_settings) -> list[str]:
    """A start-up check: the worker's settings (every process reads them, the embedded worker and
    ``proctorhub worker`` alike) are readable."""
    try:
        parse_worker_settings(given)
    except SettingsError as exc:
        return list(exc.problems)
    return []
