"""Cluster mode, the live tail (Redis Streams): the owner appends its preview's events,
a node that does not run the preview serves its log streams from the tail (not by
forwarding them to the owner), exactly (every id once, in order, the ids PostgreSQL
has) through a Redis outage, an outage and a restart of PostgreSQL, and the reaper
salvages a dead owner's tail. Real `preview serve` processes, a fresh PostgreSQL
database per test (or a PostgreSQL server of the test's own that it restarts), and
either the machine's Redis (a key prefix per test) or a redis-server of the test's own
that it kills and restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

import httpx
import psutil
import psycopg
import pytest
import trio
import trio_websocket

from preview.clock import utcnow
from preview.cluster import LiveLogDown, RedisLiveLog, StaleAppend
from preview.cluster.tail import write_tail
from preview.logs import Event, LogBroadcast

from ..conftest import SERVER_COMMAND, auth, server_app
from ..mounts import (
    PREVIEW_TMPFS,
    mounted_under,
    namespace_of,
    pinned_namespace,
    processes_in_namespace,
)
from ..outages import PostgresOutage, own_postgres_server, reaped, throwaway_postgres
from .nodes import PG_ENV, Node, free_port, fresh_database, running_node

pytestmark = [
    pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server"),
]

# Prints "tick <n>" every 2 ms from its start (500 lines a second), for ever.
TICKER = server_app(
    before_serving="""
    import threading
    def ticks():
        n = 0
        while True:
            say(f"tick {n}"); n += 1; time.sleep(0.002)
    threading.Thread(target=ticks, daemon=True).start()
    """
)


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def _redis_server(nursery: trio.Nursery, port: int) -> trio.Process:
    """A redis-server of this test's own (no persistence), ready."""
    argv = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    process = await trio.lowlevel.open_process(argv, stdout=subprocess.DEVNULL)
    nursery.start_soon(reaped, process)
    with trio.fail_after(20):
        while True:
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                await trio.sleep(0.05)
                continue
            await stream.send_all(b"PING\r\n")
            if b"PONG" in await stream.receive_some(64):
                await stream.aclose()
                return process


def _stored_ids(db_url: str, preview_id: str) -> list[int]:
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT seq FROM log_events WHERE preview_id = %s ORDER BY seq", (preview_id,)
        ).fetchall()
    return [seq for (seq,) in rows]


def _last_message(db_url: str, preview_id: str) -> str:
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT message FROM log_events WHERE preview_id = %s ORDER BY seq DESC LIMIT 1",
            (preview_id,),
        ).fetchone()
    return row[0] if row else ""


def _event(seq: int, message: str = "", status: str | None = None) -> Event:
    return Event(
        seq, datetime(2026, 1, 1), "INFO", message or f"line {seq}", "app", "stdout", status
    )


async def test_the_redis_tail_fences_stale_appends_and_reads_after_a_seq() -> None:
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            port = free_port(9)
            server = await _redis_server(nursery, port)
            tail = RedisLiveLog(f"redis://127.0.0.1:{port}/0", "unit:")
            await nursery.start(tail.serve)
            await tail.append("p", [_event(1), _event(2), _event(3)])
            await tail.append("p", [_event(4)])
            with pytest.raises(StaleAppend):  # a writer behind the top: a zombie owner
                await tail.append("p", [_event(3, "late")])
            read = await tail.read_after("p", 2)
            assert [e.id for e in read.events] == [3, 4] and read.ended is None
            assert [e.message for e in read.events] == ["line 3", "line 4"]
            assert await tail.top("p") == 4

            async def wait_for_five() -> None:
                read = await tail.read_after("p", 4, block=10)
                assert [e.id for e in read.events] == [5]

            async with trio.open_nursery() as readers:
                readers.start_soon(wait_for_five)
                await trio.sleep(0.05)  # (the reader blocks or not: either way it gets 5)
                await tail.append("p", [_event(5)])
            # The reaper's fence: its line after the top of both stores, then nothing
            # more, not even the owner's end; readers wait for the reaper's end, which it
            # writes once the row is failed.
            lost = _event(0, "node lost", status="failed")
            assert await tail.end_lost("p", 3, lost, "failed") == 6
            assert await tail.end_lost("p", 3, lost, "failed") is None  # fenced already
            with pytest.raises(StaleAppend):
                await tail.append("p", [_event(9)])
            with pytest.raises(StaleAppend):
                await tail.end("p", "stopped")  # a zombie owner's end
            read = await tail.read_after("p", 4)
            assert [(e.id, e.message, e.status) for e in read.events] == [
                (5, "line 5", None),
                (6, "node lost", "failed"),
            ]
            assert read.ended is None
            assert await tail.top("p") == 6
            blocked = await tail.read_after("p", 6, block=0.2)  # waits, does not spin
            assert blocked.events == [] and blocked.ended is None

            async def wait_for_the_end() -> None:
                read = await tail.read_after("p", 6, block=10)
                assert read.events == [] and read.ended == "failed"

            async with trio.open_nursery() as readers:
                readers.start_soon(wait_for_the_end)
                await trio.sleep(0.05)  # (the reader blocks or not: either way it ends)
                await tail.end_reaped("p", "failed")
            with pytest.raises(StaleAppend):
                await tail.end_reaped("p", "failed")  # another reaper's, after it
            assert (await tail.read_after("p", 4)).ended == "failed"
            server.kill()
            with pytest.raises(LiveLogDown):
                await tail.append("q", [_event(1)])
            await tail.aclose()
            nursery.cancel_scope.cancel()


