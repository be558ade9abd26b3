"""Keeping one client's protocol error to its own connection, under Hypercorn.

Hypercorn's trio server runs every connection's handler (``TCPServer.run``) in one
nursery with the listener: an exception that escapes a connection ends the whole
server. Hypercorn 0.18 lets one escape on a request any client can send, without a
token: a WebSocket upgrade followed, before the handshake is answered, by one more
byte (or a frame sent too early). ``WSStream.handle`` answers such data with a 400
while the app's task is answering the same handshake (a rejection, an accept), so
two responses meet in one h11 connection; h11 refuses the second (``our_state``
becomes ``ERROR``) and the next send raises ``LocalProtocolError: Can't send data
when our state is ERROR``, out of the connection's read loop or out of the app
task's clean-up, and the worker is gone. Even when the 400 wins cleanly, the stream
is then marked closed without telling the app: the app never receives
``websocket.disconnect`` and holds its task (a log feed, an upstream WebSocket) until
its work ends by itself, with the client's connection left open.

:func:`install` changes five things, each where the fault is:

* ``WSStream.handle``: data before the handshake is answered is the client's
  protocol error. The stream is marked closed *first* (so the app's own answer, if it
  comes, is dropped as Hypercorn drops any send after close), a 400 is sent if no
  answer has started, the app is told ``websocket.disconnect``, and the connection
  is closed.
* ``TCPServer.protocol_send``: closing the connection (and restarting or stopping
  its keep-alive timer) happens in the task that sent the response's last message,
  just after Hypercorn told the app ``http.disconnect``; an app that cancels its
  scope on that message (quart-trio does, and so do this package's fast paths)
  cancelled the close half-way. The connection then stayed open after ``Connection:
  close`` or a 400, a keep-alive connection lost its idle timer (at shutdown it was
  only cut after ``graceful_timeout``), and one whose request body was left unread
  never answered its next request. These steps now run shielded, with a time limit.
* ``H11Protocol._create_stream``: a request with both ``Content-Length`` and
  ``Transfer-Encoding`` can be framed two ways (a proxy in front may have taken the
  other, so what follows could be a request smuggled past it); h11 frames it by
  ``Transfer-Encoding`` and goes on. RFC 9112 §6.1: it is answered 400 and the
  connection closed, from the task that reads the connection, so nothing read after
  its head (its body, a request pipelined behind it) reaches the app. (Answered from
  the app with ``Connection: close``, the next bytes made h11 raise in that task,
  which closed the connection while the answer was being written.)
* ``TCPServer._close``: its ``send_eof`` is a send, taken without the lock that
  Hypercorn's writes hold, so a close from one task (the app's, after its answer)
  while another wrote (the reading task's 400 for a bad chunk) raised
  ``BusyResourceError`` out of the connection. The close now waits for the write
  under way (shielded, with a time limit; then the socket is closed regardless).
* ``TCPServer.run``: whatever else escapes one connection is logged and ends that
  connection only; cancellation and ``KeyboardInterrupt`` go on as before.
* ``H11Protocol._send_error_response``: a request h11 cannot parse (a malformed request
  line or header, a bad chunk, a head past ``h11_max_incomplete_size``) was answered
  400, 431 or 501 with an empty body; it now carries the error shape, as every other
  refusal does (``malformed_request``, ``request_head_too_large``,
  ``transfer_coding_not_implemented``), still closing the connection.
* h11's reader of a request head (``h11._readers.READERS[CLIENT, IDLE]``): a head with
  a bare LF, a request line past 8 KiB or a head past 16 KiB is refused at once, as the
  hot path refuses it (``proxy.hot.head.head_refusal``: 400, 414, 431); h11 read a bare
  LF as a line's end, splitting ``X-A: a\nX-Injected: 1`` into two headers that a proxy
  in front may have read as one. And its chunk-size line (``h11._readers.chunk_header_re``)
  takes at most 16 hex digits: ``10000000000000005`` was a body of 2^64 bytes, waited for
  until the body timeout (408), not a malformed chunk (400 at once).
* ``HTTPStream._send_error_response``: an exception that escapes the ASGI layers below
  Quart's error handler (the fast paths: a bug) was an empty 500; it is the error shape
  Quart's handler gives, ``internal_error`` (Hypercorn logs the traceback, as before).

All are wrappers around Hypercorn's own methods, installed once, by ``create_app``;
:func:`installed` says which took. ``tests/transport/test_connection_guard.py`` fails
if a Hypercorn upgrade moves what they wrap (and checks the behaviour with raw
sockets against a real server).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import re
import time
from typing import Any

import h11
import trio

from ..errors import BadRequest, PreviewError, error_response, head_refused
from ..proxy.hot.head import HEAD_LIMIT, REQUEST_LINE_LIMIT, head_refusal

# Hypercorn's and h11's internals (preview.seams): if they moved, install() wraps what
# it still finds.
from ..seams.h11 import ReceiveBuffer
from ..seams.h11 import readers as h11_readers
from ..seams.hypercorn import (
    ASGIHTTPState,
    ASGIWebsocketState,
    Body,
    Closed,
    Data,
    EndBody,
    H11Protocol,
    HTTPStream,
    RawData,
    Response,
    StreamClosed,
    TCPServer,
    WSStream,
)

__all__ = ["install", "installed"]

_log = logging.getLogger("preview")
_MARK = "_preview_guarded"
_DISCONNECT = {"type": "websocket.disconnect", "code": 1002}  # protocol error
_CLOSE_TIMEOUT = 5.0  # closing a socket, restarting a timer: in-memory steps, unless a bug waits
_WRAPPED = (
    "h11.chunk_header_re",
    "h11.request_head_reader",
    "H11Protocol._create_stream",
    "H11Protocol._send_error_response",
    "HTTPStream._send_error_response",
    "TCPServer._close",
    "TCPServer.protocol_send",
    "TCPServer.run",
    "WSStream.handle",
)


def installed() -> frozenset[str]:
    """The Hypercorn methods the guard wraps now (empty before :func:`install`)."""
    owners = {
        "H11Protocol": H11Protocol,
        "HTTPStream": HTTPStream,
        "TCPServer": TCPServer,
        "WSStream": WSStream,
    }
    found = set()
    if getattr(h11_readers.READERS.get((h11.CLIENT, h11.IDLE)), _MARK, False):
        found.add("h11.request_head_reader")
    if h11_readers.chunk_header_re.pattern == _CHUNK_HEADER:
        found.add("h11.chunk_header_re")
    for name in _WRAPPED:
        if name.startswith("h11."):
            continue
        owner, method = name.split(".")
        if getattr(getattr(owners[owner], method, None), _MARK, False):
            found.add(name)
    return frozenset(found)


def install() -> frozenset[str]:
    """Wrap Hypercorn's methods (once; later calls change nothing); what is wrapped."""
    if TCPServer is not None and _wrappable(TCPServer, "run", 1):
        _wrap(TCPServer, "run", _contained_run)
    if TCPServer is not None and _wrappable(TCPServer, "_close", 1):
        _wrap(TCPServer, "_close", _close_after_the_write)
    if TCPServer is not None and _wrappable(TCPServer, "protocol_send", 2):
        _wrap(TCPServer, "protocol_send", _closing_not_cut_short)
    if H11Protocol is not None and _wrappable(H11Protocol, "_create_stream", 2):
        _wrap(H11Protocol, "_create_stream", _ambiguous_length_refused)
    if H11Protocol is not None and _wrappable(H11Protocol, "_send_error_response", 2):
        _wrap(H11Protocol, "_send_error_response", _refusal_in_shape)
    if HTTPStream is not None and _wrappable(HTTPStream, "_send_error_response", 2):
        _wrap(HTTPStream, "_send_error_response", _failure_in_shape)
    if WSStream is not None and _wrappable(WSStream, "handle", 2):
        _wrap(WSStream, "handle", _early_data_closes)
    _strict_request_heads()
    wrapped = installed()
    if wrapped != set(_WRAPPED):
        _log.warning("Hypercorn's internals moved: connection guard has only %s", sorted(wrapped))
    return wrapped


