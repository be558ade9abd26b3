"""The data dir's one service (:func:`hold_data_dir`) and what a killed one left there
(:func:`remove_leftovers`).

A service's start reconciles as if it were the data dir's only user: it closes out the
rows of previews left active, kills their process groups, removes the previews' run
directory and their cgroups. A second service started on the same data dir (``./dev
serve`` twice, a process manager starting the new one before the old one is gone) would
do that to the previews the first one still runs. So the data dir is held with an
exclusive ``flock`` for the service's life: the kernel drops it when the process dies,
however it dies, so a restart after a SIGKILL is never refused.

Work that is written aside and renamed into place (a snapshot, a database server's
template) leaves its draft behind when the service is killed in between; nothing
would ever remove it. Drafts are named with the prefixes and suffixes below, and a
service holding the data dir removes them at start, when no draft can be in progress.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

__all__ = [
    "DATA_INIT_DIR",
    "DATA_INIT_DRAFT_PREFIX",
    "LOCK_FILE",
    "MARIADB_DRAFT_PREFIX",
    "POSTGRES_DRAFT_PREFIX",
    "SNAPSHOT_DRAFT_SUFFIX",
    "SNAPSHOT_FETCHED_DIR",
    "DataDirInUse",
    "hold_data_dir",
    "release_data_dir",
    "remove_leftovers",
]

LOCK_FILE = "service.lock"
MARIADB_DRAFT_PREFIX = ".mariadb-template-"  # in the data dir (backing.servers.mysql)
POSTGRES_DRAFT_PREFIX = "making-"  # in <data dir>/postgres (backing.pgprivate)
SNAPSHOT_DRAFT_SUFFIX = ".partial"  # in <data dir>/snapshots/<generation> (snapshots)
# In <data dir>/snapshots: copies of other nodes' snapshots, each for one operation.
SNAPSHOT_FETCHED_DIR = ".fetched"
# The data a launch's data steps made, kept for the next (snapshots.datainit): in
# <data dir>/data-init/<generation>/<key>, each written beside its place first.
DATA_INIT_DIR = "data-init"
DATA_INIT_DRAFT_PREFIX = ".staging-"

# Held by this process: {data dir's real path: [descriptor, holders]}. Several apps of one
# process (a test's restarted service, an embedding host's) share one hold: flock
# refuses a second descriptor of the same process as it refuses another process.
_held: dict[str, list[int]] = {}


class DataDirInUse(RuntimeError):
    """Another process serves from this data dir."""


def hold_data_dir(data_dir: Path) -> None:
    """Hold ``data_dir`` for this process until :func:`release_data_dir`'s matching call
    (or the process's end); :class:`DataDirInUse` if another process holds it."""
    key = os.path.realpath(data_dir)
    held = _held.get(key)
    if held is not None:
        held[1] += 1
        return
    # O_CLOEXEC (os.open's default): no child (a preview, a build) inherits the lock and
    # keeps it past the service's death.
    fd = os.open(os.path.join(key, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise DataDirInUse(
            f"another preview service (pid {holder or 'unknown'}) serves from the data dir"
            f" {data_dir}; stop it first, or give this one its own PREVIEW_DATA_DIR"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = [fd, 1]


def release_data_dir(data_dir: Path) -> None:
    """One holder fewer; the last one lets the data dir go."""
    key = os.path.realpath(data_dir)
    held = _held.get(key)
    if held is None:
        return
    held[1] -= 1
    if held[1] <= 0:
        del _held[key]
        os.close(held[0])  # drops the flock


def remove_leftovers(data_dir: Path) -> list[str]:
    """Remove the drafts a killed service left (module doc); blocking. Only while
    holding the data dir, before any work that makes drafts starts. Their names,
    relative to the data dir."""
    found = list(data_dir.glob(MARIADB_DRAFT_PREFIX + "*"))
    found += (data_dir / "postgres").glob(POSTGRES_DRAFT_PREFIX + "*")
    found += (data_dir / "snapshots").glob(f"*/.*{SNAPSHOT_DRAFT_SUFFIX}")
    found += (data_dir / "snapshots" / SNAPSHOT_FETCHED_DIR).glob("*")
    found += (data_dir / DATA_INIT_DIR).glob(f"*/{DATA_INIT_DRAFT_PREFIX}*")
    removed = []
    for path in found:
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(str(path.relative_to(data_dir)))
    return removed
