"""Prometheus metrics of one app instance: :class:`Metrics` (``GET /metrics``).

Each app has a registry of its own (``prometheus_client.CollectorRegistry``), so several
apps in one process (tests, embedding) never share or collide. Events are recorded where
they happen, by their owners: launches by the supervisor, start durations and failures
by a preview's runtime, log lines by its broadcast (plain integer counters in
:class:`LogStats`, read at scrape time: an increment per published batch is all the hot
path pays), proxied calls where each is recorded (:class:`CallStats`, the same way),
store writes by the log writer. What is a state rather than an event
(previews by status, subscribers, the writers' queues) is read from the live previews
when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.utils import floatToGoString

__all__ = [
    "FAILURE_CAUSES",
    "LIVE_STATUSES",
    "OTHER_ROUTE",
    "PREPARATION_FAILED",
    "ROUTE_LABELS",
    "WEBHOOK_OUTCOMES",
    "AlertStats",
    "CallStats",
    "LogStats",
    "Metrics",
    "RouteLatency",
    "failure_label",
]

LIVE_STATUSES = ("starting", "running", "stopping")
# The bounded label set of preview_failures_total (anything else is "other").
FAILURE_CAUSES = (
    "files",
    "no_space",
    "build",
    "setup",
    "spawn",
    "startup_timeout",
    "missing_module",
    "port_in_use",
    "start_crash",
    "crash",
    "other",
)
PREPARATION_FAILED = "its preparation failed"  # the stop reason of a failed build or setup
_LAUNCH_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120)
_BUILD_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200)
_WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class LogStats:
    """Counters every preview's broadcast of one app adds to; the writers observe their
    store writes here. Plain attributes: the broadcast's hot path only adds to them."""

    __slots__ = ("delivered", "dropped", "observe_write", "published")

    def __init__(self, observe_write: Callable[[float], None] | None = None) -> None:
        self.published = 0  # events published (log lines in)
        self.delivered = 0  # events handed to live subscribers, ring or catch-up (lines out)
        self.dropped = 0  # subscribers dropped for falling behind
        self.observe_write: Callable[[float], None] = observe_write or (lambda seconds: None)


class CallStats:
    """Calls to the previews' apps by the way they came in and how they ended (their
    status class, or ``failed``), counted once each where every call is recorded
    (``services.calls``): a plain dict, read at scrape time."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}  # (way, outcome) -> calls


class _LiveLog(Protocol):
    @property
    def subscriber_count(self) -> int: ...

    @property
    def writer_queue_depth(self) -> int: ...


class _LivePreview(Protocol):
    # Read-only: a runtime's status is a property of its state.
    @property
    def status(self) -> str: ...

    @property
    def broadcast(self) -> _LiveLog: ...


def failure_label(stop_reason: str | None, error_message: str | None) -> str:
    """The cause label of a failed preview, from one of :data:`FAILURE_CAUSES`."""
    message = error_message or ""
    if message.startswith("no space left"):
        return "no_space"
    if message.startswith("could not write"):
        return "files"
    if stop_reason == PREPARATION_FAILED:  # its environment's build, or a set-up step
        return "setup" if message.startswith("setup step") else "build"
    if message.startswith("could not start"):
        return "spawn"
    if stop_reason == "start-up timeout":
        return "startup_timeout"
    if "ModuleNotFoundError" in message:
        return "missing_module"
    if message.startswith("port already in use"):
        return "port_in_use"
    if stop_reason == "the process exited during start-up":
        return "start_crash"
    if stop_reason == "the process exited":
        return "crash"
    return "other"


WEBHOOK_OUTCOMES = ("delivered", "failed", "dropped")


class AlertStats:
    """Alerts fired by the previews' rules (``logs.alerts``) and their webhooks' deliveries
    by outcome (``services.webhooks``): plain counters, read at scrape time."""

    __slots__ = ("fired", "webhooks")

    def __init__(self) -> None:
        self.fired = 0
        self.webhooks = dict.fromkeys(WEBHOOK_OUTCOMES, 0)


class Metrics:
    """The metrics of one app (see the module doc); ``render`` is the scrape."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.launches = Counter(
            "preview_launches", "Previews launched (admitted and given a port).", registry=registry
        )
        self.launch_seconds = Histogram(
            "preview_launch_duration_seconds",
            "From a launch to its preview answering HTTP (running).",
            buckets=_LAUNCH_BUCKETS,
            registry=registry,
        )
        self.routes = RouteLatency(registry)  # the proxied calls' times, by route
        self.failures = Counter(
            "preview_failures",
            "Previews that ended failed, by cause.",
            ["cause"],
            registry=registry,
        )
        self.build_seconds = Histogram(
            "preview_build_duration_seconds",
            "Durations of builds of preview environments.",
            buckets=_BUILD_BUCKETS,
            registry=registry,
        )
        self.store_write_seconds = Histogram(
            "preview_store_write_duration_seconds",
            "Durations of the log writers' batch inserts.",
            buckets=_WRITE_BUCKETS,
            registry=registry,
        )
        self.log = LogStats(self.store_write_seconds.observe)
        self.calls = CallStats()
        self.alerts = AlertStats()
        self._live: Callable[[], Iterable[_LivePreview]] = tuple
        registry.register(_LiveCollector(self))

    def watch(self, live: Callable[[], Iterable[_LivePreview]]) -> None:
        """Read the live previews (their status, subscribers, writer queue) from ``live``."""
        self._live = live

    def record_failure(self, stop_reason: str | None, error_message: str | None) -> None:
        self.failures.labels(failure_label(stop_reason, error_message)).inc()

    def observe_build(self, seconds: float) -> None:
        """A build of a preview's environment took ``seconds``."""
        self.build_seconds.observe(seconds)

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)


