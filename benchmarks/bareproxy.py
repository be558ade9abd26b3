"""The floor under the service's proxy: Hypercorn (trio) + httpx and nothing else.

``python -m benchmarks.bareproxy --port P --upstream http://127.0.0.1:U`` serves, until
terminated, an ASGI app with no framework, no authentication, no logging and no header
rules: every HTTP request is forwarded to the upstream with the same kind of pooled
``httpx.AsyncClient`` the service uses, and the answer streamed back. The proxy
scenario times it beside the service's two proxies, in the same alternating rounds:
what it adds to a direct call is what the service's proxy cannot go below while it is
a Hypercorn app calling the child with httpx.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

_DROPPED = frozenset({b"host", b"connection", b"content-length", b"transfer-encoding"})


def _serve(port: int, upstream: str, uds: str | None) -> None:
    import httpx
    import hypercorn.config
    import hypercorn.trio
    import trio

    transport = httpx.AsyncHTTPTransport(uds=uds) if uds else None
    client = httpx.AsyncClient(
        base_url=upstream, trust_env=False, follow_redirects=False, transport=transport
    )

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k not in _DROPPED]
        target = scope["raw_path"] + (
            b"?" + scope["query_string"] if scope["query_string"] else b""
        )
        request = client.build_request(
            scope["method"], target.decode("latin-1"), headers=headers, content=body or None
        )
        response = await client.send(request, stream=True)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k, v) for k, v in response.headers.raw if k.lower() not in _DROPPED
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    config = hypercorn.config.Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    trio.run(hypercorn.trio.serve, app, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bareproxy", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:3001")
    parser.add_argument("--uds", help="reach the upstream through this Unix socket")
    args = parser.parse_args(argv)
    _serve(args.port, args.upstream, args.uds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
