"""Child processes: spawn in a new process group with limits, terminate the whole group.

Resource limits are set by util-linux's ``prlimit`` command, which the child's argv
starts with (:func:`limiting_argv`), rather than in a ``preexec_fn``, which is unsafe
while worker threads (our database threads) exist; descendants inherit them. Only where
``prlimit`` is missing are they set with ``psutil.Process.rlimit`` right after the spawn,
which a quick child can outrun.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from .child import ChildProcess, dying_with_this_process, hold_host_variables, start_child
from .isolation import Confinement

if TYPE_CHECKING:  # psutil (0.7 MiB) loads where a preview's processes are first used
    import psutil

__all__ = [
    "ChildLimits",
    "GroupUsage",
    "child_environment",
    "describe_exit",
    "group_usage",
    "kill_stale_group",
    "limiting_argv",
    "process_start_time",
    "set_limits_after_spawn",
    "spawn_child",
    "terminate_group",
]

_SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
_SETPRIV = shutil.which("setpriv")
_PRLIMIT = shutil.which("prlimit")


def limiting_argv(
    argv: Sequence[str], limits: ChildLimits, *, address_space: bool
) -> list[str] | None:
    """``argv`` run under ``limits`` set before it starts (``prlimit``), with the
    address-space limit too where ``address_space``; None where prlimit is missing."""
    if _PRLIMIT is None:
        return None
    n, f = limits.open_files, limits.file_bytes
    options = [f"--nofile={n}:{n}", "--core=0:0", f"--fsize={f}:{f}"]
    if address_space:
        options.insert(0, f"--as={limits.memory_bytes}:{limits.memory_bytes}")
    return [_PRLIMIT, *options, "--", *argv]


def set_limits_after_spawn(pid: int, limits: ChildLimits, *, address_space: bool) -> None:
    """Where prlimit is missing: ``limits`` set on the running ``pid`` (inherited by what
    it execs), which a quick child can outrun. Raises ``psutil.NoSuchProcess``."""
    import psutil  # (its 0.7 MiB loads with the first child: env_builder, in a thread)

    child = psutil.Process(pid)
    if address_space:
        child.rlimit(psutil.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    child.rlimit(psutil.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    child.rlimit(psutil.RLIMIT_CORE, (0, 0))
    child.rlimit(psutil.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))


@dataclass(frozen=True)
class ChildLimits:
    memory_bytes: int
    open_files: int = 1024
    file_bytes: int = 256 * 1024 * 1024
    # Unsandboxed, with the service root: the host uid to run as (setpriv), so that
    # even a plain child cannot read the service's data (its secret, its database).
    run_as: int | None = None


def child_environment(*, cwd: Path, port: int, python: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the service's own (no secrets) is passed on."""
    path = os.pathsep.join([str(Path(python).parent), _SAFE_PATH])
    return {
        "PATH": path,
        "HOME": str(cwd),
        "TMPDIR": str(cwd / ".tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        # The memory limit is on address space: glibc's per-thread malloc arenas (64 MiB
        # reserved each) would count against it long before the memory is used.
        "MALLOC_ARENA_MAX": "2",
        "NODE_ENV": "development",  # a preview is a development run (GET .../config)
        # @babel/register's cache, by default in node_modules/.cache, which is read-only
        # in a sandbox (the built environment's): babel-node's start died on "EROFS: …
        # mkdir 'node_modules/.cache'" (julietezekwe's node-express-postgres-boilerplate).
        "BABEL_CACHE_PATH": str(cwd / ".tmp" / "babel-register.json"),
        # An upload has no git history: setuptools-scm's get_version(), which an app may
        # call for its own version as it starts, fails on that ("unable to detect version":
        # bnbong's kakaotalk-channel-weathertoday); a version is given instead, as for a
        # build from a tarball.
        "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{cwd / 'app.db'}",
    }


async def spawn_child(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    limits: ChildLimits,
    confinement: Confinement | None = None,
    stdin_open: bool = False,
) -> ChildProcess:
    """Start ``argv`` as the leader of a new session and process group; pipes for output
    (and for its stdin, held open, with ``stdin_open``: :func:`.child.start_child`).

    With a ``confinement``, ``argv`` runs in its sandbox and cgroup (see ``isolation``);
    without, it still dies with the service (``setpriv --pdeathsig``, where present).
    What runs before ``argv`` (as root, or outside the sandbox) never obeys the loader's
    or a shell's variables of ``env``: ``argv`` gets them back
    (:func:`.child.hold_host_variables`).
    """
    pass_fds: list[int] = []
    # (Only a command that exists: a missing one still fails the spawn itself.)
    plain = confinement is None and _SETPRIV is not None
    plain = plain and shutil.which(argv[0], path=env.get("PATH")) is not None
    argv, env = hold_host_variables(argv, env)
    # Only without a memory cgroup: an address-space limit stops runtimes that reserve
    # big ranges up front (V8, the JVM, Go) long before they use it.
    address_space = confinement is None or not confinement.limits_memory
    limited: list[str] | None = None  # argv with its limits set before it runs
    if confinement is not None:
        command = await trio.to_thread.run_sync(confinement.prepare, list(argv))
        pass_fds = command.pass_fds
        # (Set on bwrap, outside, which its sandbox's processes inherit.)
        limited = limiting_argv(command.argv, limits, address_space=address_space)
        argv = limited or command.argv
    elif plain and _SETPRIV is not None:  # (plain implies it; said for the type checker)
        identity: list[str] = []
        if limits.run_as is not None and os.geteuid() == 0 and _PRLIMIT is not None:
            uid = str(limits.run_as)
            identity = ["--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all"]
        # Its limits from inside (prlimit, after any uid change), before it runs: set
        # from here after the spawn, a quick child wrote past them first (a 4 MB file
        # under a 1 MiB limit, on a loaded machine); and the service may lack
        # CAP_SYS_RESOURCE, which setting another uid's limits takes.
        limited = limiting_argv(argv, limits, address_space=address_space)
        argv = [*dying_with_this_process(_SETPRIV, *identity), *(limited or argv)]
    try:
        process = start_child(argv, cwd=str(cwd), env=env, pass_fds=pass_fds, stdin_open=stdin_open)
    finally:
        for fd in pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    if limited is not None:
        return process
    import psutil  # (its 0.7 MiB loads with the first child: env_builder, in a thread)

    try:
        set_limits_after_spawn(process.pid, limits, address_space=address_space)
    except psutil.NoSuchProcess:
        pass  # exited already; its exit code tells the story
    except BaseException:
        _signal_group(process.pid, signal.SIGKILL)
        if confinement is not None:
            confinement.kill(process.pid)
        with trio.CancelScope(shield=True):
            await process.wait()
        raise
    return process


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:  # pgid recycled by another user's group: not ours to touch
        pass


def _descendants(pid: int) -> list[psutil.Process]:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(processes: list[psutil.Process]) -> None:
    import psutil

    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


async def terminate_group(
    process: ChildProcess, grace: float, confinement: Confinement | None = None
) -> int:
    """SIGTERM the group, SIGKILL after ``grace`` seconds; then kill any survivor.

    Survivors include descendants that left the group (``setsid``): they are listed
    before the first signal, while still attached to the tree. Returns the leader's
    exit status (negative: killed by that signal).

    A confined tree is signalled through its sandbox and ended as one unit: the pid
    namespace and the cgroup hold every process, daemons and new sessions included.
    """
    if confinement is not None:
        return await _terminate_confined(process, grace, confinement)
    # Listing the tree reads every process's /proc entry: a thread, not the loop.
    escapees = await trio.to_thread.run_sync(_descendants, process.pid)
    if process.returncode is None:
        _signal_group(process.pid, signal.SIGTERM)
        with trio.move_on_after(grace):
            await process.wait()
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()
    # The leader is gone; whatever is left of its group or tree has no reason to live.
    _signal_group(process.pid, signal.SIGKILL)
    _kill_all([p for p in escapees if p.is_running()])
    assert process.returncode is not None
    return process.returncode


async def _terminate_confined(process: ChildProcess, grace: float, confinement: Confinement) -> int:
    if process.returncode is None:
        await trio.to_thread.run_sync(confinement.ask_to_stop, process.pid)
        with trio.move_on_after(grace):
            await process.wait()
    await trio.to_thread.run_sync(confinement.kill, process.pid)
    await process.wait()
    assert process.returncode is not None
    return confinement.exit_status(process.returncode)


def process_start_time(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def kill_stale_group(pid: int, started_at: float | None) -> bool:
    """Kill a previous run's child group, only if ``pid`` is still that very process."""
    import psutil

    if started_at is None:
        return False
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - started_at) > 0.01:
            return False
        victims = [process, *process.children(recursive=True)]
    except psutil.Error:
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError as error:
        if error.errno not in (errno.ESRCH, errno.EPERM):
            raise
    _kill_all(victims)
    psutil.wait_procs(victims, timeout=2)
    return True


def group_usage(pid: int, cache: dict[int, psutil.Process]) -> tuple[float, float] | None:
    """(resident MiB, CPU %) summed over the process and its descendants.

    ``cache`` keeps the psutil objects between calls, since ``cpu_percent`` measures
    the interval since the previous call on the same object. Blocking: run in a thread.
    """
    import psutil

    try:
        root = cache.get(pid) or psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    rss = 0
    cpu = 0.0
    alive: dict[int, psutil.Process] = {}
    for member in members:
        member = cache.get(member.pid, member)
        try:
            with member.oneshot():
                rss += member.memory_info().rss
                cpu += member.cpu_percent(interval=None)
        except psutil.Error:
            continue
        alive[member.pid] = member
    cache.clear()
    cache.update(alive)
    return rss / (1024 * 1024), cpu


class GroupUsage:
    """:func:`group_usage` of one process group, for frequent polls.

    The walk of /proc runs in a worker thread, which competes with a busy event loop
    for the GIL: a poll that waited for it took tens of ms more. So only the first
    :meth:`get` waits for a measurement. Later ones return the last one at once and,
    when it is ``max_age`` old, have the next one taken in ``refresher`` (a nursery of
    the caller's) for the polls that follow.
    """

    def __init__(self, max_age: float) -> None:
        self._max_age = max_age
        self._cache: dict[int, psutil.Process] = {}
        self._last: tuple[float, tuple[float, float] | None] | None = None
        self._lock = trio.Lock()  # one walk at a time: they share the cache

    async def get(self, pid: int, refresher: trio.Nursery | None) -> tuple[float, float] | None:
        if self._last is None:
            await self.measure(pid)
        elif (
            trio.current_time() - self._last[0] >= self._max_age
            and refresher is not None
            and not self._lock.locked()
        ):
            refresher.start_soon(self.measure, pid)
        return self._last[1] if self._last is not None else None

    async def measure(self, pid: int) -> None:
        async with self._lock:
            if self._last is not None and trio.current_time() - self._last[0] < self._max_age:
                return  # measured while this call waited for the lock
            measured = await trio.to_thread.run_sync(group_usage, pid, self._cache)
            self._last = (trio.current_time(), measured)


def describe_exit(returncode: int | None, *, requested: bool = False) -> str:
    """``exited with code 1`` / ``killed by SIGKILL``, for events and error messages.

    ``requested``: we stopped it (a stop, a deadline, a shutdown), so its end is no crash:
    ``stopped (SIGTERM)``, ``stopped (exited with code 0)``.
    """
    if returncode is None:
        return "the process did not exit"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"stopped ({name})" if requested else f"killed by {name}"
    text = f"exited with code {returncode}"
    return f"stopped ({text})" if requested else text
