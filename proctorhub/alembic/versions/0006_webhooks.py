"""webhooks: receivers per lms, deliveries and their tries, the workers' schedule, the staff digest flag

Events already in the outbox stay undelivered (``event.delivered_at`` NULL): the first worker hands
them out, to the receivers created after them only, so none of the old ones is sent.

Revision ID: 0006
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import proctorhub.models.meta

revision = "0006"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = proctorhub.models.meta.UTCDateTime
PENDING = sa.text("status = 'pending'")


def upgrade():
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lms_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=512), nullable=False),
        sa.Column("previous_secret", sa.String(length=512), nullable=True),
        sa.Column("previous_secret_expires_at", UTC(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("failing_since", UTC(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("modified_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["lms_id"], ["lms.id"], name=op.f("fk_webhook_endpoint_lms_id_lms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(op.f("ix_webhook_endpoint_lms_id"), "webhook_endpoint", ["lms_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tries", sa.SmallInteger(), nullable=False),
        sa.Column("next_try_at", UTC(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("delivered_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoint.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_endpoint_id_webhook_endpoint")),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE", name=op.f("fk_delivery_event_id_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("event_id", "endpoint_id", name="uq_delivery_event_endpoint"),
    )
    op.create_index("ix_delivery_due", "delivery", ["next_try_at", "id"], unique=False,
                    sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_index("ix_delivery_queue", "delivery", ["endpoint_id", "attempt_id", "event_id"], unique=False,
                    sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_index("ix_delivery_endpoint", "delivery", ["endpoint_id", "id"], unique=False)
    op.create_table(
        "delivery_try",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_try_delivery_id_delivery")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_try")),
    )
    op.create_index("ix_delivery_try_delivery", "delivery_try", ["delivery_id", "id"], unique=False)
    op.create_table(
        "worker_schedule",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", UTC(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_schedule")),
    )
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.add_column(sa.Column("email_digest", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.drop_column("email_digest")
    op.drop_table("worker_schedule")
    op.drop_index("ix_delivery_try_delivery", table_name="delivery_try")
    op.drop_table("delivery_try")
    op.drop_index("ix_delivery_endpoint", table_name="delivery")
    op.drop_index("ix_delivery_queue", table_name="delivery", sqlite_where=PENDING, postgresql_where=PENDING)
    op.drop_index("ix_delivery_due", table_name="delivery", sqlite_where=PENDING, postgresql_where=PENDING)
    op.drop_table("delivery")
    op.drop_index(op.f("ix_webhook_endpoint_lms_id"), table_name="webhook_endpoint")
    op.drop_table("webhook_endpoint")
