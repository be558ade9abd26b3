"""Queries run on the preview's PostgreSQL as Neon's SQL-over-HTTP answers them.

A session is logged in as the preview's role for the user and database the app's
connection string names (the relay's :class:`~..pgrelay.Logins`), then each query runs by
PostgreSQL's extended protocol (Parse, Bind with text parameters, Describe, Execute,
Sync: one statement, ``$1`` placeholders, as Neon's proxy runs them) and comes back as
Neon's JSON result: ``fields`` (name and type OID each), ``rows`` of text values (the
driver parses them by type, ``Neon-Raw-Text-Output``), ``command`` and ``rowCount`` as
node-postgres reads a command tag.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

import trio

from ..pgrelay import Connect, Logins
from ..pgwire import authenticate, message, read_message, startup_message

__all__ = ["Query", "QueryFailed", "Result", "open_session", "run_query", "run_statement"]

# ErrorResponse's field codes, by the names Neon's proxy answers them under (those of
# node-postgres' DatabaseError, which the driver copies onto its NeonDbError).
_ERROR_FIELDS = {
    "S": "severity",
    "C": "code",
    "M": "message",
    "D": "detail",
    "H": "hint",
    "P": "position",
    "p": "internalPosition",
    "q": "internalQuery",
    "W": "where",
    "s": "schema",
    "t": "table",
    "c": "column",
    "d": "dataType",
    "n": "constraint",
    "F": "file",
    "L": "line",
    "R": "routine",
}
_TAG = re.compile(r"^([A-Za-z]+)(?: (\d+))?(?: (\d+))?")  # node-postgres' reading of it


@dataclass(frozen=True)
class Query:
    text: str
    params: tuple[str | None, ...] = ()


class QueryFailed(Exception):
    """The server's ErrorResponse (``fields``: Neon's names), or a failure of the session."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields.get("message", "the query failed"))
        self.fields = fields


@dataclass
class Result:
    command: str = ""
    row_count: int | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)


async def open_session(
    connect: Connect, logins: Logins, user: str, database: str
) -> trio.SocketStream:
    """The server's connection, logged in as the preview's role for the app's (user,
    database) and ready for queries. Raises what the login raises (``LoginRefused``,
    ``AuthFailed``, ``OSError``), :class:`QueryFailed` where the server refuses it."""
    login = await logins.login(user, database)
    server = await connect()
    try:
        await server.send_all(startup_message({"user": login.role, "database": login.database}))
        await authenticate(server, login.role, login.password)
        await _until_ready(server)
    except BaseException:
        await server.aclose()
        raise
    return server


async def run_statement(server: trio.abc.Stream, sql: str) -> None:
    """A statement without parameters or rows (``BEGIN``, ``COMMIT``), by the simple protocol."""
    await server.send_all(message(b"Q", sql.encode() + b"\0"))
    await _until_ready(server)


async def run_query(server: trio.abc.Stream, query: Query) -> Result:
    """``query``'s result; :class:`QueryFailed` with the server's error."""
    body = b"\0" + query.text.encode() + b"\0" + struct.pack("!H", 0)
    bind = b"\0\0" + struct.pack("!HH", 0, len(query.params))
    for value in query.params:
        if value is None:
            bind += struct.pack("!i", -1)
        else:
            encoded = value.encode()
            bind += struct.pack("!i", len(encoded)) + encoded
    bind += struct.pack("!H", 0)  # every result column as text
    await server.send_all(
        message(b"P", body)
        + message(b"B", bind)
        + message(b"D", b"P\0")
        + message(b"E", b"\0" + struct.pack("!I", 0))
        + message(b"S", b"")
    )
    result = Result()
    failed: QueryFailed | None = None
    while True:
        kind, received = await _next(server)
        if kind == b"T":
            result.fields = _fields(received)
        elif kind == b"D":
            result.rows.append(_row(received))
        elif kind == b"C":
            tag = _TAG.match(received.rstrip(b"\0").decode())
            if tag is not None:
                result.command = tag.group(1)
                count = tag.group(3) or tag.group(2)
                result.row_count = int(count) if count is not None else None
        elif kind == b"E":
            failed = QueryFailed(_error_fields(received))
        elif kind == b"Z":
            if failed is not None:
                raise failed
            return result


async def _next(server: trio.abc.ReceiveStream) -> tuple[bytes, bytes]:
    received = await read_message(server)
    if received is None:
        raise QueryFailed({"message": "the database server closed the session", "code": "08006"})
    return received


async def _until_ready(server: trio.abc.ReceiveStream) -> None:
    """The server's messages up to ReadyForQuery; :class:`QueryFailed` if one was an error."""
    failed: QueryFailed | None = None
    while True:
        kind, body = await _next(server)
        if kind == b"E":
            failed = QueryFailed(_error_fields(body))
        elif kind == b"Z":
            if failed is not None:
                raise failed
            return


def _fields(body: bytes) -> list[dict[str, Any]]:
    (count,) = struct.unpack_from("!H", body)
    offset, fields = 2, []
    for _ in range(count):
        end = body.index(b"\0", offset)
        name = body[offset:end].decode("utf-8", "replace")
        table, column, type_oid, size, modifier, _format = struct.unpack_from(
            "!IhIhih", body, end + 1
        )
        offset = end + 1 + 18
        fields.append(
            {
                "name": name,
                "tableID": table,
                "columnID": column,
                "dataTypeID": type_oid,
                "dataTypeSize": size,
                "dataTypeModifier": modifier,
                "format": "text",
            }
        )
    return fields


def _row(body: bytes) -> list[str | None]:
    (count,) = struct.unpack_from("!H", body)
    offset, values = 2, []
    for _ in range(count):
        (length,) = struct.unpack_from("!i", body, offset)
        offset += 4
        if length < 0:
            values.append(None)
        else:
            values.append(body[offset : offset + length].decode("utf-8", "replace"))
            offset += length
    return values


def _error_fields(body: bytes) -> dict[str, str]:
    fields = {}
    for part in body.split(b"\0"):
        name = _ERROR_FIELDS.get(part[:1].decode("ascii", "replace"))
        if name is not None:
            fields[name] = part[1:].decode("utf-8", "replace")
    return fields
