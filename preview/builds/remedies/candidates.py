"""The fixes a failure's lines call for: :func:`candidates`.

What the failure says is read (the build's reason, a set-up step's or the app's last
traceback), never the app's name; each cause and its fix is listed in the package's doc
(:mod:`preview.builds.remedies`).
"""

from __future__ import annotations

import re
import shutil
import sys

from ...apps.imports import import_mapping, imported_names
from ..installers import version_key
from .fixes import Fix, Tried
from .fixes import name as _name
from .fixes import norm as _norm
from .fixes import own as _own
from .hints import for_install_hint
from .holds import abstract_instantiated, defining, held, rejected_call, rejected_inside
from .pythons import (
    installed_dists,
    older_installed,
    removed_from_stdlib,
    removed_keyword,
    too_new,
)

__all__ = ["candidates"]

_FOR_PYTHON = re.compile(r"^building \S+ (?:\S+ )?for Python (\d+\.\d+)")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
# Names start where a run of name characters does (each of a long run tried as a start
# read it to its end: quadratic in a build's line, the GIL held).
_NO_KEYWORD = re.compile(r"(?<![\w.])([\w.]+)\(\) got an unexpected keyword argument '(\w+)'")
_NO_OBJECT_ATTRIBUTE = re.compile(r"AttributeError: '(\w+)' object has no attribute '(\w+)'")
# A function whose signature changed under its caller ("load() missing 1 required
# positional argument: 'Loader'", PyYAML 6 under a 2017 flask-swagger): the call, the
# traceback's line above it, names the module it belongs to.
_CALL_REJECTED = re.compile(
    r"TypeError: (?:[\w.]+\.)?(\w+)\(\) (?:missing \d+ required|got an unexpected keyword"
    r"|takes (?:from \d+ to )?\d+ positional)"
)
# A package's own exception saying an API left it: pydantic's PydanticImportError …
_MOVED = re.compile(
    r"^(?:\S+: )?([a-z_][\w]*)\.[\w.]*(?:Error|Exception):.*"
    r"(?:has been (?:moved|removed)|was removed|is no longer|no longer (?:available|supported))"
)
# uv's resolution failing on a name the index does not have at all.
_NOT_ON_THE_INDEX = re.compile(
    r"Because ([A-Za-z0-9][\w.-]*) was not found in the package registry"
)
# Flask before 2.2 finds its extensions' commands (Flask-Migrate's `db`) through
# pkg_resources, and says only this when it is missing (its import error is swallowed).
_NO_FLASK_COMMAND = re.compile(r"Error: No such command '([\w-]+)'")
_DJANGO_DRIVER = re.compile(r"Error loading (psycopg2?|MySQLdb) (?:or psycopg )?module")
# A module a package split off into a distribution of its own, as the package says it
# (lxml 5.2: "lxml.html.clean module is now a separate project lxml_html_clean").
_SEPARATE_PROJECT = re.compile(
    r"(?<![\w.])([\w.]+) module is now a separate project ([A-Za-z0-9][\w.-]*)"
)
_BUILD = re.compile(
    r"Failed to (?:download and )?build `(?P<name>[A-Za-z0-9._-]+)|"
    r"^building (?P<named>[A-Za-z0-9._-]+) (?:\S+ )?for Python|"
    r"doesn't have a source distribution or wheel|has no wheels? (?:with|for)"
)
# A package no version of which installs on this platform (redis-server: macOS wheels
# only, no source distribution), whatever the Python: uv's hint names the platforms its
# wheels are for (none Linux's).
_NO_PLATFORM_WHEEL = re.compile(
    r"Wheels are available for `([A-Za-z0-9._-]+)` \([^)]*\) on the following platforms?: "
    r"(?!.*linux)",
    re.IGNORECASE,
)
# uv's account of why a package is there: "`pygraphviz` (v1.11) was included because
# `eralchemy2` (v1.4.1) depends on `pygraphviz`".
_INCLUDED = re.compile(r"`([A-Za-z0-9._-]+)` \(v[^)]*\) was included because (.*)$")
_DEPENDS = re.compile(r"`([A-Za-z0-9._-]+)` \(v[^)]*\) depends on")
# What runs the app without being imported by it: never left out (httptools, uvicorn's).
_RUNS_THE_APP = {"uvicorn", "gunicorn", "hypercorn", "daphne", "waitress", "granian", "celery"}
# What a module name needs that its own distribution name does not say.
_DISTRIBUTION = {
    "pkg_resources": "setuptools<81",  # pkg_resources left setuptools in 81
    "psycopg2": "psycopg2-binary",  # psycopg2 from source needs pg_config and a compiler
    "MySQLdb": "mysqlclient",
}
# An old setup.py on a setuptools API that a release removed, as its isolated build
# says it (the newest setuptools is taken): the last setuptools that had it.
_SETUPTOOLS_GONE = (
    (re.compile(r"use_2to3 is invalid"), "setuptools<58"),
    (re.compile(r"cannot import name '\w+' from 'setuptools"), "setuptools<70"),
    (re.compile(r"No module named 'setuptools\.command\.test'"), "setuptools<72"),
    (
        re.compile(r"No module named 'pkg_resources'|from 'pkg_resources"),
        _DISTRIBUTION["pkg_resources"],
    ),
    # setuptools 66 reads requirements strictly (PEP 508, its packaging 22): an old
    # setup.py's ``extras_require`` of ``fonttools>=3.0<4.0`` (arabic-reshaper 2.1.1's,
    # under xhtml2pdf in Valaraucoo's django-api-docker-aws-jwt) is refused; so is it by
    # the newest wheel's bdist_wheel, which parses them with packaging of its own.
    (
        re.compile(r"'(?:extras_require|install_requires)' must be a\b"),
        "setuptools<66, wheel<0.38",
    ),
    # Cython 3's build_ext lost what an old setup.py reads (PyYAML 5's).
    (re.compile(r"has no attribute 'cython_sources'"), "Cython<3"),
)


