"""One client's protocol error ends its own connection, never the service: raw sockets
against the real service under Hypercorn (``preview.transport.connection_guard``)."""

from __future__ import annotations

import inspect
import json
import logging
import os
import struct

import pytest
import trio
from hypercorn.protocol.http_stream import HTTPStream
from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
from hypercorn.trio.tcp_server import TCPServer

from preview.proxy import ProxyFastPath
from preview.transport import connection_guard

from ..conftest import SERVER_COMMAND, Service, auth, eventually, server_app
from ..raw_http import address, answers, until_closed

_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
_WRAPPED = {
    "h11.chunk_header_re",
    "h11.request_head_reader",
    "H11Protocol._create_stream",
    "H11Protocol._send_error_response",
    "HTTPStream._send_error_response",
    "TCPServer._close",
    "TCPServer.protocol_send",
    "TCPServer.run",
    "WSStream.handle",
}


def _upgrade(path: str, *, authorization: str = "") -> bytes:
    extra = f"Authorization: {authorization}\r\n" if authorization else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {_KEY.decode()}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


def _masked_text_frame(text: bytes) -> bytes:
    mask = os.urandom(4)
    payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(text))
    return struct.pack("!BB", 0x81, 0x80 | len(text)) + mask + payload


def test_the_guard_wraps_what_hypercorn_still_has() -> None:
    # If a Hypercorn upgrade moves these, the guard stops applying: this must fail then.
    assert connection_guard.install() == _WRAPPED
    assert connection_guard.installed() == _WRAPPED
    assert ASGIWebsocketState.HANDSHAKE
    source = inspect.getsource(WSStream)
    for name in ("self.closed", "self.app_put", "self.handshake", "self.state", "self.stream_id"):
        assert name in source, name
    assert inspect.iscoroutinefunction(WSStream._send_error_response)
    assert "self.stream" in inspect.getsource(TCPServer)
    for name in ("self.start_time", "self.stream_id", "self.scope", "ASGIHTTPState.CLOSED"):
        assert name in inspect.getsource(HTTPStream), name


@pytest.mark.parametrize(
    "path",
    [
        "/nowhere",
        "/api/generations/g_1/preview/logs/ws",
        "/api/generations/g_1/preview/proxy/ws",
        "/api/generations/g_1/preview/proxy/",
    ],
)
@pytest.mark.parametrize("early", [b"X", _masked_text_frame(b"hello")], ids=["byte", "frame"])
async def test_data_before_the_websocket_handshake_ends_that_connection_only(
    service: Service, caplog: pytest.LogCaptureFixture, path: str, early: bytes
) -> None:
    with trio.fail_after(20):
        for _ in range(3):  # the race it lost depended on the app's timing
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(_upgrade(path) + early)
                answer = await until_closed(stream)
            assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 401 ", b"HTTP/1.1 404 ")), answer
            await answers(service)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_upgrade_then_half_close_leaves_the_service_up(service: Service) -> None:
    with trio.fail_after(20):
        for path in ("/nowhere", "/api/generations/g_1/preview/logs/ws"):
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(_upgrade(path))
                await stream.send_eof()
                await until_closed(stream)
            await answers(service)


