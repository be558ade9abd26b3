"""One preview's whole life, in one nursery: :class:`PreviewRuntime`.

``run`` follows ``trio._subprocess._run_process``: write the files, spawn the child, start a
reader per pipe and the database writer, report ``started``, then wait for readiness and
supervise. Every way a preview ends (stop, deadline, crash, failed start, shutdown, the
caller cancelled) takes the same teardown: SIGTERM the group, SIGKILL after the grace, drain
the pipes, publish the final status, flush every event, finalise the row, free the port,
remove the temp dir — shielded, each step time-limited; a cancellation from outside is
turned into a stop request, so cancelling the supervisor's nursery is a graceful shutdown.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import trio

from ...apps.spec import LaunchSpec
from ...apps.written import container_folders
from ...backing import Backing
from ...builds import (
    BUILD,
    DATA_INIT,
    INSTALL,
    PLAN_DID_NOT_SERVE,
    BuildFailed,
    DataInitCache,
    EnvBuilder,
    Preparation,
    app_environment,
    relaunch_with_fix,
    run_once_more,
    try_next_plan,
)
from ...errors import Unavailable
from ...logs import (
    HostPaths,
    LogBroadcast,
    no_space,
    report_fault,
    with_stand_ins,
    write_failure,
    write_log_events,
)
from ...logs.alerts import AlertWatch
from ...logs.quota import LogQuota, seal_log
from ...metrics import PREPARATION_FAILED, Metrics
from ...sandbox import ChildLimits, ChildProcess, Confinement, Containment, Isolation
from ...sandbox.appdir import write_files
from ...sandbox.outbound import open_outbound
from ...settings import Settings
from ...store import Store
from ..codeerrors import CodeErrors
from ..datahealth import MissingTables
from ..outsidecalls import OutsideCalls
from ..ports import PortPool
from ..processes import AppWorkers, WorkerSetting
from ..recipe import Diagnoses, ProcessRecipe, startup_allowed
from ..rowkeeper import RowKeeper
from ..smoke import with_route_table
from ..state import PreviewState
from ..supervision import ChildSupervision, StopControls
from ..swaps import RevisionSwaps
from ..upstream import Upstream
from .routefixes import RouteFixes
from .teardown import finalise

__all__ = ["PreviewRuntime"]

_log = logging.getLogger(__name__)


class PreviewRuntime:
    """A live preview: its log broadcast, its state, its deadlines, and the parts it holds.

    It holds, each with its own lifetime: its :class:`~preview.sandbox.Containment` (made
    with it, released in its teardown), its :class:`~preview.builds.Preparation` (run
    before the spawn, released in its teardown), its :class:`~.state.PreviewState` (as
    long as it lives) and, while the child runs, its :class:`~.supervision.ChildSupervision`.
    """

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
        self.id = spec.preview_id
        self.settings = settings
        self._store = store
        self._ports = ports
        self.temp_dir = settings.previews_dir / spec.preview_id
        # The directories its container has beside its own (each empty, or the upload's).
        anchor = spec.detection.detected_from if spec.detection is not None else ""
        self.containment = Containment(
            spec,
            settings=settings,
            isolation=isolation,
            app_dir=self.temp_dir,
            volumes=container_folders(spec.files, anchor),
        )
        self.backing = Backing(  # its PostgreSQL, Redis, MySQL, for its preparation and run
            spec, settings=settings, containment=self.containment, system=self._system
        )
        self.upstream = Upstream(spec.port)  # the socket's, once sandboxed
        # What users see of it (events, errorMessage, errorLines) names no host path.
        self.host_paths = HostPaths.of_service(
            app_dir=self.temp_dir,
            data_dir=settings.data_dir,
            previews_dir=settings.previews_dir,
            env_root=settings.env_cache_dir,
            python=settings.python,
            sockets_dir=settings.sockets_dir,
        )
        self.broadcast = LogBroadcast(
            ring_size=settings.max_log_lines,
            subscriber_buffer=settings.subscriber_buffer,
            ring_bytes=settings.ring_bytes,
            writer_bytes=settings.ring_bytes,
            stats=metrics.log if metrics is not None else None,
            scrub=self.host_paths,
        )
        self._metrics = metrics
        # The generation's alert rules (``api.alerts.arm_alerts``): those on lines are the
        # broadcast's watch; those on routes are told of each call (record_proxy_call).
        self.alerts: AlertWatch | None = None
        self._launched_at = trio.current_time()
        self._worker_bounds = (settings.stop_grace, settings.max_line_bytes)
        builder = builder or EnvBuilder(settings)
        self.preparation = Preparation(
            spec, settings=settings, builder=builder, broadcast=self.broadcast
        )
        self.finished = trio.Event()
        self._controls = StopControls()
        self._prepare_scope = trio.CancelScope()
        # Its databases as a first attempt finds them (the data-init cache is for those).
        self._data_fresh = True
        self._start_slots = start_slots
        self.supervision: ChildSupervision | None = None  # while its child runs, and after
        self._tables = MissingTables(spec, self._system)  # 500s for want of its tables
        self._code_errors = CodeErrors(
            spec, str(self.temp_dir), self._system
        )  # 500s of its own code's names
        outbound = (lambda: self.containment.outbound) if self.containment.sandboxed else None
        self._outside = OutsideCalls(outbound, self._system)  # calls its sandbox refuses
        # Set when the service gives up waiting for the store (its shutdown grace is over).
        self._give_up_store = trio.Event()
        keeper = RowKeeper(store, self.id, give_up=self._give_up_store, on_error=self._row_failed)
        self.state = PreviewState(self.broadcast, keeper, self.host_paths)
        self._route_fixes = RouteFixes(self.state, self.preparation)  # its routes' 500s
        # What of its log is stored (PREVIEW_LOG_QUOTA_MB); its row says what was not.
        self.log_quota = LogQuota(settings.log_quota_mb * 2**20, on_row=self.state.row.update)
        self.swaps = RevisionSwaps(  # its later revisions, applied while it runs
            self, self.hand_over, ports=ports, builder=builder, start_slots=start_slots
        )

    @property
    def process(self) -> ChildProcess | None:
        return self.supervision.process if self.supervision is not None else None

    @property
    def confinement(self) -> Confinement | None:
        return self.containment.confinement

    @property
    def status(self) -> str:
        """Its status (``starting`` … ``failed``); the rest users see is :attr:`state`'s."""
        return self.state.status

    def touch(self) -> None:
        """Someone used it: the idle deadline moves (from ``running`` on; ≥ 1/10 of it, ≤ 1 s)."""
        idle, span, now = self._controls.idle, self.settings.inactive_timeout, trio.current_time()
        if self.state.status == "running" and abs(now + span - idle.deadline) >= min(1, span / 10):
            idle.deadline = now + span  # (a heap push: not at every proxied call)

    def request_stop(self, reason: str, *, kill: bool = False) -> None:
        """Stop it (``kill``: its process killed, no SIGTERM grace)."""
        self.state.set_reason(reason)
        self.state.kill_at_stop = self.state.kill_at_stop or kill
        self._prepare_scope.cancel()
        self._controls.queue.cancel()
        self._controls.stop.cancel()

    def hand_over(
        self, supervision: ChildSupervision, controls: StopControls, upstream: Upstream
    ) -> bool:
        """A revision's process takes over (``swaps``); False: a stop came first."""
        if self._controls.stop.cancel_called:
            return False
        self.supervision, self._controls, self.upstream = supervision, controls, upstream
        return True

    def fresh_scopes(self) -> bool:
        """A relaunch's scopes (each is entered once); False: a stop came first."""
        if not self._controls.stop.cancel_called:
            self._controls, self._prepare_scope = StopControls(), trio.CancelScope()
        return not self._controls.stop.cancel_called

    def _row_failed(self, error: Exception) -> None:
        if self.state.error_message is None:
            self.state.error_message = "its database row could not be written"
        self.request_stop("its database row could not be written")

    @property
    def runtime_info(self) -> dict[str, Any]:
        """How it is started: ``{framework, command, detectedFrom, python,
        generatedEnv}`` (no host path in the command)."""
        info: dict[str, Any] = dict(self.preparation.runtime_info)
        info["revision"] = self.spec.revision
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
    ) -> int | None:
        """A proxied request as an event among the app's lines (its id; None once closed);
        waits only while the log's writer is behind, or to say a diagnosis (a 5xx)."""
        self.touch()
        event_id = self.state.proxy_event(method, path, status, elapsed_ms, request_id, error)
        if self._metrics is not None:  # /metrics' latency by route (metrics.RouteLatency)
            self._metrics.routes.observe_call(self.spec.generation_id, method, path, elapsed_ms)
        if self.alerts is not None and self.alerts.watches_calls:
            self.alerts.observe_call(method, path, status, elapsed_ms)
        if status is not None and self.supervision is not None:
            self.supervision.alive_at = trio.current_time()  # errors before: not its exit's
        if status is not None and status >= 500:  # whether its tables are missing
            await self._tables.answered(method, path, status)
        if self.broadcast.writer_full():  # no coroutine made otherwise: a call's CPU
            await self.broadcast.wait_for_writer()
        return event_id

    async def call_failure_said(self, began: float) -> str | None:
        """What the app printed of an error since ``began`` (trio time: when a call it
        failed began), its host paths out, and why where it is a lookup its sandbox
        fails (``OutsideCalls``); None if it printed none."""
        if self.supervision is None:
            return None
        said, lines = await self.supervision.output.error_since(began)
        if not said:
            return None
        return self._outside.explained(self.host_paths(said), "\n".join(lines))

    async def wait_settled(self) -> None:
        """Return once the preview is running, or has ended and its row is final."""
        while self.state.status != "running" and not self.broadcast.closed:
            await self.broadcast.wait_for_status_change()
        if self.state.status != "running":
            await self.finished.wait()

    async def usage(self) -> tuple[float, float] | None:
        """Memory (MiB) and CPU (%) of the process group, as last measured."""
        return await self.supervision.usage() if self.supervision is not None else None

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
            if self.state.status not in ("stopped", "failed"):
                self.request_stop("the service is shutting down")
            self._give_up_store.set()  # only stores wait beyond this: not for ever

    async def _system(self, level: str, message: str) -> None:
        if not self.broadcast.closed:
            await self.state.system(level, message)

    async def _run_shielded(self, task_status: trio.TaskStatus[None]) -> None:
        final_status = "failed"
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    write_log_events,
                    self._store,
                    self.id,
                    self.broadcast,
                    self._give_up_store,
                    self.log_quota,
                )
                nursery.start_soon(self.state.row.keep)
                final_status = await self._run_child_to_its_end(task_status)
                await seal_log(self.log_quota, self.broadcast, self.state.system)
                # Every end is told before the log closes: the last event before ``end``.
                state = self.state
                await state.publish_status(final_status, state.end_message(final_status))
                self.broadcast.close(final_status)
                self.state.row.stop_keeping()  # _finalise writes the rest
        finally:
            self.broadcast.close(final_status)
            await self._finalise(final_status)

    async def _run_child_to_its_end(self, task_status: trio.TaskStatus[None]) -> str:
        """``_run_child``; a failure of the service's own is its end too, told as failed."""
        try:
            return await self._run_child(task_status)
        except Exception as error:
            told = report_fault(
                _log,
                error,
                "the service failed to run it",
                about=f"preview {self.id}",
                scrub=self.host_paths,
            )
            if self.state.error_message is None:
                self.state.error_message = told
            self.state.set_reason("an error of the service")
            return "failed"

    def _data_cache(self) -> DataInitCache | None:
        """Where its data steps' data is kept and put back, for an attempt that finds its
        databases as a first one does: the first, and a later one (a fix's, another
        plan's) whose databases :meth:`reset_data` emptied (only the first, before: a
        launch that needed a fix kept nothing, and each relaunch of it ran its migrations
        again, 2-6 s of four heldout7 apps' cached launches). Not an attempt that goes on
        with what the last one left (started once more), nor after a clear that failed,
        nor a launch seeded with a snapshot's data, whose steps run on that."""
        spec, fresh, self._data_fresh = self.spec, self._data_fresh, False
        if not fresh or spec.data_cache is None or spec.seed is not None:
            return None
        return spec.data_cache(self)

    async def reset_data(self) -> None:
        """Before another attempt of its launch (a fix's, another plan's): what the failed
        one left in its databases taken out (``DataInitCache.clear``), so that its
        migrations and seeds run again on empty databases, as on the first (a migration a
        failed attempt half ran, non-transactional, fails again on "table already
        exists"). Not a launch seeded with a snapshot's data, which its steps run on."""
        spec = self.spec
        if spec.data_cache is None or spec.seed is not None:
            return
        cache: DataInitCache | None = spec.data_cache(self)
        if cache is None:
            return
        failure = await cache.clear()
        if failure is not None:
            await self.state.system(
                "WARN", f"the data its failed attempt left could not be cleared: {failure}"
            )
        else:
            self._data_fresh = True
            await self.state.system(
                "INFO", "the data its failed attempt left cleared: its databases start empty"
            )

    def _how_started(self) -> dict[str, str]:  # the row's: the status tells them after the end
        info = self.runtime_info | {"healthPath": self.spec.health_path}  # (its checks' lines)
        return {"command": info["command"] or "", "runtime": json.dumps(info)}

    def _environment(self, python: str) -> dict[str, str]:
        return app_environment(
            self.spec,
            python,
            app_dir=self.temp_dir,
            database_env=self.backing.env,
            egress_open=self.containment.egress_open,
            memory_limit_mb=self.settings.memory_limit_mb,
            defaults=self.preparation.config.values,
            database_certificate=self.backing.certificate,
        )

    async def _write_files(self) -> bool:
        """The upload's files in its directory (a tmpfs of its quota when sandboxed)."""
        spec, state = self.spec, self.state
        try:
            # Its files are its own uid's, should it run as one (Containment.plain_uid).
            quota, owner = self.containment.disk_quota, self.containment.files_uid()
            await trio.to_thread.run_sync(write_files, self.temp_dir, spec.files, quota, owner)
        except OSError as error:  # a full disk or quota says so (NO_SPACE)
            state.error_message = write_failure(error, self.host_paths(error.filename or ""))
            return False
        await state.system("INFO", f"wrote {len(spec.files)} files to the app's directory")
        return True

    async def _run_child(self, task_status: trio.TaskStatus[None]) -> str:
        spec, state = self.spec, self.state
        await state.system("INFO", f"port {spec.port} allocated")
        written = await self._write_files()
        task_status.started()  # the launch call returns: the rest shows in the log
        if not written:
            return "failed"
        async with self.backing.running() as failure:
            if failure is None and spec.seed is not None:  # a snapshot's data, say
                failure = await spec.seed(self)
            if failure is not None:  # what it expects cannot be given (its log says why)
                state.error_message = failure
                return "failed"
            ended = await self._prepare_and_run()
            if ended == "failed" and self.backing.failure is not None:
                then = f" (then: {state.error_message})" if state.error_message else ""
                state.error_message = f"{self.backing.failure}{then}"
            return ended

    async def _prepare_and_run(self) -> str:
        spec, state = self.spec, self.state
        if spec.detection is not None:
            info = self.runtime_info
            found = f"detected {info['framework']} from {info['detectedFrom']}: {info['command']}"
            await state.system("INFO", found.replace("{python}", "python"))  # (not built yet)
            await self._say_plan()
        while True:  # again with a fix, else the next plan, while one is found
            ran_before = state.started_at
            outcome = await self._attempt()
            if state.started_at is not ran_before and state.stop_reason != PLAN_DID_NOT_SERVE:
                self.preparation.plans.keep(spec)  # it served: the generation's plan
            if outcome != "failed":
                break
            if await run_once_more(self):
                continue
            if not await relaunch_with_fix(self) and not await try_next_plan(self):
                break
        if outcome == "failed":  # it died calling out: why that failed, in its cause
            state.error_message = self._outside.explained(state.error_message)
            # It went on without its data set-up: that set-up's failure comes first.
            state.error_message = self.preparation.plans.explained(state.error_message)
            # It ran on stand-ins: they may be why; the real ones are asked for.
            stand_ins = self.preparation.config.stand_ins
            state.error_message = with_stand_ins(state.error_message, stand_ins)
        return outcome

    async def _say_plan(self) -> None:
        """Which plan starts it, where there are several (an earlier launch's kept)."""
        spec = self.spec
        adopted = self.preparation.plans.adopt(spec)
        if adopted is not None:
            await self.state.system("INFO", adopted)
            return
        detection = spec.detection
        if detection is not None and len(detection.plans) > 1:
            plan = detection.plans[detection.plan]
            await self.state.system("INFO", plan.said(detection.plan + 1, len(detection.plans)))

    async def _attempt(self) -> str:
        """One preparation and spawn of the app; its outcome."""
        spec, state, python = self.spec, self.state, self.settings.python
        state.phase = INSTALL
        with self._prepare_scope:
            try:
                python = await self.preparation.run(
                    self.temp_dir,
                    self._environment,
                    on_phase=partial(setattr, self.state, "phase"),
                    on_cached=self.state.phase_cached,
                    confine=self.containment.confine_step,
                    run_as=self.containment.plain_uid,
                    services_ready=self.backing.ready,
                    data_cache=self._data_cache(),
                )
            except BuildFailed as failure:
                steps = state.phase in (BUILD, DATA_INIT)
                what = "the app's files" if steps else "the app's environment"
                full = no_space([failure.message, *failure.lines], what)
                state.error_message, state.error_lines = full or failure.message, failure.lines
                state.set_reason(PREPARATION_FAILED)
                await state.system("ERROR", state.error_message or failure.message)
                return "failed"
            state.row.update(**self._how_started())
        if self._prepare_scope.cancelled_caught:
            return "stopped"
        if not self._ports.still_free(spec.port):
            try:
                await self._move_port()
            except Unavailable as error:
                state.error_message = f"its port was taken meanwhile: {error.message}"
                return "failed"
        await self.backing.ready()  # it may connect at once (its set-up steps waited too)
        built = self.preparation.env_path
        env = await self.preparation.environment(python, self._environment)
        run_as = self.containment.plain_uid(python, built)
        limits = ChildLimits(memory_bytes=self.preparation.memory_limit(), run_as=run_as)
        if run_as is not None:
            await state.system("INFO", f"not sandboxed: runs as uid {run_as}, not the service's")
        state.phase = "starting"
        self._route_fixes.attempt_starts()
        confinement = self.containment.confine(python, built)
        env = with_route_table(confinement, spec, env)
        if confinement is not None:
            ready = confinement.ready_socket_path
            ready_path = str(ready) if ready is not None else None
            self.upstream = Upstream(spec.port, str(confinement.socket_path), ready_path=ready_path)
        at = WorkerSetting(self.temp_dir, env, limits, confinement, *self._worker_bounds)
        recipe = ProcessRecipe(
            spec,
            self.temp_dir,
            env,
            limits,
            confinement,
            self.upstream,
            workers=AppWorkers.of(spec, python, self.broadcast, self._system, at),
            listed_in=self.preparation.listed_in,
            fixes=tuple(fix.change for fix in self.preparation.remedies.fixes),
            startup_timeout=startup_allowed(
                self.settings.startup_timeout, self.preparation.uncompiled
            ),
        )
        self.supervision = ChildSupervision(
            recipe,
            state=state,
            settings=self.settings,
            controls=self._controls,
            start_slots=self._start_slots,
            metrics=self._metrics,
            launched_at=self._launched_at,
            diagnoses=self.diagnoses(),
        )
        outbound_dir = confinement.outbound_dir if confinement is not None else None
        say = partial(self._system, "WARN")
        async with open_outbound(outbound_dir, self.containment.outbound, say):
            return await self.swaps.serve(self.supervision, self._controls)

    def diagnoses(self) -> Diagnoses:
        """What reads its processes' output (the launch's; its revisions' too, but for
        the relaunch for a route's fix: :meth:`Diagnoses.for_revision`)."""
        return Diagnoses(
            watch=self._watch_lines,
            needed=self.preparation.config.missing,
            on_failing_routes=self._route_fixes.wanted,
        )

    async def _watch_lines(self, texts: list[str]) -> None:
        """What the app printed, for the diagnoses that read it."""
        await self._tables.lines(texts)
        self._route_fixes.lines(texts)
        await self._outside.lines(texts)
        await self._code_errors.lines(texts)

    async def _move_port(self) -> None:
        """Another process took the port while the app was prepared: take another."""
        taken, spec = self.spec.port, self.spec
        spec.port = self._ports.allocate()  # no await since the check: atomic
        self._ports.release(taken)
        spec.argv = self.preparation.command(spec.port)
        self.upstream = Upstream(spec.port)
        await self.state.system(
            "WARN", f"port {taken} was taken meanwhile; port {spec.port} allocated"
        )
        self.state.row.update(port=spec.port, **self._how_started())

    async def _finalise(self, final_status: str) -> None:
        """Port, temp dir and row; runs whatever happened before (shielded caller)."""
        await finalise(
            self.state,
            final_status,
            metrics=self._metrics,
            ports=self._ports,
            port=self.spec.port,
            upstream=self.upstream,
            containment=self.containment,
            preparation=self.preparation,
            app_dir=self.temp_dir,
            preview_id=self.id,
        )
