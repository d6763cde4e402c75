"""outbox priority: replies and alerts before bulk sends

Revision ID: 0003_outbox_priority
Revises: 0002_vacancies
Create Date: 2026-11-28 17:40:00

``outboxmessage.priority``: 0 for a reply to the person who just wrote or an alert, 1 for bulk
sends (check-in prompts, vacancy pushes, broadcasts); the queue sends by (priority, id).  Rows
queued before this revision are 0, i.e. sent in the old order.  ``ix_outbox_claim`` replaces
``ix_outbox_lane`` for the claim query; ``ix_outbox_bulk_chat`` (partial: pending bulk rows only)
finds the bulk rows queued to a chat before a reply to it, which must go first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_outbox_priority'
down_revision: str | None = '0002_vacancies'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_lane')
        batch_op.create_index('ix_outbox_claim', ['status', 'platform', 'priority', 'id'],
                              unique=False)
        batch_op.create_index('ix_outbox_bulk_chat', ['chat', 'id'], unique=False,
                              sqlite_where=sa.text("status = 'pending' AND priority > 0"),
                              postgresql_where=sa.text("status = 'pending' AND priority > 0"))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_bulk_chat')
        batch_op.drop_index('ix_outbox_claim')
        batch_op.create_index('ix_outbox_lane', ['status', 'platform', 'id'], unique=False)
        batch_op.drop_column('priority')
