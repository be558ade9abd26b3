"""Neon's SQL-over-HTTP endpoint, served inside the sandbox: :class:`NeonEndpoint`.

Neon's serverless driver (``neon()`` of ``@neondatabase/serverless``, Drizzle's
``neon-http``) sends no PostgreSQL protocol: each query is an HTTPS POST to
``https://api.<its host's domain>/sql`` (a host of one label is kept as it is), port 443
whatever its URL says, with the whole connection string in a ``Neon-Connection-String``
header and ``{query, params}`` (or ``{queries: [...]}``, one transaction) as its body.
On the preview's loopback at 443, under those names (:func:`endpoint_hosts`), this answers
as Neon's proxy does, on the preview's own PostgreSQL: each request a session logged in
as the preview's role for the user and database its connection string names, TLS on a
certificate made for the launch (:func:`endpoint_tls`), which the app is told to trust
(``NODE_EXTRA_CA_CERTS``). An error of the server's is a 400 with its fields, which the
driver throws as a ``NeonDbError``. The driver's ``Pool`` and ``Client`` open a WebSocket
at ``wss://<its host>/v2`` instead, PostgreSQL's protocol inside: handed to the
PostgreSQL relay (``websocket``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import h11
import trio

from ..pgrelay import Connect, LoginRefused, Logins, RelayTls, self_signed_argv
from ..pgwire import AuthFailed
from .queries import Query, QueryFailed, Result, open_session, run_query, run_statement
from .websocket import accept_websocket

__all__ = ["ENDPOINT_PORT", "NeonEndpoint", "endpoint_hosts", "endpoint_tls"]

_log = logging.getLogger(__name__)
# The PostgreSQL relay's serving of one client (``PostgresRelay.serve``): the Pool's.
Relay = Callable[[trio.abc.Stream], Awaitable[None]]
ENDPOINT_PORT = 443  # the driver's, whatever port its URL names
_IDLE_TIME = 60.0  # a kept-alive connection's wait for its next request
_REQUEST_TIME = 30.0  # a request's headers and body
_QUERY_TIME = 300.0  # a request's queries, login included
_MAX_BODY = 10 * 1024 * 1024  # Neon's own limit
_MAX_QUERIES = 1024
_TLS_TIME = 20.0
_ISOLATION = {
    "ReadUncommitted": "READ UNCOMMITTED",
    "ReadCommitted": "READ COMMITTED",
    "RepeatableRead": "REPEATABLE READ",
    "Serializable": "SERIALIZABLE",
}
# Types Neon's proxy gives as JSON values when raw text is not asked for.
_INTEGERS, _FLOATS, _JSON, _BOOL = {20, 21, 23, 26}, {700, 701}, {114, 3802}, 16


def endpoint_hosts(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """The names the driver posts to for a URL of each of ``hosts``: its first label
    replaced by ``api`` (``ep-x.eu-central-1.aws.neon.tech`` → ``api.eu-central-1…``,
    ``127.0.0.1`` → ``api.0.0.1``), or by ``apiauth`` where the app passes an
    ``authToken`` (Neon's Authorize, its token not checked here); one of a single label
    kept."""
    names = []
    for host in hosts:
        if "." in host:
            domain = host.split(".", 1)[1]
            names += [f"api.{domain}", f"apiauth.{domain}"]
        else:
            names.append(host)
    return tuple(dict.fromkeys(names))


async def endpoint_tls(names: tuple[str, ...]) -> RelayTls | None:
    """TLS on a P-256 key and self-signed certificate for localhost and ``names``, made by
    ``openssl`` for this launch (its files removed once read); None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    dns = tuple(n for n in names if n != "localhost" and not _is_address(n))
    work = await trio.to_thread.run_sync(tempfile.mkdtemp)
    try:
        key, certificate = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
        argv = self_signed_argv(
            openssl, ("ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"), key, certificate, dns
        )
        with trio.move_on_after(_TLS_TIME):
            made = await trio.run_process(
                argv, capture_stdout=True, capture_stderr=True, check=False
            )
            if made.returncode != 0:
                _log.warning("no TLS for the Neon endpoint: %s", made.stderr.decode()[-300:])
                return None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.set_alpn_protocols(["http/1.1"])
            await trio.to_thread.run_sync(context.load_cert_chain, certificate, key)
            pem = await trio.to_thread.run_sync(Path(certificate).read_bytes)
            return RelayTls(context, pem)
        return None
    finally:
        await trio.to_thread.run_sync(lambda: shutil.rmtree(work, ignore_errors=True))


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class NeonEndpoint:
    """One preview's endpoint; :meth:`serve` takes one connection (TLS, HTTP/1.1,
    requests one after another while it is kept alive)."""

    def __init__(self, connect: Connect, logins: Logins, tls: ssl.SSLContext, relay: Relay) -> None:
        self._connect = connect
        self._logins = logins
        self._tls = tls
        self._relay = relay

    async def serve(self, stream: trio.SocketStream) -> None:
        client = trio.SSLStream(stream, self._tls, server_side=True)
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                request = None
                with trio.move_on_after(_IDLE_TIME):
                    request = await _next_event(client, connection)
                if not isinstance(request, h11.Request):  # closed, or idle too long
                    return
                if _path(request) == b"/v2" and _upgrade(request):
                    # the Pool's and Client's: PostgreSQL's protocol inside, to the relay
                    received, _ = connection.trailing_data
                    websocket = await accept_websocket(
                        client, list(request.headers), request.target, received
                    )
                    if websocket is not None:
                        await self._relay(websocket)
                    return
                with trio.move_on_after(_REQUEST_TIME) as reading:
                    body = await _body(client, connection)
                if reading.cancelled_caught:
                    return
                status, answer = await self._answer(request, body)
                await _respond(client, connection, status, answer)
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    return
                connection.start_next_cycle()
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
            return  # the app went away, or spoke no HTTP/1.1 (its TLS refused the certificate)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(1):
                await client.aclose()

    async def _answer(self, request: h11.Request, body: bytes | None) -> tuple[int, dict[str, Any]]:
        if _path(request) != b"/sql":
            return 404, {"message": _NOT_SERVED}
        if request.method != b"POST":
            return 405, {"message": "POST the query to /sql"}
        if body is None:
            return 413, {"message": f"the request is over {_MAX_BODY} bytes"}
        headers = {k.decode().lower(): v.decode("utf-8", "replace") for k, v in request.headers}
        login = _login(headers.get("neon-connection-string", ""))
        if login is None:
            return 400, {"message": "no connection string (Neon-Connection-String) was given"}
        try:
            batch = _queries(json.loads(body))
        except (ValueError, TypeError) as error:
            return 400, {"message": f"the request is no query: {error}"}
        array_mode = headers.get("neon-array-mode", "").lower() == "true"
        raw_text = headers.get("neon-raw-text-output", "").lower() == "true"
        try:
            with trio.fail_after(_QUERY_TIME):
                results = await self._run(login, batch, _begin(headers))
        except QueryFailed as failed:
            return 400, failed.fields
        except LoginRefused as refused:
            return 400, {"message": str(refused), "code": "28000"}
        except AuthFailed as failed:
            _log.warning("the preview's PostgreSQL refused its own role: %s", failed)
            return 400, {"message": str(failed), "code": "28000"}
        except (OSError, trio.BrokenResourceError, trio.TooSlowError) as error:
            _log.warning("the Neon endpoint could not reach the preview's PostgreSQL: %r", error)
            return 400, {"message": "the database server is unreachable", "code": "08006"}
        answers = [_json_result(r, array_mode, raw_text) for r in results]
        if isinstance(batch, list):
            return 200, {"results": answers}
        return 200, answers[0]

    async def _run(
        self, login: tuple[str, str], batch: Query | list[Query], begin: str
    ) -> list[Result]:
        server = await open_session(self._connect, self._logins, *login)
        async with server:
            if not isinstance(batch, list):
                return [await run_query(server, batch)]
            await run_statement(server, begin)
            results = []
            try:
                for query in batch:
                    results.append(await run_query(server, query))
            except QueryFailed:
                await run_statement(server, "ROLLBACK")
                raise
            await run_statement(server, "COMMIT")
            return results


_NOT_SERVED = (
    "this preview's Neon endpoint answers SQL over HTTP (POST /sql: neon()) and the "
    "WebSocket of the driver's Pool and Client (/v2)"
)


def _path(request: h11.Request) -> bytes:
    return request.target.split(b"?", 1)[0]


def _upgrade(request: h11.Request) -> bool:
    return any(
        name == b"upgrade" and value.strip().lower() == b"websocket"
        for name, value in request.headers
    )


def _login(connection_string: str) -> tuple[str, str] | None:
    """(user, database) of a ``postgresql://`` connection string; None if it names no user."""
    try:
        url = urlsplit(connection_string)
    except ValueError:
        return None
    if url.scheme not in ("postgres", "postgresql") or not url.username:
        return None
    user = unquote(url.username)
    return user, unquote(url.path.lstrip("/")) or user


def _queries(body: Any) -> Query | list[Query]:
    if isinstance(body, dict) and isinstance(body.get("queries"), list):
        if len(body["queries"]) > _MAX_QUERIES:
            raise ValueError(f"over {_MAX_QUERIES} queries in one transaction")
        return [_query(q) for q in body["queries"]]
    return _query(body)


def _query(body: Any) -> Query:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ValueError("a JSON object with its query (a string) was expected")
    params = body.get("params") or []
    if not isinstance(params, list):
        raise ValueError("params must be a list")
    return Query(body["query"], tuple(_parameter(p) for p in params))


def _parameter(value: Any) -> str | None:
    """A parameter as text, as node-postgres' prepareValue gives them (the driver sends
    strings and nulls; a hand-written client may send JSON values)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _begin(headers: dict[str, str]) -> str:
    """A transaction's BEGIN, with its ``Neon-Batch-*`` options."""
    parts = ["BEGIN"]
    level = _ISOLATION.get(headers.get("neon-batch-isolation-level", ""))
    if level is not None:
        parts.append(f"ISOLATION LEVEL {level}")
    read_only = headers.get("neon-batch-read-only", "").lower()
    if read_only in ("true", "false"):
        parts.append("READ ONLY" if read_only == "true" else "READ WRITE")
    deferrable = headers.get("neon-batch-deferrable", "").lower()
    if deferrable in ("true", "false"):
        parts.append("DEFERRABLE" if deferrable == "true" else "NOT DEFERRABLE")
    return " ".join(parts)


def _json_result(result: Result, array_mode: bool, raw_text: bool) -> dict[str, Any]:
    rows: list[Any] = result.rows
    if not raw_text:
        types = [f["dataTypeID"] for f in result.fields]
        rows = [[_json_value(v, t) for v, t in zip(row, types, strict=False)] for row in rows]
    if not array_mode:
        names = [f["name"] for f in result.fields]
        rows = [dict(zip(names, row, strict=False)) for row in rows]
    return {
        "command": result.command,
        "rowCount": result.row_count,
        "rows": rows,
        "fields": result.fields,
        "rowAsArray": array_mode,
    }


def _json_value(value: str | None, type_oid: int) -> Any:
    if value is None:
        return None
    try:
        if type_oid in _INTEGERS:
            return int(value)
        if type_oid in _FLOATS:
            return float(value)
        if type_oid in _JSON:
            return json.loads(value)
    except ValueError:
        return value
    if type_oid == _BOOL:
        return value == "t"
    return value


async def _next_event(client: trio.SSLStream[trio.SocketStream], connection: h11.Connection) -> Any:
    while True:
        event = connection.next_event()
        if event is not h11.NEED_DATA:
            return event
        connection.receive_data(bytes(await client.receive_some(64 * 1024)))


async def _body(
    client: trio.SSLStream[trio.SocketStream], connection: h11.Connection
) -> bytes | None:
    """The request's body; None (the rest read and dropped) when it is over the limit."""
    parts, size = [], 0
    while True:
        event = await _next_event(client, connection)
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size <= _MAX_BODY:
                parts.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(parts) if size <= _MAX_BODY else None
        else:
            raise h11.RemoteProtocolError("the request ended before its body")


async def _respond(
    client: trio.SSLStream[trio.SocketStream],
    connection: h11.Connection,
    status: int,
    answer: dict[str, Any],
) -> None:
    data = json.dumps(answer).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
    response = h11.Response(status_code=status, headers=headers)
    events = (response, h11.Data(data=data), h11.EndOfMessage())
    await client.send_all(b"".join(connection.send(event) or b"" for event in events))