class _LiveCollector:
    """Gauges read from the live previews, counters from :class:`LogStats`."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        metrics = self._metrics
        previews = list(metrics._live())
        by_status = GaugeMetricFamily(
            "preview_previews", "Live previews by status.", labels=["status"]
        )
        for status in LIVE_STATUSES:
            by_status.add_metric([status], sum(p.status == status for p in previews))
        yield by_status
        yield GaugeMetricFamily(
            "preview_subscribers",
            "Log stream subscribers now.",
            value=sum(p.broadcast.subscriber_count for p in previews),
        )
        yield GaugeMetricFamily(
            "preview_writer_queue_depth",
            "Log events waiting for the database writers.",
            value=sum(p.broadcast.writer_queue_depth for p in previews),
        )
        log = metrics.log
        for name, text, value in (
            ("preview_log_lines_published", "Log events published (lines in).", log.published),
            (
                "preview_log_lines_delivered",
                "Log events handed to live stream subscribers (lines out).",
                log.delivered,
            ),
            (
                "preview_subscribers_dropped",
                "Subscribers dropped for falling behind.",
                log.dropped,
            ),
        ):
            yield CounterMetricFamily(name, text, value=value)
        calls = CounterMetricFamily(
            "preview_proxied_calls",
            "Calls to the previews' apps, by way in and outcome (status class, or failed).",
            labels=["way", "outcome"],
        )
        for (way, outcome), count in sorted(metrics.calls.counts.items()):
            calls.add_metric([way, outcome], count)
        yield calls
        alerts = metrics.alerts
        yield CounterMetricFamily(
            "preview_alerts_fired", "Alerts the previews' rules fired.", value=alerts.fired
        )
        webhooks = CounterMetricFamily(
            "preview_alert_webhooks",
            "Alert webhook deliveries, by outcome (failed: given up after its retries;"
            " dropped: its queue was full).",
            labels=["outcome"],
        )
        for outcome in WEBHOOK_OUTCOMES:
            webhooks.add_metric([outcome], alerts.webhooks[outcome])
        yield webhooks


# preview_route_latency_seconds: at most this many (method, route) label pairs a process;
# a call of another route is counted under its method's OTHER_ROUTE.
ROUTE_LABELS = 500
OTHER_ROUTE = "other"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_ROUTE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_PENDING_CALLS = 10_000  # calls waiting for their generation's routes, in all
_KNOWN_GENERATIONS = 1_000  # generations whose routes are held (the least recent go)
_NAMED_PATHS = 10_000  # (generation, method, path) -> route, worked out once


_BUCKET_NAMES = (*(floatToGoString(b) for b in _ROUTE_BUCKETS), "+Inf")


class _RouteTimes:
    """One series' calls: how many in each bucket (not cumulative; the last, past every
    bound), and their seconds in all."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_ROUTE_BUCKETS) + 1)
        self.total = 0.0


class _Matcher(Protocol):
    def template(self, method: str, path: str) -> str | None: ...


