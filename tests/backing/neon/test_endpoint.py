"""Neon's SQL-over-HTTP endpoint (backing.neon) on the machine's real PostgreSQL: queries
as the driver posts them (text parameters, raw text, array mode) answered as Neon's proxy
answers, a batch one transaction (rolled back whole on an error, the error's fields a
400), the connection string's user and database the preview's own role's, over TLS on the
certificate made for the names the driver derives."""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import WebSocketConnection, wrap_client_stream

from preview.backing.appdb import SharedLogins, database_server, new_database_name
from preview.backing.neon import NeonEndpoint, endpoint_hosts, endpoint_tls
from preview.backing.pgrelay import PostgresRelay
from preview.backing.pgwire import message, startup_message
from preview.sandbox.egress import serve_unix

PG_URL = os.environ.get("PREVIEW_TEST_POSTGRES_URL", "")
needs_pg = pytest.mark.skipif(not PG_URL, reason="PREVIEW_TEST_POSTGRES_URL is not set")
_URL = "postgresql://neondb_owner:secret@ep-quiet-sun-123.eu-central-1.aws.neon.tech/neondb"
_HEADERS = {
    "Neon-Connection-String": _URL,
    "Neon-Raw-Text-Output": "true",
    "Neon-Array-Mode": "true",
}
_ENDPOINT = "https://api.eu-central-1.aws.neon.tech/sql"


def test_the_driver_posts_to_its_hosts_api_name() -> None:
    """The driver's fetchEndpoint: the first label made ``api`` (``apiauth`` with an
    authToken), a single label kept."""
    hosts = ("ep-x.eu-central-1.aws.neon.tech", "db", "localhost")
    assert endpoint_hosts(hosts) == (
        "api.eu-central-1.aws.neon.tech",
        "apiauth.eu-central-1.aws.neon.tech",
        "db",
        "localhost",
    )


