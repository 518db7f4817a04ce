"""Issue 13 finding 2: a database dump holds no platform private key in clear."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import select

from proctorhub.cli import main
from proctorhub.crypto import Encryptor
from proctorhub.lti.keys import new_key
from proctorhub.migrations import alembic_config, upgrade_to_head
from proctorhub.models import KeyState, PlatformKey, get_engine

from ...conftest import PG_SERVER_URL, ROOT
from .conftest import snapshot

TESTING_KEY = "7Xv3bS9n1B8eYb0Yk3m0P3gQ0ZyN3qz8l4yQv9m2c1A="  # testing.ini's


def _ini(tmp_path, url, keys=None) -> str:
    text = (ROOT / "testing.ini").read_text().replace("sqlite:///%(here)s/testing.sqlite", url)
    if keys is not None:
        text = text.replace(f"proctorhub.encryption_keys = {TESTING_KEY}", f"proctorhub.encryption_keys = {keys}")
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.ini"
    path.write_text(text)
    return str(path)


def _pem_lines(dbsession, encryptor) -> list[str]:
    """The base64 lines of every stored private key's PEM: what a dump must not contain."""
    lines = []
    for stored in dbsession.execute(select(PlatformKey.private_key_encrypted)).scalars():
        pem = encryptor.decrypt_text(stored)
        lines += [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return lines


def _dump(db_kind, db_url, dbengine) -> str:
    if db_kind == "sqlite":
        path = Path(sa.engine.make_url(db_url).database)
        # Read in another process: closing a descriptor of the database file here would drop every
        # POSIX lock this process's SQLite connections hold on it (a pserve child closing its last
        # connection could then delete the WAL these connections still use).
        reader = "import sys; sys.stdout.buffer.write(b''.join(open(p, 'rb').read() for p in sys.argv[1:]))"
        files = [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]
        return subprocess.run([sys.executable, "-c", reader, *files], capture_output=True, check=True
                              ).stdout.decode("latin-1")
    url = sa.engine.make_url(db_url)
    if shutil.which("pg_dump"):
        return subprocess.run(["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                               "-U", url.username or "postgres", url.database], capture_output=True, text=True,
                              check=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"}).stdout
    texts = []  # no pg_dump here: every text column of every table
    with dbengine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if isinstance(column["type"], sa.String | sa.Text):
                    texts += [str(v) for v in connection.execute(sa.text(f'SELECT "{column["name"]}" FROM "{table}"'))
                              .scalars()]
    return "\n".join(texts)


def test_a_dump_holds_no_private_key_in_clear(tmp_path, capsys, db_kind, db_url, dbengine, dbsession, encryptor,
                                              flow):
    ini = _ini(tmp_path, db_url)
    assert main(["initdb", ini]) == 0  # the run's database: its first keys
    assert main(["keys", "rotate", ini]) == 0  # and their successors, through the command line
    capsys.readouterr()
    # The app signs with the rotated key, read back through the encryption.
    entry = flow.enter(flow.create_launch())
    token, _claims = flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))
    assert token
    lines = _pem_lines(dbsession, encryptor)
    assert len(lines) > 3 * 20
    dump = _dump(db_kind, db_url, dbengine)
    assert "lti_platform_key" in dump or "gAAAAA" in dump  # the dump did read the table
    assert "PRIVATE KEY" not in dump
    assert [line for line in lines if line in dump] == []


def _fresh_engine(db_kind, tmp_path):
    if db_kind == "sqlite":
        return get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'migrate.sqlite'}"}), None
    name = f"proctorhub_mig_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)

    def drop():
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return get_engine({"sqlalchemy.url": url}), drop


