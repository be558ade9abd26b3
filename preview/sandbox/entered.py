"""A second process in a running preview's sandbox: :func:`spawn_entered` (its workers:
``runtime.processes``).

The web process's sandbox is bwrap's (``bubblewrap``), made once per spawn. A worker is
not given one of its own: it must see what the web process sees (the same files, ``/tmp``,
``/etc/hosts``, the relays to its private PostgreSQL and Redis on the sandbox's loopback)
and be held as it is. So the service (root, which ``setns`` takes: see ``netns``) enters
the namespaces of the sandbox's init (mount, with its root; pid; network; IPC; UTS) with
``nsenter``, from a shell that first joins the preview's cgroup (as the second port
forwarder does, ``Confinement.port_forwarder``). There a bwrap of its own (its mount
namespace a copy of the sandbox's, the root read-only again, ``/proc`` the sandbox's pid
namespace's) applies the sandbox's seccomp filter and drops every capability but the
two ``setpriv`` takes to make it the app's host uid, with none left after; it dies with
the service (``--pdeathsig``) and with its bwrap (``--die-with-parent``).

Its pid namespace is the sandbox's: when the sandbox's init ends (the web process's tree
torn down, whatever ended it) the kernel kills it, and the cgroup's kill takes it too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import psutil
import trio

from .child import ChildProcess, hold_host_variables, joining_cgroup, start_child
from .isolation import Confinement
from .netns import can_enter_netns, netns_child
from .process import ChildLimits, limiting_argv, set_limits_after_spawn, terminate_group

__all__ = ["can_enter_sandbox", "spawn_entered", "terminate_entered"]

_NSENTER = shutil.which("nsenter")


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
    confinement: Confinement,
    init_pid: int,
    argv: Sequence[str],
    cwd: Path,
    seccomp_fd: int | None,
) -> list[str]:
    """The command running ``argv`` in the sandbox whose init is ``init_pid`` (see the
    module doc); ``seccomp_fd``: the filter's, inherited."""
    tools = confinement.isolation.tools
    assert _NSENTER is not None and tools is not None and tools.setpriv is not None
    command = [
        _NSENTER,
        f"--target={init_pid}",
        "--mount",
        "--pid",
        "--net",
        "--ipc",
        "--uts",
        "--root",
        "--wd",
        "--",
        tools.setpriv,
        "--pdeathsig",
        "KILL",
        "--",
        # (No --new-session: it has no terminal, and its group is how it is ended.)
        tools.bwrap,
        "--bind",
        "/",
        "/",
        "--dev-bind",
        "/dev",
        "/dev",
        "--proc",
        "/proc",
        "--remount-ro",
        "/",
        "--die-with-parent",
        "--chdir",
        str(cwd),
        *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
    ]
    if confinement.host_uid is not None:  # root: setpriv, inside, is who it runs as
        uid = str(confinement.host_uid)
        command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        command += ["--", tools.setpriv, "--reuid", uid, "--regid", uid, "--clear-groups"]
        command += ["--inh-caps=-all"]
    else:
        command += ["--cap-drop", "ALL"]
    command += ["--", *argv]
    if confinement.cgroup is not None:  # born in it, as the sandbox's processes are
        files = [str(f) for f in confinement.cgroup.join_files]
        command = [*joining_cgroup(files), *command]
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
    argv, env = hold_host_variables(argv, env)  # nsenter, setpriv, bwrap: root's
    seccomp = confinement.isolation.seccomp
    program = os.memfd_create("preview-seccomp", os.MFD_CLOEXEC) if seccomp else None
    try:
        if program is not None and seccomp is not None:
            os.write(program, seccomp)
            os.lseek(program, 0, os.SEEK_SET)
        command = entering_argv(confinement, init_pid, argv, cwd, program)
        # Its limits set before it runs (on nsenter, outside, inherited by what it
        # execs), as spawn_child's: set after the spawn, a quick child outran them.
        address_space = not confinement.limits_memory
        limited = limiting_argv(command, limits, address_space=address_space)
        fds = [program] if program is not None else []
        process = start_child(limited or command, cwd=str(cwd), env=env, pass_fds=fds)
    finally:
        if program is not None:
            os.close(program)
    if limited is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            set_limits_after_spawn(process.pid, limits, address_space=address_space)
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
                if member.name() != "bwrap":  # its bwrap ending would SIGKILL it at once
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
