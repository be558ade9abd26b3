"""Every upload path stops reading at PREVIEW_MAX_UPLOAD_BYTES with 413: raw sockets
streaming bodies far larger than the limit to the real service."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import zipfile

import pytest
import trio

from preview import Settings

from ..conftest import Service, auth, running_service
from ..raw_http import address

_LIMIT = 1 << 20
_SENT_AT_MOST = 64 << 20  # what the client would send if nobody stopped it
_PIECE = 64 << 10


def _zip_start() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "print('hi')\n")
    return buffer.getvalue()


_BOUNDARY = "b0undary"
_KINDS = {
    "json": ("application/json", b'{"projectId":"p","files":{"a.txt":"', b"x"),
    "archive": ("application/zip", _zip_start(), b"\0"),
    "multipart": (
        f"multipart/form-data; boundary={_BOUNDARY}",
        (
            f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="a.zip"\r\nContent-Type: application/zip\r\n\r\n'
        ).encode(),
        b"\0",
    ),
}


@pytest.fixture
async def small_limit(settings: Settings):
    async with running_service(dataclasses.replace(settings, max_upload_bytes=_LIMIT)) as service:
        yield service


async def _stream_upload(service: Service, kind: str, *, chunked: bool) -> tuple[bytes, int]:
    """Send an endless body of ``kind``; what the server answered and the bytes sent
    before it stopped reading (the connection refused more)."""
    content_type, start, filler = _KINDS[kind]
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {_SENT_AT_MOST}"
    head = (
        f"POST /api/generations HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Authorization: {auth()['Authorization']}\r\n{framing}\r\n\r\n"
    ).encode()
    stream = await trio.open_tcp_stream(*address(service))
    sent = 0
    answer = b""
    async with stream:
        await stream.send_all(head)

        async def send_body() -> None:
            nonlocal sent
            piece = start
            while sent < _SENT_AT_MOST:
                data = b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece
                await stream.send_all(data)
                sent += len(piece)
                piece = filler * _PIECE

        async def read_answer(cancel_scope: trio.CancelScope) -> None:
            nonlocal answer
            try:
                while chunk := await stream.receive_some(65536):
                    answer += chunk
            except trio.BrokenResourceError:
                pass  # reset: the server closed with our body unread
            cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_answer, nursery.cancel_scope)
            # A reset: the server closed the connection, it reads no more.
            with contextlib.suppress(trio.BrokenResourceError):
                await send_body()
    return answer, sent


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("kind", sorted(_KINDS))
async def test_an_oversized_upload_is_refused_without_reading_it(
    small_limit: Service, kind: str, chunked: bool
) -> None:
    with trio.fail_after(30):
        answer, sent = await _stream_upload(small_limit, kind, chunked=chunked)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["status"] == "failed"
    # The server stopped reading near the limit, not at the end of the body.
    assert sent < 16 * _LIMIT, sent
    response = await small_limit.client.get("/api/health")  # and it is still there
    assert response.status_code == 200
