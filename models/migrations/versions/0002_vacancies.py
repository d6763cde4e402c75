"""matching terms of workers and vacancies (对接岗位)

Revision ID: 0002_vacancies
Revises: 0001
Create Date: 2026-12-01 10:00:00

Workers registered before this revision get their terms the first time a vacancy is matched
(``models.vacancies.refresh_worker_terms`` finds workers without an up-to-date stamp).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002_vacancies'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workerterm',
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['worker_id'], ['worker.id'], ),
    sa.PrimaryKeyConstraint('worker_id', 'term')
    )
    with op.batch_alter_table('workerterm', schema=None) as batch_op:
        batch_op.create_index('ix_workerterm_term', ['term', 'worker_id', 'weight'], unique=False)

    op.create_table('workertermstamp',
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['worker_id'], ['worker.id'], ),
    sa.PrimaryKeyConstraint('worker_id')
    )
    op.create_table('vacancyterm',
    sa.Column('vacancy_id', sa.Integer(), nullable=False),
    sa.Column('term', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancy.id'], ),
    sa.PrimaryKeyConstraint('vacancy_id', 'term')
    )
    with op.batch_alter_table('vacancyterm', schema=None) as batch_op:
        batch_op.create_index('ix_vacancyterm_term', ['term', 'vacancy_id', 'weight'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vacancyterm', schema=None) as batch_op:
        batch_op.drop_index('ix_vacancyterm_term')
    op.drop_table('vacancyterm')
    op.drop_table('workertermstamp')
    with op.batch_alter_table('workerterm', schema=None) as batch_op:
        batch_op.drop_index('ix_workerterm_term')
    op.drop_table('workerterm')
