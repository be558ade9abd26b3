"""A generation's alert rules: ``POST|GET /api/generations/{gid}/alerts``, ``DELETE
…/alerts/{id}``. Stored (they hold across restarts and relaunches) and armed on the running
preview at once (``arm_alerts``: at each launch too); a rule is on lines (a pattern, a
level, a field condition) or on a route (its p95 or error rate over a window); a rule met
is an ``alert`` event in its log (``logs.alerts``) and, for a rule with a ``webhook``, a
signed POST there (``services.webhooks``; the rule's secret is answered once, when it is
made)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from quart import Blueprint, Response, jsonify

from ..clock import isoformat, utcnow
from ..errors import BadRequest, Conflict, NotFound
from ..logs import Event, parse_condition
from ..logs.alerts import MIN_INTERVAL, ROUTE_METRICS, AlertSpec, AlertWatch, compile_pattern
from ..services import Services, services
from ..services.audit import record_action
from ..services.callers import json_body, owned_generation
from ..services.latency import RouteMatcher
from ..services.webhooks import WebhookRefused, check_webhook_url, new_webhook_secret
from ..store.alerts import MAX_RULES, add_rule, delete_rule, list_rules
from ..store.models import AlertRule

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["arm_alerts", "blueprint"]

blueprint = Blueprint("alerts", __name__, url_prefix="/api/generations/<gid>/alerts")
_LEVELS = ("WARN", "ERROR")
_MAX_PATTERN = 500
_MAX_NAME = 100
# A route as the endpoints' statistics name it: a method and a template, or a path alone
# (any method).
_ROUTE = re.compile(r"(?:([A-Z]{3,7}) )?(/[^\s]{0,299})")
_WINDOWS = (10, 3600)  # seconds a route rule's window may span
_MAX_P95_MS = 600_000.0


async def arm_alerts(state: Services, runtime: PreviewRuntime) -> None:
    """Give ``runtime`` the generation's rules as they are stored now (none: no watch at
    all, and nothing on the intake's path or a call's)."""
    assert state.store is not None
    spec = runtime.spec
    rules = await state.store.run_sync(list_rules, state.store.engine, spec.generation_id)
    specs = [_spec(rule) for rule in rules]
    keys = {rule.id: rule.webhook_secret for rule in rules if rule.webhook_secret}

    def send(rule: AlertSpec, alert: Event) -> None:  # on the intake's path: queued only
        state.metrics.alerts.fired += 1
        if rule.webhook is not None and rule.id in keys:
            payload = {
                "type": "alert",
                "ruleId": rule.id,
                "ruleName": rule.name,
                "generationId": spec.generation_id,
                "previewId": spec.preview_id,
                "level": alert.level,
                "message": alert.message,
                "seq": alert.id,
                "firedAt": isoformat(alert.timestamp),
            }
            state.webhooks.queue(rule.webhook, keys[rule.id], payload)

    broadcast = runtime.broadcast
    watch = None
    if specs:
        watch = AlertWatch(
            specs,
            broadcast.add,
            previous=runtime.alerts,
            on_fire=send,
            route_matcher=_route_matcher,
        )
    runtime.alerts = watch
    broadcast.watch = watch if watch is not None and watch.watches_lines else None


def _spec(rule: AlertRule) -> AlertSpec:
    return AlertSpec(
        rule.id,
        rule.name,
        rule.pattern,
        rule.level,
        rule.webhook_url,
        field=rule.field_condition,
        route=rule.route,
        metric=rule.metric,
        threshold=rule.threshold,
        window=float(rule.window_seconds or 60),
    )


def _route_matcher(route: str) -> Callable[[str, str], bool]:
    """Whether a call (its method, its path) is of ``route`` (``GET /items/{item_id}``:
    the template as the app declares it, or as the endpoints' statistics collapse ids,
    ``/items/{id}``; no method: any)."""
    method, _, template = route.rpartition(" ")
    matcher = RouteMatcher([(method or "*", template)])
    return lambda called, path: matcher.template(called, path) is not None


def _rule_json(rule: AlertRule, counts: dict[str, Any] | None) -> dict[str, Any]:
    fired = (counts or {}).get(rule.id)
    return {
        "id": rule.id,
        "name": rule.name,
        "pattern": rule.pattern,
        "level": rule.level,
        "field": rule.field_condition,
        "route": rule.route,
        "metric": rule.metric,
        "above": rule.threshold,
        "window": rule.window_seconds,
        "webhook": rule.webhook_url,  # (its secret: answered once, when the rule is made)
        "createdAt": isoformat(rule.created_at),
        # Of the running preview (none: null): its lines matched and alerts made.
        "matched": fired["matched"] if fired else None,
        "fired": fired["fired"] if fired else None,
        "lastFiredAt": isoformat(fired["lastFiredAt"]) if fired else None,
    }


def _counts(state: Services, gid: str) -> dict[str, Any] | None:
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    watch = runtime.alerts if runtime is not None else None
    return watch.counts() if watch is not None else None


async def _rearm(state: Services, gid: str) -> None:
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is not None and not runtime.broadcast.closed:
        await arm_alerts(state, runtime)


@dataclass(frozen=True)
class _Conditions:
    """What a rule's body asks for, checked: on lines, or on a route."""

    name: str
    pattern: str | None = None
    level: str | None = None
    field: str | None = None
    route: str | None = None
    metric: str | None = None
    above: float | None = None
    window: int | None = None

    def audited(self) -> dict[str, Any]:
        """What the audit trail says of the rule: what it asks, those it gives."""
        said = {"name": self.name, "pattern": self.pattern, "level": self.level}
        more = {"field": self.field, "route": self.route, "metric": self.metric}
        return said | {key: value for key, value in more.items() if value is not None}


