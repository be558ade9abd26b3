"""Restart recovery and the preview deadlines (idle, max uptime)."""

from __future__ import annotations

import sys
from datetime import timedelta

import psutil
import trio

from preview.clock import utcnow
from preview.store import Generation, PreviewInstance, Store

from ..conftest import SERVER_COMMAND, Service, auth, read_sse, running_service, server_app


def _row(
    preview_id: str,
    *,
    pid: int | None,
    started_at: float | None,
    status: str,
    generation_id: str = "gen_old",
):
    now = utcnow()
    return PreviewInstance(
        id=preview_id,
        generation_id=generation_id,
        user_id="alice",
        status=status,
        port=3001,
        process_id=pid,
        process_started_at=started_at,
        created_at=now,
        expires_at=now + timedelta(hours=1),
        preview_token_hash="0" * 64,
        token_expires_at=now + timedelta(hours=1),
        health_status="healthy",
    )


async def test_restart_recovery_kills_only_our_stale_process_and_closes_rows(settings) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    stale = await trio.lowlevel.open_process(sleeper, start_new_session=True)
    bystander = await trio.lowlevel.open_process(sleeper, start_new_session=True)
    try:
        with trio.fail_after(30):
            store = await Store.open(settings.database_url)
            now = utcnow()
            # Two generations: a generation has one live preview at most (migration 0010).
            for gid in ("gen_old", "gen_recycled"):
                await store.add_generation(
                    Generation(
                        id=gid,
                        user_id="alice",
                        project_id=None,
                        created_at=now,
                        file_count=1,
                        total_bytes=1,
                    ),
                    {"a.txt": b"x"},
                )
            stale_started = psutil.Process(stale.pid).create_time()
            await store.add_preview(
                _row("preview_stale", pid=stale.pid, started_at=stale_started, status="running")
            )
            # Same pid as a live process but another start time: a recycled pid.
            await store.add_preview(
                _row(
                    "preview_recycled",
                    pid=bystander.pid,
                    started_at=stale_started - 50,
                    status="starting",
                    generation_id="gen_recycled",
                )
            )
            await store.add_preview(
                _row("preview_done", pid=None, started_at=None, status="stopped")
            )
            await store.aclose()
            leftover = settings.previews_dir / "preview_stale"
            leftover.mkdir(parents=True)
            (leftover / "app.db").write_bytes(b"x")

            async with running_service(settings) as service:
                assert not psutil.pid_exists(stale.pid)  # killed and reaped
                assert bystander.poll() is None
                assert not leftover.exists()
                for preview_id in ("preview_stale", "preview_recycled"):
                    row = await service.store.get_preview(preview_id)
                    assert row.status == "failed"
                    assert row.stop_reason == "the service restarted"
                    assert row.stopped_at is not None
                assert (
                    "was killed" in (await service.store.get_preview("preview_stale")).error_message
                )
                recycled = await service.store.get_preview("preview_recycled")
                assert "was killed" not in recycled.error_message
                assert (await service.store.get_preview("preview_done")).status == "stopped"
                assert await service.store.unfinished_previews() == []
    finally:
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            for process in (stale, bystander):
                process.kill()
                await process.wait()


async def _status_once_stopped(service: Service, gid: str) -> dict:
    """Follow the preview's log to its end, which must be ``stopped`` and told by a last
    status event naming the reason right before ``end``; then its status."""
    url = f"/api/generations/{gid}/preview/logs/stream"
    async with service.client.stream("GET", url, headers=auth()) as response:
        events = await read_sse(response)
    assert events[-1][0] == "end" and events[-1][1]["status"] == "stopped"
    kind, last, _ = events[-2]
    assert kind == "message" and last["status"] == "stopped", events[-3:]
    status = await service.status(gid)
    assert last["message"] == f"stopped: {status['stopReason']}"
    return status


