"""Readiness and health: when does a freshly spawned child count as answering HTTP, which
path tells whether it is healthy, and is it?"""

from __future__ import annotations

import httpx
import psutil
import trio

from ..discovery import endpoints_from_source
from ..proxy import Upstream
from .child import ChildProcess

__all__ = ["HEALTH_PATHS", "default_health_path", "is_healthy", "wait_until_answering"]

# The paths apps conventionally answer health checks on, most specific first.
HEALTH_PATHS = ("/health", "/healthz", "/livez", "/readyz", "/api/health", "/ping", "/status")


def default_health_path(files: dict[str, bytes]) -> str | None:
    """A health path the app declares (a GET route from its source), else None: then a
    TCP connect is the health check, and the app's log gets no probe line per check."""
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
                # Checked once, before the first HTTP probe: finding the socket's owner
                # reads the machine's socket table (milliseconds).
                owned = owned or await trio.to_thread.run_sync(_group_listens_on, process.pid, port)
                if owned:
                    try:
                        await client.get(url)
                    except httpx.HTTPError:
                        pass
                    else:
                        return True
            if process.poll() is not None:
                break
            await trio.sleep(delay)
            delay = _next_delay(delay, began)
    return False


async def _wait_through_socket(process: ChildProcess, upstream: Upstream, path: str) -> bool:
    # One bare request per probe (a socket, no HTTP client: they run every few ms, on
    # the CPU the starting app needs); the forwarder closes it at once while the app
    # is not listening, and any HTTP status line means it answers.
    assert upstream.socket_path is not None
    request = f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{upstream.port}\r\n\r\n".encode()
    delay, began = _PROBE_MIN, trio.current_time()
    while process.poll() is None:
        with trio.move_on_after(2.0):
            if await _answers(upstream, request):
                return True
        await trio.sleep(delay)
        delay = _next_delay(delay, began)
    return False


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
    try:
        root = psutil.Process(pid)
        if _listens_on(root, port):  # the common case: no need to list descendants
            return True
        return any(_listens_on(child, port) for child in root.children(recursive=True))
    except psutil.Error:
        return False


def _listens_on(process: psutil.Process, port: int) -> bool:
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
