"""The paths of a generation's answers its owner marked volatile (``volatile_paths``):
blocking queries, run through ``Store.run_sync``."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from ..store.models import VolatilePath
from .compare import VolatilePaths

__all__ = ["mark_paths", "marked_paths"]


def marked_paths(engine: Engine, generation_id: str) -> VolatilePaths:
    query = (
        select(VolatilePath.path)
        .where(VolatilePath.generation_id == generation_id)
        .order_by(VolatilePath.path)
    )
    with engine.connect() as connection:
        return VolatilePaths(connection.scalars(query))


def mark_paths(engine: Engine, generation_id: str, paths: list[str]) -> VolatilePaths:
    """Replace ``generation_id``'s marked paths with ``paths`` (checked by the caller)."""
    kept = sorted(set(paths))
    with engine.begin() as connection:
        connection.execute(delete(VolatilePath).where(VolatilePath.generation_id == generation_id))
        if kept:
            rows = [{"generation_id": generation_id, "path": path} for path in kept]
            connection.execute(insert(VolatilePath), rows)
    return VolatilePaths(kept)