def candidates(
    text: list[str], tried: Tried, files: dict[str, bytes], installed: list[str]
) -> list[Fix]:
    """The fixes the failure's ``text`` calls for, first first (each may have been tried)."""
    found: list[Fix] = _for_old_setup(text)  # before an older Python: that cannot help
    built = next((m.group(1) for line in text if (m := _FOR_PYTHON.search(line))), None)
    python = built or tried.python_version or "{}.{}".format(*sys.version_info)
    newer = too_new(text, python, tried.env_path)
    if newer is not None:
        below, older = newer[0], older_installed(newer[0], installed)
        if older is None:  # none as old as it asks: the oldest below this one
            present = [v for v in installed if older_installed(python, [v])]
            older = min(present, key=version_key, default=None)
            older = ".".join(older.split(".")[:2]) if older else None
            below = f"3.{int(older.split('.')[1]) + 1}" if older else below
        if older is not None:
            said = f"{newer[1]} fails on Python {python}, newer than it knows"
            found.append(Fix(f"{said}: relaunching with Python {older}", python_below=below))
    found += rejected_inside(text, tried, files)
    found += abstract_instantiated(text, tried, files)
    code = ""  # the traceback's last line of code so far (under it: carets, on 3.11)
    for line in text:
        if (rejected := _CALL_REJECTED.search(line)) is not None:
            found += rejected_call(rejected.group(1), code, tried, files)
        if line.strip(" ^~\t"):
            code = line
        for module, name in _missing_names(line):
            found += _for_missing(module, name, line, tried, files, python, installed)
        if (call := _NO_KEYWORD.search(line)) is not None:
            found += _for_keyword(call.group(1), call.group(2), python, installed)
        if (moved := _MOVED.match(line.strip())) is not None:
            found += held(moved.group(1), tried, f"{line.strip()[:120]}")
        if (gone := _NO_OBJECT_ATTRIBUTE.search(line)) is not None:
            top = defining(gone.group(1), tried)
            if top is not None:  # an object of an unpinned dependency lost an attribute
                found += held(top, tried, f"{gone.group(1)}.{gone.group(2)} is gone from {top}")
        if (command := _NO_FLASK_COMMAND.search(line)) is not None:
            found += _for_flask_command(command.group(1), tried)
        found += for_install_hint(line, tried, files)
        if (absent := _NOT_ON_THE_INDEX.search(line)) is not None:
            found += _without_guessed(absent.group(1), tried)
        if (split := _SEPARATE_PROJECT.search(line)) is not None:
            module, project = split.group(1), split.group(2).rstrip(".")
            said = f"{module} is now the separate project {project}: relaunching with it added"
            found.append(Fix(said, add=project))
        if (driver := _DJANGO_DRIVER.search(line)) is not None:
            module = "psycopg2" if driver.group(1).startswith("psycopg") else "MySQLdb"
            if module == "MySQLdb" and not _builds_mysqlclient():
                found.append(_pymysql_fix("Django cannot load MySQLdb"))
                continue
            drop, add = ("psycopg2" if module == "psycopg2" else None), _DISTRIBUTION[module]
            found.append(
                Fix(f"Django cannot load {module}: relaunching with {add}", add=add, drop=drop)
            )
        if (platform := _NO_PLATFORM_WHEEL.search(line)) is not None:
            found += _without_uninstallable(platform.group(1), tried, files)
        if (build := _BUILD.search(line)) is not None:
            built_name = build.group("name") or build.group("named") or ""
            if _norm(built_name) == "mysqlclient":  # no wheel on any Python: no older one
                found += _without_mysqlclient(tried, files)
                continue
            found += _without_unimported(built_name, text, tried, files)
            # A package from a git URL that could not be fetched (litestar-pg-redis-docker's
            # litestar @ git+https://github.com/…@main): no other Python fetches it either.
            if not any("Git operation failed" in said for said in text):
                found += _for_build(built_name, tried, python, installed, line.strip())
    return found


