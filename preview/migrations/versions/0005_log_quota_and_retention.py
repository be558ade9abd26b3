"""preview_instances: what its log's quota left out, and when retention removed its log

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("log_dropped_lines", sa.BigInteger),
    ("log_dropped_since", sa.BigInteger),
    ("log_dropped_since_at", sa.DateTime),
    ("log_dropped_until", sa.BigInteger),
    ("logs_removed_at", sa.DateTime),
)


def upgrade() -> None:
    with op.batch_alter_table("preview_instances") as batch_op:
        for name, kind in _COLUMNS:
            batch_op.add_column(sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("preview_instances") as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
