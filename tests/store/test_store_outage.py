"""A database that is down, locked or out of space: the API says so (503 / 507), the
previews live on, and every line and row lands once the database is back.

The outages are real (``tests/outages.py``): PostgreSQL refuses and drops connections
on a throwaway database of the test's own, SQLite is held by another connection's
exclusive lock beyond the store's busy timeout, and the data dir is a small tmpfs
filled to the last byte.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest
import trio

from preview import Settings, create_app
from preview.clock import utcnow
from preview.errors import StoreUnavailable
from preview.runtime import supervisor as supervisor_module
from preview.store import Store
from preview.store import database as database_module

from ..conftest import SERVER_COMMAND, auth, eventually, read_sse, running_service, server_app
from ..outages import (
    DiskFull,
    Outage,
    PostgresOutage,
    SqliteLock,
    assert_all_stored,
    assert_unavailable,
    launch_ticker,
    service_on,
    throwaway_postgres,
    tmpfs,
)


@pytest.fixture(params=["postgresql", "sqlite-busy", "disk-full"])
def outage(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Outage]:
    if request.param == "postgresql":
        with throwaway_postgres() as (url, admin, name):
            yield PostgresOutage(url, admin, name)
    elif request.param == "sqlite-busy":
        yield SqliteLock(settings.database_url)
    else:
        with tmpfs(settings.data_dir, "16m"):
            yield DiskFull(settings.database_url, settings.data_dir)


# --------------------------------------------------------------------------- tests


async def test_a_running_preview_outlives_a_database_outage(
    settings: Settings, outage: Outage
) -> None:
    async with service_on(settings, outage) as service:
        with trio.fail_after(60):
            gid, runtime, preview_token = await launch_ticker(service)
            never_looked_up = await service.upload(server_app())
            bobs = await service.upload(server_app(), user="bob")
            pid = runtime.process.pid

            await outage.begin()
            began, last_id = utcnow(), runtime.broadcast.last_id
            failed_upload = await service.client.post(
                "/api/generations", json={"files": {"a.txt": "x" * 900_000}}, headers=auth()
            )
            assert_unavailable(failed_upload, outage.upload_status, outage.upload_code)
            # The history needs the database: the preview's newest lines are not in it. (A
            # full disk may still take them for a while, in the space SQLite's files hold:
            # then the history is whole as far as the preview had printed.)
            logs = await service.client.get(f"/api/generations/{gid}/preview/logs", headers=auth())
            if isinstance(outage, DiskFull) and logs.status_code == 200:
                assert logs.json()["events"][-1]["id"] >= last_id, logs.text
            else:
                assert_unavailable(logs, 503, "store_unavailable")
            other = await service.client.get(
                f"/api/generations/{never_looked_up}/preview/status", headers=auth()
            )
            if outage.reads_fail:
                assert_unavailable(other, 503, "store_unavailable")
            else:
                assert other.status_code == 404, other.text  # read: it has no preview

            # The live preview answers from memory and its stream from the ring (once the
            # ticker printed since the outage began: on a loaded machine, not yet).
            await eventually(lambda: runtime.broadcast.last_id > last_id)
            status = await service.status(gid)
            assert status["status"] == "running" and status["lastEventId"] > last_id
            headers = {**auth(), "Last-Event-ID": str(last_id)}
            url = f"/api/generations/{gid}/preview/logs/stream"
            async with service.client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200
                streamed = await read_sse(response, until_end=False, limit=30)
            assert [event_id for _, _, event_id in streamed] == list(
                range(last_id + 1, last_id + 31)
            )
            # A launch cannot store its row: refused, with nothing left behind.
            launch = await service.client.post(
                f"/api/generations/{bobs}/preview/launch",
                json={"command": SERVER_COMMAND},
                headers=auth("bob"),
            )
            assert_unavailable(launch, outage.upload_status, outage.upload_code)
            assert service.supervisor.for_generation(bobs) is None
            assert service.supervisor.ports.in_use == {runtime.spec.port}
            # Preview tokens live with the running preview, not in the store: a new one
            # is given while the store is down, and it and the launch's both work.
            another = await service.client.post(
                f"/api/generations/{gid}/preview/token", headers=auth()
            )
            assert another.status_code == 200, another.text
            for token in (preview_token, another.json()["previewToken"]):
                proxied = await service.client.get(
                    f"/api/generations/{gid}/preview/proxy/",
                    headers={**auth(), "X-Preview-Token": token},
                )
                assert proxied.status_code == 200 and proxied.text == "ok"
            # Health checks go on (their row updates wait), and so does the child.
            await eventually(lambda: runtime.state.last_health_check > began)
            assert runtime.status == "running" and psutil.pid_exists(pid)
            assert runtime.broadcast.persisted_id < runtime.broadcast.last_id
            during = runtime.broadcast.last_id

            await outage.end()
            back = utcnow()
            await eventually(lambda: runtime.state.last_health_check > back)
            history = await assert_all_stored(service, gid, runtime)
            # What it printed during the outage is stored too (the history no longer
            # waits 5 s before its 503, so the outage lasts less than it did).
            assert len(history) >= during > last_id + 30
            # The row catches up: a health check made after the outage is in it.
            row = await service.store.get_preview(runtime.id)
            while row.last_health_check < back:  # written in the background
                await trio.sleep(0.05)
                row = await service.store.get_preview(runtime.id)
            assert row.status == "running" and row.health_status == "healthy"
            assert row.process_id == pid
            assert (await service.stop(gid)).json()["status"] == "stopped"
            row = await service.store.get_preview(runtime.id)
            assert row.status == "stopped" and row.stopped_at is not None


async def test_a_stop_during_a_database_outage_ends_with_a_true_row(
    settings: Settings, outage: Outage
) -> None:
    async with service_on(settings, outage) as service:
        with trio.fail_after(60):
            gid, runtime, _ = await launch_ticker(service)
            pid = runtime.process.pid
            stopped: list[httpx.Response] = []

            async def stop() -> None:
                stopped.append(await service.stop(gid))

            await outage.begin()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(stop)
                # The process ends now; the preview stays known (from memory) until its
                # row is final.
                await eventually(lambda: not psutil.pid_exists(pid) and runtime.status == "stopped")
                status = await service.status(gid)
                assert status["status"] == "stopped" and status["exitCode"] is not None
                assert service.supervisor.for_generation(gid) is runtime
                assert not stopped  # the stop waits for the final row
                await outage.end()
            assert stopped[0].status_code == 200 and stopped[0].json()["status"] == "stopped"
            row = await service.store.get_preview(runtime.id)
            assert row.status == "stopped" and row.stopped_at is not None
            assert row.stop_reason == "stopped by the user" and row.health_status == "unknown"
            assert row.exit_code == runtime.state.exit_code
            history = await assert_all_stored(service, gid, runtime)
            assert history[-1]["status"] == "stopped"
            again = await service.stop(gid)
            assert again.status_code == 404 and again.json()["error"] == "no_active_preview"


async def test_shutdown_during_an_outage_is_bounded_and_the_next_start_reconciles(
    settings: Settings, outage: Outage, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    # What the supervisor grants the previews beyond the stop grace at shutdown (40 s).
    monkeypatch.setattr(supervisor_module, "_SHUTDOWN_MARGIN", 2.0)
    async with service_on(settings, outage) as service:
        with trio.fail_after(60):
            gid, runtime, _ = await launch_ticker(service)
            pid = runtime.process.pid
            # Its row says running before the outage (written after the status changes in
            # memory: a loaded CI run began the outage first, and the row said starting).
            row = await service.store.get_preview(runtime.id)
            while row.status != "running":
                await trio.sleep(0.02)
                row = await service.store.get_preview(runtime.id)
            await outage.begin()
            with trio.fail_after(settings.stop_grace + 2.0 + 10):
                await service.supervisor.aclose()
            assert not psutil.pid_exists(pid) and runtime.finished.is_set()
            assert "could not be stored before the service stopped" in caplog.text
            assert "its row could not be updated" in caplog.text
            await outage.end()
            row = await service.store.get_preview(runtime.id)
            assert row.status in ("running", "stopping")  # what could not be written

            # The next start closes it out.
            restarted = create_app(settings, store=service.store, fast_paths=True)
            async with running_service(settings, restarted) as again:
                status = await again.status(gid)
                assert status["status"] == "failed"
                assert status["stopReason"] == "the service restarted"


async def test_shutdown_is_bounded_when_the_log_table_refuses_every_write(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Not an outage but a broken schema: the writer retries, and the shutdown still ends."""
    monkeypatch.setattr(supervisor_module, "_SHUTDOWN_MARGIN", 2.0)
    unused = SqliteLock(settings.database_url)
    async with service_on(settings, unused) as service:
        with trio.fail_after(60):
            _, runtime, _ = await launch_ticker(service)

            def rename(old: str, new: str) -> None:
                with service.store.engine.begin() as connection:
                    connection.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")

            await trio.to_thread.run_sync(rename, "log_events", "log_events_away")
            try:
                with trio.fail_after(settings.stop_grace + 2.0 + 10):
                    await service.supervisor.aclose()
            finally:
                await trio.to_thread.run_sync(rename, "log_events_away", "log_events")
            assert runtime.finished.is_set()
            assert "could not be stored before the service stopped" in caplog.text


