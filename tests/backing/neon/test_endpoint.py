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

from preview.backing.appdb import SharedLogins, database_server, new_database_name
from preview.backing.neon import NeonEndpoint, endpoint_hosts, endpoint_tls
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
    """The driver's fetchEndpoint: the first label made ``api``, a single label kept."""
    hosts = ("ep-x.eu-central-1.aws.neon.tech", "127.0.0.1", "db", "localhost")
    assert endpoint_hosts(hosts) == (
        "api.eu-central-1.aws.neon.tech",
        "api.0.0.1",
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

    tls = await endpoint_tls(endpoint_hosts(("ep-quiet-sun-123.eu-central-1.aws.neon.tech",)))
    assert tls is not None
    logins = SharedLogins(PG_URL.replace("+psycopg", ""), new_database_name(), "tests")
    endpoint = NeonEndpoint(connect, logins, tls.context)
    trusted = ssl.create_default_context(cadata=tls.certificate.decode())
    socket = directory / "neon.sock"
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_unix, socket, endpoint.serve)
            transport = httpx.AsyncHTTPTransport(uds=str(socket), verify=trusted)
            async with httpx.AsyncClient(transport=transport, timeout=30) as client:
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
            websocket = await client.get("https://api.eu-central-1.aws.neon.tech/v2")
            assert websocket.status_code == 404 and "WebSocket" in websocket.json()["message"]
