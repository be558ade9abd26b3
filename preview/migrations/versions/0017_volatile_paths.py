"""volatile_paths: JSON paths a generation's owner marked volatile for replays (preview.history.compare)

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "volatile_paths",
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("generation_id", "path"),
    )


def downgrade() -> None:
    op.drop_table("volatile_paths")
