"""Scenario flood: one preview prints as fast as it can while users poll and stream another.

One service with its defaults (``PREVIEW_LOG_QUOTA_MB`` 64) and two previews of the
emitter. The *flood* prints lines of about 100 bytes as fast as its pipe is read, for
``SECONDS`` (then it is stopped). Meanwhile ``USERS`` users each poll the status of the
*quiet* preview every ``POLL`` s (one keep-alive connection each) and stream it (SSE),
while it prints ``RATE`` lines/s; one more connection polls the flood's own status.

Reported: the status endpoint's p50 / p99 / max for the quiet and the flooding preview
(target: p99 under 50 ms), the users' stream (latency p99, lines lost), the lines per
second the service took from the flood and what it stored of them (``logsTruncated``),
and how much the database files grew (``preview.db`` with its WAL, then checkpointed)
against the quota.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..harness import EMITTER, ServiceServer, log
from ..loadclient import raw_request
from .common import Subscribers, finish_request_load, start_request_load

USERS, SECONDS, RATE, POLL, PAD = 10, 30.0, 50, 0.1, 80
QUICK = (10, 8.0)


def _database_bytes(data_dir: Path) -> int:
    return sum(path.stat().st_size for path in data_dir.glob("preview.db*"))


def _checkpointed_bytes(data_dir: Path) -> int:
    """The main file's used pages once the WAL is written back into it."""
    with contextlib.closing(sqlite3.connect(data_dir / "preview.db", timeout=30)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * db.execute("PRAGMA page_size").fetchone()[0]


def _stored(data_dir: Path, preview_id: str) -> tuple[int, int]:
    """(the preview's last event id, its events stored), read from the database."""
    with contextlib.closing(sqlite3.connect(data_dir / "preview.db", timeout=30)) as db:
        last, count = db.execute(
            "SELECT max(seq), count(*) FROM log_events WHERE preview_id = ?", (preview_id,)
        ).fetchone()
        return last or 0, count


def _start_flood(port: int) -> None:
    """The flood's emitter prints lines without end (until its preview is stopped)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET /start?n=1000000000&rate=0&pad={PAD} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        if not sock.recv(1024).startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
            raise RuntimeError("the flood's emitter refused /start")


def _mib(value: int) -> float:
    return round(value / 2**20, 1)


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    users, seconds = QUICK if quick else (USERS, SECONDS)
    out: dict[str, Any] = {"scenario": "flood", "users": users, "flood_s": seconds}
    with ServiceServer() as target:
        data_dir = target.tmp / "data"
        target.launch_emitter()  # the quiet preview the users watch
        flood_gid = target.upload({"emitter.py": EMITTER.read_text()})
        flood = target.launch(flood_gid, command=["{python}", "emitter.py"])
        flood_status = f"/api/generations/{flood_gid}/preview/status"
        host = f"127.0.0.1:{target.port}"
        quiet_poll = raw_request("GET", target.status_path(), host, target.auth)
        flood_poll = raw_request("GET", flood_status, host, target.auth)
        files_before = _database_bytes(data_dir)
        main_before = _checkpointed_bytes(data_dir)
        quiet_lines = int(RATE * (seconds + 5))
        with Subscribers(target, users, quiet_lines, connect_timeout=60) as subscribers:
            subscribers.start_collect(seconds + 30)
            target.start_emitting(quiet_lines, RATE)
            began = time.perf_counter()
            _start_flood(flood["port"])
            log(f"flood: printing for {seconds:g} s beside {users} users")
            polls = [
                start_request_load(
                    {
                        "port": target.port,
                        "requests": [request],
                        "concurrency": count,
                        "interval": POLL,
                        "duration": seconds - 1.0,
                    }
                )
                for request, count in ((quiet_poll, users), (flood_poll, 1))
            ]
            quiet_ms, flood_ms = (finish_request_load(poll, seconds + 60) for poll in polls)
            while time.perf_counter() - began < seconds:
                time.sleep(0.1)
            during = target.http.get(flood_status).json()
            took = time.perf_counter() - began
            stopped = target.stop(flood_gid)
            streamed = subscribers.results(seconds + 60)
        after = target.http.get(flood_status).json()
        last_id, stored = _stored(data_dir, flood["previewInstanceId"])
        files_after = _database_bytes(data_dir)
        main_file = _checkpointed_bytes(data_dir)
        truncated = after.get("logsTruncated") or {}
        out.update(
            {
                "status_quiet_ms": quiet_ms["latency_ms"],
                "status_flood_ms": flood_ms["latency_ms"],
                "status_codes": {**quiet_ms["statuses"], **flood_ms["statuses"]},
                "stream": {
                    "deliveries": streamed["deliveries"],
                    "expected": streamed["expected"],
                    "latency_ms": streamed["latency_ms"],
                    "lost_total": streamed["lost_total"],
                    "dup_total": streamed["dup_total"],
                },
                "flood": {
                    "lines": last_id,
                    "lines_per_s": round(during["lastEventId"] / took),
                    "stored_lines": stored,
                    "dropped_lines": truncated.get("droppedLines"),
                    "logs_truncated": truncated,
                    "stopped": stopped.get("status"),
                },
                "quota_mib": 64,
                "files_grown_mib": _mib(files_after - files_before),
                "main_file_grown_mib": _mib(main_file - main_before),
            }
        )
    return out