def _missing_names(line: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    found += [(m.group(1), None) for m in _NO_MODULE.finditer(line)]
    found += [(m.group(1), m.group(2)) for m in _NO_ATTRIBUTE.finditer(line)]
    found += [(m.group(2), m.group(1)) for m in _CANNOT_IMPORT.finditer(line)]
    return found


def _for_missing(
    module: str,
    name: str | None,
    line: str,
    tried: Tried,
    files: dict[str, bytes],
    python: str,
    installed: list[str],
) -> list[Fix]:
    what = f"{module}.{name}" if name else module
    removed = removed_from_stdlib(module, name)
    if removed is not None:
        if version_key(python) < version_key(removed):
            return []  # not the cause: this Python still has it
        older = older_installed(removed, installed)
        if older is None:
            return []
        return [
            Fix(
                f"{what} was removed from Python's standard library in {removed}: "
                f"relaunching with Python {older}",
                python_below=removed,
            )
        ]
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or _own(top, files):
        return []
    dists = installed_dists(tried.env_path)
    if top in dists and (name is not None or "." in module):
        return held(top, tried, f"{what} is gone from {dists[top][0]} {dists[top][1]}")
    if top in dists or name is not None:
        return []
    if top == "MySQLdb" and not _builds_mysqlclient():
        return [_pymysql_fix(f"the app (or its ORM) imports {top}")]
    mapping = import_mapping() or {}
    distribution = _DISTRIBUTION.get(top) or mapping.get(top, top)
    listed = {_name(r) for r in tried.deps.requirements} if tried.deps else set()
    if _name(distribution) in listed and not re.search(r"[<>=]", distribution):
        return []  # listed, yet not importable: not a distribution's absence
    return [
        Fix(
            f"the app imports {top}, which its dependencies do not install: adding {distribution}",
            add=distribution,
        )
    ]


def _builds_mysqlclient() -> bool:
    """Whether mysqlclient (no Linux wheel) can be built here: its ``mysql_config`` (or
    MariaDB's) is on the path."""
    return any(shutil.which(tool) for tool in ("mysql_config", "mariadb_config"))


def _pymysql_fix(why: str) -> Fix:
    """PyMySQL in mysqlclient's place, standing in for ``MySQLdb`` (``remedies.mysqldb``):
    Django's MySQL backend and SQLAlchemy's ``mysql://`` import MySQLdb themselves."""
    said = (
        f"{why}, whose mysqlclient cannot be built here (no mysql_config): relaunching "
        "with PyMySQL standing in for MySQLdb"
    )
    return Fix(said, add="PyMySQL", drop="mysqlclient")


def _for_keyword(function: str, keyword: str, python: str, installed: list[str]) -> list[Fix]:
    removed = removed_keyword(function, keyword)
    older = older_installed(removed, installed) if removed else None
    if removed is None or older is None or version_key(python) < version_key(removed):
        return []
    return [
        Fix(
            f"{function}() of Python's standard library takes no {keyword}= since {removed}: "
            f"relaunching with Python {older}",
            python_below=removed,
        )
    ]


def _without_guessed(distribution: str, tried: Tried) -> list[Fix]:
    """A requirement the service guessed from an import (the app lists none) that the
    index does not have: left out (nikpopka's upload: ``win32com``, imported by a Windows
    desktop script beside its FastAPI app, which never imports it)."""
    deps = tried.listed or tried.deps
    if deps is None or deps.inferred is None:
        return []  # the app's own list: its failure says so
    if _norm(distribution) not in {_name(line) for line in deps.requirements}:
        return []
    said = (
        f"{distribution}, guessed from an import (the app lists no dependencies), is not on "
        f"the package index: relaunching without it"
    )
    return [Fix(said, drop=distribution)]


def _without_mysqlclient(tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """mysqlclient has no Linux wheel and builds only with MySQL's client headers and
    ``mysql_config``: dropped when the app lists it and none of its modules imports
    ``MySQLdb`` itself (a requirements file frozen with every driver, a SQLite default);
    a ``mysql://`` URL the app then uses fails naming ``MySQLdb``, and PyMySQL then
    stands in for it (:func:`_pymysql_fix`), as it does at once where the app imports
    ``MySQLdb`` itself. Where mysqlclient builds here, an app importing it keeps it."""
    listed = tried.deps.names() if tried.deps else set()  # a lock's too (uv.lock)
    if "mysqlclient" not in listed:
        return []
    if "MySQLdb" in imported_names(files):
        return [] if _builds_mysqlclient() else [_pymysql_fix("the app imports MySQLdb")]
    return [
        Fix(
            "mysqlclient cannot be built here (it needs MySQL's client library headers and "
            "mysql_config) and no module of the app imports MySQLdb: relaunching without it "
            "(a mysql:// database URL would need PyMySQL, as mysql+pymysql://)",
            drop="mysqlclient",
        )
    ]


def _without_unimported(
    name: str, text: list[str], tried: Tried, files: dict[str, bytes]
) -> list[Fix]:
    """A package that cannot be built here (no wheel) which no module of the app imports:
    a Pipfile.lock's pin of it left out (flask-rest-hello's pygraphviz 1.14, eralchemy2's:
    what brings it takes a release with wheels), or else, where uv's hint names the listed
    package that brings it ("`pygraphviz` … was included because `eralchemy2` … depends on
    `pygraphviz`") and the app imports neither, both. An older Python is no fix there: a
    lock's markers drop half of it instead."""
    listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
    chain = [_norm(name)]
    for line in text:
        hint = _INCLUDED.search(line)
        if hint is not None and _norm(hint.group(1)) == chain[0]:
            chain += [_norm(n) for n in _DEPENDS.findall(hint.group(2))]
            break
    locked = bool(tried.deps and tried.deps.source.endswith("Pipfile.lock"))
    if locked and chain[0] in listed:
        chain = chain[:1]  # a lock pins what its packages bring: the pin goes, not them
    elif len(chain) == 1 and chain[0] in listed and _frozen(tried):
        pass  # a freeze lists what its packages brought: listed, it is no choice of the app's
    elif len(chain) < 2 or chain[-1] not in listed or _RUNS_THE_APP & set(chain):
        return []  # listed for itself (orjson, FastAPI's), not the app's, or its server's
    imported = imported_names(files)
    mapping = import_mapping() or {}
    for distribution in chain:
        modules = {m for m, d in mapping.items() if _norm(d) == distribution}
        if imported & (modules | {distribution.replace("-", "_")}):
            return []
    dropped = [d for d in dict.fromkeys(chain) if d in listed]
    by = f" nor {', '.join(chain[1:])}, which brings it" if len(chain) > 1 else ""
    said = (
        f"{name} cannot be built here (no wheel) and no module of the app imports it{by}: "
        f"relaunching without {' and '.join(dropped)}"
    )
    return [Fix(said, drop=",".join(dropped))]


def _frozen(tried: Tried) -> bool:
    """Whether the app's requirements are a ``pip freeze`` (every package of the
    environment it was made in, each ``==``; ten or more): what one lists, its packages
    may have brought (okuzmenko31's drf-ecommerce lists pycairo 1.23, which needs
    cairo's headers, because rlPyCairo, reportlab's optional renderer, brought it; uv's
    hint then names what brought it only once it is no longer listed)."""
    listed = tried.listed or tried.deps
    lines = [line for line in listed.requirements if _name(line)] if listed else []
    return len(lines) >= 10 and all("==" in line for line in lines)


def _without_uninstallable(name: str, tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A listed package that nothing installs here (no wheel for this platform on any
    Python, no source to build: kiyoshisama's fastapi-blog-sqlalchemy-v2 lists
    ``redis-server``, macOS wheels only) and that no module of the app imports: left out.
    One the app imports stays: its failure is then the app's, said as it is."""
    listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
    distribution = _norm(name)
    if distribution not in listed:
        return []
    mapping = import_mapping() or {}
    modules = {m for m, d in mapping.items() if _norm(d) == distribution}
    if imported_names(files) & (modules | {distribution.replace("-", "_")}):
        return []
    said = (
        f"{name} has no wheel for this platform on any Python and no source to build, and "
        f"no module of the app imports it: relaunching without it"
    )
    return [Fix(said, drop=distribution)]


def _for_build(name: str, tried: Tried, python: str, installed: list[str], line: str) -> list[Fix]:
    listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
    if _norm(name) == "psycopg2" and "psycopg2" in listed:
        return [
            Fix(
                "psycopg2 cannot be built here (it needs a C compiler, pg_config and "
                "headers for this Python): relaunching with psycopg2-binary, its wheels",
                add="psycopg2-binary",
                drop="psycopg2",
            )
        ]
    minor = ".".join(python.split(".")[:2])
    older = older_installed(minor, installed)
    if older is None:
        return []
    what = f"{name} " if name else "a package "
    return [
        Fix(
            f"{what}has no wheel for Python {minor} and cannot be built here: "
            f"relaunching with Python {older}",
            python_below=minor,
        )
    ]


def _for_old_setup(text: list[str]) -> list[Fix]:
    """A failed build of an sdist whose setup.py needs a setuptools API since removed
    (django-allauth 0.42's ``from setuptools import convert_path``)."""
    built = next((m for line in text if (m := _BUILD.search(line)) and m.group("name")), None)
    if built is None:
        return []
    for pattern, hold in _SETUPTOOLS_GONE:
        if any(pattern.search(line) for line in text):
            said = (
                f"{built.group('name')}'s setup.py needs a setuptools API that later "
                f"releases removed: relaunching with its build on {hold}"
            )
            return [Fix(said, build=hold.replace(", ", "\n"))]  # a constraint a line
    return []


def _for_flask_command(command: str, tried: Tried) -> list[Fix]:
    listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
    if "flask" not in listed or "setuptools" in listed:
        return []
    add = _DISTRIBUTION["pkg_resources"]
    said = (
        f"flask has no command {command!r}: a Flask before 2.2 finds its extensions' "
        f"commands through pkg_resources, which the environment lacks: relaunching with {add}"
    )
    return [Fix(said, add=add)]
