"""What the Python versions changed that an app's failure can show, and what a built
environment holds: read by the remedies (:mod:`.candidates`).

* :func:`removed_from_stdlib`: the version that removed a module or a name of the standard
  library (``collections.MutableMapping``: 3.10, ``distutils``: 3.12 …);
* :func:`removed_keyword`: the version whose standard library no longer takes a keyword
  argument (``gettext.translation(codeset=)``: 3.11);
* :func:`too_new`: a failure inside an installed package that says the interpreter is too
  new for it (a ``SyntaxError`` in its code, ``__classcell__``, a code object built with
  an older Python's arguments …), and the newest Python its metadata's classifiers name;
* :func:`installed_dists`: an environment's distributions by top-level import name.
"""

from __future__ import annotations

import glob
import importlib.metadata
import itertools
import keyword
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from ...sandbox.appdir import read_no_follow
from ..installers import version_key

__all__ = [
    "FRAME",
    "NO_ATTRIBUTE",
    "PYTHON2_ONLY",
    "SITE_FRAME",
    "installed_dists",
    "installed_submodule",
    "older_installed",
    "older_python_named",
    "package_sources",
    "python2_code",
    "removed_from_stdlib",
    "removed_keyword",
    "too_new",
]

_ABC = (
    "Mapping MutableMapping Sequence MutableSequence Set MutableSet Iterable Iterator "
    "Callable Hashable Sized Container Generator Awaitable Coroutine AsyncIterable "
    "AsyncIterator AsyncGenerator KeysView ItemsView ValuesView MappingView ByteString "
    "Reversible Collection"
)
_GONE_IN_313 = (
    "cgi cgitb crypt imghdr pipes telnetlib nntplib sndhdr audioop chunk mailcap msilib nis "
    "ossaudiodev spwd sunau uu xdrlib lib2to3"
)
# (module, the names it lost, or "*": the module itself) -> the version that removed them
_REMOVED: dict[tuple[str, str], str] = {
    **{("collections", name): "3.10" for name in _ABC.split()},
    ("asyncio", "coroutine"): "3.11",
    ("inspect", "getargspec"): "3.11",
    ("inspect", "formatargspec"): "3.11",
    ("time", "clock"): "3.8",
    # (Smirl's teaflask: an old Flask-Markdown's ``from cgi import escape``)
    **{("cgi", name): "3.8" for name in ("escape", "parse_qs", "parse_qsl")},
    ("platform", "linux_distribution"): "3.8",
    ("platform", "dist"): "3.8",
    # (Django 1.6 and older: brianhv's drfissue, its migrate's "module 'html.parser' has
    # no attribute 'HTMLParseError'")
    ("html.parser", "HTMLParseError"): "3.5",
    ("base64", "encodestring"): "3.9",
    ("base64", "decodestring"): "3.9",
    ("fractions", "gcd"): "3.9",
    ("xml.etree", "cElementTree"): "3.9",
    ("xml.etree.cElementTree", "*"): "3.9",
    ("configparser", "SafeConfigParser"): "3.12",
    ("pkgutil", "ImpImporter"): "3.12",
    ("ssl", "wrap_socket"): "3.12",
    ("ssl", "match_hostname"): "3.12",
    ("unittest", "makeSuite"): "3.13",
    ("unittest", "findTestCases"): "3.13",
    ("locale", "resetlocale"): "3.13",
    ("typing", "io"): "3.13",
    **{(name, "*"): "3.8" for name in ("macpath",)},
    **{(name, "*"): "3.9" for name in ("_dummy_thread", "dummy_threading")},
    **{(name, "*"): "3.10" for name in ("formatter", "parser", "symbol")},
    **{(name, "*"): "3.11" for name in ("binhex",)},
    **{(name, "*"): "3.12" for name in ("distutils", "imp", "asynchat", "asyncore", "smtpd")},
    **{(name, "*"): "3.13" for name in _GONE_IN_313.split()},
}
# (function, keyword) -> the version whose standard library no longer takes it: an old
# Django calls gettext.translation(codeset=…), old aiohttp asyncio.sleep(loop=…) …
_LOOP_TAKERS = (
    "sleep gather wait_for wait shield open_connection start_server create_subprocess_exec "
    "create_subprocess_shell as_completed Queue.__init__ Lock.__init__ Event.__init__ "
    "Condition.__init__ Semaphore.__init__ BoundedSemaphore.__init__"
)
_REMOVED_KEYWORDS: dict[tuple[str, str], str] = {
    ("translation", "codeset"): "3.11",
    ("install", "codeset"): "3.11",
    ("loads", "encoding"): "3.9",
    **{(name, "loop"): "3.10" for name in _LOOP_TAKERS.split()},
}
# Interpreter errors in a package's own code that an older Python did not raise.
_TOO_NEW = [
    (re.compile(r"__classcell__ propagated to type\.__new__"), "3.8"),
    (re.compile(r"Generator expression must be parenthesized"), "3.7"),
    # 3.11's inspect.Parameter refuses a keyword for a name: pydantic before 1.10 gives its
    # models' signatures their aliases (FastAPI's OpenAPI Schema has ``not``), so a lock of
    # 2022 (pydantic 1.9.0, fastapi 0.75) died importing FastAPI on 3.11.
    (re.compile(rf"'(?:{'|'.join(keyword.kwlist)})' is not a valid parameter name"), "3.11"),
    # A syntax tree built with an older Python's fields and compiled: 3.8 added
    # ``Module.type_ignores`` and ``arguments.posonlyargs`` (Mako 1.0.4's templates, pinned
    # by m4ra's 2016 flask-stripe: Flask-Migrate's ``db upgrade`` failed rendering on 3.11).
    (re.compile(r'required field "(?:type_ignores|posonlyargs)" missing from'), "3.8"),
    # 3.11 made asyncio.TimeoutError the builtin's alias: a class deriving from both
    # (aioredis 2's ``class TimeoutError(asyncio.TimeoutError, builtins.TimeoutError, …)``,
    # yaroslavpich's NewFastAPI) fails at its import from then on.
    (re.compile(r"duplicate base class TimeoutError\b"), "3.11"),
    # Methods 3.9 removed from the standard library's objects, which packages of the
    # 2010s call (jplusplus' arte-world-of-work pins Markdown 2.3.1, whose build renders
    # its docs with ElementTree's ``getchildren()``: its build tried 3.11, then 3.10, each
    # failing the same, until the launch's time ran out).
    (
        re.compile(
            r"'(?:xml\.etree\.ElementTree\.)?Element' object has no attribute"
            r" 'get(?:children|iterator)'|'Thread' object has no attribute 'isAlive'"
            r"|'array\.array' object has no attribute '(?:tostring|fromstring)'"
        ),
        "3.9",
    ),
]
# ``types.CodeType`` called with an older Python's arguments by a package that builds code
# objects (Werkzeug 0.15.2's routing: "code() takes at least 14 arguments (13 given)" on
# 3.8+): 3.8 added ``posonlyargcount`` (14), 3.11 ``qualname`` and ``exceptiontable`` (16).
_CODE_ARGUMENTS = re.compile(r"\bcode\(\) takes at least (\d+) arguments \((\d+) given\)")
_CODE_SIGNATURES = ((14, "3.8"), (16, "3.11"))
# A traceback's frame in an installed package: its top-level name.
SITE_FRAME = re.compile(r'^\s*File "[^"]*/site-packages/([A-Za-z_][\w]*)[/.]')
# Any frame of a traceback: its file and line.
FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)')
# A module lacking a name, which may be a module of it never imported (installed_submodule).
NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
_CLASSIFIER = re.compile(r"Programming Language :: Python :: 3\.(\d+)$")


