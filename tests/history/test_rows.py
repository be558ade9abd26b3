"""The history's writer and table on SQLite and PostgreSQL: a preview's requests cut to
their bounds as batches land, a request of a deleted preview let go, and a preview's
requests removed with its log by the retention."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import trio

from preview import Settings
from preview.clock import utcnow
from preview.history import RequestHistory, capture
from preview.history import rows as rows_module
from preview.history.reads import RequestQuery, list_requests, read_request
from preview.history.rows import ROW_FIELDS, _stored_time, shape_row, write_batch
from preview.history.waiting import shaped
from preview.services import CallOutcome, CallRecord, ProxiedCall
from preview.store import LogRetention, Pace, Store, logrows
from preview.store.models import ProxiedRequest

from ..store.test_store import db_url, generation, preview  # noqa: F401 (db_url: a fixture)


def _runtime(pid: str, gid: str = "g1") -> SimpleNamespace:
    return SimpleNamespace(id=pid, spec=SimpleNamespace(generation_id=gid))


def test_a_rows_time_is_the_datetimes_text_to_the_microsecond() -> None:
    epoch = datetime(1970, 1, 1)
    for started in (1_764_000_000.0, 1_764_000_000.123456, 1_764_000_000.9999996, 0.5):
        expected = (epoch + timedelta(seconds=started)).isoformat(sep=" ", timespec="microseconds")
        assert _stored_time(started) == expected
    assert _stored_time(1_764_000_000.9999996).endswith(":01.000000")  # carried


def test_a_shaped_row_has_every_column_but_the_id() -> None:
    columns = [column.key for column in ProxiedRequest.__table__.c if column.key != "id"]
    assert sorted(ROW_FIELDS) == sorted(columns)


async def test_batches_are_bounded_masked_and_go_with_the_log(db_url: str) -> None:  # noqa: F811
    settings = dataclasses.replace(Settings(), capture_requests=3, capture_body_bytes=4)
    history = RequestHistory(settings)
    with trio.fail_after(60):
        store = await Store.open(db_url)
        try:
            await store.add_generation(generation("g1"), {})
            ended = utcnow() - timedelta(days=8)
            await store.add_preview(preview("p1", "g1", status="stopped", stopped_at=ended))
            await store.add_preview(preview("p2", "g1", status="running"))
            async with trio.open_nursery() as nursery:
                await nursery.start(history.serve, store)
                for n in range(5):
                    for pid in ("p1", "p2", "gone"):
                        _, capture = history.start(b"0123456789")
                        capture.answer.add(b"answer")
                        call = ProxiedCall(
                            "proxy",
                            "POST",
                            f"/x/{n}?api_key=k&a=1",
                            [("Authorization", "Basic abc"), ("X-Api-Key", "k")],
                            f"req_{pid}_{n}",
                            trio.current_time(),
                        )
                        answered = CallOutcome(201, [(b"set-cookie", b"s=v; HttpOnly")], 1.5)
                        capture.record(_runtime(pid), call, answered, n)
                await history.settled()
                await history.aclose()
            rows = await store.run_sync(list_requests, store.engine, RequestQuery("g1", limit=10))
            # At most 3 each, the newest (past the bound, cut to nine tenths of it: 2).
            for pid in ("p1", "p2"):
                paths = [r["path"] for r in rows if r["preview_id"] == pid]
                assert paths in (
                    [f"/x/{n}?api_key=[masked]&a=1" for n in (4, 3, 2)][:k] for k in (2, 3)
                )
            whole = await store.run_sync(read_request, store.engine, "g1", rows[0]["id"])
            # Shaped as text for SQLite's inserts, as a datetime for PostgreSQL's: read back
            # the same (naive UTC).
            assert abs(whole["started_at"] - utcnow()) < timedelta(minutes=1)
            assert whole["request_body"] == b"0123" and whole["request_size"] == 10
            assert whole["response_body"] == b"answ" and whole["response_size"] == 6
            assert whole["request_headers"] == (
                '[["Authorization", "Basic [masked]"], ["X-Api-Key", "[masked]"]]'
            )
            assert whole["response_headers"] == '[["set-cookie", "s=[masked]; HttpOnly"]]'
            assert await LogRetention(store, 7, pause=0).run_once() == 1
            rows = await store.run_sync(list_requests, store.engine, RequestQuery("g1", limit=10))
            assert {r["preview_id"] for r in rows} == {"p2"}
            assert history.not_kept == 0
        finally:
            await store.aclose()


def _shaped(pid: str, n: int, body: bytes = b"") -> tuple:
    return shape_row(
        CallRecord(
            pid,
            "g1",
            f"req_{pid}_{n}",
            n,
            "proxy",
            None,
            1_764_000_000.0 + n,
            1.0,
            1.0,
            "GET",
            f"/n/{n}",
            200,
            None,
            [],
            body or None,
            [],
            None,
        )
    )


@contextlib.asynccontextmanager
async def _two_previews(url: str) -> AsyncIterator[Store]:
    """A store with the generation ``g1`` and its previews ``p1`` (ended: a generation has
    one live preview at most) and ``p2`` (running)."""
    store = await Store.open(url)
    try:
        await store.add_generation(generation("g1"), {})
        await store.add_preview(preview("p1", "g1", status="stopped", stopped_at=utcnow()))
        await store.add_preview(preview("p2", "g1", status="running"))
        yield store
    finally:
        await store.aclose()


@pytest.mark.parametrize("paced", [False, True])
async def test_a_batch_past_the_bounds_keeps_what_the_cut_would_leave(
    db_url: str,  # noqa: F811
    paced: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch with more of a preview's requests than it may keep inserts only the newest
    nine tenths (its older rows all go); the table, and the writer's totals, are what
    inserting all and cutting gives; paced (a rest after each statement, its deletes two
    rows at a time), the same."""
    monkeypatch.setattr(logrows, "_SLICE", 0.0)
    monkeypatch.setattr(logrows, "_REST", 0.0)
    monkeypatch.setattr(logrows, "_MOST_RESTS", 10**6)
    monkeypatch.setattr(rows_module, "_DELETED_AT_ONCE", 2)
    pace = Pace(lambda: False) if paced else None
    with trio.fail_after(60):
        async with _two_previews(db_url) as store:
            totals: dict[str, list[int]] = {}

            async def write(rows: list[tuple], max_count: int = 10, max_bytes: int = 2**20):
                bounds = (max_count, max_bytes)
                await store.run_sync(write_batch, store.engine, rows, *bounds, totals, pace)
                listed = await store.run_sync(list_requests, store.engine, RequestQuery("g1", 100))
                return {
                    pid: [
                        int(r["path"].rsplit("/", 1)[1])
                        for r in reversed(listed)
                        if r["preview_id"] == pid
                    ]
                    for pid in ("p1", "p2")
                }

            assert await write([_shaped("p1", n) for n in range(5)]) == {
                "p1": [0, 1, 2, 3, 4],
                "p2": [],
            }
            mixed = [_shaped("p1", n) for n in range(5, 30)]
            mixed[3:3] = [_shaped("p2", n) for n in range(3)]
            # p1: 30 in all, past 10: its newest 9, all of this batch; p2 untouched.
            assert await write(mixed) == {"p1": list(range(21, 30)), "p2": [0, 1, 2]}
            assert totals["p1"] == [9, sum(_shaped("p1", n)[-1] for n in range(21, 30))]
            assert totals["p2"] == [3, sum(_shaped("p2", n)[-1] for n in range(3))]
            # Two more: 11, cut as before (the newest 9, across both batches).
            kept = await write([_shaped("p1", n) for n in (30, 31)])
            assert kept["p1"] == list(range(23, 32))
            assert totals["p1"] == [9, sum(_shaped("p1", n)[-1] for n in range(23, 32))]
            # Past the bytes but not the count, the batch alone within both: the newest
            # within nine tenths of the bytes (the big one and the 31st).
            heavy = _shaped("p1", 32, b"z" * 600)
            small = _shaped("p1", 31)[-1]
            bound = heavy[-1] + small * 2 + 60  # nine tenths: the heavy one and one more
            assert (await write([heavy], max_bytes=bound))["p1"] == [31, 32]
            assert totals["p1"] == [2, heavy[-1] + small]
            # By bytes: three big bodies are past max_bytes; nine tenths of it hold one.
            big = [_shaped("p2", n, b"x" * 400) for n in (3, 4, 5)]
            size = big[0][-1]
            assert await write(big, max_bytes=size * 2) == {"p1": [31, 32], "p2": [5]}
            assert totals["p2"] == [1, size]
            # One request alone past nine tenths of the bytes: nothing of it is kept.
            assert (await write([_shaped("p2", 6, b"y" * 4000)], max_bytes=1000))["p2"] == []
            assert totals["p2"] == [0, 0]
            if paced and db_url.startswith("sqlite"):
                assert pace.rests == 15  # after the inserts' 7 statements and 8 deletes'


