"""The proxy beside real reverse proxies, measured with ``wrk`` (the anchors of issue 25).

``python -m benchmarks.anchors [--rounds 3] [--duration 2] [--one-connection-duration S]
[--only TARGET ...]`` (also part of ``python -m benchmarks proxy``): the same app
(examples/hello-fastapi on uvicorn, ``GET /api/items/1``) reached

* ``direct``: a copy of it on the host's 127.0.0.1, started with the same command but
  unconfined (no bubblewrap, seccomp filter or cgroup) and without its access log (the
  service's copy logs a line per request, which the service reads and stores);
* ``nginx``: that copy behind nginx (Debian's nginx-light, one worker, upstream
  keep-alive of 64 connections, access log off);
* ``chp``: that copy behind configurable-http-proxy (JupyterHub's proxy, Node, from npm);
* ``path``, ``origin`` and ``envelope``: the service's own preview of it (sandboxed
  unless ``BENCH_SANDBOX=off``), through the path proxy, at the preview's origin, and
  through the JSON envelope;

at 1, 8 and 32 keep-alive connections, each ``wrk`` run ``--duration`` seconds, in
rounds that alternate the targets (the machine is shared: a change of its speed weighs
on every target alike). Per target and connection count: p50 / p99 and their excess
over ``direct`` in the same round (median over rounds), req/s and its ratio to
``direct``, and the proxy process's CPU per request (utime + stime from ``/proc``
over the run, divided by the requests wrk made; for ``direct`` and ``sandboxed``, the
app's own), and the app's CPU per request behind each proxy (a proxy's calls cost the
app itself more than wrk's own: at 8 and 32 connections the sandboxed app's quota
binds, and its req/s is that quota over this). ``sandboxed``: the service's own
preview of the app reached from inside its sandbox's network namespace (``nsenter``),
with no proxy; the service's modes are compared with it (the sandbox's own cost
apart), the anchors with ``direct``.
The anchors' copy prints nothing a call; the service's preview of the app prints two
lines a call (uvicorn's access line and the app's own ``handled GET …``), which the
service reads, classifies, publishes and stores: work CHP's figure does not carry. So a
second, quiet preview of it (``·quiet``: started with the copy's own options; leave it
out with ``--no-quiet``) is measured in the same rounds: its path proxy and origin do
the proxy's work alone (a ``proxy`` event and a history row a call included), the work
CHP and nginx are measured doing. ``chp·sandboxed`` is CHP in front of that same quiet
preview, run in its sandbox's network namespace: the app then runs under its cgroup's
CPU quota (one core by default), which binds at 8 and 32 connections whoever calls it, so
this is the like-for-like anchor of ``path·quiet`` and ``origin·quiet`` (``chp`` fronts
the unconfined copy). ``trio·floor`` is ``benchmarks.trioproxy`` in front of it the
same way: the smallest proxy trio allows (no parsing, no log, no history), what no
proxy on the service's stack spends less than on the machine at hand.
After each run through the service, its deferred writes (the request history's batch,
the log's after its linger) are waited for: counted in its CPU a call, and not a burst
in the next target's run (before the twenty-fourth round they fell in it: CHP's, run
after the quiet origin, carried them). ``--one-connection-duration``: longer runs at
one connection (more calls for p99); ``--only``: those targets and their references.
nginx-light and wrk are installed with apt-get, configurable-http-proxy with npm (into
``benchmarks/.tools``), when missing; a target whose tool cannot be had is reported as skipped.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from preview.sandbox.netns import netns_child

from .harness import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    ServiceServer,
    free_port,
    log,
    origin_cookie,
    wait_for_port,
)

__all__ = [
    "QUIET_COMMAND",
    "ensure_tools",
    "launch_quiet",
    "measure",
    "run",
    "sandbox_entry",
    "start_chp",
    "start_floor",
]

CHILD_PATH = "/api/items/1"
CONNECTIONS = (1, 8, 32)
_TOOLS = BENCH_DIR / ".tools"
_CHP = _TOOLS / "node_modules" / ".bin" / "configurable-http-proxy"
_TICKS = os.sysconf("SC_CLK_TCK")
_LOG_SETTLE = 0.35  # s: the log writer's linger (0.25 s) and its write
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
# The anchors' copy of the app prints nothing a call: neither uvicorn's access line nor
# the app's own "handled GET ..." (INFO; `--log-level` is uvicorn's loggers' alone). The
# service's preview of it prints both, and reads and stores both; its quiet preview is
# started as the anchors' copy is ("{port}" filled by the service, as in any command).
_QUIET_CODE = (
    "import logging, uvicorn; logging.disable(logging.INFO); uvicorn.run('app.main:app',"
    " host='127.0.0.1', port=int('{port}'), log_level='warning', access_log=False)"
)
QUIET_COMMAND = ["{python}", "-c", _QUIET_CODE]
TARGETS = (
    "direct",
    "nginx",
    "chp",
    "sandboxed",
    "path",
    "origin",
    "envelope",
    "sandboxed·quiet",
    "chp·sandboxed",
    "trio·floor",
    "path·quiet",
    "origin·quiet",
)
_LABELS = {
    "direct": "direct (the app on the host: unconfined, printing nothing a call)",
    "sandboxed": "sandboxed (the service's preview of it, no proxy; the service's CPU"
    " meanwhile: the app's two lines a call read and stored)",
    "sandboxed·quiet": "sandboxed·quiet (a preview of it started as direct's copy: no line"
    " a call; no proxy)",
    "chp·sandboxed": "chp·sandboxed (CHP in front of that quiet preview, in its sandbox's"
    " network namespace: like for like with the service's modes)",
    "trio·floor": "trio·floor (the smallest trio proxy, benchmarks/trioproxy.py, in front of"
    " that quiet preview as CHP is: what no proxy on the service's stack goes below here)",
    "path·quiet": "path·quiet (the path proxy to that quiet preview: what CHP does, plus"
    " a proxy event and a history row a call)",
    "origin·quiet": "origin·quiet (its origin, the same)",
}


def ensure_tools() -> dict[str, str | None]:
    """Paths of wrk, nginx and configurable-http-proxy, installed when missing."""
    if not (shutil.which("wrk") and shutil.which("nginx", path="/usr/sbin:/usr/bin")):
        log("anchors: apt-get install nginx-light wrk")
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "nginx-light", "wrk"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    if not _CHP.exists() and shutil.which("npm"):
        log("anchors: npm install configurable-http-proxy")
        _TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(_TOOLS), "configurable-http-proxy@4"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=600,
        )
    return {
        "wrk": shutil.which("wrk"),
        "nginx": shutil.which("nginx", path="/usr/sbin:/usr/bin"),
        "chp": str(_CHP) if _CHP.exists() else None,
    }


def _nginx_conf(workdir: Path, port: int, upstream: int) -> Path:
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx.error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  upstream app {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
}}
"""
    )
    return conf


