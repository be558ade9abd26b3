"""Scenario 8, many: a hundred previews at once on one service (issue 14's figures).

One service, sandboxing as it does by default (``PREVIEW_SANDBOX=auto``; ``BENCH_SANDBOX``
picks another mode), builds off as in the other scenarios, a pool of COUNT + 10 ports
and as many previews allowed to its one pro user, the default start-up timeout unless
``BENCH_STARTUP_TIMEOUT`` (s) sets another. After one unmeasured launch and stop
(so the launch path's code is loaded), COUNT copies of examples/hello-fastapi are
uploaded, then launched at once (LAUNCHERS threads send the ``launch`` calls, without
``wait``).

* start: the statuses are polled once a second until every preview is ``running`` (or
  failed); each one's time to ``running`` is its ``startedAt`` (set when it answered)
  minus the moment before the first launch call. The polls' own latencies are the
  status endpoint's while the previews start; the service's CPU time over the start
  is given too. If some did not start (on two cores, a hundred apps importing FastAPI
  side by side can all outlast the start-up timeout together), all are stopped, the
  stop is checked as below, and they are launched again with WAVE launches in flight
  (each call with ``wait``), so that the rest is measured with all of them running.
* status: once all run and have idled SETTLE s (the service's CPU over that idle spell
  is given: health checks), STATUS_CALLS ``GET …/preview/status`` calls, one every
  20 ms on one keep-alive connection, cycling over the previews: p50 / p99 / max.
* memory per idle preview: the service's RSS growth (after the warm-up and the uploads,
  before any start → all running) / COUNT, and each preview's own memory as its status gives it
  (``memoryMb``: its cgroup's charge, RSS and page cache, when sandboxed), read again
  from the cgroup's ``memory.stat`` for the split; their sum is the total per preview.
  Beside them: the service's descendant processes' RSS and PSS / COUNT (PSS shares
  the interpreter's and libraries' pages out among the processes mapping them), and
  the drop of the machine's MemAvailable / COUNT (kernel memory too, but also whatever
  else runs on the machine meanwhile).
* stop: every preview stopped at once (``DELETE``), then what is left: the service's
  descendant processes, processes of the previews' uids, the previews' cgroups (under
  the service's own, ``…/preview/<previews dir name>/``, every controller), mounts and
  sockets under its previews dir; and once the service has exited, its cgroup parents,
  mounts and previews dir. Whatever is found is reported, then cleaned up.
"""

from __future__ import annotations

import array
import contextlib
import os
import shutil
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from ..harness import ServiceServer, free_port_block, log
from ..loadclient import raw_request, summary_us
from .common import request_load
from .launch import _example_files

COUNT, QUICK_COUNT = 100, 10
LAUNCHERS = 16  # threads sending the launch calls at once
WAVE = 4  # launches in flight when not all started at once: two per core here
STATUS_CALLS, STATUS_INTERVAL = 500, 0.02
SETTLE = 10.0  # a whole health-check interval (PREVIEW_HEALTH_INTERVAL, 10 s)
START_TIMEOUT = 600.0
MIB = 1024 * 1024
CGROUP = Path("/sys/fs/cgroup")


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return moment.timestamp()


def _mem_available() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _cgroup_parents(service: ServiceServer) -> list[Path]:
    """Where the service makes its previews' cgroups (as ``CgroupRoot.detect`` does):
    ``<its own cgroup>/preview/<previews dir name>``, per v1 controller or in v2's tree."""
    name = service.previews_path.name
    try:
        lines = Path(f"/proc/{service.pid}/cgroup").read_text().splitlines()
    except OSError:
        return []
    own = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path.lstrip("/")
    if (CGROUP / "cgroup.controllers").exists():
        return [CGROUP / own.get("", "") / "preview" / name]
    parents = []
    for controller in ("memory", "pids", "cpu", "cpuacct"):
        base = (CGROUP / controller).resolve()
        parents.append(base / own.get(controller, "") / "preview" / name)
    return list(dict.fromkeys(parents))


def _memory_stat(parents: list[Path], preview_id: str) -> dict[str, int] | None:
    """The cgroup's own RSS and page cache (v1 ``total_rss`` / ``total_cache``, v2
    ``anon`` / ``file``), from the memory controller's directory."""
    for parent in parents:
        path = parent / preview_id / "memory.stat"
        try:
            fields = dict(line.split() for line in path.read_text().splitlines())
        except OSError:
            continue
        if "total_rss" in fields:
            return {"rss": int(fields["total_rss"]), "cache": int(fields["total_cache"])}
        if "anon" in fields:
            return {"rss": int(fields["anon"]), "cache": int(fields["file"])}
    return None


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory) + "/"
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    return [line.split()[1] for line in lines if line.split()[1].startswith(prefix)]


