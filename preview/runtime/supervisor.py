"""The :class:`Supervisor`: one nursery for the app's life, one child nursery per preview.

It owns the registry of live previews (nothing else adds to or removes from it), the
port pool, launch admission (per-generation and per-user limits) and restart recovery.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import shutil
import stat
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ..auth import User
from ..clock import utcnow
from ..errors import Conflict, Unavailable
from ..logs import report_fault
from ..metrics import Metrics
from ..previewtokens import PreviewToken, PreviewTokens
from ..sandbox.appdir import remove_tree
from ..sandbox.bubblewrap import INSIDE_UID, host_uid, untraversable_parent
from ..sandbox.isolation import Isolation
from ..sandbox.outbound import copy_system_etc
from ..sandbox.socketsdir import make_sockets_dir, remove_sockets_dir, sockets_dir_problem
from ..settings import Settings
from ..store import Generation, GenerationGone, LogRetention, PreviewInstance, Store
from ..store.revisions import latest_tree
from .ports import PortPool
from .rowkeeper import close_out_interrupted

if TYPE_CHECKING:
    from ..apps.detect import Detection
    from ..apps.spec import LaunchOptions, LaunchSpec
    from ..builds.build import EnvBuilder
    from ..builds.preparation import DataInitCache
    from ..cluster import ClusterNode
    from .lifecycle import PreviewRuntime

__all__ = [
    "Launched",
    "PreviewsDirUnusable",
    "Supervisor",
    "previews_dir_problem",
    "proxy_prefix",
]

_log = logging.getLogger(__name__)
_SHUTDOWN_MARGIN = 40.0  # beyond the stop grace: readers, writer flush, row update
_FENCED_MARGIN = 3.0  # s: a fenced node's previews, killed: their pipes drained, a last write
_RETRY_AT_LIMIT = 30  # s: a limit frees up when a preview ends (idle timeout, a stop)
_FAILED_KEPT = 1000  # generations whose failed launch is kept for a relaunch
# Launches' readings of a revision kept (``_decide``): reading a real app's modules for its
# start and health check took 2-4 s of every relaunch on a loaded machine (127 modules,
# 726 KB), and a revision's files never change. Each is a few kilobytes (no files).
_READINGS_KEPT = 256
# What only launches use: imported with the first (env_builder); the runtime imports the
# rest (apps, builds, backing, swaps). re2: the request history's scans of the previews'
# answers (history.masking imports it at its first use: here, off the loop). psutil: the
# children's limits and trees (sandbox.process), and trio-websocket (a preview's WebSockets:
# runtime.clients), imported where used.
_LAUNCH_PARTS = ("preview.runtime.lifecycle", "re2", "psutil", "trio_websocket")


def _import_launch_parts() -> None:
    list(map(importlib.import_module, _LAUNCH_PARTS))


def proxy_prefix(generation_id: str) -> str:
    """Where the transparent proxy serves a generation's running app."""
    return f"/api/generations/{generation_id}/preview/proxy"


class Launched:
    """What a launch returns: the runtime and its preview token (shown only once)."""

    def __init__(self, runtime: PreviewRuntime, preview_token: str) -> None:
        self.runtime = runtime
        self.preview_token = preview_token


def _frozen(argv: list[str] | None) -> tuple[str, ...] | None:
    return None if argv is None else tuple(argv)


@dataclass(frozen=True)
class _Decided:
    """What a launch read from the revision it runs, before it is admitted."""

    revision: int
    files: dict[str, bytes]
    detection: Detection
    workers_off: tuple[str, ...]
    health_path: str | None


