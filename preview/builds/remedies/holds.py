"""An unpinned dependency held below the major version installed (below its minor, once,
within a major a hold reached), where the app's failure shows that major broke it:
:func:`held`, and the readings that lead there (:func:`rejected_call`,
:func:`rejected_inside`, :func:`defining`)."""

from __future__ import annotations

import glob
import importlib.metadata
import posixpath
import re
import sys
import tomllib
from pathlib import Path

from ...apps.poetry import poetry_requirements
from ...discovery.pyast import import_aliases, parse_module
from ..installers import version_key
from .fixes import Fix, Tried
from .fixes import name as _name
from .fixes import norm as _norm
from .fixes import own as _own
from .fixes import pinned as _pinned
from .fixes import requirement as _requirement
from .pythons import FRAME, SITE_FRAME, installed_dists, package_sources

__all__ = [
    "REFUSED_SINCE",
    "REMOVED_BY_MAJOR",
    "REMOVED_WITHIN_MAJOR",
    "abstract_instantiated",
    "attribute_refused_to_a_package",
    "declared_ranges",
    "defining",
    "held",
    "pinned_behind_its_code",
    "rejected_call",
    "rejected_inside",
    "removed_by_major",
]

_FLOOR = re.compile(r"(?:>=|~=|>)\s*(\d+(?:\.\d+)*)")  # "sqlalchemy>=1.3.0": 1.3.0
_HOLD = re.compile(r"<\s*(\d+(?:\.\d+)*)\s*$")  # a fix's hold, "Flask<3": 3
# A traceback's frame (pythons.FRAME) of the standard library, by its path (an installed
# package's: pythons.SITE_FRAME).
_STDLIB = re.compile(r"^<|[/\\]lib[/\\]python3\.\d+[/\\]")
_ABSTRACT = re.compile(r"TypeError: Can't instantiate abstract class (\w+)")
_APP_FRAME = re.compile(r'^\s*File "([^"<>]+\.py)", line \d+')
# A folder of tests (or of a test's fixtures): what it declares is not the app's.
_TEST_FOLDER = re.compile(r"(?:^|/)(?:tests?|fixtures)/")
# A frame's code line raising a TypeError itself (``raise TypeError(``).
_RAISES_TYPE_ERROR = re.compile(r"^\s*raise\s+TypeError\b")


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
    # (what the service added unpinned, Alembic for its steps, is as free to hold)
    own = (*(tried.listed or tried.deps).requirements, *tried.added)
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


