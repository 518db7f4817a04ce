"""``proctorhub initdb INI``: create or migrate the database to the newest schema."""

from __future__ import annotations

import sqlalchemy as sa

from ..crypto import build_encryptor
from ..lti.keys import ensure_platform_keys
from ..migrations import current_revision, upgrade_to_head
from ..models import get_engine
from ..settings import parse_settings
from .common import CommandError, add_ini_argument, load_settings

# A migration may rewrite a large table: the request-sized statement and lock timeouts do not apply.
MIGRATION_TIMEOUTS = {"proctorhub.db.statement_timeout_seconds": "3600", "proctorhub.db.lock_timeout_seconds": "600"}

# PostgreSQL's own databases: a URL that names one is a mistake, never proctorhub's database.
SYSTEM_DATABASES = frozenset({"postgres", "template0", "template1"})

# Steps run after the schema is at head (e.g. making the first platform key); each takes
# the engine and the typed settings, and is idempotent.
AFTER_MIGRATE = [ensure_platform_keys]


def register(commands) -> None:
    parser = commands.add_parser(
        "initdb",
        help="create or migrate the database to the newest schema (safe to run again)",
        description="Create the database schema, or migrate it to the newest revision. "
        "Running it again on an up-to-date database changes nothing.",
    )
    add_ini_argument(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    settings = load_settings(args.ini)
    app_settings = parse_settings(settings)
    encryptor = build_encryptor(app_settings)  # refuses missing or malformed keys before any change
    engine = get_engine({**settings, **MIGRATION_TIMEOUTS})
    where = engine.url.render_as_string(hide_password=True)
    try:
        before = current_revision(engine)
        refuse_foreign_database(engine, before)
        upgrade_to_head(engine, encryptor)
        after = current_revision(engine)
        for step in AFTER_MIGRATE:
            step(engine, app_settings)
    finally:
        engine.dispose()
    if before == after:
        print(f"database {where} already at revision {after}")
    else:
        print(f"database {where} migrated from {before or 'empty'} to {after}")
    return 0


def refuse_foreign_database(engine, revision: str | None) -> None:
    """Migrate only an empty database or one proctorhub already migrated: a wrong URL must not
    fill PostgreSQL's maintenance database or another application's with our tables."""
    if engine.dialect.name == "postgresql" and engine.url.database in SYSTEM_DATABASES:
        raise CommandError(f"{engine.url.database!r} is one of PostgreSQL's own databases; create one for "
                           "proctorhub (createdb proctorhub) and name it in PROCTORHUB_DATABASE_URL")
    if revision is None:
        tables = sa.inspect(engine).get_table_names()
        if tables:
            raise CommandError(f"the database holds {len(tables)} tables ({', '.join(sorted(tables)[:3])}, ...) "
                               "but no proctorhub schema: is PROCTORHUB_DATABASE_URL (or sqlalchemy.url) the "
                               "right database?")
