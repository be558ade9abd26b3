"""The floor under the service's fan-out: a bare Hypercorn (trio) ASGI app, nothing else.

``python -m benchmarks.floor [--m 100] [--n 2000] [--rate 500] [--mode asgi]`` starts,
in a process of its own, an ASGI app with no framework, no parsing, no database and no
child: each ``GET /`` is a chunked stream that writes, whenever it is woken, one chunk
holding every event published since its last write (the service's own coalescing
rule). A driver task publishes N events at R/s once M readers (raw sockets in this
process, reading and discarding) are connected. It prints one JSON line: the server's
CPU-seconds (psutil, user + system) per write and per delivery, writes, deliveries and
the mean events per write.

``--mode`` says how a chunk is written: ``asgi`` through Hypercorn's ``send``;
``direct`` by the stream's task with the service's ``DirectBodyWriter.write``;
``pacer`` by the driver itself with ``DirectBodyWriter.offer`` for every stream, as the
service's paced wake-ups do (its streams' tasks never wake). What the bare server
spends per write in a mode is what no code of ours can go below in that mode.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import subprocess
import sys
import time

import psutil

from .harness import PYTHON, free_port, wait_for_port

_MODES = ("asgi", "direct", "pacer")


def _serve(port: int, mode: str) -> None:
    import hypercorn.config
    import hypercorn.trio
    import trio

    from preview.logs import OFFER_GROUP
    from preview.transport import DirectBodyWriter

    wake = trio.lowlevel.ParkingLot()
    start = trio.lowlevel.ParkingLot()
    state = {"published": 0, "writes": 0, "deliveries": 0, "n": 0, "rate": 0.0}
    offered_to: list[DirectBodyWriter] = []

    async def stream(send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        writer = None if mode == "asgi" else DirectBodyWriter.attach(send)
        assert writer is not None or mode == "asgi"
        if mode == "pacer":
            offered_to.append(writer)  # type: ignore[arg-type]
            await trio.sleep_forever()
        seen = state["published"]
        while True:
            while state["published"] == seen:
                await wake.park()
            count, seen = state["published"] - seen, state["published"]
            state["writes"] += 1
            state["deliveries"] += count
            body = b"id: 1\ndata: " + b"x" * (100 * count) + b"\n\n"
            if writer is None:
                await send({"type": "http.response.body", "body": body, "more_body": True})  # type: ignore[operator]
            else:
                await writer.write(body)

    async def driver() -> None:
        await start.park()
        body = b"id: 1\ndata: " + b"x" * 100 + b"\n\n"
        for _ in range(int(state["n"])):
            state["published"] += 1
            for done, writer in enumerate(offered_to):  # "pacer" mode only
                if not writer.offer(body) or writer.pending:
                    raise RuntimeError("a reader did not keep up; the floor is not valid")
                state["writes"] += 1
                state["deliveries"] += 1
                if done % OFFER_GROUP == OFFER_GROUP - 1:
                    await trio.lowlevel.checkpoint()
            wake.unpark_all()
            await trio.sleep(1 / state["rate"])

    async def app(scope: dict, receive: object, send: object) -> None:
        if scope["type"] == "lifespan":
            async with trio.open_nursery() as nursery:
                while True:
                    message = await receive()  # type: ignore[operator]
                    if message["type"] == "lifespan.startup":
                        nursery.start_soon(driver)
                        await send({"type": "lifespan.startup.complete"})  # type: ignore[operator]
                    else:
                        nursery.cancel_scope.cancel()
                        await send({"type": "lifespan.shutdown.complete"})  # type: ignore[operator]
                        return
        if scope["path"] == "/":
            await stream(send)
            return
        if scope["path"] == "/start":
            query = dict(p.split("=") for p in scope["query_string"].decode().split("&"))
            state["n"], state["rate"] = int(query["n"]), float(query["rate"])
            start.unpark_all()
        body = json.dumps(state).encode()
        length = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": length})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    config = hypercorn.config.Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.backlog = 2048
    trio.run(hypercorn.trio.serve, app, config)


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks).split(b"\r\n\r\n", 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    parser.add_argument("--m", type=int, default=100, help="readers")
    parser.add_argument("--n", type=int, default=2000, help="events")
    parser.add_argument("--rate", type=float, default=500, help="events per second")
    parser.add_argument("--mode", choices=_MODES, default="asgi", help="how chunks are written")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve, args.mode)
        return 0
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "benchmarks.floor", "--serve", str(port), "--mode", args.mode]
    )
    selector = selectors.DefaultSelector()
    readers: list[socket.socket] = []
    try:
        wait_for_port(port, 30, server)
        for _ in range(args.m):
            reader = socket.create_connection(("127.0.0.1", port))
            reader.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            reader.setblocking(False)
            selector.register(reader, selectors.EVENT_READ)
            readers.append(reader)
        time.sleep(1.0)
        meter = psutil.Process(server.pid)
        before = meter.cpu_times()
        _get(port, f"/start?n={args.n}&rate={args.rate}")
        deadline = time.monotonic() + args.n / args.rate * 5 + 10
        idle_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - idle_since < 1.0:
            for key, _ in selector.select(timeout=0.1):
                if key.fileobj.recv(1 << 20):  # type: ignore[union-attr]
                    idle_since = time.monotonic()
        after = meter.cpu_times()
        counts = json.loads(_get(port, "/counts"))
    finally:
        for reader in readers:
            reader.close()
        server.terminate()
        server.wait(10)
    cpu = (after.user - before.user) + (after.system - before.system)
    writes, deliveries = counts["writes"], counts["deliveries"]
    print(
        json.dumps(
            {
                "scenario": "floor",
                "mode": args.mode,
                "m": args.m,
                "n": args.n,
                "rate": args.rate,
                "server_cpu_s": round(cpu, 3),
                "writes": writes,
                "deliveries": deliveries,
                "events_per_write": round(deliveries / writes, 2) if writes else None,
                "cpu_us_per_write": round(cpu / writes * 1e6, 1) if writes else None,
                "cpu_us_per_delivery": round(cpu / deliveries * 1e6, 2) if deliveries else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
