"""Snapshots of previews' data: :class:`Snapshots`, the app's one keeper of them.

A snapshot is a directory under the data dir (``snapshots/<generation>/<id>/``: its
SQLite copies, its PostgreSQL dumps, its files and ``manifest.json``) and a row of the
store (``preview_snapshots``: what it holds, its size). It is written beside its final
place and renamed there once whole, its row added last: a failed or refused snapshot
(``PREVIEW_SNAPSHOT_MB``) leaves nothing. One operation at a time per preview.

Restore is live: the app keeps running and keeps its connections. SQLite databases are
written back through the backup API (the app's connections see the restored pages at
their next transaction, as after any other writer's commit); PostgreSQL databases in
one transaction (``pgdata``); the files replaced whole, those written since removed.
What the app keeps in its own memory (a cache) is not rolled back.

In a cluster, each snapshot is also kept where every node reads it (``shared``): a node
with no copy of its own fetches one for the operation (a restore, a seed, a diff) and
removes it after.

What is read or written in the app's directory is, with the app's own rights
(``sandbox.appdir.as_owner``): a link it put there leads nowhere it could not go itself.
Its copies pass through a work directory beside the previews' own (``_work``), the
app's uid's, which its sandbox does not show it: the app's uid cannot reach the data
dir, where the service moves them.

Where a preview's PostgreSQL is (``pgtarget``, over the backing services) is imported
where a preview runs, whose launch loaded them: an idle service holds none of it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ..clock import utcnow
from ..errors import Conflict, NotFound, PreviewError, Unavailable
from ..sandbox.appdir import chown_tree, owned_by_app, run_as_owner
from ..settings import Settings
from ..store import Store
from ..store.datadir import DATA_INIT_DIR, SNAPSHOT_DRAFT_SUFFIX, SNAPSHOT_FETCHED_DIR
from ..store.models import PreviewSnapshot
from ..store.usage import check_storage
from . import records
from .appfiles import (
    copy_files,
    make_parents,
    put_files,
    remove_databases,
    too_large,
    writable_files,
)
from .pgdata import dump_database, read_dump, restore_database
from .rowdiff import TableRows, diff_tables
from .shared import SharedSnapshots
from .sqlitedata import backup_into, database_size, fed_while, read_tables, table_counts

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["Snapshots"]

_T = TypeVar("_T")
_MANIFEST = "manifest.json"
_NOT_COVERED = {"redis": "Redis", "mysql": "MySQL", "mongo": "MongoDB"}


class Snapshots:
    """Takes, lists, restores, compares and removes snapshots (module doc)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        shared: Callable[[trio.CapacityLimiter], SharedSnapshots] | None = None,
    ) -> None:
        """``shared``: makes the storage every node reads (cluster mode), given the
        limiter of the keeper's threads."""
        self._settings = settings
        self._store = store
        self.root = settings.data_dir / "snapshots"
        self.limit = settings.snapshot_mb * 2**20
        self._limiter = trio.CapacityLimiter(2)
        self._locks: dict[str, trio.Lock] = {}
        self._shared = shared(self._limiter) if shared is not None else None

    async def _blocking(self, function: Callable[..., _T], *args: Any) -> _T:
        return await trio.to_thread.run_sync(lambda: function(*args), limiter=self._limiter)

    async def _as_app(self, runtime: PreviewRuntime, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)`` with the rights of the app's uid, when sandboxed (module
        doc; unsandboxed, an app runs with the host's view and no such promise is made)."""
        if not runtime.containment.sandboxed:
            return await self._blocking(function, *args)
        return await self._blocking(run_as_owner, runtime.temp_dir, function, *args)

    @staticmethod
    def _owner(runtime: PreviewRuntime) -> os.stat_result | None:
        """Whose rights ``_as_app`` works with (None: the service's own)."""
        return owned_by_app(runtime.temp_dir) if runtime.containment.sandboxed else None

    @asynccontextmanager
    async def _work(self, runtime: PreviewRuntime) -> AsyncIterator[Path]:
        """A work directory of the app's uid, outside the app's (module doc); removed
        after."""
        work = self._settings.previews_dir / f".snapshot-{runtime.id}-{secrets.token_hex(4)}"

        def make() -> None:
            work.mkdir(mode=0o700)
            owner = self._owner(runtime)
            if owner is not None:
                os.chown(work, owner.st_uid, owner.st_gid)

        await self._blocking(make)
        try:
            yield work
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                await self._blocking(shutil.rmtree, work, True)

    @asynccontextmanager
    async def _one_at_a_time(self, preview_id: str) -> AsyncIterator[None]:
        """The block alone among this preview's snapshot operations; its lock is kept
        only while someone holds or waits for it."""
        lock = self._locks.setdefault(preview_id, trio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not lock.statistics().tasks_waiting:
                self._locks.pop(preview_id, None)

    def _dir(self, generation_id: str, snapshot_id: str) -> Path:
        return self.root / generation_id / snapshot_id

    @asynccontextmanager
    async def _source(self, row: PreviewSnapshot) -> AsyncIterator[Path]:
        """Where ``row``'s files are for the block: this node's copy, else one fetched
        from the shared storage (removed after); 503 ``snapshot_unavailable`` if neither
        has it."""
        kept = self._dir(row.generation_id, row.id)
        if await self._blocking(kept.is_dir):
            yield kept
            return
        fetched = self.root / SNAPSHOT_FETCHED_DIR / f"{row.id}-{secrets.token_hex(4)}"
        await self._blocking(lambda: fetched.parent.mkdir(parents=True, exist_ok=True))
        if self._shared is None or not await self._shared.fetch(row.id, fetched):
            raise Unavailable(
                "This snapshot's data is not on this node, nor kept where every node"
                " reads it (taken on a node that is gone); it cannot be used.",
                code="snapshot_unavailable",
                details={"snapshotId": row.id},
            )
        try:
            yield fetched
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                await self._blocking(shutil.rmtree, fetched, True)

    async def _forget(self, generation_id: str, snapshot_id: str) -> None:
        """``snapshot_id``'s files, here and in the shared storage (its row: the caller)."""
        await self._blocking(shutil.rmtree, self._dir(generation_id, snapshot_id), True)
        if self._shared is not None:
            await self._shared.remove(snapshot_id)

    # -- rows -------------------------------------------------------------------------

    async def listing(self, generation_id: str) -> list[PreviewSnapshot]:
        store = self._store
        return await store.run_sync(records.generation_snapshots, store.engine, generation_id)

    async def get(
        self, snapshot_id: str, user_id: str, generation_id: str | None = None
    ) -> PreviewSnapshot:
        """The snapshot ``snapshot_id`` of ``user_id`` (of ``generation_id`` when given);
        404 ``snapshot_not_found`` otherwise (whose it is is not told)."""
        row = None
        if isinstance(snapshot_id, str) and len(snapshot_id) <= 40:
            store = self._store
            row = await store.run_sync(records.get_snapshot, store.engine, snapshot_id)
        if row is None or row.user_id != user_id or generation_id not in (None, row.generation_id):
            raise NotFound(
                "No such snapshot.",
                code="snapshot_not_found",
                details={"snapshotId": str(snapshot_id)[:40]},
            )
        return row

    async def delete(self, row: PreviewSnapshot) -> None:
        store = self._store
        await store.run_sync(records.delete_snapshot, store.engine, row.id)
        await self._forget(row.generation_id, row.id)

    async def remove_generation(self, generation_id: str) -> None:
        """Its snapshots' files (its rows go with the generation's, and the shared
        storage's chunks too), and the data its launches' data steps made, kept for the
        next (``datainit``)."""
        await self._blocking(shutil.rmtree, self.root / generation_id, True)
        kept = self._settings.data_dir / DATA_INIT_DIR / generation_id
        await self._blocking(shutil.rmtree, kept, True)

    async def expire(self, ended_before: datetime) -> int:
        """Remove the snapshots of previews that ended before ``ended_before``."""
        store = self._store
        found = await store.run_sync(records.expired_snapshots, store.engine, ended_before)
        for generation_id, snapshot_id in found:
            await store.run_sync(records.delete_snapshot, store.engine, snapshot_id)
            await self._forget(generation_id, snapshot_id)
        return len(found)

    # -- take -------------------------------------------------------------------------

    async def take(
        self, runtime: PreviewRuntime, user_id: str, name: str | None
    ) -> PreviewSnapshot:
        """Save ``runtime``'s data now (module doc); its row."""
        store, spec = self._store, runtime.spec
        async with self._one_at_a_time(runtime.id):
            count = await store.run_sync(records.count_for_preview, store.engine, runtime.id)
            most = self._settings.snapshots_per_preview
            if count >= most:
                raise Conflict(
                    f"This preview keeps at most {most} snapshots"
                    " (PREVIEW_SNAPSHOTS_PER_PREVIEW); delete one first.",
                    code="snapshot_limit_reached",
                    details={"limit": most},
                )
            storage = self._settings.user_storage_mb
            await check_storage(store, storage, user_id, 0)  # full already: nothing taken
            snapshot_id = "snap_" + secrets.token_hex(8)
            final = self._dir(spec.generation_id, snapshot_id)
            staged = final.with_name(f".{snapshot_id}{SNAPSHOT_DRAFT_SUFFIX}")
            try:
                try:
                    size, contents = await self.write_data(runtime, staged)
                except (sqlite3.Error, OSError) as error:
                    raise _failed("snapshot_failed", "saved", error) from None
                await check_storage(store, storage, user_id, size)  # this one past it
                await self._blocking(staged.rename, final)
                if self._shared is not None:  # for every node, before its row says it is
                    await self._shared.put(spec.generation_id, snapshot_id, final)
                row = PreviewSnapshot(
                    id=snapshot_id,
                    generation_id=spec.generation_id,
                    preview_id=runtime.id,
                    user_id=user_id,
                    name=name,
                    created_at=utcnow(),
                    size_bytes=size,
                    contents=json.dumps(contents),
                )
                await store.run_sync(records.add_snapshot, store.engine, row)
            except BaseException:  # nothing half-written is left
                with trio.CancelScope(shield=True), trio.move_on_after(30):
                    await self._blocking(shutil.rmtree, staged, True)
                    await self._forget(spec.generation_id, snapshot_id)
                raise
        await runtime.state.system("INFO", f"snapshot {snapshot_id} saved ({size} bytes)")
        return row

    async def write_data(self, runtime: PreviewRuntime, target: Path) -> tuple[int, dict[str, Any]]:
        """Its data copied under ``target`` (made here; a snapshot's layout): (bytes,
        contents for its row). Raises ``snapshot_too_large`` past ``PREVIEW_SNAPSHOT_MB``,
        ``sqlite3.Error`` or ``OSError``."""
        # The app's files as its serving process sees them (a revision applied live runs
        # in a directory of its own, its data linked: runtime.swaps).
        app_dir, code = runtime.swaps.serving_tree
        await self._blocking(lambda: target.mkdir(parents=True))
        async with self._work(runtime) as work:
            return await self._write_through(runtime, app_dir, code, work, target)

    async def _write_through(
        self,
        runtime: PreviewRuntime,
        app_dir: Path,
        code: dict[str, bytes],
        work: Path,
        target: Path,
    ) -> tuple[int, dict[str, Any]]:
        spec = runtime.spec
        databases, others = await self._as_app(
            runtime, writable_files, app_dir, code, runtime.temp_dir
        )
        manifest: dict[str, Any] = {"sqlite": [], "postgres": [], "files": others}
        tables: list[dict[str, Any]] = []
        used = 0
        for index, relative in enumerate(databases):
            database = app_dir / relative
            sized = partial(self._as_app, runtime, database_size, database)
            used += await fed_while(database, sized)
            if used > self.limit:
                raise too_large(self.limit)
            copy = f"sqlite/{index}.db"
            await self._blocking(lambda: (target / "sqlite").mkdir(exist_ok=True))
            copy_out = partial(self._as_app, runtime, backup_into, database, work / f"{index}.db")
            await fed_while(database, copy_out)
            await self._blocking(shutil.move, work / f"{index}.db", target / copy)
            manifest["sqlite"].append({"path": relative, "file": copy})
            counts = await self._blocking(table_counts, target / copy)
            tables += [_table(f"sqlite:{relative}", t, n) for t, n in counts.items()]
        from .pgtarget import live_databases  # with the backing: loaded by a launch

        settings = self._settings
        postgres = runtime.backing.postgres
        url, role = settings.app_postgres_url, spec.database_name
        for index, database in enumerate(await live_databases(postgres, url, role)):
            dump = f"postgres/{index}.sql"
            await self._blocking(lambda: (target / "postgres").mkdir(exist_ok=True))
            try:
                used += await dump_database(database, target / dump, self.limit - used)
            except PreviewError as error:
                if error.code == "snapshot_too_large":
                    raise too_large(self.limit) from None
                raise
            manifest["postgres"].append({"key": database.key, "file": dump})
            found = await self._blocking(read_dump, target / dump)
            tables += [_table(f"postgres:{database.key}", t, len(r.rows)) for t, r in found.items()]
        used += await self._as_app(
            runtime, copy_files, app_dir, others, work / "files", self.limit - used, self.limit
        )
        if others:
            await self._blocking(shutil.move, work / "files", target / "files")
        text = json.dumps(manifest)
        await self._blocking((target / _MANIFEST).write_text, text)
        kinds = runtime.backing.servers.kinds
        missing = [label for kind, label in _NOT_COVERED.items() if kind in kinds]
        return used, {"tables": tables, "files": others, "notCovered": missing}

    # -- restore and seed -------------------------------------------------------------

    async def restore(self, runtime: PreviewRuntime, row: PreviewSnapshot) -> dict[str, Any]:
        """Put ``row``'s data back into the running ``runtime`` (live: module doc)."""
        async with self._one_at_a_time(runtime.id):
            try:
                done = await self._put_back(runtime, row, remove_others=True)
            except (sqlite3.Error, OSError) as error:
                raise _failed("restore_failed", "restored", error) from None
        await runtime.state.system("INFO", f"snapshot {row.id} restored")
        return done

    async def seed(self, row: PreviewSnapshot, runtime: PreviewRuntime) -> str | None:
        """A launch's hook (``LaunchSpec.seed``): ``row``'s data put in before its set-up
        steps and start; the failure's message, else None."""
        message = await _failure_of(partial(self._put_back, runtime, row, remove_others=False))
        if message is not None:
            await runtime.state.system("ERROR", f"snapshot {row.id} not restored: {message}")
            return f"its snapshot could not be restored: {message}"
        await runtime.state.system("INFO", f"data of snapshot {row.id} restored")
        return None

    async def _put_back(
        self, runtime: PreviewRuntime, row: PreviewSnapshot, *, remove_others: bool
    ) -> dict[str, Any]:
        async with self._source(row) as source, self._work(runtime) as work:
            return await self._put_back_through(
                runtime, f"snapshot {row.id}", source, work, remove_others=remove_others
            )

    async def put_data(self, runtime: PreviewRuntime, source: Path, label: str) -> str | None:
        """The data :meth:`write_data` wrote to ``source`` put into ``runtime``'s databases
        and files beside what they hold (``label`` names it in its warnings); the
        failure's message, else None."""

        async def put() -> None:
            async with self._work(runtime) as work:
                await self._put_back_through(runtime, label, source, work, remove_others=False)

        return await _failure_of(put)

    async def clear_data(self, runtime: PreviewRuntime) -> str | None:
        """What ``runtime``'s databases hold taken out, between two attempts of its launch
        (a fix's relaunch runs its migrations and seeds again, which fail on what a failed
        attempt left: "table items already exists"): its SQLite databases the upload did
        not bring removed (with their journals), its PostgreSQL databases' schemas dropped
        as a restore drops them before it puts a dump in. The failure's message, else
        None. MariaDB's are left as they are (its data is in its server's own files)."""

        async def clear() -> None:
            app_dir, code = runtime.swaps.serving_tree
            databases, _ = await self._as_app(
                runtime, writable_files, app_dir, code, runtime.temp_dir
            )
            made = [relative for relative in databases if relative not in code]
            await self._as_app(runtime, remove_databases, app_dir, made)
            from .pgtarget import live_databases  # with the backing: loaded by a launch

            postgres, settings = runtime.backing.postgres, self._settings
            found = await live_databases(
                postgres, settings.app_postgres_url, runtime.spec.database_name
            )
            async with self._work(runtime) as work:
                empty = work / "empty.sql"
                await self._blocking(empty.write_bytes, b"")
                for database in found:
                    await restore_database(database, empty)

        async with self._one_at_a_time(runtime.id):
            return await _failure_of(clear)

    async def _put_back_through(
        self,
        runtime: PreviewRuntime,
        label: str,
        source: Path,
        work: Path,
        *,
        remove_others: bool,
    ) -> dict[str, Any]:
        manifest = json.loads(await self._blocking((source / _MANIFEST).read_text))
        (app_dir, code), spec = runtime.swaps.serving_tree, runtime.spec
        owner = await self._blocking(self._owner, runtime)
        for index, entry in enumerate(manifest["sqlite"]):
            live = app_dir / entry["path"]
            staged = work / f"{index}.db"  # the copy, where the app's uid may read it
            await self._blocking(shutil.copyfile, source / entry["file"], staged)
            if owner is not None:
                await self._blocking(os.chown, staged, owner.st_uid, owner.st_gid)
            await self._as_app(runtime, make_parents, app_dir, live.parent)
            await self._as_app(runtime, _no_link, live)  # the app's since: the file comes back
            copy_in = partial(backup_into, owner_like=app_dir)
            await fed_while(live, partial(self._as_app, runtime, copy_in, staged, live))
        from ..backing.pgrelay import LoginRefused  # with a runtime: loaded by its launch
        from .pgtarget import database_for

        postgres, settings = runtime.backing.postgres, self._settings
        restored = []
        for entry in manifest["postgres"]:
            try:
                database = await database_for(
                    postgres, settings.app_postgres_url, spec.database_name, entry["key"]
                )
            except LoginRefused as refused:
                raise Unavailable(str(refused), code="restore_failed") from None
            if database is None:  # this preview has no PostgreSQL to put it in
                await runtime.state.system(
                    "WARN",
                    f"{label}: PostgreSQL database {entry['key']!r} not"
                    " restored: this preview has no PostgreSQL",
                )
                continue
            await restore_database(database, source / entry["file"])
            restored.append(entry["key"])
        others: list[str] = []
        if remove_others:
            _, now = await self._as_app(runtime, writable_files, app_dir, code, runtime.temp_dir)
            others = sorted(set(now) - set(manifest["files"]))
        files = work / "files"
        if manifest["files"]:
            await self._blocking(shutil.copytree, source / "files", files)
            if owner is not None:
                await self._blocking(chown_tree, files, owner.st_uid)
        await self._as_app(runtime, put_files, files, app_dir, manifest["files"], others)
        return {
            "sqlite": [e["path"] for e in manifest["sqlite"]],
            "postgres": restored,
            "files": manifest["files"],
            "removedFiles": others,
        }

    # -- compare ----------------------------------------------------------------------

    async def diff(self, first: PreviewSnapshot, second: PreviewSnapshot) -> list[dict[str, Any]]:
        """Per database and table: the rows added, removed and changed from ``first``
        to ``second`` (``rowdiff``)."""
        async with self._source(first) as source:
            before = await self._blocking(_tables, source)
        async with self._source(second) as source:
            after = await self._blocking(_tables, source)
        found = []
        for database in sorted(set(before) | set(after)):
            for table in diff_tables(before.get(database, {}), after.get(database, {})):
                found.append({"database": database, **table})
        return found


def _tables(source: Path) -> dict[str, dict[str, TableRows]]:
    """The tables of the snapshot whose files are in ``source``, by database. Blocking."""
    manifest = json.loads((source / _MANIFEST).read_text())
    found = {f"sqlite:{e['path']}": read_tables(source / e["file"]) for e in manifest["sqlite"]}
    for entry in manifest["postgres"]:
        found[f"postgres:{entry['key']}"] = read_dump(source / entry["file"], typed=True)
    return found


async def _failure_of(put: Callable[[], Awaitable[Any]]) -> str | None:
    """What kept ``put()`` (data put into a launch's databases and files) from its end:
    a database's refusal, the disk, a login the preview's PostgreSQL refused; None when
    it ended."""
    from ..backing.pgrelay import LoginRefused  # loaded by the launch

    try:
        await put()
    except (PreviewError, OSError, sqlite3.Error, LoginRefused) as error:
        return error.message if isinstance(error, PreviewError) else str(error)
    return None


def _no_link(path: Path) -> None:
    """Remove ``path`` if it is a link (never followed)."""
    if path.is_symlink():
        path.unlink()


def _failed(code: str, done: str, error: Exception) -> PreviewError:
    """A copy the database or the disk refused (no host path said: the error's kind)."""
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return Conflict(
            f"The app held its SQLite database locked; nothing was {done}. Try again.",
            code="restore_busy" if code == "restore_failed" else "snapshot_busy",
            retry_after=1.0,
        )
    said = type(error).__name__ if isinstance(error, OSError) else str(error)
    return Unavailable(f"The preview's data could not be {done} ({said}).", code=code)


def _table(database: str, table: str, rows: int) -> dict[str, Any]:
    return {"database": database, "table": table, "rows": rows}
