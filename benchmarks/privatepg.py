"""``python -m benchmarks.privatepg [N]``: what a preview's private PostgreSQL server adds.

The server a sandboxed app with a PostgreSQL driver gets when the operator gave none
(``preview.backing.pgprivate``), measured as a launch pays for it: the template cluster
made once (``initdb``, in a fresh data directory), then N times: the template copied to
a tmpfs, the server started in its own sandbox until it accepts connections (what the
launch waits for), and the app's first connection through the relay (its database made
on first use, a ``SELECT 1``), which the app's own start pays. One JSON line on stdout.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import trio

from preview import Settings
from preview.backing.pgprivate import (
    PrivateLogins,
    PrivateServer,
    ensure_template,
    run_private_server,
    server_binaries,
)
from preview.backing.pgrelay import PostgresRelay
from preview.sandbox.bubblewrap import copy_system_etc
from preview.sandbox.egress import serve_unix
from preview.sandbox.isolation import Isolation


def _first_query(directory: str) -> None:
    with psycopg.connect(host=directory, user="app", password="x", dbname="app") as conn:
        conn.execute("SELECT 1").fetchone()


async def _measure(runs: int) -> dict[str, object]:
    bin_dir = server_binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL's server binaries are not installed")
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        settings = Settings(data_dir=base / "data", run_dir=str(base / "run"))
        isolation = await trio.to_thread.run_sync(Isolation.probe, settings)
        if not isolation.sandboxed:
            raise SystemExit(f"no sandbox here: {isolation.reason}")
        await trio.to_thread.run_sync(copy_system_etc, settings.previews_dir / ".etc")
        started = time.perf_counter()
        await ensure_template(bin_dir, settings, isolation)
        template = time.perf_counter() - started
        starts, firsts = [], []
        for run in range(runs):
            relay_dir = base / f"relay-{run}"
            relay_dir.mkdir()
            async with trio.open_nursery() as nursery:
                began = time.perf_counter()
                server = await nursery.start(
                    lambda task_status, run=run: run_private_server(
                        bin_dir,
                        PrivateServer(settings.previews_dir / f"pv{run}-pg"),
                        settings=settings,
                        isolation=isolation,
                        name=f"bench-{run}-pg",
                        uid_slot=40000 + run,
                        task_status=task_status,
                    )
                )
                starts.append(time.perf_counter() - began)
                relay = PostgresRelay(server.connect, PrivateLogins(server))
                await nursery.start(serve_unix, relay_dir / ".s.PGSQL.5432", relay.serve)
                began = time.perf_counter()
                await trio.to_thread.run_sync(_first_query, str(relay_dir))
                firsts.append(time.perf_counter() - began)
                nursery.cancel_scope.cancel()
    return {
        "scenario": "privatepg",
        "runs": runs,
        "postgres": bin_dir.parent.name,
        "template_s": round(template, 3),
        "start_median_s": round(statistics.median(starts), 3),
        "start_max_s": round(max(starts), 3),
        "first_connection_median_s": round(statistics.median(firsts), 3),
        "first_connection_max_s": round(max(firsts), 3),
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print(json.dumps(trio.run(_measure, runs)))


if __name__ == "__main__":
    main()
