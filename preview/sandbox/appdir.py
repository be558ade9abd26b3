"""A preview's own directory on the host, and what its sandbox may read besides; the
service's own work there done with the app's rights (:func:`as_owner`).

With a quota (the service is root and sandboxes previews), the directory is a tmpfs of
``PREVIEW_DISK_LIMIT_MB``: an app that fills it gets ENOSPC, never the host's disk. Its
pages are charged to the memory cgroup of whoever writes them (the app's, for what the
app writes), so the disk it uses also counts against its memory limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import posixpath
import shutil
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from ..logs.hostpaths import REVISION_DIRS
from .bubblewrap import interpreter_dirs

__all__ = [
    "app_read_only",
    "as_owner",
    "chown_tree",
    "link_beneath",
    "make_bounded_dir",
    "mounts_die_with_this_process",
    "open_dir",
    "open_plain",
    "owned_by_app",
    "read_no_follow",
    "remove_tree",
    "replace_file",
    "run_as_owner",
    "runs_as_program",
    "unlink_beneath",
    "write_beneath",
    "write_files",
    "write_into",
]

_log = logging.getLogger(__name__)
# mount(2) and umount2(2) themselves: the mount(8) program cost a fork and an exec
# (1.3-3 ms) on every launch's path and again at every stop.
_LIBC = ctypes.CDLL(None, use_errno=True)
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 0x2, 0x4, 0x2
_MS_REC, _MS_SLAVE, _CLONE_NEWNS = 0x4000, 0x80000, 0x20000


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


# The temporary folder's own package.json (a Node upload's): TMPDIR is ``.tmp`` beneath
# the app, and Node reads the nearest package.json's ``type`` for a ``.js`` file; where the
# app's says ``module``, a tool's CommonJS file written there was loaded as an ES module
# (lanzath's express-mysql-api: ts-node-dev's hook, "require is not defined in ES module
# scope"). A system's /tmp is under no package.json: CommonJS, as this one says.
TMP_PACKAGE = b'{"type": "commonjs"}\n'


def write_into(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative paths) and an empty ``.tmp`` into the folder ``root``
    (for a Node upload, holding :data:`TMP_PACKAGE` alone); a script executable
    (:func:`runs_as_program`)."""
    (root / ".tmp").mkdir()
    if any(posixpath.basename(relative) == "package.json" for relative in files):
        (root / ".tmp" / "package.json").write_bytes(TMP_PACKAGE)
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(content)
            if runs_as_program(relative, content):
                target.chmod(0o755)
        except OSError as error:  # a write's error names no file: name the one it was
            raise OSError(error.errno, error.strerror, error.filename or str(target)) from error


def runs_as_program(relative: str, content: bytes) -> bool:
    """Whether a file of the upload is a script to run as a program: a ``.sh`` file or
    one starting with ``#!``. An upload holds no file modes, and a repository's scripts
    are committed executable: Kuatsu's Dockerfile runs ``./docker_run_env.sh``,
    zombiQWERTY's ``compile`` script ``./bin/start/compile.sh`` (both "Permission
    denied", exit 126)."""
    return relative.endswith(".sh") or content.startswith(b"#!")


def mounts_die_with_this_process() -> bool:
    """Move this process, before it has a second thread, into a mount namespace of its
    own, whose mounts reach no other namespace (a slave of the host's: what the host
    mounts later still reaches it). Whether it moved: only root may, and only while it
    is one thread (a thread's namespace is its own; later threads take their creator's).

    Why: the tmpfs directories of its previews (and of their private servers) are then
    mounted in that namespace, which ends with its last process. A service killed at
    once (SIGKILL, the OOM killer, a cluster node lost) takes its previews with it (their
    parent-death signal), and with them the namespace and every tmpfs in it; in the
    host's namespace they stayed mounted, their memory held, until that service started
    again on that machine, and for ever on a machine it never came back to. A kernel
    that refuses (no CAP_SYS_ADMIN in a container, a seccomp profile) changes nothing."""
    if os.geteuid() != 0 or not _one_thread():
        return False
    host = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _LIBC.unshare(_CLONE_NEWNS) != 0:
            return False
        # Mounts are shared with the host's namespace where systemd made / shared: ours
        # would appear there too. A slave takes the host's and gives none back.
        if _LIBC.mount(b"none", b"/", None, _MS_REC | _MS_SLAVE, None) == 0:
            return True
        _LIBC.setns(host, _CLONE_NEWNS)  # back where it was: nothing half-done
        return False
    finally:
        os.close(host)


def _one_thread() -> bool:
    # Python's threads, and any a library's C code started (/proc counts those too).
    return threading.active_count() == 1 and len(os.listdir("/proc/self/task")) == 1


def remove_tree(root: Path) -> None:
    """Remove a preview's directory (and everything under it), its tmpfs first. Blocking.
    A mount that stays (its memory held until the machine restarts) is logged, with why."""
    failed: list[str] = []
    if root.exists():
        for mount in sorted(_mounts_under(root), reverse=True):
            if _LIBC.umount2(os.fsencode(mount), _MNT_DETACH) != 0:
                failed.append(f"{mount}: {os.strerror(ctypes.get_errno())}")
    shutil.rmtree(root, ignore_errors=True)
    if failed or (root.exists() and _mounts_under(root)):
        _log.warning("a tmpfs stayed mounted under %s: %s", root, failed or _mounts_under(root))


