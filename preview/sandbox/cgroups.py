"""One cgroup per preview: memory, process-count and CPU limits, usage, and kill-all.

cgroup v2 (one unified tree) and v1 (one tree per controller, as on many hosts still)
are both handled. The preview's cgroups are created under the service's own cgroup
(read from ``/proc/self/cgroup``), so they stay inside whatever the service is itself
limited to, and under v2 that is the subtree delegated to the service (systemd's
``Delegate=yes``). Every call here is blocking file I/O: run it in a thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupLimits", "CgroupRoot", "PreviewCgroup"]

_MOUNT = Path("/sys/fs/cgroup")
_V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")
_CPU_PERIOD_US = 100_000
_PARENT_NAME = "preview"


@dataclass(frozen=True)
class CgroupLimits:
    memory_bytes: int
    pids: int
    cpus: float


class CgroupRoot:
    """Where previews' cgroups are made: v2's one directory, or v1's one per controller."""

    def __init__(self, version: int, parents: dict[str, Path]) -> None:
        self.version = version
        self._parents = parents  # controller (v2: "unified") -> parent directory

    @classmethod
    def detect(cls, name: str, mount: Path = _MOUNT) -> CgroupRoot | None:
        """The writable cgroup hierarchy of this process, or None (checked by creating a
        probe cgroup with a memory limit and removing it). Previews' cgroups go into
        ``preview/<name>`` under the service's own cgroup."""
        own = _own_cgroups()
        if (mount / "cgroup.controllers").exists():
            parent = mount / own.get("", "/").lstrip("/") / _PARENT_NAME / name
            root = cls(2, {"unified": parent})
        else:
            parents = {}
            for controller in _V1_CONTROLLERS:
                base = mount / controller
                if not (base / "cgroup.procs").exists():
                    return None
                base = base.resolve()  # v1 "cpu" and "cpuacct" are often one tree
                path = base / own.get(controller, "/").lstrip("/") / _PARENT_NAME / name
                parents[controller] = path
            root = cls(1, parents)
        try:
            root._prepare_parents()
            probe = root.create(f"probe-{os.getpid()}", CgroupLimits(64 << 20, 16, 0.5))
            probe.remove()
        except OSError:
            return None
        return root

    @property
    def name(self) -> str:
        return f"cgroup-v{self.version}"

    def _prepare_parents(self) -> None:
        for parent in self._parents.values():
            parent.mkdir(parents=True, exist_ok=True)
        if self.version == 2:
            # The controllers must be enabled for the children on every level down from
            # the delegated one; a level that also holds processes refuses (EBUSY).
            parent = self._parents["unified"]
            for level in (parent.parent.parent, parent.parent, parent):
                (level / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        # The CPU weight of all previews together: the scheduler gives a cgroup the share
        # of one process, so on a busy machine every preview together got what one other
        # process gets (measured on a busy 2-core VM: an app alone in a cgroup served
        # 0.4-0.5x the requests of the same app outside one, quota or none, and 4x with
        # ten times the weight; the seccomp filter and bubblewrap cost nothing measurable;
        # benchmarks/HISTORY.md). As many processes' weight as there are CPUs: previews
        # compete as unconfined apps would; each stays within its own quota and limits,
        # and the service (one process, one core's use at most) keeps cpus/(cpus+1) of
        # a core under full contention: about all it can use.
        cpus = os.cpu_count() or 1
        weight = ("cpu.weight", str(min(100 * cpus, 10000)))
        if self.version == 1:
            weight = ("cpu.shares", str(1024 * cpus))
        level = self._parents["unified" if self.version == 2 else "cpu"].parent
        with contextlib.suppress(OSError):  # a delegated tree may not let it be set
            (level / weight[0]).write_text(weight[1])

    def remove_stale(self) -> int:
        """Empty and remove what a previous run of this service left (it was killed
        before its teardown); call before any preview starts. Returns how many."""
        names = {p.name for parent in self._parents.values() for p in _subdirs(parent)}
        for name in names:
            dirs = {c: parent / name for c, parent in self._parents.items()}
            stale = PreviewCgroup(self.version, dirs, CgroupLimits(0, 0, 0))
            stale.kill_all()
            stale.remove()
        return len(names)

    def remove_parents(self) -> None:
        """At the service's end, once every preview's cgroup is gone."""
        for parent in dict.fromkeys(self._parents.values()):
            with contextlib.suppress(OSError):
                parent.rmdir()

    def create(self, name: str, limits: CgroupLimits) -> PreviewCgroup:
        dirs = {c: parent / name for c, parent in self._parents.items()}
        cgroup = PreviewCgroup(self.version, dirs, limits)
        try:
            for directory in set(dirs.values()):
                directory.mkdir()
            cgroup.apply_limits()
        except BaseException:
            cgroup.remove()
            raise
        return cgroup


class PreviewCgroup:
    """One preview's cgroup (v1: one directory per controller)."""

    def __init__(self, version: int, dirs: dict[str, Path], limits: CgroupLimits) -> None:
        self.version = version
        self._dirs = dirs
        self.limits = limits
        self._last_cpu: tuple[float, float] | None = None
        # The counter files read every few hundred ms while the preview runs, kept open:
        # re-read from offset 0 (the kernel regenerates them) they cost a tenth of an
        # open, read and close (3 against 29 us a check here). The lock: the loop reads,
        # a thread's remove() closes, and a closed number must never be read again.
        self._counter_fds: dict[Path, int] = {}
        self._counter_lock = threading.Lock()

    def _file(self, controller: str, name: str) -> Path:
        return self._dirs["unified" if self.version == 2 else controller] / name

    @property
    def procs_files(self) -> list[Path]:
        """The member lists of every controller's tree (read: which processes)."""
        return [d / "cgroup.procs" for d in dict.fromkeys(self._dirs.values())]

    @property
    def join_files(self) -> list[Path]:
        """Where a single-threaded process writes ``0`` to join, itself, every tree.

        v1's ``tasks`` moves the writing thread alone, which spares the kernel's global
        thread-group lock and the RCU grace period that taking it costs (6-15 ms a
        launch here, on the critical path); a shell is one thread, so it moves whole.
        v2 has only ``cgroup.procs`` (and ``CLONE_INTO_CGROUP``, which Python's spawn
        cannot use).
        """
        member = "tasks" if self.version == 1 else "cgroup.procs"
        return [d / member for d in dict.fromkeys(self._dirs.values())]

    def apply_limits(self) -> None:
        memory, pids = self.limits.memory_bytes, self.limits.pids
        quota = max(1000, int(self.limits.cpus * _CPU_PERIOD_US))
        if self.version == 2:
            self._file("memory", "memory.max").write_text(str(memory))
            with contextlib.suppress(OSError):  # no swap accounting: nothing to bound
                self._file("memory", "memory.swap.max").write_text("0")
            self._file("pids", "pids.max").write_text(str(pids))
            self._file("cpu", "cpu.max").write_text(f"{quota} {_CPU_PERIOD_US}")
            with contextlib.suppress(OSError):  # kernels before 5.14 have no burst
                self._file("cpu", "cpu.max.burst").write_text(str(quota))
            return
        self._file("memory", "memory.limit_in_bytes").write_text(str(memory))
        with contextlib.suppress(OSError):  # memory + swap, where swap is accounted
            self._file("memory", "memory.memsw.limit_in_bytes").write_text(str(memory))
        self._file("pids", "pids.max").write_text(str(pids))
        self._file("cpu", "cpu.cfs_period_us").write_text(str(_CPU_PERIOD_US))
        self._file("cpu", "cpu.cfs_quota_us").write_text(str(quota))
        with contextlib.suppress(OSError):  # kernels before 5.14 have no burst
            self._file("cpu", "cpu.cfs_burst_us").write_text(str(quota))

    # -- what happened inside -------------------------------------------------------

    def limit_exceeded(self) -> str | None:
        """The limit the tree ran into, as a sentence; None while within them all."""
        if self._counter("memory", _OOM_FILE[self.version], "oom_kill") > 0:
            return f"memory limit of {self.limits.memory_bytes // (1024 * 1024)} MiB exceeded"
        if self._counter("pids", "pids.events", "max") > 0:
            return f"process limit of {self.limits.pids} reached"
        return None

    def _counter(self, controller: str, name: str, key: str) -> int:
        path = self._file(controller, name)
        with self._counter_lock:
            try:
                fd = self._counter_fds.get(path)
                if fd is None:
                    fd = self._counter_fds[path] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                lines = os.pread(fd, 4096, 0).decode("ascii", "replace").splitlines()
            except OSError:
                return 0
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return int(parts[1])
        return 0

    def usage(self) -> tuple[float, float] | None:
        """(memory MiB, CPU %) of the whole tree: memory as the cgroup charges it (RSS and
        page cache), CPU since the previous call (the first call: since the start)."""
        try:
            if self.version == 2:
                memory = int(self._file("memory", "memory.current").read_text())
                cpu_ns = self._counter("cpu", "cpu.stat", "usage_usec") * 1000
            else:
                memory = int(self._file("memory", "memory.usage_in_bytes").read_text())
                cpu_ns = int(self._file("cpuacct", "cpuacct.usage").read_text())
        except (OSError, ValueError):
            return None
        now = time.monotonic()
        last, self._last_cpu = self._last_cpu, (now, cpu_ns)
        percent = 0.0
        if last is not None and now > last[0]:
            percent = (cpu_ns - last[1]) / 1e9 / (now - last[0]) * 100
        return memory / (1024 * 1024), max(percent, 0.0)

    # -- the end --------------------------------------------------------------------

    def pids(self) -> list[int]:
        try:
            text = self.procs_files[0].read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def signal_all(self, signum: int, *, spare: int | None = None) -> None:
        for pid in self.pids():
            if pid != spare:
                with contextlib.suppress(OSError):
                    os.kill(pid, signum)

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty (v2: ``cgroup.kill``,
        atomic; v1: repeated, which also catches what a process forked meanwhile)."""
        if self.version == 2:
            with contextlib.suppress(OSError):
                self._file("", "cgroup.kill").write_text("1")
        deadline = time.monotonic() + timeout
        while self.pids():
            self.signal_all(signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def remove(self) -> None:
        """Remove the (empty) cgroup; the kernel may release it a moment after the last
        process was reaped, so a busy directory is retried briefly."""
        with self._counter_lock:
            for fd in self._counter_fds.values():
                os.close(fd)
            self._counter_fds.clear()
        for directory in dict.fromkeys(self._dirs.values()):
            for _ in range(100):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


_OOM_FILE = {1: "memory.oom_control", 2: "memory.events"}


def _subdirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path ("" for the v2 tree)."""
    found: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            found[controller] = path
    return found
