"""What a test reads of mounts and mount namespaces (``/proc``): whether a folder, or
any below it, is mounted in a process's namespace, and whether a namespace still has a
process (the kernel ends it, and its mounts, with its last one)."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

__all__ = [
    "PREVIEW_TMPFS",
    "boot_ticks",
    "mounted_under",
    "namespace_of",
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


def boot_ticks() -> int:
    """Now, in the clock ticks since boot that a process's start time is given in."""
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return int(uptime * os.sysconf("SC_CLK_TCK"))


def processes_in_namespace(
    inode: int, *, started_by: int | None = None, besides: Collection[int] = ()
) -> list[str]:
    """The processes in the mount namespace ``inode`` (pid and command line): the kernel
    ends a namespace, and unmounts what is in it, with its last. ``started_by``
    (:func:`boot_ticks`): only those started by then, when the namespace was known to be
    there: the kernel gives an ended namespace's inode to the next one made (another
    test's sandbox, beside this one, was counted in a killed service's). ``besides``:
    processes known to be another's, left out — a process started before can enter a
    namespace made later, whose inode is then the ended one's (a cluster test's other
    node, which makes its own when it first needs it, was counted in the killed node's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in besides:
            try:
                if started_by is not None and _started(entry) > started_by:
                    continue
                if namespace_of(entry.name) == inode:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                    found.append(f"{entry.name}: {command.decode(errors='replace')[:200]}")
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return found


def _started(process: Path) -> int:
    """The process's start time, in clock ticks since boot (``/proc/<pid>/stat``'s 22nd)."""
    stat = (process / "stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[19])
