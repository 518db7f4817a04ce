"""Running the Alembic migrations that ship inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "proctorhub:alembic")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(engine, encryptor=None, revision: str = "head") -> None:
    """Create or migrate the schema to the newest revision; a no-op when already there.
    ``encryptor`` (``proctorhub.crypto``) is for migrations that encrypt stored secrets."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["encryptor"] = encryptor
        command.upgrade(config, revision)


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine) -> str | None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    return ScriptDirectory.from_config(config).get_current_head()
