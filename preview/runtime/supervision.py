"""While a preview's child runs: spawn, readiness, health checks, limits, upkeep.

A part of :class:`~preview.runtime.lifecycle.PreviewRuntime` (its base class), apart so
that each module keeps to one concern: ``lifecycle`` prepares, confines and tears down;
this spawns the app, waits for it to answer and watches it until it should end (its
tree is terminated on the way out, whatever happened).
"""

from __future__ import annotations

import trio

from ..clock import utcnow
from .child import ChildProcess
from .process import (
    ChildLimits,
    describe_exit,
    process_start_time,
    spawn_child,
    terminate_group,
)
from .readiness import is_healthy, wait_until_answering
from .spec import LaunchSpec

__all__ = ["EXITED", "READERS_DRAIN", "ChildSupervision"]

READERS_DRAIN = 2.0  # after the group is dead, pipes held by escapees are cut
_LAG_CHECK = 1.0  # how often subscribers stuck far behind are looked for
_LIMITS_CHECK = 0.2  # how often the cgroup's limit counters are read
EXITED = "the process exited"  # the stop reason when the app ended by itself


class ChildSupervision:
    """The running phase of a :class:`PreviewRuntime` (see the module doc)."""

    @property
    def error_message(self) -> str | None:
        """Why it failed, as users see it (no host path: set through ``host_paths``)."""
        return self._error_message

    @error_message.setter
    def error_message(self, message: str | None) -> None:
        self._error_message = self.host_paths(message) if message else message

    @property
    def error_lines(self) -> list[str]:
        """The last lines that show why, as users see them."""
        return self._error_lines

    @error_lines.setter
    def error_lines(self, lines: list[str]) -> None:
        self._error_lines = self.host_paths.lines(lines)

    async def _spawn_and_supervise(
        self, spec: LaunchSpec, env: dict[str, str], limits: ChildLimits
    ) -> str:
        """Spawn the app and watch it to its end, which always tears its tree down."""
        if not await self._take_start_slot():
            return "stopped"
        try:
            process = await spawn_child(
                spec.argv, cwd=self.temp_dir, env=env, limits=limits, confinement=self.confinement
            )
        except OSError as error:
            self._give_back_start_slot()
            self.error_message = f"could not start {spec.argv[0]!r}: {error.strerror or error}"
            await self._system("ERROR", self.error_message)
            return "failed"
        self.process = process
        async with trio.open_nursery() as pipes:
            pipes.start_soon(self._output.read, process.stdout, "stdout")
            pipes.start_soon(self._output.read, process.stderr, "stderr")
            heartbeat = trio.CancelScope()
            pipes.start_soon(self._heartbeat, heartbeat)
            limits_watch = trio.CancelScope()
            pipes.start_soon(self._watch_limits, limits_watch)
            try:
                # From the spawn on, whatever fails (the database, say) still reaches
                # the finally below: no child outlives its preview.
                argv = " ".join(spec.argv)
                await self._system("INFO", f"process started (pid {process.pid}): {argv}")
                self._row.update(
                    process_id=process.pid, process_started_at=process_start_time(process.pid)
                )
                outcome = await self._supervise(process)
                if self.status in ("starting", "running"):
                    await self._publish_status("stopping", f"stopping: {self.stop_reason}")
                    self._row.update(status="stopping")
            finally:
                self._give_back_start_slot()
                with trio.move_on_after(self.settings.stop_grace + 5):
                    self.exit_code = await terminate_group(
                        process, self.settings.stop_grace, self.confinement
                    )
                process.close()
                heartbeat.cancel()
                limits_watch.cancel()
                pipes.cancel_scope.deadline = trio.current_time() + READERS_DRAIN
        clean = outcome == "stopped"
        requested = clean and self.stop_reason != EXITED  # ours, not the app's own exit
        await self._system(
            "INFO" if clean else "ERROR", describe_exit(self.exit_code, requested=requested)
        )
        if outcome == "failed" and self.error_message is None:
            self.error_message = describe_exit(self.exit_code)
        return outcome

    async def _take_start_slot(self) -> bool:
        """Wait until fewer than PREVIEW_MAX_STARTING previews are starting; False if
        it was stopped meanwhile. The start-up timeout counts from the spawn after."""
        slots = self._start_slots
        if slots is None:
            return True
        if slots.available_tokens == 0:
            self.phase = "waiting to start"
            await self._system(
                "INFO",
                f"waiting to start: {slots.borrowed_tokens} other previews are starting",
            )
        with self._queue_scope:
            await slots.acquire()
            self._holds_start_slot = True
        if self._holds_start_slot:
            self.phase = "starting"
        return self._holds_start_slot

    def _give_back_start_slot(self) -> None:
        """Idempotent."""
        if self._holds_start_slot and self._start_slots is not None:
            self._holds_start_slot = False
            self._start_slots.release()

    async def _supervise(self, process: ChildProcess) -> str:
        """Until the preview should end; returns the final status it should get."""
        lifetime = trio.current_time() + self.settings.max_uptime
        with (
            self._stop_scope,
            trio.CancelScope(deadline=lifetime) as lifetime_scope,
            self._idle_scope,
        ):
            outcome = await self._start(process)
            self._give_back_start_slot()  # answering (or gone): the next may start
            if outcome is not None:
                return outcome
            async with trio.open_nursery() as checks:
                checks.start_soon(self._health_loop)
                await process.wait()
                checks.cancel_scope.cancel()
            return await self._exited_on_its_own(self._exit_status(process.returncode))
        if self._idle_scope.cancelled_caught:
            self._set_reason(f"idle for {self.settings.inactive_timeout:g} s")
        elif lifetime_scope.cancelled_caught:
            self._set_reason(f"maximum uptime of {self.settings.max_uptime:g} s reached")
        return "failed" if self.error_message else "stopped"

    async def _start(self, process: ChildProcess) -> str | None:
        """Wait until the child answers HTTP; None when running, else the final status."""
        began = trio.current_time()
        with trio.move_on_after(self.settings.startup_timeout):
            answered = await wait_until_answering(process, self.upstream, self.spec.health_path)
            if not answered:
                await self._failed_start(self._exit_status(process.returncode))
                return "failed"
            ready_ms = (trio.current_time() - began) * 1000
            if self._metrics is not None:
                self._metrics.launch_seconds.observe(trio.current_time() - self._launched_at)
            self.status = "running"
            self.phase = "running"
            self.touch()
            self.started_at = utcnow()
            self.health_status = "healthy"
            self.last_health_check = self.started_at
            await self._system("INFO", f"port {self.spec.port} answering")
            await self._publish_status("running", f"ready in {ready_ms:.0f} ms")
            self._row.update(
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
        cause, self.error_lines = await self._output.failure(
            READERS_DRAIN, self.spec.requirements, self.preparation.listed_in, self.spec.files
        )
        cause = self._limit_exceeded() or cause
        self.error_message = cause or describe_exit(returncode)
        self._set_reason("the process exited during start-up")

    async def _exited_on_its_own(self, returncode: int | None) -> str:
        self._set_reason(EXITED)
        if returncode == 0:
            return "stopped"
        cause, self.error_lines = await self._output.failure(
            READERS_DRAIN, self.spec.requirements, self.preparation.listed_in, self.spec.files
        )
        limit = self._limit_exceeded()
        if limit is not None:
            self.error_message = limit
            return "failed"
        self.error_message = f"{describe_exit(returncode)}: {cause}" if cause else None
        return "failed"

    def _exit_status(self, returncode: int | None) -> int | None:
        if returncode is None or self.confinement is None:
            return returncode
        return self.confinement.exit_status(returncode)

    def _limit_exceeded(self) -> str | None:
        return self.confinement.limit_exceeded() if self.confinement is not None else None

    async def _watch_limits(self, scope: trio.CancelScope) -> None:
        """A preview that runs into its memory or process limit has failed, even when
        the app itself survives it (a fork bomb meets EAGAIN and keeps trying)."""
        if self.confinement is None or self.confinement.cgroup is None:
            return
        with scope:
            while True:
                await trio.sleep(_LIMITS_CHECK)
                limit = self._limit_exceeded()  # a few bytes from sysfs: on the loop
                if limit is not None and self.error_message is None:
                    self.error_message = limit
                    await self._system("ERROR", limit)
                    self.request_stop(limit)
                    return

    async def _health_loop(self) -> None:
        async with self.upstream.client(timeout=5.0) as client:
            while True:
                await trio.sleep(self.settings.health_interval)
                healthy = await is_healthy(client, self.upstream, self.spec.health_path)
                status = "healthy" if healthy else "unhealthy"
                if status != self.health_status:
                    await self._system("INFO" if healthy else "WARN", f"health check: {status}")
                self.health_status = status
                self.last_health_check = utcnow()
                self._row.update(health_status=status, last_health_check=self.last_health_check)

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
