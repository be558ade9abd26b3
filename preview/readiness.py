"""Readiness: when does a freshly spawned child count as answering HTTP?"""

from __future__ import annotations

import httpx
import psutil
import trio

__all__ = ["wait_until_answering"]

# Short backoff: a connect to a closed loopback port costs microseconds, and `running`
# should be reported within a few milliseconds of the child's first answer.
_PROBE_MIN, _PROBE_MAX = 0.002, 0.010


async def wait_until_answering(process: trio.Process, port: int, path: str) -> bool:
    """Probe ``127.0.0.1:port`` until it answers HTTP; False if the child exits first.

    Any HTTP status counts as an answer. It counts only while the child (or one of its
    descendants) holds the listening socket, so a foreign server on the same port is
    never mistaken for the preview.
    """
    url = f"http://127.0.0.1:{port}{path}"
    delay = _PROBE_MIN
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while process.poll() is None:
            try:
                await client.get(url)
            except httpx.HTTPError:
                pass
            else:
                if await trio.to_thread.run_sync(_group_listens_on, process.pid, port):
                    return True
            if process.poll() is not None:
                break
            await trio.sleep(delay)
            delay = min(delay * 2, _PROBE_MAX)
    return False


def _group_listens_on(pid: int, port: int) -> bool:
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return False
    for member in members:
        try:
            connections = member.net_connections(kind="tcp")
        except psutil.Error:
            continue
        for connection in connections:
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
                return True
    return False
