"""App environments, built once per dependency set and shared: :class:`EnvBuilder`.

Each distinct set (:mod:`.depspec` key: the normalised spec, the interpreter's version,
the index) gets a directory under ``<data_dir>/envs``: a virtual environment made by
``uv venv`` + ``uv pip install`` (or ``uv sync --frozen`` for a ``uv.lock``), or a
``node_modules`` made by ``npm ci`` / ``npm install``. Who builds, shares, leases and
evicts them is the cache's (:class:`~.envcache.EnvCache`, which the builder holds);
this module is how they are built: each step confined like an app (it runs the upload's
code), reaching only the package index. uv never downloads interpreters
(``UV_PYTHON_DOWNLOADS=never``): a request no interpreter present fits fails, naming
what exists.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import re
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from subprocess import DEVNULL

import trio
import uv
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..apps.depspec import NodeDeps, PythonDeps, unlocked_for
from ..sandbox.bubblewrap import TOOLS_DIR_INSIDE, interpreter_dirs
from ..sandbox.egress import EgressPolicy, proxy_environment
from ..sandbox.isolation import Isolation
from ..sandbox.outbound import Outbound
from ..sandbox.process import ChildLimits
from ..settings import Settings
from .buildcache import BuildCache, node_version
from .envcache import BuildFailed, EnvCache, Lease, Say, write_lock_project, write_requirements
from .installers import (
    NO_WHEEL_ANYWHERE,
    SAFE_PATH,
    for_python,
    installed_pythons,
    installer_failure,
    installer_killed,
    interpreter_path,
    machine_network,
    noting_failed_builds,
    npm_environment,
    npm_freshness,
    npm_install,
    with_progress,
)
from .interpreters import Choices, Interpreter, build_first_fitting, interpreter_choices
from .native import NATIVE_BUILDS, NativeBuilds
from .npmlock import made_optional, npm_rebuild, prepare_npm_project, restore_range
from .remedies import Fix
from .remedies.mysqldb import stand_in_for_mysqldb
from .steps import Publish, run_logged
from .wheelindex import Gaps, newest_wheels, project_files, wheel_gaps

__all__ = ["BuildFailed", "BytecodeCompiles", "EnvBuilder", "Lease", "PythonEnv"]

_PRISMA_ENGINES = ("binaries.prisma.sh",)  # where prisma generate fetches its engines
_GAPS_KEPT = 256  # the index's answers kept (by requirements and interpreters)
_BUILD_MEMORY = 4 * 1024 * 1024 * 1024  # uv's and npm's worker threads reserve address space
# A confined step: (its environment's dir, shared caches, read-only dirs, tools) — all
# writable but the last two.
_Confined = tuple[Path, tuple[Path, ...], tuple[Path, ...], tuple[Path, ...]]


# Where one launch's builds from source keep the wheels they built, offered to its later
# attempts: uv's own cache of them is keyed by the sdist's download, which a proxy that
# strips caching headers makes new at every run (uwsgi built again, 30 s, at each relaunch).
_BUILT_WHEELS = "built-wheels"
# After an install with wheels only, how long the index's answer on the newest releases
# is waited for still (asked beside the install).
_NEWEST_WAIT = 3.0
# uv's hint where a resolution with --no-build needed an sdist: "Wheels are required for
# `openapi-codec` because building from source is disabled …".
_WHEELS_REQUIRED = re.compile(r"Wheels are required for `([^`]+)`")
_MOST_PROBED = 4  # older majors asked of uv one by one, after an install with wheels only
_BYTECODE_PENDING = 16  # new environments waiting for their bytecode
_BYTECODE_TIMEOUT = 600.0  # s: one environment's compile, at the lowest priority


# What an app asks of its Python: (the request, its file, the fallback requires-python
# gives), by which the interpreters chosen for it are kept.
_AskedPython = tuple[str | None, str | None, tuple[str, str] | None]


class BytecodeCompiles:
    """A new Python environment's modules compiled to bytecode after its first launch
    has it, one environment at a time at the lowest CPU priority (:meth:`run`, a task of
    the supervisor's). Until then its launches compile what they import, in memory
    (previews run with ``PYTHONDONTWRITEBYTECODE``, on an environment they may not
    write): ~3 s more for a FastAPI app's start, once.

    The interpreter runs isolated and without ``site`` (``-I -S``): the packages' ``.pth``
    files, which run code at start, are not read; compiling only parses the modules."""

    def __init__(self, cache: EnvCache) -> None:
        self._cache = cache
        # Bounded: where more environments wait than this, the last is left uncompiled
        # (its launches compile what they import, as the first did).
        self._send, self._receive = trio.open_memory_channel[tuple[str, str]](_BYTECODE_PENDING)
        self.compiled = 0  # environments compiled (benchmarks, tests)
        self._uncompiled: set[str] = set()  # asked for, not compiled (or never: left)
        self.idle = trio.Event()  # set whenever nothing waits (tests wait on it)
        self.idle.set()

    def request(self, key: str, python: str) -> None:
        """Compile the environment of ``key`` (its interpreter ``python``) once the
        worker gets to it."""
        self._uncompiled.add(key)
        try:
            self._send.send_nowait((key, python))
        except trio.WouldBlock:
            return
        if self.idle.is_set():
            self.idle = trio.Event()

    def uncompiled(self, key: str) -> bool:
        """Whether the environment of ``key`` was built without its bytecode and has not
        been compiled yet (a launch right after the first: its imports still compile)."""
        return key in self._uncompiled

    async def run(self) -> None:
        """Compile what is asked, until cancelled (a compile under way is killed: what
        it wrote is whole, each file written apart and renamed into place)."""
        async for key, python in self._receive:
            lease = self._cache.hold(key)
            if lease is not None:  # else removed meanwhile (evicted)
                try:
                    await self._compile(lease.path, python)
                finally:
                    lease.release()
            self._uncompiled.discard(key)
            if self._receive.statistics().current_buffer_used == 0:
                self.idle.set()

    async def _compile(self, env: Path, python: str) -> None:
        command = ["nice", "-n", "19", python, "-I", "-S", "-m", "compileall", "-q", "lib"]
        with trio.move_on_after(_BYTECODE_TIMEOUT):
            # A module that does not parse (a package's Python 2 file) only stays uncompiled.
            done = await trio.run_process(
                command, cwd=env, check=False, stdout=DEVNULL, stderr=DEVNULL, stdin=DEVNULL
            )
            self.compiled += done.returncode in (0, 1)


@dataclass(frozen=True)
class PythonEnv:
    python: str  # the environment's interpreter
    version: str


@dataclass(frozen=True)
class _OlderMajors:
    """Listed packages an install with wheels only took at an older major, and why."""

    reason: str
    names: tuple[str, ...]


class EnvBuilder:
    """Builds the environments its cache keeps (see the module doc).

    Holds :attr:`cache` (the one owner of the built environments, made with it), which
    decides who builds what and hands out leases; one per service, made by the
    supervisor, living as long as it does."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = EnvCache(settings)
        self.build_cache = BuildCache(settings)  # set-up steps' outputs, by their inputs
        self.root = self.cache.root
        self.natives = NativeBuilds(self.root / NATIVE_BUILDS)  # compiled once a machine
        self.bytecode = BytecodeCompiles(self.cache)  # its worker: the supervisor's task
        self._interpreters: dict[_AskedPython, Choices] = {}
        self._gaps: dict[str, dict[str, Gaps]] = {}
        self.learned: dict[str, list[Fix]] = {}  # the remedies' fixes, by upload
        self.learned_plans: dict[str, str] = {}  # the plan that served, by generation
        # Set by the supervisor once probed: builds run the upload's code (sdists' build
        # backends, npm's install scripts), so they are confined like the app, with
        # egress only to the package indexes.
        self.isolation: Isolation | None = None

    # -- Python ---------------------------------------------------------------------

    async def python_env(
        self,
        deps: PythonDeps,
        server: str | None,
        publish: Publish,
        say: Say,
        build_cache: Path | None = None,
    ) -> tuple[Lease, PythonEnv]:
        """A leased environment with ``deps`` (and ``server`` when not listed) installed.
        ``build_cache``: where one launch's builds from source keep what they built (its
        relaunches with a fix build the same sdists again), else each build's own.

        Where several interpreters present fit the app's request (see ``interpreters``),
        which is taken is :func:`~.interpreters.build_first_fitting`'s choice, told what
        each lacks by the package index (:mod:`.wheelindex`); where an earlier launch built
        the environment on one of them, that one, with no try on another first (a try with
        wheels only on uv's pick, refused again at every relaunch, took 1.4-12 s of five
        apps' cached launches)."""
        choices = await self._interpreter(deps)
        if choices.note is not None:
            await say(choices.note)
        unlocked = unlocked_for(deps, choices.interpreters[0].version)
        if unlocked is not deps:
            deps = unlocked
            await say(deps.notes[-1])
        extra = [server] if server and server not in deps.names() else []
        for interpreter in choices.interpreters:
            if self.cache.built(self._env_key(deps, tuple(extra), interpreter)):
                return await self._python_env(deps, server, interpreter, publish, say, build_cache)

        async def find_gaps() -> dict[str, Gaps] | None:
            requirements = [*deps.requirements, *extra]  # held to the lock's pins
            return await self._wheel_gaps(
                requirements, deps.constraints, choices.interpreters, deps.exclude_newer
            )

        async def attempt(
            chosen: Interpreter, output: Publish, wheels_only: bool | None
        ) -> tuple[Lease, PythonEnv]:
            return await self._python_env(
                deps, server, chosen, output, say, build_cache, wheels_only=wheels_only
            )

        return await build_first_fitting(choices.interpreters, find_gaps, attempt, publish, say)

    async def _wheel_gaps(
        self,
        requirements: list[str],
        pins: tuple[str, ...],
        interpreters: tuple[Interpreter, ...],
        before: str | None = None,
    ) -> dict[str, Gaps] | None:
        """What the requirements (held to the lock's ``pins``; resolved as of ``before``)
        lack for each interpreter, asked of the index once per set (a cached launch is not
        held up by it)."""
        versions = [i.version for i in interpreters]
        key = json.dumps([requirements, pins, versions, before])
        if key in self._gaps:
            return self._gaps[key]
        index, links = self.settings.package_index_url, self.settings.find_links
        found = await wheel_gaps(requirements, versions, index, links, pins=pins, before=before)
        if found is not None:  # nothing known (the index out of reach): asked again
            if len(self._gaps) >= _GAPS_KEPT:
                self._gaps.pop(next(iter(self._gaps)))
            self._gaps[key] = found
        return found

    async def _python_env(
        self,
        deps: PythonDeps,
        server: str | None,
        chosen: Interpreter,
        publish: Publish,
        say: Say,
        build_cache: Path | None = None,
        *,
        wheels_only: bool | None = False,
    ) -> tuple[Lease, PythonEnv]:
        interpreter, version = chosen.path, chosen.version
        extra = (server,) if server and server not in deps.names() else ()
        key = self._env_key(deps, extra, chosen)

        async def build(path: Path, publish: Publish) -> None:
            # Making the venv runs no code of the upload: the service's own uv does it.
            venv = ["venv", "--no-project", "--python", interpreter, str(path)]
            await self._uv(venv, self.root, publish, trusted=True)
            python = str(path / "bin" / "python")
            base = tuple(interpreter_dirs(interpreter))
            if deps.lock is not None:
                project = path / "project"
                await trio.to_thread.run_sync(write_lock_project, project, deps.lock, version)
                await self._install(
                    [
                        "sync",
                        "--frozen",
                        "--no-install-project",
                        *(() if deps.with_dev else ("--no-dev",)),
                        *(f"--no-install-package={name}" for name in deps.not_installed),
                        "--python",
                        python,
                        *self._index_args(),
                    ],
                    project,
                    publish,
                    {"UV_PROJECT_ENVIRONMENT": str(path)},
                    env_dir=path,
                    read_only=base,
                    wheels_only=wheels_only,
                    build_cache=build_cache,
                )
            requirements = [*deps.requirements, *extra]
            if requirements:
                written = partial(
                    write_requirements,
                    path,
                    requirements,
                    deps.build_constraints,
                    deps.constraints,
                    deps.not_installed,
                )
                listed = await trio.to_thread.run_sync(written)
                dated = deps.dated()
                install = ["pip", "install", "--python", python, *listed, *dated]
                install += self._index_args()
                newest: dict[str, Version] = {}
                refused: BuildFailed | None = None  # raised past the nursery, as it came
                async with trio.open_nursery() as nursery:
                    if wheels_only is not None:  # asked of the index while uv installs
                        asked = partial(self._newest_wheels, requirements, version, deps)
                        nursery.start_soon(asked, newest)
                    try:
                        await self._install(
                            install,
                            path,
                            publish,
                            {},
                            env_dir=path,
                            read_only=base,
                            wheels_only=wheels_only,
                            build_cache=build_cache,
                        )
                    except BuildFailed as failed:
                        refused = failed
                        nursery.cancel_scope.cancel()
                    nursery.cancel_scope.deadline = trio.current_time() + _NEWEST_WAIT
                if refused is not None:
                    raise refused
                older = await self._older_majors(install, newest, path, base) if newest else None
                if older is not None and wheels_only:
                    raise BuildFailed(older.reason)
                if older is not None:  # built from source now, those packages newer
                    await publish([("INFO", f"{older.reason}: built from source")], "stdout")
                    upgrades = [a for name in older.names for a in ("--upgrade-package", name)]
                    await self._install(
                        [*install, *upgrades],
                        path,
                        publish,
                        {},
                        env_dir=path,
                        read_only=base,
                        wheels_only=None,
                        build_cache=build_cache,
                    )
            # A remedy's PyMySQL in mysqlclient's place answers `import MySQLdb`.
            await trio.to_thread.run_sync(stand_in_for_mysqldb, path)

        what = f"Python {version}, {deps.source or 'no dependency file'}"
        trying = "prebuilt wheels only, first" if wheels_only else None
        try:
            lease = await self.cache.acquire(key, build, publish, say, what, trying)
        except BuildFailed as failed:  # which Python it was built for
            raise BuildFailed(for_python(failed.message, chosen.minor), failed.lines) from None
        python = str(lease.path / "bin" / "python")
        if not lease.reused:  # built for this launch: its modules compiled meanwhile
            self.bytecode.request(lease.key, python)
        return lease, PythonEnv(python, version)

    async def _newest_wheels(
        self, requirements: list[str], version: str, deps: PythonDeps, into: dict[str, Version]
    ) -> None:
        """Into ``into``: each requirement's newest release with a wheel for ``version``."""
        index, links = self.settings.package_index_url, self.settings.find_links
        into.update(
            await newest_wheels(requirements, version, index, links, before=deps.exclude_newer)
        )

    async def _older_majors(
        self,
        install: list[str],
        newest: dict[str, Version],
        env_dir: Path,
        read_only: tuple[Path, ...],
    ) -> _OlderMajors | None:
        """Whether an install with wheels only (``install``, into ``env_dir``) took an
        older major of a listed package than its ``newest`` release with a wheel, because
        a package that release needs has no wheel: uv's resolver, told to build nothing,
        goes back to the releases before that need, and an app written for the newer one
        fails (RickZzDev's ApiErpDjango: ``django-rest-swagger`` unpinned, 0.3.10 taken
        where 2.2.0 needs openapi-codec, an sdist alone; its ``get_swagger_view`` import
        then failed in every route). An older major uv chose for another reason (a
        conflict with the app's pins) stands: None."""
        installed = await trio.to_thread.run_sync(_installed_versions, env_dir)
        older = {
            name: (installed[name], release)
            for name, release in newest.items()
            if name in installed and installed[name].major < release.major
        }
        if not older:
            return None
        # Each asked for alone: an older major for a conflict (Django held below 3.2, and
        # django-cors-headers 4 with it) hides, asked with it, one for a missing wheel.
        lacking: dict[str, str] = {}  # package -> the dependency with no wheel it needs
        for name in sorted(older)[:_MOST_PROBED]:
            dependency = await self._wheel_lacked(
                install, f"{name}>={older[name][1]}", env_dir, read_only
            )
            if dependency is not None:
                lacking[name] = dependency
        if not lacking:
            return None
        index, links = self.settings.package_index_url, self.settings.find_links
        files = await project_files(set(lacking.values()), index, links)
        anywhere = all(
            name in files and not any(f.tags is not None for f in files[name])
            for name in lacking.values()
        )
        took = "; ".join(f"{name} {older[name][0]}, not {older[name][1]}" for name in lacking)
        needed = ", ".join(sorted(set(lacking.values())))
        reason = f"with wheels only uv took {took}: the newer release needs {needed}, which " + (
            NO_WHEEL_ANYWHERE if anywhere else "has no wheel for this Python"
        )
        return _OlderMajors(reason, tuple(lacking))

    async def _wheel_lacked(
        self, install: list[str], asked: str, env_dir: Path, read_only: tuple[Path, ...]
    ) -> str | None:
        """The package with no wheel that keeps ``install`` with wheels only from taking
        the release ``asked`` (a requirement line), by uv's hint on a dry run; None where
        it installs with wheels (uv's choice was its own) or fails for a conflict."""
        lines: list[str] = []

        async def collect(batch: list[tuple[str, str]], stream: str) -> None:
            lines.extend(text for _, text in batch)

        probe = [*install, "--dry-run", "--no-build", asked]
        try:
            await self._uv(probe, env_dir, collect, {}, env_dir=env_dir, read_only=read_only)
        except BuildFailed:
            lacking = _WHEELS_REQUIRED.search("\n".join(lines))
            return canonicalize_name(lacking[1]) if lacking is not None else None
        return None

    def _env_key(self, deps: PythonDeps, extra: tuple[str, ...], chosen: Interpreter) -> str:
        """The cache key of ``deps`` and the ``extra`` packages (a server not listed) on
        ``chosen``."""
        index = f"{self.settings.package_index_url}|{self.settings.find_links}"
        return deps.key(f"{chosen.version}@{chosen.path}", extra, index)

    async def python_versions(self) -> list[str]:
        """The versions of the interpreters present (for the remedies' older Python)."""
        found = await installed_pythons(self._uv_env(discovery=True))
        return [e["version"] for e in found if isinstance(e.get("version"), str)]

    async def _interpreter(self, deps: PythonDeps) -> Choices:
        """The interpreters that fit the app's request, uv's pick first."""
        request = deps.python_request
        asked = (request, deps.python_source, deps.python_fallback)
        if asked not in self._interpreters:
            env = self._uv_env(discovery=True)
            found = await interpreter_choices(
                request, deps.python_source, env, fallback=deps.python_fallback
            )
            if isinstance(found, list):
                raise BuildFailed(
                    f"no Python interpreter here fits {request!r} (asked by "
                    f"{deps.python_source}); present: {', '.join(found) or 'none'}"
                )
            self._interpreters[asked] = found
        return self._interpreters[asked]

    async def _install(
        self,
        args: list[str],
        cwd: Path,
        publish: Publish,
        env: dict[str, str],
        *,
        env_dir: Path,
        read_only: tuple[Path, ...],
        wheels_only: bool | None = False,
        build_cache: Path | None = None,
    ) -> None:
        """Install into ``env_dir`` (``wheels_only``: the first step alone; None: the
        second alone, the first just refused). Confined, in two steps, so that no code of
        the upload ever runs with the shared download cache writable (it could plant
        files later builds of other apps copy): wheels only first (``--no-build``: uv
        alone writes the cache), and only if some package must be built from source,
        again with a cache of this build's own."""
        if wheels_only:
            args = [*args, "--no-build"]
        if self._sandbox() is None or wheels_only:
            lacking: list[str] = []
            watched = _noting_lacked_extras(publish, lacking)
            await self._uv(args, cwd, watched, env, env_dir=env_dir, read_only=read_only)
            if wheels_only and lacking:  # a try refused: the next builds from source
                raise BuildFailed(_lacks_extras(lacking))
            return
        if wheels_only is False:  # (None: its lines would be the refused try's again)
            lacking = []
            with contextlib.suppress(BuildFailed):
                await self._uv(
                    [*args, "--no-build"],
                    cwd,
                    _noting_lacked_extras(publish, lacking),
                    env,
                    env_dir=env_dir,
                    read_only=read_only,
                )
                if not lacking:
                    return
                await publish([("INFO", _lacks_extras(lacking))], "stdout")
                args = [*args, *(a for name in lacking for a in ("--upgrade-package", name))]
        note = "some packages have no wheel (above): built from source, with a cache of its own"
        await publish([("INFO", note)], "stdout")
        private = build_cache or env_dir / ".build-cache"
        env = {**env, "UV_CACHE_DIR": str(private)}
        if build_cache is not None:  # what this launch's earlier attempts built, offered
            built = build_cache / _BUILT_WHEELS
            await trio.to_thread.run_sync(partial(built.mkdir, exist_ok=True))
            env["UV_FIND_LINKS"] = ",".join(filter(None, (self.settings.find_links, str(built))))
        try:
            await self._uv(
                args,
                cwd,
                publish,
                env,
                env_dir=env_dir,
                read_only=read_only,
                caches=(private,) if build_cache else (),
            )
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                if build_cache is None:  # the launch's own: removed with it (Preparation)
                    await trio.to_thread.run_sync(shutil.rmtree, private, True)
                else:
                    await trio.to_thread.run_sync(_keep_built_wheels, build_cache)

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
            [f"{TOOLS_DIR_INSIDE}/{binary.name}", *args],
            cwd,
            {**env, "HOME": str(env_dir)},
            with_progress(publish),
            confined=(
                env_dir,
                (self.root / ".uv-cache",) if caches is None else caches,
                read_only,
                (binary,),
            ),
        )

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
            # Not compiled here: uv's compile of every module of the set (5.6 s of a
            # FastAPI set's 7.4 s install, 30 s of a larger one's on a loaded machine)
            # held up the first launch, which imports a fraction of them. The modules are
            # compiled after it is handed over (:class:`BytecodeCompiles`).
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
        """A leased directory whose ``node_modules`` has the app's packages installed
        (and the tools it needs but does not list); with a Prisma schema, its client
        generated (Prisma's engines fetched from their host, which the build may reach)."""

        async def build(path: Path, publish: Publish) -> None:
            project = await trio.to_thread.run_sync(prepare_npm_project, path, deps)
            for note in project.notes:
                await say(note)
            command = "ci" if deps.lockfile is not None else "install"
            dated = npm_freshness(deps.before)
            env = npm_environment(path, self.root / ".npm-cache", {**project.env, **dated})
            confined = (path, (self.root / ".npm-cache",), (), ()) if self._sandbox() else None
            step = partial(self._step, cwd=path, env=env, publish=with_progress(publish))

            async def unpin(name: str) -> str | None:
                return await trio.to_thread.run_sync(restore_range, path, deps, name)

            async def optional(name: str) -> bool:
                return await trio.to_thread.run_sync(made_optional, path, name)

            # Downloads alone with the shared cache writable; code after, on a cache of its own.
            if deps.legacy_peers:
                await say(
                    "yarn.lock: yarn resolved its tree, which checks no peer dependency: "
                    "npm installs it likewise (--legacy-peer-deps)"
                )
            legacy = await npm_install(
                partial(step, confined=confined),
                command,
                deps.tools,
                say,
                unpin,
                optional,
                legacy=deps.legacy_peers,
                offline_first=not deps.before,
            )
            own = path / ".npm-build-cache"
            env = {**env, "npm_config_cache": str(own)}
            if legacy:  # the packages installed beside it later too (npm_install says why)
                env["npm_config_legacy_peer_deps"] = "true"
            confined = (path, (), (), ()) if confined is not None else None
            run = partial(
                self._step, cwd=path, env=env, confined=confined, publish=with_progress(publish)
            )
            # The app's own scripts: its code, given the indexes and not the binaries' hosts.
            run_own = partial(run, prebuilt=False)

            async def build_apart(argv: list[str], cwd: Path, downloads: bool) -> None:
                cache = self.root / ".npm-cache" if downloads else cwd / ".npm-build-cache"
                apart = npm_environment(cwd, cache, dated)
                caches = (self.root / ".npm-cache",) if downloads else ()
                alone = (cwd, caches, (), ()) if confined is not None else None
                await self._step(argv, cwd, apart, with_progress(publish), confined=alone)

            node = await node_version(SAFE_PATH)
            natives = partial(
                self.natives.provide, path, node=node, build_apart=build_apart, say=say
            )
            try:  # their scripts and the project's own; then prepare, which rebuild leaves out
                await npm_rebuild(run, run_own, say, path, deps.ranges, deps.tools, natives)
                try:
                    await run_own(["npm", "run", "prepare", "--if-present"])
                except BuildFailed as failed:
                    # Only its package.json and lockfile are here: a prepare reading the
                    # app's other files (env-prompt's .env.sample, husky's .git, tsc's
                    # sources) cannot work, and what it makes of the sources the app's
                    # own build makes in its folder. Said, and the install goes on.
                    await say(
                        "its prepare script failed where its packages are installed (only"
                        f" its package.json and lockfile are there): {failed.message};"
                        " left out, the packages are installed"
                    )
                if deps.prisma is not None:
                    schema = deps.prisma[0]
                    await publish([("INFO", f"prisma generate --schema {schema}")], "stdout")
                    await self._step(
                        [f"{path}/node_modules/.bin/prisma", "generate", "--schema", schema],
                        path,
                        {**env, "PRISMA_HIDE_UPDATE_MESSAGE": "1"},
                        with_progress(publish),
                        confined=confined,
                        also=_PRISMA_ENGINES,
                    )
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(30):
                    await trio.to_thread.run_sync(shutil.rmtree, own, True)

        what = deps.lockfile[0] if deps.lockfile else "package.json"
        what += "".join(f" + {tool}" for tool in deps.tools)
        what += f" + prisma generate ({deps.prisma[0]})" if deps.prisma is not None else ""
        what += f", as of {deps.before[:10]} (--before)" if deps.before else ""
        return await self.cache.acquire(deps.key(), build, publish, say, f"npm, {what}")

    # -- one step -------------------------------------------------------------------

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
        also: tuple[str, ...] = (),
        prebuilt: bool = True,
    ) -> None:
        """``prebuilt``: whether the step may reach the hosts of prebuilt binaries
        (``PREVIEW_BUILD_EGRESS``) besides the package indexes."""
        confinement = None
        isolation = self._sandbox()
        if confined is not None and isolation is not None:
            env_dir, caches, read_only, tools = confined
            index = EgressPolicy.for_builds(
                self.settings.package_index_url,
                self.settings.find_links,
                also,
                prebuilt=EgressPolicy.parse(self.settings.build_egress if prebuilt else ""),
            )
            confinement = await isolation.confine_build(
                self.settings,
                env_dir,
                cwd,
                caches=caches,
                read_only=read_only,
                tools=tools,
                outbound=Outbound(policy=index),
            )
            # Copies, not hard links into the cache: the cache is the builder's to write,
            # so a later build must not reach the files of environments apps run.
            env = {**env, **proxy_environment(local_direct=False), "UV_LINK_MODE": "copy"}
        noted: list[str] = []  # uv's "Failed to build `x==1`", however long the rest
        try:
            result = await run_logged(
                argv,
                cwd=cwd,
                env=env,
                limits=ChildLimits(memory_bytes=_BUILD_MEMORY),
                publish=noting_failed_builds(publish, noted),
                time_limit=self.settings.build_timeout,
                confinement=confinement,
            )
        except OSError as error:
            raise BuildFailed(f"could not run {Path(argv[0]).name}: {error.strerror}") from None
        if result.timed_out:
            raise BuildFailed(
                f"the build took longer than {self.settings.build_timeout:g} s "
                "(PREVIEW_BUILD_TIMEOUT)",
                result.tail[-15:],
            )
        if not result.ok:
            tool = Path(argv[0]).name
            reason, lines = installer_failure(result.tails, tool, noted)
            limit = ChildLimits(memory_bytes=_BUILD_MEMORY).file_bytes
            if reason == f"{tool} failed":  # it said nothing: what ended it, if anything
                reason = installer_killed(result.returncode, tool, result.tail, limit) or reason
            raise BuildFailed(reason, lines)


