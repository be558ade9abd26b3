"""Readiness: an unsandboxed child's own listening socket alone counts; an app that leaves
its first request unanswered is probed again."""

from __future__ import annotations

import sys

import trio

from preview.runtime import Upstream
from preview.runtime.readiness import wait_until_answering
from preview.sandbox.child import start_child

from ..conftest import Service
from ..launching import app_files, launched

_SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


async def _serve_http(listener: trio.SocketListener, probes: trio.MemorySendChannel) -> None:
    """A foreign server on the preview's port that answers every request with 200."""

    async def answer(stream: trio.SocketStream) -> None:
        async with stream:
            try:
                request = await stream.receive_some(4096)
                if request:  # not the bare connect that comes first
                    await probes.send(request)
                    await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except trio.BrokenResourceError:
                pass  # the probe gave up on a request it had learnt was not the child's

    await trio.serve_listeners(answer, [listener])


async def test_a_foreign_server_answering_on_the_port_is_not_the_child(tmp_path) -> None:
    """The first request goes out while the socket's owner is still being looked up:
    a foreign server's 200 must not make the child count as answering."""
    with trio.fail_after(30):
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        child = start_child(_SLEEPER, cwd=str(tmp_path), env={})
        probes_in, probes_out = trio.open_memory_channel[bytes](100)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_serve_http, listeners[0], probes_in)
            outcome: list[bool] = []
            decided = trio.Event()

            async def wait() -> None:
                outcome.append(await wait_until_answering(child, Upstream(port), "/health"))
                decided.set()

            nursery.start_soon(wait)
            # Probed and answered twice, and still not taken for the child.
            for _ in range(2):
                assert (await probes_out.receive()).startswith(b"GET /health ")
            assert outcome == []
            child._popen.kill()
            await child.wait()
            await decided.wait()
            nursery.cancel_scope.cancel()
        assert outcome == [False]
        child.close()


async def test_an_app_leaving_its_first_request_unanswered_comes_up(service: Service) -> None:
    """Atitzz's Blog-Express-pg-sequelize: the first request came before its tables were
    made, and its handler's catch only logged; sandboxed, the probe waited on it until the
    start-up timeout ("did not answer HTTP") though every later request was answered."""
    with trio.fail_after(60):
        body = await launched(service, app_files("node_first_request_unanswered"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["calls"] >= 2
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_app_whose_root_never_answers_comes_up(service: Service) -> None:
    """amanda-wong's video-store-express: its ``/`` handler only logs, so every probe of
    ``/`` waited unanswered to the start-up timeout; a path no route has is answered."""
    with trio.fail_after(90):
        body = await launched(service, app_files("node_root_never_answers"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/genres")).json() == {"path": "/genres"}
        assert (await service.stop(body["gid"])).status_code == 200