@asynccontextmanager
async def _endpoint(directory: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The endpoint on a Unix socket in ``directory``; a client trusting its certificate."""
    server = database_server(PG_URL)
    assert server is not None

    async def connect() -> trio.SocketStream:
        return await trio.open_tcp_stream(*server)

    host = "ep-quiet-sun-123.eu-central-1.aws.neon.tech"  # its Pool's WebSocket's
    tls = await endpoint_tls((*endpoint_hosts((host,)), host))
    assert tls is not None
    logins = SharedLogins(PG_URL.replace("+psycopg", ""), new_database_name(), "tests")
    endpoint = NeonEndpoint(connect, logins, tls.context, PostgresRelay(connect, logins).serve)
    trusted = ssl.create_default_context(cadata=tls.certificate.decode())
    socket = directory / "neon.sock"
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_unix, socket, endpoint.serve)
            transport = httpx.AsyncHTTPTransport(uds=str(socket), verify=trusted)
            async with httpx.AsyncClient(transport=transport, timeout=30) as client:
                client.trusted, client.socket = trusted, socket  # type: ignore[attr-defined]
                yield client
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(logins.drop)


async def _post(client: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    return await client.post(_ENDPOINT, json=body, headers={**_HEADERS, **headers})


@needs_pg
async def test_queries_are_answered_as_neons_proxy_answers(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with _endpoint(tmp_path) as client:
            made = await _post(
                client, {"query": "CREATE TABLE notes (id serial PRIMARY KEY, body text)"}
            )
            assert made.status_code == 200, made.text
            assert (made.json()["command"], made.json()["rowCount"]) == ("CREATE", None)
            insert = "INSERT INTO notes (body) VALUES ($1), ($2) RETURNING id"
            added = await _post(client, {"query": insert, "params": ["one", None]})
            assert added.json()["command"] == "INSERT" and added.json()["rowCount"] == 2
            assert added.json()["rows"] == [["1"], ["2"]]
            listed = (
                await _post(client, {"query": "SELECT id, body FROM notes ORDER BY id"})
            ).json()
            assert listed["rows"] == [["1", "one"], ["2", None]] and listed["rowAsArray"] is True
            assert [(f["name"], f["dataTypeID"]) for f in listed["fields"]] == [
                ("id", 23),
                ("body", 25),
            ]
            # Without raw text and array mode: objects of JSON values.
            plain = await _post(
                client,
                {"query": "SELECT id, body, id > 1 AS later FROM notes ORDER BY id"},
                **{"Neon-Raw-Text-Output": "false", "Neon-Array-Mode": "false"},
            )
            assert plain.json()["rows"] == [
                {"id": 1, "body": "one", "later": False},
                {"id": 2, "body": None, "later": True},
            ]


@needs_pg
async def test_a_batch_is_one_transaction_and_an_error_is_a_400_with_its_fields(
    tmp_path: Path,
) -> None:
    with trio.fail_after(60):
        async with _endpoint(tmp_path) as client:
            await _post(client, {"query": "CREATE TABLE items (name text UNIQUE)"})
            both = await _post(
                client,
                {
                    "queries": [
                        {"query": "INSERT INTO items VALUES ($1)", "params": ["a"]},
                        {"query": "SELECT count(*) FROM items", "params": []},
                    ]
                },
                **{"Neon-Batch-Isolation-Level": "Serializable"},
            )
            assert both.status_code == 200, both.text
            assert [r["rows"] for r in both.json()["results"]] == [[], [["1"]]]
            failed = await _post(
                client,
                {
                    "queries": [
                        {"query": "INSERT INTO items VALUES ($1)", "params": ["b"]},
                        {"query": "INSERT INTO items VALUES ($1)", "params": ["a"]},
                    ]
                },
            )
            assert failed.status_code == 400
            error = failed.json()
            assert error["code"] == "23505" and error["constraint"] == "items_name_key", error
            assert "duplicate key" in error["message"]
            count = await _post(client, {"query": "SELECT count(*) FROM items"})
            assert count.json()["rows"] == [["1"]]  # "b" rolled back with the batch
            missing = await _post(client, {"query": "SELECT * FROM nowhere"})
            assert (missing.status_code, missing.json()["code"]) == (400, "42P01")
            elsewhere = await client.get("https://api.eu-central-1.aws.neon.tech/other")
            assert elsewhere.status_code == 404 and "/v2" in elsewhere.json()["message"]


@needs_pg
async def test_a_pools_websocket_carries_postgresqls_protocol_to_the_relay(
    tmp_path: Path,
) -> None:
    """The driver's Pool: ``wss://<its host>/v2?address=<host>:5432``, each binary message
    a piece of PostgreSQL's protocol (unencrypted inside), logged in as any user."""
    host = "ep-quiet-sun-123.eu-central-1.aws.neon.tech"
    with trio.fail_after(60):
        async with _endpoint(tmp_path) as client, trio.open_nursery() as nursery:
            stream = await trio.open_unix_socket(str(client.socket))  # type: ignore[attr-defined]
            secure = trio.SSLStream(stream, client.trusted, server_hostname=host)  # type: ignore[attr-defined]
            websocket = await wrap_client_stream(nursery, secure, host, f"/v2?address={host}:5432")
            startup = startup_message({"user": "neondb_owner", "database": "neondb"})
            await websocket.send_message(startup)
            received = _Messages(websocket)
            assert await received.until(b"Z") == b"R"  # AuthenticationOk first
            await websocket.send_message(message(b"Q", b"SELECT 40 + 2 AS answer\0"))
            kinds = []
            while (kind := await received.next()) != b"Z":
                kinds.append(kind)
            assert kinds == [b"T", b"D", b"C"] and received.last_row == b"42"
            await websocket.aclose()


class _Messages:
    """PostgreSQL's messages out of a WebSocket's binary messages."""

    def __init__(self, websocket: WebSocketConnection) -> None:
        self._websocket = websocket
        self._buffer = b""
        self.last_row = b""

    async def next(self) -> bytes:
        while len(self._buffer) < 5 or len(self._buffer) < 1 + int.from_bytes(
            self._buffer[1:5], "big"
        ):
            received = await self._websocket.get_message()
            self._buffer += received if isinstance(received, bytes) else received.encode()
        size = 1 + int.from_bytes(self._buffer[1:5], "big")
        kind, body, self._buffer = self._buffer[:1], self._buffer[5:size], self._buffer[size:]
        if kind == b"D":
            self.last_row = body[6:]  # one column: its count (2 bytes), length (4), value
        return kind

    async def until(self, last: bytes) -> bytes:
        """The first message's kind, the rest read up to ``last``."""
        first = await self.next()
        kind = first
        while kind != last:
            kind = await self.next()
        return first
