"""Where a snapshot's bytes are kept for every node of a cluster: :class:`SharedSnapshots`.

A single node keeps a snapshot in its data dir alone (``snapshots/<generation>/<id>/``).
In a cluster that copy dies with its node, and no other node could restore it, compare it
or seed a launch with it. So in cluster mode each snapshot, once whole in the taking
node's data dir and before its row is added, is also written to storage every node
reads; a node that finds no copy of its own fetches one from there for the operation at
hand, and removes it after (a later operation fetches it again: snapshots are restored
rarely, and a copy kept on each node would outlive its row's deletion elsewhere).

:class:`SharedSnapshots` is the seam: ``put``, ``fetch``, ``remove``. :class:`PostgresChunks`
keeps the bytes in the cluster's PostgreSQL (``snapshot_chunks``): the directory as one
tar stream cut into rows of ``chunk_bytes``, written and read a chunk at a time (never
whole in memory), in one transaction (a half-written snapshot is never seen). An
S3-compatible store can replace it behind the same three calls.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol, cast

import trio
from sqlalchemy import Delete, Engine, delete, insert, select

from ..store.models import SnapshotChunk

__all__ = ["CHUNK_BYTES", "PostgresChunks", "SharedSnapshots"]

CHUNK_BYTES = 1 << 20  # bytes of one row: a statement's worth, never a snapshot's


class SharedSnapshots(Protocol):
    """Storage of snapshots' bytes that every node reads."""

    async def put(self, generation_id: str, snapshot_id: str, directory: Path) -> None:
        """Keep ``directory``'s files as snapshot ``snapshot_id``'s, whole or not at all."""
        ...

    async def fetch(self, snapshot_id: str, target: Path) -> bool:
        """Write snapshot ``snapshot_id``'s files into ``target`` (which must not exist);
        False (and nothing written) when none are kept."""
        ...

    async def remove(self, snapshot_id: str) -> None:
        """Forget snapshot ``snapshot_id``'s files (none kept: nothing to do)."""
        ...


class PostgresChunks:
    """:class:`SharedSnapshots` in the store's PostgreSQL (module doc)."""

    def __init__(
        self,
        engine: Engine,
        limiter: trio.CapacityLimiter,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self._engine = engine
        self._limiter = limiter
        self._chunk_bytes = chunk_bytes

    async def put(self, generation_id: str, snapshot_id: str, directory: Path) -> None:
        await trio.to_thread.run_sync(
            self._put, generation_id, snapshot_id, directory, limiter=self._limiter
        )

    async def fetch(self, snapshot_id: str, target: Path) -> bool:
        return await trio.to_thread.run_sync(
            self._fetch, snapshot_id, target, limiter=self._limiter
        )

    async def remove(self, snapshot_id: str) -> None:
        def run() -> None:
            with self._engine.begin() as connection:
                connection.execute(_removal(snapshot_id))

        await trio.to_thread.run_sync(run, limiter=self._limiter)

    # -- blocking ---------------------------------------------------------------------

    def _put(self, generation_id: str, snapshot_id: str, directory: Path) -> None:
        with self._engine.begin() as connection:
            # Written again whole: a retried put leaves no chunk of the first try.
            connection.execute(_removal(snapshot_id))

            def write(seq: int, data: bytes) -> None:
                row = {
                    "snapshot_id": snapshot_id,
                    "generation_id": generation_id,
                    "seq": seq,
                    "data": data,
                }
                connection.execute(insert(SnapshotChunk), row)

            chunks = _ChunkWriter(write, self._chunk_bytes)
            import tarfile  # (0.3 MiB: with the first shared snapshot, not held when idle)

            with tarfile.open(fileobj=_stream(chunks), mode="w|") as archive:
                for path in sorted(directory.rglob("*")):
                    if path.is_symlink():  # the keeper writes none: never followed
                        continue
                    name = path.relative_to(directory).as_posix()
                    archive.add(path, arcname=name, recursive=False)
            chunks.flush()

    def _fetch(self, snapshot_id: str, target: Path) -> bool:
        query = (
            select(SnapshotChunk.data)
            .where(SnapshotChunk.snapshot_id == snapshot_id)
            .order_by(SnapshotChunk.seq)
        )
        with self._engine.connect() as connection:
            # A row at a time from the server (psycopg's named cursor), not all at once.
            rows = connection.execution_options(stream_results=True, yield_per=1).execute(query)
            chunks = _ChunkReader(bytes(data) for (data,) in rows)
            if not chunks.peek():
                return False
            staged = target.with_name(f".{target.name}.part")
            import tarfile

            try:
                with tarfile.open(fileobj=_stream(chunks), mode="r|") as archive:
                    # "data": no absolute paths, no links out, no devices, no setuid bits.
                    archive.extractall(staged, filter="data")
                staged.rename(target)
            except BaseException:
                shutil.rmtree(staged, ignore_errors=True)
                raise
        return True


def _removal(snapshot_id: str) -> Delete:
    """The statement that removes snapshot ``snapshot_id``'s chunks."""
    return delete(SnapshotChunk).where(SnapshotChunk.snapshot_id == snapshot_id)


def _stream(chunks: _ChunkWriter | _ChunkReader) -> IO[bytes]:
    """``chunks`` as tarfile's stream modes take it: they call its ``write`` or ``read``
    alone (tarfile._Stream), where the stubs ask every mode for a seekable file."""
    return cast("IO[bytes]", chunks)


class _ChunkWriter:
    """What tarfile's stream mode writes to: each ``size`` bytes go to ``write(seq, data)``."""

    def __init__(self, write: Callable[[int, bytes], None], size: int) -> None:
        self._write = write
        self._size = size
        self._buffer = bytearray()
        self._seq = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= self._size:
            self._emit(bytes(self._buffer[: self._size]))
            del self._buffer[: self._size]
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._emit(bytes(self._buffer))
            self._buffer.clear()

    def _emit(self, data: bytes) -> None:
        self._write(self._seq, data)
        self._seq += 1


class _ChunkReader:
    """What tarfile's stream mode reads from: the chunks, in order, as one stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._current = b""
        self._at = 0

    def peek(self) -> bool:
        """Whether there is anything to read."""
        while self._at >= len(self._current):
            try:
                self._current, self._at = next(self._chunks), 0
            except StopIteration:
                return False
        return True

    def read(self, size: int) -> bytes:
        if not self.peek():
            return b""
        taken = self._current[self._at : self._at + size]
        self._at += len(taken)
        return taken
