"""The cache of built environments: :class:`EnvCache`, and its files.

Each environment is a directory with a marker written last, beside the shared download
caches. The cache is the one owner of them: a build in progress is a :class:`_Build`,
so a second launch needing the same key waits for it (its events go to both previews)
and shares its outcome; environments in use are leased, and least-recently-used ones
beyond ``PREVIEW_ENV_CACHE_MB`` are removed, never a leased one. The file functions are
blocking (call them in a thread), except :func:`set_aside`, one rename.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import trio

from ..apps.depspec import NodeDeps
from ..sandbox.appdir import replace_file
from ..settings import Settings
from .steps import BuildFailed, Publish

__all__ = [
    "BUILD_DISK_FLOOR",
    "DOWNLOAD_CACHES",
    "LAUNCH_CACHES",
    "MARKER",
    "BuildFailed",
    "EnvCache",
    "Lease",
    "Say",
    "cached_envs",
    "fresh_dir",
    "patch_floor",
    "pypi_mirror_lock",
    "remove_unfinished",
    "set_aside",
    "tree_size",
    "write_lock_project",
    "write_node_project",
    "write_requirements",
]

MARKER = "preview-env.json"
DOWNLOAD_CACHES = (".uv-cache", ".npm-cache")  # shared by builds; removable when idle
_ASIDE = ".removing-"
# What one build may write at least, whatever PREVIEW_ENV_CACHE_MB says (tests keep
# tiny caches); how often the disk's free space is read while one runs.
BUILD_DISK_FLOOR = 2 * 2**30
_DISK_CHECK_S = 0.5
_count = itertools.count()
# A marker no environment satisfies: an override carrying it leaves its package out.
_NEVER = "sys_platform == 'never'"


def fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)


LAUNCH_CACHES = ".launch-caches"  # one launch's builds from source, kept for its relaunches


def write_lock_project(project: Path, lock: tuple[str, str], python: str | None = None) -> None:
    """The project ``uv sync`` installs: the app's pyproject.toml and uv.lock (from PyPI
    where they name a mirror of it), their requires-python held to ``python``'s patch."""
    pyproject, text = pypi_mirror_lock(*lock)
    if python is not None:
        pyproject, text = patch_floor(pyproject, python), patch_floor(text, python)
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(pyproject)
    (project / "uv.lock").write_text(text)


_REQUIRES_PYTHON_LINE = re.compile(r'^(requires-python\s*=\s*")([^"\n]*)(")', re.M)
_FLOOR_CLAUSE = re.compile(r"(>=|==|~=|>)\s*(\d+)\.(\d+)(?:\.(\d+))?")
# Minor versions a floor may be above the interpreter taken for it (as
# ``interpreters._NEAREST_WITHIN``): 3.14 asked, 3.13 the newest here.
_FLOOR_WITHIN = 2


def patch_floor(text: str, python: str) -> str:
    """``text`` (a pyproject.toml or uv.lock) with each requires-python clause that names
    a later version than ``python`` of its own minor version or one of the two after it
    (``>=3.12.9``, ``==3.12.9`` where 3.12.1 is the one here: the app's Dockerfile's
    image, not a need of its code; ``>=3.14`` where 3.13 is the newest) naming
    ``python``'s version instead, so that ``uv sync`` accepts the interpreter the build
    took for the app's pin. Upper bounds, and versions further away, are kept."""
    found = re.match(r"(\d+)\.(\d+)\.(\d+)", python)
    if found is None:
        return text
    here = tuple(int(part) for part in found.groups())

    def clause(match: re.Match[str]) -> str:
        asked = tuple(int(part or 0) for part in match.groups()[1:])
        near = asked[0] == here[0] and asked[1] - here[1] <= _FLOOR_WITHIN
        if not near or asked <= here:
            return match.group(0)
        operator = match.group(1)
        if operator == ">" or (operator == "~=" and asked[1] != here[1]):
            operator = ">="  # (~=3.14 is >=3.14,<4; ~=3.13.0 would be <3.14)
        return f"{operator}{found.group(0)}"

    def line(match: re.Match[str]) -> str:
        return match.group(1) + _FLOOR_CLAUSE.sub(clause, match.group(2)) + match.group(3)

    return _REQUIRES_PYTHON_LINE.sub(line, text)


_REGISTRY = re.compile(r'registry = "(https?://[^"]+)"')
_ORIGIN = re.compile(r"^https?://[^/]+")
_FILE_URL = re.compile(r'\burl = "(https?://[^"]+)"')
# PyPI's own file paths (packages/ab/cd/<the rest of the blake2b hash>/<file>), under a
# mirror's prefix (https://mirrors.aliyun.com/pypi/packages/…).
_PYPI_PATH = r"(?:/[^\"]*?)?/packages/((?:[0-9a-f]{2}/){2}[0-9a-f]{60}/[^\"/]+)"
_PYPI = ("https://pypi.org", "https://files.pythonhosted.org")


