"""A revision's process, made ready to start beside the running one: :func:`prepare`.

Everything a launch does before its spawn, for the new revision's files, in what the
preview already holds: its services (PostgreSQL, Redis: :class:`~preview.backing.Backing`
and the relays of its sandbox), its configuration filled in at launch, its data (see
``codedirs``), its host uid. Its own: a directory (``codedirs``), a sandbox and cgroup
named after the revision, and, unsandboxed, a port (a sandboxed one listens on the same
port in a network namespace of its own). The environment is the builder's, keyed by
the dependencies: the same one when they did not change, else built first (its lines
in the log). A failure is a :class:`CandidateFailed`, told as a launch's would be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import trio

from ...apps.detect import Detection, detect
from ...apps.spec import LaunchSpec
from ...backing import Backing
from ...builds import BuildFailed, EnvBuilder, PlanTries, Preparation, app_environment
from ...builds.envcache import Lease
from ...builds.preparation import PreparationContext, prepare_app, uncompiled_environment
from ...clock import utcnow
from ...errors import PreviewError
from ...logs import HostPaths, LogBroadcast, write_failure
from ...sandbox import Confinement, Containment
from ...sandbox.appdir import app_read_only, owned_by_app, remove_tree, run_as_owner
from ...sandbox.bubblewrap import host_uid
from ...sandbox.process import ChildLimits
from ...settings import Settings
from ..ports import PortPool
from ..processes import AppWorkers, WorkerSetting
from ..processes.worker import System
from ..recipe import Diagnoses, ProcessRecipe, startup_allowed
from ..smoke import with_route_table
from ..state import PreviewState
from ..supervision import StopControls
from ..upstream import Upstream
from .codedirs import copy_built_frontend, frontend_unchanged, revision_dir, write_revision_dir
from .steps import steps_to_run

__all__ = ["Candidate", "CandidateFailed", "ServingPreview", "prepare"]


class ServingPreview(Protocol):
    """What of a running preview (``lifecycle.PreviewRuntime``) a swap reads."""

    spec: LaunchSpec
    settings: Settings
    state: PreviewState
    broadcast: LogBroadcast
    host_paths: HostPaths
    temp_dir: Path
    containment: Containment
    backing: Backing
    preparation: Preparation
    upstream: Upstream

    @property
    def runtime_info(self) -> dict[str, Any]: ...

    def diagnoses(self) -> Diagnoses: ...


class CandidateFailed(Exception):
    """It could not be made ready: the one-line reason and the lines that explain it."""

    def __init__(self, message: str, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lines = lines or []


@dataclass(eq=False)
class Candidate:
    """A revision's process of the preview, before and while it runs."""

    revision: int
    spec: LaunchSpec
    app_dir: Path
    port: int
    controls: StopControls = field(default_factory=StopControls)
    prepare_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    env: dict[str, str] = field(default_factory=dict)
    python: str = ""  # the interpreter its environment runs (the workers' {python})
    limits: ChildLimits | None = None
    upstream: Upstream | None = None
    confinement: Confinement | None = None
    lease: Lease | None = None
    listed_in: str = "requirements.txt"
    own_port: bool = False  # its port is its own (unsandboxed), given back after it
    sandboxed: bool = False  # its directory is then worked on with the app's rights
    fixes: tuple[str, ...] = ()  # the launch's, in force for it too (Remedies.carried)

    def recipe(self, preview: ServingPreview, system: System) -> ProcessRecipe:
        """Its process, ready to spawn (once :func:`prepare` made it), with its own
        workers, from its own files, run as its web process is (started once it
        answers; those of the process it replaces run on until that one stops)."""
        assert self.limits is not None and self.upstream is not None
        setting = WorkerSetting(
            self.app_dir,
            self.env,
            self.limits,
            self.confinement,
            preview.settings.stop_grace,
            preview.settings.max_line_bytes,
        )
        workers = AppWorkers.of(self.spec, self.python, preview.broadcast, system, setting)
        return ProcessRecipe(
            self.spec,
            self.app_dir,
            self.env,
            self.limits,
            self.confinement,
            self.upstream,
            workers=workers,
            listed_in=self.listed_in,
            fixes=self.fixes,
            startup_timeout=startup_allowed(
                preview.settings.startup_timeout,
                uncompiled_environment(
                    self.lease, self.spec.detection, preview.preparation.bytecode
                ),
            ),
        )

    async def release(self, ports: PortPool, *, remove_dir: bool) -> None:
        """What it holds, given back (shielded caller; idempotent). Its port and lease
        are given back whatever fails before; its directory goes last."""
        try:
            if self.upstream is not None:
                with trio.move_on_after(5):
                    if self.own_port:
                        await ports.close_connections(self.port)
                    await self.upstream.aclose()
            if self.confinement is not None:
                await trio.to_thread.run_sync(self.confinement.release)
        finally:
            if self.own_port:
                ports.release(self.port)
                self.own_port = False
            if self.lease is not None:
                self.lease.release()
        if remove_dir:  # with the app's rights: .revisions may be a link it made
            rights = partial(run_as_owner, self.app_dir) if self.sandboxed else _plain
            await trio.to_thread.run_sync(rights, remove_tree, self.app_dir)


