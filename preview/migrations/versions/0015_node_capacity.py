"""nodes.capacity: the previews a cluster node runs at most, for placement (preview.cluster.placement)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a plain ADD COLUMN; a node registered before it has none
    # until its next start (placement then counts it as having room).
    op.add_column("nodes", sa.Column("capacity", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("capacity")
