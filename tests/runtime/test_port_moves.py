"""A port taken by another process while the app was prepared (a build, a set-up step)
is replaced before the start, rather than failing the launch."""

from __future__ import annotations

import socket

import trio

from ..conftest import SERVER_COMMAND, Service, server_app

# A set-up step that holds the preview in its preparation until the test says go.
WAIT_FOR_GO = [
    "{python}",
    "-c",
    "import os, time\nwhile not os.path.exists('go'): time.sleep(0.01)",
]


async def test_port_taken_during_preparation_is_replaced(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        response = await service.launch(gid, wait=False, command=SERVER_COMMAND, setup=WAIT_FOR_GO)
        body = response.json()
        assert body["status"] == "starting"
        taken = body["port"]
        runtime = service.supervisor.get(body["previewInstanceId"])
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", taken))
            squatter.listen()
            await trio.to_thread.run_sync((runtime.temp_dir / "go").touch)
            await runtime.wait_settled()
            status = await service.status(gid)
            assert status["status"] == "running"
            assert status["port"] != taken
            assert (await service.app_get(status, "/")).text == "ok"
        events = await service.history(gid, source="system")
        assert any(f"port {taken} was taken meanwhile" in e["message"] for e in events)
        assert taken not in service.supervisor.ports.in_use
        assert (await service.stop(gid)).status_code == 200
