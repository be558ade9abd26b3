"""The fixes a failure's lines call for: :func:`candidates`.

What the failure says is read (the build's reason, a set-up step's or the app's last
traceback), never the app's name; each cause and its fix is listed in the package's doc
(:mod:`preview.builds.remedies`).
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...apps.imports import import_mapping, imported_as_loaded, imported_names
from ...discovery.pyast import parse_module
from ..installers import version_key
from ..wheelindex import installs_on
from .era import dated
from .fixes import Fix, Tried, requirement
from .fixes import name as _name
from .fixes import norm as _norm
from .fixes import own as _own
from .fixes import pinned as _pinned
from .hints import EXCEPTION_SAYS, for_install_hint
from .holds import (
    REFUSED_SINCE,
    REMOVED_BY_MAJOR,
    REMOVED_WITHIN_MAJOR,
    abstract_instantiated,
    attribute_refused_to_a_package,
    declared_ranges,
    defining,
    held,
    pinned_behind_its_code,
    rejected_call,
    rejected_inside,
    removed_by_major,
)
from .pythons import (
    FRAME,
    NO_ATTRIBUTE,
    installed_dists,
    installed_submodule,
    older_installed,
    removed_from_stdlib,
    removed_keyword,
    too_new,
)
from .resolution import ABSENT_NAME, explanation
from .wheels import failed_builds, nearest_wheel_fix

__all__ = ["LINE_RULES", "Failure", "LineRule", "candidates", "freeze_pins"]

_FOR_PYTHON = re.compile(r"^building \S+ (?:\S+ )?for Python (\d+\.\d+)")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
# A package's own words that this Python is older than the app's code needs: "… on Python
# < 3.12" (pydantic's), "requires Python 3.12 or newer", "needs Python 3.12+".
# What Python before 3.12 says of an f-string that PEP 701's grammar reads, and where.
_F_STRING_ERROR = re.compile(
    r"SyntaxError: (?:unterminated (?:triple-quoted )?string literal|f-string\b)"
)
_F_STRING_START = re.compile(r"(?<![\w])[rRbB]?[fF][rR]?[\"']")
_NEEDS_PYTHON = re.compile(
    r"\bon Python < ?(3\.\d+)\b"
    r"|\b(?:requires|needs) Python (?:>= ?)?(3\.\d+)(?:\+| or (?:newer|later|above|higher))"
)
# Modules setuptools' copy of distutils dropped, which the standard library's kept: the
# release that dropped them. ``from distutils.command.upload import upload``, an editor's
# auto-import beside Django's ``upload_to`` (daviromao's product-review-drf, jlurel's
# django-rest-framework-blog-api: their models died on it under setuptools 80, Python 3.10).
_SETUPTOOLS_DROPPED = {"distutils.command.upload": "75", "distutils.command.register": "75"}
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
# Python 3.6 and older name no module ("ImportError: cannot import name 'cached_property'",
# flask-restplus under Werkzeug 2 in DarkSide7H's python-Flask-RBAC): the traceback's line
# of code above it, ``from werkzeug import cached_property``, does.
_CANNOT_IMPORT_UNNAMED = re.compile(r"ImportError: cannot import name '(\w+)'\s*$")
# Names start where a run of name characters does (each of a long run tried as a start
# read it to its end: quadratic in a build's line, the GIL held).
_NO_KEYWORD = re.compile(r"(?<![\w.])([\w.]+)\(\) got an unexpected keyword argument '(\w+)'")
_NO_OBJECT_ATTRIBUTE = re.compile(r"AttributeError: '(\w+)' object has no attribute '(\w+)'")
# An installed app's AppConfig naming a module other than the one INSTALLED_APPS lists,
# which Django 3.2 and later discover by themselves: the name, the listed module.
_APP_CONFIG_NAME = re.compile(
    r"ImproperlyConfigured: Cannot import '([\w.]+)'\. Check that '([\w.]+)\.apps\.\w+\.name'"
)
# A dataclass field's default refused as mutable (an instance of a class with no hash):
# from 3.11 any unhashable default, before only a list, a dict or a set
# (sharon1bary's async-fastapi: ``run_task_config: RunTaskConfig = RunTaskConfig()``).
_MUTABLE_DEFAULT = re.compile(
    r"mutable default <class '([\w.]+)'> for field \w+ is not allowed: use default_factory"
)
# A function whose signature changed under its caller ("load() missing 1 required
# positional argument: 'Loader'", PyYAML 6 under a 2017 flask-swagger): the call, the
# traceback's line above it, names the module it belongs to.
_CALL_REJECTED = re.compile(
    r"TypeError: (?:[\w.]+\.)?(\w+)\(\) (?:missing \d+ required|got an unexpected keyword"
    r"|takes (?:from \d+ to )?\d+ positional)"
)
# A method of a dependency's class rejecting a keyword argument the app's call passes
# (Y-Tarek's flask-newsfeed-app: ``cursor.execute(query, multi=True)``, which
# mysql-connector-python 9 dropped: "MySQLCursor.execute() got an unexpected keyword
# argument 'multi'"): the class names the package.
_METHOD_KEYWORD = re.compile(
    r"TypeError: ([A-Z]\w*)\.(\w+)\(\) got an unexpected keyword argument '(\w+)'"
)
# A method of a dependency's class whose positional parameters changed under the app's
# call (pavel-glukhov's FastAPI-Telegram-Auth: ``templates.TemplateResponse('login.html',
# context={…})``, the form Starlette's newest releases dropped for ``(request, name)``:
# "Jinja2Templates.TemplateResponse() missing 1 required positional argument: 'name'", a
# 500 at its login route): the class names the package.
_METHOD_SIGNATURE = re.compile(
    r"TypeError: ([A-Z]\w*)\.(\w+)\(\) (?:missing \d+ required positional argument"
    r"|takes (?:from \d+ to )?\d+ positional arguments? but \d+ (?:was|were) given)"
)
# A compiled package built against an older NumPy's binary interface, imported under a
# newer NumPy (NumPy 2 changed it): edesz's fastapi-async-db-auth pins pandas==1.2.4 and
# no numpy, which came at 2.x.
_NUMPY_ABI = re.compile(
    r"numpy\.(?:dtype|ndarray|ufunc) size changed, may indicate binary incompatibility"
    r"|compiled using NumPy 1\.x cannot be run in"
)
# A package's own exception saying an API left it: pydantic's PydanticImportError …
_MOVED = re.compile(
    r"^\s*(?:\S+: )?([a-z_][\w]*)\.[\w.]*(?:Error|Exception):.*"
    r"(?:has been (?:moved|removed)|was removed|is no longer|no longer (?:available|supported))"
)
# uv's resolution failing on a pinned version the index does not have (none, or yanked).
_NO_SUCH_PIN = re.compile(r"Because there is no version of ([A-Za-z0-9][\w.-]*)==")
# Flask before 2.2 finds its extensions' commands (Flask-Migrate's `db`) through
# pkg_resources, and says only this when it is missing (its import error is swallowed).
# (click 7 quotes it in double quotes: "db")
_NO_FLASK_COMMAND = re.compile(r"""Error: No such command ['"]([\w-]+)['"]""")
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
# installers.installer_killed's line on a download past the build's file-size limit.
_OVERSIZED = re.compile(
    r"was stopped writing a file larger than the ([\d.]+) MiB a build may write \(([^)]+)\)"
)
# uv's failure to fetch a requirement named by its URL (``pgadmin4 @ https://ftp.postgresql.
# org/…/pgadmin4-6.15-py3-none-any.whl``): group 1 its name, 2 the URL's last part.
_URL_UNREACHED = re.compile(r"Failed to download `([A-Za-z0-9._-]+) @ https?://\S*/([^/`\s]+)`")
# A distribution file's version in its name (``pgadmin4-6.15-py3-none-any.whl``,
# ``flask-2.0.1.tar.gz``).
_FILE_VERSION = re.compile(r"^[A-Za-z0-9._]+?-(\d[\w.+!]*?)(?:-|\.tar\.gz$|\.zip$)")
_NO_PLATFORM_WHEEL = re.compile(
    r"Wheels are available for `([A-Za-z0-9._-]+)` \([^)]*\) on the following platforms?: "
    r"(?!.*linux)",
    re.IGNORECASE,
)
# uv's account of why a package is there: "`pygraphviz` (v1.11) was included because
# `eralchemy2` (v1.4.1) depends on `pygraphviz`".
# (a package asked for with an extra is named with it: "`python-escpos[all]` (v3.1)
# depends on `pycups`": the extra is the package's)
_INCLUDED = re.compile(
    r"`([A-Za-z0-9._-]+)(?:\[[\w,.-]*\])?` \(v[^)]*\) was included because (.*)$"
)
_DEPENDS = re.compile(r"`([A-Za-z0-9._-]+)(?:\[[\w,.-]*\])?` \(v[^)]*\) depends on")
_VERSIONED = re.compile(r"`([A-Za-z0-9._-]+)(?:\[[\w,.-]*\])?` \(v[^)]*\)")
# What runs the app without being imported by it: never left out (httptools, uvicorn's).
_RUNS_THE_APP = {"uvicorn", "gunicorn", "hypercorn", "daphne", "waitress", "granian", "celery"}
# What a module name needs that its own distribution name does not say.
_DISTRIBUTION = {
    "pkg_resources": "setuptools<81",  # pkg_resources left setuptools in 81
    "psycopg2": "psycopg2-binary",  # psycopg2 from source needs pg_config and a compiler
    # psycopg 3 alone loads the system's libpq, which a host may lack: its own, as wheels
    # (SQLAlchemy 2.1's driver for a plain postgresql:// URL).
    "psycopg": "psycopg[binary]",
    "MySQLdb": "mysqlclient",
}
# An old setup.py on a setuptools API that a release removed, as its isolated build
# says it (the newest setuptools is taken): the last setuptools that had it.
_SETUPTOOLS_GONE = (
    (re.compile(r"use_2to3 is invalid"), "setuptools<58"),
    # setuptools.Feature left in 46 (MarkupSafe 1.0's setup.py imports it: DaemonWill's
    # flask-photo-app, whose build on setuptools<70 failed the same way).
    (re.compile(r"cannot import name 'Feature' from 'setuptools"), "setuptools<46"),
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


@dataclass(frozen=True)
class Failure:
    """A failure as the rules read it: its lines, what the last attempt ran with, the
    upload's files, the Python it ran on and the Pythons installed here."""

    text: list[str]
    tried: Tried
    files: dict[str, bytes]
    python: str
    installed: list[str]


@dataclass(frozen=True)
class LineRule:
    """One line of a failure that calls for a fix: what it looks like (``pattern``),
    what it means, and the fixes it calls for (``remedy``: given the match, the failure
    and the traceback's line of code above the line). ``every``: each match in the line,
    not only the first (an import error can name several)."""

    pattern: re.Pattern[str]
    means: str
    remedy: Callable[[re.Match[str], Failure, str], list[Fix]]
    every: bool = False


# Read from the failure as a whole, before any line: a fix that needs the build's tools
# (an old setup.py's setuptools) comes before an older Python, which cannot help there.
_FAILURE_RULES: tuple[Callable[[Failure], list[Fix]], ...] = (
    lambda failure: _for_old_setup(failure.text),
    lambda failure: _for_too_new(failure),
    lambda failure: _for_too_old(failure),
    lambda failure: _for_newer_syntax(failure),
    lambda failure: rejected_inside(failure.text, failure.tried, failure.files),
    lambda failure: abstract_instantiated(failure.text, failure.tried, failure.files),
    lambda failure: attribute_refused_to_a_package(failure.text, failure.tried),
    lambda failure: _for_absent_from_the_index(failure),
)


def candidates(
    text: list[str], tried: Tried, files: dict[str, bytes], installed: list[str]
) -> list[Fix]:
    """The fixes the failure's ``text`` calls for, first first (each may have been tried):
    those of the failure as a whole (:data:`_FAILURE_RULES`), then those of each line, by
    the rules of :data:`LINE_RULES` in their order, then the install of the app's era
    (:func:`~.era.dated`)."""
    built = next((m.group(1) for line in text if (m := _FOR_PYTHON.search(line))), None)
    python = built or tried.python_version or "{}.{}".format(*sys.version_info)
    failure = Failure(text, tried, files, python, installed)
    found = [fix for rule in _FAILURE_RULES for fix in rule(failure)]
    code = ""  # the traceback's last line of code so far (under it: carets, on 3.11)
    for line in text:
        for rule in LINE_RULES:
            matches = rule.pattern.finditer(line) if rule.every else [rule.pattern.search(line)]
            for match in matches:
                if match is not None:
                    found += rule.remedy(match, failure, code)
        if line.strip(" ^~\t"):
            code = line
    # Last, where no narrower fix is left: everything resolved as of the app's era.
    return found + dated(text, tried, files)


def _dropped_by_setuptools(module: str, tried: Tried) -> Fix | None:
    """setuptools below the release that dropped ``module`` from its copy of distutils,
    where one at or past it is installed: that copy takes the place of Python's own
    wherever setuptools is (its ``distutils-precedence.pth``), on any Python, and lacks
    modules Python's kept (:data:`_SETUPTOOLS_DROPPED`)."""
    dropped = _SETUPTOOLS_DROPPED.get(module)
    found = installed_dists(tried.env_path).get("setuptools") if dropped else None
    if dropped is None or found is None or version_key(found[1]) < version_key(dropped):
        return None
    return Fix(
        f"{module} is gone from the distutils of setuptools {found[1]}, which stands in for "
        f"Python's own (dropped in {dropped}): relaunching with setuptools<{dropped}",
        add=f"setuptools<{dropped}",
    )


def _for_newer_syntax(failure: Failure) -> list[Fix]:
    """The app's own file failing to compile at an f-string that Python 3.12's grammar
    reads (PEP 701: a quote of the f-string's own kind inside it, an expression over
    several lines, a backslash or a comment in it), on an older Python (yuriiyukh's
    FastAPI-Receipts-Project: ``f"{receipt.payment_type.capitalize(`` continued on the
    next line, "unterminated string literal" on 3.11): the oldest 3.12 or newer present."""
    python = failure.python
    if version_key(python)[:2] >= (3, 12):
        return []
    for index, line in enumerate(failure.text):
        if _F_STRING_ERROR.search(line) is None:
            continue
        where = next(
            (m for above in reversed(failure.text[:index]) if (m := FRAME.match(above))),
            None,
        )
        if where is None:
            continue  # (the failure's message, first: its lines come after it)
        path = _uploaded_path(where.group(1), failure.files)
        if path is None:
            return []
        source = failure.files[path].decode("utf-8", "replace").splitlines()
        number = int(where.group(2))
        near = source[max(number - 2, 0) : number]
        if not any(_F_STRING_START.search(text) for text in near):
            return []
        newer = [v for v in failure.installed if version_key(v)[:2] >= (3, 12)]
        if not newer:
            return []
        chosen = ".".join(min(newer, key=version_key).split(".")[:2])
        why = f"{path} line {number} holds an f-string only Python 3.12's grammar reads"
        return [Fix(f"{why}: relaunching with Python {chosen}", python_from="3.12")]
    return []


def _uploaded_path(shown: str, files: dict[str, bytes]) -> str | None:
    """The upload's path of a file a traceback shows (relative to the app's directory or
    under it), None for a package's."""
    if "site-packages/" in shown:
        return None
    matches = [p for p in files if shown == p or shown.endswith("/" + p)]
    return max(matches, key=len) if matches else None


def _for_too_old(failure: Failure) -> list[Fix]:
    """A package saying the app needs a newer Python than this one (pydantic 2's "Please
    use `typing_extensions.TypedDict` instead of `typing.TypedDict` on Python < 3.12",
    duressa-feyissa's fastapi-clean-architecture-todo-app, which declares no Python): the
    oldest present that is at least as new as it says."""
    python = failure.python
    for line in failure.text:
        if (said := _NEEDS_PYTHON.search(line)) is None:
            continue
        least = said.group(1) or said.group(2)
        if version_key(python)[:2] >= version_key(least)[:2]:
            continue  # not the cause: this Python is as new
        newer = [v for v in failure.installed if version_key(v)[:2] >= version_key(least)[:2]]
        if not newer:
            return []
        chosen = ".".join(min(newer, key=version_key).split(".")[:2])
        why = f"it needs Python {least} or newer, as its failure says"
        return [Fix(f"{why}: relaunching with Python {chosen}", python_from=least)]
    return []


def _for_too_new(failure: Failure) -> list[Fix]:
    """A package failing because this Python is newer than it knows: an older one, as old
    as it asks where one is installed, else the oldest installed below this one."""
    python, installed = failure.python, failure.installed
    newer = too_new(failure.text, python, failure.tried.env_path)
    if newer is None:
        return []
    below, older = newer[0], older_installed(newer[0], installed)
    if older is None:  # none as old as it asks: the oldest below this one
        present = [v for v in installed if older_installed(python, [v])]
        older = min(present, key=version_key, default=None)
        older = ".".join(older.split(".")[:2]) if older else None
        below = f"3.{int(older.split('.')[1]) + 1}" if older else below
    if older is None:
        return []
    said = f"{newer[1]} fails on Python {python}, newer than it knows"
    return [Fix(f"{said}: relaunching with Python {older}", python_below=below)]


_INSTALLED_APPS = re.compile(rb"\bINSTALLED_APPS\b")


def _django_app(module: str, files: dict[str, bytes]) -> str | None:
    """``django-<module>`` for a module the app's Django settings name among its
    ``INSTALLED_APPS`` (``'bootstrap5'``), a Django app published under the project's
    ``django-`` prefix as many are (balmendra-f's django-sandbox: "No module named
    'bootstrap5'", and PyPI has no bootstrap5: "not in the package registry: no fix"),
    where the module's own name is none (achiko10's django-core-api: ``whitenoise``, of
    PyPI's whitenoise; django-whitenoise is no distribution); None for any other module."""
    quoted = re.compile(rb"""['"]%s(?:\.[\w.]+)?['"]""" % re.escape(module.encode()))
    for path, data in files.items():
        if path.endswith(".py") and _INSTALLED_APPS.search(data) and quoted.search(data):
            return "django-" + module.replace("_", "-")
    return None


def _for_object_attribute(match: re.Match[str], failure: Failure) -> list[Fix]:
    top = defining(match.group(1), failure.tried)
    if top is None:  # not an object of an unpinned requirement's: of what one installed?
        top = defining(match.group(1), failure.tried, installed_for_it=True)
    if top is None:  # not an object of an unpinned dependency's
        return []
    what = f"{match.group(1)}.{match.group(2)}"
    known = REMOVED_WITHIN_MAJOR.get((top, what))
    return held(top, failure.tried, f"{what} is gone from {top}", known and known[1])


def _for_method_keyword(match: re.Match[str], failure: Failure, code: str) -> list[Fix]:
    """Where the traceback's line of the call passes the keyword the method rejected."""
    cls, method, keyword = match.group(1), match.group(2), match.group(3)
    call = rf"\.{re.escape(method)}\(.*\b{re.escape(keyword)}\s*="
    return _held_for_method(cls, call, code, failure, f"{cls}.{method}() takes no {keyword}=")


def _for_method_signature(match: re.Match[str], failure: Failure, code: str) -> list[Fix]:
    """Where the traceback's line calls the method whose positional parameters changed."""
    cls, method = match.group(1), match.group(2)
    call = rf"\.{re.escape(method)}\("
    said = f"{cls}.{method}() takes other positional arguments"
    return _held_for_method(cls, call, code, failure, said)


def _held_for_method(cls: str, call: str, code: str, failure: Failure, said: str) -> list[Fix]:
    """The unpinned package defining ``cls``, whose method refused the app's call, held
    below its major installed, where the traceback's line of code is that ``call``."""
    if not re.search(call, code):
        return []
    tried = failure.tried
    top = defining(cls, tried) or defining(cls, tried, installed_for_it=True)
    if top is None:
        return []
    return held(top, tried, f"{said} in {top}'s newest major")


def _for_unnamed_import(name: str, code: str, failure: Failure) -> list[Fix]:
    """The module of an old Python's "cannot import name" read from its ``from M import``
    line of code; nothing for a relative import, nor a line that imports no such name."""
    line = re.match(r"\s*from\s+([A-Za-z_][\w.]*)\s+import\s+(.+)$", code)
    if line is None or not re.search(rf"(?<![\w.]){re.escape(name)}\b", line.group(2)):
        return []
    return _for_missing(line.group(1), name, failure)


def _for_separate_project(match: re.Match[str]) -> list[Fix]:
    module, project = match.group(1), match.group(2).rstrip(".")
    said = f"{module} is now the separate project {project}: relaunching with it added"
    return [Fix(said, add=project)]


def _for_django_driver(match: re.Match[str]) -> list[Fix]:
    module = "psycopg2" if match.group(1).startswith("psycopg") else "MySQLdb"
    if module == "MySQLdb" and not _builds_mysqlclient():
        return [_pymysql_fix("Django cannot load MySQLdb")]
    drop, add = ("psycopg2" if module == "psycopg2" else None), _DISTRIBUTION[module]
    return [Fix(f"Django cannot load {module}: relaunching with {add}", add=add, drop=drop)]


def _for_failed_build(match: re.Match[str], failure: Failure) -> list[Fix]:
    built_name = match.group("name") or match.group("named") or ""
    tried, files = failure.tried, failure.files
    if _norm(built_name) == "mysqlclient":  # no wheel on any Python: no older one
        return _without_mysqlclient(failure.text, tried, files)
    found = _without_unimported(built_name, failure, files)
    # A package from a git URL that could not be fetched (litestar-pg-redis-docker's
    # litestar @ git+https://github.com/…@main): no other Python fetches it either.
    if not any("Git operation failed" in said for said in failure.text):
        nearest = _nearest_with_a_wheel(built_name, failure)
        found += nearest or _for_build(built_name, tried, failure.python, failure.installed)
    return found


def _nearest_with_a_wheel(built_name: str, failure: Failure) -> list[Fix]:
    """The app's pin of ``built_name`` moved to its nearest release with a wheel, where no
    Python here has a wheel of the pinned one (``wheels``): an older Python cannot help."""
    for distribution, version in failed_builds(failure.text):
        if _norm(distribution) == _norm(built_name):
            tried, python, installed = failure.tried, failure.python, failure.installed
            fix = nearest_wheel_fix(distribution, version, tried, python, installed)
            return [fix] if fix is not None else []
    return []


# Each line of a failure is read by every rule, in this order (the fixes come out in it).
LINE_RULES: tuple[LineRule, ...] = (
    LineRule(
        _CALL_REJECTED,
        "a function of a dependency rejects the arguments the app's call gives it",
        lambda m, f, code: rejected_call(m.group(1), code, f.tried, f.files),
    ),
    LineRule(
        _METHOD_KEYWORD,
        "a method of a dependency's class no longer takes a keyword the app's call passes",
        lambda m, f, code: _for_method_keyword(m, f, code),
    ),
    LineRule(
        _METHOD_SIGNATURE,
        "a method of a dependency's class takes other positional arguments than the app's call",
        lambda m, f, code: _for_method_signature(m, f, code),
    ),
    LineRule(
        _NO_MODULE,
        "a module is missing",
        lambda m, f, code: _for_missing(m.group(1), None, f),
        every=True,
    ),
    LineRule(
        NO_ATTRIBUTE,
        "a module lacks a name the app uses",
        lambda m, f, code: _for_missing(m.group(1), m.group(2), f),
        every=True,
    ),
    LineRule(
        _CANNOT_IMPORT,
        "a name cannot be imported from a module",
        lambda m, f, code: _for_missing(m.group(2), m.group(1), f),
        every=True,
    ),
    LineRule(
        _CANNOT_IMPORT_UNNAMED,
        "a name cannot be imported from the module its line of code names (Python 3.6)",
        lambda m, f, code: _for_unnamed_import(m.group(1), code, f),
    ),
    LineRule(
        _NO_KEYWORD,
        "a function no longer takes a keyword argument",
        lambda m, f, code: _for_keyword(m.group(1), m.group(2), f.python, f.installed),
    ),
    LineRule(
        _MUTABLE_DEFAULT,
        "a dataclass's default of a class with no hash, refused since Python 3.11",
        lambda m, f, code: _for_mutable_default(m.group(1), f.python, f.installed),
    ),
    LineRule(
        _MOVED,
        "a package's own exception says an API was moved or removed",
        lambda m, f, code: (
            held(m.group(1), f.tried, m.string.strip()[:120]) or _moved_by_major(m, f)
        ),
    ),
    LineRule(
        _NO_OBJECT_ATTRIBUTE,
        "an object of a dependency lost an attribute",
        lambda m, f, code: _for_object_attribute(m, f),
    ),
    LineRule(
        _NO_FLASK_COMMAND,
        "Flask has no such command (an extension's, found through pkg_resources)",
        lambda m, f, code: _for_flask_command(m.group(1), f.tried),
    ),
    LineRule(
        EXCEPTION_SAYS,
        "an exception or Django's system check says what to install",
        lambda m, f, code: for_install_hint(m.group("said"), f.tried, f.files),
    ),
    LineRule(
        _NUMPY_ABI,
        "a compiled package was built for an older NumPy's binary interface",
        lambda m, f, code: held(
            "numpy",
            f.tried,
            "a compiled package was built for an older NumPy's binary interface",
        ),
    ),
    LineRule(
        _SEPARATE_PROJECT,
        "a module is now a separate project",
        lambda m, f, code: _for_separate_project(m),
    ),
    LineRule(
        _APP_CONFIG_NAME,
        "Django 3.2's automatic AppConfig discovery took a config the app never ran with",
        lambda m, f, code: _for_app_config_name(m, f),
    ),
    *(
        LineRule(
            pattern,
            f"{top} {release} refuses what the app's code did before it",
            lambda m, f, code, top=top, release=release: held(
                top, f.tried, f"{top} refuses this since {release}: {m.group(0)}", release
            ),
        )
        for pattern, top, release in REFUSED_SINCE
    ),
    LineRule(
        _DJANGO_DRIVER,
        "Django cannot load its database driver",
        lambda m, f, code: _for_django_driver(m),
    ),
    LineRule(
        _URL_UNREACHED,
        "a package named by a URL the build does not reach",
        lambda m, f, code: _from_the_index(m, f.tried),
    ),
    LineRule(
        _OVERSIZED,
        "a package's download is larger than a build may write",
        lambda m, f, code: _without_oversized(m, f.tried, f.files),
    ),
    LineRule(
        _NO_PLATFORM_WHEEL,
        "a package has wheels for other platforms only",
        lambda m, f, code: _without_uninstallable(m.group(1), f.tried, f.files),
    ),
    LineRule(
        _BUILD,
        "a package could not be built, or has no wheel for this Python",
        lambda m, f, code: _for_failed_build(m, f),
    ),
)


# The name a package's exception says was moved or removed (pydantic's "`BaseSettings`
# has been moved to the `pydantic-settings` package").
_MOVED_NAME = re.compile(r"`(\w+)` (?:has been|was) (?:moved|removed)")


def _moved_by_major(found: re.Match[str], failure: Failure) -> list[Fix]:
    """The name a package's own exception says its major moved or removed, which the
    app's code imports from it where it pins or locks that major (``removed_by_major``)."""
    name = _MOVED_NAME.search(found.string)
    if name is None:
        return []
    return removed_by_major(found.group(1), name.group(1), failure.tried, failure.files)


def _for_missing(module: str, name: str | None, failure: Failure) -> list[Fix]:
    tried, files, python = failure.tried, failure.files, failure.python
    what = f"{module}.{name}" if name else module
    # (``from distutils.command import upload``: the module is the name, sushma-seet's
    # djangoRecipeApi: "cannot import name 'upload' from 'distutils.command'")
    for dropped_module in dict.fromkeys((module, what)):
        if (dropped := _dropped_by_setuptools(dropped_module, tried)) is not None:
            return [dropped]
    removed = removed_from_stdlib(module, name)
    if removed is not None:
        if version_key(python) < version_key(removed):
            return []  # not the cause: this Python still has it
        older = older_installed(removed, failure.installed)
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
    if name is None and (declared := _declared_beside(top, tried, files)) is not None:
        return [declared]
    dists = installed_dists(tried.env_path)
    if top in sys.stdlib_module_names or top.startswith("_") or _own_first(module, files, dists):
        # (a private name is a package's own module, never a distribution: a Python 2
        # package's ``import _version`` of its sibling; "_version" is no requirement)
        return []
    if top in dists and name is not None and (optional := _optional_import(module, name, tried)):
        return optional
    if name is not None and installed_submodule(tried.env_path, module, name):
        return []  # a module of the package its code uses unimported: no release's lack
    if top in dists and (name is not None or "." in module):
        gone = f"{what} is gone from {dists[top][0]} {dists[top][1]}"
        removed = REMOVED_WITHIN_MAJOR.get((module, name)) or REMOVED_BY_MAJOR.get((module, name))
        mine = removed is not None and _norm(removed[0]) == _norm(dists[top][0])
        known = removed[1] if removed is not None and mine else None
        return (
            held(top, tried, gone, known)
            or removed_by_major(module, name, tried, files)
            or pinned_behind_its_code(module, name, tried, files)
        )
    if top in dists or name is not None:
        return []
    if top == "MySQLdb" and not _builds_mysqlclient():
        return [_pymysql_fix(f"the app (or its ORM) imports {top}")]
    mapping = import_mapping() or {}
    distribution = _DISTRIBUTION.get(top) or mapping.get(top) or top
    # A module its Django settings install under a name no table knows: its own name's
    # distribution (whitenoise), else the project's django- one (bootstrap5's).
    instead = _django_app(top, files) if distribution == top else None
    if distribution == top and top.startswith("rest_framework_"):
        # A Django REST framework plugin's module: ``drf-<name>`` (rest_framework_extensions
        # of drf-extensions: psswid's drf-app, "not in the package registry: no fix"), else
        # ``djangorestframework-<name>`` (rest_framework_xml's)
        plugin = top.removeprefix("rest_framework_").replace("_", "-")
        distribution, instead = f"drf-{plugin}", f"djangorestframework-{plugin}"
    listed = {_name(r) for r in tried.deps.requirements} if tried.deps else set()
    if _name(distribution) in listed and not re.search(r"[<>=]", distribution):
        return []  # listed, yet not importable: not a distribution's absence
    said = f"the app imports {top}, which its dependencies do not install: adding {distribution}"
    if instead is not None:
        said += f" (else {instead}, by the name such a package usually has)"
    return [Fix(said, add=distribution, instead=instead)]


def _own_first(module: str, files: dict[str, bytes], dists: Mapping[str, object]) -> bool:
    """Whether the upload's own module or package is what ``module`` names. A module
    file of that name somewhere in it (``app/database/redis.py``) is not, for a submodule
    (``redis.asyncio``) of an installed distribution: found first, a file would have been
    "not a package", so the import found the installed one (jdht1992's fastapi-shipment)."""
    top = module.split(".")[0]
    if not _own(top, files):
        return False
    if "." not in module or top not in dists:
        return True
    return any(f"/{top}/" in f"/{path}" and path.endswith(".py") for path in files)


def _declared_beside(top: str, tried: Tried, files: dict[str, bytes]) -> Fix | None:
    """The distribution named ``top`` that the app's pyproject.toml declares and the
    dependency file installed (its requirements.txt) leaves out, where the upload's own
    module of that name is no top-level one (``app/core/celery.py``, which imports
    Celery's ``celery``): sayfullayevabdulaziz's fastapi-flight lists celery in its
    pyproject.toml alone, and its app/core/celery.py was taken for the missing module."""
    if tried.deps is None or f"{top}.py" in files or any(p.startswith(f"{top}/") for p in files):
        return None
    listed = {_name(line) for line in tried.deps.requirements}
    for line in declared_ranges(files):
        if _name(line) == _norm(top) and _name(line) not in listed:
            return Fix(
                f"the app imports {top}, which its pyproject.toml declares and "
                f"{tried.deps.source} leaves out: adding {line}",
                add=line,
            )
    return None


def _optional_import(module: str, name: str, tried: Tried) -> list[Fix]:
    """The distribution an installed ``module`` imports ``name`` from only where it is
    installed (``try: from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTable``
    ``except ImportError: pass``: a package re-exporting an optional companion's API),
    added where it is not: nickAnhel's FastAPI-Fitness-Club imports
    ``SQLAlchemyBaseUserTable`` from ``fastapi_users.db``, which fastapi-users 10 moved
    into fastapi-users-db-sqlalchemy and re-exports from there. [] where ``module`` does
    not so import ``name``, or its companion is installed."""
    if tried.env_path is None:
        return []
    where = module.replace(".", "/")
    sources = [
        path
        for site in sorted(tried.env_path.glob("lib/python*/site-packages"))
        for path in (site / where / "__init__.py", site / f"{where}.py")
        if path.is_file()
    ]
    try:
        tree = parse_module(sources[0].read_bytes()) if sources else None
    except OSError:
        return []
    dists = installed_dists(tried.env_path)
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Try) or not any(map(_catches_import_error, node.handlers)):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom) or statement.level or not statement.module:
                continue
            if all((alias.asname or alias.name) != name for alias in statement.names):
                continue
            companion = statement.module.split(".")[0]
            if companion in dists or companion == module.split(".")[0]:
                return []
            distribution = (import_mapping() or {}).get(companion, companion.replace("_", "-"))
            return [
                Fix(
                    f"{module} gives {name} only where {companion} is installed (its optional "
                    f"import): adding {distribution}",
                    add=distribution,
                )
            ]
    return []


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    """Whether ``handler`` catches an ImportError (bare, or ``ImportError``,
    ``ModuleNotFoundError``, ``Exception`` alone or among others)."""
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught else []
    said = {n.id if isinstance(n, ast.Name) else getattr(n, "attr", "") for n in names}
    return caught is None or bool(said & {"ImportError", "ModuleNotFoundError", "Exception"})