def held(top: str, tried: Tried, why: str, removed_in: int | str | None = None) -> list[Fix]:
    """``top``'s distribution held below the major version installed, when the app
    does not pin it; below its minor where the app's own range starts at that major
    (``sqlalchemy>=1.3.0``, 1.4 installed: ``SQLAlchemy<1.4``, not ``<1``, which no
    version it allows is); below ``removed_in``, the major known to have removed what
    was missed (:data:`REMOVED_BY_MAJOR`), where that is older: andreygp5's
    dictionary-flask, whose Flask-Script imports ``flask._compat`` (gone in Flask 2), was
    held below 3 first, its relaunches spent one major at a time; or below the release
    known to have removed it within a major (:data:`REMOVED_WITHIN_MAJOR`), where the one
    installed is that or later: cj-lin's coding-exercise-flask, whose Flask-JWT-Extended
    3 imports ``safe_str_cmp`` (gone in Werkzeug 2.1), was held below 2.3, then 2."""
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
    if isinstance(removed_in, int) and int(parts[0]) > removed_in:
        below = str(removed_in)
    elif isinstance(removed_in, str) and version_key(version) >= version_key(removed_in):
        below = removed_in
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
    if (parsed := _requirement(line)) is None:
        return False
    for spec in parsed.specifier:
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
    Jinja2's cache; a FastAPI app with no dependency file got the newest Starlette), or
    Flask's "Working outside of application context" met by a Flask extension the app
    called (:data:`_OUTSIDE_CONTEXT`): the
    package of the frame below the app's last one held below the major installed. Not
    where that package refuses the call by a ``raise TypeError`` of its own (the last
    frame its): the call's error (DRF's decorator order), which no older release makes
    right."""
    frames: list[str] = []  # each frame's line
    code = ""  # the last frame's code line
    for line in text:
        if FRAME.match(line) is not None:
            frames.append(line)
            code = ""
        elif line.startswith("Traceback (most recent call last)"):
            frames = []  # a chained exception's traceback: the last one raised counts
        elif line.startswith(("TypeError: ", _OUTSIDE_CONTEXT)) and frames:
            own = [i for i, frame in enumerate(frames) if _app_frame(frame)]
            below = frames[own[-1] + 1] if own and own[-1] + 1 < len(frames) else ""
            package = SITE_FRAME.match(below)
            if package is None or package.group(1) in sys.stdlib_module_names:
                continue
            if line.startswith(_OUTSIDE_CONTEXT) and package.group(1) in _FLASK_ITSELF:
                continue  # the app's own call of Flask's context: no release changes it
            last = SITE_FRAME.match(frames[-1])
            if (
                last is not None
                and last.group(1) == package.group(1)
                and _RAISES_TYPE_ERROR.match(code)
            ):
                # The package the app called refuses its call by a raise of its own (DRF's
                # "@permission_classes must come after (below) the @api_view decorator",
                # raised by its _check_decorator_order):
                # the call's error, which no release held below makes right (a chain of
                # holds took Aditya-Bajpai-Consultadd's DRF-Fitness-Mgmt to DRF 2 and an
                # old Django's missing STATUS_CODE_TEXT instead).
                continue
            top = package.group(1)
            if _own(top, files) or top not in installed_dists(tried.env_path):
                continue
            return held(top, tried, f"{top} rejects the app's call ({line.strip()[:100]})")
        elif frames and not code and line.strip(" ^~\t"):
            code = line
    return []


# Flask's refusal of an extension's call made outside an app's context, which the
# extension's earlier major made without one (Flask-SQLAlchemy 2's ``db.app = app`` then a
# module-level ``db.create_all()``: sjaks's sepro-restful-flask under Flask-SQLAlchemy 3).
_OUTSIDE_CONTEXT = "RuntimeError: Working outside of application context"
_FLASK_ITSELF = frozenset({"flask", "werkzeug"})


def _app_frame(line: str) -> bool:
    path = FRAME.match(line)
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


# An attribute a package's ``__getattr__`` refuses by its bare name (Flask-SQLAlchemy 3's
# extension, of names its major dropped: "AttributeError: db").
_BARE_ATTRIBUTE = re.compile(r"^\s*AttributeError: ([A-Za-z_]\w*)\s*$")
_IN_FUNCTION = re.compile(r", in (\S+)\s*$")


def attribute_refused_to_a_package(text: list[str], tried: Tried) -> list[Fix]:
    """An unpinned package whose newest major refuses an attribute another installed
    package reads of it, the reader written for its older one: MateuszPanek's
    reservationApp, its flask-marshmallow held below 0.15 for ``ma.ModelSchema``, got
    0.14, whose ``init_app`` reads ``app.extensions["sqlalchemy"].db``, which
    Flask-SQLAlchemy 3's ``__getattr__`` refuses ("AttributeError: db"): the refusing
    package held below its major. Only where the error's last two frames are the two
    packages' (the reader's call, then the refusing ``__getattr__``): a name the app's
    own code reads is its own to get right, or another rule's."""
    frames: list[tuple[str | None, str]] = []  # (the frame's package or None, its function)
    for line in text:
        if FRAME.match(line) is not None:
            package = SITE_FRAME.match(line)
            function = _IN_FUNCTION.search(line)
            frames.append((package and package.group(1), function.group(1) if function else ""))
        elif (bare := _BARE_ATTRIBUTE.match(line)) is not None and len(frames) >= 2:
            (reader, _), (owner, function) = frames[-2], frames[-1]
            refused = reader and owner and reader != owner and function == "__getattr__"
            if refused and owner in installed_dists(tried.env_path):
                why = f"{reader} reads {bare.group(1)} of {owner}, which its major refuses"
                return held(owner, tried, why)
            frames = []
    return []


