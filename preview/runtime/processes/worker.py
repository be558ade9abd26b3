"""One worker of a preview's app, from its first start to its last end: :class:`WorkerRun`.

It follows ``trio._subprocess``'s pattern, as the web process's supervision does: spawn,
one reader per pipe, wait; on the way out, whatever the way, its process group gets
SIGTERM, SIGKILL after the grace, shielded and time-boxed, and its pipes are drained.
A worker that ends by itself is told with its exit code and started again after a
backoff (1, 2, 4 … s), at most :data:`MAX_RESTARTS` times in a row: a worker that keeps
dying never fails the preview, whose web process still serves. A check (``check``: the
type check of a TypeScript build run without it) runs once, to its end: what it found is
in its lines, its exit code said, and the preview serves whatever it found.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from ...clock import utcnow
from ...logs import LogBroadcast
from ...logs.lines import LevelClassifier, LineSplitter
from ...sandbox import ChildProcess, Confinement
from ...sandbox.entered import spawn_entered, terminate_entered
from ...sandbox.process import ChildLimits, describe_exit, spawn_child, terminate_group

__all__ = ["MAX_RESTARTS", "WorkerRun", "WorkerSetting"]

MAX_RESTARTS = 5  # in a row; a run longer than _STABLE counts as a fresh start
_FIRST_BACKOFF = 1.0
_MAX_BACKOFF = 30.0
_STABLE = 60.0
_READERS_DRAIN = 2.0  # after its group is dead, pipes held by escapees are cut
_READ = 65536

System = Callable[[str, str], Awaitable[None]]
# A worker that prints when it is ready to take work: Celery's ("celery -A proj worker",
# "celery@host ready."); its web process's routes may ask it (a health route pinging it).
_SAYS_READY_WORKER = re.compile(r"\bcelery\b.*\bworker\b")
_SAYS_READY = re.compile(r"\bcelery@\S+ ready\b")


@dataclass(frozen=True)
class WorkerSetting:
    """Where and how the app's workers run: its web process's directory, environment,
    limits and sandbox (None: not sandboxed), and the grace a stop gives them."""

    app_dir: Path
    env: dict[str, str]
    limits: ChildLimits
    confinement: Confinement | None
    grace: float
    max_line_bytes: int


class WorkerRun:
    """One worker (see the module doc); its state is what the status lists."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        detected_from: str,
        *,
        shown: str,
        broadcast: LogBroadcast,
        system: System,
        setting: WorkerSetting,
        check: bool = False,
    ) -> None:
        self.name = name
        self.check = check
        self.argv = argv
        self.shown = shown  # its command as detected ({python}): no host path
        self.detected_from = detected_from
        self._broadcast = broadcast
        self._system = system
        self._setting = setting
        self.status = "waiting"  # until the web process answers
        self.pid: int | None = None
        self.exit_code: int | None = None
        self.restarts = 0  # starts after the first
        # Set once it says it is ready (:data:`_SAYS_READY`), or has ended: what its web
        # process's routes may ask of it is there (AppWorkers.ready).
        self.ready = trio.Event()
        self.says_ready = _SAYS_READY_WORKER.search(" ".join(argv)) is not None
        self._scope = trio.CancelScope()  # :meth:`stop`: it alone, the preview serving on

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": "check" if self.check else "worker",
            "status": self.status,
            "pid": self.pid,
            "exitCode": self.exit_code,
            "restarts": self.restarts,
            "command": self.shown,
            "detectedFrom": self.detected_from,
        }

    async def run(self, sandbox_pid: int | None) -> None:
        """Start it, and again after each end, until cancelled (the preview stops) or it
        ended :data:`MAX_RESTARTS` times in a row. ``sandbox_pid``: the web process's
        outer sandbox process, whose sandbox it joins."""
        with self._scope:
            await self._runs(sandbox_pid)

    def stop(self) -> None:
        """End it (its whole group, as a stop of the preview would), restarted no more;
        the web process and the other workers run on."""
        self._scope.cancel()

    async def _runs(self, sandbox_pid: int | None) -> None:
        in_a_row = 0
        try:
            while True:
                began = trio.current_time()
                ended = await self._run_once(sandbox_pid)
                if not ended:
                    self.status = "failed"
                    return
                if self.check:
                    self.status = "done"
                    return
                if trio.current_time() - began >= _STABLE:
                    in_a_row = 0
                if in_a_row >= MAX_RESTARTS:
                    self.status = "failed"
                    await self._system(
                        "ERROR",
                        f"worker {self.name} ended {in_a_row + 1} times in a row: not restarted "
                        "again (the web process keeps running)",
                    )
                    return
                backoff = min(_FIRST_BACKOFF * 2**in_a_row, _MAX_BACKOFF)
                in_a_row += 1
                self.status = "restarting"
                await self._system(
                    "WARN",
                    f"worker {self.name}: restarting in {backoff:g} s "
                    f"(restart {in_a_row} of at most {MAX_RESTARTS} in a row)",
                )
                await trio.sleep(backoff)
                self.restarts += 1
        except trio.Cancelled:
            if self.status in ("waiting", "starting", "restarting", "running", "exited"):
                self.status = "stopped"
            raise

    @property
    def _kind(self) -> str:
        return "check" if self.check else "worker"

    def _entered(self, sandbox_pid: int | None) -> bool:
        """Whether it runs in the web process's sandbox (else as a plain child)."""
        return self._setting.confinement is not None and sandbox_pid is not None

    async def _spawn(self, sandbox_pid: int | None) -> ChildProcess:
        setting = self._setting
        if self._entered(sandbox_pid):
            assert setting.confinement is not None and sandbox_pid is not None
            return await spawn_entered(
                self.argv,
                sandbox_pid=sandbox_pid,
                confinement=setting.confinement,
                cwd=setting.app_dir,
                env=setting.env,
                limits=setting.limits,
            )
        return await spawn_child(
            self.argv, cwd=setting.app_dir, env=setting.env, limits=setting.limits
        )

    async def _run_once(self, sandbox_pid: int | None) -> bool:
        """One start of it to its end; False when it could not be started at all."""
        self.status = "starting"
        try:
            process = await self._spawn(sandbox_pid)
        except OSError as error:
            self.ready.set()
            await self._system(
                "ERROR", f"{self._kind} {self.name} could not be started: {error.strerror or error}"
            )
            return False
        self.pid, self.status, self.exit_code = process.pid, "running", None
        requested = False
        # The readers are not cancelled with it: what it prints as it stops (its SIGTERM
        # handler's lines) is read to the pipes' end, or cut after the drain time.
        readers = [trio.CancelScope(shield=True), trio.CancelScope(shield=True)]
        async with trio.open_nursery() as pipes:
            pipes.start_soon(self._read, process.stdout, "stdout", readers[0])
            pipes.start_soon(self._read, process.stderr, "stderr", readers[1])
            try:
                # From the spawn on, whatever ends it reaches the finally: no orphan.
                started = f"{self._kind} {self.name} started (pid {process.pid})"
                command = self.shown if self.check else " ".join(self.argv)
                await self._system("INFO", f"{started}: {command}")
                await process.wait()
            except trio.Cancelled:
                requested = True
                self.status = "stopping"
                raise
            finally:
                with trio.CancelScope(shield=True):  # its whole group, whatever ended it
                    with trio.move_on_after(self._setting.grace + 5):
                        end = terminate_entered if self._entered(sandbox_pid) else terminate_group
                        self.exit_code = await end(process, self._setting.grace)
                    process.close()
                    for reader in readers:
                        reader.deadline = trio.current_time() + _READERS_DRAIN
                    if requested:
                        self.status = "stopped"
                    await self._told_exit(requested)
        self.status = "exited"
        self.ready.set()  # (ended: nothing more to wait for)
        return True

    async def _told_exit(self, requested: bool) -> None:
        """Its end in the log (shielded caller: time-boxed, as it waits for the writer)."""
        if self._broadcast.closed:
            return
        with trio.move_on_after(5):
            passed = requested or self.exit_code == 0
            said = describe_exit(self.exit_code, requested=requested)
            if self.check:  # what it found is in its own lines; the preview serves anyway
                found = "" if passed else " (what it found is above; the app runs regardless)"
                await self._system("INFO" if passed else "WARN", f"check {self.name} {said}{found}")
                return
            await self._system("INFO" if passed else "ERROR", f"worker {self.name} {said}")

    async def _read(
        self, pipe: trio.abc.ReceiveStream, stream: str, scope: trio.CancelScope
    ) -> None:
        """Its lines as the app's, tagged with its name (``Event.process``), in
        ``scope`` (shielded: the pipe's end, or the deadline its end sets, ends it)."""
        splitter = LineSplitter(self._setting.max_line_bytes)
        classify = LevelClassifier().classify_many
        broadcast, name = self._broadcast, self.name

        async def publish(texts: list[str]) -> None:
            if self.says_ready and any(_SAYS_READY.search(text) for text in texts):
                self.ready.set()
            if texts and not broadcast.closed:
                await broadcast.publish_texts(classify(texts), texts, "app", stream, utcnow(), name)

        with scope:
            async with pipe:
                while chunk := await pipe.receive_some(_READ):
                    await publish(splitter.feed_texts(chunk)[0])
                await publish([line.text for line in splitter.finish()])
