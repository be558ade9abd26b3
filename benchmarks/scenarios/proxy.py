"""Scenario 4, proxy: the envelope (``POST …/preview/request``) and the transparent proxy
(``…/preview/proxy/{path}``) against direct calls to the child (examples/hello-fastapi,
``GET /api/items/1``, launched by the service with its default command).

Latency: sequential requests on one keep-alive connection, after a warm-up, in ROUNDS
blocks that alternate direct / envelope / transparent, so that a change in the
machine's speed during the run (this VM's can double) weighs on every mode alike;
added latency is the mode's p50 / p99 minus the direct call's. Throughput: CONCURRENCY
keep-alive connections for a few seconds per mode (profiled with ``--profile``).
Clients are lean (raw sockets, own process). The ``origin`` mode is the same call at the
preview's own origin (``Host: <preview>.localhost``, its session cookie). A last mode,
``bare``, is the floor: ``benchmarks.bareproxy`` (Hypercorn + httpx, no service logic)
in front of the same child, timed in the same rounds. Then ``benchmarks.anchors``: with
``wrk`` at 1, 8 and 32 connections, the same app direct, behind nginx and
configurable-http-proxy, and through the service.
"""

from __future__ import annotations

import array
import json
import os
import subprocess
from typing import Any

from .. import anchors
from ..harness import (
    BENCH_DIR,
    PYTHON,
    Profiler,
    ServiceServer,
    free_port,
    log,
    origin_cookie,
    wait_for_port,
)
from ..loadclient import raw_request, summary_us
from .common import request_load
from .launch import _example_files

SEQUENTIAL, WARMUP, CONCURRENCY, DURATION = 2_000, 100, 8, 5.0
QUICK = (300, 50, 8, 2.0)
ROUNDS = 10
CHILD_PATH = "/api/items/1"


def _requests(
    service: ServiceServer, gid: str, token: str, port: int | str, bare_port: int
) -> dict[str, Any]:
    host = f"127.0.0.1:{service.port}"
    origin, cookie = origin_cookie(service, gid, token)
    direct_host = "127.0.0.1" if isinstance(port, str) else f"127.0.0.1:{port}"
    envelope_body = json.dumps({"method": "GET", "path": CHILD_PATH}).encode()
    preview_headers = {**service.auth, "X-Preview-Token": token}
    return {
        "direct": (port, raw_request("GET", CHILD_PATH, direct_host)),
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
        "origin": (service.port, raw_request("GET", CHILD_PATH, origin, {"Cookie": cookie})),
        "bare": (bare_port, raw_request("GET", CHILD_PATH, f"127.0.0.1:{bare_port}")),
    }


