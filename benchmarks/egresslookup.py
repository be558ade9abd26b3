"""How long a sandbox's tunnels wait for their name (issue 68): ``python -m
benchmarks.egresslookup [--host pypi.org] [--tunnels 30] [--rounds 5]``.

Starts the egress proxy (``preview.sandbox.egress.serve_egress``) on a Unix socket with
``--host`` allowed, opens ``--tunnels`` ``CONNECT`` tunnels to it at once (as a build's
installer does to its index as it starts), and prints, per round, the time until the
slowest was established. A round's proxy is new: nothing of the round before is
remembered. The host must be reachable from this machine (a package index is).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import trio

from preview.sandbox.egress import EgressPolicy, serve_egress

__all__ = ["main"]


async def _tunnel(socket_path: Path, host: str, waits: list[float]) -> None:
    began = time.monotonic()
    stream = await trio.open_unix_socket(str(socket_path))
    async with stream:
        await stream.send_all(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        answer = await stream.receive_some(200)
    if not answer.startswith(b"HTTP/1.1 200 "):
        raise SystemExit(f"the proxy refused {host}: {answer[:80]!r}")
    waits.append(time.monotonic() - began)


async def _round(host: str, tunnels: int) -> float:
    async def report(message: str) -> None:
        print(f"  proxy: {message}")

    with tempfile.TemporaryDirectory() as folder, trio.fail_after(60):
        socket_path = Path(folder) / "egress.sock"
        waits: list[float] = []
        async with trio.open_nursery() as nursery:
            policy = EgressPolicy.parse(host)
            await nursery.start(serve_egress, socket_path, policy, report)
            async with trio.open_nursery() as opened:
                for _ in range(tunnels):
                    opened.start_soon(_tunnel, socket_path, host, waits)
            nursery.cancel_scope.cancel()
    return max(waits)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.egresslookup")
    parser.add_argument("--host", default="pypi.org")
    parser.add_argument("--tunnels", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    slowest = []
    for number in range(1, args.rounds + 1):
        slowest.append(trio.run(_round, args.host, args.tunnels))
        print(f"round {number}: {args.tunnels} tunnels to {args.host}, slowest {slowest[-1]:.2f} s")
    print(f"median of the slowest: {statistics.median(slowest):.2f} s, worst {max(slowest):.2f} s")


if __name__ == "__main__":
    main()
