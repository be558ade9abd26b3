"""Scenario 4, proxy: the envelope (``POST …/preview/request``) and the transparent proxy
(``…/preview/proxy/{path}``) against direct calls to the child (examples/hello-fastapi,
``GET /api/items/1``, launched by the service with its default command).

Latency: one keep-alive connection, sequential requests after a warm-up; added latency
is the mode's p50 / p99 minus the direct call's. Throughput: CONCURRENCY keep-alive
connections for a few seconds. Clients are lean (raw sockets, own process).
"""

from __future__ import annotations

import json
from typing import Any

from ..harness import BENCH_DIR, Profiler, ServiceServer, log
from ..loadclient import raw_request
from .common import request_load
from .launch import _example_files

SEQUENTIAL, WARMUP, CONCURRENCY, DURATION = 2_000, 100, 8, 5.0
QUICK = (300, 50, 8, 2.0)
CHILD_PATH = "/api/items/1"


def _requests(service: ServiceServer, gid: str, token: str, port: int) -> dict[str, Any]:
    host = f"127.0.0.1:{service.port}"
    envelope_body = json.dumps({"method": "GET", "path": CHILD_PATH}).encode()
    preview_headers = {**service.auth, "X-Preview-Token": token}
    return {
        "direct": (port, raw_request("GET", CHILD_PATH, f"127.0.0.1:{port}")),
        "envelope": (
            service.port,
            raw_request(
                "POST",
                f"/api/generations/{gid}/preview/request",
                host,
                {**preview_headers, "Content-Type": "application/json"},
                envelope_body,
            ),
        ),
        "transparent": (
            service.port,
            raw_request(
                "GET", f"/api/generations/{gid}/preview/proxy{CHILD_PATH}", host, preview_headers
            ),
        ),
    }


def _measure(
    port: int,
    request: bytes,
    sequential: int,
    warmup: int,
    concurrency: int,
    duration: float,
    profiler: Profiler | None = None,
) -> dict[str, Any]:
    request_load({"port": port, "requests": [request], "count": warmup}, 60)
    latency = request_load(
        {"port": port, "requests": [request], "count": sequential, "duration": 30}, 60
    )
    profiled = profiler.finish() if profiler is not None else None
    throughput = request_load(
        {"port": port, "requests": [request], "concurrency": concurrency, "duration": duration},
        duration + 60,
    )
    return {
        "latency_ms": latency["latency_ms"],
        "statuses": latency["statuses"],
        "sequential_rps": latency["rps"],
        "rps": throughput["rps"],
        "rps_statuses": throughput["statuses"],
        "client_lag_p99_ms": max(latency["lag_ms"]["p99"] or 0, throughput["lag_ms"]["p99"] or 0),
        "errors": latency["errors"] + throughput["errors"],
        **({"profile": profiled} if profiled else {}),
    }


def run(*, quick: bool = False, profile: bool = False, **_: Any) -> dict[str, Any]:
    sequential, warmup, concurrency, duration = (
        QUICK if quick else (SEQUENTIAL, WARMUP, CONCURRENCY, DURATION)
    )
    out: dict[str, Any] = {"scenario": "proxy", "path": CHILD_PATH, "concurrency": concurrency}
    with ServiceServer() as service:
        gid = service.upload(_example_files())
        data = service.launch(gid)
        modes = _requests(service, gid, data["previewToken"], data["port"])
        for mode, (port, request) in modes.items():
            log(f"proxy: {mode}")
            profiler = None
            if profile and mode != "direct":
                output = BENCH_DIR / "profiles" / f"service-proxy-{mode}.txt"
                profiler = Profiler(service.pid, output, duration=60)
            try:
                out[mode] = _measure(
                    port, request, sequential, warmup, concurrency, duration, profiler
                )
            finally:
                if profiler is not None:
                    profiler.stop()
        service.stop(gid)
    direct = out["direct"]["latency_ms"]
    for mode in ("envelope", "transparent"):
        figures = out[mode]
        figures["added_p50_ms"] = round(figures["latency_ms"]["p50"] - direct["p50"], 3)
        figures["added_p99_ms"] = round(figures["latency_ms"]["p99"] - direct["p99"], 3)
        figures["rps_ratio_to_direct"] = round(figures["rps"] / out["direct"]["rps"], 3)
    return out
