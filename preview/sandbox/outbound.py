"""What may leave one sandbox, and the service's side of it: :func:`open_outbound`.

A sandbox's ways out are Unix sockets the service listens on, in a directory bound
read-only into the sandbox, where a forwarder inside (socat) carries each connection
from a port of the sandbox's loopback: the HTTP proxy to the allowed hosts (``egress``)
at ``EGRESS_PORT``, and each service the preview is given (a :class:`ServiceRelay`: its
PostgreSQL, say, served by ``preview.backing``) on the ports it names. Servers of the
preview's own that listen on their own Unix sockets (:class:`ServiceMounts`: its Redis,
its MariaDB) are reached the same way, but their directory is bound into the sandbox
instead. The names the app calls all of those by (``db``, ``postgres``, ``redis``, …)
resolve to the sandbox's loopback through its one ``/etc/hosts`` (``HOSTS_FILE`` in the
outbound directory: ``Outbound.aliases``); without such names, through the copy of the
host's ``/etc`` entries the sandboxes show (:func:`copy_system_etc`), its own host name
among them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

from .egress import EGRESS_PORT, EgressPolicy, Report, serve_egress, serve_unix

__all__ = [
    "ETC_SHOWN",
    "HOSTNAME",
    "HOSTS_FILE",
    "Outbound",
    "ServiceMounts",
    "ServiceRelay",
    "accounts_text",
    "copy_system_etc",
    "hosts_text",
    "open_outbound",
    "shown_etc_names",
    "socket_reply",
]

_PROXY_SOCKET = "proxy.sock"
HOSTS_FILE = "hosts"  # the sandbox's /etc/hosts, when services have names
# Its host name (uname -n), which its /etc/hosts gives its loopback as Docker gives a
# container's: Django settings' debug-toolbar idiom, gethostbyname_ex(gethostname()).
HOSTNAME = "preview"


# /etc entries programs commonly need: name resolution of localhost, TLS roots, locale
# and time zone data, the dynamic loader's cache, Debian's alternatives links, and the
# protocols' and services' numbers (eventlet calls getprotobyname("tcp") as it loads:
# "OSError: protocol not found" without them).
ETC_SHOWN = (
    "hosts",
    "protocols",
    "services",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "localtime",
    "mime.types",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "os-release",
)


def shown_etc_names() -> tuple[str, ...]:
    """:data:`ETC_SHOWN`, and the configuration of each Java runtime Debian installs
    (``/etc/java-17-openjdk``, which the JDK's ``conf/`` links into): a build or set-up
    step running Java (liquibase's npm package runs its jar: khoinpBDA's fastify-learning)
    died on "Error loading java.security file" without it."""
    java = sorted(p.name for p in Path("/etc").glob("java-*") if p.is_dir())
    return (*ETC_SHOWN, *java)


def accounts_text(uids: Iterable[int]) -> tuple[str, str]:
    """(``passwd``, ``group``) giving each of ``uids`` an account of its own (``app``,
    its home ``/tmp``), and nothing of the host's accounts: a uid with none fails
    whatever asks who it is (Node's ``os.userInfo()``, which tsx 3 calls at its start:
    "uv_os_get_passwd returned ENOENT"; git: "No user exists for uid")."""
    unique = sorted(set(uids))
    passwd = "".join(f"app:x:{uid}:{uid}::/tmp:/bin/sh\n" for uid in unique)
    group = "".join(f"app:x:{uid}:\n" for uid in unique)
    return passwd, group


def copy_system_etc(destination: Path, uids: Iterable[int] = ()) -> Path:
    """A copy of the host's ``/etc`` entries a sandbox shows (:func:`shown_etc_names`; links
    kept as links), made once per service start, so that each sandbox binds one
    directory, with an account for each of ``uids`` (:func:`accounts_text`: the uids
    its sandboxes run as). Blocking. What changes in the host's ``/etc`` later (new CA
    certificates) reaches previews at the service's next start."""
    staging = destination.with_name(destination.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o755, parents=True)
    for name in shown_etc_names():
        source, target = Path("/etc", name), staging / name
        if not source.exists():
            continue
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        # The entry as a bind of it showed it: a link followed to what it names; the
        # links inside a directory (ssl/certs, alternatives) stay links into /usr.
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target)
    passwd, group = accounts_text(uids)
    if passwd:
        (staging / "passwd").write_text(passwd)
        (staging / "group").write_text(group)
    # Its name as a container's own file says it (a route running ``cat /etc/hostname``,
    # Docker's way of telling which container answered: Aback231's Travel-Flask-API).
    (staging / "hostname").write_text(f"{HOSTNAME}\n")
    hosts = staging / "hosts"
    if hosts.is_file():  # its own name resolves, as the host's does in the host's
        text = hosts.read_text(errors="replace")
        hosts.write_text(f"{text.rstrip(chr(10))}\n127.0.0.1\t{HOSTNAME}\n".lstrip())
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)
    return destination


