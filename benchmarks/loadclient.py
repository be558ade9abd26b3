"""Lean load clients: SSE subscribers and keep-alive HTTP/1.1 requests, on raw sockets.

Each client runs in its own process (``multiprocessing``, spawn) with an asyncio loop
(uvloop when installed) and ``asyncio.Protocol`` connections: no HTTP library on the
hot path. A response is parsed by hand: status line, headers, chunked transfer encoding
(Hypercorn and uvicorn both stream with it), then SSE frames. The emitter's lines are
found in the raw frames with one regular expression (``bench <seq> <emit ns>``), so a
frame costs a ``finditer`` match, two ``int()`` and a few list operations.

A subscriber's socket is read with ``recvmsg`` from a reader callback (not a transport)
so that each read carries the kernel's receive timestamp (``SO_TIMESTAMPNS``): the time
the bytes reached this socket, which on loopback is when the server sent them. Latency is
measured twice, from that arrival time and from the time this process read the bytes;
the two differ by however late the client's own loop was, which is not the server's.
A read's timestamp is that of the last segment it takes, so in a chunked body each read
ends at the end of a chunk (its size line peeked first): when the client is late and
several chunks wait, each gets its own arrival time rather than the last one's.

Every client measures its own event-loop lag (a 5 ms timer's overshoot) and CPU time,
so a reader can tell whether a figure is the server's or the client's.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
import re
import resource
import socket
import struct
import time
from typing import Any

BENCH_LINE = re.compile(rb"bench (\d+) (\d+)")
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; not in every Python build
_TIMESPEC = struct.Struct("qq")
_ANCILLARY_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)
_READ_SIZE = 262144
_PEEK_SIZE = 16  # enough for a chunk-size line ("ffffffff\r\n")
_LINGER_RST = struct.pack("ii", 1, 0)
_LAG_TICK = 0.005
RECONNECT_DELAY = 0.1


def raise_nofile() -> int:
    """Raise the soft open-files limit to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def new_event_loop() -> tuple[asyncio.AbstractEventLoop, str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop(), "asyncio"
    return uvloop.new_event_loop(), "uvloop"


def percentile(sorted_values: Any, fraction: float) -> float | None:
    if not len(sorted_values):
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summary_us(values: Any) -> dict[str, float | None]:
    """p50 / p99 / max of microsecond samples, in milliseconds."""
    ordered = sorted(values)
    scale = 1000.0

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value / scale, 3)

    return {
        "p50": ms(percentile(ordered, 0.50)),
        "p99": ms(percentile(ordered, 0.99)),
        "max": ms(ordered[-1] if ordered else None),
        "n": len(ordered),
    }


class LagMonitor:
    """Overshoot of a 5 ms sleep: how late this process's loop runs its callbacks."""

    def __init__(self) -> None:
        self.samples = array.array("q")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def reset(self) -> None:
        self.samples = array.array("q")

    async def _run(self) -> None:
        clock = time.perf_counter
        while True:
            began = clock()
            await asyncio.sleep(_LAG_TICK)
            self.samples.append(int((clock() - began - _LAG_TICK) * 1e6))

    def stop(self) -> dict[str, float | None]:
        if self._task is not None:
            self._task.cancel()
        return summary_us(self.samples)


def _abort(transport: asyncio.BaseTransport | _TimestampedStream | None) -> None:
    """Close with RST (SO_LINGER 0): no TIME_WAIT pile-up across scenarios."""
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()


class Chunked:
    """Incremental decoder of HTTP/1.1 chunked transfer encoding."""

    __slots__ = ("_raw", "eof", "leftover", "remaining", "want_crlf")

    @property
    def pending_size_line(self) -> bool:
        """Part of a chunk-size line is buffered (the next read completes it)."""
        return bool(self._raw)

    def __init__(self) -> None:
        self._raw = b""
        self.remaining = 0
        self.want_crlf = False
        self.eof = False
        self.leftover = b""

    def feed(self, data: bytes) -> bytes:
        buf = self._raw + data if self._raw else data
        pos, end = 0, len(buf)
        out: list[bytes] = []
        while True:
            if self.remaining:
                take = min(self.remaining, end - pos)
                if take:
                    out.append(buf[pos : pos + take])
                pos += take
                self.remaining -= take
                if self.remaining:
                    break
                self.want_crlf = True
            if self.want_crlf:
                if end - pos < 2:
                    break
                pos += 2
                self.want_crlf = False
            newline = buf.find(b"\r\n", pos)
            if newline < 0:
                break
            size = int(buf[pos:newline].split(b";", 1)[0], 16)
            if size == 0:
                terminator = buf.find(b"\r\n", newline + 2)  # no trailers: one CRLF
                if terminator < 0:
                    break  # wait for it (rare); the size line stays in the buffer
                self.eof = True
                self.leftover = buf[terminator + 2 :]
                pos = end
                break
            pos = newline + 2
            self.remaining = size
        self._raw = buf[pos:] if pos < end else b""
        return b"".join(out) if len(out) != 1 else out[0]