def removed_from_stdlib(module: str, name: str | None) -> str | None:
    """The Python version that removed ``module`` (or its ``name``), if it did: the name's
    own first (``cgi.escape``, gone in 3.8, of a module gone in 3.13)."""
    if (found := _REMOVED.get((module, name or ""))) is not None:
        return found
    for candidate in _parents(module):
        found = _REMOVED.get((candidate, "*"))
        if found is not None:
            return found
    return _REMOVED.get((module, name or ""))


# Python 2's print statement, refused by every Python 3 (boto 2.9.6's ``print
# s.getvalue()``, pinned by jplusplus' 2013 arte-world-of-work).
_PRINT_STATEMENT = re.compile(r"Missing parentheses in call to 'print'")
PYTHON2_ONLY = "its code is Python 2's (a print statement), which no Python 3 builds or runs"


def python2_code(lines: list[str]) -> bool:
    """Whether ``lines`` (a failure) show code written for Python 2 alone."""
    return any(_PRINT_STATEMENT.search(line) for line in lines)


def older_python_named(lines: list[str]) -> str | None:
    """The version to stay below that one of ``lines`` names by an error a newer Python
    raises in an older package's code (:data:`_TOO_NEW`), wherever it was raised (a
    package's build from source too); None where none does."""
    return next((v for line in lines for pattern, v in _TOO_NEW if pattern.search(line)), None)


def removed_keyword(function: str, keyword: str) -> str | None:
    """The Python version whose standard library stopped taking ``keyword`` in
    ``function`` (as a ``TypeError`` names it: ``translation``, ``Queue.__init__``)."""
    return _REMOVED_KEYWORDS.get((function, keyword))


