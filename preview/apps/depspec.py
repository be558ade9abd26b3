"""What an app depends on, read from its files (:func:`python_dependencies`, for Node
:func:`node_dependencies`).

Python: ``uv.lock`` (with its ``pyproject.toml``), else ``requirements.txt`` (or
``requirement.txt``, as pip is often given it, or else one named for its use,
``requirements-dev.txt`` before ``requirements-prod.txt``, never the tests'; ``-r``/``-c``
includes inlined; an index option naming PyPI under another name, ``-i
https://pypi.python.org/simple``, left to the build's own index), or a ``requirements/``
folder's file that no other includes (``local.txt``, ``dev.txt`` before ``prod.txt``: a
preview runs the settings a checkout does), else ``pyproject.toml`` (PEP 621
``project.dependencies``, or Poetry's ``tool.poetry.dependencies`` turned into PEP 508 by
:mod:`.poetry`; a ``poetry.lock`` beside it holds them to its versions), else Pipenv's
``Pipfile.lock`` (its ``default`` pins) or ``Pipfile`` (its ``[packages]``), else what
its imports name (:mod:`.imports`). The interpreter asked for comes from
``.python-version``, else ``requires-python`` (or Poetry's ``python``, or the Pipfile's
``python_full_version`` / ``python_version``). Node:
``package.json`` and its lockfile. ``psycopg2`` is read as ``psycopg2-binary``
(:func:`binary_twins`). Each spec is normalised so that the same set of
dependencies always gives the same key (:meth:`PythonDeps.key`). Before Pipenv's: a
setuptools project's ``install_requires`` (``setup.py``, ``setup.cfg``; :mod:`.imports`).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .configvars.compose import compose_projects
from .imports import (
    binary_twins,
    import_mapping,
    imported_names,
    inferred_requirements,
    setup_requirements,
)
from .node.nodedeps import NodeDeps, node_dependencies
from .plans.declared import (
    README_NAMES,
    declared_starts,
    dockerfile_installs,
    dockerfile_requirement_files,
)
from .poetry import (
    pipenv_requirements,
    poetry_constraint,
    poetry_lock_pins,
    poetry_requirements,
    valid_version,
)
from .processes.declared import procfile_lines
from .pyfloor import (
    FASTAPI_PARAMS_WITHOUT_EXTRA,
    FASTAPI_WITHOUT_EXTRA,
    code_python_floor,
    django_named_floor,
    fastapi_extra_keyword,
    fastapi_param_extra_keyword,
    pydantic_one_config,
    removed_apis,
)

__all__ = [
    "NodeDeps",
    "PythonDeps",
    "dependency_text",
    "dockerfile_requirements",
    "import_roots",
    "node_dependencies",
    "python_dependencies",
    "unlocked_for",
]

_COMMENT = re.compile(r"(?:^|\s)#.*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MAX_INCLUDES = 10
_EXTRAS = re.compile(r"\[[^\]]*\]$")  # "./libs/common[extra]"
_SHELL_QUOTED = re.compile(r"""^(["'])([^"']+)\1$""")  # one requirement in a shell's quotes
# pip's find-links option and the place it names (``-f /dir``, ``--find-links=./wheels``).
_FIND_LINKS = re.compile(r"^(?:-f|--find-links)(?:\s+|\s*=\s*|(?=[^\s=-]))(\S+)")
_INDEX_OPTION = re.compile(r"^(?:-i|--index-url|--extra-index-url)(?:\s+|\s*=\s*)(\S+)")
_PYPI_HOSTS = {"pypi.python.org", "pypi.org", "www.pypi.org", "pypi.io"}
# What a web app's own dependency file lists (python_dependencies).
_SERVING = {
    "fastapi",
    "flask",
    "django",
    "quart",
    "litestar",
    "starlette",
    "sanic",
    "aiohttp",
    "bottle",
    "falcon",
    "tornado",
    "pyramid",
    "uvicorn",
    "gunicorn",
    "hypercorn",
}
_REQUIREMENTS_NAMES = (
    "requirements.txt",
    "requirement.txt",
    "Requirements.txt",
    "REQUIREMENTS.txt",
)
_VARIANT = re.compile(r"(?:(\w+)[-_])?requirements?(?:[-_.](\w+))?\.txt", re.I)
_FOLDER_FIRST = ("local", "dev", "development", "develop", "base", "common", "prod", "production")
_FOLDER_ORDER = {use: i for i, use in enumerate(_FOLDER_FIRST)}


@dataclass(frozen=True)
class PythonDeps:
    """A Python app's dependency set, ready to give to uv."""

    requirements: tuple[str, ...]  # PEP 508 lines and pip options; empty for a uv.lock
    source: str  # the file it was read from ("" when the app lists nothing)
    python_request: str | None  # ">=3.11", "3.12" …; None: any
    python_source: str | None
    lock: tuple[str, str] | None = None  # (pyproject.toml, uv.lock) texts for `uv sync`
    # What the spec could not say exactly (Poetry's ||, a path dependency …), for the
    # build's output; not part of the key.
    notes: tuple[str, ...] = ()
    # The upload's directories named as local packages (``-e ./libs/common``, Poetry's
    # ``path``; "" for the upload's root): imported from the upload, not installed (see
    # :func:`import_roots`); their own dependencies are in ``requirements``.
    local: tuple[str, ...] = ()
    # With no dependency file: how the requirements were inferred from the imports
    # ("fastapi, yaml → PyYAML"; see :mod:`.imports`), for a system line.
    inferred: str | None = None
    # (requires-python, its file) where .python-version pins a version: tried when that
    # one is not installed (fastapi-nano pins 3.14 and requires >=3.13).
    python_fallback: tuple[str, str] | None = None
    # Constraints on the isolated builds of its sdists ("setuptools<70": a remedy's, for
    # an old setup.py on an API setuptools removed); part of the key.
    build_constraints: tuple[str, ...] = ()
    # The versions its lock holds what is installed to (poetry.lock's pins, uv's -c: see
    # :func:`~.poetry.poetry_lock_pins`); part of the key.
    constraints: tuple[str, ...] = ()
    # Packages left out of the install, also where a listed one brings them: a remedy's
    # (mysqlclient, which cannot be built here, PyMySQL standing in); a lock's by ``uv sync
    # --no-install-package``, else by uv's overrides, a marker never true on each
    # (``builds.envcache.write_requirements``); part of the key.
    not_installed: tuple[str, ...] = ()
    # A uv.lock's dev group installed too, as ``uv sync`` does unasked: where the app's own
    # code names one of its packages (:func:`_uses_dev_group`); part of the key.
    with_dev: bool = False
    # What is installed resolved as of this time (uv's ``--exclude-newer``): a remedy's,
    # the app's era (``remedies.era``); part of the key.
    exclude_newer: str | None = None
    # Distributions resolved past that time all the same: a remedy's, where none of the
    # era's releases has a wheel here (``remedies.wheels``); part of the key.
    beyond_era: tuple[str, ...] = ()

    def dated(self) -> tuple[str, ...]:
        """uv's options resolving as of :attr:`exclude_newer` (none where it is None); the
        build tools of today and the service's own stand-in wheels (flasksqlalchemy-etrunon's
        era, 2016, held setuptools to 24.2.0, and building SQLAlchemy 1.0.14 from its sdist
        asked for 40.8 or later: "only setuptools<=24.2.0 is available"); the build's own
        constraints still bound them."""
        if not self.exclude_newer:
            return ()
        tools = (f"{name}={_UNBOUNDED}" for name in (*_BUILD_TOOLS, *self.beyond_era))
        return ("--exclude-newer", self.exclude_newer, *_flagged("--exclude-newer-package", tools))

    def names(self) -> set[str]:
        """Normalised distribution names listed (to tell whether the server is there)."""
        names = set()
        names.update(_line_name(line) for line in self.requirements if not line.startswith("-"))
        names.discard("")
        if self.lock is not None:
            locked = re.findall(r'^name = "([^"]+)"', self.lock[1], re.M)
            names.update(canonicalize_name(n) for n in locked)
        return names

    def key(self, interpreter: str, extra: tuple[str, ...], index: str) -> str:
        """The environment's cache key: the spec, the interpreter's version, the index."""
        parts = [sorted(self.requirements), self.lock, interpreter, sorted(extra), index]
        if self.build_constraints:  # (absent: the keys of the environments built before)
            parts.append(sorted(self.build_constraints))
        if self.constraints:  # likewise
            parts.append(["-c", *sorted(self.constraints)])
        if self.not_installed:  # likewise
            parts.append(["--no-install-package", *sorted(self.not_installed)])
        if self.with_dev:  # likewise
            parts.append("--dev")
        if self.exclude_newer:  # likewise
            parts.append(["--exclude-newer", self.exclude_newer])
        if self.beyond_era:  # likewise
            parts.append(["--exclude-newer-package", *self.beyond_era])
        data = json.dumps(parts)
        return "py-" + hashlib.sha256(data.encode()).hexdigest()[:24]


# The tools a build from an sdist needs, of any upload date (:meth:`PythonDeps.dated`); and
# the wheels the service installs in place of a source it would have to build
# (psycopg2-binary, first released in 2018: etrunon's era, 2016, had none of it).
_BUILD_TOOLS = ("setuptools", "wheel", "setuptools-scm", "cython", "pip", "psycopg2-binary")
_UNBOUNDED = "2999-12-31T00:00:00Z"


def _flagged(flag: str, values: Iterable[str]) -> tuple[str, ...]:
    return tuple(part for value in values for part in (flag, value))


def dependency_text(data: bytes) -> str:
    """A dependency file's text as pip reads it: UTF-16 by its byte-order mark (Windows'
    ``pip freeze > requirements.txt`` in PowerShell) or, unmarked, by its NULs, else
    UTF-8. Every reader of the upload's dependency files decodes them so (read as UTF-8,
    a UTF-16 file's names have a NUL between letters and match nothing: no PostgreSQL was
    given to an app listing psycopg2-binary so)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # (nursultanm4's mini-bank: uv read garbage)
        return data.decode("utf-16", "replace")
    return data.decode(_unmarked_utf16(data) or "utf-8-sig", "replace")


def _unmarked_utf16(data: bytes) -> str | None:
    """The codec, "utf-16-le" or "utf-16-be", of UTF-16 text with no byte-order mark
    (Jxck007's flask-resume-builder: uv "Couldn't parse requirement … found ``", the NUL
    beside each letter): every unit of a requirements file is ASCII, so one byte of each pair is NUL
    and the other never is. UTF-8 text has no NUL at all."""
    if len(data) < 2 or len(data) % 2 or b"\0" not in data:
        return None
    even, odd = data[0::2], data[1::2]
    if odd.count(0) == len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) == len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _text(files: dict[str, bytes], path: str) -> str | None:
    """Its text as pip reads it (:func:`dependency_text`)."""
    if (data := files.get(path)) is None:
        return None
    return dependency_text(data)


def _unreadable_uv_lock(lock: str) -> str | None:
    """Why a ``uv.lock`` locks nothing ``uv sync`` could read: it is empty (RightTwilk's
    fastapi-rest-api commits one of 0 bytes: "Failed to parse `uv.lock`: TOML parse error
    at line 1, column 1", nothing installed), not TOML, or names no package; None where it
    is a lock."""
    if not lock.strip():
        return "it is empty"
    try:
        packages = tomllib.loads(lock).get("package")
    except (tomllib.TOMLDecodeError, RecursionError):
        return "it is not TOML"
    return None if isinstance(packages, list) and packages else "it locks no package"


def _unsyncable_project(pyproject: dict | None) -> str | None:
    """Why ``uv sync`` cannot read the project beside a uv.lock: its pyproject.toml has
    no ``[project]`` table (nor a workspace's), or its ``[tool.uv]`` dev-dependencies are
    not a list (iklobato's django-stocks lists its packages under ``[tool.uv.dependencies]``
    and ``[tool.uv.dev-dependencies]``, tables: "Failed to parse: `pyproject.toml`" on
    every Python tried, its requirements.txt never read). None where uv reads it."""
    if not isinstance(pyproject, dict):
        return "it has no pyproject.toml uv reads"
    tool = pyproject.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    uv = uv if isinstance(uv, dict) else {}
    if not isinstance(pyproject.get("project"), dict) and "workspace" not in uv:
        return "its pyproject.toml has no [project] table"
    if not isinstance(uv.get("dev-dependencies", []), list):
        return "its pyproject.toml's [tool.uv] dev-dependencies are not a list, which uv refuses"
    return None


def _stale_uv_lock(pyproject: dict | None, lock: str) -> str | None:
    """Why a ``uv.lock`` is older than its ``pyproject.toml``, which ``uv sync --frozen``
    refuses ("Missing workspace member"): the project it locks is another (renamed since:
    cybergenii's fastapi-sqlalchemy-starter locks ``june-project``), or it lacks one of the
    project's dependencies; None where it is the project's, or nothing says otherwise."""
    project = pyproject.get("project") if isinstance(pyproject, dict) else None
    if not isinstance(project, dict) or not isinstance(name := project.get("name"), str):
        return None
    try:
        packages = tomllib.loads(lock).get("package")
    except (tomllib.TOMLDecodeError, RecursionError):
        return None
    roots = [
        p
        for p in (packages if isinstance(packages, list) else ())
        if isinstance(p, dict)
        and isinstance(p.get("source"), dict)
        and {"virtual", "editable"} & p["source"].keys()
        and p["source"].get("virtual", p["source"].get("editable")) == "."
    ]
    if not roots:
        return None
    root = roots[0]
    if canonicalize_name(str(root.get("name", ""))) != canonicalize_name(name):
        return f"it locks the project {root.get('name')!r}, not {name!r}"
    locked = {
        canonicalize_name(str(d.get("name", "")))
        for d in root.get("dependencies") or ()
        if isinstance(d, dict)
    }
    for line in project.get("dependencies") or ():
        m = _NAME.match(line.strip()) if isinstance(line, str) else None
        if m is not None and canonicalize_name(m.group()) not in locked:
            return f"it does not lock {m.group()}, a dependency of the project"
    return None


def _search_dirs(anchor: str) -> list[str]:
    """The upload's root first, then the detected file's directory and its parents."""
    chain = []
    directory = posixpath.dirname(anchor)
    while directory:
        chain.append(directory)
        directory = posixpath.dirname(directory)
    return ["", *chain[::-1]]


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def python_dependencies(files: dict[str, bytes], anchor: str = "") -> PythonDeps:
    """The dependency set of the Python app whose entry file is ``anchor``."""
    directories = _search_dirs(anchor)
    deps = _python_dependencies(files, directories)
    if not deps.source and (built := _build_context_dependencies(files)) is not None:
        deps = built
    # The first file, from the root down, lists no web framework or server (the root's
    # requirements.txt of KenMwaura1's Fast-Api-example: two extras; its Dockerfile builds
    # src/'s): a nearer one on the app's way that does is the app's own.
    if deps.source and not deps.names() & _SERVING:
        for directory in directories[1:]:
            nearer = _python_dependencies(files, [directory])
            if nearer.source not in ("", deps.source) and nearer.names() & _SERVING:
                deps = nearer
                break
    deps = _without_its_machines_own(files, _versions_mistyped(deps))
    deps = _held_to_its_pydantic(files, deps)
    deps = _held_to_fastapis_extra(files, deps)
    deps = _held_below_removed_apis(files, deps)
    deps = _held_to_psycopg2s_sqlalchemy(deps)
    deps = _held_to_gunicorns_worker(files, deps)
    deps = _lifted_to_the_django_it_names(files, deps)
    deps = _windows_only_marked(deps)
    deps = _backports_marked(deps)
    deps = _standard_modules_marked(deps)
    deps = _without_an_unrun_uwsgi(files, deps)
    deps = _dlib_as_wheels(deps)
    if deps.python_request is None and (floor := code_python_floor(files)) is not None:
        # Nothing declares a Python: the code's own syntax says the oldest it runs on.
        return replace(deps, python_request=f">={floor[0]}", python_source=floor[1])
    if deps.python_source is None or not deps.python_source.endswith(
        (".python-version", "runtime.txt")
    ):
        return deps
    directory = posixpath.dirname(deps.python_source)
    allowed = _requires_python(files, directory)
    return replace(deps, python_fallback=allowed) if allowed[0] else deps


# Python distributions an operating system installs with its own packages (Ubuntu's and
# Debian's apt): never on PyPI, or only as sources that need the desktop's C libraries;
# and Anaconda's own (its installer's, its navigator's, Intel's MKL builds of its NumPy),
# which a conda base environment's freeze lists beside the app's.
_OPERATING_SYSTEMS_OWN = frozenset(
    {
        "anaconda-client",
        "anaconda-navigator",
        "anaconda-project",
        "conda",
        "conda-build",
        "conda-package-handling",
        "conda-verify",
        "mkl-fft",
        "mkl-random",
        "mkl-service",
        "navigator-updater",
        "apturl",
        "brlapi",
        "command-not-found",
        "cupshelpers",
        "dbus-python",
        "defer",
        "distro-info",
        "language-selector",
        "louis",
        "pycairo",
        "pycups",
        "pygobject",
        "python-apt",
        "screen-resolution-extra",
        "sessioninstaller",
        "system-service",
        "systemd-python",
        "ubuntu-advantage-tools",
        "ubuntu-drivers-common",
        "ubuntu-pro-client",
        "ufw",
        "unattended-upgrades",
        "usb-creator",
        "xkit",
    }
)
# A version its packager gave it: Ubuntu's (0.18ubuntu0.18.04.1), Debian's, or distutils'
# default for a module of no release of its own (0.0.0).
_PACKAGERS_VERSION = re.compile(r"ubuntu|debian|dfsg|^0\.0\.0$", re.IGNORECASE)


# What an app loads by name rather than imports (a URL's scheme, a config's string, an
# optional backend its library looks for): kept by a machine's freeze as the app's own.
_LOADED_BY_NAME = frozenset(
    {
        "psycopg2",
        "psycopg2-binary",
        "psycopg",
        "psycopg-binary",
        "pymysql",
        "mysqlclient",
        "mysql-connector-python",
        "asyncpg",
        "aiomysql",
        "aiosqlite",
        "python-dotenv",
        "bcrypt",
        "email-validator",
        "cryptography",
        "gevent",
        "eventlet",
        "whitenoise",
    }
)


# Distributions made for Windows alone (wheels for Windows only, a source that builds
# nowhere else), which a Windows machine's pip freeze lists beside the app's own: their
# dependents name them for Windows alone (Twisted: twisted-iocpsupport; sys_platform ==
# "win32"), as the line is then marked.
_WINDOWS_ONLY = frozenset(
    {"pywin32", "pypiwin32", "twisted-iocpsupport", "pywinpty", "windows-curses", "wmi"}
)


def _windows_only_marked(deps: PythonDeps) -> PythonDeps:
    """``deps`` with each line of a Windows-only distribution (:data:`_WINDOWS_ONLY`) that
    has no environment marker marked for Windows (GlazovDaniil's DRF-events-website-API
    pins twisted-iocpsupport==1.0.4 in a Windows freeze: tried on three Pythons, its build
    failing on each, before the remedies left it out, 2.5 minutes later)."""
    markers = {name: 'sys_platform == "win32"' for name in _WINDOWS_ONLY}
    return _marked(deps, markers, "Windows' alone, installed only there (sys_platform marker)")


def _marked(deps: PythonDeps, markers: dict[str, str], why: str) -> PythonDeps:
    """``deps`` with each line with no environment marker of its own whose distribution
    ``markers`` names given its marker, and a note naming them: ``why``."""
    marked = [
        f"{line} ; {markers[name]}"
        if ";" not in line and (name := _line_name(line)) in markers
        else line
        for line in deps.requirements
    ]
    if marked == list(deps.requirements):
        return deps
    pairs = zip(marked, deps.requirements, strict=True)
    names = [_line_name(line) for line, was in pairs if line != was]
    said = f"{', '.join(names)}: {why}"
    return replace(deps, requirements=tuple(marked), notes=(*deps.notes, said))


# Backports of a standard module to the Pythons before it: {distribution: the version
# whose standard library has it}. A freeze made on an older Python lists them without a
# marker; on a Python that has the module they have no wheel (backports.zoneinfo builds
# C code against headers 3.12 changed), or refuse it (dataclasses 0.8: Python <3.7), or
# shadow what it has (enum34).
_BACKPORTS = {
    "backports-zoneinfo": "3.9",
    "dataclasses": "3.7",
    "contextvars": "3.7",
    "backports-datetime-fromisoformat": "3.7",
    "typing": "3.5",
    "enum34": "3.4",
    "asyncio": "3.4",
    "futures": "3.2",
}


def _backports_marked(deps: PythonDeps) -> PythonDeps:
    """``deps`` with each line of a backport (:data:`_BACKPORTS`) that has no environment
    marker marked for the Pythons before its module (vipankumar123's
    Fastapi-Company-Management-System pins ``backports.zoneinfo==0.2.1``: no wheel on
    3.11, so its install was tried on 3.8, where its other pins failed)."""
    markers = {name: f'python_version < "{version}"' for name, version in _BACKPORTS.items()}
    why = "backports of standard modules, installed only on the Pythons before them"
    return _marked(deps, markers, f"{why} (python_version marker)")


def _standard_modules_marked(deps: PythonDeps) -> PythonDeps:
    """``deps`` with each line naming a module of Python 3's standard library (``secrets``,
    ``uuid``, ``hashlib``; not a backport of :data:`_BACKPORTS`) marked for Python 2
    alone: its import finds the standard library's module first, and the distribution of
    that name is a Python 2 package that does not build on 3 (QueenieBloom's
    crud-python-mysql-flask lists ``secrets``, whose 1.0.2 failed its build)."""
    standard = {name.lower() for name in sys.stdlib_module_names if not name.startswith("_")}
    listed = {_line_name(line) for line in deps.requirements if ";" not in line}
    named = {n for n in listed if n.replace("-", "_") in standard and n not in _BACKPORTS}
    why = "the standard library's own modules, which its import finds first"
    return _marked(deps, dict.fromkeys(named, 'python_version < "3"'), f"{why} (Python 2 alone)")


# Where an upload names what it installs (not what it runs): its dependency files.
_LISTS_ITS_PACKAGES = re.compile(
    r"(?:^|/)(?:[^/]*requirements[^/]*\.(?:txt|in)|requirements/[^/]+|pyproject\.toml"
    r"|Pipfile(?:\.lock)?|(?:uv|poetry)\.lock|setup\.(?:py|cfg))$"
)


# dlib, which PyPI has as a source archive alone (CMake compiling its C++ for minutes),
# and the packages requiring it: dlib-bin is the same module as wheels, every Python here.
_DLIB = "dlib"
_DLIB_WHEELS = "dlib-bin"
_NEEDS_DLIB = frozenset((_DLIB, "face-recognition"))


def _dlib_as_wheels(deps: PythonDeps) -> PythonDeps:
    """``deps`` with dlib kept out (a listed line of it, and wherever a listed package
    requires it: uv's override) and dlib-bin installed, where it names dlib or
    face_recognition: heldout14's flask-attendance-system (face-recognition==1.3.0 in a
    UTF-16 requirements.txt) compiled dlib from source on three Pythons, each stopped at
    the launch's 240 s."""
    names = {_line_name(line) for line in deps.requirements}
    if deps.lock is not None or not names & _NEEDS_DLIB or _DLIB_WHEELS in names:
        return deps
    lines = [line for line in deps.requirements if _line_name(line) != _DLIB]
    said = (
        "dlib kept out, dlib-bin installed: the same module as wheels (dlib's source "
        "archive compiles for minutes)"
    )
    return replace(
        deps,
        requirements=(*lines, _DLIB_WHEELS),
        not_installed=tuple(dict.fromkeys((*deps.not_installed, _DLIB))),
        notes=(*deps.notes, said),
    )


def _without_an_unrun_uwsgi(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` without uWSGI where its dependency files are the only ones of the upload
    naming it: no Procfile, ini, script or Dockerfile runs it, no code imports it, and a
    preview serves the app with its own server. It has no wheels: built from source, 30 s
    of each build. remedialchaostheory's flask-shop lists ``uwsgi`` and nothing else of
    it: each of its five relaunches (Python 3.9, Flask<3, Werkzeug holds) built it again,
    past the launch's time, still installing."""
    lines = [line for line in deps.requirements if _line_name(line) == "uwsgi"]
    if not lines or deps.lock is not None:
        return deps
    for path, data in files.items():
        if not _LISTS_ITS_PACKAGES.search(path) and b"uwsgi" in data.lower():
            return deps
    kept = tuple(line for line in deps.requirements if line not in lines)
    said = "uwsgi: named by its dependency files alone (nothing of the upload runs it), not built"
    return replace(deps, requirements=kept, notes=(*deps.notes, said))


# A notebook kernel's own packages: a freeze listing two or more is its author's whole
# data-science machine's (magistraapta's fastapi-store: ipykernel, jupyter_client and
# jupyter_core beside tensorflow, mlflow, streamlit, Django and Flask, 166 pins for a
# FastAPI app importing a dozen; its install ran past the network's patience). No web
# backend imports them: they are kept as the machine's other pins (constraints).
_NOTEBOOK_KERNEL = frozenset(
    {"ipykernel", "jupyter-client", "jupyter-core", "jupyterlab", "notebook", "jupyter-server"}
)


def _without_its_machines_own(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` without what a whole machine's ``pip freeze`` lists of its operating
    system's own packages (``apturl``, ``python-apt``, ``distro-info===0.18ubuntu0.18.04.1``:
    haoolii's flask-blog-api, whose requirements uv cannot even parse), or of a conda base
    environment's (``conda``, ``anaconda-navigator``, ``pyodbc===4.0.0-unsupported``:
    ikshu7's Django-Notes-API), where two or more
    say it is one; none is an app's (a web backend imports none of them). The machine's
    other pins hold only what the app's own packages bring (constraints): those its code
    imports, its server and what it loads by name are its requirements; the rest of the
    machine (launchpadlib, netifaces, zope.interface, old sources that no longer build)
    is not installed."""
    own = []
    for line in deps.requirements:
        try:
            requirement = Requirement(line.split(";")[0].strip())
        except InvalidRequirement:
            # A packager's version, or one no index publishes (PEP 440's alone are:
            # conda's pyodbc===4.0.0-unsupported, a build of its own).
            head = re.match(r"([A-Za-z0-9][\w.-]*)\s*={2,3}\s*(\S+)", line)
            if head is not None and (
                _PACKAGERS_VERSION.search(head.group(2))
                or not valid_version(head.group(2).removesuffix(".*"))
            ):
                own.append(line)
            continue
        if canonicalize_name(requirement.name) in _OPERATING_SYSTEMS_OWN or any(
            _PACKAGERS_VERSION.search(spec.version)
            or (spec.operator == "===" and not valid_version(spec.version))
            for spec in requirement.specifier
        ):
            own.append(line)
    kernel = [line for line in deps.requirements if _line_name(line) in _NOTEBOOK_KERNEL]
    if len(own) < 2 and len(kernel) < 2:
        return deps
    own = own if len(own) >= 2 else []
    names = ", ".join(m.group(0) for line in own if (m := _NAME.match(line)) is not None)
    said = (
        f"{deps.source} is a whole machine's pip freeze: its operating system's own packages "
        f"left out ({names})"
        if own
        else f"{deps.source} is a whole machine's pip freeze (a notebook kernel's packages: "
        + ", ".join(m.group(0) for line in kernel if (m := _NAME.match(line)) is not None)
        + ")"
    )
    kept = [line for line in deps.requirements if line not in own]
    mapping = import_mapping() or {}
    # A module of its own deep in a package does not stand for the import of that name:
    # ronynor1's FastAPI-MarketPlace has src/helpers/jwt.py and ``import jwt`` (PyJWT, in
    # its freeze), which was left out ("No module named 'jwt'").
    imported = imported_names(files, nested_own=False)
    wanted = {canonicalize_name(mapping.get(m, m)) for m in imported} | _SERVING | _LOADED_BY_NAME
    requirements = [line for line in kept if _line_name(line) in wanted or line.startswith("-")]
    machine = [line for line in kept if line not in requirements]
    if requirements and machine:
        said += f"; {len(machine)} more of the machine's pins hold what its packages bring"
    else:
        requirements, machine = kept, []
    return replace(
        deps,
        requirements=tuple(requirements),
        constraints=(*deps.constraints, *machine),
        notes=(*deps.notes, said),
    )


# A requirement line's name, extras and one version clause (group 4 the version).
_PINNED_LINE = re.compile(
    r"^([A-Za-z0-9][\w.-]*)(\[[^\]]*\])?\s*(===|==|>=|<=|~=|!=|>|<)\s*(=?[^\s;,#<>=!~]+)\s*"
    r"(?:#.*)?$"
)


def _versions_mistyped(deps: PythonDeps) -> PythonDeps:
    """``deps`` with each line whose one version no parser reads (palms455's
    fastapi-tortoise: ``aerich==-0.2.3``, "Couldn't parse requirement", nothing installed)
    as its author meant it: the version less a stray leading ``-``, ``=`` or ``v`` where
    that reads, else the name alone; said."""
    lines = list(deps.requirements)
    said = []
    for index, line in enumerate(lines):
        if line.startswith("-") or (found := _PINNED_LINE.match(line.strip())) is None:
            continue
        name, extras, operator, version = found.groups()
        if valid_version(version.removesuffix(".*")) or _PACKAGERS_VERSION.search(version):
            continue
        if operator == "===":  # an arbitrary build's own (conda's 4.0.0-unsupported)
            continue
        meant = version.lstrip("-=vV ")
        fixed = f"{name}{extras or ''}"
        if meant and valid_version(meant.removesuffix(".*")):
            fixed += f"{operator}{meant}"
        lines[index] = fixed
        said.append(f"{line.strip()} → {fixed}")
    if not said:
        return deps
    note = f"{deps.source}: versions no installer reads, as meant ({'; '.join(said)})"
    return replace(deps, requirements=tuple(lines), notes=(*deps.notes, note))


def _line_name(line: str) -> str:
    """The canonical distribution name a requirement line names ("" for none)."""
    found = _NAME.match(line)
    return canonicalize_name(found.group(0)) if found is not None else ""


def _own_specifiers(deps: PythonDeps, name: str) -> list[Specifier] | None:
    """The version clauses the app's own lines (its requirements and constraints) give the
    distribution ``name``; None where a line of it cannot be read (left as it is)."""
    found: list[Specifier] = []
    for line in (*deps.requirements, *deps.constraints):
        if _line_name(line) != name:
            continue
        try:
            requirement = Requirement(line.split(";")[0].strip())
        except InvalidRequirement:
            return None
        found += requirement.specifier
    return found


def _holdable_below(deps: PythonDeps, name: str, release: str) -> bool:
    """Whether the distribution ``name`` may be held below ``release``: every line of the
    app's own naming it is read, and none bounds it from above, pins it, or asks for
    ``release`` or a later one (``>=``, ``>`` and ``!=`` below it alone)."""
    specifiers = _own_specifiers(deps, name)
    return specifiers is not None and not any(
        spec.operator not in (">", ">=", "!=")
        or (valid_version(spec.version) and Version(spec.version) >= Version(release))
        for spec in specifiers
    )


def _held_to_psycopg2s_sqlalchemy(deps: PythonDeps) -> PythonDeps:
    """``deps`` with SQLAlchemy held below 2.1 (a constraint) where psycopg2 is its only
    PostgreSQL driver and nothing the app lists bounds SQLAlchemy or asks for 2.1 (nor a
    lock's pins). SQLAlchemy 2.1 reads a plain ``postgresql://`` as psycopg 3's, which such
    an app does not install (joansebhm's jwt-fastapi-auth, ``sqlmodel>=0.0.38`` and
    ``psycopg2``: "No module named 'psycopg'" at ``create_engine``, its alembic.ini's and
    its .env's URLs alike); its author's SQLAlchemy read it as psycopg2's."""
    names = deps.names()
    if deps.lock is not None or not names & {"psycopg2", "psycopg2-binary"}:
        return deps
    if names & {"psycopg", "psycopg-binary"} or not names & {
        "sqlalchemy",
        "sqlmodel",
        "flask-sqlalchemy",
    }:
        return deps
    specifiers = _own_specifiers(deps, "sqlalchemy")
    if specifiers is None:
        return deps  # a line of it unread: left as it is
    for spec in specifiers:
        if spec.operator in ("<", "<=", "==", "~=", "==="):
            return deps  # its own bound
        if valid_version(spec.version) and Version(spec.version) >= Version("2.1"):
            return deps  # 2.1 asked for
    said = "sqlalchemy<2.1: psycopg2 is its PostgreSQL driver, which 2.1's postgresql:// is not"
    return replace(
        deps, constraints=(*deps.constraints, "sqlalchemy<2.1"), notes=(*deps.notes, said)
    )


# The worker classes gunicorn dropped, by the release that dropped each: 26.0.0 removed
# its eventlet worker ("Entry point ('gunicorn.workers', 'eventlet') not found").
GUNICORN_DROPPED_WORKERS = {"eventlet": "26"}
_WORKER_CLASS = re.compile(
    r"""(?:(?<=\s)(?:-k|--worker-class)(?:=|\s+)|\bworker_class\s*=\s*)['"]?(\w+)"""
)


def _held_to_gunicorns_worker(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` with gunicorn held below the release that dropped the worker class its
    start names (a constraint): the Procfile's, a deployment file's or the Dockerfile's
    ``gunicorn -k eventlet``, a ``gunicorn.conf.py``'s ``worker_class = "eventlet"``
    (25ejsb's school-flask, gunicorn unpinned beside eventlet and Flask-SocketIO), where
    nothing the app lists bounds gunicorn from above nor asks for that release (nor a
    lock's pins)."""
    if deps.lock is not None or "gunicorn" not in deps.names():
        return deps
    starts = [*procfile_lines(files).values(), *(d.command for d in declared_starts(files))]
    starts += [
        text.decode("utf-8", "replace")
        for path, text in files.items()
        if posixpath.basename(path) == "gunicorn.conf.py"
    ]
    named = {m.group(1) for start in starts for m in _WORKER_CLASS.finditer(f" {start}")}
    dropped = sorted(GUNICORN_DROPPED_WORKERS[w] for w in named if w in GUNICORN_DROPPED_WORKERS)
    if not dropped:
        return deps
    if not _holdable_below(deps, "gunicorn", dropped[0]):
        return deps  # its own bound, a gunicorn without the worker asked for, a line unread
    hold = f"gunicorn<{dropped[0]}"
    worker = ", ".join(sorted(w for w in named if w in GUNICORN_DROPPED_WORKERS))
    said = f"{hold}: its start names gunicorn's {worker} worker, which {dropped[0]}.0 removed"
    return replace(deps, constraints=(*deps.constraints, hold), notes=(*deps.notes, said))


def _held_to_its_pydantic(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` with pydantic held below 2 (a constraint) where the code configures its
    models as pydantic 1 does (:func:`.pyfloor.pydantic_one_config`) and nothing the app
    lists bounds pydantic from above or asks for pydantic 2 (nor a lock's pins)."""
    names = deps.names()
    if deps.lock is not None or not names & {"pydantic", "fastapi", "sqlmodel"}:
        return deps
    if "pydantic-settings" in names:  # pydantic 2's own: the app is of its time
        return deps
    for line in (*deps.requirements, *deps.constraints):
        try:
            requirement = Requirement(line.split(";")[0].strip())
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != "pydantic":
            continue
        for spec in requirement.specifier:
            if spec.operator not in (">", ">=", "!=") or spec.version.split(".")[0] != "1":
                return deps  # its own bound, or pydantic 2 asked for
    if (where := pydantic_one_config(files)) is None:
        return deps
    said = f"pydantic<2: its models are configured as pydantic 1's ({where}), nothing bounds it"
    return replace(deps, constraints=(*deps.constraints, "pydantic<2"), notes=(*deps.notes, said))


def _held_to_fastapis_extra(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` with FastAPI held below the release that dropped ``FastAPI(**extra)``
    (a constraint) where the code gives ``FastAPI(…)`` a keyword of its own
    (:func:`.pyfloor.fastapi_extra_keyword`), else below the one that dropped its parameter
    functions' ``**extra`` where it gives ``Query(…)``, ``Path(…)`` … one
    (:func:`.pyfloor.fastapi_param_extra_keyword`: Pavel547's ``Query(enum=…)``), and the
    app lists FastAPI with nothing that bounds it from above nor asks for that release or
    a later one (nor a lock's pins)."""
    if deps.lock is not None or "fastapi" not in deps.names():
        return deps
    if (where := fastapi_extra_keyword(files)) is not None:
        release, what = FASTAPI_WITHOUT_EXTRA, "FastAPI() a keyword of no parameter"
        kept = "app.extra"
    elif (where := fastapi_param_extra_keyword(files)) is not None:
        release, what = FASTAPI_PARAMS_WITHOUT_EXTRA, "a parameter function a keyword of its own"
        kept = "the parameter's schema"
    else:
        return deps
    below = Version(release)
    for line in (*deps.requirements, *deps.constraints):
        try:
            requirement = Requirement(line.split(";")[0].strip())
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != "fastapi":
            continue
        for spec in requirement.specifier:
            if spec.operator not in (">", ">=", "!=") or Version(spec.version) >= below:
                return deps  # its own bound, or a FastAPI that refuses the keyword asked for
    hold = f"fastapi<{release}"
    said = f"{hold}: its code gives {what} ({where}), kept in {kept} before that release, "
    said += "refused from it on; nothing bounds it"
    return replace(deps, constraints=(*deps.constraints, hold), notes=(*deps.notes, said))


def _held_below_removed_apis(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` with each distribution held below the release that removed a name its code
    uses (:func:`.pyfloor.removed_apis`: ``app.config['ENV']``, Flask 2.3), where nothing
    the app lists bounds it from above or asks for that release or a later one (nor a
    lock's pins). A distribution it does not list (Werkzeug under Flask) is held too: its
    resolver then takes the releases of what needs it that allow it."""
    if deps.lock is not None:
        return deps
    holds: dict[str, tuple[str, str, str]] = {}
    for api, where in removed_apis(files):
        kept = holds.get(api.distribution)
        if kept is None or Version(api.release) < Version(kept[0]):
            holds[api.distribution] = (api.release, api.what, where)
    for name, (release, what, where) in sorted(holds.items()):
        if not _holdable_below(deps, name, release):
            continue  # its own bound, a line unread, or a release without it asked for
        hold = f"{name}<{release}"
        said = f"{hold}: its code uses {what} ({where}), which {release} removed"
        deps = replace(deps, constraints=(*deps.constraints, hold), notes=(*deps.notes, said))
    return deps


def _lifted_to_the_django_it_names(files: dict[str, bytes], deps: PythonDeps) -> PythonDeps:
    """``deps`` with its Django line asking for the oldest release having the Django
    modules its code names (:func:`.pyfloor.django_named_floor`, ``Django~=4.0.0``) where
    every version it allows is older (a pin, an upper bound), its markers kept; where no
    lock's pins hold Django to it."""
    if deps.lock is not None or "django" in {_line_name(c) for c in deps.constraints}:
        return deps
    lines = [line for line in deps.requirements if _line_name(line) == "django"]
    if len(lines) != 1 or (named := django_named_floor(files)) is None:
        return deps
    head, _, marker = lines[0].partition(";")
    try:
        requirement = Requirement(head.strip())
    except InvalidRequirement:
        return deps
    floor = Version(named[0])
    if not _only_older(requirement, floor):
        return deps
    line = f"{requirement.name}~={floor}.0" + (f" ;{marker}" if marker else "")
    said = f"{line.split(' ;')[0]}: its code names {named[1]} (Django {floor}'s), "
    said += f"which the {head.strip()} it lists lacks"
    requirements = tuple(line if each == lines[0] else each for each in deps.requirements)
    return replace(deps, requirements=requirements, notes=(*deps.notes, said))


def _only_older(requirement: Requirement, floor: Version) -> bool:
    """Whether every version ``requirement`` allows is older than ``floor`` (a pin below
    it, ``==3.2.*``, ``<4``, ``~=3.2``)."""
    for spec in requirement.specifier:
        wildcard = spec.version.endswith(".*")
        if not valid_version(spec.version.removesuffix(".*")):
            continue
        bound = Version(spec.version.removesuffix(".*"))
        kept = len(bound.release) - (spec.operator == "~=")  # the release parts it holds
        older = {
            "==": bound.release[:kept] < floor.release[:kept] if wildcard else bound < floor,
            "===": bound < floor,
            "<=": bound < floor,
            "<": bound <= floor,
            "~=": bound.release[:kept] < floor.release[:kept],
        }
        if older.get(spec.operator, False):
            return True
    return False


def _python_dependencies(files: dict[str, bytes], directories: list[str]) -> PythonDeps:
    for directory in directories:
        request, request_source = _python_request(files, directory)
        pyproject_path = _join(directory, "pyproject.toml")
        pyproject = _toml(_text(files, pyproject_path))
        lock = _text(files, _join(directory, "uv.lock"))
        # A lock uv cannot read is as none: pyproject.toml's dependencies are installed.
        unread = _unreadable_uv_lock(lock) if lock is not None else None
        lock_notes = []
        if unread is not None:
            lock, lock_notes = None, [f"uv.lock is not read ({unread}): pyproject.toml's instead"]
        if lock is not None and (unsyncable := _unsyncable_project(pyproject)) is not None:
            lock = None  # its other dependency files instead
            lock_notes.append(f"uv.lock is not synced: {unsyncable}")
        stale = _stale_uv_lock(pyproject, lock) if lock is not None else None
        lacking = _lock_lacks(files, directory, lock) if lock is not None else []
        if lacking:
            lock_notes.append(
                f"uv.lock lacks {', '.join(lacking)}, which the code imports and "
                f"{_requirements_file(files, directory)} lists: that file's requirements instead"
            )
        if lock is not None and pyproject is not None and stale is None and not lacking:
            text = _text(files, pyproject_path) or ""
            source = _join(directory, "uv.lock")
            dev = _uses_dev_group(files, pyproject)
            return PythonDeps((), source, request, request_source, (text, lock), with_dev=dev)
        requirements_path = _requirements_file(files, directory)
        if (
            other := _variant_not_the_apps(files, directory, requirements_path, pyproject)
        ) is not None:
            lock_notes.append(other)
            requirements_path = _join(directory, "requirements.txt")  # (absent: the others)
        local: list[str] = []
        listed = _requirement_lines(files, requirements_path, 0, local)
        shared = _shared_base(files, requirements_path)
        if shared is not None:  # installed beside it, as its Dockerfile's -r base -r dev do
            listed = [*_requirement_lines(files, shared, 0, local), *listed]
        # (an empty one says nothing: mzb527's FlaskWorkout has a requirements.txt of 0 bytes)
        if requirements_path in files and (listed or local or pyproject is not None):
            lines, indexes = _pypi_indexes(listed)
            if pyproject is not None and directory not in local:
                lines, indexes = _with_project(files, pyproject, directory, lines, indexes)
            lines, imaged = _with_dockerfile_installs(files, directory, lines)
            lines, notes = binary_twins(lines)
            said = [n for n in lock_notes if lacking or not n.startswith("uv.lock is not read")]
            notes = [*said, *indexes, *imaged, *notes]
            if shared is not None:
                notes.insert(0, f"{shared} too: {requirements_path} does not include it")
            if request is None:
                # Exported from its Pipfile (``pipenv requirements``), whose ``[requires]``
                # says the Python it runs on: lgferrara's portfolio-drf-bookstore asks 3.11
                # there, its export marks Django ``python_version >= '3.10'``; built on 3.7
                # (mysqlclient's wheels), Django was left out ("Couldn't import Django").
                pipfile = _toml(_text(files, _join(directory, "Pipfile")))
                pipenv = pipenv_requirements(files, pipfile, directory)
                if pipenv is not None and pipenv[2] is not None:
                    request, request_source = pipenv[2], pipenv[1]
            return PythonDeps(
                tuple(dict.fromkeys(lines)),
                requirements_path,
                request,
                request_source,
                notes=tuple(notes),
                local=tuple(dict.fromkeys(local)),
            )
        if pyproject is not None:
            found = _pyproject_requirements(files, pyproject, directory, local)
            if found is not None:
                lines, twins = binary_twins(found[0])
                notes = [*lock_notes, *found[1], *twins]
                pins: list[str] = []
                if (poetry := _text(files, _join(directory, "poetry.lock"))) is not None:
                    pins, said = poetry_lock_pins(poetry, lines)
                    notes.append(said)
                elif lock is not None and stale is not None:
                    # `uv sync --frozen` refuses it: pyproject.toml's dependencies instead,
                    # held to what it locks where it still allows them.
                    pins, said = poetry_lock_pins(lock, lines, "uv.lock")
                    notes += [f"uv.lock is older than pyproject.toml ({stale}): not synced", said]
                return PythonDeps(
                    tuple(lines),
                    pyproject_path,
                    request,
                    request_source,
                    notes=tuple(notes),
                    local=tuple(dict.fromkeys(local)),
                    constraints=tuple(pins),
                )
        if (setup := setup_requirements(files, directory)) is not None:  # pip install -e .
            return PythonDeps(tuple(binary_twins(setup[0])[0]), setup[1], request, request_source)
        pipfile = _toml(_text(files, _join(directory, "Pipfile")))
        pipenv = pipenv_requirements(files, pipfile, directory)
        if pipenv is not None:
            lines, twins = binary_twins(pipenv[0])
            if request is None:
                request, request_source = pipenv[2], pipenv[1]
            notes = (*lock_notes, *twins)
            return PythonDeps(tuple(lines), pipenv[1], request, request_source, notes=notes)
    request, request_source = _python_request(files, "")
    inferred = inferred_requirements(files)
    if inferred is not None:  # no dependency file: what the app imports
        return PythonDeps(tuple(inferred[0]), "", request, request_source, inferred=inferred[1])
    return PythonDeps((), "", request, request_source)


def _variant_not_the_apps(
    files: dict[str, bytes], directory: str, path: str, pyproject: dict | None
) -> str | None:
    """Why a requirements file named for another use (``requirements-lambda.txt``) is
    not the app's list: the code imports a distribution it lacks that the Pipfile or
    pyproject.toml beside it lists (dmytrobezruk's fastapitest: the Lambdas' pydantic
    and num2words, its FastAPI app's fastapi and boto3 in its Pipfile, which its
    Dockerfile installs: "No module named 'boto3'"). None where it is the app's (or is
    named requirements.txt, or nothing else lists more)."""
    if path not in files or posixpath.basename(path) in _REQUIREMENTS_NAMES:
        return None
    listed = {_line_name(line) for line in _requirement_lines(files, path, 0, [])} - {""}
    others: dict[str, set[str]] = {}
    pipfile = _toml(_text(files, _join(directory, "Pipfile")))
    if (pipenv := pipenv_requirements(files, pipfile, directory)) is not None:
        others[pipenv[1]] = {_line_name(line) for line in pipenv[0]}
    if pyproject is not None and (
        found := _pyproject_requirements(files, pyproject, directory, [])
    ):
        others[_join(directory, "pyproject.toml")] = {_line_name(line) for line in found[0]}
    mapping = import_mapping() or {}
    imported = {canonicalize_name(mapping.get(m, m)) for m in imported_names(files)}
    for other, names in others.items():
        lacking = sorted(((names - {""}) & imported) - listed)
        if lacking:
            return (
                f"{posixpath.basename(path)} lacks {', '.join(lacking)}, which the code imports"
                f" and {posixpath.basename(other)} lists: that file's instead"
            )
    return None


# A package of a uv.lock: its name, the line after ``[[package]]``.
_LOCKED_NAME = re.compile(r'^\[\[package\]\]\s*\nname\s*=\s*"([^"]+)"', re.MULTILINE)


def _lock_lacks(files: dict[str, bytes], directory: str, lock: str) -> list[str]:
    """The distributions the code imports that a requirements.txt beside the uv.lock lists
    and the lock has not (canonical names): the lock is then not what the app runs with.
    KartikBhardwaj-BornBenefit's fastapi-bookstore, made on Replit, locks its template's
    pyproject.toml (fastapi, flask, pandas) beside a requirements.txt listing sqlalchemy
    and psycopg2-binary, which its code imports: synced from the lock, "No module named
    'sqlalchemy'". [] where there is no such file, or the lock has them all."""
    path = _requirements_file(files, directory)
    if path not in files:
        return []
    listed = {_line_name(line) for line in _requirement_lines(files, path, 0, [])} - {""}
    locked = {canonicalize_name(name) for name in _LOCKED_NAME.findall(lock)}
    mapping = import_mapping() or {}
    imported = {canonicalize_name(mapping.get(m, m)) for m in imported_names(files)}
    return sorted((listed & imported) - locked)


def _build_context_dependencies(files: dict[str, bytes]) -> PythonDeps | None:
    """With no dependency file on the app's way: the one its image is built with, in the
    build context of a compose service (``build: docker/api``) or beside a Dockerfile
    (whose ``COPY requirements.txt`` reads its context), or of one its README installs
    (:func:`_readme_installed_folders`), the first that lists a web framework or server
    (a worker's image lists none). steqa's fastapi-jwt-auth keeps
    its code in app/ and its requirements in docker/api/: guessed from the imports,
    alembic was missing (its migrations' folder is named alembic)."""
    contexts: list[str] = []
    for project in compose_projects(files):
        for service in project.services.values():
            build = service.get("build")
            context = build.get("context", ".") if isinstance(build, dict) else build
            if isinstance(context, str) and "://" not in context:
                folder = posixpath.dirname(project.path)
                joined = posixpath.normpath(posixpath.join(folder, context))
                contexts.append("" if joined == "." else joined)
    contexts += sorted(
        posixpath.dirname(p) for p in files if posixpath.basename(p).startswith("Dockerfile")
    )
    contexts += _readme_installed_folders(files)
    for context in dict.fromkeys(contexts):
        if context == ".." or context.startswith("../"):  # outside the upload
            continue
        deps = _python_dependencies(files, [context])
        if deps.source and deps.names() & _SERVING:
            return deps
    return None


# A README's install of a requirements file: ``pip install -r setup/requirements.txt``.
_README_INSTALL = re.compile(rb"\bpip3?\s+install\s+(?:-[-\w]+\s+)*-r\s+[\"']?([\w./-]+\.txt)")


def _readme_installed_folders(files: dict[str, bytes]) -> list[str]:
    """The folders of the requirements files the README installs (``pip install -r
    setup/requirements.txt``), where their names are requirements.txt's: bmlrb2xh's
    simple-flask-backend-api keeps its only dependency file in ``setup/``, which its
    README installs; guessed from the imports, psycopg2 was left out and every route of
    its PostgreSQL app failed."""
    readme = next((files[name] for name in README_NAMES if name in files), b"")
    folders = []
    for match in _README_INSTALL.finditer(readme):
        path = posixpath.normpath(match.group(1).decode())
        if path in files and not path.startswith("../"):
            folders.append(posixpath.dirname(path))
    return folders


def _with_dockerfile_installs(
    files: dict[str, bytes], directory: str, lines: list[str]
) -> tuple[list[str], list[str]]:
    """``lines`` with what the Dockerfile beside the requirements file installs by name
    with ``RUN pip install`` and the file does not list (:func:`.plans.dockerfile_installs`),
    and the note saying so: its image has them. jaruda-88's
    docker-python-flask-restful-mysql installs flasgger, flask_cors, pyjwt and jarudaDB
    (whose module its app imports) there, its requirements.txt only Flask's own."""
    named = {canonicalize_name(m.group()) for line in lines if (m := _NAME.match(line))}
    added = [
        r
        for r in dockerfile_installs(files, directory)
        if (m := _NAME.match(r)) and canonicalize_name(m.group()) not in named
    ]
    if not added:
        return lines, []
    where = _join(directory, "Dockerfile")
    return [*lines, *added], [f"{where} also installs {', '.join(added)} (RUN pip install)"]


def _with_project(
    files: dict[str, bytes], pyproject: dict, directory: str, lines: list[str], notes: list[str]
) -> tuple[list[str], list[str]]:
    """A requirements file beside a pyproject.toml whose PEP 621 ``dependencies`` it does
    not name: the project is installed too (``pip install -r requirements.txt`` then
    ``pip install -e .``; Azure's relecloud sample lists only its servers in
    requirements.txt, fastapi and sqlmodel in ``[project]``), so those it lacks are added."""
    project = pyproject.get("project")
    listed = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(listed, list):
        return lines, notes
    named = {canonicalize_name(m.group()) for line in lines if (m := _NAME.match(line))}
    added = [
        d.strip()
        for d in listed
        if isinstance(d, str)
        and (m := _NAME.match(d.strip()))
        and canonicalize_name(m.group()) not in named
    ]
    if not added:
        return lines, notes
    said = f"{_join(directory, 'pyproject.toml')}'s [project] dependencies it lacks: "
    return [*lines, *added], [*notes, said + ", ".join(added)]


def dockerfile_requirements(files: dict[str, bytes]) -> set[str]:
    """The upload's files its Dockerfiles install with ``pip install -r`` (``req.txt``),
    whatever their names: its dependency files, beside those named as pip's usually are."""
    return {
        path
        for dockerfile in files
        if posixpath.basename(dockerfile) == "Dockerfile"
        for path in _installed_by_dockerfile(files, posixpath.dirname(dockerfile))
    }


def _installed_by_dockerfile(files: dict[str, bytes], directory: str) -> list[str]:
    """The text files the Dockerfile in ``directory`` installs with ``pip install -r``, by
    their paths from its folder (the image's, as its COPY puts them) or by their names
    beside it."""
    found: list[str] = []
    for named in dockerfile_requirement_files(files, directory):
        for path in (_join(directory, named), _join(directory, posixpath.basename(named))):
            if (path := posixpath.normpath(path)) in files and path.endswith(".txt"):
                found.append(path)
                break
    return found


def _requirements_file(files: dict[str, bytes], directory: str) -> str:
    """``requirements.txt``, else one named as pip is often given it (``requirement.txt``),
    else the file of a ``requirements/`` folder to install (the module doc); else the
    path ``requirements.txt`` would have."""
    for name in _REQUIREMENTS_NAMES:
        if (path := _join(directory, name)) in files:
            return path
    # Else the file its Dockerfile installs, named as it likes (``pip install -r req.txt``).
    if installed := _installed_by_dockerfile(files, directory):
        return installed[0]
    # Else a variant named for its use (quantbj's backend: requirements-dev.txt alone,
    # which its Dockerfile installs), the development one first, never the tests' alone.
    variants = [
        (rank, p)
        for p in files
        if posixpath.dirname(p) == directory
        and (rank := _variant_rank(posixpath.basename(p))) is not None
    ]
    if variants:
        return min(variants)[1]
    folder = _join(directory, "requirements")
    listed = sorted(p for p in files if posixpath.dirname(p) == folder and p.endswith(".txt"))
    included = set()
    for path in listed:
        for line in (_text(files, path) or "").splitlines():
            option, _, rest = _COMMENT.sub("", line).strip().partition(" ")
            if option in ("-r", "--requirement", "-c", "--constraint"):
                included.add(posixpath.normpath(posixpath.join(folder, rest.strip())))
    tops = [p for p in listed if p not in included] or listed
    first = min(tops, key=lambda p: (_use_rank(posixpath.basename(p)[:-4]), p), default=None)
    return first or _join(directory, "requirements.txt")


# The file of a requirements/ folder every other builds on (cookiecutter-django's base.txt)
_SHARED_USES = ("base", "common", "core", "_base", "shared")


def _shared_base(files: dict[str, bytes], path: str) -> str | None:
    """The shared file of the ``requirements/`` folder ``path`` is chosen from
    (``base.txt``, ``common.txt``) where ``path`` does not include it, even through another
    file: a folder whose files are installed side by side (agustin-jimenez's drf-events-api:
    its Dockerfile runs ``pip install -r base.txt -r development.txt``, development.txt
    naming only pytest and django-extensions: Django REST framework was not installed)."""
    folder = posixpath.dirname(path)
    if posixpath.basename(folder) != "requirements":
        return None
    base = next(
        (p for u in _SHARED_USES if (p := _join(folder, f"{u}.txt")) in files and p != path),
        None,
    )
    if base is None:
        return None
    seen: set[str] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen or len(seen) > _MAX_INCLUDES * 4:
            continue
        seen.add(current)
        for line in (_text(files, current) or "").splitlines():
            option, _, rest = _COMMENT.sub("", line).strip().partition(" ")
            if option in ("-r", "--requirement", "-c", "--constraint"):
                here = posixpath.dirname(current)
                todo.append(posixpath.normpath(posixpath.join(here, rest.strip())))
    return None if base in seen else base


def _use_rank(use: str) -> int:
    """Where a requirements file for ``use`` (``dev``, ``prod`` …) comes: in
    :data:`_FOLDER_FIRST`'s order, an unknown use after them."""
    return _FOLDER_ORDER.get(use, len(_FOLDER_ORDER))


def _variant_rank(name: str) -> int | None:
    """:func:`_use_rank` of a ``dev-requirements.txt`` (``requirements-prod.txt`` …);
    None for a file that is no such variant, or the tests' or the docs' (the imports say
    more)."""
    found = _VARIANT.fullmatch(name)
    use = (found.group(1) or found.group(2) or "").lower() if found else "test"
    return None if use in ("test", "tests", "ci", "docs", "lint") else _use_rank(use)


def _pypi_indexes(lines: list[str]) -> tuple[list[str], list[str]]:
    """``lines`` without the index options naming PyPI under another name, and notes."""
    kept, notes = [], []
    for line in lines:
        index = _INDEX_OPTION.match(line)
        if index is not None and urlsplit(index.group(1)).hostname in _PYPI_HOSTS:
            notes.append(f"{line}: PyPI, whose packages come from the build's own index")
        else:
            kept.append(line)
    return kept, notes


def _toml(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None


def _python_request(files: dict[str, bytes], directory: str) -> tuple[str | None, str | None]:
    path = _join(directory, ".python-version")
    pinned = _text(files, path)
    if pinned is not None:
        # pyenv's names too: a virtualenv's ("order_system_env": ThisIsAntonio's
        # fastapi-order-system, refused as "no Python fits"), "system": no version said.
        lines = [line.strip() for line in pinned.splitlines() if line.strip()]
        first = next((line for line in lines if not _ENV_NAME.fullmatch(line)), "")
        if first:
            return first, path
    # Heroku's runtime.txt (``python-3.7.6``): the Python its author deploys on, as
    # .python-version says one (carmor014's store-restful-flask of 2020: its unpinned
    # Flask-JWT and the rest held back one at a time on the newest Python, until the build
    # ran out of time).
    runtime = _RUNTIME.match((_text(files, _join(directory, "runtime.txt")) or "").strip())
    if runtime is not None:
        return runtime.group(1), _join(directory, "runtime.txt")
    return _requires_python(files, directory)


_RUNTIME = re.compile(r"python-(\d+\.\d+(?:\.\d+)?)\s*$", re.I)


# A .python-version's line that names no version but an environment of pyenv's
# (``order_system_env``, ``my-env``, ``system``): a word, no digit after a letter run
# that could be an implementation's (``pypy3.10``, ``python3.11`` and paths are not).
_ENV_NAME = re.compile(r"(?![0-9])(?!(?:c?python|pypy|graalpy)\d)[A-Za-z0-9_-]+")


def _requires_python(files: dict[str, bytes], directory: str) -> tuple[str | None, str | None]:
    """pyproject.toml's ``requires-python`` (or Poetry's ``python``) and its path."""
    pyproject = _toml(_text(files, _join(directory, "pyproject.toml"))) or {}
    project = pyproject.get("project")
    if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
        return _pep440_python(project["requires-python"]), _join(directory, "pyproject.toml")
    poetry = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
    if isinstance(poetry, dict) and isinstance(poetry.get("python"), str):
        return poetry_constraint(poetry["python"]) or None, _join(directory, "pyproject.toml")
    return None, None


def _pep440_python(requested: str) -> str:
    """A ``requires-python`` as PEP 440 says it; one written in Poetry's words, which
    Poetry itself reads there (yuldashov10's FirstFastAPI: ``requires-python = "^3.12"``,
    refused with 3.12 and 3.13 both present), as Poetry reads it."""
    try:
        SpecifierSet(requested)
    except InvalidSpecifier:
        return poetry_constraint(requested) or requested
    return requested


def _requirement_lines(
    files: dict[str, bytes], path: str, depth: int, local: list[str]
) -> list[str]:
    lines: list[str] = []
    for raw in (_text(files, path) or "").splitlines():
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        if (quoted := _SHELL_QUOTED.match(line)) is not None:
            # A shell's quotes kept from `pip install "passlib[bcrypt]"`, which pip and uv
            # refuse ("Unexpected '\"'"): genagurbanguliyev's FastAPI-CRUD-auth.
            line = quoted.group(2).strip()
        option, _, rest = line.partition(" ")
        if option in ("-r", "--requirement", "-c", "--constraint") and depth < _MAX_INCLUDES:
            included = posixpath.normpath(posixpath.join(posixpath.dirname(path), rest.strip()))
            lines.extend(_requirement_lines(files, included, depth + 1, local))
        elif (found := _FIND_LINKS.match(line)) is not None and "://" not in found.group(1):
            # A directory of its author's machine to find wheels in (Replit writes
            # ``-f /usr/share/pip-wheels`` first in every requirements.txt: Alex-ley's
            # Flask-banking-app, uv's "Invalid URL … relative URL without a base"), which
            # the upload does not carry: its packages come from the index. A URL stays.
            continue
        elif option in ("-e", "--editable") or line.startswith((".", "/", "file:")):
            # The app itself or a local package: imported from the upload instead, with
            # its own dependencies installed.
            target = rest.strip() if option in ("-e", "--editable") else line
            lines.extend(_local_package(files, posixpath.dirname(path), target, local, depth))
        elif (built := _AUTHORS_BUILD.fullmatch(line)) is not None:
            # A package as its author's machine built it (``pip freeze`` in a conda
            # environment: ``tornado @ file:///D:/bld/tornado_1748003317080/work``,
            # ``colorama @ file:///home/conda/feedstock_root/…``), a folder the upload
            # does not carry (uv: "Distribution not found at"; Ahmedsalah-28's
            # todo-api-fastapi, 32 such lines): the package from the index instead.
            lines.append(built.group(1))
        elif _DEPENDENCY_TREE_BRANCH.fullmatch(line):
            # pipdeptree's tree committed as the requirements (saheedade's
            # postgres-flask-crawler: ``  - click [required: >=7.1.2, installed: 8.0.1]``
            # under ``Flask==2.0.1``; uv: "Unexpected '-'"): a branch is what the line
            # above it brings, which its install brings again.
            continue
        elif _PIP_LIST_FRAME.fullmatch(line):
            # ``pip list > requirements.txt``'s header and its rule of dashes, which uv
            # refuses ("found `V`" at ``Package   Version``): the rows under them are
            # each a package and its version (:func:`_prose_read`).
            continue
        elif (read := _prose_read(_comma_restored(_plain(line)))) is not None:
            lines.append(read)
    return lines


def _plain(line: str) -> str:
    """``line`` without what a generator or a hand left at its end that names nothing: a
    ``==None`` version (:func:`_without_none_version`), an empty marker's ``;``
    (minos32x's recipe-drf: ``Pillow>=8.3.1,<8.4.0;``, uv: "Expected marker value, found
    end of dependency specification"), where it does not parse with it and does without."""
    line = _without_stray_letters(_without_none_version(line))
    if _parses(line) or not line.endswith(";"):
        return line
    bare = line.rstrip(";").rstrip()
    return bare if _parses(bare) else line


# A pinned version followed by letters no version has (omarmuhammmed's book-store-fastapi:
# ``rich-toolkit==0.14.7F``, a keystroke; uv: "after parsing `0.14.7`, found `F`"), or by
# a dot with no number after it (ndina's Reddit-Flask: ``requests==2.22.``, "found `.`").
_STRAY_LETTERS = re.compile(r"(.*?(?:==|>=|<=|~=)\s*\d+(?:\.\d+)*)(?:[A-Za-z]{1,2}|\.+)\s*$")


def _without_stray_letters(line: str) -> str:
    """``line`` without the letters (or dots) after its version where it does not parse
    with them and does without; else as it is (``1.0a1``, ``2.0rc1``: versions, left)."""
    found = None if _parses(line) else _STRAY_LETTERS.fullmatch(line)
    return found.group(1) if found is not None and _parses(found.group(1)) else line


# A branch of pipdeptree's tree: ``- click [required: >=7.1.2, installed: 8.0.1]``.
# A requirement naming an absolute local path (``name @ file:///…``, a drive's too).
_AUTHORS_BUILD = re.compile(r"([A-Za-z0-9][\w.-]*(?:\[[^\]]*\])?)\s*@\s*file:(?://)?/\S*")
_DEPENDENCY_TREE_BRANCH = re.compile(r"-\s+[A-Za-z0-9][\w.-]*\s+\[required:[^\]]*\]")


# The frame of ``pip list``'s table (ompakash's DRF-Image-Filter-API commits one as its
# requirements.txt): its header (``Package   Version``, with ``Location`` or ``Editable
# project location`` after it) and the dashes ruling it off.
_PIP_LIST_FRAME = re.compile(r"Package\s+Version(?:\s+[A-Za-z ]+)?|-{3,}(?:\s+-{3,})+")


# A requirement's head (its name, extras) and its version clauses.
_HEAD = re.compile(r"([A-Za-z0-9][\w.-]*\s*(?:\[[^\]]*\])?)([^;@]*)(.*)$")
# Where a clause follows a version with no comma between them.
_UNSEPARATED = re.compile(r"(?<=[\w.*])\s*(?=(?:===|==|!=|~=|<=|>=|<|>)\s*\w)")


def _comma_restored(line: str) -> str:
    """``line`` with the commas between its version clauses that it lacks, where it does
    not parse without them and does with them: ``bcrypt>=3.2.0<3.3.0`` (vitorcarareto's
    FastAPI-Movies-API; uv: "after parsing `3.2.0`, found `<3.3.0`") is
    ``bcrypt>=3.2.0,<3.3.0``, as pip's old parser read it."""
    if _parses(line):
        return line
    found = _HEAD.match(line)
    if found is None or not _UNSEPARATED.search(found.group(2)):
        return line
    restored = found.group(1) + _UNSEPARATED.sub(",", found.group(2)) + found.group(3)
    return restored if _parses(restored) else line


# A version clause naming none: what a generator wrote for a package whose version it
# did not know (ohayak's fastapi-login: ``authlib<2.0.0==None``; uv: "found `==None`").
_NONE_VERSION = re.compile(r"\s*={1,2}\s*None\s*$")


def _without_none_version(line: str) -> str:
    """``line`` without a trailing ``==None`` where it does not parse with it and does
    without it; else as it is."""
    if _parses(line) or not _NONE_VERSION.search(line):
        return line
    bare = _NONE_VERSION.sub("", line)
    return bare if _parses(bare) else line


def _parses(line: str) -> bool:
    """Whether ``line`` is a requirement as PEP 508 (and uv) reads one."""
    try:
        Requirement(line)
    except InvalidRequirement:
        return False
    return True


# A package and its version as a person or ``pip show`` writes them: "Flask Version:
# 3.0.3", "flask: 3.0.3", "Flask 3.0.3", or with one "=" (RdotF's FastAPI-Login-App:
# ``fastapi=0.116.1``; uv: 'no such comparison operator "="').
_PROSE = re.compile(r"([A-Za-z][\w.-]*)(?:\s+version)?\s*(?::\s*|=\s*|\s+)v?(\d+(?:\.\d+)*)", re.I)


# A line of words, not a requirement: a name, then a word, one of the words no name
# (bhagavathms' Metro-Flask-Backend ends its requirements.txt with "api link :
# http://127.0.0.1:5000/…", uv: "Expected one of `@`, `(` …, found `l`"). Where every
# word could be a package's name ("flask flask-cors"), the install judges it.
_WORDS = re.compile(r"[A-Za-z][\w.-]*\s+[A-Za-z]\S*(?:\s.*)?")


def _prose_read(line: str) -> str | None:
    """``line`` as a requirement where it names a package and its version in words
    (sarra31's Flask-medical-app: "Flask Version: 3.0.3", which uv refuses: "Expected one
    of `@`, `(` …"): ``Flask==3.0.3``; None where it is Python's own version ("Python
    Version: 3.11.1": no package), or words naming no version (:data:`_WORDS`), a note
    left in the file; else ``line`` as it is, for the install to judge (a URL, a hash)."""
    if _parses(line):
        return line
    found = _PROSE.fullmatch(line)
    if found is None:
        prose = _WORDS.fullmatch(line) and not all(map(_parses, line.split()))
        return None if prose else line
    if found.group(1).lower() == "python":
        return None
    return f"{found.group(1)}=={found.group(2)}"


def _local_package(
    files: dict[str, bytes], directory: str, target: str, local: list[str], depth: int
) -> list[str]:
    """A requirement line naming a local directory: recorded in ``local`` when it lies in
    the upload; the dependencies its pyproject.toml lists."""
    target = _EXTRAS.sub("", target.removeprefix("file:").split("#", 1)[0].strip())
    if not target or target.startswith("/") or "://" in target:
        return []  # outside the upload (or a URL, which pip fetches itself)
    found = posixpath.normpath(posixpath.join(directory, target))
    if found == ".." or found.startswith("../"):
        return []
    found = "" if found == "." else found
    local.append(found)
    pyproject = _toml(_text(files, _join(found, "pyproject.toml")))
    if pyproject is None or depth >= _MAX_INCLUDES:
        return []
    listed = _pyproject_requirements(files, pyproject, found, local)
    return listed[0] if listed is not None else []


def import_roots(files: dict[str, bytes], local: tuple[str, ...]) -> list[str]:
    """Where the local packages ``local`` import from, relative to the upload: a
    project's ``src/`` where it has one (the src layout), else the project's directory.
    The upload's root (the app's own project) is the app's directory already, or its
    ``src/`` where its pyproject.toml declares its packages there (:func:`_declared_src`),
    as installing it would put them on the path."""
    roots = ["src"] if _declared_src(files) else []
    for directory in local:
        if not directory:
            continue
        src = f"{directory}/src/"
        roots.append(src[:-1] if any(p.startswith(src) for p in files) else directory)
    return list(dict.fromkeys(roots))


def _declared_src(files: dict[str, bytes]) -> bool:
    """Whether the upload's root pyproject.toml declares its packages under ``src/`` (the
    src layout): Poetry's ``packages = [{include = "app", from = "src"}]``, setuptools'
    ``package-dir = {"" = "src"}`` or ``packages.find.where = ["src"]``, Hatch's
    ``packages = ["src/app"]``; and ``src/`` holds a package. arunanshub's
    fastapi-complaint-system: its Alembic env.py imports ``app`` (``src/app``), which
    Poetry installs with the project: "No module named 'app'" where it is not."""
    if not any(p.startswith("src/") and p.endswith("/__init__.py") for p in files):
        return False
    tool = _table(_toml(files.get("pyproject.toml", b"").decode("utf-8", "replace")), "tool")
    poetry = _table(tool, "poetry").get("packages")
    if isinstance(poetry, list) and any(
        isinstance(p, dict) and _is_src(p.get("from")) for p in poetry
    ):
        return True
    setuptools = _table(tool, "setuptools")
    if _is_src(_table(setuptools, "package-dir").get("")):
        return True
    where = _table(_table(setuptools, "packages"), "find").get("where")
    if isinstance(where, list) and any(_is_src(w) for w in where):
        return True
    hatch = _table(_table(_table(_table(tool, "hatch"), "build"), "targets"), "wheel")
    listed = hatch.get("packages")
    return isinstance(listed, list) and any(str(p).startswith("src/") for p in listed)


def _table(table: dict | None, key: str) -> dict:
    """``table[key]`` where it is a table, else an empty one."""
    found = table.get(key) if isinstance(table, dict) else None
    return found if isinstance(found, dict) else {}


def _is_src(value: object) -> bool:
    return isinstance(value, str) and value.strip("./") == "src"


def _pyproject_requirements(
    files: dict[str, bytes], pyproject: dict, directory: str, local: list[str]
) -> tuple[list[str], list[str]] | None:
    """(requirement lines, notes) of a pyproject.toml; None when it lists none."""
    project = pyproject.get("project")
    if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
        return [d.strip() for d in project["dependencies"] if isinstance(d, str) and d.strip()], []
    poetry = pyproject.get("tool", {}).get("poetry", {}).get("dependencies")
    if isinstance(poetry, dict):
        source = _join(directory, "pyproject.toml")
        lines, notes = poetry_requirements(files, poetry, directory, source, local)
        for name, group in _poetry_groups_used(files, pyproject).items():
            more, said = poetry_requirements(files, group, directory, source, local)
            lines = list(dict.fromkeys([*lines, *more]))
            notes += [*said, f"its Poetry group {name!r} too, whose packages its code imports"]
        return lines, notes
    return None


def _poetry_groups_used(files: dict[str, bytes], pyproject: dict) -> dict[str, dict]:
    """{a Poetry dependency group's name: its dependencies} of the groups ``poetry
    install`` installs unasked (those not ``optional``) that the app's own code (not its
    tests) imports a package of: hyoseok0604's fastapi-deploy keeps FastAPI, uvicorn and
    Alembic in a ``web`` group ("No module named 'alembic'" where only the main
    dependencies were installed); a ``test`` group of pytest and ruff stays out."""
    poetry = _table(_table(pyproject, "tool"), "poetry")
    found: dict[str, dict] = {}
    for name, group in _table(poetry, "group").items():
        dependencies = _table(group, "dependencies") if isinstance(group, dict) else {}
        if not dependencies or group.get("optional") is True:
            continue
        names = [key for key in dependencies if isinstance(key, str) and key.lower() != "python"]
        if _imported_by_its_code(files, _module_names(names)):
            found[str(name)] = dependencies
    return found


def _imported_by_its_code(files: dict[str, bytes], modules: set[bytes]) -> bool:
    """Whether a module of the app's own (not its tests') imports one of ``modules``."""
    modules -= _TOOL_MODULES
    if not modules:
        return False
    names = b"|".join(re.escape(m) for m in sorted(modules))
    imports = re.compile(rb"^\s*(?:from|import)\s+(?:" + names + rb")\b", re.MULTILINE)
    return any(
        path.endswith(".py") and not _TEST_PATH.search(path) and imports.search(data)
        for path, data in files.items()
    )


def _module_names(distributions: list[str]) -> set[bytes]:
    """The module names ``distributions`` are imported by, as most are (``python-dotenv``:
    ``python_dotenv``; its own module's other name is not known here)."""
    return {d.lower().replace("-", "_").replace(".", "_").encode() for d in distributions}


# A developer's tools, which no app's code needs to run; and where its tests are.
_TOOL_MODULES = frozenset({b"pytest", b"ruff", b"mypy", b"black", b"pre_commit", b"coverage"})
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|conftest)[/_.]")


def unlocked_for(deps: PythonDeps, python: str) -> PythonDeps:
    """``deps`` for the interpreter ``python`` (its version): a uv.lock whose
    requires-python that version falls short of (the nearest installed taken for
    ``>=3.14``: ``interpreters._nearest``) holds wheels for none but those Pythons, and
    ``uv sync`` built pydantic-core from source, and failed (arunkumar237's
    fastapi-marketplace); its pyproject.toml's dependencies instead, said. Other ``deps``
    as they are."""
    if deps.lock is None:
        return deps
    project = (_toml(deps.lock[0]) or {}).get("project")
    project = project if isinstance(project, dict) else {}
    requires = project.get("requires-python")
    try:
        version = Version(python)
        # (Any patch of its minor version: a later patch's floor, 3.11.99 where 3.11.7 is
        # here, is lowered for uv sync instead: envcache.patch_floor; the wheels fit.)
        minor = Version(f"{version.major}.{version.minor}.999")
        if not isinstance(requires, str) or minor in SpecifierSet(requires):
            return deps
    except (InvalidSpecifier, InvalidVersion):
        return deps
    listed = _pyproject_requirements({}, {"project": project}, "", [])
    requirements = listed[0] if listed is not None else []
    groups = _synced_groups(_toml(deps.lock[0]) or {}, with_dev=deps.with_dev)
    requirements += groups
    said = (
        f"uv.lock is for Python {requires}, which is not installed: pyproject.toml's "
        "dependencies instead"
        + (", with the dependency groups uv sync installs" if groups else "")
        + ", on the nearest Python here"
    )
    unlocked = replace(deps, requirements=tuple(requirements), lock=None, notes=(*deps.notes, said))
    return _held_to_psycopg2s_sqlalchemy(unlocked)  # (as a list of its own would be)


def _synced_groups(pyproject: dict, *, with_dev: bool) -> list[str]:
    """The requirements of the dependency groups ``uv sync`` installs unasked: those
    ``[tool.uv] default-groups`` names (``"all"``: every group), else ``dev``; ``dev``
    only ``with_dev`` (a preview's sync is ``--no-dev`` unless the app's code needs it).
    A group's ``{include-group = "x"}`` brings in x's. kirimaru's fastapi-practice lists
    fastapi in its ``api`` group and alembic in ``dev``, both default groups: installed
    from its pyproject.toml alone, neither was."""
    groups = pyproject.get("dependency-groups")
    if not isinstance(groups, dict):
        return []
    uv = pyproject.get("tool", {}).get("uv", {}) if isinstance(pyproject.get("tool"), dict) else {}
    default = uv.get("default-groups", ["dev"]) if isinstance(uv, dict) else ["dev"]
    names = list(groups) if default == "all" else default if isinstance(default, list) else []
    found: list[str] = []
    seen: set[str] = set()

    def take(name: object) -> None:
        if not isinstance(name, str) or name in seen or (name == "dev" and not with_dev):
            return
        seen.add(name)
        entries = groups.get(name)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str) and entry.strip():
                found.append(entry.strip())
            elif isinstance(entry, dict):
                take(entry.get("include-group"))

    for name in names:
        take(name)
    return list(dict.fromkeys(found))


def _uses_dev_group(files: dict[str, bytes], pyproject: dict) -> bool:
    """Whether the app's own code (not its tests) names a package of its pyproject's
    ``dev`` dependency group by its module's name, which ``uv sync`` installs unasked and
    a build with ``--no-dev`` leaves out: pjesus22's simple-drf-blog's development
    settings list ``django_extensions`` in INSTALLED_APPS ("No module named
    'django_extensions'")."""
    groups = pyproject.get("dependency-groups")
    dev = groups.get("dev") if isinstance(groups, dict) else None
    if not isinstance(dev, list):
        return False
    modules = _module_names(
        [m.group() for entry in dev if isinstance(entry, str) and (m := _NAME.match(entry))]
    )
    modules -= _TOOL_MODULES
    for path, data in files.items():
        if not path.endswith(".py") or _TEST_PATH.search(path):
            continue
        if any(re.search(rb"\b" + re.escape(m) + rb"\b", data) for m in modules):
            return True
    return False
