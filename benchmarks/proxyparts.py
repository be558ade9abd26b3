"""What a proxy hop costs, part by part (a diagnostic, not a scenario).

``python -m benchmarks.proxyparts [--rounds 10] [--calls 200]``

Starts examples/hello-fastapi on uvicorn (the child) and, each in a process of its own,
servers that answer the same ``GET /api/items/1``:

* ``raw-static``: a raw trio socket server writing a canned answer (the load client's
  and the loopback's own cost);
* ``hypercorn-static``: a bare Hypercorn (trio) ASGI app with the same canned answer
  (what Hypercorn's request handling adds to that);
* ``raw-proxy``: a raw trio server forwarding the request's bytes to the child on a
  kept connection (a proxy hop with no HTTP library at all);
* ``hypercorn-httpcore``, ``hypercorn-httpx-transport`` and ``hypercorn-httpx``: a bare
  Hypercorn app calling the child with httpcore's pool, with httpx's transport alone
  (``AsyncHTTPTransport.handle_async_request``, no client), or with an httpx client as
  the service does.

Sequential calls on one keep-alive connection, in rounds that alternate the servers;
prints one JSON line with each one's p50 / p99 and their p50 minus the direct call's.
"""

from __future__ import annotations

import argparse
import array
import json
import subprocess
import sys
from typing import Any

from .harness import PYTHON, ROOT, free_port, wait_for_port
from .loadclient import raw_request, summary_us
from .scenarios.common import request_load

_PATH = "/api/items/1"
_MODES = (
    "raw-static",
    "hypercorn-static",
    "raw-proxy",
    "hypercorn-httpcore",
    "hypercorn-httpx-transport",
    "hypercorn-httpx",
)
_DROPPED = frozenset({b"host", b"connection", b"content-length", b"transfer-encoding"})
_BODY = b'{"item_id":1,"name":"item-1"}'


def _serve(mode: str, port: int, upstream: int) -> None:
    import trio

    if mode.startswith("raw-"):
        trio.run(trio.serve_tcp, _raw_handler(mode, upstream), port)
        return
    import hypercorn.config
    import hypercorn.trio

    config = hypercorn.config.Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    trio.run(hypercorn.trio.serve, _asgi_app(mode, upstream), config)


def _raw_handler(mode: str, upstream: int) -> Any:
    import trio

    canned = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%b"

    async def forward(child: trio.SocketStream, head: bytes) -> bytes:
        await child.send_all(head)
        answer = b""
        while True:
            answer += await child.receive_some(65536)
            if b"\r\n\r\n" in answer:
                fields, body = answer.split(b"\r\n\r\n", 1)
                length = int(fields.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    return answer

    async def handle(stream: trio.SocketStream) -> None:
        child = await trio.open_tcp_stream("127.0.0.1", upstream) if mode == "raw-proxy" else None
        buffer = b""
        while True:
            try:
                data = await stream.receive_some(65536)
            except trio.BrokenResourceError:
                return
            if not data:
                return
            buffer += data
            while b"\r\n\r\n" in buffer:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                if child is None:
                    await stream.send_all(canned % (len(_BODY), _BODY))
                else:
                    await stream.send_all(await forward(child, head + b"\r\n\r\n"))

    return handle


def _asgi_app(mode: str, upstream: int) -> Any:
    base = f"http://127.0.0.1:{upstream}"
    if mode == "hypercorn-httpx":
        import httpx

        client = httpx.AsyncClient(base_url=base, trust_env=False)
    elif mode == "hypercorn-httpx-transport":
        import httpx

        transport = httpx.AsyncHTTPTransport()
    elif mode == "hypercorn-httpcore":
        import httpcore

        pool = httpcore.AsyncConnectionPool()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        if mode == "hypercorn-static":
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": _BODY})
            return
        headers = [(k, v) for k, v in scope["headers"] if k not in _DROPPED]
        if mode == "hypercorn-httpx":
            request = client.build_request("GET", scope["raw_path"].decode(), headers=headers)
            answer = await client.send(request)
            status, raw_headers, body = answer.status_code, answer.headers.raw, answer.content
        elif mode == "hypercorn-httpx-transport":
            url = base + scope["raw_path"].decode()
            answer = await transport.handle_async_request(
                httpx.Request("GET", url, headers=headers)
            )
            body = await answer.aread()
            status, raw_headers = answer.status_code, answer.headers.raw
        else:
            url = base.encode() + scope["raw_path"]
            answer = await pool.request("GET", url, headers=headers)
            status, raw_headers, body = answer.status, answer.headers, answer.content
        kept = [(k, v) for k, v in raw_headers if k.lower() not in _DROPPED]
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxyparts", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200, help="per server and round")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]), int(args.serve[2]))
        return 0
    processes: list[subprocess.Popen[bytes]] = []
    try:
        child = free_port()
        app_dir = ROOT / "examples" / "hello-fastapi"
        command = [PYTHON, "-m", "uvicorn", "app.main:app", "--port", str(child)]
        processes.append(subprocess.Popen([*command, "--log-level", "warning"], cwd=app_dir))
        wait_for_port(child, 30, processes[-1])
        ports = {"direct": child}
        for mode in _MODES:
            ports[mode] = free_port()
            serve = ["--serve", mode, str(ports[mode]), str(child)]
            processes.append(subprocess.Popen([PYTHON, "-m", "benchmarks.proxyparts", *serve]))
            wait_for_port(ports[mode], 30, processes[-1])
        requests = {m: (p, raw_request("GET", _PATH, f"127.0.0.1:{p}")) for m, p in ports.items()}
        for port, request in requests.values():  # warm-up
            request_load({"port": port, "requests": [request], "count": 100}, 60)
        samples = {mode: array.array("q") for mode in requests}
        for _ in range(args.rounds):
            for mode, (port, request) in requests.items():
                spec = {"port": port, "requests": [request], "count": args.calls, "duration": 30}
                block = request_load(spec, 60)
                measured = array.array("q")
                measured.frombytes(block["latencies_us"])
                samples[mode].extend(measured[1:])
        direct = summary_us(samples["direct"])["p50"] or 0.0
        result = {}
        for mode, values in samples.items():
            summary = summary_us(values)
            result[mode] = {
                "p50_ms": summary["p50"],
                "p99_ms": summary["p99"],
                "p50_minus_direct_ms": round((summary["p50"] or 0.0) - direct, 3),
            }
        print(json.dumps({"rounds": args.rounds, "calls": args.calls, "servers": result}))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
