"""The ``generation_shares`` rows: who else may watch (or call) a generation.

Functions here run in the store's worker threads (``Store.run_sync``) on its engine;
each is one transaction. They live beside the checks that read them (``callers``) and
the streams that end with them (``sharewatch``); the table is ``store.models``'. A share
is with one user, or a link; a link is redeemed by a signed-in user into a share of its
own (``link_id``: the link's), which ends with the link. An expired row is never an
access; the listing leaves it out and the next share made removes it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, or_, select

from ..store.models import GenerationShare, first, records

__all__ = [
    "MAX_SHARES",
    "ROLES",
    "Share",
    "ShareLimit",
    "access_of",
    "add_share",
    "link_by_hash",
    "list_shares",
    "redeem_link",
    "revoke_share",
    "shared_with",
    "still_valid",
]

MAX_SHARES = 50  # a generation's live shares and links (a link's redemptions not counted)
ROLES = ("viewer", "caller")  # a caller is a viewer that may also call the app


@dataclass(frozen=True, slots=True)
class Share:
    """One row: ``user_id`` None for a link; ``link_id`` set for a link's redemption."""

    id: str
    generation_id: str
    owner_id: str
    user_id: str | None
    link_id: str | None
    role: str
    created_at: datetime
    expires_at: datetime
    is_link: bool


class ShareLimit(Exception):
    """The generation has :data:`MAX_SHARES` live shares."""


def _share(row: GenerationShare) -> Share:
    return Share(
        row.id,
        row.generation_id,
        row.owner_id,
        row.user_id,
        row.link_id,
        row.role,
        row.created_at,
        row.expires_at,
        row.link_hash is not None,
    )


def add_share(engine: Engine, share: Share, link_hash: str | None, at: datetime) -> Share:
    """Store ``share`` (a link's with ``link_hash``), first removing the generation's
    expired rows; :class:`ShareLimit` past :data:`MAX_SHARES` live ones."""
    with engine.begin() as connection:
        mine = GenerationShare.generation_id == share.generation_id
        connection.execute(delete(GenerationShare).where(mine, GenerationShare.expires_at <= at))
        count = connection.scalar(
            select(func.count())
            .select_from(GenerationShare)
            .where(mine, GenerationShare.link_id.is_(None))
        )
        if (count or 0) >= MAX_SHARES:
            raise ShareLimit()
        connection.execute(
            insert(GenerationShare),
            {
                "id": share.id,
                "generation_id": share.generation_id,
                "owner_id": share.owner_id,
                "user_id": share.user_id,
                "link_hash": link_hash,
                "link_id": share.link_id,
                "role": share.role,
                "created_at": share.created_at,
                "expires_at": share.expires_at,
            },
        )
    return share


def list_shares(engine: Engine, generation_id: str, at: datetime) -> list[Share]:
    """The generation's live shares, links and redemptions, oldest first."""
    statement = (
        select(GenerationShare)
        .where(GenerationShare.generation_id == generation_id, GenerationShare.expires_at > at)
        .order_by(GenerationShare.created_at, GenerationShare.id)
    )
    with engine.connect() as connection:
        return [_share(row) for row in records(GenerationShare, connection.execute(statement))]


def revoke_share(engine: Engine, generation_id: str, share_id: str) -> list[str]:
    """Remove the share (a link: with its redemptions); the ids removed, none if there
    was no such share of this generation."""
    mine = GenerationShare.generation_id == generation_id
    with engine.begin() as connection:
        ids = connection.scalars(
            select(GenerationShare.id).where(
                mine, or_(GenerationShare.id == share_id, GenerationShare.link_id == share_id)
            )
        ).all()
        if ids:
            connection.execute(delete(GenerationShare).where(GenerationShare.id.in_(ids)))
    return list(ids)


def access_of(engine: Engine, generation_id: str, user_id: str, at: datetime) -> Share | None:
    """The user's live share of the generation that gives the most (a caller's before a
    viewer's), or None."""
    statement = select(GenerationShare).where(
        GenerationShare.generation_id == generation_id,
        GenerationShare.user_id == user_id,
        GenerationShare.expires_at > at,
    )
    with engine.connect() as connection:
        shares = [_share(row) for row in records(GenerationShare, connection.execute(statement))]
    if not shares:
        return None
    return max(shares, key=lambda share: (ROLES.index(share.role), share.expires_at))


def link_by_hash(engine: Engine, link_hash: str, at: datetime) -> Share | None:
    """The live link whose secret hashes to ``link_hash``."""
    statement = select(GenerationShare).where(
        GenerationShare.link_hash == link_hash, GenerationShare.expires_at > at
    )
    with engine.connect() as connection:
        row = first(GenerationShare, connection.execute(statement))
    return _share(row) if row is not None else None


def redeem_link(engine: Engine, link: Share, redemption: Share) -> Share:
    """``redemption`` (the link's access for one user) stored, or the one that user
    already holds of this link."""
    with engine.begin() as connection:
        held = first(
            GenerationShare,
            connection.execute(
                select(GenerationShare).where(
                    GenerationShare.link_id == link.id,
                    GenerationShare.user_id == redemption.user_id,
                )
            ),
        )
        if held is not None:
            return _share(held)
        connection.execute(
            insert(GenerationShare),
            {
                "id": redemption.id,
                "generation_id": redemption.generation_id,
                "owner_id": redemption.owner_id,
                "user_id": redemption.user_id,
                "link_hash": None,
                "link_id": link.id,
                "role": redemption.role,
                "created_at": redemption.created_at,
                "expires_at": redemption.expires_at,
            },
        )
    return redemption


def shared_with(engine: Engine, user_id: str, at: datetime) -> list[Share]:
    """The live shares others gave ``user_id`` (directly or by a redeemed link)."""
    statement = (
        select(GenerationShare)
        .where(GenerationShare.user_id == user_id, GenerationShare.expires_at > at)
        .order_by(GenerationShare.created_at.desc())
        .limit(500)
    )
    with engine.connect() as connection:
        return [_share(row) for row in records(GenerationShare, connection.execute(statement))]


def still_valid(engine: Engine, share_ids: Collection[str], at: datetime) -> set[str]:
    """Which of ``share_ids`` are live (neither revoked nor expired)."""
    if not share_ids:
        return set()
    statement = select(GenerationShare.id).where(
        GenerationShare.id.in_(list(share_ids)), GenerationShare.expires_at > at
    )
    with engine.connect() as connection:
        return set(connection.scalars(statement).all())
