"""A log stream that needs stored events while the database refuses reads (a real
PostgreSQL outage, ``tests/outages.py``) ends cleanly without ``end``: the client
resumes from its last id once the database is back, and nothing is logged as a failure
of the service. (SQLite's outages here leave reads working: WAL readers still read.)"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import h11
import httpx
import pytest
import trio
import trio_websocket

from preview import Settings

from .conftest import SERVER_COMMAND, Service, auth, emitter_app, eventually, read_sse
from .outages import PostgresOutage, service_on, throwaway_postgres

_RING = 50  # events kept in memory: a reconnect from the start reads the rest stored


@pytest.fixture
def outage(settings: Settings) -> Iterator[PostgresOutage]:
    object.__setattr__(settings, "max_log_lines", _RING)
    with throwaway_postgres() as (url, admin, name):
        yield PostgresOutage(url, admin, name)


async def _emitted(service: Service, lines: int) -> tuple[str, Any, dict[str, Any]]:
    """A running emitter that printed ``lines`` lines, every event stored."""
    gid = await service.upload(emitter_app())
    body = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert body["status"] == "running", body
    runtime = service.supervisor.get(body["previewInstanceId"])
    await service.app_get(body, f"/emit?n={lines}")
    await eventually(lambda: runtime.broadcast.last_id > lines)
    await runtime.broadcast.wait_persisted(runtime.broadcast.last_id)
    return gid, runtime, body


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_live_stream_past_the_ring_ends_cleanly_while_reads_fail(
    settings: Settings, outage: PostgresOutage, caplog: pytest.LogCaptureFixture
) -> None:
    async with service_on(settings, outage) as service:
        with trio.fail_after(60):
            gid, runtime, _ = await _emitted(service, 200)
            url = f"/api/generations/{gid}/preview/logs/stream"
            await outage.begin()
            # Events 1..150 are older than the ring: the stream ends, whole, without end.
            headers = {**auth(), "Last-Event-ID": "0"}
            async with service.client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200
                received = await read_sse(response)  # the body ended properly
            assert received == []
            # The WebSocket stream of the same feed says "try again later".
            host, port = service.url.removeprefix("http://").split(":")
            async with trio_websocket.open_websocket(
                host,
                int(port),
                f"/api/generations/{gid}/preview/logs/ws?lastEventId=0",
                use_ssl=False,
                extra_headers=[(b"Authorization", auth()["Authorization"].encode())],
            ) as ws:
                with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                    await ws.get_message()
            assert closed.value.reason.code == 1013
            assert runtime.status == "running"

            await outage.end()
            async with service.client.stream("GET", url, headers=headers) as response:
                resumed = await read_sse(response, until_end=False, limit=200)
            assert [event_id for _, _, event_id in resumed] == list(range(1, 201))
            await service.stop(gid)
    assert _failures(caplog) == []


async def test_a_stopped_previews_stream_ends_cleanly_when_reads_fail_midway(
    settings: Settings, outage: PostgresOutage, caplog: pytest.LogCaptureFixture
) -> None:
    """The stream of a stopped preview reads every event from the database, a page at a
    time as the client takes them; the database goes away between two pages."""
    lines = 100_000  # ~13 MB of SSE: far more than the sockets hold
    async with service_on(settings, outage) as service:
        with trio.fail_after(120):
            gid, _, _ = await _emitted(service, lines)
            await service.stop(gid)
            text = await _read_slowly(
                service,
                f"/api/generations/{gid}/preview/logs/stream",
                # Mid-stream: the rest waits in pages not read yet.
                outage,
                lambda body: b"id: 1000\n" in body,
            )
            assert b"event: end" not in text
            ids = [int(line[4:]) for line in text.split(b"\n") if line.startswith(b"id: ")]
            assert ids == list(range(1, len(ids) + 1)) and len(ids) < lines
            await outage.end()
            response = await service.client.get(
                f"/api/generations/{gid}/preview/logs/stream",
                headers={**auth(), "Last-Event-ID": str(ids[-1])},
            )
            rest = _parse(response)
            assert rest[0][2] == ids[-1] + 1 and rest[-1][0] == "end"
    assert _failures(caplog) == []


async def _read_slowly(
    service: Service, target: str, outage: PostgresOutage, midway: Callable[[bytes], bool]
) -> bytes:
    """GET ``target`` on a small receive buffer (so the service reads its pages as the
    client takes them), begin the outage once ``midway(body so far)``; the whole body,
    which must end with its last chunk."""
    host, port = service.url.removeprefix("http://").split(":")
    with trio.socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await sock.connect((host, int(port)))
        client = h11.Connection(h11.CLIENT)
        request = h11.Request(
            method="GET",
            target=target,
            headers=[("Host", host), ("Authorization", auth()["Authorization"])],
        )
        await sock.send(client.send(request) + client.send(h11.EndOfMessage()))
        body, began = b"", False
        while True:
            if not began and midway(body):
                await outage.begin()
                began = True
            event = client.next_event()
            if event is h11.NEED_DATA:
                data = await sock.recv(4096)
                assert data, "the body ended without its last chunk"
                client.receive_data(data)
            elif isinstance(event, h11.Response):
                assert event.status_code == 200
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return body


def _parse(response: httpx.Response) -> list[tuple[str, str, int | None]]:
    events = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            event_id = int(fields["id"]) if "id" in fields else None
            events.append((fields.get("event", "message"), fields["data"], event_id))
    return events


@pytest.mark.parametrize("fmt", ["ndjson", "text"])
async def test_a_log_download_cut_by_the_store_says_so_and_where_to_resume(
    settings: Settings, outage: PostgresOutage, caplog: pytest.LogCaptureFixture, fmt: str
) -> None:
    """A download's status line is sent with its first page: a database that goes away
    between two pages ends it with a last record naming the id to resume after."""
    lines = 100_000
    async with service_on(settings, outage) as service:
        with trio.fail_after(120):
            gid, _, _ = await _emitted(service, lines)
            await service.stop(gid)
            body = await _read_slowly(
                service,
                f"/api/generations/{gid}/preview/logs?format={fmt}",
                outage,
                lambda body: body.count(b"\n") > 1000,
            )
            last_line = body.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode()
            if fmt == "ndjson":
                records = [json.loads(line) for line in body.decode().splitlines()]
                cut = records[-1]
                assert cut["error"] == "store_unavailable"
                assert cut["details"]["after"] == records[-2]["id"] < lines
            else:
                assert last_line.startswith("# The download is incomplete:")
                assert "Resume with after=" in last_line
            await outage.end()
    assert _failures(caplog) == []
