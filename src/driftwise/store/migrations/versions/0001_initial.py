"""The initial store: models, references, batches, records, labels, windows, results, keys

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-01 23:03:03.092754
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.String(length=64), nullable=False),
    sa.Column('models', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('revoked_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('models',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('task', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('reference_version', sa.Integer(), nullable=False),
    sa.Column('next_seq', sa.BigInteger(), nullable=False),
    sa.Column('max_ts', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('seq_start', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('min_ts', sa.Float(), nullable=False),
    sa.Column('max_ts', sa.Float(), nullable=False),
    sa.Column('received_at', sa.Float(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_seq', ['model_id', 'seq_start'], unique=False)
        batch_op.create_index('ix_batches_ts', ['model_id', 'min_ts'], unique=False)

    op.create_table('cursors',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('next_window', sa.Integer(), nullable=False),
    sa.Column('next_seq', sa.BigInteger(), nullable=False),
    sa.Column('next_start', sa.Float(), nullable=True),
    sa.Column('config_version', sa.Integer(), nullable=True),
    sa.Column('reference_version', sa.Integer(), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id')
    )
    op.create_table('fitted_monitors',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('reference_version', sa.Integer(), nullable=False),
    sa.Column('driftwise_version', sa.String(length=32), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'config_version', 'reference_version')
    )
    op.create_table('labels',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'record_id')
    )
    op.create_table('model_configs',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'version')
    )
    op.create_table('records',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=200), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('window', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'record_id')
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_seq', ['model_id', 'seq'], unique=False)
        batch_op.create_index('ix_records_ts', ['model_id', 'ts'], unique=False)

    op.create_table('reference_sets',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('features', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'version')
    )
    op.create_table('results',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=300), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'window', 'revision', 'metric')
    )
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.create_index('ix_results_metric', ['model_id', 'metric', 'window'], unique=False)

    op.create_table('windows',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('seq_lo', sa.BigInteger(), nullable=True),
    sa.Column('seq_hi', sa.BigInteger(), nullable=True),
    sa.Column('start_ts', sa.Float(), nullable=True),
    sa.Column('end_ts', sa.Float(), nullable=True),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('reference_version', sa.Integer(), nullable=False),
    sa.Column('evaluated_at', sa.Float(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('labels_dirty', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'seq')
    )
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.create_index('ix_windows_dirty', ['labels_dirty'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.drop_index('ix_windows_dirty')

    op.drop_table('windows')
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index('ix_results_metric')

    op.drop_table('results')
    op.drop_table('reference_sets')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_ts')
        batch_op.drop_index('ix_records_seq')

    op.drop_table('records')
    op.drop_table('model_configs')
    op.drop_table('labels')
    op.drop_table('fitted_monitors')
    op.drop_table('cursors')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_ts')
        batch_op.drop_index('ix_batches_seq')

    op.drop_table('batches')
    op.drop_table('models')
    op.drop_table('api_keys')