async def _until(condition, what: str, limit: float = 30) -> None:
    """Poll the subscribers' counts (what they got is the test's; nothing to wait on)."""
    with trio.fail_after(limit):
        while True:
            if condition():
                return
            await trio.sleep(0.05)


async def _each_goes_on(seen: list[list[int]], lines: int, what: str, limit: float = 30) -> None:
    """Until each subscriber got ``lines`` more than it has now. Each against its own
    count: on a loaded machine the slowest may lag the fastest by seconds of lines, and
    waiting for it to pass the fastest's count failed tests that lost nothing."""
    marks = [len(got) for got in seen]
    await _until(
        lambda: all(len(got) > mark + lines for got, mark in zip(seen, marks, strict=True)),
        what,
        limit,
    )


class _Ticker(NamedTuple):
    gid: str
    preview_id: str
    base: str  # the preview's API: f"/api/generations/{gid}/preview"
    launch: dict  # the launch's answer


async def _launch_ticker(node: Node, app: dict[str, str] = TICKER) -> _Ticker:
    """A ticker launched on ``node``."""
    gid = await node.upload(app)
    launched = await node.launch(gid, command=SERVER_COMMAND)
    assert launched.status_code == 200, launched.text
    answer = launched.json()
    return _Ticker(gid, answer["previewInstanceId"], f"/api/generations/{gid}/preview", answer)


def _assert_each_saw_what_is_stored(db_url: str, preview_id: str, *seen: list[int]) -> list[int]:
    """PostgreSQL holds ``1..top`` with no hole, and each subscriber saw exactly that."""
    stored = _stored_ids(db_url, preview_id)
    assert stored == list(range(1, len(stored) + 1))  # dense
    for i, ids in enumerate(seen):
        assert ids == stored, (i, len(ids), len(stored), _first_difference(ids, stored))
    return stored


