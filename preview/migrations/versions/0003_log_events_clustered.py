"""log_events: clustered by (preview_id, seq) on SQLite, no level index

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_events") as batch_op:
        batch_op.drop_index("ix_log_events_preview_level")
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilt (rows copied) as a WITHOUT ROWID table.
        with op.batch_alter_table(
            "log_events", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "log_events", recreate="always", table_kwargs={"sqlite_with_rowid": True}
        ):
            pass
    with op.batch_alter_table("log_events") as batch_op:
        batch_op.create_index("ix_log_events_preview_level", ["preview_id", "level", "seq"])
