"""Every way into an app leaves the same record of a call (``services.CallRecorder``): one
``proxy`` event among the app's lines, one entry in the request history linked to it
(a WebSocket's apart: it is not kept), and one count in ``preview_proxied_calls_total``
by way and outcome. Through real requests to a real running service: the hot path below
Hypercorn (an answer whole, one streamed on), the ASGI path through Hypercorn, Quart's
route, a preview's origin both ways, the envelope both ways, a replay and a WebSocket."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest
import trio
import trio_websocket
from prometheus_client.parser import text_string_to_metric_families

from preview.proxy.hot import front as hot_front

from ..conftest import Service, auth
from ..history.conftest import api, fresh, listed, origin_cookie, proxied

_EVENT = re.compile(r"^(\S+) (\S+) -> (\d+|failed \(\w+\)) in [\d.]+ ms \[(req_\w+)\]$")


async def _counts(service: Service) -> dict[tuple[str, str], float]:
    response = await service.client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.labels["way"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(response.text)
        if family.name == "preview_proxied_calls"
        for sample in family.samples
        if sample.name == "preview_proxied_calls_total"
    }


async def _websocket(service: Service, gid: str, token: str) -> None:
    host, port = service.url.removeprefix("http://").split(":")
    resource = f"/api/generations/{gid}/preview/proxy/ws?previewToken={token}"
    headers = [(b"Authorization", auth()["Authorization"].encode())]
    async with trio_websocket.open_websocket(
        host, int(port), resource, use_ssl=False, extra_headers=headers
    ) as ws:
        await ws.send_message("ping")
        assert await ws.get_message() == "echo ping"
        await ws.send_message("close:4001")  # the app closes it: the call ends unbroken
        with pytest.raises(trio_websocket.ConnectionClosed):
            await ws.get_message()


async def test_each_way_in_leaves_one_event_one_history_entry_and_one_count(running) -> None:
    service, gid, body = running
    preview = {**body, "gid": gid, "host": urllib.parse.urlsplit(body["baseUrl"]).netloc}
    token = body["previewToken"]
    hot = service.app.extensions[hot_front.EXTENSION]
    calls: list[tuple[str, str, str, int, str]] = []  # way, method, path, status, request id

    async def call(way: str, path: str, answer: Any, *, served: int, method: str = "GET") -> None:
        assert answer.status_code == 200, answer.text
        assert hot.served == served  # which way it took: below Hypercorn, or through it
        calls.append((way, method, path, 200, answer.headers["x-request-id"]))

    with trio.fail_after(120):
        before = await _counts(service)
        served = hot.served
        # The path proxy below Hypercorn: an answer whole, then one streamed on (its
        # event at its head), then through Hypercorn (``Connection: close`` is its).
        whole = await proxied(service, preview, "GET", "/json?name=a")
        await call("proxy", "/json?name=a", whole, served=served + 1)
        streamed = await proxied(service, preview, "GET", "/stream?count=2&interval=0.01")
        await call("proxy", "/stream?count=2&interval=0.01", streamed, served=served + 2)
        closing = {"Connection": "close"}
        through = await proxied(service, preview, "GET", "/json?name=b", headers=closing)
        await call("proxy", "/json?name=b", through, served=served + 2)
        # Quart's route: a preview token in the query of a call with a body.
        in_query = api(gid, f"/proxy/echo?previewToken={token}&k=v")
        quart = await fresh(service, "PUT", in_query, headers=auth(), content=b"q")
        await call("proxy", "/echo?k=v", quart, served=served + 2, method="PUT")
        # The preview's own origin, below Hypercorn and through it.
        origin = {"Host": preview["host"], "Cookie": await origin_cookie(service, preview)}
        at_origin = await fresh(service, "GET", "/json?name=c", headers=origin)
        await call("origin", "/json?name=c", at_origin, served=served + 3)
        origin_closing = await fresh(service, "GET", "/json?name=d", headers={**origin, **closing})
        await call("origin", "/json?name=d", origin_closing, served=served + 3)
        # The envelope, below Hypercorn and through it.
        for name, headers, now_served in (("e", {}, served + 4), ("f", closing, served + 4)):
            answer = await fresh(
                service,
                "POST",
                api(gid, "/request"),
                json={"method": "GET", "path": "/json", "query": {"name": name}},
                headers={**auth(), "X-Preview-Token": token, **headers},
            )
            assert answer.status_code == 200 and answer.json()["statusCode"] == 200, answer.text
            assert hot.served == now_served
            calls.append(("envelope", "GET", f"/json?name={name}", 200, answer.json()["requestId"]))
        # A replay of the first call.
        first = next(
            r for r in (await listed(service, gid))["requests"] if r["path"] == "/json?name=a"
        )
        replayed = await service.client.post(
            api(gid, "/requests/replay"),
            json={"ids": [first["id"]]},
            headers={**auth(), "X-Preview-Token": token},
        )
        assert replayed.status_code == 200, replayed.text
        [result] = replayed.json()["results"]
        calls.append(("replay", "GET", "/json?name=a", 200, result["after"]["requestId"]))
        # A WebSocket: its event and count, not kept in the history.
        await _websocket(service, gid, token)

        page = await listed(service, gid)
        log = await service.history(gid, source="proxy")
        after = await _counts(service)

    events = {}
    for event in log:
        said = _EVENT.match(event["message"])
        assert said is not None, event["message"]
        method, path, outcome, request_id = said.groups()
        assert request_id not in events, f"two events of one call: {event['message']}"
        events[request_id] = (event["id"], method, path, outcome)
    kept = {row["requestId"]: row for row in page["requests"]}
    assert len(kept) == len(page["requests"]) == len(calls)
    for way, method, path, status, request_id in calls:
        row = kept[request_id]
        assert (row["way"], row["method"], row["path"], row["status"]) == (
            way,
            method,
            path,
            status,
        )
        assert events[request_id] == (row["eventId"], method, path, str(status))
    [opened] = [e for e in events.values() if e[1] == "WS"]
    assert opened[1:] == ("WS", "/ws", "101")
    assert len(events) == len(calls) + 1  # the WebSocket's, kept nowhere else

    added = {
        key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)
    }
    assert added == {
        ("proxy", "2xx"): 4.0,
        ("origin", "2xx"): 2.0,
        ("envelope", "2xx"): 2.0,
        ("replay", "2xx"): 1.0,
        ("websocket", "1xx"): 1.0,
    }