def _latencies(
    modes: dict[str, tuple[int, bytes]], sequential: int, warmup: int
) -> dict[str, dict[str, Any]]:
    """Sequential latency of every mode, measured in alternating blocks (module doc)."""
    for port, request in modes.values():
        request_load({"port": port, "requests": [request], "count": warmup}, 60)
    samples = {mode: array.array("q") for mode in modes}
    statuses: dict[str, dict[str, int]] = {mode: {} for mode in modes}
    lag_p99 = {mode: 0.0 for mode in modes}
    errors: dict[str, list[str]] = {mode: [] for mode in modes}
    per_block = max(sequential // ROUNDS, 2)
    for _ in range(ROUNDS):
        for mode, (port, request) in modes.items():
            block = request_load(
                {"port": port, "requests": [request], "count": per_block, "duration": 30}, 60
            )
            measured = array.array("q")
            measured.frombytes(block["latencies_us"])
            samples[mode].extend(measured[1:])  # the first one also paid for the connect
            for status, count in block["statuses"].items():
                statuses[mode][status] = statuses[mode].get(status, 0) + count
            lag_p99[mode] = max(lag_p99[mode], block["lag_ms"]["p99"] or 0)
            errors[mode] += block["errors"]
    return {
        mode: {
            "latency_ms": summary_us(samples[mode]),
            "statuses": statuses[mode],
            "lag_p99_ms": lag_p99[mode],
            "errors": errors[mode],
        }
        for mode in modes
    }


def _throughput(
    port: int, request: bytes, concurrency: int, duration: float, profiler: Profiler | None
) -> dict[str, Any]:
    throughput = request_load(
        {"port": port, "requests": [request], "concurrency": concurrency, "duration": duration},
        duration + 60,
    )
    profiled = profiler.finish() if profiler is not None else None
    return {
        "rps": throughput["rps"],
        "rps_statuses": throughput["statuses"],
        "lag_p99_ms": throughput["lag_ms"]["p99"] or 0,
        "errors": throughput["errors"],
        **({"profile": profiled} if profiled else {}),
    }


def run(*, quick: bool = False, profile: bool = False, **_: Any) -> dict[str, Any]:
    sequential, warmup, concurrency, duration = (
        QUICK if quick else (SEQUENTIAL, WARMUP, CONCURRENCY, DURATION)
    )
    out: dict[str, Any] = {
        "scenario": "proxy",
        "path": CHILD_PATH,
        "concurrency": concurrency,
        "rounds": ROUNDS,
    }
    sandbox = os.environ.get("BENCH_SANDBOX", "auto")
    out["sandbox"] = sandbox
    with ServiceServer(extra_env={"PREVIEW_SANDBOX": sandbox}) as service:
        gid = service.upload(_example_files())
        data = service.launch(gid)
        bare_port = free_port()
        upstream = f"http://127.0.0.1:{data['port']}"
        command = ["-m", "benchmarks.bareproxy", "--port", str(bare_port), "--upstream", upstream]
        # A sandboxed app is reached through its socket (as the service does); direct
        # calls and the bare proxy go the same way.
        direct: int | str = data["port"]
        socket = service.sockets_dir / data["previewInstanceId"] / "http.sock"
        if socket.exists():
            direct = str(socket)
            command += ["--uds", direct]
        out["direct_via"] = "unix socket" if isinstance(direct, str) else "tcp"
        bare = subprocess.Popen([PYTHON, *command], stderr=subprocess.DEVNULL)
        try:
            wait_for_port(bare_port, 30, bare)
            modes = _requests(service, gid, data["previewToken"], direct, bare_port)
            _measure(out, service, modes, (sequential, warmup, concurrency, duration), profile)
            # wrk: the same app direct, behind nginx and CHP, and through the service.
            quiet = anchors.launch_quiet(service)
            try:
                out["anchors"] = anchors.run(
                    service, gid, data, rounds=1 if quick else 3, duration=2, quiet=quiet
                )
            finally:
                service.stop(quiet[0])
        finally:
            bare.terminate()
            bare.wait(10)
        service.stop(gid)
    direct = out["direct"]["latency_ms"]
    for mode in ("envelope", "transparent", "origin", "bare"):
        figures = out[mode]
        figures["added_p50_ms"] = round(figures["latency_ms"]["p50"] - direct["p50"], 3)
        figures["added_p99_ms"] = round(figures["latency_ms"]["p99"] - direct["p99"], 3)
        figures["rps_ratio_to_direct"] = round(figures["rps"] / out["direct"]["rps"], 3)
    return out


def _measure(
    out: dict[str, Any],
    service: ServiceServer,
    modes: dict[str, tuple[int, bytes]],
    counts: tuple[int, int, int, float],
    profile: bool,
) -> None:
    """Latency of every mode in alternating rounds, then each mode's req/s, into ``out``."""
    sequential, warmup, concurrency, duration = counts
    log(f"proxy: latency, {ROUNDS} rounds of {', '.join(modes)}")
    latency = _latencies(modes, sequential, warmup)
    for mode, (port, request) in modes.items():
        log(f"proxy: {mode} req/s")
        profiler = None
        if profile and mode in ("envelope", "transparent", "origin"):
            output = BENCH_DIR / "profiles" / f"service-proxy-{mode}.txt"
            profiler = Profiler(service.pid, output, duration=duration + 30)
        try:
            load = _throughput(port, request, concurrency, duration, profiler)
        finally:
            if profiler is not None:
                profiler.stop()
        measured = latency[mode]
        out[mode] = {
            "latency_ms": measured["latency_ms"],
            "statuses": measured["statuses"],
            "rps": load["rps"],
            "rps_statuses": load["rps_statuses"],
            "client_lag_p99_ms": max(measured["lag_p99_ms"], load["lag_p99_ms"]),
            "errors": measured["errors"] + load["errors"],
            **({"profile": load["profile"]} if "profile" in load else {}),
        }
