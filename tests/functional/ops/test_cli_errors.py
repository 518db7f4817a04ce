"""Command-line failures are one line on stderr and exit status 2; initdb migrates only its own database."""

from __future__ import annotations

import sqlalchemy as sa

from proctorhub.cli import main

from ...conftest import ROOT


def ini_for(tmp_path, url: str) -> str:
    text = (ROOT / "testing.ini").read_text().replace("sqlite:///%(here)s/testing.sqlite", url)
    path = tmp_path / "ops.ini"
    path.write_text(text)
    return str(path)


def test_an_unreachable_database_is_one_line_and_status_2(tmp_path, capsys):
    path = ini_for(tmp_path, "postgresql+psycopg://proctorhub:hunter2@127.0.0.1:9/proctorhub")
    assert main(["lms", "list", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("proctorhub lms: the database refused or did not answer: OperationalError")
    assert err.count("\n") == 1 and "hunter2" not in err and "Traceback" not in err


def test_initdb_leaves_a_database_of_another_application_alone(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    assert main(["initdb", ini_for(tmp_path, url)]) == 2
    err = capsys.readouterr().err
    assert "holds 1 tables (invoices" in err and "right database" in err and err.count("\n") == 1
    assert sa.inspect(engine).get_table_names() == ["invoices"]
    engine.dispose()


def test_initdb_refuses_postgresql_maintenance_databases(tmp_path, capsys):
    path = ini_for(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    assert main(["initdb", path]) == 2
    assert "one of PostgreSQL's own databases" in capsys.readouterr().err


def test_initdb_names_the_database_it_migrated(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert main(["initdb", ini_for(tmp_path, url)]) == 0
    assert f"database {url} migrated from empty to " in capsys.readouterr().out