_T = TypeVar("_T")


def _plain(function: Callable[..., _T], *args: Any) -> _T:
    return function(*args)


def _uid_of(preview: ServingPreview, uid_port: int, python: str, built: Path | None) -> int | None:
    """Unsandboxed as root: the launch's own uid, whatever port this process has (its
    data files are that uid's)."""
    return host_uid(uid_port) if preview.containment.plain_uid(python, built) is not None else None


async def _reuse_frontend(
    preview: ServingPreview,
    detection: Detection,
    files: dict[str, bytes],
    running: tuple[Path, dict[str, bytes], Detection | None],
    code_dir: Path,
    owner: int | None,
    say: Callable[[str], Awaitable[None]],
) -> None:
    """The running revision's built frontend copied into ``code_dir`` when its sources
    did not change (``npm run build`` takes tens of seconds; it is then skipped, its
    output there already); else it is built there as at a launch."""
    running_dir, running_files, running_detection = running
    frontend = detection.frontend
    if frontend is None or running_detection is None or running_detection.frontend != frontend:
        return
    if not frontend_unchanged(frontend, files, running_files):
        return
    anchors = (preview.settings.previews_dir,)
    most = preview.settings.disk_limit_mb * 2**20

    def copy() -> int:  # given to the app's uid, sandboxed too (its directory's owner's)
        found = owned_by_app(preview.temp_dir) if owner is None else None
        uid = found.st_uid if found is not None else owner
        return copy_built_frontend(running_dir, code_dir, frontend.output, anchors, uid, most)

    try:
        copied = await trio.to_thread.run_sync(copy)
    except OSError as error:  # (its disk full): built here instead
        await say(f"the built frontend could not be copied ({error.strerror}): built again")
        return
    if copied:
        await say(
            f"the frontend's sources did not change: its built {frontend.output}/ "
            f"({copied} files) copied from the running revision"
        )


@dataclass(frozen=True)
class RunningRevision:
    """The revision that serves while another is prepared: its directory, its files and
    what was detected of them (None where detection failed at launch)."""

    app_dir: Path
    files: dict[str, bytes]
    detection: Detection | None


async def prepare(
    preview: ServingPreview,
    *,
    number: int,
    attempt: int,
    files: dict[str, bytes],
    running: tuple[Path, dict[str, bytes], Detection | None],
    uid_port: int,
    ports: PortPool,
    builder: EnvBuilder,
    say: Callable[[str], Awaitable[None]],
    candidate_made: Callable[[Candidate], None],
    mark: Callable[[str], None] = lambda step: None,
) -> Candidate:
    """Revision ``number`` (``files``, its whole tree) ready to spawn beside the running
    process (``running``: its directory, files and detection); ``candidate_made`` is
    given it as soon as it holds anything (its release is the caller's); ``mark`` is told
    each step's end."""
    candidate = _new_candidate(preview, number, attempt, files, ports)
    candidate_made(candidate)
    steps = _Preparation(
        preview,
        candidate,
        RunningRevision(*running),
        uid_port,
        say,
        mark,
        sandbox_name=f"{preview.spec.preview_id}-r{number}-{attempt}",
    )
    detection = await steps.detect_and_write(files)
    await steps.build_environment(detection, files, builder)
    steps.confine()
    mark("sandbox")
    return candidate


