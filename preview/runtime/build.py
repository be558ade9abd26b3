"""App environments, built once per dependency set and shared: :class:`EnvBuilder`.

Each distinct set (:mod:`.depspec` key: the normalised spec, the interpreter's version,
the index) gets a directory under ``<data_dir>/envs``: a virtual environment made by
``uv venv`` + ``uv pip install`` (or ``uv sync --frozen`` for a ``uv.lock``), or a
``node_modules`` made by ``npm ci`` / ``npm install``. A directory counts as built once
its marker file is written (last); a half-built one is removed before building again.

The builder (one, owned by the supervisor) is the only owner of the cache: a build in
progress is a :class:`_Build` in ``_builds``, so a second launch needing the same key
waits for it (its events go to both previews) and shares its outcome; environments in
use are leased, and least-recently-used ones beyond ``PREVIEW_ENV_CACHE_MB`` are
removed, never a leased one. uv never downloads interpreters (``UV_PYTHON_DOWNLOADS=never``):
a request no interpreter present fits fails, naming what exists.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio
import uv

from ..settings import Settings
from .depspec import NodeDeps, PythonDeps
from .egress import EgressPolicy, Outbound, proxy_environment
from .envcache import (
    DOWNLOAD_CACHES,
    MARKER,
    cached_envs,
    fresh_dir,
    remove_unfinished,
    set_aside,
    tree_size,
    write_lock_project,
    write_node_project,
)
from .installers import (
    SAFE_PATH,
    find_interpreter,
    installer_failure,
    interpreter_path,
    machine_network,
    with_progress,
)
from .isolation import Isolation
from .process import ChildLimits
from .sandbox import TOOLS_DIR_INSIDE, interpreter_dirs
from .steps import Publish, run_logged

__all__ = ["BuildFailed", "EnvBuilder", "Lease", "PythonEnv"]

_BUILD_MEMORY = 4 * 1024 * 1024 * 1024  # uv's and npm's worker threads reserve address space
# A confined step: (its environment's dir, shared caches, read-only dirs, tools) — all
# writable but the last two.
_Confined = tuple[Path, tuple[Path, ...], tuple[Path, ...], tuple[Path, ...]]


class BuildFailed(Exception):
    """A build (or a step of it) failed: a one-line reason and the lines that explain it."""

    def __init__(self, message: str, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lines = lines or []


@dataclass(frozen=True)
class PythonEnv:
    python: str  # the environment's interpreter
    version: str


class Lease:
    """An environment in use by one preview: not evicted until released (idempotent)."""

    def __init__(self, builder: EnvBuilder, key: str, path: Path) -> None:
        self._builder = builder
        self.key = key
        self.path = path
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._builder._leases[self.key] -= 1


@dataclass
class _Build:
    done: trio.Event = field(default_factory=trio.Event)
    listeners: list[Publish] = field(default_factory=list)
    failure: BuildFailed | None = None

    async def publish(self, lines: list[tuple[str, str]], stream: str) -> None:
        for listener in list(self.listeners):
            await listener(lines, stream)


Say = Callable[[str], Awaitable[None]]  # a system line in the preview's log


class EnvBuilder:
    """The cache of built environments (see the module doc)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.env_cache_dir
        self.builds_run = 0  # how many builds ran (a second launch of a set adds none)
        self._builds: dict[str, _Build] = {}
        self._leases: Counter[str] = Counter()
        self._interpreters: dict[str | None, tuple[str, str]] = {}
        self._evicting = trio.Lock()
        # Set by the supervisor once probed: builds run the upload's code (sdists' build
        # backends, npm's install scripts), so they are confined like the app, with
        # egress only to the package indexes.
        self.isolation: Isolation | None = None

    # -- Python ---------------------------------------------------------------------

    async def python_env(
        self, deps: PythonDeps, server: str | None, publish: Publish, say: Say
    ) -> tuple[Lease, PythonEnv]:
        """A leased environment with ``deps`` (and ``server`` when not listed) installed."""
        interpreter, version = await self._interpreter(deps)
        extra = (server,) if server and server not in deps.names() else ()
        index = f"{self.settings.package_index_url}|{self.settings.find_links}"
        key = deps.key(f"{version}@{interpreter}", extra, index)

        async def build(path: Path, publish: Publish) -> None:
            # Making the venv runs no code of the upload: the service's own uv does it.
            venv = ["venv", "--python", interpreter, str(path)]
            await self._uv(venv, self.root, publish, trusted=True)
            python = str(path / "bin" / "python")
            base = tuple(interpreter_dirs(interpreter))
            if deps.lock is not None:
                project = path / "project"
                await trio.to_thread.run_sync(write_lock_project, project, deps.lock)
                await self._install(
                    ["sync", "--frozen", "--no-install-project", "--no-dev", "--python", python,
                     *self._index_args()],
                    project, publish, {"UV_PROJECT_ENVIRONMENT": str(path)},
                    env_dir=path, read_only=base,
                )  # fmt: skip
            requirements = [*deps.requirements, *extra]
            if requirements:
                listed = path / "requirements.txt"
                await trio.to_thread.run_sync(listed.write_text, "\n".join(requirements) + "\n")
                await self._install(
                    ["pip", "install", "--python", python, "-r", str(listed), *self._index_args()],
                    path, publish, {}, env_dir=path, read_only=base,
                )  # fmt: skip

        what = deps.source or "no dependency file"
        lease = await self._acquire(key, build, publish, say, f"Python {version}, {what}")
        return lease, PythonEnv(str(lease.path / "bin" / "python"), version)

    async def _interpreter(self, deps: PythonDeps) -> tuple[str, str]:
        """(path, version) of the interpreter uv picks for the app's request."""
        request = deps.python_request
        if request not in self._interpreters:
            found = await find_interpreter(request, self._uv_env(discovery=True))
            if isinstance(found, list):
                raise BuildFailed(
                    f"no Python interpreter here fits {request!r} (asked by "
                    f"{deps.python_source}); present: {', '.join(found) or 'none'}"
                )
            self._interpreters[request] = found
        return self._interpreters[request]

    async def _install(
        self,
        args: list[str],
        cwd: Path,
        publish: Publish,
        env: dict[str, str],
        *,
        env_dir: Path,
        read_only: tuple[Path, ...],
    ) -> None:
        """Install into ``env_dir``. Confined, in two steps, so that no code of the upload
        ever runs with the shared download cache writable (it could plant files that
        later builds of other apps copy): wheels only first (``--no-build``: uv alone
        writes the cache, with what the index served), and only if some package must be
        built from source, again with a cache of this build's own."""
        if self._sandbox() is None:
            await self._uv(args, cwd, publish, env, env_dir=env_dir, read_only=read_only)
            return
        try:
            await self._uv(
                [*args, "--no-build"], cwd, publish, env, env_dir=env_dir, read_only=read_only
            )
            return
        except BuildFailed:
            pass
        note = "some packages are built from source: again, with a download cache of its own"
        await publish([("INFO", note)], "stdout")
        private = env_dir / ".build-cache"
        try:
            await self._uv(
                args, cwd, publish, {**env, "UV_CACHE_DIR": str(private)},
                env_dir=env_dir, read_only=read_only, caches=(),
            )  # fmt: skip
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                await trio.to_thread.run_sync(shutil.rmtree, private, True)

    async def _uv(
        self,
        args: list[str],
        cwd: Path,
        publish: Publish,
        env: dict[str, str] | None = None,
        *,
        trusted: bool = False,
        env_dir: Path | None = None,
        read_only: tuple[Path, ...] = (),
        caches: tuple[Path, ...] | None = None,  # writable ones; None: the shared cache
    ) -> None:
        env = {**self._uv_env(), **(env or {})}
        binary = Path(uv.find_uv_bin())
        if trusted or self._sandbox() is None:
            await self._step([str(binary), *args], cwd, env, with_progress(publish))
            return
        assert env_dir is not None
        if self.settings.find_links and "://" not in self.settings.find_links:
            read_only = (*read_only, Path(self.settings.find_links))
        await self._step(
            [f"{TOOLS_DIR_INSIDE}/{binary.name}", *args], cwd,
            {**env, "HOME": str(env_dir)}, with_progress(publish),
            confined=(
                env_dir, (self.root / ".uv-cache",) if caches is None else caches,
                read_only, (binary,),
            ),
        )  # fmt: skip

    def _index_args(self) -> list[str]:
        return ["--no-index"] if self.settings.package_index_url == "none" else []

    def _uv_env(self, *, discovery: bool = False) -> dict[str, str]:
        env = {
            "PATH": interpreter_path() if discovery else SAFE_PATH,
            "HOME": str(self.root),
            "UV_CACHE_DIR": str(self.root / ".uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_PYTHON_PREFERENCE": "only-system",
            "UV_NO_PROGRESS": "1",
            "UV_NO_CONFIG": "1",
            "UV_SYSTEM_CERTS": "1",  # the machine's trusted CAs (a company proxy's, say)
            # Compiled once here: previews run with PYTHONDONTWRITEBYTECODE (and the
            # environment may be read-only to them), so each start would compile again.
            "UV_COMPILE_BYTECODE": "1",
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
            **machine_network(),
        }
        index, links = self.settings.package_index_url, self.settings.find_links
        if index and index != "none":  # none: --no-index (see _index_args)
            env["UV_DEFAULT_INDEX"] = index
        if links:
            env["UV_FIND_LINKS"] = links
        return env

    # -- Node -----------------------------------------------------------------------

    async def node_modules(self, deps: NodeDeps, publish: Publish, say: Say) -> Lease:
        """A leased directory whose ``node_modules`` has the app's packages installed."""

        async def build(path: Path, publish: Publish) -> None:
            await trio.to_thread.run_sync(write_node_project, path, deps)
            command = "ci" if deps.lockfile is not None else "install"
            env = {
                "PATH": SAFE_PATH,
                "HOME": str(self.root),
                "npm_config_cache": str(self.root / ".npm-cache"),
                "npm_config_update_notifier": "false",
                "npm_config_fund": "false",
                "npm_config_audit": "false",
                "npm_config_color": "false",
                **machine_network(),
            }
            confined = (path, (self.root / ".npm-cache",), (), ())
            await self._step(
                ["npm", command, "--no-progress"], path, {**env, "HOME": str(path)},
                with_progress(publish), confined=confined if self._sandbox() else None,
            )  # fmt: skip

        what = deps.lockfile[0] if deps.lockfile else "package.json"
        return await self._acquire(deps.key(), build, publish, say, f"npm, {what}")

    # -- the cache ------------------------------------------------------------------

    def _sandbox(self) -> Isolation | None:
        isolation = self.isolation
        return isolation if isolation is not None and isolation.sandboxed else None

    async def _step(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        publish: Publish,
        *,
        confined: _Confined | None = None,
    ) -> None:
        confinement = None
        isolation = self._sandbox()
        if confined is not None and isolation is not None:
            env_dir, caches, read_only, tools = confined
            index = EgressPolicy.for_builds(
                self.settings.package_index_url, self.settings.find_links
            )
            confinement = await isolation.confine_build(
                self.settings, env_dir, cwd, caches=caches, read_only=read_only, tools=tools,
                outbound=Outbound(policy=index),
            )  # fmt: skip
            # Copies, not hard links into the cache: the cache is the builder's to write,
            # so a later build must not reach the files of environments apps run.
            env = {**env, **proxy_environment(local_direct=False), "UV_LINK_MODE": "copy"}
        try:
            result = await run_logged(
                argv, cwd=cwd, env=env, limits=ChildLimits(memory_bytes=_BUILD_MEMORY),
                publish=publish, time_limit=self.settings.build_timeout,
                confinement=confinement,
            )  # fmt: skip
        except OSError as error:
            raise BuildFailed(f"could not run {Path(argv[0]).name}: {error.strerror}") from None
        if result.timed_out:
            raise BuildFailed(
                f"the build took longer than {self.settings.build_timeout:g} s "
                "(PREVIEW_BUILD_TIMEOUT)", result.tail[-15:],
            )  # fmt: skip
        if not result.ok:
            raise BuildFailed(*installer_failure(result.tails, Path(argv[0]).name))

    async def _acquire(
        self,
        key: str,
        build: Callable[[Path, Publish], Awaitable[None]],
        publish: Publish,
        say: Say,
        what: str,
    ) -> Lease:
        path = self.root / key
        while True:
            if key not in self._builds and (path / MARKER).exists():
                self._leases[key] += 1
                await trio.to_thread.run_sync(os.utime, path / MARKER)
                await say(f"environment ready ({what}): reused")
                return Lease(self, key, path)
            running = self._builds.get(key)
            if running is not None:
                await say(f"waiting for the same environment, built for another preview ({what})")
                running.listeners.append(publish)
                try:
                    await running.done.wait()
                finally:
                    running.listeners.remove(publish)
                if running.failure is not None:
                    raise running.failure
                continue  # built (or its builder was stopped: then build it here)
            return await self._build(key, path, build, publish, say, what)

    async def _build(
        self,
        key: str,
        path: Path,
        build: Callable[[Path, Publish], Awaitable[None]],
        publish: Publish,
        say: Say,
        what: str,
    ) -> Lease:
        current = self._builds[key] = _Build(listeners=[publish])
        self._leases[key] += 1
        began = trio.current_time()
        done = False
        try:
            await say(f"installing dependencies ({what})")
            self.builds_run += 1
            await trio.to_thread.run_sync(fresh_dir, path)
            # PREVIEW_BUILD_TIMEOUT bounds the whole build, whatever its steps.
            with trio.move_on_after(self.settings.build_timeout) as deadline:
                await build(path, current.publish)
            if deadline.cancelled_caught:
                raise BuildFailed(
                    f"the build took longer than {self.settings.build_timeout:g} s "
                    "(PREVIEW_BUILD_TIMEOUT)"
                )
            size = await trio.to_thread.run_sync(tree_size, path)
            marker = json.dumps({"key": key, "what": what, "bytes": size})
            await trio.to_thread.run_sync((path / MARKER).write_text, marker)
            done = True
            await say(f"environment built in {trio.current_time() - began:.1f} s ({what})")
        except BuildFailed as failure:
            current.failure = failure
            raise
        finally:
            del self._builds[key]
            current.done.set()
            if not done:
                self._leases[key] -= 1
                with trio.CancelScope(shield=True), trio.move_on_after(30):
                    await trio.to_thread.run_sync(shutil.rmtree, path, True)
        await self.evict()
        return Lease(self, key, path)

    async def remove_unfinished(self) -> None:
        """Remove what builds interrupted by a stop of the service left (no marker): at
        start, before any build, so nothing is half-built meanwhile."""
        assert not self._builds
        await trio.to_thread.run_sync(remove_unfinished, self.root)

    async def evict(self) -> list[str]:
        """Remove least recently used environments beyond the size limit; never one in
        use or being built. Returns the keys removed."""
        limit = self.settings.env_cache_mb * 1024 * 1024
        async with self._evicting:
            entries = await trio.to_thread.run_sync(cached_envs, self.root)
            caches = [self.root / name for name in DOWNLOAD_CACHES]
            total = sum(size for _, _, size in entries)
            total += sum([await trio.to_thread.run_sync(tree_size, c) for c in caches])
            removed = []
            for _, key, size in sorted(entries):
                if total <= limit:
                    break
                if self._leases[key] > 0 or key in self._builds:
                    continue
                # Renamed before any await: a launch looking for it from now on builds
                # it again rather than leasing a directory being removed.
                aside = set_aside(self.root / key)
                if aside is not None:
                    await trio.to_thread.run_sync(shutil.rmtree, aside, True)
                total -= size
                removed.append(key)
            if total > limit and not self._builds:
                # The download caches are only downloads: dropped whole when no build
                # uses them, rather than environments in use.
                for cache in caches:
                    if (aside := set_aside(cache)) is not None:
                        await trio.to_thread.run_sync(shutil.rmtree, aside, True)
            return removed
