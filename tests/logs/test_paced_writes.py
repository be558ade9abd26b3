"""A trickle's background writes in slices with rests (``store.Pace``): the same rows
stored, rests between statements, none once somebody waits for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import trio

from preview.logs import LogBroadcast, write_log_events
from preview.store import Pace, Store, logrows

from ..store.test_store import generation, preview

T0 = datetime(2026, 11, 26, 12, 0, 0, 123456)


async def _store_with_preview(path: Any) -> Store:
    store = await Store.open(f"sqlite:///{path}/t.db")
    await store.add_generation(generation("g1"), {})
    await store.add_preview(preview("p1", "g1", status="running"))
    return store


def _values(first: int, count: int) -> list[tuple]:
    return [
        ("p1", seq, T0, "INFO", f"line {seq}", "app", "stdout", None, None)
        for seq in range(first, first + count)
    ]


async def test_a_paced_insert_rests_between_statements_and_stores_the_same_rows(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """Past its slice a paced write rests after a statement (here every one: a slice of
    nothing), up to its most rests; hurried, it does not; past its most rests or
    hurried, it lets the core go instead (a yield); the rows are those of an unpaced
    write."""
    monkeypatch.setattr(logrows, "_SLICE", 0.0)
    monkeypatch.setattr(logrows, "_REST", 0.0)
    with trio.fail_after(60):
        store = await _store_with_preview(tmp_path)
        try:
            paced = Pace(lambda: False)
            await store.add_log_values(_values(1, 100), paced)  # statements of 32, 32, 32, 4
            assert (paced.rests, paced.yields) == (4, 0)
            hurried = Pace(lambda: True)
            await store.add_log_values(_values(101, 100), hurried)
            assert (hurried.rests, hurried.yields) == (0, 4)
            await store.add_log_values(_values(201, 100))
            monkeypatch.setattr(logrows, "_MOST_RESTS", 2)  # the write lock is held so long
            capped = Pace(lambda: False)
            await store.add_log_values(_values(301, 100), capped)
            assert (capped.rests, capped.yields) == (2, 2)
            rows = await store.log_event_values("p1", after=0, before=None, limit=1000)
            assert [row[0] for row in rows] == list(range(1, 401))
            assert {row[3] for row in rows[:100]} == {f"line {n}" for n in range(1, 101)}
            assert rows[150][1:3] == (T0, "INFO")
        finally:
            await store.aclose()


async def test_the_log_writer_paces_a_trickle_until_a_reader_waits(tmp_path: Any) -> None:
    """A trickle nobody waits for is written in slices; once a reader waits for it
    (``wait_persisted``), its batch is not, and the reader has it."""
    broadcast = LogBroadcast(ring_size=100, subscriber_buffer=10, writer_buffer=1024)
    with trio.fail_after(60):
        store = await _store_with_preview(tmp_path)
        try:
            paces: list[Any] = []
            written = trio.Event()
            add = store.add_log_values

            async def spied(values: Any, pace: Any = None) -> None:
                paces.append(pace)
                await add(values, pace)
                written.set()

            store.add_log_values = spied  # type: ignore[method-assign]
            async with trio.open_nursery() as nursery:
                nursery.start_soon(write_log_events, store, "p1", broadcast)
                for n in range(3):
                    await broadcast.publish("INFO", f"line {n}", "app", "stdout")
                await written.wait()  # after the writer's linger: nobody waited
                assert isinstance(paces[-1], Pace)
                last = await broadcast.publish("INFO", "wanted", "app", "stdout")
                await broadcast.wait_persisted(last.id)  # a reader: the linger ends
                assert paces[-1] is None
                rows = await store.log_event_values("p1", after=0, before=None, limit=10)
                assert [row[3] for row in rows] == ["line 0", "line 1", "line 2", "wanted"]
                broadcast.close("stopped")
        finally:
            await store.aclose()
