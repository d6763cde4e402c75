"""send batches: tell the sender of a broadcast how it went

Revision ID: 0004_send_batch
Revises: 0003_outbox_priority
Create Date: 2026-11-28 18:40:00

``outboxmessage.batch`` names the ``sendbatch`` a message belongs to; ``ix_outbox_batch``
(partial: only rows with a batch) counts a batch's rows by status.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004_send_batch'
down_revision: str | None = '0003_outbox_priority'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sendbatch',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('reported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_batch', ['batch', 'status'], unique=False,
                              sqlite_where=sa.text('batch IS NOT NULL'),
                              postgresql_where=sa.text('batch IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_batch')
        batch_op.drop_column('batch')
    op.drop_table('sendbatch')