def pypi_mirror_lock(pyproject: str, lock: str) -> tuple[str, str]:
    """A uv.lock resolved on a mirror of PyPI under another name (its ``[[tool.uv.index]]``
    Aliyun's, Tsinghua's: fastapi-practices' template), which no build reaches: the same
    files from PyPI, whose paths the mirror keeps (their hashes are the lock's). A
    registry any of whose files lie elsewhere (a private index) is left as it is."""
    urls = _FILE_URL.findall(lock)
    for registry in dict.fromkeys(_REGISTRY.findall(lock)):
        origin = _ORIGIN.match(registry)
        if origin is None or origin.group() in _PYPI:
            continue
        mirrored = re.compile(re.escape(origin.group()) + _PYPI_PATH)
        named = [u for u in urls if u.startswith(f"{origin.group()}/")]
        if not named or not all(mirrored.fullmatch(u) for u in named):
            continue
        lock = mirrored.sub(r"https://files.pythonhosted.org/packages/\1", lock)
        lock = lock.replace(f'"{registry}"', '"https://pypi.org/simple"')
        pyproject = pyproject.replace(f'"{registry}"', '"https://pypi.org/simple"')
    return pyproject, lock


def write_requirements(
    path: Path,
    requirements: list[str],
    build_constraints: tuple[str, ...],
    constraints: tuple[str, ...] = (),
    left_out: tuple[str, ...] = (),
) -> list[str]:
    """The requirements (with the versions a lock holds them to, a remedy's constraints on
    the sdists' builds: the setuptools an old setup.py builds on, and the packages a remedy
    leaves out) written under ``path``; uv pip install's arguments."""
    listed = path / "requirements.txt"
    listed.write_text("\n".join(requirements) + "\n")
    arguments = ["-r", str(listed)]
    if constraints:
        pinned = path / "constraints.txt"
        pinned.write_text("\n".join(constraints) + "\n")
        arguments += ["-c", str(pinned)]
    if left_out:
        # A package the app does not list but one it lists requires (Flask-MySQLdb's
        # mysqlclient) cannot be dropped from its lines: an override replaces every
        # requirement of it, and one whose marker is never true keeps it out.
        overrides = path / "overrides.txt"
        overrides.write_text("".join(f"{name}; {_NEVER}\n" for name in left_out))
        arguments += ["--overrides", str(overrides)]
    if build_constraints:
        held = path / "build-constraints.txt"
        held.write_text("\n".join(build_constraints) + "\n")
        arguments += ["--build-constraint", str(held)]
    return arguments


def write_node_project(path: Path, deps: NodeDeps) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "package.json").write_bytes(deps.package_json)
    if deps.lockfile is not None:
        (path / deps.lockfile[0]).write_bytes(deps.lockfile[1])
    if deps.prisma is not None:  # its client is generated into node_modules
        schema = path / deps.prisma[0]
        schema.parent.mkdir(parents=True, exist_ok=True)
        schema.write_bytes(deps.prisma[1])
    for name, content in deps.patches:  # what its install scripts' patch-package applies
        patch = path / name
        patch.parent.mkdir(parents=True, exist_ok=True)
        patch.write_bytes(content)


def remove_unfinished(root: Path) -> None:
    if not root.is_dir():
        return
    shutil.rmtree(root / LAUNCH_CACHES, ignore_errors=True)  # of previews before a restart
    for entry in root.iterdir():
        if entry.name.startswith(_ASIDE) or (
            not entry.name.startswith(".") and not (entry / MARKER).exists()
        ):
            shutil.rmtree(entry, ignore_errors=True)


def _free_bytes(path: Path) -> int:
    found = os.statvfs(path)
    return found.f_bavail * found.f_frsize


