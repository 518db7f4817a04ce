"""lti: platform keys, launches, browser sessions, session data, replay ledger

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import proctorhub.models.meta

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_browser_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cookie_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('expires_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_browser_session')),
    sa.UniqueConstraint('cookie_hash', name=op.f('uq_lti_browser_session_cookie_hash'))
    )
    op.create_table('lti_platform_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('activated_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.Column('retired_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.Column('retire_after', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platform_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_platform_key_kid'))
    )
    with op.batch_alter_table('lti_platform_key', schema=None) as batch_op:
        batch_op.create_index('ix_lti_platform_key_state', ['state', 'created_at'], unique=False)

    op.create_table('lti_replay_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('expires_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_replay_ledger')),
    sa.UniqueConstraint('issuer', 'kind', 'value', name='uq_lti_replay_ledger_issuer_kind_value')
    )
    with op.batch_alter_table('lti_replay_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_lti_replay_ledger_expires_at', ['expires_at'], unique=False)

    op.create_table('lti_launch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('message_hint_hash', sa.String(length=64), nullable=True),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=False),
    sa.Column('message_type', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('user_role', sa.String(length=64), nullable=False),
    sa.Column('return_url', sa.String(length=2048), nullable=False),
    sa.Column('browser_session_id', sa.Integer(), nullable=True),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('expires_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('entered_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.Column('authorized_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], name=op.f('fk_lti_launch_attempt_id_attempt')),
    sa.ForeignKeyConstraint(['browser_session_id'], ['lti_browser_session.id'], name=op.f('fk_lti_launch_browser_session_id_lti_browser_session')),
    sa.ForeignKeyConstraint(['configuration_id'], ['tool_configuration.id'], name=op.f('fk_lti_launch_configuration_id_tool_configuration')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_launch')),
    sa.UniqueConstraint('message_hint_hash', name=op.f('uq_lti_launch_message_hint_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lti_launch_token_hash'))
    )
    with op.batch_alter_table('lti_launch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launch_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launch_browser_session_id'), ['browser_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launch_configuration_id'), ['configuration_id'], unique=False)

    op.create_table('lti_session_data',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_hash', sa.String(length=64), nullable=False),
    sa.Column('browser_session_id', sa.Integer(), nullable=False),
    sa.Column('launch_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('expires_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('used_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], name=op.f('fk_lti_session_data_attempt_id_attempt')),
    sa.ForeignKeyConstraint(['browser_session_id'], ['lti_browser_session.id'], name=op.f('fk_lti_session_data_browser_session_id_lti_browser_session')),
    sa.ForeignKeyConstraint(['launch_id'], ['lti_launch.id'], name=op.f('fk_lti_session_data_launch_id_lti_launch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_session_data')),
    sa.UniqueConstraint('value_hash', name=op.f('uq_lti_session_data_value_hash'))
    )
    with op.batch_alter_table('lti_session_data', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_session_data_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_session_data_browser_session_id'), ['browser_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_session_data_launch_id'), ['launch_id'], unique=False)


def downgrade():
    with op.batch_alter_table('lti_session_data', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_session_data_launch_id'))
        batch_op.drop_index(batch_op.f('ix_lti_session_data_browser_session_id'))
        batch_op.drop_index(batch_op.f('ix_lti_session_data_attempt_id'))

    op.drop_table('lti_session_data')
    with op.batch_alter_table('lti_launch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launch_configuration_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launch_browser_session_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launch_attempt_id'))

    op.drop_table('lti_launch')
    with op.batch_alter_table('lti_replay_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_replay_ledger_expires_at')

    op.drop_table('lti_replay_ledger')
    with op.batch_alter_table('lti_platform_key', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_platform_key_state')

    op.drop_table('lti_platform_key')
    op.drop_table('lti_browser_session')
