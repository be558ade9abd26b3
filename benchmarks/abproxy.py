"""``python -m benchmarks.abproxy``: CPU per proxied request, two versions of the service
side by side (issue 25's A/B: the machine is shared, so both are measured in the same
alternating rounds).

``--base DIR`` is a copy of another version's ``preview`` package (for example
``mkdir /tmp/base && git archive main preview | tar -x -C /tmp/base``), put first on the
``PYTHONPATH`` of one service; the other runs this checkout. Each launches
examples/hello-fastapi (sandboxed unless ``BENCH_SANDBOX=off``) and ``wrk`` calls it through
the path proxy and at the preview's origin (``--ways``: and the envelope), the targets
alternating
(``anchors.measure``), at ``--connections``. Per target: CPU per request (the service's
utime + stime over wrk's requests), req/s, p50, and the service's voluntary context
switches per request (all its threads: on this VM a wake-up costs tens of µs of CPU).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import tempfile
from typing import Any

from . import anchors
from .harness import ServiceServer, log, origin_cookie
from .scenarios.launch import _example_files

__all__ = ["main"]


def _switches(pid: int) -> int:
    total = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(status) as lines:
                total += sum(
                    int(line.split()[1]) for line in lines if line.startswith("voluntary_ctxt")
                )
        except OSError:
            pass  # a thread that ended meanwhile
    return total


def _targets(
    name: str, service: ServiceServer, ways: list[str], script: str
) -> dict[str, dict[str, Any]]:
    gid = service.upload(_example_files())
    token = service.launch(gid)["previewToken"]
    host, cookie = origin_cookie(service, gid, token)
    base = f"http://127.0.0.1:{service.port}"
    every = {
        f"{name}-path": {
            "url": f"{base}/api/generations/{gid}/preview/proxy{anchors.CHILD_PATH}",
            "headers": {**service.auth, "X-Preview-Token": token},
            "pid": service.pid,
        },
        f"{name}-origin": {
            "url": f"{base}{anchors.CHILD_PATH}",
            "headers": {"Host": host, "Cookie": cookie},
            "pid": service.pid,
        },
        f"{name}-envelope": {
            "url": f"{base}/api/generations/{gid}/preview/request",
            "headers": {**service.auth, "X-Preview-Token": token},
            "script": script,
            "pid": service.pid,
        },
    }
    return {key: target for key, target in every.items() if key.split("-")[1] in ways}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="a directory holding the other preview/")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[8])
    parser.add_argument(
        "--ways", nargs="+", default=["path", "origin"], choices=["path", "origin", "envelope"]
    )
    args = parser.parse_args()
    script = os.path.join(tempfile.mkdtemp(prefix="abproxy-"), "envelope.lua")
    with open(script, "w") as lua:
        body = json.dumps({"method": "GET", "path": anchors.CHILD_PATH})
        lua.write(
            f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    anchors.CONNECTIONS = tuple(args.connections)
    wrk = anchors.ensure_tools()["wrk"]
    if wrk is None:
        raise SystemExit("wrk could not be installed")
    sandbox = os.environ.get("BENCH_SANDBOX", "auto")
    services: dict[str, ServiceServer] = {}
    try:
        targets: dict[str, dict[str, Any]] = {}
        for name, env in (("base", {"PYTHONPATH": args.base}), ("this", {})):
            services[name] = ServiceServer(extra_env={"PREVIEW_SANDBOX": sandbox, **env})
            targets |= _targets(name, services[name], args.ways, script)
        order = sorted(targets, key=lambda name: name.split("-")[1])  # base, this alternate
        targets = {name: targets[name] for name in order}
        switches: dict[str, list[int]] = {name: [0, 0] for name in targets}
        measure = anchors._wrk

        def counted(command: list[str], url: str, *rest: Any, **named: Any) -> dict[str, Any]:
            name = next(n for n, target in targets.items() if target["url"] == url)
            before = _switches(targets[name]["pid"])
            result = measure(command, url, *rest, **named)
            switches[name][0] += _switches(targets[name]["pid"]) - before
            switches[name][1] += result["requests"]
            return result

        anchors._wrk = counted
        log(f"abproxy: {args.rounds} rounds of {', '.join(targets)}")
        result = anchors.measure(targets, rounds=args.rounds, duration=args.duration, wrk=wrk)
        for name, by_connections in result.items():
            count, requests = switches[name]
            for connections, row in by_connections.items():
                print(
                    f"{name:12s} {connections:>3} connections: "
                    f"{row.get('cpu_us_per_request')} µs CPU/request, {row['rps']:.0f} req/s, "
                    f"p50 {row['p50_ms']} ms, non-2xx {row['non_2xx']}"
                )
            print(f"{name:12s} voluntary switches per request {count / max(requests, 1):.2f}")
        print(f"load average {os.getloadavg()}")
    finally:
        for service in services.values():
            service.close()


if __name__ == "__main__":
    main()
