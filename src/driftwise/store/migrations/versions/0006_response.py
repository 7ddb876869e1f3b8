"""The incident trail, response actions (once per incident) and blocks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    key = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('incident_events',
    sa.Column('id', key, autoincrement=True, nullable=False),
    sa.Column('incident_id', key, nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index('ix_incident_events_incident', ['incident_id', 'id'],
                              unique=False)
    op.create_table('response_actions',
    sa.Column('id', key, autoincrement=True, nullable=False),
    sa.Column('incident_id', key, nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('lease_until', sa.Float(), nullable=False),
    sa.Column('finished_at', sa.Float(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'action', name='uq_response_action')
    )
    with op.batch_alter_table('response_actions', schema=None) as batch_op:
        batch_op.create_index('ix_response_actions_due', ['status', 'lease_until'],
                              unique=False)
    op.create_table('blocks',
    sa.Column('id', key, autoincrement=True, nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('client_key', sa.String(length=200), nullable=True),
    sa.Column('segment', sa.Text(), nullable=True),
    sa.Column('incident_id', key, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('until', sa.Float(), nullable=False),
    sa.Column('lifted_at', sa.Float(), nullable=True),
    sa.Column('lifted_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.create_index('ix_blocks_model', ['model_id', 'until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_blocks_model')
    op.drop_table('blocks')
    with op.batch_alter_table('response_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_response_actions_due')
    op.drop_table('response_actions')
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_events_incident')
    op.drop_table('incident_events')
