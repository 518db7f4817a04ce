"""LTI Dynamic Registration: tool configurations gain a status (pending until an admin approves),
the tool's requested registration, a pending update and a URL of its own for LtiEndAssessment; lti_registration holds registrations an
admin started, behind one-time tokens

Revision ID: 0009
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    with op.batch_alter_table("tool_configuration") as batch_op:
        # Every configuration made before this revision was made by an admin: active.
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("end_assessment_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("registration", JSON, nullable=True))
        batch_op.add_column(sa.Column("pending_update", JSON, nullable=True))
    op.create_table(
        "lti_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("initiation_url", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("configuration_id", sa.Integer(), nullable=True),
        sa.Column("backend", sa.String(length=64), nullable=True),
        sa.Column("started_by", sa.String(length=255), nullable=False),
        sa.Column("started_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["configuration_id"], ["tool_configuration.id"],
                                name=op.f("fk_lti_registration_configuration_id_tool_configuration")),
        sa.ForeignKeyConstraint(["started_by_staff_id"], ["staff_user.id"],
                                name=op.f("fk_lti_registration_started_by_staff_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_registration")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_lti_registration_token_hash")),
    )
    op.create_index(op.f("ix_lti_registration_configuration_id"), "lti_registration", ["configuration_id"])


def downgrade():
    op.drop_index(op.f("ix_lti_registration_configuration_id"), table_name="lti_registration")
    op.drop_table("lti_registration")
    with op.batch_alter_table("tool_configuration") as batch_op:
        batch_op.drop_column("pending_update")
        batch_op.drop_column("registration")
        batch_op.drop_column("end_assessment_url")
        batch_op.drop_column("status")