def tree_size(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def cached_envs(root: Path) -> list[tuple[float, str, int]]:
    """(last used, key, bytes) of every built environment."""
    found = []
    for marker in root.glob(f"*/{MARKER}"):
        try:
            size = int(json.loads(marker.read_text()).get("bytes", 0))
            found.append((marker.stat().st_mtime, marker.parent.name, size))
        except (OSError, ValueError, AttributeError):
            continue
    return found


def set_aside(path: Path) -> Path | None:
    """Rename a built environment out of the way (one syscall: on the event loop), so
    that from this moment no launch finds it while it is being removed. The new name,
    or None if it was not there."""
    aside = path.with_name(f"{_ASIDE}{path.name}-{os.getpid()}-{next(_count)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return None
    return aside


class Lease:
    """An environment in use by one preview: not evicted until released (idempotent)."""

    def __init__(self, builder: EnvCache, key: str, path: Path, *, reused: bool = False) -> None:
        self._builder = builder
        self.key = key
        self.path = path
        self.reused = reused  # built before this launch asked for it (its install: none)
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


class EnvCache:
    """The one owner of the built environments: who builds which (one build per key at
    a time, the others wait for it and share its outcome), who uses which (leases), and
    what is removed when the cache is over its size (least recently used, never one in
    use). :class:`~.build.EnvBuilder`, which holds it, builds them (:meth:`acquire` calls
    its ``build`` for a key no one has built)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.env_cache_dir
        self.builds_run = 0  # how many builds ran (a second launch of a set adds none)
        self._builds: dict[str, _Build] = {}
        self._leases: Counter[str] = Counter()
        self._evicting = trio.Lock()

    def built(self, key: str) -> bool:
        """Whether the environment of ``key`` is built and not being built again (a
        marker's stat: cheap enough for the loop)."""
        return key not in self._builds and (self.root / key / MARKER).exists()

    def hold(self, key: str) -> Lease | None:
        """A lease of the environment of ``key`` where it is built and not being built
        again, said to no one (the service's own use of it); else None."""
        if not self.built(key):
            return None
        self._leases[key] += 1
        return Lease(self, key, self.root / key, reused=True)

    async def acquire(
        self,
        key: str,
        build: Callable[[Path, Publish], Awaitable[None]],
        publish: Publish,
        say: Say,
        what: str,
        trying: str | None = None,  # how this build differs from the key's (its lines)
    ) -> Lease:
        path = self.root / key
        while True:
            if key not in self._builds and (path / MARKER).exists():
                self._leases[key] += 1
                await trio.to_thread.run_sync(os.utime, path / MARKER)
                await say(f"environment ready ({what}): reused")
                return Lease(self, key, path, reused=True)
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
            return await self._build(key, path, build, publish, say, what, trying)

    async def _build(
        self,
        key: str,
        path: Path,
        build: Callable[[Path, Publish], Awaitable[None]],
        publish: Publish,
        say: Say,
        what: str,
        trying: str | None = None,
    ) -> Lease:
        current = self._builds[key] = _Build(listeners=[publish])
        self._leases[key] += 1
        began = trio.current_time()
        done = False
        try:
            await say(f"installing dependencies ({what}{f'; {trying}' if trying else ''})")
            self.builds_run += 1
            await trio.to_thread.run_sync(fresh_dir, path)
            # PREVIEW_BUILD_TIMEOUT bounds the whole build, whatever its steps.
            with trio.move_on_after(self.settings.build_timeout) as deadline:
                within = await self._within_disk_bound(path, partial(build, path, current.publish))
            if deadline.cancelled_caught:
                raise BuildFailed(
                    f"the build took longer than {self.settings.build_timeout:g} s "
                    "(PREVIEW_BUILD_TIMEOUT)"
                )
            if not within:
                raise BuildFailed(
                    f"the build wrote more than {self.build_disk_bytes // 2**20} MiB "
                    "(PREVIEW_ENV_CACHE_MB): stopped"
                )
            size = await trio.to_thread.run_sync(tree_size, path)
            marker = json.dumps({"key": key, "what": what, "bytes": size})
            # Never through a link: the build's own code ran with this folder writable.
            await trio.to_thread.run_sync(replace_file, path / MARKER, marker.encode())
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

    @property
    def build_disk_bytes(self) -> int:
        """What one build may write into its environment: the whole cache's size (it
        would not be kept otherwise), at least ``BUILD_DISK_FLOOR``."""
        return max(self.settings.env_cache_mb * 2**20, BUILD_DISK_FLOOR)

    async def _within_disk_bound(self, path: Path, build: Callable[[], Awaitable[None]]) -> bool:
        """Run ``build``; False when its folder grew past :attr:`build_disk_bytes` (it is
        then cancelled, its processes killed). The upload's code runs in a build (npm's
        scripts, a package built from source) with that folder on the host's disk
        writable: without a bound it could fill the disk the service's database and
        every other preview live on. Its file system's free space is read every
        ``_DISK_CHECK_S`` (a ``statvfs`` of its parent: uv makes the folder anew); the
        folder is measured (a walk) only once the disk lost more than the bound since
        the last measure."""
        limit = self.build_disk_bytes
        grew = False

        async def watch(scope: trio.CancelScope) -> None:
            nonlocal grew
            baseline = await trio.to_thread.run_sync(_free_bytes, path.parent)
            while True:
                await trio.sleep(_DISK_CHECK_S)
                free = await trio.to_thread.run_sync(_free_bytes, path.parent)
                if baseline - free <= limit:
                    continue
                size = await trio.to_thread.run_sync(tree_size, path)
                if size > limit:
                    grew = True
                    scope.cancel()
                    return
                baseline = free + size  # others wrote the rest: counted from here

        failed: Exception | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch, nursery.cancel_scope)
            try:
                await build()
            except Exception as error:  # raised below alone, not in the nursery's group
                failed = error
            nursery.cancel_scope.cancel()
        if failed is not None and not grew:
            raise failed
        return not grew

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
