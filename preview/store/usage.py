"""What one user's data takes in the store and beside it: :func:`check_storage`.

A user's uploads (their files), the files their revisions wrote, and their snapshots'
copies, together, are bounded by ``PREVIEW_USER_STORAGE_MB``: without it one user could
fill the host's disk (ten snapshots of up to ``PREVIEW_SNAPSHOT_MB`` for each of any
number of previews, uploads and revisions without count). Past it, a new upload,
revision or snapshot is refused (409 ``storage_quota_reached``) until the user deletes
something; what is stored stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, select

from ..errors import Conflict
from .models import Generation, PreviewSnapshot, RevisionFile

if TYPE_CHECKING:
    from .database import Store

__all__ = ["check_storage", "user_storage_bytes"]


def user_storage_bytes(engine: Engine, user_id: str) -> int:
    """Bytes of ``user_id``'s uploads, revisions' files and snapshots. Blocking."""
    uploads = select(func.coalesce(func.sum(Generation.total_bytes), 0)).where(
        Generation.user_id == user_id
    )
    revisions = (
        select(func.coalesce(func.sum(func.length(RevisionFile.content)), 0))
        .join(Generation, Generation.id == RevisionFile.generation_id)
        .where(Generation.user_id == user_id)
    )
    snapshots = select(func.coalesce(func.sum(PreviewSnapshot.size_bytes), 0)).where(
        PreviewSnapshot.user_id == user_id
    )
    with engine.connect() as connection:
        return sum(
            int(connection.execute(query).scalar_one()) for query in (uploads, revisions, snapshots)
        )


async def check_storage(store: Store, limit_mb: int, user_id: str, adding: int) -> None:
    """Refuse (409) ``adding`` bytes more of ``user_id``'s past ``limit_mb`` (0: none)."""
    if limit_mb <= 0:
        return
    used = await store.run_sync(user_storage_bytes, store.engine, user_id)
    limit = limit_mb * 2**20
    if used + adding > limit:
        raise Conflict(
            f"Your uploads, revisions and snapshots take {used / 2**20:.1f} MiB of the"
            f" {limit_mb} MiB each user may keep (PREVIEW_USER_STORAGE_MB); delete a"
            " generation or a snapshot first.",
            code="storage_quota_reached",
            details={"limitBytes": limit, "usedBytes": used, "addingBytes": adding},
        )