async def test_large_rows_are_written_a_few_to_a_statement(tmp_path: Any, monkeypatch) -> None:
    """Rows of large samples go a few to a statement (``_STATEMENT_BYTES``), so that the
    pace comes between them (here hurried: a yield after each), and a paced delete of
    such rows takes as few at once; small rows go many to one."""
    monkeypatch.setattr(logrows, "_SLICE", 0.0)
    with trio.fail_after(60):
        async with _two_previews(f"sqlite:///{tmp_path}/t.db") as store:
            pace = Pace(lambda: True)
            rows = [_shaped("p1", n, b"x" * 100_000) for n in range(6)]
            totals: dict[str, list[int]] = {}
            await store.run_sync(write_batch, store.engine, rows, 100, 2**30, totals, pace)
            assert (pace.rests, pace.yields) == (0, 3)  # two rows to each of 3 statements
            small = Pace(lambda: True)
            rows = [_shaped("p2", n) for n in range(6)]
            await store.run_sync(write_batch, store.engine, rows, 100, 2**30, totals, small)
            assert small.yields == 2  # statements of 4 and 2 rows (its chunks)
    assert rows_module._deleted_at_once([6, 6 * 100_500]) == 2
    assert rows_module._deleted_at_once([6, 6 * 300]) == rows_module._DELETED_AT_ONCE
    assert rows_module._deleted_at_once(None) == rows_module._DELETED_AT_ONCE


