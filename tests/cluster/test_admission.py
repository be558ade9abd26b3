"""Launch limits across nodes (preview.cluster.admission) under the worst overlap: every
launch of a user waits on the user's advisory lock at once, each in a thread and on a
connection of its own (as launches through several nodes are), against a fresh
PostgreSQL database. A negative control under REPEATABLE READ shows the test can fail."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
import trio

from preview.clock import utcnow
from preview.cluster.admission import AlreadyLive, AtLimit, place_preview, user_lock_key
from preview.store import Generation, PreviewInstance, Store

from .nodes import PG_ENV, fresh_database

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")
LAUNCHES = 6


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _row(pid: str, gid: str, user: str) -> dict:
    now = utcnow()
    return PreviewInstance(
        id=pid,
        generation_id=gid,
        user_id=user,
        status="starting",
        created_at=now,
        expires_at=now + timedelta(hours=1),
        preview_token_hash="0" * 64,
        token_expires_at=now + timedelta(hours=1),
        node_id="node-a",
        owner_epoch=1,
    ).values()


async def _all_at_once(store: Store, user: str, limit: int, isolation: str) -> list[str]:
    """Each launch's outcome ("placed", "at limit"), all let go at once."""
    # A connection each: the launches, the lock's holder, the watcher.
    engine = sa.create_engine(store.url, pool_size=LAUNCHES + 2, max_overflow=0)
    key = user_lock_key(user)
    outcomes: list[str] = []

    def launch(n: int) -> None:
        gid = f"g-{user}-{n}"
        try:
            place_preview(engine, _row(f"p-{user}-{n}", gid, user), limit, isolation=isolation)
        except AtLimit:
            outcomes.append("at limit")
        else:
            outcomes.append("placed")

    def waiting() -> int:
        with engine.connect() as connection:
            return connection.scalar(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )

    try:
        for n in range(LAUNCHES):
            await store.add_generation(
                Generation(
                    id=f"g-{user}-{n}",
                    user_id=user,
                    created_at=utcnow(),
                    file_count=0,
                    total_bytes=0,
                ),
                {},
            )
        holder = await trio.to_thread.run_sync(engine.connect)
        try:
            # The user's lock held, so that every launch waits on it, then all go at once.
            await trio.to_thread.run_sync(
                lambda: holder.execute(
                    sa.text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), {"key": key}
                )
            )
            async with trio.open_nursery() as nursery:
                for n in range(LAUNCHES):
                    nursery.start_soon(trio.to_thread.run_sync, launch, n)
                try:
                    while await trio.to_thread.run_sync(waiting, abandon_on_cancel=True) < LAUNCHES:  # noqa: ASYNC110
                        await trio.sleep(0.01)  # the database's state: polled
                finally:  # let them go, whatever happened: the threads wait on it
                    with trio.CancelScope(shield=True), trio.fail_after(10):
                        await trio.to_thread.run_sync(
                            lambda: holder.execute(
                                sa.text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"),
                                {"key": key},
                            )
                        )
        finally:
            await trio.to_thread.run_sync(holder.close)
    finally:
        engine.dispose()
    return outcomes


async def test_a_users_limit_holds_however_many_launches_come_at_once(db_url: str) -> None:
    with trio.fail_after(60):
        store = await Store.open(db_url)
        try:
            for user, limit in (("free-user", 1), ("pro-user", 3)):
                outcomes = await _all_at_once(store, user, limit, "READ COMMITTED")
                assert sorted(outcomes) == ["at limit"] * (LAUNCHES - limit) + ["placed"] * limit
        finally:
            await store.aclose()


async def test_negative_control_repeatable_read_lets_them_all_through(db_url: str) -> None:
    # Under REPEATABLE READ the snapshot is taken as the lock call starts, before it
    # waits: the count misses the launches committed meanwhile (CLUSTER.md, 2.3).
    with trio.fail_after(60):
        store = await Store.open(db_url)
        try:
            outcomes = await _all_at_once(store, "free-user", 1, "REPEATABLE READ")
            assert outcomes.count("placed") > 1, outcomes
        finally:
            await store.aclose()


async def test_a_generations_second_live_preview_is_refused(db_url: str) -> None:
    with trio.fail_after(60):
        store = await Store.open(db_url)
        try:
            await store.add_generation(
                Generation(id="g1", user_id="u", created_at=utcnow(), file_count=0, total_bytes=0),
                {},
            )
            await store.run_sync(place_preview, store.engine, _row("p1", "g1", "u"), 3)
            with pytest.raises(AlreadyLive) as live:
                await store.run_sync(place_preview, store.engine, _row("p2", "g1", "u"), 3)
            assert (live.value.preview_id, live.value.status) == ("p1", "starting")
        finally:
            await store.aclose()
