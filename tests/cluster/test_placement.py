"""Cluster mode: a launch runs on the least-loaded live node with room, whichever node
it reached (forwarded there over the internal listener), and is refused 503
``cluster_full`` with ``Retry-After`` once no live node has room. Real `preview serve`
processes on one fresh PostgreSQL database; a node's capacity is its port pool."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from preview.cluster.placement import NodeLoad, least_loaded

from ..conftest import SERVER_COMMAND, auth, server_app
from .nodes import PG_ENV, Node, capacity, first_preview_port, fresh_database, running_node

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def _launch_through(node: Node, user: str) -> tuple[str, str]:
    """``user``'s new generation launched through ``node``: the node that runs it, and
    the generation."""
    gid = await node.upload(server_app(), user)
    launched = await node.launch(gid, user, command=SERVER_COMMAND)
    assert launched.status_code == 200, launched.text
    assert launched.json()["status"] == "running", launched.json()
    return (await node.status(gid, user))["node"], gid


async def _forwarded_launches(node: Node) -> float:
    scraped = await node.client.get("/metrics")
    assert scraped.status_code == 200
    for family in text_string_to_metric_families(scraped.text):
        if family.name == "preview_cluster_forwarded_calls":
            for sample in family.samples:
                if sample.labels.get("kind") == "launch":
                    return sample.value
    return 0


async def test_a_launch_through_a_full_node_runs_on_another_and_a_full_cluster_says_when_to_retry(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0, **capacity(0, 1)) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1, **capacity(1, 1)) as b,
        ):
            # Both empty: the node it reached runs it (no hop for a tie).
            assert (await _launch_through(a, "alice"))[0] == "node-a"
            # A is full: the launch through A runs on B.
            ran_on, bobs = await _launch_through(a, "bob")
            assert ran_on == "node-b"
            assert await _forwarded_launches(a) == 1
            # Both full: 503 cluster_full, through either node, with when to try again.
            gid = await a.upload(server_app(), "carol")
            for node in (a, b):
                refused = await node.launch(gid, "carol", command=SERVER_COMMAND)
                assert refused.status_code == 503, refused.text
                said = refused.json()
                assert (said["status"], said["error"]) == ("failed", "cluster_full"), said
                assert said["details"]["liveNodes"] == 2
                assert int(refused.headers["Retry-After"]) > 0
            # The checks before it still come first: a stranger's launch is 404.
            stranger = await a.launch(gid, "mallory", command=SERVER_COMMAND)
            assert stranger.status_code == 404, stranger.text
            # A slot freed on B (bob's stopped, through A): carol's launch through A runs there.
            stopped = await a.client.delete(f"/api/generations/{bobs}/preview", headers=auth("bob"))
            assert stopped.status_code == 200, stopped.text
            launched = await a.launch(gid, "carol", command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            assert (await a.status(gid, "carol"))["node"] == "node-b"


async def test_a_launch_a_chosen_node_refuses_as_full_is_placed_again_without_it(
    tmp_path: Path, db_url: str
) -> None:
    """Placement reads counts, it does not reserve: a node chosen for its free slot may
    find it taken meanwhile (here its one port is held by something else, as another
    launch's would be). The launch is then placed again without that node and runs on
    the next, not refused while a node has room."""
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0, **capacity(0, 1)) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1, **capacity(1, 1)),
            running_node(nursery, tmp_path, db_url, "node-c", 2, **capacity(2, 1)),
        ):
            assert (await _launch_through(a, "alice"))[0] == "node-a"  # A: 1/1
            with socket.socket() as taken:  # B's one slot, taken behind the count's back
                taken.bind(("127.0.0.1", first_preview_port(1)))
                taken.listen()
                # B and C 0/1 each: B first (by name), which refuses; then C.
                ran_on, _ = await _launch_through(a, "bob")
                assert ran_on == "node-c"
                # Every node full now (B in truth): refused, said as a full cluster.
                gid = await a.upload(server_app(), "carol")
                refused = await a.launch(gid, "carol", command=SERVER_COMMAND)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "cluster_full", refused.json()


async def test_the_node_is_chosen_by_load_not_by_where_the_launch_came(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0, **capacity(0, 3)) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1, **capacity(1, 3)) as b,
        ):
            assert (await _launch_through(a, "alice"))[0] == "node-a"  # 0/3 each: here
            assert (await _launch_through(a, "bob"))[0] == "node-b"  # A 1/3, B 0/3
            assert (await _launch_through(b, "carol"))[0] == "node-b"  # 1/3 each: here
            assert (await _launch_through(b, "dave"))[0] == "node-a"  # A 1/3, B 2/3


def test_the_least_loaded_is_by_share_of_capacity_and_a_tie_stays_here() -> None:
    loads = [
        NodeLoad("a", "http://a", capacity=10, live=5),
        NodeLoad("b", "http://b", capacity=2, live=1),
        NodeLoad("c", "http://c", capacity=4, live=1),
    ]
    assert least_loaded(loads, "a") == loads[2]  # 1/4 < 1/2 = 5/10
    even = [NodeLoad("a", "", 4, 2), NodeLoad("b", "", 4, 2)]
    assert least_loaded(even, "b") == even[1]
    full = [NodeLoad("a", "", 1, 1), NodeLoad("b", "", 2, 2)]
    assert least_loaded(full, "a") is None
