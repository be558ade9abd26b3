"""preview_snapshots: saved copies of a preview's data (preview.snapshots)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preview_snapshots",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("preview_id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("contents", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_preview_snapshots_generation_id", "preview_snapshots", ["generation_id"])
    op.create_index("ix_preview_snapshots_preview_id", "preview_snapshots", ["preview_id"])


def downgrade() -> None:
    op.drop_index("ix_preview_snapshots_preview_id", "preview_snapshots")
    op.drop_index("ix_preview_snapshots_generation_id", "preview_snapshots")
    op.drop_table("preview_snapshots")
