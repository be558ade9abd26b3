"""Operations endpoints for load balancers, orchestrators and Prometheus: ``/healthz``
(the process answers), ``/readyz`` (the store answers, the supervisor runs previews and,
in cluster mode, the node holds its lease)
and ``/metrics`` (``preview.metrics``). No authentication: they reveal no user's data
and are meant for the machine's own network."""

from __future__ import annotations

import logging

import trio
from quart import Blueprint, Response
from werkzeug.datastructures import Headers

from ..errors import PreviewError, Unavailable, error_response
from ..services import Services, services
from ..store import DatabaseUnavailable
from .endpoints import discover_endpoints

__all__ = ["blueprint"]

blueprint = Blueprint("ops", __name__)
_log = logging.getLogger(__name__)
_STORE_TIMEOUT = 2.0  # s: a store that takes longer than this is not ready
_RETRY_AFTER = "5"
_DISCOVERY_BUDGET = 5.0  # s of a scrape spent finding routes (Prometheus waits 10)


@blueprint.get("/healthz")
async def healthz() -> Response:
    return Response('{"status":"ok"}\n', content_type="application/json")


@blueprint.get("/readyz")
async def readyz() -> Response:
    state = services()
    problems: dict[str, str] = {}
    if state.supervisor is None or not state.supervisor.serving:
        problems["supervisor"] = "not running"
    cluster = state.supervisor.cluster if state.supervisor is not None else None
    if cluster is not None and not cluster.holds_lease:
        problems["lease"] = "lost"  # fenced: a load balancer must send it nothing
    if state.store is None:
        problems["store"] = "not open"
    else:
        try:
            with trio.fail_after(_STORE_TIMEOUT):
                await state.store.ping()
        except trio.TooSlowError:
            problems["store"] = f"no answer within {_STORE_TIMEOUT:g} s"
        except DatabaseUnavailable as error:
            # The driver's words name the database's host, port and name: for the
            # service's log, not for whoever can reach an unauthenticated endpoint.
            _log.warning("readiness: the store does not answer: %s", error)
            problems["store"] = "unavailable"
    if problems:
        error = Unavailable(
            "The service is not ready: " + ", ".join(f"{k} {v}" for k, v in problems.items()),
            code="not_ready",
            details=problems,
        )
        status, headers, body = error_response(error)
        response = Response(body, status=status, headers=Headers(headers))
        response.headers.setdefault("Retry-After", _RETRY_AFTER)
        return response
    return Response('{"status":"ready"}\n', content_type="application/json")


@blueprint.get("/metrics")
async def metrics() -> Response:
    state = services()
    registry = state.metrics
    await _route_calls_settled(state)
    return Response(registry.render(), content_type=registry.content_type)


async def _route_calls_settled(state: Services) -> None:
    """The proxied calls of generations whose routes are not known yet, counted by route
    (``metrics.RouteLatency``): their routes discovered first (cached, as the endpoints'
    listing), within ``_DISCOVERY_BUDGET`` in all; one that cannot be (deleted since)
    has its calls counted as ``other``; the rest wait for the next scrape."""
    routes = state.metrics.routes
    with trio.move_on_after(_DISCOVERY_BUDGET):
        for gid in routes.waiting():
            try:
                await discover_endpoints(state, gid)  # learns the routes (endpoints._listing)
            except (PreviewError, LookupError, OSError) as error:
                _log.info("the routes of %s for /metrics: %s", gid, error)
            routes.settle(gid)
