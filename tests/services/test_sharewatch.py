"""A shared user's stream ends with its share (issue 69, item 1) however the share ends:
revoked on this node (at once), its rows removed by another node (found within
``RECHECK``), or expired (its deadline); a stream whose share holds goes on."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import trio

from preview.clock import utcnow
from preview.services.shares import Share, add_share, revoke_share
from preview.services.sharewatch import ShareWatch
from preview.store import Generation, Store


async def _forever() -> AsyncIterator[int]:
    number = 0
    while True:
        number += 1
        yield number
        await trio.sleep(0.01)


async def _read_until_ended(
    watch: ShareWatch, share: Share, ended: trio.Event, *, task_status: trio.TaskStatus[None]
) -> None:
    guard = watch.open(share.id, share.expires_at)
    task_status.started()  # its guard is open
    async for _ in watch.guarded(_forever(), guard):
        pass
    assert guard.ended
    ended.set()


async def test_streams_end_with_their_share(tmp_path: Path, migrated_database: Path) -> None:
    shutil.copyfile(migrated_database, tmp_path / "preview.db")
    with trio.fail_after(60):
        store = await Store.open(f"sqlite:///{tmp_path / 'preview.db'}")
        try:
            now = utcnow()
            await store.add_generation(
                Generation(id="g1", user_id="alice", created_at=now, file_count=0, total_bytes=0),
                {},
            )

            def share(share_id: str, seconds: float) -> Share:
                return Share(
                    share_id,
                    "g1",
                    "alice",
                    share_id,
                    None,
                    "viewer",
                    now,
                    now + timedelta(seconds=seconds),
                    False,
                )

            shares = {name: share(name, 600) for name in ("here", "elsewhere", "kept")}
            shares["expiring"] = share("expiring", 1)
            for each in shares.values():
                await store.run_sync(add_share, store.engine, each, None, now)
            watch = ShareWatch()
            ended = {name: trio.Event() for name in shares}
            async with trio.open_nursery() as nursery:
                await nursery.start(watch.serve, store)
                for name, each in shares.items():
                    await nursery.start(_read_until_ended, watch, each, ended[name])
                watch.end(["here"])  # revoked on this node
                # Another node's revocation: the rows gone, this node not told.
                await store.run_sync(revoke_share, store.engine, "g1", "elsewhere")
                for name in ("here", "elsewhere", "expiring"):
                    await ended[name].wait()
                assert not ended["kept"].is_set()  # its share holds: it reads on
                watch.end(["kept"])
                await ended["kept"].wait()
                nursery.cancel_scope.cancel()  # (the watch's recheck)
        finally:
            await store.aclose()
