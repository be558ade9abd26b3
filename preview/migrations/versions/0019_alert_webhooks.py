"""alert_rules.webhook_url, webhook_secret: where a rule's alerts are also POSTed, signed
(preview.services.webhooks)

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_rules") as table:
        table.add_column(sa.Column("webhook_url", sa.Text(), nullable=True))
        table.add_column(sa.Column("webhook_secret", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_rules") as table:
        table.drop_column("webhook_secret")
        table.drop_column("webhook_url")
