"""Alerts on a preview's log lines: a generation's rules (a pattern, or a level), matched
as the app's lines arrive; a match makes an ``alert`` event in the same log (source
``alert``: streamed as ``event: alert``, stored, replayed like any line).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import trio

from ..clock import utcnow
from .event import Event

__all__ = [
    "ALERT_SOURCE",
    "MIN_INTERVAL",
    "SEARCHED_CHARS",
    "AlertSpec",
    "AlertWatch",
    "compile_pattern",
]

ALERT_SOURCE = "alert"
MIN_INTERVAL = 10.0  # seconds between two alerts of one rule
SEARCHED_CHARS = 8192
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
    """A rule as the watch matches it: a ``pattern``, or a ``level`` (that or above);
    ``webhook``: where its alerts are also sent (``on_fire``), if anywhere."""

    id: str
    name: str
    pattern: str | None = None
    level: str | None = None
    webhook: str | None = None


class _Rule:
    __slots__ = ("fired", "last", "last_at", "level", "matched", "regex", "spec", "suppressed")

    def __init__(self, spec: AlertSpec) -> None:
        self.spec = spec
        self.regex = compile_pattern(spec.pattern) if spec.pattern else None
        self.level = _RANK.get(spec.level or "")
        self.matched = self.fired = self.suppressed = 0
        self.last: float | None = None  # trio's clock at its last alert
        self.last_at: datetime | None = None

    def matches(self, event: Event) -> bool:
        if self.level is not None and _RANK.get(event.level, 0) < self.level:
            return False
        return self.regex is None or self.regex.search(event.message[:SEARCHED_CHARS]) is not None


class AlertWatch:
    """A preview's rules, called with each batch of the app's lines (``LogBroadcast.
    watch``); an alert is added through ``add`` (the broadcast's ``add``)."""

    def __init__(
        self,
        specs: Sequence[AlertSpec],
        add: Callable[..., Event],
        *,
        interval: float = MIN_INTERVAL,
        previous: AlertWatch | None = None,
        on_fire: Callable[[AlertSpec, Event], None] | None = None,
    ) -> None:
        """``on_fire(rule, alert)``: called with each alert (counted; sent to the rule's
        webhook, if it has one); it must not block: the intake's path."""
        # A rule the preview had already keeps its counts and its last alert (a rule
        # added beside it must not let it alert again within its interval).
        kept = {rule.spec: rule for rule in previous._rules} if previous is not None else {}
        self._rules = [kept.get(spec) or _Rule(spec) for spec in specs]
        self._add = add
        self._interval = interval
        self._on_fire = on_fire

    def __call__(self, events: Sequence[Event]) -> None:
        now: float | None = None
        for rule in self._rules:
            for event in events:
                if not rule.matches(event):
                    continue
                rule.matched += 1
                now = trio.current_time() if now is None else now
                if rule.last is not None and now - rule.last < self._interval:
                    rule.suppressed += 1
                    continue
                self._fire(rule, event, now)

    def _fire(self, rule: _Rule, event: Event, now: float) -> None:
        excerpt = event.message[:_EXCERPT] + ("…" if len(event.message) > _EXCERPT else "")
        more = f" (+{rule.suppressed} more since its last alert)" if rule.suppressed else ""
        message = f"alert {rule.spec.name!r}: line {event.id} matched{more}: {excerpt}"
        level = "ERROR" if event.level == "ERROR" else "WARN"
        rule.fired += 1
        rule.suppressed = 0
        rule.last, rule.last_at = now, utcnow()
        alert = self._add(level, message, ALERT_SOURCE)
        if self._on_fire is not None:
            self._on_fire(rule.spec, alert)

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per rule id: lines matched, alerts fired, when it last fired (this preview's)."""
        return {
            rule.spec.id: {
                "matched": rule.matched,
                "fired": rule.fired,
                "lastFiredAt": rule.last_at,
            }
            for rule in self._rules
        }
