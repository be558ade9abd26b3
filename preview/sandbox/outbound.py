"""What may leave one sandbox, and the service's side of it: :func:`open_outbound`.

A sandbox's ways out are Unix sockets the service listens on, in a directory bound
read-only into the sandbox, where a forwarder inside (socat) carries each connection
from a port of the sandbox's loopback: the HTTP proxy to the allowed hosts (``egress``)
at ``EGRESS_PORT``, and the relay to the previews' PostgreSQL server at
``DATABASE_PORT`` (:func:`serve_database_relay`), which lets the preview log in as its
own role to its own database and nothing else.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

from .egress import (
    CONNECT_TIME,
    EGRESS_PORT,
    HEAD_LIMIT,
    HEAD_TIME,
    EgressPolicy,
    Report,
    relay_both_ways,
    serve_egress,
    serve_unix,
)

__all__ = [
    "DATABASE_PORT",
    "Outbound",
    "ServiceMounts",
    "open_outbound",
    "serve_database_relay",
]

DATABASE_PORT = 5432  # inside: the relay to the previews' PostgreSQL server
_PROXY_SOCKET = "proxy.sock"
_DATABASE_SOCKET = "db.sock"


@dataclass(frozen=True)
class ServiceMounts:
    """Servers of the preview's own beside its sandbox (``preview.backing``: its Redis,
    its MariaDB), each listening on a Unix socket in ``directory``, which is bound
    read-only into the sandbox; ``relays``: (port, socket path in ``directory``), a
    forwarder on the sandbox's loopback (127.0.0.1 and ::1) at each port; ``hosts``:
    the sandbox's ``/etc/hosts``, naming the hosts its configuration asks for; ``links``:
    (path, target) symbolic links inside (a MySQL client's default socket path)."""

    directory: Path
    hosts: Path | None = None
    relays: tuple[tuple[int, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outbound:
    """What may leave one sandbox: through the proxy, the hosts ``policy`` allows; and,
    when ``database`` names the previews' PostgreSQL server (host, port), a relay to it
    and nowhere else (its ``127.0.0.1:DATABASE_PORT`` inside)."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    database: tuple[str, int] | None = None
    database_role: str = ""  # the one role (and database) the relay lets it log in as
    servers: ServiceMounts | None = None  # servers of its own (preview.backing)

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
                    serve_database_relay,
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


async def serve_database_relay(
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
        with trio.move_on_after(HEAD_TIME):
            startup = await _postgres_startup(client)
        if startup is None or _startup_login(startup) != (role, role):
            return  # not the preview's own role and database: closed unanswered
        try:
            with trio.fail_after(CONNECT_TIME):
                upstream = await trio.open_tcp_stream(*destination)
        except (OSError, trio.TooSlowError):
            return
        async with upstream:
            await upstream.send_all(startup)
            await relay_both_ways(client, upstream)

    await serve_unix(socket_path, relay, task_status)


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
        if code != _PROTOCOL_3 or not 8 < length <= HEAD_LIMIT:
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
