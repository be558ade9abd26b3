"""Where a revision applied live runs: a directory of its own, its data shared.

The running process must go on reading its own revision's files until it is replaced
(a template, a ``version.txt``, a module imported late), so a new revision is never
written over the running one's files: it gets a fresh directory, ``.revisions/<n>``
under the preview's own (on the same tmpfs, so within the same disk quota, and removed
with it). What the app made itself beside its files (its SQLite file, uploads, a
cache) is data, not code: each such entry of the running revision's directory is linked
into the new one (a symbolic link to where it really is), so both processes read and
write the same files. SQLite follows such a link and keeps its journal and WAL beside
the real file, so two processes on the two paths share one database safely. The
environment's ``node_modules`` link is the preparation's to make, and ``.tmp`` is each
process's own. A built frontend's output folder (``apps.frontend``) is code, not data:
never linked (a build in the new directory wrote through the link into the running
revision's pages); when the frontend's sources did not change it is copied instead
(:func:`copy_built_frontend`), else built again there. Blocking: call in a thread.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from ...apps.frontend import Frontend
from ...logs import REVISION_DIRS
from ...sandbox.appdir import chown_tree, open_dir, write_into

__all__ = [
    "REVISIONS_DIR",
    "copy_built_frontend",
    "frontend_unchanged",
    "revision_dir",
    "write_revision_dir",
]

REVISIONS_DIR = REVISION_DIRS  # (the name snapshots' tests know it by)
_OWN = {".tmp", REVISIONS_DIR, "node_modules"}  # a process's own, never shared


def revision_dir(home: Path, number: int, attempt: int) -> Path:
    """The directory of revision ``number`` (its ``attempt``-th application: a revision
    applied again after a failure gets a fresh one)."""
    return home / REVISIONS_DIR / f"{number}.{attempt}"  # (HostPaths shows it as the app's)


def write_revision_dir(
    target: Path,
    files: dict[str, bytes],
    running_dir: Path,
    running_files: dict[str, bytes],
    owner: int | None,
    built: str | None = None,
) -> int:
    """Write ``files`` into ``target`` (new), link the data of ``running_dir`` (what is
    there beside ``running_files``, but the frontend's output folder ``built``) into it;
    the number of entries linked. Run with the app's rights (``sandbox.appdir.as_owner``);
    a link the app put in ``.revisions``' place is removed first: the folder is the
    service's, within the preview's directory."""
    if target.parent.is_symlink():
        target.parent.unlink()
    target.mkdir(parents=True)
    write_into(target, files)
    code = set(running_files) | ({built} if built else set())
    linked = _link_data(running_dir, target, code, set(files), "")
    if owner is not None:
        chown_tree(target, owner)
    return linked


def _link_data(source: Path, target: Path, old: set[str], new: set[str], prefix: str) -> int:
    """Link each entry under ``source`` that is no file of either tree (data the app
    made): a directory holding none of their files whole, else entry by entry."""
    linked = 0
    try:
        entries = list(os.scandir(source))
    except OSError:
        return 0
    for entry in entries:
        relative = prefix + entry.name
        if not prefix and entry.name in _OWN:
            continue
        if relative in old or relative in new:
            continue  # code: the new revision's own (or deleted by it)
        inside = relative + "/"
        holds_code = any(p.startswith(inside) for p in old | new)
        if entry.is_dir(follow_symlinks=False) and holds_code:
            (target / relative).mkdir(parents=True, exist_ok=True)
            linked += _link_data(Path(entry.path), target, old, new, inside)
            continue
        # To where it really is: links never chain from revision to revision.
        where = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
        link = target / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(where, link)
        linked += 1
    return linked


def frontend_unchanged(
    frontend: Frontend, files: dict[str, bytes], running: dict[str, bytes]
) -> bool:
    """Whether ``frontend``'s sources are the same in ``files`` as in ``running``: every
    file under its folder but its ``node_modules`` and output folder (at the upload's
    root, the Python sources too: no bundler reads them, and a backend's change must not
    cost a frontend build)."""
    prefix = f"{frontend.folder}/" if frontend.folder else ""
    skipped = (f"{prefix}node_modules/", f"{frontend.output}/")

    def source(path: str) -> bool:
        if not path.startswith(prefix) or path.startswith(skipped):
            return False
        return bool(prefix) or not path.endswith(".py")

    mine = {path: data for path, data in files.items() if source(path)}
    return mine == {path: data for path, data in running.items() if source(path)}


def copy_built_frontend(
    running_dir: Path,
    target: Path,
    output: str,
    anchors: Sequence[Path],
    owner: int | None,
    most_bytes: int,
) -> int:
    """The built ``output`` folder of ``running_dir`` copied into ``target``'s (absent:
    :func:`write_revision_dir` links it not), given to ``owner``; the number of files
    copied (0: none was built there). Both directories are the app's to change: nothing
    in them is followed (each folder opened as ``open_dir`` opens it, below
    ``anchors``, or made and opened by descriptor; a link, or anything but a folder or a
    regular file, is left out; with an ``owner``, so is what is not its: a hard link to
    another's file), so it runs with the service's rights (the previews' folder is
    closed to the app's). The app may have put anything there, and the service's writes
    are charged to the service, not the app: past ``most_bytes`` (files' sizes, a
    sparse file's whole length) or :data:`MOST_ENTRIES` files and folders it stops,
    OSError (EFBIG), nothing of it left."""
    try:
        source = open_dir(running_dir / output, anchors)
    except OSError:  # none there (its build failed), or a link in its place
        return 0
    *parents, name = Path(output).parts
    into = None
    try:
        into = open_dir(target, anchors)
        for part in (*parents, name):
            if part == name or not _is_dir(part, into):
                os.mkdir(part, 0o755, dir_fd=into)  # (the output: absent, never linked)
            into, parent = os.open(part, _DIR_NO_LINK, dir_fd=into), into
            os.close(parent)
        copied = _copy_entries(source, into, _Budget(most_bytes, owner))
    except OSError:  # (the disk full): no half-copied pages taken for built ones
        if into is not None:
            os.close(into)
            into = None
            _remove_output(target, output, anchors)
        raise
    finally:
        os.close(source)
        if into is not None:
            os.close(into)
    if owner is not None:
        chown_tree(target / output, owner, anchors)
    return copied


_DIR_NO_LINK = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MOST_DEPTH = 32  # folders below a built output copied, at most
MOST_ENTRIES = 20_000  # files and folders of a built output copied, at most


class _Budget:
    """What a copy may still write: bytes and entries, and whose files it copies."""

    def __init__(self, most_bytes: int, owner: int | None) -> None:
        self.bytes, self.entries, self.owner = most_bytes, MOST_ENTRIES, owner

    def include(self, size: int, status: os.stat_result) -> bool:
        """Count an entry of ``size`` bytes (``status`` its own): False when it is not
        the owner's (left out); OSError (EFBIG) past the budget."""
        if self.owner is not None and status.st_uid != self.owner:
            return False
        self.entries -= 1
        self.bytes -= size
        if self.entries < 0:
            raise OSError(errno.EFBIG, f"more than {MOST_ENTRIES} files and folders")
        if self.bytes < 0:
            raise OSError(errno.EFBIG, "larger than the preview's disk limit")
        return True


def _is_dir(name: str, parent: int) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _remove_output(target: Path, output: str, anchors: Sequence[Path]) -> None:
    """What was copied of ``output`` removed, its parent reached without a link."""
    try:
        parent = open_dir((target / output).parent, anchors)
    except OSError:
        return
    try:
        shutil.rmtree(Path(output).name, dir_fd=parent, ignore_errors=True)
    finally:
        os.close(parent)


def _copy_entries(source: int, target: int, budget: _Budget, depth: int = 0) -> int:
    if depth > _MOST_DEPTH:  # the app's folders, nested past any build's: not built ones
        raise OSError(errno.ELOOP, "folders nested too deep")
    copied = 0
    with os.scandir(source) as scanned:  # (of a copy of the descriptor)
        entries = list(scanned)
    for entry in entries:
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            inner = os.open(entry.name, _DIR_NO_LINK, dir_fd=source)
            try:
                if not budget.include(0, os.fstat(inner)):
                    continue
                os.mkdir(entry.name, 0o755, dir_fd=target)
                made = os.open(entry.name, _DIR_NO_LINK, dir_fd=target)
                try:
                    copied += _copy_entries(inner, made, budget, depth + 1)
                finally:
                    os.close(made)
            finally:
                os.close(inner)
        elif stat.S_ISREG(mode):
            # Non-blocking: a FIFO put in a file's place since the scan does not hold us.
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            read = os.open(entry.name, flags, dir_fd=source)
            try:
                status = os.fstat(read)
                if not stat.S_ISREG(status.st_mode) or not budget.include(status.st_size, status):
                    continue
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                write = os.open(entry.name, flags, 0o644, dir_fd=target)
                try:
                    left = status.st_size  # (not to its end: it may grow meanwhile)
                    while left > 0 and (sent := os.sendfile(write, read, None, min(left, 1 << 20))):
                        left -= sent
                finally:
                    os.close(write)
            finally:
                os.close(read)
            copied += 1
    return copied
