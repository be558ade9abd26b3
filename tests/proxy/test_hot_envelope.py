"""The JSON envelope below Hypercorn (``proxy.hot.envelope``): the app gets the request
httpx would have sent, the answer is shaped as the route shapes it (compressed and
chunked bodies decoded), and every call is served there, a ``proxy`` event and kept."""

from __future__ import annotations

import json

import httpx
import pytest
import trio

from preview.proxy import EnvelopeRequest, Forwarded, request_headers
from preview.proxy.hot import front as hot_front
from preview.proxy.hot.envelope import envelope_head
from preview.runtime.upstream import upstream_url

from ..conftest import auth

_CALLS = [
    EnvelopeRequest("GET", "/json", "", [], None, None),
    EnvelopeRequest("GET", "/a%20b/c", "x=1&y=%C3%A9", [("X-Custom", "yes")], None, None),
    EnvelopeRequest("POST", "/items", "", [], None, None),
    EnvelopeRequest("DELETE", "/items/1", "", [("Accept", "text/html")], None, None),
    EnvelopeRequest(
        "POST",
        "/items",
        "",
        [("Content-Type", "application/json"), ("user-agent", "mine"), ("Cookie", "a=1")],
        b'{"n": 1}',
        None,
    ),
    EnvelopeRequest(
        "PUT", "/raw", "", [("Connection", "close, x-drop"), ("X-Drop", "1")], b"", None
    ),
]


@pytest.mark.parametrize("call", _CALLS, ids=lambda call: f"{call.method} {call.path}")
async def test_the_head_is_the_one_httpx_writes(call: EnvelopeRequest) -> None:
    forwarded = Forwarded("10.0.0.7", "http", "api.example", "req_0123456789abcdef")
    async with httpx.AsyncClient(trust_env=False) as client:
        sent = client.build_request(
            call.method,
            upstream_url(8123, call.path, call.query),
            headers=request_headers(call.headers, forwarded),
            content=call.body,
        )
        defaults = [(n, v) for n, v in client.headers.raw if n.lower() != b"host"]
    lines = (
        b"X-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\n"
        b"X-Forwarded-Host: api.example\r\nX-Request-ID: req_0123456789abcdef\r\n"
    )
    head = envelope_head(call, 8123, defaults, lines)
    assert head.endswith(b"\r\n\r\n")
    first, *fields = head[:-4].split(b"\r\n")
    assert first == b"%s %s HTTP/1.1" % (call.method.encode(), sent.url.raw_path)
    written = [tuple(field.split(b": ", 1)) for field in fields]
    assert [(n.lower(), v) for n, v in written] == [(n.lower(), v) for n, v in sent.headers.raw]


async def test_envelope_calls_are_served_below_hypercorn(running) -> None:
    service, gid, body = running
    hot = service.app.extensions[hot_front.EXTENSION]
    served = hot.served
    url = f"/api/generations/{gid}/preview/request"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    fresh = httpx.AsyncClient(base_url=service.url, trust_env=False)  # the hot path's
    with trio.fail_after(60):
        zipped = await fresh.post(url, json={"path": "/gzip"}, headers=headers)
        assert zipped.status_code == 200, zipped.text
        assert zipped.headers["content-type"] == "application/json"
        answer = zipped.json()
        assert answer["statusCode"] == 200 and answer["data"] == {"zipped": True}
        # Its data decoded, its headers say nothing of the encoding it came in.
        assert "content-encoding" not in answer["headers"], answer["headers"]
        # A chunked answer (uvicorn's StreamingResponse), read whole.
        streamed = await fresh.post(
            url, json={"path": "/stream", "query": {"count": 3, "interval": 0}}, headers=headers
        )
        assert streamed.json()["data"] == "chunk 0\nchunk 1\nchunk 2\n"
        # A HEAD has no body, whatever its headers say.
        head = await fresh.post(url, json={"method": "HEAD", "path": "/json"}, headers=headers)
        assert head.json()["statusCode"] in (200, 405) and head.json()["data"] is None
        # A JSON body, with the token in the envelope's own headers.
        echo = await fresh.post(
            url,
            json={
                "method": "PATCH",
                "path": "/echo",
                "body": {"n": 2},
                "headers": {"X-Preview-Token": body["previewToken"]},
            },
            headers=auth(),
        )
        assert echo.json()["data"]["body"] == '{"n": 2}'
        assert hot.served == served + 4
        # A chunked request body is Hypercorn's (the route's answer, the same shape).
        raw = json.dumps({"path": "/json", "query": {"name": "asgi"}}).encode()

        async def chunks():
            yield raw

        through = await fresh.post(url, content=chunks(), headers=headers)
        assert through.json()["data"] == {"hello": "asgi"}
        assert hot.served == served + 4
        await fresh.aclose()
    events = await service.history(gid)
    messages = [e["message"] for e in events if e["source"] == "proxy"]
    for shown in (
        "GET /gzip -> 200",
        "GET /stream?count=3&interval=0 -> 200",
        "PATCH /echo -> 200",
    ):
        assert sum(shown in message for message in messages) == 1, messages
    with trio.fail_after(30):
        kept = await service.client.get(
            f"/api/generations/{gid}/preview/requests?path=/gzip", headers=auth()
        )
    assert [(r["way"], r["status"]) for r in kept.json()["requests"]] == [("envelope", 200)]


async def test_an_app_that_fails_mid_answer_is_the_routes_error(running, settings) -> None:
    service, gid, body = running
    hot = service.app.extensions[hot_front.EXTENSION]
    served = hot.served
    url = f"/api/generations/{gid}/preview/request"
    headers = {**auth(), "X-Preview-Token": body["previewToken"]}
    object.__setattr__(settings, "proxy_max_response_bytes", 1000)
    fresh = httpx.AsyncClient(base_url=service.url, trust_env=False)  # the hot path's
    with trio.fail_after(60):
        # Past the limit while chunks still come: 502, and the connection is not reused.
        over = await fresh.post(
            url, json={"path": "/stream", "query": {"count": 400, "interval": 0}}, headers=headers
        )
        assert over.status_code == 502, over.text
        assert over.json()["error"] == "response_too_large" and over.json()["statusCode"] == 502
        after = await fresh.post(url, json={"path": "/json"}, headers=headers)
        assert after.json()["data"] == {"hello": "world"}
        await fresh.aclose()
    assert hot.served == served + 2