def _new_candidate(
    preview: ServingPreview, number: int, attempt: int, files: dict[str, bytes], ports: PortPool
) -> Candidate:
    """The candidate, with its directory's path and its port: the preview's own where it
    is sandboxed (a network namespace of its own), else one of its own meanwhile."""
    spec, sandboxed = preview.spec, preview.containment.sandboxed
    port = spec.port
    if not sandboxed:
        try:
            port = ports.allocate()  # both listen on the host's loopback meanwhile
        except PreviewError as error:
            raise CandidateFailed(error.message) from None
    return Candidate(
        number,
        replace(spec, files=files, revision=number, port=port),
        revision_dir(preview.temp_dir, number, attempt),
        port,
        own_port=not sandboxed,
        sandboxed=sandboxed,
    )


class _Preparation:
    """The steps of :func:`prepare`, each filling in part of one candidate."""

    def __init__(
        self,
        preview: ServingPreview,
        candidate: Candidate,
        running: RunningRevision,
        uid_port: int,
        say: Callable[[str], Awaitable[None]],
        mark: Callable[[str], None],
        *,
        sandbox_name: str,
    ) -> None:
        self.preview = preview
        self.candidate = candidate
        self.running = running
        self.uid_port = uid_port
        self.say = say
        self.mark = mark
        self.code_dir = candidate.app_dir
        files_uid = preview.containment.files_uid()
        self.owner = host_uid(uid_port) if files_uid is not None else None
        self.sandbox_name = sandbox_name  # its sandbox's and cgroup's
        self.built: Path | None = None  # its environment's directory, once built

    async def detect_and_write(self, files: dict[str, bytes]) -> Detection:
        """Its start read from its files and its directory written, side by side
        (threads); then the set-up steps it needs, as the running revision decided."""
        preview, candidate, running = self.preview, self.candidate, self.running
        spec, code_dir = preview.spec, self.code_dir
        # The running revision's built frontend: not data to share (codedirs).
        running_frontend = running.detection.frontend if running.detection is not None else None
        built = running_frontend.output if running_frontend is not None else None
        found: list[Detection] = []
        linked: list[int] = []
        failures: list[str] = []

        async def detecting() -> None:
            try:
                found.append(await trio.to_thread.run_sync(detect, files, spec.command, spec.setup))
            except PreviewError as error:
                failures.insert(0, error.message)  # (the cause told first)
            self.mark("detected")

        async def writing() -> None:
            try:
                write = partial(write_revision_dir, code_dir, files, running.app_dir, running.files)
                # With the app's rights: .revisions, in its directory, may be a link it made.
                rights = partial(run_as_owner, code_dir) if candidate.sandboxed else _plain
                linked.append(await trio.to_thread.run_sync(rights, write, self.owner, built))
            except OSError as error:
                failures.append(write_failure(error, preview.host_paths(error.filename or "")))
            self.mark("written")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(detecting)
            nursery.start_soon(writing)
        if failures:
            raise CandidateFailed(failures[0])
        # What changed from the running revision (not from the one stored before this:
        # one saved with apply false, or one that failed, may lie between).
        changed = {
            p for p in files.keys() | running.files.keys() if files.get(p) != running.files.get(p)
        }
        # Started as the running revision is, where it declares the same plan (plantries).
        planned, plan_said = PlanTries.applied(found[0], running.detection)
        if plan_said is not None:
            await self.say(plan_said)
        detection, skipped = steps_to_run(running.detection, planned, changed, files)
        candidate.spec.detection = detection
        if skipped:
            await self.say(f"set-up steps run before, not again: {', '.join(skipped)}")
        shared = f"; {linked[0]} data entries shared with it" if linked[0] else ""
        await self.say(f"wrote {len(files)} files to its own directory{shared}")
        await _reuse_frontend(
            preview,
            detection,
            files,
            (running.app_dir, running.files, running.detection),
            code_dir,
            self.owner,
            self.say,
        )
        return detection

    def environment(self, python: str) -> dict[str, str]:
        """The app's environment with ``python``: the launch's configuration, its
        services' variables; the service's SQLite file is the preview's, kept."""
        preview, code_dir = self.preview, self.code_dir
        env = app_environment(
            self.candidate.spec,
            python,
            app_dir=code_dir,
            database_env=preview.backing.env,
            egress_open=preview.containment.egress_open,
            memory_limit_mb=preview.settings.memory_limit_mb,
            defaults=preview.preparation.config.values,
            database_certificate=preview.backing.certificate,
        )
        if "DATABASE_URL" in env:
            home_db = str(preview.temp_dir / "app.db")
            env["DATABASE_URL"] = env["DATABASE_URL"].replace(str(code_dir / "app.db"), home_db)
        return env

    def run_as(self, python: str, built: Path | None) -> int | None:
        return _uid_of(self.preview, self.uid_port, python, built)

    async def _publish(self, source: str, lines: list[tuple[str, str]], stream: str) -> None:
        if not self.preview.broadcast.closed:
            await self.preview.broadcast.publish_lines(lines, source, stream, utcnow())

    async def build_environment(
        self, detection: Detection, files: dict[str, bytes], builder: EnvBuilder
    ) -> None:
        """Its environment built (or the builder's, keyed by its dependencies), its set-up
        steps run, with the launch's fixes in force; its command, environment and limits."""
        preview, candidate = self.preview, self.candidate
        remedies = preview.preparation.remedies.carried()
        candidate.fixes = tuple(fix.change for fix in remedies.fixes)
        if candidate.fixes:
            await self.say(f"with the fixes in force: {', '.join(candidate.fixes)}")
        port = str(candidate.port)
        with candidate.prepare_scope:
            try:
                context = PreparationContext(
                    settings=preview.settings,
                    builder=builder,
                    app_dir=self.code_dir,
                    values={"port": port, "root_path": preview.spec.root_path},
                    environment=self.environment,
                    publish=partial(self._publish, "build"),
                    say=self.say,
                    publish_setup=partial(self._publish, "setup"),
                    confine=preview.containment.confine_step,
                    run_as=self.run_as,
                    needed=preview.preparation.config.missing,
                    remedies=remedies,
                )
                prepared = await prepare_app(detection, files, context)
            except BuildFailed as failure:
                raise CandidateFailed(failure.message, failure.lines) from None
            except OSError as error:
                message = f"could not prepare the environment: {error.strerror}"
                raise CandidateFailed(message) from None
        if candidate.prepare_scope.cancelled_caught:
            raise CandidateFailed("the preview is stopping")
        self.mark("environment")
        candidate.lease = prepared.lease
        candidate.listed_in = prepared.listed_in
        candidate.spec.argv = [part.replace("{port}", port) for part in prepared.template]
        candidate.spec.requirements = prepared.requirements
        if prepared.env is not None:  # its set-up steps' (the same python, the same port)
            candidate.env = dict(prepared.env)
        else:  # (off the event loop: it parses the upload's modules)
            candidate.env = await trio.to_thread.run_sync(self.environment, prepared.python)
        candidate.python = prepared.python
        self.built = prepared.lease.path if prepared.lease is not None else None
        memory = preview.preparation.memory_limit()
        run_as = self.run_as(prepared.python, self.built)
        candidate.limits = ChildLimits(memory_bytes=memory, run_as=run_as)
        candidate.upstream = Upstream(candidate.port)

    def confine(self) -> None:
        """Sandboxed: its own sandbox and cgroup, named after the revision, reaching the
        preview's services by the running revision's relays."""
        preview, candidate = self.preview, self.candidate
        isolation = preview.containment.isolation
        if not candidate.sandboxed or isolation is None:
            return
        port = candidate.port
        confinement = isolation.confine(
            preview.settings,
            self.sandbox_name,
            port=port,
            app_dir=self.code_dir,
            read_only=app_read_only(self.built, candidate.python),
            outbound=preview.containment.outbound,
        )
        if confinement is not None:
            confinement.writable = (preview.temp_dir,)  # its data (see codedirs)
            # Its volumes the running revision's: their data kept, as Docker keeps a
            # volume's across a rebuild.
            confinement.volumes = preview.containment.volumes
            current = preview.containment.confinement
            if current is not None:  # the relays the preview's services are reached by
                confinement.outbound_dir = current.outbound_dir
            ready = confinement.ready_socket_path
            candidate.upstream = Upstream(
                port, str(confinement.socket_path), ready_path=str(ready) if ready else None
            )
        candidate.confinement = confinement
        candidate.env = with_route_table(confinement, candidate.spec, candidate.env)
