"""A new revision applied to a running preview without downtime: :class:`RevisionSwaps`.

The preview's process is served by :meth:`RevisionSwaps.serve` (the runtime awaits it
where it used to await its child's supervision). :meth:`RevisionSwaps.apply` starts,
in the nursery ``serve`` opens, the new revision beside the running one
(``candidate``): its own directory, sandbox and process tree; the preview's services,
data and environment (rebuilt first only when its dependencies changed); the set-up
steps it needs (``steps``). It is watched by a
:class:`~..supervision.ChildSupervision` of its own, which tells the preview's log what
it does (``narration``), and it takes over only once it answers as a launch's process
must: the preview's upstream, stop controls, supervision and row become its own in one
step (no ``await`` in between), the status says its revision, and the process it
replaced is drained (its calls under way finish: ``Upstream.wait_quiet``, at most the
proxy's timeout) and then stopped, its sandbox, port and directory given back. The
preview keeps its id, origin, token, database and log sequence throughout.

A revision that does not build or does not answer leaves the running one serving: the
failure is told in the log and kept in :attr:`RevisionSwaps.last` (the status's
``lastApply``) until the next swap. One swap at a time; a revision applied while an
older one waits makes that one moot (``superseded``).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio

from ...apps.approot import with_app_at_root
from ...apps.detect import Detection
from ...builds import EnvBuilder
from ...logs import report_fault
from ..ports import PortPool
from ..supervision import ChildSupervision, StopControls
from ..upstream import Upstream
from .candidate import Candidate, CandidateFailed, ServingPreview, prepare
from .narration import HeldRow, side_state
from .result import SwapResult, changes_said

__all__ = ["RevisionSwaps", "SwapResult", "changes_said"]

_log = logging.getLogger(__name__)
_DRAIN_MARGIN = 2.0  # s beyond the proxy's timeout: no call it makes lasts longer
_WEBSOCKET_DRAIN = 60.0  # s a replaced process is kept for its WebSockets still open


@dataclass(eq=False)
class _Process:
    """One process of the preview: the current one, one starting beside it, or one
    being replaced; what it holds is its ``candidate``'s (the launch's own too)."""

    revision: int
    supervision: ChildSupervision
    candidate: Candidate
    held: HeldRow | None = None  # its row's values until it takes over
    began: float = 0.0
    ended: trio.Event = field(default_factory=trio.Event)
    outcome: str = "stopped"
    retired: bool = False


class RevisionSwaps:
    """A running preview's revisions applied live (see the module doc). Made with its
    runtime, which calls :meth:`serve` once its first process is ready to spawn."""

    def __init__(
        self,
        preview: ServingPreview,
        hand_over: Callable[[ChildSupervision, StopControls, Upstream], bool],
        *,
        ports: PortPool,
        builder: EnvBuilder,
        start_slots: trio.CapacityLimiter | None,
    ) -> None:
        self._preview = preview
        self._hand_over = hand_over  # the runtime's: False if a stop came first
        self._ports = ports
        self._builder = builder
        self._start_slots = start_slots
        self._nursery: trio.Nursery | None = None
        self._current: _Process | None = None
        # The current process's directory, files and detection: the next one's base.
        self._running: tuple[Path, dict[str, bytes], Detection | None] | None = None
        self._starting: list[Candidate] = []
        self._draining: dict[_Process, trio.CancelScope] = {}  # replaced, not stopped yet
        self._lock = trio.Lock()
        self._asked = itertools.count(1)  # the applications asked for, in order
        self._newest = 0  # the last one asked for: only it is applied once its turn comes
        self._attempts = itertools.count(1)
        self._uid_port = preview.spec.port  # the launch's: its uid owns the data
        self.last: SwapResult | None = None

    @property
    def serving_tree(self) -> tuple[Path, dict[str, bytes]]:
        """The directory of the process serving now and its code (its revision's files):
        the app's files as that process sees them. After a swap it is not the preview's
        own: what else is there is data, linked to where it really is (codedirs), and
        what the app wrote since in a new place is there alone."""
        if self._running is None:
            return self._preview.temp_dir, self._preview.spec.files
        return self._running[0], self._running[1]

    @property
    def serving_revision(self) -> int:
        current = self._current
        return current.revision if current is not None else self._preview.spec.revision

    # -- the preview's processes, one after the other -----------------------------------

    async def serve(self, first: ChildSupervision, controls: StopControls) -> str:
        """Run ``first`` (spawned with ``controls``) and whichever replaces it; the final
        status of the last."""
        preview = self._preview
        spec = preview.spec
        own = Candidate(
            spec.revision,
            spec,
            preview.temp_dir,
            spec.port,
            controls=controls,
            upstream=preview.upstream,
            confinement=preview.containment.confinement,
            own_port=not preview.containment.sandboxed,
        )
        process = _Process(spec.revision, first, own)
        self._current = process
        self._running = (preview.temp_dir, spec.files, spec.detection)
        lifetime = trio.CancelScope()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._end_of_life, process, lifetime)
                await self._run(process)
                while self._current is not process:  # replaced: the new one's end is the end
                    process = self._current
                    assert process is not None
                    await process.ended.wait()
                self._nursery = None
                lifetime.cancel()
                for candidate in self._starting:  # the preview ends: so does a swap
                    candidate.prepare_scope.cancel()
                    candidate.controls.queue.cancel()
                    candidate.controls.stop.cancel()
        finally:
            self._nursery = None
            lease = self._current.candidate.lease if self._current is not None else None
            if lease is not None:  # the launch's own is its preparation's to give back
                lease.release()
        return process.outcome

    async def _run(self, process: _Process) -> None:
        try:
            process.outcome = await process.supervision.run()
        except Exception:
            if process is self._current:
                raise  # the preview's own process: its end (the runtime tells it)
            _log.exception(
                "preview %s: revision %d's process", self._preview.spec.preview_id, process.revision
            )
            process.outcome = "failed"
        finally:
            process.ended.set()
            if process is self._current:  # the preview's end: the replaced ones' too
                for drain in self._draining.values():
                    drain.cancel()
        if process.retired:  # its sandbox, port, connections, environment: given back
            # (its directory stays: data may be linked)
            await self._give_back(process.candidate, remove_dir=False)

    async def _give_back(self, candidate: Candidate, *, remove_dir: bool) -> None:
        """``candidate.release``, shielded; its failure (a directory the service may not
        remove) is told as a warning and never ends the revision that serves."""
        with trio.CancelScope(shield=True):
            try:
                await candidate.release(self._ports, remove_dir=remove_dir)
            except Exception as error:
                told = report_fault(
                    _log,
                    error,
                    f"revision {candidate.revision}: its clean-up failed",
                    about=f"preview {self._preview.spec.preview_id}",
                    scrub=self._preview.host_paths,
                )
                serving = f"still serving revision {self.serving_revision}"
                with trio.move_on_after(5):
                    await self._say(f"{told}; {serving}", "WARN")

    async def _end_of_life(self, first: _Process, scope: trio.CancelScope) -> None:
        """A process that replaced the launch's ends when the launch's would have: at
        the preview's maximum uptime (``PREVIEW_MAX_UPTIME``), which no swap extends."""
        uptime = self._preview.settings.max_uptime
        with scope:
            await trio.sleep(uptime)
            current = self._current
            if current is not None and current is not first:
                self._preview.state.set_reason(f"maximum uptime of {uptime:g} s reached")
                current.candidate.controls.stop.cancel()

    async def _drain(self, old: _Process) -> None:
        """Let the calls under way on a replaced process finish (its WebSockets: until
        they close, at most ``_WEBSOCKET_DRAIN`` s, said in the log), then stop it.
        Cut short when the preview ends (the current process's end: :meth:`_run`)."""
        upstream, scope = old.candidate.upstream, trio.CancelScope()
        self._draining[old] = scope
        try:
            with scope:
                if upstream is not None:
                    await self._drained(old.revision, upstream)
        finally:
            del self._draining[old]
            old.candidate.controls.stop.cancel()

    async def _drained(self, revision: int, upstream: Upstream) -> None:
        with trio.move_on_after(self._preview.settings.proxy_timeout + _DRAIN_MARGIN):
            await upstream.wait_quiet(websockets=False)
        if not upstream.open_websockets:
            return
        count = upstream.open_websockets
        sockets = f"{count} WebSocket{'s' if count > 1 else ''}"
        await self._say(
            f"revision {revision}: {sockets} still open on its process, which stops once "
            f"they close, in {_WEBSOCKET_DRAIN:g} s at most"
        )
        with trio.move_on_after(_WEBSOCKET_DRAIN):
            await upstream.wait_quiet()
        if upstream.open_websockets:
            left = upstream.open_websockets
            await self._say(
                f"revision {revision}: its process stopped after {_WEBSOCKET_DRAIN:g} s with "
                f"{left} WebSocket{'s' if left > 1 else ''} still open (cut)",
                "WARN",
            )

    # -- applying a revision --------------------------------------------------------------

    def apply(
        self,
        number: int,
        files: dict[str, bytes],
        changed: tuple[str, ...],
        marks: dict[str, float] | None = None,
    ) -> SwapResult:
        """Start applying revision ``number`` (``files``: its whole tree; ``marks``: the
        steps before, timed); its result, whose ``done`` is set once it switched or failed."""
        # Its app one folder down, as its launch read it (Supervisor._decide): run there.
        files, folder = with_app_at_root(files)
        if folder is not None:
            changed = tuple(p.removeprefix(f"{folder}/") for p in changed)
        result = SwapResult(number, changed, self.serving_revision, marks=dict(marks or {}))
        result.mark("apply")
        if self._nursery is None or self._preview.state.status != "running":
            result.decide("not_running", "the preview is not running")
            return result
        self._newest = order = next(self._asked)
        self.last = result
        self._nursery.start_soon(self._apply, result, files, order)
        return result

    async def _say(self, message: str, level: str = "INFO") -> None:
        if not self._preview.broadcast.closed:
            await self._preview.state.system(level, message)

    async def _system(self, level: str, message: str) -> None:
        await self._say(message, level)

    async def _apply(self, result: SwapResult, files: dict[str, bytes], order: int) -> None:
        number = result.revision
        async with self._lock:
            result.mark("turn")
            current = self._current
            if order < self._newest:
                newest = self.last.revision if self.last is not None else number
                result.decide("superseded", f"revision {number}: superseded by {newest}")
                return
            if self._nursery is None or current is None or self._running is None:
                result.decide("not_running", "the preview is not running")
                return
            prefix = f"revision {number}: "

            async def say(message: str) -> None:
                await self._say(prefix + message)

            changes = changes_said(result.changed)
            await say(f"{changes}; starting it beside revision {current.revision}")
            if current.supervision.workers is not None:
                current.supervision.workers.end_checks()
            made: list[Candidate] = []

            def hold(candidate: Candidate) -> None:
                made.append(candidate)
                self._starting.append(candidate)

            try:
                try:
                    candidate = await prepare(
                        self._preview,
                        number=number,
                        attempt=next(self._attempts),
                        files=files,
                        running=self._running,
                        uid_port=self._uid_port,
                        ports=self._ports,
                        builder=self._builder,
                        say=say,
                        candidate_made=hold,
                        mark=result.mark,
                    )
                except CandidateFailed as failure:
                    await self._failed(result, failure.message, failure.lines)
                    return
                await self._start(result, candidate, files)
            except Exception as error:  # a failure of the service's own: the preview goes on
                told = report_fault(
                    _log,
                    error,
                    f"the service failed to start revision {number}",
                    about=f"preview {self._preview.spec.preview_id}",
                    scrub=self._preview.host_paths,
                )
                if not result.done.is_set():
                    await self._failed(result, told, [])
            finally:
                for candidate in made:
                    self._starting.remove(candidate)
                    if result.state != "switched":
                        await self._give_back(candidate, remove_dir=True)

    async def _start(
        self, result: SwapResult, candidate: Candidate, files: dict[str, bytes]
    ) -> None:
        """Spawn it; once it answers it takes over (:meth:`_switch`), else it failed."""
        preview = self._preview
        side, held = side_state(
            preview.broadcast, preview.host_paths, candidate.revision, status="starting"
        )
        process: _Process | None = None

        async def answering() -> bool:
            assert process is not None
            return await self._switch(result, process, files)

        began = trio.current_time()
        supervision = ChildSupervision(
            candidate.recipe(preview, self._system),
            state=side,
            settings=preview.settings,
            controls=candidate.controls,
            start_slots=self._start_slots,
            metrics=None,
            launched_at=began,
            diagnoses=preview.diagnoses().for_revision(),
            on_answering=answering,
        )
        process = _Process(candidate.revision, supervision, candidate, held, began)
        assert self._nursery is not None
        self._nursery.start_soon(self._run, process)
        await _first_of(result.done, process.ended)
        if result.done.is_set():
            return
        if process.outcome == "stopped" and side.error_message is None:
            await self._failed(result, "the preview stopped before it answered", [])
        else:
            cause = side.error_message or f"its process ended ({process.outcome})"
            await self._failed(result, cause, side.error_lines)

    async def _switch(self, result: SwapResult, process: _Process, files: dict[str, bytes]) -> bool:
        """It answers: it becomes the preview's process (False: the preview is ending)."""
        preview, candidate, old = self._preview, process.candidate, self._current
        if self._nursery is None or old is None or candidate.upstream is None:
            return False
        if not self._hand_over(process.supervision, candidate.controls, candidate.upstream):
            return False
        # From here to the status event, nothing awaits: the preview is the new
        # process's in one step (the proxy reads its upstream once per call).
        preview.containment.confinement = candidate.confinement
        spec, new = preview.spec, candidate.spec
        spec.files, spec.revision, spec.detection = files, new.revision, new.detection
        spec.argv, spec.port, spec.requirements = new.argv, new.port, new.requirements
        self._current = process
        self._running = (candidate.app_dir, files, new.detection)
        old.retired = True
        process.supervision.report_to(preview.state)
        retiring, _ = side_state(
            preview.broadcast, preview.host_paths, old.revision, status="running"
        )
        retiring.set_reason(f"replaced by revision {process.revision}")
        old.supervision.report_to(retiring)
        held = process.held.values if process.held is not None else {}
        info = preview.runtime_info
        preview.state.row.update(
            **{k: v for k, v in held.items() if k in ("process_id", "process_started_at")},
            port=spec.port,
            command=info["command"] or "",
            runtime=json.dumps(info),
        )
        self._nursery.start_soon(self._drain, old)
        child, alive_at = process.supervision.process, process.supervision.alive_at
        if child is not None:
            result.mark("spawned", child.started_at)
        if alive_at is not None:
            result.mark("answered", alive_at)
        # To its answer (as a launch's "ready in"), not to now: the switch's own steps
        # above are the swap's, and under load they take tens of ms.
        ready_at = alive_at if alive_at is not None else trio.current_time()
        result.ready_ms = (ready_at - process.began) * 1000
        result.serving = process.revision
        message = (
            f"revision {process.revision}: {changes_said(result.changed)} — "
            f"ready in {result.ready_ms:.0f} ms, switched"
        )
        result.decide("switched", message)
        await preview.state.publish_status("running", message)
        return True

    async def _failed(self, result: SwapResult, cause: str, lines: list[str]) -> None:
        serving = self.serving_revision
        result.error, result.error_lines, result.serving = cause, lines, serving
        message = f"revision {result.revision} failed: {cause}; still serving revision {serving}"
        await self._say(message, "ERROR")
        result.decide("failed", message)


async def _first_of(*events: trio.Event) -> None:
    """Until one of ``events`` is set."""
    async with trio.open_nursery() as nursery:
        for event in events:

            async def wait(event: trio.Event = event) -> None:
                await event.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(wait)
