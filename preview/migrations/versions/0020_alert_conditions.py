"""alert_rules.field_condition, route, metric, threshold, window_seconds: a rule on a JSON
or logfmt line's field (``status>=500``), or on a route's p95 or error rate over a window
(preview.logs.alerts)

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_rules") as table:
        table.add_column(sa.Column("field_condition", sa.String(300), nullable=True))
        table.add_column(sa.Column("route", sa.String(300), nullable=True))
        table.add_column(sa.Column("metric", sa.String(16), nullable=True))
        table.add_column(sa.Column("threshold", sa.Float(), nullable=True))
        table.add_column(sa.Column("window_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_rules") as table:
        table.drop_column("window_seconds")
        table.drop_column("threshold")
        table.drop_column("metric")
        table.drop_column("route")
        table.drop_column("field_condition")
