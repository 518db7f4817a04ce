"""the email digest finds the events that need attention through a partial index

The digest asks, every worker round, for the review.needs_attention events after its cursor; with
no index on the event's kind that walked every newer event each time. The index holds only those
events, so every other event (most of them) is written without it.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None

NEEDS_ATTENTION = sa.text("kind = 'review.needs_attention'")


def upgrade():
    op.create_index("ix_event_needs_attention", "event", ["id"], unique=False,
                    sqlite_where=NEEDS_ATTENTION, postgresql_where=NEEDS_ATTENTION)


def downgrade():
    op.drop_index("ix_event_needs_attention", table_name="event", sqlite_where=NEEDS_ATTENTION,
                  postgresql_where=NEEDS_ATTENTION)