def make_bounded_dir(root: Path, size: int, inodes: int) -> bool:
    """Make ``root`` a tmpfs of ``size`` bytes and ``inodes`` files where this process
    may mount one (root): a folder sandboxed code writes into that must not fill the
    host's disk. Blocking; :func:`remove_tree` removes it. Whether it is bounded."""
    root.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(root):
        return True
    return _mount_tmpfs(root, size, inodes)


def _mount_tmpfs(root: Path, size: int, inodes: int | None = None) -> bool:
    if os.geteuid() != 0:
        return False
    options = f"size={size},mode=0755".encode()
    if inodes is not None:
        options += b",nr_inodes=%d" % inodes
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


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def open_dir(path: Path, anchors: Sequence[Path] = ()) -> int:
    """A descriptor of the directory ``path``, no link followed below the first of
    ``anchors`` it lies in (the service's own directories: the previews', the built
    environments'). What is below them sandboxed code writes, and may make a link to
    any directory of the host in a directory's place (a set-up step's ``backend``, a
    revision's ``.revisions/3.1``): such a path is refused (OSError: ELOOP, ENOTDIR)."""
    text = os.path.abspath(path)
    base = next((a for a in map(os.path.abspath, anchors) if _within(text, a)), None)
    if base is None:
        return os.open(text, _DIR)
    fd = os.open(base, _DIR)
    try:
        for part in Path(text[len(base) :].lstrip(os.sep)).parts:
            fd, parent = os.open(part, _DIR | os.O_NOFOLLOW, dir_fd=fd), fd
            os.close(parent)
    except BaseException:
        os.close(fd)
        raise
    return fd


def link_beneath(directory: Path, name: str, target: Path, anchors: Sequence[Path]) -> None:
    """A link ``name`` to ``target`` made in ``directory``, reached as :func:`open_dir`
    reaches it. Blocking."""
    fd = open_dir(directory, anchors)
    try:
        os.symlink(target, name, dir_fd=fd)
    finally:
        os.close(fd)


def unlink_beneath(directory: Path, name: str, anchors: Sequence[Path]) -> None:
    """The entry ``name`` (a link, a file, a folder with all it holds) of ``directory``
    removed, if there, reached as :func:`open_dir` reaches it; never through a link.
    Blocking.

    A folder where the service left a link is the app's own doing: a start script's
    ``npm i`` replaces node_modules' link to the shared environment with a folder of its
    own ("Removing non-directory node_modules"), and the next plan links it again."""
    fd = open_dir(directory, anchors)
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        shutil.rmtree(name, dir_fd=fd)  # (by descriptors: links inside are not followed)
    finally:
        os.close(fd)


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def chown_tree(root: Path, uid: int, anchors: Sequence[Path] = ()) -> None:
    """Give ``root`` and all below it to ``uid`` (the preview's), never through a link
    (``root`` reached as :func:`open_dir` reaches it, the rest walked by descriptors,
    each link's own owner changed, not its target's). Blocking."""
    fd = open_dir(root, anchors)
    try:
        if os.fstat(fd).st_uid == uid:
            return  # made for this uid before (a shared cache): its entries are its own
        os.fchown(fd, uid, uid)
        for _, dirs, files, where in os.fwalk(".", dir_fd=fd, follow_symlinks=False):
            for name in (*dirs, *files):
                os.chown(name, uid, uid, dir_fd=where, follow_symlinks=False)
    finally:
        os.close(fd)


# -- the service's work in it, with the app's rights --------------------------------
# Host-side work in a preview's own directory, done with its owner's rights:
# :func:`as_owner`.
#
# The service is root; a sandboxed app owns its directory and may put a symbolic link
# anywhere in it: to ``/etc/cron.d``, to the service's data dir, its secret, its database.
# What the service does there from the host (a snapshot read or written back, a
# revision's code written, a settings file made after the app's set-up steps ran)
# follows such a link as the kernel resolves it, and as root it may write or read
# anything. Done as the directory's owner instead, a link leads only where that uid may
# go on the host: not into the data dir (``0700``), nor into any root's file; the files
# made meanwhile are the app's own, as if it had made them.
#
# The rights are the calling thread's alone: its filesystem uid and gid (setfsuid(2),
# setfsgid(2)) and its supplementary groups dropped by the raw system call (the C
# library's ``setgroups`` changes every thread of the process). So the work runs in a
# worker thread (``trio.to_thread``), and the thread's own rights come back after it.
# Where the service is not root, or the directory is root's (an app not sandboxed, run
# with the service's rights anyway), nothing changes.

_T = TypeVar("_T")
# setgroups(2) by number: the C library's wrapper sets every thread's groups.
_SETGROUPS = {"x86_64": 116, "aarch64": 159, "ppc64le": 81, "s390x": 206}.get(os.uname().machine)
_GID_ARRAY = ctypes.c_uint * 64


