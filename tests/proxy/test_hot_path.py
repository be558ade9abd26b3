"""The hot path below Hypercorn (``proxy.hot.path``, ``proxy.hot.front``): it serves
authorised proxied calls on the connection itself, hands everything else to Hypercorn
unchanged, and fails here if the Hypercorn internals it leans on move."""

from __future__ import annotations

import inspect
import json
import socket
import urllib.parse
from typing import Any

import httpx
import trio
from hypercorn.events import RawData, Updated
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import TrioSingleTask

from preview.proxy.hot import front as hot_front
from preview.proxy.hot.sockets import receive_now, send_now

from ..conftest import auth, eventually


def test_hypercorn_internals_it_leans_on() -> None:
    """``TCPServer.run`` / ``_read_data`` are wrapped; the server keeps the attributes
    the wrapper reads (``app.app``, ``stream``, ``protocol``, ``config``)."""
    assert hot_front.install() and hot_front.installed()
    assert inspect.iscoroutinefunction(TCPServer.run)
    assert inspect.iscoroutinefunction(TCPServer._read_data)
    source = inspect.getsource(inspect.unwrap(TCPServer._read_data))
    assert "self.protocol.handle(RawData(" in source
    source = inspect.getsource(inspect.unwrap(TCPServer.run))
    assert "self.stream.socket" in source and "await self._read_data()" in source
    init = inspect.signature(TCPServer.__init__).parameters
    assert list(init)[1:] == ["app", "config", "context", "state", "stream"]
    assert RawData(b"x").data == b"x"
    # Taking an idle connection back (hot.front._take_back).
    source = inspect.getsource(H11Protocol._maybe_recycle)
    assert "start_next_cycle()" in source and "await self.send(Updated(idle=True))" in source
    assert "self.stream = None" in inspect.getsource(H11Protocol._close_stream)
    assert inspect.iscoroutinefunction(TrioSingleTask().restart)
    assert Updated(idle=True).idle


async def test_trio_internals_it_leans_on() -> None:
    """``hot.upstream.send_now`` / ``receive_now`` use the socket under trio's."""
    left, right = socket.socketpair()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(left))
    with trio.fail_after(10), right:
        assert isinstance(stream.socket._sock, socket.socket)
        await send_now(stream, b"ping")
        assert right.recv(10) == b"ping"
        right.send(b"pong")
        assert await receive_now(stream) == b"pong"
        right.close()
        assert await receive_now(stream) == b""
    await stream.aclose()


