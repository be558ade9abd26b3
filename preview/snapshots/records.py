"""The store's rows of snapshots (``store.models.PreviewSnapshot``): blocking queries,
run through ``Store.run_sync``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from ..clock import isoformat
from ..store.models import PreviewInstance, PreviewSnapshot, one, records

__all__ = [
    "add_snapshot",
    "count_for_preview",
    "delete_snapshot",
    "describe",
    "expired_snapshots",
    "generation_snapshots",
    "get_snapshot",
]


def describe(row: PreviewSnapshot) -> dict[str, Any]:
    """A snapshot as the API shows it."""
    contents = json.loads(row.contents)
    return {
        "snapshotId": row.id,
        "name": row.name,
        "generationId": row.generation_id,
        "previewInstanceId": row.preview_id,
        "createdAt": isoformat(row.created_at),
        "sizeBytes": row.size_bytes,
        "tables": contents.get("tables", []),
        "files": contents.get("files", []),
        "notCovered": contents.get("notCovered", []),
    }


def add_snapshot(engine: Engine, row: PreviewSnapshot) -> None:
    with engine.begin() as connection:
        connection.execute(insert(PreviewSnapshot), row.values())


def count_for_preview(engine: Engine, preview_id: str) -> int:
    query = select(func.count()).where(PreviewSnapshot.preview_id == preview_id)
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def get_snapshot(engine: Engine, snapshot_id: str) -> PreviewSnapshot | None:
    with engine.connect() as connection:
        return one(connection, PreviewSnapshot, PreviewSnapshot.id == snapshot_id)


def generation_snapshots(engine: Engine, generation_id: str) -> list[PreviewSnapshot]:
    query = (
        select(PreviewSnapshot)
        .where(PreviewSnapshot.generation_id == generation_id)
        .order_by(PreviewSnapshot.created_at, PreviewSnapshot.id)
    )
    with engine.connect() as connection:
        return records(PreviewSnapshot, connection.execute(query))


def delete_snapshot(engine: Engine, snapshot_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(PreviewSnapshot).where(PreviewSnapshot.id == snapshot_id))


def expired_snapshots(engine: Engine, ended_before: datetime) -> list[tuple[str, str]]:
    """(generation, snapshot) of the snapshots whose preview ended before
    ``ended_before`` (their preview's row gone too counts as ended)."""
    ended = func.coalesce(PreviewInstance.stopped_at, PreviewInstance.created_at)
    query = (
        select(PreviewSnapshot.generation_id, PreviewSnapshot.id)
        .outerjoin(PreviewInstance, PreviewInstance.id == PreviewSnapshot.preview_id)
        .where(
            (PreviewInstance.id.is_(None) & (PreviewSnapshot.created_at < ended_before))
            | (PreviewInstance.status.in_(("stopped", "failed")) & (ended < ended_before))
        )
    )
    with engine.connect() as connection:
        return [(g, s) for g, s in connection.execute(query)]
