"""Live log streams (SSE) and the history: fan-out, resume, slow subscribers, odd bytes."""

from __future__ import annotations

import contextlib
import gc
import json

import psutil
import trio
import trio_websocket

from preview import Settings

from ..conftest import (
    SERVER_COMMAND,
    Service,
    auth,
    emitter_app,
    eventually,
    follow_until_end,
    read_sse,
    running_service,
    server_app,
)

EMITTER = emitter_app("line")


async def _launch(service: Service, files: dict[str, str]) -> tuple[str, dict]:
    gid = await service.upload(files)
    body = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert body["status"] == "running", body
    return gid, body


async def test_two_subscribers_each_get_every_event_once_in_order(service: Service) -> None:
    with trio.fail_after(60):
        gid, body = await _launch(service, EMITTER)
        results: dict[int, list] = {}

        async def subscribe(index: int) -> None:
            async with service.client.stream(
                "GET", f"/api/generations/{gid}/preview/logs/stream", headers=auth()
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                assert response.headers["cache-control"] == "no-cache"
                assert response.headers["x-accel-buffering"] == "no"
                results[index] = await read_sse(response)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(subscribe, 0)
            nursery.start_soon(subscribe, 1)
            await _wait_for_subscribers(service, body["previewInstanceId"], 2)
            await service.app_get(body, "/emit?n=2000")
            await service.stop(gid)

        for events in results.values():
            assert events[-1][0] == "end"
            assert {kind for kind, _, _ in events[:-1]} == {"message"}  # onmessage sees all
            ids = [event_id for _, _, event_id in events[:-1]]
            assert ids == list(range(1, len(ids) + 1))
            lines = [data["message"] for _, data, _ in events if data.get("source") == "app"]
            assert lines == [f"line {n}" for n in range(2000)]
            assert [data["status"] for _, data, _ in events[:-1] if "status" in data] == [
                "running",
                "stopping",
                "stopped",
            ]
        assert results[0] == results[1]


async def _wait_for_subscribers(service: Service, preview_id: str, count: int) -> None:
    runtime = service.supervisor.get(preview_id)
    await eventually(lambda: runtime.broadcast.subscriber_count >= count)


async def test_reconnect_with_last_event_id_gets_exactly_the_missing_events(
    service: Service,
) -> None:
    with trio.fail_after(60):
        gid, body = await _launch(service, EMITTER)
        await service.app_get(body, "/emit?n=50")
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with service.client.stream("GET", url, headers=auth()) as response:
            first = await read_sse(response, until_end=False, limit=20)
        last_seen = first[-1][2]
        assert last_seen == 20
        await service.app_get(body, "/emit?n=10")
        await service.stop(gid)
        headers = {**auth(), "Last-Event-ID": str(last_seen)}
        async with service.client.stream("GET", url, headers=headers) as response:
            rest = await read_sse(response)
        ids = [event_id for _, _, event_id in rest[:-1]]
        assert ids[0] == 21 and ids == list(range(21, 21 + len(ids)))
        assert rest[-1][0] == "end" and rest[-1][1]["lastEventId"] == ids[-1]

        # After the preview ended, from the database (query parameter form).
        async with service.client.stream(
            "GET", url, params={"lastEventId": 40}, headers=auth()
        ) as response:
            after_end = await read_sse(response)
        assert [e[2] for e in after_end[:-1]] == list(range(41, ids[-1] + 1))
        assert after_end[-1][1]["status"] == "stopped"


async def test_replay_older_than_the_ring_comes_from_the_database(
    service: Service, settings
) -> None:
    object.__setattr__(settings, "max_log_lines", 100)
    with trio.fail_after(60):
        gid, body = await _launch(service, EMITTER)
        await service.app_get(body, "/emit?n=1000")
        runtime = service.supervisor.get(body["previewInstanceId"])
        await runtime.broadcast.wait_persisted(1000)
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with service.client.stream(
            "GET", url, headers={**auth(), "Last-Event-ID": "3"}
        ) as response:
            events = await read_sse(response, until_end=False, limit=runtime.broadcast.last_id - 3)
        assert [e[2] for e in events] == list(range(4, runtime.broadcast.last_id + 1))
        await service.stop(gid)


async def test_slow_subscriber_is_dropped_while_a_fast_one_keeps_receiving(
    service: Service, settings
) -> None:
    object.__setattr__(settings, "subscriber_buffer", 64)
    with trio.fail_after(90):
        gid, body = await _launch(service, EMITTER)
        runtime = service.supervisor.get(body["previewInstanceId"])
        url = f"/api/generations/{gid}/preview/logs/stream"
        slow_open = trio.Event()
        fast_open = trio.Event()
        fast_result: list = []
        fast_done = trio.Event()

        async def slow() -> None:
            # Sends the request, then reads nothing: a tiny receive buffer fills at once,
            # then the server's send buffer, then its channel.
            sock = trio.socket.socket()
            sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_RCVBUF, 4096)
            host, port = service.url.removeprefix("http://").split(":")
            await sock.connect((host, int(port)))
            request = (
                f"GET {url} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: {auth()['Authorization']}\r\n\r\n"
            )
            with sock:
                await sock.send(request.encode())
                slow_open.set()
                await trio.sleep_forever()

        async def fast() -> None:
            fast_result.append(await follow_until_end(service, gid, on_open=fast_open))
            fast_done.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(slow)
            await slow_open.wait()
            await _wait_for_subscribers(service, runtime.id, 1)
            nursery.start_soon(fast)
            await fast_open.wait()
            await service.app_get(body, "/emit?n=100000")
            await runtime.broadcast.wait_persisted(100000 + 2)
            await service.stop(gid)
            await fast_done.wait()
            nursery.cancel_scope.cancel()
        events, _ = fast_result[0]
        assert runtime.broadcast.dropped_count >= 1  # the slow one, at least
        ids = [event_id for _, _, event_id in events if event_id is not None]
        assert ids == list(range(1, len(ids) + 1)), "every event exactly once, in order"
        lines = [d["message"] for _, d, _ in events if d.get("source") == "app"]
        assert lines == [f"line {n}" for n in range(100000)]
        assert events[-1][0] == "end"


