"""Parked SSE streams: a waiting stream leaves Hypercorn and its task, and still gets
every event, heartbeat and its end; clients that leave or misbehave are handled."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import h11
import pytest
import trio

from preview.transport import DirectBodyWriter, ParkedStream, ParkedStreams, fast_stream

from ..conftest import (
    SERVER_COMMAND,
    Service,
    auth,
    emitter_app,
    eventually,
    running_service,
)

EMITTER = emitter_app("line")


def _parked(service: Service) -> ParkedStreams:
    parked = service.app.extensions["preview"].parked_streams
    assert parked is not None
    return parked


async def _launch(service: Service) -> tuple[str, dict[str, Any], Any]:
    gid = await service.upload(EMITTER)
    body = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert body["status"] == "running", body
    return gid, body, service.supervisor.get(body["previewInstanceId"])


_Events = list[tuple[str, dict[str, Any], int | None]]  # (kind, data, id) per SSE event


class _SseClient:
    """A raw HTTP/1.1 client of one log stream: h11 checks the framing as it reads."""

    def __init__(self, sock: trio.socket.SocketType) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT)
        self.text = ""
        self.complete = False  # the chunked body ended properly

    async def read(self) -> bool:
        """Read once more; False at the end of the body or of the connection."""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = await self.sock.recv(1 << 16)
                self.h11.receive_data(data)
                if not data:
                    return False
            elif isinstance(event, h11.Data):
                self.text += event.data.decode()
                return True
            elif isinstance(event, h11.EndOfMessage):
                self.complete = True
                return False
            elif isinstance(event, h11.ConnectionClosed):
                return False
            elif not isinstance(event, h11.Response):
                raise AssertionError(event)

    async def receive_once(self, size: int) -> bool:
        """One read of at most ``size`` bytes from the socket (parsed later)."""
        data = await self.sock.recv(size)
        self.h11.receive_data(data)
        return bool(data)

    async def read_until(self, text: str) -> None:
        while text not in self.text:
            assert await self.read(), f"the stream ended before {text!r}"

    async def read_to_end(self) -> None:
        while await self.read():
            pass

    def events(self) -> _Events:
        parsed = []
        for block in self.text.split("\n\n"):
            lines = [line for line in block.splitlines() if ": " in line and line[0] != ":"]
            fields = dict(line.split(": ", 1) for line in lines)
            if "data" in fields:
                event_id = int(fields["id"]) if "id" in fields else None
                kind = fields.get("event", "message")
                parsed.append((kind, json.loads(fields["data"]), event_id))
        return parsed


def _assert_whole_log(client: _SseClient, lines: int) -> _Events:
    """The body ended properly with ``end``, every event came once and in order, and the
    app's lines are ``line 0`` to ``line {lines - 1}``; returns the events."""
    assert client.complete  # the last chunk was sent
    events = client.events()
    ids = [event_id for _, _, event_id in events if event_id is not None]
    assert ids == list(range(1, len(ids) + 1)), "every event once, in order"
    assert [d["message"] for _, d, _ in events if d.get("source") == "app"] == [
        f"line {n}" for n in range(lines)
    ]
    assert events[-1][0] == "end"
    return events


@asynccontextmanager
async def _open_stream(
    service: Service,
    gid: str,
    *,
    rcvbuf: int | None = None,
    extra: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
) -> AsyncIterator[_SseClient]:
    """A stream request sent as one write (with ``extra`` bytes right behind it), with
    ``headers`` besides its Host and credentials."""
    host, port = service.url.removeprefix("http://").split(":")
    sock = trio.socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    with sock:
        await sock.connect((host, int(port)))
        client = _SseClient(sock)
        request = h11.Request(
            method="GET",
            target=f"/api/generations/{gid}/preview/logs/stream",
            headers=[("Host", host), ("Authorization", auth()["Authorization"]), *(headers or [])],
        )
        head = client.h11.send(request) + client.h11.send(h11.EndOfMessage())
        await trio.SocketStream(sock).send_all(head + extra)
        yield client


async def _until_parked(parked: ParkedStreams, count: int, *clients: _SseClient) -> None:
    """Each client has read its backlog (up to ``running``), and ``count`` streams are
    parked."""
    for client in clients:
        await client.read_until('"status":"running"')
    await eventually(lambda: len(parked) == count)


