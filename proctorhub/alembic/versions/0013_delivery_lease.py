"""a delivery being sent says so until its try is recorded

A replay from the admin set the delivery due at once even while a worker was sending it, so
another worker could send it beside the first. The claim's lease is now kept apart from a retry's
wait (``delivery.leased_until``), and a replay of a delivery under a lease is refused.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import proctorhub.models.meta

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = proctorhub.models.meta.UTCDateTime


def upgrade():
    with op.batch_alter_table("delivery") as batch_op:
        batch_op.add_column(sa.Column("leased_until", UTC(), nullable=True))


def downgrade():
    with op.batch_alter_table("delivery") as batch_op:
        batch_op.drop_column("leased_until")
