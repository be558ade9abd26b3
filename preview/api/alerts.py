"""A generation's alert rules: ``POST|GET /api/generations/{gid}/alerts``, ``DELETE
…/alerts/{id}``. Stored (they hold across restarts and relaunches) and armed on the running
preview at once (``arm_alerts``: at each launch too); a match is an ``alert`` event in
its log (``logs.alerts``) and, for a rule with a ``webhook``, a signed POST there
(``services.webhooks``; the rule's secret is answered once, when it is made)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from quart import Blueprint, Response, jsonify

from ..clock import isoformat, utcnow
from ..errors import BadRequest, Conflict, NotFound
from ..logs import Event
from ..logs.alerts import MIN_INTERVAL, AlertSpec, AlertWatch, compile_pattern
from ..services import Services, services
from ..services.audit import record_action
from ..services.callers import json_body, owned_generation
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


async def arm_alerts(state: Services, runtime: PreviewRuntime) -> None:
    """Give ``runtime``'s log the generation's rules as they are stored now (none: no
    watch at all, and nothing on the intake's path)."""
    assert state.store is not None
    spec = runtime.spec
    rules = await state.store.run_sync(list_rules, state.store.engine, spec.generation_id)
    specs = [
        AlertSpec(rule.id, rule.name, rule.pattern, rule.level, rule.webhook_url) for rule in rules
    ]
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
    previous = broadcast.watch if isinstance(broadcast.watch, AlertWatch) else None
    watch = AlertWatch(specs, broadcast.add, previous=previous, on_fire=send) if specs else None
    broadcast.watch = watch


def _rule_json(rule: AlertRule, counts: dict[str, Any] | None) -> dict[str, Any]:
    fired = (counts or {}).get(rule.id)
    return {
        "id": rule.id,
        "name": rule.name,
        "pattern": rule.pattern,
        "level": rule.level,
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
    watch = runtime.broadcast.watch if runtime is not None else None
    return watch.counts() if isinstance(watch, AlertWatch) else None


async def _rearm(state: Services, gid: str) -> None:
    assert state.supervisor is not None
    runtime = state.supervisor.for_generation(gid)
    if runtime is not None and not runtime.broadcast.closed:
        await arm_alerts(state, runtime)


def _rule_from(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    pattern, level, name = body.get("pattern"), body.get("level"), body.get("name")
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
    if pattern is None and level is None:
        raise BadRequest("A rule needs a pattern, a level, or both.", code="invalid_rule")
    if pattern is not None:
        try:
            compile_pattern(pattern)
        except ValueError as error:
            raise BadRequest(
                f"pattern is not a regular expression RE2 takes: {error}",
                code="invalid_pattern",
            ) from None
    if name is None:
        name = pattern if pattern is not None else f"{level} lines"
    if not isinstance(name, str) or not 1 <= len(name) <= _MAX_NAME or not name.isprintable():
        raise BadRequest(
            f"name must be 1 to {_MAX_NAME} printable characters.", code="invalid_name"
        )
    return name[:_MAX_NAME], pattern, level


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
    """A new rule ``{pattern?, level?, name?, webhook?}``; the running preview has it at
    once. With a webhook, the answer holds ``webhookSecret`` (this once: it signs each
    POST, module doc of ``services.webhooks``)."""
    state = services()
    user = state.user()
    generation = await owned_generation(gid, user)
    body = await json_body()
    name, pattern, level = _rule_from(body)
    webhook = await _webhook_from(body, state)
    rule = AlertRule(
        id="alr_" + secrets.token_hex(6),
        generation_id=gid,
        name=name,
        pattern=pattern,
        level=level,
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
        name=name,
        pattern=pattern,
        level=level,
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