class Supervisor:
    """Runs previews; ``serve`` until ``aclose``. See the module doc."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        metrics: Metrics | None = None,
        data_cache: Callable[[PreviewRuntime], DataInitCache | None] | None = None,
    ) -> None:
        """``data_cache``: where a launch's initialised data is kept for the next
        (``preview.snapshots.DataTemplates.bound``; None: its data steps run every time)."""
        self.settings = settings
        self.store = store
        self._data_cache = data_cache
        self.ports = PortPool(settings.port_min, settings.port_max)
        # Made at the first launch (env_builder), with what only launches use.
        self.builder: EnvBuilder | None = None
        self._first_launch = trio.Lock()
        # Starting apps (imports, migrations) are CPU-bound: beyond a few at once they
        # only slow each other past the start-up timeout. The rest wait their turn.
        self._start_slots = trio.CapacityLimiter(settings.start_slots)
        self._runtimes: dict[str, PreviewRuntime] = {}
        # The launch of each generation whose last preview failed (its files let go): a
        # revision relaunches it so (api.revisions). In memory: its env is the user's.
        self._failed: OrderedDict[str, LaunchSpec] = OrderedDict()
        # (generation, revision, command, setup) -> (detection, its health path)
        self._readings: OrderedDict[tuple, tuple[Detection, str | None]] = OrderedDict()
        # Generations being deleted: no launch of them is admitted (see _admit).
        self.deleting: set[str] = set()
        self.metrics = metrics or Metrics()
        self.metrics.watch(self._runtimes.values)
        self._nursery: trio.Nursery | None = None
        self._bytecode_scope = trio.CancelScope()  # new environments' compiles (builds)
        self._closing = trio.Event()
        self._fenced = False  # closing because this node lost its lease (aclose)
        self._closed = trio.Event()
        self.isolation = Isolation(settings.sandbox, reason="not probed yet")
        # Old previews' log history, removed in the background while the supervisor serves.
        self.retention = LogRetention(store, settings.log_retention_days)
        # Cluster mode: this node's lease and the cluster-wide limits, set by the app
        # before serve (None: a single node, whose limits are the checks in memory).
        self.cluster: ClusterNode | None = None

    # -- lifetime -------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Reconcile what a previous run left, then run previews until :meth:`aclose`."""
        try:
            self.isolation = await trio.to_thread.run_sync(Isolation.probe, self.settings)
            if self.builder is not None:  # made before the probe (a launch that came early)
                self.builder.isolation = self.isolation
            if not self.isolation.complete:
                _log.warning(
                    "PREVIEWS ARE NOT FULLY ISOLATED (isolation: %s): %s%s",
                    self.isolation.kind,
                    self.isolation.reason,
                    "; launches are refused (PREVIEW_SANDBOX=required)"
                    if self.settings.sandbox == "required"
                    else "",
                )
            await self._reconcile()
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                retention = trio.CancelScope()
                nursery.start_soon(self._remove_old_logs, retention)
                task_status.started()
                await self._closing.wait()
                retention.cancel()
                self._bytecode_scope.cancel()
                if self._fenced:
                    # Its previews are the other nodes' to reap within seconds: killed at
                    # once, and what their rows and logs still had to write given up
                    # soon (refused anyway: the reaper moved their owner on).
                    for runtime in list(self._runtimes.values()):
                        runtime.request_stop("this node lost its lease", kill=True)
                    grace = _FENCED_MARGIN
                else:
                    for runtime in list(self._runtimes.values()):
                        runtime.request_stop("the service is shutting down")
                    grace = self.settings.stop_grace + _SHUTDOWN_MARGIN
                nursery.cancel_scope.deadline = trio.current_time() + grace
        finally:
            self._closing.set()
            with trio.CancelScope(shield=True):
                if self.isolation.cgroups is not None:
                    await trio.to_thread.run_sync(self.isolation.cgroups.remove_parents)
                if not self._runtimes:  # every preview has removed its own directory
                    await trio.to_thread.run_sync(remove_tree, self.settings.previews_dir)
                    await trio.to_thread.run_sync(remove_sockets_dir, self.settings)
            self._closed.set()

    async def env_builder(self) -> EnvBuilder:
        """The environments' builder, made at the first launch. What only launches use
        (the preview's runtime, with how an upload starts, its build and its services:
        ~100 modules, 3.4 MiB) is imported then, in a worker thread, rather than held by
        an idle service or imported on the loop. What builds a stop of the service
        interrupted is removed before the first build starts."""
        async with self._first_launch:
            if self.builder is None:
                await trio.to_thread.run_sync(_import_launch_parts)
                from ..builds.build import EnvBuilder  # imported with them: no import here

                builder = EnvBuilder(self.settings)
                builder.isolation = self.isolation
                await builder.cache.remove_unfinished()
                self.builder = builder
                if self._nursery is not None:
                    self._nursery.start_soon(self._compile_bytecode, builder)
        return self.builder

    async def _remove_old_logs(self, scope: trio.CancelScope) -> None:
        with scope:
            await self.retention.run()

    async def _compile_bytecode(self, builder: EnvBuilder) -> None:
        with self._bytecode_scope:  # until the service closes
            await builder.bytecode.run()

    async def aclose(self, *, fenced: bool = False) -> None:
        """Stop every preview (same path as a stop request) and wait; idempotent.
        ``fenced``: this node lost its lease (cluster), its previews are killed at once."""
        self._fenced = self._fenced or (fenced and not self._closing.is_set())
        self._closing.set()
        if self._nursery is not None:
            await self._closed.wait()

    # -- queries --------------------------------------------------------------------

    def get(self, preview_id: str) -> PreviewRuntime | None:
        return self._runtimes.get(preview_id)

    def for_generation(self, generation_id: str) -> PreviewRuntime | None:
        for runtime in self._runtimes.values():
            if runtime.spec.generation_id == generation_id:
                return runtime
        return None

    def failed_launch(self, generation_id: str, *, forget: bool = False) -> LaunchSpec | None:
        """How its last preview was launched, if that preview failed (none since);
        ``forget``: no longer kept (its generation is deleted: its env goes too)."""
        return (self._failed.pop if forget else self._failed.get)(generation_id, None)

    def for_user(self, user_id: str) -> list[PreviewRuntime]:
        return [r for r in self._runtimes.values() if r.spec.user_id == user_id]

    @property
    def serving(self) -> bool:
        """Running previews and accepting launches (not yet closing)."""
        return self._nursery is not None and not self._closing.is_set()

    @property
    def runtimes(self) -> Sequence[PreviewRuntime]:
        return tuple(self._runtimes.values())

    # -- launch ---------------------------------------------------------------------

    async def launch(self, user: User, generation: Generation, options: LaunchOptions) -> Launched:
        """Detect how to start it, admit, reserve a port, write the row and start the
        preview's nursery. Returns at once (status ``starting``): the build, the set-up
        steps and the start follow in the preview's log.
        """
        self._refuse_unless_launchable()
        builder = await self.env_builder()
        decided = await self._decide(generation, options)
        # From here to the registry insert there is no await: admission is atomic.
        self._admit(user, generation.id)
        self._failed.pop(generation.id, None)
        now = utcnow()
        token, first_token = PreviewTokens.make(
            "launch", now, now + timedelta(seconds=self.settings.session_timeout)
        )
        try:
            spec = self._new_spec(user, generation, options, decided, now)
        except Unavailable as full:
            # Cluster mode: placement sends a launch to a node with room, or here when
            # none has: a full node then means a full cluster (cluster.placement).
            if self.cluster is None or full.code != "port_pool_exhausted":
                raise
            raise self.cluster.full() from None
        spec.tokens.add(first_token)
        from .lifecycle import PreviewRuntime  # (imported by env_builder)

        runtime = PreviewRuntime(
            spec,
            settings=self.settings,
            store=self.store,
            ports=self.ports,
            metrics=self.metrics,
            builder=builder,
            isolation=self.isolation,
            start_slots=self._start_slots,
        )
        self._runtimes[spec.preview_id] = runtime
        try:
            await self._add_row(user, self._first_row(runtime, first_token))
        except BaseException:
            self._runtimes.pop(spec.preview_id, None)
            self.ports.release(spec.port)
            raise
        assert self._nursery is not None
        try:
            await self._nursery.start(self._run, runtime)
        except RuntimeError:  # it ended before it was started; _run logged why
            said = runtime.state.error_message or "the service failed to start it"
            raise Unavailable(
                f"The preview could not be started: {said}",
                code="launch_failed",
                details={"previewInstanceId": spec.preview_id},
            ) from None
        return Launched(runtime, token)

    def _refuse_unless_launchable(self) -> None:
        if self._nursery is None or self._closing.is_set():
            raise Unavailable("The service is not accepting launches.", code="shutting_down")
        if self.settings.sandbox == "required" and not self.isolation.complete:
            raise Unavailable(
                "Previews must run isolated (PREVIEW_SANDBOX=required), and this machine "
                f"cannot isolate them: {self.isolation.reason}.",
                code="sandbox_unavailable",
                details={"isolation": self.isolation.kind},
            )

    async def _decide(self, generation: Generation, options: LaunchOptions) -> _Decided:
        """What the revision's files say: how it starts, which workers run, its health
        check (in threads: reading a large upload's modules takes seconds; read once a
        revision, ``_READINGS_KEPT``)."""
        from ..apps.approot import with_app_at_root
        from ..apps.configvars.readmeenv import with_readme_example
        from ..apps.detect import detect  # these: imported by env_builder
        from ..apps.spec import workers_off
        from .readiness import default_health_path

        # The latest revision (generation_files), unless the launch names an older one.
        number, files = options.revision or await self.store.run_sync(
            latest_tree, self.store.engine, generation.id
        )
        # Its app one folder down (backend/package.json) where the root has none: run there.
        files, folder = with_app_at_root(files)
        files = with_readme_example(files)  # its README's example .env, where it has no file
        command, setup = options.command, options.setup
        key = (generation.id, number, _frozen(command), _frozen(setup))
        reading = self._readings.get(key)
        if reading is None:  # (its files read once for every launch of this revision)
            detection = await trio.to_thread.run_sync(detect, files, command, setup)
            if folder is not None:
                said = f"its app is in {folder}/, where its package.json is: run from there"
                detection = replace(detection, notes=[said, *detection.notes])
            default = await trio.to_thread.run_sync(default_health_path, files)
            reading = self._readings[key] = (detection, default)
            while len(self._readings) > _READINGS_KEPT:
                self._readings.popitem(last=False)
        self._readings.move_to_end(key)
        detection, default = reading
        off = workers_off(options.workers, [worker.name for worker in detection.workers])
        health_path = default if options.health_path is None else options.health_path
        return _Decided(number, files, detection.without_workers(frozenset(off)), off, health_path)

    def _new_spec(
        self,
        user: User,
        generation: Generation,
        options: LaunchOptions,
        decided: _Decided,
        now: datetime,
    ) -> LaunchSpec:
        """The launch's spec, its port reserved."""
        from ..apps.spec import LaunchSpec
        from ..backing.appdb import new_database_name
        from ..builds.preparation import fill

        port = self.ports.allocate()
        self.metrics.launches.inc()
        root_path = proxy_prefix(generation.id)
        placeholders = {"python": "{python}", "port": str(port), "root_path": root_path}
        files = decided.files
        spec = LaunchSpec(
            preview_id="preview_" + secrets.token_hex(8),
            generation_id=generation.id,
            project_id=generation.project_id,
            user_id=user.id,
            files=files,
            argv=fill(decided.detection.argv, placeholders),
            port=port,
            health_path=decided.health_path,
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.max_uptime),
            requirements=files.get("requirements.txt", b"").decode("utf-8", "replace") or None,
            extra=dict(options.env),
            detection=decided.detection,
            root_path=root_path,
            revision=decided.revision,
            database_name=new_database_name(),
            seed=options.seed,
            data_cache=self._data_cache,
            command=options.command,
            setup=options.setup,
            workers_off=decided.workers_off,
        )
        return spec

    def _first_row(self, runtime: PreviewRuntime, token: PreviewToken) -> PreviewInstance:
        spec = runtime.spec
        return PreviewInstance(
            id=spec.preview_id,
            generation_id=spec.generation_id,
            project_id=spec.project_id,
            user_id=spec.user_id,
            status="starting",
            port=spec.port,
            base_url=f"http://127.0.0.1:{spec.port}",
            command=" ".join(spec.argv).replace(self.settings.python, "python"),
            runtime=json.dumps(runtime.runtime_info),
            created_at=spec.created_at,
            expires_at=spec.expires_at,
            preview_token_hash=token.hash,
            token_expires_at=token.expires_at,
            health_status="unknown",
            temp_dir=str(runtime.temp_dir),
        )

    async def _add_row(self, user: User, row: PreviewInstance) -> None:
        """The launch's row; in cluster mode as this node's, under the limits every node
        shares (the checks in memory see this node's previews only)."""
        if self.cluster is None:
            await self.store.add_preview(row)
        else:
            await self.cluster.add_preview(row, user, self.settings.max_instances(user.tier))

    def _admit(self, user: User, generation_id: str) -> None:
        if generation_id in self.deleting:  # its delete found no preview to stop: none now
            raise GenerationGone(generation_id)
        running = self.for_generation(generation_id)
        if running is not None:
            raise Conflict(
                "A preview of this generation is already running; stop it first.",
                code="preview_already_running",
                details={"previewInstanceId": running.id, "status": running.status},
            )
        # One that has ended (failed, stopped) is being taken down, not running: it does
        # not count (a launch just after one failed was refused, naming the failed one).
        mine = [r for r in self.for_user(user.id) if r.status not in ("stopped", "failed")]
        limit = self.settings.max_instances(user.tier)
        if len(mine) >= limit:
            raise Conflict(
                f"Your {user.tier} tier allows {limit} concurrent preview(s); stop one first.",
                code="preview_limit_reached",
                retry_after=_RETRY_AT_LIMIT,
                details={
                    "tier": user.tier,
                    "limit": limit,
                    "running": [
                        {
                            "previewInstanceId": r.id,
                            "generationId": r.spec.generation_id,
                            "projectId": r.spec.project_id,  # its name, for the user
                            "status": r.status,
                        }
                        for r in mine
                    ],
                },
            )

    async def _run(self, runtime: PreviewRuntime, *, task_status: trio.TaskStatus[None]) -> None:
        """One preview in the supervisor's nursery; its failure never ends the others."""
        try:
            live_log = self.cluster.live_log if self.cluster is not None else None
            if live_log is None:
                await runtime.run(task_status=task_status)
            else:  # cluster mode: its live tail for the other nodes, beside it
                from ..cluster import write_tail

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(write_tail, live_log, runtime.id, runtime.broadcast)
                    await runtime.run(task_status=task_status)
        except Exception as error:
            told = report_fault(
                _log,
                error,
                "the service failed to run it",
                about=f"preview {runtime.id}",
                scrub=runtime.host_paths,
            )
            runtime.state.error_message = runtime.state.error_message or told
        finally:
            self._runtimes.pop(runtime.id, None)
            if runtime.status == "failed":
                self._failed[runtime.spec.generation_id] = replace(runtime.spec, files={})
                while len(self._failed) > _FAILED_KEPT:
                    self._failed.popitem(last=False)

    # -- restart recovery -----------------------------------------------------------

    async def _reconcile(self) -> None:
        """Close out rows a previous run left active; reclaim their processes, cgroups
        and dirs."""
        if self.isolation.cgroups is not None:
            await trio.to_thread.run_sync(self.isolation.cgroups.remove_stale)
        # In cluster mode this node's rows only: the others' previews run on.
        mine = self.settings.node if self.cluster is not None else None
        await close_out_interrupted(self.store, node=mine)
        if self.settings.app_postgres_url:  # the operator's server: its client is used
            await trio.to_thread.run_sync(_import_launch_parts)
            from ..backing.appdb import drop_leftover_databases, is_psycopg_error

            try:
                settings = self.settings  # its node's name read in the thread (a file)
                dropped = await trio.to_thread.run_sync(
                    lambda: drop_leftover_databases(settings.app_postgres_url, settings.node)
                )
            except Exception as error:
                if not is_psycopg_error(error):
                    raise
                _log.exception("could not drop the preview databases a previous run left")
            else:
                if dropped:
                    _log.warning(
                        "dropped %d preview database(s) left by a previous run", len(dropped)
                    )
        # No preview runs yet, so every directory left under previews/ is an orphan.
        problem = await trio.to_thread.run_sync(previews_dir_problem, self.settings)
        if problem is not None:  # `preview serve` said it before it started (serving)
            raise PreviewsDirUnusable(problem)
        previews_dir = self.settings.previews_dir
        await trio.to_thread.run_sync(remove_tree, previews_dir)  # tmpfs quotas too
        try:
            await trio.to_thread.run_sync(
                _make_previews_dir, previews_dir, self.isolation.etc_dir, self.settings
            )
        except (OSError, shutil.Error) as error:  # shutil.Error: copytree's, one per file
            first = error.args[0][0][2] if isinstance(error, shutil.Error) else str(error)
            cause = "no space left on its disk" if "No space left" in first else first
            raise PreviewsDirUnusable(
                f"the previews' directory {previews_dir} could not be made: {cause}"
                " (PREVIEW_RUN_DIR sets where it is)"
            ) from None
        if self.settings.sandbox != "off":  # unsandboxed previews use no socket
            await trio.to_thread.run_sync(make_sockets_dir, self.settings)