# Names a framework's major removed, that an app written for an older one imports from it:
# (module, name or None for the module itself) → (distribution, the major that removed it).
REMOVED_BY_MAJOR: dict[tuple[str, str | None], tuple[str, int]] = {
    **{
        ("django.utils.translation", name): ("Django", 4)
        for name in ("ugettext", "ugettext_lazy", "ugettext_noop", "ungettext", "ungettext_lazy")
    },
    ("django.utils.encoding", "force_text"): ("Django", 4),
    ("django.utils.encoding", "smart_text"): ("Django", 4),
    ("django.utils.encoding", "python_2_unicode_compatible"): ("Django", 3),
    ("django.conf.urls", "url"): ("Django", 4),
    ("django.utils.http", "urlquote"): ("Django", 4),
    ("django.utils.http", "urlquote_plus"): ("Django", 4),
    ("django.utils.http", "urlunquote"): ("Django", 4),
    ("django.utils.http", "is_safe_url"): ("Django", 4),
    ("django.contrib.postgres.fields", "JSONField"): ("Django", 4),
    ("django.utils.decorators", "available_attrs"): ("Django", 3),
    ("django.utils.functional", "curry"): ("Django", 3),
    ("django.utils", "six"): ("Django", 3),
    ("django.utils.six", None): ("Django", 3),
    ("django.utils.lru_cache", None): ("Django", 3),
    ("django.core.urlresolvers", None): ("Django", 2),
    ("django.utils.timezone", "utc"): ("Django", 5),
    ("django.utils.datetime_safe", None): ("Django", 5),
    ("django.utils.baseconv", None): ("Django", 5),
    ("flask", "escape"): ("Flask", 3),
    ("flask", "Markup"): ("Flask", 3),
    ("flask", "_app_ctx_stack"): ("Flask", 3),
    ("flask", "_request_ctx_stack"): ("Flask", 3),
    ("flask._compat", None): ("Flask", 2),
    ("flask.ext", None): ("Flask", 1),  # (0.11 deprecated it: ``flask_sqlalchemy`` instead)
    ("werkzeug", "secure_filename"): ("Werkzeug", 1),
    ("werkzeug", "cached_property"): ("Werkzeug", 1),
    ("werkzeug.contrib", None): ("Werkzeug", 1),
    ("werkzeug.urls", "url_quote"): ("Werkzeug", 3),
    ("werkzeug.urls", "url_parse"): ("Werkzeug", 3),
    ("werkzeug.urls", "url_encode"): ("Werkzeug", 3),
    ("werkzeug.urls", "url_decode"): ("Werkzeug", 3),
    # WTForms 3: the HTML5 fields moved into wtforms.fields, its contrib and Python 2
    # modules gone (Massssssi's e-scooter-Flask-app pins WTForms==3.0.1 and imports
    # wtforms.fields.html5's DateTimeLocalField).
    ("wtforms.fields.html5", None): ("WTForms", 3),
    ("wtforms.ext", None): ("WTForms", 3),
    ("wtforms.compat", None): ("WTForms", 3),
    ("wtforms", "TextField"): ("WTForms", 3),
    # pydantic 2's PydanticImportError: moved (to pydantic-settings) or removed
    **{
        ("pydantic", name): ("pydantic", 2)
        for name in (
            "BaseSettings",
            "ConstrainedInt",
            "ConstrainedFloat",
            "ConstrainedStr",
            "ConstrainedList",
            "ConstrainedSet",
            "ConstrainedDecimal",
            "PyObject",
            "stricturl",
        )
    },
}


# Names removed by a minor release, that a package (or app) written for an earlier one
# imports: (module, name or None for the module itself) → (distribution, that release).
# Held below a major instead, a relaunch is spent finding the minor (Werkzeug<2.3, then
# <2) and the hold keeps out what the app's other packages need (Flask 2.0 of Werkzeug 2).
REMOVED_WITHIN_MAJOR: dict[tuple[str, str | None], tuple[str, str]] = {
    ("werkzeug.security", "safe_str_cmp"): ("Werkzeug", "2.1"),
    ("werkzeug.wrappers", "BaseResponse"): ("Werkzeug", "2.1"),
    ("werkzeug.wrappers", "BaseRequest"): ("Werkzeug", "2.1"),
    ("werkzeug.wrappers.json", None): ("Werkzeug", "2.1"),
    ("markupsafe", "soft_unicode"): ("MarkupSafe", "2.1"),
    **{
        ("jinja2", name): ("Jinja2", "3.1")
        for name in (
            "Markup",
            "escape",
            "contextfunction",
            "contextfilter",
            "environmentfilter",
            "evalcontextfilter",
        )
    },
    ("itsdangerous", "TimedJSONWebSignatureSerializer"): ("itsdangerous", "2.1"),
    ("itsdangerous", "JSONWebSignatureSerializer"): ("itsdangerous", "2.1"),
    # marshmallow-sqlalchemy 0.26 removed the ModelSchema it had deprecated since 0.22, which
    # Flask-Marshmallow before 0.15 builds on (MateuszPanek's reservationApp: held below
    # 1, then 0.30, then 0.29 … a relaunch a minor, out of relaunches first).
    **{
        ("marshmallow_sqlalchemy", name): ("marshmallow-sqlalchemy", "0.26")
        for name in ("ModelSchema", "ModelSchemaOpts", "TableSchema", "TableSchemaOpts")
    },
    # An object's attribute, by its class: (the module defining it, "Class.attribute").
    ("flask_marshmallow", "Marshmallow.ModelSchema"): ("flask-marshmallow", "0.15"),
    ("flask", "Flask.before_first_request"): ("Flask", "2.3"),
    ("flask", "Blueprint.before_app_first_request"): ("Flask", "2.3"),
}


