"""init, again

Revision ID: 9f8e7d6c5b4a
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "9f8e7d6c5b4a"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )


def downgrade():
    op.drop_table("items")
