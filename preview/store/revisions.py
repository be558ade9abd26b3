"""A generation's revisions: later versions of its files, kept as changes.

``generation_files`` always holds the latest tree, so every reader (launch, discovery,
the file viewer) sees the newest revision without knowing revisions exist. The history
is kept as changes: revision 1 is the upload (its rows are written, once, when the first
later revision arrives, so a generation never revised costs nothing more), and revision
*n* holds only the files it wrote or deleted. An older tree is revision 1 with each
change up to *n* laid over it: uploads are bounded (PREVIEW_MAX_UPLOAD_*), and so is that.

Functions here run in the store's worker threads (``Store.run_sync``) on its engine, like
:mod:`.retention`'s: each is one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from ..clock import utcnow
from .models import (
    Generation,
    GenerationFile,
    GenerationGone,
    GenerationRevision,
    RevisionFile,
    one,
)

__all__ = [
    "DEPENDENCY_FILES",
    "RevisionRecord",
    "add_revision",
    "insert_generation",
    "latest_tree",
    "list_revisions",
    "revision_tree",
]

# A Node app's lockfiles, each package manager's (a lockfile pins what its tree installs).
NODE_LOCKFILES = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "bun.lock",
)
# A change to one of these means the dependency environment must be built again.
DEPENDENCY_FILES = frozenset(
    {
        "requirements.txt",
        "requirements-dev.txt",
        "pyproject.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile",
        "Pipfile.lock",
        "setup.py",
        "setup.cfg",
        ".python-version",
        "runtime.txt",
        "package.json",
        *NODE_LOCKFILES,
        ".nvmrc",
    }
)


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    number: int
    created_at: datetime
    author: str
    changed: tuple[str, ...]
    dependencies_changed: bool
    file_count: int | None = None  # given where the tree was read
    # The whole tree it made (add_revision's: a swap starts from it, read in the same
    # transaction as its number).
    tree: dict[str, bytes] | None = field(default=None, repr=False, compare=False)


def _record(row: Any, file_count: int | None = None) -> RevisionRecord:
    return RevisionRecord(
        number=row.number,
        created_at=row.created_at,
        author=row.author,
        changed=tuple(json.loads(row.changed)),
        dependencies_changed=row.dependencies_changed,
        file_count=file_count,
    )


def _touches_dependencies(paths: list[str]) -> bool:
    return any(PurePosixPath(path).name in DEPENDENCY_FILES for path in paths)


def _latest_number(connection: Connection, gid: str) -> int | None:
    """Its latest revision's number; None while it has only its upload (no rows)."""
    return connection.scalar(
        select(func.max(GenerationRevision.number)).where(GenerationRevision.generation_id == gid)
    )


def _current_tree(connection: Connection, gid: str) -> dict[str, bytes]:
    """The latest revision's files (``generation_files``)."""
    query = select(GenerationFile.path, GenerationFile.content).where(
        GenerationFile.generation_id == gid
    )
    return {path: bytes(content) for path, content in connection.execute(query)}


def _first_revision(
    connection: Connection, generation: Generation, files: dict[str, bytes]
) -> None:
    """Revision 1's rows, from the upload's ``files`` (the first time a revision arrives)."""
    paths = sorted(files)
    first = GenerationRevision(
        generation_id=generation.id,
        number=1,
        created_at=generation.created_at,
        author=generation.user_id,
        changed=json.dumps(paths),
        dependencies_changed=_touches_dependencies(paths),
    )
    connection.execute(insert(GenerationRevision), first.values())
    if files:
        connection.execute(
            insert(RevisionFile),
            [
                {"generation_id": generation.id, "number": 1, "path": p, "content": c}
                for p, c in files.items()
            ],
        )


def insert_generation(
    generation: Generation, files: dict[str, bytes], connection: Connection
) -> None:
    """An upload: the generation's row and its files (revision 1, kept whole)."""
    connection.execute(insert(Generation), generation.values())
    if not files:
        return  # execute() with an empty list would run one INSERT with no values
    connection.execute(
        insert(GenerationFile),
        [
            {"generation_id": generation.id, "path": p, "size": len(c), "content": c}
            for p, c in files.items()
        ],
    )


