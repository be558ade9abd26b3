"""WebSockets the app does not open, and messages over a limit: the service's error (502
with the error shape) or a close code (1009), never a 500 nor a traceback; through the
path proxy and at the preview's own origin, against real children."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
import trio
import trio_websocket

from preview import Settings

from ..conftest import SERVER_COMMAND, Service, auth, server_app
from .test_origins import PROXY_TARGET, _launched, _open_origin_websocket, _signed_in

# Hypercorn's default limit on a message from a client (websocket_max_message_size).
OVER_THE_SERVICE_LIMIT = 16 * 2**20 + 1
# trio-websocket's default limit on a message from the app (the echo of this).
OVER_THE_UPSTREAM_LIMIT = 2**20 + 1


@pytest.fixture(autouse=True, params=["sandboxed", "unsandboxed"])
def reached(request: pytest.FixtureRequest, settings: Settings) -> str:
    """Each test twice: the app reached through its sandbox's socket (where a refusal
    came out of trio-websocket's nursery as a group: a 500), and over TCP (where the
    caller's WebSocket was closed unopened: a 403 without a body)."""
    if request.param == "unsandboxed":
        object.__setattr__(settings, "sandbox", "off")
    return request.param


@pytest.fixture
async def browser(service: Service):
    async with httpx.AsyncClient(base_url=service.url, trust_env=False, timeout=30) as client:
        yield client


@pytest.fixture
async def fastapi_app(service: Service):
    """An app with a WebSocket at /ws (an echo) and none elsewhere."""
    with trio.fail_after(60):
        launched = await _launched(service, PROXY_TARGET)
    yield launched
    with trio.fail_after(30):
        await service.stop(launched["gid"])


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def _rejected(connect: Any) -> trio_websocket.ConnectionRejected:
    """The handshake's HTTP answer (``connect`` opens a WebSocket in a nursery)."""
    rejected: list[trio_websocket.ConnectionRejected] = []
    try:
        async with trio.open_nursery() as nursery:
            await connect(nursery)
    except* trio_websocket.ConnectionRejected as group:
        rejected = list(group.exceptions)  # type: ignore[arg-type]
    assert len(rejected) == 1
    return rejected[0]


def _via_proxy(service: Service, gid: str, token: str, path: str):
    host, port = service.url.removeprefix("http://").split(":")

    async def connect(nursery: trio.Nursery) -> trio_websocket.WebSocketConnection:
        stream = await trio.open_tcp_stream(host, int(port))
        return await trio_websocket.wrap_client_stream(
            nursery,
            stream,
            f"{host}:{port}",
            f"/api/generations/{gid}/preview/proxy{path}",
            extra_headers=[
                (b"Authorization", auth()["Authorization"].encode()),
                (b"X-Preview-Token", token.encode()),
            ],
        )

    return connect


def _assert_bad_gateway(rejected: trio_websocket.ConnectionRejected, upstream: int | None) -> None:
    assert rejected.status_code == 502, (rejected.status_code, rejected.body)
    body = json.loads(rejected.body)
    assert body["status"] == "failed" and isinstance(body["message"], str), body
    if upstream is None:
        assert body["error"] == "upstream_unavailable", body
    else:
        assert body["error"] == "bad_gateway", body
        assert body["details"] == {"upstreamStatus": upstream}, body


