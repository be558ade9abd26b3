"""The log quota (preview.logs.quota): what a row costs on disk, and what of a log past
its quota is stored (the head, status events, the tail) and told (the count, the gap)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import trio

from preview.logs import Event, LogBroadcast, LogQuota, seal_log, stored_bytes
from preview.store import Generation, PreviewInstance, Store

T0 = datetime(2026, 11, 21, 12, 0, 0)


def _event(seq: int, message: str, status: str | None = None) -> Event:
    source = "system" if status else "app"
    return Event(seq, T0 + timedelta(milliseconds=seq), "INFO", message, source, None, status)


def _file_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * connection.execute("PRAGMA page_size").fetchone()[0]


@pytest.mark.parametrize("length", [10, 80, 200, 500, 900, 1000, 3000, 5000, 16000])
async def test_stored_bytes_is_what_a_row_adds_to_the_sqlite_file(
    tmp_path: Path, length: int
) -> None:
    path = tmp_path / "t.db"
    with trio.fail_after(60):
        store = await Store.open(f"sqlite:///{path}")
        try:
            await store.add_generation(
                Generation(
                    id="g",
                    user_id="u",
                    project_id=None,
                    created_at=T0,
                    file_count=0,
                    total_bytes=0,
                ),
                {},
            )
            await store.add_preview(
                PreviewInstance(
                    id="preview_0123456789abcdef",
                    generation_id="g",
                    user_id="u",
                    status="running",
                    created_at=T0,
                    expires_at=T0,
                    preview_token_hash="0" * 64,
                    token_expires_at=T0,
                )
            )
            before = await trio.to_thread.run_sync(_file_bytes, path)
            rows = 2000
            events = [_event(seq, "x" * length) for seq in range(1, rows + 1)]
            for start in range(0, rows, 500):
                batch = events[start : start + 500]
                await store.add_log_values([e.to_values("preview_0123456789abcdef") for e in batch])
            grown = await trio.to_thread.run_sync(_file_bytes, path) - before
        finally:
            await store.aclose()
    estimated = sum(stored_bytes(event.message) for event in events)
    # About, and rather below than above: the quota bounds what the file grows by.
    assert 0.8 <= grown / estimated <= 1.1, (grown / rows, estimated / rows)


def test_a_row_s_cost_counts_utf8_bytes() -> None:
    assert stored_bytes("é" * 100) == stored_bytes("x" * 200)


def test_the_head_then_status_events_then_the_tail_and_the_count() -> None:
    line = "x" * 900  # 1,000 bytes stored each
    rows: list[dict] = []
    quota = LogQuota(16_000, on_row=lambda **values: rows.append(values))  # 2,000 of tail
    events = [_event(n, line) for n in range(1, 31)]
    events[19] = _event(20, "stopping", status="stopping")
    stored = list(quota.admit(events[:10]))
    assert [e.id for e in stored] == list(range(1, 11))
    assert quota.summary() is None and rows == []

    # The head is 14,000 bytes: lines 1-14; then only status events are stored.
    stored = list(quota.admit(events[10:25]))
    assert [e.id for e in stored] == [11, 12, 13, 14, 20]
    assert rows == [
        {
            "log_dropped_since": 15,
            "log_dropped_since_at": events[14].timestamp,
            "log_dropped_lines": None,
        }
    ]
    live = quota.summary()
    assert live is not None and live["droppedLines"] == 10 and live["final"] is False
    assert live["since"] == {"id": 15, "timestamp": "2026-11-21T12:00:00.015Z"}
    assert live["lastDroppedId"] == 25
    assert list(quota.admit(events[25:])) == []

    # Sealed at 30: the tail is the newest lines of the ring within 2,000 bytes (29 and 30),
    # stored with the next batch, as is everything published after the seal.
    told = quota.seal(events[22:], 30)
    assert told is not None and "13 lines from id 15 (2026-11-21T12:00:00.015Z) to id 28" in told
    final = [_event(31, "the summary"), _event(32, "stopped", status="stopped")]
    assert [e.id for e in quota.admit(final)] == [29, 30, 31, 32]
    summary = quota.summary()
    assert summary is not None
    assert (summary["droppedLines"], summary["lastDroppedId"], summary["final"]) == (13, 28, True)
    assert rows[-1] == {
        "log_dropped_lines": 13,
        "log_dropped_since": 15,
        "log_dropped_since_at": events[14].timestamp,
        "log_dropped_until": 28,
    }
    # 13 not stored = ids 15..30 (16) - the status event 20 - the tail 29, 30.


def test_a_log_whose_end_fits_in_the_tail_lost_nothing() -> None:
    quota = LogQuota(16_000)
    events = [_event(n, "x" * 900) for n in range(1, 17)]
    assert [e.id for e in quota.admit(events)] == list(range(1, 15))
    assert quota.summary() is not None  # while it runs: 15 and 16 are not stored yet
    assert quota.seal(events, 16) is None
    assert [e.id for e in quota.admit([_event(17, "stopped", "stopped")])] == [15, 16, 17]
    assert quota.summary() is None and quota.row_values()["log_dropped_since"] is None


async def test_seal_log_waits_for_the_writer_then_says_what_was_not_stored() -> None:
    broadcast = LogBroadcast(ring_size=100, subscriber_buffer=100)
    quota = LogQuota(16_000)
    said: list[tuple[str, str]] = []

    async def say(level: str, message: str) -> None:
        said.append((level, message))

    async def writer() -> None:  # what write_log_events does with the quota, storeless
        while batch := await broadcast.take_pending(100):
            quota.admit(batch)
            broadcast.mark_persisted(batch[-1].id)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            for n in range(40):
                await broadcast.publish("INFO", f"{n:04d}" + "x" * 896, "app")
            await seal_log(quota, broadcast, say)
            broadcast.close("stopped")
    assert said == [
        (
            "WARN",
            f"log storage quota of 0.0152588 MiB reached (PREVIEW_LOG_QUOTA_MB): 24 lines from id "
            f"15 ({quota.summary()['since']['timestamp']}) to id 38 were streamed but not stored;"  # type: ignore[index]
            " the history keeps the 14 before them and the 2 after them",
        )
    ]
