"""Cluster mode, slice 2: any node answers the calls that must reach the preview's
owner (stop, its tokens, the request envelope, the transparent proxy and its WebSockets,
revisions applied), forwarded over the owner's internal listener, which answers the
cluster's secret alone. Real `preview serve` processes on one fresh PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import trio
import trio_websocket

from ..conftest import SERVER_COMMAND, auth, emitter_app, sse_events
from .nodes import CLUSTER_SECRET, PG_ENV, fresh_database, internal_port, running_node


def test_the_cluster_headers_are_named_alike_on_both_layers() -> None:
    # cluster.forwarding writes them, proxy.policy keeps them from every app: one name each.
    from preview.cluster import forwarding
    from preview.proxy import policy

    assert policy.CLUSTER_SECRET_HEADER.encode() == forwarding.SECRET_HEADER
    assert policy.CLUSTER_CLIENT_HEADER.encode() == forwarding.CLIENT_HEADER
    assert policy.CLUSTER_SCHEME_HEADER.encode() == forwarding.SCHEME_HEADER


pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")

# Echoes a POST's body, and a WebSocket's messages: an ASGI app under the service's own
# Hypercorn (the interpreter the service runs a preview with has it).
ECHO_APP = """
import os, trio
from hypercorn.config import Config
from hypercorn.trio import serve

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "http":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer = body or b"ok"
        if scope["path"] == "/headers":  # what reached the app of the caller's head
            answer = b"\\n".join(b"%s: %s" % pair for pair in scope["headers"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})
    else:
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo " + message["text"]})

