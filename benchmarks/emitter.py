"""The benchmark emitter: a tiny HTTP app that prints numbered, timestamped lines on request.

Standalone (standard library only), so the preview service can run it as a generation
(``["{python}", "emitter.py"]``) and the baseline can spawn the very same file.

* It answers HTTP on ``127.0.0.1:$PORT`` (any path: 200, ``/openapi.json``: a small
  valid document, so the service's endpoint discovery caches it as it does for FastAPI
  apps).
* ``GET /start?n=N&rate=R&pad=P`` answers at once and starts printing ``N`` lines on
  stdout, ``R`` per second (``0``: as fast as the pipe takes them), each::

      bench <seq> <emit time in ns, time.time_ns()> [P bytes of padding]

  ``seq`` counts from 0 within one ``/start``. ``time.time_ns()`` is the wall clock,
  comparable across processes on one machine, so a subscriber's receive time minus it is
  the end-to-end latency.
* When the lines are out it prints ``bench-done <N>``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_OPENAPI = json.dumps(
    {
        "openapi": "3.0.3",
        "info": {"title": "benchmark emitter", "version": "1"},
        # ``n`` is required here (the handler defaults it): the service's smoke check
        # calls only parameterless GET routes, and a call of /start would print 1,000
        # lines at launch that the benchmark then counts as duplicates.
        "paths": {
            "/start": {
                "get": {
                    "summary": "start printing lines",
                    "parameters": [
                        {
                            "name": "n",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {},
                }
            }
        },
    }
).encode()
_BATCH = 256  # lines per write when emitting as fast as possible


def _write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(1, view)
        view = view[written:]


def emit(n: int, rate: float, pad: int) -> None:
    tail = (" " + "x" * (pad - 1)) if pad > 0 else ""
    now_ns = time.time_ns
    if rate <= 0:
        seq = 0
        while seq < n:
            stop = min(n, seq + _BATCH)
            lines = [f"bench {i} {now_ns()}{tail}\n" for i in range(seq, stop)]
            _write_all("".join(lines).encode())
            seq = stop
    else:
        interval = 1.0 / rate
        start = time.perf_counter()
        seq = 0
        while seq < n:
            due = start + seq * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            # Everything due by now goes out in one write (catching up if we were late).
            now = time.perf_counter()
            lines = []
            while seq < n and start + seq * interval <= now:
                lines.append(f"bench {seq} {now_ns()}{tail}\n")
                seq += 1
            if not lines:  # woke a hair early
                lines.append(f"bench {seq} {now_ns()}{tail}\n")
                seq += 1
            _write_all("".join(lines).encode())
    _write_all(f"bench-done {n}\n".encode())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.endswith("/start"):
            query = parse_qs(url.query)
            n = int(query.get("n", ["1000"])[0])
            rate = float(query.get("rate", ["0"])[0])
            pad = int(query.get("pad", ["0"])[0])
            threading.Thread(target=emit, args=(n, rate, pad), daemon=True).start()
            self._answer(200, json.dumps({"started": n, "rate": rate}).encode())
        elif url.path.endswith("/openapi.json"):
            self._answer(200, _OPENAPI)
        else:
            self._answer(200, b'{"ok":true}')

    def log_message(self, *args: object) -> None:  # stdout is the benchmark's channel
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    print(f"emitter listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