async def _emit(service: Service, body: dict[str, Any], runtime: Any, count: int) -> None:
    """The emitter prints ``count`` lines; returns once they are all published and
    stored."""
    before = runtime.broadcast.last_id
    await service.app_get(body, f"/emit?n={count}")
    await eventually(lambda: runtime.broadcast.last_id >= before + count)
    await runtime.broadcast.wait_persisted(runtime.broadcast.last_id)


@pytest.fixture
def returned_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Appended to when a stream's request handler returns: ``hot`` for the hot path's
    (``HotStreams``, on its own connection), ``asgi`` for the fast path's under Hypercorn."""
    returned: list[str] = []
    for name, cls in (("asgi", fast_stream.StreamFastPath), ("hot", fast_stream.HotStreams)):

        def recording(original: Any, name: str) -> Any:
            async def _stream(self: Any, *args: Any) -> Any:
                result = await original(self, *args)
                returned.append(name)
                return result

            return _stream

        monkeypatch.setattr(cls, "_stream", recording(cls._stream, name))
    return returned


# How a stream's request comes, and so who serves it: on a new connection the hot path
# (below Hypercorn); with an Origin (CORS), Hypercorn and the ASGI fast path.
_WAYS = {"hot": [], "asgi": [("Origin", "http://127.0.0.1")]}


@pytest.mark.parametrize("way", list(_WAYS))
async def test_a_waiting_stream_is_parked_and_still_gets_events_heartbeats_and_its_end(
    service: Service,
    returned_requests: list[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    resumed: list[ParkedStream] = []
    original_resume = ParkedStreams._resume

    def resume(owner: ParkedStreams, stream: ParkedStream) -> None:
        resumed.append(stream)
        original_resume(owner, stream)

    monkeypatch.setattr(ParkedStreams, "_resume", resume)
    with trio.fail_after(60):
        gid, body, runtime = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid, headers=_WAYS[way]) as client:
            await _until_parked(parked, 1, client)
            await eventually(lambda: returned_requests == [way])
            assert runtime.broadcast.subscriber_count == 1
            # Heartbeats (every 0.5 s in the tests) are written by the paced wake-up:
            # no task is started for them.
            await client.read_until(": keep-alive\n\n: keep-alive")
            assert resumed == []
            await service.app_get(body, "/emit?n=3000")
            await client.read_until('"line 2999"')
            await service.stop(gid)
            await client.read_to_end()
            assert await client.sock.recv(1) == b""  # and the connection was closed
        events = _assert_whole_log(client, 3000)
        assert events[-1][1]["status"] == "stopped"
        await eventually(lambda: len(parked) == 0)
        assert runtime.broadcast.subscriber_count == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("cors", [False, True])
async def test_the_hot_path_answers_a_stream_as_hypercorn_does(
    settings: Any, returned_requests: list[str], cors: bool
) -> None:
    """A stream's request on a new connection is the hot path's (issue 70: accepting it
    through Hypercorn cost twice the CPU): the same head, byte for byte but the date, and
    the same body; one it does not take (here, with an Origin) is Hypercorn's. With CORS
    origins configured, both say ``Vary: Origin``."""
    if cors:
        settings = dataclasses.replace(settings, cors_origins="https://ui.example")
    async with running_service(settings) as service:
        await _compare_hot_and_asgi_heads(service, returned_requests, cors)


async def _compare_hot_and_asgi_heads(
    service: Service, returned_requests: list[str], cors: bool
) -> None:
    host, port = service.url.removeprefix("http://").split(":")
    with trio.fail_after(30):
        gid, _, _ = await _launch(service)
        heads = {}
        for way, headers in _WAYS.items():
            sock = trio.socket.socket()
            with sock:
                await sock.connect((host, int(port)))
                lines = [f"GET /api/generations/{gid}/preview/logs/stream HTTP/1.1"]
                lines += [f"Host: {host}", f"Authorization: {auth()['Authorization']}"]
                lines += [f"{name}: {value}" for name, value in headers]
                await sock.send("\r\n".join([*lines, "", ""]).encode())
                received = b""
                while b'"status":"running"' not in received:
                    data = await sock.recv(1 << 16)
                    assert data, received
                    received += data
            head, _, body = received.partition(b"\r\n\r\n")
            heads[way] = (re.sub(rb"date: [^\r]+", b"date: <now>", head), body)
        assert heads["hot"][0] == heads["asgi"][0]
        assert (b"\r\nvary: Origin\r\n" in heads["hot"][0]) is cors
        assert heads["hot"][0].startswith(b"HTTP/1.1 200 \r\ncontent-type: text/event-stream")
        common = min(len(heads["hot"][1]), len(heads["asgi"][1]))  # as far as both read
        assert heads["hot"][1][:common] == heads["asgi"][1][:common]
        await eventually(lambda: sorted(returned_requests) == ["asgi", "hot"])


async def test_a_client_leaving_a_parked_stream_is_noticed_without_any_write(
    service: Service, settings: Any
) -> None:
    object.__setattr__(settings, "keepalive_interval", 3600.0)
    with trio.fail_after(30):
        gid, _, runtime = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid) as client:
            await _until_parked(parked, 1, client)
            beats = runtime.broadcast._beat
        # Nothing is published and no heartbeat is due: only the watcher can see it.
        await eventually(lambda: len(parked) == 0 and runtime.broadcast.subscriber_count == 0)
        assert runtime.broadcast._beat == beats
        await service.stop(gid)


