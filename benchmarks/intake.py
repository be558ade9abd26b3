"""``python -m benchmarks.intake``: CPU per log line of the service's intake, in process.

What a line costs from the child's pipe to a subscriber's socket and the database, stage
by stage, without a server, a child or a network: CPU time (best of ``--rounds``), which
depends far less on the machine's load than the fan-out scenario's wall-clock figures.
Under ``valgrind --tool=callgrind`` (``--stage pipeline --rounds 1 --lines 20000``) the
instruction count does not depend on it at all.

Stages (each on the same lines, as the service runs them):

* ``split``: a pipe's 64 KiB reads into lines (``LineSplitter``);
* ``classify``: each line's level (``LevelClassifier``);
* ``scrub``: host paths out (``HostPaths.of_service``, this service's set);
* ``event``: ``Event`` objects; ``encode``: their SSE frames, 750 to a payload;
* ``store``: the writer's work, 5,000 events to a batch: the quota, the rows, SQLite;
* ``pipeline``: all of it together, as a preview's tasks run it (``ChildOutput.read`` on
  a pipe a thread fills, the broadcast with its paced wake-ups and one subscriber whose
  sink takes every payload, the writer storing into SQLite in its thread); main thread
  and whole process.

Corpora: ``bench`` (the fan-out emitter's lines: unstructured), ``access`` (uvicorn's
access log: a level at each line's start), ``mixed`` (access lines, a warning, JSON
records and a traceback every 100 lines).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import trio

from preview.clock import utcnow
from preview.logs import (
    ChildOutput,
    Event,
    HostPaths,
    LevelClassifier,
    LineSplitter,
    LogBroadcast,
    LogQuota,
    write_log_events,
)
from preview.runtime.datahealth import MissingTables
from preview.store import Generation, PreviewInstance, Store

READ = 65536
PREVIEW = "preview_0123456789abcdef0123"
T0 = datetime(2026, 1, 1)
STAGES = ("split", "classify", "scrub", "event", "encode", "store", "pipeline")


def corpus(kind: str, n: int) -> bytes:
    """``n`` lines of the named kind, newline-terminated."""
    base = time.time_ns()
    if kind == "bench":
        return "".join(f"bench {i} {base + i * 1000}\n" for i in range(n)).encode()
    access = 'INFO:     127.0.0.1:{port} - "GET /items/{i} HTTP/1.1" 200 OK\n'
    if kind == "access":
        return "".join(access.format(port=40000 + i % 20000, i=i) for i in range(n)).encode()
    special = [
        "WARNING:root:disk almost full\n",
        '{"level": "error", "msg": "upstream failed", "status": 502}\n',
        "Traceback (most recent call last):\n",
        '  File "/srv/app/main.py", line 12, in handler\n',
        "    raise ValueError(item)\n",
        "ValueError: 42\n",
    ]
    lines: list[str] = []
    while len(lines) < n:
        lines += [access.format(port=40000 + len(lines) % 20000, i=len(lines))] * 94 + special
    return "".join(lines[:n]).encode()


def chunks(data: bytes) -> list[bytes]:
    return [data[i : i + READ] for i in range(0, len(data), READ)]


def _host_paths(root: Path) -> HostPaths:
    return HostPaths.of_service(
        app_dir=root / "previews" / PREVIEW,
        data_dir=root / "data",
        previews_dir=root / "previews",
        env_root=root / "data" / "envs",
        python=sys.executable,
    )


def _texts(data: bytes) -> list[str]:
    splitter = LineSplitter(16384)
    return [line.text for chunk in chunks(data) for line in splitter.feed(chunk)]


def _events(texts: list[str]) -> list[Event]:
    now = utcnow()
    return [Event(i + 1, now, "INFO", text, "app", "stdout") for i, text in enumerate(texts)]


async def _open_store(path: Path) -> Store:
    store = await Store.open(f"sqlite:///{path}")
    await store.add_generation(
        Generation(
            id="g", user_id="u", project_id=None, created_at=T0, file_count=0, total_bytes=0
        ),
        {},
    )
    await store.add_preview(
        PreviewInstance(
            id=PREVIEW,
            generation_id="g",
            user_id="u",
            status="running",
            created_at=T0,
            expires_at=T0,
            preview_token_hash="0" * 64,
            token_expires_at=T0,
        )
    )
    return store


def _feed(fd: int, data: bytes) -> None:
    """The child: writes ``data`` into its pipe as fast as it is read, then closes it."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view[:READ]) :]
    finally:
        os.close(fd)


class _CountingSink:
    """A subscriber's socket that takes every payload at once."""

    pending = False
    on_wake = None

    def __init__(self) -> None:
        self.bytes = 0

    def offer(self, payload: bytes) -> bool:
        self.bytes += len(payload)
        return True