def _builds_mysqlclient() -> bool:
    """Whether mysqlclient (no Linux wheel) can be built here: its ``mysql_config`` (or
    MariaDB's) is on the path."""
    return any(shutil.which(tool) for tool in ("mysql_config", "mariadb_config"))


def _pymysql_fix(why: str) -> Fix:
    """PyMySQL in mysqlclient's place, standing in for ``MySQLdb`` (``remedies.mysqldb``):
    Django's MySQL backend and SQLAlchemy's ``mysql://`` import MySQLdb themselves.
    mysqlclient is kept out also where a listed package requires it (Flask-MySQLdb)."""
    said = (
        f"{why}, whose mysqlclient cannot be built here (no mysql_config): relaunching "
        "with PyMySQL standing in for MySQLdb"
    )
    return Fix(said, add="PyMySQL", drop="mysqlclient", keep_out=True)


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


def _for_app_config_name(match: re.Match[str], failure: Failure) -> list[Fix]:
    """Django below 3.2, where the installed one is 3.2 or later and the app does not pin
    one: an app listed by its module (``'todo_app.todo'``) whose ``apps.py`` names it
    otherwise (``name = 'todo'``) ran on Django's default config until 3.2 took that one
    by itself ("Cannot import 'todo'. Check that 'todo_app.todo.apps.TodoConfig.name' is
    correct": xpros' django-rest-framework-todo, its migrations Django 2.2's, and
    MarlonIC's cart, 3.1's, Django unpinned)."""
    module, named = match.group(2), match.group(1)
    found = installed_dists(failure.tried.env_path).get("django")
    if named == module or found is None or version_key(found[1]) < version_key("3.2"):
        return []
    listed = failure.tried.listed or failure.tried.deps
    pins = [line for line in listed.requirements if _name(line) == "django"] if listed else []
    if any(_pinned(line) for line in pins):
        return []  # the app's own Django: not ours to change
    said = (
        f"Django {found[1]} takes {module}'s AppConfig (name {named!r}, not its module's) by "
        "itself since 3.2, which the app never ran with: relaunching with Django<3.2"
    )
    return [Fix(said, add="Django<3.2")]


