"""The envelope proxy, the transparent proxy and WebSockets, against a real FastAPI child."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import trio
import trio_websocket

from preview.previewtokens import MAX_LIVE_TOKENS

from ..conftest import SERVER_COMMAND, Service, auth, eventually, server_app


def _envelope(service: Service, gid: str, token: str | None, **call):
    headers = auth()
    if token:
        headers["X-Preview-Token"] = token
    return service.client.post(
        f"/api/generations/{gid}/preview/request", json=call, headers=headers
    )


def _open_websocket(service: Service, resource: str):
    """A trio-websocket client to the service, signed in as alice."""
    host, port = service.url.removeprefix("http://").split(":")
    return trio_websocket.open_websocket(
        host,
        int(port),
        resource,
        use_ssl=False,
        extra_headers=[(b"Authorization", auth()["Authorization"].encode())],
    )


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error"] == code, body
    assert isinstance(body["message"], str) and isinstance(body["details"], dict)


async def test_envelope_json_text_binary_and_echo(running) -> None:
    service, gid, body = running
    token = body["previewToken"]
    with trio.fail_after(30):
        answer = (
            await _envelope(service, gid, token, method="GET", path="/json", query={"name": "trio"})
        ).json()
        assert answer["statusCode"] == 200 and answer["data"] == {"hello": "trio"}
        assert answer["headers"]["content-type"] == "application/json"
        assert answer["elapsedMs"] > 0 and answer["requestId"].startswith("req_")

        text = (await _envelope(service, gid, token, path="/text")).json()
        assert text["data"] == "plain text ✓"
        binary = (await _envelope(service, gid, token, path="/binary")).json()
        assert binary["dataEncoding"] == "base64"
        assert base64.b64decode(binary["data"]) == bytes(range(256))

        # The token may also travel inside the envelope's headers (seed 003).
        echo = (
            await _envelope(
                service,
                gid,
                None,
                method="POST",
                path="/echo?a=1",
                headers={"X-Preview-Token": token, "X-Custom": "yes"},
                body={"n": 1},
            )
        ).json()
        assert echo["statusCode"] == 200
        seen = echo["data"]
        assert seen["method"] == "POST" and seen["query"] == {"a": "1"}
        assert seen["body"] == '{"n": 1}'
        assert seen["headers"]["x-custom"] == "yes"
        assert seen["headers"]["content-type"] == "application/json"
        for stripped in ("authorization", "x-preview-token", "cookie"):
            assert stripped not in seen["headers"]
        assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert seen["headers"]["x-forwarded-proto"] == "http"
        assert seen["headers"]["x-request-id"] == echo["requestId"]
        assert seen["headers"]["host"] == f"127.0.0.1:{body['port']}"


async def test_the_service_never_keeps_a_childs_cookies(running) -> None:
    """The proxy's HTTP client is shared by every preview on 127.0.0.1: a cookie one
    child sets must reach only the caller, never a later call (of anybody)."""
    service, gid, body = running
    token = body["previewToken"]
    with trio.fail_after(60):
        set_cookie = (await _envelope(service, gid, token, path="/set-cookie")).json()
        assert "app_session=secret-of-this-user" in str(set_cookie["headers"]["set-cookie"])
        prefix = f"/api/generations/{gid}/preview/proxy"
        async with httpx.AsyncClient(base_url=service.url) as fresh:
            direct = await fresh.get(
                f"{prefix}/set-cookie", headers={**auth(), "X-Preview-Token": token}
            )
        # On the API's origin an app sets no cookie (tests/proxy/test_api_origin.py).
        assert direct.status_code == 200 and "set-cookie" not in direct.headers
        for _ in range(2):
            echo = (await _envelope(service, gid, token, path="/echo")).json()
            assert echo["statusCode"] == 200
            assert "cookie" not in echo["data"]["headers"]
            proxied = await service.client.get(
                f"{prefix}/echo", headers={**auth(), "X-Preview-Token": token}
            )
            assert "cookie" not in proxied.json()["headers"]


async def test_envelope_errors(running, settings) -> None:
    service, gid, body = running
    token = body["previewToken"]
    with trio.fail_after(60):
        _error(await _envelope(service, gid, None, path="/json"), 403, "missing_preview_token")
        _error(
            await _envelope(service, gid, "pvt_wrong", path="/json"), 403, "invalid_preview_token"
        )
        _error(await _envelope(service, gid, token, method="BREW", path="/"), 400, "invalid_method")
        for bad_path in ("json", "//evil.example/x", "/a\r\nInjected: 1", "http://evil/"):
            _error(await _envelope(service, gid, token, path=bad_path), 400, "invalid_path")
        too_long = await _envelope(service, gid, token, path="/" + "a" * 8192)
        _error(too_long, 400, "invalid_path")  # said as such, not as a bad character
        assert too_long.json()["message"] == "path is longer than 8192 characters.", too_long.text
        _error(
            await _envelope(
                service, gid, token, path="/json", headers={"X-Bad": "a\r\nInjected: yes"}
            ),
            400,
            "invalid_header",
        )
        _error(
            await _envelope(service, gid, token, path="/json", headers={"Bad Name": "x"}),
            400,
            "invalid_header",
        )
        object.__setattr__(settings, "proxy_timeout", 0.5)
        _error(
            await _envelope(service, gid, token, path="/slow", query={"seconds": 3}),
            504,
            "upstream_timeout",
        )
        object.__setattr__(settings, "proxy_max_response_bytes", 1000)
        _error(
            await _envelope(service, gid, token, path="/big", query={"size": 5000}),
            502,
            "response_too_large",
        )
        object.__setattr__(settings, "proxy_max_body_bytes", 100)
        _error(
            await _envelope(service, gid, token, method="POST", path="/echo", body="y" * 200),
            413,
            "request_body_too_large",
        )


async def test_envelope_bodies_the_fast_path_passes_on_arrive_whole(running, settings) -> None:
    """What the envelope's fast path does not answer reaches Quart with the body it had
    read: bodies that are not a call, and one past its reading limit, sent in chunks."""
    service, gid, body = running
    url = f"/api/generations/{gid}/preview/request"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    with trio.fail_after(30):
        for raw in (b"", b"not json", b"[1, 2]"):
            _error(
                await service.client.post(url, content=raw, headers=headers), 400, "invalid_json"
            )
        object.__setattr__(settings, "max_upload_bytes", 4096)
        call = json.dumps({"method": "POST", "path": "/echo", "body": "x" * 6000}).encode()

        async def chunks():
            for start in range(0, len(call), 1000):
                yield call[start : start + 1000]

        echoed = await service.client.post(url, content=chunks(), headers=headers)
        assert echoed.status_code == 200, echoed.text
        assert echoed.json()["data"]["body"] == "x" * 6000


async def test_the_host_cannot_be_changed_by_the_user(running) -> None:
    service, gid, body = running
    token = body["previewToken"]
    with trio.fail_after(30):
        for path in ("/@evil.example/echo", "/echo#@evil.example", "/echo?x=@evil:1"):
            answer = await _envelope(
                service, gid, token, path=path, headers={"Host": "evil.example"}
            )
            if answer.status_code == 200:
                echoed = answer.json()
                assert echoed["statusCode"] in (200, 404)
            else:
                _error(answer, 400, "invalid_path")


async def test_proxy_calls_appear_in_the_log_stream(running) -> None:
    service, gid, body = running
    url = f"/api/generations/{gid}/preview/logs/stream"
    with trio.fail_after(30):
        async with service.client.stream("GET", url, headers=auth()) as stream:
            lines = stream.aiter_lines()
            answer = (await _envelope(service, gid, body["previewToken"], path="/json")).json()
            proxy_events = []
            data_prefix = "data: "
            async for line in lines:
                if line.startswith(data_prefix):
                    event = json.loads(line[len(data_prefix) :])
                    if event["source"] == "proxy":
                        proxy_events.append(event)
                        break
        event = proxy_events[0]
        assert event["level"] == "INFO"
        assert event["message"].startswith("GET /json -> 200 in ")
        assert event["message"].endswith(f"[{answer['requestId']}]")
        history = await service.history(gid, source="proxy")
        assert [e["id"] for e in history] == [event["id"]]


async def test_not_running_is_503(service: Service) -> None:
    with trio.fail_after(30):
        gid = await service.upload({"app/main.py": "x", "requirements.txt": ""})
        not_running = await _envelope(service, gid, "pvt_x", path="/")
        _error(not_running, 503, "preview_not_running")
        assert int(not_running.headers["retry-after"]) > 0


async def test_transparent_proxy_streams_and_serves_docs(running) -> None:
    service, gid, body = running
    prefix = f"/api/generations/{gid}/preview/proxy"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    with trio.fail_after(30):
        docs = await service.client.get(f"{prefix}/docs", headers=headers)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert f"{prefix}/openapi.json" in docs.text
        spec = await service.client.get(f"{prefix}/openapi.json", headers=headers)
        assert "/json" in spec.json()["paths"]

        posted = await service.client.put(
            f"{prefix}/echo?q=1", content=b"raw body", headers=headers
        )
        assert posted.json()["method"] == "PUT" and posted.json()["body"] == "raw body"
        assert posted.json()["rootPath"] == prefix

        # Streaming stays incremental: the first chunk arrives before the last is made.
        async with service.client.stream(
            "GET", f"{prefix}/stream", params={"count": 3, "interval": 1.0}, headers=headers
        ) as response:
            began = trio.current_time()
            chunks = []
            async for chunk in response.aiter_text():
                chunks.append((trio.current_time() - began, chunk))
        assert "".join(c for _, c in chunks) == "chunk 0\nchunk 1\nchunk 2\n"
        assert chunks[0][0] < 0.9


async def test_a_caller_that_hangs_up_ends_the_call_to_the_app(running) -> None:
    service, gid, body = running
    prefix = f"/api/generations/{gid}/preview/proxy"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    with trio.fail_after(30):
        async with service.client.stream(
            "GET", f"{prefix}/stream", params={"count": 600, "interval": 0.05}, headers=headers
        ) as response:
            async for chunk in response.aiter_text():
                assert chunk.startswith("chunk 0")
                break
        # The app's answer would take 30 s more; it stops as soon as we hang up.
        url = f"/api/generations/{gid}/preview/logs/stream"
        async with service.client.stream("GET", url, headers=auth()) as log:
            async for line in log.aiter_lines():
                if "stream stopped after" in line:
                    break


async def test_transparent_proxy_token_in_query_becomes_a_path_cookie(running) -> None:
    service, gid, body = running
    prefix = f"/api/generations/{gid}/preview/proxy"
    with trio.fail_after(30):
        first = await service.client.get(
            f"{prefix}/json",
            params={"previewToken": body["previewToken"], "name": "q"},
            headers=auth(),
        )
        assert first.status_code == 303
        assert first.headers["location"] == f"{prefix}/json?name=q"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and f"Path={prefix}/" in cookie
        followed = await service.client.get(first.headers["location"], headers=auth())
        assert followed.json() == {"hello": "q"}
        async with httpx.AsyncClient(base_url=service.url, trust_env=False) as fresh:
            fresh.cookies.set("preview_token", "wrong")
            _error(await fresh.get(f"{prefix}/json", headers=auth()), 403, "invalid_preview_token")
            _error(await fresh.get(f"{prefix}/json"), 401, "missing_credentials")


async def test_websocket_proxy_both_directions_and_close_code(running) -> None:
    service, gid, body = running
    resource = f"/api/generations/{gid}/preview/proxy/ws?previewToken={body['previewToken']}"
    with trio.fail_after(30):
        async with _open_websocket(service, resource) as ws:
            await ws.send_message("ping")
            assert await ws.get_message() == "echo ping"
            await ws.send_message("close:4001")
            with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                await ws.get_message()
            assert closed.value.reason.code == 4001


async def test_websocket_log_stream(running) -> None:
    service, gid, _ = running
    resource = f"/api/generations/{gid}/preview/logs/ws?lastEventId=2"
    with trio.fail_after(30):
        async with _open_websocket(service, resource) as ws:
            first = json.loads(await ws.get_message())
            assert first["id"] == 3
            await service.stop(gid)
            frames = [first]
            with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                while True:
                    frames.append(json.loads(await ws.get_message()))
            assert closed.value.reason.code == 1000
        assert frames[-1]["type"] == "end" and frames[-1]["status"] == "stopped"
        ids = [f["id"] for f in frames[:-1]]
        assert ids == list(range(3, 3 + len(ids)))


async def test_websocket_log_subscriber_that_is_dropped_is_closed_with_1013(running) -> None:
    service, gid, body = running
    runtime = service.supervisor.get(body["previewInstanceId"])
    resource = f"/api/generations/{gid}/preview/logs/ws"
    with trio.fail_after(30):
        async with _open_websocket(service, resource) as ws:
            assert json.loads(await ws.get_message())["id"] == 1
            await eventually(lambda: runtime.broadcast.subscriber_count == 1)
            # What drop_laggards does to a subscriber stuck far behind.
            for subscriber in list(runtime.broadcast._subscribers):
                runtime.broadcast._drop(subscriber)
            with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                while True:
                    await ws.get_message()
            assert closed.value.reason.code == 1013
        assert runtime.broadcast.dropped_count == 1


async def test_upstream_reset_is_502_and_connection_named_headers_are_dropped(
    service: Service,
) -> None:
    files = server_app(
        before_serving="""
        class Resetting(Handler):
            def do_GET(self):
                if self.path == "/reset":
                    self.connection.shutdown(2)
                    self.close_connection = True
                    return
                if self.path == "/headers":
                    body = repr(sorted(k.lower() for k in self.headers.keys())).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "X-Child-Secret")
                    self.send_header("X-Child-Secret", "hidden")
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()
        Handler = Resetting
        """
    )
    with trio.fail_after(30):
        gid = await service.upload(files)
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        token = body["previewToken"]
        _error(await _envelope(service, gid, token, path="/reset"), 502, "upstream_unavailable")
        prefix = f"/api/generations/{gid}/preview/proxy"
        seen = await service.client.get(
            f"{prefix}/headers",
            headers={
                **auth(),
                "X-Preview-Token": token,
                "Connection": "keep-alive, X-Hop-Secret",
                "X-Hop-Secret": "1",
                "X-Kept": "1",
            },
        )
        names = seen.text
        assert "'x-kept'" in names and "'x-hop-secret'" not in names
        assert "'authorization'" not in names and "'x-preview-token'" not in names
        assert "x-child-secret" not in seen.headers
        # Nothing is made up: the child sent no Content-Type, so none comes back.
        assert "content-type" not in seen.headers and seen.headers["x-request-id"]
        # The child's Date and Server give way to ours, rather than appear twice.
        assert len(seen.headers.get_list("date")) == len(seen.headers.get_list("server")) == 1
        reset = await service.client.get(
            f"{prefix}/reset", headers={**auth(), "X-Preview-Token": token}
        )
        _error(reset, 502, "upstream_unavailable")
        # Shut down before a byte of an answer: said so, not "refused".
        assert reset.json()["details"] == {"cause": "closed_unanswered"}, reset.json()
        enveloped = (await _envelope(service, gid, token, path="/headers")).json()
        assert enveloped["statusCode"] == 200
        assert "x-child-secret" not in enveloped["headers"]
        history = await service.history(gid, source="proxy")
        failures = [
            event for event in history if "failed (RemoteProtocolError)" in event["message"]
        ]
        assert len(failures) == 2 and all(event["level"] == "ERROR" for event in failures)
        await service.stop(gid)


async def test_endpoints_live_from_openapi_then_from_source(running) -> None:
    service, gid, _ = running
    with trio.fail_after(30):
        live = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        assert live.status_code == 200
        assert live.json()["discoveredFrom"] == "openapi"
        by_route = {(e["method"], e["path"]): e for e in live.json()["endpoints"]}
        assert ("GET", "/json") in by_route and ("POST", "/echo") in by_route
        json_endpoint = by_route[("GET", "/json")]
        assert json_endpoint["source"] == {"kind": "openapi"}
        assert [p["name"] for p in json_endpoint["parameters"]] == ["name"]
        status = await service.status(gid)
        assert {(e["method"], e["path"]) for e in status["generatedEndpoints"]} == set(by_route)

        await service.stop(gid)
        last_run = await service.client.get(
            f"/api/generations/{gid}/preview/endpoints", headers=auth()
        )
        assert last_run.json()["discoveredFrom"] == "openapi"  # its last run's list
        assert last_run.json()["live"] is False
        offline = await service.client.get(
            f"/api/generations/{gid}/preview/endpoints?from=source", headers=auth()
        )
        assert offline.json()["discoveredFrom"] == "source"
        from_source = {(e["method"], e["path"]): e for e in offline.json()["endpoints"]}
        assert ("GET", "/json") in from_source
        assert from_source[("GET", "/json")]["source"]["file"] == "app/main.py"
        assert from_source[("GET", "/json")]["source"]["line"] > 0
        other = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth("bob"))
        assert other.status_code == 404


async def test_several_preview_tokens_live_at_once_each_revocable(running) -> None:
    """A script's token and the web UI's work side by side: asking for one takes no
    other away; revoking one refuses it at once (the hot path's cache of checked
    credentials too) and leaves the others working."""
    service, gid, body = running
    launch_token = body["previewToken"]
    tokens_path = f"/api/generations/{gid}/preview/tokens"
    with trio.fail_after(30):
        script = await service.client.post(
            f"/api/generations/{gid}/preview/token", json={"label": "ci script"}, headers=auth()
        )
        assert script.status_code == 200, script.text
        script_token = script.json()["previewToken"]
        assert script_token != launch_token and script.json()["label"] == "ci script"
        for token in (launch_token, script_token):  # both, twice: the cache holds them
            for _ in range(2):
                answer = await _envelope(service, gid, token, path="/json")
                assert answer.json()["statusCode"] == 200
        listed = (await service.client.get(tokens_path, headers=auth())).json()
        assert [t["label"] for t in listed["tokens"]] == ["launch", "ci script"]
        assert all("previewToken" not in t and "hash" not in t for t in listed["tokens"])

        revoked = await service.client.delete(
            f"{tokens_path}/{script.json()['tokenId']}", headers=auth()
        )
        assert revoked.status_code == 200
        _error(
            await _envelope(service, gid, script_token, path="/json"), 403, "invalid_preview_token"
        )
        proxied = await service.client.get(
            f"/api/generations/{gid}/preview/proxy/json",
            headers={**auth(), "X-Preview-Token": script_token},
        )
        _error(proxied, 403, "invalid_preview_token")
        assert (await _envelope(service, gid, launch_token, path="/json")).json()[
            "statusCode"
        ] == 200
        again = await service.client.delete(
            f"{tokens_path}/{script.json()['tokenId']}", headers=auth()
        )
        _error(again, 404, "preview_token_not_found")

        # revokeOthers: the one way to take every other token away (a token that leaked).
        only = await service.client.post(
            f"/api/generations/{gid}/preview/token", json={"revokeOthers": True}, headers=auth()
        )
        assert len(only.json()["revoked"]) == 1
        _error(
            await _envelope(service, gid, launch_token, path="/json"), 403, "invalid_preview_token"
        )
        fresh = only.json()["previewToken"]
        assert (await _envelope(service, gid, fresh, path="/json")).json()["statusCode"] == 200

        for call in (
            service.client.post(f"/api/generations/{gid}/preview/token", headers=auth("bob")),
            service.client.get(tokens_path, headers=auth("bob")),
            service.client.delete(f"{tokens_path}/{only.json()['tokenId']}", headers=auth("bob")),
        ):
            _error(await call, 404, "generation_not_found")
        bad = await service.client.post(
            f"/api/generations/{gid}/preview/token", json={"label": 7}, headers=auth()
        )
        _error(bad, 400, "invalid_label")


async def test_the_oldest_token_of_a_label_is_retired_past_the_limit(running) -> None:
    """Every tab of the web UI asks for its own token: past the limit the oldest of the
    same label goes, never a token of another label; with none to retire, 409."""
    service, gid, body = running
    path = f"/api/generations/{gid}/preview/token"
    with trio.fail_after(30):
        made = []
        for _ in range(MAX_LIVE_TOKENS - 1):  # the launch's is the first
            answer = await service.client.post(path, json={"label": "web UI"}, headers=auth())
            assert answer.status_code == 200 and answer.json()["retired"] is None
            made.append(answer.json())
        one_more = await service.client.post(path, json={"label": "web UI"}, headers=auth())
        assert one_more.json()["retired"] == made[0]["tokenId"]
        _error(
            await _envelope(service, gid, made[0]["previewToken"], path="/json"),
            403,
            "invalid_preview_token",
        )
        assert (await _envelope(service, gid, body["previewToken"], path="/json")).json()[
            "statusCode"
        ] == 200
        refused = await service.client.post(path, json={"label": "a script"}, headers=auth())
        _error(refused, 409, "too_many_preview_tokens")


async def test_transparent_proxy_body_limit_and_not_running(running, settings) -> None:
    service, gid, body = running
    prefix = f"/api/generations/{gid}/preview/proxy"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    object.__setattr__(settings, "proxy_max_body_bytes", 100)
    with trio.fail_after(30):
        _error(
            await service.client.post(f"{prefix}/echo", content=b"z" * 500, headers=headers),
            413,
            "request_body_too_large",
        )
        small = await service.client.post(f"{prefix}/echo", content=b"z" * 50, headers=headers)
        assert small.json()["body"] == "z" * 50
        await service.stop(gid)
        stopped = await service.client.get(f"{prefix}/json", headers=headers)
        _error(stopped, 503, "preview_not_running")
        # How it ended, as the envelope says it.
        assert stopped.json()["details"] == {"status": "stopped"}, stopped.json()
        enveloped = await _envelope(service, gid, body["previewToken"], path="/json")
        assert enveloped.json()["details"] == {"status": "stopped"}, enveloped.json()


async def test_the_proxy_root_with_a_trailing_slash_checks_the_token(running) -> None:
    service, gid, body = running
    prefix = f"/api/generations/{gid}/preview/proxy"
    with trio.fail_after(30):
        for path in (prefix, prefix + "/"):
            _error(await service.client.get(path, headers=auth()), 403, "missing_preview_token")
            wrong = {**auth(), "X-Preview-Token": "pvt_wrong"}
            _error(await service.client.get(path, headers=wrong), 403, "invalid_preview_token")
            right = {**auth(), "X-Preview-Token": body["previewToken"]}
            forwarded = await service.client.get(path, headers=right)
            assert "x-request-id" in forwarded.headers  # the app's own answer for "/"


async def test_a_request_target_in_absolute_form_is_forwarded_with_its_path(running) -> None:
    service, gid, body = running
    host, port = service.url.removeprefix("http://").rsplit(":", 1)
    target = f"http://other-host/api/generations/{gid}/preview/proxy/json?name=abs"
    with trio.fail_after(30):
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
                f"Authorization: {auth()['Authorization']}\r\n"
                f"X-Preview-Token: {body['previewToken']}\r\n\r\n".encode()
            )
            received = b""
            while chunk := await stream.receive_some(65536):
                received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), received
    assert json.loads(content) == {"hello": "abs"}


async def test_a_proxy_path_written_otherwise_is_refused_not_sent_to_the_root(running) -> None:
    service, gid, body = running
    encoded = f"/api/generations/{gid}/preview/%70roxy/json"  # %70 is "p"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    with trio.fail_after(30):
        response = await service.client.get(httpx.URL(service.url + encoded), headers=headers)
    _error(response, 400, "invalid_proxy_path")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Odd": "a\u2028b"},
        {"X-Odd": "a\u0085b"},
        {"X-Odd": "caf\u00e9"},
        {"X-Odd": "\U0001f600"},
        {"X-Caf\u00e9": "1"},
        {"X-Odd\n": "1"},
    ],
)
async def test_envelope_headers_past_ascii_are_400_not_500(running, headers) -> None:
    service, gid, body = running
    with trio.fail_after(30):
        answer = await _envelope(service, gid, body["previewToken"], path="/echo", headers=headers)
        _error(answer, 400, "invalid_header")
        assert answer.json()["statusCode"] == 400


async def test_the_path_proxy_passes_bytes_past_ascii_both_ways(running) -> None:
    """A header byte past ASCII (obs-text, as HTTP/1.1 allows it) crosses as it came,
    both ways, rather than failing the call with a 500."""
    service, gid, body = running
    host, port = service.url.removeprefix("http://").split(":")
    prefix = f"/api/generations/{gid}/preview/proxy"
    head = (
        f"GET {prefix}/echo?q=caf%C3%A9 HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {auth()['Authorization']}\r\nX-Preview-Token: {body['previewToken']}\r\n"
        "X-Odd: caf\xe9 \xe2\x80\xa8\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")
    with trio.fail_after(30):
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(head)
            received = b""
            while chunk := await stream.receive_some(65536):
                received += chunk
        status, _, rest = received.partition(b"\r\n")
        assert status == b"HTTP/1.1 200 ", received
        echoed = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert echoed["headers"]["x-odd"].encode("latin-1") == b"caf\xe9 \xe2\x80\xa8"
        assert echoed["query"] == {"q": "café"}

        proxied = await service.client.get(
            f"{prefix}/odd-header", headers={**auth(), "X-Preview-Token": body["previewToken"]}
        )
        assert proxied.status_code == 200, proxied.text
        assert (b"x-odd", "\u2028 é".encode()) in proxied.headers.raw


_ECHO_HEADERS = """
import gzip
class Echo(Handler):
    def do_GET(self):
        if self.path == "/gz":  # compressed only for a caller that asks
            body, extra = b'{"hello": "world"}', []
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                body, extra = gzip.compress(body), [("Content-Encoding", "gzip")]
        else:
            body, extra = repr(sorted(k.lower() for k in self.headers.keys())).encode(), []
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
Handler = Echo
"""


async def test_the_app_gets_the_callers_headers_and_none_of_the_proxys_own(
    service: Service,
) -> None:
    """Either way through the service (below Hypercorn, and through it for a call with
    `Connection: close`): no Accept-Encoding, User-Agent or Accept the caller did not
    send (httpx's own, which made apps answer gzip to a caller that cannot read it), nor
    Quart's Remote-Addr. The envelope's data is decoded, its headers say so."""
    from ..raw_http import address, until_closed

    with trio.fail_after(60):
        gid = await service.upload(server_app(_ECHO_HEADERS))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        token = body["previewToken"]
        host, port = address(service)
        answers = {}
        for way, connection in (("hot", "keep-alive"), ("asgi", "close")):
            for path in ("/headers", "/gz"):
                stream = await trio.open_tcp_stream(host, port)
                async with stream:
                    await stream.send_all(
                        f"GET /api/generations/{gid}/preview/proxy{path} HTTP/1.1\r\n"
                        f"Host: {host}:{port}\r\nAuthorization: {auth()['Authorization']}\r\n"
                        f"X-Preview-Token: {token}\r\nConnection: {connection}\r\n\r\n".encode()
                    )
                    if connection == "keep-alive":
                        await stream.send_eof()
                    answers[way, path] = await until_closed(stream)
        enveloped = await _envelope(
            service, gid, token, path="/gz", headers={"Accept-Encoding": "gzip"}
        )
        await service.stop(gid)
    for way in ("hot", "asgi"):
        head, _, sent = answers[way, "/headers"].partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answers[way, "/headers"]
        names = sent.decode()
        for added in ("accept-encoding", "user-agent", "'accept'", "remote-addr"):
            assert added not in names, (way, names)
        head, _, sent = answers[way, "/gz"].partition(b"\r\n\r\n")
        assert b"content-encoding" not in head.lower(), (way, head)
        assert sent.endswith(b'{"hello": "world"}'), (way, sent)
    data = enveloped.json()
    assert data["data"] == {"hello": "world"}, data
    assert "content-encoding" not in data["headers"] and "content-length" not in data["headers"]
