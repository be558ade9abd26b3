"""A node's lease in-process (create_app under Hypercorn, as the API tests run it) on a
fresh PostgreSQL database: registered with its epoch, renewed, fenced once the others
declare it dead (/readyz 503, launches refused, its previews stopped), a second node
of the same id refused at start; and the database lost by every node (previews run on,
nobody reaped) told from the database lost by one node (it fences itself before the
others reap it)."""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import psutil
import pytest
import sqlalchemy as sa
import trio

from preview import Settings, create_app
from preview.cluster import ClusterNode, LiveLogDown, NodeIdInUse, RedisLiveLog
from preview.cluster.node import FENCE_AFTER
from preview.store import Store

from ..conftest import SERVER_COMMAND, running_service, server_app
from ..outages import PostgresOutage, throwaway_postgres
from .nodes import (
    CLUSTER_SECRET,
    PG_ENV,
    REDIS_URL,
    TcpRelay,
    fresh_database,
    internal_port,
)

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _cluster(settings: Settings, db_url: str, node: str, prefix: str = "preview:") -> Settings:
    return replace(
        settings,
        db_url=db_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        # This worker's own port (a fixed one was two workers' at once: a node then
        # found its internal port taken and never joined).
        internal_url=f"http://127.0.0.1:{internal_port(7)}",
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
                "node-same",
                f"http://127.0.0.1:{internal_port(8)}",
                service.store,
                on_fenced=_nothing,
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


_IGNORES_SIGTERM = """
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    """


class _CountsUnread(RedisLiveLog):
    """Redis as a loaded machine's: the renewals' count (``get``) unanswered for the
    next ``unanswered`` reads (``math.inf``: from now on); ``answered`` counts the others."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(url, prefix)
        self.unanswered = 0.0
        self.answered = 0

    async def call(self, name: str, *args: Any, **kw: Any) -> Any:
        if name != "get":
            return await super().call(name, *args, **kw)
        if self.unanswered > 0:
            self.unanswered -= 1
            raise LiveLogDown("TooSlowError")
        said = await super().call(name, *args, **kw)
        self.answered += 1
        return said


@asynccontextmanager
async def _other_node(
    db_url: str, node: str, prefix: str, *, port: int = 9, live_log: RedisLiveLog | None = None
) -> AsyncIterator[ClusterNode]:
    """A second node's lease, renewals and reaper (no API: the test reads its object)."""
    store = await Store.open(db_url)
    live_log = live_log or RedisLiveLog(REDIS_URL, prefix)
    url = f"http://127.0.0.1:{internal_port(port)}"
    cluster = ClusterNode(node, url, store, on_fenced=_nothing)
    cluster.live_log = live_log
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(live_log.serve)
            await nursery.start(cluster.run)
            yield cluster
            await cluster.aclose()
            await live_log.aclose()
    finally:
        await store.aclose()


async def _preview_row(store: Store, preview_id: str) -> tuple:
    def read() -> tuple:
        with store.engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT status, stop_reason FROM preview_instances WHERE id = :p"),
                {"p": preview_id},
            ).one()

    return await trio.to_thread.run_sync(read)


async def test_a_database_outage_for_every_node_stops_no_preview_and_reaps_none(
    settings: Settings,
) -> None:
    # PostgreSQL refuses every node for longer than a lease: no node can renew, so none
    # can reap; each says the database is down for all and keeps its previews running.
    with throwaway_postgres() as (url, admin, name), trio.fail_after(120):
        outage = PostgresOutage(url, admin, name)
        prefix = f"test-{name}:"  # the renewals counted for this cluster alone
        async with (
            running_service(_cluster(settings, url, "node-o", prefix)) as service,
            _other_node(url, "node-p", prefix) as other,
        ):
            gid = await service.upload(server_app())
            launched = await service.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            preview_id = launched.json()["previewInstanceId"]
            (runtime,) = service.supervisor.runtimes
            cluster = service.supervisor.cluster
            await outage.begin()
            while not (cluster.database_down and other.database_down):  # noqa: ASYNC110
                await trio.sleep(0.1)  # the nodes' judgement: polled
            assert cluster.holds_lease and other.holds_lease
            assert cluster.lease_age > 4  # past the time a cut-off node fences itself
            assert service.supervisor.runtimes == (runtime,)
            assert runtime.process is not None and runtime.process.returncode is None
            await outage.end()
            while cluster.database_down or other.database_down:  # noqa: ASYNC110
                await trio.sleep(0.1)
            # Both reapers run again (each after a whole lease of renewals): nothing to reap.
            rounds = (cluster.reap_rounds, other.reap_rounds)
            while cluster.reap_rounds <= rounds[0] or other.reap_rounds <= rounds[1]:  # noqa: ASYNC110
                await trio.sleep(0.1)
            assert cluster.holds_lease and other.holds_lease
            assert (cluster.reaped, other.reaped) == (0, 0)
            assert await _preview_row(service.store, preview_id) == ("running", None)
            assert (await service.status(gid))["status"] == "running"


