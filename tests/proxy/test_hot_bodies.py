"""A caller's request body on the hot path (``proxy.hot.relay.RequestBody``) that is
not the app's to answer: one whose chunks are not HTTP/1.1's is the caller's 400, as
Hypercorn answers it (it was a 502 blaming the app: "reset"), and one that stops coming
is 408 after ``body_timeout`` of silence (it held its connection and one to the app
for ever), as is one sent to the API's own routes (an upload, a JSON call). Real
service, real app, raw sockets."""

from __future__ import annotations

import json
from typing import Any

import trio

from preview.proxy.hot import front as hot_front
from preview.proxy.hot.head import ChunkedScanner

from ..conftest import auth
from ..raw_http import address, read_response, until_closed


def _post(gid: str, launched: dict[str, Any], framing: str) -> bytes:
    return (
        f"POST /api/generations/{gid}/preview/proxy/echo HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: {auth()['Authorization']}\r\n"
        f"X-Preview-Token: {launched['previewToken']}\r\n"
        f"Content-Type: text/plain\r\n{framing}\r\n\r\n"
    ).encode()


_EXPECT = "\r\nExpect: 100-continue"


def _unchunked(body: bytes) -> bytes:
    data: list[bytes] = []
    scanner = ChunkedScanner(data)
    scanner.feed(body)
    assert scanner.done, body
    return b"".join(data)


async def test_a_malformed_chunked_body_is_the_callers_400_not_the_apps_502(running) -> None:
    service, gid, launched = running
    hot = service.app.extensions[hot_front.EXTENSION]
    head = _post(gid, launched, "Transfer-Encoding: chunked")
    with trio.fail_after(60):
        # A size line ending in a bare LF; a chunk's data not followed by its CRLF.
        for body in (b"5;a\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n"):
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(head + body)
                answer = await until_closed(stream)
            status, _, refusal = answer.partition(b"\r\n\r\n")
            assert status.startswith(b"HTTP/1.1 400 "), answer[:400]
            assert json.loads(refusal)["error"] == "malformed_request", refusal
        # The app was not at fault: the same call well framed is answered, here.
        served = hot.served
        stream = await trio.open_tcp_stream(*address(service))
        async with stream:
            await stream.send_all(head + b"5\r\nhello\r\n0\r\n\r\n")
            answer, _ = await read_response(stream)
        status, _, echoed = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 200 "), answer[:400]
        assert json.loads(echoed)["body"] == "hello" and hot.served == served + 1
        events = [e for e in await service.history(gid) if e["source"] == "proxy"]
        assert not [e for e in events if "failed" in e["message"]], events


def _api(method: str, path: str, framing: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: {auth()['Authorization']}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


async def test_a_body_that_stops_coming_is_408_after_the_body_timeout(running, settings) -> None:
    """On the hot path, on the ASGI path (a call with ``Expect: 100-continue``, which
    the hot path leaves to Hypercorn), for the envelope (which closed unanswered) both
    ways, and on the API's own routes that read a body (which held the connection for
    ever): 408 ``request_body_timeout``, closed."""
    service, gid, launched = running
    object.__setattr__(settings, "body_timeout", 1.0)
    envelopes = [
        _post(gid, launched, "Content-Length: 100" + expect).replace(
            b"/preview/proxy/echo", b"/preview/request"
        )
        for expect in ("", _EXPECT)
    ]
    heads = [_post(gid, launched, "Content-Length: 100" + expect) for expect in ("", _EXPECT)]
    own = [
        _api("POST", "/api/generations", "Content-Length: 100"),  # an upload
        _api("POST", f"/api/generations/{gid}/revisions", "Content-Length: 100" + _EXPECT),
        _api("PATCH", f"/api/generations/{gid}", "Transfer-Encoding: chunked"),  # a rename
    ]
    with trio.fail_after(90):
        for head in [*heads, *envelopes, *own]:
            expect = _EXPECT.encode() in head
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(head)
                if expect:  # the interim answer first, once the proxy reads the body
                    interim = b""
                    while b"\r\n\r\n" not in interim:
                        interim += await stream.receive_some(65536)
                    assert interim.startswith(b"HTTP/1.1 100 "), interim
                # 3 of its 100 bytes (a chunk of 3 bytes, no end), then nothing.
                chunked = b"transfer-encoding: chunked" in head.lower()
                await stream.send_all(b"3\r\nabc\r\n" if chunked else b"abc")
                began = trio.current_time()
                answer = await until_closed(stream)
                waited = trio.current_time() - began
            status, _, refusal = answer.partition(b"\r\n\r\n")
            if b"transfer-encoding: chunked" in status.lower():  # Hypercorn's framing
                refusal = _unchunked(refusal)
            assert status.startswith(b"HTTP/1.1 408 "), (head, answer[:400])
            assert b"connection: close" in status.lower(), status
            assert json.loads(refusal)["error"] == "request_body_timeout", refusal
            assert 1.0 <= waited < 20, waited
        # The service and the app go on: the next call is answered.
        stream = await trio.open_tcp_stream(*address(service))
        async with stream:
            await stream.send_all(_post(gid, launched, "Content-Length: 2") + b"ok")
            answer, _ = await read_response(stream)
        status, _, echoed = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 200 ") and json.loads(echoed)["body"] == "ok"
