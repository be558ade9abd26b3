"""The output of a build step kept by the content of its inputs, and reused while they do
not change: :class:`BuildCache`.

A Node app's build (``npm run build`` running ``nest build``, ``tsc && tsc-alias``,
``tsup`` …: ``apps.node.buildsteps`` says which steps qualify) runs again at every
launch, though between two launches of one revision nothing it reads changes. Its key
is a hash of every input it has: the upload's files (all of them: a build may read any),
the dependency set as installed (the environment's key and npm's record of the tree it
installed, ``node_modules/.package-lock.json``: versions a range resolved to), the
command as run, the variables the tools read (``NODE_ENV``), the Node version and this
module's format. The step runs confined as before; its only lasting effect is on the
app's directory (its environment is read-only there, its ``/tmp`` its own), so what it
leaves is the files it wrote there (and those it removed: ``rm -rf dist`` before ``tsc``):
found by comparing the directory before and after, kept under
``<env dir>/.build-cache/<key>``, each file with its SHA-256. A later launch with the
same key gets those files written into its directory (the removed ones removed) instead
of running the step, after every one is checked against its hash (an entry whose files
changed is not used, and removed).

Shared between users: the key covers every input, so a hit is the output of the very
same step on the very same files, which that user's own run would have made (the tools
allowed are deterministic given their inputs; one that reads the environment is not
allowed). Entries beyond ``PREVIEW_BUILD_CACHE_MB`` are removed, least recently used
first; a full disk or any failure to keep or restore one means no cache, never a failed
launch.

Incremental: where the app's tsconfig keeps a ``.tsbuildinfo`` (``incremental``, as Nest's
own starter's does), a build whose inputs changed starts from the last output of the
same step of the same set-up (the key less the upload's files), its times set far in the
past so that no tool takes it as newer than the sources: tsc then checks and writes
again only what the change reaches.

The app's directory is the app's: read and written here never through a link (each
directory opened without following one, each file read as the directory's owner), as
the service's other work there (``sandbox.appdir``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import posixpath
import shutil
import stat
import subprocess
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import trio

from ..apps.node.buildsteps import ENV_READ_BY_BUILDS, pure_build
from ..logs.hostpaths import REVISION_DIRS
from ..sandbox.appdir import as_owner, open_dir, replace_file, unlink_beneath, write_beneath
from ..settings import Settings

__all__ = ["BUILD_CACHE", "BuildCache", "StepKey", "node_version"]

BUILD_CACHE = ".build-cache"  # under the env dir (a dot: envcache's clean-up leaves it)
_FORMAT = 2  # of the entries: a change of what a key covers or how entries are laid out
_ENTRY = "entry.json"
_FILES = "files"
_LINEAGE = ".lineage-"
_STAGING = ".staging-"
_ASIDE = ".removing-"
_MAX_ENTRY = 256 * 2**20  # one step's output kept at most (an app's directory: 256 MiB)
_MAX_INSTALLED = 64 * 2**20  # npm's record of the installed tree, read at most
_LONG_AGO = 315532800  # 1980-01-01: an incremental build's restored output, older than any source
_NODE_TIMEOUT = 10.0
_count = itertools.count()
_node_versions: dict[str, str | None] = {}  # the node binary's path -> its version


@dataclass(frozen=True)
class StepKey:
    """What one build step's output is kept under."""

    digest: str  # a hash of every input
    lineage: str  # of every input but the upload's files: the same step over revisions
    covers: str  # what the key covers, said in the log

    def variant(self, version: str) -> StepKey:
        """The key of the same step run another way (``version``: that way's, as the
        TypeScript emit without type check's program), over the same inputs."""

        def mixed(digest: str) -> str:
            return hashlib.sha256(f"{digest}\0{version}".encode()).hexdigest()

        covers = f"{self.covers}, transpiled without type check ({version})"
        return StepKey(mixed(self.digest), mixed(self.lineage), covers)