class RouteLatency:
    """``preview_route_latency_seconds{method, route}``: the time to the answer's head of
    every call proxied to a preview, by the route template its app declares (``GET
    /items/{item_id}``: the key of ``…/preview/endpoints/stats``), whatever the preview;
    a call no template matches is ``other``. Bounded: :data:`ROUTE_LABELS` label pairs.

    A generation's routes are what discovery found (:meth:`learn`, from the endpoints'
    listing); a call of a generation whose routes are not known yet waits for them
    (:meth:`waiting`: the scrape asks discovery first), at most ``_PENDING_CALLS`` of
    them, the rest counted as ``other``. A call costs two dict lookups and an increment
    (plain counts per bucket, as :class:`LogStats`'s, made a histogram when scraped:
    prometheus-client's own ``observe`` took a lock and walked the buckets, 2-3 µs more);
    a path's route is matched once."""

    def __init__(self, registry: CollectorRegistry, limit: int = ROUTE_LABELS) -> None:
        self._limit = limit
        self._series: dict[tuple[str, str], _RouteTimes] = {}
        self._known: OrderedDict[str, tuple[tuple[tuple[str, str], ...], _Matcher]] = OrderedDict()
        self._named: dict[tuple[str, str, str], str] = {}
        self._pending: dict[str, list[tuple[str, str, float]]] = {}
        self._pending_count = 0
        registry.register(self)

    def observe_call(self, generation_id: str, method: str, path: str, elapsed_ms: float) -> None:
        """A call (``path`` with its query, as shown) took ``elapsed_ms`` to its head."""
        method = method if method in _METHODS else "OTHER"
        plain = path.partition("?")[0]
        route = self._named.get((generation_id, method, plain))
        if route is None:
            known = self._known.get(generation_id)
            if known is None and self._pending_count < _PENDING_CALLS:
                self._pending.setdefault(generation_id, []).append((method, plain, elapsed_ms))
                self._pending_count += 1
                return
            route = self._route(generation_id, method, plain, known)
        self._observe(method, route, elapsed_ms)

    def _route(self, generation_id: str, method: str, plain: str, known: Any) -> str:
        if known is None:
            return OTHER_ROUTE
        template = known[1].template(method, plain)
        route = template if template is not None else OTHER_ROUTE
        if len(self._named) >= _NAMED_PATHS:
            self._named.clear()
        self._named[(generation_id, method, plain)] = route
        return route

    def _observe(self, method: str, route: str, elapsed_ms: float) -> None:
        series = self._series.get((method, route))
        if series is None:
            if len(self._series) >= self._limit:
                route = OTHER_ROUTE
                series = self._series.get((method, route))
            if series is None:
                series = self._series[(method, route)] = _RouteTimes()
        seconds = elapsed_ms / 1000
        series.counts[bisect_left(_ROUTE_BUCKETS, seconds)] += 1  # the first bound >= it
        series.total += seconds

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only (as _LiveCollector)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "preview_route_latency_seconds",
            "Time to the answer's head of calls proxied to the previews, by route template "
            "(other: no template matched, or past the label limit).",
            labels=["method", "route"],
        )
        for labels, series in sorted(self._series.items()):
            buckets, below = [], 0
            for bound, count in zip(_BUCKET_NAMES, series.counts, strict=True):
                below += count
                buckets.append((bound, below))
            family.add_metric(list(labels), buckets, sum_value=series.total)
        yield family

    def learn(
        self,
        generation_id: str,
        routes: tuple[tuple[str, str], ...],
        matcher: Callable[[tuple[tuple[str, str], ...]], _Matcher],
    ) -> None:
        """``generation_id``'s app declares ``routes`` (``(method, template)``); matched
        by ``matcher(routes)``, made only when they changed. Its waiting calls are
        counted now."""
        known = self._known.get(generation_id)
        if known is None or known[0] != routes:
            self._known[generation_id] = (routes, matcher(routes))
            if known is not None:  # a revision's routes: its paths matched anew
                self._named = {k: v for k, v in self._named.items() if k[0] != generation_id}
            while len(self._known) > _KNOWN_GENERATIONS:
                self._known.popitem(last=False)
        self._known.move_to_end(generation_id)
        self.settle(generation_id)

    def waiting(self) -> list[str]:
        """The generations with calls waiting for their routes."""
        return list(self._pending)

    def settle(self, generation_id: str) -> None:
        """Count ``generation_id``'s waiting calls: by its routes if known, else ``other``."""
        calls = self._pending.pop(generation_id, ())
        self._pending_count -= len(calls)
        known = self._known.get(generation_id)
        for method, plain, elapsed_ms in calls:
            self._observe(method, self._route(generation_id, method, plain, known), elapsed_ms)
