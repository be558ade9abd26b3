"""The bubblewrap command line that confines one preview's process tree.

Each preview runs in namespaces of its own (user, pid, mount, network, IPC, UTS,
cgroup) under an unprivileged uid, with every capability dropped, ``no_new_privs``
(bwrap sets it), a fresh session, and only these file systems: the system's read-only
directories (``/usr`` and the few ``/etc`` files programs need), the interpreter and
environments it runs with (read-only), its own directory (read-write, its cwd), a
private size-bounded ``/tmp``, ``/proc`` and a minimal ``/dev``. Its network namespace
has a loopback device only: no egress, and no host port (the service, databases, other
previews) is reachable.

The app keeps binding ``127.0.0.1:$PORT`` inside its namespace, so uvicorn, gunicorn,
Django and Node apps run unchanged. ``socat`` inside the sandbox bridges a Unix socket
in a service-owned directory (bound at ``/run/preview``) to that port: the service talks
to the socket (see ``preview.runtime.upstream``).

Directories are bound from file descriptors the service opens (``--ro-bind-fd``), so the
unprivileged uid never needs to traverse the service's own (often 0700) directories to
reach them; bwrap closes those descriptors before the app starts. Who the app is:

* the service is not root: bwrap makes a user namespace (uid 1000 inside, the
  service's uid outside) with every capability dropped;
* the service is root: a user namespace would map the app to host root (uid 0 owns
  files, whatever the capabilities), so bwrap runs privileged instead, without a user
  namespace, keeping only ``CAP_SETUID``/``CAP_SETGID``, and ``setpriv`` inside turns the
  app into an unprivileged host uid of its own per preview (every capability then gone).

``setpriv --pdeathsig`` makes the outer bwrap die with the service, and
``--die-with-parent`` the sandbox with bwrap: a SIGKILLed service leaves no child behind.

The forwarder accepts at most ``forwarder_limit`` connections at once (socat's
``max-children``; others wait in its backlog): each costs a process of the preview's
cgroup, and visitors must not be able to spend the app's process limit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .child import dying_with_this_process, joining_cgroup
from .outbound import HOSTNAME, ServiceMounts, shown_etc_names

__all__ = [
    "INSIDE_UID",
    "READY_SOCKET_NAME",
    "SERVICES_DIR_INSIDE",
    "TOOLS_DIR_INSIDE",
    "SandboxLayout",
    "SandboxTools",
    "SandboxedCommand",
    "host_uid",
    "interpreter_dirs",
    "reachable_by_others",
    "sandboxed_command",
    "untraversable_parent",
]


SOCKET_DIR_INSIDE = "/run/preview"
SOCKET_NAME = "http.sock"
READY_SOCKET_NAME = "ready.sock"
# How often the one-use readiness forwarder tries the app's port: a refused loopback
# connect costs microseconds, a fork of the forwarder a millisecond of the app's CPU.
_READY_RETRY_S = 0.002
INSIDE_UID = 1000
# + the preview's port: one host uid per live preview, far above the ranges of
# accounts and of /etc/subuid (100000 + 65536 per user).
_HOST_UID_BASE = 1_900_000_000
_SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
# The kernel's lists of the CPUs, read-only (Docker shows /sys read-only whole): programs
# that size themselves to the machine read them. tcmalloc aborts without ``possible``
# (CHECK in NumPossibleCPUsNoCache): workerd, the runtime ``wrangler dev`` and
# ``wrangler d1 migrations apply --local`` start, died at once (tkak5's
# hono-drizzle-d1). Nothing else of /sys is shown.
_CPU_LISTS = tuple(f"/sys/devices/system/cpu/{name}" for name in ("possible", "present", "online"))
EGRESS_DIR_INSIDE = "/run/egress"
TOOLS_DIR_INSIDE = "/run/tools"
DOCKER_SECRETS_INSIDE = "/run/secrets"  # a volume's there may be (Docker's secrets)
SERVICES_DIR_INSIDE = "/run/services"  # its own servers' sockets (outbound.ServiceMounts)


def _launcher(
    socat: str,
    *,
    app_port: int,
    forward: bool,
    ready: bool,
    max_children: int,
    relays: Sequence[tuple[int, str]],
    servers: Sequence[tuple[int, str]] = (),
) -> str:
    """The shell that starts the forwarders and then execs the command.

    socat's own messages (one per refused connection while the app starts) are noise.
    Its default listen backlog (5) would refuse a burst of new connections at once (a
    Unix socket's connect does not wait); forked children must not unlink the socket.
    Beside it (``ready``: where the service cannot probe from inside the sandbox's
    network namespace, see ``netns``), a one-use forwarder takes a single connection
    (the readiness probe's) and tries the app's port every few milliseconds until it
    opens, then carries it and exits: probing through the forking one would fork it
    every time, on the CPU the starting app needs. Each relay listens on a port of the
    sandbox's loopback and carries its connections to a socket of the service's in the
    outbound directory.
    The forwarders carry to ``app_port`` as a number written here, not ``$PORT``:
    an app may be given ``PORT`` as its database's port where its server's port is on
    its command line (Taz742's django-rest-api reads its PostgreSQL's port from
    ``PORT`` in its ``DATABASES``; gunicorn binds the preview's own).
    They start from a subshell that exits at once, so their parent is the sandbox's
    init, which reaps them, rather than the app, which would keep the one-use
    forwarder as a zombie process for its lifetime.
    """
    parts = []
    if forward:
        parts.append(
            f"{socat} UNIX-LISTEN:{SOCKET_DIR_INSIDE}/{SOCKET_NAME},fork,"
            f"max-children={max_children},backlog=1024,unlink-early,unlink-close=0 "
            f"TCP:127.0.0.1:{app_port} 2>/dev/null </dev/null &"
        )
    if forward and ready:
        parts.append(
            f"{socat} UNIX-LISTEN:{SOCKET_DIR_INSIDE}/{READY_SOCKET_NAME},unlink-early "
            f"TCP:127.0.0.1:{app_port},forever,interval={_READY_RETRY_S} 2>/dev/null </dev/null &"
        )
    for port, name in relays:
        parts.append(
            f"{socat} TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr,"
            f"max-children={max_children},backlog=128 "
            f"UNIX-CONNECT:{EGRESS_DIR_INSIDE}/{name} 2>/dev/null </dev/null &"
        )
    for port, name in servers:  # servers of its own: retried while one starts
        for listen in (f"TCP4-LISTEN:{port},bind=127.0.0.1", f"TCP6-LISTEN:{port},bind=[::1]"):
            parts.append(
                f"{socat} {listen},fork,reuseaddr,max-children={max_children},backlog=128 "
                f"UNIX-CONNECT:{SERVICES_DIR_INSIDE}/{name},retry=500,interval=0.01 "
                "2>/dev/null </dev/null &"
            )
    if servers:  # listening before the app starts: it may connect at once
        ports = "|".join(f":{port:04X} 00000000:0000 0A" for port, _ in servers)
        count = f"\"$(grep -cE '{ports}' /proc/net/tcp)\" -ge {len(servers)}"
        wait = f"n=0; until [ {count} ] || [ $n -ge 1000 ]; do sleep 0.002; n=$((n+1)); done; "
        return "( " + " ".join(parts) + " ); " + wait + 'exec "$@"'
    if not parts:
        return 'exec "$@"'
    return "( " + " ".join(parts) + ' ); exec "$@"'


@dataclass(frozen=True)
class SandboxTools:
    """Where the tools are; ``None`` from :meth:`find` when one is missing."""

    bwrap: str
    socat: str
    setpriv: str | None

    @classmethod
    def find(cls) -> SandboxTools | None:
        bwrap, socat = shutil.which("bwrap"), shutil.which("socat")
        if bwrap is None or socat is None:
            return None
        return cls(bwrap=bwrap, socat=socat, setpriv=shutil.which("setpriv"))


@dataclass
class SandboxedCommand:
    """The argv to spawn, the descriptors it must inherit, the uid that owns the
    preview's files on the host (None: the service's own)."""

    argv: list[str]
    pass_fds: list[int] = field(default_factory=list)
    host_uid: int | None = None

    def close_fds(self) -> None:
        """After the spawn (bwrap has its copies) or when the spawn failed."""
        for fd in self.pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pass_fds.clear()


def interpreter_dirs(python: str) -> list[Path]:
    """The directories an interpreter needs: its venv (if any) and its installation."""
    exe = Path(python)
    dirs: list[Path] = []
    venv = exe.parent.parent
    if (venv / "pyvenv.cfg").is_file():
        dirs.append(venv)
    dirs.append(Path(os.path.realpath(exe)).parent.parent)
    return [d for d in dirs if not _under_system(d)]


def host_uid(slot: int) -> int:
    """The unprivileged host uid of a preview (``slot``: its port; 0: the builder)."""
    return _HOST_UID_BASE + slot


def reachable_by_others(paths: Iterable[Path]) -> bool:
    """Whether a uid of no group could reach (traverse to, read) each of ``paths``: the
    condition for running an unsandboxed child under a uid of its own."""
    for path in paths:
        for directory in (path, *path.parents):
            try:
                if not os.stat(directory).st_mode & 0o005:
                    return False
            except OSError:
                return False
    return True


def untraversable_parent(path: Path) -> Path | None:
    """The first existing directory above ``path`` that a uid of no group may not
    traverse (no ``o+x``): the previews' own uids could reach nothing below it."""
    for directory in reversed(path.parents):
        try:
            mode = os.stat(directory).st_mode
        except FileNotFoundError:
            return None  # made by the service, 0711
        except OSError:  # (a name too long): the start's other checks say what is wrong
            return None
        if not mode & 0o001:
            return directory
    return None


def _parents(targets: Iterable[str], below: str | None = None) -> list[str]:
    """Directories on the way to each bound path, made 0755: bwrap would make them as
    0700 (root's, when it runs privileged), which the app's uid could not traverse.
    ``below``: only those inside that directory (a tmpfs mounted since).
    (Plain strings, not pathlib: this runs on every launch's path, for ~30 targets.)"""
    targets = [os.path.normpath(t) for t in targets]
    made: dict[str, None] = {}
    for target in targets:
        parents = []
        parent = os.path.dirname(target)
        while parent not in ("/", ""):
            parents.append(parent)
            parent = os.path.dirname(parent)
        for name in reversed(parents):
            if name == "/tmp" or name in made or _under_system(Path(name)):
                continue
            if below is not None and not _inside(name, below):
                continue
            if any(name == t or _inside(name, t) for t in targets):
                continue  # inside another bound directory: it exists there
            made[name] = None
    return [arg for name in made for arg in ("--perms", "0755", "--dir", name)]


def _scratch_parent(app_dir: str, targets: Sequence[str]) -> str | None:
    """The directory holding ``app_dir`` where a tmpfs of the app's own may stand in for
    it: not ``/``, ``/tmp`` (a tmpfs already) or a system directory, and neither one of
    the other bound paths nor inside one (a revision's folder within the app's own)."""
    app_dir = os.path.normpath(app_dir)
    parent = os.path.dirname(app_dir)
    if parent in ("/", "/tmp", ""):
        return None
    if _under_system(Path(parent)) or _the_sandboxs_own(parent):
        return None
    others = [os.path.normpath(t) for t in targets if os.path.normpath(t) != app_dir]
    if any(parent == t or _inside(parent, t) for t in others):
        return None
    return parent


def _volumes(
    layout: SandboxLayout, mounts: Sequence[tuple[Path, str, str]]
) -> list[tuple[Path, str]]:
    """The layout's volumes that hide none of its other directories: a target that is one
    of them, or holds one (a compose file's ``/home`` where the service's data is in
    ``/home/…``), is left out; so is one inside the system's."""
    others = [target for _, target, _ in mounts]
    return [
        (directory, inside)
        for directory, inside in layout.volumes
        if os.path.isabs(inside)
        and inside not in ("/tmp", "/var")  # tmpfs of its own already
        and inside.split("/")[1] != ""  # its root ("/", "//…")
        and not _the_sandboxs_own(inside)
        and not _under_system(Path(inside))
        and not any(t == inside or _inside(t, inside) or _inside(inside, t) for t in others)
    ]


def _the_sandboxs_own(path: str) -> bool:
    """Whether ``path`` (absolute) is in what bwrap or the sandbox's set-up make: its
    ``/etc`` files, ``/proc``, ``/dev``, ``/run``, ``/sys``; but ``/run/secrets``, where
    Docker mounts a container's secrets and the sandbox makes nothing."""
    if path == DOCKER_SECRETS_INSIDE:
        return False
    return path.split("/")[1] in ("etc", "proc", "dev", "run", "sys")


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory + "/")


def _under_system(path: Path) -> bool:
    text = str(path)
    return any(text == s or _inside(text, s) for s in _SYSTEM)


@dataclass(frozen=True)
class SandboxLayout:
    """What one sandbox shows and holds (see the module doc), as ``sandboxed_command``
    takes it.

    ``app_dir`` is its cwd, writable like ``writable``; ``socket_dir`` (None: no HTTP
    forwarder, as for a build) is where the forwarder's socket goes. ``tools_inside``:
    programs bound read-only into ``/run/tools``. ``outbound``: the directory holding the
    service's sockets for the ways out (bound read-only, so they cannot be replaced) and
    the relays to them, (port inside, socket name). ``seccomp``: a compiled filter (see
    ``seccomp.filter_program``) for everything inside. ``etc_dir``: the sandbox's
    ``/etc`` as :func:`.outbound.copy_system_etc` made it (one bind, where each of its entries
    bound apart took two mounts: 3 ms of every start); None: those entries of the host's.
    ``ready_forwarder``: start the one-use readiness forwarder beside the forking one.
    ``etc_files``: (file, path inside ``/etc``) bound read-only over those (its hosts).
    ``servers``: its own servers' sockets, their forwarders and links (``ServiceMounts``).
    ``open_writable``: how a directory bound writable is opened (``appdir.open_dir``).
    ``volumes``: (a directory, where inside) bound writable there: its compose service's
    volumes (``/data``), none where it would hide another of its directories.

    ``cgroup_procs``: the files that join the cgroups the tree must be in (see
    ``PreviewCgroup.join_files``). A shell writes ``0`` (itself) there and then execs
    bwrap, so every process of the sandbox, from the first, is born inside the cgroups
    (moving it after the spawn would race its first fork).
    """

    app_dir: Path
    socket_dir: Path | None
    read_only: Sequence[Path]
    tmp_bytes: int
    port: int
    cgroup_procs: Sequence[Path] = ()
    forwarder_limit: int = 64
    writable: Sequence[Path] = ()
    tools_inside: Sequence[Path] = ()
    outbound: tuple[Path, Sequence[tuple[int, str]]] | None = None
    seccomp: bytes | None = None
    etc_dir: Path | None = None
    ready_forwarder: bool = True
    etc_files: Sequence[tuple[Path, str]] = ()
    servers: ServiceMounts | None = None
    open_writable: Callable[[Path], int] | None = None
    volumes: Sequence[tuple[Path, str]] = ()


def sandboxed_command(
    tools: SandboxTools, argv: Sequence[str], layout: SandboxLayout
) -> SandboxedCommand:
    """The command that runs ``argv`` confined as ``layout`` says (see the module doc).

    The child's environment is the spawn's own (bwrap passes it through), never put
    on a command line where ``ps`` would show it.
    """
    command = SandboxedCommand(argv=[])
    try:
        binds, mounted = _bound_by_descriptor(layout, command)
    except BaseException:
        command.close_fds()
        raise
    prefix = joining_cgroup([str(f) for f in layout.cgroup_procs]) if layout.cgroup_procs else []
    if tools.setpriv is not None:
        prefix += dying_with_this_process(tools.setpriv)
    identity, inner = _identity(tools, layout.port, command)
    system, etc = _system_binds(layout)
    targets = [*etc, *mounted]
    targets += [f"{TOOLS_DIR_INSIDE}/{tool.name}" for tool in layout.tools_inside]
    # Its directory's parent, a size-bounded tmpfs of its own: an app writing beside
    # its folder (a log file at ``../log/app.log``, as in a container's root-owned /)
    # writes there, not into the service's folder of previews, which it never sees.
    scratch = _scratch_parent(str(layout.app_dir), targets)
    beside: list[str] = []
    if scratch is not None:
        beside = ["--perms", "1777", "--size", str(layout.tmp_bytes), "--tmpfs", scratch]
        beside += _parents((t for t in targets if _inside(t, scratch)), below=scratch)
    launcher = _launcher(
        tools.socat,
        app_port=layout.port,
        forward=layout.socket_dir is not None,
        ready=layout.ready_forwarder,
        max_children=max(1, layout.forwarder_limit),
        relays=layout.outbound[1] if layout.outbound is not None else (),
        servers=layout.servers.relays if layout.servers is not None else (),
    )
    command.argv = [
        *prefix,
        tools.bwrap,
        *identity,
        "--die-with-parent",
        "--new-session",
        "--hostname",
        HOSTNAME,
        # /var, writable as a container's is (an image's /var/log, /var/run …), before
        # the folders bound below it are made: an app logging to /var/logs/app
        # (beerjoa's fastapi-postgresql-boilerplate's loguru sink, from its
        # logging_conf.json) died on the read-only root. Bounded like /tmp; nothing of
        # the host's /var is shown.
        "--perms",
        "1777",
        "--size",
        str(layout.tmp_bytes),
        "--tmpfs",
        "/var",
        *_parents(t for t in targets if not t.startswith("/tmp/")),
        *system,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # POSIX shared memory and semaphores (multiprocessing's locks and queues: loguru's
        # enqueue=True failed EACCES on bwrap's root-owned /dev/shm), Docker's 64 MiB
        "--perms",
        "1777",
        "--size",
        str(64 * 2**20),
        "--tmpfs",
        "/dev/shm",
        "--perms",
        "1777",
        "--size",
        str(layout.tmp_bytes),
        "--tmpfs",
        "/tmp",
        *_parents(t for t in targets if t.startswith("/tmp/")),  # in the new /tmp
        *beside,
        *binds,
        "--remount-ro",
        "/",
        "--chdir",
        str(layout.app_dir),
        "--",
        *inner,
        "/bin/sh",
        "-c",
        launcher,
        "sh",
        *argv,
    ]
    return command


def _bound_by_descriptor(
    layout: SandboxLayout, command: SandboxedCommand
) -> tuple[list[str], list[str]]:
    """bwrap's options binding the layout's directories from descriptors this process
    opens (kept in ``command.pass_fds``), its servers' links, its tools and its seccomp
    filter; and the paths inside the directories are bound at."""
    binds: list[str] = []
    mounts = [(p, str(p), "--ro-bind-fd") for p in layout.read_only]
    if layout.socket_dir is not None:
        mounts += [(layout.socket_dir, SOCKET_DIR_INSIDE, "--bind-fd")]
    if layout.outbound is not None:
        mounts += [(layout.outbound[0], EGRESS_DIR_INSIDE, "--ro-bind-fd")]
    mounts += [(p, str(p), "--bind-fd") for p in (layout.app_dir, *layout.writable)]
    volumes = _volumes(layout, mounts)
    mounts += [(p, inside, "--bind-fd") for p, inside in volumes]
    servers = layout.servers
    if servers is not None:
        mounts += [(servers.directory, SERVICES_DIR_INSIDE, "--ro-bind-fd")]
    for source, target, option in list(mounts):
        try:
            if option == "--bind-fd" and layout.open_writable is not None:
                fd = layout.open_writable(source)
            else:
                fd = os.open(source, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except (NotADirectoryError, FileNotFoundError):
            if (source, target) not in volumes:
                raise
            # A volume's folder in the app's directory that its code made a link (or a
            # file) meanwhile: not bound, never followed; the app finds what it made.
            mounts.remove((source, target, option))
            continue
        command.pass_fds.append(fd)
        binds += [option, str(fd), target]
    for link, target in servers.links if servers is not None else ():
        binds += ["--perms", "0755", "--dir", os.path.dirname(link), "--symlink", target, link]
    for tool in layout.tools_inside:
        binds += ["--ro-bind", str(tool), f"{TOOLS_DIR_INSIDE}/{tool.name}"]
    if layout.seccomp is not None:
        program = os.memfd_create("preview-seccomp", os.MFD_CLOEXEC)
        command.pass_fds.append(program)
        os.write(program, layout.seccomp)
        os.lseek(program, 0, os.SEEK_SET)
        binds += ["--seccomp", str(program)]
    return binds, [target for _, target, _ in mounts]


# The ports below 1024 opened to every uid in the sandbox's own network namespace (its
# ``net.ipv4.ip_unprivileged_port_start``, a sysctl of each namespace; the host's is
# untouched), by its root before setpriv drops it: an app binding port 80 as its image's
# root did (sea36895's bunhono-video: ``Bun.serve({ port: 80 })``, "permission denied
# 0.0.0.0:80" under its uid) listens, and is found and served there (runtime.anyport).
# Nothing else listens in that namespace, nor can be reached from it: the port is the
# app's, as the container's was. Without root (a user namespace of the sandbox's own) the
# file is not the sandbox's to write: the app's bind fails as it did.
_LOW_PORTS_OPEN = [
    "/bin/sh",
    "-c",
    'echo 0 2>/dev/null >/proc/sys/net/ipv4/ip_unprivileged_port_start; exec "$@"',
    "sh",
]


def _identity(
    tools: SandboxTools, port: int, command: SandboxedCommand
) -> tuple[list[str], list[str]]:
    """Who the sandboxed code is (the module doc's two cases): bwrap's options, and the
    ``setpriv`` that turns it into the preview's own host uid inside (as root)."""
    if tools.setpriv is not None and os.geteuid() == 0:
        command.host_uid = host_uid(port)
        uid = str(command.host_uid)
        identity = [
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
        ]
        inner = [tools.setpriv, "--reuid", uid, "--regid", uid, "--clear-groups"]
        return identity, [*_LOW_PORTS_OPEN, *inner, "--inh-caps=-all", "--"]
    inside = str(INSIDE_UID)
    return ["--unshare-all", "--uid", inside, "--gid", inside, "--cap-drop", "ALL"], []


def _system_binds(layout: SandboxLayout) -> tuple[list[str], list[str]]:
    """bwrap's options showing the system's read-only parts and ``/etc`` (the layout's
    copy, else the host's entries a sandbox shows), and the ``/etc`` paths bound."""
    system: list[str] = []
    for path in _SYSTEM:
        if os.path.islink(path):
            system += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            system += ["--ro-bind", path, path]
    if layout.etc_dir is not None:
        etc = ["/etc"]
        system += ["--ro-bind", str(layout.etc_dir), "/etc"]
    else:
        etc = [f"/etc/{n}" for n in shown_etc_names() if os.path.exists(f"/etc/{n}")]
        for path in etc:
            system += ["--ro-bind", path, path]
    for source, target in layout.etc_files:
        system += ["--ro-bind", str(source), target]
    shown = [path for path in _CPU_LISTS if os.path.exists(path)]
    for folder in ("/sys", "/sys/devices", "/sys/devices/system", "/sys/devices/system/cpu"):
        system += ["--perms", "0755", "--dir", folder] if shown else []
    for path in shown:
        system += ["--ro-bind", path, path]
    return system, etc
