"""Keep-alive connections after a request refused before its body was read: the next
request on the connection is answered, or the connection is closed; never left hanging."""

from __future__ import annotations

import pytest
import trio

from ..conftest import Service, auth
from ..raw_http import Closed, address, read_response

_BODY = b'{"projectId":"p","files":{"a.py":"' + b"x" * 20000 + b'"}}'


@pytest.mark.parametrize("sent_first", [True, False], ids=["body-sent", "body-after-answer"])
@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/generations", "", b"401"),
        ("/api/generations/gen_nope/preview/launch", "auth", b"404"),
        ("/api/generations/gen_nope/preview/request", "auth", b"404"),
    ],
)
async def test_the_request_after_a_refused_post_is_answered_or_the_connection_closed(
    service: Service, path: str, headers: str, status: bytes, sent_first: bool
) -> None:
    authorization = f"Authorization: {auth()['Authorization']}\r\n" if headers else ""
    post = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"{authorization}Content-Length: {len(_BODY)}\r\n\r\n"
    ).encode()
    follow = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    answered = closed = 0
    with trio.fail_after(60):
        for _ in range(20):
            stream = await trio.open_tcp_stream(*address(service))
            async with stream:
                await stream.send_all(post)
                if sent_first:
                    await stream.send_all(_BODY)
                response, rest = await read_response(stream)
                assert response.startswith(b"HTTP/1.1 " + status), response
                if not sent_first:
                    # The server has the answer's end and the body's absence: it closes.
                    # (Before, the close was cancelled half-way and the connection kept.)
                    with trio.move_on_after(1):
                        if await stream.receive_some(65536) == b"":
                            closed += 1
                            continue
                try:
                    await stream.send_all(follow if sent_first else _BODY + follow)
                    with trio.fail_after(5):  # it hung here before
                        second, _ = await read_response(stream, rest)
                except (Closed, trio.BrokenResourceError):
                    closed += 1  # closed by the server: the client opens another
                    continue
                assert second.startswith(b"HTTP/1.1 200 "), second
                answered += 1
    assert answered + closed == 20