async def test_a_server_that_never_answers_is_unavailable_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PostgreSQL host that takes the connection and then says nothing (a hung server,
    a half-open network): the call fails as unavailable after the connect timeout
    instead of holding a database thread for ever."""
    monkeypatch.setattr(database_module, "_PG_CONNECT_TIMEOUT", 2)  # libpq's minimum
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshakes; nobody ever answers
        port = silent.getsockname()[1]
        store = Store(f"postgresql+psycopg://nobody@127.0.0.1:{port}/db")
        try:
            began = trio.current_time()
            # (A database thread cannot be cancelled: the time is checked after.)
            with trio.fail_after(15), pytest.raises(StoreUnavailable):
                await store.get_generation("gen_x")
            assert trio.current_time() - began < 10
        finally:
            await store.aclose()


async def test_a_sqlite_locked_by_another_writer_is_a_503_at_once_not_a_wait(
    settings: Settings,
) -> None:
    """With the service's own busy timeout (no test setting): while another connection
    holds SQLite's lock, uploads, launches and the history of a live preview answer 503
    with Retry-After within about a second, not once the lock is gone; the log writer
    keeps trying meanwhile and stores every line after."""
    lock = SqliteLock(settings.database_url)
    async with running_service(settings) as service:
        with trio.fail_after(60):
            gid, runtime, _ = await launch_ticker(service)
            idle = await service.upload(server_app())
            pro = auth(tier="pro")  # room for a second preview
            calls = {
                "upload": lambda: service.client.post(
                    "/api/generations", json={"files": {"a.py": "x"}}, headers=auth()
                ),
                "launch": lambda: service.client.post(
                    f"/api/generations/{idle}/preview/launch",
                    json={"command": SERVER_COMMAND},
                    headers=pro,
                ),
                "history": lambda: service.client.get(
                    f"/api/generations/{gid}/preview/logs", headers=auth()
                ),
            }
            await lock.begin()
            try:
                for name, call in calls.items():
                    began = trio.current_time()
                    answer = await call()
                    took = trio.current_time() - began
                    assert_unavailable(answer, 503, "store_unavailable")
                    # Its 1 s busy timeout, met once or twice (not the 10 s of a
                    # migration's): an answer at all means it did not wait for the lock.
                    assert took < 8, (name, took)
                # No accident of timing: the lock is still held, the lines wait.
                assert runtime.broadcast.persisted_id < runtime.broadcast.last_id
            finally:
                await lock.end()
            for name, call in calls.items():
                assert (await call()).status_code in (200, 201), name
            await assert_all_stored(service, gid, runtime)
