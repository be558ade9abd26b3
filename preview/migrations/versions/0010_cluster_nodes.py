"""Cluster mode: nodes and their leases, each preview's owner, one live preview per generation

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "status IN ('starting', 'running', 'stopping')"


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("internal_url", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("renewed_at", sa.DateTime(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Plain ADD COLUMNs (nullable, no default): SQLite's too, no copy of the table.
    op.add_column("preview_instances", sa.Column("node_id", sa.String(64), nullable=True))
    op.add_column("preview_instances", sa.Column("owner_epoch", sa.BigInteger(), nullable=True))
    op.create_index("ix_preview_instances_node_id", "preview_instances", ["node_id"])
    # Two services on one database before cluster mode could each run a copy of one
    # generation: all but the newest live row of a generation are closed out, or the
    # unique index below could not be made.
    op.execute(
        f"""
        UPDATE preview_instances SET status = 'failed', health_status = 'unknown',
            stop_reason = 'a newer preview of its generation was live',
            error_message = 'closed out at an upgrade: another preview of its generation was live'
        WHERE {_LIVE} AND EXISTS (
            SELECT 1 FROM preview_instances AS newer
            WHERE newer.generation_id = preview_instances.generation_id
              AND newer.{_LIVE}
              AND (newer.created_at > preview_instances.created_at
                   OR (newer.created_at = preview_instances.created_at
                       AND newer.id > preview_instances.id)))
        """
    )
    op.create_index(
        "uq_preview_instances_live_generation",
        "preview_instances",
        ["generation_id"],
        unique=True,
        postgresql_where=sa.text(_LIVE),
        sqlite_where=sa.text(_LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_preview_instances_live_generation", "preview_instances")
    op.drop_index("ix_preview_instances_node_id", "preview_instances")
    with op.batch_alter_table("preview_instances") as batch:
        batch.drop_column("owner_epoch")
        batch.drop_column("node_id")
    op.drop_table("nodes")