async def test_a_parked_stream_whose_client_reads_late_gets_everything_intact(
    service: Service, settings: Any
) -> None:
    """The client does not read while 30,000 lines go out: the socket fills, a task
    finishes the partial write and reads what left the ring from the database."""
    object.__setattr__(settings, "subscriber_buffer", 10**6)  # late, not dropped
    object.__setattr__(settings, "max_log_lines", 1000)
    with trio.fail_after(90):
        gid, body, runtime = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid, rcvbuf=4096) as client:
            await _until_parked(parked, 1, client)
            await _emit(service, body, runtime, 30000)
            await service.stop(gid)
            await client.read_to_end()
        _assert_whole_log(client, 30000)
        assert runtime.broadcast.dropped_count == 0


async def test_bytes_after_the_request_keep_the_stream_with_its_task_or_are_dropped(
    service: Service,
) -> None:
    """Bytes that came with the request stay Hypercorn's (the stream is not parked);
    bytes sent to a parked stream are read and dropped. Both streams go on."""
    with trio.fail_after(30):
        gid, body, _ = await _launch(service)
        parked = _parked(service)
        async with (
            _open_stream(service, gid, extra=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as kept,
            _open_stream(service, gid) as other,
        ):
            await _until_parked(parked, 1, kept, other)
            await other.sock.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await service.app_get(body, "/emit?n=10")
            await kept.read_until('"line 9"')
            await other.read_until('"line 9"')
            await kept.read_until(": keep-alive")
            assert len(parked) == 1
            await service.stop(gid)
            await kept.read_until("event: end")
            await other.read_to_end()
        assert other.complete and other.events()[-1][0] == "end"


async def test_stopping_the_service_ends_parked_streams(settings: Any) -> None:
    with trio.fail_after(60):
        async with running_service(settings) as service:
            gid, _, _ = await _launch(service)
            parked = _parked(service)
            async with _open_stream(service, gid) as client:
                await _until_parked(parked, 1, client)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(client.read_to_end)
                    # running_service's exit: the supervisor stops every preview.
                    await service.supervisor.aclose()
        assert client.complete and client.events()[-1][0] == "end"
        assert len(parked) == 0


async def test_nothing_parks_before_the_owner_serves() -> None:
    assert ParkedStreams().prepare(object()) is None  # type: ignore[arg-type]


async def test_a_parked_stream_that_fails_ends_alone_and_is_logged(
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure in a parked stream's task (here its writer, at a heartbeat) closes that
    stream's connection, unfinished, so its client resumes; it is logged, and the
    other streams and the service go on."""
    with trio.fail_after(60):
        gid, body, _ = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid) as failing, _open_stream(service, gid) as healthy:
            await _until_parked(parked, 2, failing, healthy)
            client_address = failing.sock.getsockname()
            original_offer, original_write = DirectBodyWriter.offer, DirectBodyWriter.write

            def is_failing(writer: DirectBodyWriter) -> bool:
                return bool(writer._stream.socket.getpeername() == client_address)

            def offer(writer: DirectBodyWriter, data: bytes) -> bool:
                return not is_failing(writer) and original_offer(writer, data)

            async def write(writer: DirectBodyWriter, data: bytes) -> None:
                if is_failing(writer):
                    raise RuntimeError("a bug in the writer")
                await original_write(writer, data)

            monkeypatch.setattr(DirectBodyWriter, "offer", offer)
            monkeypatch.setattr(DirectBodyWriter, "write", write)
            # The next heartbeat's offer is refused, so a task takes it: its write fails.
            await failing.read_to_end()
            assert not failing.complete
            await eventually(lambda: len(parked) == 1)
            await service.app_get(body, "/emit?n=10")
            await healthy.read_until('"line 9"')
            await healthy.read_until(": keep-alive")
            assert (await service.client.get("/api/health")).status_code == 200
            await service.stop(gid)
            await healthy.read_to_end()
        assert healthy.complete and healthy.events()[-1][0] == "end"
    failures = [r for r in caplog.records if r.getMessage() == "a parked log stream failed"]
    assert len(failures) == 1 and "a bug in the writer" in str(failures[0].exc_info)


async def test_closing_the_owner_cuts_a_stream_stuck_in_a_write_after_the_grace(
    service: Service, settings: Any
) -> None:
    """A client that stops reading keeps its stream's task in a write: ``aclose`` gives
    running tasks their grace, then cancels them and closes every stream; streams
    opened afterwards keep their task."""
    object.__setattr__(settings, "subscriber_buffer", 10**6)
    with trio.fail_after(60):
        gid, body, runtime = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid, rcvbuf=4096) as stuck:
            await _until_parked(parked, 1, stuck)
            await _emit(service, body, runtime, 100000)  # ~13 MB
            assert parked._running == 1  # its task waits to finish a write
            started = trio.current_time()
            await parked.aclose(0.2)
            assert trio.current_time() - started >= 0.2
            assert len(parked) == 0 and parked._running == 0
            assert runtime.broadcast.subscriber_count == 0
            async with _open_stream(service, gid) as later:
                await later.read_until('"line 99999"')
                assert len(parked) == 0  # nothing parks once the owner is closed
                await service.stop(gid)
                await later.read_to_end()
        assert later.complete and later.events()[-1][0] == "end"


@pytest.mark.parametrize("parked", [True, False], ids=["parked", "with-hypercorn"])
async def test_a_client_that_takes_nothing_for_the_send_timeout_is_cut_off(
    service: Service, settings: Any, parked: bool
) -> None:
    """Its stream is stuck in a write; after ``PREVIEW_STREAM_SEND_TIMEOUT`` with no
    byte taken, the connection is reset and the stream's task and subscription go,
    whether the stream was parked or still Hypercorn's (bytes behind its request)."""
    object.__setattr__(settings, "subscriber_buffer", 10**6)  # late, never dropped
    object.__setattr__(settings, "stream_send_timeout", 0.5)
    extra = b"" if parked else b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    with trio.fail_after(60):
        gid, body, runtime = await _launch(service)
        streams = _parked(service)
        async with _open_stream(service, gid, rcvbuf=4096, extra=extra) as stuck:
            await stuck.read_until('"status":"running"')
            await eventually(lambda: len(streams) == (1 if parked else 0))
            await _emit(service, body, runtime, 100000)  # ~13 MB
            await eventually(
                lambda: runtime.broadcast.subscriber_count == 0 and streams._running == 0
            )
            assert len(streams) == 0
            with pytest.raises((h11.RemoteProtocolError, OSError)):
                await stuck.read_to_end()  # what had arrived, then the reset
            assert not stuck.complete
        await service.stop(gid)


async def test_a_client_that_reads_slowly_is_not_cut_off(service: Service, settings: Any) -> None:
    """A client emptying its small receive buffer (8 KiB) every 0.2 s keeps its stream's
    write from finishing for many send timeouts, but it does take bytes: it is never
    cut off. (Its send timeout is ten of its reads: a loaded CI's scheduling left a 0.5 s
    one without a read once, and the client was reset.)"""
    object.__setattr__(settings, "subscriber_buffer", 10**6)
    object.__setattr__(settings, "stream_send_timeout", 2.0)
    with trio.fail_after(90):
        gid, body, runtime = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid, rcvbuf=4096) as slow:
            await _until_parked(parked, 1, slow)
            reads = 0

            async def read_slowly(task_status: trio.TaskStatus[None]) -> None:
                nonlocal reads
                task_status.started()
                while True:
                    assert await slow.receive_once(1 << 16)
                    reads += 1
                    await trio.sleep(0.2)

            async with trio.open_nursery() as nursery:
                await nursery.start(read_slowly)
                await _emit(service, body, runtime, 100000)  # ~13 MB
                assert parked._running == 1  # its task waits to finish a write
                enough = reads + 40  # 8 s more: four send timeouts
                await eventually(lambda: reads >= enough)
                assert parked._running == 1 and runtime.broadcast.subscriber_count == 1
                nursery.cancel_scope.cancel()
            await service.stop(gid)
            await slow.read_to_end()
        _assert_whole_log(slow, 100000)