def _rule_from(body: dict[str, Any]) -> _Conditions:
    route_keys = [key for key in ("route", "metric", "above", "window") if key in body]
    line_keys = [key for key in ("pattern", "level", "field") if body.get(key) is not None]
    if route_keys and line_keys:
        raise BadRequest(
            "A rule is on lines (pattern, level, field) or on a route (route, metric, above,"
            f" window), not both: it has {', '.join(line_keys + route_keys)}.",
            code="invalid_rule",
        )
    found = _route_rule(body) if route_keys else _line_rule(body)
    name = body.get("name", found.name)
    if not isinstance(name, str) or not 1 <= len(name) <= _MAX_NAME or not name.isprintable():
        raise BadRequest(
            f"name must be 1 to {_MAX_NAME} printable characters.", code="invalid_name"
        )
    return replace(found, name=name)


def _line_rule(body: dict[str, Any]) -> _Conditions:
    pattern, level, field = body.get("pattern"), body.get("level"), body.get("field")
    if pattern is not None and (
        not isinstance(pattern, str) or not 1 <= len(pattern) <= _MAX_PATTERN
    ):
        raise BadRequest(
            f"pattern must be a regular expression of 1 to {_MAX_PATTERN} characters.",
            code="invalid_pattern",
        )
    if isinstance(level, str):
        level = "WARN" if level.upper() == "WARNING" else level.upper()
    if level is not None and level not in _LEVELS:
        raise BadRequest("level must be WARN or ERROR.", code="invalid_level")
    if pattern is None and level is None and field is None:
        raise BadRequest(
            "A rule needs a pattern, a level or a field condition (on lines), or a route and"
            " a metric (on calls).",
            code="invalid_rule",
        )
    if pattern is not None:
        try:
            compile_pattern(pattern)
        except ValueError as error:
            raise BadRequest(
                f"pattern is not a regular expression RE2 takes: {error}",
                code="invalid_pattern",
            ) from None
    if field is not None:
        try:
            field = str(parse_condition(field if isinstance(field, str) else ""))
        except ValueError as error:
            raise BadRequest(
                f"field must be a condition on a JSON or logfmt line's field, as "
                f"status>=500: {error}.",
                code="invalid_field",
            ) from None
    name = pattern or (f"field {field}" if field else f"{level} lines")
    return _Conditions(name[:_MAX_NAME], pattern=pattern, level=level, field=field)


