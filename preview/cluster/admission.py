"""Launch limits that hold across nodes, in one PostgreSQL transaction.

The user's launches are serialised by an advisory lock on their id, held to the end of
the transaction; then their live previews are counted, and the row inserted. READ
COMMITTED, never REPEATABLE READ: there the snapshot is taken when the lock call
*starts*, before it waits, so the count would miss the launch that held the lock and
just committed, and the limit would be passed (CLUSTER.md, 2.3). One live preview per
generation is the partial unique index's (migration 0010): the second insert fails.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, text

from ..store.models import ACTIVE_STATUSES, PreviewInstance

__all__ = ["AlreadyLive", "AtLimit", "live_preview_of", "place_preview", "user_lock_key"]


class AtLimit(Exception):
    """The user already has their tier's number of live previews (``running``: the
    rows, as ``(id, generation_id, project_id, status)``)."""

    def __init__(self, running: list[tuple[str, str, str | None, str]]) -> None:
        super().__init__(f"{len(running)} live previews")
        self.running = running


def user_lock_key(user_id: str) -> str:
    """What the advisory lock serialising a user's launches is taken on (hashed)."""
    return "preview-launch-user:" + user_id


class AlreadyLive(Exception):
    """The generation has a live preview (``preview_id``, ``status``), on some node."""

    def __init__(self, preview_id: str, status: str) -> None:
        super().__init__(preview_id)
        self.preview_id = preview_id
        self.status = status


def place_preview(
    engine: Engine, values: dict[str, Any], limit: int, *, isolation: str = "READ COMMITTED"
) -> None:
    """Insert the row of a launch unless its user is at ``limit`` (:class:`AtLimit`);
    :class:`AlreadyLive` if its generation has one; ``IntegrityError`` if a live one
    slipped past (the index) or the generation is gone. Blocking. (``isolation``: for
    the tests' negative control alone.)"""
    table = PreviewInstance.__table__
    committed = engine.connect().execution_options(isolation_level=isolation)
    with committed as connection, connection.begin():
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": user_lock_key(values["user_id"])},
        )
        # A generation is one user's, so the lock serialises its launches too: its live
        # preview is seen here (the unique index is the backstop).
        live = connection.execute(
            select(table.c.id, table.c.status)
            .where(table.c.generation_id == values["generation_id"])
            .where(table.c.status.in_(ACTIVE_STATUSES))
        ).first()
        if live is not None:
            raise AlreadyLive(live[0], live[1])
        running = connection.execute(
            select(table.c.id, table.c.generation_id, table.c.project_id, table.c.status)
            .where(table.c.user_id == values["user_id"])
            .where(table.c.status.in_(ACTIVE_STATUSES))
            .order_by(table.c.created_at)
        ).all()
        if len(running) >= limit:
            raise AtLimit([tuple(row) for row in running])
        connection.execute(insert(table), values)


def live_preview_of(engine: Engine, generation_id: str) -> tuple[str, str, str | None] | None:
    """``(id, status, node)`` of the generation's live preview, if it has one. Blocking."""
    table = PreviewInstance.__table__
    query = (
        select(table.c.id, table.c.status, table.c.node_id)
        .where(table.c.generation_id == generation_id)
        .where(table.c.status.in_(ACTIVE_STATUSES))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (row[0], row[1], row[2])
