"""A preview's writable files: what its directory holds that its upload did not
(files the app wrote or changed), SQLite databases apart (``sqlitedata`` copies them).

Left out: its temp dir, caches and environments (``__pycache__``, ``node_modules``,
``.venv`` …) and symbolic links (but those a revision applied live reaches its data
through, :func:`_walk`). A file restored or seeded is its directory's owner's
(the app's uid). Blocking: call through ``trio.to_thread``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..errors import TooLarge
from ..sandbox.appdir import open_plain
from .sqlitedata import SIDE_FILES, is_sqlite

__all__ = [
    "SKIPPED_DIRS",
    "copy_files",
    "make_parents",
    "put_files",
    "remove_databases",
    "too_large",
    "writable_files",
]

# ``.revisions``: the code of revisions applied live (``runtime.swaps.codedirs``); after a
# swap a snapshot walks the serving revision's directory, its data reached by its links.
SKIPPED_DIRS = frozenset(
    {
        ".tmp",
        "__pycache__",
        "node_modules",
        ".venv",
        "venv",
        ".git",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".npm",
        ".cache",
        ".revisions",
    }
)


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"The preview's data is larger than a snapshot may be ({limit // 2**20} MiB,"
        " PREVIEW_SNAPSHOT_MB); nothing was saved.",
        code="snapshot_too_large",
        details={"limitBytes": limit},
    )


def _walk(root: Path, within: Path | None) -> Iterator[tuple[str, Path]]:
    """The files under ``root``. A symbolic link is left out, unless ``within`` is given
    and the link leads inside it: a revision's process finds its data through such links
    (``runtime.swaps.codedirs``), some to where an earlier revision's process wrote it;
    one leading out of the preview's own directory is never followed."""
    inside = os.path.realpath(within) + os.sep if within is not None else None

    def followed(path: Path) -> bool:
        if not path.is_symlink():
            return True
        return inside is not None and os.path.realpath(path).startswith(inside)

    seen: set[str] = set()
    for directory, dirs, files in os.walk(root, followlinks=inside is not None):
        real = os.path.realpath(directory)
        if real in seen:  # a link back to where the walk has been
            dirs[:] = []
            continue
        seen.add(real)
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and followed(here / d))
        for name in sorted(files):
            path = here / name
            if not followed(path) or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def writable_files(
    root: Path, uploaded: dict[str, bytes], within: Path | None = None
) -> tuple[list[str], list[str]]:
    """(its SQLite databases, its other files the upload did not write as they are),
    relative to ``root``; links inside ``within`` followed (:func:`_walk`)."""
    databases, others = [], []
    for relative, path in _walk(root, within):
        if is_sqlite(path):
            databases.append(relative)
            continue
        if relative.endswith(SIDE_FILES) and is_sqlite(Path(str(path).rsplit("-", 1)[0])):
            continue
        content = uploaded.get(relative)
        same_size = content is not None and path.stat().st_size == len(content)
        if same_size and _read(path) == content:
            continue
        others.append(relative)
    return databases, others


def remove_databases(root: Path, relatives: list[str]) -> None:
    """Remove the SQLite databases ``relatives`` under ``root`` and their journals (a
    file become a link since it was listed is left: never followed, nor what it names)."""
    for relative in relatives:
        path = root / relative
        for each in (path, *(Path(f"{path}{side}") for side in SIDE_FILES)):
            if each.is_symlink() or not each.is_file():
                continue
            each.unlink()


def copy_files(root: Path, relatives: list[str], target: Path, budget: int, limit: int) -> int:
    """Copy ``relatives`` from ``root`` under ``target``; the bytes copied. TooLarge
    past ``budget`` (the caller removes what was copied). A file no longer a plain one
    (a FIFO the app put there since it was listed) is left out; each is copied to the
    size it had when opened, not while the app makes it grow."""
    total = 0
    for relative in relatives:
        try:
            readable = open_plain(root / relative)
        except OSError:  # gone, or no plain file since it was listed: left out
            continue
        with readable:
            size = os.fstat(readable.fileno()).st_size
            total += size
            if total > budget:
                raise too_large(limit)
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with destination.open("wb") as written:
                while size > 0 and (chunk := readable.read(min(size, 1 << 20))):
                    written.write(chunk)
                    size -= len(chunk)
    return total


def _read(path: Path) -> bytes | None:
    try:
        with open_plain(path) as file:
            return file.read()
    except OSError:
        return None


def put_files(source: Path, root: Path, relatives: list[str], remove: list[str]) -> None:
    """Files saved under ``source`` written back into ``root`` (each replaced whole,
    at once), and ``remove`` (written since) removed."""
    owner = os.stat(root)
    for relative in relatives:
        destination = root / relative
        make_parents(root, destination.parent, owner)
        staged = destination.with_name(f".{destination.name}.restoring")
        shutil.copyfile(source / relative, staged)
        os.chown(staged, owner.st_uid, owner.st_gid)
        os.replace(staged, destination)
    for relative in remove:
        (root / relative).unlink(missing_ok=True)


def make_parents(root: Path, directory: Path, owner: os.stat_result | None = None) -> None:
    """``directory`` and those between it and ``root``, made as the app's where absent;
    a link in the place of one (the app's, since the snapshot) is replaced by the folder
    the snapshot had there, never followed."""
    owner = owner or os.stat(root)
    made = root
    for part in directory.relative_to(root).parts:
        made = made / part
        if made.is_symlink():
            made.unlink()
        if not made.is_dir():
            made.mkdir()
            os.chown(made, owner.st_uid, owner.st_gid)