def _mib(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value / MIB, digits)


class _Clients(threading.local):
    client: httpx.Client | None = None


def _launch_all(
    service: ServiceServer, gids: list[str], threads: int, wait: bool
) -> list[dict[str, Any]]:
    """Every ``launch`` call, from ``threads`` threads (a client each); with ``wait``,
    each call returns once its preview runs (or failed), so that many start at once."""
    local = _Clients()
    made: list[httpx.Client] = []

    def launch(gid: str) -> dict[str, Any]:
        if local.client is None:
            local.client = httpx.Client(
                base_url=f"http://127.0.0.1:{service.port}",
                headers=service.auth,
                timeout=120,
                trust_env=False,
            )
            made.append(local.client)
        response = local.client.post(f"/api/generations/{gid}/preview/launch", json={"wait": wait})
        if response.status_code >= 400:
            return {"status": "refused", "errorMessage": response.text[:300]}
        return response.json()

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(launch, gids))
    finally:
        for client in made:
            client.close()


def _wait_running(
    service: ServiceServer, gids: list[str], began: float
) -> tuple[dict[str, dict[str, Any]], array.array]:
    """Poll the statuses once a second until every preview has settled; the polls'
    latencies (µs) are returned too."""
    settled: dict[str, dict[str, Any]] = {}
    latencies = array.array("q")
    deadline = time.monotonic() + START_TIMEOUT
    while len(settled) < len(gids) and time.monotonic() < deadline:
        round_began = time.monotonic()
        for gid in gids:
            if gid in settled:
                continue
            sent = time.perf_counter_ns()
            response = service.http.get(f"/api/generations/{gid}/preview/status")
            latencies.append((time.perf_counter_ns() - sent) // 1000)
            data = response.json() if response.status_code == 200 else {}
            if data.get("status") in ("running", "failed", "stopped"):
                settled[gid] = data
        running = sum(1 for d in settled.values() if d["status"] == "running")
        log(
            f"many: {running} running, {len(settled) - running} failed, {time.time() - began:.1f} s"
        )
        time.sleep(max(0.0, 1.0 - (time.monotonic() - round_began)))
    return settled, latencies


def _leftovers(
    service: ServiceServer, parents: list[Path], pids: dict[int, float], uids: set[int]
) -> dict[str, list[str]]:
    """What is still there of the previews (see the module doc)."""
    processes = [
        f"{p.pid} {' '.join(p.cmdline())[:80]}" for p in _descendants(service.pid) if p.is_running()
    ]
    for pid, created in pids.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if abs(process.create_time() - created) < 0.01:
                processes.append(f"{pid} {' '.join(process.cmdline())[:80]}")
    for process in psutil.process_iter(["uids", "cmdline"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if process.info["uids"].real in uids:
                processes.append(f"{process.pid} uid {process.info['uids'].real}")
    cgroups = [
        str(d) for parent in parents if parent.is_dir() for d in parent.iterdir() if d.is_dir()
    ]
    sockets = service.sockets_dir
    return {
        "processes": sorted(set(processes)),
        "cgroups": cgroups,
        "mounts": service.previews_mounts(),
        "sockets": sorted(os.listdir(sockets)) if sockets.is_dir() else [],
    }


def _clean_up(previews_dir: Path, parents: list[Path], pids: dict[int, float]) -> None:
    """Whatever the service left behind: its children, mounts, cgroups, previews dir."""
    for pid, created in pids.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if abs(process.create_time() - created) < 0.01:
                process.kill()
    for mount in sorted(_mounts_under(previews_dir), reverse=True):
        subprocess.run(["umount", "--lazy", mount], capture_output=True, check=False)
    for parent in parents:
        for directory in [*(d for d in parent.glob("*") if d.is_dir()), parent]:
            with contextlib.suppress(OSError):
                directory.rmdir()
    shutil.rmtree(previews_dir, ignore_errors=True)


def _start(
    service: ServiceServer, gids: list[str], threads: int, wait: bool
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Launch every preview (see ``_launch_all``) and wait until all have settled: the
    start's figures, and the running previews' statuses by generation."""
    meter = psutil.Process(service.pid)
    cpu_before = meter.cpu_times()
    began = time.time()
    launched = _launch_all(service, gids, threads, wait)
    calls_s = time.time() - began
    settled, poll_latencies = _wait_running(service, gids, began)
    cpu_after = meter.cpu_times()
    running = {g: d for g, d in settled.items() if d["status"] == "running"}
    at = sorted(t - began for d in running.values() if (t := _ts(d.get("startedAt"))))
    errors = [d["errorMessage"] for d in [*settled.values(), *launched] if d.get("errorMessage")]
    return {
        "launches_in_flight": len(gids) if not wait else threads,
        "launch_calls_s": round(calls_s, 2),
        "running": len(running),
        "failed": len(settled) - len(running),
        "unsettled": len(gids) - len(settled),
        "first_running_s": round(at[0], 2) if at else None,
        "median_running_s": round(statistics.median(at), 2) if at else None,
        "all_running_s": round(at[-1], 2) if len(at) == len(gids) else None,
        "last_running_s": round(at[-1], 2) if at else None,
        "errors": sorted(set(errors))[:5],
        "error_count": len(errors),
        "status_while_starting_ms": summary_us(poll_latencies),
        "service_cpu_s": round(
            (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system), 1
        ),
    }, running


def _stop_all(
    service: ServiceServer,
    gids: list[str],
    parents: list[Path],
    pids: dict[int, float],
    uids: set[int],
) -> dict[str, Any]:
    """Stop every preview at once, wait for the service's children to go, and look for
    anything left (``_leftovers``)."""
    log(f"many: stopping {len(gids)}")
    began = time.monotonic()
    with ThreadPoolExecutor(LAUNCHERS) as pool:
        stopped = list(pool.map(service.stop, gids))
    stop_s = time.monotonic() - began
    deadline = time.monotonic() + 30
    while _descendants(service.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return {
        "seconds": round(stop_s, 2),
        "all_gone_s": round(time.monotonic() - began, 2),
        "stopped": sum(1 for s in stopped if s.get("status") == "stopped"),
        "left": _leftovers(service, parents, pids, uids),
    }


def _memory(
    service: ServiceServer,
    running: dict[str, dict[str, Any]],
    parents: list[Path],
    before: tuple[int, int],
    seen: tuple[dict[int, float], set[int]],
) -> dict[str, Any]:
    """Memory per idle preview (see the module doc); records the previews' processes
    and uids in ``seen`` for the checks after the stop."""
    count = len(running)
    pids, uids = seen
    rss_before, available_before = before
    rss_idle, available_idle = psutil.Process(service.pid).memory_info().rss, _mem_available()
    children = _descendants(service.pid)
    children_rss = children_pss = 0
    for child in children:
        with contextlib.suppress(psutil.Error):
            info = child.memory_full_info()
            children_rss += info.rss
            children_pss += info.pss
            pids[child.pid] = child.create_time()
            uids.add(child.uids().real)
    uids.discard(os.getuid())  # only the previews' own uids (sandboxed as root)
    own: list[float] = []
    split: list[dict[str, int]] = []
    for gid in running:
        data = service.http.get(f"/api/generations/{gid}/preview/status").json()
        if data.get("memoryMb") is not None:
            own.append(data["memoryMb"])
        stat = _memory_stat(parents, data["previewInstanceId"])
        if stat is not None:
            split.append(stat)
    per_service = (rss_idle - rss_before) / count
    own_mean = statistics.mean(own) if own else None
    return {
        "service_rss_before_mib": _mib(rss_before),
        "service_rss_idle_mib": _mib(rss_idle),
        "service_per_preview_mib": _mib(per_service, 2),
        "preview_memory_mb": {
            "mean": round(own_mean, 1) if own_mean is not None else None,
            "min": min(own, default=None),
            "max": max(own, default=None),
            "sum": round(sum(own), 1),
            "n": len(own),
            "from": "cgroup" if split else "process tree",
        },
        "cgroup_rss_mib_mean": _mib(statistics.mean(s["rss"] for s in split)) if split else None,
        "cgroup_cache_mib_mean": _mib(statistics.mean(s["cache"] for s in split))
        if split
        else None,
        "total_per_preview_mib": round(per_service / MIB + own_mean, 1)
        if own_mean is not None
        else None,
        "children_processes": len(children),
        "children_rss_per_preview_mib": _mib(children_rss / count),
        "children_pss_per_preview_mib": _mib(children_pss / count),
        "mem_available_drop_per_preview_mib": _mib((available_before - available_idle) / count),
    }


def _status_latency(service: ServiceServer, gids: list[str]) -> dict[str, Any]:
    requests = [
        raw_request(
            "GET",
            f"/api/generations/{gid}/preview/status",
            f"127.0.0.1:{service.port}",
            service.auth,
        )
        for gid in gids
    ]
    status = request_load(
        {
            "port": service.port,
            "requests": requests,
            "count": STATUS_CALLS,
            "interval": STATUS_INTERVAL,
            "duration": 120,
        },
        180,
    )
    return {
        "status_ms": status["latency_ms"],
        "status_codes": status["statuses"],
        "status_errors": status["errors"],
    }


def run(*, quick: bool = False, **_: Any) -> dict[str, Any]:
    count = QUICK_COUNT if quick else COUNT
    sandbox = os.environ.get("BENCH_SANDBOX", "auto")
    first = free_port_block(count + 10)
    env = {
        "PREVIEW_SANDBOX": sandbox,
        "PREVIEW_PORT_MIN": str(first),
        "PREVIEW_PORT_MAX": str(first + count + 9),
        "PREVIEW_MAX_INSTANCES_PRO": str(count + 10),
    }
    if os.environ.get("BENCH_STARTUP_TIMEOUT"):  # the service's default otherwise (30 s)
        env["PREVIEW_STARTUP_TIMEOUT"] = os.environ["BENCH_STARTUP_TIMEOUT"]
    out: dict[str, Any] = {"scenario": "many", "count": count, "sandbox": sandbox}
    files = _example_files()
    pids: dict[int, float] = {}  # every process seen in a preview's tree -> its start
    uids: set[int] = set()
    service = ServiceServer(extra_env=env)
    previews_dir, parents = service.previews_path, _cgroup_parents(service)
    try:
        log("many: warm-up launch")
        warm = service.upload(files)
        service.launch(warm)
        service.stop(warm)
        config = service.http.get(f"/api/generations/{warm}/preview/config").json()
        keys = ("sandbox", "startupTimeout", "maxInstances", "memoryLimitMb", "pidsLimit")
        out["settings"] = {key: config.get(key) for key in keys}
        out["isolation"] = (config.get("sandbox") or {}).get("isolation", "none")
        gids = [service.upload(files) for _ in range(count)]
        time.sleep(1.0)
        before = psutil.Process(service.pid).memory_info().rss, _mem_available()

        log(f"many: launching {count} at once")
        out["start"], running = _start(service, gids, LAUNCHERS, wait=False)
        if len(running) < count:
            # Not all of them started: stop them all, check that the failed ones left
            # nothing either, then start them again with WAVE launches in flight.
            out["stop_at_once"] = _stop_all(service, gids, parents, pids, uids)
            time.sleep(1.0)
            # The memory per preview stays counted from before the first start: what
            # the failed one left in the service is the service's too.
            out["service_rss_after_failed_start_mib"] = _mib(
                psutil.Process(service.pid).memory_info().rss
            )
            log(f"many: launching {count} again, {WAVE} at a time")
            out["start_in_waves"], running = _start(service, gids, WAVE, wait=True)
        log(f"many: {len(running)}/{count} running; idle {SETTLE:g} s")
        meter = psutil.Process(service.pid)
        cpu_before = meter.cpu_times()
        time.sleep(SETTLE)
        cpu_after = meter.cpu_times()
        idle_cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
        out["idle_service_cpu_percent"] = round(idle_cpu / SETTLE * 100, 1)
        log(f"many: {STATUS_CALLS} status calls over the {len(running)} running")
        out.update(_status_latency(service, list(running) or gids))
        time.sleep(2.0)
        if running:
            log("many: memory")
            out["memory"] = _memory(service, running, parents, before, (pids, uids))
        out["stop"] = _stop_all(service, gids, parents, pids, uids)
    finally:
        service.close()
        after = {
            "cgroups": [str(p) for p in parents if p.exists()],
            "mounts": service.previews_mounts(),
            "previews_dir": previews_dir.exists(),
        }
        out.setdefault("stop", {})["after_service_exit"] = after
        _clean_up(previews_dir, parents, pids)
    left = out["stop"].get("left", {})
    out["stop"]["clean"] = not any(left.values()) and not any(after.values())
    return out
