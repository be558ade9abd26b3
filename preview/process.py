"""Child processes: spawn in a new process group with limits, terminate the whole group.

Resource limits are applied with ``psutil.Process.rlimit`` (Linux ``prlimit``) right
after the spawn rather than in a ``preexec_fn``, which is unsafe while worker threads
(our database threads) exist. Descendants inherit the limits.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import trio

__all__ = [
    "ChildLimits",
    "GroupUsage",
    "child_environment",
    "describe_exit",
    "group_usage",
    "kill_stale_group",
    "process_start_time",
    "spawn_child",
    "terminate_group",
]

_SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class ChildLimits:
    memory_bytes: int
    open_files: int = 1024
    file_bytes: int = 256 * 1024 * 1024


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
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{cwd / 'app.db'}",
    }


async def spawn_child(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], limits: ChildLimits
) -> trio.Process:
    """Start ``argv`` as the leader of a new session and process group; pipes for output."""
    process = await trio.lowlevel.open_process(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(cwd),
        env=env,
        start_new_session=True,
    )
    try:
        child = psutil.Process(process.pid)
        child.rlimit(psutil.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        child.rlimit(psutil.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        child.rlimit(psutil.RLIMIT_CORE, (0, 0))
        child.rlimit(psutil.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    except psutil.NoSuchProcess:
        pass  # exited already; its exit code tells the story
    except BaseException:
        _signal_group(process.pid, signal.SIGKILL)
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
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(processes: list[psutil.Process]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


async def terminate_group(process: trio.Process, grace: float) -> int:
    """SIGTERM the group, SIGKILL after ``grace`` seconds; then kill any survivor.

    Survivors include descendants that left the group (``setsid``): they are listed
    before the first signal, while still attached to the tree. Returns the leader's
    exit status (negative: killed by that signal).
    """
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


def process_start_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def kill_stale_group(pid: int, started_at: float | None) -> bool:
    """Kill a previous run's child group, only if ``pid`` is still that very process."""
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


def describe_exit(returncode: int | None) -> str:
    """``exited with code 1`` / ``killed by SIGKILL``, for events and error messages."""
    if returncode is None:
        return "the process did not exit"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"
