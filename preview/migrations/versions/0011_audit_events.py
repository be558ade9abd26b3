"""audit_events: who did what to a generation or its preview (preview.store.audit)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("owner_id", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("generation_id", sa.String(40), nullable=True),
        sa.Column("preview_id", sa.String(40), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("source", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_owner", "audit_events", ["owner_id", "id"])
    op.create_index(
        "ix_audit_events_owner_generation", "audit_events", ["owner_id", "generation_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_owner_generation", "audit_events")
    op.drop_index("ix_audit_events_owner", "audit_events")
    op.drop_table("audit_events")
