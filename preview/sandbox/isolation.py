"""What confinement this machine allows (probed once at start), and one preview's.

``PREVIEW_SANDBOX``: ``auto`` confines previews whenever bubblewrap runs and cgroups are
writable, and says loudly when it cannot; ``required`` refuses launches without both;
``off`` runs previews as plain children (as the service's user).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ..settings import Settings
from .appdir import chown_tree, make_bounded_dir, open_dir, remove_tree, run_as_owner
from .bubblewrap import (
    READY_SOCKET_NAME,
    SOCKET_NAME,
    SandboxedCommand,
    SandboxLayout,
    SandboxTools,
    interpreter_dirs,
    sandboxed_command,
)
from .cgroups import CgroupLimits, CgroupRoot, PreviewCgroup
from .child import dying_with_this_process, joining_cgroup
from .netns import can_enter_netns
from .outbound import HOSTS_FILE, Outbound
from .seccomp import filter_program

if TYPE_CHECKING:  # psutil (0.7 MiB) loads where a preview's processes are first used
    import psutil

__all__ = ["BUILD_MEMORY_MB", "Confinement", "Isolation", "build_limits"]

_log = logging.getLogger(__name__)
BUILD_MEMORY_MB = 2048  # a build's memory cgroup (compilers, tsc and bundlers need more)
_BUILD_PIDS = 512  # uv's and npm's worker threads
_NOTHING_OUT = Outbound()
_PROBES = 3  # bwrap's tries at start: on a loaded machine one may fail (its verdict is for life)
# The socket dir (/run/preview inside): its sockets and an Express app's route table
# (at most 1 MiB, written beside and renamed over: twice that at once).
SOCKET_DIR_BYTES = 4 * 1024 * 1024
SOCKET_DIR_FILES = 256


@dataclass(frozen=True)
class Isolation:
    """The machine's answer, for every preview of this service."""

    mode: str
    tools: SandboxTools | None = None
    cgroups: CgroupRoot | None = None
    reason: str | None = None  # why previews are not (fully) confined
    read_only: tuple[Path, ...] = ()
    seccomp: bytes | None = None  # the system-call filter (seccomp.filter_program)
    etc_dir: Path | None = None  # the sandboxes' /etc (sandbox.copy_system_etc)

    @classmethod
    def probe(cls, settings: Settings) -> Isolation:
        """Blocking (runs bwrap once, writes a probe cgroup): call it in a thread."""
        mode = settings.sandbox
        if mode == "off":
            return cls(mode, reason="PREVIEW_SANDBOX=off")
        tools = SandboxTools.find()
        if tools is None:
            return cls(mode, reason="bubblewrap or socat is not installed")
        problem = _bwrap_problem(tools)
        if problem is not None:
            return cls(mode, reason=f"bubblewrap cannot create namespaces here: {problem}")
        cgroups = CgroupRoot.detect(settings.previews_dir.name)
        return cls(
            mode,
            tools=tools,
            cgroups=cgroups,
            reason=None if cgroups else "no writable cgroup hierarchy: limits not enforced",
            read_only=tuple(interpreter_dirs(settings.python)),
            seccomp=filter_program(),
            # Made, with the previews' directory, before the first launch.
            etc_dir=settings.previews_dir / ".etc",
        )

    @property
    def sandboxed(self) -> bool:
        return self.tools is not None

    @property
    def kind(self) -> str:
        """``bubblewrap+cgroup-v1``, ``bubblewrap`` (no limits) or ``none``."""
        if self.tools is None:
            return "none"
        return (
            "bubblewrap"
            + (f"+{self.cgroups.name}" if self.cgroups else "")
            + ("+seccomp" if self.seccomp else "")
        )

    @property
    def complete(self) -> bool:
        return self.tools is not None and self.cgroups is not None

    def describe(self) -> dict[str, object]:
        return {"mode": self.mode, "isolation": self.kind, "problem": self.reason}

    def confine(
        self,
        settings: Settings,
        preview_id: str,
        *,
        port: int,
        app_dir: Path,
        read_only: tuple[Path, ...] = (),
        volumes: tuple[tuple[Path, str], ...] = (),
        outbound: Outbound = _NOTHING_OUT,
    ) -> Confinement | None:
        """An app's: its HTTP forwarder, its port's uid, its ways out, its volumes."""
        if self.tools is None:
            return None
        sockets = settings.sockets_dir  # short enough for a socket's path
        return Confinement(
            self,
            settings,
            name=preview_id,
            port=port,
            app_dir=app_dir,
            socket_dir=sockets / preview_id,
            # Its own (appdir.app_read_only): the service's interpreter only if it is its.
            read_only=tuple(dict.fromkeys(read_only)),
            volumes=volumes,
            outbound_dir=sockets / f"{preview_id}-out" if outbound.opened else None,
            outbound=outbound,
        )

    def confine_step(
        self,
        settings: Settings,
        name: str,
        *,
        work_dir: Path,
        uid_slot: int,
        read_only: tuple[Path, ...] = (),
        writable: tuple[Path, ...] = (),
        volumes: tuple[tuple[Path, str], ...] = (),
        tools: tuple[Path, ...] = (),
        outbound: Outbound = _NOTHING_OUT,
        limits: CgroupLimits | None = None,
    ) -> Confinement | None:
        """A build's or a set-up step's: no HTTP forwarder; ``uid_slot`` picks its host
        uid (an app's port for its set-up steps, 0 for the shared builder)."""
        if self.tools is None:
            return None
        return Confinement(
            self,
            settings,
            name=name,
            port=uid_slot,
            app_dir=work_dir,
            socket_dir=None,
            read_only=tuple(dict.fromkeys((*self.read_only, *read_only))),
            writable=writable,
            volumes=volumes,
            tools=tools,
            outbound_dir=settings.sockets_dir / f"{name}-out" if outbound.opened else None,
            outbound=outbound,
            limits=limits,
        )

    async def confine_build(
        self,
        settings: Settings,
        env_dir: Path,
        cwd: Path,
        *,
        caches: tuple[Path, ...],
        read_only: tuple[Path, ...],
        tools: tuple[Path, ...],
        outbound: Outbound,
    ) -> Confinement | None:
        """A dependency build's: the shared builder uid, its environment and the download
        caches writable, egress to the package index, room for compilers."""
        for cache in caches:
            await trio.to_thread.run_sync(lambda c=cache: c.mkdir(exist_ok=True))
        return self.confine_step(
            settings,
            f"build-{env_dir.name[:24]}",
            work_dir=cwd,
            uid_slot=0,
            read_only=read_only,
            writable=tuple(p for p in (env_dir, *caches) if p != cwd),
            tools=tools,
            outbound=outbound,
            limits=build_limits(settings),
        )