# h11's own chunk-size line, its size at most 16 hex digits (2^64 bytes) instead of 20.
_CHUNK_HEADER = rb"(?P<chunk_size>([0-9A-Fa-f]){1,16})(?P<chunk_ext>;.*)?[ \t]*\r\n"


def _strict_request_heads() -> None:
    """h11's request-head reader and chunk-size line made as strict as the hot path's."""
    key = (h11.CLIENT, h11.IDLE)
    reader = h11_readers.READERS.get(key)
    chunk_header = getattr(h11_readers, "chunk_header_re", None)
    if chunk_header is not None and b"{1,20}" in chunk_header.pattern:
        h11_readers.chunk_header_re = re.compile(_CHUNK_HEADER)
    if not callable(reader) or getattr(reader, _MARK, False):  # (None, or a body's table)
        return
    if not hasattr(ReceiveBuffer(), "_data"):
        return

    @functools.wraps(reader)
    def read_request_head(buffer: Any) -> Any:
        # Only the head's bytes: a body, pipelined, may follow it in the buffer.
        head = bytes(buffer._data[: HEAD_LIMIT + 4])
        end = head.find(b"\r\n\r\n")
        refused = head_refusal(head if end < 0 else head[:end])
        if refused is not None:
            raise h11.LocalProtocolError("a request head refused", error_status_hint=refused)
        return reader(buffer)

    setattr(read_request_head, _MARK, True)
    h11_readers.READERS[key] = read_request_head