@dataclass(frozen=True)
class ServiceRelay:
    """A service offered inside a sandbox: connections to any of ``ports`` on its
    loopback are each handed to ``serve`` (in a task of the service's), through the
    Unix socket ``socket_name`` of its outbound directory."""

    socket_name: str
    ports: tuple[int, ...]
    serve: Callable[[trio.SocketStream], Awaitable[None]]


@dataclass(frozen=True)
class ServiceMounts:
    """Servers of the preview's own beside its sandbox (``preview.backing``: its Redis,
    its MariaDB), each listening on a Unix socket in ``directory``, which is bound
    read-only into the sandbox (no task of the service's in between); ``relays``:
    (port, socket path in ``directory``), a forwarder on the sandbox's loopback
    (127.0.0.1 and ::1) at each port; ``links``: (path, target) symbolic links inside
    (a MySQL client's default socket path). Their host names are ``Outbound.aliases``."""

    directory: Path
    relays: tuple[tuple[int, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outbound:
    """What may leave one sandbox: through the proxy, the hosts ``policy`` allows; the
    ``services`` it is given, each on its ports; the ``servers`` of its own, beside it;
    ``aliases``: the host names that resolve to its loopback, where those are."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    services: tuple[ServiceRelay, ...] = ()
    aliases: tuple[str, ...] = ()
    servers: ServiceMounts | None = None

    @property
    def relays(self) -> list[tuple[int, str]]:
        """(port inside, socket name in the sandbox's outbound directory) of each way out."""
        ways = [] if self.policy.closed else [(EGRESS_PORT, _PROXY_SOCKET)]
        return ways + [(port, s.socket_name) for s in self.services for port in s.ports]

    @property
    def ports(self) -> set[int]:
        """Every port of its loopback that something is offered at (not the app's)."""
        servers = self.servers.relays if self.servers is not None else ()
        return {port for port, _ in (*self.relays, *servers)}

    @property
    def opened(self) -> bool:
        """Whether its sandboxes get an outbound directory (ways out, or its hosts)."""
        return bool(self.relays or self.aliases)


async def socket_reply(socket_path: Path, request: bytes, size: int) -> bytes:
    """A server's first answer on its Unix socket (after ``request``, if any): ``b""``
    when it does not listen yet or hangs up (a :class:`ServiceMounts` server's probe)."""
    try:
        stream = await trio.open_unix_socket(str(socket_path))
    except OSError:
        return b""
    async with stream:
        try:
            if request:
                await stream.send_all(request)
            return await stream.receive_some(size)
        except (OSError, trio.BrokenResourceError):
            return b""


def hosts_text(aliases: tuple[str, ...]) -> str:
    """A sandbox's ``/etc/hosts``: ``localhost``, its host name and ``aliases`` are its
    own loopback."""
    names = " ".join(dict.fromkeys(("localhost", HOSTNAME, *aliases)))
    return f"127.0.0.1\t{names}\n::1\tlocalhost ip6-localhost ip6-loopback\n"


@asynccontextmanager
async def open_outbound(
    directory: Path | None, outbound: Outbound, report: Report
) -> AsyncIterator[None]:
    """Serve ``outbound``'s sockets in ``directory`` (made fresh) for the block's
    duration; nothing when it is None. The directory is removed at the end."""
    if directory is None or not outbound.opened:
        yield
        return
    await trio.to_thread.run_sync(_fresh_dir, directory, outbound.aliases)
    try:
        async with trio.open_nursery() as nursery:
            if not outbound.policy.closed:
                await nursery.start(
                    serve_egress, directory / _PROXY_SOCKET, outbound.policy, report
                )
            for service in outbound.services:
                await nursery.start(serve_unix, directory / service.socket_name, service.serve)
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(shutil.rmtree, directory, True)


def _fresh_dir(directory: Path, aliases: tuple[str, ...]) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.chmod(directory, 0o755)
    if aliases:
        (directory / HOSTS_FILE).write_text(hosts_text(aliases))
        os.chmod(directory / HOSTS_FILE, 0o644)
