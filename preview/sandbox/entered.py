"""A second process in a running preview's sandbox: :func:`spawn_entered` (its workers:
``runtime.processes``).

The web process's sandbox is bwrap's (``bubblewrap``), made once per spawn. A worker is
not given one of its own: it must see what the web process sees (the same files, ``/tmp``,
``/etc/hosts``, the relays to its private PostgreSQL and Redis on the sandbox's loopback)
and be held as it is. So the service (root, which ``setns`` takes: see ``netns``) enters
the namespaces of the sandbox's init (mount, with its root; pid; network; IPC; UTS) with
``nsenter``, from a shell that first joins the preview's cgroup (as the second port
forwarder does, ``Confinement.port_forwarder``); ``setpriv`` then makes it the app's host
uid with every capability dropped and ``no_new_privs`` set, dying with the service.

Its pid namespace is the sandbox's: when the sandbox's init ends (the web process's tree
torn down, whatever ended it) the kernel kills it, and the cgroup's kill takes it too.
What bwrap adds that is not applied here: its seccomp filter (the calls it refuses are
the ones a process without capabilities cannot make anyway, namespaces and mounts).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import psutil
import trio

from .child import ChildProcess, start_child
from .isolation import Confinement
from .netns import can_enter_netns, netns_child
from .process import ChildLimits, terminate_group

__all__ = ["can_enter_sandbox", "spawn_entered", "terminate_entered"]

_NSENTER = shutil.which("nsenter")
_JOIN_CGROUPS = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 126; '
    'shift; n=$((n-1)); done; exec "$@"'
)


def can_enter_sandbox(confinement: Confinement) -> str | None:
    """None when a process may be started in this confinement's running sandbox, else
    why not (the service is not root, or a tool is missing)."""
    if _NSENTER is None or confinement.isolation.tools is None:
        return "nsenter is not installed"
    if confinement.isolation.tools.setpriv is None:
        return "setpriv is not installed"
    if not can_enter_netns():
        return "the service cannot enter its sandboxes' namespaces (it is not root)"
    return None


def entering_argv(
    confinement: Confinement, init_pid: int, argv: Sequence[str], cwd: Path
) -> list[str]:
    """The command running ``argv`` in the sandbox whose init is ``init_pid``."""
    tools = confinement.isolation.tools
    assert _NSENTER is not None and tools is not None and tools.setpriv is not None
    command = [
        _NSENTER, f"--target={init_pid}", "--mount", "--pid", "--net", "--ipc", "--uts",
        "--root", "--wd", "--",
        tools.setpriv, "--pdeathsig", "KILL", "--no-new-privs",
    ]  # fmt: skip
    if confinement.host_uid is not None:
        uid = str(confinement.host_uid)
        command += ["--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all"]
    # Its directory by its path inside (the host's, opened by nsenter, is not reachable
    # from the sandbox's root): the app's is bound at the same path.
    command += ["--", "/bin/sh", "-c", 'cd "$0" && exec "$@"', str(cwd), *argv]
    if confinement.cgroup is not None:  # born in it, as the sandbox's processes are
        files = [str(f) for f in confinement.cgroup.join_files]
        command = ["/bin/sh", "-c", _JOIN_CGROUPS, "sh", str(len(files)), *files, *command]
    return command


async def spawn_entered(
    argv: Sequence[str],
    *,
    sandbox_pid: int,
    confinement: Confinement,
    cwd: Path,
    env: dict[str, str],
    limits: ChildLimits,
) -> ChildProcess:
    """Start ``argv`` in the running sandbox of the process ``sandbox_pid`` (the outer
    bwrap the web process was spawned as), a new session and process group of its own,
    its output on pipes. Raises ``OSError`` when it cannot (the sandbox is gone)."""
    init_pid = await trio.to_thread.run_sync(netns_child, sandbox_pid)
    if init_pid is None:
        raise OSError("the app's sandbox is not running")
    command = entering_argv(confinement, init_pid, argv, cwd)
    process = start_child(command, cwd=str(cwd), env=env)
    with contextlib.suppress(psutil.NoSuchProcess):
        child = psutil.Process(process.pid)  # inherited by what it execs, as spawn_child's
        child.rlimit(psutil.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        child.rlimit(psutil.RLIMIT_CORE, (0, 0))
        child.rlimit(psutil.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        if not confinement.limits_memory:
            child.rlimit(psutil.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    return process


def _inside(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


async def terminate_entered(process: ChildProcess, grace: float) -> int:
    """SIGTERM what :func:`spawn_entered` started, SIGKILL after ``grace`` seconds; its
    exit status. The signal goes to what runs inside, not to ``nsenter`` outside: that
    one would die of it at once, and its child with it (``--pdeathsig``), before the
    worker's own handler ran. The grace lasts until every process inside has ended
    (a shell running the worker ends first, its child, the worker, after its handler)."""
    inside = await trio.to_thread.run_sync(_inside, process.pid)
    if process.returncode is None and inside:
        for member in inside:
            with contextlib.suppress(psutil.Error):
                member.send_signal(signal.SIGTERM)
        # Not our children (the pid namespace's): psutil polls them, in a thread, for
        # the grace at most (the caller's deadline is beyond it).
        await trio.to_thread.run_sync(partial(psutil.wait_procs, inside, timeout=grace))
    # Whatever is left (the leader, its group, what left the group) is killed.
    code = await terminate_group(process, 0)
    for member in inside:
        with contextlib.suppress(psutil.Error):
            if member.is_running():
                member.kill()
    return code
