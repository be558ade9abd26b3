"""Snapshots' files kept for every node of a cluster (``snapshots.shared``): a directory
put into the machine's PostgreSQL in chunks comes back byte for byte, whole or not at
all; a snapshot put again is not doubled; removed, or its generation deleted, nothing is
left; chunks that would write outside their target are refused."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import trio

from preview.snapshots import PostgresChunks
from preview.store import Store
from preview.store.models import Generation, SnapshotChunk

from ..cluster.nodes import PG_ENV, fresh_database
from ..store.test_store import generation

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")

CHUNK = 64 * 1024


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    with fresh_database() as url:
        with trio.fail_after(60):
            opened = await Store.open(url)
        try:
            await opened.add_generation(generation("gen_1"), {})
            yield opened
        finally:
            await opened.aclose()


def _snapshot_dir(path: Path) -> dict[str, bytes]:
    files = {
        "manifest.json": b'{"sqlite": [{"path": "data/app.db", "file": "sqlite/0.db"}]}',
        "sqlite/0.db": os.urandom(5 * CHUNK + 123),  # several chunks, the last a short one
        "files/notes/note.txt": b"first",
        "files/empty.txt": b"",
    }
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return files


def _tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _chunks(store: Store, snapshot_id: str | None = None) -> list[int]:
    query = sa.select(sa.func.length(SnapshotChunk.data)).order_by(SnapshotChunk.seq)
    if snapshot_id is not None:
        query = query.where(SnapshotChunk.snapshot_id == snapshot_id)
    with store.engine.connect() as connection:
        return list(connection.scalars(query))


async def test_a_snapshot_put_in_chunks_comes_back_whole(store: Store, tmp_path: Path) -> None:
    shared = PostgresChunks(store.engine, trio.CapacityLimiter(2), chunk_bytes=CHUNK)
    files = _snapshot_dir(tmp_path / "taken")
    with trio.fail_after(60):
        await shared.put("gen_1", "snap_1", tmp_path / "taken")
        sizes = _chunks(store, "snap_1")
        assert len(sizes) >= 6 and max(sizes) == CHUNK, sizes  # a chunk at a time
        assert await shared.fetch("snap_1", tmp_path / "fetched")
        assert _tree(tmp_path / "fetched") == files

        # Put again (a retried take): written anew, not added to.
        await shared.put("gen_1", "snap_1", tmp_path / "taken")
        assert _chunks(store, "snap_1") == sizes

        # Unknown: nothing written.
        assert not await shared.fetch("snap_unknown", tmp_path / "none")
        assert not (tmp_path / "none").exists()

        await shared.remove("snap_1")
        assert _chunks(store, "snap_1") == []
        assert not await shared.fetch("snap_1", tmp_path / "again")


async def test_a_deleted_generation_takes_its_snapshots_chunks(
    store: Store, tmp_path: Path
) -> None:
    shared = PostgresChunks(store.engine, trio.CapacityLimiter(2), chunk_bytes=CHUNK)
    _snapshot_dir(tmp_path / "taken")
    with trio.fail_after(60):
        await shared.put("gen_1", "snap_1", tmp_path / "taken")
        assert _chunks(store)
        with store.engine.begin() as connection:
            connection.execute(sa.delete(Generation).where(Generation.id == "gen_1"))
        assert _chunks(store) == []


async def test_chunks_that_would_write_outside_their_target_are_refused(
    store: Store, tmp_path: Path
) -> None:
    """What the shared storage holds is read as untrusted: a tar member leading out of
    the target (``../``), or a link out, is refused, and nothing is left behind (an
    absolute name is read as one under the target)."""
    shared = PostgresChunks(store.engine, trio.CapacityLimiter(2), chunk_bytes=CHUNK)
    for index, member in enumerate(["../escaped.txt", "link", "/tmp/absolute.txt"]):
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            info = tarfile.TarInfo(member)
            if member == "link":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            else:
                info.size = 4
            tar.addfile(info, io.BytesIO(b"evil") if member != "link" else None)
        row = {
            "snapshot_id": f"snap_{index}",
            "generation_id": "gen_1",
            "seq": 0,
            "data": archive.getvalue(),
        }
        with store.engine.begin() as connection:
            connection.execute(sa.insert(SnapshotChunk), row)
        target = tmp_path / "into" / f"snap_{index}"
        target.parent.mkdir(exist_ok=True)
        with trio.fail_after(30):
            if member.startswith("/"):
                assert await shared.fetch(f"snap_{index}", target)
                assert _tree(target) == {"tmp/absolute.txt": b"evil"}
                continue
            with pytest.raises(tarfile.TarError):
                await shared.fetch(f"snap_{index}", target)
        assert list(target.parent.iterdir()) == [], member
    assert not (tmp_path / "escaped.txt").exists()
