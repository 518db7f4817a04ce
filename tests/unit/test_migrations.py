"""The Alembic migrations build exactly the schema the models describe, and re-running them is a no-op."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from proctorhub.migrations import current_revision, head_revision, upgrade_to_head
from proctorhub.models import metadata


def test_migrations_match_the_models(dbengine):
    with dbengine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_is_idempotent(dbengine):
    assert current_revision(dbengine) == head_revision(dbengine)
    upgrade_to_head(dbengine)
    assert current_revision(dbengine) == head_revision(dbengine)