@dataclass(frozen=True)
class _Tree:
    """A directory's plain files (path -> size, modification time, inode) and links."""

    files: Mapping[str, tuple[int, int, int]]
    links: frozenset[str]


@dataclass(frozen=True)
class _Entry:
    path: Path
    when: str  # when it was kept (UTC, minutes)
    files: tuple[tuple[str, str, int], ...]  # (path, sha256, size)
    removed: tuple[str, ...] = ()  # files there before the step that it removed

    @property
    def incremental(self) -> bool:
        return any(name.endswith(".tsbuildinfo") for name, _, _ in self.files)


class BuildCache:
    """The build outputs kept (see the module doc); one per service, held by its
    :class:`~.build.EnvBuilder`."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.env_cache_dir / BUILD_CACHE
        self.limit = settings.build_cache_mb * 2**20
        self._anchors = (settings.previews_dir,)
        self._limiter = trio.CapacityLimiter(2)  # file work beside launches, not over them
        self._evicting = trio.Lock()

    async def key(
        self,
        argv: Sequence[str],
        where: str,
        files: dict[str, bytes],
        environment: Path | None,
        env: Mapping[str, str],
    ) -> StepKey | None:
        """The key of the set-up step ``argv`` (run in ``where``) over ``files`` with the
        Node environment leased at ``environment``; None when its output may depend on
        more than the key could cover (a tool not known to be pure, no environment of
        the service's making, no Node to ask its version), or the cache is off (0 MiB)."""
        if self.limit <= 0 or environment is None:
            return None
        commands = pure_build(argv, where, files)
        if commands is None:
            return None
        node = await node_version(env.get("PATH"))
        if node is None:
            return None
        read = partial(_step_key, argv, where, files, environment, env, node, commands)
        try:
            return await trio.to_thread.run_sync(read, limiter=self._limiter)
        except OSError:
            return None

    async def run(
        self,
        key: StepKey,
        app_dir: Path,
        step: Callable[[], Awaitable[None]],
        say: Callable[[str], Awaitable[None]],
        uploaded: Collection[str],
    ) -> bool:
        """The step's output for ``key`` written into ``app_dir`` where it was kept
        (True), else ``step()`` run and what it wrote kept (False). ``uploaded``: the
        upload's paths (in ``app_dir``)."""
        thread = partial(trio.to_thread.run_sync, limiter=self._limiter)
        entry = await thread(_read_entry, self.root / key.digest)
        if entry is not None:
            try:
                broken = await thread(_restore, entry, app_dir, self._anchors, False)
            except OSError as error:
                broken = f"could not write it ({error.strerror})"
            if broken is None:
                await thread(_touch, entry.path / _ENTRY)
                await say(
                    f"build: reused (inputs unchanged since {entry.when}): "
                    f"{_shown(entry.files)} written, the step not run ({key.covers})"
                )
                return True
            await say(
                f"build: the output kept for these inputs was not used: {broken}; built again"
            )
            await thread(_remove, entry.path)
        before = await thread(_snapshot, app_dir, self._anchors)
        # A .tsbuildinfo not uploaded is an earlier attempt's in this directory (another
        # plan's): tsc would write only what changed since, so what it writes is not
        # the whole output, and is not kept.
        made_before = before is None or any(
            p.endswith(".tsbuildinfo") and p not in uploaded for p in before.files
        )
        if not made_before:
            await self._start_from_last(key, app_dir, say)
        await step()
        if before is None or made_before:
            return False
        after = await thread(_snapshot, app_dir, self._anchors)
        changes = _outputs(before, after) if after is not None else None
        if changes is None or not changes[0]:
            return False
        outputs = changes[0]
        most = min(_MAX_ENTRY, self.limit)
        try:
            kept = await thread(_store, self.root, key, changes, app_dir, self._anchors, most)
        except OSError as error:  # a full disk, above all: no cache, the launch goes on
            await say(f"build: its output not kept for relaunches ({error.strerror})")
            return False
        if kept:
            await say(f"build: output kept for relaunches: {_shown_paths(outputs)} ({key.covers})")
            await self.evict()
        return False

    async def _start_from_last(
        self, key: StepKey, app_dir: Path, say: Callable[[str], Awaitable[None]]
    ) -> None:
        """Where the last build of this step's lineage kept a ``.tsbuildinfo``: its
        output written first, so that tsc rebuilds only what changed (module doc)."""
        thread = partial(trio.to_thread.run_sync, limiter=self._limiter)
        last = await thread(_last_of_lineage, self.root, key.lineage)
        if last is None or not last.incremental:
            return
        try:
            broken = await thread(_restore, last, app_dir, self._anchors, True)
        except OSError:
            return
        if broken is None:
            await say(
                f"build: inputs changed since the last build ({last.when}): built again "
                f"over its output ({_shown(last.files)}), incremental by its .tsbuildinfo"
            )

    async def evict(self) -> list[str]:
        """Remove the least recently used entries beyond the bound; the keys removed."""
        async with self._evicting:
            return await trio.to_thread.run_sync(_evict, self.root, self.limit)


# -- the key ----------------------------------------------------------------------------


async def node_version(path: str | None) -> str | None:
    """``node --version`` of the node a step finds on ``path`` (asked once a binary)."""
    found = await trio.to_thread.run_sync(shutil.which, "node", os.X_OK, path)
    if found is None:
        return None
    binary = await trio.to_thread.run_sync(os.path.realpath, found)
    if binary not in _node_versions:
        try:
            with trio.fail_after(_NODE_TIMEOUT):
                done = await trio.run_process([binary, "--version"], capture_stdout=True)
            _node_versions[binary] = done.stdout.decode().strip() or None
        except (OSError, subprocess.CalledProcessError, trio.TooSlowError):
            return None
    return _node_versions[binary]


def _step_key(
    argv: Sequence[str],
    where: str,
    files: dict[str, bytes],
    environment: Path,
    env: Mapping[str, str],
    node: str,
    commands: str,
) -> StepKey:
    lineage = hashlib.sha256()
    read = {name: env.get(name) for name in ENV_READ_BY_BUILDS}
    lineage.update(json.dumps([_FORMAT, list(argv), where, read, node, environment.name]).encode())
    installed = environment / "node_modules" / ".package-lock.json"
    with contextlib.suppress(FileNotFoundError):  # (an environment without packages)
        lineage.update(hashlib.sha256(_read_plain(installed, _MAX_INSTALLED)).digest())
    uploaded = hashlib.sha256()
    for path in sorted(files):
        uploaded.update(f"{path}\0{len(files[path])}\0".encode())
        uploaded.update(hashlib.sha256(files[path]).digest())
    digest = hashlib.sha256(lineage.digest() + uploaded.digest()).hexdigest()
    covers = (
        f"keyed by its {len(files)} files, the dependency set as installed, "
        f"`{commands}`, Node {node}"
    )
    return StepKey(digest, lineage.hexdigest(), covers)


# -- the app's directory ----------------------------------------------------------------


def _snapshot(app_dir: Path, anchors: tuple[Path, ...]) -> _Tree | None:
    """The app's directory as its owner sees it, no link followed; None if unreadable.
    Blocking."""
    files: dict[str, tuple[int, int, int]] = {}
    links: set[str] = set()
    try:
        fd = open_dir(app_dir, anchors)  # (as the service: the previews' folder is its own)
        try:
            with as_owner(app_dir):
                for top, dirs, names, where in os.fwalk(".", dir_fd=fd, follow_symlinks=False):
                    if top == ".":  # the service's: its environment's link, revisions
                        dirs[:] = [d for d in dirs if d != REVISION_DIRS]
                        names = [n for n in names if n != "node_modules"]
                    for name in (*dirs, *names):
                        found = os.stat(name, dir_fd=where, follow_symlinks=False)
                        relative = posixpath.normpath(posixpath.join(top, name))
                        if stat.S_ISLNK(found.st_mode):
                            links.add(relative)
                        elif stat.S_ISREG(found.st_mode):
                            files[relative] = (found.st_size, found.st_mtime_ns, found.st_ino)
        finally:
            os.close(fd)
    except OSError:
        return None
    return _Tree(files, frozenset(links - {"node_modules"}))


def _outputs(before: _Tree, after: _Tree) -> tuple[list[str], list[str]] | None:
    """The files a step wrote (new, or changed) and those it removed (a ``rm -rf dist``
    before ``tsc`` takes the placeholder the service wrote in a run-time folder, or a
    committed build); None where it made a link, which a restore would not redo."""
    if after.links - before.links:
        return None
    written = sorted(p for p, seen in after.files.items() if before.files.get(p) != seen)
    return written, sorted(before.files.keys() - after.files.keys())


def _read_beneath(app_dir: Path, relative: str, anchors: tuple[Path, ...], most: int) -> bytes:
    """A plain file of the app's directory, reached as ``open_dir`` reaches it (no link
    followed), opened as the directory's owner. Blocking."""
    parent, name = posixpath.split(relative)
    fd = open_dir(app_dir / parent if parent else app_dir, anchors)
    try:
        with as_owner(app_dir):
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            file = os.open(name, flags, dir_fd=fd)
    finally:
        os.close(fd)
    return _read_fd(file, most, relative)


def _read_plain(path: Path, most: int) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # (a FIFO: no wait)
    return _read_fd(os.open(path, flags), most, str(path))


def _read_fd(fd: int, most: int, name: str) -> bytes:
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a plain file", name)
        data = file.read(most + 1)
    if len(data) > most:
        raise OSError(errno.EFBIG, "too large to keep", name)
    return data


# -- entries ----------------------------------------------------------------------------


def _store(
    root: Path,
    key: StepKey,
    changes: tuple[list[str], list[str]],
    app_dir: Path,
    anchors: tuple[Path, ...],
    most: int,
) -> bool:
    """Keep the step's ``changes`` (its outputs, read from ``app_dir``, and the files it
    removed) as ``key``'s entry: staged, then renamed into place whole. False when it is
    not kept (too large, changed meanwhile, there already). Blocking."""
    outputs, removed = changes
    root.mkdir(parents=True, exist_ok=True)
    staged = root / f"{_STAGING}{os.getpid()}-{next(_count)}"
    kept, total = [], 0
    try:
        for relative in outputs:
            data = _read_beneath(app_dir, relative, anchors, most - total)
            total += len(data)
            target = staged / _FILES / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            kept.append((relative, hashlib.sha256(data).hexdigest(), len(data)))
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        described = {"format": _FORMAT, "covers": key.covers, "lineage": key.lineage}
        entry = {**described, "when": when, "bytes": total, "files": kept, "removed": removed}
        (staged / _ENTRY).write_text(json.dumps(entry))
        try:
            os.rename(staged, root / key.digest)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):  # kept by another launch
                raise
            return False
        replace_file(root / f"{_LINEAGE}{key.lineage}", key.digest.encode())
        return True
    except OSError as error:
        if error.errno in (errno.EFBIG, errno.ELOOP, errno.ENOENT, errno.EINVAL):
            return False  # too large, or no longer the plain file it was: not kept
        raise
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _read_entry(path: Path) -> _Entry | None:
    try:
        entry = json.loads((path / _ENTRY).read_bytes())
        if entry.get("format") != _FORMAT:
            return None
        files = tuple((str(p), str(h), int(n)) for p, h, n in entry["files"])
        removed = tuple(str(p) for p in entry["removed"])
        return _Entry(path, str(entry["when"]), files, removed)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _last_of_lineage(root: Path, lineage: str) -> _Entry | None:
    try:
        digest = (root / f"{_LINEAGE}{lineage}").read_text().strip()
    except OSError:
        return None
    return _read_entry(root / digest) if digest and "/" not in digest else None


