"""Alerts on a preview's log lines and calls: a generation's rules (a pattern, a level, a
field condition on a JSON or logfmt line's fields), matched as the app's lines arrive,
and (a route's p95 or error rate over a window) judged as its calls end; a rule met makes
an ``alert`` event in the same log (source ``alert``: streamed as ``event: alert``,
stored, replayed like any line).

A route rule keeps the calls of its route within its window (at most
:data:`MAX_WINDOW_CALLS`, the oldest let go first) and judges them as each call ends (at
most once a second once they are more than 500): its p95 (nearest rank) or its share of
errors (a 5xx, or no answer) above its threshold, over :data:`MIN_WINDOW_CALLS` calls at
least (one slow call is no trend). It alerts when the route crosses its threshold, and
again, while it stays above, once a window has passed. A call's only cost where no rule
names a route: none (the runtime calls no watch).

The watch runs on the intake's path, so it costs nothing where a generation has no rule
(the broadcast calls no watch), and is bounded where it has: patterns are RE2's (linear
time: a user's pattern cannot make the event loop backtrack for seconds), searched in a
line's first :data:`SEARCHED_CHARS` characters. One rule alerts at most once every
:data:`MIN_INTERVAL` seconds; the matches meanwhile are counted, and said in its next
alert. Each alert is also handed to ``on_fire`` (the service counts it and, for a rule
with a webhook, queues its delivery: ``services.webhooks``; nothing waits on the
intake's path).
"""

from __future__ import annotations

import importlib
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import trio

from ..clock import utcnow
from .event import Event
from .fields import FieldFilter, line_fields, parse_condition

__all__ = [
    "ALERT_SOURCE",
    "MAX_WINDOW_CALLS",
    "MIN_INTERVAL",
    "MIN_WINDOW_CALLS",
    "ROUTE_METRICS",
    "SEARCHED_CHARS",
    "AlertSpec",
    "AlertWatch",
    "compile_pattern",
]

