"""An unpinned dependency held below the major version installed (below its minor, once,
within a major a hold reached), where the app's failure shows that major broke it:
:func:`held`, and the readings that lead there (:func:`rejected_call`,
:func:`rejected_inside`, :func:`defining`)."""

from __future__ import annotations

import glob
import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ...discovery.pyast import import_aliases, parse_module
from ..installers import version_key
from .fixes import Fix, Tried
from .fixes import name as _name
from .fixes import norm as _norm
from .fixes import own as _own
from .fixes import pinned as _pinned
from .pythons import SITE_FRAME, installed_dists, package_sources

__all__ = ["abstract_instantiated", "defining", "held", "rejected_call", "rejected_inside"]

_FLOOR = re.compile(r"(?:>=|~=|>)\s*(\d+(?:\.\d+)*)")  # "sqlalchemy>=1.3.0": 1.3.0
_HOLD = re.compile(r"<\s*(\d+(?:\.\d+)*)\s*$")  # a fix's hold, "Flask<3": 3
# A traceback's frame: the file it ran; the standard library's by its path (an installed
# package's: pythons.SITE_FRAME).
_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+')
_STDLIB = re.compile(r"^<|[/\\]lib[/\\]python3\.\d+[/\\]")
_ABSTRACT = re.compile(r"TypeError: Can't instantiate abstract class (\w+)")
_APP_FRAME = re.compile(r'^\s*File "([^"<>]+\.py)", line \d+')