config = Config()
config.bind = [f"127.0.0.1:{os.environ['PORT']}"]
trio.run(serve, app, config)
"""


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def test_the_internal_listener_answers_the_cluster_secret_alone(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(90):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0),
        ):
            url = f"http://127.0.0.1:{internal_port(0)}"
            async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as inside:
                for headers in (
                    {},
                    auth(),
                    {"X-Preview-Cluster-Secret": "nearly" + CLUSTER_SECRET},
                ):
                    for path in ("/api/health", "/api/generations"):
                        refused = await inside.get(path, headers=headers)
                        assert refused.status_code == 403, refused.text
                        assert refused.json()["status"] == "failed"
                        assert refused.json()["error"] == "not_a_cluster_node"
                vouched = await inside.get(
                    "/api/health", headers={"X-Preview-Cluster-Secret": CLUSTER_SECRET}
                )
                assert vouched.status_code == 200, vouched.text


async def test_any_node_answers_the_calls_that_need_the_owner(tmp_path: Path, db_url: str) -> None:
    with trio.fail_after(150):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            gid = await a.upload({"server.py": ECHO_APP})
            launched = await a.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            preview = launched.json()
            assert (await b.status(gid))["node"] == "node-a"
            base = f"/api/generations/{gid}/preview"
            token = {**auth(), "X-Preview-Token": preview["previewToken"]}

            # The transparent proxy through B: an answer, and a body streamed both ways
            # (answered 503 preview_not_running, "running", before this slice).
            answer = await b.client.get(f"{base}/proxy/", headers=token)
            assert (answer.status_code, answer.text) == (200, "ok"), answer.text

            async def chunks():
                for n in range(64):
                    yield b"%04d" % n * 1024

            echoed = await b.client.post(f"{base}/proxy/echo", headers=token, content=chunks())
            assert echoed.status_code == 200, echoed.text
            assert echoed.content == b"".join(b"%04d" % n * 1024 for n in range(64))
            # The app has the caller's address from the owner, and never the cluster's
            # own headers (its secret least of all), whether B's hot path sent the call
            # on or (a caller that sent them itself) its ASGI forwarder.
            for spoofed in (
                {},
                {"X-Preview-Cluster-Client": "6.6.6.6"},
                {"X-Preview-Cluster-Secret": CLUSTER_SECRET, "X-Preview-Cluster-Scheme": "https"},
            ):
                seen = await b.client.get(f"{base}/proxy/headers", headers={**token, **spoofed})
                assert seen.status_code == 200, seen.text
                lines = seen.text.lower().splitlines()
                assert "x-forwarded-for: 127.0.0.1" in lines, lines
                assert "x-forwarded-proto: http" in lines, lines
                assert not any("x-preview-cluster" in line for line in lines), lines
                assert not any(CLUSTER_SECRET in line for line in lines), lines
            # Refusals are the owner's, in the error shape.
            wrong = await b.client.get(
                f"{base}/proxy/", headers={**auth(), "X-Preview-Token": "pt_wrong"}
            )
            assert wrong.status_code == 403, wrong.text
            assert wrong.json()["status"] == "failed"
            other = await b.client.get(f"{base}/proxy/", headers=auth("mallory"))
            assert other.status_code == 404, other.text

            # The request envelope.
            envelope = await b.client.post(
                f"{base}/request",
                headers=token,
                json={"method": "POST", "path": "/x", "body": "hello"},
            )
            assert envelope.status_code == 200, envelope.text
            assert envelope.json()["statusCode"] == 200
            assert envelope.json()["data"] == "hello"

            # A WebSocket through B's proxy.
            host, port = b.url.removeprefix("http://").split(":")
            async with trio.open_nursery() as sockets:
                stream = await trio.open_tcp_stream(host, int(port))
                ws = await trio_websocket.wrap_client_stream(
                    sockets,
                    stream,
                    f"{host}:{port}",
                    f"{base}/proxy/ws",
                    extra_headers=[(k.encode(), v.encode()) for k, v in token.items()],
                )
                await ws.send_message("ping")
                assert await ws.get_message() == "echo ping"
                await ws.aclose()

            # The preview's tokens live in A's memory: a new one through B works on A.
            renewed = await b.client.post(f"{base}/token", headers=auth())
            assert renewed.status_code == 200, renewed.text
            new_token = renewed.json()["previewToken"]
            listed = await b.client.get(f"{base}/tokens", headers=auth())
            assert listed.status_code == 200, listed.text
            fresh = {**auth(), "X-Preview-Token": new_token}
            assert (await a.client.get(f"{base}/proxy/", headers=fresh)).status_code == 200

            # Stop through B stops A's preview (it stopped nothing before this slice).
            stopped = await b.client.delete(base, headers=auth())
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["status"] == "stopped", stopped.json()
            for node in (a, b):
                status = await node.status(gid)
                assert (status["status"], status["node"]) == ("stopped", "node-a"), status
            assert not psutil.pid_exists(preview["processId"])
            # Nothing left to forward: B answers itself, as a single node.
            again = await b.client.delete(base, headers=auth())
            assert again.status_code == 404, again.text
            assert again.json()["error"] == "no_active_preview"


async def test_a_log_stream_through_another_node_has_the_owners_lines_to_the_end(
    tmp_path: Path, db_url: str
) -> None:
    with trio.fail_after(150):
        async with (
            trio.open_nursery() as nursery,
            running_node(nursery, tmp_path, db_url, "node-a", 0) as a,
            running_node(nursery, tmp_path, db_url, "node-b", 1) as b,
        ):
            gid = await a.upload(emitter_app("said"))
            launched = await a.launch(gid, command=SERVER_COMMAND)
            assert launched.status_code == 200, launched.text
            preview = launched.json()
            base = f"/api/generations/{gid}/preview"
            token = {**auth(), "X-Preview-Token": preview["previewToken"]}
            seen: list[tuple[str, dict, int | None]] = []
            async with b.client.stream(
                "GET", f"{base}/logs/stream", headers=auth(), timeout=None
            ) as stream:
                assert stream.status_code == 200
                emitted = False
                async for kind, data, event_id in sse_events(stream):
                    seen.append((kind, data, event_id))
                    if not emitted and kind == "message":  # the history came: now live
                        emitted = True
                        answer = await b.client.get(f"{base}/proxy/emit?n=5", headers=token)
                        assert answer.status_code == 200, answer.text
                    if kind == "message" and data["message"] == "said 4":
                        stopped = await b.client.delete(base, headers=auth())
                        assert stopped.status_code == 200, stopped.text
                    if kind == "end":
                        break
            lines = [d["message"] for k, d, _ in seen if k == "message"]
            assert [m for m in lines if m.startswith("said")] == [f"said {n}" for n in range(5)]
            ids = [i for k, _, i in seen if k == "message" and i is not None]
            assert ids == sorted(set(ids)), ids  # no gap repeated, none out of order
            # Every line the stream had is the history's, from either node.
            history = await a.client.get(f"{base}/logs", headers=auth())
            stored = [e["id"] for e in history.json()["events"]]
            assert set(ids) <= set(stored)