async def test_idle_preview_is_stopped_and_activity_postpones_it(settings) -> None:
    object.__setattr__(settings, "inactive_timeout", 1.0)
    async with running_service(settings) as service:
        with trio.fail_after(30):
            gid = await service.upload(server_app())
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            runtime = service.supervisor.get(body["previewInstanceId"])
            began = trio.current_time()
            for _ in range(3):
                await trio.sleep(0.5)  # activity at intervals shorter than the timeout
                runtime.touch()
            status = await _status_once_stopped(service, gid)
            assert trio.current_time() - began >= 2.5
            assert status["stopReason"] == "idle for 1 s"
            assert not psutil.pid_exists(body["processId"])


async def test_idle_time_counts_from_running_not_from_launch(settings) -> None:
    # A start slower than the idle timeout is a slow start, not idleness.
    object.__setattr__(settings, "inactive_timeout", 0.5)
    async with running_service(settings) as service:
        with trio.fail_after(30):
            gid = await service.upload(server_app(before_serving="time.sleep(1.5)"))
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] == "running", body
            status = await _status_once_stopped(service, gid)
            assert status["stopReason"] == "idle for 0.5 s"
            assert status["startedAt"] is not None


async def test_max_uptime_stops_the_preview(settings) -> None:
    # The uptime counts from the start: on a loaded machine the start itself may outlast
    # it, and the launch then answers "stopped" for the same reason.
    object.__setattr__(settings, "max_uptime", 2.0)
    async with running_service(settings) as service:
        with trio.fail_after(60):
            gid = await service.upload(server_app())
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert body["status"] in ("running", "stopped"), body
            status = await _status_once_stopped(service, gid)
            assert status["status"] == "stopped"
            assert status["stopReason"] == "maximum uptime of 2 s reached"


async def test_a_failing_database_ends_that_preview_but_not_the_service(settings) -> None:
    object.__setattr__(settings, "health_interval", 0.2)
    async with running_service(settings) as service:
        with trio.fail_after(30):
            gid = await service.upload(server_app())
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            runtime = service.supervisor.get(body["previewInstanceId"])
            engine = service.store.engine

            def rename(old: str, new: str) -> None:
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")

            # The next health check cannot write its row: the preview's nursery fails.
            await trio.to_thread.run_sync(rename, "preview_instances", "preview_instances_away")
            await runtime.finished.wait()
            await trio.to_thread.run_sync(rename, "preview_instances_away", "preview_instances")
            assert not psutil.pid_exists(body["processId"])
            assert body["port"] not in service.supervisor.ports.in_use

            # The service itself carries on.
            other = await service.upload(server_app())
            again = (await service.launch(other, command=SERVER_COMMAND)).json()
            assert again["status"] == "running"
            await service.stop(other)


async def test_an_error_of_the_service_while_it_runs_still_ends_with_a_failed_status(
    settings, monkeypatch, caplog
) -> None:
    # Whatever way a preview ends, its streams get a last status event before ``end``:
    # here the service's own code fails while the child runs.
    from preview.runtime import supervision

    async def broken_health_loop(self) -> None:
        raise RuntimeError("a bug in the health loop")

    object.__setattr__(settings, "health_interval", 0.05)
    monkeypatch.setattr(supervision.ChildSupervision, "_health_loop", broken_health_loop)
    async with running_service(settings) as service:
        with trio.fail_after(30):
            gid = await service.upload(server_app())
            body = (await service.launch(gid, command=SERVER_COMMAND)).json()
            url = f"/api/generations/{gid}/preview/logs/stream"
            async with service.client.stream("GET", url, headers=auth()) as response:
                events = await read_sse(response)
            assert events[-1][0] == "end" and events[-1][1]["status"] == "failed"
            assert events[-2][1]["status"] == "failed", events[-3:]
            status = await service.status(gid)
            assert status["status"] == "failed"
            # Its cause, and an incident id that the service's own log line carries.
            message = status["errorMessage"]
            cause = "the service failed to run it: RuntimeError: a bug in the health loop"
            assert message.startswith(f"{cause} (incident "), message
            incident = message.removeprefix(f"{cause} (incident ").split()[0]
            logged = [r for r in caplog.records if f"[incident {incident}]" in r.getMessage()]
            assert len(logged) == 1 and logged[0].exc_info is not None
            assert events[-2][1]["message"] == f"failed: {status['errorMessage']}"
            assert not psutil.pid_exists(body["processId"])
