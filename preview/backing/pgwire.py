"""The few messages of PostgreSQL's protocol (version 3) the relay reads and writes.

A client's first message (its startup, a cancel request, or a request for SSL, accepted
where the relay has TLS to offer: apps written for a hosted server ask for it, or GSS
encryption, declined: the sandbox's loopback is private), the server's messages
(type byte, length, body), and the client's side of the server's authentication:
trust, cleartext, MD5 and SCRAM-SHA-256 (``scramp``).
"""

from __future__ import annotations

import hashlib
import importlib
import ssl
import struct
from dataclasses import dataclass
from typing import Any

import trio

__all__ = [
    "AuthFailed",
    "Startup",
    "authenticate",
    "error_message",
    "message",
    "read_exactly",
    "read_header",
    "read_message",
    "read_startup",
    "startup_message",
]

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST, PROTOCOL_3 = 80877103, 80877104, 80877102, 196608
_STARTUP_LIMIT = 16 * 1024
_MESSAGE_LIMIT = 64 * 1024 * 1024  # a server's message during start-up; rows are relayed raw


class AuthFailed(Exception):
    """The server refused the login; ``packet`` is its ErrorResponse, when it sent one."""

    def __init__(self, reason: str, packet: bytes = b"") -> None:
        super().__init__(reason)
        self.packet = packet


@dataclass(frozen=True)
class Startup:
    """A client's first message: a login (``params``) or a cancel request (``cancel``:
    the backend's process id and secret key)."""

    params: dict[str, str]
    cancel: tuple[int, int] | None = None
    raw: bytes = b""
    tls: bool = False  # the client asked for SSL and was told yes: TLS comes next


async def read_exactly(stream: trio.abc.ReceiveStream, size: int) -> bytes | None:
    """``size`` bytes of ``stream``; None when it closed before."""
    data = b""
    while len(data) < size:
        chunk = await stream.receive_some(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


async def read_startup(
    client: trio.abc.Stream, tls: ssl.SSLContext | None = None
) -> Startup | None:
    """The client's startup message or cancel request, or its request for SSL where
    ``tls`` can answer it (``Startup.tls``); None for anything else."""
    while True:
        head = await read_exactly(client, 8)
        if head is None:
            return None
        length, code = struct.unpack("!II", head)
        if length == 8 and code == SSL_REQUEST and tls is not None:
            await client.send_all(b"S")
            return Startup({}, tls=True)
        if length == 8 and code in (SSL_REQUEST, GSSENC_REQUEST):
            await client.send_all(b"N")
            continue
        if code == CANCEL_REQUEST and length == 16:
            body = await read_exactly(client, 8)
            if body is None:
                return None
            return Startup({}, cancel=struct.unpack("!II", body), raw=head + body)
        if code != PROTOCOL_3 or not 8 < length <= _STARTUP_LIMIT:
            return None
        body = await read_exactly(client, length - 8)
        if body is None:
            return None
        parts = body.split(b"\0")
        try:
            texts = [p.decode() for p in parts]
        except UnicodeDecodeError:
            return None
        params = {k: v for k, v in zip(texts[0::2], texts[1::2], strict=False) if k}
        return Startup(params, raw=head + body)


def startup_message(params: dict[str, str]) -> bytes:
    body = struct.pack("!I", PROTOCOL_3)
    body += b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!I", len(body) + 4) + body


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def error_message(text: str, code: str = "28000") -> bytes:
    """A FATAL ErrorResponse (default: invalid authorization)."""
    fields = [b"SFATAL", b"VFATAL", b"C" + code.encode(), b"M" + text.encode()]
    return message(b"E", b"\0".join(fields) + b"\0\0")


async def read_message(stream: trio.abc.ReceiveStream) -> tuple[bytes, bytes] | None:
    """(type, body) of the server's next message; None when it closed."""
    header = await read_header(stream)
    if header is None:
        return None
    kind, size = header
    body = await read_exactly(stream, size)
    return None if body is None else (kind, body)


async def read_header(stream: trio.abc.ReceiveStream) -> tuple[bytes, int] | None:
    """(type, size of its body) of the next message, its body left unread; None when the
    stream closed or the length is out of bounds."""
    head = await read_exactly(stream, 5)
    if head is None:
        return None
    (length,) = struct.unpack("!I", head[1:])
    if not 4 <= length <= _MESSAGE_LIMIT:
        return None
    return head[:1], length - 4


def _error_text(body: bytes) -> str:
    for field in body.split(b"\0"):
        if field[:1] == b"M":
            return field[1:].decode("utf-8", "replace")
    return "refused"


async def authenticate(server: trio.abc.Stream, user: str, password: str) -> None:
    """Answer the server's authentication requests as ``user`` until it accepts
    (AuthenticationOk read); :class:`AuthFailed` when it refuses."""
    scram: Any = None  # a scramp.ScramClient: the SCRAM login's state
    while True:
        received = await read_message(server)
        if received is None:
            raise AuthFailed("the server closed the connection")
        kind, body = received
        if kind == b"E":
            raise AuthFailed(_error_text(body), message(kind, body))
        if kind != b"R" or len(body) < 4:
            raise AuthFailed(f"unexpected message {kind!r} during authentication")
        (code,) = struct.unpack("!I", body[:4])
        if code == 0:
            return
        if code == 3:  # cleartext
            await server.send_all(message(b"p", password.encode() + b"\0"))
        elif code == 5:  # md5
            inner = hashlib.md5((password + user).encode()).hexdigest().encode()
            digest = "md5" + hashlib.md5(inner + body[4:8]).hexdigest()
            await server.send_all(message(b"p", digest.encode() + b"\0"))
        elif code == 10:  # SASL: its mechanisms
            offered = [m.decode() for m in body[4:].split(b"\0") if m]
            if "SCRAM-SHA-256" not in offered:
                raise AuthFailed(f"no supported SASL mechanism in {offered}")
            # Imported here, in a thread: 1.5 MiB idle otherwise, and ~30 ms of the loop.
            scramp = await trio.to_thread.run_sync(importlib.import_module, "scramp")
            scram = scramp.ScramClient(["SCRAM-SHA-256"], user, password)
            first = scram.get_client_first().encode()
            payload = b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first
            await server.send_all(message(b"p", payload))
        elif code == 11 and scram is not None:  # SASL continue
            scram.set_server_first(body[4:].decode())
            await server.send_all(message(b"p", scram.get_client_final().encode()))
        elif code == 12 and scram is not None:  # SASL final
            from scramp import ScramException  # loaded by the SASL start above

            try:
                scram.set_server_final(body[4:].decode())
            except ScramException as error:
                raise AuthFailed(f"the server's SCRAM proof is wrong: {error}") from None
        else:
            raise AuthFailed(f"unsupported authentication request {code}")