def _restore(entry: _Entry, app_dir: Path, anchors: tuple[Path, ...], long_ago: bool) -> str | None:
    """Write ``entry``'s files into ``app_dir``, each checked against its hash first, the
    files its step removed removed first; why not (one changed, or missing), else None.
    ``long_ago``: their times set to 1980. Blocking."""
    for relative in entry.removed:
        if not _safe(relative):
            return f"a path it names is not the app's ({relative})"
    for relative, digest, size in entry.files:
        if not _safe(relative):
            return f"a path it names is not the app's ({relative})"
        try:
            data = _read_plain(entry.path / _FILES / relative, size)
        except OSError:
            return f"{relative} is missing from it"
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            return f"{relative} no longer matches its hash"
    for relative in entry.removed:
        parent, name = posixpath.split(relative)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):  # (not there)
            unlink_beneath(app_dir / parent if parent else app_dir, name, anchors)
    for relative, _, size in entry.files:
        write_beneath(app_dir, relative, _read_plain(entry.path / _FILES / relative, size))
        if long_ago:
            parent, name = posixpath.split(relative)
            fd = open_dir(app_dir / parent if parent else app_dir, anchors)
            try:
                os.utime(name, (_LONG_AGO, _LONG_AGO), dir_fd=fd, follow_symlinks=False)
            finally:
                os.close(fd)
    return None


