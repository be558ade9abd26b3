"""proxied_requests: the requests that crossed the proxy, with their answers

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proxied_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("preview_id", sa.String(40), nullable=False),
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("way", sa.String(16), nullable=False),
        sa.Column("replay_of", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("request_headers", sa.Text(), nullable=False),
        sa.Column("request_body", sa.LargeBinary(), nullable=True),
        sa.Column("request_size", sa.BigInteger(), nullable=False),
        sa.Column("response_headers", sa.Text(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_size", sa.BigInteger(), nullable=False),
        sa.Column("stored_bytes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["preview_id"], ["preview_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_proxied_requests_generation", "proxied_requests", ["generation_id", "id"])
    op.create_index(
        "ix_proxied_requests_preview", "proxied_requests", ["preview_id", "id", "stored_bytes"]
    )


def downgrade() -> None:
    op.drop_table("proxied_requests")