def too_new(text: list[str], python: str, env: Path | None) -> tuple[str, str] | None:
    """(the version to stay below, the package) when ``text`` (a failure, the exception
    first, then its traceback from the innermost frame) shows an installed package
    failing because this Python is newer than it knows: below the newest version its
    classifiers name, or below this one."""
    error = next((line for line in text if re.match(r"^\w*(?:Error|Exception)\b", line)), "")
    error = error or text[0] if text else ""
    frame = next((m.group(1) for line in text if (m := SITE_FRAME.match(line))), None)
    if frame is None:
        return None
    below = next((v for pattern, v in _TOO_NEW if pattern.search(error)), None)
    below = below or _code_signature(error)
    if below is None and not _PYTHONS_SYNTAX_ERROR.search(error):
        return None
    minor = ".".join(python.split(".")[:2])
    found = installed_dists(env).get(frame)
    newest = found[2] if found else None
    candidates = [below or minor, minor]
    if newest is not None:
        candidates.append(f"3.{newest + 1}")
    chosen = min(candidates, key=version_key)
    return (
        (chosen, found[0] if found else frame)
        if version_key(chosen) <= version_key(minor)
        else None
    )


# Python's own, not a database's (asyncpg's PostgresSyntaxError: a statement's, which no
# older Python mends; zeeshanravian1's fastapi-ecommerce-postgresql was relaunched on 3.10).
_PYTHONS_SYNTAX_ERROR = re.compile(r"(?<![\w.])SyntaxError\b")


def _code_signature(error: str) -> str | None:
    """The version to stay below where ``error`` says a code object was built with fewer
    arguments than this Python's ``code()`` takes: the one that added those it lacks."""
    match = _CODE_ARGUMENTS.search(error)
    if match is None:
        return None
    given = int(match.group(2))
    return next((v for needed, v in _CODE_SIGNATURES if given < needed), None)


def older_installed(below: str, installed: list[str]) -> str | None:
    """The newest minor version present below ``below`` (3.x only)."""
    older = [v for v in installed if v.startswith("3.") and version_key(v)[:2] < version_key(below)]
    if not older:
        return None
    best = max(older, key=version_key)
    return ".".join(best.split(".")[:2])


def installed_submodule(env: Path | None, module: str, name: str) -> bool:
    """Whether ``name`` is a module of the installed package ``module`` (``rich.panel``):
    "module 'rich' has no attribute 'panel'" then says the app's code uses it without
    importing it (another import loaded it where the app was written), not that a
    release removed it."""
    if env is None:
        return False
    folder = module.replace(".", "/")
    for site in glob.glob(str(env / "lib" / "python*" / "site-packages")):
        package = Path(site) / folder
        if (package / f"{name}.py").is_file() or (package / name / "__init__.py").is_file():
            return True
    return False


def installed_dists(env: Path | None) -> dict[str, tuple[str, str, int | None]]:
    """Top-level import name -> (distribution, version, the newest Python 3 minor its
    classifiers name or None), in the environment ``env``."""
    if env is None:
        return {}
    found: dict[str, tuple[str, str, int | None]] = {}
    sites = glob.glob(str(env / "lib" / "python*" / "site-packages"))
    for dist in importlib.metadata.distributions(path=sites):
        if not _plain(getattr(dist, "_path", None)):
            continue
        name, version = dist.metadata["Name"], dist.version
        if not name:
            continue
        tops = (dist.read_text("top_level.txt") or "").split()
        if not tops:
            for file in dist.files or ():
                first = file.parts[0] if file.parts else ""
                if first and not first.endswith((".dist-info", ".pth", ".data")):
                    tops.append(first.removesuffix(".py"))
        minors = [
            int(m.group(1))
            for c in dist.metadata.get_all("Classifier") or []
            if (m := _CLASSIFIER.match(c))
        ]
        for top in tops or [name.replace("-", "_").lower()]:
            found.setdefault(top, (name, version, max(minors) if minors else None))
    return found


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _plain(record: object) -> bool:
    """Whether a distribution's record (its ``.dist-info`` folder, an ``.egg-info`` file
    or folder) holds plain files and folders alone: a build from source runs the
    upload's code in the environment, and a FIFO in ``METADATA``'s place had the
    service's read of it wait for ever, in a thread nothing cancels."""
    if not isinstance(record, Path):
        return False  # (a zip's: not this environment's own)
    try:
        mode = os.lstat(record).st_mode
        if stat.S_ISREG(mode):
            return True
        if not stat.S_ISDIR(mode):
            return False
        with os.scandir(record) as entries:
            return all(
                e.is_file(follow_symlinks=False) or e.is_dir(follow_symlinks=False) for e in entries
            )
    except OSError:
        return False


def package_sources(package: Path) -> Iterator[str]:
    """The text of the first 500 ``.py`` files under ``package``, of an environment where
    a build from source ran the upload's code: no link followed, no FIFO read (a read
    waits on it for ever, in a thread nothing cancels)."""
    if package.is_symlink():
        return
    walked = itertools.islice(os.walk(package), 5000)  # (links to folders not entered)
    found = sorted(Path(w) / n for w, _, names in walked for n in names if n.endswith(".py"))
    for source in found[:500]:
        try:
            yield read_no_follow(source, 4 << 20).decode("utf-8", "replace")
        except OSError:
            continue
