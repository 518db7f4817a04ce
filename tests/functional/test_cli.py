"""The proctorhub command line, run against a fresh database of its own."""

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from proctorhub.cli import main
from proctorhub.models import ApiToken, digest

ROOT = Path(__file__).parents[2]


@pytest.fixture
def ini(tmp_path, db_kind, db_url):
    if db_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    else:
        url = db_url  # the run's own PostgreSQL database, already migrated: initdb must leave it alone
    text = (ROOT / "testing.ini").read_text().replace("sqlite:///%(here)s/testing.sqlite", url)
    path = tmp_path / "cli.ini"
    path.write_text(text)
    return str(path), url


def test_initdb_creates_the_schema_and_is_idempotent(ini, capsys, dbengine):
    path, url = ini
    assert main(["initdb", path]) == 0
    first = capsys.readouterr().out
    assert main(["initdb", path]) == 0
    second = capsys.readouterr().out
    assert "already at revision" in second
    engine = sa.create_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"attempt", "review", "review_comment", "review_history", "api_token", "event"} <= tables
    assert first  # says what it did


def test_token_create_prints_the_token_alone_and_stores_only_its_hash(ini, capsys, dbengine):
    path, url = ini
    main(["initdb", path])
    capsys.readouterr()
    assert main(["token", "create", path, "--role", "lms", "--name", "Moodle"]) == 0
    out = capsys.readouterr().out
    token = out.strip()
    assert out == token + "\n" and len(token) > 32
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(sa.select(ApiToken.token_hash, ApiToken.role, ApiToken.name)
                                        .where(ApiToken.name == "Moodle")).one()
    finally:
        engine.dispose()
    assert stored == (digest(token), "lms", "Moodle")
    assert token not in stored


def test_bad_arguments_are_refused(ini, capsys):
    path, _ = ini
    with pytest.raises(SystemExit) as exit_:
        main(["token", "create", path, "--role", "superuser"])
    assert exit_.value.code == 2
    assert main(["initdb", "/no/such.ini"]) == 2
    assert "no such ini file" in capsys.readouterr().err


def test_the_console_script_is_installed_with_help():
    script = Path(sys.executable).parent / "proctorhub"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "initdb" in result.stdout and "token" in result.stdout


@pytest.mark.parametrize(("key", "value"), [("proctorhub.issuer", "platform.test"),
                                            ("proctorhub.lti.jwks_timeout_seconds", "soon"),
                                            ("proctorhub.lti.jwks_timeout_seconds", "0")])
def test_a_bad_setting_is_refused_with_its_name_not_a_traceback(ini, capsys, dbengine, tmp_path, key, value):
    path, _ = ini
    bad = tmp_path / "bad.ini"
    lines = [line for line in Path(path).read_text().splitlines() if not line.startswith(f"{key} =")]
    bad.write_text("\n".join(lines).replace("[app:main]", f"[app:main]\n{key} = {value}"))
    assert main(["keys", "list", str(bad)]) == 2
    assert key in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["token", "create", "INI", "--role", "lms", "--name", "n" * 256],
                                  ["staff", "create", "INI", "--role", "admin", "--email", "a@" + "b" * 254],
                                  ["staff", "create", "INI", "--role", "admin", "--email", "a@b.test",
                                   "--name", "n" * 256],
                                  ["seed", "INI", "--reviews", "1", "--backend", "b" * 65]])
def test_text_longer_than_its_column_is_refused_before_the_database(ini, capsys, dbengine, argv):
    path, url = ini
    main(["initdb", path])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([path if arg == "INI" else arg for arg in argv])
    assert exit_.value.code == 2 and "at most" in capsys.readouterr().err
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            for table in ("api_token", "staff_user", "exam"):
                assert connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    finally:
        engine.dispose()
