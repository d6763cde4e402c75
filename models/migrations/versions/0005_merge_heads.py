"""one head again: merge the feature branches

Revision ID: 0005_merge_heads
Revises: 0002_tally, 0003_complaints, 0003_departure, 0003_training, 0004_send_batch
Create Date: 2026-11-28 21:25:00

Features added in parallel each started a branch from the schema of the day; this revision
joins them (no schema change), so that ``alembic heads`` names one revision and the next
migration has one parent.
"""

from collections.abc import Sequence

revision: str = '0005_merge_heads'
down_revision: str | Sequence[str] | None = (
    '0002_tally', '0003_complaints', '0003_departure', '0003_training', '0004_send_batch')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
