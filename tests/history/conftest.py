"""What the request history's tests share: a small JSON app (stdlib, quick to start)
whose one answer a revision changes, launched, and helpers to call it each way in."""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx
import pytest
import trio

from ..conftest import Service, auth

COMMAND = ["{python}", "app.py"]
APP = """
import datetime, itertools, json, os, random, sys, traceback, urllib.parse, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAMES = {"1": "apple", "2": "%(second)s"}
IDS = itertools.count(random.randint(1000, 9999))  # generated ids, another each start


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, data, *extra):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"%%s"' %% uuid.uuid4().hex)
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/items/"):
            key = path.rsplit("/", 1)[1]
            if key not in NAMES:
                return self.answer(404, {"detail": "no such item"})
            item = {"id": int(key), "name": NAMES[key], "fetchedAt": now(),
                    "trace": str(uuid.uuid4())}
            return self.answer(200, item, ("Set-Cookie", "sid=%%s; Path=/" %% uuid.uuid4().hex))
        if path == "/chunked":  # an answer the app frames in chunks
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"parts": ', b'["a", "b"]}', b""):
                self.wfile.write(b"%%x\\r\\n" %% len(part) + part + b"\\r\\n")
            return
        if path == "/hangup":  # the connection closed, the call never answered
            self.close_connection = True
            return
        if path == "/outside":  # gunicorn's way with a handler's OSError: said, hung up
            try:
                raise ConnectionError(  # as long as requests' (a cause is clipped)
                    "HTTPSConnectionPool(host='api.example.com', port=443): Max retries"
                    " exceeded with url: /login/oauth/access_token?client_id=None&client"
                    "_secret=None&code=None (Caused by NewConnectionError('<urllib3.conn"
                    "ection.HTTPSConnection object at 0x7f19ed9e12a0>: Failed to establish"
                    " a new connection: [Errno -3] Temporary failure in name resolution'))"
                )
            except ConnectionError:
                traceback.print_exc()
                sys.stderr.flush()
            self.close_connection = True
            return
        if path.startswith("/static/"):  # a page's asset, n bytes of it
            size = int(urllib.parse.parse_qs(self.path.partition("?")[2])["n"][0])
            kind = {"js": "application/javascript; charset=utf-8", "css": "text/css"}
            body = (b"var x = 1;\\n" * (size // 11 + 1))[:size]
            self.send_response(200)
            self.send_header("Content-Type", kind[path.rsplit(".", 1)[1]])
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "/big":
            return self.answer(200, {"data": "x" * int(self.path.split("=")[1])})
        return self.answer(200, {"ok": True})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length)
        if "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            data = dict(urllib.parse.parse_qsl(sent.decode()))
        else:
            data = json.loads(sent or b"{}")
        if self.path == "/session":  # a new credential in each answer
            return self.answer(201, {"user": data.get("user"), "access_token": uuid.uuid4().hex})
        return self.answer(201, {"id": next(IDS), "createdAt": now(), **data})

    def do_PUT(self):
        if self.headers.get("Transfer-Encoding") == "chunked":
            received = 0
            while size := int(self.rfile.readline().split(b";")[0], 16):
                received += len(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return self.answer(200, {"received": received})
        length = int(self.headers.get("Content-Length") or 0)
        return self.answer(200, {"received": len(self.rfile.read(length))})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def app_files(second: str = "banana") -> dict[str, str]:
    return {"app.py": APP % {"second": second}}


async def launched(
    service: Service, files: dict[str, str], *, tier: str = "free", gid: str | None = None
) -> dict[str, Any]:
    gid = gid or await service.upload(files)
    body = (await service.launch(gid, tier=tier, command=COMMAND)).json()
    assert body["status"] == "running", (body.get("errorMessage"), body.get("errorLines"))
    host = urllib.parse.urlsplit(body["baseUrl"]).netloc
    return {**body, "gid": gid, "host": host}


@pytest.fixture
async def preview(service: Service):
    with trio.fail_after(90):
        running = await launched(service, app_files())
    yield running
    with trio.fail_after(30):
        await service.stop(running["gid"])


def api(gid: str, rest: str = "") -> str:
    return f"/api/generations/{gid}/preview{rest}"


async def envelope(service: Service, preview: dict, **call: Any) -> httpx.Response:
    return await service.client.post(
        api(preview["gid"], "/request"),
        json=call,
        headers={**auth(), "X-Preview-Token": preview["previewToken"]},
    )


async def fresh(service: Service, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A call on a connection of its own: the hot path serves a connection's calls from
    its first on (one it hands to Hypercorn stays Hypercorn's for a while)."""
    async with httpx.AsyncClient(base_url=service.url, trust_env=False, timeout=30) as client:
        return await client.request(method, url, **kwargs)


async def proxied(
    service: Service, preview: dict, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    headers = {**auth(), "X-Preview-Token": preview["previewToken"], **kwargs.pop("headers", {})}
    return await fresh(
        service, method, api(preview["gid"], "/proxy" + path), headers=headers, **kwargs
    )


async def origin_cookie(service: Service, preview: dict) -> str:
    """The preview origin's session cookie, as a browser gets it (ticket, then enter)."""
    ticket = await service.client.post(
        api(preview["gid"], "/ticket"),
        json={"path": "/"},
        headers={**auth(), "X-Preview-Token": preview["previewToken"]},
    )
    assert ticket.status_code == 200, ticket.text
    parts = urllib.parse.urlsplit(ticket.json()["url"])
    async with httpx.AsyncClient(base_url=service.url, trust_env=False) as browser:
        entered = await browser.get(f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})
    assert entered.status_code == 303, entered.text
    return entered.headers["set-cookie"].split(";", 1)[0]


async def listed(service: Service, gid: str, **params: Any) -> dict[str, Any]:
    response = await service.client.get(api(gid, "/requests"), params=params, headers=auth())
    assert response.status_code == 200, response.text
    return response.json()


async def one(service: Service, gid: str, rid: int) -> dict[str, Any]:
    response = await service.client.get(api(gid, f"/requests/{rid}"), headers=auth())
    assert response.status_code == 200, response.text
    return response.json()