# What a release of a framework began to refuse that the app's code did before it, by
# the exception's words: (its pattern, the package's top-level module, that release).
REFUSED_SINCE: tuple[tuple[re.Pattern[str], str, str], ...] = (
    # Django REST framework 3.15: two viewsets registered under one basename (a router
    # takes it from the queryset's model), which 3.14 and before let pass (RickZzDev's
    # ApiErpDjango, its every route 500 under 3.15.1).
    (
        re.compile(r'ImproperlyConfigured: Router with basename "[^"]*" is already registered'),
        "rest_framework",
        "3.15",
    ),
    # Flask-PyMongo 2.0: no MongoDB at localhost:27017 by default, MONGO_URI required
    # (RomanovRomanU's SimpleAppointments-Flask-: ``PyMongo(app)`` and no setting at all).
    (
        re.compile(r"ValueError: You must specify a URI or set the MONGO_URI Flask config"),
        "flask_pymongo",
        "2.0",
    ),
)


def removed_by_major(
    module: str, name: str | None, tried: Tried, files: dict[str, bytes]
) -> list[Fix]:
    """A name (or module) the major the app pins of a framework removed, which the app's
    own code imports (:data:`REMOVED_BY_MAJOR`): its pin replaced by a hold below that
    major. mustafaakgul's drf-chatting pins Django==4.2.3 and imports Django 3's
    ``ugettext_lazy`` in four of its modules: it ran on Django 3.2 (an unpinned framework
    is held by :func:`held`, below the major installed). A lock's pin of it (poetry.lock's)
    likewise, the lock's pin going with the line (``Remedies.apply``): arunanshub's
    fastapi-complaint-system imports pydantic 1's ``BaseSettings`` where its pyproject.toml
    and lock ask pydantic 2 (its dependency bot's raise), "has been moved"."""
    removed = REMOVED_BY_MAJOR.get((module, name))
    if removed is None or tried.deps is None:
        return []
    distribution, major = removed
    found = installed_dists(tried.env_path).get(module.split(".")[0])
    if found is None or _norm(found[0]) != _norm(distribution):
        return []
    version = found[1].split(".")[0]
    own = (tried.listed or tried.deps).requirements
    mine = [line for line in own if _name(line) == _norm(distribution)]
    pins = [line for line in mine if _pinned(line)]
    # Or the range its pyproject declares, with its lock's pin of it (Poetry's ^2.0.0 and
    # poetry.lock's 2.10.6, a bot's raise its code never followed): held alike.
    locked = [c for c in tried.deps.constraints if _name(c) == _norm(distribution) and "==" in c]
    asked = pins or locked
    if (
        not version.isdigit()
        or int(version) < major
        or not asked
        or not _imports(module, name, files)
    ):
        return []
    what = f"{module}.{name}" if name else module
    extras = ",".join(sorted({e for line in mine for e in _extras(line)}))
    hold = f"{distribution}[{extras}]<{major}" if extras else f"{distribution}<{major}"
    asked_by = f"pins {pins[0]}" if pins else f"its lock holds {locked[0]}"
    said = (
        f"the app's own code imports {what}, which {distribution} {major} removed, and "
        f"{asked_by}: relaunching with {hold} in its place"
    )
    return [Fix(said, add=hold, drop=_norm(distribution))]


