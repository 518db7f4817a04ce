"""lti_launch.user_role holds full LIS role URIs (up to 255 characters, as the launch API accepts)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lti_launch") as batch_op:
        batch_op.alter_column("user_role", existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table("lti_launch") as batch_op:
        batch_op.alter_column("user_role", existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=False)