def build_limits(settings: Settings) -> CgroupLimits:
    """A build's cgroup, and a set-up step's (``npm run build``, a migration): room for
    compilers and bundlers beyond an app's."""
    return CgroupLimits(
        memory_bytes=max(settings.memory_limit_mb, BUILD_MEMORY_MB) * 1024 * 1024,
        pids=max(settings.pids_limit, _BUILD_PIDS),
        cpus=max(settings.cpu_limit, 1.0),
    )


@dataclass
class Confinement:
    """One preview's sandbox and cgroup; from :meth:`prepare` to :meth:`release`."""

    isolation: Isolation
    settings: Settings
    name: str
    port: int
    app_dir: Path
    socket_dir: Path | None  # None: no HTTP forwarder (a build, a set-up step)
    read_only: tuple[Path, ...]
    writable: tuple[Path, ...] = ()
    # (a directory of its own, where inside): its compose service's volumes (Containment)
    volumes: tuple[tuple[Path, str], ...] = ()
    tools: tuple[Path, ...] = ()
    outbound_dir: Path | None = None  # where the service's sockets for its ways out are
    outbound: Outbound = field(default_factory=Outbound)
    limits: CgroupLimits | None = None  # None: a preview's, from the settings
    etc_files: tuple[tuple[Path, str], ...] = ()  # (file, path in /etc) bound over it
    cgroup: PreviewCgroup | None = None
    host_uid: int | None = field(default=None, init=False)

    @property
    def socket_path(self) -> Path:
        assert self.socket_dir is not None
        return self.socket_dir / SOCKET_NAME

    @property
    def ready_socket_path(self) -> Path | None:
        """The one-use socket whose connection waits until the app's port opens; None
        without an HTTP forwarder, and where the service probes the app from inside its
        network namespace instead (see ``netns``)."""
        if self.socket_dir is None or can_enter_netns():
            return None
        return self.socket_dir / READY_SOCKET_NAME

    @property
    def limits_memory(self) -> bool:
        return self.isolation.cgroups is not None

    def prepare(self, argv: list[str]) -> SandboxedCommand:
        """Blocking: the cgroup, the socket dir, ownership; the command to spawn.
        Its outbound sockets must be listening already (see ``egress.open_outbound``)."""
        if self.socket_dir is not None:  # the app's to write in: bounded, not the disk's
            make_bounded_dir(self.socket_dir, SOCKET_DIR_BYTES, SOCKET_DIR_FILES)
        for directory, _ in self.volumes:  # in its own directory: with its rights
            run_as_owner(self.app_dir, partial(directory.mkdir, parents=True, exist_ok=True))
        # A volume's folder that the app's code made a link (or a file) is not bound, and
        # never followed: ThQuangDang's nestjs-clean-architecture binds ./node_modules.
        volumes = tuple((d, inside) for d, inside in self.volumes if _plain_dir(d))
        settings = self.settings
        if self.isolation.cgroups is not None:
            self.cgroup = self.isolation.cgroups.create(
                self.name,
                self.limits
                or CgroupLimits(
                    memory_bytes=settings.memory_limit_mb * 1024 * 1024,
                    pids=settings.pids_limit,
                    cpus=settings.cpu_limit,
                ),
            )
        assert self.isolation.tools is not None
        # Below these, the sandboxed code's own entries: never a link followed there.
        anchors = (settings.previews_dir, settings.sockets_dir, settings.env_cache_dir)
        layout = SandboxLayout(
            app_dir=self.app_dir,
            socket_dir=self.socket_dir,
            read_only=self.read_only,
            tmp_bytes=settings.tmp_limit_mb * 1024 * 1024,
            port=self.port,
            cgroup_procs=self.cgroup.join_files if self.cgroup else (),
            # A quarter of the process limit at most: visitors never spend the rest.
            forwarder_limit=max(8, settings.pids_limit // 4),
            writable=self.writable,
            volumes=volumes,
            tools_inside=self.tools,
            seccomp=self.isolation.seccomp,
            etc_dir=self.isolation.etc_dir,
            ready_forwarder=self.ready_socket_path is not None,
            servers=self.outbound.servers,
            open_writable=partial(open_dir, anchors=anchors),
            outbound=(
                (self.outbound_dir, self.outbound.relays) if self.outbound_dir is not None else None
            ),
            etc_files=[
                *self.etc_files,
                *(
                    [(self.outbound_dir / HOSTS_FILE, "/etc/hosts")]
                    if self.outbound_dir is not None and self.outbound.aliases
                    else []
                ),
            ],
        )
        command = sandboxed_command(self.isolation.tools, argv, layout)
        self.host_uid = command.host_uid
        if command.host_uid is not None:
            for path in (self.app_dir, self.socket_dir, *self.writable, *(d for d, _ in volumes)):
                if path is not None:
                    chown_tree(path, command.host_uid, anchors)
        return command

    def port_forwarder(self, sandbox_pid: int, port: int, address: str) -> tuple[list[str], Path]:
        """The command of a second forwarder, for an app that listens on ``port`` (at
        ``address`` inside) rather than on ``$PORT``, and its socket. Only the sandbox's
        network namespace is entered (``nsenter --net``, which takes the service's root):
        socat runs as the app's host uid, in its cgroup (its forks count against the
        app's limits, and die with it), dies with the service, and creates its socket in
        the sandbox's socket directory, where the first forwarder's is."""
        assert self.socket_dir is not None and self.isolation.tools is not None
        socket = self.socket_dir / f"port-{port}.sock"
        target = f"TCP6:[{address}]:{port}" if ":" in address else f"TCP4:{address}:{port}"
        argv = [
            shutil.which("nsenter") or "nsenter",
            f"--net=/proc/{sandbox_pid}/ns/net",
            "--",
        ]
        setpriv = self.isolation.tools.setpriv
        if setpriv is not None:  # (nsenter --net forks nothing: its parent is this process)
            identity: list[str] = []
            if self.host_uid is not None:
                uid = str(self.host_uid)
                identity = ["--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all"]
            argv += dying_with_this_process(setpriv, *identity)
        limit = max(8, self.settings.pids_limit // 4)
        argv += [
            self.isolation.tools.socat,
            f"UNIX-LISTEN:{socket},fork,max-children={limit},backlog=1024,unlink-early,"
            "unlink-close=0",
            target,
        ]
        if self.cgroup is not None:  # born in it, as the sandbox's processes are
            files = [str(f) for f in self.cgroup.join_files]
            argv = [*joining_cgroup(files), *argv]
        return argv, socket

    def limit_exceeded(self) -> str | None:
        return self.cgroup.limit_exceeded() if self.cgroup else None

    def usage(self) -> tuple[float, float] | None:
        return self.cgroup.usage() if self.cgroup else None

    def ask_to_stop(self, outer_pid: int) -> None:
        """SIGTERM every process of the sandbox but bwrap's own two (the outer one and
        the namespace's init): a SIGTERM to those would SIGKILL the app at once."""
        import psutil

        for process in _tree(outer_pid):
            with contextlib.suppress(psutil.Error):
                if process.name() != "bwrap":
                    process.send_signal(signal.SIGTERM)

    def kill(self, outer_pid: int) -> None:
        """Everything at once: the outer bwrap (its death takes the pid namespace down,
        ``--die-with-parent``) and every process in the cgroup."""
        import psutil

        victims = _tree(outer_pid)
        with contextlib.suppress(OSError):
            os.kill(outer_pid, signal.SIGKILL)
        for process in victims:
            with contextlib.suppress(psutil.Error):
                process.kill()
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def release(self) -> None:
        """Blocking: remove the cgroup and the socket dir (the tree is dead)."""
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cgroup.remove()
        if self.socket_dir is not None:
            remove_tree(self.socket_dir)

    @staticmethod
    def exit_status(returncode: int) -> int:
        """bwrap reports a child killed by signal N as exit code 128 + N; negative, as
        ``subprocess`` reports signals, so the two modes read the same."""
        if returncode > 128 and (returncode - 128) in signal.valid_signals():
            return -(returncode - 128)
        return returncode


def _tree(pid: int) -> list[psutil.Process]:
    import psutil

    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).children(recursive=True)
    return []


def _bwrap_problem(tools: SandboxTools) -> str | None:
    """Why bwrap cannot make a sandbox here (after :data:`_PROBES` tries), or None."""
    argv = [tools.bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    problem = None
    for attempt in range(_PROBES):
        time.sleep(0.5 * attempt)  # none at first (blocking: the probe runs in a thread)
        try:
            result = subprocess.run(argv, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            problem = str(error)
            continue
        if result.returncode == 0:
            return None
        problem = result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
    return problem


def _plain_dir(path: Path) -> bool:
    """Whether ``path`` is a directory itself, not a link to one. Blocking."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
