"""The PostgreSQL relay (backing.pgrelay) in front of the machine's real server: any
user, password and database the app names log in to the preview's own role and
databases (made on first use, dropped at the end), none of another preview's is visible
or cancellable; the server's authentication (cleartext, MD5, SCRAM) is answered."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import ssl
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
import scramp
import trio

from preview.backing.appdb import SharedLogins, database_server, new_database_name
from preview.backing.pgrelay import PostgresRelay, _options, relay_tls
from preview.backing.pgwire import (
    AuthFailed,
    authenticate,
    message,
    read_message,
    startup_message,
)
from preview.sandbox.egress import serve_unix

PG_URL = os.environ.get("PREVIEW_TEST_POSTGRES_URL", "")
needs_pg = pytest.mark.skipif(not PG_URL, reason="PREVIEW_TEST_POSTGRES_URL is not set")


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True)


def _exists(role: str) -> list[str]:
    with _admin() as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s "
            "UNION ALL SELECT rolname FROM pg_roles WHERE rolname = %s",
            (role + "%", role),
        ).fetchall()
    return sorted(r[0] for r in rows)


@asynccontextmanager
async def _relayed(directory: Path) -> AsyncIterator[tuple[SharedLogins, str]]:
    """A preview's relay on ``directory``'s PostgreSQL socket; (its logins, the dir)."""
    server = database_server(PG_URL)
    assert server is not None

    async def connect() -> trio.SocketStream:
        return await trio.open_tcp_stream(*server)

    logins = SharedLogins(PG_URL.replace("+psycopg", ""), new_database_name(), "tests")
    relay = PostgresRelay(connect, logins)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_unix, directory / ".s.PGSQL.5432", relay.serve)
            try:
                yield logins, str(directory)
            finally:
                nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(logins.drop)


def _write_items(host: str) -> None:
    with psycopg.connect(host=host, user="app", password="x", dbname="app") as conn:
        conn.execute("CREATE TABLE items (name text)")
        conn.execute("INSERT INTO items VALUES ('one')")


def _query(host: str, sql: str, **login: str) -> list[tuple]:
    with psycopg.connect(host=host, connect_timeout=10, **login) as conn:
        return conn.execute(sql).fetchall()


def test_a_hosted_servers_routing_is_left_out_of_the_startups_options() -> None:
    """DanilloSouza03's Fastify-Video-Manager-API: its URL for Neon ends
    ``?options=project%3D${ENDPOINT_ID}``, which PostgreSQL refuses as a command-line
    argument: every query failed. Neon's words go; PostgreSQL's own stay."""
    assert _options("project=seu_endpoint") == ""
    assert _options("endpoint=ep-cool-123") == ""
    kept = "-c search_path=app --statement_timeout=5s"
    assert _options(f"endpoint=ep-1 {kept}") == kept
    assert _options(kept) == kept
    assert _options("-c application_name=endpoint=x") == "-c application_name=endpoint=x"


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, host: str) -> None:
    """A TLS handshake in memory, the client checking the server's certificate for
    ``host``; raises what the client refuses."""
    wire_in, wire_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    back_in, back_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    serving = server.wrap_bio(wire_in, back_out, server_side=True)
    calling = client.wrap_bio(back_in, wire_out, server_hostname=host)
    done = [False, False]
    for _ in range(20):
        for index, side in enumerate((calling, serving)):
            if not done[index]:
                try:
                    side.do_handshake()
                    done[index] = True
                except ssl.SSLWantReadError:
                    pass
        wire_in.write(wire_out.read())
        back_in.write(back_out.read())
        if all(done):
            return
    raise AssertionError("the handshake never ended")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl here")
async def test_the_relays_certificate_verifies_for_the_names_an_app_reaches_it_by(
    tmp_path: Path,
) -> None:
    """An app verifying its server's certificate against the one it is given (Node's
    NODE_EXTRA_CA_CERTS: builds.appenv) reaches the relay as localhost or 127.0.0.1."""
    with trio.fail_after(60):
        tls = await relay_tls(tmp_path)
    assert tls is not None and b"PRIVATE KEY" not in tls.certificate
    trusting = ssl.create_default_context(cadata=tls.certificate.decode())
    for host in ("localhost", "127.0.0.1"):
        _handshake(tls.context, trusting, host)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(tls.context, trusting, "db.example.com")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(tls.context, ssl.create_default_context(), "localhost")  # no authority's


@needs_pg
async def test_any_login_is_the_previews_own_role_and_databases(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with _relayed(tmp_path) as (logins, host):
            who = await trio.to_thread.run_sync(
                lambda: _query(
                    host,
                    "SELECT current_user, current_database()",
                    user="postgres",
                    password="postgres",
                    dbname="app",
                )
            )
            assert who == [(logins.role, logins.role)]
            # Another user and password, same database name: the same database.
            await trio.to_thread.run_sync(_write_items, host)
            rows = await trio.to_thread.run_sync(
                lambda: _query(host, "SELECT name FROM items", user="other", dbname="app")
            )
            assert rows == [("one",)]
            # A second name is a second database of its own; "postgres" is no way out.
            for name, suffix in (("test_db", "_1"), ("postgres", "_2")):
                seen = await trio.to_thread.run_sync(
                    lambda name=name: _query(
                        host, "SELECT current_database()", user="u", dbname=name
                    )
                )
                assert seen == [(logins.role + suffix,)]
            # Nothing of the server's other databases (other previews') is listed.
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await trio.to_thread.run_sync(
                    lambda: _query(host, "SELECT datname FROM pg_database", user="u", dbname="app")
                )
            role = logins.role
            made = await trio.to_thread.run_sync(_exists, role)
            assert made == sorted([role, role, f"{role}_1", f"{role}_2"])
        assert await trio.to_thread.run_sync(_exists, role) == []


@needs_pg
async def test_a_password_pipelined_unasked_is_dropped(tmp_path: Path) -> None:
    """Neon's driver pipelines its connect (``pipelineConnect: "password"``): startup,
    password and first query in one write, before any request for a password. The relay
    asks none: the password is dropped (given to the server inside the session, it
    ended it) and the query answered."""
    with trio.fail_after(60):
        async with _relayed(tmp_path) as (_, host):
            stream = await trio.open_unix_socket(os.path.join(host, ".s.PGSQL.5432"))
            async with stream:
                await stream.send_all(
                    startup_message({"user": "neondb_owner", "database": "neondb"})
                    + message(b"p", b"secret\0")
                    + message(b"Q", b"SELECT 40 + 2\0")
                )
                kinds, rows = [], []
                while (received := await read_message(stream)) is not None:
                    kinds.append(received[0])
                    if received[0] == b"D":
                        rows.append(received[1][6:])
                    if received[0] == b"Z" and b"C" in kinds:
                        break
            assert b"E" not in kinds and rows == [b"42"], kinds
            # A "password" too long to be one is not read into the service: the session ends.
            stream = await trio.open_unix_socket(os.path.join(host, ".s.PGSQL.5432"))
            async with stream:
                await stream.send_all(
                    startup_message({"user": "neondb_owner", "database": "neondb"})
                    + message(b"p", b"x" * 70_000)
                )
                kinds = []
                with contextlib.suppress(trio.BrokenResourceError):  # (reset: bytes unread)
                    while (received := await read_message(stream)) is not None:
                        kinds.append(received[0])
            assert b"Z" in kinds and b"D" not in kinds, kinds  # logged in, then ended


def _asleep(role: str) -> bool:
    with _admin() as admin:
        rows = admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE usename = %s AND query LIKE 'SELECT pg_sleep%%'",
            (role,),
        ).fetchall()
    return bool(rows)


@needs_pg
async def test_cancel_requests_reach_only_its_own_sessions(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with _relayed(tmp_path) as (logins, host):
            conn = await trio.to_thread.run_sync(
                lambda: psycopg.connect(host=host, user="app", dbname="app")
            )
            result: list[str] = []

            def sleep() -> None:
                try:
                    conn.execute("SELECT pg_sleep(30)")
                    result.append("ran")
                except psycopg.errors.QueryCanceled:
                    result.append("cancelled")

            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(trio.to_thread.run_sync, sleep)
                    while True:  # polled: the query has begun
                        if await trio.to_thread.run_sync(_asleep, logins.role):
                            break
                        await trio.sleep(0.02)
                    # A cancel request naming a session that is not its own is dropped.
                    stream = await trio.open_unix_socket(f"{host}/.s.PGSQL.5432")
                    async with stream:
                        await stream.send_all(struct.pack("!IIII", 16, 80877102, 1, 2))
                        assert await stream.receive_some(10) == b""
                    assert await trio.to_thread.run_sync(_asleep, logins.role)
                    # Its own (libpq's cancel, by the key the server gave): passed on.
                    # (cancel_safe: plain cancel holds the GIL, and the relay is here.)
                    await trio.to_thread.run_sync(conn.cancel_safe)
            finally:
                await trio.to_thread.run_sync(conn.close)
            assert result == ["cancelled"]


async def _fake_server(method: str, stream: trio.SocketStream) -> None:
    """A server asking for ``method`` (cleartext, md5, scram) of user "u", password "pw"."""
    async with stream:
        if method == "cleartext":
            await stream.send_all(message(b"R", struct.pack("!I", 3)))
            _, body = await read_message(stream) or (b"", b"")
            ok = body == b"pw\0"
        elif method == "md5":
            await stream.send_all(message(b"R", struct.pack("!I", 5) + b"salt"))
            _, body = await read_message(stream) or (b"", b"")
            inner = hashlib.md5(b"pwu").hexdigest().encode()
            ok = body == b"md5" + hashlib.md5(inner + b"salt").hexdigest().encode() + b"\0"
        else:
            mechanism = scramp.ScramMechanism("SCRAM-SHA-256")
            salt, stored, server_key, iterations = mechanism.make_auth_info("pw")
            scram = mechanism.make_server(lambda user: (salt, stored, server_key, iterations))
            await stream.send_all(message(b"R", struct.pack("!I", 10) + b"SCRAM-SHA-256\0\0"))
            _, body = await read_message(stream) or (b"", b"")
            first = body[len(b"SCRAM-SHA-256\0") + 4 :].decode()
            scram.set_client_first(first)
            server_first = scram.get_server_first().encode()
            await stream.send_all(message(b"R", struct.pack("!I", 11) + server_first))
            _, body = await read_message(stream) or (b"", b"")
            try:
                scram.set_client_final(body.decode())
                ok = True
            except scramp.ScramException:
                ok = False
            if ok:
                final = scram.get_server_final().encode()
                await stream.send_all(message(b"R", struct.pack("!I", 12) + final))
        if ok:
            await stream.send_all(message(b"R", struct.pack("!I", 0)))
        else:
            await stream.send_all(message(b"E", b"SFATAL\0C28P01\0Mwrong password\0\0"))


@pytest.mark.parametrize("method", ["cleartext", "md5", "scram"])
async def test_the_servers_authentication_is_answered(method: str) -> None:
    with trio.fail_after(20):
        for password, accepted in (("pw", True), ("wrong", False)):
            client, server = trio.socket.socketpair()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_fake_server, method, trio.SocketStream(server))
                async with trio.SocketStream(client) as stream:
                    if accepted:
                        await authenticate(stream, "u", password)
                    else:
                        with pytest.raises(AuthFailed, match="wrong password"):
                            await authenticate(stream, "u", password)
