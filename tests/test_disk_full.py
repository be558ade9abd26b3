"""ENOSPC in the data dir: an upload is 507 ``insufficient_storage``, nothing of it is
kept, and the service takes uploads again once there is space (a real tmpfs)."""

from __future__ import annotations

import sqlalchemy as sa
import trio

from preview import Settings

from .conftest import auth
from .outages import DiskFull, assert_unavailable, service_on, tmpfs


async def test_an_upload_to_a_full_disk_is_507_keeps_nothing_and_recovers(
    settings: Settings,
) -> None:
    with tmpfs(settings.data_dir, "16m"):
        full = DiskFull(settings.database_url, settings.data_dir)
        async with service_on(settings, full) as service:
            with trio.fail_after(60):
                first = await service.upload({"a.txt": "small"})
                files = {f"part{n}.txt": f"{n}" * 500_000 for n in range(4)}
                await full.begin()
                for attempt in range(2):  # the first failure leaves nothing in the way
                    refused = await service.client.post(
                        "/api/generations", json={"files": files}, headers=auth()
                    )
                    assert_unavailable(refused, 507, "insufficient_storage")
                    assert "/" not in refused.json()["message"], attempt
                listing = await service.client.get("/api/generations", headers=auth())
                assert [g["generationId"] for g in listing.json()["generations"]] == [first]
                stored = await trio.to_thread.run_sync(_count_rows, service.store.engine)
                assert stored == {"generations": 1, "generation_files": 1}

                await full.end()
                again = await service.upload(files)
                shown = await service.client.get(f"/api/generations/{again}", headers=auth())
                assert [f["size"] for f in shown.json()["files"]] == [500_000] * 4
                stored = await trio.to_thread.run_sync(_count_rows, service.store.engine)
                assert stored == {"generations": 2, "generation_files": 5}


def _count_rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("generations", "generation_files")
        }
