"""A preview's own directory on the host, and what its sandbox may read besides.

With a quota (the service is root and sandboxes previews), the directory is a tmpfs of
``PREVIEW_DISK_LIMIT_MB``: an app that fills it gets ENOSPC, never the host's disk. Its
pages are charged to the memory cgroup of whoever writes them (the app's, for what the
app writes), so the disk it uses also counts against its memory limit.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from pathlib import Path

from .bubblewrap import interpreter_dirs

__all__ = ["app_read_only", "chown_tree", "remove_tree", "write_files", "write_into"]

# mount(2) and umount2(2) themselves: the mount(8) program cost a fork and an exec
# (1.3-3 ms) on every launch's path and again at every stop.
_LIBC = ctypes.CDLL(None, use_errno=True)
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 0x2, 0x4, 0x2


def app_read_only(built: Path | None, python: str) -> tuple[Path, ...]:
    """What the app needs besides the system, read-only: its own environment (a venv or
    node_modules' home) and the interpreter it runs with (its venv, if it is one, and
    the installation behind it). Nothing of the service's own environment unless the
    app runs with it (``PREVIEW_BUILD=off``)."""
    paths = [built] if built is not None else []
    paths += interpreter_dirs(python)
    return tuple(dict.fromkeys(paths))


def write_files(
    root: Path, files: dict[str, bytes], quota_bytes: int | None = None, owner: int | None = None
) -> bool:
    """Make ``root`` (a tmpfs of ``quota_bytes`` when given and this process may mount
    one) and write ``files`` into it, ``owner``'s when given; whether the quota applies."""
    root.mkdir(parents=True, exist_ok=False)
    limited = quota_bytes is not None and _mount_tmpfs(root, quota_bytes)
    write_into(root, files)
    if owner is not None:
        chown_tree(root, owner)
    return limited


def write_into(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative paths) and an empty ``.tmp`` into the folder ``root``."""
    (root / ".tmp").mkdir()
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(content)
        except OSError as error:  # a write's error names no file: name the one it was
            raise OSError(error.errno, error.strerror, error.filename or str(target)) from error


def remove_tree(root: Path) -> None:
    """Remove a preview's directory (and everything under it), its tmpfs first. Blocking."""
    if root.exists():
        for mount in sorted(_mounts_under(root), reverse=True):
            _LIBC.umount2(os.fsencode(mount), _MNT_DETACH)
    shutil.rmtree(root, ignore_errors=True)


def _mount_tmpfs(root: Path, size: int) -> bool:
    if os.geteuid() != 0:
        return False
    options = f"size={size},mode=0755".encode()
    flags = _MS_NOSUID | _MS_NODEV
    return _LIBC.mount(b"preview-app", os.fsencode(root), b"tmpfs", flags, options) == 0


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    try:
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts]
    except OSError:
        return []
    # /proc/self/mounts escapes spaces as \040 (ours have none).
    return [p for p in points if p == prefix or p.startswith(prefix + "/")]


def chown_tree(root: Path, uid: int) -> None:
    """Give ``root`` and all below it to ``uid`` (the preview's). Blocking."""
    if os.stat(root).st_uid == uid:
        return  # made for this uid before (a shared cache): its entries are its own
    os.chown(root, uid, uid)
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.chown(os.path.join(directory, name), uid, uid, follow_symlinks=False)
