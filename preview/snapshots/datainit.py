"""The data a launch's migrations and seeds made, kept for the next launch of the same
inputs: :class:`DataTemplates` (issue 68, "a data-init cache").

A cached relaunch spent most of its time initialising data that nothing had changed:
Django's ``migrate`` of a fresh database, Alembic's ``upgrade head``, a seed script,
each importing the app and its ORM (seconds each, on a 2-core machine). Its data steps
(``Detection.data_setup``) now run once per key, which ``builds.preparation`` makes of
everything they read (the steps, every file of the upload, the dependency set) and this
module completes with what the data also depends on: the database engines the preview is
given, the launch's own variables (a seed may read ``ADMIN_EMAIL``) and its user (a seed
may make a random password and print it: another user's launch would not have said it,
so no kept data is shared between users). After the steps ran whole, the preview's data
is written as a snapshot is (its SQLite databases, its PostgreSQL databases' dumps, the
files the steps wrote: ``Snapshots.write_data``) under ``<data dir>/data-init/<key>/``;
a later launch with the same key gets it put in as a snapshot's seed is
(``Snapshots.put_data``) instead of running them. Each launch still has data of its own:
a copy, never the kept one.

What a snapshot does not cover is not kept: a preview given MariaDB (its data is in the
server's own files) never uses the cache. Each kept file's SHA-256 is checked before use
(an entry changed since is removed, not used); entries beyond ``PREVIEW_DATA_CACHE_MB``
are removed, least recently used first; a full disk or any failure to keep or put back
means the steps run, never a failed launch.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from ..clock import utcnow
from ..errors import PreviewError
from ..settings import Settings
from ..store.datadir import DATA_INIT_DIR, DATA_INIT_DRAFT_PREFIX
from .keeper import Snapshots

if TYPE_CHECKING:
    from ..runtime import PreviewRuntime

__all__ = ["DataTemplates"]

_FORMAT = 1  # of the entries: what a key covers, how an entry is laid out
_KEPT = "kept.json"  # when it was kept and each file's hash: written last
_NOT_COVERED = frozenset({"mysql", "mongo"})  # kinds of server whose data a snapshot does not hold
_T = TypeVar("_T")


class DataTemplates:
    """The kept data of every launch (module doc); one per service."""

    def __init__(self, settings: Settings, keeper: Snapshots) -> None:
        self.root = settings.data_dir / DATA_INIT_DIR
        self.limit = settings.data_cache_mb * 2**20
        self.keeper = keeper
        self._limiter = trio.CapacityLimiter(1)  # file work beside launches, not over them
        self._evicting = trio.Lock()

    def bound(self, runtime: PreviewRuntime) -> PreviewDataTemplates | None:
        """The cache as ``runtime``'s launch uses it (``builds.preparation.DataInitCache``);
        None when it is off (``PREVIEW_DATA_CACHE_MB=0``)."""
        return PreviewDataTemplates(self, runtime) if self.limit > 0 else None

    async def blocking(self, function: Callable[..., _T], *args: Any) -> _T:
        return await trio.to_thread.run_sync(lambda: function(*args), limiter=self._limiter)

    async def evict(self) -> None:
        """Entries beyond the limit removed, least recently used first."""
        async with self._evicting:
            await self.blocking(_evict, self.root, self.limit)


class PreviewDataTemplates:
    """:class:`DataTemplates` for one preview's launch: its key completed by its engines
    and variables, its data written and put back through the snapshot keeper."""

    def __init__(self, templates: DataTemplates, runtime: PreviewRuntime) -> None:
        self._templates = templates
        self._runtime = runtime

    def _entry(self, key: str) -> Path | None:
        """Where the data for the preparation's ``key`` is kept; None where this
        preview's data is not all a snapshot holds."""
        runtime = self._runtime
        kinds = sorted(runtime.backing.servers.kinds)
        if _NOT_COVERED.intersection(kinds):
            return None
        spec = runtime.spec  # its owner's alone: a seed may make a secret of its own
        completed = json.dumps([_FORMAT, key, kinds, sorted(spec.extra.items()), spec.user_id])
        digest = hashlib.sha256(completed.encode()).hexdigest()
        return self._templates.root / spec.generation_id / digest  # (removed with it)

    async def clear(self) -> str | None:
        return await self._templates.keeper.clear_data(self._runtime)

    async def restore(self, key: str) -> str | None:
        entry = self._entry(key)
        templates, runtime = self._templates, self._runtime
        if entry is None:
            return None
        kept = await templates.blocking(_checked, entry)
        if kept is None:
            return None
        if kept.get("broken"):
            await runtime.state.system(
                "WARN", f"data kept for these inputs not used: {kept['broken']}; initialised again"
            )
            await templates.blocking(shutil.rmtree, entry, True)
            return None
        failure = await templates.keeper.put_data(runtime, entry, "the kept data")
        if failure is not None:
            said = f"data kept for these inputs could not be put in ({failure})"
            await runtime.state.system("WARN", f"{said}: initialised again")
            return None
        await templates.blocking(os.utime, entry / _KEPT)  # recently used
        return str(kept["when"])

    async def keep(self, key: str) -> None:
        entry = self._entry(key)
        templates, runtime = self._templates, self._runtime
        if entry is None or await templates.blocking((entry / _KEPT).is_file):
            return
        staged = entry.with_name(f"{DATA_INIT_DRAFT_PREFIX}{entry.name}-{secrets.token_hex(4)}")
        await templates.blocking(lambda: entry.parent.mkdir(parents=True, exist_ok=True))
        try:
            try:
                size, _ = await templates.keeper.write_data(runtime, staged)
                if size > templates.limit:
                    raise PreviewError(f"{size} bytes, more than PREVIEW_DATA_CACHE_MB")
                await templates.blocking(_seal, staged)
                await templates.blocking(os.rename, staged, entry)
            except (PreviewError, OSError, sqlite3.Error) as error:
                message = error.message if isinstance(error, PreviewError) else str(error)
                await runtime.state.system(
                    "INFO", f"the data its set-up made is not kept for the next launch ({message})"
                )
                return
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(30):
                await templates.blocking(shutil.rmtree, staged, True)
        await runtime.state.system(
            "INFO", f"the data its set-up made is kept for the next launch ({size} bytes)"
        )
        await templates.evict()