async def test_during_an_outage_for_every_node_a_slow_redis_fences_a_node_only_once_it_lasts() -> (
    None
):
    # While PostgreSQL is down for all, a node reads every node's renewals in Redis to
    # tell when the others are back. Reads a loaded Redis leaves unanswered for less than
    # the catch-up time say nothing (the others would reap no earlier than a lease after
    # the last read that answered); unanswered for longer, the node fences itself.
    with throwaway_postgres() as (url, admin, name), trio.fail_after(120):
        outage = PostgresOutage(url, admin, name)
        prefix = f"test-{name}:"
        slow = _CountsUnread(REDIS_URL, prefix)
        async with (
            _other_node(url, "node-s", prefix, port=8, live_log=slow) as node,
            _other_node(url, "node-t", prefix) as other,
        ):
            await outage.begin()
            while not (node.database_down and other.database_down):  # noqa: ASYNC110
                await trio.sleep(0.1)  # the nodes' judgement: polled
            slow.unanswered = 8  # two seconds of reads, at one every quarter of a second
            while slow.unanswered > 0:  # noqa: ASYNC110
                await trio.sleep(0.05)
            answered = slow.answered
            while slow.answered == answered:
                assert not node.fenced.is_set(), node.fenced_because
                await trio.sleep(0.05)  # a read answered again: the node knows the count
            assert not node.fenced.is_set() and node.database_down
            began = trio.current_time()
            slow.unanswered = math.inf
            await node.fenced.wait()
            assert trio.current_time() - began >= 3.5  # the catch-up time (4 s), less a poll
            assert "nor reach Redis for 4 s during an outage" in node.fenced_because
            assert not other.fenced.is_set()
            await outage.end()


async def test_a_node_cut_off_from_the_database_fences_itself_before_the_others_reap_it(
    settings: Settings,
) -> None:
    # One node loses PostgreSQL (a partition) while another keeps it and Redis tells so:
    # the cut-off node stops its previews, and only then do the others reap them.
    with throwaway_postgres() as (url, _admin, name), trio.fail_after(120):
        prefix = f"test-{name}:"
        relay = TcpRelay(url)
        async with trio.open_nursery() as nursery:
            await nursery.start(relay.serve)
            # A stop grace far beyond the lease's: the fenced node kills, it does not ask.
            cut_off = replace(_cluster(settings, relay.url, "node-c", prefix), stop_grace=30.0)
            async with (
                running_service(cut_off) as service,
                _other_node(url, "node-d", prefix) as other,
            ):
                gid = await service.upload(server_app(before_serving=_IGNORES_SIGTERM))
                launched = await service.launch(gid, command=SERVER_COMMAND)
                assert launched.status_code == 200, launched.text
                preview_id = launched.json()["previewInstanceId"]
                cluster = service.supervisor.cluster
                (runtime,) = service.supervisor.runtimes
                assert runtime.process is not None
                child = runtime.process.pid
                relay.cut()
                await cluster.fenced.wait()
                assert "while the other nodes did" in cluster.fenced_because
                assert not cluster.database_down
                # Its preview's process ends before the others may reap it (the lease's
                # TTL after its last renewal): never one generation live on two nodes.
                while psutil.pid_exists(child):  # noqa: ASYNC110
                    await trio.sleep(0.05)  # another process's state: polled
                assert other.reaped == 0
                while other.reaped == 0:  # noqa: ASYNC110
                    await trio.sleep(0.1)
                assert await _preview_row(other.store, preview_id) == ("failed", "node lost")
                assert not other.database_down


async def test_one_slow_reply_of_redis_as_the_lease_runs_out_is_not_taken_for_a_lost_redis(
    settings: Settings,
) -> None:
    # The cut-off node's Redis is slow once, just as its renewal is FENCE_AFTER late (a busy
    # machine): the next read answers, and it fences for what that read says, the other
    # nodes' renewals, not for a Redis it could not reach.
    with throwaway_postgres() as (url, _admin, name), trio.fail_after(120):
        prefix = f"test-{name}:"
        database, redis = TcpRelay(url), TcpRelay(REDIS_URL)
        async with trio.open_nursery() as nursery:
            await nursery.start(database.serve)
            await nursery.start(redis.serve)
            cut_off = replace(
                _cluster(settings, database.url, "node-e", prefix), redis_url=redis.url
            ).validated()
            async with running_service(cut_off) as service, _other_node(url, "node-f", prefix):
                cluster = service.supervisor.cluster
                database.cut()
                while cluster.lease_age < FENCE_AFTER:  # noqa: ASYNC110
                    await trio.sleep(0.01)  # the node's own clock: polled
                # Longer than a read's limit, shorter than two reads.
                redis.hold_next_reply(0.7)
                await cluster.fenced.wait()
                assert "while the other nodes did" in cluster.fenced_because
            nursery.cancel_scope.cancel()