async def test_a_disconnected_client_leaves_nothing_behind(service: Service) -> None:
    with trio.fail_after(30):
        gid, body = await _launch(service, EMITTER)
        runtime = service.supervisor.get(body["previewInstanceId"])
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with service.client.stream("GET", url, headers=auth()) as response:
            await read_sse(response, until_end=False, limit=3)
            assert runtime.broadcast.subscriber_count == 1
        await eventually(lambda: runtime.broadcast.subscriber_count == 0)
        # Publishing after the disconnect reaches nobody and drops nobody.
        await service.app_get(body, "/emit?n=5000")
        assert runtime.broadcast.dropped_count == 0
        await service.stop(gid)


async def test_keepalive_comments_and_retry_hint(service: Service) -> None:
    with trio.fail_after(30):
        gid, _ = await _launch(service, server_app())
        url = f"/api/generations/{gid}/preview/logs/stream"
        seen: list[str] = []
        async with service.client.stream("GET", url, headers=auth()) as response:
            async for line in response.aiter_lines():
                seen.append(line)
                if line == ": keep-alive":
                    break
        assert seen[0] == "retry: 2000"
        await service.stop(gid)


async def test_odd_output_final_line_invalid_utf8_and_long_lines(
    service: Service, settings
) -> None:
    files = server_app(
        after_bind="""
        out = sys.stdout.buffer
        out.write(b"bad \\xff\\xfe bytes\\n")
        out.write(b"<script>alert(1)</script>\\r\\n")
        out.write(b"data: injected\\rid: 999\\n")
        out.write(b"x" * 40000 + b"\\n")
        out.write(b"tail without newline")
        out.flush()
        os._exit(1)  # (exit 0 before serving is a first run's set-up: started once more)
        """
    )
    with trio.fail_after(30):
        gid = await service.upload(files)
        await service.launch(gid, command=SERVER_COMMAND, wait=False)
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with service.client.stream("GET", url, headers=auth()) as response:
            events = await read_sse(response)
        app_lines = [d["message"] for _, d, _ in events if d.get("source") == "app"]
        assert app_lines[0] == "bad \ufffd\ufffd bytes"
        assert app_lines[1] == "<script>alert(1)</script>"
        assert app_lines[2] == "data: injected\rid: 999"
        pieces = app_lines[3:-1]
        limit = settings.max_line_bytes
        assert len(pieces) == -(-40000 // limit)
        assert all(p.endswith(" ⏎…") for p in pieces[:-1])
        assert "".join(p.removesuffix(" ⏎…") for p in pieces) == "x" * 40000
        assert app_lines[-1] == "tail without newline"
        stored = [e["message"] for e in await service.history(gid) if e["source"] == "app"]
        assert stored == app_lines


async def test_a_flood_of_100000_lines_all_lands_in_the_database(service: Service) -> None:
    files = server_app(
        after_bind="""
        for n in range(100000):
            sys.stdout.write(f"flood {n}\\n")
        sys.stdout.flush()
        """
    )
    with trio.fail_after(120):
        gid, body = await _launch(service, files)
        runtime = service.supervisor.get(body["previewInstanceId"])
        await runtime.broadcast.wait_persisted(100000)
        await service.stop(gid)
        assert await service.store.count_log_events(body["previewInstanceId"]) == (
            runtime.broadcast.last_id
        )
        flood = [e["message"] for e in await service.history(gid, q="flood ")]
        assert flood == [f"flood {n}" for n in range(100000)]


async def test_history_filters_and_downloads(service: Service) -> None:
    files = server_app(
        after_bind="""
        say("INFO:     plain info")
        say("WARNING:  careful 100%")
        say("ERROR:    broken a_b")
        say("an ERROR in the middle is not an error")
        """
    )
    with trio.fail_after(30):
        gid, _ = await _launch(service, files)
        stderr_lines = await service.history(gid, stream="stderr")
        assert stderr_lines == []  # the app printed everything on stdout
        assert len(await service.history(gid, stream="stdout")) == 4
        errors = await service.history(gid, level="ERROR", source="app")
        assert [e["message"] for e in errors] == ["ERROR:    broken a_b"]
        warn = await service.history(gid, level="warning,error", q="100%")
        assert [e["message"] for e in warn] == ["WARNING:  careful 100%"]
        assert await service.history(gid, q="a%b") == []
        middle = await service.history(gid, q="in the middle")
        assert middle[0]["level"] == "INFO"

        base = f"/api/generations/{gid}/preview/logs"
        text = await service.client.get(base, params={"format": "text"}, headers=auth())
        assert "attachment" in text.headers["content-disposition"]
        assert text.headers["content-type"] == "text/plain; charset=utf-8"  # one charset
        assert " ERROR [app/stdout] ERROR:    broken a_b\n" in text.text
        ndjson = await service.client.get(base, params={"format": "ndjson"}, headers=auth())
        assert len(ndjson.text.splitlines()) == len(await service.history(gid))
        assert ndjson.headers["content-type"] == "application/x-ndjson"

        for params, code in (
            ({"level": "LOUD"}, "invalid_level"),
            ({"limit": "0"}, "invalid_limit"),
            ({"after": "-1"}, "invalid_after"),
            ({"format": "xml"}, "invalid_format"),
        ):
            bad = await service.client.get(base, params=params, headers=auth())
            assert bad.status_code == 400 and bad.json()["error"] == code
        bad_resume = await service.client.get(
            f"{base}/stream", headers={**auth(), "Last-Event-ID": "abc"}
        )
        assert bad_resume.status_code == 400
        assert bad_resume.json()["error"] == "invalid_last_event_id"
        await service.stop(gid)


async def test_a_user_past_the_stream_bound_gets_429_until_one_of_theirs_ends(
    settings: Settings,
) -> None:
    """PREVIEW_MAX_STREAMS_PER_USER across SSE (fast, parked) and the WebSocket stream;
    a slot comes back when its stream ends, whichever way: the client leaving, the end
    event, the service stopping."""
    object.__setattr__(settings, "max_streams_per_user", 2)
    with trio.fail_after(60):
        async with running_service(settings) as service:
            streams = service.app.extensions["preview"].streams
            gid, _ = await _launch(service, server_app())
            url = f"/api/generations/{gid}/preview/logs/stream"
            first, second = contextlib.AsyncExitStack(), contextlib.AsyncExitStack()
            async with first, second:
                for stack in (first, second):
                    opened = await stack.enter_async_context(
                        service.client.stream("GET", url, headers=auth())
                    )
                    assert opened.status_code == 200
                assert streams.held("alice") == 2
                refused = await service.client.get(url, headers=auth())
                assert refused.status_code == 429, refused.text
                assert refused.headers["retry-after"] == "5"
                body = refused.json()
                assert body["status"] == "failed" and body["error"] == "too_many_streams"
                assert body["details"] == {"limit": 2} and body["message"]
                await _refused_websocket(service, gid)
                # One stream ends (its client leaves): a new one is accepted, then no more.
                await first.aclose()
                await eventually(lambda: streams.held("alice") == 1)
                async with service.client.stream("GET", url, headers=auth()) as again:
                    assert again.status_code == 200 and streams.held("alice") == 2
                    refused = await service.client.get(url, headers=auth())
                    assert refused.status_code == 429
            await eventually(lambda: streams.held("alice") == 0)

            # Ended by the preview's end event, and by the service stopping.
            async with trio.open_nursery() as nursery:

                async def follow() -> None:
                    async with service.client.stream("GET", url, headers=auth()) as response:
                        assert response.status_code == 200
                        assert (await read_sse(response))[-1][0] == "end"

                nursery.start_soon(follow)
                await eventually(lambda: streams.held("alice") == 1)
                assert (await service.stop(gid)).status_code == 200
            await eventually(lambda: streams.held("alice") == 0)
            gid, _ = await _launch(service, server_app())
            async with service.client.stream("GET", url, headers=auth()) as response:
                assert response.status_code == 200 and streams.held("alice") == 1
                await service.supervisor.aclose()
                assert (await read_sse(response))[-1][0] == "end"
            await eventually(lambda: streams.held("alice") == 0)


async def _refused_websocket(service: Service, gid: str) -> None:
    host, port = service.url.removeprefix("http://").split(":")
    resource = f"/api/generations/{gid}/preview/logs/ws"
    headers = [(b"Authorization", auth()["Authorization"].encode())]
    try:
        async with trio_websocket.open_websocket(
            host, int(port), resource, use_ssl=False, extra_headers=headers
        ):
            raise AssertionError("the WebSocket stream was accepted")
    except trio_websocket.ConnectionRejected as rejected:
        assert rejected.status_code == 429
        assert b'"too_many_streams"' in (rejected.body or b"")


async def test_a_plain_request_to_the_websocket_stream_and_the_reverse_say_so(
    service: Service,
) -> None:
    """Werkzeug's refusal of either ("The browser (or proxy) sent a request that this
    server could not understand", ``bad_request``) said nothing of what was wrong."""
    with trio.fail_after(20):
        gid = await service.upload({"main.py": "print('hi')\n"})
        plain = await service.client.get(f"/api/generations/{gid}/preview/logs/ws", headers=auth())
        assert plain.status_code == 400, plain.text
        assert plain.json()["error"] == "websocket_required", plain.json()
        assert "WebSocket handshake" in plain.json()["message"]
        host, port = service.url.removeprefix("http://").split(":")
        try:
            async with trio_websocket.open_websocket(host, int(port), "/api/health", use_ssl=False):
                raise AssertionError("a WebSocket was accepted on a route of plain requests")
        except trio_websocket.ConnectionRejected as rejected:
            assert rejected.status_code == 400
            refusal = json.loads(rejected.body or b"{}")
            assert refusal["error"] == "websocket_not_accepted", refusal


async def test_refused_streams_cost_nothing_that_outlives_them(settings: Settings) -> None:
    """5,000 streams refused (429) past the user's bound, 50 at a time, each on a
    connection of its own: each is closed by the service at once (it was kept alive,
    a socket each, until its keep-alive ran out), and the service's memory and file
    descriptors come back to what they were."""
    object.__setattr__(settings, "max_streams_per_user", 1)
    me = psutil.Process()
    with trio.fail_after(180):
        async with running_service(settings) as service:
            gid, _ = await _launch(service, server_app())
            url = f"/api/generations/{gid}/preview/logs/stream"
            host, port = service.url.removeprefix("http://").split(":")
            request = (
                f"GET {url} HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                f"{auth()['Authorization']}\r\n\r\n"
            ).encode()
            async with service.client.stream("GET", url, headers=auth()) as held:
                assert held.status_code == 200

                async def refused_ones(count: int) -> None:
                    for _ in range(count):
                        stream = await trio.open_tcp_stream(host, int(port))
                        async with stream:
                            await stream.send_all(request)
                            answer = b""
                            while chunk := await stream.receive_some(65536):
                                answer += chunk  # until the service closes it
                            assert answer.startswith(b"HTTP/1.1 429 "), answer[:200]

                # 50 at a time: past the listener's backlog (Hypercorn's 100), what a
                # burst of connections meets is the kernel's queue, not the service.
                async def refused(total: int) -> None:
                    async with trio.open_nursery() as nursery:
                        for _ in range(50):
                            nursery.start_soon(refused_ones, total // 50)

                await refused(1000)  # what a first burst leaves (caches, arenas) is kept
                gc.collect()
                fds, rss = me.num_fds(), me.memory_info().rss
                await refused(5000)
                gc.collect()
                assert me.num_fds() <= fds + 5
                assert me.memory_info().rss - rss < 8 * 2**20
            await service.stop(gid)
