"""Running subscriber processes against a target and merging what they measured."""

from __future__ import annotations

import array
import contextlib
from typing import Any

from ..harness import Target, log
from ..loadclient import (
    request_process,
    spawn,
    stop_process,
    subscriber_process,
    summary_us,
    wait_message,
)


def split(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total)) if total else 1
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class Subscribers:
    """``count`` SSE subscribers of ``target`` in ``processes`` client processes.

    ``with Subscribers(...) as subs:`` connects them all (and raises if some could not);
    ``subs.collect(timeout)`` reads until every subscriber has lines ``0..n_lines-1``
    (or the timeout) and returns the merged figures; ``subs.close()`` ends them without
    collecting (idle runs). The processes are always stopped on exit.
    """

    def __init__(
        self,
        target: Target,
        count: int,
        n_lines: int,
        *,
        processes: int = 1,
        connect_timeout: float = 120.0,
        connect_concurrency: int = 100,
    ) -> None:
        self.target = target
        self.count = count
        self.n_lines = n_lines
        self.processes: list[Any] = []
        self.conns: list[Any] = []
        self.connect_infos: list[dict[str, Any]] = []
        for share in split(count, processes):
            spec = {
                "port": target.port,
                "path": target.stream_path(),
                "headers": target.stream_headers(),
                "count": share,
                "n_lines": n_lines,
                "connect_concurrency": connect_concurrency,
            }
            process, conn = spawn(subscriber_process, spec)
            self.processes.append(process)
            self.conns.append(conn)
        self.connect_timeout = connect_timeout

    def __enter__(self) -> Subscribers:
        try:
            for conn in self.conns:
                self.connect_infos.append(wait_message(conn, "connected", self.connect_timeout))
        except BaseException:
            self._stop()
            raise
        connected = sum(info["connected"] for info in self.connect_infos)
        if connected < self.count:
            errors = [e for info in self.connect_infos for e in info["errors"]]
            self._stop()
            raise RuntimeError(f"only {connected}/{self.count} subscribers connected: {errors}")
        return self

    @property
    def connect_seconds(self) -> float:
        return max(info["seconds"] for info in self.connect_infos)

    def collect(self, timeout: float) -> dict[str, Any]:
        self.start_collect(timeout)
        return self.results(timeout + 30)

    def start_collect(self, timeout: float) -> None:
        """Tell the clients to read until done or ``timeout``; then call ``results``."""
        for conn in self.conns:
            conn.send(("collect", timeout))

    def results(self, timeout: float) -> dict[str, Any]:
        return self._results(timeout)

    def close(self) -> dict[str, Any]:
        for conn in self.conns:
            conn.send(("close",))
        return self._results(30)

    def _results(self, timeout: float) -> dict[str, Any]:
        results = [wait_message(conn, "result", timeout) for conn in self.conns]
        self._stop()
        return merge(results, self.n_lines)

    def _stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.close()
        for process in self.processes:
            stop_process(process)

    def __exit__(self, *exc: object) -> None:
        self._stop()


def merge(results: list[dict[str, Any]], n_lines: int) -> dict[str, Any]:
    latencies, read_latencies = array.array("q"), array.array("q")
    for result in results:
        latencies.frombytes(result["latencies_us"])
        read_latencies.frombytes(result["read_latencies_us"])
    lost = [x for r in results for x in r["lost"]]
    dups = [x for r in results for x in r["dups"]]
    deliveries = sum(r["deliveries"] for r in results)
    first_emit = min((r["first_emit_ns"] for r in results if r["first_emit_ns"]), default=None)
    last_recv = max((r["last_recv_ns"] for r in results if r["last_recv_ns"]), default=None)
    span = (last_recv - first_emit) / 1e9 if first_emit and last_recv else None
    lag_p99 = [r["lag_ms"]["p99"] for r in results if r["lag_ms"]["p99"] is not None]
    lag_max = [r["lag_ms"]["max"] for r in results if r["lag_ms"]["max"] is not None]
    errors = [e for r in results for e in r["errors"]]
    return {
        "subscribers": len(lost),
        "expected": len(lost) * n_lines,
        "deliveries": deliveries,
        "span_s": round(span, 3) if span else None,
        "deliveries_per_s": round(deliveries / span) if span else None,
        "latency_ms": summary_us(latencies),
        "read_latency_ms": summary_us(read_latencies),
        "lost_total": sum(lost),
        "lost_max_per_subscriber": max(lost, default=0),
        "dup_total": sum(dups),
        "dup_max_per_subscriber": max(dups, default=0),
        "reconnects": sum(r["reconnects"] for r in results),
        "ended": sum(r["ended"] for r in results),
        "client": {
            "processes": len(results),
            "cpu_s": round(sum(r["cpu_s"] for r in results), 3),
            "wall_s": max((r["wall_s"] for r in results), default=None),
            "loop_lag_p99_ms": max(lag_p99, default=None),
            "loop_lag_max_ms": max(lag_max, default=None),
            "errors": errors[:5],
            "error_count": sum(r["error_count"] for r in results),
        },
    }


def request_load(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one request-load process to completion (see ``loadclient.request_process``)."""
    process, conn = spawn(request_process, spec)
    try:
        return wait_message(conn, "result", timeout)
    finally:
        conn.close()
        stop_process(process)


def start_request_load(spec: dict[str, Any]) -> tuple[Any, Any]:
    return spawn(request_process, spec)


def finish_request_load(handle: tuple[Any, Any], timeout: float) -> dict[str, Any]:
    process, conn = handle
    try:
        return wait_message(conn, "result", timeout)
    finally:
        conn.close()
        stop_process(process)


def ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


def note(message: str) -> None:
    log(message)
