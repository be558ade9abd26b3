"""The baseline: what one would otherwise write — FastAPI + sse-starlette on uvicorn.

It does the fan-out part of the preview service's job for one child process:

* ``POST /launch`` ``{"command": [...], "cwd": "..."}`` spawns the child (asyncio
  subprocess, ``PORT`` in its environment, own session), reads its stdout and stderr line
  by line, and answers once the child answers HTTP (``{"status": "running", "port",
  "pid"}``).
* Every line gets the next id and becomes one JSON event (the service's shape:
  ``{"id", "timestamp", "level", "message", "source", "stream"}``), encoded once, kept in a
  ring of the last 10,000 and put on each subscriber's bounded ``asyncio.Queue``.
* ``GET /logs/stream``: ``EventSourceResponse`` — replay of the ring after
  ``Last-Event-ID`` (header or ``lastEventId`` query), then live. A subscriber whose queue
  is full (4,096 events behind) is dropped: it gets what it has queued, then its stream
  ends (no ``end``), and the client resumes by ``Last-Event-ID``. ``event: end`` when the
  child is gone.
* ``GET /status``: status, pid, port, memory and CPU of the child, last id, subscribers.
* ``DELETE /launch``: SIGTERM the child's group (SIGKILL after 5 s), end the streams.

No database: the baseline does not persist anything, which only flatters it.

Run: ``uvicorn benchmarks.baseline.app:app --host 127.0.0.1 --port 8001`` (uvicorn picks
uvloop and httptools when installed, as ``uvicorn[standard]`` / ``fastapi[standard]`` do).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from collections import deque
from datetime import UTC, datetime
from typing import Any

import psutil
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

RING_SIZE = int(os.environ.get("BASELINE_RING", "10000"))
QUEUE_SIZE = int(os.environ.get("BASELINE_QUEUE", "4096"))
STARTUP_TIMEOUT = 30.0

app = FastAPI(title="SSE fan-out baseline")


class Subscriber:
    __slots__ = ("dropped", "queue")

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = False


class Preview:
    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.port: int | None = None
        self.status = "stopped"
        self.ring: deque[tuple[int, str]] = deque(maxlen=RING_SIZE)
        self.last_id = 0
        self.subscribers: set[Subscriber] = set()
        self.ended = False
        self.tasks: list[asyncio.Task[Any]] = []
        self.usage: psutil.Process | None = None

    def publish(self, line: str, stream: str) -> None:
        self.last_id += 1
        now = datetime.now(UTC)
        event = {
            "id": self.last_id,
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "level": "ERROR" if stream == "stderr" else "INFO",
            "message": line,
            "source": "app",
            "stream": stream,
        }
        item = (self.last_id, json.dumps(event, separators=(",", ":")))
        self.ring.append(item)
        for subscriber in list(self.subscribers):
            try:
                subscriber.queue.put_nowait(item)
            except asyncio.QueueFull:
                subscriber.dropped = True
                self.subscribers.discard(subscriber)

    def end(self) -> None:
        self.ended = True
        for subscriber in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(None)
        self.subscribers.clear()

    async def read(self, reader: asyncio.StreamReader, stream: str) -> None:
        async for raw in reader:
            self.publish(raw.decode("utf-8", "replace").rstrip("\r\n"), stream)


preview = Preview()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _answers(port: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return (await reader.read(12)).startswith(b"HTTP/")
    except OSError:
        return False
    finally:
        writer.close()


class LaunchBody(BaseModel):
    command: list[str]
    cwd: str | None = None


@app.post("/launch")
async def launch(body: LaunchBody) -> dict[str, Any]:
    if preview.process is not None and preview.process.returncode is None:
        raise HTTPException(409, "already running")
    preview.__init__()
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        *body.command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=body.cwd,
        env=env,
        start_new_session=True,
    )
    preview.process, preview.port, preview.status = process, port, "starting"
    preview.usage = psutil.Process(process.pid)
    assert process.stdout is not None and process.stderr is not None
    preview.tasks = [
        asyncio.create_task(preview.read(process.stdout, "stdout")),
        asyncio.create_task(preview.read(process.stderr, "stderr")),
        asyncio.create_task(_watch(process)),
    ]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    delay = 0.002
    while process.returncode is None and loop.time() < deadline:
        if await _answers(port):
            preview.status = "running"
            break
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.01)
    else:
        preview.status = "failed"
    return {"status": preview.status, "port": port, "pid": process.pid}


async def _watch(process: asyncio.subprocess.Process) -> None:
    await process.wait()
    await asyncio.gather(*preview.tasks[:2], return_exceptions=True)
    preview.status = "stopped"
    preview.end()


@app.delete("/launch")
async def stop() -> dict[str, Any]:
    process = preview.process
    if process is None:
        raise HTTPException(404, "nothing running")
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    await asyncio.gather(*preview.tasks, return_exceptions=True)
    return {"status": preview.status, "exitCode": process.returncode}


@app.get("/status")
async def status() -> dict[str, Any]:
    memory = cpu = None
    if preview.usage is not None and preview.status == "running":
        try:
            with preview.usage.oneshot():
                memory = round(preview.usage.memory_info().rss / 2**20, 1)
                cpu = preview.usage.cpu_percent(None)
        except psutil.Error:
            pass
    return {
        "status": preview.status,
        "port": preview.port,
        "processId": preview.process.pid if preview.process else None,
        "memoryMb": memory,
        "cpuPercent": cpu,
        "lastEventId": preview.last_id,
        "subscribers": len(preview.subscribers),
    }


@app.get("/logs/stream")
async def stream(request: Request, lastEventId: int | None = None) -> EventSourceResponse:
    raw = request.headers.get("last-event-id")
    after = int(raw) if raw and raw.isdigit() else (lastEventId or 0)
    subscriber = Subscriber()
    replay = [item for item in preview.ring if item[0] > after]
    if preview.ended:
        subscriber.queue.put_nowait(None)
    else:
        preview.subscribers.add(subscriber)

    async def events():
        try:
            for event_id, data in replay:
                yield ServerSentEvent(data=data, id=str(event_id))
            queue = subscriber.queue
            while True:
                if subscriber.dropped and queue.empty():
                    return  # fell behind: the client resumes with Last-Event-ID
                item = await queue.get()
                if item is None:
                    end = {"status": preview.status, "lastEventId": preview.last_id}
                    yield ServerSentEvent(data=json.dumps(end), event="end")
                    return
                yield ServerSentEvent(data=item[1], id=str(item[0]))
        finally:
            preview.subscribers.discard(subscriber)

    return EventSourceResponse(events(), headers={"Cache-Control": "no-cache"})