def _for_mutable_default(kind: str, python: str, installed: list[str]) -> list[Fix]:
    """An older Python for a dataclass default of a class with no hash (``_MUTABLE_DEFAULT``):
    the app's code ran before 3.11 refused it. A list's, a dict's or a set's was refused
    before too: no older Python mends it."""
    older = older_installed("3.11", installed)
    if kind in ("list", "dict", "set") or older is None or version_key(python) < (3, 11):
        return []
    return [
        Fix(
            f"a dataclass's default of its class {kind} has no hash, which Python refuses "
            f"since 3.11: relaunching with Python {older}",
            python_below="3.11",
        )
    ]


def _for_absent_from_the_index(failure: Failure) -> list[Fix]:
    """uv's resolution failing on a name the index does not have at all, or on a pinned
    version it does not have: read from its explanation as one text, since uv wraps its
    lines at its width (a long name's "was" and "not found in the package registry" fell
    on two lines, which no rule reading a line at a time saw)."""
    said = explanation(failure.text)
    fixes: list[Fix] = []
    for absent in dict.fromkeys(ABSENT_NAME.findall(said)):
        fixes += (
            _without_guessed(absent, failure.tried)
            or _for_listed_module(absent, failure.tried)
            or _without_frozen_unimported(absent, failure.tried, failure.files)
            or _without_absent_unimported(absent, failure.tried, failure.files)
        )
    for pinned in dict.fromkeys(_NO_SUCH_PIN.findall(said)):
        fixes += _without_frozen_unimported(pinned, failure.tried, failure.files)
    return _with_the_freezes_other_absent_pins(fixes, failure.tried, failure.files)


