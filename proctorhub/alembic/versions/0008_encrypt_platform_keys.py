"""Platform private keys are stored encrypted (lti_platform_key.private_key_encrypted)

Revision ID: 0008
Revises: 0004

Existing keys are encrypted with the newest of the deployment's encryption keys, which
``proctorhub initdb`` passes in (``PROCTORHUB_ENCRYPTION_KEYS``); without one, a database that
holds keys is not migrated.
"""

import sqlalchemy as sa
from alembic import op

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
