"""The ``audit_events`` table: the actions users took, recorded and listed.

Functions here run in the store's worker threads (``Store.run_sync``) on its engine; each
is one transaction. An entry is written once its action is done (a launch that was
refused is no action), and read by the generation's owner alone, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from .models import AuditEvent

__all__ = ["ACTIONS", "AuditEntry", "add_audit", "list_audit", "remove_audit_before"]

# What is recorded (docs/api.md, GET /api/audit, lists them with their details).
ACTIONS = (
    "upload",
    "rename",
    "delete",
    "launch",
    "stop",
    "revision",
    "revision_apply",
    "snapshot_take",
    "snapshot_restore",
    "snapshot_delete",
    "token_create",
    "token_revoke",
    "replay",
    "volatile_paths",
    "annotation_add",
    "annotation_delete",
    "alert_create",
    "alert_delete",
    "preset_put",
    "preset_delete",
    "share_create",
    "share_revoke",
    "share_redeem",
)
_MAX_DETAILS = 2000  # characters of details kept (ids, names, counts: never a body)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action: ``actor_id`` did ``action`` to ``owner_id``'s generation."""

    owner_id: str
    actor_id: str
    action: str
    generation_id: str | None = None
    preview_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None


def add_audit(engine: Engine, entry: AuditEntry, at: datetime) -> None:
    """Record ``entry`` as done at ``at`` (naive UTC)."""
    if entry.action not in ACTIONS:
        raise ValueError(f"unknown audit action {entry.action!r}")
    details = json.dumps(dict(entry.details), separators=(",", ":"), default=str)
    if len(details) > _MAX_DETAILS:  # a long name cut rather than the entry lost
        details = json.dumps({"truncated": details[:_MAX_DETAILS]})
    values = {
        "at": at,
        "owner_id": entry.owner_id,
        "actor_id": entry.actor_id,
        "generation_id": entry.generation_id,
        "preview_id": entry.preview_id,
        "action": entry.action,
        "details": details,
        "source": (entry.source or None) and entry.source[:64],
    }
    with engine.begin() as connection:
        connection.execute(insert(AuditEvent), values)


def list_audit(
    engine: Engine,
    owner_id: str | None,
    *,
    generation_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """``owner_id``'s entries (None: everyone's, an operator's view), of one generation,
    newest first, ids below ``before``: ``limit`` + 1 rows (the caller tells if there is
    more)."""
    table = AuditEvent
    statement = select(AuditEvent)
    if owner_id is not None:
        statement = statement.where(table.owner_id == owner_id)
    if generation_id is not None:
        statement = statement.where(table.generation_id == generation_id)
    if before is not None:
        statement = statement.where(table.id < before)
    statement = statement.order_by(table.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    found = []
    for row in rows:
        entry = dict(row._mapping)
        entry["details"] = json.loads(entry["details"])
        found.append(entry)
    return found


def remove_audit_before(engine: Engine, cutoff: datetime, batch: int = 5000) -> int:
    """Remove the entries recorded before ``cutoff`` (naive UTC), ``batch`` rows a
    transaction (the oldest first: ids grow with time); how many went."""
    removed = 0
    while True:
        oldest = (
            select(AuditEvent.id)
            .where(AuditEvent.at < cutoff)
            .order_by(AuditEvent.id)
            .limit(batch)
            .scalar_subquery()
        )
        with engine.begin() as connection:
            count = connection.execute(delete(AuditEvent).where(AuditEvent.id.in_(oldest))).rowcount
        removed += count
        if count < batch:
            return removed
