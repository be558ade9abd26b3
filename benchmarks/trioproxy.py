"""The floor of a proxy on the service's stack: trio and raw sockets, and nothing else.

``python -m benchmarks.trioproxy --port P --upstream U`` serves, until terminated, the
smallest HTTP/1.1 proxy trio allows: each client connection gets one kept-alive
connection to ``127.0.0.1:U``; a request's head is found (``\\r\\n\\r\\n``) and sent on
as it came, and the answer is read until its ``Content-Length`` body is whole and
written back in one write. No parsing beyond that, no authentication, no header rules,
no log, no history, no timeouts; bodiless requests and ``Content-Length`` answers only
(what the anchors call). The sockets are read and written as the hot path does
(``hot.upstream``: a system call first, trio's wait only when it would block), so it
waits as often as the service's hot path does: what it costs a call on a machine is
what no trio proxy in this interpreter goes below there (the anchors' ``trio·floor``,
run in front of the quiet preview in its sandbox's network namespace, as
``chp·sandboxed`` is).
"""

from __future__ import annotations

import argparse
import functools
import socket

__all__ = ["main"]

_READ = 65536


def _serve(port: int, upstream: int) -> None:
    import trio

    async def receive(raw: socket.socket) -> bytes:
        while True:
            try:
                return raw.recv(_READ)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(raw)

    async def send(raw: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[raw.send(view) :]
            except BlockingIOError:
                await trio.lowlevel.wait_writable(raw)

    async def answer(app: socket.socket, head: bytes) -> bytes:
        await send(app, head)
        await trio.lowlevel.wait_readable(app)  # the answer cannot be there yet
        buffer = b""
        while True:
            data = await receive(app)
            if not data:
                raise ConnectionError("the app closed the connection")
            buffer += data
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                continue
            fields = buffer[:end].lower()
            at = fields.find(b"content-length:")
            length = int(fields[at + 15 : fields.find(b"\r\n", at)]) if at >= 0 else 0
            if len(buffer) >= end + 4 + length:
                return buffer

    async def handle(stream: trio.SocketStream) -> None:
        client = stream.socket._sock  # type: ignore[attr-defined]  # trio's own
        app_stream = await trio.open_tcp_stream("127.0.0.1", upstream)
        app = app_stream.socket._sock  # type: ignore[attr-defined]
        buffer = b""
        try:
            while True:
                await trio.lowlevel.wait_readable(client)  # the next request
                data = await receive(client)
                if not data:
                    return
                buffer += data
                while (end := buffer.find(b"\r\n\r\n")) >= 0:
                    head, buffer = buffer[: end + 4], buffer[end + 4 :]
                    await send(client, await answer(app, head))
        except (ConnectionError, OSError):
            return
        finally:
            app.close()

    trio.run(functools.partial(trio.serve_tcp, handle, port, host="127.0.0.1"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True, help="the app's port on 127.0.0.1")
    args = parser.parse_args()
    _serve(args.port, args.upstream)


if __name__ == "__main__":
    main()