ALERT_SOURCE = "alert"
MIN_INTERVAL = 10.0  # seconds between two alerts of one rule
SEARCHED_CHARS = 8192
MAX_WINDOW_CALLS = 10_000  # a route rule's calls kept within its window, at most
MIN_WINDOW_CALLS = 5  # calls in the window before a route rule judges them
ROUTE_METRICS = ("p95", "errorRate")
# A window of more calls than this is judged at most once a second (a p95 sorts them).
_JUDGED_EACH_CALL_UP_TO = 500
_JUDGED_EVERY = 1.0
_EXCERPT = 200
_RANK = {"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}


def compile_pattern(pattern: str) -> Any:
    """``pattern`` as an RE2 regex; ValueError (its reason) if RE2 refuses it."""
    re2 = importlib.import_module("re2")  # imported by a launch already (history masking)
    options = re2.Options()
    options.log_errors = False  # a user's bad pattern is their 400, not the service's stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        raise ValueError(str(error)) from None


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """A rule as the watch judges it: on lines, a ``pattern``, a ``level`` (that or
    above) and a ``field`` condition (``status>=500``), each given one holding; on calls,
    a ``route`` (``GET /items/{item_id}``, or a path for any method) whose ``metric``
    (``p95``: milliseconds; ``errorRate``: a share, 0 to 1) is above ``threshold`` over
    the last ``window`` seconds. ``webhook``: where its alerts are also sent
    (``on_fire``), if anywhere."""

    id: str
    name: str
    pattern: str | None = None
    level: str | None = None
    webhook: str | None = None
    field: str | None = None
    route: str | None = None
    metric: str | None = None
    threshold: float | None = None
    window: float = 60.0


class _Rule:
    __slots__ = (
        "condition",
        "fired",
        "last",
        "last_at",
        "level",
        "matched",
        "regex",
        "spec",
        "suppressed",
    )

    def __init__(self, spec: AlertSpec) -> None:
        self.spec = spec
        self.regex = compile_pattern(spec.pattern) if spec.pattern else None
        self.level = _RANK.get(spec.level or "")
        self.condition: FieldFilter | None = parse_condition(spec.field) if spec.field else None
        self.matched = self.fired = self.suppressed = 0
        self.last: float | None = None  # trio's clock at its last alert
        self.last_at: datetime | None = None

    def matches(self, event: Event) -> bool:
        if self.level is not None and _RANK.get(event.level, 0) < self.level:
            return False
        if self.regex is not None and self.regex.search(event.message[:SEARCHED_CHARS]) is None:
            return False
        if self.condition is not None:
            fields = line_fields(event.message)  # parsed only once the rest holds
            return fields is not None and self.condition.holds(fields)
        return True


class _RouteRule:
    """A route rule's window of calls: (when it ended, its time, whether it failed)."""

    __slots__ = ("above", "calls", "errors", "judged", "matches", "rule")

    def __init__(self, rule: _Rule, matches: Callable[[str, str], bool]) -> None:
        self.rule = rule
        self.matches = matches
        self.calls: deque[tuple[float, float, bool]] = deque(maxlen=MAX_WINDOW_CALLS)
        self.errors = 0
        self.judged: float | None = None
        self.above = False  # at its last judgement

    def add(self, now: float, elapsed_ms: float, failed: bool) -> None:
        if len(self.calls) == self.calls.maxlen and self.calls[0][2]:
            self.errors -= 1  # the oldest, let go by the deque itself
        self.calls.append((now, elapsed_ms, failed))
        self.errors += failed
        window = self.rule.spec.window
        while self.calls and self.calls[0][0] < now - window:
            self.errors -= self.calls.popleft()[2]

    def measure(self) -> float:
        """The window's p95 (ms) or error share, as the rule's metric says."""
        if self.rule.spec.metric == "errorRate":
            return self.errors / len(self.calls)
        ordered = sorted(elapsed for _, elapsed, _ in self.calls)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class AlertWatch:
    """A preview's rules: called with each batch of the app's lines (``LogBroadcast.
    watch``, where a rule is on lines: :attr:`watches_lines`) and told of each call that
    ended (:meth:`observe_call`, where one is on a route: :attr:`watches_calls`); an
    alert is added through ``add`` (the broadcast's ``add``)."""

    def __init__(
        self,
        specs: Sequence[AlertSpec],
        add: Callable[..., Event],
        *,
        interval: float = MIN_INTERVAL,
        previous: AlertWatch | None = None,
        on_fire: Callable[[AlertSpec, Event], None] | None = None,
        route_matcher: Callable[[str], Callable[[str, str], bool]] | None = None,
    ) -> None:
        """``on_fire(rule, alert)``: called with each alert (counted; sent to the rule's
        webhook, if it has one); it must not block: the intake's path.
        ``route_matcher(route)``: whether a call (its method, its path) is of ``route``;
        without one, a route rule is its path exactly."""
        # A rule the preview had already keeps its counts, its last alert and its window
        # (a rule added beside it must not let it alert again within its interval).
        kept = {rule.spec: rule for rule in previous._rules} if previous is not None else {}
        windows = {r.rule.spec: r for r in previous._routes} if previous is not None else {}
        self._rules = [kept.get(spec) or _Rule(spec) for spec in specs]
        self._lines = [rule for rule in self._rules if rule.spec.route is None]
        matcher = route_matcher or _exact_route
        self._routes = [
            windows.get(rule.spec) or _RouteRule(rule, matcher(rule.spec.route))
            for rule in self._rules
            if rule.spec.route is not None
        ]
        self._add = add
        self._interval = interval
        self._on_fire = on_fire

    @property
    def watches_lines(self) -> bool:
        return bool(self._lines)

    @property
    def watches_calls(self) -> bool:
        return bool(self._routes)

    def __call__(self, events: Sequence[Event]) -> None:
        now: float | None = None
        for rule in self._lines:
            for event in events:
                if not rule.matches(event):
                    continue
                rule.matched += 1
                now = trio.current_time() if now is None else now
                if rule.last is not None and now - rule.last < self._interval:
                    rule.suppressed += 1
                    continue
                self._fire(rule, event, now)

    def observe_call(self, method: str, path: str, status: int | None, elapsed_ms: float) -> None:
        """A call to the app ended (``path`` with its query): counted in the window of
        each route rule it is of, which is then judged (see the module doc)."""
        plain = path.partition("?")[0]
        now: float | None = None
        for route in self._routes:
            if not route.matches(method, plain):
                continue
            now = trio.current_time() if now is None else now
            route.add(now, elapsed_ms, status is None or status >= 500)
            if (
                len(route.calls) > _JUDGED_EACH_CALL_UP_TO
                and route.judged is not None
                and now - route.judged < _JUDGED_EVERY
            ):
                continue
            route.judged = now
            self._judge(route, now)

    def _judge(self, route: _RouteRule, now: float) -> None:
        rule, spec = route.rule, route.rule.spec
        if len(route.calls) < MIN_WINDOW_CALLS:
            return
        value = route.measure()
        above = value > (spec.threshold or 0.0)
        crossed, route.above = above and not route.above, above
        if not above:
            return
        rule.matched += 1
        since = now - rule.last if rule.last is not None else math.inf
        if (not crossed and since < spec.window) or since < self._interval:
            rule.suppressed += 1
            return
        if spec.metric == "errorRate":
            said = f"error rate {value:.0%} above {spec.threshold:.0%}"
            said += f" ({route.errors} of {len(route.calls)} calls)"
        else:
            said = f"p95 {value:.0f} ms above {spec.threshold:.0f} ms ({len(route.calls)} calls)"
        message = f"alert {spec.name!r}: {spec.route} {said} over the last {spec.window:.0f} s"
        self._alert(rule, "WARN", message, now)

    def _fire(self, rule: _Rule, event: Event, now: float) -> None:
        excerpt = event.message[:_EXCERPT] + ("…" if len(event.message) > _EXCERPT else "")
        more = f" (+{rule.suppressed} more since its last alert)" if rule.suppressed else ""
        message = f"alert {rule.spec.name!r}: line {event.id} matched{more}: {excerpt}"
        self._alert(rule, "ERROR" if event.level == "ERROR" else "WARN", message, now)

    def _alert(self, rule: _Rule, level: str, message: str, now: float) -> None:
        rule.fired += 1
        rule.suppressed = 0
        rule.last, rule.last_at = now, utcnow()
        alert = self._add(level, message, ALERT_SOURCE)
        if self._on_fire is not None:
            self._on_fire(rule.spec, alert)

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per rule id: lines matched (a route rule's: judgements above its threshold),
        alerts fired, when it last fired (this preview's)."""
        return {
            rule.spec.id: {
                "matched": rule.matched,
                "fired": rule.fired,
                "lastFiredAt": rule.last_at,
            }
            for rule in self._rules
        }


def _exact_route(route: str) -> Callable[[str, str], bool]:
    method, _, path = route.rpartition(" ")
    return lambda called, plain: plain == path and method in ("", called)
