"""Readiness: when does a freshly spawned child count as answering HTTP?"""

from __future__ import annotations

import httpx
import psutil
import trio

from .httpclients import local_client

__all__ = ["wait_until_answering"]

# Short backoff: a connect to a closed loopback port costs microseconds, and `running`
# should be reported within a few milliseconds of the child's first answer.
_PROBE_MIN, _PROBE_MAX = 0.002, 0.005


async def wait_until_answering(process: trio.Process, port: int, path: str) -> bool:
    """Probe ``127.0.0.1:port`` until it answers HTTP; False if the child exits first.

    Any HTTP status counts as an answer. It counts only while the child (or one of its
    descendants) holds the listening socket, so a foreign server on the same port is
    never mistaken for the preview.
    """
    url = f"http://127.0.0.1:{port}{path}"
    delay = _PROBE_MIN
    owned = False
    async with local_client(timeout=2.0) as client:
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
            delay = min(delay * 2, _PROBE_MAX)
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
