"""add year

Revision ID: 1b2c3d4e5f6a
Revises: 0a1b2c3d4e5f
"""

import sqlalchemy as sa
from alembic import op

revision = "1b2c3d4e5f6a"
down_revision = "0a1b2c3d4e5f"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("items", sa.Column("year", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("items", "year")
