"""lti: platform keys, launches, replay ledger

Revision ID: 0002
Revises: 0001
"""

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the LTI work (issue 3)


def downgrade():
    pass
