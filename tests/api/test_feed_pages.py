"""Pages read from the store for a stream or a download hold a bounded number of bytes,
however long the lines; short lines still come 2,000 to a page."""

from __future__ import annotations

import trio

from preview.api.feed import _PAGE, PAGE_BYTES, stored_events
from preview.logs import Event
from preview.store import Store

from ..store.test_store import T0, setup_preview


async def _store_with(tmp_path, messages: list[str]) -> Store:
    store = await Store.open(f"sqlite:///{tmp_path}/pages.db")
    await setup_preview(store)
    rows = [
        Event(n, T0, "INFO", message, "app", "stdout").to_values("p1")
        for n, message in enumerate(messages, 1)
    ]
    await store.add_log_values(rows)
    return store


async def test_pages_of_long_lines_are_bounded_in_bytes(tmp_path) -> None:
    with trio.fail_after(60):
        store = await _store_with(tmp_path, ["x" * 16_384] * 1200)  # 19 MiB
        try:
            for known in (0, 16_384):  # unknown mean (a download), known (a catch-up)
                pages = [page async for page in stored_events(store, "p1", 0, event_bytes=known)]
                sizes = [sum(len(e.message) for e in page) for page in pages]
                assert sum(len(page) for page in pages) == 1200
                assert max(sizes) <= 4 * 1024 * 1024, sizes  # not 2,000 x 16 KiB
                assert all(size <= PAGE_BYTES + 16_384 for size in sizes[1:]), sizes
        finally:
            await store.aclose()


async def test_short_lines_still_come_in_full_pages(tmp_path) -> None:
    with trio.fail_after(60):
        store = await _store_with(tmp_path, [f"line {n}" for n in range(5000)])
        try:
            pages = [page async for page in stored_events(store, "p1", 0, event_bytes=9)]
            assert [len(page) for page in pages] == [_PAGE, _PAGE, 1000]
            ids = [e.id for page in pages for e in page]
            assert ids == list(range(1, 5001))
        finally:
            await store.aclose()
