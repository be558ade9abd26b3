"""Scenario 5, persistence: lines per second stored, every line checked.

The emitter prints N lines as fast as the pipe takes them, with nobody subscribed; the
harness polls the database directly (``max(seq)`` of the preview, every 20 ms, with its
own read-only connection) until the last line is stored. Rate = N / (time the last line
was seen stored − time the emitter was asked to start). Then every stored ``app`` row of
the preview is read back and its ``bench <seq>`` checked: each of 0..N−1 exactly once.

SQLite always (the service's default, a file in its data dir); PostgreSQL too when
``PREVIEW_BENCH_POSTGRES_URL`` is set (an SQLAlchemy URL, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/bench``), given to the service as
``PREVIEW_DB_URL``.

A calibration runs first: the emitter alone into a pipe read by the harness, which is
the most any reader of its stdout could get.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from typing import Any

from sqlalchemy import create_engine, text

from ..harness import BENCH_DIR, EMITTER, PYTHON, Profiler, ServiceServer, log

N = 200_000
QUICK_N = 50_000
TIMEOUT = 90.0
_SEQ = re.compile(r"^bench (\d+) ")


def emitter_alone(n: int) -> float:
    """Lines/s of the emitter into a pipe drained as fast as possible (calibration)."""
    script = f"import runpy; runpy.run_path({str(EMITTER)!r})['emit']({n}, 0, 0)"
    began = time.perf_counter()
    process = subprocess.Popen([PYTHON, "-c", script], stdout=subprocess.PIPE)
    assert process.stdout is not None
    lines = 0
    while chunk := process.stdout.read1(1 << 20):
        lines += chunk.count(b"\n")
    process.wait()
    elapsed = time.perf_counter() - began
    return round(lines / elapsed)


def _check_rows(engine: Any, preview_id: str, n: int) -> dict[str, int]:
    counts = bytearray(n)
    other = 0
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT message FROM log_events WHERE preview_id = :p AND source = 'app'"),
            {"p": preview_id},
        )
        for (message,) in rows:
            match = _SEQ.match(message)
            if match is None:
                other += 1
                continue
            seq = int(match[1])
            if seq < n and counts[seq] < 255:
                counts[seq] += 1
    return {
        "stored_lines": sum(1 for c in counts if c),
        "missing": counts.count(0),
        "duplicated": sum(c - 1 for c in counts if c > 1),
        "other_app_rows": other,
    }


def _one(db_url: str, label: str, n: int, profile: bool = False) -> dict[str, Any]:
    with ServiceServer(db_url=db_url) as service:
        service.launch_emitter()
        preview_id = service.preview["previewInstanceId"]
        url = db_url or f"sqlite:///{service.tmp / 'data' / 'preview.db'}"
        engine = create_engine(url)
        try:
            base = service.status()["lastEventId"]
            # N bench lines and one "bench-done": the last one is seq base + N + 1.
            goal = base + n + 1
            query = text("SELECT max(seq) FROM log_events WHERE preview_id = :p")
            profiler = None
            if profile:
                output = BENCH_DIR / "profiles" / f"service-persistence-{label}.txt"
                profiler = Profiler(service.pid, output, duration=TIMEOUT)
            began_ns = service.start_emitting(n, 0)
            stored_at_ns = None
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    top = connection.execute(query, {"p": preview_id}).scalar() or 0
                if top >= goal:
                    stored_at_ns = time.time_ns()
                    break
                time.sleep(0.02)
            profiled = profiler.finish() if profiler is not None else None
            checked = _check_rows(engine, preview_id, n)
        finally:
            service.stop_preview()
            if db_url:  # a shared database: leave it as it was (cascades to the rows)
                with engine.begin() as connection:
                    connection.execute(
                        text("DELETE FROM generations WHERE id = :g"), {"g": service.gid}
                    )
            engine.dispose()
    seconds = (stored_at_ns - began_ns) / 1e9 if stored_at_ns else None
    return {
        "db": label,
        "lines": n,
        "seconds": round(seconds, 3) if seconds else None,
        "lines_per_s": round(n / seconds) if seconds else None,
        "timed_out": stored_at_ns is None,
        **checked,
        "all_stored": checked["stored_lines"] == n and checked["duplicated"] == 0,
        **({"profile": profiled} if profiled else {}),
    }


def run(*, quick: bool = False, profile: bool = False, **_: Any) -> dict[str, Any]:
    n = QUICK_N if quick else N
    out: dict[str, Any] = {"scenario": "persistence", "lines": n}
    log("persistence: emitter calibration")
    out["emitter_alone_lines_per_s"] = emitter_alone(n)
    targets = [("", "sqlite")]
    if os.environ.get("PREVIEW_BENCH_POSTGRES_URL"):
        targets.append((os.environ["PREVIEW_BENCH_POSTGRES_URL"], "postgresql"))
    for db_url, label in targets:
        log(f"persistence: {label}")
        try:
            out[label] = _one(db_url, label, n, profile)
        except Exception as error:
            log(f"persistence {label} failed: {error!r}")
            out[label] = {"db": label, "error": repr(error)}
    return out