def pinned_behind_its_code(
    module: str, name: str | None, tried: Tried, files: dict[str, bytes]
) -> list[Fix]:
    """The app's exact pin of a distribution (``pydantic==2.0.3``, a requirements.txt
    frozen early) whose installed release lacks a name the app's own code imports from
    it (or a module of it), where its pyproject.toml declares a range reaching past that
    pin (Poetry's ``pydantic = "^2.0.3"``): the pin gives way to that range, the newest
    release in it installed; where nothing declares it, to the pin's own major.
    sayfullayevabdulaziz's fastapi-flight imports ``StringConstraints`` (pydantic 2.4's)
    and died on 2.0.3."""
    top, _, below = module.partition(".")
    submodule = name is None and bool(below) and "." not in below  # ``redis.asyncio``
    if submodule:
        module, name = top, below
    if name is None or tried.deps is None or not _imports(module, name, files):
        return []
    what = f"{module}.{name}"
    found = installed_dists(tried.env_path).get(top)
    if found is None:
        return []
    distribution, version, _ = found
    own = (tried.listed or tried.deps).requirements
    pins = [
        line
        for line in own
        if _name(line) == _norm(distribution)
        and (parsed := _requirement(line)) is not None
        and [(s.operator, s.version) for s in parsed.specifier] == [("==", version)]
    ]
    if not pins:
        return []
    ranges = declared_ranges(files)
    declared = [line for line in ranges if _name(line) == _norm(distribution)]
    # A module it lacks and nothing declared of it at all: its own major (its minor below
    # 1), whose later releases add modules, not remove them (jdht1992's fastapi-shipment
    # pins redis==4.0.0 and imports redis.asyncio, 4.2's). A name it lacks may be one a
    # release before it removed (ugettext_lazy): no later one of the major has it.
    _, next_minor, next_major = _later(version)
    bound = next_minor if next_major.startswith("1.") else next_major
    major = [f"{distribution}>={version},<{bound}"] if submodule else []
    for line in declared or major:
        parsed = _requirement(line)
        if parsed is None or _norm(parsed.name) != _norm(distribution):
            continue
        newer = [v for v in parsed.specifier.filter(_later(version)) if v != version]
        if not newer or any(s.operator in ("==", "===") for s in parsed.specifier):
            continue
        # (the extras its lines ask, which the dropped lines took with them: pydantic[email])
        extras = sorted(
            {e for o in own if _name(o) == _norm(distribution) for e in _extras(o)}
            | set(parsed.extras)
        )
        asked = "[" + ",".join(extras) + "]" if extras else ""
        # (past the pin: another pin of the app's that held it there then says so to the
        # resolver, whose conflict the resolution fix relaxes)
        wanted = f"{distribution}{asked}{parsed.specifier},>{version}"
        # Its own pins of what that release requires at one version (pydantic-core==2.3.0
        # beside pydantic==2.0.3) would hold it there: they go with it.
        lockstep = _exact_requirements(tried.env_path, distribution)
        companions = [_name(line) for line in own if _pinned(line) and _name(line) in lockstep]
        allows = (
            f"its pyproject.toml allows {parsed.specifier}" if declared else "nothing bounds it"
        )
        said = (
            f"the app's own code imports {what}, which its pin {pins[0]} lacks, "
            f"and {allows}: relaunching with {wanted}"
            + (f" (its pins of {', '.join(companions)} left to it)" if companions else "")
        )
        # Its pins of packages whose release requires it below what it needs
        # (pydantic-partial==0.5.1: pydantic<2.1.0) go likewise, each to its declared
        # range, else to its own major (its minor below 1), for the resolver to choose.
        behind = _holding_back(tried.env_path, distribution, _later(version)[1:])
        relaxed = [
            _relaxed(line, ranges)
            for line in own
            if _name(line) in behind and _pinned(line) and _name(line) not in companions
        ]
        relaxed = [line for line in relaxed if line]
        if relaxed:
            said += f"; its {', '.join(relaxed)} with it, whose pins require it below"
        lines = "\n".join([wanted, *relaxed])
        dropped = [_norm(distribution), *companions, *(_name(line) for line in relaxed)]
        return [Fix(said, add=lines, drop=",".join(dropped))]
    return []


