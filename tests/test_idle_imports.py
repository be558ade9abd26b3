"""An idle ``preview serve`` imports only what serving needs (issue 25: its idle RSS was
96 MiB against its peer's 50). The modules below load when a preview first uses them;
imported at start they cost ~11 MiB of RSS (benchmarks/HISTORY.md, "Idle memory")."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import trio

from .conftest import SECRET

# Lazy in the service: PostgreSQL's client (a preview's database) and SCRAM (scramp, with
# asn1crypto: a preview's database login), YAML (an upload's compose file), the
# client's `preview watch` (watchfiles, pathspec), RE2 (the request history's scans of
# the previews' answers: imported with the first launch); Alembic too (store/schema.py: in a
# child process when the schema is not current). SQLAlchemy's ORM is not used at all
# (store/models.py: Core tables and plain records). What only a launch uses (how an
# upload starts, its build, its services, its runtime, its discovery) is imported at the
# first launch (runtime/supervisor.py: Supervisor.env_builder).
_NOT_AT_IDLE = (
    "psycopg",
    "psycopg_binary",
    "scramp",
    "asn1crypto",
    "yaml",
    "watchfiles",
    "pathspec",
    "sqlalchemy.orm",
    "preview.apps",
    "preview.builds",
    "preview.backing",
    "preview.discovery",
    "preview.runtime.lifecycle",
    "preview.runtime.swaps",
    "preview.cluster",  # cluster mode's alone (PREVIEW_REDIS_URL): a single node never loads it
    "packaging",
    "re2",
    # What httpx's command line (httpx._main, marked absent by preview/__init__.py) brings.
    "pygments",
    "rich",
    # SQLAlchemy's PostgreSQL dialect on SQLite (store.models.name_postgresql_predicates).
    "sqlalchemy.dialects.postgresql",
    # Issue 70: psutil (a preview's processes: sandbox.process, imported where they are
    # first used and with the first launch), the client commands and the whole command
    # line (cli.py reads `serve` alone), the API's OpenAPI table (api/ui.py imports it at
    # the document's first request), trio-websocket (a preview's WebSockets) and tarfile
    # (an upload's, a shared snapshot's).
    "psutil",
    "trio_websocket",
    "tarfile",
    "preview.client.commandline",
    "preview.client.commands",
    "preview.client.http",
    "preview.client.launching",
    "preview.client.watch",
    "preview.api.openapi",
)


async def _imported_by_serve(tmp_path: Path) -> set[str]:
    """The modules a ``preview serve`` on ``tmp_path`` imported by being ready (each by its
    full name and its top-level package's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVIEW_", "XDG_"))}
    env.update(
        PREVIEW_JWT_SECRET=SECRET,
        PREVIEW_DATA_DIR=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    imports = tmp_path / "imports.txt"  # -X importtime: one line per module imported
    argv = [sys.executable, "-X", "importtime", "-m", "preview", "serve", "--bind", "127.0.0.1:0"]
    with trio.fail_after(120), imports.open("wb") as stderr:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(
                partial(
                    trio.run_process,
                    argv,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    check=False,
                )
            )
            assert server.stdout is not None
            output = b""
            while b"Preview service ready: " not in output:
                chunk = await server.stdout.receive_some()
                assert chunk, output
                output += chunk
            server.send_signal(signal.SIGINT)
    assert server.returncode == 0
    found = re.findall(r"^import time:.*\|\s*([\w.]+)$", imports.read_text(), re.MULTILINE)
    assert "preview.app" in found  # the whole service was imported
    return {*found, *(name.split(".")[0] for name in found)}


async def test_an_idle_service_imports_none_of_the_lazy_modules(tmp_path: Path) -> None:
    # A new data dir: its schema is created by Alembic in a child process (store.schema).
    first = await _imported_by_serve(tmp_path)
    assert sorted(first.intersection((*_NOT_AT_IDLE, "alembic", "mako"))) == []
    assert (tmp_path / "data" / "preview.db").is_file()
    # Started again on a current schema, Alembic is not even run.
    again = await _imported_by_serve(tmp_path)
    assert sorted(again.intersection((*_NOT_AT_IDLE, "alembic", "mako"))) == []


def test_the_partial_index_says_its_postgresql_predicate_once_named() -> None:
    """Declared without it (importing the models loads no PostgreSQL dialect); a
    PostgreSQL engine's store names it, and the index's DDL there is partial again."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from preview.store.models import LIVE_WHERE, PreviewInstance, name_postgresql_predicates

    name_postgresql_predicates()
    name_postgresql_predicates()  # idempotent
    [index] = [i for i in PreviewInstance.__table__.indexes if i.name.startswith("uq_")]
    ddl = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    assert ddl.endswith(f"(generation_id) WHERE {LIVE_WHERE}")
