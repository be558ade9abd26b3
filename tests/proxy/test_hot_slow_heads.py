"""A request's head must be whole within ``hot.path.HEAD_TIMEOUT`` of its first byte: a
client trickling a header line now and then (slowloris) held a connection for ever, each
read given the keep-alive timeout again. An idle kept-alive connection keeps its own
timeout. Real service, real sockets; the head's timeout made short for the test."""

from __future__ import annotations

import pytest
import trio

from preview.proxy.hot import path as hot_path

from ..conftest import Service

_HEALTH = b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.fixture
def short_heads(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(hot_path, "HEAD_TIMEOUT", 1.0)
    return 1.0


async def _connect(service: Service) -> trio.SocketStream:
    host, port = service.url.removeprefix("http://").split(":")
    return await trio.open_tcp_stream(host, int(port))


async def _answer(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = await stream.receive_some()
        assert chunk, data
        data += chunk
    return data


async def test_a_head_trickling_in_is_cut_off_at_its_deadline(
    short_heads: float, service: Service
) -> None:
    with trio.fail_after(30):
        stream = await _connect(service)
        async with stream:
            began = trio.current_time()
            await stream.send_all(b"GET /api/health HTTP/1.1\r\n")
            ended = None
            for line in range(200):  # a line every 0.1 s: each read in time, never whole
                closed = False
                try:
                    await stream.send_all(b"X-Slow-%d: 1\r\n" % line)
                    with trio.move_on_after(0.1):
                        closed = await stream.receive_some() == b""
                except trio.BrokenResourceError:
                    # Closed with our lines unread, the server's kernel resets it: a
                    # send or a read then meets the reset rather than the end.
                    closed = True
                if closed:
                    ended = trio.current_time()
                    break
            assert ended is not None, "the connection outlived 200 trickled lines"
            assert short_heads <= ended - began < short_heads + 10


async def test_a_slow_whole_head_and_an_idle_wait_are_not_cut_off(
    short_heads: float, service: Service
) -> None:
    with trio.fail_after(30):
        stream = await _connect(service)
        async with stream:
            for piece in (_HEALTH[:10], _HEALTH[10:30], _HEALTH[30:]):
                await stream.send_all(piece)
                await trio.sleep(0.1)  # in pieces, whole within its second
            assert b'"status":"ok"' in (await _answer(stream)).replace(b" ", b"")
            await trio.sleep(short_heads * 1.5)  # idle longer than a head may take
            await stream.send_all(_HEALTH)
            assert (await _answer(stream)).startswith(b"HTTP/1.1 200")
