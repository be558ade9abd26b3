"""A user's bound on log streams and the list of who is watching hold across nodes
(issue 67: "per-user caps hold cluster-wide"; issue 69: presence): each node tells the
others its open streams (cluster.ClusterStreamCounts), so a stream through one node
counts on the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from ..conftest import SERVER_COMMAND, auth, emitter_app
from .nodes import Node, fresh_database, running_node


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def _third_stream(node: Node, path: str) -> int:
    """The status of one more stream of alice's through ``node`` (closed at once)."""
    async with node.client.stream("GET", path, headers=auth(), timeout=None) as third:
        return third.status_code


async def _viewers(node: Node, gid: str) -> list[dict[str, Any]]:
    answer = await node.client.get(f"/api/generations/{gid}/preview/viewers", headers=auth())
    assert answer.status_code == 200, answer.text
    return answer.json()["viewers"]


async def test_a_users_stream_bound_and_the_watchers_hold_across_nodes(
    tmp_path: Path, db_url: str
) -> None:
    bound = {"PREVIEW_MAX_STREAMS_PER_USER": "2"}
    with trio.fail_after(150):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0, **bound) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1, **bound) as b,
        ):
            gid = await a.upload(emitter_app("said"))
            launched = await a.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            path = f"/api/generations/{gid}/preview/logs/stream"
            async with (
                a.client.stream("GET", path, headers=auth(), timeout=None) as first,
                b.client.stream("GET", path, headers=auth(), timeout=None) as second,
            ):
                assert (first.status_code, second.status_code) == (200, 200)
                # Each node learns the other's stream at their next exchange (2 s).
                statuses = {a.name: 200, b.name: 200}
                while set(statuses.values()) != {429}:
                    for node in (a, b):
                        statuses[node.name] = await _third_stream(node, path)
                    await trio.sleep(0.2)
                # A third stream one node let through before it knew of the other's is
                # closed at once, and the other learns so at their next exchange too.
                expected = [{"user": "alice", "streams": 2, "owner": True}]
                seen: dict[str, list[dict[str, Any]]] = {}
                with trio.move_on_after(20):  # several exchanges, on a loaded machine
                    while any(seen.get(node.name) != expected for node in (a, b)):
                        seen = {node.name: await _viewers(node, gid) for node in (a, b)}
                        await trio.sleep(0.2)
                assert seen == {a.name: expected, b.name: expected}, seen
            # Both closed: a stream opens again through either, once they are told.
            while await _third_stream(b, path) != 200:  # noqa: ASYNC110 (other processes)
                await trio.sleep(0.2)
            stopped = await a.client.delete(f"/api/generations/{gid}/preview", headers=auth())
            assert stopped.status_code == 200, stopped.text
