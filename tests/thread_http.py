"""A real HTTP server on a thread, for tests that stand in for a package index or
registry the code under test reaches by URL: :func:`serving_on_a_thread`."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["send_index_page", "serving_on_a_thread"]


@contextlib.contextmanager
def serving_on_a_thread(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """``handler`` served on 127.0.0.1 at a free port (yielded) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def send_index_page(
    handler: BaseHTTPRequestHandler, name: str, files: list[dict[str, object]]
) -> None:
    """A package index's page for project ``name`` listing ``files`` (PEP 691's JSON)."""
    body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files})
    handler.send_response(200)
    handler.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
    handler.end_headers()
    handler.wfile.write(body.encode())
