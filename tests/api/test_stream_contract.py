"""The log stream as the seeds' frontend reads it (issue 18): every line a default
``message`` (lifecycle included), ``end`` last, 204 once a finished stream has nothing
left, ``tail=N`` for a fresh subscriber."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio
import trio_websocket

from ..conftest import SERVER_COMMAND, Service, auth, eventually, read_sse, server_app

FAILING = server_app(
    before_serving="""
    say("booting")
    say("about to fail", sys.stderr)
    raise RuntimeError("no database configured")
    """
)


async def _failed_preview(service: Service) -> str:
    gid = await service.upload(FAILING)
    launched = await service.launch(gid, command=SERVER_COMMAND)
    assert launched.status_code == 200, launched.text
    assert launched.json()["status"] == "failed", launched.json()
    return gid


async def _stream(
    service: Service, gid: str, headers: dict[str, str] | None = None, **params: Any
) -> tuple[httpx.Response, list[tuple[str, dict[str, Any], int | None]]]:
    url = f"/api/generations/{gid}/preview/logs/stream"
    async with service.client.stream(
        "GET", url, headers={**auth(), **(headers or {})}, params=params
    ) as response:
        if response.status_code != 200:
            await response.aread()
            return response, []
        return response, await read_sse(response)


async def test_every_line_of_a_failed_launch_is_a_default_message_then_end(
    service: Service,
) -> None:
    with trio.fail_after(60):
        gid = await _failed_preview(service)
        response, events = await _stream(service, gid)
        history = await service.history(gid)
    assert response.status_code == 200
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["message"] * (len(events) - 1) + ["end"]
    messages = [data for _, data, _ in events[:-1]]
    assert messages == history  # each line once, in order, lifecycle ones included
    statuses = [data["status"] for data in messages if "status" in data]
    assert statuses[-1] == "failed", statuses
    assert any("RuntimeError: no database configured" in data["message"] for data in messages)
    assert events[-1][1]["status"] == "failed"
    assert events[-1][1]["lastEventId"] == messages[-1]["id"]


async def test_a_finished_stream_with_nothing_left_answers_204(service: Service) -> None:
    with trio.fail_after(60):
        gid = await _failed_preview(service)
        last_id = (await service.history(gid))[-1]["id"]
        for resume in (last_id, last_id + 5):
            response, _ = await _stream(service, gid, {"Last-Event-ID": str(resume)})
            assert response.status_code == 204, response.text
            assert response.content == b""
        response, _ = await _stream(service, gid, lastEventId=str(last_id))
        assert response.status_code == 204
        # One line left: that line, then end.
        response, events = await _stream(service, gid, {"Last-Event-ID": str(last_id - 1)})
        assert response.status_code == 200
        assert [(kind, event_id) for kind, _, event_id in events] == [
            ("message", last_id),
            ("end", None),
        ]


async def test_tail_gives_a_fresh_subscriber_only_the_last_lines(service: Service) -> None:
    with trio.fail_after(60):
        gid = await _failed_preview(service)
        last_id = (await service.history(gid))[-1]["id"]
        _, events = await _stream(service, gid, tail="2")
        assert [event_id for _, _, event_id in events] == [last_id - 1, last_id, None]
        response, _ = await _stream(service, gid, tail="0")
        assert response.status_code == 204
        # A reconnect resumes from its Last-Event-ID, whatever tail the URL asks for.
        _, events = await _stream(service, gid, {"Last-Event-ID": "1"}, tail="1")
        assert [event_id for _, _, event_id in events][:2] == [2, 3]
        response, _ = await _stream(service, gid, tail="many")
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_tail"


async def test_tail_on_a_running_preview_then_live_lines(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running"
        last_id = launched.json()["lastEventId"]
        runtime = service.supervisor.get(launched.json()["previewInstanceId"])

        async def stop_once_subscribed() -> None:
            await eventually(lambda: runtime.broadcast.subscriber_count == 1)
            await service.stop(gid)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop_once_subscribed)
            _, events = await _stream(service, gid, tail="1")
        assert events[0][2] == last_id
        rest = events[1:]
        assert rest[-1][0] == "end"
        ids = [event_id for _, _, event_id in rest[:-1]]
        assert ids == list(range(last_id + 1, last_id + 1 + len(ids))) and ids
        # Over now: a reconnect from the end gets 204 from the same decision.
        response, _ = await _stream(service, gid, {"Last-Event-ID": str(ids[-1])})
        assert response.status_code == 204


async def test_no_preview_is_no_active_preview_everywhere(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app())
        base = f"/api/generations/{gid}/preview"
        for method, path in (
            ("GET", "/status"),
            ("GET", "/logs"),
            ("GET", "/logs/stream"),
            ("DELETE", ""),
            ("POST", "/token"),
        ):
            response = await service.client.request(method, base + path, headers=auth())
            assert response.status_code == 404, (path, response.text)
            assert response.json()["error"] == "no_active_preview", path
        # Another user's generation: 404 as if unknown, never 403.
        response = await service.client.get(f"{base}/status", headers=auth("mallory"))
        assert response.status_code == 404
        assert response.json()["error"] == "generation_not_found"


async def test_websocket_tail_and_the_end_of_a_finished_preview(service: Service) -> None:
    with trio.fail_after(60):
        gid = await _failed_preview(service)
        last_id = (await service.history(gid))[-1]["id"]
        host, port = service.url.removeprefix("http://").split(":")
        frames = []
        async with trio_websocket.open_websocket(
            host,
            int(port),
            f"/api/generations/{gid}/preview/logs/ws?tail=2",
            use_ssl=False,
            extra_headers=[(b"Authorization", auth()["Authorization"].encode())],
        ) as ws:
            try:
                while True:
                    frames.append(json.loads(await ws.get_message()))
            except trio_websocket.ConnectionClosed as closed:
                assert closed.reason.code == 1000
    assert [frame.get("id") for frame in frames[:-1]] == [last_id - 1, last_id]
    assert frames[-1]["type"] == "end" and frames[-1]["status"] == "failed"
