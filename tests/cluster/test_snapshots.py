"""Cluster mode: a preview's snapshots work through any node, and outlive the node that
took them. Taken and restored through a node that does not run the preview (forwarded
to its owner), compared on it (its files fetched from PostgreSQL, where every snapshot is
kept in cluster mode), and, once the owner is gone, seeding a new launch on the other.
Real `preview serve` processes on one fresh PostgreSQL database."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import trio

from preview.store.models import SnapshotChunk

from ..api.test_snapshots import items_app
from ..conftest import SERVER_COMMAND, auth
from .nodes import PG_ENV, Node, fresh_database, running_node

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


async def _call(node: Node, gid: str, token: str, method: str, path: str, body: Any = None) -> Any:
    """The app's answer to ``method path``, through ``node``'s request envelope."""
    envelope: dict[str, Any] = {"method": method, "path": path}
    if body is not None:
        envelope["body"] = body
    answer = await node.client.post(
        f"/api/generations/{gid}/preview/request",
        json=envelope,
        headers={**auth(), "X-Preview-Token": token},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["statusCode"] < 300, answer.json()
    return answer.json()["data"]


async def _names(node: Node, gid: str, token: str) -> list[str]:
    return [name for _, name in await _call(node, gid, token, "GET", "/items")]


async def test_snapshots_through_any_node_outlive_the_node_that_took_them(
    tmp_path: Path,
) -> None:
    with fresh_database() as db_url, trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            gid = await a.upload(items_app("sqlite"))
            launched = await a.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            token = launched.json()["previewToken"]
            owner, other = (a, b) if (await a.status(gid))["node"] == "node-a" else (b, a)
            snapshots = f"/api/generations/{gid}/preview/snapshots"

            for name in ("apple", "pear"):
                await _call(other, gid, token, "POST", "/items", {"name": name})
            taken = await other.client.post(snapshots, headers=auth())  # forwarded
            assert taken.status_code == 201, taken.text
            first = taken.json()["snapshotId"]
            await _call(other, gid, token, "POST", "/items", {"name": "fig"})
            second = (await other.client.post(snapshots, headers=auth())).json()["snapshotId"]

            # Compared on the node without their files: fetched from PostgreSQL.
            diff = await other.client.get(
                f"{snapshots}/{first}/diff", params={"with": second}, headers=auth()
            )
            assert diff.status_code == 200, diff.text
            (table,) = [t for t in diff.json()["tables"] if t["table"] == "items"]
            assert [row["name"] for row in table["added"]] == ["fig"]

            restored = await other.client.post(f"{snapshots}/{first}/restore", headers=auth())
            assert restored.status_code == 200, restored.text
            assert await _names(other, gid, token) == ["apple", "pear"]

            # The owner goes (its data dir with it, as far as the other knows).
            stopped = await other.client.delete(f"/api/generations/{gid}/preview", headers=auth())
            assert stopped.status_code == 200, stopped.text
            owner.process.send_signal(signal.SIGINT)
            await owner.process.wait()

            # A launch seeded from the second snapshot lands on the node left.
            seeded = await other.launch(gid, command=SERVER_COMMAND, snapshot=second)
            assert seeded.status_code == 200, seeded.text
            body = seeded.json()
            assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
            assert (await other.status(gid))["node"] == other.name
            fresh = body["previewToken"]
            assert await _names(other, gid, fresh) == ["apple", "pear", "fig"]
            # Its fetched copy was for the launch alone.
            fetched = tmp_path / f"data-{other.name}" / "snapshots" / ".fetched"
            assert not fetched.exists() or list(fetched.iterdir()) == []

            # Deleted through the node left: gone from PostgreSQL too.
            deleted = await other.client.delete(f"{snapshots}/{second}", headers=auth())
            assert deleted.status_code == 200, deleted.text
            assert _chunks(db_url, second) == 0 and _chunks(db_url, first) > 0
            ended = await other.client.delete(f"/api/generations/{gid}/preview", headers=auth())
            assert ended.status_code == 200, ended.text


def _chunks(db_url: str, snapshot_id: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            query = sa.select(sa.func.count()).where(SnapshotChunk.snapshot_id == snapshot_id)
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()
