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
from .cgroups import CgroupLimits
from .depspec import NodeDeps, PythonDeps
from .egress import EgressPolicy, proxy_environment
from .installers import (
    SAFE_PATH,
    installer_failure,
    interpreter_path,
    machine_network,
    version_key,
    with_progress,
)
from .isolation import Isolation
from .process import ChildLimits
from .sandbox import TOOLS_DIR_INSIDE, interpreter_dirs
from .steps import Publish, run_logged

__all__ = ["BuildFailed", "EnvBuilder", "Lease", "PythonEnv"]

_MARKER = "preview-env.json"
_QUERY_TIME = 60.0  # a uv query (interpreters) that takes longer has failed
_BUILD_MEMORY = 4 * 1024 * 1024 * 1024  # uv's and npm's worker threads reserve address space
_BUILD_MEMORY_MB = 2048  # a confined build's memory cgroup (compilers need more than apps)
_BUILD_PIDS = 512  # uv's and npm's worker threads
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
                await trio.to_thread.run_sync(_write_lock_project, project, deps.lock)
                await self._uv(
                    ["sync", "--frozen", "--no-install-project", "--no-dev", "--python", python,
                     *self._index_args()],
                    project, publish, {"UV_PROJECT_ENVIRONMENT": str(path)},
                    env_dir=path, read_only=base,
                )  # fmt: skip
            requirements = [*deps.requirements, *extra]
            if requirements:
                listed = path / "requirements.txt"
                await trio.to_thread.run_sync(listed.write_text, "\n".join(requirements) + "\n")
                await self._uv(
                    ["pip", "install", "--python", python, "-r", str(listed), *self._index_args()],
                    path, publish, env_dir=path, read_only=base,
                )  # fmt: skip

        what = deps.source or "no dependency file"
        lease = await self._acquire(key, build, publish, say, f"Python {version}, {what}")
        return lease, PythonEnv(str(lease.path / "bin" / "python"), version)

    async def _interpreter(self, deps: PythonDeps) -> tuple[str, str]:
        """(path, version) of the interpreter uv picks for the app's request."""
        request = deps.python_request
        if request in self._interpreters:
            return self._interpreters[request]
        find = ["python", "find", "--python-preference", "only-system"]
        asked = [request] if request else []
        found = await self._uv_output([*find, *asked])
        version = await self._uv_output([*find, "--show-version", *asked])
        if found is None or version is None:
            present = await self._present_versions()
            raise BuildFailed(
                f"no Python interpreter here fits {request!r} (asked by {deps.python_source}); "
                f"present: {', '.join(present) or 'none'}"
            )
        self._interpreters[request] = (found, version)
        return found, version

    async def _present_versions(self) -> list[str]:
        listed = await self._uv_output(
            ["python", "list", "--only-installed", "--python-preference", "only-system",
             "--output-format", "json"],
        )  # fmt: skip
        try:
            entries = json.loads(listed or "[]")
        except ValueError:
            return []
        versions = {e.get("version") for e in entries if isinstance(e, dict)}
        return sorted((v for v in versions if v), key=version_key, reverse=True)

    async def _uv_output(self, args: list[str]) -> str | None:
        """A quick uv query (no app code runs): its stdout, None if it failed."""
        result = None
        with trio.move_on_after(_QUERY_TIME):  # then it is killed, and counts as failed
            result = await trio.run_process(
                [uv.find_uv_bin(), *args], capture_stdout=True, capture_stderr=True,
                check=False, env=self._uv_env(discovery=True),
            )  # fmt: skip
        if result is None:
            return None
        text = result.stdout.decode("utf-8", "replace").strip()
        return text if result.returncode == 0 and text else None

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
            confined=(env_dir, (self.root / ".uv-cache",), read_only, (binary,)),
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
            await trio.to_thread.run_sync(_write_node_project, path, deps)
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
            for cache in caches:
                await trio.to_thread.run_sync(lambda c=cache: c.mkdir(exist_ok=True))
            settings = self.settings
            confinement = isolation.confine_step(
                settings, f"build-{env_dir.name[:24]}", work_dir=cwd, uid_slot=0,
                read_only=read_only, writable=tuple(p for p in (env_dir, *caches) if p != cwd),
                tools=tools, egress=True,
                limits=CgroupLimits(
                    memory_bytes=max(settings.memory_limit_mb, _BUILD_MEMORY_MB) * 1024 * 1024,
                    pids=max(settings.pids_limit, _BUILD_PIDS),
                    cpus=max(settings.cpu_limit, 1.0),
                ),
            )  # fmt: skip
            # Copies, not hard links into the cache: the cache is the builder's to write,
            # so a later build must not reach the files of environments apps run.
            env = {**env, **proxy_environment(local_direct=False), "UV_LINK_MODE": "copy"}
        try:
            result = await run_logged(
                argv, cwd=cwd, env=env, limits=ChildLimits(memory_bytes=_BUILD_MEMORY),
                publish=publish, time_limit=self.settings.build_timeout,
                confinement=confinement,
                egress=EgressPolicy.for_builds(
                    self.settings.package_index_url, self.settings.find_links
                ),
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
            if key not in self._builds and (path / _MARKER).exists():
                self._leases[key] += 1
                await trio.to_thread.run_sync(os.utime, path / _MARKER)
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
            await trio.to_thread.run_sync(_fresh_dir, path)
            await build(path, current.publish)
            size = await trio.to_thread.run_sync(_tree_size, path)
            marker = json.dumps({"key": key, "what": what, "bytes": size})
            await trio.to_thread.run_sync((path / _MARKER).write_text, marker)
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
        await trio.to_thread.run_sync(_remove_unfinished, self.root)

    async def evict(self) -> list[str]:
        """Remove least recently used environments beyond the size limit; never one in
        use or being built. Returns the keys removed."""
        limit = self.settings.env_cache_mb * 1024 * 1024
        async with self._evicting:
            entries = await trio.to_thread.run_sync(_cached_envs, self.root)
            total = sum(size for _, _, size in entries)
            removed = []
            for _, key, size in sorted(entries):
                if total <= limit:
                    break
                if self._leases[key] > 0 or key in self._builds:
                    continue
                await trio.to_thread.run_sync(shutil.rmtree, self.root / key, True)
                total -= size
                removed.append(key)
            return removed


def _fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def _write_lock_project(project: Path, lock: tuple[str, str]) -> None:
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(lock[0])
    (project / "uv.lock").write_text(lock[1])


def _write_node_project(path: Path, deps: NodeDeps) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "package.json").write_bytes(deps.package_json)
    if deps.lockfile is not None:
        (path / deps.lockfile[0]).write_bytes(deps.lockfile[1])


def _remove_unfinished(root: Path) -> None:
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if not entry.name.startswith(".") and not (entry / _MARKER).exists():
            shutil.rmtree(entry, ignore_errors=True)


def _tree_size(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _cached_envs(root: Path) -> list[tuple[float, str, int]]:
    """(last used, key, bytes) of every built environment."""
    found = []
    for marker in root.glob(f"*/{_MARKER}"):
        try:
            size = int(json.loads(marker.read_text()).get("bytes", 0))
            found.append((marker.stat().st_mtime, marker.parent.name, size))
        except (OSError, ValueError, AttributeError):
            continue
    return found
