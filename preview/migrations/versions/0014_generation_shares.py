"""generation_shares: a generation shared with other users, or by a link (preview.api.shares)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generation_shares",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=True),
        sa.Column("link_hash", sa.String(64), nullable=True),
        sa.Column("link_id", sa.String(40), nullable=True),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_generation_shares_generation", "generation_shares", ["generation_id", "user_id"]
    )
    op.create_index("ix_generation_shares_user", "generation_shares", ["user_id"])
    op.create_index("ix_generation_shares_link", "generation_shares", ["link_id"])
    op.create_index(
        "ix_generation_shares_link_hash", "generation_shares", ["link_hash"], unique=True
    )


def downgrade() -> None:
    for name in ("link_hash", "link", "user", "generation"):
        op.drop_index(f"ix_generation_shares_{name}", "generation_shares")
    op.drop_table("generation_shares")
