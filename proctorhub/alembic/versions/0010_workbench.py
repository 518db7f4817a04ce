"""reviewer's workbench: claims, decision time, the encrypted video link, and the queue's indexes

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import proctorhub.models.meta

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("review") as batch_op:
        batch_op.add_column(sa.Column("decided_at", proctorhub.models.meta.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", proctorhub.models.meta.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("video_link_encrypted", sa.Text(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_review_claimed_by_id_staff_user"), "staff_user",
                                    ["claimed_by_id"], ["id"])
        batch_op.create_index("ix_review_context_id", ["context_id", "id"], unique=False)
        batch_op.create_index("ix_review_decided", ["decided_at"], unique=False)
    # The search's expression indexes; PostgreSQL's pattern operator class serves prefix LIKEs too.
    pattern = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_attempt_email_lower ON attempt (lower(user_email){pattern})")
    op.execute(f"CREATE INDEX ix_attempt_name_lower ON attempt (lower(user_name){pattern})")


def downgrade():
    op.execute("DROP INDEX ix_attempt_name_lower")
    op.execute("DROP INDEX ix_attempt_email_lower")
    with op.batch_alter_table("review") as batch_op:
        batch_op.drop_index("ix_review_decided")
        batch_op.drop_index("ix_review_context_id")
        batch_op.drop_constraint(op.f("fk_review_claimed_by_id_staff_user"), type_="foreignkey")
        batch_op.drop_column("video_link_encrypted")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by_id")
        batch_op.drop_column("decided_at")
