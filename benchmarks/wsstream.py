"""``python -m benchmarks.wsstream``: the log stream's server CPU per line, SSE against
WebSocket, on one preview printing as fast as it can.

One service (``harness.ServiceServer``) runs the fan-out emitter; ``--subscribers`` clients
of one kind (``--kind sse`` or ``ws``; both: one run each, SSE first) connect from this
process, the emitter prints ``--lines`` lines at once, and the run reports the server's CPU
seconds while they were delivered, per delivered line, and how many lines each client got
before it was done or closed (a WebSocket subscriber that falls behind the ring is closed
with 1013; an SSE one ends). The clients are Python (httpx, trio-websocket) in this one
process: a WebSocket client parses its frames at 30-50 µs each, so at full speed it is the
client that falls behind first; the server's CPU per line is the figure.
"""

from __future__ import annotations

import argparse
import json
import time

import httpx
import trio
import trio_websocket

from .harness import CpuMeter, ServiceServer, log

_PATIENCE = 60.0  # s for every client to be done, after the emitter started


async def _sse(url: str, headers: dict[str, str], got: list[int], index: int, lines: int) -> None:
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data:") and "bench " in line:
                got[index] += 1
                if got[index] >= lines:
                    return


async def _ws(url: str, headers: dict[str, str], got: list[int], index: int, lines: int) -> None:
    extra = list(headers.items())
    async with trio_websocket.open_websocket_url(url, extra_headers=extra) as connection:
        while got[index] < lines:
            try:
                message = await connection.get_message()
            except trio_websocket.ConnectionClosed:
                return  # fell behind (1013): counted as far as it got
            if "bench " in message:
                got[index] += 1


def run(kind: str, subscribers: int, lines: int) -> dict[str, object]:
    with ServiceServer() as target:
        target.launch_emitter()
        time.sleep(1)  # the launch's own work settles
        base = f"127.0.0.1:{target.port}/api/generations/{target.gid}/preview/logs"
        url = f"http://{base}/stream?tail=0" if kind == "sse" else f"ws://{base}/ws?tail=0"
        client = _sse if kind == "sse" else _ws
        meter = CpuMeter(target.pid)
        got = [0] * subscribers
        figures: dict[str, object] = {}

        async def measure() -> None:
            async with trio.open_nursery() as nursery:
                for index in range(subscribers):
                    nursery.start_soon(client, url, target.stream_headers(), got, index, lines)
                await trio.sleep(2)  # connected and waiting
                cpu, began = meter.cpu(), time.monotonic()
                await trio.to_thread.run_sync(target.start_emitting, lines, 0)
                with trio.move_on_after(_PATIENCE):
                    while nursery.child_tasks:  # noqa: ASYNC110 (the clients' counts)
                        await trio.sleep(0.05)
                figures["seconds"] = round(time.monotonic() - began, 2)
                figures["server_cpu_s"] = round(meter.cpu() - cpu, 3)
                nursery.cancel_scope.cancel()

        trio.run(measure)
        delivered = sum(got)
        cpu_s = figures["server_cpu_s"]
        assert isinstance(cpu_s, float)
        return {
            "kind": kind,
            "subscribers": subscribers,
            "lines": lines,
            "delivered": delivered,
            "each_got": got,
            **figures,
            "server_cpu_us_per_line": round(cpu_s / delivered * 1e6, 2) if delivered else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wsstream", description=__doc__)
    parser.add_argument("--kind", choices=("sse", "ws", "both"), default="both")
    parser.add_argument("--subscribers", type=int, default=5)
    parser.add_argument("--lines", type=int, default=50_000)
    options = parser.parse_args()
    kinds = ("sse", "ws") if options.kind == "both" else (options.kind,)
    for kind in kinds:
        log(f"wsstream: {options.subscribers} {kind} subscriber(s), {options.lines:,} lines")
        print(json.dumps(run(kind, options.subscribers, options.lines)), flush=True)


if __name__ == "__main__":
    main()
