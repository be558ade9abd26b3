"""The PostgreSQL relay in front of a preview's server: :class:`PostgresRelay`.

The app logs in with whatever user, password and database its configuration names
(``postgres:postgres@db:5432/app``); the relay accepts it (it is the preview's own
loopback: nobody else reaches it), asks its :class:`Logins` which of the preview's own
roles and databases that is (made on first use), logs in to the server as that role
(trust, cleartext, MD5 or SCRAM: ``pgwire.authenticate``) and from then on carries the
bytes both ways. The app never learns the role's password, so it cannot log in as
anyone else, nor anywhere else. An app asking for SSL (``sslmode=require``; a knexfile's
``pg.defaults.ssl = { rejectUnauthorized: false }`` once ``DATABASE_URL`` is set, as on
Heroku) gets TLS from the relay, on a self-signed certificate made once by ``openssl``
for ``localhost`` and ``127.0.0.1`` (:func:`relay_tls`), which an app verifying its
server's certificate is told to trust (``builds.appenv``); where it cannot be made SSL is
declined, as a server without it does. A cancel request (a client's way to stop a
running query, on a connection of its own) is passed on only for a session this relay
opened: another preview's sessions cannot be cancelled from here.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import ssl
import struct
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import trio

from ..sandbox.egress import relay_both_ways
from .pgwire import (
    AuthFailed,
    Startup,
    authenticate,
    error_message,
    message,
    read_exactly,
    read_header,
    read_message,
    read_startup,
    startup_message,
)

__all__ = [
    "Connect",
    "Login",
    "LoginRefused",
    "Logins",
    "PostgresRelay",
    "RelayTls",
    "relay_tls",
    "self_signed_argv",
]

_log = logging.getLogger(__name__)
_STARTUP_TIME = 10.0  # the client's startup message
_LOGIN_TIME = 30.0  # a role and database made, the server's login done
_DROPPED = ("user", "database", "replication")  # the relay's to say
_PASSWORD_LIMIT = 64 * 1024  # a pipelined password message, read and dropped
# A hosted server's routing in the startup's ``options`` (Neon's ``options=endpoint%3D<id>``
# in a URL, earlier ``project=<id>``, for clients that send no SNI): no PostgreSQL option.
_ROUTING = re.compile(r"(?:^|(?<=\s))(?:endpoint|project)=\S*")
# Its key and self-signed certificate, in one file: named anew when the certificate
# gained the names the app reaches it by (an older file's, CN=localhost alone, has none).
_CERTIFICATE = "relay-tls-localhost.pem"
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", re.S)


# The command making a self-signed certificate for the preview's own servers: the relay's
# (below) and each private MariaDB's (``mysql.server_tls``), which a Node app is then told
# to trust (``builds.appenv``).
def self_signed_argv(
    openssl: str, key_options: Sequence[str], key: str, certificate: str, names: Sequence[str] = ()
) -> list[str]:
    """``openssl``'s arguments writing a new key (``key_options``: ``-newkey``'s, such as
    ``rsa:2048``) to ``key`` and its certificate to ``certificate``, valid ten years for
    localhost, 127.0.0.1 and the host ``names``."""
    alternatives = ",".join(["DNS:localhost", "IP:127.0.0.1", *(f"DNS:{n}" for n in names)])
    return [
        openssl,
        "req",
        "-x509",
        "-newkey",
        *key_options,
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=localhost",
        "-addext",
        f"subjectAltName={alternatives}",
        "-keyout",
        key,
        "-out",
        certificate,
    ]


@dataclass(frozen=True)
class RelayTls:
    """The relays' TLS: ``context`` serves it, ``certificate`` (PEM, without its key) is
    what a client verifying the server's certificate is given to trust."""

    context: ssl.SSLContext
    certificate: bytes


_TLS: dict[Path, RelayTls] = {}


