"""Poetry's dependency tables as PEP 508 requirements: :func:`poetry_requirements` (and
Pipenv's, simpler: :func:`pipenv_requirements`).

Poetry's constraint language is wider than PEP 440's: ``^1.2`` and ``~1.2`` ranges,
clauses separated by spaces as well as commas (``">=1.0 <2.0"``), and ``||`` between
alternatives. PEP 440 has no "or": alternatives that join into one range without a gap
(``^1.2 || ^2.0``) become that range, which is exact; otherwise the newest alternative is
kept (the one Poetry's solver would pick, as it prefers the newest versions), and a note
says so (the caller shows it in the build's output). A dependency's
``python`` and ``markers`` keys become PEP 508 markers (markers *can* say "or"); ``url``
and ``git`` dependencies direct references; a ``path`` dependency inside the upload is not
installed (the app imports it from the upload, which is put on its ``PYTHONPATH``, as a
local path in a requirements.txt) but its own dependencies are.
"""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from collections.abc import Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = [
    "pipenv_requirements",
    "poetry_constraint",
    "poetry_lock_pins",
    "poetry_requirements",
    "valid_version",
]

# A clause: an optional operator, then a version (or "*").
# A clause starts no later than the first blank of a run (each blank tried as a start read
# the run to its end: quadratic, the GIL held; 30,000 blanks in a constraint took 45 s).
_CLAUSE = re.compile(r"(\^|~=|~|===|==|!=|>=|<=|>|<|=)?(?<!\s)\s*+(\*|v?\d[\w.*+!-]*)")
_RELEASE = re.compile(r"\d+")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")  # git@github.com:owner/repo.git
_MAX_DEPTH = 10

Clauses = list[tuple[str, str]]  # [(PEP 440 operator, version)]; [] means any version


