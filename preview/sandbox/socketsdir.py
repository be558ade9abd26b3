"""Where the service's Unix sockets are: ``Settings.sockets_dir``, checked and made at
start.

A socket's path holds at most ``UNIX_SOCKET_PATH_MAX`` bytes: a socket under a long run
dir could not be bound (the egress proxy's, every launch that built failed, "AF_UNIX
path too long"), nor could PostgreSQL's, socat's or Redis's. Every socket the service
makes or has a server make is under ``sockets_dir``: ``.sockets`` in the previews'
directory, or a directory of the service's own in the temp dir when that is too long.
:func:`sockets_dir_problem` says at start why neither will do; :func:`make_sockets_dir`
makes it afresh (what a previous run left there is an orphan). The names the sandboxed
app sees (``/run/preview``, ``/run/egress``, ``/run/services``) are the same either way.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from ..settings import SOCKET_NAMES_MAX, UNIX_SOCKET_PATH_MAX, Settings
from .appdir import remove_tree
from .bubblewrap import untraversable_parent

__all__ = ["make_sockets_dir", "remove_sockets_dir", "sockets_dir_problem"]

# The longest run dir whose ``.sockets`` is short enough, and the longest temp dir for
# the directory of the service's own (``preview-<12 hex>-sockets``).
_RUN_DIR_MAX = UNIX_SOCKET_PATH_MAX - SOCKET_NAMES_MAX - len("/.sockets")
_TEMP_DIR_MAX = UNIX_SOCKET_PATH_MAX - SOCKET_NAMES_MAX - len("/preview-0123456789ab-sockets")


def _apart(settings: Settings) -> bool:
    """Whether its sockets are in a directory of their own, outside the previews'."""
    return settings.previews_dir not in settings.sockets_dir.parents


def sockets_dir_problem(settings: Settings) -> str | None:
    """Why the service's sockets could not be made (one line, said at start), else None:
    their paths too long even in the temp dir, a directory of theirs that is not the
    service's own, one the previews' own uids (run as root) could not traverse."""
    sockets = settings.sockets_dir
    where = (
        f"PREVIEW_RUN_DIR {settings.previews_dir}"
        if settings.run_dir
        else f"the previews' directory {settings.previews_dir}"
    )
    longest = len(os.fsencode(sockets)) + SOCKET_NAMES_MAX
    if longest > UNIX_SOCKET_PATH_MAX:
        return (
            f"{where} is too long for the previews' Unix sockets below it (a socket's path"
            f" holds at most {UNIX_SOCKET_PATH_MAX} bytes), and so is the temp dir (TMPDIR"
            f" {tempfile.gettempdir()}) where they would go instead: choose a"
            f" PREVIEW_RUN_DIR of at most {_RUN_DIR_MAX} bytes, or a TMPDIR of at most"
            f" {_TEMP_DIR_MAX}"
        )
    if not _apart(settings):
        return None  # checked with the previews' directory (runtime.previews_dir_problem)
    if os.path.lexists(sockets) and not _own_dir(sockets):
        return (
            f"{where} is too long for the previews' Unix sockets below it, and {sockets},"
            " where they go instead, is not a directory of the service's own: remove it,"
            f" or choose a PREVIEW_RUN_DIR of at most {_RUN_DIR_MAX} bytes"
        )
    parent = untraversable_parent(sockets) if os.geteuid() == 0 else None
    if parent is not None:
        mode = stat.S_IMODE(os.stat(parent).st_mode)
        return (
            f"{where} is too long for the previews' Unix sockets below it, and {sockets},"
            f" where they go instead, is under {parent} (mode {mode:04o}), which the"
            f" previews' own users may not traverse: choose a PREVIEW_RUN_DIR of at most"
            f" {_RUN_DIR_MAX} bytes or another TMPDIR, or allow it (chmod o+x {parent})"
        )
    return None


def make_sockets_dir(settings: Settings) -> Path:
    """Make ``settings.sockets_dir`` afresh, traversable but not listable (each sandboxed
    uid reaches its own sockets only); no preview runs yet. Blocking; after
    :func:`sockets_dir_problem` found nothing wrong."""
    sockets = settings.sockets_dir
    if _apart(settings):
        remove_tree(sockets)  # a previous run's
        sockets.mkdir(mode=0o711)  # not exist_ok: made meanwhile by another, refused
    else:
        sockets.mkdir(mode=0o711, exist_ok=True)
    sockets.chmod(0o711)  # whatever the umask
    return sockets


def remove_sockets_dir(settings: Settings) -> None:
    """Remove the directory of its own (the previews' directory's removal takes
    ``.sockets``); no preview runs any more. Blocking."""
    if _apart(settings) and _own_dir(settings.sockets_dir):
        remove_tree(settings.sockets_dir)


def _own_dir(path: Path) -> bool:
    """Whether ``path`` is a directory (not a link to one) of this process's user."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid()
