"""Parked SSE streams that fail where nothing above them catches (closing one, watching
its socket) end alone: the service, which runs the owner in its nursery, goes on, and so
do the other streams."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import trio

from preview.transport import DirectBodyWriter, ParkedStream, ParkedStreams

from ..conftest import Service, eventually
from .test_parked_streams import _launch, _open_stream, _parked, _SseClient, _until_parked


class _BodyFailingToClose:
    """A stream's body whose ``aclose`` raises (after closing the real one, so its
    subscription still ends)."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def __anext__(self) -> Any:
        return self.body.__anext__()

    async def aclose(self) -> None:
        await self.body.aclose()
        raise RuntimeError("a bug in closing the body")


def _owned(parked: ParkedStreams, client: _SseClient) -> ParkedStream:
    """The parked stream of ``client``'s connection."""
    address = client.sock.getsockname()
    (stream,) = [
        stream
        for stream in parked._by_fd.values()
        if stream.writer._stream.socket.getpeername() == address
    ]
    return stream


async def _others_go_on(service: Service, body: dict[str, Any], healthy: _SseClient) -> None:
    await service.app_get(body, "/emit?n=10")
    await healthy.read_until('"line 9"')
    assert (await service.client.get("/api/health")).status_code == 200


async def test_a_body_that_fails_to_close_ends_its_stream_alone(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(60):
        gid, body, _ = await _launch(service)
        parked = _parked(service)
        async with _open_stream(service, gid) as healthy:
            async with _open_stream(service, gid) as failing:
                await _until_parked(parked, 2, failing, healthy)
                stream = _owned(parked, failing)
                stream.body = _BodyFailingToClose(stream.body)  # type: ignore[assignment]
            # The client left: the watcher starts the task that closes its stream.
            await eventually(lambda: len(parked) == 1 and parked._running == 0)
            await _others_go_on(service, body, healthy)
            assert parked._nursery is not None  # the owner still serves
            await service.stop(gid)
            await healthy.read_to_end()
        assert healthy.complete and healthy.events()[-1][0] == "end"
    failures = [r for r in caplog.records if "closing a parked log stream" in r.getMessage()]
    assert len(failures) == 1 and "a bug in closing the body" in str(failures[0].exc_info)


async def test_a_failure_while_watching_one_socket_ends_that_stream_alone(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The watcher's read of what a client sent raises: that stream ends (its client
    sees its connection closed, the body unfinished, and resumes), the others are
    still watched and written."""
    with trio.fail_after(60):
        gid, body, runtime = await _launch(service)
        parked = _parked(service)
        async with (
            _open_stream(service, gid) as healthy,
            _open_stream(service, gid) as failing,
        ):
            await _until_parked(parked, 2, failing, healthy)
            writer = _owned(parked, failing).writer
            original = DirectBodyWriter.drain

            def drain(self: DirectBodyWriter) -> bool:
                if self is writer:
                    raise RuntimeError("a bug in the watcher")
                return original(self)

            monkeypatch.setattr(DirectBodyWriter, "drain", drain)
            await trio.SocketStream(failing.sock).send_all(b"x")  # wakes the watcher
            # Closed with our byte unread: a reset, or an end without the last chunk.
            with contextlib.suppress(ConnectionResetError):
                await failing.read_to_end()
            assert not failing.complete
            await eventually(lambda: len(parked) == 1)
            await eventually(lambda: runtime.broadcast.subscriber_count == 1)
            await _others_go_on(service, body, healthy)
            await service.stop(gid)
            await healthy.read_to_end()
        assert healthy.complete and healthy.events()[-1][0] == "end"
    failures = [r for r in caplog.records if r.getMessage() == "a parked log stream failed"]
    assert len(failures) == 1 and "a bug in the watcher" in str(failures[0].exc_info)
