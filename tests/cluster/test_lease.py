"""A node's lease in-process (create_app under Hypercorn, as the API tests run it) on a
fresh PostgreSQL database: registered with its epoch, renewed, fenced once the others
declare it dead (/readyz 503, launches refused, its previews stopped), and a second node
of the same id refused at start."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
import trio

from preview import Settings, create_app
from preview.cluster import ClusterNode, NodeIdInUse
from preview.store import Store

from ..conftest import SERVER_COMMAND, running_service, server_app
from .nodes import CLUSTER_SECRET, PG_ENV, REDIS_URL, fresh_database

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _cluster(settings: Settings, db_url: str, node: str) -> Settings:
    return replace(
        settings,
        db_url=db_url,
        redis_url=REDIS_URL,
        internal_url="http://127.0.0.1:21990",
        cluster_secret=CLUSTER_SECRET,
        node_id=node,
        sandbox="off",
    ).validated()


def _node_row(store: Store, node: str) -> tuple:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT state, epoch, renewed_at FROM nodes WHERE id = :n"), {"n": node}
        ).one()


def _declare_dead(store: Store, node: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE nodes SET state = 'dead' WHERE id = :n"), {"n": node})


async def _nothing() -> None:
    pass


async def test_a_node_declared_dead_fences_itself(settings: Settings, db_url: str) -> None:
    settings = _cluster(settings, db_url, "node-f")
    with trio.fail_after(60):
        async with running_service(settings) as service:
            store = service.store
            state, epoch, first = await trio.to_thread.run_sync(_node_row, store, "node-f")
            assert (state, epoch) == ("alive", 1)
            assert (await service.client.get("/readyz")).status_code == 200
            gid = await service.upload(server_app())
            launched = await service.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            assert (await service.status(gid))["node"] == "node-f"
            cluster = service.supervisor.cluster
            # Renewed every 2 s, by the database's clock.
            while (await trio.to_thread.run_sync(_node_row, store, "node-f"))[2] == first:  # noqa: ASYNC110
                await trio.sleep(0.1)  # the database's state: polled
            # The others declare it dead: its next renewal finds so, and it fences itself.
            await trio.to_thread.run_sync(_declare_dead, store, "node-f")
            await service.app.extensions["preview.fenced"].wait()
            assert not cluster.holds_lease
            assert "declared it dead" in cluster.fenced_because
            ready = await service.client.get("/readyz")
            assert ready.status_code == 503 and "lease" in ready.json()["details"]
            assert service.supervisor.runtimes == ()  # its preview stopped
            refused = await service.launch(gid, command=SERVER_COMMAND)
            assert refused.status_code == 503, refused.text


async def test_a_second_node_of_a_live_nodes_id_is_refused(settings: Settings, db_url: str) -> None:
    settings = _cluster(settings, db_url, "node-same")
    with trio.fail_after(60):
        async with running_service(settings) as service:
            other = ClusterNode(
                "node-same", "http://127.0.0.1:21991", service.store, on_fenced=_nothing
            )
            with pytest.raises(NodeIdInUse, match="give each node its own PREVIEW_NODE_ID"):
                await other.run()
            assert service.supervisor.cluster.holds_lease


async def test_a_clean_stop_leaves_and_a_restart_takes_a_new_epoch(
    settings: Settings, db_url: str
) -> None:
    settings = _cluster(settings, db_url, "node-r")
    with trio.fail_after(60):
        async with running_service(settings):
            pass
        store = await Store.open(db_url)
        try:
            row = await trio.to_thread.run_sync(_node_row, store, "node-r")
            assert row[:2] == ("stopped", 1)  # left: its next start need not wait
            async with running_service(settings, create_app(settings)):
                row = await trio.to_thread.run_sync(_node_row, store, "node-r")
                assert row[:2] == ("alive", 2)
        finally:
            await store.aclose()
