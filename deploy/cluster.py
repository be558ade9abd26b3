"""A local cluster for development and tests: N nodes of the service behind HAProxy, on
this machine's PostgreSQL and Redis (docs/cluster.md).

    .venv/bin/python deploy/cluster.py --nodes 3 --db postgresql+psycopg://postgres@127.0.0.1/preview

Each node is a ``preview serve`` with a data dir of its own under ``--dir`` (kept between
runs, so a node finds its own previews again), its own port range for previews, its
public port (``--port`` + its number) and its internal one (``--port`` + 100 + its
number). They share the database, Redis, the cluster's secret and the secret that signs
bearer tokens (made once, kept in ``--dir``), so a token works on every node. HAProxy
(``haproxy`` on the PATH: Debian's package) listens on ``--port`` with
``deploy/haproxy.cfg``'s settings and the nodes as its servers.

It prints the web UI's URL with a bearer token, and each node's pid; Ctrl-C (or SIGTERM)
stops HAProxy and every node, each stopping its previews as it does alone. A node that
exits by itself (fenced: it lost its lease) is said, not restarted: that is the
supervisor's job in production (systemd, deploy/preview-node.service).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parent
HAPROXY_TEMPLATE = HERE / "haproxy.cfg"
_PREVIEW_PORTS_PER_NODE = 400  # each node's previews' ports: below the ephemeral range
_FIRST_PREVIEW_PORT = 20000


def _kept_secret(path: Path, length: int = 48) -> str:
    """A secret made once and kept in ``path`` (mode 0600)."""
    if path.is_file():
        return path.read_text().strip()
    value = secrets.token_urlsafe(length)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(value + "\n")
    return value


def haproxy_config(port: int, nodes: list[int], template: Path = HAPROXY_TEMPLATE) -> str:
    """``deploy/haproxy.cfg`` bound to ``port`` with ``nodes``' public ports as servers."""
    text = template.read_text().replace("bind 127.0.0.1:8000", f"bind 127.0.0.1:{port}")
    servers = "".join(
        f"    server node-{n} 127.0.0.1:{node_port} check\n"
        for n, node_port in enumerate(nodes, start=1)
    )
    return text.rstrip("\n") + "\n" + servers


def node_environment(
    args: argparse.Namespace, number: int, shared: dict[str, str]
) -> dict[str, str]:
    first = args.preview_ports + (number - 1) * _PREVIEW_PORTS_PER_NODE
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREVIEW_")}
    environment.update(shared)
    environment.update(
        PREVIEW_DATA_DIR=str(Path(args.dir).resolve() / f"node-{number}"),
        PREVIEW_NODE_ID=f"node-{number}",
        PREVIEW_INTERNAL_URL=f"http://127.0.0.1:{args.port + 100 + number}",
        PREVIEW_PORT_MIN=str(first),
        PREVIEW_PORT_MAX=str(first + _PREVIEW_PORTS_PER_NODE - 1),
    )
    return environment


def _wait_for_port(port: int, process: subprocess.Popen[bytes], within: float = 20.0) -> None:
    """Until ``process`` listens on ``port`` (or has exited, or ``within`` s passed): the
    URL printed next answers."""
    deadline = time.monotonic() + within
    while process.poll() is None and time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # a bind to wait for in another process: polled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--port", type=int, default=8000, help="HAProxy's; node n: port + n")
    parser.add_argument("--db", default=os.environ.get("PREVIEW_DB_URL", ""))
    parser.add_argument(
        "--redis", default=os.environ.get("PREVIEW_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--dir", default=".preview-cluster", help="the nodes' data dirs")
    parser.add_argument("--user", default="local", help="whose bearer token is printed")
    parser.add_argument(
        "--preview-ports",
        type=int,
        default=_FIRST_PREVIEW_PORT,
        help=f"node n's previews: {_PREVIEW_PORTS_PER_NODE} ports from here + (n - 1) * that",
    )
    args = parser.parse_args(argv)
    if not args.db.startswith("postgresql"):
        parser.error("--db (or PREVIEW_DB_URL): the PostgreSQL database the nodes share")
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        parser.error("haproxy is not installed (Debian: apt-get install haproxy)")
    top = Path(args.dir).resolve()
    jwt_secret = _kept_secret(top / "jwt-secret")
    shared = {
        "PREVIEW_DB_URL": args.db,
        "PREVIEW_REDIS_URL": args.redis,
        "PREVIEW_CLUSTER_SECRET": _kept_secret(top / "cluster-secret"),
        "PREVIEW_JWT_SECRET": jwt_secret,
    }
    ports = [args.port + n for n in range(1, args.nodes + 1)]
    config = top / "haproxy.cfg"
    config.write_text(haproxy_config(args.port, ports))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for number, port in enumerate(ports, start=1):
            command = [sys.executable, "-m", "preview", "serve", "--bind", f"127.0.0.1:{port}"]
            processes[f"node-{number}"] = subprocess.Popen(
                command, env=node_environment(args, number, shared), stdout=subprocess.DEVNULL
            )
        # HAProxy's own lines (a server DOWN "… 0 remaining in queue.") are diagnostics: on
        # stderr, so that stdout says only what this script reports (a pid line came out
        # joined to one of them, and the cluster test read "queue." as a pid).
        processes["haproxy"] = subprocess.Popen(
            [haproxy, "-f", str(config), "-db"], stdout=sys.stderr
        )
        _wait_for_port(args.port, processes["haproxy"])
        token = jwt.encode(
            {"sub": args.user, "tier": "pro", "exp": int(time.time()) + 30 * 86400},
            jwt_secret,
            algorithm="HS256",
        )
        for name, process in processes.items():
            print(f"{name}: pid {process.pid}", flush=True)
        print(f"Preview cluster ready: http://127.0.0.1:{args.port}/#token={token}", flush=True)
        said: set[str] = set()
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None and name not in said:
                    said.add(name)
                    print(f"{name} exited with status {process.returncode}", flush=True)
            time.sleep(0.2)  # a supervisor's poll of its children, not a synchronisation
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 60  # each node stops its previews first
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