# uv's word where the release it resolved has none of the extras asked for.
_LACKS_EXTRA = re.compile(r"The package `([A-Za-z0-9][\w.-]*)==[^`]+` does not have an extra named")


def _keep_built_wheels(build_cache: Path) -> None:
    """Copy the wheels uv built from source into ``build_cache`` into its folder of them
    (:data:`_BUILT_WHEELS`), where the launch's next attempt finds them."""
    built = build_cache / _BUILT_WHEELS
    for wheel in build_cache.glob("sdists-v*/**/*.whl"):
        if wheel.is_file() and not (built / wheel.name).exists():
            shutil.copyfile(wheel, built / wheel.name)


def _lacks_extras(lacking: list[str]) -> str:
    """What a wheels-only install that resolved ``lacking`` to releases without the
    extras asked for says. Its wheels alone resolved a release too old for what the app
    asks (uv went back to python-escpos 2.2.0, which has no ``[all]``, as 3.1's extras
    have no wheels: AboAhmed24's pos-fastapi, "No module named 'escpos.capabilities'"):
    the release it asks for is built instead."""
    return (
        f"{', '.join(lacking)}: the release prebuilt wheels allow lacks the extras it is "
        "asked for: a newer one, built from source"
    )


def _noting_lacked_extras(publish: Publish, lacking: list[str]) -> Publish:
    """``publish``, noting in ``lacking`` each package uv says it resolved to a release
    without the extras asked for."""

    async def watch(lines: list[tuple[str, str]], stream: str) -> None:
        for _, text in lines:
            if (found := _LACKS_EXTRA.search(text)) is not None and found[1] not in lacking:
                lacking.append(found[1])
        await publish(lines, stream)

    return watch


def _installed_versions(env_dir: Path) -> dict[str, Version]:
    """The distributions installed in the environment ``env_dir``, by canonical name."""
    sites = [str(p) for p in env_dir.glob("lib/python*/site-packages")]
    found = {}
    for dist in importlib.metadata.distributions(path=sites):
        name = dist.metadata["Name"]
        try:
            found[canonicalize_name(name)] = Version(dist.version)
        except (InvalidVersion, TypeError):
            continue
    return found
