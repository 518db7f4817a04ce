"""The Assessment Control Service's ledger, the attempt's time ledger and the learner's given and
family names, and the tool settings for reviewing through ACS and for custom launch parameters

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    with op.batch_alter_table("attempt") as batch_op:
        batch_op.add_column(sa.Column("extra_time_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("user_given_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("user_family_name", sa.String(length=255), nullable=True))
    with op.batch_alter_table("tool_configuration") as batch_op:
        batch_op.add_column(sa.Column("acs_review", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("acs_severity_threshold", sa.Float(), nullable=False, server_default="0.25"))
        batch_op.add_column(sa.Column("acs_submitted_reason_codes", JSONType, nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("custom", JSONType, nullable=False, server_default=sa.text("'{}'")))
    op.create_table(
        "attempt_control",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("incident_time", sa.String(length=64), nullable=True),
        sa.Column("incident_severity", sa.Float(), nullable=True),
        sa.Column("extra_time", sa.Integer(), nullable=True),
        sa.Column("reason_code", sa.String(length=255), nullable=True),
        sa.Column("reason_msg", sa.Text(), nullable=True),
        sa.Column("status_before", sa.String(length=32), nullable=False),
        sa.Column("status_after", sa.String(length=32), nullable=False),
        sa.Column("request", JSONType, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempt.id"], name="fk_attempt_control_attempt_id_attempt"),
        sa.PrimaryKeyConstraint("id", name="pk_attempt_control"),
        sa.UniqueConstraint("attempt_id", "request_key", name="uq_attempt_control_attempt_request_key"),
    )
    op.create_index("ix_attempt_control_attempt", "attempt_control", ["attempt_id", "id"])


def downgrade():
    op.drop_index("ix_attempt_control_attempt", table_name="attempt_control")
    op.drop_table("attempt_control")
    with op.batch_alter_table("tool_configuration") as batch_op:
        for column in ("custom", "acs_submitted_reason_codes", "acs_severity_threshold", "acs_review"):
            batch_op.drop_column(column)
    with op.batch_alter_table("attempt") as batch_op:
        for column in ("user_family_name", "user_given_name", "paused_at", "paused_seconds", "extra_time_seconds"):
            batch_op.drop_column(column)
