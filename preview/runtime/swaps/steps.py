"""Which of a revision's set-up steps run when it is applied to a running preview.

The preview's data is kept across the swap, so a step runs again only where running it
again is what the new revision needs: a step new to this revision (a migration tool the
revision brought, a ``release:`` line it changed) runs; of the steps the running
revision had already run, only the migrations may run again (``alembic upgrade head``,
Django's ``migrate``, ``flask db upgrade``, Prisma's ``migrate deploy`` / ``db push``),
and only when the revision changed what they read: a file under a migrations folder
(``migrations/``, ``alembic/``, ``versions/``, ``prisma/``, ``migrate/``, or the
``script_location`` of an ``alembic.ini``), an ``alembic.ini``, ``env.py``,
``schema.prisma``, ``manage.py`` or ``settings.py``, or a dependency file (another
version of the migration tool). They apply what is new and nothing twice, so a migration
added in a revision runs once, and a revision that changed a route alone starts without
them (each costs an interpreter's start and its imports). An init command or a seed
already run is not run again (a seed twice is twice the rows).

A build is not data: its output is made from the files, and the revision's directory
starts with the running revision's (its ``dist/`` among them), so a build the running
revision ran (the app's build script, ``npm run build``; a step of compilers and file
tools alone, ``tsc``, ``nest build``: ``apps.node.buildsteps``) runs again whenever the
revision changed a file; its kept output is reused where nothing it reads changed (the
build cache, keyed by every file). Without it a revision of a TypeScript source served
the old JavaScript.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import replace

from ...apps.detect import Detection
from ...apps.node.buildsteps import pure_build
from ...apps.plans import is_build
from ...store.revisions import DEPENDENCY_FILES

__all__ = ["migration_inputs_changed", "steps_to_run"]

_MIGRATIONS = (("upgrade",), ("migrate",), ("db", "push"), ("migrate", "deploy"))
_MIGRATION_DIRS = frozenset({"migrations", "alembic", "versions", "prisma", "migrate"})
_MIGRATION_FILES = (
    frozenset({"alembic.ini", "env.py", "schema.prisma", "manage.py", "settings.py"})
    | DEPENDENCY_FILES
)
_SCRIPT_LOCATION = re.compile(rb"^\s*script_location\s*=\s*(\S+)", re.MULTILINE)


def _migrates(step: tuple[str, ...]) -> bool:
    words = [part.rsplit("/", 1)[-1] for part in step]
    return any(
        words[i : i + len(pattern)] == list(pattern)
        for pattern in _MIGRATIONS
        for i in range(len(words))
    )


def _builds(step: tuple[str, ...], where: str, files: dict[str, bytes]) -> bool:
    """Whether ``step`` builds (its output made from the files: see the module doc)."""
    return is_build(step) or pure_build(step, where, files) is not None


def _script_locations(files: dict[str, bytes]) -> set[str]:
    """The folders Alembic's ini files name (``%(here)s`` and relative: the ini's own)."""
    found: set[str] = set()
    for path, content in files.items():
        if posixpath.basename(path) != "alembic.ini":
            continue
        for match in _SCRIPT_LOCATION.finditer(content):
            where = match.group(1).decode("utf-8", "replace").replace("%(here)s", ".")
            if ":" in where:  # package:resource: by its last part
                where = where.rsplit(":", 1)[-1]
            found.add(posixpath.normpath(posixpath.join(posixpath.dirname(path), where)))
    return found


def migration_inputs_changed(changed: Iterable[str], files: dict[str, bytes]) -> bool:
    """Whether a change of ``changed`` (paths) may give a migration step something new
    to do, ``files`` the revision's tree (see the module doc)."""
    locations = _script_locations(files)
    for path in changed:
        parts = path.split("/")
        if parts[-1] in _MIGRATION_FILES or _MIGRATION_DIRS.intersection(parts[:-1]):
            return True
        if any(path.startswith(location + "/") for location in locations):
            return True
    return False


def steps_to_run(
    running: Detection | None,
    new: Detection,
    changed: Iterable[str] | None = None,
    files: dict[str, bytes] | None = None,
) -> tuple[Detection, list[str]]:
    """``new`` with only the set-up steps to run on a swap from ``running``, and the
    ones left out (said in the log). ``changed``: the paths the revision changed
    (None: unknown, each migration runs again); ``files``: its tree."""
    before = set(running.setup_steps()) if running is not None else set()
    files = files or {}
    paths = None if changed is None else set(changed)
    migrations_due = paths is None or migration_inputs_changed(paths, files)
    anything_changed = paths is None or bool(paths)
    kept, skipped = [], []
    for step, where in new.setup_steps():
        builds = step not in new.data_setup and _builds(step, where, files)
        if (
            (step, where) not in before
            or (migrations_due and _migrates(step))
            or (anything_changed and builds)
        ):
            kept.append((step, where))
        else:
            skipped.append(" ".join(step))
    return (
        replace(new, setup=tuple(s for s, _ in kept), setup_dirs=tuple(w for _, w in kept)),
        skipped,
    )
