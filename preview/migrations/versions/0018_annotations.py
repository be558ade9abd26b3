"""annotations: notes pinned to a preview's log lines and kept requests (preview.api.annotations)

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("preview_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(40), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_annotations_generation_id", "annotations", ["generation_id"])
    op.create_index("ix_annotations_preview_id", "annotations", ["preview_id"])


def downgrade() -> None:
    op.drop_index("ix_annotations_preview_id", "annotations")
    op.drop_index("ix_annotations_generation_id", "annotations")
    op.drop_table("annotations")
