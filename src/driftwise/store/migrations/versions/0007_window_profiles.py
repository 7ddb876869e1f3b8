"""Per-window profiles on the reference's grids (merged to compare weeks and months)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('window_profiles',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('reference_version', sa.Integer(), nullable=False),
    sa.Column('profile', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'window')
    )


def downgrade() -> None:
    op.drop_table('window_profiles')
