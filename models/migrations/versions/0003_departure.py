"""safe departure (安全出行): health declarations before leaving, masks handed out

Revision ID: 0003_departure
Revises: 0002_vacancies
Create Date: 2026-11-28 17:30:00

The tables are declared in ``models/departure.py``.  The handbook sent the day before a departure
is claimed with the existing ``nudge`` table (kind ``departure_handbook``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003_departure'
down_revision: str | None = '0002_vacancies'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('departuredeclaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bus_id', sa.Integer(), nullable=True),
    sa.Column('temperature', sa.Float(), nullable=True),
    sa.Column('symptoms', sa.JSON(), nullable=False),
    sa.Column('contact', sa.Boolean(), nullable=False),
    sa.Column('travel_mode', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('abnormal', sa.Boolean(), nullable=False),
    sa.Column('declared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bus_id'], ['bus.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['worker.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('worker_id', 'day')
    )
    op.create_table('maskhandout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('township', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('village', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('handed_by', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handed_by'], ['cadre.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['worker.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maskhandout', schema=None) as batch_op:
        batch_op.create_index('ix_maskhandout_area', ['township', 'village', 'count'], unique=False)
        batch_op.create_index(batch_op.f('ix_maskhandout_worker_id'), ['worker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maskhandout_handed_by'), ['handed_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('maskhandout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maskhandout_handed_by'))
        batch_op.drop_index(batch_op.f('ix_maskhandout_worker_id'))
        batch_op.drop_index('ix_maskhandout_area')
    op.drop_table('maskhandout')
    op.drop_table('departuredeclaration')
