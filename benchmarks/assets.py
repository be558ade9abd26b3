"""A page's asset and an API's large answer through the proxy, beside CHP (issue 25).

``python -m benchmarks.assets [--bytes N] [--rounds R]``: a FastAPI app serving, with
its own ``StaticFiles``, a script of N bytes (``/static/app.js``) and a JSON list of
about as many (``/static/data.json``), printing nothing a call, launched sandboxed by
the service; each through the path proxy and the preview's origin, and through
configurable-http-proxy run in front of the same app in its sandbox's network namespace
(like for like, as ``anchors``' ``chp·sandboxed``), with ``wrk`` at 1, 8 and 32
connections in alternating rounds; the reference is the app reached from inside its
sandbox. A page of a generated app with a frontend loads 20-50 such assets through the
origin; an asset's body is not kept in the request history (``masking.is_asset``), an
API's answer is (64 KiB of it, masked): what that costs is the difference of the two.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import string
from typing import Any

from .anchors import (
    CONNECTIONS,
    QUIET_COMMAND,
    _origin,
    ensure_tools,
    measure,
    sandbox_entry,
    settled,
    start_chp,
)
from .harness import ServiceServer

__all__ = ["app_files", "main", "run"]

_APP = """from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

app = FastAPI()
app.mount("/static", StaticFiles(directory="static"), name="static")
"""
_PATHS = {"asset": "/static/app.js", "json": "/static/data.json"}


def app_files(size: int) -> dict[str, str]:
    """The app: a script of ``size`` bytes and a JSON list of about as many."""
    rng = random.Random(1)
    script = "".join(rng.choice(string.ascii_letters + " ;(){}=\n") for _ in range(size))
    items = [
        {"id": i, "name": f"item {i}", "text": script[i * 40 : i * 40 + 40]}
        for i in range(size // 80)
    ]
    return {
        "app/__init__.py": "",
        "app/main.py": _APP,
        "static/app.js": script,
        "static/data.json": json.dumps(items),
        "requirements.txt": "fastapi\nuvicorn\n",
    }


def run(service: ServiceServer, size: int, rounds: int, duration: float) -> dict[str, Any]:
    tools = ensure_tools()
    if tools["wrk"] is None or tools["chp"] is None:
        return {"skipped": "wrk or configurable-http-proxy could not be installed"}
    gid = service.upload(app_files(size))
    launched = service.launch(gid, command=QUIET_COMMAND)
    entered = sandbox_entry(launched)
    if entered is None:
        return {"skipped": "the preview has no sandbox to enter (nsenter, as root)"}
    token, port = launched["previewToken"], launched["port"]
    host, cookie = _origin(service, gid, token)
    base = f"http://127.0.0.1:{service.port}"
    settle = functools.partial(settled, service, gid)
    processes: list[Any] = []
    try:
        chp = start_chp(tools["chp"], port, entered[1], processes)
        chp_base = chp["url"].split("/api/", 1)[0]
        targets: dict[str, dict[str, Any]] = {}
        for kind, path in _PATHS.items():
            reference = f"sandboxed·{kind}"
            targets[reference] = {"url": f"http://127.0.0.1:{port}{path}", "prefix": entered[1]}
            targets[f"path·{kind}"] = {
                "reference": reference,
                "pid": service.pid,
                "settle": settle,
                "url": f"{base}/api/generations/{gid}/preview/proxy{path}",
                "headers": {**service.auth, "X-Preview-Token": token},
            }
            targets[f"origin·{kind}"] = {
                "reference": reference,
                "pid": service.pid,
                "settle": settle,
                "url": f"{base}{path}",
                "headers": {"Host": host, "Cookie": cookie},
            }
            targets[f"chp·{kind}"] = {
                "reference": reference,
                "pid": chp["pid"],
                "prefix": entered[1],
                "url": f"{chp_base}{path}",
            }
        result = measure(targets, rounds=rounds, duration=duration, wrk=tools["wrk"])
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        service.stop(gid)
    return {"bytes": size, "rounds": rounds, "connections": CONNECTIONS, **result}


def table(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"(skipped: {result['skipped']})"
    lines = [
        "| target | added p50 / p99, 1 conn (ms) | req/s at 1 / 8 / 32 (× the app's at 8 / 32)"
        " | CPU per request at 1 / 8 / 32 (µs) |",
        "|---|---|---|---|",
    ]
    for name, figures in result.items():
        if name.startswith("sandboxed") or not isinstance(figures, dict):
            continue
        one, eight, many = (figures[str(c)] for c in CONNECTIONS)
        lines.append(
            f"| {name} | {one['added_p50_ms']:+.2f} / {one['added_p99_ms']:+.2f} "
            f"| {one['rps']:.0f} / {eight['rps']:.0f} / {many['rps']:.0f} "
            f"({eight['rps_ratio']:.2f}× / {many['rps_ratio']:.2f}×) "
            f"| {' / '.join(str(f.get('cpu_us_per_request', '')) for f in (one, eight, many))} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bytes", type=int, default=200_000, help="the script's size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with ServiceServer(extra_env={"PREVIEW_SANDBOX": "auto"}) as service:
        result = run(service, args.bytes, args.rounds, args.duration)
    print(json.dumps(result) if args.json else table(result))


if __name__ == "__main__":
    main()