async def _exchange(stream: trio.abc.Stream, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request``; the answer's head and its Content-Length body."""
    await stream.send_all(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive_some(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += await stream.receive_some(65536)
    return head, body


def _path_call_headers(service: Any, launched: dict) -> tuple[str, str, str]:
    """The service's host and port, and a path call's head lines: its user's and its
    preview's credentials."""
    host, port = service.url.removeprefix("http://").split(":")
    headers = (
        f"Host: {host}:{port}\r\nAuthorization: {auth()['Authorization']}\r\n"
        f"X-Preview-Token: {launched['previewToken']}\r\n"
    )
    return host, port, headers


async def test_calls_on_one_connection_are_served_below_hypercorn(running) -> None:
    service, gid, body = running
    hot = service.app.extensions[hot_front.EXTENSION]
    served, opened = hot.served, hot.pools.opened
    host, port, headers = _path_call_headers(service, body)
    proxied = f"GET /api/generations/{gid}/preview/proxy/json?name=hot HTTP/1.1\r\n{headers}\r\n"
    echo_body = b'{"a": 1}'
    posted = (
        f"POST /api/generations/{gid}/preview/proxy/echo HTTP/1.1\r\n{headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(echo_body)}\r\n\r\n"
    ).encode() + echo_body
    api = f"GET /api/generations/{gid}/preview/status HTTP/1.1\r\n{headers}\r\n"
    with trio.fail_after(60):
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            for _ in range(3):
                head, answer = await _exchange(stream, proxied.encode())
                assert head.startswith(b"HTTP/1.1 200"), head
                assert json.loads(answer) == {"hello": "hot"}
                assert b"x-request-id: req_" in head.lower()
                assert head.lower().count(b"content-length:") == 1
                # Stamped as Hypercorn stamps its own answers, once.
                assert head.lower().count(b"\r\ndate: ") == 1
                assert head.lower().count(b"\r\nserver: hypercorn-h11\r\n") == 1
                assert b"content-security-policy: sandbox" in head.lower()  # the API origin's
            head, answer = await _exchange(stream, posted)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert json.loads(answer)["body"] == echo_body.decode()
            assert hot.served == served + 4
            assert hot.pools.opened == opened + 1  # one connection to the app, kept alive
            # Not a proxied call: Hypercorn answers it on the same connection.
            head, answer = await _exchange(stream, api.encode())
            assert head.startswith(b"HTTP/1.1 200"), head
            assert json.loads(answer)["status"] == "running"
            # Hypercorn serves the connection now, a proxied call too; once one went
            # its way, the hot path takes the connection back when Hypercorn is idle.
            taken_back = hot.taken_back
            head, answer = await _exchange(stream, proxied.encode())
            assert head.startswith(b"HTTP/1.1 200") and json.loads(answer) == {"hello": "hot"}
            assert hot.served == served + 4
            await eventually(lambda: hot.taken_back > taken_back)
            head, answer = await _exchange(stream, proxied.encode())
            assert head.startswith(b"HTTP/1.1 200") and json.loads(answer) == {"hello": "hot"}
            assert hot.served == served + 5
            head, answer = await _exchange(stream, api.encode())  # and to Hypercorn again
            assert head.startswith(b"HTTP/1.1 200"), head
        events = await service.history(gid)
        proxied_events = [e for e in events if e["source"] == "proxy"]
        assert sum("GET /json?name=hot -> 200" in e["message"] for e in proxied_events) == 5
        assert sum("POST /echo -> 200" in e["message"] for e in proxied_events) == 1


async def test_a_calls_proxy_event_is_in_the_log_when_its_caller_has_the_answer(
    running,
) -> None:
    """The event of a call answered whole is made once the answer is written, in the
    same step (``HotPath._call``): whoever has the answer finds the event, with no
    wait; so does the caller of an answer relayed as it comes (its event first)."""
    service, gid, body = running
    runtime = service.supervisor.get(body["previewInstanceId"])
    host, port, headers = _path_call_headers(service, body)
    with trio.fail_after(60):
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            # Whole (read with its head), then relayed as it comes (past one read);
            # many of each: a checkpoint before the event would let this task run
            # first in about half of them (trio runs a turn's tasks in either order).
            calls = [("/json?name=ev", None)] * 16 + [("/big?size=300000", 300000)] * 4
            for path, size in calls:
                call = f"GET /api/generations/{gid}/preview/proxy{path} HTTP/1.1\r\n{headers}\r\n"
                head, answer = await _exchange(stream, call.encode())
                assert head.startswith(b"HTTP/1.1 200"), head
                assert size is None or len(answer) == size
                request_id = next(
                    line.split(b":", 1)[1].strip().decode()
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"x-request-id:")
                )
                events = [e for e in runtime.broadcast.recent() if e.source == "proxy"]
                assert any(f"[{request_id}]" in e.message for e in events), (path, events[-3:])


async def test_a_bad_credential_is_answered_by_the_routes(running) -> None:
    service, gid, _ = running
    hot = service.app.extensions[hot_front.EXTENSION]
    served = hot.served
    with trio.fail_after(30):
        response = await service.client.get(
            f"/api/generations/{gid}/preview/proxy/json",
            headers={**auth(), "X-Preview-Token": "pvt_wrong"},
        )
    assert response.status_code == 403 and response.json()["error"] == "invalid_preview_token"
    assert hot.served == served


async def test_a_browser_at_the_preview_origin_is_served_below_hypercorn(running) -> None:
    """The ticket's trade and the page's calls after it, on the browser's connection."""
    service, gid, body = running
    hot = service.app.extensions[hot_front.EXTENSION]
    with trio.fail_after(60):
        ticket = await service.client.post(
            f"/api/generations/{gid}/preview/ticket",
            json={"path": "/echo?x=1"},
            headers={**auth(), "X-Preview-Token": body["previewToken"]},
        )
        assert ticket.status_code == 200, ticket.text
        url = urllib.parse.urlsplit(ticket.json()["url"])
        async with httpx.AsyncClient(base_url=service.url, trust_env=False) as browser:
            served = hot.served
            entered = await browser.get(f"{url.path}?{url.query}", headers={"Host": url.netloc})
            assert entered.status_code == 303, entered.text
            assert entered.headers["location"] == "/echo?x=1"
            cookie = entered.headers["set-cookie"].split(";", 1)[0]
            page = {"Host": url.netloc, "Cookie": cookie, "Authorization": "app's"}
            answer = await browser.get("/echo?x=1", headers=page)
            assert answer.status_code == 200, answer.text
            echoed = answer.json()
            assert echoed["path"].endswith("/echo") and echoed["query"] == {"x": "1"}
            assert echoed["headers"]["authorization"] == "app's"  # the app's own here
            assert echoed["headers"]["host"] == url.netloc
            assert cookie not in echoed["headers"].get("cookie", "")  # the service's
            assert hot.served == served + 1
            # The ticket is spent: the same refusal as the router's, in its shape.
            again = await browser.get(f"{url.path}?{url.query}", headers={"Host": url.netloc})
            assert again.status_code == 401 and again.json()["error"] == "invalid_ticket"
            # Without its session: the origin's own refusal, from the ASGI path.
            browser.cookies.clear()
            refused = await browser.get("/echo", headers={"Host": url.netloc})
            assert refused.status_code == 401
            assert refused.json()["error"] == "origin_sign_in_required"
            assert hot.served == served + 1
