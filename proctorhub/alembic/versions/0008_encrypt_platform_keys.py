"""Issue 13: platform keys encrypted, review.signed_at, staff session generations, sign-in throttle keys

- lti_platform_key.private_key_encrypted (was private_key_pem, in clear);
- review.signed_at: the vendor signature's time of the stored review; review.vendor_reviewed_by;
- staff_user.session_generation and disabled_at: sign-out, password changes and disabling end sessions;
- signin_throttle is keyed by (email, client address) and by client address (its rows are only
  recent failures: the old ones, per email alone, are dropped).

Revision ID: 0008
Revises: 0004

Existing keys are encrypted with the newest of the deployment's encryption keys, which
``proctorhub initdb`` passes in (``PROCTORHUB_ENCRYPTION_KEYS``); without one, a database that
holds keys is not migrated.
"""

import sqlalchemy as sa
from alembic import op

from proctorhub.models.meta import UTCDateTime

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

keys_t = sa.table("lti_platform_key", sa.column("id", sa.Integer), sa.column("private_key_encrypted", sa.Text))


def _encryptor():
    encryptor = op.get_context().config.attributes.get("encryptor")
    if encryptor is None:
        raise RuntimeError("encrypting the platform keys needs the encryption keys: run `proctorhub initdb INI` "
                           "with PROCTORHUB_ENCRYPTION_KEYS set")
    return encryptor


def upgrade():
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
    op.drop_table("signin_throttle")
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttle")),
    )
    op.create_index("ix_signin_throttle_last_failure_at", "signin_throttle", ["last_failure_at"])
    # The vendor signature's time of the stored review: older updates are refused (replays).
    with op.batch_alter_table("review") as batch_op:
        batch_op.add_column(sa.Column("signed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("vendor_reviewed_by", sa.String(length=255), nullable=True))
    with op.batch_alter_table("lti_platform_key") as batch_op:
        batch_op.alter_column("private_key_pem", new_column_name="private_key_encrypted",
                              existing_type=sa.Text(), existing_nullable=False)
    connection = op.get_bind()
    rows = connection.execute(sa.select(keys_t.c.id, keys_t.c.private_key_encrypted)).all()
    if rows:
        encryptor = _encryptor()
        for row in rows:
            if not encryptor.is_encrypted(row.private_key_encrypted):
                connection.execute(keys_t.update().where(keys_t.c.id == row.id).values(
                    private_key_encrypted=encryptor.encrypt(row.private_key_encrypted)))


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(keys_t.c.id, keys_t.c.private_key_encrypted)).all()
    if rows:
        encryptor = _encryptor()
        for row in rows:
            connection.execute(keys_t.update().where(keys_t.c.id == row.id).values(
                private_key_encrypted=encryptor.decrypt_text(row.private_key_encrypted)))
    with op.batch_alter_table("lti_platform_key") as batch_op:
        batch_op.alter_column("private_key_encrypted", new_column_name="private_key_pem",
                              existing_type=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("review") as batch_op:
        batch_op.drop_column("vendor_reviewed_by")
        batch_op.drop_column("signed_at")
    op.drop_index("ix_signin_throttle_last_failure_at", table_name="signin_throttle")
    op.drop_table("signin_throttle")
    op.create_table(
        "signin_throttle",
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_signin_throttle")),
    )
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("session_generation")
