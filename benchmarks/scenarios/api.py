"""Scenario 6, API under load: the status endpoint's latency while 1,000 subscribers stream.

Per server: the status endpoint's latency idle (sequential requests, one connection),
then with M subscribers connected and the emitter printing at R lines/s, a probe
process calls it every 20 ms on one keep-alive connection for most of the run.
The baseline's ``/status`` does the same kind of work (psutil of the child, counters).
"""

from __future__ import annotations

import time
from typing import Any

from ..harness import BENCH_DIR, Profiler, Target, log, make_target
from ..loadclient import raw_request
from .common import Subscribers, finish_request_load, request_load, start_request_load

M, N, RATE, PROCESSES = 1_000, 750, 50, 2
QUICK = (300, 300, 50, 1)
INTERVAL = 0.02


def _status_request(target: Target) -> bytes:
    return raw_request(
        "GET", target.status_path(), f"127.0.0.1:{target.port}", target.stream_headers()
    )


def _one(
    kind: str, m: int, n: int, rate: float, processes: int, profile: bool = False
) -> dict[str, Any]:
    with make_target(kind) as target:
        target.launch_emitter()
        request = _status_request(target)
        idle = request_load(
            {
                "port": target.port,
                "requests": [request],
                "count": 200,
                "interval": INTERVAL,
                "duration": 20,
            },
            60,
        )
        with Subscribers(target, m, n, processes=processes, connect_timeout=180) as subs:
            subs.start_collect(n / rate * 3 + 15)
            target.start_emitting(n, rate)
            time.sleep(1.0)  # the stream is flowing
            probe = start_request_load(
                {
                    "port": target.port,
                    "requests": [request],
                    "interval": INTERVAL,
                    "duration": max(2.0, n / rate - 2.0),
                }
            )
            profiler = None
            if profile and kind == "service":
                output = BENCH_DIR / "profiles" / "service-api-status-under-load.txt"
                profiler = Profiler(target.pid, output, duration=n / rate)
            try:
                loaded = finish_request_load(probe, n / rate + 60)
                profiled = profiler.finish() if profiler is not None else None
            finally:
                if profiler is not None:
                    profiler.stop()
            streamed = subs.results(n / rate * 3 + 45)
    return {
        "status_idle_ms": idle["latency_ms"],
        "status_loaded_ms": loaded["latency_ms"],
        "status_codes": loaded["statuses"],
        "probe_lag_p99_ms": loaded["lag_ms"]["p99"],
        "stream": {
            "deliveries": streamed["deliveries"],
            "expected": streamed["expected"],
            "deliveries_per_s": streamed["deliveries_per_s"],
            "latency_ms": streamed["latency_ms"],
            "lost_total": streamed["lost_total"],
            "dup_total": streamed["dup_total"],
            "client_lag_p99_ms": streamed["client"]["loop_lag_p99_ms"],
        },
        **({"profile": profiled} if profiled else {}),
    }


def run(*, quick: bool = False, profile: bool = False, **_: Any) -> dict[str, Any]:
    m, n, rate, processes = QUICK if quick else (M, N, RATE, PROCESSES)
    out: dict[str, Any] = {"scenario": "api", "m": m, "n": n, "rate": rate}
    for kind in ("baseline", "service"):
        log(f"API under load: {kind}")
        try:
            out[kind] = _one(kind, m, n, rate, processes, profile)
        except Exception as error:
            log(f"API under load {kind} failed: {error!r}")
            out[kind] = {"error": repr(error)}
    return out