def _holding_back(env: Path | None, distribution: str, later: list[str]) -> set[str]:
    """The installed distributions requiring ``distribution`` in a range that none of
    ``later`` is in (``Requires-Dist: pydantic<2.1.0,>=1.9.0``), by normalised name."""
    if env is None:
        return set()
    sites = glob.glob(str(env / "lib" / "python*" / "site-packages"))
    found: set[str] = set()
    for dist in importlib.metadata.distributions(path=sites):
        for line in dist.requires or []:
            parsed = _requirement(line)
            if parsed is None or parsed.marker is not None:
                continue
            if _norm(parsed.name) == _norm(distribution) and not list(
                parsed.specifier.filter(later)
            ):
                found.add(_norm(dist.metadata["Name"] or ""))
    return found - {""}


def _relaxed(line: str, ranges: list[str]) -> str:
    """``line``'s exact pin (``pydantic-partial==0.5.1``) as the range its pyproject.toml
    declares past it, else within its major (its minor, below 1): "" where neither."""
    parsed = _requirement(line)
    pinned = [s.version for s in parsed.specifier if s.operator == "=="] if parsed else []
    if parsed is None or len(pinned) != 1:
        return ""
    for declared in ranges:
        other = _requirement(declared)
        if (
            other is not None
            and _norm(other.name) == _norm(parsed.name)
            and list(other.specifier.filter(_later(pinned[0])))
            and "==" not in str(other.specifier)
        ):
            return f"{parsed.name}{other.specifier}"
    parts = [int(p) if p.isdigit() else 0 for p in [*pinned[0].split("."), "0", "0"][:2]]
    below = f"{parts[0] + 1}" if parts[0] else f"0.{parts[1] + 1}"
    return f"{parsed.name}>={pinned[0]},<{below}"


def _exact_requirements(env: Path | None, distribution: str) -> set[str]:
    """The distributions the installed ``distribution`` requires at one version
    (``Requires-Dist: pydantic-core==2.3.0``), by their normalised names."""
    if env is None:
        return set()
    sites = glob.glob(str(env / "lib" / "python*" / "site-packages"))
    for dist in importlib.metadata.distributions(path=sites):
        if _norm(dist.metadata["Name"] or "") != _norm(distribution):
            continue
        return {
            _norm(parsed.name)
            for line in dist.requires or []
            if (parsed := _requirement(line)) is not None and parsed.marker is None
            if any(s.operator in ("==", "===") for s in parsed.specifier)
        }
    return set()


def _extras(line: str) -> set[str]:
    parsed = _requirement(line)
    return set(parsed.extras) if parsed is not None else set()


def _later(version: str) -> list[str]:
    """Versions after ``version``: its next patch, its next minor and its next major."""
    parts = [int(p) if p.isdigit() else 0 for p in [*version.split("."), "0", "0", "0"][:3]]
    major, minor, patch = parts
    return [f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0", f"{major + 1}.0.0"]


def declared_ranges(files: dict[str, bytes]) -> list[str]:
    """The requirement lines the upload's pyproject.toml files declare (PEP 621's
    ``[project] dependencies``, Poetry's table as PEP 508 lines), tests' aside."""
    lines: list[str] = []
    for path in sorted(p for p in files if posixpath.basename(p) == "pyproject.toml"):
        if _TEST_FOLDER.search(path):
            continue
        try:
            pyproject = tomllib.loads(files[path].decode("utf-8", "replace"))
        except (tomllib.TOMLDecodeError, RecursionError):
            continue
        project = pyproject.get("project")
        listed = project.get("dependencies") if isinstance(project, dict) else None
        if isinstance(listed, list):
            lines += [line for line in listed if isinstance(line, str)]
        tool = pyproject.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        poetry = poetry.get("dependencies") if isinstance(poetry, dict) else None
        if isinstance(poetry, dict):
            directory = posixpath.dirname(path)
            lines += poetry_requirements(files, poetry, directory, path)[0]
    return lines


def _imports(module: str, name: str | None, files: dict[str, bytes]) -> bool:
    """Whether a module of the upload imports ``name`` from ``module`` (or ``module``)."""
    dotted = re.escape(module)
    if name is None:
        pattern = re.compile(rf"^\s*(?:from\s+{dotted}(?:\s|\.)|import\s+{dotted}\b)", re.M)
    else:
        pattern = re.compile(
            rf"^\s*from\s+{dotted}\s+import\s+(?:\([^)]*\b{name}\b|[^\n]*\b{name}\b)"
            rf"|\b{dotted}\.{name}\b",
            re.M,
        )
    return any(
        path.endswith(".py") and pattern.search(data.decode("utf-8", "replace"))
        for path, data in files.items()
    )