def _wrappable(owner: type, name: str, arguments: int) -> bool:
    method = getattr(owner, name, None)
    if getattr(method, _MARK, False):
        return True
    return (
        inspect.iscoroutinefunction(method)
        and len(inspect.signature(method).parameters) == arguments
    )


def _wrap(owner: type, name: str, make: Any) -> None:
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, _MARK, True)
    setattr(owner, name, wrapper)


def _contained_run(original: Any) -> Any:
    async def run(self: Any) -> None:
        try:
            await original(self)
        except* Exception as errors:
            # Hypercorn's run() has closed the stream in its finally; closing again is
            # harmless and covers a failure inside that close.
            _log.error("a connection failed; it was closed", exc_info=errors)
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(self.stream)

    return run


def _closing_not_cut_short(original: Any) -> Any:
    async def protocol_send(self: Any, event: Any) -> None:
        if isinstance(event, RawData):
            return await original(self, event)  # Hypercorn shields the write itself
        with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_TIMEOUT):
            await original(self, event)
        return None

    return protocol_send


def _close_after_the_write(original: Any) -> Any:
    async def _close(self: Any) -> None:
        if self.send_lock.statistics().owner is trio.lowlevel.current_task():
            return await original(self)  # from within a write: nothing else writes
        with trio.CancelScope(shield=True):
            with trio.move_on_after(_CLOSE_TIMEOUT):
                async with self.send_lock:
                    return await original(self)
            await trio.aclose_forcefully(self.stream)  # a write that does not end
        return None

    return _close


def _early_data_closes(original: Any) -> Any:
    async def handle(self: Any, event: Any) -> None:
        if (
            not isinstance(event, (Body, Data))
            or self.closed
            or self.app_put is None
            or self.handshake.accepted
        ):
            return await original(self, event)
        self.closed = True  # from here on the app's sends are dropped
        if self.state is ASGIWebsocketState.HANDSHAKE:
            # If the app's answer had already started, the connection just closes.
            with contextlib.suppress(h11.LocalProtocolError):
                await self._send_error_response(400)
        await self.app_put(_DISCONNECT)
        await self.send(StreamClosed(stream_id=self.stream_id))
        return None

    return handle


