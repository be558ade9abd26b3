"""The files of :class:`~.build.EnvBuilder`'s cache: built environments, each a
directory with a marker written last, and the shared download caches beside them.
All blocking (call them in a thread), except :func:`set_aside`, one rename.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

from .depspec import NodeDeps

__all__ = [
    "DOWNLOAD_CACHES",
    "MARKER",
    "cached_envs",
    "fresh_dir",
    "remove_unfinished",
    "set_aside",
    "tree_size",
    "write_lock_project",
    "write_node_project",
]

MARKER = "preview-env.json"
DOWNLOAD_CACHES = (".uv-cache", ".npm-cache")  # shared by builds; removable when idle
_ASIDE = ".removing-"
_count = itertools.count()


def fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def write_lock_project(project: Path, lock: tuple[str, str]) -> None:
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(lock[0])
    (project / "uv.lock").write_text(lock[1])


def write_node_project(path: Path, deps: NodeDeps) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "package.json").write_bytes(deps.package_json)
    if deps.lockfile is not None:
        (path / deps.lockfile[0]).write_bytes(deps.lockfile[1])


def remove_unfinished(root: Path) -> None:
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if entry.name.startswith(_ASIDE) or (
            not entry.name.startswith(".") and not (entry / MARKER).exists()
        ):
            shutil.rmtree(entry, ignore_errors=True)


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