def _parse_head(head: bytes) -> tuple[int, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


# -- SSE subscribers ------------------------------------------------------------------


class Subscriber:
    """One logical subscriber: what it saw of lines ``0..n-1`` across reconnects."""

    __slots__ = (
        "client",
        "complete",
        "dups",
        "ended",
        "frames_tail",
        "last_id",
        "reconnects",
        "seen",
        "transport",
        "unique",
    )

    def __init__(self, client: SubscriberClient, n_lines: int) -> None:
        self.client = client
        self.seen = bytearray(n_lines)
        self.unique = 0
        self.dups = 0
        self.last_id = 0
        self.ended = False
        self.complete = n_lines == 0
        self.reconnects = 0
        self.transport: _TimestampedStream | None = None
        self.frames_tail = b""

    def on_frames(self, complete: bytes, now_ns: int, arrival_ns: int) -> None:
        """Count the lines of ``complete`` frames read at ``now_ns``, arrived at ``arrival_ns``."""
        client = self.client
        seen = self.seen
        size = len(seen)
        latencies = client.latencies
        read_latencies = client.read_latencies
        count = 0
        for match in BENCH_LINE.finditer(complete):
            seq = int(match[1])
            if seq >= size:
                continue
            emitted = int(match[2])
            if seen[seq]:
                self.dups += 1
                if seen[seq] < 255:
                    seen[seq] += 1
                continue
            seen[seq] = 1
            count += 1
            latencies.append((arrival_ns - emitted) // 1000)
            read_latencies.append((now_ns - emitted) // 1000)
            if emitted < client.first_emit_ns:
                client.first_emit_ns = emitted
        if count:
            self.unique += count
            client.deliveries += count
            client.last_recv_ns = now_ns
            if client.first_recv_ns == 0:
                client.first_recv_ns = now_ns
            if self.unique >= size and not self.complete:
                self.complete = True
                client.subscriber_complete()
        at = complete.rfind(b"id: ")
        while at > 0 and complete[at - 1] not in (10, 13):
            at = complete.rfind(b"id: ", 0, at)
        if at >= 0:
            stop = at + 4
            while stop < len(complete) and 48 <= complete[stop] <= 57:
                stop += 1
            if stop > at + 4:
                self.last_id = int(complete[at + 4 : stop])
        if b"event: end" in complete:
            self.ended = True
            if not self.complete:
                self.complete = True
                client.subscriber_complete()


class _TimestampedStream:
    """A connected socket read by ``recvmsg`` from a loop reader, with arrival times.

    Offers the part of ``asyncio.Transport`` that the stream protocol uses (``write``
    of the small request, ``abort``, ``is_closing``, ``get_extra_info("socket")``) and
    calls ``protocol.data_received(data, arrival_ns)`` and, once, ``connection_lost``.
    """

    __slots__ = ("_closed", "_loop", "_protocol", "_sock")

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, protocol: Any) -> None:
        self._loop = loop
        self._sock = sock
        self._protocol = protocol
        self._closed = False
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        loop.add_reader(sock.fileno(), self._on_readable)
        protocol.connection_made(self)

    def get_extra_info(self, name: str) -> Any:
        return self._sock if name == "socket" else None

    def is_closing(self) -> bool:
        return self._closed

    def write(self, data: bytes) -> None:
        if self._sock.send(data) != len(data):  # a request head fits an empty send buffer
            raise ConnectionError("request not sent whole")

    def abort(self) -> None:
        self._close(None)

    def _close(self, exc: Exception | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._loop.call_soon(self._protocol.connection_lost, exc)

    def _on_readable(self) -> None:
        try:
            size = self._protocol.read_size(self._sock)
            data, ancillary, _flags, _address = self._sock.recvmsg(size, _ANCILLARY_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            self._close(error)
            return
        if not data:
            self._close(None)
            return
        arrival_ns = 0
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
                arrival_ns = seconds * 1_000_000_000 + nanoseconds
        self._protocol.data_received(data, arrival_ns)


class StreamProtocol:
    """One SSE response: head, chunked body, frames (see ``_TimestampedStream``)."""

    def __init__(self, subscriber: Subscriber, request: bytes, opened: asyncio.Future) -> None:
        self.sub = subscriber
        self.request = request
        self.opened = opened
        self.head = b""
        self.in_body = False
        self.chunked: Chunked | None = None
        self.carry = b""
        self.finished = False
        self.transport: _TimestampedStream | None = None

    def connection_made(self, transport: _TimestampedStream) -> None:
        self.transport = transport
        self.sub.transport = transport
        transport.write(self.request)

    def read_size(self, sock: socket.socket) -> int:
        """Bytes the next read should take: to the end of the current or next chunk."""
        chunked = self.chunked
        if chunked is None or chunked.eof or chunked.pending_size_line:
            return _READ_SIZE
        if chunked.remaining or chunked.want_crlf:
            return chunked.remaining + 2 if chunked.remaining else 2
        head = sock.recv(_PEEK_SIZE, socket.MSG_PEEK)
        line_end = head.find(b"\r\n")
        if line_end < 0:
            return _READ_SIZE
        size = int(head[:line_end].split(b";", 1)[0], 16)
        return min(_READ_SIZE, line_end + 2 + size + 2)  # a last chunk (0) ends in CRLF too

    def data_received(self, data: bytes, arrival_ns: int) -> None:
        now = time.time_ns()
        arrival = arrival_ns or now  # no timestamp (not Linux): the read time
        client = self.sub.client
        client.bytes_received += len(data)
        if not self.in_body:
            self.head += data
            cut = self.head.find(b"\r\n\r\n")
            if cut < 0:
                return
            status, headers = _parse_head(self.head[:cut])
            data, self.head = self.head[cut + 4 :], b""
            if status != 200:
                self.finished = True  # the opener retries; no second reconnect from here
                client.error(f"HTTP {status}")
                if not self.opened.done():
                    self.opened.set_exception(ConnectionError(f"HTTP {status}"))
                _abort(self.transport)
                return
            self.in_body = True
            if b"chunked" in headers.get(b"transfer-encoding", b""):
                self.chunked = Chunked()
            if not self.opened.done():
                self.opened.set_result(None)
        if self.chunked is not None:
            data = self.chunked.feed(data)
            if self.chunked.eof:  # the response is over (a dropped subscriber's is)
                self._frames(data, now, arrival)
                self._finish()
                return
        self._frames(data, now, arrival)

    def _frames(self, data: bytes, now: int, arrival: int) -> None:
        if not data:
            return
        buffer = self.carry + data if self.carry else data
        cut = buffer.rfind(b"\n\n")
        cut_crlf = buffer.rfind(b"\r\n\r\n")
        end = max(cut + 2 if cut >= 0 else -1, cut_crlf + 4 if cut_crlf >= 0 else -1)
        if end < 0:
            self.carry = buffer
            return
        self.carry = buffer[end:]
        self.sub.on_frames(buffer[:end], now, arrival)

    def _finish(self) -> None:
        """The stream ended: once, tell the client (which may resume), then hang up."""
        if self.finished:
            return
        self.finished = True
        self.sub.client.on_stream_closed(self.sub)
        _abort(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the headers"))
            return
        self._finish()


class SubscriberClient:
    """``count`` SSE subscribers of one URL, in this process."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.host: str = spec.get("host", "127.0.0.1")
        self.port: int = spec["port"]
        self.n_lines: int = spec["n_lines"]
        self.subscribers = [Subscriber(self, self.n_lines) for _ in range(spec["count"])]
        self.latencies = array.array("q")
        self.read_latencies = array.array("q")
        self.first_emit_ns = 1 << 62
        self.first_recv_ns = 0
        self.last_recv_ns = 0
        self.deliveries = 0
        self.bytes_received = 0
        self.errors: list[str] = []
        self.error_count = 0
        self.remaining = sum(1 for s in self.subscribers if not s.complete)
        self.all_complete = asyncio.Event()
        self.closing = False
        self.lag = LagMonitor()

    def request(self, last_id: int) -> bytes:
        lines = [f"GET {self.spec['path']} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.spec.get("headers", {}).items()]
        lines.append("Accept: text/event-stream")
        if last_id:
            lines.append(f"Last-Event-ID: {last_id}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < 5:
            self.errors.append(text)

    def subscriber_complete(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.all_complete.set()

    async def open(self, subscriber: Subscriber) -> None:
        loop = asyncio.get_running_loop()
        opened = loop.create_future()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (self.host, self.port))
            _TimestampedStream(
                loop, sock, StreamProtocol(subscriber, self.request(subscriber.last_id), opened)
            )
        except BaseException:
            sock.close()
            raise
        await opened

    def on_stream_closed(self, subscriber: Subscriber) -> None:
        subscriber.transport = None
        if self.closing or subscriber.ended or subscriber.complete:
            return
        subscriber.reconnects += 1
        asyncio.get_running_loop().create_task(self._reconnect(subscriber))

    async def _reconnect(self, subscriber: Subscriber) -> None:
        for attempt in range(20):
            await asyncio.sleep(RECONNECT_DELAY * (attempt + 1))
            if self.closing:
                return
            try:
                await self.open(subscriber)
                return
            except (OSError, ConnectionError) as error:
                self.error(f"reconnect: {error}")
        self.error("gave up reconnecting")

    async def connect_all(self) -> int:
        gate = asyncio.Semaphore(self.spec.get("connect_concurrency", 100))
        connected = 0

        async def one(subscriber: Subscriber) -> None:
            nonlocal connected
            async with gate:
                for attempt in range(5):
                    try:
                        await self.open(subscriber)
                        connected += 1
                        return
                    except (OSError, ConnectionError) as error:
                        self.error(f"connect: {error!r}")
                        await asyncio.sleep(0.05 * (attempt + 1))

        await asyncio.gather(*(one(s) for s in self.subscribers))
        return connected

    def close_all(self) -> None:
        self.closing = True
        for subscriber in self.subscribers:
            _abort(subscriber.transport)

    def result(self, wall: float, cpu: float, lag: dict[str, float | None]) -> dict[str, Any]:
        lost = [s.seen.count(0) for s in self.subscribers]
        return {
            "subscribers": len(self.subscribers),
            "deliveries": self.deliveries,
            "latencies_us": self.latencies.tobytes(),
            "read_latencies_us": self.read_latencies.tobytes(),
            "lost": lost,
            "dups": [s.dups for s in self.subscribers],
            "reconnects": sum(s.reconnects for s in self.subscribers),
            "ended": sum(1 for s in self.subscribers if s.ended),
            "first_emit_ns": self.first_emit_ns if self.deliveries else None,
            "first_recv_ns": self.first_recv_ns or None,
            "last_recv_ns": self.last_recv_ns or None,
            "bytes": self.bytes_received,
            "errors": self.errors,
            "error_count": self.error_count,
            "cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3),
            "lag_ms": lag,
        }


async def _subscribers_main(conn: Any, spec: dict[str, Any], loop_name: str) -> None:
    loop = asyncio.get_running_loop()
    client = SubscriberClient(spec)
    client.lag.start()
    commands: asyncio.Queue[Any] = asyncio.Queue()

    def on_command() -> None:
        while conn.poll():
            try:
                commands.put_nowait(conn.recv())
            except EOFError:
                loop.remove_reader(conn.fileno())
                commands.put_nowait(("close",))
                return

    loop.add_reader(conn.fileno(), on_command)
    began = time.perf_counter()
    connected = await client.connect_all()
    conn.send(
        (
            "connected",
            {
                "connected": connected,
                "seconds": round(time.perf_counter() - began, 3),
                "errors": client.errors,
                "loop": loop_name,
            },
        )
    )
    command = await commands.get()
    client.lag.reset()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if command[0] == "collect":
        timeout = command[1]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.all_complete.wait(), timeout)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    lag = client.lag.stop()
    client.close_all()
    loop.remove_reader(conn.fileno())
    os.set_blocking(conn.fileno(), True)  # uvloop made it non-blocking; results are big
    conn.send(("result", client.result(wall, cpu, lag)))
    await asyncio.sleep(0.05)


def subscriber_process(conn: Any, spec: dict[str, Any]) -> None:
    """Entry point of one subscriber process (``multiprocessing``, spawn context).

    Connects ``spec["count"]`` subscribers, sends ``("connected", info)``, then waits for
    ``("collect", timeout_s)`` (read until every subscriber has lines ``0..n_lines-1``
    or the timeout) or ``("close",)``, and sends ``("result", dict)``.
    """
    raise_nofile()
    loop, name = new_event_loop()
    try:
        loop.run_until_complete(_subscribers_main(conn, spec, name))
    finally:
        loop.close()


# -- HTTP requests --------------------------------------------------------------------


class RequestProtocol(asyncio.Protocol):
    """Keep-alive HTTP/1.1 responses, one at a time (content-length or chunked)."""

    def __init__(self) -> None:
        self.buf = b""
        self.waiter: asyncio.Future[int] | None = None
        self.status = 0
        self.mode = ""
        self.remaining = 0
        self.chunked: Chunked | None = None
        self.transport: asyncio.Transport | None = None
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        if self.lost is not None:
            self.waiter.set_exception(ConnectionError("connection lost"))
        else:
            self.transport.write(request)
        return self.waiter

    def _done(self) -> None:
        self.mode = ""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.status)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.buf:
            if not self.mode:
                cut = self.buf.find(b"\r\n\r\n")
                if cut < 0:
                    return
                self.status, headers = _parse_head(self.buf[:cut])
                self.buf = self.buf[cut + 4 :]
                if b"chunked" in headers.get(b"transfer-encoding", b""):
                    self.mode, self.chunked = "chunked", Chunked()
                else:
                    self.mode, self.remaining = "length", int(headers.get(b"content-length", 0))
            if self.mode == "length":
                if len(self.buf) < self.remaining:
                    return
                self.buf = self.buf[self.remaining :]
                self._done()
                continue
            assert self.chunked is not None
            self.chunked.feed(self.buf)
            self.buf = b""
            if not self.chunked.eof:
                return
            self.buf = self.chunked.leftover
            self._done()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("closed")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)


async def _requests_main(spec: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    host, port = spec.get("host", "127.0.0.1"), spec["port"]
    requests: list[bytes] = spec["requests"]
    count: int | None = spec.get("count")
    duration: float = spec.get("duration", 60.0)
    interval: float = spec.get("interval", 0.0)
    latencies = array.array("q")
    statuses: dict[int, int] = {}
    errors: list[str] = []
    issued = 0
    lag = LagMonitor()
    lag.start()
    deadline = time.perf_counter() + duration
    clock = time.perf_counter_ns

    async def worker() -> None:
        nonlocal issued
        if isinstance(port, str):  # a Unix socket's path (a sandboxed preview's)
            transport, protocol = await loop.create_unix_connection(RequestProtocol, port)
        else:
            transport, protocol = await loop.create_connection(RequestProtocol, host, port)
        sock = transport.get_extra_info("socket")
        if sock is not None and not isinstance(port, str):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while time.perf_counter() < deadline and (count is None or issued < count):
                request = requests[issued % len(requests)]
                issued += 1
                began = clock()
                try:
                    status = await protocol.send(request)
                except (OSError, ConnectionError) as error:
                    errors.append(repr(error))
                    return
                latencies.append((clock() - began) // 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if interval:
                    await asyncio.sleep(interval)
        finally:
            _abort(transport)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(spec.get("concurrency", 1))))
    wall = time.perf_counter() - wall0
    return {
        "requests": len(latencies),
        "wall_s": round(wall, 3),
        "rps": round(len(latencies) / wall, 1) if wall else None,
        "latency_ms": summary_us(latencies),
        "latencies_us": latencies.tobytes(),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors[:5],
        "cpu_s": round(time.process_time() - cpu0, 3),
        "lag_ms": lag.stop(),
    }


def request_process(conn: Any, spec: dict[str, Any]) -> None:
    """Entry point of a request-load process: sends ``("result", dict)`` when done.

    ``spec``: ``port``, ``requests`` (raw request bytes, cycled), ``concurrency``
    connections, stop after ``count`` requests or ``duration`` s, ``interval`` s pause
    between a connection's requests.
    """
    raise_nofile()
    loop, _ = new_event_loop()
    try:
        conn.send(("result", loop.run_until_complete(_requests_main(spec))))
    finally:
        loop.close()


def raw_request(
    method: str, path: str, host: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def spawn(target: Any, spec: dict[str, Any]) -> tuple[Any, Any]:
    """Start ``target(conn, spec)`` in a fresh process; returns (process, parent end)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, spec), daemon=True)
    process.start()
    child.close()
    return process, parent


def wait_message(conn: Any, kind: str, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise TimeoutError(f"no {kind!r} from a client process within {timeout:g} s")
    message = conn.recv()
    if message[0] != kind:
        raise RuntimeError(f"expected {kind!r}, got {message[0]!r}")
    return message[1]


def stop_process(process: Any) -> None:
    process.join(2)
    if process.is_alive():
        process.kill()
        process.join(2)
