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
import os
from datetime import datetime

import trio

from ..clock import utcnow
from ..errors import Unavailable
from ..logs import ChildOutput, HostPaths, LogBroadcast, write_log_events
from ..metrics import PREPARATION_FAILED, Metrics
from ..proxy import Upstream
from ..settings import Settings
from ..store import Store
from .appdb import database_server
from .appdir import app_read_only, chown_tree, remove_tree, write_files
from .appenv import app_environment
from .build import BuildFailed, EnvBuilder
from .child import ChildProcess
from .containment import Containment
from .egress import EgressPolicy, Outbound, open_outbound
from .isolation import Confinement, Isolation
from .ports import PortPool
from .preparation import Preparation
from .process import (
    ChildLimits,
    GroupUsage,
)
from .rowkeeper import RowKeeper
from .sandbox import host_uid
from .spec import LaunchSpec
from .supervision import ChildSupervision

__all__ = ["PreviewRuntime"]

_log = logging.getLogger(__name__)
_USAGE_MAX_AGE = 1.0
_CLOSE_CONNECTIONS = 5.0  # for the pooled connections to a stopped preview to close


class PreviewRuntime(ChildSupervision, Containment):
    """A live preview: its process, its log broadcast and its deadlines."""

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        settings: Settings,
        store: Store,
        ports: PortPool,
        metrics: Metrics | None = None,
        builder: EnvBuilder | None = None,
        isolation: Isolation | None = None,
        start_slots: trio.CapacityLimiter | None = None,
    ) -> None:
        self.spec = spec
        self.isolation = isolation
        self.outbound = Outbound(
            policy=EgressPolicy.parse(settings.egress),
            database=database_server(settings.app_postgres_url),
            database_role=spec.preview_id,  # appdb names its role and database so
        )
        self.confinement: Confinement | None = None
        self.upstream = Upstream(spec.port)  # the socket's, once sandboxed
        self.id = spec.preview_id
        self.settings = settings
        self._store = store
        self._ports = ports
        self.phase = "preparing"
        self.temp_dir = settings.previews_dir / spec.preview_id
        # What users see of it (events, errorMessage, errorLines) names no host path.
        self.host_paths = HostPaths.of_service(
            app_dir=self.temp_dir, data_dir=settings.data_dir,
            previews_dir=settings.previews_dir, env_root=settings.env_cache_dir,
            python=settings.python,
        )  # fmt: skip
        self.broadcast = LogBroadcast(
            ring_size=settings.max_log_lines,
            subscriber_buffer=settings.subscriber_buffer,
            ring_bytes=settings.ring_bytes,
            writer_bytes=settings.ring_bytes,
            stats=metrics.log if metrics is not None else None,
            scrub=self.host_paths,
        )
        self._metrics = metrics
        self._launched_at = trio.current_time()
        self.preparation = Preparation(
            spec, settings=settings, builder=builder or EnvBuilder(settings),
            broadcast=self.broadcast,
        )  # fmt: skip
        self.status = "starting"
        self.health_status = "unknown"
        self.last_health_check: datetime | None = None
        self.started_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.process: ChildProcess | None = None
        self.exit_code: int | None = None
        self._error_message: str | None = None
        self._error_lines: list[str] = []
        self.stop_reason: str | None = None
        self.finished = trio.Event()
        self._output = ChildOutput(
            self.broadcast,
            settings.max_line_bytes,
            settings.partial_line_flush,
            app_dir=str(self.temp_dir),
        )
        self._stop_scope = trio.CancelScope()
        self._prepare_scope = trio.CancelScope()
        self._start_slots = start_slots
        self._queue_scope = trio.CancelScope()  # while it waits for a start slot
        self._holds_start_slot = False
        self._idle_scope = trio.CancelScope()
        self._usage = GroupUsage(max_age=_USAGE_MAX_AGE)
        self._upkeep: trio.Nursery | None = None  # while the child runs (_heartbeat)
        # Log lines and row changes are written until the database takes them; set
        # when the service gives up waiting (its shutdown grace is over).
        self._give_up_store = trio.Event()
        self._row = RowKeeper(
            store, spec.preview_id, give_up=self._give_up_store, on_error=self._row_failed
        )

    # -- control from the API -------------------------------------------------------

    def touch(self) -> None:
        """Someone used the preview: push the idle deadline back. The idle time counts
        from ``running`` on: a slow start is not idleness."""
        if self.status == "running":
            self._idle_scope.deadline = trio.current_time() + self.settings.inactive_timeout

    def request_stop(self, reason: str) -> None:
        self._set_reason(reason)
        self._prepare_scope.cancel()
        self._queue_scope.cancel()
        self._stop_scope.cancel()

    def _row_failed(self, error: Exception) -> None:
        if self.error_message is None:
            self.error_message = "its database row could not be written"
        self.request_stop("its database row could not be written")

    @property
    def runtime_info(self) -> dict[str, str | None]:
        """How it is started: ``{framework, command, detectedFrom, python}`` (no host
        path in the command)."""
        info = dict(self.preparation.runtime_info)
        if info.get("command"):
            info["command"] = self.host_paths(info["command"])
        return info

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
        if self.confinement is not None and self.confinement.cgroup is not None:
            return self.confinement.usage()  # two small sysfs reads: no thread needed
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
            self._give_up_store.set()  # only stores wait beyond this: not for ever

    async def _egress_refused(self, message: str) -> None:
        await self._system("WARN", message)

    async def _run_shielded(self, task_status: trio.TaskStatus[None]) -> None:
        final_status = "failed"
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    write_log_events, self._store, self.id, self.broadcast, self._give_up_store
                )
                nursery.start_soon(self._row.keep)
                final_status = await self._run_child(task_status)
                await self._publish_status(final_status, self._final_message(final_status))
                self.broadcast.close(final_status)
                self._row.stop_keeping()  # _finalise writes the rest
        finally:
            self.broadcast.close(final_status)
            await self._finalise(final_status)

    def _enter_phase(self, phase: str) -> None:
        self.phase = phase

    def _how_started(self) -> dict[str, str]:
        """The row's command and runtime (JSON): the status tells them after the end too."""
        info = self.runtime_info
        return {"command": info["command"] or "", "runtime": json.dumps(info)}

    async def _run_child(self, task_status: trio.TaskStatus[None]) -> str:
        spec = self.spec
        await self._system("INFO", f"port {spec.port} allocated")
        try:
            quota = None
            if self.isolation is not None and self.isolation.sandboxed:
                quota = self.settings.disk_limit_mb * 1024 * 1024
            await trio.to_thread.run_sync(write_files, self.temp_dir, spec.files, quota)
            if not self.sandboxed and os.geteuid() == 0:
                # Its files are its own uid's, should it run as one (see _plain_uid).
                await trio.to_thread.run_sync(chown_tree, self.temp_dir, host_uid(spec.port))
        except OSError as error:
            where = self.host_paths(error.filename or "")
            self.error_message = (
                f"could not write the generation's files: {error.strerror or error}"
                + (f" ({where})" if where else "")
            )
            task_status.started()
            return "failed"
        await self._system("INFO", f"wrote {len(spec.files)} files to the app's directory")
        task_status.started()  # the launch call returns: the rest shows in the log
        if spec.detection is not None:
            info = self.runtime_info
            found = f"detected {info['framework']} from {info['detectedFrom']}"
            await self._system("INFO", f"{found}: {info['command']}")
        python = self.settings.python
        self.phase = "installing dependencies"
        with self._prepare_scope:
            try:
                python = await self.preparation.run(
                    self.temp_dir,
                    lambda python: app_environment(self, python),
                    on_phase=self._enter_phase,
                    confine=self._confine_step,
                    run_as=self._plain_uid,
                )
            except BuildFailed as failure:
                self.error_message, self.error_lines = failure.message, failure.lines
                self._set_reason(PREPARATION_FAILED)
                await self._system("ERROR", failure.message)
                return "failed"
            self._row.update(**self._how_started())
        if self._prepare_scope.cancelled_caught:
            return "stopped"
        if not self._ports.still_free(spec.port):
            try:
                await self._move_port()
            except Unavailable as error:
                self.error_message = f"its port was taken meanwhile: {error.message}"
                return "failed"
        env = app_environment(self, python)
        run_as = self._plain_uid(python, self.preparation.env_path)
        limits = ChildLimits(memory_bytes=self.preparation.memory_limit(), run_as=run_as)
        if run_as is not None:
            await self._system("INFO", f"not sandboxed: runs as uid {run_as}, not the service's")
        self.phase = "starting"
        if self.isolation is not None:
            self.confinement = self.isolation.confine(
                self.settings,
                self.id,
                port=spec.port,
                app_dir=self.temp_dir,
                read_only=app_read_only(self.preparation.env_path, python),
                outbound=self.outbound,
            )
        if self.confinement is not None:
            ready = self.confinement.ready_socket_path
            self.upstream = Upstream(
                spec.port,
                str(self.confinement.socket_path),
                ready_path=str(ready) if ready is not None else None,
            )
        outbound_dir = self.confinement.outbound_dir if self.confinement is not None else None
        async with open_outbound(outbound_dir, self.outbound, self._egress_refused):
            return await self._spawn_and_supervise(spec, env, limits)

    async def _move_port(self) -> None:
        """Another process took the port while the app was prepared: take another."""
        taken, spec = self.spec.port, self.spec
        spec.port = self._ports.allocate()  # no await since the check: atomic
        self._ports.release(taken)
        spec.argv = self.preparation.command(spec.port)
        self.upstream = Upstream(spec.port)
        await self._system("WARN", f"port {taken} was taken meanwhile; port {spec.port} allocated")
        self._row.update(port=spec.port, **self._how_started())

    def _set_reason(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

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
        """Port, temp dir and row; runs whatever happened before (shielded caller).
        The row is written until the database takes it (see ``RowKeeper``)."""
        self.status = final_status
        self.stopped_at = utcnow()
        if final_status == "failed" and self._metrics is not None:
            self._metrics.record_failure(self.stop_reason, self.error_message)
        self._row.update(
            status=final_status,
            stopped_at=self.stopped_at,
            exit_code=self.exit_code,
            error_message=self.error_message,
            error_lines=json.dumps(self.error_lines) if self.error_lines else None,
            stop_reason=self.stop_reason,
            health_status="unknown",
        )
        try:
            try:
                with trio.move_on_after(_CLOSE_CONNECTIONS):
                    await self._ports.close_connections(self.spec.port)
                    await self.upstream.aclose()
            finally:
                # Whatever the connections did: the cgroup, the socket dir, the
                # environment lease and the port are given back.
                if self.confinement is not None:
                    await trio.to_thread.run_sync(self.confinement.release)
                await self.preparation.release()
                self._ports.release(self.spec.port)
            await trio.to_thread.run_sync(remove_tree, self.temp_dir)
        finally:
            try:
                await self._row.flush()
            except Exception:
                _log.exception("could not finalise preview %s", self.id)
