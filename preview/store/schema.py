"""The store's schema brought to the newest migration, Alembic imported only to change it.

Alembic (with Mako) costs an idle service 12 MiB of memory, for a schema that is current
on every start but the first after an upgrade. So the newest revision is read from the
version files' ``revision = "…"`` lines and compared with the database's
``alembic_version`` first; Alembic runs only when they differ (tests/test_store.py checks
:func:`head_revision` against Alembic's own answer).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

__all__ = ["MIGRATIONS", "head_revision", "upgrade_schema"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*[\"']([^\"']+)[\"']", re.M)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str:
    """The newest migration's id: the revision no other migration revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else revised).add(value)
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _current_revision(connection: Any) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_schema(engine: Engine, *, lock_wait: float, busy_timeout: float) -> None:
    """Upgrade to the newest revision (blocking: run it in a worker thread). On SQLite the
    upgrade waits up to ``lock_wait`` s for another process's write lock (another node
    may be migrating too), then the connection gets ``busy_timeout`` back for the pool."""
    with engine.connect() as connection:
        if _current_revision(connection) == head_revision():
            return
    from alembic import command
    from alembic.config import Config

    sqlite = engine.dialect.name == "sqlite"

    def set_busy_timeout(connection: Any, seconds: float) -> None:
        if sqlite:  # the driver's connection: a statement here would begin a transaction
            raw = connection.connection.dbapi_connection
            raw.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        set_busy_timeout(connection, lock_wait)
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        finally:  # the connection goes back to the pool, for short calls
            set_busy_timeout(connection, busy_timeout)
