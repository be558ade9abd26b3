"""Scenario 2, slow subscriber: one subscriber that never reads, among M that do.

Two runs per server, same load (M subscribers, N lines of ``pad`` bytes at R/s): a
control without the slow one, then one with a raw socket (4 KiB receive buffer) that
sends its GET and never reads. Figures: the others' latency p50 / p99 and loss in both
runs, whether and when the server dropped the slow one (its ``subscribers`` count in the
status, polled every 0.25 s), and the server's peak RSS growth in both runs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from ..harness import RssSampler, Target, log, make_target
from .common import Subscribers

M, N, RATE, PAD = 10, 20_000, 2_000, 512
QUICK = (5, 6_000, 2_000, 512)


class SlowReader:
    """A subscriber that connects, asks for the stream and never reads a byte."""

    def __init__(self, target: Target) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", target.port))
        headers = "".join(f"{k}: {v}\r\n" for k, v in target.stream_headers().items())
        self.sock.sendall(
            f"GET {target.stream_path()} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            "Accept: text/event-stream\r\n\r\n".encode()
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        self.sock.close()


class SubscriberCount(threading.Thread):
    """Polls the status's ``subscribers``; notes when it first falls below ``expected``."""

    def __init__(self, target: Target, expected: int) -> None:
        super().__init__(daemon=True)
        self.target = target
        self.expected = expected
        self.seen_full = False
        self.dropped_at: float | None = None
        self.started = time.perf_counter()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(Exception):
                count = self.target.status().get("subscribers")
                if count is not None and count >= self.expected:
                    self.seen_full = True
                elif count is not None and self.seen_full and self.dropped_at is None:
                    self.dropped_at = time.perf_counter() - self.started
            self.stop.wait(0.25)


def _one(kind: str, m: int, n: int, rate: float, pad: int, slow: bool) -> dict[str, Any]:
    with make_target(kind) as target:
        target.launch_emitter()
        reader = SlowReader(target) if slow else None
        try:
            with Subscribers(target, m, n) as subscribers, RssSampler(target.pid) as rss:
                watcher = SubscriberCount(target, m + (1 if slow else 0))
                subscribers.start_collect(n / rate * 3 + 15)
                watcher.start()
                target.start_emitting(n, rate, pad)
                merged = subscribers.results(n / rate * 3 + 45)
                # The clients close as they finish: a fall of the count after that is theirs.
                finished = time.perf_counter() - watcher.started - 0.5
                watcher.stop.set()
                watcher.join()
        finally:
            if reader is not None:
                reader.close()
    dropped_at = watcher.dropped_at
    if not slow or (dropped_at is not None and dropped_at > finished):
        dropped_at = None
    return {
        "others": {
            "deliveries": merged["deliveries"],
            "expected": merged["expected"],
            "latency_ms": merged["latency_ms"],
            "lost_total": merged["lost_total"],
            "dup_total": merged["dup_total"],
            "reconnects": merged["reconnects"],
            "client_lag_p99_ms": merged["client"]["loop_lag_p99_ms"],
        },
        "slow_dropped": dropped_at is not None if slow else None,
        "slow_dropped_after_s": round(dropped_at, 2) if dropped_at is not None else None,
        "rss_start_mib": round(rss.first / 2**20, 1),
        "rss_peak_growth_mib": round((rss.peak - rss.first) / 2**20, 1),
    }


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    m, n, rate, pad = QUICK if quick else (M, N, RATE, PAD)
    out: dict[str, Any] = {"scenario": "slow", "m": m, "n": n, "rate": rate, "pad": pad}
    for kind in ("baseline", "service"):
        out[kind] = {}
        for slow in (False, True):
            label = "with_slow" if slow else "control"
            log(f"slow subscriber: {kind} {label}")
            try:
                out[kind][label] = _one(kind, m, n, rate, pad, slow)
            except Exception as error:
                log(f"slow subscriber {kind} {label} failed: {error!r}")
                out[kind][label] = {"error": repr(error)}
    return out