def _safe(relative: str) -> bool:
    parts = relative.split("/")
    return not relative.startswith("/") and ".." not in parts and "" not in parts


def _shown(files: tuple[tuple[str, str, int], ...]) -> str:
    return _shown_paths([path for path, _, _ in files])


def _shown_paths(paths: Sequence[str]) -> str:
    """``dist/ (42 files)``: the top folders of a step's output, with its file count."""
    tops = sorted({f"{p.split('/')[0]}/" if "/" in p else p for p in paths})
    listed = ", ".join(tops[:3]) + (f" and {len(tops) - 3} more" if len(tops) > 3 else "")
    return f"{listed} ({len(paths)} file{'s' if len(paths) != 1 else ''})"


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _remove(path: Path) -> None:
    aside = path.with_name(f"{_ASIDE}{path.name}-{os.getpid()}-{next(_count)}")
    with contextlib.suppress(OSError):
        os.rename(path, aside)
        shutil.rmtree(aside, ignore_errors=True)


def _evict(root: Path, limit: int) -> list[str]:
    """Entries removed, least recently used first, until the rest fit in ``limit``;
    what earlier runs of the service left half-made or half-removed goes too. Blocking."""
    if not root.is_dir():
        return []
    entries: list[tuple[float, str, int]] = []
    ours = f"{_STAGING}{os.getpid()}-"
    for child in root.iterdir():
        name = child.name
        if name.startswith(_ASIDE) or (name.startswith(_STAGING) and not name.startswith(ours)):
            shutil.rmtree(child, ignore_errors=True)  # (one service per data dir: not ours)
            continue
        if name.startswith("."):
            continue
        try:
            found: Any = json.loads((child / _ENTRY).read_bytes())
            entries.append(((child / _ENTRY).stat().st_mtime, name, int(found["bytes"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    total = sum(size for _, _, size in entries)
    removed = []
    for _, name, size in sorted(entries):
        if total <= limit:
            break
        _remove(root / name)
        total -= size
        removed.append(name)
    for pointer in root.glob(f"{_LINEAGE}*"):  # pointing at an entry removed
        with contextlib.suppress(OSError):
            if not (root / pointer.read_text().strip() / _ENTRY).is_file():
                pointer.unlink()
    return removed
