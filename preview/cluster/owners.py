"""Which other node owns a preview, and how to reach it: one statement on the shared
database, blocking (run in the store's threads).

A preview is owned by the node that runs it (``preview_instances.node_id``); a call
that must reach its process goes to that node's internal listener
(``nodes.internal_url``). Only a live preview of a live node other than this one is an
answer: anything else is answered here, as a single node would (404, 409, the history).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from ..store.models import LIVE_WHERE

__all__ = ["Owner", "owner_of_generation", "owner_of_preview"]

_LIVE_HERE = LIVE_WHERE.replace("status", "p.status", 1)
_OWNER = f"""
    SELECT p.id, n.id, n.internal_url FROM preview_instances p
    JOIN nodes n ON n.id = p.node_id
    WHERE {{key}} AND {_LIVE_HERE} AND n.state = 'alive' AND n.id <> :me
    LIMIT 1
"""


@dataclass(frozen=True)
class Owner:
    """Another node that runs the preview."""

    preview_id: str
    node: str
    internal_url: str


def owner_of_generation(engine: Engine, generation_id: str, me: str) -> Owner | None:
    return _owner(engine, _OWNER.format(key="p.generation_id = :key"), generation_id, me)


def owner_of_preview(engine: Engine, preview_id: str, me: str) -> Owner | None:
    return _owner(engine, _OWNER.format(key="p.id = :key"), preview_id, me)


def _owner(engine: Engine, statement: str, key: str, me: str) -> Owner | None:
    with engine.connect() as connection:
        row = connection.execute(text(statement), {"key": key, "me": me}).first()
    return None if row is None else Owner(row[0], row[1], row[2])
