"""Dashboard sessions and one-time login links; the fleet's incidents

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    key = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('sessions',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.Column('used_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_expiry', ['expires_at'], unique=False)
    op.create_table('incidents',
    sa.Column('id', key, autoincrement=True, nullable=False),
    sa.Column('root_model', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_state', ['state', 'opened_at'], unique=False)
    op.create_table('incident_alerts',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', key, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'alert_id')
    )
    with op.batch_alter_table('incident_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_incident_alerts_incident', ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_alerts_incident')
    op.drop_table('incident_alerts')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_state')
    op.drop_table('incidents')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_expiry')
    op.drop_table('sessions')