@pytest.fixture
def before_0008(db_kind, tmp_path):
    """A database at the revision before 0008, holding one platform key in clear as it used to."""
    engine, drop = _fresh_engine(db_kind, tmp_path)
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    upgrade_to_head(engine, revision=script.get_revision("0008").down_revision)
    clear = Encryptor([TESTING_KEY]).decrypt_text(new_key(KeyState.active, Encryptor([TESTING_KEY]))
                                                  .private_key_encrypted)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO lti_platform_key (kid, state, private_key_pem, public_jwk, created_at) "
            "VALUES ('old-kid', 'active', :pem, '{}', CURRENT_TIMESTAMP)"), {"pem": clear})
    yield engine, clear
    engine.dispose()
    if drop:
        drop()


def test_migration_0008_encrypts_the_keys_already_stored(before_0008):
    engine, clear = before_0008
    encryptor = Encryptor([TESTING_KEY])
    upgrade_to_head(engine, encryptor)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT private_key_encrypted FROM lti_platform_key")).scalar_one()
    assert "PRIVATE KEY" not in stored and encryptor.decrypt_text(stored) == clear


def test_migration_0008_without_keys_refuses_rather_than_leave_keys_in_clear(before_0008):
    engine, clear = before_0008
    with pytest.raises(RuntimeError, match="PROCTORHUB_ENCRYPTION_KEYS"):
        upgrade_to_head(engine)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("lti_platform_key")}
        if "private_key_pem" in columns:  # PostgreSQL rolled the whole migration back
            assert connection.execute(sa.text("SELECT private_key_pem FROM lti_platform_key")).scalar_one() == clear


def test_encryption_keys_rotate_and_reencrypt(tmp_path, capsys, db_url, dbsession, encryptor, make_app, lms, tool,
                                              tool_config):
    from .conftest import Flow

    new = Fernet.generate_key().decode()
    ini = _ini(tmp_path, db_url)
    assert main(["initdb", ini]) == 0
    rotated_ini = _ini(tmp_path, db_url, keys=f"{new},{TESTING_KEY}")
    assert main(["keys", "reencrypt", rotated_ini]) == 0
    assert "lti_platform_key.private_key_encrypted\t2 re-encrypted" in capsys.readouterr().out
    dbsession.expire_all()
    only_new = Encryptor([new])
    for stored in dbsession.execute(select(PlatformKey.private_key_encrypted)).scalars():
        assert "PRIVATE KEY" in only_new.decrypt_text(stored)
    # The old key dropped: the commands and the app still work with the new key alone.
    new_only_ini = _ini(tmp_path, db_url, keys=new)
    assert main(["keys", "rotate", new_only_ini]) == 0 and main(["keys", "list", new_only_ini]) == 0
    capsys.readouterr()
    flow = Flow(make_app(**{"proctorhub.encryption_keys": new}), lms=lms, config=tool_config, tool=tool)
    entry = flow.enter(flow.create_launch())
    assert flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))[0]
    # A key that opens nothing stored: reencrypt refuses, and changes nothing.
    wrong_ini = _ini(tmp_path, db_url, keys=Fernet.generate_key().decode())
    before = sorted(dbsession.execute(select(PlatformKey.private_key_encrypted)).scalars())
    assert main(["keys", "reencrypt", wrong_ini]) == 2
    assert "none of the configured encryption keys" in capsys.readouterr().err
    dbsession.expire_all()
    assert sorted(dbsession.execute(select(PlatformKey.private_key_encrypted)).scalars()) == before


def test_a_key_that_cannot_be_decrypted_is_a_503_not_a_500(make_app, dbsession, lms, tool, tool_config):
    from .conftest import Flow

    dbsession.execute(sa.delete(PlatformKey))
    dbsession.add(new_key(KeyState.active, Encryptor([Fernet.generate_key()])))  # under a key nobody has
    dbsession.commit()
    flow = Flow(make_app(), lms=lms, config=tool_config, tool=tool)
    entry = flow.enter(flow.create_launch())
    before = snapshot(dbsession)
    answer = flow.authorize(flow.tool.authentication_request(entry.location), status=503)
    assert "no_signing_key" in answer.text
    assert snapshot(dbsession) == before
