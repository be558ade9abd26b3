"""posts

Revision ID: 3f1c2a7b9d01
Revises:
Create Date: 2026-11-23 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3f1c2a7b9d01"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    posts = op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(posts, [{"id": 1, "title": "migrated"}])


def downgrade():
    op.drop_table("post")
