"""Native modules compiled once a machine, not once an app: :class:`NativeBuilds`.

Where a native module's prebuilt binary is out of reach (its host not in
``PREVIEW_BUILD_EGRESS``, or none published for this Node), its install script compiles
it (node-gyp): 30 s to minutes on a small machine (sqlite3 5.1: 70-110 s of an Express
app's first launch here, every app that lists it, though each compiled the very same
file). The binary depends only on the package's own files (its registry tarball) and
what it is built with (this Node, this machine's compiler and platform), so it is kept
by that key and copied into every later app that installs the same package.

Shared between users, so it must be what the registry's package makes, not what an
upload makes of it: the package is never built in the app's tree (another package of
the app, or its lockfile's choice of the package's own dependencies, could change the
binary there), but in a project of its own holding the package alone, installed from
the registry (npm checks the tarball's integrity, and this module that it is the app's
``integrity``), confined like every build step. What it leaves is its ``.node`` files,
each kept with its SHA-256 and checked again before each copy (an entry whose files
changed is not used, and removed). One that fails to build apart is remembered, and
left to the app's own install as before (its remedies: an older Node API's module
replaced by its newest release). A full disk or any failure to keep one is no cache,
never a failed launch. Entries beyond :data:`_KEPT` are removed, least recently used
first.

A package that bundles a library this machine has (node-sqlite3's copy of SQLite, most of
its compile) is built against the machine's (:data:`SYSTEM_LIBRARIES`: Debian's
libsqlite3-dev; its build told so by its own option), a third of the compile; its key
then names that library's file, so a changed library builds anew.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import platform
import shutil
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import trio

from ...generations import loads_bounded
from ...sandbox.appdir import read_no_follow
from ..envcache import BuildFailed, Say

__all__ = [
    "NATIVE_BUILDS",
    "SYSTEM_LIBRARIES",
    "BuildApart",
    "NativeBuilds",
    "NativePackage",
    "SystemLibrary",
    "native_packages",
]

# Runs an npm command in a project of the cache's own (argv, its folder, whether it may
# write the shared download cache: installing yes, the install scripts no).
BuildApart = Callable[[list[str], Path, bool], Awaitable[None]]

NATIVE_BUILDS = ".native-builds"  # under the environments' root (a dot: not an environment)
_FORMAT = 1  # of the entries: a change of what a key covers or how entries are laid out
_ENTRY = "entry.json"
_FAILED = "failed"  # an entry's marker: the package did not build apart (not tried again)
_FILES = "files"
_STAGING = ".staging-"
_KEPT = 256  # entries kept at most
_MAX_BINARY = 256 * 2**20  # one .node file copied at most
_count = itertools.count()


@dataclass(frozen=True)
class NativePackage:
    """A package of an app's tree that node-gyp builds: where (``target``, as ``npm
    rebuild`` takes it, and ``folder``), and what the registry calls it."""

    target: str  # ./node_modules/sqlite3
    folder: Path
    name: str
    version: str
    integrity: str


@dataclass(frozen=True)
class SystemLibrary:
    """A library of this machine's that a package's native build links instead of
    compiling the copy it bundles: the option telling its build so (npm hands it to
    node-gyp as a variable of the package's ``binding.gyp``), the header it compiles
    against and the library's file name (``libsqlite3.so``, found under ``libraries``)."""

    option: str
    header: Path
    library: str
    libraries: Path = Path("/usr/lib")

    def identity(self) -> str | None:
        """What a binary linked against it depends on (the library's file, resolved, and
        its size); None where the header or the library is not here."""
        if not self.header.is_file():
            return None
        for found in (
            *sorted(self.libraries.glob(f"*/{self.library}")),
            self.libraries / self.library,
        ):
            try:
                real = found.resolve(strict=True)
                return f"{real.name}:{real.stat().st_size}"
            except OSError:
                continue
        return None


# node-sqlite3 compiles its own SQLite unless ``--sqlite`` names a prefix holding one
# (70-110 s on a small machine; against Debian's libsqlite3-dev about a third of it).
SYSTEM_LIBRARIES = {
    "sqlite3": SystemLibrary("--sqlite=/usr", Path("/usr/include/sqlite3.h"), "libsqlite3.so")
}


def native_packages(path: Path, targets: Sequence[str]) -> list[NativePackage]:
    """Of ``targets`` (installed packages with install scripts, in ``path``), those that
    build native code with node-gyp (a ``binding.gyp``, no binaries shipped in the
    package: those need no compile) and came from the registry (a version and its
    tarball's integrity in npm's record; not a git or local folder). Blocking."""
    try:
        record = loads_bounded(read_no_follow(path / "node_modules" / ".package-lock.json"))
    except (OSError, ValueError):
        return []
    packages = record.get("packages") if isinstance(record, dict) else None
    if not isinstance(packages, dict):
        return []
    found = []
    for target in targets:
        at = target.removeprefix("./")
        entry = packages.get(at)
        folder = path / at
        if not isinstance(entry, dict) or entry.get("link") is True:
            continue
        version, integrity = entry.get("version"), entry.get("integrity")
        resolved = str(entry.get("resolved", ""))
        if not (isinstance(version, str) and isinstance(integrity, str)):
            continue
        if not resolved.startswith(("https://", "http://")) or folder.is_symlink():
            continue
        if not (folder / "binding.gyp").is_file() or (folder / "prebuilds").is_dir():
            continue
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
        found.append(
            NativePackage(
                target, folder, name or at.rpartition("node_modules/")[2], version, integrity
            )
        )
    return found


class NativeBuilds:
    """The machine's compiled native modules (see the module doc), under ``root``; one
    per service, owned by the environments' builder."""

    def __init__(
        self, root: Path, system_libraries: dict[str, SystemLibrary] = SYSTEM_LIBRARIES
    ) -> None:
        self.root = root
        self._system_libraries = system_libraries
        self._locks: defaultdict[str, trio.Lock] = defaultdict(trio.Lock)

    async def provide(
        self,
        path: Path,
        targets: Sequence[str],
        node: str | None,
        build_apart: BuildApart,
        say: Say,
    ) -> list[str]:
        """Copies into ``path``'s packages among ``targets`` the binaries this machine
        built of them for ``node`` (building each apart first where none is kept), and
        returns the targets whose install scripts are still to run: the others, and those
        that did not build apart."""
        if node is None:
            return list(targets)
        natives = await trio.to_thread.run_sync(native_packages, path, targets)
        provided: set[str] = set()
        for package in natives:
            library = self._system_libraries.get(package.name)
            linked = library.identity() if library is not None else None
            option = library.option if library is not None and linked is not None else None
            key = _key(package, node, linked)
            entry = self.root / key
            async with self._locks[key]:
                kept = await trio.to_thread.run_sync(_kept, entry)
                if kept is None:
                    await self._build(package, entry, build_apart, say, option)
                    fresh = True
                else:
                    fresh = False
                copied = await trio.to_thread.run_sync(_copy_into, entry, package.folder)
            if copied:
                provided.add(package.target)
                how = "compiled apart" if fresh else "compiled once already, by another app"
                await say(
                    f"{package.name} {package.version}: its native code {how} on this machine "
                    f"for Node {node.lstrip('v')}, copied in (no compile in the app's tree)"
                )
        if provided:
            await trio.to_thread.run_sync(_evict, self.root, _KEPT)
        return [target for target in targets if target not in provided]

    async def _build(
        self,
        package: NativePackage,
        entry: Path,
        build_apart: BuildApart,
        say: Say,
        option: str | None = None,
    ) -> None:
        """Builds ``package`` in a project of its own and keeps its binaries in ``entry``
        (or that it failed); ``option``: its build's, linking a library of this
        machine's."""
        staging = self.root / f"{_STAGING}{os.getpid()}-{next(_count)}"
        spec = f"{package.name}@{package.version}"
        linking = f" (linking this machine's library: {option})" if option else ""
        await say(
            f"{spec}: compiling its native code apart{linking}, kept for every app on this machine"
        )
        began = trio.current_time()
        try:
            await trio.to_thread.run_sync(_new_project, staging)
            await build_apart(
                ["npm", "install", "--no-progress", "--ignore-scripts", spec], staging, True
            )
            installed = staging / "node_modules" / package.name
            same = await trio.to_thread.run_sync(_integrity, staging, package.name)
            if same != package.integrity:
                await say(f"{spec}: the registry's tarball is not the app's: compiled in its tree")
                return  # nothing kept: the app's own install compiles it, as before
            rebuild = ["npm", "rebuild", f"./node_modules/{package.name}"]
            await build_apart([*rebuild, *([option] if option else [])], staging, False)
            kept = await trio.to_thread.run_sync(_keep, installed, entry)
            took = trio.current_time() - began
            if kept:
                await say(f"{spec}: compiled apart in {took:.0f} s")
        except BuildFailed:
            # Its reason is said once, by the app's own install scripts, which meet it too.
            await say(f"{spec}: its native code did not build apart, left to the app's own install")
            with contextlib.suppress(OSError):
                await trio.to_thread.run_sync(_mark_failed, entry)
        except OSError as error:  # a full disk: no cache, never a failed launch
            await say(f"{spec}: not kept ({error.strerror or error})")
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                await trio.to_thread.run_sync(shutil.rmtree, staging, True)


def _key(package: NativePackage, node: str, linked: str | None = None) -> str:
    """What a binary depends on: the package's tarball, the Node it is built for, the
    machine's architecture and C library (glibc's and musl's binaries differ), and the
    system library it links (``linked``: :meth:`SystemLibrary.identity`), if any."""
    libc = "-".join(platform.libc_ver())
    facts = [
        _FORMAT,
        package.name,
        package.version,
        package.integrity,
        node,
        platform.machine(),
        libc,
        *([linked] if linked else []),
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:40]


def _new_project(staging: Path) -> None:
    staging.mkdir(parents=True)
    manifest = {"name": "native-build", "version": "0.0.0", "private": True}
    (staging / "package.json").write_text(json.dumps(manifest))


def _integrity(staging: Path, name: str) -> str | None:
    """The integrity npm recorded of the package it installed in ``staging``."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        record = loads_bounded(read_no_follow(staging / "node_modules" / ".package-lock.json"))
        entry = record["packages"][f"node_modules/{name}"]
        return entry.get("integrity")
    return None


def _binaries(folder: Path) -> list[str]:
    """The ``.node`` files the package's build left in ``folder`` (its own, not its
    dependencies'), by their place in it; node-gyp's intermediate copies aside."""
    found = []
    for at, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in ("node_modules", "obj.target", ".deps")]
        found += [
            os.path.relpath(os.path.join(at, f), folder) for f in files if f.endswith(".node")
        ]
    return sorted(found)


def _keep(installed: Path, entry: Path) -> bool:
    """Keeps the binaries built in ``installed`` as ``entry`` (written aside, then renamed
    into place: a reader sees a whole entry or none). False where it built none."""
    binaries = _binaries(installed)
    if not binaries:
        return False
    aside = entry.with_name(f"{_STAGING}{entry.name}-{next(_count)}")
    shutil.rmtree(aside, ignore_errors=True)
    try:
        files = []
        for relative in binaries:
            target = aside / _FILES / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(installed / relative, target)
            files.append([relative, _sha256(target)])
        (aside / _ENTRY).write_text(json.dumps({"format": _FORMAT, "files": files}))
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(aside, entry)
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    return True


def _mark_failed(entry: Path) -> None:
    entry.mkdir(parents=True, exist_ok=True)
    (entry / _FAILED).touch()


def _kept(entry: Path) -> list[list[str]] | None:
    """The files an entry lists (path, SHA-256), [] where the package did not build
    apart, None where there is no entry."""
    if (entry / _FAILED).exists():
        return []
    try:
        listed = json.loads((entry / _ENTRY).read_text())
    except (OSError, ValueError):
        return None
    files = listed.get("files") if isinstance(listed, dict) else None
    if listed.get("format") != _FORMAT or not isinstance(files, list):
        return None
    return files


def _copy_into(entry: Path, folder: Path) -> bool:
    """Writes the entry's binaries into the package's ``folder`` after checking each
    against its hash (a changed entry is removed, and nothing copied). Blocking."""
    files = _kept(entry)
    if not files:
        return False
    for relative, digest in files:
        if not _safe(relative) or _sha256(entry / _FILES / relative) != digest:
            shutil.rmtree(entry, ignore_errors=True)
            return False
    try:
        for relative, _digest in files:
            target = folder / relative
            parent = target.parent
            parent.mkdir(parents=True, exist_ok=True)
            if not parent.resolve().is_relative_to(folder.resolve()):
                return False  # a link in the package's tree: nothing written through it
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            shutil.copyfile(entry / _FILES / relative, target)
            os.chmod(target, 0o755)
        os.utime(entry / _ENTRY)
    except OSError:
        return False
    return True


def _safe(relative: object) -> bool:
    return (
        isinstance(relative, str)
        and not os.path.isabs(relative)
        and ".." not in Path(relative).parts
    )


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as read:
            if os.fstat(read.fileno()).st_size > _MAX_BINARY:
                return None
            for block in iter(lambda: read.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _evict(root: Path, most: int) -> None:
    """Removes the least recently used entries beyond ``most``. Blocking."""
    with contextlib.suppress(OSError):
        entries = []
        for child in root.iterdir():
            if child.name.startswith("."):
                continue
            marker = child / _ENTRY if (child / _ENTRY).exists() else child / _FAILED
            with contextlib.suppress(OSError):
                entries.append((marker.stat().st_mtime, child))
        entries.sort(reverse=True)
        for _, child in entries[most:]:
            shutil.rmtree(child, ignore_errors=True)
