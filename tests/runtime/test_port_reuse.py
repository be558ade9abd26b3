"""The port pool hands out only ports a fresh bind takes, and a one-port pool serves a
stop and the next launch back to back, whatever the apps' sockets did."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
import trio

from preview.errors import Unavailable
from preview.runtime import PortPool, free_port_block

from ..conftest import SERVER_COMMAND, auth, example_files, running_service, server_app

# http.server's HTTPServer sets SO_REUSEADDR; many servers do not (socketserver's
# TCPServer, plain socket code). This one also answers HTTP/1.0 and closes first, which
# leaves its side of each connection in TIME_WAIT on the preview's port.
_NO_REUSE = server_app(
    before_serving="""
    class ThreadingHTTPServer(ThreadingHTTPServer):
        allow_reuse_address = False
    """
)


def _leave_time_wait(port: int) -> None:
    """A server with SO_REUSEADDR on ``port`` closes a connection first: TIME_WAIT."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
    accepted.close()  # the server's FIN first
    assert client.recv(1) == b""
    client.close()


def test_a_port_a_fresh_bind_cannot_take_goes_last() -> None:
    first = free_port_block(2, lowest=20000)
    _leave_time_wait(first)
    with socket.socket() as child, pytest.raises(OSError):  # what a child without
        child.bind(("127.0.0.1", first))  # SO_REUSEADDR meets: "address already in use"
    pool = PortPool(first, first + 1)
    assert pool.allocate() == first + 1  # not the lower port the old probe passed
    assert pool.allocate() == first  # the last resort: SO_REUSEADDR servers take it
    with socket.socket() as child:
        child.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        child.bind(("127.0.0.1", first))
        child.listen()
        with pytest.raises(Unavailable):
            PortPool(first, first).allocate()  # listened on: never


def test_ports_are_handed_out_least_recently_released_first() -> None:
    first = free_port_block(2, lowest=20000)
    pool = PortPool(first, first + 1)
    assert pool.allocate() == first
    pool.release(first)  # its connections may still hold it: the other port goes next
    assert pool.allocate() == first + 1
    assert pool.allocate() == first
    with pytest.raises(Unavailable):
        pool.allocate()


@pytest.mark.parametrize("sandbox", ["auto", "off"], ids=["sandbox-auto", "unsandboxed"])
async def test_back_to_back_stop_and_launch_on_one_port(settings, sandbox: str) -> None:
    """Each round launches, calls the app through the service, stops, and launches the
    other app on the same port at once: uvicorn (SO_REUSEADDR, keep-alive connections
    the service pools) and a server binding without SO_REUSEADDR.

    Unsandboxed too: a sandboxed app binds its port in a network namespace of its own,
    fresh for each preview, where no earlier socket can be in the way; only on the
    host's does the port's reuse happen at all.
    """
    one_port = replace(settings, port_max=settings.port_min, sandbox=sandbox)
    with trio.fail_after(120):
        async with running_service(one_port) as service:
            apps = [
                (await service.upload(example_files()), {}),
                (await service.upload(_NO_REUSE), {"command": SERVER_COMMAND}),
            ]
            for round_ in range(6):
                gid, options = apps[round_ % 2]
                launched = await service.launch(gid, **options)
                assert launched.status_code == 200, (round_, launched.text)
                body = launched.json()
                cause = (await service.status(gid))["errorMessage"]  # [Errno 98] on the old pool
                assert body["status"] == "running", (round_, cause)
                runtime = service.supervisor.get(body["previewInstanceId"])
                assert (runtime.confinement is None) == (sandbox == "off")
                for _ in range(3):  # through the service's proxy, as users call a preview
                    answer = await service.client.post(
                        f"/api/generations/{gid}/preview/request",
                        json={"method": "GET", "path": "/"},
                        headers={**auth(), "X-Preview-Token": body["previewToken"]},
                    )
                    assert answer.status_code == 200, answer.text
                stopped = await service.stop(gid)
                assert stopped.status_code == 200, stopped.text


async def test_a_failing_connection_closer_does_not_keep_the_port(caplog) -> None:
    first = free_port_block(1, lowest=20000)
    pool = PortPool(first, first)
    closed: list[int] = []

    async def broken(port: int) -> None:
        raise RuntimeError("internals moved")

    async def working(port: int) -> None:
        closed.append(port)

    pool.add_connection_closer(broken)
    pool.add_connection_closer(working)
    port = pool.allocate()
    with trio.fail_after(5):
        await pool.close_connections(port)
    pool.release(port)
    assert closed == [port] and "internals moved" in caplog.text
    assert pool.allocate() == port
