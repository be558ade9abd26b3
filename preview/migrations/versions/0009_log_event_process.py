"""log_events.process: the worker a line was printed by (preview.runtime.processes)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable, no default): SQLite's too, no copy of the table.
    op.add_column("log_events", sa.Column("process", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_events") as batch:
        batch.drop_column("process")