def rejected_call(function: str, call: str, tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A call (``call``: the traceback's line of it) an unpinned dependency's newest
    major rejects: ``yaml.load(part)`` for ``load()``, ``marshmallow.fields.String(…)``
    for an ``__init__()``; that dependency held below it."""
    name = r"[A-Za-z_][\w.]*" if function == "__init__" else rf"[A-Za-z_][\w.]*\.{function}"
    dists = None
    for called in re.finditer(rf"(?<![\w.])({name})\(", call):
        top = called.group(1).split(".")[0]
        if "." not in called.group(1) or top in sys.stdlib_module_names or _own(top, files):
            continue
        dists = installed_dists(tried.env_path) if dists is None else dists
        if top in dists:  # not a variable's method, nor a module nothing installed
            return held(top, tried, f"{called.group(1)}() rejects the app's call")
    # A method of an object the line does not name the module of (Flask-SQLAlchemy 3's
    # ``query.paginate(page, limit)``, keyword-only now): the one unpinned dependency
    # whose code defines a function of that name.
    if function != "__init__" and re.search(rf"\.{re.escape(function)}\(", call):
        top = defining(function, tried, kind="def")
        if top is not None:
            return held(top, tried, f"{top}'s {function}() rejects the app's call")
    return []


def defining(
    cls: str, tried: Tried, kind: str = "class", *, installed_for_it: bool = False
) -> str | None:
    """The top-level package of an unpinned requirement whose code defines ``cls`` (a
    class; ``kind="def"``: a function or method, then only where one package alone
    does: a function's name is less its own). ``installed_for_it``: of any package
    installed but those the app pins, a requirement's own requirement too (SQLAlchemy 2's
    ``scoped_session`` under Flask-SQLAlchemy, which AVIRENI-CHANDAN's flask-todo-mysql
    lists alone: "object has no attribute 'close_all'")."""
    if tried.deps is None or tried.env_path is None:
        return None
    own = (tried.listed or tried.deps).requirements
    unpinned = {_name(r) for r in own if _name(r) and not _pinned(r)}
    pinned = {_name(r) for r in own if _name(r) and _pinned(r)}
    indent = r"[ \t]*" if kind == "def" else ""
    defines = re.compile(rf"^{indent}{kind} {re.escape(cls)}\b", re.M)
    found: list[str] = []
    for top, (distribution, _, _) in installed_dists(tried.env_path).items():
        chosen = _norm(distribution) not in pinned if installed_for_it else None
        if not (chosen or _norm(distribution) in unpinned) or not top.isidentifier():
            continue  # (a script's "..", read from its RECORD: no package)
        for site in glob.glob(str(tried.env_path / "lib" / "python*" / "site-packages" / top)):
            if any(defines.search(source) for source in package_sources(Path(site))):
                found.append(top)
                break
        if found and kind == "class" and not installed_for_it:  # (else one alone, too)
            return found[0]
    return found[0] if len(found) == 1 else None


def held(top: str, tried: Tried, why: str) -> list[Fix]:
    """``top``'s distribution held below the major version installed, when the app
    does not pin it; below its minor where the app's own range starts at that major
    (``sqlalchemy>=1.3.0``, 1.4 installed: ``SQLAlchemy<1.4``, not ``<1``, which no
    version it allows is)."""
    found = installed_dists(tried.env_path).get(top)
    if found is None or tried.deps is None:
        return []
    distribution, version, _ = found
    if any(_name(line) == _norm(distribution) and "==" in line for line in tried.deps.constraints):
        return []  # its lock's pin (poetry.lock's): the lock's to say, not a hold's
    parts = version.split(".")
    if not parts[0].isdigit():
        return []
    below = parts[0] if parts[0] != "0" else f"0.{parts[1] if len(parts) > 1 else '0'}"
    floors: list[str] = []  # the lowest versions the app's own lines allow
    ranged = False  # the app's own range ends at a later major (Poetry's ^2.0.12: <3)
    for line in (tried.listed or tried.deps).requirements:  # its own, not a fix's hold
        if _name(line) == _norm(distribution) and _pinned(line):
            if not _major_range(line, parts[0]):
                return []  # the app's own pin: not ours to change
            ranged = True
        if _name(line) == _norm(distribution):
            floors += _FLOOR.findall(line)
    minor = len(parts) > 1 and parts[1].isdigit() and below == parts[0]
    # Held below a major already by a fix (not the app's line), this version is that
    # major's last minor: the API may have gone within the major, so the next hold is
    # below its minor, once (then below the major). Flask 3's Markup, then 2.3's
    # JSONEncoder: "Flask<2" gave Flask 1, whose Werkzeug 1 no longer builds.
    own = (tried.listed or tried.deps).requirements
    bounds = [
        hold.group(1)
        for line in tried.deps.requirements
        if line not in own and _name(line) == _norm(distribution) and (hold := _HOLD.search(line))
    ]
    within = bool(bounds) and all("." not in bound for bound in bounds)
    if minor and (within or ranged or any(version_key(f) >= version_key(below) for f in floors)):
        below = f"{parts[0]}.{parts[1]}"
    if below in ("0", "0.0") or any(version_key(f) >= version_key(below) for f in floors):
        return []
    hold = f"{distribution}<{below}"
    return [Fix(f"{why}: relaunching with {hold} (unpinned, the newest was installed)", add=hold)]


def _major_range(line: str, major: str) -> bool:
    """Whether the app's line bounds its distribution from above only past the major
    installed (``SQLAlchemy>=2.0.12,<3``, Poetry's ``^2.0.12``, 2.1 installed): a range
    of that major, within which a hold below the installed minor stays (s3m3dov's
    flask-employee-api: SQLAlchemy 2.1 dropped ScalarAttributeImpl, which its
    SQLAlchemy-Utils 0.41 imports); not an exact pin, nor a bound within the major."""
    try:
        specifiers = Requirement(line.split(";")[0].strip()).specifier
    except InvalidRequirement:
        return False
    for spec in specifiers:
        if spec.operator in ("==", "===", "~=", "<="):
            return False
        if spec.operator == "<" and not (
            spec.version.split(".")[0].isdigit()
            and int(spec.version.split(".")[0]) > int(major)
            and all(p == "0" for p in spec.version.split(".")[1:])
        ):
            return False
    return True


def rejected_inside(text: list[str], tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A ``TypeError`` raised inside an installed package the app's own code called,
    however deep (Starlette 1's ``TemplateResponse(request, name, context)`` given the
    older ``("home.html", {"request": request})``: "unhashable type: 'dict'", from
    Jinja2's cache; a FastAPI app with no dependency file got the newest Starlette): the
    package of the frame below the app's last one held below the major installed."""
    frames: list[str] = []  # each frame's line
    for line in text:
        if _FRAME.match(line) is not None:
            frames.append(line)
        elif line.startswith("Traceback (most recent call last)"):
            frames = []  # a chained exception's traceback: the last one raised counts
        elif line.startswith("TypeError: ") and frames:
            own = [i for i, frame in enumerate(frames) if _app_frame(frame)]
            below = frames[own[-1] + 1] if own and own[-1] + 1 < len(frames) else ""
            package = SITE_FRAME.match(below)
            if package is None or package.group(1) in sys.stdlib_module_names:
                continue
            top = package.group(1)
            if _own(top, files) or top not in installed_dists(tried.env_path):
                continue
            return held(top, tried, f"{top} rejects the app's call ({line.strip()[:100]})")
    return []


def _app_frame(line: str) -> bool:
    path = _FRAME.match(line)
    return SITE_FRAME.match(line) is None and path is not None and not _STDLIB.search(path[1])


def abstract_instantiated(text: list[str], tried: Tried, files: dict[str, bytes]) -> list[Fix]:
    """A class the app's own code instantiates that the newest major of an unpinned
    dependency made abstract ("Can't instantiate abstract class Number with abstract
    method num_type": marshmallow 4's ``fields.Number``, under WannaCry081's
    Bookstore-Flask-API's ``price = fields.Number()``, its marshmallow unpinned behind
    flask-marshmallow): the package the app's module imported it from (``from
    marshmallow import fields``) held below the major installed."""
    frame = code = ""
    for line in text:
        if (abstract := _ABSTRACT.search(line)) is not None and frame in files:
            cls = abstract.group(1)
            tree = parse_module(files[frame])
            called = re.search(rf"(?<![\w.])(?:([A-Za-z_][\w.]*)\.)?\b{re.escape(cls)}\(", code)
            if tree is None or called is None:
                continue
            bound = (called.group(1) or cls).split(".")[0]
            top = import_aliases(tree).get(bound, bound).split(".")[0]
            if top in sys.stdlib_module_names or _own(top, files):
                continue
            if top in installed_dists(tried.env_path):
                return held(top, tried, f"{cls} is abstract in {top}'s newest major")
        elif (path := _APP_FRAME.match(line)) is not None:
            frame, code = path.group(1), ""
        elif line.strip(" ^~\t") and frame and not code:
            code = line
    return []
