"""While a preview's child runs: spawn, readiness, health checks, limits, upkeep.

:class:`ChildSupervision` spawns the app, waits for it to answer and watches it until it
should end; its tree is terminated on the way out, whatever happened. The preparation
before and the teardown after are the preview's life (``lifecycle``); what users see of
it is written to its :class:`~.state.PreviewState`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import trio

from ..apps.processes.scriptrun import script_run_in
from ..clock import utcnow
from ..logs import NO_SPACE, ChildOutput
from ..logs.causes.failure import with_server_refused
from ..metrics import Metrics
from ..sandbox import ChildProcess, GroupUsage
from ..sandbox.process import (
    describe_exit,
    process_start_time,
    spawn_child,
    terminate_group,
)
from ..settings import Settings
from .anyport import AnyPort, timeout_message
from .codeerrors import (
    empty_entry,
    terminal_program,
    uncalled_body_parser,
    with_hosted_call_failed,
    with_undefined_name,
)
from .readiness import is_healthy
from .recipe import NO_DIAGNOSES, Diagnoses, ProcessRecipe
from .smoke import check_once_running
from .state import PreviewState

__all__ = ["EXITED", "READERS_DRAIN", "WORKERS_READY_WAIT", "ChildSupervision", "StopControls"]

READERS_DRAIN = 2.0  # after the group is dead, pipes held by escapees are cut
_LAG_CHECK = 1.0  # how often subscribers stuck far behind are looked for
_LIMITS_CHECK = 0.2  # how often the cgroup's limit counters are read
_USAGE_MAX_AGE = 1.0
_CRASH_LINES = 0.3  # s after a watcher's crash line, for the lines before it to be read
# Unhealthy after this many failed checks in a row (Docker's retries, Kubernetes'
# failureThreshold), a failed one asked again sooner: one slow answer is not an app gone.
_UNHEALTHY_AFTER, _RECHECK = 3, 1.0  # (checks, s at most)
EXITED = "the process exited"  # the stop reason when the app ended by itself
# s: at most, for its workers that say when they are ready, before the smoke check (a
# Celery worker waits for its database first; it is ready a few seconds after the web)
WORKERS_READY_WAIT = 30.0
# The smoke check's calls wait this long after the app first answers: an app listening
# before its database is made (TypeORM's createConnection() not awaited, its synchronize
# still under way) died of the first call's unhandled ER_NO_SUCH_TABLE 80 ms after it
# answered (melpcode's ts-typeorm-crud), where no user calls that soon.
SMOKE_SETTLE = 2.0


class StopControls:
    """The scopes that end a preview, cancelled by the API (``PreviewRuntime.request_stop``,
    ``touch``): a stop, the idle deadline, the wait for a start slot. Made with the
    runtime, before any child exists, so that a stop requested early still takes."""

    def __init__(self) -> None:
        self.stop = trio.CancelScope()
        self.idle = trio.CancelScope()
        self.queue = trio.CancelScope()  # while it waits for a start slot


class ChildSupervision:
    """One spawn of a preview's app and its watch (see the module doc).

    Made by its :class:`~.lifecycle.PreviewRuntime` once the app's environment and
    confinement are ready, which awaits :meth:`run` once. It owns the child, a reader per
    pipe, the streams' heartbeat, the limits watch and the health checks; all end before
    :meth:`run` returns, the child's tree terminated, its pipes drained (or cut after
    ``READERS_DRAIN``)."""

    def __init__(
        self,
        recipe: ProcessRecipe,
        *,
        state: PreviewState,
        settings: Settings,
        controls: StopControls,
        start_slots: trio.CapacityLimiter | None,
        metrics: Metrics | None,
        launched_at: float,
        diagnoses: Diagnoses = NO_DIAGNOSES,
        on_answering: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.recipe = recipe
        self._spec = spec = recipe.spec
        self._state = state
        self._settings = settings
        self._app_dir = recipe.app_dir
        self._upstream = recipe.upstream
        self._confinement = confinement = recipe.confinement
        self._controls = controls
        self._listed_in = recipe.listed_in  # where a missing module should be added (hints)
        self._start_slots = start_slots
        self._holds_start_slot = False
        self._metrics = metrics
        self._launched_at = launched_at
        self.output = ChildOutput(
            state.broadcast,
            settings.max_line_bytes,
            settings.partial_line_flush,
            app_dir=str(recipe.app_dir),
            watch=diagnoses.watch,
            needed=diagnoses.needed,
        )
        self._usage = GroupUsage(max_age=_USAGE_MAX_AGE)
        self._upkeep: trio.Nursery | None = None  # while the child runs (_heartbeat)
        self._pipes: trio.Nursery | None = None  # while the child runs
        self._any_port = AnyPort(confinement, spec.port, state.system, self.output.recent_lines)
        self.process: ChildProcess | None = None
        self.alive_at: float | None = None  # when it last answered (trio time)
        self._on_answering = on_answering  # False stops it: a revision's (runtime.swaps)
        # True: a fix for them (_smoke_check)
        self._on_failing_routes = diagnoses.on_failing_routes
        self._ended_for_a_fix = False
        self.workers = recipe.workers  # started once it answers, stopped before it (.processes)

    def report_to(self, state: PreviewState) -> None:
        """What follows is told to ``state`` (a swap of revisions: ``runtime.swaps``)."""
        self._state = state

    async def usage(self) -> tuple[float, float] | None:
        """Memory (MiB) and CPU (%) of the process group, as last measured: the first
        call waits for a measurement, later ones never do (see ``GroupUsage``)."""
        if self.process is None or self.process.returncode is not None:
            return None
        if self._confinement is not None and self._confinement.cgroup is not None:
            return self._confinement.usage()  # two small sysfs reads: no thread needed
        return await self._usage.get(self.process.pid, self._upkeep)

    async def run(self) -> str:
        """Spawn the recipe's process and watch it to its end, which always tears its
        tree down; the preview's final status."""
        spec, state = self._spec, self._state
        env, limits = self.recipe.env, self.recipe.limits
        argv, shown = list(spec.argv), " ".join(spec.argv)
        # npm's own start-up and resident process left out (apps.processes.scriptrun)
        if (direct := await script_run_in(spec.argv, self._app_dir)) is not None:
            argv, env = list(direct.argv), {**env, **direct.env}
            shown = f"{direct.line} (its {direct.name} script, run as npm runs it, without npm"
            if direct.install_left_out:
                shown += f"; its own `{direct.install_left_out}` left out: installed already"
            shown += ")"
        if not await self._take_start_slot():
            return "stopped"
        try:
            process = await spawn_child(
                argv,
                cwd=self._app_dir,
                env=env,
                limits=limits,
                confinement=self._confinement,
                stdin_open=True,  # as its author's terminal: its watchers run on
            )
        except OSError as error:
            self._give_back_start_slot()
            state.error_message = f"could not start {spec.argv[0]!r}: {error.strerror or error}"
            await state.system("ERROR", state.error_message or "")
            return "failed"
        self.process = process
        async with trio.open_nursery() as pipes:
            self._pipes = pipes
            pipes.start_soon(self.output.read, process.stdout, "stdout")
            pipes.start_soon(self.output.read, process.stderr, "stderr")
            heartbeat = trio.CancelScope()
            pipes.start_soon(self._heartbeat, heartbeat)
            limits_watch = trio.CancelScope()
            pipes.start_soon(self._watch_limits, limits_watch)
            try:
                # From the spawn on, whatever fails still reaches the finally: no orphans.
                await state.system("INFO", f"process started (pid {process.pid}): {shown}")
                state.row.update(
                    process_id=process.pid, process_started_at=process_start_time(process.pid)
                )
                outcome = await self._supervise(process)
                state = self._state  # another's now, if it was swapped (report_to)
                if state.status in ("starting", "running"):
                    await state.publish_status("stopping", state.stopping_message())
                    state.row.update(status="stopping")
            finally:
                self._give_back_start_slot()
                grace = 0.0 if self._state.kill_at_stop else self._settings.stop_grace
                with trio.move_on_after(grace + 5):
                    self._state.exit_code = await terminate_group(process, grace, self._confinement)
                process.close()
                self.output.release()  # its pipes' ends: read now, not at the readers' bound
                heartbeat.cancel()
                limits_watch.cancel()
                self._any_port.stop()
                pipes.cancel_scope.deadline = trio.current_time() + READERS_DRAIN
        clean, state = outcome == "stopped", self._state
        requested = clean and state.stop_reason != EXITED  # ours, not the app's own exit
        await state.system(
            "INFO" if clean else "ERROR", describe_exit(state.exit_code, requested=requested)
        )
        if outcome == "failed" and state.error_message is None:
            state.error_message = describe_exit(state.exit_code)
        return outcome

    async def _take_start_slot(self) -> bool:
        """Wait until fewer than PREVIEW_MAX_STARTING previews are starting; False if
        it was stopped meanwhile. The start-up timeout counts from the spawn after."""
        slots = self._start_slots
        if slots is None:
            return True
        if slots.available_tokens == 0:
            self._state.phase = "waiting to start"
            await self._state.system(
                "INFO",
                f"waiting to start: {slots.borrowed_tokens} other previews are starting",
            )
        with self._controls.queue:
            await slots.acquire()
            self._holds_start_slot = True
        if self._holds_start_slot:
            self._state.phase = "starting"
        return self._holds_start_slot

    def _give_back_start_slot(self) -> None:
        """Idempotent."""
        if self._holds_start_slot and self._start_slots is not None:
            self._holds_start_slot = False
            self._start_slots.release()

    async def _supervise(self, process: ChildProcess) -> str:
        """Until the preview should end; returns the final status it should get."""
        settings, state = self._settings, self._state
        lifetime = trio.current_time() + settings.max_uptime
        with (
            self._controls.stop,
            trio.CancelScope(deadline=lifetime) as lifetime_scope,
            self._controls.idle,
        ):
            outcome = await self._start(process)
            self._give_back_start_slot()  # answering (or gone): the next may start
            if outcome is not None:
                return outcome
            if self._on_answering is not None and not await self._on_answering():
                return "stopped"
            async with trio.open_nursery() as checks:
                checks.start_soon(self._health_loop)
                if settings.smoke_check == "on":
                    checks.start_soon(self._smoke_check, checks.cancel_scope)
                if self.workers is not None:  # in its sandbox: that of its outer process
                    checks.start_soon(self.workers.run, process.pid)
                await process.wait()
                checks.cancel_scope.cancel()
            if self._ended_for_a_fix:
                return "failed"  # its runtime relaunches it with the fix (builds.relaunch)
            return await self._exited_on_its_own(self._exit_status(process.returncode))
        state = self._state  # another's now, if it was swapped (report_to)
        if self._controls.idle.cancelled_caught:
            state.set_reason(f"idle for {settings.inactive_timeout:g} s")
        elif lifetime_scope.cancelled_caught:
            state.set_reason(f"maximum uptime of {settings.max_uptime:g} s reached")
        return "failed" if state.error_message else "stopped"

    async def _start(self, process: ChildProcess) -> str | None:
        """Wait until the child answers HTTP; None when running, else the final status."""
        settings, state, spec = self._settings, self._state, self._spec
        began = trio.current_time()
        allowed = self.recipe.startup_timeout or settings.startup_timeout
        with trio.move_on_after(allowed):
            answered = await self._answering(process)
            if not answered:
                await self._failed_start(self._exit_status(process.returncode))
                return "failed"
            self.alive_at = trio.current_time()
            ready_ms = (self.alive_at - began) * 1000
            if self._metrics is not None:
                self._metrics.launch_seconds.observe(trio.current_time() - self._launched_at)
            state.status = "running"
            state.phase = "running"
            # The idle time counts from here: a slow start is not idleness.
            self._controls.idle.deadline = trio.current_time() + settings.inactive_timeout
            state.started_at = utcnow()
            state.health_status = "healthy"
            state.last_health_check = state.started_at
            await state.system("INFO", f"port {self._any_port.port or spec.port} answering")
            await state.publish_status("running", f"ready in {ready_ms:.0f} ms")
            state.row.update(
                status="running",
                started_at=state.started_at,
                health_status="healthy",
                last_health_check=state.started_at,
            )
            return None
        state.set_reason("start-up timeout")
        recent = self.output.recent_lines()
        listened = self._any_port.expected_listened
        state.error_message = timeout_message(recent, spec.port, allowed, listened=listened)
        # Why no request was answered: a body parser that answers none, wherever it
        # listens (jeffmcrockett's bidpros: ``app.use(express.json)``, "it should listen
        # on $PORT, not 4001" alone), or a command-line program that listens nowhere.
        said = uncalled_body_parser(spec.files) or terminal_program(spec.files)
        if said is not None:
            await state.system("WARN", f"diagnosis: {said}")
            state.error_message = f"{state.error_message} — {said}"
        return "failed"

    async def _answering(self, process: ChildProcess) -> bool:
        """Whether the child answers; False once it exits, or once the file watcher it
        runs under says the app died and waits for a change (nodemon's "app crashed -
        waiting for file changes": hsarb's postgres-express-boilerplate, ``nodemon --exec
        babel-node``, whose missing preset kept the launch waiting to its timeout)."""
        assert self._pipes is not None
        spec, result = self._spec, []
        async with trio.open_nursery() as race:

            async def answering() -> None:
                assert self._pipes is not None
                result.append(
                    await self._any_port.wait_answering(
                        process, self._upstream, spec.health_path, self._pipes
                    )
                )
                race.cancel_scope.cancel()

            async def watcher_waits() -> None:
                await self.output.watcher_waits.wait()
                await trio.sleep(_CRASH_LINES)  # the crash's last lines published
                result.append(False)
                race.cancel_scope.cancel()

            race.start_soon(answering)
            race.start_soon(watcher_waits)
        return bool(result and result[0])

    async def _why(self) -> tuple[str | None, list[str]]:
        """The one-line cause of an exit, read from the app's output, and its lines."""
        spec = self._spec
        return await self.output.failure(
            READERS_DRAIN, spec.requirements, self._listed_in, spec.files, self.alive_at
        )

    def _with_undefined_name(self, cause: str | None) -> str | None:
        """``cause`` with the name the app's own code never defines, if it is that: read
        from the streams' whole tails, not the failure's shown lines, for Node prints its
        frames below the error, more of them than are shown (gitsangramdesai's
        expresssequelizemerge: 16, through Sequelize's import of a model file)."""
        lines = self.output.recent_lines()
        files, root = self._spec.files, str(self._app_dir)
        cause = with_server_refused(with_undefined_name(cause, lines, files, root), lines)
        # (or its read of a hosted API's failed answer: Lammmas's braintree-express-poc)
        return with_hosted_call_failed(cause, lines, files, root)

    async def _failed_start(self, returncode: int | None) -> None:
        state, spec = self._state, self._spec
        cause, state.error_lines = await self._why()
        cause = self._with_undefined_name(cause)
        quiet = self.output.quiet_exit(returncode, cause)
        if quiet and "printing nothing" in quiet and (empty := empty_entry(spec.argv, spec.files)):
            quiet = f"exited with code 0 before it served, printing nothing: {empty}"
        cause = self._limit_exceeded() or quiet or cause
        state.error_message = cause or describe_exit(returncode)
        state.set_reason("the process exited during start-up")

    async def _exited_on_its_own(self, returncode: int | None) -> str:
        state = self._state
        state.set_reason(EXITED)
        if returncode == 0:
            return "stopped"
        cause, state.error_lines = await self._why()
        cause = self._with_undefined_name(cause)
        limit = self._limit_exceeded()
        if limit is not None:
            state.error_message = limit
            return "failed"
        if cause is not None and cause.startswith(NO_SPACE):
            state.error_message = cause  # the disk's state first: the exit code follows it
        else:
            state.error_message = f"{describe_exit(returncode)}: {cause}" if cause else None
        return "failed"

    def _exit_status(self, returncode: int | None) -> int | None:
        if returncode is None or self._confinement is None:
            return returncode
        return self._confinement.exit_status(returncode)

    def _limit_exceeded(self) -> str | None:
        return self._confinement.limit_exceeded() if self._confinement is not None else None

    async def _watch_limits(self, scope: trio.CancelScope) -> None:
        """A preview that runs into its memory or process limit has failed, even when
        the app itself survives it (a fork bomb meets EAGAIN and keeps trying)."""
        if self._confinement is None or self._confinement.cgroup is None:
            return
        with scope:
            while True:
                await trio.sleep(_LIMITS_CHECK)
                limit = self._limit_exceeded()  # a few bytes from sysfs: on the loop
                state = self._state
                if limit is not None and state.error_message is None:
                    state.error_message = limit
                    await state.system("ERROR", limit)
                    state.set_reason(limit)
                    self._controls.stop.cancel()
                    return

    async def _smoke_check(self, running: trio.CancelScope) -> None:
        """The smoke check (``smoke``); ``running`` ended for a relaunch with a fix."""
        fixing = self._on_failing_routes
        await trio.sleep(SMOKE_SETTLE)
        if self.workers is not None:  # what its routes ask of its workers: there first
            with trio.move_on_after(WORKERS_READY_WAIT):
                await self.workers.ready()
        if await check_once_running(self._state, self._upstream, self._spec.files, fixing):
            self._ended_for_a_fix = True
            running.cancel()

    async def _health_loop(self) -> None:
        interval = self._settings.health_interval
        failed = 0  # checks failed in a row
        while True:
            try:
                async with self._upstream.client(timeout=5.0) as client:
                    while True:
                        await trio.sleep(min(interval, _RECHECK) if failed else interval)
                        healthy = await is_healthy(client, self._upstream, self._spec.health_path)
                        failed = 0 if healthy else failed + 1
                        await self._record_health(healthy, failed)
            except httpx.HTTPError:  # no way to it now (its socket gone as it ends, or
                failed += 1  # not yet there after a retarget): a failed check
                await self._record_health(False, failed)
                await trio.sleep(min(interval, _RECHECK))

    async def _record_health(self, healthy: bool, failed: int) -> None:  # failed: in a row
        state = self._state
        if healthy:
            self.alive_at = trio.current_time()
        elif failed < _UNHEALTHY_AFTER:
            return  # perhaps a slow answer: unhealthy once it fails again and again
        status = "healthy" if healthy else "unhealthy"
        if status != state.health_status:
            await state.system("INFO" if healthy else "WARN", f"health check: {status}")
        state.health_status = status
        state.last_health_check = utcnow()
        state.row.update(health_status=status, last_health_check=state.last_health_check)

    async def _heartbeat(self, scope: trio.CancelScope) -> None:
        """While the child runs: pace the streams' wake-ups, keep idle streams alive (SSE
        comments), forget the subscribers stuck too far behind, and host the background
        usage measurements (:meth:`usage`)."""
        interval = self._settings.keepalive_interval
        broadcast = self._state.broadcast
        with scope:
            async with trio.open_nursery() as upkeep:
                self._upkeep = upkeep
                try:
                    if self._settings.stream_interval > 0:
                        upkeep.start_soon(
                            broadcast.serve_paced_wakeups, self._settings.stream_interval
                        )
                    next_beat = trio.current_time() + interval
                    while True:
                        await trio.sleep(min(_LAG_CHECK, interval))
                        broadcast.drop_laggards()
                        if trio.current_time() >= next_beat:
                            next_beat = trio.current_time() + interval
                            broadcast.heartbeat()
                finally:
                    self._upkeep = None