def _with_the_freezes_other_absent_pins(
    fixes: list[Fix], tried: Tried, files: dict[str, bytes]
) -> list[Fix]:
    """The pins of a freeze left out for being on no index, with every other pin of it
    whose project the index (asked after the first such failure:
    ``Preparation.read_releases``) has not at all and no module imports, in one fix (one
    it has other releases of is relaxed to them, ``remedies.resolution``): uv names one at a time,
    and FlaskHospitalManagementSystem's Raspberry Pi freeze had a dozen (``RPi.GPIO``'s
    and apt's), past a launch's fixes and its time, one relaunch each."""
    pins = freeze_pins(tried)
    alone = [fix for fix in fixes if fix.drop and not fix.add]
    dropped = [name for fix in alone for name in (fix.drop or "").split(",")]
    others = [
        name
        for name, version in pins.items()
        if name not in dropped
        and tried.releases.get(name) == []  # (one with other releases: relaxed to them)
        and _listed_unimported(name, tried, files)
    ]
    if not pins or not dropped or not others:
        return fixes
    names = [*dropped, *others]
    shown = ", ".join(f"{name}=={pins[name]}" if name in pins else name for name in names)
    said = (
        f"{len(names)} pins of its pip freeze are on no package index at those versions "
        f"({shown}), and no module of the app imports them: relaunching without them"
    )
    return [Fix(said, drop=",".join(names)), *(fix for fix in fixes if fix not in alone)]


