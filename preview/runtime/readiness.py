"""Readiness and health: when does a freshly spawned child count as answering HTTP, which
path tells whether it is healthy, and is it?"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import httpx
import trio

from ..sandbox.child import ChildProcess
from ..sandbox.netns import open_netns_of_child, socket_in_netns
from .upstream import Upstream, pin_socket

if TYPE_CHECKING:  # psutil (0.7 MiB) loads where a preview's processes are first used
    import psutil

__all__ = [
    "HEALTH_PATHS",
    "answers_through_socket",
    "default_health_path",
    "is_healthy",
    "wait_until_answering",
]

# The paths apps conventionally answer health checks on, most specific first.
HEALTH_PATHS = ("/health", "/healthz", "/livez", "/readyz", "/api/health", "/ping", "/status")


def default_health_path(files: dict[str, bytes]) -> str | None:
    """A health path the app declares (a GET route from its source), else None: then a
    TCP connect is the health check, and the app's log gets no probe line per check.
    Called in a worker thread: discovery is imported there, at the first launch."""
    from ..discovery import endpoints_from_source

    declared = {
        endpoint["path"].rstrip("/") or "/"
        for endpoint in endpoints_from_source(files)
        if endpoint.get("method") == "GET" and isinstance(endpoint.get("path"), str)
    }
    return next((path for path in HEALTH_PATHS if path in declared), None)


async def is_healthy(client: httpx.AsyncClient, upstream: Upstream, path: str | None) -> bool:
    """One health check: an answer below 400 on ``path`` (a 404 on a health path is no
    health); with no path, a port that accepts connections, or, sandboxed (where the
    forwarder accepts for the app), any HTTP answer at its root."""
    if path is None:
        if upstream.socket_path is None:
            return await _accepts_connections(upstream.port)
        try:
            await client.get(upstream.url("/"))
        except httpx.HTTPError:
            return False
        return True
    try:
        response = await client.get(upstream.url(path))
    except httpx.HTTPError:
        return False
    return response.status_code < 400


# Short backoff: a connect to a closed loopback port costs microseconds, and `running`
# should be reported within a few milliseconds of the child's first answer. A child
# slow to start is probed less often (a fiftieth of its wait so far, at most 50 ms): a
# sandboxed probe forks the forwarder, and a hundred starting previews probing every
# 5 ms cost the machine the CPU their imports need.
_PROBE_MIN, _PROBE_MAX, _PROBE_SLOWEST = 0.002, 0.005, 0.05
_EXIT_CHECK = 0.02  # how soon a child that exits while its first request waits is seen
_REFUSALS = 50  # bound before listen() follows bind(): microseconds, not 0.1 s
_DRAIN_TIME, _DRAIN_BYTES = 0.5, 1 << 20  # the rest of the first answer, read and dropped
# How long the first request, made in the app's network namespace once it listens, may go
# unanswered before probes of their own follow it (each bounded, as unsandboxed): Atitzz's
# Blog-Express-pg-sequelize left a request that came before its tables were made
# unanswered for good (its handler's catch only logs), and answered every one after.
_FIRST_ANSWER_TIME = 5.0


def _next_delay(delay: float, began: float) -> float:
    waited = trio.current_time() - began
    return min(_PROBE_SLOWEST, max(min(delay * 2, _PROBE_MAX), waited / 50))


async def wait_until_answering(process: ChildProcess, upstream: Upstream, path: str | None) -> bool:
    """Probe the app until it answers HTTP; False if the child exits first.

    Any HTTP status counts as an answer. Unsandboxed, it counts only while the child
    (or one of its descendants) holds the listening socket, so a foreign server on the
    same port is never mistaken for the preview. Sandboxed, nothing else can listen in
    the app's network namespace: the probe goes through its socket (the forwarder there
    closes the connection at once while the app is not listening yet).
    """
    if upstream.socket_path is not None:
        return await _wait_through_socket(process, upstream, path or "/")
    port = upstream.port
    url = upstream.url(path or "/")
    delay, began = _PROBE_MIN, trio.current_time()
    owned = False
    async with upstream.client(timeout=2.0) as client:
        while process.poll() is None:
            # A bare connect first: refused in microseconds while the child starts, so
            # probing often costs the starting child (and the machine) next to nothing.
            if await _accepts_connections(port):
                answered, owned = await _answers_if_owned(client, url, process.pid, port, owned)
                if answered:
                    return True
            if process.poll() is not None:
                break
            await trio.sleep(delay)
            delay = _next_delay(delay, began)
    return False


async def _answers_if_owned(
    client: httpx.AsyncClient, url: httpx.URL | str, pid: int, port: int, owned: bool
) -> tuple[bool, bool]:
    """(answered and owned, owned): whether the child's group holds the listening socket
    is learnt once, while the first request is under way rather than before it, since
    reading the socket table takes milliseconds (the kernel walks all of it)."""
    ownership: list[bool] = [owned]
    answered = False

    async def learn_owner(request: trio.CancelScope) -> None:
        ownership[0] = await trio.to_thread.run_sync(_group_listens_on, pid, port)
        if not ownership[0]:
            request.cancel()  # a foreign server: its answer, or its silence, is no news

    with trio.CancelScope() as request:
        async with trio.open_nursery() as nursery:
            if not owned:
                nursery.start_soon(learn_owner, request)
            try:
                await client.get(url)
            except httpx.HTTPError:
                pass
            else:
                answered = True
    return answered and ownership[0], ownership[0]


async def _wait_through_socket(process: ChildProcess, upstream: Upstream, path: str) -> bool:
    # One bare request (a socket, no HTTP client); any HTTP status line means the app
    # answers. First from a socket of the service's in the sandbox's network namespace
    # (where it may make one: the confinement then made no one-use forwarder), else
    # through the one-use forwarder, which waits inside
    # the sandbox for the port to open; if that says nothing (the app closed its first
    # connection unanswered), one request per probe through the forking forwarder,
    # which closes it at once while the app is not listening.
    assert upstream.socket_path is not None
    request = _probe_request(upstream, path)
    if upstream.ready_path is None:
        answered = await _first_answer_in_netns(process, upstream, request)
    else:
        answered = await _first_answer(process, upstream.ready_path, request)
    if answered is not None:
        return answered
    return await answers_through_socket(process, upstream, path)


async def _first_answer_in_netns(
    process: ChildProcess, upstream: Upstream, request: bytes
) -> bool | None:
    """From inside the sandbox's network namespace (see ``netns``), as unsandboxed:
    True once the app answers, False if the child exits first, None if the namespace
    cannot be entered or the first connection got no HTTP answer. Once it answered, the
    upstream makes its connections in that namespace too (``Upstream.use_netns``)."""
    while (netns := open_netns_of_child(process.pid)) is None:
        if process.poll() is not None:
            return False
        await trio.sleep(_PROBE_MIN)  # bwrap makes it within milliseconds of the spawn
    try:
        try:
            sock = await socket_in_netns(netns)
        except OSError:
            return None
        answered = await _answer_in(process, sock, upstream.port, request)
        if answered:
            upstream.use_netns(netns)
            netns = -1
        return answered
    finally:
        if netns >= 0:
            os.close(netns)


async def _answer_in(
    process: ChildProcess, sock: trio.socket.SocketType, port: int, request: bytes
) -> bool | None:
    delay, began = _PROBE_MIN, trio.current_time()
    with sock:
        while process.poll() is None:
            try:  # Linux lets a refused TCP socket connect again
                await sock.connect(("127.0.0.1", port))
            except OSError:
                await trio.sleep(delay)
                delay = _next_delay(delay, began)
                continue
            answered = await _answer_of(process, sock, request, _FIRST_ANSWER_TIME)
            if answered:
                await _drain(sock)
            return answered
    return False


async def _drain(sock: trio.socket.SocketType) -> None:
    """Read the rest of the answer before closing: a socket closed with unread data is
    reset, and an app whose write meets the reset logs a traceback (a line in the
    preview's log that nobody's request caused). Bounded: an app that keeps the
    connection open despite ``Connection: close`` is cut off after a moment."""
    received = 0
    with trio.move_on_after(_DRAIN_TIME):
        while received < _DRAIN_BYTES:
            try:
                chunk = await sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            received += len(chunk)


async def _first_answer(process: ChildProcess, ready_path: str, request: bytes) -> bool | None:
    """Through the one-use socket: True once the app answers, False if the child exits
    first, None if the answer was no HTTP (or the socket is not what it should be)."""
    sock = await _connect_when_listening(process, ready_path)
    if sock is None or isinstance(sock, bool):
        return sock
    with sock:
        return await _answer_of(process, sock, request)


async def _answer_of(
    process: ChildProcess, sock: trio.socket.SocketType, request: bytes, bound: float = 0.0
) -> bool | None:
    """True if ``request`` gets an HTTP answer on ``sock``, None if something else (or,
    given a ``bound``, nothing within that many seconds: the app listens, ``sock`` is
    connected to it), False if the child exits first (a forwarder holds the request until
    the port opens)."""
    try:
        await sock.send(request)
    except OSError:
        return None
    given_up = trio.current_time() + bound if bound else float("inf")
    while True:
        with trio.move_on_after(_EXIT_CHECK):
            try:
                head = await sock.recv(16)
            except OSError:
                return None
            return True if head.startswith(b"HTTP/") else None
        if process.poll() is not None:
            return False
        if trio.current_time() >= given_up:
            return None


async def _connect_when_listening(
    process: ChildProcess, ready_path: str
) -> trio.socket.SocketType | bool | None:
    """A connection to the one-use forwarder once it listens (a few ms after the spawn;
    its socket exists a moment before it listens); False if the child exits first, None
    if it never listens or is not a socket."""
    refused = 0
    while process.poll() is None:
        try:
            pinned = pin_socket(ready_path)
        except FileNotFoundError:
            await trio.sleep(_PROBE_MIN)
            continue
        except OSError:
            return None
        sock = trio.socket.socket(trio.socket.AF_UNIX)
        try:
            await sock.connect(f"/proc/self/fd/{pinned}")
        except ConnectionRefusedError:
            sock.close()
            refused += 1
            if refused > _REFUSALS:
                return None  # no forwarder behind it: probe the other way
            await trio.sleep(_PROBE_MIN)
            continue
        except OSError:
            sock.close()
            return None
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(pinned)
        return sock
    return False


async def answers_through_socket(process: ChildProcess, upstream: Upstream, path: str) -> bool:
    """Probe through ``upstream``'s socket until the app answers HTTP on ``path``; False
    if the child exits first (a forwarder just started: its socket may not be there).

    Where a probe of ``path`` goes unanswered (connected, no answer in its time), the
    probes alternate with a path no app routes (:data:`_NO_ROUTE`), which its framework
    answers (404) once it serves: amanda-wong's video-store-express's ``/`` handler only
    logs and never answers, and the start timed out though every other route answered."""
    assert upstream.socket_path is not None
    requests = (_probe_request(upstream, path), _probe_request(upstream, _NO_ROUTE))
    unanswered = 0
    delay, began = _PROBE_MIN, trio.current_time()
    while process.poll() is None:
        with trio.move_on_after(2.0) as bounded:
            if await _answers(upstream, requests[unanswered % 2]):
                return True
        unanswered += bounded.cancelled_caught
        await trio.sleep(delay)
        delay = _next_delay(delay, began)
    return False


# A path no app routes: any answer to it (its framework's 404) says the app serves HTTP.
_NO_ROUTE = "/.preview-readiness"


def _probe_request(upstream: Upstream, path: str) -> bytes:
    """One bare HTTP/1.0 request for ``path``, the connection closed after its answer."""
    host = f"127.0.0.1:{upstream.port}"
    return f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


async def _answers(upstream: Upstream, request: bytes) -> bool:
    with trio.socket.socket(trio.socket.AF_UNIX) as sock:
        try:
            await sock.connect(upstream.connect_path())
            await sock.send(request)
            return (await sock.recv(16)).startswith(b"HTTP/")
        except OSError:
            return False


async def _accepts_connections(port: int) -> bool:
    # A bare socket: open_tcp_stream's happy-eyeballs nursery costs 4x the CPU (about
    # 150 us against 40 here), and the probe runs every few ms while the child starts.
    with trio.socket.socket() as sock:
        try:
            await sock.connect(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _group_listens_on(pid: int, port: int) -> bool:
    import psutil

    try:
        root = psutil.Process(pid)
        if _listens_on(root, port):  # the common case: no need to list descendants
            return True
        return any(_listens_on(child, port) for child in root.children(recursive=True))
    except psutil.Error:
        return False


def _listens_on(process: psutil.Process, port: int) -> bool:
    import psutil

    # IPv4 first (what previews are told to bind); the IPv6 table only if needed.
    for kind in ("tcp4", "tcp6"):
        try:
            connections = process.net_connections(kind=kind)
        except psutil.Error:
            return False
        for connection in connections:
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
                return True
    return False
