"""One user's uploads, revisions and snapshots take at most PREVIEW_USER_STORAGE_MB
together (an outside tester filled the host's disk through one account): past it a new
one is a 409 in the error shape, nothing is stored, other users go on, and deleting
makes room again."""

from __future__ import annotations

from dataclasses import replace

import trio

from preview import Settings

from ..conftest import auth, running_service

_PIECE = "x" * 200_000  # a file of ~0.2 MiB


async def test_a_users_storage_is_bounded_and_freed_by_deleting(settings: Settings) -> None:
    async with running_service(replace(settings, user_storage_mb=1)) as service:
        with trio.fail_after(60):
            files = {f"part{n}.txt": _PIECE for n in range(3)}  # ~0.6 MiB
            first = await service.upload(files)
            refused = await service.client.post(
                "/api/generations", json={"projectId": "p", "files": files}, headers=auth()
            )
            assert refused.status_code == 409, refused.text
            body = refused.json()
            assert body["error"] == "storage_quota_reached"
            assert body["details"]["limitBytes"] == 2**20
            assert body["details"]["usedBytes"] == 3 * len(_PIECE)
            # A revision past it too; nothing of it is stored.
            revised = await service.client.post(
                f"/api/generations/{first}/revisions",
                json={"files": {"more.txt": _PIECE * 3}},
                headers=auth(),
            )
            assert revised.status_code == 409, revised.text
            listed = await service.client.get(f"/api/generations/{first}/revisions", headers=auth())
            assert len(listed.json()["revisions"]) <= 1, listed.json()
            # Another user has a budget of their own.
            other = await service.client.post(
                "/api/generations", json={"projectId": "p", "files": files}, headers=auth("bob")
            )
            assert other.status_code == 201, other.text
            # Deleting makes room.
            deleted = await service.client.delete(f"/api/generations/{first}", headers=auth())
            assert deleted.status_code in (200, 204), deleted.text
            assert (await service.upload(files)).startswith("gen_")
