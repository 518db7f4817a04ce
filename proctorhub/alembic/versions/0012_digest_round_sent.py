"""the email digest remembers whom a round cut short has mailed

An SMTP connection that dropped partway through a digest rolled the whole round back, and its
retry mailed everyone again: those mailed before the drop got the digest twice. Now the round's
retry reads the same events (``worker_schedule.round_until``) and skips those already mailed
(``worker_schedule_sent``).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("worker_schedule") as batch_op:
        batch_op.add_column(sa.Column("round_until", sa.Integer(), nullable=True))
    op.create_table(
        "worker_schedule_sent",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["name"], ["worker_schedule.name"], ondelete="CASCADE",
                                name=op.f("fk_worker_schedule_sent_name_worker_schedule")),
        sa.PrimaryKeyConstraint("name", "recipient", name=op.f("pk_worker_schedule_sent")),
    )


def downgrade():
    op.drop_table("worker_schedule_sent")
    with op.batch_alter_table("worker_schedule") as batch_op:
        batch_op.drop_column("round_until")