def freeze_pins(tried: Tried) -> dict[str, str]:
    """Each pinned version of the app's requirements where they are a ``pip freeze``
    (:func:`_frozen`), by normalised name; {} where they are not."""
    if not _frozen(tried):
        return {}
    listed = tried.listed or tried.deps
    pins = {}
    for line in listed.requirements if listed else ():
        parsed = requirement(line)
        exact = [s.version for s in parsed.specifier if s.operator == "=="] if parsed else []
        if len(exact) == 1 and "*" not in exact[0]:
            pins[_name(line)] = exact[0]
    return pins


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


def _for_listed_module(name: str, tried: Tried) -> list[Fix]:
    """A module's name the app lists as a requirement where its distribution has another
    (:data:`_DISTRIBUTION`): that distribution instead. KiranPrasath-26's flask-kanban
    lists ``pkg_resources``, setuptools' module, which no index has: "Because
    pkg-resources was not found in the package registry"."""
    module = next((m for m in _DISTRIBUTION if _norm(m) == _norm(name)), None)
    deps = tried.listed or tried.deps
    if module is None or deps is None:
        return []
    if _norm(name) not in {_name(line) for line in deps.requirements}:
        return []
    add = _DISTRIBUTION[module]
    said = (
        f"{name}, which the app lists, is {add.split('<')[0]}'s module, no distribution of "
        f"its own: relaunching with {add} instead"
    )
    return [Fix(said, add=add, drop=_norm(name))]


