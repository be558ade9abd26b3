"""The one way out of a sandbox: an HTTP proxy that lets through only allowed hosts.

A sandbox's network namespace has a loopback device only. Where a sandboxed process may
reach the outside (a build, its package index; an app, the hosts ``PREVIEW_EGRESS``
names), its sandbox gets ``HTTP(S)_PROXY=http://127.0.0.1:<EGRESS_PORT>``: a forwarder
inside (socat) carries each connection to a Unix socket the service listens on
(:func:`serve_egress`), bound read-only into the sandbox so it cannot be replaced. The
service reads the request's head, and only for an allowed host does it connect:
``CONNECT host:port`` (HTTPS, anything tunnelled) or an absolute-form request
(``GET http://host/…``, plain HTTP), then relays bytes both ways.

Names are resolved here, never inside; an allowed name whose addresses are internal
(loopback, private, shared, link-local: the service itself, databases, other previews,
the cloud's metadata service; also written as IPv6 embedding one, ``runtime.addresses``)
is refused unless the operator named it as trusted (a
package mirror on the local network). Every refusal is reported to the preview's log.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trio

from .addresses import is_internal

__all__ = [
    "DATABASE_PORT",
    "EGRESS_PORT",
    "EgressPolicy",
    "Outbound",
    "open_outbound",
    "proxy_environment",
    "serve_egress",
]

_log = logging.getLogger(__name__)

EGRESS_PORT = 65531  # inside the sandbox (its own network namespace); above any port pool
DATABASE_PORT = 5432  # inside: the relay to the previews' PostgreSQL server
_PROXY_SOCKET = "proxy.sock"
_DATABASE_SOCKET = "db.sock"
_HEAD_LIMIT = 16 * 1024
_HEAD_TIME = 10.0
_CONNECT_TIME = 10.0
_IDLE_TIME = 300.0  # a tunnel with no byte either way for this long is closed
_MAX_TUNNELS = 64  # at once, per sandbox
_CHUNK = 65536
# What an index named by URL implies: PyPI serves its files from another host.
_PYPI = ("pypi.org", "files.pythonhosted.org")
_NPM = ("registry.npmjs.org",)

Report = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class EgressPolicy:
    """Which hosts a sandbox may reach through its proxy."""

    hosts: frozenset[str] = frozenset()  # exact names
    suffixes: tuple[str, ...] = ()  # ".example.com": its subdomains
    any_host: bool = False  # "*": any public host
    trusted: frozenset[str] = frozenset()  # names whose non-public addresses are fine

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """``PREVIEW_EGRESS``: empty (nothing), ``*`` (any public host), or names and
        ``.suffix`` entries separated by commas."""
        entries = [e.strip().lower() for e in text.split(",") if e.strip()]
        if "*" in entries:
            return cls(any_host=True)
        return cls(
            hosts=frozenset(e for e in entries if not e.startswith(".")),
            suffixes=tuple(e for e in entries if e.startswith(".")),
        )

    @classmethod
    def for_builds(cls, index_url: str, find_links: str) -> EgressPolicy:
        """The package indexes a build may reach: the configured one (trusted: it may be
        a mirror on the local network), else PyPI; npm's registry."""
        hosts = set(_NPM)
        trusted: set[str] = set()
        for url in (index_url, find_links):
            host = urlsplit(url).hostname if "://" in url else None
            if host:
                hosts.add(host.lower())
                trusted.add(host.lower())
        if not index_url:
            hosts.update(_PYPI)
        return cls(hosts=frozenset(hosts), trusted=frozenset(trusted))

    @property
    def closed(self) -> bool:
        return not (self.any_host or self.hosts or self.suffixes)

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return (
            self.any_host
            or host in self.hosts
            or any(host.endswith(suffix) for suffix in self.suffixes)
        )

    def describe(self) -> str:
        if self.any_host:
            return "any public host"
        return ", ".join(sorted(self.hosts) + [f"*{s}" for s in self.suffixes]) or "none"


def proxy_environment(*, local_direct: bool = True) -> dict[str, str]:
    """What tells a sandboxed process's HTTP clients (Python's, uv, pip, npm) to go out
    through its proxy. ``local_direct``: its own loopback is not proxied (an app's calls
    to itself); a build has nothing local, and its index may be the host's."""
    url = f"http://127.0.0.1:{EGRESS_PORT}"
    local = "localhost,127.0.0.1,::1" if local_direct else ""
    return {
        "HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
        "ALL_PROXY": url, "all_proxy": url, "NO_PROXY": local, "no_proxy": local,
        "npm_config_proxy": url, "npm_config_https_proxy": url,
        "npm_config_noproxy": local,
    }  # fmt: skip


