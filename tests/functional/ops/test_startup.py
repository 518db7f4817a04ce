"""Start-up checks everything at once and says it in one message, without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from proctorhub import main
from proctorhub.settings import SettingsError, StartupError

from ...conftest import ROOT

PRODUCTION_ENV = ("PROCTORHUB_DATABASE_URL", "PROCTORHUB_ISSUER", "PROCTORHUB_SESSION_SECRET",
                  "PROCTORHUB_ENCRYPTION_KEYS")


def test_every_problem_in_one_message(base_settings, tmp_path):
    settings = {**base_settings,
                "proctorhub.development_mode": "false",
                "proctorhub.session_secret": "short",
                "proctorhub.max_body_bytes": "lots",
                "proctorhub.db.statement_timeout_seconds": "-1",
                "proctorhub.encryption_keys": "",
                "sqlalchemy.url": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    settings.pop("proctorhub.issuer")
    with pytest.raises(StartupError) as caught:
        main({}, **settings)
    problems = caught.value.problems
    assert isinstance(caught.value, SystemExit) and isinstance(caught.value, SettingsError)
    text = "\n".join(problems)
    for expected in ("proctorhub.max_body_bytes", "proctorhub.db.statement_timeout_seconds",
                     "proctorhub.issuer is not set", "shorter than 32 bytes",
                     "no encryption keys", "is at schema (empty)", "proctorhub initdb"):
        assert expected in text, expected
    assert len(problems) == 6
    assert caught.value.code.startswith("proctorhub cannot start:\n  - ")


def test_lms_and_worker_settings_join_the_same_message(base_settings):
    settings = {**base_settings,
                "proctorhub.max_body_bytes": "lots",
                "proctorhub.lms.default.return_url_hosts": "lms.test not_a/host",
                "proctorhub.lms.default.colour": "blue",
                "proctorhub.webhooks.disable_after_hours": "abc"}
    with pytest.raises(StartupError) as caught:
        main({}, **settings)
    text = "\n".join(caught.value.problems)
    for expected in ("proctorhub.max_body_bytes", "'not_a/host' is not a host name",
                     "proctorhub.lms.default.colour should read", "disable_after_hours", "number of hours"):
        assert expected in text, expected
    # Each is a line of its own (beside the database's, unmigrated here).
    assert sum("proctorhub.lms.default" in line or "proctorhub.max_body_bytes" in line or "_hours" in line
               for line in caught.value.problems) == 4


@pytest.mark.parametrize("secret", ["test-session-secret", "dev-session-secret-change-me"])
def test_development_secrets_need_development_mode(base_settings, secret):
    with pytest.raises(StartupError, match="development value|shorter than 32 bytes"):
        main({}, **{**base_settings, "proctorhub.development_mode": "false", "proctorhub.session_secret": secret})


def test_an_unreachable_database_is_named(base_settings):
    url = "postgresql+psycopg://proctorhub:hunter2@127.0.0.1:9/proctorhub"
    with pytest.raises(StartupError) as caught:
        main({}, **{**base_settings, "sqlalchemy.url": url, "proctorhub.db.connect_timeout_seconds": "2"})
    [problem] = caught.value.problems
    assert "does not answer" in problem and "127.0.0.1:9" in problem and "hunter2" not in problem


def test_pserve_production_ini_without_its_environment_prints_one_message():
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    env["PYTHONWARNINGS"] = "ignore:pkg_resources is deprecated:UserWarning"  # pyramid's own, as `make serve`
    completed = subprocess.run([sys.executable, "-m", "pyramid.scripts.pserve", str(ROOT / "production.ini")],
                               env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("proctorhub cannot start:")
    for variable in ("PROCTORHUB_DATABASE_URL", "PROCTORHUB_ISSUER", "PROCTORHUB_SESSION_SECRET",
                     "PROCTORHUB_ENCRYPTION_KEYS"):
        assert variable in completed.stderr