class _RepliesTooLate(RedisLiveLog):
    """Redis takes every append, but the reply comes after the call's bound ran out (a
    loaded machine): the caller is told the tail is down, and ``lost`` says which."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(url, prefix)
        self.lost: list[int] = []

    async def append(self, preview_id: str, events: list[Event]) -> None:
        await super().append(preview_id, events)
        self.lost.append(events[-1].id)
        raise LiveLogDown("TooSlowError")


async def test_an_append_whose_reply_came_too_late_is_shown_as_the_tail_has_it() -> None:
    # The owner's subscribers see a batch once the tail has it. An append whose reply was
    # lost may have landed: the tail's top says so, and the batch is shown then, not after
    # a patience (long here) that waits for PostgreSQL, which never stores it in this test.
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            port = free_port(9)
            await _redis_server(nursery, port)
            tail = _RepliesTooLate(f"redis://127.0.0.1:{port}/0", "late:")
            await nursery.start(tail.serve)
            broadcast = LogBroadcast(ring_size=100, subscriber_buffer=100)
            broadcast.gate()  # as the writer does first, which starts after these lines
            nursery.start_soon(partial(write_tail, tail, "p", broadcast, stored_patience=3600))
            for n in range(3):
                await broadcast.publish("INFO", f"line {n}", "app", "stdout")
            while broadcast.visible_id < 3:  # noqa: ASYNC110
                await trio.sleep(0.01)  # the writer's progress, told by nothing: polled
            assert broadcast.persisted_id == 0 and tail.lost and tail.lost[-1] == 3
            assert await tail.top("p") == 3
            await tail.aclose()
            nursery.cancel_scope.cancel()


async def test_a_non_owner_relays_streams_exactly_through_a_redis_outage(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(170):
        async with trio.open_nursery() as nursery:
            port = free_port(9)
            redis = await _redis_server(nursery, port)
            own = {"PREVIEW_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
            async with (
                running_node(nursery, tmp_path, db_url, "node-a", 0, **own) as a,
                running_node(nursery, tmp_path, db_url, "node-b", 1, **own) as b,
            ):
                _, preview_id, base, _ = await _launch_ticker(a)
                seen: list[list[int]] = [[], [], []]
                ended: list[dict] = []
                async with trio.open_nursery() as clients:
                    clients.start_soon(_sse_subscriber, [b], f"{base}/logs/stream", seen[0], ended)
                    clients.start_soon(_ws_subscriber, [b], f"{base}/logs/ws", seen[1], ended)
                    await _until(lambda: len(seen[0]) > 300 and len(seen[1]) > 300, "live")
                    # Served by B (relayed), not forwarded: A holds no subscriber.
                    status = (await a.client.get(f"{base}/status", headers=auth())).json()
                    assert status["subscribers"] == 0, status
                    # A third joins late, from the middle of the log: history, then live.
                    clients.start_soon(
                        _sse_subscriber, [b], f"{base}/logs/stream", seen[2], ended, 100
                    )
                    # Redis goes away: the owner stores on, B tails PostgreSQL.
                    redis.kill()
                    await redis.wait()
                    await _each_goes_on(seen, 500, "without Redis")
                    # Back (empty: no persistence): B relays from it again.
                    redis = await _redis_server(nursery, port)
                    await _each_goes_on(seen, 500, "Redis back")
                    stopped = await b.client.delete(base, headers=auth())
                    assert stopped.status_code == 200, stopped.text
                    await _until(lambda: len(ended) == 3, "the end")
                stored = _assert_each_saw_what_is_stored(db_url, preview_id, seen[0], seen[1])
                assert seen[2] == stored[100:]
                assert {end["status"] for end in ended} == {"stopped"}
                assert b"the tail is down" in b.said or b"tailing" in b.said, b.said[-2000:]
            nursery.cancel_scope.cancel()


async def test_the_reaper_salvages_a_dead_owners_tail(tmp_path: Path, db_url: str) -> None:
    with trio.fail_after(150):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            async with running_node(nursery, tmp_path, db_url, "node-a", 0) as a:
                gid, preview_id, base, _ = await _launch_ticker(a)
                seen: list[int] = []
                ended: list[dict] = []
                nursery.start_soon(_sse_subscriber, [b], f"{base}/logs/stream", seen, ended)
                await _until(lambda: len(seen) > 500, "live")
                tree = [
                    a.process.pid,
                    *(p.pid for p in psutil.Process(a.process.pid).children(recursive=True)),
                ]
                for pid in tree:
                    os.kill(pid, signal.SIGKILL)
                await a.process.wait()
            await _until(lambda: bool(ended), "the end through B", limit=20)
            # The tail's end comes after the row's: a subscriber told it may launch again.
            assert (await b.status(gid))["status"] == "failed"
            # Every line B's subscriber saw is stored (the tail's salvage), the last the
            # reaper's, and nothing is missing in between.
            _assert_each_saw_what_is_stored(db_url, preview_id, seen)
            assert ended[0]["status"] == "failed"
            assert _last_message(db_url, preview_id).startswith("node lost: node-a")


# Prints "tick <n>" every millisecond from its start, for ever (the rate): up to
# 1,000 lines a second to each of 40 subscribers, all read by this test's one process.
# (At this rate the WebSocket subscribers fell 14,000-20,000 lines behind while the log
# stream sent a frame a write: services.wsframes.)
FAST_TICKER = server_app(
    before_serving="""
    import threading
    def ticks():
        n = 0
        while True:
            say(f"tick {n}"); n += 1; time.sleep(0.001)
    threading.Thread(target=ticks, daemon=True).start()
    """
)


async def _sse_subscriber(
    nodes: list, path: str, seen: list[int], ended: list[dict], after: int = 0
) -> None:
    """An SSE subscriber (from ``after``) on the first live node of ``nodes``: each
    event's id into ``seen`` as it is dispatched, the end into ``ended``; when its stream
    breaks it resumes by Last-Event-ID, on the next node if its node died, as EventSource
    behind a load balancer does."""
    while True:
        node = next(n for n in nodes if n.process.returncode is None)
        headers = {**auth(), "Last-Event-ID": str(seen[-1] if seen else after)}
        try:
            async with node.client.stream("GET", path, headers=headers, timeout=None) as stream:
                if stream.status_code == 204:
                    return
                assert stream.status_code == 200, await stream.aread()
                kind, event_id = "message", None
                async for line in stream.aiter_lines():
                    if line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif kind == "end" and line.startswith("data: "):
                        ended.append(json.loads(line[6:]))
                        return
                    elif line == "" and event_id is not None:
                        seen.append(event_id)
                        kind, event_id = "message", None
        except httpx.TransportError:
            pass  # its node died under it
        await trio.sleep(0.05)  # EventSource's reconnection pace (its retry:), shortened


async def _ws_subscriber(nodes: list, path: str, seen: list[int], ended: list[dict]) -> None:
    """The WebSocket's subscriber, resuming with ``?lastEventId=`` on the next live node."""
    while True:
        node = next(n for n in nodes if n.process.returncode is None)
        host, port = node.url.removeprefix("http://").split(":")
        resume = f"{path}?lastEventId={seen[-1] if seen else 0}"
        try:
            async with trio_websocket.open_websocket(
                host,
                int(port),
                resume,
                use_ssl=False,
                extra_headers=[(k.encode(), v.encode()) for k, v in auth().items()],
            ) as ws:
                while True:
                    data = json.loads(await ws.get_message())
                    if data.get("type") == "end":
                        ended.append(data)
                        return
                    seen.append(data["id"])
        except (trio_websocket.ConnectionClosed, trio_websocket.HandshakeError, OSError):
            pass  # its node died under it
        await trio.sleep(0.05)