def _app_in(sandbox_pid: int) -> int | None:
    """The app's own process in the sandbox (uvicorn), for its CPU per request."""
    for process in psutil.Process(sandbox_pid).children(recursive=True):
        if process.name() != "bwrap" and "uvicorn" in " ".join(process.cmdline()):
            return process.pid
    return None


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _wrk(
    wrk: list[str],
    url: str,
    connections: int,
    duration: float,
    headers: dict[str, str],
    script: str,
) -> dict[str, Any]:
    seconds = max(round(duration), 1)
    command = [*wrk, f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    text = subprocess.run(
        [*command, url], capture_output=True, text=True, check=False, timeout=duration + 60
    ).stdout
    percentiles = {
        int(share): float(value) * _UNITS[unit]
        for share, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    }
    total = re.search(r"(\d+) requests in", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return {
        "p50_ms": percentiles.get(50),
        "p99_ms": percentiles.get(99),
        "requests": int(total.group(1)) if total else 0,
        "rps": float(rps.group(1)) if rps else 0.0,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def measure(
    targets: dict[str, dict[str, Any]],
    *,
    rounds: int,
    duration: float,
    wrk: str,
    one_duration: float | None = None,
) -> dict[str, Any]:
    """Alternating rounds over ``targets`` ({name: url, headers, script, pid, prefix
    (of wrk's command), reference (the target compared with; else the first)}); the
    runs at one connection last ``one_duration`` (else ``duration``)."""
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        name: {c: [] for c in CONNECTIONS} for name in targets
    }
    for number in range(rounds):
        log(f"anchors: round {number + 1}/{rounds} of {', '.join(targets)}")
        for connections in CONNECTIONS:
            for name, target in targets.items():
                pid, also = target.get("pid"), target.get("also_pid")
                app = target.get("app_pid")
                before = _cpu_seconds(pid) if pid else 0.0
                also_before = _cpu_seconds(also) if also else 0.0
                app_before = _cpu_seconds(app) if app else 0.0
                result = _wrk(
                    [*target.get("prefix", []), wrk],
                    target["url"],
                    connections,
                    one_duration if connections == 1 and one_duration else duration,
                    target.get("headers", {}),
                    target.get("script", ""),
                )
                if "settle" in target:  # its deferred writes, before the next target's run
                    target["settle"]()
                if pid:
                    result["cpu_s"] = _cpu_seconds(pid) - before
                if also:
                    result["also_cpu_s"] = _cpu_seconds(also) - also_before
                if app:
                    result["app_cpu_s"] = _cpu_seconds(app) - app_before
                runs[name][connections].append(result)
    first = next(iter(targets))
    return _summary(runs, {name: t.get("reference", first) for name, t in targets.items()})


def _summary(
    runs: dict[str, dict[int, list[dict[str, Any]]]], references: dict[str, str]
) -> dict[str, Any]:
    """Per target: its figures, and its excess over its reference target's in the same
    rounds (``direct``; for the service's modes, the same app in its sandbox)."""
    out: dict[str, Any] = {}
    for name, by_connections in runs.items():
        out[name] = {}
        reference = references[name]
        for connections, results in by_connections.items():
            base = runs[reference][connections]
            paired = zip(results, base, strict=True)
            pairs = [(r, b) for r, b in paired if r["p50_ms"] and b["p50_ms"]]
            cpu = sum(r.get("cpu_s", 0.0) for r in results)
            requests = sum(r["requests"] for r in results)
            row: dict[str, Any] = {
                "p50_ms": _median([r["p50_ms"] for r, _ in pairs]),
                "p99_ms": _median([r["p99_ms"] for r, _ in pairs]),
                "p99_ms_each": [r["p99_ms"] for r, _ in pairs],  # round by round
                "rps": _median([r["rps"] for r in results]),
                "non_2xx": sum(r["non_2xx"] for r in results),
                "socket_errors": sorted({r["socket_errors"] for r in results} - {""}),
            }
            if name != reference:
                row["reference"] = reference
                row["added_p50_ms"] = _median([r["p50_ms"] - b["p50_ms"] for r, b in pairs])
                row["added_p99_ms"] = _median([r["p99_ms"] - b["p99_ms"] for r, b in pairs])
                row["rps_ratio"] = _median(
                    [r["rps"] / b["rps"] for r, b in zip(results, base, strict=True) if b["rps"]]
                )
            if any("cpu_s" in r for r in results) and requests:
                row["cpu_us_per_request"] = round(cpu / requests * 1e6, 1)
            if any("also_cpu_s" in r for r in results) and requests:
                also = sum(r.get("also_cpu_s", 0.0) for r in results)
                row["service_cpu_us_per_request"] = round(also / requests * 1e6, 1)
            if any("app_cpu_s" in r for r in results) and requests:
                app = sum(r.get("app_cpu_s", 0.0) for r in results)
                row["app_cpu_us_per_request"] = round(app / requests * 1e6, 1)
            out[name][str(connections)] = row
    return out


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _origin(service: ServiceServer, gid: str, token: str) -> tuple[str, str]:

    return origin_cookie(service, gid, token)


def run(
    service: ServiceServer,
    gid: str,
    launched: dict[str, Any],
    *,
    rounds: int = 3,
    duration: float = 2.0,
    quiet: tuple[str, dict[str, Any]] | None = None,
    one_duration: float | None = None,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """The anchors and the service's modes, the preview ``gid`` running in ``service``
    (``launched``: the launch's answer); with ``quiet`` (a generation of the same app
    and its launch's answer, started with ``QUIET_COMMAND``), that preview's modes too,
    marked ``·quiet``. ``one_duration``: the runs at one connection last that long;
    ``only``: measure these targets (and what they are compared with) alone."""
    tools = ensure_tools()
    if tools["wrk"] is None:
        return {"skipped": "wrk could not be installed"}
    workdir = Path(tempfile.mkdtemp(prefix="preview-anchors-"))
    processes: list[subprocess.Popen[bytes]] = []
    child = free_port()
    try:
        app_dir = ROOT / "examples" / "hello-fastapi"
        command = [PYTHON, "-c", _QUIET_CODE.replace("{port}", str(child))]
        processes.append(subprocess.Popen(command, cwd=app_dir, stderr=subprocess.DEVNULL))
        wait_for_port(child, 30, processes[-1])
        targets: dict[str, dict[str, Any]] = {
            "direct": {"url": f"http://127.0.0.1:{child}{CHILD_PATH}", "pid": processes[0].pid}
        }
        if tools["nginx"]:
            port = free_port()
            conf = _nginx_conf(workdir, port, child)
            processes.append(
                subprocess.Popen([tools["nginx"], "-c", str(conf), "-p", str(workdir)])
            )
            wait_for_port(port, 30, processes[-1])
            targets["nginx"] = {
                "url": f"http://127.0.0.1:{port}{CHILD_PATH}",
                "pid": processes[-1].pid,
                "app_pid": processes[0].pid,
            }
        if tools["chp"]:
            chp = start_chp(tools["chp"], child, [], processes)
            targets["chp"] = {**chp, "app_pid": processes[0].pid}
        targets.update(_service_targets(service, gid, launched, workdir, ""))
        if quiet is not None:
            targets.update(_service_targets(service, *quiet, workdir, "·quiet"))
            entered = sandbox_entry(quiet[1])
            if tools["chp"] and entered is not None:
                # CHP in front of the same sandboxed app, in its network namespace: like
                # for like with the service's modes (the app under its cgroup's quota).
                chp = start_chp(tools["chp"], quiet[1]["port"], entered[1], processes)
                app = targets["sandboxed·quiet"]["pid"]
                targets["chp·sandboxed"] = {**chp, "reference": "sandboxed·quiet", "app_pid": app}
            if entered is not None:  # the stack's floor, in front of the same app
                floor = start_floor(quiet[1]["port"], entered[1], processes)
                app = targets["sandboxed·quiet"]["pid"]
                targets["trio·floor"] = {**floor, "reference": "sandboxed·quiet", "app_pid": app}
        if only:
            if unknown := set(only) - targets.keys():
                raise SystemExit(f"anchors: no target {sorted(unknown)}; of {list(targets)}")
            wanted = {next(iter(targets)), *only}
            wanted |= {targets[name]["reference"] for name in only if "reference" in targets[name]}
            targets = {name: t for name, t in targets.items() if name in wanted}
        result = measure(
            targets, rounds=rounds, duration=duration, wrk=tools["wrk"], one_duration=one_duration
        )
        return {
            "rounds": rounds,
            "duration_s": duration,
            "one_connection_duration_s": one_duration or duration,
            "connections": CONNECTIONS,
            **result,
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def start_chp(
    chp: str, upstream: int, prefix: list[str], processes: list[subprocess.Popen[bytes]]
) -> dict[str, Any]:
    """configurable-http-proxy in front of 127.0.0.1:``upstream`` (run with ``prefix``:
    in a sandbox's network namespace, where wrk then runs too); its target."""
    port, api = free_port(), free_port()
    command = [
        chp,
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--api-port",
        str(api),
        "--default-target",
        f"http://127.0.0.1:{upstream}",
        "--log-level",
        "error",
    ]
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": "bench"}
    # nsenter enters the network namespace and execs the proxy: its pid is the proxy's.
    processes.append(subprocess.Popen([*prefix, *command], env=env))
    if prefix:
        _wait_in(prefix, port, processes[-1])
    else:
        wait_for_port(port, 30, processes[-1])
    url = f"http://127.0.0.1:{port}{CHILD_PATH}"
    return {"url": url, "pid": processes[-1].pid, "prefix": prefix, "port": port}


def start_floor(
    upstream: int, prefix: list[str], processes: list[subprocess.Popen[bytes]]
) -> dict[str, Any]:
    """``benchmarks.trioproxy`` (the floor of a trio proxy) in front of
    127.0.0.1:``upstream``, run with ``prefix`` (a sandbox's network namespace); its target."""
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "benchmarks.trioproxy",
        "--port",
        str(port),
        "--upstream",
        str(upstream),
    ]
    processes.append(subprocess.Popen([*prefix, *command], cwd=ROOT))
    _wait_in(prefix, port, processes[-1])
    url = f"http://127.0.0.1:{port}{CHILD_PATH}"
    return {"url": url, "pid": processes[-1].pid, "prefix": prefix, "port": port}


def _wait_in(prefix: list[str], port: int, process: subprocess.Popen[bytes]) -> None:
    """Until ``port`` answers in the network namespace ``prefix`` enters."""
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 1).close()"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if subprocess.run([*prefix, PYTHON, "-c", probe], capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} in the sandbox's network namespace")


def sandbox_entry(launched: dict[str, Any]) -> tuple[int, list[str]] | None:
    """(its sandbox's process, the command prefix that runs a command in its network
    namespace) of a launched preview (its launch's answer); None where it has no sandbox
    or it cannot be entered (``nsenter``, as root)."""
    sandbox_pid = launched.get("processId") if launched.get("isolation", "none") != "none" else None
    child = netns_child(sandbox_pid) if sandbox_pid and shutil.which("nsenter") else None
    return None if child is None else (sandbox_pid, ["nsenter", "-t", str(child), "-n"])


def settled(service: ServiceServer, gid: str) -> None:
    """Wait for the service's writes of the calls just made: its request history (a
    reader's call stores what waits) and its log (its linger, then its write)."""
    listed = service.http.get(f"/api/generations/{gid}/preview/requests", params={"limit": 1})
    listed.raise_for_status()  # else nothing was stored, and the next run carries it
    time.sleep(_LOG_SETTLE)


def _service_targets(
    service: ServiceServer, gid: str, launched: dict[str, Any], workdir: Path, mark: str
) -> dict[str, dict[str, Any]]:
    """One preview's targets: its app from inside its sandbox (the reference of the
    others, where the sandbox's network namespace can be entered), the path proxy, the
    preview's origin and the envelope; each name followed by ``mark``. After each run
    the service's deferred writes are waited for (``settle``): counted in its CPU, and
    not a burst in the next target's run."""
    token, app_port = launched["previewToken"], launched["port"]
    targets: dict[str, dict[str, Any]] = {}
    settle = functools.partial(settled, service, gid)
    # The service's own app, reached from inside its sandbox's network namespace
    # (nsenter): what the service's modes add is measured against it.
    entered = sandbox_entry(launched)
    reference, app = "direct", None
    if entered is not None:
        sandbox_pid, prefix = entered
        reference, app = f"sandboxed{mark}", _app_in(sandbox_pid)
        targets[reference] = {
            "url": f"http://127.0.0.1:{app_port}{CHILD_PATH}",
            "prefix": prefix,
            "pid": app,
            # What the service spends meanwhile: the app's lines, stored.
            "also_pid": service.pid,
            "settle": settle,
        }
    base = f"http://127.0.0.1:{service.port}"
    preview = {**service.auth, "X-Preview-Token": token}
    host, cookie = _origin(service, gid, token)
    targets[f"path{mark}"] = {
        "reference": reference,
        "url": f"{base}/api/generations/{gid}/preview/proxy{CHILD_PATH}",
        "headers": preview,
        "pid": service.pid,
        "app_pid": app,
        "settle": settle,
    }
    targets[f"origin{mark}"] = {
        "reference": reference,
        "url": f"{base}{CHILD_PATH}",
        "headers": {"Host": host, "Cookie": cookie},
        "pid": service.pid,
        "app_pid": app,
        "settle": settle,
    }
    if not mark:  # the envelope's own figures are what it adds: one of them suffices
        envelope = workdir / "envelope.lua"
        body = json.dumps({"method": "GET", "path": CHILD_PATH})
        envelope.write_text(
            f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        targets["envelope"] = {
            "reference": reference,
            "url": f"{base}/api/generations/{gid}/preview/request",
            "headers": preview,
            "script": str(envelope),
            "pid": service.pid,
            "app_pid": app,
            "settle": settle,
        }
    return targets


def table(result: dict[str, Any]) -> str:
    """A round's table (benchmarks/HISTORY.md): a row per target, each connection count's."""
    if "skipped" in result:
        return f"(anchors skipped: {result['skipped']})"
    lines = [
        "| target | added p50 / p99, 1 conn (ms) | req/s at 8 (× direct) | req/s at 32 (× direct)"
        " | CPU per request, 8 conns (µs) | the app's CPU per request, 8 conns (µs) |",
        "|---|---|---|---|---|---|",
    ]
    for name in TARGETS:
        if name not in result:
            continue
        one, eight, many = (result[name][str(c)] for c in CONNECTIONS)
        added = (
            f"{one['added_p50_ms']:+.3f} / {one['added_p99_ms']:+.3f}"
            if "added_p50_ms" in one and one["added_p50_ms"] is not None
            else f"{one['p50_ms']} / {one['p99_ms']} (absolute)"
        )
        ratio = lambda row: f" ({row['rps_ratio']:.2f}×)" if row.get("rps_ratio") else ""  # noqa: E731
        cpu = eight.get("cpu_us_per_request", "")
        if "service_cpu_us_per_request" in eight:  # the app's access lines, read and stored
            cpu = f"{cpu} (the service: {eight['service_cpu_us_per_request']})"
        lines.append(
            f"| {_LABELS.get(name, name)} | {added} | {eight['rps']:.0f}{ratio(eight)} "
            f"| {many['rps']:.0f}{ratio(many)} | {cpu} "
            f"| {eight.get('app_cpu_us_per_request', '')} |"
        )
    return "\n".join(lines)


def rows(result: dict[str, Any], label: str) -> list[tuple[str, str, str, str, str, str, str]]:
    """``benchmarks.report``'s rows for the proxy scenario's anchors."""
    out = []
    names = {
        "nginx": "wrk: nginx (one worker, upstream keep-alive)",
        "chp": "wrk: configurable-http-proxy",
        "sandboxed": "wrk: the service's preview itself, from inside its sandbox (no proxy)",
        "path": "wrk: the service's path proxy (vs the app in its sandbox)",
        "origin": "wrk: the service at the preview's origin (vs the app in its sandbox)",
        "envelope": "wrk: the service's envelope (vs the app in its sandbox)",
        "chp·sandboxed": "wrk: CHP in front of the quiet preview, in its sandbox",
        "trio·floor": "wrk: the smallest trio proxy in front of it (the stack's floor)",
        "path·quiet": "wrk: the path proxy to a preview printing nothing a call, as CHP's app",
        "origin·quiet": "wrk: the origin of a preview printing nothing a call, as CHP's app",
    }
    for name, text in names.items():
        if name not in result:
            continue
        one, eight, many = (result[name][str(c)] for c in CONNECTIONS)
        if one.get("added_p50_ms") is None:
            continue
        out.append(
            (
                label,
                f"{text}: added p50 / p99 at 1 connection (ms); req/s at 8 / 32; CPU per request",
                f"{one['added_p50_ms']:+.3f} / {one['added_p99_ms']:+.3f}; "
                f"{eight['rps']:.0f} / {many['rps']:.0f} req/s; "
                f"{eight.get('cpu_us_per_request', '?')} µs",
                "",
                f"{eight.get('rps_ratio') or 0:.2f}× / {many.get('rps_ratio') or 0:.2f}× "
                f"{one.get('reference', 'direct')}",
                "≤ +0.4 ms p50, ≥ 0.8× req/s, ≤ 250 µs"
                if name.startswith(("path", "origin"))
                else "",
                (
                    (
                        "met"
                        if one["added_p50_ms"] <= 0.4
                        and (eight.get("rps_ratio") or 0) >= 0.8
                        and (many.get("rps_ratio") or 0) >= 0.8
                        and (eight.get("cpu_us_per_request") or 1e9) <= 250
                        else "**not met**"
                    )
                    if name.startswith(("path", "origin"))
                    else ""
                ),
            )
        )
    return out


def launch_quiet(service: ServiceServer) -> tuple[str, dict[str, Any]]:
    """A second preview of the app in ``service``, started as the anchors' copy is
    (printing nothing a call): its generation and its launch's answer."""
    from .scenarios.launch import _example_files

    gid = service.upload(_example_files())
    return gid, service.launch(gid, command=QUIET_COMMAND)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=2)
    parser.add_argument(
        "--one-connection-duration",
        type=int,
        default=None,
        help="seconds of each run at one connection (else --duration): more calls for p99",
    )
    parser.add_argument(
        "--only", nargs="+", default=None, help="these targets (and their references) alone"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--no-quiet",
        action="store_true",
        help="leave out the quiet preview (the app started as the anchors' copy is)",
    )
    args = parser.parse_args()
    from .scenarios.launch import _example_files

    sandbox = os.environ.get("BENCH_SANDBOX", "auto")
    with ServiceServer(extra_env={"PREVIEW_SANDBOX": sandbox}) as service:
        gid = service.upload(_example_files())
        data = service.launch(gid)
        quiet = None if args.no_quiet else launch_quiet(service)
        result = run(
            service,
            gid,
            data,
            rounds=args.rounds,
            duration=args.duration,
            quiet=quiet,
            one_duration=args.one_connection_duration,
            only=args.only,
        )
        service.stop(gid)
        if quiet is not None:
            service.stop(quiet[0])
    result["sandbox"] = sandbox
    print(json.dumps(result) if args.json else table(result))


if __name__ == "__main__":
    main()