async def relay_tls(directory: Path) -> RelayTls | None:
    """The relays' TLS: the certificate in ``directory``, made there by ``openssl`` the
    first time; None where it cannot be (no openssl)."""
    if directory in _TLS:
        return _TLS[directory]
    path = directory / _CERTIFICATE
    if not await trio.to_thread.run_sync(path.exists):
        openssl = shutil.which("openssl")
        if openssl is None:
            return None
        await trio.to_thread.run_sync(lambda: directory.mkdir(parents=True, exist_ok=True))
        work = await trio.to_thread.run_sync(lambda: tempfile.mkdtemp(dir=directory))
        key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
        made = await trio.run_process(
            self_signed_argv(openssl, ("rsa:2048",), key, cert),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        if made.returncode != 0:
            _log.warning("no TLS for the PostgreSQL relay: %s", made.stderr.decode()[-300:])
            return None
        await trio.to_thread.run_sync(_keep, Path(work), path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    await trio.to_thread.run_sync(context.load_cert_chain, path)
    certificate = _PEM_CERTIFICATE.search(await trio.to_thread.run_sync(path.read_bytes))
    if certificate is None:  # (load_cert_chain read one: never so)
        return None
    return _TLS.setdefault(directory, RelayTls(context, certificate.group(0)))


def _keep(work: Path, path: Path) -> None:
    """The key and certificate made in ``work`` as one file at ``path`` (only the
    service reads it), at once whoever made it first."""
    combined = work / _CERTIFICATE
    combined.write_bytes((work / "key.pem").read_bytes() + (work / "cert.pem").read_bytes())
    combined.chmod(0o600)
    os.replace(combined, path)
    shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class Login:
    """Who the relay logs in as for an app's (user, database)."""

    role: str
    database: str
    password: str = ""


class LoginRefused(Exception):
    """A login the preview may not have (too many databases, say): told to the app."""


class Logins(Protocol):
    async def login(self, user: str, database: str) -> Login: ...


Connect = Callable[[], Awaitable[trio.SocketStream]]


def _options(options: str) -> str:
    """The startup's ``options`` without a hosted server's routing (:data:`_ROUTING`), which
    the server reads as a command-line argument it refuses ("invalid command-line argument
    for server process: project=…"): DanilloSouza03's Fastify-Video-Manager-API builds its
    URL for Neon (``?options=project%3D${ENDPOINT_ID}``); every query of /videos failed."""
    return " ".join(_ROUTING.sub(" ", options).split())


async def _first_message_passed(client: trio.abc.Stream, server: trio.abc.Stream) -> bool:
    """The client's first message after its login passed to the server (its header here,
    its body relayed with the rest), unless it is a password nobody asked for: Neon's
    driver pipelines its connect (startup, password and first query at once,
    ``pipelineConnect: "password"``), and the relay asks for none (its Pool's WebSocket:
    the server, given the password inside a session, ended it, "Connection terminated
    unexpectedly"). False where the client left instead, or sent a password too long
    to be one."""
    header = await read_header(client)
    if header is None:
        return False
    kind, size = header
    if kind != b"p":
        await server.send_all(kind + struct.pack("!I", size + 4))
        return True
    return size <= _PASSWORD_LIMIT and await read_exactly(client, size) is not None


class PostgresRelay:
    """One preview's relay (see the module doc); :meth:`serve` takes one connection."""

    def __init__(self, connect: Connect, logins: Logins, tls: ssl.SSLContext | None = None) -> None:
        self._connect = connect
        self._logins = logins
        self._tls = tls
        self._sessions: set[tuple[int, int]] = set()  # (pid, secret key) of its own

    async def serve(self, client: trio.abc.Stream) -> None:
        startup = None
        with trio.move_on_after(_STARTUP_TIME):
            startup = await read_startup(client, self._tls)
            if startup is not None and startup.tls and self._tls is not None:
                client = trio.SSLStream(client, self._tls, server_side=True)
                try:
                    startup = await read_startup(client)  # after its handshake
                except trio.BrokenResourceError:
                    return  # the handshake failed: it refused the certificate
        if startup is None:
            return
        if startup.cancel is not None:
            await self._cancel(startup)
            return
        if "replication" in startup.params:
            await client.send_all(error_message("replication is not offered here"))
            return
        server = await self._log_in(client, startup)
        if server is None:
            return
        async with server:
            key = await self._ready(client, server)
            if key is None:
                return
            self._sessions.add(key)
            try:
                if await _first_message_passed(client, server):
                    await relay_both_ways(client, server)
            finally:
                self._sessions.discard(key)

    async def _log_in(self, client: trio.abc.Stream, startup: Startup) -> trio.SocketStream | None:
        """The server's connection, logged in as the preview's role for the app's
        (user, database); None (the app told why) when it cannot be."""
        user = startup.params.get("user", "")
        database = startup.params.get("database") or user
        if not user:
            await client.send_all(error_message("no user named in the startup message"))
            return None
        server = None
        try:
            with trio.fail_after(_LOGIN_TIME):
                login = await self._logins.login(user, database)
                server = await self._connect()
                params = {k: v for k, v in startup.params.items() if k not in _DROPPED}
                if "options" in params:
                    params["options"] = _options(params["options"])
                params = {k: v for k, v in params.items() if k != "options" or v}
                params.update(user=login.role, database=login.database)
                await server.send_all(startup_message(params))
                await authenticate(server, login.role, login.password)
        except LoginRefused as refused:
            await client.send_all(error_message(str(refused)))
        except AuthFailed as failed:
            _log.warning("the preview's PostgreSQL refused its own role: %s", failed)
            await client.send_all(failed.packet or error_message(str(failed), "08004"))
        except (OSError, trio.TooSlowError, trio.BrokenResourceError) as error:
            _log.warning("the preview's PostgreSQL is unreachable: %r", error)
            await client.send_all(error_message("the database server is unreachable", "08006"))
        else:
            return server
        if server is not None:
            await server.aclose()
        return None

    async def _ready(
        self, client: trio.abc.Stream, server: trio.SocketStream
    ) -> tuple[int, int] | None:
        """AuthenticationOk to the app, then the server's messages up to ReadyForQuery;
        the session's (pid, secret key); None if the server ended it meanwhile."""
        await client.send_all(message(b"R", struct.pack("!I", 0)))
        key = (0, 0)
        while True:
            received = await read_message(server)
            if received is None:
                return None
            kind, body = received
            await client.send_all(message(kind, body))
            if kind == b"K" and len(body) == 8:
                key = struct.unpack("!II", body)
            elif kind == b"E":
                return None
            elif kind == b"Z":
                return key

    async def _cancel(self, startup: Startup) -> None:
        if startup.cancel not in self._sessions:
            return  # not a session of this preview's: dropped unanswered
        try:
            with trio.fail_after(_STARTUP_TIME):
                server = await self._connect()
                async with server:
                    await server.send_all(startup.raw)
        except (OSError, trio.TooSlowError, trio.BrokenResourceError):
            pass
