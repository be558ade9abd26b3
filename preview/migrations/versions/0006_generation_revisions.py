"""generation_revisions and revision_files: a generation's later versions of its files

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generation_revisions",
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("changed", sa.Text(), nullable=False),
        sa.Column("dependencies_changed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("generation_id", "number"),
    )
    op.create_table(
        "revision_files",
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["generation_id", "number"],
            ["generation_revisions.generation_id", "generation_revisions.number"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("generation_id", "number", "path"),
    )


def downgrade() -> None:
    op.drop_table("revision_files")
    op.drop_table("generation_revisions")
