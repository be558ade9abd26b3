"""Per-endpoint latency in ``/metrics`` (issue 69, item 4): a histogram family of the
proxied calls' times by method and route template (the key of ``…/endpoints/stats``),
whatever the preview; a call no template matches is ``other``, and so is a route past the
label limit, so its cardinality stays bounded."""

from __future__ import annotations

from typing import Any

import trio
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from preview.metrics import RouteLatency
from preview.services.latency import RouteMatcher

from ..conftest import auth
from .jsonlog_app import call, launched, observed_service

FAMILY = "preview_route_latency_seconds"


def _counts(text: str) -> dict[tuple[str, str], float]:
    """``(method, route) -> calls`` of the family, from an exposition."""
    counts = {}
    for family in text_string_to_metric_families(text):
        if family.name != FAMILY:
            continue
        for sample in family.samples:
            if sample.name == f"{FAMILY}_count":
                assert set(sample.labels) == {"method", "route"}  # no preview's id
                counts[(sample.labels["method"], sample.labels["route"])] = sample.value
    return counts


async def _scrape(service: Any) -> dict[tuple[str, str], float]:
    response = await service.client.get("/metrics")
    assert response.status_code == 200, response.text
    return _counts(response.text)


async def test_calls_are_counted_by_route_template_across_previews(settings: Any) -> None:
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            first = await launched(service)
            # No listing asked for yet: the scrape finds the routes first.
            for path in ("/items/1", "/items/2?x=1", "/items/new", "/boom", "/orders/12/x"):
                await call(service, first, path)
            before = await _scrape(service)
            await service.stop(first["gid"])
            second = await launched(service)  # another generation, the same app
            stats = await service.client.get(
                f"/api/generations/{second['gid']}/preview/endpoints/stats", headers=auth()
            )
            assert stats.status_code == 200, stats.text
            for path in ("/items/7", "/slow?ms=120"):
                await call(service, second, path)
            after = await _scrape(service)
            await service.stop(second["gid"])
    assert before == {
        ("GET", "/items/{item_id}"): 2,
        ("GET", "/items/new"): 1,
        ("GET", "/boom"): 1,
        ("GET", "other"): 1,  # /orders/12/x: no template of the app's
    }
    assert after == {
        ("GET", "/items/{item_id}"): 3,  # both previews' calls, one series
        ("GET", "/items/new"): 1,
        ("GET", "/boom"): 1,
        ("GET", "other"): 2,  # /slow is not in its document either
    }


def _route_counts(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    counts = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == f"{FAMILY}_count":
                counts[(sample.labels["method"], sample.labels["route"])] = sample.value
    return counts


def test_routes_past_the_label_limit_are_other() -> None:
    registry = CollectorRegistry()
    routes = RouteLatency(registry, limit=3)
    declared = tuple(("GET", f"/r{i}/{{id}}") for i in range(6))
    routes.observe_call("gen_a", "GET", "/r0/1", 5.0)  # waits for the routes
    assert routes.waiting() == ["gen_a"] and _route_counts(registry) == {}
    routes.learn("gen_a", declared, RouteMatcher)
    for i in range(1, 6):
        routes.observe_call("gen_a", "GET", f"/r{i}/1", 5.0)
    routes.observe_call("gen_a", "BREW", "/r0/2", 5.0)  # a method of no standard
    routes.observe_call("gen_b", "GET", "/r0/3", 5.0)
    routes.settle("gen_b")  # its routes could not be found: other
    assert routes.waiting() == []
    assert _route_counts(registry) == {
        ("GET", "/r0/{id}"): 1,
        ("GET", "/r1/{id}"): 1,
        ("GET", "/r2/{id}"): 1,
        ("GET", "other"): 4,  # r3, r4, r5 past the limit, and gen_b's
        ("OTHER", "other"): 1,
    }
