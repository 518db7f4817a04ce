"""admin: audit trail of staff actions, sign-in throttling

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import proctorhub.models.meta

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("created_at", proctorhub.models.meta.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"],
                                name=op.f("fk_audit_entry_staff_user_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_object", ["object_type", "object_id", "id"], unique=False)

    op.create_table(
        "signin_throttle",
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", proctorhub.models.meta.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", proctorhub.models.meta.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_signin_throttle")),
    )


def downgrade():
    op.drop_table("signin_throttle")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_object")
    op.drop_table("audit_entry")
