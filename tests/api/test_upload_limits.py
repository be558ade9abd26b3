"""Every upload path stops reading at PREVIEW_MAX_UPLOAD_BYTES with 413: raw sockets
streaming bodies far larger than the limit to the real service."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import pytest
import trio

from preview import Settings

from ..conftest import Service, auth, running_service
from ..raw_http import send_endless_body

_LIMIT = 1 << 20
_SENT_AT_MOST = 64 << 20  # what the client would send if nobody stopped it


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
    return await send_endless_body(
        service, head, start, filler, chunked=chunked, at_most=_SENT_AT_MOST
    )


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
