"""Scenario 1, fan-out: M subscribers × N lines at R lines/s, service vs baseline.

Per case and server: deliveries per second (every subscriber's lines over the span from
the first emit to the last receive), latency (the kernel's receive timestamp of the
bytes at the subscriber's socket minus the emitter's ``time_ns``; also from the time the
client read them) p50 / p99 / max, lines lost and duplicated per subscriber, server
CPU-seconds per delivery (psutil, the server process only, all its threads — the
service's includes storing every line in SQLite, the baseline stores nothing), server
memory per connected subscriber (RSS after connecting minus before). The idle case
connects 10,000 subscribers to a quiet stream, for memory only (and the time and the
server's CPU to accept them). The M=100 and M=1,000 cases run twice: at the issue's
rates (for latency; both servers then deliver the offered M × R) and at R=max (for
capacity, where the 10× target is scored).
``m10000`` (only when named: ``--case m10000``) is 10,000 subscribers at 5 lines/s each.
The service runs with ``PREVIEW_MAX_STREAMS_PER_USER=100000`` (harness.py): all of them
are one user's, past the default bound of 100.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..harness import BENCH_DIR, CpuMeter, Profiler, Target, log, make_target
from .common import Subscribers, ratio


@dataclass(frozen=True)
class Case:
    key: str
    m: int
    n: int
    rate: float  # lines/s; 0 = as fast as possible
    processes: int
    idle: bool = False
    profile: bool = False

    @property
    def label(self) -> str:
        if self.idle:
            return f"M={self.m:,} idle"
        rate = "max" if self.rate <= 0 else f"{self.rate:g}/s"
        return f"M={self.m:,} N={self.n:,} R={rate}"


CASES = [
    Case("m1", 1, 200_000, 0, 1),
    Case("m100", 100, 2_000, 500, 2, profile=True),
    Case("m1000", 1_000, 200, 50, 2, profile=True),
    Case("m100max", 100, 2_000, 0, 2),
    Case("m1000max", 1_000, 200, 0, 2),
    Case("idle10k", 10_000, 0, 0, 4, idle=True, profile=True),
    # Issue 70's ceiling: 10,000 subscribers at 5 lines/s each (50,000 deliveries/s),
    # p99 ≤ 50 ms, every line once. Not in the default run (two more minutes): --case.
    Case("m10000", 10_000, 50, 5, 4),
]
# Run only when named with --case.
NAMED_ONLY = frozenset({"m10000"})
QUICK = {
    "m1": Case("m1", 1, 20_000, 0, 1),
    "m100": Case("m100", 100, 500, 500, 1, profile=True),
    "m1000": Case("m1000", 1_000, 100, 50, 2, profile=True),
    "m100max": Case("m100max", 100, 500, 0, 1),
    "m1000max": Case("m1000max", 1_000, 100, 0, 2),
    "idle10k": Case("idle10k", 2_000, 0, 0, 2, idle=True, profile=True),
    "m10000": Case("m10000", 2_000, 25, 5, 2),
}


def run_case(kind: str, case: Case, *, profile: bool = False) -> dict[str, Any]:
    with make_target(kind) as target:
        target.launch_emitter()
        return _measure(target, case, profile=profile)


def _measure(target: Target, case: Case, *, profile: bool) -> dict[str, Any]:
    meter = CpuMeter(target.pid)
    time.sleep(0.5)  # let the launch's own work settle
    rss_before = meter.rss()
    profilers: list[Profiler] = []
    try:
        return _measure_profiled(target, case, meter, rss_before, profile, profilers)
    finally:
        for profiler in profilers:
            profiler.stop()


def _measure_profiled(
    target: Target,
    case: Case,
    meter: CpuMeter,
    rss_before: int,
    profile: bool,
    profilers: list[Profiler],
) -> dict[str, Any]:
    name = f"{target.name}-fanout-{case.key}"
    if profile and case.idle:
        profilers.append(
            Profiler(target.pid, BENCH_DIR / "profiles" / f"{name}-connect.txt", duration=180)
        )
    connect_cpu_before = meter.cpu()
    with Subscribers(
        target, case.m, case.n, processes=case.processes, connect_timeout=180
    ) as subscribers:
        # The server's CPU while they connect: what accepting a subscriber costs it,
        # apart from the clients' share of the two cores.
        connect_cpu = meter.cpu() - connect_cpu_before
        connected_profile = profilers[0].finish() if profilers else None
        time.sleep(1.0)
        rss_connected = meter.rss()
        memory = {
            "rss_before_mib": round(rss_before / 2**20, 1),
            "rss_connected_mib": round(rss_connected / 2**20, 1),
            "per_subscriber_kib": round((rss_connected - rss_before) / case.m / 1024, 2),
            "connect_s": subscribers.connect_seconds,
            "connect_cpu_ms_per_subscriber": round(connect_cpu / case.m * 1000, 3),
        }
        if case.idle:
            merged = subscribers.close()
            out = {"memory": memory, "errors": merged["client"]["errors"]}
            return {**out, "profile": connected_profile} if connected_profile else out
        # At R=max a server that cannot keep up may lose lines for good (the baseline's
        # ring overflows while its subscriber reconnects): 30 s, then count what is missing.
        expected_s = case.n / case.rate if case.rate > 0 else 10.0
        timeout = min(90.0, expected_s * 3 + 15) if case.rate > 0 else 30.0
        if profile:
            profilers.append(
                Profiler(
                    target.pid,
                    BENCH_DIR / "profiles" / f"{name}.txt",
                    duration=min(expected_s + 1, 30),
                )
            )
        cpu_before = meter.cpu()
        wall_before = time.perf_counter()
        subscribers.start_collect(timeout)
        target.start_emitting(case.n, case.rate)
        merged = subscribers.results(timeout + 30)
        server_cpu = meter.cpu() - cpu_before
        wall = time.perf_counter() - wall_before
        rss_after = meter.rss()
    deliveries = merged["deliveries"]
    result: dict[str, Any] = {
        **merged,
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_share": round(server_cpu / wall, 2) if wall else None,
        "cpu_us_per_delivery": round(server_cpu / deliveries * 1e6, 2) if deliveries else None,
        "deliveries_per_cpu_s": round(deliveries / server_cpu) if server_cpu else None,
        "memory": {**memory, "rss_after_mib": round(rss_after / 2**20, 1)},
    }
    if profile:
        result["profile"] = profilers[-1].finish()
    return result


def _compare(case: Case, service: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    if case.idle:
        return {
            "memory_per_subscriber": ratio(
                service["memory"]["per_subscriber_kib"], baseline["memory"]["per_subscriber_kib"]
            )
        }
    return {
        "deliveries_per_s": ratio(service["deliveries_per_s"], baseline["deliveries_per_s"]),
        "deliveries_per_cpu_s": ratio(
            service["deliveries_per_cpu_s"], baseline["deliveries_per_cpu_s"]
        ),
        "latency_p99": ratio(service["latency_ms"]["p99"], baseline["latency_ms"]["p99"]),
    }


def run(
    *, quick: bool = False, profile: bool = False, only: list[str] | None = None, **_: Any
) -> dict[str, Any]:
    cases = [QUICK[c.key] if quick else c for c in CASES]
    if only:
        cases = [c for c in cases if c.key in only]
    else:
        cases = [c for c in cases if c.key not in NAMED_ONLY]
    out = []
    for case in cases:
        row: dict[str, Any] = {
            "case": case.key,
            "label": case.label,
            "m": case.m,
            "n": case.n,
            "rate": case.rate,
        }
        for kind in ("baseline", "service"):
            log(f"fan-out {case.label}: {kind}")
            started = time.perf_counter()
            try:
                row[kind] = run_case(
                    kind, case, profile=profile and case.profile and kind == "service"
                )
            except Exception as error:  # a failing server is a result, not a crash
                log(f"fan-out {case.label} {kind} failed: {error!r}")
                row[kind] = {"error": repr(error)}
            row[kind]["wall_s"] = round(time.perf_counter() - started, 1)
        if "error" not in row["service"] and "error" not in row["baseline"]:
            row["ratio"] = _compare(case, row["service"], row["baseline"])
        out.append(row)
    return {"scenario": "fanout", "cases": out}