@dataclass(frozen=True)
class Outbound:
    """What may leave one sandbox: through the proxy, the hosts ``policy`` allows; and,
    when ``database`` names the previews' PostgreSQL server (host, port), a relay to it
    and nowhere else (its ``127.0.0.1:DATABASE_PORT`` inside)."""

    policy: EgressPolicy = EgressPolicy()
    database: tuple[str, int] | None = None
    database_role: str = ""  # the one role (and database) the relay lets it log in as

    @property
    def relays(self) -> list[tuple[int, str]]:
        """(port inside, socket name in the sandbox's outbound directory) of each way out."""
        ways = [] if self.policy.closed else [(EGRESS_PORT, _PROXY_SOCKET)]
        return ways + ([(DATABASE_PORT, _DATABASE_SOCKET)] if self.database else [])


@asynccontextmanager
async def open_outbound(
    directory: Path | None, outbound: Outbound, report: Report
) -> AsyncIterator[None]:
    """Serve ``outbound``'s sockets in ``directory`` (made fresh) for the block's
    duration; nothing when it is None. The directory is removed at the end."""
    if directory is None or not outbound.relays:
        yield
        return
    await trio.to_thread.run_sync(_fresh_dir, directory)
    try:
        async with trio.open_nursery() as nursery:
            if not outbound.policy.closed:
                await nursery.start(
                    serve_egress, directory / _PROXY_SOCKET, outbound.policy, report
                )
            if outbound.database is not None:
                await nursery.start(
                    _serve_relay,
                    directory / _DATABASE_SOCKET,
                    outbound.database,
                    outbound.database_role,
                )
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(shutil.rmtree, directory, True)