def _files(entry: Path) -> list[Path]:
    return sorted(p for p in entry.rglob("*") if p.is_file() and p.name != _KEPT)


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _seal(staged: Path) -> None:
    """The entry's record, written last: when, and each file's hash."""
    hashes = {str(p.relative_to(staged)): _digest(p) for p in _files(staged)}
    record = {"when": utcnow().strftime("%Y-%m-%d %H:%M UTC"), "files": hashes}
    (staged / _KEPT).write_text(json.dumps(record))


def _checked(entry: Path) -> dict[str, Any] | None:
    """The entry's record, with ``broken`` saying why where its files are not what was
    kept; None where there is no whole entry."""
    try:
        record = json.loads((entry / _KEPT).read_text())
        hashes = {str(p.relative_to(entry)): _digest(p) for p in _files(entry)}
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return {"broken": f"its record could not be read ({error})"}
    if not isinstance(record, dict) or hashes != record.get("files"):
        return {"broken": "its files changed since they were kept"}
    return record


def _size(entry: Path) -> int:
    return sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())


def _evict(root: Path, limit: int) -> None:
    entries: list[tuple[float, int, Path]] = []  # (last used, bytes, where)
    for path in root.glob("*/*"):
        if path.name.startswith("."):  # one being written
            continue
        try:
            entries.append(((path / _KEPT).stat().st_mtime, _size(path), path))
        except OSError:  # removed meanwhile (a changed entry, its generation's delete)
            continue
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= limit:
            break
        total -= size
        shutil.rmtree(path, ignore_errors=True)
