"""A child process forked by the event loop's own thread: :class:`ChildProcess`.

``trio.lowlevel.open_process`` forks in a worker thread. The kernel ties a child's
parent-death signal (``PR_SET_PDEATHSIG``, which ``setpriv --pdeathsig`` sets so that
a preview dies with the service) to the *thread* that forked it: the child would be
killed as soon as that worker thread retires, seconds later. So previews are forked
here, in the loop's thread, which lives as long as the service (``subprocess`` uses
``vfork``: well under a millisecond), and waited for through a pidfd.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence

import trio

__all__ = [
    "PRIVILEGED_SHELL",
    "ChildProcess",
    "dying_with_this_process",
    "follow_parent_death",
    "hold_host_variables",
    "in_worker_process",
    "joining_cgroup",
    "start_child",
    "stop_on_sigterm",
]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# -- the variables the C library and a shell obey, kept from the privileged part -------
# A child's command is a chain: what confines it runs first, as root (a shell joining its
# cgroup, setpriv, bwrap, nsenter), or as the service's uid outside any sandbox, and only
# its last program is the app's. All of them are given the app's environment, which the
# upload writes (its ``.env``): ``LD_PRELOAD=./x.so`` there had the first of them, root
# on the host, load the app's library. The dynamic loader and the C library trust these
# variables in any program that is not setuid; these are the ones glibc itself ignores in
# a setuid one (its ``unsecvars.h``; but ``TMPDIR``, which every child is given and no
# tool of that chain reads), with every ``LD_`` name. That shell is /bin/sh, which is
# bash on many systems (Fedora, RHEL, Arch): bash takes ``BASH_FUNC_echo%%='() { … }'``
# for a function named ``echo`` (its own, run as root in place of the builtin the
# script calls), and obeys ``SHELLOPTS``, ``BASHOPTS``, ``BASH_ENV`` … at its start.
# Such lists are never whole (the next tool of the chain, the next shell, reads its
# own), so every variable travels renamed (``PREVIEW_HELD_<name>``) through the
# privileged part, and the app's command begins with a shell that puts them back under
# their names, inside, as the app's uid; those known to be obeyed are refused loose
# (``start_child``). A function's (``BASH_FUNC_…``, no name a variable can have) is
# dropped: no program but bash reads it, and it is no variable the app can be given.

# The shell that makes a sandbox's process a member of its cgroup before setpriv and
# bwrap (:func:`joining_cgroup`): root's, on the host, given the app's environment.
PRIVILEGED_SHELL = "/bin/sh"
_JOIN_CGROUPS = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo 0 > "$1" || exit 126; '
    'shift; n=$((n-1)); done; exec "$@"'
)


def joining_cgroup(procs_files: Sequence[str]) -> list[str]:
    """A command's prefix writing its process into each of ``procs_files`` first (the
    command's environment held as :func:`hold_host_variables` holds it)."""
    return [PRIVILEGED_SHELL, "-c", _JOIN_CGROUPS, "sh", str(len(procs_files)), *procs_files]


# Whether the parent that forked it is still there, once the parent-death signal is
# asked for: the kernel sends it only for a death after the ``prctl``, and a service
# killed between its fork and setpriv's ``prctl`` (a node killed during a burst of
# launches) left previews running, adopted by init, that no node would ever end.
_STILL_ITS_PARENTS = 'if [ "$PPID" != "$1" ]; then exit 125; fi; shift; exec "$@"'


def dying_with_this_process(setpriv: str, *options: str, parent: int | None = None) -> list[str]:
    """A command's prefix that has it killed when this process (``parent``) dies, and
    ends it at once if it died already: ``setpriv --pdeathsig KILL`` (with setpriv's
    ``options``: an identity), then a shell that checks its parent. Only for a command
    this process forks itself (through ``exec`` of a chain: no fork in between)."""
    parent = os.getpid() if parent is None else parent
    return [
        setpriv,
        "--pdeathsig",
        "KILL",
        *options,
        "--",
        PRIVILEGED_SHELL,
        "-c",
        _STILL_ITS_PARENTS,
        "sh",
        str(parent),
    ]


