"""A cluster node's figures in its /metrics: the calls it forwarded (by kind), the log
events it relayed from the live tail, the previews its reaper failed, the live nodes it
sees and its lease's age; and, once it lost its lease, 0 for the lease and 503 from
/readyz. Real `preview serve` processes on one fresh PostgreSQL database; the fenced
node in-process (as tests/cluster/test_lease.py), whose app outlives its fencing."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psutil
import pytest
import sqlalchemy as sa
import trio
from prometheus_client.parser import text_string_to_metric_families

from preview import Settings
from preview.cluster.node import FENCE_AFTER

from ..conftest import SERVER_COMMAND, auth, emitter_app, running_service, server_app, sse_events
from .nodes import CLUSTER_SECRET, PG_ENV, REDIS_URL, fresh_database, internal_port, running_node

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, str], float]:
    """Every sample of the node's /metrics: (name, its labels' values joined) -> value."""
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200, scraped.text
    return {
        (sample.name, ",".join(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
    }


async def _until(client: httpx.AsyncClient, name: str, value: float) -> dict:
    """The node's metrics once ``name`` reads ``value`` (another process's state: polled;
    the test's time limit bounds it)."""
    while (figures := await _scrape(client)).get((name, "")) != value:  # noqa: ASYNC110
        await trio.sleep(0.1)
    return figures


async def test_a_nodes_metrics_count_what_it_forwarded_relayed_and_reaped(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(180):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            async with running_node(nursery, tmp_path, db_url, "node-a", 0) as a:
                gid = await a.upload(emitter_app("said"))
                launched = await a.launch(gid, command=SERVER_COMMAND)
                assert launched.status_code == 200, launched.text
                assert (await a.status(gid))["node"] == "node-a"
                base = f"/api/generations/{gid}/preview"
                token = {**auth(), "X-Preview-Token": launched.json()["previewToken"]}
                # A stream of A's preview through B (relayed), its lines printed by a
                # proxied call through B (forwarded).
                async with b.client.stream(
                    "GET", f"{base}/logs/stream", headers=auth(), timeout=None
                ) as stream:
                    assert stream.status_code == 200
                    emitted = False
                    async for kind, data, _ in sse_events(stream):
                        if kind == "message" and not emitted:  # the history came: now live
                            emitted = True
                            answer = await b.client.get(f"{base}/proxy/emit?n=5", headers=token)
                            assert answer.status_code == 200, answer.text
                        if kind == "message" and data["message"] == "said 4":
                            break
                figures = await _until(b.client, "preview_cluster_live_nodes", 2)
                assert figures[("preview_cluster_forwarded_calls_total", "proxy")] == 1
                # On the hot path, as bytes (proxy.hot.onward), not through ASGI.
                assert figures[("preview_cluster_forwarded_raw_calls_total", "")] == 1
                assert figures[("preview_cluster_relayed_events_total", "")] >= 5
                assert figures[("preview_cluster_lease_held", "")] == 1
                assert 0 <= figures[("preview_cluster_lease_age_seconds", "")] < FENCE_AFTER
                assert figures[("preview_cluster_reaped_previews_total", "")] == 0
                assert figures[("preview_cluster_capacity", "")] == 8  # its 8 ports
                # The owner counts none of it: it forwarded nothing.
                owner = await _scrape(a.client)
                assert not any(n == "preview_cluster_forwarded_calls_total" for n, _ in owner)

                # A killed: B's reaper fails its preview, and counts it.
                tree = [
                    a.process.pid,
                    *(p.pid for p in psutil.Process(a.process.pid).children(recursive=True)),
                ]
                for pid in tree:
                    os.kill(pid, signal.SIGKILL)
                await a.process.wait()
            figures = await _until(b.client, "preview_cluster_reaped_previews_total", 1)
            assert (await b.status(gid))["status"] == "failed"
            await _until(b.client, "preview_cluster_live_nodes", 1)


def _declare_dead(url: str, node: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE nodes SET state = 'dead' WHERE id = :n"), {"n": node}
            )
    finally:
        engine.dispose()


async def test_a_node_that_lost_its_lease_says_so_in_its_metrics_and_is_not_ready(
    settings: Settings, db_url: str
) -> None:
    settings = replace(
        settings,
        db_url=db_url,
        redis_url=REDIS_URL,
        internal_url=f"http://127.0.0.1:{internal_port(5)}",
        cluster_secret=CLUSTER_SECRET,
        node_id="node-f",
        sandbox="off",
    ).validated()
    with trio.fail_after(60):
        async with running_service(settings) as service:
            gid = await service.upload(server_app())
            launched = await service.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            figures = await _until(service.client, "preview_cluster_live_nodes", 1)
            assert figures[("preview_cluster_lease_held", "")] == 1
            assert (await service.client.get("/readyz")).status_code == 200
            # The others declare it dead (as they do once its lease expired): its next
            # renewal finds so, and it fences itself.
            await trio.to_thread.run_sync(_declare_dead, db_url, "node-f")
            await service.app.extensions["preview.fenced"].wait()
            ready = await service.client.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["details"]["lease"] == "lost"
            assert "Retry-After" in ready.headers
            figures = await _scrape(service.client)
            assert figures[("preview_cluster_lease_held", "")] == 0