class PreviewsDirUnusable(RuntimeError):
    """The previews' directory is where the previews' own uids could not reach it."""


def previews_dir_problem(settings: Settings) -> str | None:
    """Why the previews could not reach their directories (said at start), else None.
    Run as root, the service gives each preview a uid of its own (sandboxed, and
    unsandboxed where it can): under a parent such a uid cannot traverse, every
    revision's files and sockets were refused to it, and found only at the first one.
    Sandboxed, its sockets' paths must be short enough (``sandbox.socketsdir``)."""
    if settings.sandbox == "off":
        return None
    problem = sockets_dir_problem(settings)
    if problem is not None or os.geteuid() != 0:
        return problem
    path = settings.previews_dir
    parent = untraversable_parent(path)
    if parent is None:
        return None
    mode = stat.S_IMODE(os.stat(parent).st_mode)
    where = f"PREVIEW_RUN_DIR {path}" if settings.run_dir else f"the previews' directory {path}"
    return (
        f"{where} is under {parent} (mode {mode:04o}), which the previews' own users may not"
        f" traverse: choose a run dir under a folder others may traverse, or allow it"
        f" (chmod o+x {parent})"
    )


def _make_previews_dir(path: Path, etc_dir: Path | None, settings: Settings) -> None:
    # Traversable, not listable: each sandboxed uid reaches its own directory only.
    path.mkdir(parents=True, exist_ok=True, mode=0o711)
    path.chmod(0o711)
    if etc_dir is not None:  # an account for each uid its sandboxes run as
        slots = range(settings.port_min, settings.port_max + 1)
        uids = [INSIDE_UID, host_uid(0), *(host_uid(port) for port in slots)]
        copy_system_etc(etc_dir, uids)
