"""Every request that crosses the proxy is kept with its answer, whichever way it came
(the envelope, the path proxy, the preview's origin; below Hypercorn and through it),
its credentials masked, linked to its ``proxy`` line, bounded per preview."""

from __future__ import annotations

import dataclasses
import json

import pytest
import trio

from preview.proxy.hot import front as hot_front

from ..conftest import Service, auth, running_service
from .conftest import (
    api,
    app_files,
    envelope,
    fresh,
    launched,
    listed,
    one,
    origin_cookie,
    proxied,
)


def _header(headers: list[list[str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


async def test_each_way_in_is_kept_with_its_answer_masked_and_linked(
    service: Service, preview: dict
) -> None:
    gid = preview["gid"]
    hot = service.app.extensions[hot_front.EXTENSION]
    with trio.fail_after(60):
        # The envelope, with credentials in its headers and query.
        answer = await envelope(
            service,
            preview,
            method="POST",
            path="/items",
            query="api_key=s3cret&x=1",
            headers={"Authorization": "Bearer app-secret", "Cookie": "a=1; b=2"},
            body={"name": "kiwi"},
        )
        assert answer.status_code == 200 and answer.json()["statusCode"] == 201
        # The path proxy below Hypercorn, then through it (``Connection: close`` is
        # Hypercorn's), the service's bearer token and a token in the query.
        served = hot.served
        below = await proxied(service, preview, "GET", "/items/1?access_token=t0p&q=ok")
        assert below.status_code == 200 and hot.served == served + 1
        through = await proxied(
            service, preview, "PUT", "/things", content=b"raw body", headers={"Connection": "close"}
        )
        assert through.status_code == 200 and hot.served == served + 1
        # The preview's own origin, both ways.
        cookie = await origin_cookie(service, preview)
        origin = {"Host": preview["host"], "Cookie": cookie}
        at_origin = await fresh(service, "GET", "/items/2", headers=origin)
        assert at_origin.status_code == 200 and hot.served == served + 2
        closing = await fresh(service, "GET", "/items/3", headers={**origin, "Connection": "close"})
        assert closing.status_code == 404
        # A token in the query of a call with a body: Quart's route forwards it.
        in_query = api(gid, f"/proxy/things/9?previewToken={preview['previewToken']}&k=v")
        quart = await fresh(service, "PUT", in_query, headers=auth(), content=b"q")
        assert quart.status_code == 200 and hot.served == served + 2

        page = await listed(service, gid)
    kept = list(reversed(page["requests"]))
    assert [(r["way"], r["method"], r["path"], r["status"]) for r in kept] == [
        ("envelope", "POST", "/items?api_key=[masked]&x=1", 201),
        ("proxy", "GET", "/items/1?access_token=[masked]&q=ok", 200),
        ("proxy", "PUT", "/things", 200),
        ("origin", "GET", "/items/2", 200),
        ("origin", "GET", "/items/3", 404),
        ("proxy", "PUT", "/things/9?k=v", 200),
    ]
    assert page["hasMore"] is False
    assert all(r["previewId"] == preview["previewInstanceId"] for r in kept)
    assert all(r["replayOf"] is None and r["totalMs"] >= r["elapsedMs"] > 0 for r in kept)

    with trio.fail_after(30):
        posted = await one(service, gid, kept[0]["id"])
        fetched = await one(service, gid, kept[1]["id"])
        put = await one(service, gid, kept[2]["id"])
        entered = await one(service, gid, kept[3]["id"])
        quarts = await one(service, gid, kept[5]["id"])
        log = await service.history(gid, source="proxy")
    # Bodies both ways, as sent and as answered.
    assert json.loads(posted["requestBody"]["text"]) == {"name": "kiwi"}
    assert json.loads(posted["responseBody"]["text"])["name"] == "kiwi"
    assert put["requestBody"] == {"text": "raw body", "size": 8, "truncated": False}
    assert json.loads(fetched["responseBody"]["text"])["name"] == "apple"
    assert json.loads(entered["responseBody"]["text"])["name"] == "banana"
    # Credentials masked: the app's and the service's alike.
    assert _header(posted["requestHeaders"], "authorization") == "Bearer [masked]"
    assert _header(posted["requestHeaders"], "cookie") == "a=[masked]; b=[masked]"
    assert _header(fetched["requestHeaders"], "authorization") == "Bearer [masked]"
    assert _header(fetched["requestHeaders"], "x-preview-token") == "[masked]"
    assert _header(entered["requestHeaders"], "cookie").endswith("=[masked]")
    assert _header(entered["responseHeaders"], "set-cookie").startswith("sid=[masked]; Path=/")
    assert quarts["requestBody"]["text"] == "q" and quarts["responseBody"]["size"] > 0
    everything = json.dumps([posted, fetched, put, entered, quarts])
    for secret in ("s3cret", "t0p", "app-secret", preview["previewToken"], cookie.split("=")[1]):
        assert secret not in everything
    # Each linked to its proxy line (the same request id).
    lines = {event["id"]: event["message"] for event in log}
    for request in kept:
        assert request["requestId"] in lines[request["eventId"]]


async def test_chunked_bodies_are_kept_as_their_data(service: Service, preview: dict) -> None:
    """The hot path relays bodies as framed; what is kept is the data, both ways."""
    gid = preview["gid"]
    hot = service.app.extensions[hot_front.EXTENSION]

    async def parts():
        yield b"raw "
        yield b"body"

    with trio.fail_after(60):
        served = hot.served
        answer = await proxied(service, preview, "GET", "/chunked")
        assert answer.json() == {"parts": ["a", "b"]}
        sent = await proxied(service, preview, "PUT", "/things", content=parts())
        assert sent.json() == {"received": 8} and hot.served == served + 2
        page = await listed(service, gid)
        put, got = [await one(service, gid, r["id"]) for r in page["requests"][:2]]
    assert json.loads(got["responseBody"]["text"]) == {"parts": ["a", "b"]}
    assert got["responseBody"]["size"] == len('{"parts": ["a", "b"]}')
    assert put["requestBody"] == {"text": "raw body", "size": 8, "truncated": False}


async def test_a_pages_assets_are_kept_with_their_size_not_their_bodies(
    service: Service, preview: dict
) -> None:
    """A script or a style sheet (``masking.is_asset``) is kept with its heads and size,
    its body not: answered whole or relayed as it comes, each way in. An API's answer
    beside them keeps its body; the caller gets every asset whole."""
    gid = preview["gid"]
    hot = service.app.extensions[hot_front.EXTENSION]
    with trio.fail_after(60):
        cookie = await origin_cookie(service, preview)
        origin = {"Host": preview["host"], "Cookie": cookie}
        served = hot.served
        whole = await fresh(service, "GET", "/static/app.js?n=2000", headers=origin)
        # Past one read of the app's answer (64 KiB): relayed as it comes.
        streamed = await proxied(service, preview, "GET", "/static/app.js?n=150000")
        styled = await envelope(service, preview, method="GET", path="/static/site.css?n=500")
        item = await proxied(service, preview, "GET", "/items/1")
        assert item.json()["name"] == "apple" and hot.served == served + 3
        page = await listed(service, gid)
        kept = {r["path"]: await one(service, gid, r["id"]) for r in page["requests"][:4]}
        har = await service.client.get(api(gid, "/requests.har"), headers=auth())
    assert whole.content == (b"var x = 1;\n" * 182)[:2000]
    assert streamed.content == (b"var x = 1;\n" * 13637)[:150000]
    assert styled.json()["data"] == ("var x = 1;\n" * 46)[:500]
    for path, size in (
        ("/static/app.js?n=2000", 2000),
        ("/static/app.js?n=150000", 150000),
        ("/static/site.css?n=500", 500),
    ):
        row = kept[path]
        assert row["status"] == 200 and _header(row["responseHeaders"], "content-type")
        assert row["responseBody"] == {
            "text": None,
            "size": size,
            "truncated": True,
            "omitted": "asset",
        }
    assert json.loads(kept["/items/1"]["responseBody"]["text"])["name"] == "apple"
    entries = {e["request"]["url"].rsplit("/", 2)[-1]: e for e in har.json()["log"]["entries"]}
    content = entries["app.js?n=150000"]["response"]["content"]
    assert "text" not in content and content["size"] == 150000
    assert content["comment"].startswith("not kept: a page's asset")


async def test_each_preview_keeps_its_newest_requests_within_its_bounds(settings) -> None:
    bounded = dataclasses.replace(
        settings, capture_requests=5, capture_body_bytes=1024, capture_mb=1
    )
    async with running_service(bounded) as service:
        with trio.fail_after(90):
            preview = await launched(service, app_files())
            for n in range(8):
                answer = await proxied(service, preview, "GET", f"/items/{n}")
                assert answer.status_code in (200, 404)
            page = await listed(service, preview["gid"])
            # At most 5, the newest: past the bound, cut to nine tenths of it (4).
            paths = [r["path"] for r in page["requests"]]
            assert paths in ([f"/items/{n}" for n in range(7, 7 - kept, -1)] for kept in (4, 5))
            # A body past PREVIEW_CAPTURE_BODY_BYTES is cut, its whole size said.
            big = await proxied(service, preview, "GET", "/big?n=5000")
            assert big.status_code == 200 and len(big.content) > 5000
            newest = (await listed(service, preview["gid"], limit=1))["requests"][0]
            whole = await one(service, preview["gid"], newest["id"])
            assert whole["responseBody"]["truncated"] is True
            assert len(whole["responseBody"]["text"]) == 1024
            assert whole["responseBody"]["size"] == len(big.content)
            await service.stop(preview["gid"])


async def test_bytes_bound_drops_the_oldest(settings) -> None:
    bounded = dataclasses.replace(settings, capture_body_bytes=300_000, capture_mb=1)
    async with running_service(bounded) as service:
        with trio.fail_after(90):
            preview = await launched(service, app_files())
            for _ in range(6):  # ~200 KB each: 1 MiB holds four
                answer = await proxied(service, preview, "GET", "/big?n=200000")
                assert answer.status_code == 200
            page = await listed(service, preview["gid"])
            sizes = [r["responseBodySize"] for r in page["requests"]]
            assert 1 <= len(sizes) < 6 and sum(sizes) <= 2**20
            await service.stop(preview["gid"])


@pytest.mark.parametrize("requests_kept", [0])
async def test_nothing_is_kept_when_turned_off(settings, requests_kept: int) -> None:
    off = dataclasses.replace(settings, capture_requests=requests_kept)
    async with running_service(off) as service:
        with trio.fail_after(90):
            preview = await launched(service, app_files())
            assert (await proxied(service, preview, "GET", "/items/1")).status_code == 200
            assert (await listed(service, preview["gid"]))["requests"] == []
            response = await service.client.get(api(preview["gid"], "/requests/1"), headers=auth())
            assert response.status_code == 404 and response.json()["error"] == "request_not_found"
            await service.stop(preview["gid"])
