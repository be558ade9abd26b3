"""What a test reads of mounts and mount namespaces (``/proc``): whether a folder, or
any below it, is mounted in a process's namespace, and whether a namespace still has a
process (the kernel ends it, and its mounts, with its last one)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "PREVIEW_TMPFS",
    "mounted_under",
    "namespace_of",
    "pinned_namespace",
    "processes_in_namespace",
]

PREVIEW_TMPFS = "preview-app"  # the source the service names its tmpfs by (sandbox.appdir)


def mounted_under(pid: int | str, folder: Path | None, source: str | None = None) -> list[str]:
    """The mount points at or below ``folder`` (anywhere: None) in the namespace of
    process ``pid`` (``"self"``: this one), of ``source`` only when given."""
    found = []
    for line in Path(f"/proc/{pid}/mounts").read_text().splitlines():
        mounted, point = line.split()[:2]
        if source is not None and mounted != source:
            continue
        if folder is None or point == str(folder) or point.startswith(f"{folder}/"):
            found.append(point)
    return found


def namespace_of(pid: int | str) -> int:
    """The mount namespace of process ``pid``, as the inode its ``ns/mnt`` names."""
    return Path(f"/proc/{pid}/ns/mnt").stat().st_ino


@contextlib.contextmanager
def pinned_namespace(pid: int | str) -> Iterator[int]:
    """The mount namespace of process ``pid`` (its inode), held open for the block.

    The kernel gives an ended namespace's inode number to the next one made (another
    test's sandbox, or a cluster test's other node making its own, was counted in a killed
    service's). An open ``ns/mnt`` keeps the namespace, and so its number, from being
    reused: while it is held, :func:`processes_in_namespace` of the number counts that
    namespace's processes and no other's. (It also keeps the namespace's mounts: what
    ends it then is the block's end, the test having seen none of its processes left.)"""
    descriptor = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        yield os.fstat(descriptor).st_ino
    finally:
        os.close(descriptor)


def processes_in_namespace(inode: int) -> list[str]:
    """The processes in the mount namespace ``inode`` (pid and command line): the kernel
    ends a namespace, and unmounts what is in it, with its last. Exact only while the
    namespace is pinned (:func:`pinned_namespace`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if namespace_of(entry.name) == inode:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                    found.append(f"{entry.name}: {command.decode(errors='replace')[:200]}")
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return found