def add_revision(
    engine: Engine,
    gid: str,
    changes: Mapping[str, bytes | None],
    author: str,
    check_tree: Callable[[dict[str, int]], None],
) -> RevisionRecord | None:
    """Apply ``changes`` (path → new content, None: delete) to the generation's files as
    its next revision, in one transaction. ``check_tree`` gets the resulting tree's
    sizes by path and raises to refuse it (the upload limits): nothing is written then.
    None when nothing would change (same contents, deletes of absent files)."""
    with engine.begin() as connection:
        generation = one(connection, Generation, Generation.id == gid)
        if generation is None:
            raise GenerationGone(gid)
        current = _current_tree(connection, gid)
        effective = {
            path: content
            for path, content in changes.items()
            if (content is None and path in current)
            or (content is not None and current.get(path) != content)
        }
        if not effective:
            return None
        sizes = {path: len(content) for path, content in current.items()}
        for path, content in effective.items():
            if content is None:
                sizes.pop(path, None)
            else:
                sizes[path] = len(content)
        check_tree(sizes)
        latest = _latest_number(connection, gid)
        if latest is None:
            _first_revision(connection, generation, current)
            latest = 1
        paths = sorted(effective)
        row = GenerationRevision(
            generation_id=gid,
            number=latest + 1,
            created_at=utcnow(),
            author=author,
            changed=json.dumps(paths),
            dependencies_changed=_touches_dependencies(paths),
        )
        connection.execute(insert(GenerationRevision), row.values())
        connection.execute(
            insert(RevisionFile),
            [
                {"generation_id": gid, "number": row.number, "path": p, "content": c}
                for p, c in effective.items()
            ],
        )
        gone = [path for path, content in effective.items() if content is None]
        if gone:
            connection.execute(
                delete(GenerationFile).where(
                    GenerationFile.generation_id == gid, GenerationFile.path.in_(gone)
                )
            )
        written = {path: content for path, content in effective.items() if content is not None}
        if written:
            connection.execute(
                delete(GenerationFile).where(
                    GenerationFile.generation_id == gid, GenerationFile.path.in_(list(written))
                )
            )
            connection.execute(
                insert(GenerationFile),
                [
                    {"generation_id": gid, "path": p, "size": len(c), "content": c}
                    for p, c in written.items()
                ],
            )
        connection.execute(
            update(Generation)
            .where(Generation.id == gid)
            .values(file_count=len(sizes), total_bytes=sum(sizes.values()))
        )
        tree = {path: content for path, content in current.items() if path not in effective}
        tree.update(written)
        return replace(_record(row, file_count=len(sizes)), tree=tree)


def list_revisions(engine: Engine, gid: str) -> list[RevisionRecord]:
    """Its revisions, oldest first; a generation never revised has one (its upload)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(GenerationRevision)
            .where(GenerationRevision.generation_id == gid)
            .order_by(GenerationRevision.number)
        ).all()
        if rows:
            return [_record(row) for row in rows]
        generation = one(connection, Generation, Generation.id == gid)
        if generation is None:
            return []
        paths = sorted(
            connection.scalars(
                select(GenerationFile.path).where(GenerationFile.generation_id == gid)
            )
        )
        return [
            RevisionRecord(
                number=1,
                created_at=generation.created_at,
                author=generation.user_id,
                changed=tuple(paths),
                dependencies_changed=_touches_dependencies(paths),
                file_count=len(paths),
            )
        ]


def revision_tree(engine: Engine, gid: str, number: int) -> dict[str, bytes] | None:
    """Revision ``number``'s whole tree; None when it has no such revision."""
    with engine.connect() as connection:
        latest = _latest_number(connection, gid)
        if latest is None or number == latest:
            if number != (latest or 1):
                return None
            return _current_tree(connection, gid)
        if not 1 <= number <= latest:
            return None
        tree: dict[str, bytes] = {}
        changes = connection.execute(
            select(RevisionFile.path, RevisionFile.content)
            .where(RevisionFile.generation_id == gid, RevisionFile.number <= number)
            .order_by(RevisionFile.number)
        )
        for path, content in changes:
            if content is None:
                tree.pop(path, None)
            else:
                tree[path] = bytes(content)
        return tree


def latest_tree(engine: Engine, gid: str) -> tuple[int, dict[str, bytes]]:
    """(number, files) of its latest revision, read in one transaction (a launch's)."""
    with engine.begin() as connection:
        number = _latest_number(connection, gid)
        files = _current_tree(connection, gid)
        return number or 1, files