def _kept(history: RequestHistory, pid: str, numbers: Any, body: bytes = b"") -> None:
    for n in numbers:
        _, kept = history.start(body or None)
        call = ProxiedCall("proxy", "GET", f"/n/{n}", [], f"req_{n}", trio.current_time())
        kept.record(_runtime(pid), call, CallOutcome(200, [], 1.0), n)


async def test_rows_let_go_while_waiting_leave_what_the_whole_batch_would(db_url: str) -> None:  # noqa: F811
    """A preview's oldest waiting requests are let go past its count bound, and the rows
    shaped of what waits are its newest within both bounds and one more (by count or by
    bytes): the batch then leaves the table as the whole would, whatever the bounds and
    sizes."""
    chance = random.Random(25)
    with trio.fail_after(120):
        async with _two_previews(db_url) as store:
            for case in range(12):
                max_count, max_bytes = chance.randint(1, 12), chance.randint(600, 6000)
                settings = dataclasses.replace(
                    Settings(), capture_requests=max_count, capture_body_bytes=4096
                )
                history = RequestHistory(settings)
                history.max_bytes = max_bytes  # capture_mb counts whole MiB
                sizes = [chance.choice((0, 0, 50, 300, 900)) for _ in range(chance.randint(1, 40))]
                whole = [_shaped("p1", n, b"b" * size) for n, size in enumerate(sizes)]
                for n, size in enumerate(sizes):
                    _kept(history, "p2", [n], b"b" * size)
                assert len(history._waiting["p2"].items) <= max_count + 1
                waiting = await shaped(history._waiting, max_count, max_bytes, _never)
                after_oldest = waiting[1:]  # within both bounds: one row more than them
                assert len(after_oldest) <= max_count
                assert sum(row[rows_module.STORED] for row in after_oldest) <= max_bytes
                assert [row[ROW_FIELDS.index("path")] for row in waiting] == [
                    row[ROW_FIELDS.index("path")] for row in whole[len(whole) - len(waiting) :]
                ]
                found = {}
                for pid, rows in (("p1", whole), ("p2", waiting)):
                    totals: dict[str, list[int]] = {}
                    await store.run_sync(
                        write_batch, store.engine, rows, max_count, max_bytes, totals
                    )
                    listed = await store.run_sync(
                        list_requests, store.engine, RequestQuery("g1", 100)
                    )
                    found[pid] = [r["path"] for r in listed if r["preview_id"] == pid]
                assert found["p1"] == found["p2"], (case, max_count, max_bytes, sizes)
                await store.run_sync(_delete_requests, store.engine)


def _never() -> None:
    raise AssertionError("a request could not be shaped")


def _delete_requests(engine: Any) -> None:
    with engine.begin() as connection:
        connection.execute(ProxiedRequest.__table__.delete())


async def test_the_writer_lingers_for_a_preview_that_would_pass_its_bound_meanwhile() -> None:
    history = RequestHistory(dataclasses.replace(Settings(), capture_requests=1000))
    _kept(history, "p1", range(200))
    # 200 in the first second: 800 in _CAPPED_LINGER's 4 s, within the bound.
    assert not history._worth_lingering(capture._LINGER)
    _kept(history, "p1", range(200, 260))  # 260: 1,040 in 4 s
    assert history._worth_lingering(capture._LINGER)
    assert not history._worth_lingering(capture._LINGER * 2)  # as many in twice as long
    history._capped = True  # the last batch was past a bound: it lingers whatever came
    assert history._worth_lingering(100.0)
    history._pending = capture._MAX_PENDING // 2  # but not with half of what may wait
    assert not history._worth_lingering(capture._LINGER)