async def _pipeline(data: bytes, root: Path, lines: int) -> tuple[float, float]:
    """(main thread's, whole process's) CPU seconds for ``data`` through every stage."""
    store = await _open_store(root / "pipeline.db")
    try:
        broadcast = LogBroadcast(
            ring_size=10_000,
            subscriber_buffer=4096,
            writer_bytes=8 * 2**20,
            scrub=_host_paths(root),
        )
        tables = MissingTables(None, None)  # type: ignore[arg-type]  # never diagnoses here
        # A partial line waits 5 s for its rest, not 0.1: the thread filling the pipe
        # may wait that long for the GIL on a busy machine, and a line cut in two would
        # be one event more (the same code runs either way).
        output = ChildOutput(
            broadcast, 16384, 5.0, app_dir=str(root / "previews" / PREVIEW), watch=tables.lines
        )
        sink = _CountingSink()
        quota = LogQuota(64 * 2**20)
        main_before, process_before = time.thread_time(), time.process_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(broadcast.serve_paced_wakeups, 0.005)
            nursery.start_soon(write_log_events, store, PREVIEW, broadcast, None, quota)
            with broadcast.subscribe(0, sink) as subscription:

                async def subscriber() -> None:
                    while True:
                        try:
                            item = await subscription.receive()
                        except trio.EndOfChannel:
                            return
                        if type(item) is list and item and item[-1].id >= lines:
                            return

                nursery.start_soon(subscriber)
                read_end, write_end = os.pipe()
                child = threading.Thread(target=_feed, args=(write_end, data), daemon=True)
                child.start()
                await output.read(trio.lowlevel.FdStream(read_end), "stdout")
                child.join()
            await broadcast.wait_persisted(broadcast.last_id)
            main_after = time.thread_time()
            broadcast.close("stopped")
            nursery.cancel_scope.cancel()
        if broadcast.last_id != lines:
            raise RuntimeError(f"{broadcast.last_id} events for {lines} lines")
        return main_after - main_before, time.process_time() - process_before
    finally:
        await store.aclose()


def _store_stage(events: list[Event], root: Path) -> float:
    async def run() -> float:
        store = await _open_store(root / "store.db")
        try:
            from preview.store.logrows import insert_sqlite

            quota = LogQuota(64 * 2**20)
            began = time.process_time()
            for start in range(0, len(events), 5000):
                batch = quota.admit(events[start : start + 5000])
                insert_sqlite(store.engine, [event.to_values(PREVIEW) for event in batch])
            return time.process_time() - began
        finally:
            await store.aclose()

    return trio.run(run)


def _timed(fn: Callable[[], Any]) -> float:
    began = time.process_time()
    fn()
    return time.process_time() - began


def _round(data: bytes, texts: list[str], stages: list[str], root: Path) -> dict[str, float]:
    """CPU seconds of each stage asked for, once."""
    figures: dict[str, float] = {}
    if "split" in stages:
        figures["split"] = _timed(lambda: _texts(data))
    if "classify" in stages:
        figures["classify"] = _timed(lambda: list(map(LevelClassifier().classify, texts)))
    if "scrub" in stages:
        scrub = _host_paths(root)
        figures["scrub"] = _timed(lambda: list(map(scrub, texts)))
    if "event" in stages:
        figures["event"] = _timed(lambda: _events(texts))
    if "encode" in stages:
        events = _events(texts)
        payloads = range(0, len(events), 750)
        figures["encode"] = _timed(
            lambda: [b"".join([e.sse for e in events[i : i + 750]]) for i in payloads]
        )
    if "store" in stages:
        figures["store"] = _store_stage(_events(texts), root)
    if "pipeline" in stages:
        main, process = trio.run(_pipeline, data, root, len(texts))
        figures["pipeline_main"], figures["pipeline_process"] = main, process
    return figures


def measure(kind: str, lines: int, rounds: int, stages: list[str]) -> dict[str, Any]:
    data = corpus(kind, lines)
    texts = _texts(data)
    best: dict[str, float] = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="intake-") as tmp:
            figures = _round(data, texts, stages, Path(tmp))
        for name, seconds in figures.items():
            best[name] = min(best.get(name, seconds), seconds)
    return {
        "corpus": kind,
        "lines": lines,
        "bytes": len(data),
        "us_per_line": {name: round(s / lines * 1e6, 3) for name, s in best.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.intake", description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", nargs="+", default=["bench", "access", "mixed"])
    parser.add_argument("--stage", nargs="+", default=list(STAGES), choices=STAGES)
    args = parser.parse_args(argv)
    for kind in args.corpus:
        result = measure(kind, args.lines, args.rounds, args.stage)
        result["load"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