def _release(version: str) -> list[int]:
    """The leading numeric release segments of ``version`` (``1.2.3b1`` -> [1, 2, 3])."""
    numbers = []
    for part in version.split("."):
        match = _RELEASE.match(part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    return numbers or [0]


def _range(operator: str, version: str) -> Clauses:
    """``^`` / ``~`` as a ``>=``/``<`` pair (Poetry's semantics)."""
    numbers = _release(version)
    if operator == "^":  # up to the next change of the first non-zero segment
        first = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
    else:  # ~1.2.3 and ~1.2: next minor; ~1: next major
        first = 1 if len(numbers) > 1 else 0
    upper = [*numbers[:first], numbers[first] + 1]
    return [(">=", version), ("<", ".".join(map(str, upper)))]


def _alternative(text: str) -> Clauses | None:
    """One alternative (no ``||``) as PEP 440 clauses; None when it cannot be read."""
    if re.sub(r"[\s,]", "", _CLAUSE.sub("", text)):
        return None  # something neither a clause nor a separator
    clauses: Clauses = []
    for operator, version in _CLAUSE.findall(text):
        if version == "*":
            continue
        if operator in ("^", "~"):
            clauses.extend(_range(operator, version))
        else:
            clauses.append((operator if operator not in ("", "=") else "==", version))
    return clauses


def _alternatives(constraint: str) -> list[Clauses | None]:
    return [_alternative(part) for part in re.split(r"\|\|?", constraint)]


def _bound(clauses: Clauses) -> tuple[str | None, str | None] | None:
    """(lower inclusive, upper exclusive) when ``clauses`` is just such a range."""
    lower = upper = None
    for operator, version in clauses:
        if not re.fullmatch(r"\d+(\.\d+)*", version):
            return None  # pre-releases, wildcards: not compared here
        if operator == ">=" and lower is None:
            lower = version
        elif operator == "<" and upper is None:
            upper = version
        else:
            return None
    return lower, upper


def _key(version: str, width: int) -> tuple[int, ...]:
    numbers = [int(n) for n in version.split(".")]
    return tuple(numbers + [0] * (width - len(numbers)))


def _merge(alternatives: list[Clauses]) -> tuple[Clauses, bool]:
    """One range for the alternatives: (their union, True) when it has no gap; else
    (the newest alternative, False), the one Poetry's solver would most likely pick, or
    the first when they cannot be compared here."""
    bounds = [_bound(clauses) for clauses in alternatives]
    if any(b is None for b in bounds):
        return alternatives[0], False
    ranges = [b for b in bounds if b is not None]
    width = max(len(v.split(".")) for lo, hi in ranges for v in (lo, hi) if v is not None)

    def low_key(version: str | None) -> tuple[float, ...]:
        return (-1,) if version is None else _key(version, width)

    def high_key(version: str | None) -> tuple[float, ...]:
        return (float("inf"),) if version is None else _key(version, width)

    ordered = sorted(ranges, key=lambda r: (low_key(r[0]), high_key(r[1])))
    lower, upper = ordered[0]
    for low, high in ordered[1:]:
        if low_key(low) > high_key(upper):  # a gap: one range would let in too much
            newest = max(ranges, key=lambda r: (high_key(r[1]), low_key(r[0])))
            return alternatives[ranges.index(newest)], False
        if high_key(high) > high_key(upper):
            upper = high
    return [*([(">=", lower)] if lower else []), *([("<", upper)] if upper else [])], True


def _specifier(clauses: Clauses) -> str:
    return ",".join(f"{operator}{version}" for operator, version in clauses)


def _single(constraint: str, note: Callable[[str], None], what: str) -> Clauses:
    """One PEP 440 range for ``constraint``; ``note`` says when it is not exact."""
    alternatives = _alternatives(constraint)
    readable = [a for a in alternatives if a is not None]
    if len(readable) < len(alternatives):
        note(f'{what}: cannot read the constraint "{constraint}": installed without one')
        return []
    if len(readable) == 1:
        return readable[0]
    if any(not a for a in readable):
        return []  # one alternative allows anything: so does their union
    chosen, exact = _merge(readable)
    how = "their union, one range" if exact else "one alternative only"
    note(
        f'{what}: "{constraint}" has alternatives (||), which a PEP 440 requirement cannot '
        f"say: installed as {_specifier(chosen) or 'any version'} ({how})"
    )
    return chosen


def poetry_constraint(constraint: str) -> str:
    """Poetry's ``^1.2`` / ``~1.2`` / ``1.2.3`` / ``>=1 <2`` / ``*`` as a PEP 440 specifier."""
    return _specifier(_single(constraint, lambda _: None, "python"))


def _python_marker(constraint: str) -> str | None:
    """A dependency's ``python = "..."`` as a PEP 508 marker ("or" included)."""
    alternatives = _alternatives(constraint)
    if any(a is None for a in alternatives) or any(not a for a in alternatives):
        return None
    parts = []
    for clauses in alternatives:
        assert clauses is not None
        parts.append(
            " and ".join(
                f'{"python_full_version" if v.count(".") >= 2 else "python_version"} {op} "{v}"'
                for op, v in clauses
            )
        )
    return parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)


def _git_url(url: str) -> str:
    if "://" not in url and _SCP_LIKE.match(url):
        url = "ssh://" + url.replace(":", "/", 1)  # scp-like syntax is no URL
    return url if url.startswith("git+") else f"git+{url}"