def _ambiguous_length_refused(original: Any) -> Any:
    async def _create_stream(self: Any, request: Any) -> None:
        names = {name.lower() for name, _ in request.headers}
        if b"content-length" not in names or b"transfer-encoding" not in names:
            return await original(self, request)
        # Answered here, in the task that reads the connection, so that nothing it
        # reads next (the body, a request behind it) is handled before the close.
        error = BadRequest(
            "A request may not carry both Content-Length and Transfer-Encoding.",
            code="ambiguous_body_length",
        )
        await _send_refusal(self, error)
        await self.send(Closed())
        return None

    return _create_stream


class _HeadTooLarge(PreviewError):
    status_code = 431
    default_code = "request_head_too_large"


class _CodingNotImplemented(PreviewError):
    status_code = 501
    default_code = "transfer_coding_not_implemented"


def _refusal_in_shape(original: Any) -> Any:
    async def _send_error_response(self: Any, status_code: int) -> None:
        # h11 hints 431 for a head past its limit and 400 for anything else it refuses.
        if status_code == 431:
            limit = self.config.h11_max_incomplete_size
            error: PreviewError = _HeadTooLarge(
                "The request line and headers are too large.",
                details={"limit": limit},
            )
        elif status_code in (400, 414):
            error = head_refused(status_code, line_limit=REQUEST_LINE_LIMIT, head_limit=HEAD_LIMIT)
        elif status_code == 501:  # h11's: a Transfer-Encoding other than chunked alone
            error = _CodingNotImplemented(
                "The request's Transfer-Encoding is not implemented: only chunked is."
            )
        else:
            return await original(self, status_code)
        await _send_refusal(self, error)  # Hypercorn's caller closes the connection
        return None

    return _send_error_response


def _failure_in_shape(original: Any) -> Any:
    async def _send_error_response(self: Any, status_code: int) -> None:
        if status_code != 500:  # (404: a server name not served, which we never set)
            return await original(self, status_code)
        failure = PreviewError("The service failed to handle this request; it has been logged.")
        status, headers, body = error_response(failure)
        fields = [(name.lower().encode(), value.encode()) for name, value in headers]
        fields += [(b"content-length", b"%d" % len(body)), (b"connection", b"close")]
        await self.send(Response(stream_id=self.stream_id, headers=fields, status_code=status))
        await self.send(Body(stream_id=self.stream_id, data=body))
        await self.send(EndBody(stream_id=self.stream_id))
        self.state = ASGIHTTPState.CLOSED
        took = time.time() - self.start_time
        await self.config.log.access(self.scope, {"status": status, "headers": []}, took)
        return None

    return _send_error_response


async def _send_refusal(protocol: Any, error: PreviewError) -> None:
    """``error`` in the error shape as the connection's last answer (``Connection:
    close``), sent by the task that reads it, in one write: the connection is closed
    right after, and a close that meets a body still to be written (the client's bytes
    unread make it a reset) cut the answer after its head."""
    status, headers, body = error_response(error)
    fields = [(name.lower().encode(), value.encode()) for name, value in headers]
    fields = [field for field in fields if field[0] != b"connection"]
    fields += [(b"content-length", b"%d" % len(body)), (b"connection", b"close")]
    fields += protocol.config.response_headers("h11")
    events = (h11.Response(status_code=status, headers=fields), h11.Data(data=body))
    try:
        data = b"".join(protocol.connection.send(event) for event in (*events, h11.EndOfMessage()))
    except h11.LocalProtocolError:  # as Hypercorn's own sends: the answer had begun
        if protocol.connection.their_state != h11.ERROR:
            raise
        return
    await protocol.send(RawData(data=data))