_HELD_VARIABLES = frozenset(
    {
        "GCONV_PATH",
        "GETCONF_DIR",
        "GLIBC_TUNABLES",
        "HOSTALIASES",
        "LOCALDOMAIN",
        "LOCPATH",
        "MALLOC_TRACE",
        "NIS_PATH",
        "NLSPATH",
        "RESOLV_HOST_CONF",
        "RES_OPTIONS",
        "TZDIR",
        # a shell's (bash's and dash's) at its start, or as it runs a script
        "BASH_ENV",
        "BASHOPTS",
        "BASH_XTRACEFD",
        "CDPATH",
        "ENV",
        "GLOBIGNORE",
        "IFS",
        "POSIXLY_CORRECT",
        "PS4",
        "SHELLOPTS",
    }
)
_LOADER_NAME = re.compile(r"LD_[A-Za-z0-9_]*")
_SHELL_FUNCTION = "BASH_FUNC_"  # bash's exported functions: BASH_FUNC_f%% (BASH_FUNC_f())
HELD_PREFIX = "PREVIEW_HELD_"
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what ``export NAME=…`` can give


def _held_variable(name: str) -> bool:
    return name in _HELD_VARIABLES or _LOADER_NAME.fullmatch(name) is not None


def hold_host_variables(
    argv: Sequence[str], env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """``argv`` and ``env`` for a command whose privileged part comes first (see above):
    every variable of ``env`` renamed, not only those known to be obeyed (what the next
    tool of the chain, or the next /bin/sh, reads is not ours to list), and ``argv`` run
    by a shell that gives them back their names just before it execs it (a name no
    shell can give, ``A.B``, by ``env``); ``PORT``, a number, as it is (no loader nor shell
    obeys it), a shell function's dropped."""
    kept: dict[str, str] = {}
    restore, unset, odd = [], [], []
    for name, value in env.items():
        if name.startswith(_SHELL_FUNCTION):
            continue
        if name == "PORT" and value.isdigit():
            kept[name] = value
        elif _SHELL_NAME.fullmatch(name) is not None:
            kept[HELD_PREFIX + name] = value
            restore.append(f'export {name}="${HELD_PREFIX}{name}"; unset {HELD_PREFIX}{name}; ')
        else:  # its value in env's arguments for a moment: such names are rare
            held = f"{HELD_PREFIX}_{len(odd)}"
            kept[held] = value
            unset.append(f"-u {held}")  # (env's options all before its first NAME=VALUE)
            odd.append(f'{shlex.quote(name + "=")}"${held}"')
    if not restore and not odd:
        return list(argv), kept
    run = f"exec /usr/bin/env {' '.join([*unset, *odd])} " if odd else "exec "
    return ["/bin/sh", "-c", "".join(restore) + run + '"$@"', "sh", *argv], kept


class ChildProcess:
    """The parts of ``trio.Process`` the runtime uses: pid, pipes, poll, wait."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdout: trio.lowlevel.FdStream,
        stderr: trio.lowlevel.FdStream,
        stdin_held: int | None = None,
    ) -> None:
        self._popen = popen
        self._stdin_held = stdin_held  # the write end of its open stdin, never written
        self.pid = popen.pid
        self.started_at = trio.current_time()  # (a swap's timings: runtime.swaps)
        self.stdout = stdout
        self.stderr = stderr
        self._pidfd = os.pidfd_open(popen.pid)
        self._exited = trio.Event()
        self._waiter = False  # one task watches the pidfd; the others wait for it

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    def poll(self) -> int | None:
        returncode = self._popen.poll()
        if returncode is not None:
            self._exited.set()
        return returncode

    async def wait(self) -> int:
        if self.poll() is None:
            if self._waiter:
                await self._exited.wait()
            else:
                self._waiter = True
                try:
                    while self.poll() is None:
                        await trio.lowlevel.wait_readable(self._pidfd)
                finally:
                    self._waiter = False
        assert self._popen.returncode is not None
        return self._popen.returncode

    def close(self) -> None:
        """The pidfd and its stdin's write end (the output pipes are the readers'); once
        the child has been waited for."""
        for fd in (self._pidfd, self._stdin_held):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._stdin_held = None


_CHRT = shutil.which("chrt")


def _batch_scheduled(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """``argv`` run at ``SCHED_BATCH`` (``chrt --batch 0``, inherited by all it starts):
    a preview's process woken by the service (a proxied call sent to the app, a query
    to its database) then waits for the service's thread to block or its slice to end,
    instead of preempting it on the core the kernel woke it on (at 8 connections the
    loop was preempted at about two steps of three, 0.28 with the app at batch; CPU
    between them is still shared as before, by the cgroups' weights and quotas). Only
    a command that exists: a missing one still fails the spawn itself."""
    if _CHRT is None or shutil.which(argv[0], path=env.get("PATH")) is None:
        return list(argv)
    return [_CHRT, "--batch", "0", *argv]


def start_child(
    argv: Sequence[str],
    *,
    cwd: str,
    env: dict[str, str],
    pass_fds: Sequence[int] = (),
    stdin_open: bool = False,
) -> ChildProcess:
    """Fork ``argv`` (new session, stdin from /dev/null, pipes for output, at
    ``SCHED_BATCH``: :func:`_batch_scheduled`) from this thread. ``stdin_open``: its
    stdin a pipe held open and never written instead, as a terminal's is to what its
    author ran there: watchers that end at their stdin's end (Tailwind's and esbuild's
    ``--watch``: "stopped because stdin was closed") keep running, and with them a dev
    script that ends when any of its commands does. Raises ``OSError`` when it cannot be
    started; ``ValueError`` when ``env`` holds a variable of the loader's or a shell's
    (:func:`hold_host_variables` must have held it back from the privileged part of
    ``argv``)."""
    loose = sorted(n for n in env if _held_variable(n) or n.startswith(_SHELL_FUNCTION))
    if loose:
        raise ValueError(f"host variables must be held back from {argv[0]}: {loose}")
    out_read, out_write = os.pipe2(os.O_CLOEXEC)
    err_read, err_write = os.pipe2(os.O_CLOEXEC)
    in_read, in_write = os.pipe2(os.O_CLOEXEC) if stdin_open else (None, None)
    try:
        popen = subprocess.Popen(
            _batch_scheduled(argv, env),
            stdin=subprocess.DEVNULL if in_read is None else in_read,
            stdout=out_write,
            stderr=err_write,
            cwd=cwd,
            env=env,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
        )
    except BaseException:
        for fd in (out_read, err_read, in_write):
            if fd is not None:
                os.close(fd)
        raise
    finally:
        for fd in (out_write, err_write, in_read):
            if fd is not None:
                os.close(fd)
    out, err = trio.lowlevel.FdStream(out_read), trio.lowlevel.FdStream(err_read)
    return ChildProcess(popen, out, err, stdin_held=in_write)


def in_worker_process() -> bool:
    """Whether this is a server's worker (Hypercorn's ``workers`` are multiprocessing
    children of its master), where SIGTERM is not the server's to handle."""
    return multiprocessing.parent_process() is not None


async def stop_on_sigterm(stop: Callable[[], Awaitable[None]], limit: float) -> None:
    """In a worker: a SIGTERM (to the whole process group, as job control and many
    process managers send it, or from :func:`follow_parent_death`) would end the worker
    at once and every preview with it, uncleanly (their rows still ``running``, their
    cgroups and directories left). Instead, ``stop`` runs first (at most ``limit``
    seconds), then the worker ends as SIGTERM would have ended it."""
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            break
    with trio.CancelScope(shield=True), trio.move_on_after(limit):
        await stop()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def follow_parent_death() -> None:
    """In a server's worker process (Hypercorn's ``workers`` are multiprocessing
    children of its master): be sent SIGTERM when the master dies. Otherwise a SIGKILLed
    master leaves its worker running, orphaned, and every preview with it. (Previews
    die with the worker: their parent-death signal, see the module doc.)"""
    parent = multiprocessing.parent_process()
    if parent is None or not hasattr(os, "pidfd_open"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent.pid:  # it died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)