async def test_past_its_bound_a_preview_is_written_in_fewer_batches(
    db_url: str,  # noqa: F811
    monkeypatch,
) -> None:
    """A preview coming too fast for its bound is written in one batch however many came
    (the writer lingers for it, its older rows let go as newer come), until half of what
    may wait came or a reader waits; a trickle is written after the short linger."""
    monkeypatch.setattr(capture, "_LINGER", 0.05)
    monkeypatch.setattr(capture, "_CAPPED_LINGER", 0.06)  # 3 in 0.05 s: slow for a bound of 10
    monkeypatch.setattr(capture, "_MAX_PENDING", 40)
    batches_in, batches = trio.open_memory_channel[int](100)
    stored, write = capture.until_stored, capture.write_batch
    written: list[int] = []

    def counted_write(engine, rows, *args):
        written.append(len(rows))
        return write(engine, rows, *args)

    async def counted(write, **kwargs):  # each batch the writer stores, and its size
        capped = await stored(write, **kwargs)
        batches_in.send_nowait(written.pop())
        return capped

    monkeypatch.setattr(capture, "until_stored", counted)
    monkeypatch.setattr(capture, "write_batch", counted_write)
    history = RequestHistory(dataclasses.replace(Settings(), capture_requests=10))

    async def paths(pid: str = "p2") -> list[str]:
        listed = await store.run_sync(list_requests, store.engine, RequestQuery("g1", 5000))
        return [r["path"] for r in listed if r["preview_id"] == pid]

    with trio.fail_after(60):
        async with _two_previews(db_url) as store:
            totals: dict[str, list[int]] = {}
            rows = [_shaped("p1", n) for n in range(5)]
            assert not await store.run_sync(write_batch, store.engine, rows, 10, 2**20, totals)
            rows = [_shaped("p1", n) for n in range(5, 20)]
            assert await store.run_sync(write_batch, store.engine, rows, 10, 2**20, totals)
            assert not await store.run_sync(write_batch, store.engine, [], 10, 2**20, totals)
            async with trio.open_nursery() as nursery:
                await nursery.start(history.serve, store)
                _kept(history, "p2", range(3))  # a trickle: stored after the short linger
                assert await batches.receive() == 3
                monkeypatch.setattr(capture, "_CAPPED_LINGER", 600.0)  # now any rate is fast
                _kept(history, "p2", range(3, 130))  # past its bound: the writer lingers,
                with trio.move_on_after(0.3):  # its oldest let go (11 wait, of 127)
                    assert await batches.receive() is None
                with trio.fail_after(10):
                    await history.settled()  # a reader has what came before it at once
                assert await batches.receive() == 11
                assert await paths() == [f"/n/{n}" for n in range(129, 120, -1)]
                _kept(history, "p2", range(200, 215))  # the last batch was capped: it lingers
                with trio.move_on_after(0.3):
                    assert await batches.receive() is None
                _kept(history, "p1", range(100, 109))  # and ends at half of what may wait
                assert await batches.receive() == 20
                assert (await paths())[:2] == ["/n/214", "/n/213"]
                assert (await paths("p1"))[:2] == ["/n/108", "/n/107"]
                assert history.not_kept == 0
                await history.aclose()


async def test_a_batch_nobody_waits_for_is_written_in_slices(db_url: str, monkeypatch) -> None:  # noqa: F811
    """After the writer's linger a batch is written paced (``store.Pace``: rests between
    its statements); one a reader waits for (``settled()``) rests not at all, nor its
    rows' fate."""
    monkeypatch.setattr(capture, "_LINGER", 0.05)
    stored, write = capture.until_stored, capture.write_batch
    paces_in, paces = trio.open_memory_channel[Any](10)
    taken: list[Any] = []

    def spied(engine, rows, max_count, max_bytes, totals, pace=None):
        taken.append(pace)
        return write(engine, rows, max_count, max_bytes, totals, pace)

    async def signalled(write, **kwargs):  # each batch's pace, once it is stored
        capped = await stored(write, **kwargs)
        paces_in.send_nowait(taken.pop())
        return capped

    monkeypatch.setattr(capture, "until_stored", signalled)
    monkeypatch.setattr(capture, "write_batch", spied)
    history = RequestHistory(Settings())
    with trio.fail_after(60):
        async with _two_previews(db_url) as store, trio.open_nursery() as nursery:
            await nursery.start(history.serve, store)
            _kept(history, "p1", range(40))
            assert isinstance(await paces.receive(), Pace)
            _kept(history, "p1", range(40, 45))
            await history.settled()  # a reader: the batch is written at once
            assert (await paces.receive()).rests == 0
            listed = await store.run_sync(list_requests, store.engine, RequestQuery("g1", 100))
            assert [r["path"] for r in listed] == [f"/n/{n}" for n in range(44, -1, -1)]
            await history.aclose()
