"""The store's schema brought to the newest migration, Alembic imported only to change it.

Alembic (with Mako) costs an idle service 12 MiB of memory, for a schema that is current
on every start but the first after an upgrade. So the newest revision is read from the
version files' ``revision = "…"`` lines and compared with the database's
``alembic_version`` first; Alembic runs only when they differ (tests/store/test_store.py checks
:func:`head_revision` against Alembic's own answer). ``preview serve`` runs it then in a
child process (``apart``, ``python -m preview.store.migrate``): imported once, a module's
memory stays with the process, and the service's first start on a new data dir would
carry it for good.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

__all__ = ["MIGRATIONS", "SchemaNotUpgraded", "head_revision", "upgrade_schema"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The advisory lock every upgrade on PostgreSQL holds ("prev" in ASCII).
_UPGRADE_LOCK = 0x70726576
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


class SchemaNotUpgraded(Exception):
    """The child process that upgrades the schema (``apart``) failed; the message is its
    reason, in one line."""


def upgrade_schema(
    engine: Engine, *, lock_wait: float, busy_timeout: float, apart: bool = False
) -> None:
    """Upgrade to the newest revision (blocking: run it in a worker thread). On SQLite the
    upgrade waits up to ``lock_wait`` s for another process's write lock (another node
    may be migrating too), then the connection gets ``busy_timeout`` back for the pool.
    ``apart``: Alembic runs in a child process (the module doc), on the same URL."""
    with engine.connect() as connection:
        if _current_revision(connection) == head_revision():
            return
    if apart:
        _upgrade_apart(engine, lock_wait)
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
        if engine.dialect.name == "postgresql":
            # Nodes of a cluster started at once on a new database: one upgrades, the
            # others wait here and then find the schema current (their transaction's
            # next statements see its commit). Without it two ran the first migration
            # side by side: "duplicate key … pg_type_typname_nsp_index".
            connection.execute(text(f"SET LOCAL lock_timeout = '{int(lock_wait * 1000)}ms'"))
            # Alembic imports its scripts between statements, seconds on a loaded machine:
            # the store's short-transaction limit (database._IDLE_IN_TRANSACTION_TIMEOUT)
            # ended this one ("idle-in-transaction timeout") and the service never opened.
            # This transaction alone waits as long as the upgrade takes.
            connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        finally:  # the connection goes back to the pool, for short calls
            set_busy_timeout(connection, busy_timeout)


def _upgrade_apart(engine: Engine, lock_wait: float) -> None:
    """:func:`upgrade_schema` in ``python -m preview.store.migrate``: the URL (with its
    password) on its stdin, never on its command line; :class:`SchemaNotUpgraded` with
    its reason if it fails."""
    request = json.dumps(
        {"url": engine.url.render_as_string(hide_password=False), "lock_wait": lock_wait}
    )
    done = subprocess.run(
        [sys.executable, "-m", "preview.store.migrate"],
        input=request,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise SchemaNotUpgraded(said[-1] if said else f"exit status {done.returncode}")
