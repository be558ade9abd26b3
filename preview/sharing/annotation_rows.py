"""The ``annotations`` table: notes users with access pinned to a preview's log lines
and to a generation's kept requests (``api.annotations``).

Functions here run in the store's worker threads (``Store.run_sync``); each is one
transaction.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, insert, select

from ..store.models import Annotation, ProxiedRequest, first, records

__all__ = [
    "MAX_ANNOTATIONS",
    "add_annotation",
    "annotation_count",
    "delete_annotation",
    "get_annotation",
    "kept_request_preview",
    "list_annotations",
]

MAX_ANNOTATIONS = 1000  # a generation's


def add_annotation(engine: Engine, row: Annotation) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Annotation), row.values())


def annotation_count(engine: Engine, generation_id: str) -> int:
    query = select(func.count()).where(Annotation.generation_id == generation_id)
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def list_annotations(
    engine: Engine, generation_id: str, preview_id: str | None = None
) -> list[Annotation]:
    """The generation's notes (one preview's, when given), oldest first."""
    query = select(Annotation).where(Annotation.generation_id == generation_id)
    if preview_id is not None:
        query = query.where(Annotation.preview_id == preview_id)
    with engine.connect() as connection:
        ordered = query.order_by(Annotation.created_at, Annotation.id)
        return records(Annotation, connection.execute(ordered))


def get_annotation(engine: Engine, generation_id: str, annotation_id: str) -> Annotation | None:
    query = select(Annotation).where(
        Annotation.id == annotation_id, Annotation.generation_id == generation_id
    )
    with engine.connect() as connection:
        return first(Annotation, connection.execute(query))


def delete_annotation(engine: Engine, annotation_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(Annotation).where(Annotation.id == annotation_id))


def kept_request_preview(engine: Engine, generation_id: str, request_id: str) -> str | None:
    """The preview that answered the generation's kept request ``request_id``, if kept."""
    query = (
        select(ProxiedRequest.preview_id)
        .where(
            ProxiedRequest.generation_id == generation_id,
            ProxiedRequest.request_id == request_id,
        )
        .limit(1)
    )
    with engine.connect() as connection:
        return connection.scalar(query)