def _route_rule(body: dict[str, Any]) -> _Conditions:
    route, metric = body.get("route"), body.get("metric")
    above, window = body.get("above"), body.get("window", 60)
    if not isinstance(route, str) or not (found := _ROUTE.fullmatch(route.strip())):
        raise BadRequest(
            "route must be a method and a path template as the endpoints' statistics name"
            " it (GET /items/{item_id}), or a path alone (any method).",
            code="invalid_route",
        )
    route = " ".join(part for part in found.groups() if part)
    if metric not in ROUTE_METRICS:
        raise BadRequest(
            "metric must be p95 (milliseconds) or errorRate (a share of calls, 0 to 1).",
            code="invalid_metric",
        )
    highest = _MAX_P95_MS if metric == "p95" else 1.0
    if not isinstance(above, (int, float)) or isinstance(above, bool) or not 0 <= above < highest:
        raise BadRequest(
            f"above must be a number from 0 to below {highest:g}: the {metric} that alerts.",
            code="invalid_threshold",
        )
    if (
        not isinstance(window, int)
        or isinstance(window, bool)
        or not (_WINDOWS[0] <= window <= _WINDOWS[1])
    ):
        raise BadRequest(
            f"window must be whole seconds from {_WINDOWS[0]} to {_WINDOWS[1]}.",
            code="invalid_window",
        )
    shown = f"{above:g} ms" if metric == "p95" else f"{above:.0%}"
    name = f"{route} {metric} above {shown}"
    return _Conditions(
        name[:_MAX_NAME], route=route, metric=metric, above=float(above), window=window
    )


async def _webhook_from(body: dict[str, Any], state: Services) -> str | None:
    webhook = body.get("webhook")
    if webhook is None:
        return None
    if not isinstance(webhook, str):
        raise BadRequest("webhook must be an http(s) URL.", code="invalid_webhook")
    try:
        return await check_webhook_url(webhook, state.settings)
    except WebhookRefused as refused:
        raise BadRequest(
            f"webhook refused: {refused}.",
            code="invalid_webhook",
            details={"webhook": webhook[:200]},
        ) from None


@blueprint.post("")
async def create(gid: str) -> tuple[Response, int]:
    """A new rule ``{pattern?, level?, field?, name?, webhook?}`` on lines, or ``{route,
    metric, above, window?, name?, webhook?}`` on a route; the running preview has it at
    once. With a webhook, the answer holds ``webhookSecret`` (this once: it signs each
    POST, module doc of ``services.webhooks``)."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body()
    conditions = _rule_from(body)
    webhook = await _webhook_from(body, state)
    rule = AlertRule(
        id="alr_" + secrets.token_hex(6),
        generation_id=gid,
        name=conditions.name,
        pattern=conditions.pattern,
        level=conditions.level,
        field_condition=conditions.field,
        route=conditions.route,
        metric=conditions.metric,
        threshold=conditions.above,
        window_seconds=conditions.window,
        created_at=utcnow(),
        webhook_url=webhook,
        webhook_secret=new_webhook_secret() if webhook is not None else None,
    )
    assert state.store is not None
    if not await state.store.run_sync(add_rule, state.store.engine, rule):
        raise Conflict(
            f"This generation has {MAX_RULES} alert rules, the most allowed; delete one first.",
            code="too_many_alert_rules",
            details={"limit": MAX_RULES},
        )
    await _rearm(state, gid)
    await record_action(
        state,
        user,
        "alert_create",
        owner=generation.user_id,
        generation_id=gid,
        ruleId=rule.id,
        **conditions.audited(),
        webhook=webhook,
    )  # (never its secret)
    made = _rule_json(rule, _counts(state, gid))
    if rule.webhook_secret is not None:
        made["webhookSecret"] = rule.webhook_secret
    return jsonify(made), 201


@blueprint.get("")
async def listing(gid: str) -> Response:
    state = services()
    await owned_generation(gid, state.user())
    assert state.store is not None
    rules = await state.store.run_sync(list_rules, state.store.engine, gid)
    counts = _counts(state, gid)
    return jsonify(
        {
            "generationId": gid,
            "minIntervalSeconds": MIN_INTERVAL,
            "rules": [_rule_json(rule, counts) for rule in rules],
        }
    )


@blueprint.delete("/<rule_id>")
async def remove(gid: str, rule_id: str) -> Response:
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    assert state.store is not None
    if not await state.store.run_sync(delete_rule, state.store.engine, gid, rule_id[:40]):
        raise NotFound(
            "This generation has no such alert rule.",
            code="alert_rule_not_found",
            details={"ruleId": rule_id[:40]},
        )
    await _rearm(state, gid)
    await record_action(
        state,
        user,
        "alert_delete",
        owner=generation.user_id,
        generation_id=gid,
        ruleId=rule_id[:40],
    )
    return jsonify({"status": "deleted", "ruleId": rule_id[:40]})