async def test_a_websocket_a_plain_http_app_does_not_open_is_502(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        # The stdlib server answers the upgrade as a plain GET: 200 "ok".
        rejected = await _rejected(_via_proxy(service, gid, body["previewToken"], "/ws"))
        _assert_bad_gateway(rejected, 200)
        events = await service.history(gid, source="proxy")
        assert any("WS /ws" in event["message"] for event in events), events
        await service.stop(gid)
    _no_errors_logged(caplog)


async def test_a_websocket_the_app_refuses_is_502_at_either_address(
    service: Service, browser: httpx.AsyncClient, fastapi_app: dict, caplog
) -> None:
    app = fastapi_app
    with trio.fail_after(60):
        # Starlette refuses a WebSocket on a route that has none with 403.
        rejected = await _rejected(_via_proxy(service, app["gid"], app["previewToken"], "/json"))
        _assert_bad_gateway(rejected, 403)

        cookie = await _signed_in(service, browser, app)
        rejected = await _rejected(
            lambda nursery: _open_origin_websocket(service, nursery, app["host"], "/json", cookie)
        )
        _assert_bad_gateway(rejected, 403)
        # And what does open still works, at both.
        async with trio.open_nursery() as nursery:
            ws = await _via_proxy(service, app["gid"], app["previewToken"], "/ws")(nursery)
            await ws.send_message("ping")
            assert await ws.get_message() == "echo ping"
            await ws.aclose()
            ws = await _open_origin_websocket(service, nursery, app["host"], "/ws", cookie)
            await ws.send_message("ping")
            assert await ws.get_message() == "echo ping"
            await ws.aclose()
    _no_errors_logged(caplog)


@pytest.mark.parametrize("size", [OVER_THE_SERVICE_LIMIT, OVER_THE_UPSTREAM_LIMIT])
async def test_a_message_over_a_limit_closes_with_1009(
    service: Service, browser: httpx.AsyncClient, fastapi_app: dict, caplog, size: int
) -> None:
    """From the caller (over the service's limit) or from the app (its echo, over the
    limit on what the service reads from an app): 1009, at either address."""
    app = fastapi_app
    with trio.fail_after(60):
        cookie = await _signed_in(service, browser, app)
        for connect in (
            _via_proxy(service, app["gid"], app["previewToken"], "/ws"),
            lambda nursery: _open_origin_websocket(service, nursery, app["host"], "/ws", cookie),
        ):
            async with trio.open_nursery() as nursery:
                ws = await connect(nursery)
                await ws.send_message("x" * size)
                with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                    await ws.get_message()
                assert closed.value.reason.code == 1009, closed.value.reason
            # The preview still answers.
            async with trio.open_nursery() as nursery:
                ws = await connect(nursery)
                await ws.send_message("after")
                assert await ws.get_message() == "echo after"
                await ws.aclose()
    _no_errors_logged(caplog)


# Its answer to the upgrade is a page delimited by the end of the connection (an
# HTTP/1.0 server's way, no Content-Length): the refusal was only seen at the
# handshake's deadline, and then as a 500.
_UNDELIMITED = """
class Undelimited(Handler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Type", "text/plain")
        self.end_headers(); self.wfile.write(b"no websocket here")
Handler = Undelimited
"""


async def test_an_upgrade_answered_with_a_page_ending_at_close_is_502_at_once(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app(_UNDELIMITED))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        with trio.fail_after(10):  # not the handshake's deadline (30 s)
            rejected = await _rejected(_via_proxy(service, gid, body["previewToken"], "/ws"))
        _assert_bad_gateway(rejected, 200)
        await service.stop(gid)
    _no_errors_logged(caplog)


# A 101 whose Sec-WebSocket-Accept does not answer the key: wsproto refuses it, and
# trio-websocket's attempt to refuse it back (a server's answer, on a client's
# connection) raised h11's LocalProtocolError out of the nursery: a 500 and a traceback.
_WRONG_ACCEPT = """
class WrongAccept(Handler):
    def do_GET(self):
        if not self.headers.get("Upgrade"):
            return super().do_GET()
        self.send_response(101); self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", "not-the-answer")
        self.end_headers(); self.wfile.flush(); time.sleep(5)
Handler = WrongAccept
"""


async def test_an_upgrade_answered_with_a_wrong_accept_key_is_502(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app(_WRONG_ACCEPT))
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert body["status"] == "running", body
        with trio.fail_after(10):  # not the handshake's deadline (30 s)
            rejected = await _rejected(_via_proxy(service, gid, body["previewToken"], "/ws"))
        _assert_bad_gateway(rejected, None)
        await service.stop(gid)
    _no_errors_logged(caplog)