def _without_frozen_unimported(name: str, tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A pin of a ``pip freeze`` (:func:`_frozen`) that the index does not have, or not at
    that version, which no module of the app imports: left out (haoolii's flask-blog-api,
    a whole Ubuntu machine's freeze: ``defer==1.0.6``, apt's python3-defer, is on no
    index). One the app imports stays: its failure is then the app's, said as it is."""
    if not _frozen(tried):
        return []
    why = ", pinned by its pip freeze, is not on the package index at that version"
    return _left_out_unimported(name, tried, files, why)


def _without_absent_unimported(name: str, tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A requirement of the app's own list that the index does not have at all, under any
    version, and that no module of the app imports: left out, as nothing could install it
    and nothing asks for it (QueenieBloom's crud-python-mysql-flask lists ``bycrypt``, a
    typo that nothing imports: "Because bycrypt was not found in the package registry").
    One the app imports stays: its failure is then the app's, said as it is."""
    why = ", which the app lists, is on no package index under any version"
    return _left_out_unimported(name, tried, files, why)


def _left_out_unimported(name: str, tried: Tried, files: dict[str, bytes], why: str) -> list[Fix]:
    """The fix leaving out ``name``, which the app lists and no module of it imports
    (``why``: what makes it uninstallable, said after its name); none otherwise."""
    distribution = _norm(name)
    if not _listed_unimported(distribution, tried, files):
        return []
    said = f"{name}{why}, and no module of the app imports it: relaunching without it"
    return [Fix(said, drop=distribution)]


def _without_mysqlclient(text: list[str], tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """mysqlclient has no Linux wheel and builds only with MySQL's client headers and
    ``mysql_config``: left out when the app lists it and none of its modules imports
    ``MySQLdb`` itself (a requirements file frozen with every driver, a SQLite default),
    also where a package it lists requires it (jkbbinkowski's flask-ecommerce-backend
    lists Flask-MySQLdb and imports mysql.connector alone); a ``mysql://`` URL the app
    then uses fails naming ``MySQLdb``, and PyMySQL then stands in for it
    (:func:`_pymysql_fix`), as it does at once where the app imports ``MySQLdb`` itself,
    or lists none and a package it lists brought it (which imports ``MySQLdb``, as
    Flask-MySQLdb does). Where mysqlclient builds here, one the app needs is kept."""
    listed = tried.deps.names() if tried.deps else set()  # a lock's too (uv.lock)
    if "mysqlclient" not in listed or "MySQLdb" in imported_names(files):
        return [] if _builds_mysqlclient() else [_pymysql_fix(_needs_mysqldb(text, listed))]
    return [
        Fix(
            "mysqlclient cannot be built here (it needs MySQL's client library headers and "
            "mysql_config) and no module of the app imports MySQLdb: relaunching without it, "
            "also where a package the app lists requires it (a mysql:// database URL would "
            "need PyMySQL, as mysql+pymysql://)",
            drop="mysqlclient",
            keep_out=True,
        )
    ]


def _needs_mysqldb(text: list[str], listed: set[str]) -> str:
    """Who needs ``MySQLdb``: the app, where it lists mysqlclient, else the package it
    lists that brought mysqlclient, as uv's hint names it."""
    if "mysqlclient" in listed:
        return "the app imports MySQLdb"
    for line in text:
        hint = _INCLUDED.search(line)
        if hint is not None and _norm(hint.group(1)) == "mysqlclient":
            by = _DEPENDS.search(hint.group(2))
            return f"{by.group(1) if by else 'a package the app lists'} imports MySQLdb"
    return "a package the app lists imports MySQLdb"


def _without_unimported(name: str, failure: Failure, files: dict[str, bytes]) -> list[Fix]:
    """A package that cannot be built here (no wheel) which no module of the app imports:
    a Pipfile.lock's pin of it left out (flask-rest-hello's pygraphviz 1.14, eralchemy2's:
    what brings it takes a release with wheels), or else, where uv's hint names the listed
    package that brings it ("`pygraphviz` … was included because `eralchemy2` … depends on
    `pygraphviz`") and the app imports neither, both. An older Python is no fix there: a
    lock's markers drop half of it instead. One the app lists for itself goes where no
    release of it has a wheel for any Python here (bahaehmimdi's FlaskRadioFm lists
    pyaudio, whose wheels are Windows' and macOS's alone, and imports it nowhere: three
    older Pythons were tried, each built it and failed on portaudio.h)."""
    tried, text = failure.tried, failure.text
    listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
    chain = [_norm(name)]
    for line in text:
        hint = _INCLUDED.search(line)
        if hint is not None and _norm(hint.group(1)) == chain[0]:
            # (its links nearest it first: "`reportlab` … depends on `rlpycairo` … which
            # depends on `pycairo`" is pycairo, rlpycairo, reportlab)
            links = [_norm(n) for n in _VERSIONED.findall(hint.group(2))]
            chain += [n for n in reversed(links) if n != chain[0]]
            break
    locked = bool(tried.deps and tried.deps.source.endswith("Pipfile.lock"))
    if locked and chain[0] in listed:
        chain = chain[:1]  # a lock pins what its packages bring: the pin goes, not them
    elif len(chain) == 1 and chain[0] in listed and _frozen(tried):
        pass  # a freeze lists what its packages brought: listed, it is no choice of the app's
    elif len(chain) == 1 and chain[0] in listed and _no_wheel_here(chain[0], failure):
        pass  # (what else uses it, as FastAPI does orjson, could not have it either)
    elif len(chain) < 2 or chain[-1] not in listed or _RUNS_THE_APP & set(chain):
        return []  # listed for itself (orjson, FastAPI's), not the app's, or its server's
    imported = imported_names(files)
    mapping = import_mapping() or {}
    for at, distribution in enumerate(chain):
        modules = {m for m, d in mapping.items() if _norm(d) == distribution}
        # (its module by its own name, or by it without "python-": python-escpos' escpos)
        modules |= {
            distribution.replace("-", "_"),
            distribution.removeprefix("python-").replace("-", "_"),
        }
        if imported & modules:
            return _without_brought(chain[:at], chain[at]) if at >= 1 else []
    dropped = [d for d in dict.fromkeys(chain) if d in listed]
    by = f" nor {', '.join(chain[1:])}, which brings it" if len(chain) > 1 else ""
    said = (
        f"{name} cannot be built here (no wheel) and no module of the app imports it{by}: "
        f"relaunching without {' and '.join(dropped)}"
    )
    return [Fix(said, drop=",".join(dropped))]


def _no_wheel_here(distribution: str, failure: Failure) -> bool:
    """Whether the index listed files of ``distribution`` (read after its build failed:
    ``Preparation.read_releases``) and none is a wheel any Python here installs."""
    files = failure.tried.index_files.get(distribution, [])
    pythons = failure.installed or [failure.python]
    return bool(files) and not any(
        installs_on(file, python) for file in files if not file.yanked for python in pythons
    )


def _without_brought(brought: list[str], by: str) -> list[Fix]:
    """The links of a chain of requirements that cannot be built here, up to the one the
    app imports (``by``), which it does not import: kept out (uv's overrides), ``by``
    kept. esakkimuthumskp's FastAPI-Billing-System lists reportlab 4.0.0, whose canvas it
    imports, and nothing of rlPyCairo (its optional renderer's), which brought pycairo
    (cairo's headers to build it): no Python installed it. What ``by`` needs of them at
    its import fails then, named, as a missing module."""
    said = (
        f"{brought[0]} cannot be built here (no wheel) and no module of the app imports "
        f"it, nor {', '.join(brought[1:]) or by}: {by}, which the app imports, brought it; "
        f"relaunching with {by} alone, without {' and '.join(brought)}"
    )
    return [Fix(said, drop=",".join(brought), keep_out=True)]


def _frozen(tried: Tried) -> bool:
    """Whether the app's requirements are a ``pip freeze`` (every package of the
    environment it was made in, each ``==``; ten or more): what one lists, its packages
    may have brought (okuzmenko31's drf-ecommerce lists pycairo 1.23, which needs
    cairo's headers, because rlPyCairo, reportlab's optional renderer, brought it; uv's
    hint then names what brought it only once it is no longer listed)."""
    listed = tried.listed or tried.deps
    # (its own lines only: the setuptools<81 a build adds where the app names none made
    # Jxck007's flask-resume-builder's freeze no freeze while it counted as one of them)
    lines = [line for line in listed.requirements if _name(line)] if listed else []
    return len(lines) >= 10 and all("==" in line for line in lines)


def _without_uninstallable(name: str, tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A listed package that nothing installs here (no wheel for this platform on any
    Python, no source to build: kiyoshisama's fastapi-blog-sqlalchemy-v2 lists
    ``redis-server``, macOS wheels only) and that no module of the app imports: left out.
    One the app imports stays: its failure is then the app's, said as it is."""
    why = " has no wheel for this platform on any Python and no source to build"
    return _left_out_unimported(name, tried, files, why)


def _from_the_index(found: re.Match[str], tried: Tried) -> list[Fix]:
    """A listed package named by a URL the build did not fetch (a whole machine's freeze:
    Moiz786's demoFastApiInventoryMgmtApp lists ``pgadmin4 @ https://ftp.postgresql.org/
    …/pgadmin4-6.15-py3-none-any.whl``, a host no build reaches): the package registry's
    release of the version the file's name says, else its newest."""
    if tried.deps is None:
        return []
    distribution = _norm(found.group(1))
    listed = [line for line in tried.deps.requirements if _name(line) == distribution]
    if not listed or " @ " not in " ".join(listed):
        return []
    version = _FILE_VERSION.match(found.group(2))
    pinned = f"{found.group(1)}=={version.group(1)}" if version else found.group(1)
    said = (
        f"{found.group(1)}: its URL's host is out of the build's reach: relaunching with "
        f"{pinned} from the package registry"
    )
    return [Fix(said, drop=distribution, add=pinned)]


def _without_oversized(found: re.Match[str], tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """The listed packages whose download is larger than a build may write, where the app
    imports each only inside functions (sarra31's Flask-medical-app: tensorflow, 587 MiB,
    imported in one route's function; the other routes need none of it): left out, said;
    what calls those functions fails alone; one it never imports too. One imported as the
    app loads stays: without it nothing would serve, and the failure stands as it is."""
    listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
    loaded = imported_as_loaded(files)
    mapping = import_mapping() or {}
    dropped: list[str] = []
    brought: list[str] = []
    for item in found.group(2).split(", "):
        distribution = _norm(item.split(" ")[0])
        modules = {m for m, d in mapping.items() if _norm(d) == distribution}
        if loaded & (modules | {distribution.replace("-", "_")}):
            return []
        (dropped if distribution in listed else brought).append(distribution)
    if not dropped:
        return []
    # One not listed is a listed one's (yaswanthkumarch's fastapi-email-tracker: a whole
    # machine's freeze lists torch, never imported; CUDA's nvidia-cudnn-cu12 and
    # nvidia-cublas-cu12 came with it): gone with what brings it. Where something kept
    # brings it, the relaunch fails as this did, and that failure stands.
    with_them = f" (with it, {', '.join(brought)}, which it brings)" if brought else ""
    said = (
        f"{', '.join(dropped)}: larger than the {found.group(1)} MiB a build may write, and "
        f"the app imports it nowhere or only inside functions (what calls them fails alone)"
        f"{with_them}: relaunching without it"
    )
    return [Fix(said, drop=",".join(dropped))]


_LISTED_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")  # a requirement line's name


def _listed_unimported(distribution: str, tried: Tried, files: dict[str, bytes]) -> bool:
    """Whether the app lists ``distribution`` (normalised) and no module of it imports it
    (by pipreqs' table, by its own name, or by the package a dotted name begins with:
    ``RPi.GPIO``'s ``RPi``)."""
    requirements = tried.deps.requirements if tried.deps else ()
    listed = [found.group(1) for line in requirements if (found := _LISTED_NAME.match(line))]
    if not any(_norm(name) == distribution for name in listed):
        return False
    mapping = import_mapping() or {}
    modules = {m for m, d in mapping.items() if _norm(d) == distribution}
    modules |= {name.split(".")[0] for name in listed if _norm(name) == distribution}
    return not imported_names(files) & (modules | {distribution.replace("-", "_")})


def _for_build(name: str, tried: Tried, python: str, installed: list[str]) -> list[Fix]:
    if _norm(name) == "psycopg2":
        # psycopg2 has no Linux wheel on any Python. One a listed package requires
        # (brought, not listed) is kept out as well: its line alone cannot be dropped.
        listed = {_name(line) for line in tried.deps.requirements} if tried.deps else set()
        which = "psycopg2" if "psycopg2" in listed else "psycopg2, which a listed package requires,"
        said = (
            f"{which} cannot be built here (it needs a C compiler, pg_config and headers for "
            "this Python): relaunching with psycopg2-binary, its wheels"
        )
        return [Fix(said, add="psycopg2-binary", drop="psycopg2", keep_out=True)]
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