async def test_forty_subscribers_keep_every_line_once_through_a_non_owners_and_the_owners_death(
    tmp_path: Path, db_url: str
) -> None:
    # Three nodes; a preview printing a line every millisecond on A; 30 SSE and 10 WebSocket
    # subscribers spread over the three. kill -9 of C (not the owner), then of A (the
    # owner's service alone: its sandboxed preview dies with it). Each subscriber resumes
    # on B and has exactly the ids PostgreSQL has, from 1, none twice; the preview is
    # failed "node lost" within 10 s; none of A's preview's processes outlives A.
    sandboxed = bool(shutil.which("bwrap"))
    owner_settings = {"PREVIEW_SANDBOX": "required" if sandboxed else "off"}
    with trio.fail_after(260), contextlib.ExitStack() as pinned:
        async with trio.open_nursery() as nursery:
            async with (
                running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
                running_node(nursery, tmp_path, db_url, "node-c", 2) as c,
                running_node(nursery, tmp_path, db_url, "node-a", 0, **owner_settings) as a,
            ):
                gid, preview_id, base, launch = await _launch_ticker(a, FAST_TICKER)
                routes = [[a, b]] * 10 + [[b]] * 10 + [[c, b]] * 10
                ws_routes = [[a, b]] * 4 + [[b]] * 3 + [[c, b]] * 3
                seen: list[list[int]] = [[] for _ in range(40)]
                ended: list[dict] = []
                async with trio.open_nursery() as clients:
                    for i, nodes in enumerate(routes):
                        path = f"{base}/logs/stream"
                        clients.start_soon(_sse_subscriber, nodes, path, seen[i], ended)
                    for i, nodes in enumerate(ws_routes, start=30):
                        path = f"{base}/logs/ws"
                        clients.start_soon(_ws_subscriber, nodes, path, seen[i], ended)
                    await _until(lambda: min(map(len, seen)) > 200, "live", limit=60)
                    await _kill_tree(c.process.pid)
                    await c.process.wait()
                    await _each_goes_on(seen, 200, "C gone", limit=60)
                    tree = [p.pid for p in psutil.Process(a.process.pid).children(recursive=True)]
                    assert launch["processId"] in tree
                    # Its preview's folder, a tmpfs when it is root, is mounted in a mount
                    # namespace of the service's own (a copy of the host's when it began:
                    # what both have is not A's), which must not outlive the service.
                    # (pinned until the check: an ended one's number is the next one's)
                    namespace = pinned.enter_context(pinned_namespace(a.process.pid))
                    folders = set(mounted_under(a.process.pid, None, PREVIEW_TMPFS))
                    folders -= set(mounted_under("self", None, PREVIEW_TMPFS))
                    mounting = sandboxed and os.geteuid() == 0
                    assert not mounting or (folders and namespace != namespace_of("self"))
                    if sandboxed:
                        os.kill(a.process.pid, signal.SIGKILL)  # the service alone
                    else:
                        await _kill_tree(a.process.pid)
                    killed_at = utcnow()  # naive UTC, as the database's times
                    await a.process.wait()
                    # Each reads what it missed from B first: on a loaded machine (load 15+
                    # on 2 cores) 40 of them took over 30 s. The claim is the row's time.
                    await _until(lambda: len(ended) == 40, "the end through B", limit=120)
                # The figure: the row failed within 10 s of the death, by the
                # database's clock (its subscribers' ends follow: waited for above).
                renewed, stopped = _lease_and_stop(db_url, "node-a", preview_id)
                took = (stopped - killed_at).total_seconds()
                ended_after = (utcnow() - killed_at).total_seconds()
                assert took < 10, (
                    f"failed {took:.2f} s after the kill; its last renewal"
                    f" {(renewed - killed_at).total_seconds():+.2f} s; every end"
                    f" {ended_after:.2f} s"
                )
                with trio.fail_after(5):  # its sandbox dies with it (--die-with-parent)
                    while [pid for pid in tree if _alive(pid)]:  # noqa: ASYNC110
                        await trio.sleep(0.05)  # other processes' state: polled
                # Then its namespace, with any process it started after ``tree`` was read.
                with trio.move_on_after(10):
                    while mounting and processes_in_namespace(namespace):  # noqa: ASYNC110
                        await trio.sleep(0.05)  # other processes' state: polled
                left = processes_in_namespace(namespace) if mounting else []
                assert not left, (folders, left)
                # The row said failed before the tail's end, which the subscribers got.
                status = await b.status(gid)
                assert status["status"] == "failed", status
                assert status["errorMessage"].startswith("node lost: node-a"), status
                _assert_each_saw_what_is_stored(db_url, preview_id, *seen)
                assert {end["status"] for end in ended} == {"failed"}
            nursery.cancel_scope.cancel()


