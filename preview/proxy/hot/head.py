"""The hot path's HTTP/1.1 framing (``hot.path``, ``hot.upstream``): a strict parser of
the heads it serves, and the body framings it relays without decoding them.

Why not h11 here: h11 builds an event object, a state machine step and a validated
header list for every head and every piece of a body, about a fifth of the hot path's
CPU per call; the hot path needs the method, the target, the headers and the framing,
once. The parser is stricter than h11 (RFC 9112's grammar, no tolerance): a request
head it does not take whole (HTTP/1.0, obs-fold, a header name or value with bytes
outside the grammar, a repeated or malformed ``Content-Length``, a ``Transfer-Encoding``
other than ``chunked``) is not served here: Hypercorn (h11) gets the bytes and answers
it, or refuses it, as before. An answer of the app it cannot read is the app's protocol
error (502, ``httpx.RemoteProtocolError``), as h11's was.

Bodies are relayed as framed: a ``Content-Length`` body byte for byte, a chunked one
chunk for chunk (:class:`ChunkedScanner` only finds where it ends), a body delimited
by the end of the connection as it is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, final

from ..policy import caller_headers, response_headers

__all__ = [
    "HEAD_LIMIT",
    "REQUEST_LINE_LIMIT",
    "CallTarget",
    "ChunkedScanner",
    "HeadWriter",
    "RequestHead",
    "ResponseHead",
    "head_refusal",
    "parse_request",
    "parse_response",
]

# The longest request line and head served, on both paths (here and Hypercorn's, through
# ``transport.connection_guard``): nginx's 8 KiB line (``large_client_header_buffers``),
# Hypercorn's 16 KiB head (``h11_max_incomplete_size``).
REQUEST_LINE_LIMIT = 8192
HEAD_LIMIT = 16384
_BARE_LF = re.compile(rb"(?<!\r)\n")

_KEPT = 1024  # heads a HeadWriter remembers (then it starts again)
_KEPT_BYTES = 4096  # the longest head a HeadWriter remembers
_EXPOSURES = 64  # what one answer's head became for so many callers (then again)

_REQUEST_LINE = re.compile(rb"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) ([\x21-\x7e]+) HTTP/1\.1")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")
_FIELD_LINE = (
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*"
    rb"((?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?)[ \t]*\r\n"
)
_FIELD = re.compile(_FIELD_LINE)
_FIELDS = re.compile(rb"(?:" + _FIELD_LINE.replace(b"(", b"(?:").replace(b"(?:?:", b"(?:") + rb")*")
_DIGITS = re.compile(rb"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n]*)?")


def head_refusal(head: bytes) -> int | None:
    """The status a request's ``head`` (up to its blank line, or what came of it so
    far) is refused with, at once: 400 for a bare LF in it (RFC 9112 lets a recipient
    read one as a line's end, h11 does, and a proxy in front may not: two readings of one
    head), 414 for a request line past :data:`REQUEST_LINE_LIMIT`, 431 for a head past
    :data:`HEAD_LIMIT`; None while it may still be one to serve."""
    if _BARE_LF.search(head) is not None:
        return 400
    line_end = head.find(b"\r\n")
    if (line_end if line_end >= 0 else len(head)) > REQUEST_LINE_LIMIT:
        return 414
    if len(head) > HEAD_LIMIT:
        return 431
    return None


def _fields(block: bytes) -> list[tuple[bytes, bytes]] | None:
    """``(lowercased name, value)`` of each header line of ``block`` (each line ending
    with CRLF); None if one is malformed. Both passes are the regex engine's: the block
    checked whole, then its fields found (a line cannot hold a CRLF, so the fields found
    are the lines checked)."""
    if _FIELDS.fullmatch(block) is None:
        return None
    return [(name.lower(), value) for name, value in _FIELD.findall(block)]


def _length(values: list[bytes]) -> int | None:
    """The one ``Content-Length`` (repeats must agree); -1 if malformed."""
    if not values:
        return None
    first = values[0]
    if _DIGITS.fullmatch(first) is None or any(value != first for value in values):
        return -1
    return int(first)


class RequestHead:
    """A request head the hot path may serve: ``method``, ``target`` (bytes as sent),
    ``headers`` (lowercased names, values as sent, in order), the body's framing
    (``length``, ``chunked``) and ``size`` (the head's bytes, its blank line included)."""

    __slots__ = ("chunked", "headers", "length", "memo", "method", "named", "size", "target")

    def __init__(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.method, self.target, self.headers = method, target, headers
        self.named = dict(headers)  # the last of a repeated name, as ASGI readers take it
        self.length: int | None = None
        self.chunked = False
        self.size = 0
        # What the hot path makes of this head (its route, the head for the app): one
        # head read again (``HeadWriter.read_request``) is the same object, read-only.
        self.memo: dict[Any, Any] = {}


def parse_request(buffer: bytes, end: int) -> RequestHead | None:
    """The head ending at ``buffer[end:end + 4] == b"\\r\\n\\r\\n"``; None unless it is
    one the hot path takes (see the module doc)."""
    first = buffer.find(b"\r\n", 0, end)
    if first < 0:  # no header at all
        match, headers = _REQUEST_LINE.fullmatch(buffer, 0, end), []
    else:
        match = _REQUEST_LINE.fullmatch(buffer, 0, first)
        headers = _fields(buffer[first + 2 : end + 2]) if match is not None else None
    if match is None or headers is None:
        return None
    head = RequestHead(match[1], match[2], headers)
    head.size = end + 4
    named = head.named
    if b"content-length" not in named and b"transfer-encoding" not in named:
        return head  # no body (the common case)
    lengths = [value for name, value in headers if name == b"content-length"]
    codings = [value for name, value in headers if name == b"transfer-encoding"]
    if lengths and codings:
        return None  # refused by the connection guard
    if codings:
        if len(codings) != 1 or codings[0].lower() != b"chunked":
            return None
        head.chunked = True
    length = _length(lengths)
    if length is not None and (length < 0 or len(lengths) != 1):
        return None
    head.length = length
    return head


class ResponseHead:
    """The app's answer's head: ``status``, ``reason``, ``headers`` (as sent, names
    lowercased), its framing (``bodiless``; ``length``; ``chunked``; none of them: to the
    end of the connection) and whether the connection may carry another call (``reusable``)."""

    __slots__ = (
        "bodiless",
        "chunked",
        "failed",
        "headers",
        "length",
        "memo",
        "reason",
        "rest",
        "reusable",
        "status",
        "whole",
    )

    def __init__(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status, self.reason, self.headers = status, reason, headers
        self.length: int | None = None
        self.chunked = False
        self.bodiless = False
        self.reusable = True
        self.rest = b""  # read past the head (``hot.upstream.ask``)
        self.whole: bytes | None = None  # the whole body, when it was read with the head
        self.memo: dict[Any, Any] = {}  # shared by the copies of one head (``HeadWriter``)
        self.failed: Exception | None = None  # the read after the head's (``ask``)

    def copy(self) -> ResponseHead:
        """The same head for another answer (its own ``rest`` and ``whole``)."""
        new = _bare_response(ResponseHead)
        new.status, new.reason, new.headers = self.status, self.reason, self.headers
        new.length, new.chunked, new.bodiless = self.length, self.chunked, self.bodiless
        new.reusable, new.memo, new.rest, new.whole = self.reusable, self.memo, b"", None
        new.failed = None
        return new

    @property
    def status_code(self) -> int:  # the name h11's Response and httpx's use
        return self.status


_bare_response = object.__new__


def parse_response(head: bytes, method: bytes) -> ResponseHead | str:
    """The app's head (without its blank line), answering a ``method`` request; a
    sentence saying what is wrong with it otherwise."""
    first = head.find(b"\r\n")
    match = _STATUS_LINE.fullmatch(head, 0, first if first >= 0 else len(head))
    if match is None:
        return "the preview's answer does not start with an HTTP/1.x status line"
    headers = _fields(head[first + 2 :] + b"\r\n") if first >= 0 else []
    if headers is None:
        return "the preview's answer has a malformed header"
    response = ResponseHead(int(match[2]), match[3] or b"", headers)
    named = dict(headers)
    if b"connection" in named:
        connection = b",".join(value for name, value in headers if name == b"connection").lower()
        response.reusable = match[1] == b"1" and b"close" not in connection
    else:
        response.reusable = match[1] == b"1"
    status = response.status
    if method == b"HEAD" or status in (204, 304) or status < 200:
        response.bodiless = True
        return response  # no body, whatever its headers say
    if b"transfer-encoding" in named:
        codings = [value for name, value in headers if name == b"transfer-encoding"]
        if len(codings) != 1 or codings[0].lower() != b"chunked":
            return "the preview's answer has a transfer coding other than chunked"
        response.chunked = True
        return response
    length = None
    if b"content-length" in named:
        length = _length([value for name, value in headers if name == b"content-length"])
    if length is not None and length < 0:
        return "the preview's answer has a malformed Content-Length"
    response.length = length
    if length is None:
        response.reusable = False  # its end is the end of the connection
    return response


class ChunkedScanner:
    """Where a chunked body ends, read as it comes (its bytes are relayed unchanged).

    :meth:`feed` takes the next bytes read and returns how many of them belong to the
    body (all of them until its end); ``done`` once the last chunk and the trailer
    section are in. ``ValueError`` for a malformed body. ``data``: a list to keep the
    chunks' data in (``size``, its bytes), for a body read whole (the envelope's)."""

    __slots__ = ("_line", "_skip", "_trailer", "data", "done", "size")

    def __init__(self, data: list[bytes] | None = None) -> None:
        self._skip = 0  # bytes of the current chunk's data and its CRLF still to come
        self._line = b""  # a size or trailer line read in part
        self._trailer = False
        self.done = False
        self.data, self.size = data, 0

    def feed(self, data: bytes) -> int:
        at, size = 0, len(data)
        while at < size and not self.done:
            if self._skip:
                step = min(self._skip, size - at)
                body = max(0, min(step, self._skip - 2))  # of the chunk's data; then CRLF
                if self.data is not None and body:
                    self.data.append(data[at : at + body])
                    self.size += body
                if step > body:  # its CRLF, whole or in part: checked, as h11 does
                    first = 2 - (self._skip - body)
                    if data[at + body : at + step] != b"\r\n"[first : first + step - body]:
                        raise ValueError("a chunk's data does not end with CRLF")
                self._skip -= step
                at += step
                continue
            end = data.find(b"\n", at)
            if end < 0:
                self._line += data[at:]
                if len(self._line) > 4096:
                    raise ValueError("a chunk's size line is too long")
                return size
            line, self._line = self._line + data[at:end], b""
            at = end + 1
            if not line.endswith(b"\r"):
                raise ValueError("a chunk's line does not end with CRLF")
            line = line[:-1]
            if self._trailer:
                self.done = not line
                continue
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise ValueError("a malformed chunk size")
            length = int(match[1], 16)
            if length:
                self._skip = length + 2
            else:
                self._trailer = True
        return at


@final  # narrowed by `type(x) is` on the hot path
class CallTarget:
    """Where a call goes (its preview's ``runtime``, the app's path and query, the
    origin the browser called (``browser_origin``: what of the app's headers it sees) and
    the headers added to its answer (``added_headers``: given on the API's origin only)),
    with what it becomes there: made once per request head and preview
    (``RequestHead.memo``), the same for each call of it."""

    __slots__ = (
        "added_headers",
        "app_origin",
        "browser_origin",
        "child_path",
        "forwarded",
        "line",
        "method",
        "path_and_query",
        "query",
        "runtime",
        "way",
    )

    def __init__(
        self,
        runtime: Any,
        request: RequestHead,
        child_path: str,
        query: str,
        browser_origin: Any,
        scheme: str,
        host: str,
        added_headers: Sequence[tuple[str, str]],
    ) -> None:
        self.runtime, self.child_path, self.query = runtime, child_path, query
        self.browser_origin, self.added_headers = browser_origin, added_headers
        self.app_origin = not added_headers
        self.way = "origin" if self.app_origin else "proxy"
        self.method = request.method.decode()
        self.path_and_query = child_path + (f"?{query}" if query else "")
        self.line = b"%s %s HTTP/1.1\r\n" % (request.method, self.path_and_query.encode("latin-1"))
        # The forwarding headers but the client's address and the request id (a call's).
        self.forwarded = (
            f"X-Forwarded-Proto: {scheme}\r\nX-Forwarded-Host: {host}\r\nX-Request-ID: "
        ).encode("latin-1")


class _Raw:
    """The app's headers as ``policy.response_headers`` reads them (``.raw``)."""

    __slots__ = ("raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw


class HeadWriter:
    """The heads the hot path reads and writes. A client sends the same head on each of
    its calls and an app answers one path with the same one (but ``Date``, once a
    second): the parse of a head's bytes (:meth:`read_request`, :meth:`read_response`)
    and what ``policy``'s rules make of its headers are remembered (up to ``_KEPT``
    heads of each side, of under ``_KEPT_BYTES`` each whoever sent them, so some MiB at
    worst; one writer per ``HotPath``), so that a call's heads are a lookup and a few
    joins. Written: the request to the app and the answer to the
    caller, their headers by ``policy``'s rules (``caller_headers``, ``response_headers``
    for the ``browser_origin``) as ``request_headers`` and the ASGI path give them."""

    __slots__ = ("_answers", "_requests")

    def __init__(self) -> None:
        self._requests: dict[bytes, RequestHead | None] = {}
        self._answers: dict[tuple[bytes, bytes], ResponseHead | str] = {}

    def read_request(self, buffer: bytes, end: int) -> RequestHead | None:
        """:func:`parse_request`, remembered by the head's bytes (the same object for
        the same bytes: read-only)."""
        key = buffer if len(buffer) == end + 4 else buffer[: end + 4]
        try:
            return self._requests[key]
        except KeyError:
            pass
        found = parse_request(key, end)
        if end < _KEPT_BYTES:  # a long head is read each time (what is kept stays small)
            if len(self._requests) >= _KEPT:
                self._requests.clear()
            self._requests[key] = found
        return found

    def read_response(self, head: bytes, method: bytes) -> ResponseHead | str:
        """:func:`parse_response`, remembered by the head's bytes (a copy each time)."""
        key = (head, method)
        found = self._answers.get(key)
        if found is None:
            found = parse_response(head, method)
            if len(head) < _KEPT_BYTES:
                if len(self._answers) >= _KEPT:
                    self._answers.clear()
                self._answers[key] = found
        return found if type(found) is str else found.copy()  # type: ignore[union-attr]

    @staticmethod
    def request(
        head: RequestHead, line: bytes, forwarded: bytes, port: int, *, app_origin: bool
    ) -> bytes:
        """The head to the app: ``line`` (its request line), the caller's headers that
        go on, ``forwarded`` (the forwarding ones' lines), the body's framing."""
        found = head.memo.get(app_origin)
        if found is None:
            kept = caller_headers(
                [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers],
                app_origin=app_origin,
            )
            block = b"".join(
                [b"%s: %s\r\n" % (n.encode("latin-1"), v.encode("latin-1")) for n, v in kept]
            )
            framing = b"\r\n"
            if head.length is not None:
                framing = b"content-length: %d\r\n\r\n" % head.length
            elif head.chunked:
                framing = b"transfer-encoding: chunked\r\n\r\n"
            hostless = all(n.lower() != "host" for n, _ in kept)
            found = head.memo[app_origin] = (hostless, block, framing)
        hostless, block, framing = found
        if hostless:
            return b"".join((line, b"host: 127.0.0.1:%d\r\n" % port, block, forwarded, framing))
        return b"".join((line, block, forwarded, framing))

    @staticmethod
    def answer(response: ResponseHead, browser_origin: Any) -> bytes:
        """The app's headers that the caller gets (``browser_origin``: ``browser``'s), as
        header lines, without ``Content-Length`` (the framing is written apart)."""
        memo = response.memo
        block = memo.get(browser_origin)
        if block is None:
            if len(memo) >= _EXPOSURES:
                memo.clear()
            kept = response_headers(
                _Raw(response.headers),  # type: ignore[arg-type]
                relayed=True,
                as_sent=True,
                browser_origin=browser_origin,
            )
            block = memo[browser_origin] = b"".join(
                [
                    b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in kept
                    if name.lower() != "content-length"
                ]
            )
        return block
