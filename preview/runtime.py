"""One preview's whole life, in one nursery: :class:`PreviewRuntime`.

``PreviewRuntime.run`` follows ``trio._subprocess._run_process``: write the files, spawn
the child, start one reader per pipe and the database writer, report ``started`` (the
launch call returns), then wait for readiness and supervise. Every way a preview ends
(stop request, max-lifetime or idle deadline, crash, failed start, service shutdown,
cancellation of the caller) leaves the supervising scope and takes the same teardown:
SIGTERM the group, SIGKILL after the grace period, drain the pipes, publish the final
status, flush every event, finalise the row, free the port, remove the temp dir.

The teardown runs under a shield with its own time limits. A cancellation from
outside is turned into a stop request, so cancelling the supervisor's nursery is a
graceful shutdown bounded by those limits.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import trio

from .broadcast import LogBroadcast
from .childoutput import ChildOutput
from .clock import utcnow
from .httpclients import local_client
from .loglines import failure_cause
from .logwriter import write_log_events
from .ports import PortPool
from .process import (
    ChildLimits,
    GroupUsage,
    child_environment,
    describe_exit,
    process_start_time,
    spawn_child,
    terminate_group,
)
from .readiness import wait_until_answering
from .settings import Settings
from .store import Store

__all__ = ["LaunchSpec", "PreviewRuntime"]

_log = logging.getLogger(__name__)
_READERS_DRAIN = 2.0  # after the group is dead, pipes held by escapees are cut
_WRITER_FLUSH = 30.0  # the writer gets this long to store the rest
_USAGE_MAX_AGE = 1.0
_LAG_CHECK = 1.0  # how often subscribers stuck far behind are looked for


@dataclass
class LaunchSpec:
    preview_id: str
    generation_id: str
    project_id: str | None
    user_id: str
    files: dict[str, bytes]
    argv: list[str]
    port: int
    health_path: str
    created_at: datetime
    expires_at: datetime
    requirements: str | None = None
    token_hash: str = ""
    token_expires_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class PreviewRuntime:
    """A live preview: its process, its log broadcast and its deadlines."""

    def __init__(
        self, spec: LaunchSpec, *, settings: Settings, store: Store, ports: PortPool
    ) -> None:
        self.spec = spec
        self.id = spec.preview_id
        self.settings = settings
        self._store = store
        self._ports = ports
        self.broadcast = LogBroadcast(
            ring_size=settings.max_log_lines, subscriber_buffer=settings.subscriber_buffer
        )
        self.temp_dir = settings.previews_dir / spec.preview_id
        self.status = "starting"
        self.health_status = "unknown"
        self.last_health_check: datetime | None = None
        self.started_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.process: trio.Process | None = None
        self.exit_code: int | None = None
        self.error_message: str | None = None
        self.error_lines: list[str] = []
        self.stop_reason: str | None = None
        self.finished = trio.Event()
        self._output = ChildOutput(self.broadcast, settings.max_line_bytes)
        self._stop_scope = trio.CancelScope()
        self._idle_scope = trio.CancelScope()
        self._usage = GroupUsage(max_age=_USAGE_MAX_AGE)
        self._upkeep: trio.Nursery | None = None  # while the child runs (_heartbeat)

    # -- control from the API -------------------------------------------------------

    def touch(self) -> None:
        """Someone used the preview: push the idle deadline back. The idle time counts
        from ``running`` on: a slow start is not idleness."""
        if self.status == "running":
            self._idle_scope.deadline = trio.current_time() + self.settings.inactive_timeout

    def request_stop(self, reason: str) -> None:
        self._set_reason(reason)
        self._stop_scope.cancel()

    async def record_proxy_call(
        self,
        method: str,
        path: str,
        status: int | None,
        elapsed_ms: float,
        request_id: str,
        error: str | None = None,
    ) -> None:
        """A proxied request, as an event between the app's own lines; counts as activity."""
        self.touch()
        if self.broadcast.closed:
            return
        outcome = str(status) if status is not None else f"failed ({error})"
        level = "ERROR" if status is None or status >= 500 else "WARN" if status >= 400 else "INFO"
        message = f"{method} {path} -> {outcome} in {elapsed_ms:.1f} ms [{request_id}]"
        await self.broadcast.publish(level, message, "proxy")

    async def wait_settled(self) -> None:
        """Return once the preview is running, or has ended and its row is final."""
        while self.status != "running" and not self.broadcast.closed:
            await self.broadcast.wait_for_status_change()
        if self.status != "running":
            await self.finished.wait()

    async def usage(self) -> tuple[float, float] | None:
        """Memory (MiB) and CPU (%) of the process group, as last measured: the first
        call waits for a measurement, later ones never do (see ``GroupUsage``)."""
        if self.process is None or self.process.returncode is not None:
            return None
        return await self._usage.get(self.process.pid, self._upkeep)

    # -- the preview's life ---------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The preview's whole life; ``started`` once the child is spawned (or failed to)."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._stop_when_cancelled)
                with trio.CancelScope(shield=True):
                    await self._run_shielded(task_status)
                nursery.cancel_scope.cancel()
        finally:
            self.finished.set()

    async def _stop_when_cancelled(self) -> None:
        try:
            await trio.sleep_forever()
        finally:
            if self.status not in ("stopped", "failed"):
                self.request_stop("the service is shutting down")

    async def _run_shielded(self, task_status: trio.TaskStatus[None]) -> None:
        final_status = "failed"
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(write_log_events, self._store, self.id, self.broadcast)
                final_status = await self._run_child(task_status)
                await self._publish_status(final_status, self._final_message(final_status))
                self.broadcast.close(final_status)
                nursery.cancel_scope.deadline = trio.current_time() + _WRITER_FLUSH
        finally:
            self.broadcast.close(final_status)
            await self._finalise(final_status)

    async def _run_child(self, task_status: trio.TaskStatus[None]) -> str:
        spec = self.spec
        await self._system("INFO", f"port {spec.port} allocated")
        try:
            await trio.to_thread.run_sync(_write_files, self.temp_dir, spec.files)
        except OSError as error:
            self.error_message = f"could not write the generation's files: {error}"
            task_status.started()
            return "failed"
        await self._system("INFO", f"wrote {len(spec.files)} files to {self.temp_dir}")
        env = child_environment(cwd=self.temp_dir, port=spec.port, python=self.settings.python)
        env.update(spec.extra)
        limits = ChildLimits(memory_bytes=self.settings.memory_limit_mb * 1024 * 1024)
        try:
            process = await spawn_child(spec.argv, cwd=self.temp_dir, env=env, limits=limits)
        except OSError as error:
            self.error_message = f"could not start {spec.argv[0]!r}: {error.strerror or error}"
            await self._system("ERROR", self.error_message)
            task_status.started()
            return "failed"
        self.process = process
        async with trio.open_nursery() as pipes:
            pipes.start_soon(self._output.read, process.stdout, "stdout")
            pipes.start_soon(self._output.read, process.stderr, "stderr")
            heartbeat = trio.CancelScope()
            pipes.start_soon(self._heartbeat, heartbeat)
            try:
                # From the spawn on, whatever fails (the database, say) still reaches
                # the finally below: no child outlives its preview.
                argv = " ".join(spec.argv)
                await self._system("INFO", f"process started (pid {process.pid}): {argv}")
                await self._store.update_preview(
                    self.id,
                    process_id=process.pid,
                    process_started_at=process_start_time(process.pid),
                )
                task_status.started()
                outcome = await self._supervise(process)
                if self.status in ("starting", "running"):
                    await self._publish_status("stopping", f"stopping: {self.stop_reason}")
                    await self._store.update_preview(self.id, status="stopping")
            finally:
                with trio.move_on_after(self.settings.stop_grace + 5):
                    self.exit_code = await terminate_group(process, self.settings.stop_grace)
                heartbeat.cancel()
                pipes.cancel_scope.deadline = trio.current_time() + _READERS_DRAIN
        await self._system(
            "INFO" if outcome == "stopped" else "ERROR", describe_exit(self.exit_code)
        )
        if outcome == "failed" and self.error_message is None:
            self.error_message = describe_exit(self.exit_code)
        return outcome

    async def _supervise(self, process: trio.Process) -> str:
        """Until the preview should end; returns the final status it should get."""
        lifetime = trio.current_time() + self.settings.max_uptime
        with (
            self._stop_scope,
            trio.CancelScope(deadline=lifetime) as lifetime_scope,
            self._idle_scope,
        ):
            outcome = await self._start(process)
            if outcome is not None:
                return outcome
            async with trio.open_nursery() as checks:
                checks.start_soon(self._health_loop)
                await process.wait()
                checks.cancel_scope.cancel()
            return await self._exited_on_its_own(process.returncode)
        if self._idle_scope.cancelled_caught:
            self._set_reason(f"idle for {self.settings.inactive_timeout:g} s")
        elif lifetime_scope.cancelled_caught:
            self._set_reason(f"maximum uptime of {self.settings.max_uptime:g} s reached")
        return "failed" if self.error_message else "stopped"

    def _set_reason(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    async def _start(self, process: trio.Process) -> str | None:
        """Wait until the child answers HTTP; None when running, else the final status."""
        began = trio.current_time()
        with trio.move_on_after(self.settings.startup_timeout):
            answered = await wait_until_answering(process, self.spec.port, self.spec.health_path)
            if not answered:
                await self._failed_start(process.returncode)
                return "failed"
            ready_ms = (trio.current_time() - began) * 1000
            self.status = "running"
            self.touch()
            self.started_at = utcnow()
            self.health_status = "healthy"
            self.last_health_check = self.started_at
            await self._system("INFO", f"port {self.spec.port} answering")
            await self._publish_status("running", f"ready in {ready_ms:.0f} ms")
            await self._store.update_preview(
                self.id,
                status="running",
                started_at=self.started_at,
                health_status="healthy",
                last_health_check=self.started_at,
            )
            return None
        self._set_reason("start-up timeout")
        self.error_message = (
            f"did not answer HTTP on port {self.spec.port} within "
            f"{self.settings.startup_timeout:g} s"
        )
        return "failed"

    async def _failed_start(self, returncode: int | None) -> None:
        output = await self._output.last_lines(_READERS_DRAIN)
        cause = failure_cause(output, self.spec.requirements)
        self.error_lines = output[-15:]
        self.error_message = cause or describe_exit(returncode)
        self._set_reason("the process exited during start-up")

    async def _exited_on_its_own(self, returncode: int | None) -> str:
        self._set_reason("the process exited")
        if returncode == 0:
            return "stopped"
        output = await self._output.last_lines(_READERS_DRAIN)
        self.error_lines = output[-15:]
        cause = failure_cause(output, self.spec.requirements)
        self.error_message = f"{describe_exit(returncode)}: {cause}" if cause else None
        return "failed"

    async def _health_loop(self) -> None:
        url = f"http://127.0.0.1:{self.spec.port}{self.spec.health_path}"
        async with local_client(timeout=5.0) as client:
            while True:
                await trio.sleep(self.settings.health_interval)
                try:
                    response = await client.get(url)
                    healthy = response.status_code < 500
                except httpx.HTTPError:
                    healthy = False
                status = "healthy" if healthy else "unhealthy"
                if status != self.health_status:
                    await self._system("INFO" if healthy else "WARN", f"health check: {status}")
                self.health_status = status
                self.last_health_check = utcnow()
                await self._store.update_preview(
                    self.id, health_status=status, last_health_check=self.last_health_check
                )

    async def _heartbeat(self, scope: trio.CancelScope) -> None:
        """While the child runs: pace the streams' wake-ups, keep idle streams alive (SSE
        comments), forget the subscribers stuck too far behind, and host the background
        usage measurements (:meth:`usage`)."""
        interval = self.settings.keepalive_interval
        with scope:
            async with trio.open_nursery() as upkeep:
                self._upkeep = upkeep
                try:
                    if self.settings.stream_interval > 0:
                        upkeep.start_soon(
                            self.broadcast.serve_paced_wakeups, self.settings.stream_interval
                        )
                    next_beat = trio.current_time() + interval
                    while True:
                        await trio.sleep(min(_LAG_CHECK, interval))
                        self.broadcast.drop_laggards()
                        if trio.current_time() >= next_beat:
                            next_beat = trio.current_time() + interval
                            self.broadcast.heartbeat()
                finally:
                    self._upkeep = None

    # -- events and the row ---------------------------------------------------------

    async def _system(self, level: str, message: str) -> None:
        await self.broadcast.publish(level, message, "system")

    async def _publish_status(self, status: str, message: str) -> None:
        self.status = status
        level = "ERROR" if status == "failed" else "INFO"
        await self.broadcast.publish(level, message, "system", status=status)

    def _final_message(self, final_status: str) -> str:
        if final_status == "failed":
            return f"failed: {self.error_message}"
        return f"stopped: {self.stop_reason}"

    async def _finalise(self, final_status: str) -> None:
        """Row, port and temp dir; runs whatever happened before (shielded caller)."""
        self.status = final_status
        self.stopped_at = utcnow()
        try:
            with trio.move_on_after(_WRITER_FLUSH):
                await self._store.update_preview(
                    self.id,
                    status=final_status,
                    stopped_at=self.stopped_at,
                    exit_code=self.exit_code,
                    error_message=self.error_message,
                    error_lines=json.dumps(self.error_lines) if self.error_lines else None,
                    stop_reason=self.stop_reason,
                    health_status="unknown",
                )
        except Exception:
            _log.exception("could not finalise preview %s", self.id)
        finally:
            self._ports.release(self.spec.port)
            await trio.to_thread.run_sync(shutil.rmtree, self.temp_dir, True)


def _write_files(root: Path, files: dict[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=False)
    (root / ".tmp").mkdir()
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
