"""Where the service's memory per connected subscriber goes (a diagnostic, not a scenario).

``python -m benchmarks.memory [--subscribers 2000] [--top 30]``

Runs the app in this very process under ``tracemalloc`` (Hypercorn on 127.0.0.1:0, as
tests/conftest.py does), launches the emitter, connects K idle subscribers from a client
process (benchmarks.loadclient) and prints the allocation sites that grew, per line and
per file, divided by K. tracemalloc sees Python allocations only (not the kernel's socket
buffers, nor allocator slack), so its total is a lower bound of the RSS growth.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import tracemalloc
from functools import partial
from pathlib import Path

import httpx
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from .harness import EMITTER, JWT_SECRET, free_port_block
from .loadclient import raise_nofile, spawn, stop_process, subscriber_process, wait_message


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _site(stat: tracemalloc.StatisticDiff) -> str:
    frame = stat.traceback[0]
    return f"{_short(frame.filename)}:{frame.lineno}"


def _package(filename: str) -> str:
    name = _short(filename)
    if name.startswith("<attrs generated methods "):
        return name.split()[3].split(".")[0]
    return name.split("/", 1)[0] if "/" in name else "stdlib"


def _owner(traceback: tracemalloc.Traceback) -> str:
    """The innermost frame of the service's own code that led to the allocation."""
    for frame in traceback:  # innermost first
        name = _short(frame.filename)
        if name.startswith("preview/"):
            return f"{name}:{frame.lineno}"
    return "(no preview/ frame: server machinery)"


async def _measure(count: int, top: int) -> None:
    from preview import Settings, create_app
    from preview.auth import JWTAuthenticator

    tmp = Path(tempfile.mkdtemp(prefix="preview-memory-"))
    first = free_port_block(4)
    settings = Settings(
        data_dir=tmp / "data",
        jwt_secret=JWT_SECRET,
        port_min=first,
        port_max=first + 3,
        max_instances_pro=4,
        stop_grace=2.0,
        python=sys.executable,
        max_streams_per_user=1_000_000,  # --subscribers idle streams, all of one user
    )
    app = create_app(settings, fast_paths=True)
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.backlog = 2048
    shutdown = trio.Event()
    token = JWTAuthenticator(JWT_SECRET, session_timeout=3600).issue(
        "bench", tier="pro", lifetime=3600
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(partial(serve, app, config, shutdown_trigger=shutdown.wait))
            port = int(binds[0].rsplit(":", 1)[1])
            async with httpx.AsyncClient(
                base_url=binds[0], headers=headers, trust_env=False, timeout=120
            ) as client:
                response = await client.post(
                    "/api/generations",
                    json={"projectId": "memory", "files": {"emitter.py": EMITTER.read_text()}},
                )
                gid = response.json()["generationId"]
                launched = await client.post(
                    f"/api/generations/{gid}/preview/launch",
                    json={"wait": True, "command": ["{python}", "emitter.py"]},
                )
                assert launched.json()["status"] == "running", launched.text
                # One subscriber first, so one-time allocations are not counted per subscriber.
                await _connect(port, gid, headers, 1)
                gc.collect()
                before = tracemalloc.take_snapshot()
                process, conn = await _connect(port, gid, headers, count, keep=True)
                await trio.sleep(1.0)
                gc.collect()
                after = tracemalloc.take_snapshot()
                _report(before, after, count, top)
                conn.send(("close",))
                await trio.to_thread.run_sync(wait_message, conn, "result", 60)
                stop_process(process)
                await client.delete(f"/api/generations/{gid}/preview")
            await app.extensions["preview"].supervisor.aclose()
            shutdown.set()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _connect(
    port: int, gid: str, headers: dict[str, str], count: int, keep: bool = False
) -> tuple:
    spec = {
        "port": port,
        "path": f"/api/generations/{gid}/preview/logs/stream",
        "headers": headers,
        "count": count,
        "n_lines": 0,
    }
    process, conn = spawn(subscriber_process, spec)
    info = await trio.to_thread.run_sync(wait_message, conn, "connected", 300)
    assert info["connected"] == count, info
    if not keep:
        conn.send(("close",))
        await trio.to_thread.run_sync(wait_message, conn, "result", 60)
        stop_process(process)
    return process, conn


def _report(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, count: int, top: int
) -> None:
    lines = after.compare_to(before, "lineno")
    files = after.compare_to(before, "filename")
    grown = sum(stat.size_diff for stat in lines)
    print(f"tracemalloc growth with {count} subscribers: {grown / count / 1024:.2f} KiB each")
    print("\nper allocation site (bytes per subscriber, allocations per subscriber):")
    for stat in lines[:top]:
        print(f"{stat.size_diff / count:9.0f} B {stat.count_diff / count:6.1f}  {_site(stat)}")
    packages: dict[str, int] = {}
    for stat in files:
        package = _package(stat.traceback[0].filename)
        packages[package] = packages.get(package, 0) + stat.size_diff
    print("\nper package (bytes per subscriber):")
    for package, size in sorted(packages.items(), key=lambda item: -item[1])[:top]:
        print(f"{size / count:9.0f} B  {package}")
    owners: dict[str, int] = {}
    for stat in after.compare_to(before, "traceback"):
        owner = _owner(stat.traceback)
        owners[owner] = owners.get(owner, 0) + stat.size_diff
    print("\nper line of preview/ that led to it (bytes per subscriber):")
    for owner, size in sorted(owners.items(), key=lambda item: -item[1])[:top]:
        print(f"{size / count:9.0f} B  {owner}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    raise_nofile()
    tracemalloc.start(40)
    trio.run(_measure, args.subscribers, args.top)


if __name__ == "__main__":
    main()
