"""A small stdlib app for the observation tests (issue 69): it serves its own OpenAPI
document (so its routes are declared), prints JSON log lines (one object a line) and
plain ones, answers one route with a 500 and another as slowly as asked; and a service
whose every port is in 25000-25999 (this set of tests' range)."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..conftest import Service, auth
from ..ports_in_range import service_in_range

COMMAND = ["{python}", "app.py"]
APP = r"""
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOCUMENT = {
    "openapi": "3.0.2",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/items/{item_id}": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/items/new": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/boom": {"get": {"responses": {"500": {"description": "broken"}}}},
    },
}


def log(**fields):
    print(json.dumps(fields), flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, data):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/openapi.json":
            return self.answer(200, DOCUMENT)
        if path == "/boom":
            log(level="error", message="boom", userId=7, request={"path": path})
            print("plain line userId=7 =SUM(A1)", flush=True)
            return self.answer(500, {"detail": "boom"})
        if path == "/gone":  # logfmt, as Go's slog and logrus print it
            print('time=2026-11-28T10:00:00Z level=WARN msg="item gone" userId=9'
                  ' request.path=/gone', flush=True)
            return self.answer(410, {"detail": "gone"})
        if path == "/many":  # n JSON lines at once: a log of several pages
            for i in range(int(query.split("=")[1])):
                log(level="info", message="many", i=i, even=i % 2 == 0)
            return self.answer(200, {"printed": True})
        if path == "/slow":
            time.sleep(int(query.split("=")[1]) / 1000)
            return self.answer(200, {"slept": True})
        if path.startswith("/items/"):
            key = path.rsplit("/", 1)[1]
            user = int(key) if key.isdigit() else 0
            log(level="info", message="item read", userId=user, note="=cmd|x")
            return self.answer(200, {"id": key})
        return self.answer(200, {"path": path})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


@asynccontextmanager
async def observed_service(settings: Any) -> AsyncIterator[Service]:
    async with service_in_range(settings, 25000, 25999) as service:
        yield service


async def launched(service: Service) -> dict[str, Any]:
    gid = await service.upload({"app.py": APP})
    body = (await service.launch(gid, command=COMMAND)).json()
    assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
    return {**body, "gid": gid, "host": urllib.parse.urlsplit(body["baseUrl"]).netloc}


async def call(service: Service, preview: dict[str, Any], path: str) -> int:
    """One call through the envelope; the app's status."""
    response = await service.client.post(
        f"/api/generations/{preview['gid']}/preview/request",
        json={"method": "GET", "path": path},
        headers={**auth(), "X-Preview-Token": preview["previewToken"]},
    )
    assert response.status_code == 200, response.text
    return response.json()["statusCode"]
