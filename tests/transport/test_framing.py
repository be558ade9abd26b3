"""A request with both Content-Length and Transfer-Encoding is refused and its
connection closed (RFC 9112 §6.1): raw sockets against the real service."""

from __future__ import annotations

import json

import pytest
import trio

from ..conftest import Service, auth
from ..raw_http import address, answers, until_closed


@pytest.mark.parametrize(
    "head",
    [
        "POST /api/generations HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "POST /api/generations HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 16\r\n",
        "GET /api/health HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    ],
)
async def test_both_lengths_are_refused_and_the_pipelined_request_is_not_served(
    service: Service, head: str
) -> None:
    smuggled = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with trio.fail_after(10):
        stream = await trio.open_tcp_stream(*address(service))
        async with stream:
            await stream.send_all(
                f"{head}Host: x\r\nAuthorization: {auth()['Authorization']}\r\n"
                "Content-Type: application/json\r\n\r\n".encode()
                + b"5\r\nhello\r\n0\r\n\r\n"
                + smuggled
            )
            received = await until_closed(stream)  # the server closes it
        assert received.startswith(b"HTTP/1.1 400 "), received
        assert received.count(b"HTTP/1.1 ") == 1, received  # the second one is not served
        head_part, _, body = received.partition(b"\r\n\r\n")
        assert b"connection: close" in head_part.lower()
        error = json.loads(body)
        assert error["status"] == "failed" and error["error"] == "ambiguous_body_length"
        await answers(service)
