"""Per-endpoint latency (issue 69, item 4): ``GET …/preview/endpoints/stats`` groups the
recorded calls of a real app by the routes it declares (its own OpenAPI document), else
by their paths with ids collapsed, with count, errors and percentiles."""

from __future__ import annotations

from typing import Any

import trio

from ..conftest import auth
from .jsonlog_app import call, launched, observed_service


async def test_calls_are_grouped_by_declared_route_with_errors_and_percentiles(
    settings: Any,
) -> None:
    with trio.fail_after(120):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            for path in ("/items/1", "/items/2", "/items/3", "/items/new", "/items/new"):
                assert await call(service, preview, path) == 200
            for _ in range(2):
                assert await call(service, preview, "/boom") == 500
            for path in ("/orders/12/lines/9f3a1c5e7b2d4f60", "/orders/99/lines/a1b2c3d4e5f60718"):
                assert await call(service, preview, path) == 200
            assert await call(service, preview, "/slow?ms=150") == 200
            url = f"/api/generations/{gid}/preview/endpoints/stats"
            stats = (await service.client.get(url, headers=auth())).json()
            one = await service.client.get(
                url, params={"previewId": preview["previewInstanceId"]}, headers=auth()
            )
            other = await service.client.get(url, params={"previewId": "prv_x"}, headers=auth())
            bad = await service.client.get(url, params={"previewId": "x" * 41}, headers=auth())
            bob = await service.client.get(url, headers=auth("bob"))
            routes = {(r["method"], r["path"]): r for r in stats["routes"]}
            slowest = routes[("GET", "/slow")]["slowest"][0]
            kept = await service.client.get(
                f"/api/generations/{gid}/preview/requests/{slowest}", headers=auth()
            )
            await service.stop(gid)
    assert stats["routesFrom"] == "openapi" and stats["truncated"] is False
    items = routes[("GET", "/items/{item_id}")]
    assert items["declared"] and items["count"] == 3 and items["errors"] == 0
    assert routes[("GET", "/items/new")]["count"] == 2  # the more specific template
    boom = routes[("GET", "/boom")]
    assert boom["count"] == 2 and boom["errors"] == 2
    orders = routes[("GET", "/orders/{id}/lines/{id}")]
    assert orders["count"] == 2 and orders["declared"] is False
    slow = routes[("GET", "/slow")]
    assert slow["count"] == 1 and slow["p50Ms"] == slow["maxMs"] >= 150
    for route in stats["routes"]:
        assert 0 < route["p50Ms"] <= route["p95Ms"] <= route["p99Ms"] <= route["maxMs"]
        assert 1 <= len(route["slowest"]) <= 3
    assert stats["calls"] == sum(route["count"] for route in stats["routes"])
    assert kept.status_code == 200 and kept.json()["path"] == "/slow?ms=150"
    assert one.json()["routes"] == stats["routes"]
    assert other.status_code == 200 and other.json()["routes"] == []
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_preview_id"
    assert bob.status_code == 404 and bob.json()["error"] == "generation_not_found"
