"""A WebSocket open on a process that a revision replaced is not cut when its other
calls are done: the process is kept until the WebSocket closes (at most a bound the
log states), then stopped; the preview's stop does not wait for it."""

from __future__ import annotations

from contextlib import asynccontextmanager

import psutil
import trio
import trio_websocket

from ..conftest import Service, auth, eventually
from ..proxy.test_origins import TARGET, UVICORN, _files


def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@asynccontextmanager
async def _websocket_across_a_swap(service: Service):
    """A WebSocket opened on revision 1's process, held while revision 2 is applied:
    yields (gid, the launch's answer, the WebSocket)."""
    gid = await service.upload(_files(TARGET))
    launched = (await service.launch(gid, command=UVICORN)).json()
    assert launched["status"] == "running", launched.get("errorMessage")
    host, port = service.url.removeprefix("http://").split(":")
    headers = [
        (b"Authorization", auth()["Authorization"].encode()),
        (b"X-Preview-Token", launched["previewToken"].encode()),
    ]
    resource = f"/api/generations/{gid}/preview/proxy/ws"
    async with trio_websocket.open_websocket(
        host, int(port), resource, use_ssl=False, extra_headers=headers
    ) as ws:
        await ws.send_message("one")
        assert await ws.get_message() == "echo one from /ws"
        posted = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"notes.txt": "revision 2"}},
            headers=auth(),
        )
        assert posted.json()["applied"] is True, posted.text
        yield gid, launched, ws


async def test_a_websocket_on_the_replaced_process_lasts_until_it_closes(
    service: Service,
) -> None:
    with trio.fail_after(120):
        async with _websocket_across_a_swap(service) as (gid, launched, ws):
            old_pid = launched["processId"]
            runtime = service.supervisor.get(launched["previewInstanceId"])
            assert runtime is not None
            kept = "revision 1: 1 WebSocket still open on its process, which stops once"
            await eventually(lambda: any(kept in e.message for e in runtime.broadcast.recent()))
            await ws.send_message("two")  # still the old process's, still answering
            assert await ws.get_message() == "echo two from /ws"
            assert not _gone(old_pid)
        await eventually(lambda: _gone(old_pid))
        status = (
            await service.client.get(f"/api/generations/{gid}/preview/status", headers=auth())
        ).json()
        assert status["status"] == "running" and status["revision"] == 2
        assert (await service.stop(gid)).status_code == 200


async def test_a_stop_while_a_websocket_holds_the_replaced_process_ends_both(
    service: Service,
) -> None:
    with trio.fail_after(120):
        async with _websocket_across_a_swap(service) as (gid, launched, _ws):
            old_pid = launched["processId"]
            new_pid = (await service.status(gid))["processId"]
            assert not _gone(old_pid)
            # Well within the 60 s the WebSocket could keep it: the stop does not wait.
            with trio.fail_after(30):
                stopped = await service.stop(gid)
            assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
            assert _gone(old_pid) and _gone(new_pid)