class _Reader:
    """Reads one pyproject's Poetry table, and those of the path dependencies it names."""

    def __init__(self, files: dict[str, bytes], local: list[str]) -> None:
        self.files = files
        self.notes: list[str] = []
        self.local = local  # the upload's directories of the path dependencies named

    def table(self, dependencies: dict, directory: str, source: str, depth: int) -> list[str]:
        lines: list[str] = []
        for name, constraint in dependencies.items():
            if name == "python":
                continue
            # A list: one entry per Python version or platform, told apart by markers.
            entries = constraint if isinstance(constraint, list) else [constraint]
            for entry in entries:
                lines.extend(self.dependency(name, entry, directory, source, depth))
        return lines

    def dependency(
        self, name: str, constraint: object, directory: str, source: str, depth: int
    ) -> list[str]:
        what = f"{source}: {name}"
        if isinstance(constraint, str):
            return [f"{name}{_specifier(_single(constraint, self.notes.append, what))}"]
        if not isinstance(constraint, dict) or constraint.get("optional"):
            return []  # an extra's dependency: not installed unless asked for
        extras = ""
        if isinstance(constraint.get("extras"), list):
            extras = "[" + ",".join(str(e) for e in constraint["extras"]) + "]"
        markers = []
        if isinstance(constraint.get("python"), str):
            python = _python_marker(constraint["python"])
            if python:
                markers.append(python)
        if isinstance(constraint.get("markers"), str) and constraint["markers"].strip():
            markers.append(constraint["markers"].strip())
        marker = " and ".join(f"({m})" if len(markers) > 1 else m for m in markers)
        suffix = f" ; {marker}" if marker else ""
        if isinstance(constraint.get("url"), str):
            return [f"{name}{extras} @ {constraint['url']}{suffix}"]
        if isinstance(constraint.get("git"), str):
            ref = constraint.get("rev") or constraint.get("tag") or constraint.get("branch")
            url = _git_url(constraint["git"]) + (f"@{ref}" if ref else "")
            if isinstance(constraint.get("subdirectory"), str):
                url += f"#subdirectory={constraint['subdirectory']}"
            return [f"{name}{extras} @ {url}{suffix}"]
        if isinstance(constraint.get("path"), str):
            return self.path(name, constraint["path"], directory, what, depth)
        version = constraint.get("version", "*")
        if not isinstance(version, str):
            return []
        return [f"{name}{extras}{_specifier(_single(version, self.notes.append, what))}{suffix}"]

    def path(self, name: str, path: str, directory: str, what: str, depth: int) -> list[str]:
        local = posixpath.normpath(posixpath.join(directory, path))
        if path.startswith("/") or local == ".." or local.startswith("../"):
            self.notes.append(f"{what}: the path {path} is outside the upload: left out")
            return []
        local = "" if local == "." else local
        self.local.append(local)
        inside = f"{local}/" if local else ""
        lines: list[str] | None = None
        if depth < _MAX_DEPTH and f"{inside}pyproject.toml" in self.files:
            lines = self.project(f"{inside}pyproject.toml", local, depth + 1)
        self.notes.append(
            f"{what}: the local package {local or '.'} is used from the upload, not installed"
            + (" (its dependencies are)" if lines else "")
        )
        return lines or []

    def project(self, path: str, directory: str, depth: int) -> list[str] | None:
        try:
            pyproject = tomllib.loads(self.files[path].decode("utf-8", "replace"))
        except (tomllib.TOMLDecodeError, RecursionError):
            return None
        project = pyproject.get("project")
        if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
            return [d.strip() for d in project["dependencies"] if isinstance(d, str) and d.strip()]
        table = pyproject.get("tool", {}).get("poetry", {}).get("dependencies")
        if isinstance(table, dict):
            return self.table(table, directory, path, depth)
        return None


