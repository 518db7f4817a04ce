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


def _rows(url, query):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(query)).all()
    finally:
        engine.dispose()


def test_lms_create_and_list(ini, capsys, dbengine):
    path, url = ini
    main(["initdb", path])
    capsys.readouterr()
    assert main(["lms", "create", path, "--name", "Moodle (Law School)"]) == 0
    assert capsys.readouterr().out == "moodle-law-school\n"
    assert main(["lms", "create", path, "--name", "Canvas", "--slug", "canvas-1"]) == 0
    assert capsys.readouterr().out == "canvas-1\n"
    # A duplicate or malformed slug: one line on standard error, exit 2, nothing written.
    assert main(["lms", "create", path, "--name", "Again", "--slug", "canvas-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "canvas-1" in err and "exists" in err
    assert main(["lms", "create", path, "--name", "Bad", "--slug", "Bad Slug/.."]) == 2
    assert "slug" in capsys.readouterr().err
    assert main(["lms", "list", path]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "canvas-1\tCanvas" in listed and "moodle-law-school\tMoodle (Law School)" in listed
    assert len(_rows(url, "SELECT slug FROM lms")) == len(listed)


def test_token_create_names_the_lms_when_several_exist(ini, capsys, dbengine):
    path, url = ini
    main(["initdb", path])
    # One lms (`default`, as after the migration): --lms may be left out.
    assert main(["token", "create", path, "--role", "lms", "--name", "first"]) == 0
    main(["lms", "create", path, "--name", "Canvas", "--slug", "canvas"])
    capsys.readouterr()
    assert main(["token", "create", path, "--role", "lms", "--name", "second"]) == 2
    assert "--lms" in capsys.readouterr().err
    assert main(["token", "create", path, "--role", "lms", "--lms", "nobody", "--name", "third"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert main(["token", "create", path, "--role", "admin", "--lms", "canvas", "--name", "ops"]) == 2
    capsys.readouterr()
    assert main(["token", "create", path, "--role", "lms", "--lms", "canvas", "--name", "canvas-prod"]) == 0
    assert main(["token", "create", path, "--role", "admin", "--name", "ops"]) == 0
    rows = _rows(url, "SELECT t.name, l.slug FROM api_token t LEFT JOIN lms l ON l.id = t.lms_id ORDER BY t.id")
    assert rows == [("first", "default"), ("canvas-prod", "canvas"), ("ops", None)]


def test_token_revoke(ini, capsys, dbengine):
    path, url = ini
    main(["initdb", path])
    main(["token", "create", path, "--role", "lms", "--name", "moodle"])
    capsys.readouterr()
    assert main(["token", "revoke", path, "moodle"]) == 0
    assert "1 token revoked" in capsys.readouterr().out
    assert _rows(url, "SELECT count(*) FROM api_token WHERE revoked_at IS NULL") == [(0,)]
    assert main(["token", "revoke", path, "moodle"]) == 2
    assert "no live token" in capsys.readouterr().err


def test_staff_courses_are_lms_and_context_pairs(ini, capsys, dbengine, monkeypatch):
    import io

    path, url = ini
    main(["initdb", path])
    main(["lms", "create", path, "--name", "Canvas", "--slug", "canvas"])
    capsys.readouterr()
    password = "a long enough password 123\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    # Two lmss: the courses' lms must be named.
    assert main(["staff", "create", path, "--email", "r@x.test", "--role", "reviewer", "--course", "c1"]) == 2
    assert "--lms" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    assert main(["staff", "create", path, "--email", "r@x.test", "--role", "reviewer", "--lms", "canvas",
                 "--course", "c1", "--course", "c2"]) == 0
    assert "canvas/c1, canvas/c2" in capsys.readouterr().out
    rows = _rows(url, "SELECT s.email, l.slug, c.context_id FROM staff_course c JOIN staff_user s "
                      "ON s.id = c.staff_user_id JOIN lms l ON l.id = c.lms_id ORDER BY c.context_id")
    assert rows == [("r@x.test", "canvas", "c1"), ("r@x.test", "canvas", "c2")]
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    assert main(["staff", "create", path, "--email", "q@x.test", "--role", "reviewer", "--lms", "nobody",
                 "--course", "c1"]) == 2
    assert _rows(url, "SELECT count(*) FROM staff_user WHERE email = 'q@x.test'") == [(0,)]


def test_a_staff_user_made_with_nothing_on_stdin_has_no_password_until_one_is_set(ini, capsys, monkeypatch):
    import io

    path, url = ini
    main(["initdb", path])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["staff", "create", path, "--email", "nopass@x.test", "--role", "admin"]) == 0
    assert "no password yet" in capsys.readouterr().out
    assert _rows(url, "SELECT password_hash FROM staff_user WHERE email = 'nopass@x.test'") == [(None,)]
    # An empty line is a password, and too short: refused, nothing made.
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["staff", "create", path, "--email", "empty@x.test", "--role", "admin"]) == 2
    assert _rows(url, "SELECT count(*) FROM staff_user WHERE email = 'empty@x.test'") == [(0,)]
    # `staff password` still needs one.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["staff", "password", path, "--email", "nopass@x.test"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password 123\n"))
    assert main(["staff", "password", path, "--email", "nopass@x.test"]) == 0
    [(stored,)] = _rows(url, "SELECT password_hash FROM staff_user WHERE email = 'nopass@x.test'")
    assert stored is not None and stored.startswith("$argon2")


def test_help_names_the_lms_commands(capsys):
    helps = {}
    for argv in (["lms", "create"], ["lms", "list"], ["token", "create"], ["token", "revoke"], ["staff", "create"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--help"])
        assert exit_.value.code == 0
        helps[" ".join(argv)] = capsys.readouterr().out
    assert "--slug SLUG" in helps["lms create"] and "--lms SLUG" in helps["token create"]
    assert "NAME" in helps["token revoke"] and "--lms SLUG" in helps["staff create"]
