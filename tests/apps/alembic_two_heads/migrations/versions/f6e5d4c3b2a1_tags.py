"""tags

Revision ID: f6e5d4c3b2a1
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "f6e5d4c3b2a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    tags = op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
    )
    op.bulk_insert(tags, [{"id": 1, "label": "from the second head"}])


def downgrade():
    op.drop_table("tags")