def _lease_and_stop(db_url: str, node: str, preview_id: str) -> tuple[datetime, datetime]:
    """When ``node`` last renewed its lease, and when its preview was failed."""
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        renewed = connection.execute(
            "SELECT renewed_at FROM nodes WHERE id = %s", (node,)
        ).fetchone()
        stopped = connection.execute(
            "SELECT stopped_at FROM preview_instances WHERE id = %s", (preview_id,)
        ).fetchone()
    assert renewed is not None and stopped is not None and stopped[0] is not None
    return renewed[0], stopped[0]


async def _kill_tree(pid: int) -> None:
    for each in [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _first_difference(ids: list[int], stored: list[int]) -> tuple[int, int | None, int | None]:
    for index, (one, other) in enumerate(zip(ids, stored, strict=False)):
        if one != other:
            return index, one, other
    return min(len(ids), len(stored)), None, None


async def test_streams_on_every_node_run_through_an_outage_of_postgresql_for_all(
    tmp_path: Path,
) -> None:
    # PostgreSQL refuses both nodes for longer than a lease: neither fences (no node can
    # renew, so none can reap), the owner's subscribers and the other node's keep getting
    # lines from the tail; once it is back, every line is stored and each subscriber
    # has exactly PostgreSQL's ids to the end.
    with throwaway_postgres() as (db_url, admin, name), trio.fail_after(170):
        outage = PostgresOutage(db_url, admin, name)

        async def refused(seen: list[list[int]]) -> None:
            await outage.begin()
            # Past a lease (6 s) at 500 lines a second, nobody fenced.
            await _each_goes_on(seen, 4000, "outage", limit=60)
            await outage.end()
            await _each_goes_on(seen, 500, "back", limit=60)

        said = await _streams_on_two_nodes_through(tmp_path, db_url, refused)
        assert b"PostgreSQL is down for every node" in said


async def test_streams_on_every_node_run_through_restarts_of_postgresql(tmp_path: Path) -> None:
    # The database server itself restarted mid-stream (a fast shutdown: every session
    # ended, connections refused until it is up again), as an operator's upgrade does,
    # three times, down for 0.6 to 2.6 s: shorter than the time a node may go without
    # renewing its lease, at whatever point of the nodes' renewals it falls (one node's
    # renewal in the outage, the other's after it). No node fences or fails, every
    # subscriber on both nodes goes on, every line is stored once it is back and each
    # subscriber has exactly PostgreSQL's ids to the end.
    async with own_postgres_server(free_port(8)) as server:
        with fresh_database(server.url) as db_url, trio.fail_after(200):

            async def restarted(seen: list[list[int]]) -> None:
                for down_for in (0.6, 1.6, 2.6):
                    await server.restart(down_for)
                    await _each_goes_on(seen, 1000, "after a restart", limit=60)

            await _streams_on_two_nodes_through(tmp_path, db_url, restarted)
            assert server.restarts == 3


def _stall_report(seen: list[list[int]], nodes: dict[str, Node]) -> str:
    """Which subscriber stalled where, and what each node said: a stall's only clues."""
    counts = ", ".join(f"{len(got)} (last {got[-1] if got else None})" for got in seen)
    said = "".join(
        f"\n--- node {name} ---\n{node.said[-6000:].decode(errors='replace')}"
        for name, node in nodes.items()
    )
    return f"subscribers (SSE on A, SSE on B, WebSocket on B) got {counts}{said}"


async def _streams_on_two_nodes_through(
    tmp_path: Path, db_url: str, fault: Callable[[list[list[int]]], Awaitable[None]]
) -> bytes:
    """A ticker on node A, an SSE subscriber on A and an SSE and a WebSocket one on B, live
    through ``fault`` (given what each has seen, it returns once they went on after it);
    then the preview stopped through B: both nodes outlived it, neither fenced, each
    subscriber saw exactly PostgreSQL's ids and the end. Returns what the nodes said."""
    async with trio.open_nursery() as nursery:
        async with (
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
        ):
            _, preview_id, base, _ = await _launch_ticker(a)
            seen: list[list[int]] = [[], [], []]
            ended: list[dict] = []
            async with trio.open_nursery() as clients:
                clients.start_soon(_sse_subscriber, [a], f"{base}/logs/stream", seen[0], ended)
                clients.start_soon(_sse_subscriber, [b], f"{base}/logs/stream", seen[1], ended)
                clients.start_soon(_ws_subscriber, [b], f"{base}/logs/ws", seen[2], ended)
                await _until(lambda: min(map(len, seen)) > 200, "live")
                try:
                    await fault(seen)
                except trio.TooSlowError as stall:
                    raise AssertionError(_stall_report(seen, {"A": a, "B": b})) from stall
                # A node gone since (once in CI, unexplained: its output is the clue).
                for node in (a, b):
                    assert node.process.returncode is None, node.said[-4000:].decode()
                status = await b.client.get(f"{base}/status", headers=auth())
                assert status.json()["status"] == "running", status.text
                stopped = await b.client.delete(base, headers=auth())
                assert stopped.status_code == 200, stopped.text
                await _until(lambda: len(ended) == 3, "the end")
            assert a.process.returncode is None and b.process.returncode is None
            said = bytes(a.said + b.said)
            assert b"fenced itself" not in said
            _assert_each_saw_what_is_stored(db_url, preview_id, *seen)
            assert {end["status"] for end in ended} == {"stopped"}
        nursery.cancel_scope.cancel()
    return said
