"""DirectBodyWriter: chunks written to the socket under a real Hypercorn, the fallback for
what it does not handle, and the service's streams using it."""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import h11
import pytest
import trio
import trio.testing

from preview.services.callers import cancel_on_disconnect
from preview.transport import DirectBodyWriter, fast_stream

from ..conftest import SERVER_COMMAND, Service, auth, read_sse, server_app
from ..hypercorn_serving import hypercorn_serving

App = Callable[[dict, Any, Any], Awaitable[None]]


@asynccontextmanager
async def _hypercorn(app: App) -> AsyncIterator[tuple[str, int]]:
    """A real Hypercorn (trio) serving the bare ASGI ``app`` on a free port."""

    async def asgi(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    async with hypercorn_serving(asgi) as address:
        yield address


async def _get(address: tuple[str, int], version: str = "1.1") -> trio.SocketStream:
    stream = await trio.open_tcp_stream(*address)
    await stream.send_all(f"GET /s HTTP/{version}\r\nHost: x\r\n\r\n".encode())
    return stream


async def _read_response(stream: trio.SocketStream) -> tuple[h11.Response, bytes]:
    """The whole response, checked and de-chunked by h11 (as a client would)."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/s", headers=[("Host", "x")]))
    client.send(h11.EndOfMessage())
    head, body = None, bytearray()
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(await stream.receive_some(1 << 16))
        elif isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            return head, bytes(body)
        else:
            raise AssertionError(event)


async def _write_until_the_client_leaves(
    receive: Any, writer: DirectBodyWriter, chunk: bytes, *, pause: float
) -> None:
    """Writes ``chunk`` again and again (``pause`` s apart, if any) until the app
    receives ``http.disconnect``, as the SSE fast path's stream does."""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cancel_on_disconnect, receive, nursery.cancel_scope)
        while True:
            await writer.write(chunk)
            if pause:
                await trio.sleep(pause)


def _streaming_app(chunk: bytes, *, pause: float, ended: trio.Event) -> App:
    """An app whose response writes ``chunk`` through a ``DirectBodyWriter`` until the
    client leaves (``_write_until_the_client_leaves``), then sets ``ended``."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        writer = DirectBodyWriter.attach(send)
        assert writer is not None
        try:
            await _write_until_the_client_leaves(receive, writer, chunk, pause=pause)
        finally:
            ended.set()

    return app


def _chunks(count: int, size: int) -> list[bytes]:
    return [(b"%08d" % n) * (size // 8) for n in range(count)]


async def test_chunks_that_fill_the_socket_arrive_whole_and_in_order() -> None:
    """16 MiB to a client that reads only once the writer waits: partial sends are
    finished by trio under Hypercorn's lock, and the end of the body is Hypercorn's."""
    chunks = _chunks(2048, 8192)
    attached: list[DirectBodyWriter | None] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        writer = DirectBodyWriter.attach(send)
        attached.append(writer)
        assert writer is not None
        for n, chunk in enumerate(chunks):
            # Odd chunks as the paced wake-up offers them, even ones as the task writes.
            if n % 2 == 0 or not writer.offer(chunk):
                await writer.write(chunk)
            elif writer.pending:
                outcomes["kept a remainder"] += 1
                await writer.write(b"")
            else:
                outcomes["sent whole"] += 1
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    outcomes = {"sent whole": 0, "kept a remainder": 0}
    with trio.fail_after(30):
        async with _hypercorn(app) as address:
            stream = await _get(address)
            await trio.testing.wait_all_tasks_blocked()  # the writer waits for the socket
            head, body = await _read_response(stream)
            await stream.aclose()
    assert head.status_code == 200
    assert (b"transfer-encoding", b"chunked") in head.headers
    assert body == b"".join(chunks)
    assert attached[0] is not None
    assert outcomes["sent whole"] > 0 and outcomes["kept a remainder"] > 0, outcomes


async def test_a_client_reset_during_a_waiting_write_ends_the_response_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The write that waits for a full socket fails; the chunk goes back to Hypercorn
    (outside its send lock), which ends the response: no error, no task left."""
    ended = trio.Event()
    app = _streaming_app(b"x" * 65536, pause=0, ended=ended)

    with trio.fail_after(30):
        async with _hypercorn(app) as address:
            sock = trio.socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            await sock.connect(address)
            await sock.send(b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
            await trio.testing.wait_all_tasks_blocked()  # the writer waits for the socket
            # Close with a reset rather than a FIN: the waiting send fails at once.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            await ended.wait()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_an_http_10_client_gets_the_asgi_path_and_a_close_delimited_body() -> None:
    attached: list[DirectBodyWriter | None] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        attached.append(DirectBodyWriter.attach(send))
        await send({"type": "http.response.body", "body": b"one two", "more_body": False})

    with trio.fail_after(30):
        async with _hypercorn(app) as address:
            stream = await _get(address, version="1.0")
            received = bytearray()
            while data := await stream.receive_some(1 << 16):
                received += data
            await stream.aclose()
    assert attached == [None]
    assert received.endswith(b"\r\n\r\none two")


async def test_a_client_that_leaves_ends_the_response_through_hypercorn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Writes to a connection the client closed go back to ``send``, so Hypercorn's own
    handling ends the response (``http.disconnect``, or cancelling the app when the
    socket failed): no error, nothing left running, and the server goes on serving."""
    ended = trio.Event()
    streaming = _streaming_app(b"x" * 1000, pause=0.001, ended=ended)

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["path"] == "/s":
            await streaming(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with trio.fail_after(30):
        async with _hypercorn(app) as address:
            stream = await _get(address)
            await stream.receive_some(1 << 16)
            await stream.aclose()
            await ended.wait()
            again = await trio.open_tcp_stream(*address)
            await again.send_all(b"GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = bytearray()
            while data := await again.receive_some(1 << 16):
                answer += data
            await again.aclose()
    assert answer.startswith(b"HTTP/1.1 204")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
def attach_results(monkeypatch: pytest.MonkeyPatch) -> list[DirectBodyWriter | None]:
    """What the stream fast path's ``DirectBodyWriter.attach`` returned, in order."""
    results: list[DirectBodyWriter | None] = []
    original = DirectBodyWriter.attach

    def recording(send: Any, **options: Any) -> DirectBodyWriter | None:
        results.append(original(send, **options))
        return results[-1]

    monkeypatch.setattr(fast_stream.DirectBodyWriter, "attach", staticmethod(recording))
    return results


async def test_the_services_streams_write_straight_to_the_socket(
    service: Service, attach_results: list[DirectBodyWriter | None]
) -> None:
    """Fails if a Hypercorn or h11 upgrade makes the writer stop attaching, rather than
    letting every stream fall back to the slower ASGI path unnoticed."""
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running"
        await service.stop(gid)
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with service.client.stream("GET", url, headers=auth()) as response:
            events = await read_sse(response)
    assert events[-1][0] == "end"
    statuses = [data["status"] for _, data, _ in events[:-1] if "status" in data]
    assert {kind for kind, _, _ in events[:-1]} == {"message"}
    assert "running" in statuses and statuses[-1] == "stopped", statuses
    assert len(attach_results) == 1 and attach_results[0] is not None