async def test_early_frame_on_a_live_log_socket_frees_its_subscription(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """The app is still checking the caller when the early frame comes: before the
    fix, Hypercorn answered 400 and then never told the app, which went on feeding a
    subscription for a client long gone, on a connection nobody closed."""
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text
        runtime = service.supervisor.get(launched.json()["previewInstanceId"])
        path = f"/api/generations/{gid}/preview/logs/ws"
        for _ in range(3):
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                request = _upgrade(path, authorization=auth()["Authorization"])
                await stream.send_all(request + _masked_text_frame(b"early"))
                answer = await until_closed(stream)  # the server closes it
            assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 101 ")), answer
            await eventually(lambda: runtime.broadcast.subscriber_count == 0)
        await answers(service)
        await service.stop(gid)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_connection_close_closes_the_connection(service: Service) -> None:
    """quart-trio cancels its task when Hypercorn reports the stream closed, which
    Hypercorn does just before closing the socket from that same task."""
    with trio.fail_after(10):
        for path in ("/api/health", "/api/generations/nope"):
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(
                    f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                )
                assert (await until_closed(stream)).startswith(b"HTTP/1.1 ")


@pytest.mark.parametrize("signed_in", [True, False])
async def test_a_bad_chunk_while_the_app_answers_ends_that_connection_only(
    service: Service, caplog: pytest.LogCaptureFixture, signed_in: bool
) -> None:
    """Unsigned, the app's 401 and its close race the reading task's 400: the close's
    send_eof met the 400's write (BusyResourceError, out of the connection)."""
    authorization = f"Authorization: {auth()['Authorization']}\r\n" if signed_in else ""
    request = (
        b"POST /api/generations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        + f"{authorization}\r\n".encode()
        + (b'5\r\n{"a":\r\nzz\r\n' if signed_in else b"zz\r\n")
    )

    async def client() -> None:
        for _ in range(10):
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(request)
                answer = await until_closed(stream)
            assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 401 ")), answer

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            for _ in range(8):
                nursery.start_soon(client)
        await answers(service)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (
            b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 66_000,
            431,
            "request_head_too_large",
        ),
        (
            b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X-Many: v\r\n" * 6_000,
            431,
            "request_head_too_large",
        ),
        (b"GET /api/gener ations HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request"),
        (b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400, "malformed_request"),
        (
            b"POST /api/generations HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            400,
            "malformed_request",
        ),
        (
            b"POST /api/generations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Authorization: " + auth()["Authorization"].encode() + b"\r\n\r\nzz\r\n",
            400,
            "malformed_request",
        ),
        (
            b"POST /api/generations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
            b"\r\n0\r\n\r\n",
            501,
            "transfer_coding_not_implemented",
        ),
        # A bare LF in a head: h11 read it as a line's end, two headers where a proxy in
        # front may have seen one (the hot path refuses such a head too).
        (
            b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: a\nX-Injected: 1\r\n\r\n",
            400,
            "malformed_request",
        ),
        # A head of bare LFs never ends as the hot path reads heads: refused at once,
        # not after its 30 s for a head.
        (b"GET /api/health HTTP/1.1\nHost: x\n\n", 400, "malformed_request"),
        # A request line past nginx's 8 KiB: 414, whole or not yet whole.
        (
            b"GET /api/health?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            414,
            "request_line_too_long",
        ),
        (b"GET /api/health?q=" + b"a" * 65_536, 414, "request_line_too_long"),
        # A chunk size of 2^64 bytes and more: malformed at once (it was waited for, 408).
        (
            b"POST /api/generations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Authorization: " + auth()["Authorization"].encode() + b"\r\n\r\n"
            b"10000000000000005\r\nab",
            400,
            "malformed_request",
        ),
    ],
    ids=[
        "long-header",
        "many-headers",
        "request-line",
        "header-name",
        "length",
        "chunk",
        "coding",
        "bare-lf-value",
        "bare-lf-head",
        "long-line",
        "long-line-unfinished",
        "chunk-size-overflow",
    ],
)
async def test_a_request_hypercorn_cannot_parse_is_refused_in_the_error_shape(
    service: Service, request_bytes: bytes, status: int, code: str
) -> None:
    """h11's refusals (a head past its limit: 431; anything malformed: 400; a coding
    other than chunked: 501) were sent
    with an empty body, the one answer of the API without the error shape. (The heads
    too large are sent unfinished, and just past the 64 KiB the hot path reads of a
    head before it hands the bytes on, so that all are read: h11 refuses more than 16
    KiB of a head it has not seen the end of.)"""
    with trio.fail_after(10):  # at once: a head or a body is waited for 30 s
        stream = await trio.open_tcp_stream(*address(service))
        async with stream:
            await stream.send_all(request_bytes)
            answer = await until_closed(stream)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status), answer[:300]
        assert b"connection: close" in head.lower() and b"application/json" in head.lower()
        refusal = json.loads(body)
        assert refusal["status"] == "failed" and refusal["error"] == code, refusal
        assert refusal["message"] and isinstance(refusal["details"], dict)
        await answers(service)


async def test_a_bug_below_quarts_error_handler_is_a_500_in_the_error_shape(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception out of the ASGI layers in front of Quart (the fast paths), as a JSON
    envelope nested just under the decoder's limit once raised: Hypercorn answered an
    empty 500. The connection is closed; the service goes on."""

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ProxyFastPath, "_envelope", broken)
    with trio.fail_after(20):
        gid = await service.upload({"main.py": "print('hi')\n"})
        failed = await service.client.post(
            f"/api/generations/{gid}/preview/request", json={"path": "/"}, headers=auth()
        )
        assert failed.status_code == 500, failed.text
        assert failed.json() == {
            "status": "failed",
            "error": "internal_error",
            "message": "The service failed to handle this request; it has been logged.",
            "details": {},
        }
        assert failed.headers["connection"] == "close"
        await answers(service)
