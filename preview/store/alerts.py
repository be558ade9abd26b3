"""The ``alert_rules`` table: a generation's rules on its log lines, kept across restarts.

Functions here run in the store's worker threads (``Store.run_sync``); each is one
transaction. The rules are matched by ``logs.alerts`` in the running preview."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, insert, select

from .models import AlertRule, records

__all__ = ["MAX_RULES", "add_rule", "delete_rule", "list_rules"]

MAX_RULES = 20  # a generation's rules: each is matched against every line


def add_rule(engine: Engine, rule: AlertRule) -> bool:
    """Insert ``rule``; False (nothing inserted) when its generation has ``MAX_RULES``."""
    with engine.begin() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(AlertRule)
            .where(AlertRule.generation_id == rule.generation_id)
        )
        if (count or 0) >= MAX_RULES:
            return False
        connection.execute(insert(AlertRule), rule.values())
    return True


def list_rules(engine: Engine, generation_id: str) -> list[AlertRule]:
    """The generation's rules, oldest first."""
    statement = (
        select(AlertRule)
        .where(AlertRule.generation_id == generation_id)
        .order_by(AlertRule.created_at, AlertRule.id)
    )
    with engine.connect() as connection:
        return records(AlertRule, connection.execute(statement))


def delete_rule(engine: Engine, generation_id: str, rule_id: str) -> bool:
    """Remove the rule; whether there was one."""
    statement = delete(AlertRule).where(
        AlertRule.generation_id == generation_id, AlertRule.id == rule_id
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount > 0
