"""a review's history row keeps every field an overwrite replaces

An ACS terminate that replaces a vendor's review clears its backend, signature time, named
reviewer, encrypted video link and decision time; the history row had no place for them, so
they were lost. It now keeps them.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import proctorhub.models.meta

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC = proctorhub.models.meta.UTCDateTime
COLUMNS = (
    ("backend", sa.String(length=64)),
    ("signed_at", UTC()),
    ("vendor_reviewed_by", sa.String(length=255)),
    ("video_link_encrypted", sa.Text()),
    ("decided_at", UTC()),
)


def upgrade():
    with op.batch_alter_table("review_history") as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    with op.batch_alter_table("review_history") as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
