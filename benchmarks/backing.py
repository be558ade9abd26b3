"""What a preview's own Redis and MariaDB (preview.backing) add to a launch.

``python -m benchmarks.backing [--runs N]``: one service, sandboxed (PREVIEW_SANDBOX=auto,
builds off), launches three small stdlib apps in turn, the kinds alternating from run to
run after one unmeasured warm-up of each:

* plain: answers ``/health``;
* redis: the same, whose ``.env`` names ``REDIS_URL=redis://redis:6379/0`` (and whose
  requirements list ``redis``): before it listens it connects to ``redis:6379`` and waits
  for ``+PONG``;
* mysql: whose ``.env`` names ``DATABASE_URL=mysql://app:secret@mysql:3306/app`` (and
  ``pymysql``): before it listens it connects to ``mysql:3306`` and waits for the server's
  greeting, which MariaDB sends only once its init file (the account and database) ran.

With ``--build``, builds are on (PREVIEW_BUILD=on) and each app is started by its
``Procfile`` from an environment of its own ``requirements.txt`` (``six``, the same for
all three, built once before the measured runs and reused after): the server then
starts beside the environment's reuse, as it does for an upload launched as it is (and
the MySQL app asks for its server by a compose service running ``mariadb``).

So each launch (upload, then ``launch`` with ``wait: true``, which returns at
``running``) includes the server's start to its first answer, the worst case: an app
that needs its server at import. Reported: the median launch of each kind, what the
server adds (median minus the plain median), the servers' own "ready in" (their start,
in their sandbox, to their first answer, from the ``system`` events), and, once, the
first MariaDB launch of a fresh data dir, which makes the template data directory.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import Any

from preview.backing.servers.mysql import mariadb_binary
from preview.backing.servers.redis import redis_binary

from .harness import PYTHON, ServiceServer, log

APP = """
import os, socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
WAIT = {wait!r}
if WAIT:
    host, port, hello = WAIT
    with socket.create_connection((host, port), timeout=30) as conn:
        if hello:
            conn.sendall(hello.encode())
        assert conn.recv(64), "no answer"
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Health).serve_forever()
"""
KINDS: dict[str, dict[str, str]] = {
    "plain": {"app.py": APP.format(wait=None)},
    "redis": {
        "app.py": APP.format(wait=("redis", 6379, "PING\r\n")),
        ".env": "REDIS_URL=redis://redis:6379/0\n",
        "requirements.txt": "redis\n",
    },
    "mysql": {
        "app.py": APP.format(wait=("mysql", 3306, "")),
        ".env": "DATABASE_URL=mysql://app:secret@mysql:3306/app\n",
        "requirements.txt": "pymysql\n",
    },
}
_READY = re.compile(r"^(Redis|MariaDB) ready in (\d+) ms")


BUILT = {
    "requirements.txt": "six\n",
    "Procfile": "web: python app.py\n",
}
COMPOSE = "services:\n  mysql:\n    image: mariadb:11\n"


def _files(kind: str, build: bool) -> dict[str, str]:
    if not build:
        return KINDS[kind]
    files = {**KINDS[kind], **BUILT}
    if kind == "mysql":
        files["docker-compose.yml"] = COMPOSE
    return files


def _launch(service: ServiceServer, kind: str, build: bool) -> tuple[float, float | None]:
    """One launch to ``running`` (seconds) and its server's own ready time (ms)."""
    started = time.perf_counter()
    gid = service.upload(_files(kind, build))
    service.launch(gid, **({} if build else {"command": [PYTHON, "app.py"]}))
    elapsed = time.perf_counter() - started
    events = service.http.get(f"/api/generations/{gid}/preview/logs", params={"limit": 200}).json()[
        "events"
    ]
    ready = [float(m.group(2)) for e in events if (m := _READY.match(e["message"]))]
    service.stop(gid)
    return elapsed, (ready[0] if ready else None)


def run(runs: int, build: bool = False) -> dict[str, Any]:
    kinds = ["plain"]
    kinds += ["redis"] if redis_binary() else []
    kinds += ["mysql"] if mariadb_binary() else []
    env = {"PREVIEW_SANDBOX": "auto", "PREVIEW_STARTUP_TIMEOUT": "60"}
    service = ServiceServer(extra_env={**env, "PREVIEW_BUILD": "on" if build else "off"})
    results: dict[str, Any] = {}
    try:
        with service:
            if "mysql" in kinds:
                results["first mysql launch (template made)"] = _launch(service, "mysql", build)[0]
            for kind in kinds:  # warm-up
                _launch(service, kind, build)
            times: dict[str, list[float]] = {k: [] for k in kinds}
            ready: dict[str, list[float]] = {k: [] for k in kinds}
            for index in range(runs):
                order = kinds if index % 2 == 0 else list(reversed(kinds))
                for kind in order:
                    elapsed, server = _launch(service, kind, build)
                    times[kind].append(elapsed)
                    if server is not None:
                        ready[kind].append(server)
                log(
                    f"run {index + 1}/{runs}: "
                    + ", ".join(f"{k} {times[k][-1] * 1000:.0f} ms" for k in kinds)
                )
    finally:
        service.close()
    plain = statistics.median(times["plain"])
    for kind in kinds:
        median = statistics.median(times[kind])
        results[kind] = {
            "launch_ms": round(median * 1000),
            "adds_ms": round((median - plain) * 1000),
            "server_ready_ms": round(statistics.median(ready[kind])) if ready[kind] else None,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backing", description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--build", action="store_true", help="builds on, Procfile apps")
    args = parser.parse_args()
    results = run(args.runs, args.build)
    first = results.pop("first mysql launch (template made)", None)
    print("| app | launch to running (median) | adds | its server's start to first answer |")
    print("| --- | --- | --- | --- |")
    for kind, row in results.items():
        ready = f"{row['server_ready_ms']} ms" if row["server_ready_ms"] is not None else "-"
        print(f"| {kind} | {row['launch_ms']} ms | {row['adds_ms']} ms | {ready} |")
    if first is not None:
        print(f"\nfirst MariaDB launch of a fresh data dir (template made): {first * 1000:.0f} ms")


if __name__ == "__main__":
    main()
