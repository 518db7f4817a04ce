"""core schema: configurations, exams, attempts, reviews, staff, tokens, events

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 09:30:45.604378
"""

from alembic import op
import sqlalchemy as sa
import proctorhub.models.meta
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('courses', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_user_email'))
    )
    op.create_table('tool_configuration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('oidc_login_url', sa.String(length=2048), nullable=True),
    sa.Column('launch_url', sa.String(length=2048), nullable=True),
    sa.Column('redirect_uris', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('jwks_url', sa.String(length=2048), nullable=True),
    sa.Column('public_key_pem', sa.Text(), nullable=True),
    sa.Column('proctoring_enabled', sa.Boolean(), nullable=False),
    sa.Column('acs_actions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('backend', sa.String(length=64), nullable=True),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('modified_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tool_configuration')),
    sa.UniqueConstraint('client_id', name=op.f('uq_tool_configuration_client_id')),
    sa.UniqueConstraint('name', name=op.f('uq_tool_configuration_name'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_api_token_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_table('exam',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('context_title', sa.String(length=255), nullable=True),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('resource_link_title', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('time_limit_mins', sa.Integer(), nullable=True),
    sa.Column('is_proctored', sa.Boolean(), nullable=False),
    sa.Column('is_practice', sa.Boolean(), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=True),
    sa.Column('backend', sa.String(length=64), nullable=True),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('modified_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['configuration_id'], ['tool_configuration.id'], name=op.f('fk_exam_configuration_id_tool_configuration')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam')),
    sa.UniqueConstraint('context_id', 'resource_link_id', name='uq_exam_context_resource_link')
    )
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_configuration_id'), ['configuration_id'], unique=False)

    op.create_table('attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('user_name', sa.String(length=255), nullable=True),
    sa.Column('user_email', sa.String(length=255), nullable=True),
    sa.Column('attempt_number', sa.Integer(), nullable=False),
    sa.Column('attempt_code', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('end_assessment_return', sa.Boolean(), nullable=False),
    sa.Column('verified_user', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('modified_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('started_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.Column('submitted_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.Column('completed_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.Column('archived_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_attempt_exam_id_exam')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt')),
    sa.UniqueConstraint('attempt_code', name=op.f('uq_attempt_attempt_code'))
    )
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_user_resource', ['user_id', 'exam_id', 'created_at'], unique=False)
        batch_op.create_index('uq_attempt_live', ['exam_id', 'user_id', 'attempt_number'], unique=True, sqlite_where=sa.text('archived_at IS NULL'), postgresql_where=sa.text('archived_at IS NULL'))

    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('attempt_code', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', proctorhub.models.meta.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], name=op.f('fk_event_attempt_id_attempt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_attempt', ['attempt_id', 'id'], unique=False)
        batch_op.create_index('ix_event_undelivered', ['delivered_at', 'id'], unique=False)

    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_code', sa.String(length=64), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('backend', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('vendor_status', sa.String(length=255), nullable=False),
    sa.Column('raw_payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('payload_digest', sa.String(length=64), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('queue_priority', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('modified_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], name=op.f('fk_review_attempt_id_attempt')),
    sa.ForeignKeyConstraint(['exam_id'], ['exam.id'], name=op.f('fk_review_exam_id_exam')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_user.id'], name=op.f('fk_review_reviewer_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('attempt_code', name=op.f('uq_review_attempt_code'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index('ix_review_context_queue', ['context_id', 'queue_priority', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index('ix_review_queue', ['queue_priority', 'id'], unique=False)
        batch_op.create_index('ix_review_status', ['status', 'id'], unique=False)

    op.create_table('review_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('stop', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_comment_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comment'))
    )
    with op.batch_alter_table('review_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_comment_review_id'), ['review_id'], unique=False)

    op.create_table('review_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('vendor_status', sa.String(length=255), nullable=False),
    sa.Column('raw_payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('comments', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('replaced_by', sa.String(length=255), nullable=False),
    sa.Column('valid_from', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.Column('replaced_at', proctorhub.models.meta.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_history_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_user.id'], name=op.f('fk_review_history_reviewer_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_history'))
    )
    with op.batch_alter_table('review_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_history_review_id'), ['review_id'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('review_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_history_review_id'))

    op.drop_table('review_history')
    with op.batch_alter_table('review_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_comment_review_id'))

    op.drop_table('review_comment')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_status')
        batch_op.drop_index('ix_review_queue')
        batch_op.drop_index(batch_op.f('ix_review_exam_id'))
        batch_op.drop_index('ix_review_context_queue')
        batch_op.drop_index(batch_op.f('ix_review_attempt_id'))

    op.drop_table('review')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_undelivered')
        batch_op.drop_index('ix_event_attempt')

    op.drop_table('event')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('uq_attempt_live', sqlite_where=sa.text('archived_at IS NULL'), postgresql_where=sa.text('archived_at IS NULL'))
        batch_op.drop_index('ix_attempt_user_resource')

    op.drop_table('attempt')
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_configuration_id'))

    op.drop_table('exam')
    op.drop_table('api_token')
    op.drop_table('tool_configuration')
    op.drop_table('staff_user')
    
