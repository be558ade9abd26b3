"""What the hot path remembers of the heads it reads (``hot.head.HeadWriter``) and how
it reads an answer whose body the app wrote apart from its head (``hot.upstream.ask``)."""

from __future__ import annotations

import socket
import struct

import httpx
import pytest
import trio
import trio.testing

from preview.errors import BadGateway
from preview.proxy.failures import translate_upstream_error
from preview.proxy.hot.head import HeadWriter, parse_request, parse_response
from preview.proxy.hot.upstream import FLUSH, RawConnection, answer_body, ask

_HEAD = b"GET /a?b=1 HTTP/1.1\r\nHost: h:1\r\nCookie: c=1\r\n\r\n"


def test_a_head_read_again_is_the_same_parse() -> None:
    heads = HeadWriter()
    first = heads.read_request(_HEAD + b"GET /next", len(_HEAD) - 4)
    again = heads.read_request(_HEAD, len(_HEAD) - 4)
    assert first is again and first is not None
    expected = parse_request(_HEAD, len(_HEAD) - 4)
    assert expected is not None
    assert (first.method, first.target, first.headers, first.size) == (
        expected.method,
        expected.target,
        expected.headers,
        expected.size,
    )
    assert heads.read_request(b"GET / HTTP/1.0\r\n\r\n", 14) is None  # Hypercorn's, still


def test_an_answer_head_read_again_is_a_copy_of_its_own() -> None:
    heads = HeadWriter()
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1"
    one, two = heads.read_response(raw, b"GET"), heads.read_response(raw, b"GET")
    assert not isinstance(one, str) and not isinstance(two, str) and one is not two
    one.rest, one.whole = b"xy", b"hello"
    assert (two.rest, two.whole, two.length, two.headers) == (b"", None, 5, one.headers)
    fresh = parse_response(raw, b"GET")
    assert not isinstance(fresh, str) and fresh.status == two.status == 200
    assert isinstance(heads.read_response(b"HTTP/2 200", b"GET"), str)
    head = heads.read_response(raw, b"HEAD")  # the method is part of what is read
    assert not isinstance(head, str) and head.bodiless and not two.bodiless


def _pair() -> tuple[RawConnection, socket.socket]:
    ours, app = socket.socketpair()
    return RawConnection(trio.SocketStream(trio.socket.from_stdlib_socket(ours))), app


async def test_a_body_written_after_its_head_is_read_with_it() -> None:
    connection, app = _pair()
    with trio.fail_after(10), app:
        answers = []

        async def asking() -> None:
            answers.append(await ask(connection, _HEAD, None, b"GET", 5.0))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(asking)
            await trio.testing.wait_all_tasks_blocked()  # the request is sent
            assert app.recv(65536) == _HEAD
            app.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
            await trio.testing.wait_all_tasks_blocked()  # ask waits for the body
            app.sendall(b"hello")
        (response,) = answers
        assert response.whole == b"hello" and connection.reusable
    await connection.stream.aclose()


async def test_a_body_cut_short_after_its_head_still_relays_the_head_first() -> None:
    connection, app = _pair()
    with trio.fail_after(10), app:
        app.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe")
        app.shutdown(socket.SHUT_WR)  # the app's answer ends mid-body
        response = await ask(connection, _HEAD, None, b"GET", 5.0)
        assert response.status == 200 and response.whole is None  # the head is relayed
        relayed = []
        with pytest.raises(httpx.RemoteProtocolError):
            async for piece in answer_body(connection, response, 5.0):
                relayed.append(piece)
        assert relayed == [b"he", FLUSH] and not connection.reusable
    await connection.stream.aclose()


def test_a_long_head_is_read_each_time_not_kept() -> None:
    heads = HeadWriter()
    long = b"GET / HTTP/1.1\r\nHost: h\r\nCookie: " + b"c" * 5000 + b"\r\n\r\n"
    one, two = heads.read_request(long, len(long) - 4), heads.read_request(long, len(long) - 4)
    assert one is not None and two is not None and one is not two
    assert one.headers == two.headers and one.size == len(long)


async def _failure_of(app_does: bytes | None, *, reset: bool = False) -> dict[str, object]:
    """The 502 the caller gets when the app answers ``app_does`` to a call (None:
    nothing) and then closes the connection (``reset``: with a reset)."""
    connection, app = _pair()
    with trio.fail_after(10), app:
        if app_does:
            app.sendall(app_does)
        if reset:
            app.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            app.close()
        else:
            app.shutdown(socket.SHUT_WR)
        try:
            response = await ask(connection, _HEAD, None, b"GET", 5.0)
            async for _ in answer_body(connection, response, 5.0):
                pass
        except httpx.HTTPError as error:
            failure = translate_upstream_error(error, 5.0)
        else:
            raise AssertionError("the call did not fail")
    await connection.stream.aclose()
    assert isinstance(failure, BadGateway) and failure.code == "upstream_unavailable"
    return {"message": failure.message, **failure.details}


async def test_a_502_says_what_the_app_did() -> None:
    unanswered = await _failure_of(None)
    assert unanswered == {
        "message": "The preview closed the connection without answering: what it printed is"
        " in its log (RemoteProtocolError).",
        "cause": "closed_unanswered",
    }
    cut = await _failure_of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe")
    assert cut["cause"] == "closed_mid_answer"
    assert (await _failure_of(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"))["cause"] == "not_http"
    assert (await _failure_of(None, reset=True))["cause"] == "reset"
    refused = translate_upstream_error(httpx.ConnectError("connection refused"), 5.0)
    assert isinstance(refused, BadGateway) and refused.details == {"cause": "refused"}
    assert refused.message == (
        "The preview refused the connection: nothing listens on its port (ConnectError)."
    )