def write_beneath(directory: Path, relative: str, content: bytes) -> None:
    """Write ``content`` to ``relative`` under ``directory`` (a preview's, or a
    revision's in it) never through a link the app made: from the preview's directory
    down, each directory opened without following one (made where absent), the file
    replaced (a link in its place removed, not followed); the preview directory's
    owner's, like the app's own files. Blocking."""
    home = _home(directory)
    owner = os.lstat(home)
    steps = [*directory.relative_to(home).parts, *Path(relative).parent.parts]
    opened = [os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)]
    try:
        for part in steps:
            try:
                os.mkdir(part, 0o755, dir_fd=opened[-1])
                os.chown(part, owner.st_uid, owner.st_gid, dir_fd=opened[-1], follow_symlinks=False)
            except FileExistsError:
                pass
            opened.append(
                os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=opened[-1])
            )
        name = Path(relative).name
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=opened[-1])
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with open(os.open(name, flags, 0o644, dir_fd=opened[-1]), "wb") as file:
            os.fchown(file.fileno(), owner.st_uid, owner.st_gid)
            file.write(content)
    finally:
        for fd in opened:
            os.close(fd)


def replace_file(path: Path, content: bytes) -> None:
    """Write ``path`` whole, never through a link in its place: written beside it (a new
    name, made here), then renamed over it (which replaces a link, not its target). For
    a folder where sandboxed code ran (a build's), the folder itself the service's."""
    staged = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with open(os.open(staged, flags, 0o644), "wb") as file:
        file.write(content)
    os.replace(staged, path)


_MOST_READ = 64 << 20


def open_plain(path: Path, *, follow_links: bool = True) -> BinaryIO:
    """``path`` opened to read where it is a plain file, where sandboxed code may have
    put anything: OSError (EINVAL) for anything else (a FIFO, which a read would wait on
    for ever, in a thread nothing cancels), (ELOOP) for a link unless ``follow_links``."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    file = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        file.close()
        raise OSError(errno.EINVAL, "not a plain file", str(path))
    return file


def read_no_follow(path: Path, most: int = _MOST_READ) -> bytes:
    """``path``'s bytes, where sandboxed code may have put anything: OSError (ELOOP) if
    it is a link, (EINVAL) if it is no plain file (:func:`open_plain`), (EFBIG) past
    ``most`` bytes."""
    with open_plain(path, follow_links=False) as file:
        data = file.read(most + 1)
    if len(data) > most:
        raise OSError(errno.EFBIG, f"larger than {most} bytes", str(path))
    return data


def _home(directory: Path) -> Path:
    """The preview's directory ``directory`` is (or a revision's ``.revisions/<n>`` is
    in), read from the path alone."""
    parts = directory.parts
    return Path(*parts[: parts.index(REVISION_DIRS)]) if REVISION_DIRS in parts else directory


def owned_by_app(directory: Path) -> os.stat_result | None:
    """The owner of the preview's directory ``directory`` is in (itself, or the one a
    revision's ``.revisions/<n>`` is in: read from the path, never through a link the
    app made) when work there should be done with its rights: a uid of an app, the
    service being root; None when nothing would change. PermissionError if that
    directory is not one (a link in its place)."""
    if os.geteuid() != 0:
        return None
    home = _home(directory)
    owner = os.lstat(home)
    if not stat.S_ISDIR(owner.st_mode):
        raise PermissionError(f"not a preview's directory: {home.name}")
    return owner if owner.st_uid != 0 else None


@contextmanager
def as_owner(directory: Path) -> Iterator[None]:
    """This thread's file access with the rights of ``directory``'s owner (module doc)."""
    owner = owned_by_app(directory)
    if owner is None:
        yield
        return
    groups = os.getgroups()
    _set_groups([])
    try:
        _setfs(owner.st_uid, owner.st_gid)
        try:
            yield
        finally:
            _setfs(0, 0)
    finally:
        _set_groups(groups)


def run_as_owner(directory: Path, function: Callable[..., _T], *args: Any) -> _T:
    """``function(*args)`` :func:`as_owner` of ``directory`` (for ``trio.to_thread``)."""
    with as_owner(directory):
        return function(*args)


def _setfs(uid: int, gid: int) -> None:
    """Set this thread's filesystem ids, and check them: setfsuid(2) reports no error."""
    if uid == 0:  # back to root: the uid first, whose rights set the gid
        _LIBC.setfsuid(uid)
        _LIBC.setfsgid(gid)
    else:
        _LIBC.setfsgid(gid)
        _LIBC.setfsuid(uid)
    if _LIBC.setfsuid(-1) != uid or _LIBC.setfsgid(-1) != gid:
        raise PermissionError(f"this thread's filesystem ids could not be set to {uid}:{gid}")


def _set_groups(groups: list[int]) -> None:
    if _SETGROUPS is None:  # an architecture not listed: the groups stay root's
        return
    array = _GID_ARRAY(*groups[:64])
    if _LIBC.syscall(_SETGROUPS, len(groups[:64]), array) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setgroups: {os.strerror(error)}")
