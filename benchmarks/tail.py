"""``python -m benchmarks.tail``: the late calls at one connection, two versions of the
service side by side (issue 25's p99 at one connection, counted rather than read off a
percentile).

At one connection a `wrk` run of 2 s makes 3,000-4,000 calls; its p99 is the 30th-40th
slowest, and the app itself answers about one call in 100 ms late (benchmarks/HISTORY.md,
the proxy's twentieth round): so p99 reads whether the proxy's own late calls, added to
the app's, pass that rank, and moves by a millisecond with a handful of calls. Here a
client of ours makes ``--calls`` sequential calls a round on one kept-alive connection
through the path proxy of each service's quiet preview (the app printing nothing:
``anchors.QUIET_COMMAND``), the two services alternating, and counts the calls later
than the round's median by more than 0.5, 1 and 2 ms. Where the sandbox's network
namespace can be entered (``nsenter``, as root), the same client calls each quiet app
from inside it too (``-app``: no proxy), in the same rounds: the app's own late calls.

``--base DIR`` holds another version's ``preview`` package (as for ``abproxy``); the
other service runs this checkout. Without ``--base`` both run this checkout (an A/A:
what the measure resolves). ``--chp``: configurable-http-proxy too, in front of this
checkout's quiet app in its sandbox's network namespace, called by the same client from
there (``chp``: like for like with the path proxy, as ``anchors``' ``chp·sandboxed``);
with ``--chp`` and no ``--base``, only this checkout's service runs. ``--origin``: each
service's preview origin too (``-origin``), called as a browser would, with its cookie.
After each round through a service, its deferred writes are waited for
(``anchors.settled``), so that they do not fall in the next target's round.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from . import anchors
from .harness import PYTHON, ROOT, ServiceServer, log, origin_cookie

__all__ = ["main"]

_LATE_MS = (0.5, 1.0, 2.0)


def _call_times(port: int, request: bytes, calls: int) -> list[float]:
    """``calls`` sequential calls on one connection: each one's time (ms)."""
    times: list[float] = []
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        clock = time.perf_counter_ns
        for _ in range(calls):
            began = clock()
            connection.sendall(request)
            data = b""
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    raise RuntimeError(f"the connection closed after {data[:200]!r}")
                data += chunk
                head_end = data.find(b"\r\n\r\n")
                if head_end < 0:
                    continue
                head = data[:head_end].lower()
                length = head.find(b"content-length:")
                if length < 0:
                    raise RuntimeError(f"no content-length: {data[:200]!r}")
                size = int(head[length + 15 :].split(b"\r\n", 1)[0])
                if len(data) >= head_end + 4 + size:
                    break
            times.append((clock() - began) / 1e6)
            if not data.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"answered {data[:200]!r}")
    return times


def _request(path: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _targets(
    name: str,
    service: ServiceServer,
    chp: list[subprocess.Popen[bytes]] | None = None,
    *,
    origin: bool = False,
) -> list[dict[str, Any]]:
    """The quiet preview's path proxy, and (where its sandbox's network namespace can be
    entered) its app called from inside it, with no proxy: the app's own late calls;
    with ``chp`` (where it keeps the proxy's process), CHP in front of that app too; with
    ``origin``, the preview's origin too."""
    gid, launched = anchors.launch_quiet(service)
    headers = {**service.auth, "X-Preview-Token": launched["previewToken"]}
    path = f"/api/generations/{gid}/preview/proxy{anchors.CHILD_PATH}"
    host = f"127.0.0.1:{service.port}"
    # After each round through the service, its deferred writes (anchors.settled): in
    # its own round's time, not a burst in the next target's.
    settle = functools.partial(anchors.settled, service, gid)
    request = _request(path, host, headers)
    targets = [{"name": name, "port": service.port, "request": request, "settle": settle}]
    if origin:
        app_host, cookie = origin_cookie(service, gid, launched["previewToken"])
        targets.append(
            {
                "name": f"{name}-origin",
                "port": service.port,
                "request": _request(anchors.CHILD_PATH, app_host, {"Cookie": cookie}),
                "settle": settle,
            }
        )
    entered = anchors.sandbox_entry(launched)
    if entered is not None:
        port = launched["port"]
        targets.append(
            {
                "name": f"{name}-app",
                "port": port,
                "request": _request(anchors.CHILD_PATH, f"127.0.0.1:{port}", {}),
                "prefix": entered[1],
            }
        )
        tool = anchors.ensure_tools()["chp"] if chp is not None else None
        if tool:
            started = anchors.start_chp(tool, port, entered[1], chp)
            targets.append(
                {
                    "name": "chp",
                    "port": started["port"],
                    "request": _request(anchors.CHILD_PATH, f"127.0.0.1:{started['port']}", {}),
                    "prefix": entered[1],
                }
            )
    return targets


def _measure(target: dict[str, Any], calls: int) -> list[float]:
    """:func:`_call_times` in a process of its own (in the target's namespace)."""
    command = [*target.get("prefix", []), PYTHON, "-m", "benchmarks.tail", "--client"]
    command += [str(target["port"]), str(calls)]
    done = subprocess.run(
        command,
        input=target["request"],
        capture_output=True,
        check=True,
        cwd=ROOT,
        timeout=60 + calls / 100,
    )
    return json.loads(done.stdout)


def _summary(times: list[float]) -> dict[str, Any]:
    median = statistics.median(times)
    ordered = sorted(times)
    return {
        "p50_ms": round(median, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)], 3),
        **{f"late_{late}ms": sum(t > median + late for t in times) for late in _LATE_MS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a directory holding the other preview/ (else: A/A)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--chp", action="store_true", help="configurable-http-proxy too")
    parser.add_argument("--origin", action="store_true", help="the preview's origin too")
    parser.add_argument("--client", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:  # (_measure's process: the request on stdin, the times on stdout)
        port, calls = args.client
        print(json.dumps(_call_times(port, sys.stdin.buffer.read(), calls)))
        return
    sandbox = os.environ.get("BENCH_SANDBOX", "auto")
    services: list[ServiceServer] = []
    proxies: list[subprocess.Popen[bytes]] = []
    versions = [("base", {"PYTHONPATH": args.base} if args.base else {}), ("this", {})]
    if args.chp and not args.base:
        versions = versions[1:]
    try:
        targets = []
        for name, env in versions:
            service = ServiceServer(extra_env={"PREVIEW_SANDBOX": sandbox, **env})
            services.append(service)
            chp = proxies if args.chp and name == "this" else None
            targets += _targets(name, service, chp, origin=args.origin)
        for target in targets:  # warm: the first calls build the pools and caches
            _measure(target, 500)
        rounds: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in targets}
        for number in range(args.rounds):
            for target in targets if number % 2 == 0 else targets[::-1]:
                times = _measure(target, args.calls)
                if "settle" in target:
                    target["settle"]()
                rounds[target["name"]].append(_summary(times))
                log(f"tail: round {number + 1} {target['name']}: {rounds[target['name']][-1]}")
        for name, each in rounds.items():
            sums = {key: sum(r[key] for r in each) for key in each[0] if key.startswith("late")}
            medians = {
                key: round(statistics.median(r[key] for r in each), 3)
                for key in ("p50_ms", "p99_ms")
            }
            print(f"{name}: {args.rounds} x {args.calls} calls, medians {medians}, late {sums}")
        print(f"load average {os.getloadavg()}")
    finally:
        for process in proxies:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        for service in services:
            service.close()


if __name__ == "__main__":
    main()
