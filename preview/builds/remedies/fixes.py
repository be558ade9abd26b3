"""What a fix is (:class:`Fix`), what the last attempt ran with (:class:`Tried`), and how
requirement lines are read by the remedies (:func:`name`, :func:`norm`, :func:`pinned`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ...apps.depspec import PythonDeps
from ...logs import gitignored_module, namesake_wrapper
from ..wheelindex import File

__all__ = ["MARGIN", "Era", "Fix", "Tried", "name", "norm", "own", "pinned"]

MARGIN = timedelta(days=90)  # after the newest pin: its contemporaries' fixes


@dataclass(frozen=True)
class Era:
    """The day the app's own pins date it to."""

    day: str  # "2023-04-12": the newest upload among its pins
    pin: str  # the line that dates it ("fastapi==0.95.1"), or the file
    dated_by: str = "the newest of the app's own pins"  # what ``day`` is the day of

    @property
    def until(self) -> str:
        """uv's ``--exclude-newer``: :data:`MARGIN` after the day (RFC 3339)."""
        end = datetime.fromisoformat(self.day) + MARGIN
        return end.strftime("%Y-%m-%dT00:00:00Z")


@dataclass(frozen=True)
class Fix:
    said: str  # the system line
    python_below: str | None = None  # an interpreter older than this ("3.10")
    python_from: str | None = None  # an interpreter of this version or newer ("3.12")
    add: str | None = None  # a requirement line added ("flask<3", "typing_extensions")
    # the line added in its place where the package registry has no ``add`` (a Django
    # app's module: ``whitenoise``, else ``django-whitenoise``)
    instead: str | None = None
    # distributions whose lines go (psycopg2 for its -binary), comma-separated
    drop: str | None = None
    # those kept out of the install too where a listed package brings them (mysqlclient,
    # which cannot be built here, that Flask-MySQLdb requires: PyMySQL stands in)
    keep_out: bool = False
    build: str | None = None  # a constraint on its sdists' builds ("setuptools<70")
    # what is installed resolved as of this time (uv's --exclude-newer: the app's era)
    before: str | None = None
    # the distribution :attr:`add` names resolved past that era (its release has no wheel
    # here, none of the era's does: uv's --exclude-newer-package)
    beyond_era: bool = False
    # a Node app's ranges installed at their floors (``npmera``: where no day dates them)
    floors: bool = False
    # a TypeScript app's own build in place of the emit without type check that it did
    # not start from (``builds.typescript``)
    typechecked: bool = False
    # a yarn-locked Node app's tree installed by npm honouring its packages' peer
    # dependencies, not with --legacy-peer-deps (``npmmissing.peer_placement_fix``)
    peers: bool = False

    def in_its_place(self, because: str = "is not in the package registry") -> Fix:
        """The fix adding :attr:`instead` where :attr:`add` would not do, ``because``."""
        said = f"{self.add} {because}: adding {self.instead}"
        return replace(self, said=said, add=self.instead, instead=None)

    @property
    def change(self) -> str:
        """What it changes, in a few words ("Python <3.10", "psycopg2 → psycopg2-binary")."""
        if self.typechecked:
            return "its own TypeScript build"
        if self.peers:
            return "its packages' peer dependencies honoured"
        if self.python_below:
            return f"Python <{self.python_below}"
        if self.python_from:
            return f"Python >={self.python_from}"
        if self.build:
            return f"builds on {self.build}"
        if self.before:
            return f"resolved as of {self.before[:10]}"
        if self.floors:
            return "its ranges at their floors"
        if self.drop:
            return f"{self.drop} → {self.add}" if self.add else f"- {self.drop}"
        return "+ " + ", ".join((self.add or "").split("\n"))  # (a line a package each)


@dataclass
class Tried:
    """What the last attempt ran with (set by the preparation)."""

    deps: PythonDeps | None = None  # with the fixes applied
    listed: PythonDeps | None = None  # as the app lists them (its own pins)
    # What the service added to the app's list, unpinned or seeded (the async driver, the
    # broker's client, Alembic for its steps, setuptools<81): no line of the app's.
    added: tuple[str, ...] = ()
    python_version: str | None = None
    env_path: Path | None = None  # its environment (a venv)
    era: Era | None = None  # the day its own pins date it to (see era), once read
    # The releases the index lists of a distribution pinned to a version it lacks
    # (``resolution``), asked by the preparation: name → versions.
    releases: dict[str, list[str]] = field(default_factory=dict)
    # The files the index lists of a distribution whose build failed (``wheels``), asked
    # by the preparation likewise: name → files.
    index_files: dict[str, list[File]] = field(default_factory=dict)


def requirement(line: str) -> Requirement | None:
    """A requirement line parsed without its environment marker (one a remedy reads
    for its name and versions only); None for a line that does not parse."""
    try:
        return Requirement(line.split(";")[0].strip())
    except InvalidRequirement:
        return None


def pinned(line: str) -> bool:
    """Whether a requirement line bounds its distribution from above (a pin of its own)."""
    if (parsed := requirement(line)) is None:
        return True  # not understood: left alone
    return any(spec.operator in ("==", "===", "~=", "<", "<=") for spec in parsed.specifier)


def name(line: str) -> str:
    """The normalised distribution name of a requirement line ("" for an option line)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return norm(match.group(1)) if match and not line.lstrip().startswith("-") else ""


def norm(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def own(top: str, files: dict[str, bytes]) -> bool:
    """Whether the upload has a module or package named ``top`` of its own, or its
    ``.gitignore`` left one out (a ``config.py`` of secrets: no distribution to add). A
    folder of that name holding no Python is none (ZakariaCoder's EcoleManager-flask keeps
    PHP's ``vendor/setasign/fpdf/`` beside its ``from fpdf import FPDF``: fpdf was never
    added, "No module named 'fpdf'"). Nor is a module file that wraps the package of its
    name (``config/celery.py``'s ``from celery import Celery``: :func:`namesake_wrapper`)."""
    if any(
        (f"/{top}/" in f"/{path}" and path.endswith(".py"))
        or (f"/{path}".endswith(f"/{top}.py") and not namesake_wrapper(path, files[path]))
        for path in files
    ):
        return True
    return gitignored_module(top, files) is not None
