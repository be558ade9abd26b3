"""What keeping a proxied request costs, in CPU per request, measured in-process (on a
loaded machine the proxy scenario's CPU per request moves by more than this costs).

The hot side is what each way into an app does per request (``history.start``, the
answer's events passed through ``Capture.answering``, ``Capture.record``); the writer's
side is ``history.rows.write_batch`` (masking, shaping, one transaction with the
bounds' cut) on a SQLite file, in batches as the writer makes them.

    .venv/bin/python -m benchmarks.historycost [requests, at most 4096: what may wait]
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import h11
import trio

from preview import Settings
from preview.clock import utcnow
from preview.history import RequestHistory, capture
from preview.history.rows import write_batch
from preview.services import CallOutcome, ProxiedCall
from preview.store import Store
from preview.store.models import Generation, PreviewInstance

# What the writer takes at a time: 0.25 s of 256 or 1,024 req/s; 1 s of 2,048 (past the
# bound of 1,000: only what the cut leaves is inserted).
_BATCHES = (64, 256, 2048)
_HEADERS = [
    ("host", "127.0.0.1:8000"),
    ("user-agent", "wrk"),
    ("accept", "*/*"),
    ("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"),
    ("x-preview-token", "pvt_x"),
]
_ANSWER = [(b"content-type", b"application/json"), (b"content-length", b"42"), (b"date", b"x")]


async def _events():
    yield h11.Data(data=bytearray(b'{"id": 1, "name": "apple", "price": 1.5}\n'))
    yield h11.EndOfMessage()


async def _hot_side(history: RequestHistory, runtime: SimpleNamespace, count: int) -> float:
    began = time.process_time()
    for n in range(count):
        _, kept = history.start(None)
        async for _ in kept.answering(_events()):
            pass
        call = ProxiedCall(
            "proxy", "GET", "/api/items/1", _HEADERS, f"req_{n:016x}", trio.current_time()
        )
        kept.record(runtime, call, CallOutcome(200, _ANSWER, 1.0), n)
    spent = time.process_time() - began
    # The same loop without the history: what the events' iteration costs alone.
    began = time.process_time()
    for _ in range(count):
        async for _ in _events():
            pass
    return spent - (time.process_time() - began)


async def main(count: int) -> dict[str, object]:
    # Bound above the count: every row waits (none let go), written in batches below.
    history = RequestHistory(dataclasses.replace(Settings(), capture_requests=count + 1))
    runtime = SimpleNamespace(id="p1", spec=SimpleNamespace(generation_id="g1"))
    hot = await _hot_side(history, runtime, count)
    batch = capture._in_order(history._waiting)
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            await store.add_generation(
                Generation(id="g1", user_id="u", created_at=utcnow(), file_count=0, total_bytes=0),
                {},
            )
            await store.add_preview(_preview_row())  # for the foreign key
            totals: dict[str, list[int]] = {}  # the writer's counts, as it keeps them
            writer = {}
            for size in _BATCHES:  # the same rows again: the bounds' cuts come in too
                began = time.process_time()
                for start in range(0, len(batch), size):
                    write_batch(store.engine, batch[start : start + size], 1000, 16 * 2**20, totals)
                writer[size] = (time.process_time() - began) / len(batch) * 1e6
        finally:
            await store.aclose()
    return {
        "requests": count,
        "hot_side_us_per_request": round(hot / count * 1e6, 2),
        **{f"writer_us_per_request_batch_{size}": round(us, 2) for size, us in writer.items()},
    }


def _preview_row() -> PreviewInstance:
    now = utcnow()
    return PreviewInstance(
        id="p1",
        generation_id="g1",
        user_id="u",
        status="running",
        created_at=now,
        expires_at=now,
        preview_token_hash="0" * 64,
        token_expires_at=now,
    )


if __name__ == "__main__":
    print(json.dumps(trio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 4000)))