def poetry_requirements(
    files: dict[str, bytes],
    dependencies: dict,
    directory: str,
    source: str,
    local: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """(PEP 508 lines, notes) for the Poetry ``dependencies`` table of ``source`` (the
    pyproject.toml in ``directory`` of the upload); the directories of the path
    dependencies it names (inside the upload, "" for its root) are added to ``local``."""
    reader = _Reader(files, local if local is not None else [])
    lines = reader.table(dependencies, directory, source, 0)
    return list(dict.fromkeys(lines)), reader.notes


# Left to the build and to the remedies, which hold setuptools where an old setup.py needs it.
_BUILD_TOOLS = frozenset({"pip", "setuptools", "wheel"})


def poetry_lock_pins(
    lock: str, requirements: list[str], lock_name: str = "poetry.lock"
) -> tuple[list[str], str]:
    """(constraints, note) from a ``poetry.lock`` (or a ``uv.lock`` of the same
    ``[[package]]`` tables, ``lock_name``): each package it locks held to its
    version (``uvloop==0.16.0``), for uv's ``-c``: what the project ran with, where the
    ranges of ``pyproject.toml`` alone let a package its dependencies leave unbounded come
    out years newer (uvicorn 0.11's ``uvloop>=0.14`` gave uvloop 0.23, whose
    ``get_event_loop`` raises). A package the app does not install is not installed by
    them. No constraints where the lock disagrees with ``requirements`` (``pyproject.toml``
    changed since: a locked version outside a range it asks for), or cannot be read; the
    note says which."""
    try:
        packages = tomllib.loads(lock).get("package")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return [], f"{lock_name} cannot be read: not used"
    locked: dict[str, str] = {}
    for package in packages if isinstance(packages, list) else ():
        name, version = package.get("name"), package.get("version")
        source = package.get("source")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        if isinstance(source, dict) and (
            source.get("type") in ("directory", "file", "git", "url")
            or _UV_LOCAL_SOURCES & source.keys()  # uv's: the project itself, a path, a git URL
        ):
            continue  # a direct reference, installed as pyproject.toml names it
        if canonicalize_name(name) not in _BUILD_TOOLS:
            locked[canonicalize_name(name)] = version
    for line in requirements:
        try:
            wanted = Requirement(line)
            version = locked.get(canonicalize_name(wanted.name))
            if version is not None and not wanted.specifier.contains(version, prereleases=True):
                return [], (
                    f"{lock_name} is older than pyproject.toml ({wanted.name} locked at "
                    f"{version}, which '{line}' excludes): not used"
                )
        except (InvalidRequirement, InvalidVersion):
            continue  # a pip option, a local path: nothing to compare
    pins = [
        f"{name}=={version}" for name, version in sorted(locked.items()) if valid_version(version)
    ]
    return pins, f"{lock_name}: the {len(pins)} versions it locks hold what is installed"


_UV_LOCAL_SOURCES = {"virtual", "editable", "directory", "path", "git", "url"}


def valid_version(version: str) -> bool:
    """Whether ``version`` is a PEP 440 version."""
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


_PIPENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def pipenv_requirements(
    files: dict[str, bytes], pipfile: dict | None, directory: str
) -> tuple[list[str], str, str | None] | None:
    """(requirement lines, the file, the Python it asks for) of Pipenv's ``Pipfile.lock``
    (the exact pins of its ``default`` section: what the project ran with), else of its
    ``Pipfile``'s ``[packages]`` (``pipfile``, read); None without either (or with neither
    readable)."""
    pipfile = pipfile or {}
    requires = _table(pipfile, "requires")
    python = requires.get("python_full_version") or requires.get("python_version")
    python = python if isinstance(python, str) and python.strip() else None
    lock_path = posixpath.join(directory, "Pipfile.lock")
    try:
        lock = json.loads(files[lock_path]) if lock_path in files else None
    except (ValueError, RecursionError):
        lock = None
    if isinstance(lock, dict) and isinstance(lock.get("default"), dict):
        locked = _table(_table(lock, "_meta"), "requires")
        python = python or locked.get("python_full_version") or locked.get("python_version")
        python = python if isinstance(python, str) and python.strip() else None
        return _pipenv_lines(lock["default"]), lock_path, python
    if isinstance(pipfile.get("packages"), dict):
        return _pipenv_lines(pipfile["packages"]), posixpath.join(directory, "Pipfile"), python
    return None


def _table(parent: dict, key: str) -> dict:
    """``parent[key]`` when it is a table (a dict), else an empty one."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _pipenv_lines(table: dict) -> list[str]:
    """PEP 508 lines of a Pipfile's ``[packages]`` or a lock's ``default``: versions
    (``"*"``: any), extras, markers, git sources; the project's own editable path (the
    upload itself) and other paths left out."""
    lines = []
    for name, entry in table.items():
        entry = {"version": entry} if isinstance(entry, str) else entry
        if (
            not isinstance(name, str)
            or not _PIPENV_NAME.fullmatch(name)
            or not isinstance(entry, dict)
        ):
            continue
        if "path" in entry or "file" in entry:
            continue
        extras = entry.get("extras")
        line = name + (f"[{','.join(extras)}]" if isinstance(extras, list) and extras else "")
        if isinstance(entry.get("git"), str):
            ref = entry.get("ref")
            line += f" @ git+{entry['git']}" + (f"@{ref}" if isinstance(ref, str) else "")
        else:
            version = entry.get("version")
            if isinstance(version, str) and version.strip().startswith("^"):
                # Poetry's caret in a Pipfile, which pipenv refuses ("Couldn't parse
                # requirement … flask^2.0.1": Andrew-Nzioki's usermanager-flask): its
                # meaning, as Poetry reads it.
                line += poetry_constraint(version.strip())
            elif isinstance(version, str) and version.strip() not in ("", "*"):
                line += version.strip()
        markers = entry.get("markers")
        if isinstance(markers, str) and markers.strip():
            line += f"; {markers.strip()}"
        lines.append(line)
    return lines
