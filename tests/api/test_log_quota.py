"""A preview's log past PREVIEW_LOG_QUOTA_MB, through a real service and a real SQLite
file: the stream shows every line; the store keeps the head, the status events and the
newest lines, and grows by about the quota; the gap is told by one ``system`` event, the
status, the history and its downloads."""

from __future__ import annotations

import sqlite3
from contextlib import aclosing
from pathlib import Path

import pytest
import trio

from preview import Settings

from ..conftest import SERVER_COMMAND, Service, auth, running_service, server_app, sse_events

LINES = 40_000
# Prints LINES lines of about 100 bytes as fast as it can when asked (GET /emit).
FLOOD = server_app(
    before_serving=f"""
    class Emit(Handler):
        def do_GET(self):
            if self.path == "/emit":
                pad = "x" * 90
                for n in range({LINES}):
                    sys.stdout.write(f"line {{n}} {{pad}}\\n")
                sys.stdout.flush()
            super().do_GET()
    Handler = Emit
    """
)


def _main_file_bytes(path: Path) -> int:
    """The pages the SQLite file uses, with the WAL checkpointed into it."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * connection.execute("PRAGMA page_size").fetchone()[0]


@pytest.fixture
def small_quota(settings: Settings) -> Settings:
    object.__setattr__(settings, "log_quota_mb", 1)
    # A ring that holds the whole flood: the test's own subscriber never falls behind it.
    object.__setattr__(settings, "max_log_lines", 2 * LINES)
    object.__setattr__(settings, "ring_bytes", 64 * 1024 * 1024)
    return settings


async def test_past_its_quota_a_log_is_streamed_whole_and_stored_head_and_tail(
    small_quota: Settings,
) -> None:
    database = small_quota.data_dir / "preview.db"
    async with running_service(small_quota) as service:
        with trio.fail_after(120):
            gid = await service.upload(FLOOD)
            before = await trio.to_thread.run_sync(_main_file_bytes, database)
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] == "running", body
            streamed, status_while_running, history_while_running = await _flood_and_stop(
                service, gid, body
            )
            grown = await trio.to_thread.run_sync(_main_file_bytes, database) - before
            await _check(service, gid, streamed, status_while_running, history_while_running)
    # The log took about its quota of the file (the preview's row and the rest: a page or two).
    assert 0.7 * 2**20 <= grown <= 1.15 * 2**20, grown


async def _flood_and_stop(service: Service, gid: str, body: dict) -> tuple[list, dict, dict]:
    streamed: list = []
    last_line = trio.Event()

    async def follow() -> None:
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with (
            service.client.stream("GET", url, headers=auth()) as response,
            aclosing(sse_events(response)) as events,
        ):
            async for event in events:
                streamed.append(event)
                if event[1].get("message", "").startswith(f"line {LINES - 1} "):
                    last_line.set()
                if event[0] == "end":
                    return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(follow)
        assert (await service.app_get(body, "/emit")).status_code == 200
        await last_line.wait()
        status = await service.status(gid)
        history = (
            await service.client.get(
                f"/api/generations/{gid}/preview/logs", params={"limit": 5000}, headers=auth()
            )
        ).json()
        assert (await service.stop(gid)).status_code == 200
    return streamed, status, history


async def _check(
    service: Service, gid: str, streamed: list, running: dict, running_history: dict
) -> None:
    # The stream showed every event, the lines not stored included.
    assert streamed[-1][0] == "end"
    ids = [event_id for _, _, event_id in streamed[:-1]]
    assert ids == list(range(1, len(ids) + 1))
    app_lines = [data["message"] for _, data, _ in streamed if data.get("source") == "app"]
    assert len(app_lines) == LINES

    # While it ran, the status and the history said that the store stopped at the head.
    live = running["logsTruncated"]
    assert live is not None and live["final"] is False and live["droppedLines"] > 0
    since = live["since"]["id"]
    assert running_history["logsTruncated"]["since"] == live["since"]
    assert [e["id"] for e in running_history["events"]][: since - 1] == list(range(1, since))

    # Once over: the head, the status events in the gap, the tail and the summary.
    status = await service.status(gid)
    told = status["logsTruncated"]
    assert told["final"] is True and told["since"] == live["since"]
    history = await service.history(gid)
    kept = [e["id"] for e in history]
    missing = sorted(set(ids) - set(kept))
    assert len(missing) == told["droppedLines"] > 0
    assert missing == list(range(since, told["lastDroppedId"] + 1))
    assert kept[: since - 1] == list(range(1, since))  # the head, whole
    tail = kept[kept.index(told["lastDroppedId"] + 1) :] if told["lastDroppedId"] else []
    assert tail == list(range(told["lastDroppedId"] + 1, ids[-1] + 1))
    assert len(tail) > 100  # the newest lines, the summary and the final status
    by_id = {e["id"]: e for e in history}
    assert [by_id[i].get("status") for i in kept if by_id[i].get("status")] == [
        "running",
        "stopping",
        "stopped",
    ]
    summary = [e for e in history if e["message"].startswith("log storage quota")]
    assert len(summary) == 1 and summary[0]["source"] == "system"
    assert f"{told['droppedLines']:,} lines from id {since} " in summary[0]["message"]
    page = (await service.client.get(f"/api/generations/{gid}/preview/logs", headers=auth())).json()
    assert page["logsTruncated"] == told

    # The text download says where the gap is, in its place.
    text = (
        await service.client.get(
            f"/api/generations/{gid}/preview/logs", params={"format": "text"}, headers=auth()
        )
    ).text.splitlines()
    marker = next(i for i, line in enumerate(text) if line.startswith("# "))
    assert text[marker].startswith(f"# {told['droppedLines']:,} lines from id {since} ")
    assert text[marker - 1].split()[2] == "[app/stdout]"  # the head's last line before it
