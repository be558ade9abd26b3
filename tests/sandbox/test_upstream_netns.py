"""A sandboxed app's connections made inside its network namespace (``Upstream.use_netns``),
kept alive in its own pool, with no forwarder in between."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import httpcore
import httpx
import pytest
import trio

from preview.runtime import upstream as upstream_module
from preview.runtime.upstream import POOL_SIZE, Upstream, UpstreamRouter
from preview.sandbox.netns import can_enter_netns

# Answers every request on a connection with that connection's number (keep-alive).
_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    count = 0
    async def serve(reader, writer):
        global count
        count += 1
        number = str(count).encode()
        while True:
            try:
                await reader.readuntil(b"\\r\\n\\r\\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            head = b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(number)
            writer.write(head + number)
            await writer.drain()
        writer.close()
    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
        print("ready", flush=True)
        await server.serve_forever()
    asyncio.run(main())
    """
)
_PORT = 18080  # inside a namespace of its own: never taken

pytestmark = pytest.mark.skipif(
    not can_enter_netns() or shutil.which("unshare") is None or shutil.which("ip") is None,
    reason="needs CAP_SYS_ADMIN, unshare and ip",
)


@pytest.fixture
def app_in_netns() -> Iterator[subprocess.Popen[str]]:
    """The server above, alone in a new network namespace (its loopback up)."""
    command = f'ip link set lo up && exec "{sys.executable}" -c "$0" {_PORT}'
    process = subprocess.Popen(
        ["unshare", "--net", "sh", "-c", command, _SERVER],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()


def _netns_of(process: subprocess.Popen[str]) -> int:
    return os.open(f"/proc/{process.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def test_httpcore_internals_it_leans_on() -> None:
    """``Upstream.transport`` swaps httpx's httpcore pool for one of its own and wraps
    its streams in httpcore's trio stream: if either moves, this fails (else calls
    would fall back to the forwarder without anyone noticing)."""
    assert upstream_module.TrioStream is not None
    transport = httpx.AsyncHTTPTransport()
    assert isinstance(transport._pool, httpcore.AsyncConnectionPool)
    upstream = Upstream(8000, "/nonexistent/http.sock")
    pool = upstream.transport()._pool
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, upstream_module._UpstreamBackend)
    assert pool._max_connections == POOL_SIZE


async def test_calls_are_made_in_the_namespace_and_kept_alive(
    app_in_netns: subprocess.Popen[str],
) -> None:
    # The socket path does not exist: a call through the forwarder would fail.
    upstream = Upstream(_PORT, "/nonexistent/http.sock")
    upstream.use_netns(_netns_of(app_in_netns))
    assert upstream.in_netns
    client = httpx.AsyncClient(transport=UpstreamRouter(httpx.AsyncHTTPTransport()))
    try:
        with trio.fail_after(30):
            answers = []
            for _ in range(5):
                request = client.build_request(
                    "GET", upstream.url("/"), extensions=upstream.extensions
                )
                response = await client.send(request)
                answers.append((response.status_code, response.text))
            assert answers == [(200, "1")] * 5  # one connection, kept alive

            async def call(results: list[str]) -> None:
                request = client.build_request(
                    "GET", upstream.url("/"), extensions=upstream.extensions
                )
                results.append((await client.send(request)).text)

            results: list[str] = []
            async with trio.open_nursery() as nursery:
                for _ in range(30):
                    nursery.start_soon(call, results)
            assert len(results) == 30
            assert len(set(results)) <= 30  # new connections, made in the namespace too
    finally:
        await client.aclose()
        await upstream.aclose()
    assert not upstream.in_netns  # the namespace's descriptor is closed with it


async def test_after_close_no_connection_is_made(app_in_netns: subprocess.Popen[str]) -> None:
    upstream = Upstream(_PORT, "/nonexistent/http.sock")
    upstream.use_netns(_netns_of(app_in_netns))
    await upstream.aclose()
    with trio.fail_after(30), pytest.raises(ConnectionRefusedError):
        await upstream.open_stream()


async def test_a_client_of_its_own_connects_in_the_namespace_before_the_forwarder(
    app_in_netns: subprocess.Popen[str],
) -> None:
    """Readiness can pass inside the namespace before the sandbox's forwarder has made
    its socket; the clients of the health checks, the smoke check and the tests, made
    right after, reach the app all the same (they went through the socket alone, and
    failed with "the preview's socket: No such file or directory")."""
    upstream = Upstream(_PORT, "/nonexistent/http.sock")
    upstream.use_netns(_netns_of(app_in_netns))
    try:
        with trio.fail_after(30):
            async with upstream.client(timeout=10) as client:
                first = await client.get(upstream.url("/"))
                second = await client.get(upstream.url("/"))
            assert (first.status_code, second.status_code) == (200, 200)
            assert first.text == second.text  # one connection, kept alive
    finally:
        await upstream.aclose()


async def test_a_client_of_its_own_without_a_way_in_fails_as_an_http_error() -> None:
    """No namespace and no socket yet: an ``httpx.ConnectError`` when it calls (the
    health loop counts it as a failed check), never an ``OSError``."""
    upstream = Upstream(_PORT, "/nonexistent/http.sock")
    try:
        with trio.fail_after(30):
            async with upstream.client(timeout=10) as client:
                with pytest.raises(httpx.ConnectError, match="No such file"):
                    await client.get(upstream.url("/"))
    finally:
        await upstream.aclose()
