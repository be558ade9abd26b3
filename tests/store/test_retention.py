"""PREVIEW_LOG_RETENTION_DAYS: the log history of previews that ended long ago is removed
in the background, in batches, never holding the live previews' writer; the rows stay
and say when (SQLite, and PostgreSQL when PREVIEW_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import trio

from preview import Settings
from preview.clock import utcnow
from preview.store import LogRetention, Store
from preview.store import retention as retention_module

from ..conftest import auth, eventually, running_service
from ..outages import launch_ticker
from .test_store import db_url, generation, log_row, preview  # noqa: F401 (db_url: a fixture)

DAY = timedelta(days=1)


@pytest.fixture
async def opened_store(db_url: str) -> AsyncIterator[Store]:  # noqa: F811 (the fixture)
    with trio.fail_after(30):
        opened = await Store.open(db_url)
    try:
        yield opened
    finally:
        await opened.aclose()


async def _preview_with_log(store: Store, pid: str, rows: int, **row: object) -> None:
    if await store.get_generation("g1") is None:
        await store.add_generation(generation("g1"), {})
    await store.add_preview(preview(pid, "g1", **row))
    for start in range(1, rows + 1, 5000):
        end = min(start + 5000, rows + 1)
        await store.add_log_events([log_row(pid, seq) for seq in range(start, end)])


async def test_a_pass_removes_old_previews_logs_in_batches_and_nothing_else(
    opened_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, now = opened_store, utcnow()
    with trio.fail_after(120):
        await _preview_with_log(store, "old", 12_345, status="stopped", stopped_at=now - 8 * DAY)
        await _preview_with_log(store, "older", 10, status="failed", stopped_at=now - 30 * DAY)
        await _preview_with_log(store, "recent", 10, status="stopped", stopped_at=now - 6 * DAY)
        await _preview_with_log(store, "live", 10, status="running", created_at=now - 30 * DAY)
        batches: list[tuple[str, int]] = []
        remove_batch = retention_module._remove_batch

        def counted(engine, preview_id: str, rows: int) -> int:
            removed = remove_batch(engine, preview_id, rows)
            batches.append((preview_id, removed))
            return removed

        monkeypatch.setattr(retention_module, "_remove_batch", counted)
        retention = LogRetention(store, 7, pause=0)
        assert await retention.run_once() == 2
        assert sorted(batches) == [("old", 2345), ("old", 5000), ("old", 5000), ("older", 10)]
        for pid in ("old", "older"):
            assert await store.count_log_events(pid) == 0
            row = await store.get_preview(pid)
            assert row is not None and row.logs_removed_at is not None
            assert row.logs_removed_at >= now
        for pid in ("recent", "live"):
            assert await store.count_log_events(pid) == 10
            row = await store.get_preview(pid)
            assert row is not None and row.logs_removed_at is None
        assert await retention.run_once() == 0  # once removed, never looked at again
        assert retention.passes == 2
        # Two days later the recent one is over its seven days too.
        assert await retention.run_once(now + 2 * DAY) == 1
        assert await store.count_log_events("recent") == 0


async def test_the_service_removes_old_logs_in_the_background_never_holding_the_writer(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A preview that ended 8 days ago, left by an earlier run of the service.
    with trio.fail_after(60):
        store = await Store.open(settings.database_url)
        try:
            await _preview_with_log(
                store, "preview_old", 60_000, status="stopped", stopped_at=utcnow() - 8 * DAY
            )
        finally:
            await store.aclose()

    progress: list[int] = []  # the live preview's stored events when each batch begins
    runtime = None
    remove_batch = retention_module._remove_batch

    async def stored_after(persisted_id: int) -> None:
        assert runtime is not None
        await eventually(lambda: runtime.broadcast.persisted_id > persisted_id)

    def watched(engine, preview_id: str, rows: int) -> int:
        # Between two batches the writer must be free to store the lines the ticker
        # printed: the next batch waits for it, so a removal that held the writer
        # between batches would never see it progress (and the test's deadline would
        # end it), whatever the machine's load.
        if runtime is not None:
            if progress:
                trio.from_thread.run(stored_after, progress[-1])
            progress.append(runtime.broadcast.persisted_id)
        return remove_batch(engine, preview_id, rows)

    monkeypatch.setattr(retention_module, "_remove_batch", watched)
    async with running_service(settings) as service:
        with trio.fail_after(120):
            retention = service.supervisor.retention
            assert retention.days == 7 and retention.batch_rows == 5000
            await retention.wait_for_pass(1)  # the pass at start
            assert await service.store.count_log_events("preview_old") == 0
            old = await service.store.get_preview("preview_old")
            assert old is not None and old.logs_removed_at is not None

            # Another such preview while one prints every 10 ms: between two batches
            # of the removal, the live preview's writer stores its lines.
            gid, runtime, _ = await launch_ticker(service)
            await _preview_with_log(
                service.store,
                "preview_old2",
                60_000,
                status="failed",
                stopped_at=utcnow() - 9 * DAY,
            )
            assert await retention.run_once() == 1
            assert len(progress) == 13
            assert all(b > a for a, b in itertools.pairwise(progress)), progress

            history = await service.client.get(
                "/api/generations/g1/preview/logs?previewId=preview_old2", headers=auth("u1")
            )
            assert history.status_code == 200, history.text
            page = history.json()
            assert page["events"] == [] and page["logsRemovedAt"].endswith("Z")
            assert page["logsTruncated"] is None
            await service.stop(gid)