def _fresh_dir(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.chmod(directory, 0o755)


async def serve_egress(
    socket_path: Path,
    policy: EgressPolicy,
    report: Report,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``socket_path`` until cancelled; every connection is one proxied call
    or tunnel (at most ``_MAX_TUNNELS`` at once: the rest wait for a slot)."""

    async def proxy(client: trio.SocketStream) -> None:
        with trio.move_on_after(_HEAD_TIME):
            head, rest = await _read_head(client)
        if head is not None:  # else too slow, too big or gone
            await _proxy(client, head, rest, policy, report)

    await _serve_unix(socket_path, proxy, task_status)


async def _serve_relay(
    socket_path: Path,
    destination: tuple[str, int],
    role: str,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Every connection to ``socket_path`` is relayed to the PostgreSQL server at
    ``destination``, only there, and only to log in as ``role`` to its database: the
    server sees the service's host, which it may trust more than a stranger's app
    (``trust`` for local connections, say), so the startup message is checked here."""

    async def relay(client: trio.SocketStream) -> None:
        with trio.move_on_after(_HEAD_TIME):
            startup = await _postgres_startup(client)
        if startup is None or _startup_login(startup) != (role, role):
            return  # not the preview's own role and database: closed unanswered
        try:
            with trio.fail_after(_CONNECT_TIME):
                upstream = await trio.open_tcp_stream(*destination)
        except (OSError, trio.TooSlowError):
            return
        async with upstream:
            await upstream.send_all(startup)
            await _relay(client, upstream)

    await _serve_unix(socket_path, relay, task_status)


_SSL_REQUEST, _GSSENC_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 196608


async def _postgres_startup(client: trio.SocketStream) -> bytes | None:
    """The client's startup message (protocol 3), after declining SSL and GSS
    encryption requests (the relay reads the message; the sandbox's loopback is
    private); None for anything else."""
    while True:
        head = await _receive_exactly(client, 8)
        if head is None:
            return None
        length, code = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")
        if length == 8 and code in (_SSL_REQUEST, _GSSENC_REQUEST):
            await client.send_all(b"N")
            continue
        if code != _PROTOCOL_3 or not 8 < length <= _HEAD_LIMIT:
            return None
        body = await _receive_exactly(client, length - 8)
        return None if body is None else head + body


def _startup_login(startup: bytes) -> tuple[str, str] | None:
    """(user, database) of a startup message; the database defaults to the user."""
    parts = startup[8:].split(b"\0")
    try:
        pairs = dict(zip(parts[0::2], parts[1::2], strict=False))
        user = pairs[b"user"].decode()
        return user, pairs.get(b"database", b"").decode() or user
    except (KeyError, UnicodeDecodeError):
        return None


async def _receive_exactly(client: trio.SocketStream, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = await client.receive_some(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


async def _serve_unix(
    socket_path: Path,
    handler: Callable[[trio.SocketStream], Awaitable[None]],
    task_status: trio.TaskStatus[None],
) -> None:
    listener = trio.socket.socket(trio.socket.AF_UNIX)
    try:
        await listener.bind(str(socket_path))
        os.chmod(socket_path, 0o666)  # the sandbox's uid connects; the dir is ours
        listener.listen(128)
        slots = trio.Semaphore(_MAX_TUNNELS)
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                await slots.acquire()
                try:
                    sock, _ = await listener.accept()
                except BaseException:
                    slots.release()
                    raise
                nursery.start_soon(_serve_one, trio.SocketStream(sock), handler, slots)
    finally:
        listener.close()


async def _serve_one(
    client: trio.SocketStream,
    handler: Callable[[trio.SocketStream], Awaitable[None]],
    slots: trio.Semaphore,
) -> None:
    try:
        async with client:
            await handler(client)
    except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # one connection's failure ends that connection only
    except Exception:
        _log.exception("egress connection failed")
    finally:
        slots.release()


async def _read_head(client: trio.SocketStream) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _HEAD_LIMIT:
            return None, b""
        chunk = await client.receive_some(_CHUNK)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


async def _proxy(
    client: trio.SocketStream, head: bytes, rest: bytes, policy: EgressPolicy, report: Report
) -> None:
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3:
        await _refuse(client, 400, "not an HTTP proxy request")
        return
    method, target, version = parts
    if method == "CONNECT":
        host, _, port_text = target.rpartition(":")
        forward = b""
    else:
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            await _refuse(client, 400, "only CONNECT and absolute http:// requests")
            return
        host, port_text = url.hostname, str(url.port or 80)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        forward = b"\r\n".join([f"{method} {path} {version}".encode(), *lines[1:]]) + b"\r\n\r\n"
    host = host.strip("[]").lower()
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        await _refuse(client, 400, "bad target")
        return
    port = int(port_text)
    if not policy.allows(host):
        await report(f"egress refused: {host}:{port} (allowed: {policy.describe()})")
        await _refuse(client, 403, f"{host} is not allowed by PREVIEW_EGRESS")
        return
    address = await _public_address(host, port, trusted=host in policy.trusted)
    if address is None:
        await report(f"egress refused: {host}:{port} resolves to no public address")
        await _refuse(client, 403, f"{host} has no public address")
        return
    try:
        with trio.fail_after(_CONNECT_TIME):
            upstream = await trio.open_tcp_stream(address, port)
    except (OSError, trio.TooSlowError):
        await _refuse(client, 502, f"could not connect to {host}:{port}")
        return
    async with upstream:
        if method == "CONNECT":
            await client.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            await upstream.send_all(forward)
        if rest:
            await upstream.send_all(rest)
        await _relay(client, upstream)


async def _public_address(host: str, port: int, *, trusted: bool) -> str | None:
    try:
        infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    except OSError:
        return None
    addresses: Iterable[str] = (str(info[4][0]) for info in infos)
    for address in addresses:
        if trusted or not is_internal(ipaddress.ip_address(address.split("%")[0])):
            return address
    return None


async def _relay(a: trio.SocketStream, b: trio.SocketStream) -> None:
    idle = trio.CancelScope(deadline=trio.current_time() + _IDLE_TIME)

    async def pump(source: trio.SocketStream, sink: trio.SocketStream) -> None:
        try:
            while chunk := await source.receive_some(_CHUNK):
                idle.deadline = trio.current_time() + _IDLE_TIME
                await sink.send_all(chunk)
            await sink.send_eof()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            idle.cancel()

    with idle:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pump, a, b)
            nursery.start_soon(pump, b, a)


async def _refuse(client: trio.SocketStream, status: int, message: str) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = (message + "\n").encode()
    await client.send_all(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
