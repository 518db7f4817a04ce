"""The retry schedule: its setting, and the waits with jitter."""

import datetime as dt

import pytest

from proctorhub.settings import SettingsError
from proctorhub.webhooks.delivery import next_wait
from proctorhub.worker.settings import parse_schedule, parse_worker_settings

S = dt.timedelta(seconds=1)


def test_default_schedule_is_the_contracts():
    settings = parse_worker_settings({})
    assert settings.retry_schedule == (5 * S, 300 * S, 1800 * S, 7200 * S, 18000 * S, 36000 * S, 36000 * S)
    assert settings.timeout_seconds == 10


@pytest.mark.parametrize("raw", ["", "5 seconds", "5x", "-5s", "5s, ten"])
def test_bad_schedule_is_refused_by_name(raw):
    with pytest.raises(SettingsError, match="retry_schedule"):
        parse_schedule(raw)


def test_waits_have_jitter_within_a_fifth_and_run_out():
    schedule = parse_schedule("5s 5m 30m")
    waits = {next_wait(schedule, 1) for _ in range(50)}
    assert len(waits) > 1
    assert all(4 * S <= w <= 6 * S for w in waits)
    assert 240 * S <= next_wait(schedule, 2) <= 360 * S
    assert next_wait(schedule, 3) >= 1440 * S
    assert next_wait(schedule, 4) is None


def test_retry_after_lengthens_a_wait_but_never_shortens_it():
    schedule = parse_schedule("5s 5m")
    assert next_wait(schedule, 1, dt.timedelta(minutes=2)) == dt.timedelta(minutes=2)
    assert next_wait(schedule, 2, dt.timedelta(seconds=1)) >= 240 * S


def test_mail_transport_and_numbers_are_checked():
    with pytest.raises(SettingsError, match="transport"):
        parse_worker_settings({"proctorhub.mail.transport": "pigeon"})
    with pytest.raises(SettingsError, match="port"):
        parse_worker_settings({"proctorhub.mail.port": "many"})


def test_mail_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROCTORHUB_MAIL_USERNAME", "mailer")
    monkeypatch.setenv("PROCTORHUB_MAIL_PASSWORD", "s3cret")
    mail = parse_worker_settings({"proctorhub.mail.username": "ini-user"}).mail
    assert (mail.username, mail.password) == ("mailer", "s3cret")
