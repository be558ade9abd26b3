"""snapshot_chunks: snapshots' files for every node of a cluster (preview.snapshots.shared)

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshot_chunks",
        sa.Column("snapshot_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("snapshot_id", "seq"),
    )
    op.create_index("ix_snapshot_chunks_generation_id", "snapshot_chunks", ["generation_id"])


def downgrade() -> None:
    op.drop_index("ix_snapshot_chunks_generation_id", "snapshot_chunks")
    op.drop_table("snapshot_chunks")
