"""The ``proxied_requests`` table read: pages of a generation's requests, and whole ones.

Functions here run in the store's worker threads (``Store.run_sync``) on its engine; each is
one read (the writer is ``rows``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from ..store.models import PreviewInstance, ProxiedRequest

__all__ = ["RequestQuery", "list_requests", "read_request", "read_requests"]


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """A page of a generation's requests, newest first: before ``before`` (an id),
    filtered by method, a path substring, a status (``404``) or class (``4``: 4xx), and
    whether replays are included."""

    generation_id: str
    limit: int = 100
    before: int | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    status_class: int | None = None
    replays: bool = True


_SUMMARY = (
    ProxiedRequest.id,
    ProxiedRequest.preview_id,
    ProxiedRequest.request_id,
    ProxiedRequest.event_id,
    ProxiedRequest.way,
    ProxiedRequest.replay_of,
    ProxiedRequest.started_at,
    ProxiedRequest.elapsed_ms,
    ProxiedRequest.total_ms,
    ProxiedRequest.method,
    ProxiedRequest.path,
    ProxiedRequest.status,
    ProxiedRequest.error,
    ProxiedRequest.request_size,
    ProxiedRequest.response_size,
)


def list_requests(engine: Engine, query: RequestQuery) -> list[dict[str, Any]]:
    """The summaries of a page (``limit`` + 1 rows: the caller tells if there is more)."""
    statement = select(*_SUMMARY).where(ProxiedRequest.generation_id == query.generation_id)
    if query.before is not None:
        statement = statement.where(ProxiedRequest.id < query.before)
    if query.method:
        statement = statement.where(ProxiedRequest.method == query.method.upper())
    if query.path:
        escaped = query.path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(ProxiedRequest.path.like(f"%{escaped}%", escape="\\"))
    if query.status is not None:
        statement = statement.where(ProxiedRequest.status == query.status)
    if query.status_class is not None:
        low = query.status_class * 100
        statement = statement.where(ProxiedRequest.status.between(low, low + 99))
    if not query.replays:
        statement = statement.where(ProxiedRequest.replay_of.is_(None))
    statement = statement.order_by(ProxiedRequest.id.desc()).limit(query.limit + 1)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]


def read_request(engine: Engine, generation_id: str, request_id: int) -> dict[str, Any] | None:
    """One request of the generation, whole (with ``baseUrl`` of its preview)."""
    found = read_requests(engine, generation_id, [request_id])
    return found[0] if found else None


def read_requests(
    engine: Engine, generation_id: str, ids: Sequence[int] | None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Requests of the generation, whole, oldest first: those of ``ids``, or (None) its
    newest ``limit`` that are not replays."""
    statement = (
        select(*ProxiedRequest.__table__.c, PreviewInstance.base_url)
        .join(PreviewInstance, PreviewInstance.id == ProxiedRequest.preview_id)
        .where(ProxiedRequest.generation_id == generation_id)
    )
    if ids is not None:
        statement = statement.where(ProxiedRequest.id.in_(list(ids)))
    else:
        statement = statement.where(ProxiedRequest.replay_of.is_(None))
    statement = statement.order_by(ProxiedRequest.id.desc()).limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [dict(row._mapping) for row in reversed(rows)]
