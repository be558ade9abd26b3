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
process's own. Blocking: call in a thread.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...logs import REVISION_DIRS
from ...sandbox.appdir import chown_tree, write_into

__all__ = ["REVISIONS_DIR", "revision_dir", "write_revision_dir"]

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
) -> int:
    """Write ``files`` into ``target`` (new), link the data of ``running_dir`` (what is
    there beside ``running_files``) into it; the number of entries linked. Run with the
    app's rights (``sandbox.appdir.as_owner``); a link the app put in ``.revisions``' place
    is removed first: the folder is the service's, within the preview's directory."""
    if target.parent.is_symlink():
        target.parent.unlink()
    target.mkdir(parents=True)
    write_into(target, files)
    linked = _link_data(running_dir, target, set(running_files), set(files), "")
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
