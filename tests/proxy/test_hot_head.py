"""The hot path's head parser and body framing (``proxy.hot.head``): what it takes, what
it leaves to Hypercorn, and where a relayed chunked body ends."""

from __future__ import annotations

import pytest

from preview.proxy.hot.head import ChunkedScanner, parse_request, parse_response


def _request(head: bytes):
    buffer = head + b"\r\n\r\nnext"
    return parse_request(buffer, buffer.index(b"\r\n\r\n"))


def test_a_plain_request_head_is_taken() -> None:
    head_bytes = (
        b"POST /api/x?a=1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 3\r\n"
        b"X-Thing:  two  words \r\nCookie: \xe9t\xe9=1"
    )
    head = _request(head_bytes)
    assert head is not None
    assert (head.method, head.target, head.length, head.chunked) == (
        b"POST",
        b"/api/x?a=1",
        3,
        False,
    )
    assert head.headers == [
        (b"host", b"h:1"),
        (b"content-length", b"3"),
        (b"x-thing", b"two  words"),
        (b"cookie", b"\xe9t\xe9=1"),
    ]
    assert head.named[b"host"] == b"h:1"
    assert head.size == len(head_bytes) + 4  # the blank line's too: "next" is the next one's
    chunked = _request(b"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked")
    assert chunked is not None and chunked.chunked and chunked.length is None


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.0\r\nHost: h",  # HTTP/1.0
        b"BREW / HTTP/1.1\r\nHost: h",  # a method it does not serve
        b"GET / HTTP/1.1\r\nHost: h\r\n folded",  # obs-fold
        b"GET / HTTP/1.1\r\nBad Name: x",  # not a token
        b"GET / HTTP/1.1\r\nX: a\x00b",  # a control byte
        b"GET /a b HTTP/1.1\r\nHost: h",  # a space in the target
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1",  # repeated
        b"POST / HTTP/1.1\r\nContent-Length: -1",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked",
    ],
)
def test_anything_else_is_left_to_hypercorn(head: bytes) -> None:
    assert _request(head) is None


def test_response_framing() -> None:
    sized = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5", b"GET")
    assert not isinstance(sized, str)
    assert (sized.status_code, sized.reason, sized.length, sized.reusable) == (200, b"OK", 5, True)
    head = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5", b"HEAD")
    assert not isinstance(head, str) and head.bodiless and head.length is None
    chunked = parse_response(b"HTTP/1.1 200 \r\nTransfer-Encoding: chunked", b"GET")
    assert not isinstance(chunked, str) and chunked.chunked and chunked.reusable
    to_close = parse_response(b"HTTP/1.0 200 OK\r\nServer: x", b"GET")
    assert not isinstance(to_close, str) and not to_close.reusable and to_close.length is None
    closing = parse_response(b"HTTP/1.1 204 No Content\r\nConnection: close", b"GET")
    assert not isinstance(closing, str) and closing.bodiless and not closing.reusable
    assert isinstance(parse_response(b"HTTP/2 200", b"GET"), str)
    assert isinstance(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: x", b"GET"), str)
    assert isinstance(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip", b"GET"), str)


def test_a_chunked_body_ends_where_its_last_chunk_and_trailers_do() -> None:
    body = b"5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
    for size in (1, 2, 3, 7, len(body)):  # however the reads cut it
        scanner, taken = ChunkedScanner(), 0
        for at in range(0, len(body), size):
            taken += scanner.feed(
                body[at : at + size] + (b"EXTRA" if at + size >= len(body) else b"")
            )
        assert scanner.done and taken == len(body)
        kept: list[bytes] = []
        whole = ChunkedScanner(kept)
        for at in range(0, len(body), size):
            whole.feed(body[at : at + size])
        assert b"".join(kept) == b"hello world" and whole.size == 11
    with pytest.raises(ValueError):
        ChunkedScanner().feed(b"zz\r\n")
    # A chunk's data ends with CRLF: anything else there (a smuggled byte) is refused,
    # however the reads cut it.
    for bad in (b"5\r\nhelloXY0\r\n\r\n", b"5\r\nhello\rX0\r\n\r\n", b"5\r\nhello\n\r"):
        for size in (1, 6, len(bad)):
            scanner = ChunkedScanner()
            with pytest.raises(ValueError, match="CRLF"):
                for at in range(0, len(bad), size):
                    scanner.feed(bad[at : at + size])
