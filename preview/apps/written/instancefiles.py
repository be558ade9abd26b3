"""The settings files a Flask app loads with ``from_pyfile`` that its upload lacks:
:func:`instance_files` (read with :mod:`ast`, never run).

Flask's ``app.config.from_pyfile("config.py")`` raises when the file is missing (unless
``silent=True``), and an app made with ``instance_relative_config=True`` reads it from its
instance folder (``instance/`` beside its module or package), which its authors keep out
of the repository, secrets and all: huudy's flask-rest-api ``.gitignore``s ``instance/``,
loads its defaults with ``from_object("config")`` first, then ``from_pyfile("config.py")``;
every import of it failed, and uWSGI said only "no python application found". Such a file
holds overrides of what the app loads otherwise: written empty, it overrides nothing.
Only a name the call spells out (a string constant), of a ``.py``/``.cfg`` file.

Django's alike: a settings module that sets no ``DATABASES`` and star-imports a module its
upload lacks (``from django_rest_jwt.local_settings import *`` in a ``try``), which its
README has its reader write with the database: aamishbaloch's django-rest-jwt died on
"settings.DATABASES is improperly configured" at ``migrate``. That module is written
(:func:`django_local_settings`) with ``DATABASES`` from the URL the preview gives
(:data:`LOCAL_DATABASES`), and nothing else: the rest stays its settings'. Where the
settings read names they never set, that module gives them (:func:`django_local_names`):
the values the service gives variables of those names (``DB_NAME``: the served
database's; ``SECRET_KEY``: a throwaway).

A Django settings module the upload lacks altogether (``.gitignore``d, no other module
of it holding settings), beside the ``urls.py`` of a project of ``startproject``'s shape,
is written as ``startproject`` writes one, with what the upload says of itself
(:func:`django_missing_settings`): its apps, the packages it uses, its user model.

A Django settings module that leaves ``ALLOWED_HOSTS`` and ``DEBUG`` at Django's defaults
(no host allowed, debugging off; nor any module it star-imports sets them) is served by
none: ``runserver`` refuses to start ("You must set settings.ALLOWED_HOSTS if DEBUG is
False"), any other server answers 400. mari8i's drf-file-upload runs its
``tests.test_settings`` so, which reads no variable a value could reach. The preview
runs it with a module of its own (:func:`django_preview_settings`) that imports those
settings whole and allows every host, as it gives ``ALLOWED_HOSTS=*`` to one read from
the environment. The same module gives a throwaway ``SECRET_KEY`` where the settings leave
it a literal empty string, which Django refuses at every command.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import posixpath
import re
import sys
from dataclasses import dataclass
from functools import cache

from ...discovery.pyast import bound_names, dotted_name, last_name
from ...logs import gitignored_module, gitignored_submodule
from ..configvars import fill_in
from ..pyapp import TEST_MODULE, parse_module, python_files

__all__ = [
    "CLASS_SETTINGS",
    "LOCAL_DATABASES",
    "django_local_names",
    "django_local_settings",
    "django_missing_settings",
    "example_fill_ins",
    "instance_files",
    "instance_names",
    "kept_out_module_names",
    "local_names_text",
]

_SETTINGS_SUFFIXES = (".py", ".cfg")


def instance_files(files: dict[str, bytes]) -> list[str]:
    """The upload's paths of the files its Flask apps' ``config.from_pyfile`` reads and
    it lacks (the module doc), in the order met."""
    found: list[str] = []
    for path in python_files(files):
        data = files[path]
        tree = parse_module(data) if b"from_pyfile" in data and b"Flask" in data else None
        if tree is None:
            continue
        instance = _instance_relative(tree)
        # A silent load too where the module's own database URI is a placeholder: the
        # file it loads is where its author keeps the real one (_given_nothing).
        uri = b"SQLALCHEMY_DATABASE_URI"
        silent = uri in data and _given_nothing(uri.decode(), data)
        for name in _loaded_names(tree, silent=silent):
            if instance is None:
                continue
            folder = _instance_folder(path, files) if instance else posixpath.dirname(path)
            target = posixpath.normpath(posixpath.join(folder, name))
            if not target.startswith("..") and target not in files and target not in found:
                found.append(target)
    return found


def instance_names(files: dict[str, bytes], targets: list[str]) -> dict[str, tuple[str, ...]]:
    """{one of ``targets`` (:func:`instance_files`, written for the app) that its code
    imports names from as a module (``from instance.config import PASSWORD_SALT``): those
    names}. luke-grammer's secure-login-flask-site loads ``instance/config.py`` and takes
    its mail password and salt from it; written empty, "cannot import name
    'PASSWORD_SALT' from 'instance.config'"."""
    modules = {t.removesuffix(".py").replace("/", "."): t for t in targets if t.endswith(".py")}
    found: dict[str, set[str]] = {}
    for path in python_files(files) if modules else ():
        data = files[path]
        if b"import" not in data or not any(m.rsplit(".", 1)[-1].encode() in data for m in modules):
            continue
        tree = parse_module(data)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
                names = {a.name for a in node.names if a.name != "*"}
                found.setdefault(modules[node.module], set()).update(names)
    # The settings Flask's own extensions cannot do without, which the file is then the
    # only place of, where no module of the upload names them (the same app's CSRF: "A
    # secret key is required to use CSRF").
    sources = b"".join(files[p] for p in python_files(files))
    needs = (*_FLASK_NEEDS, *(_SQLALCHEMY_NEEDS if b"flask_sqlalchemy" in sources else ()))
    unnamed = [name for name in needs if _given_nothing(name, sources)]
    for target in targets if unnamed else ():
        if target.endswith(".py"):
            found.setdefault(target, set()).update(unnamed)
    return {target: tuple(sorted(names)) for target, names in found.items() if names}


def _given_nothing(name: str, sources: bytes) -> bool:
    """Whether the upload's code never gives the setting ``name``: it names it nowhere, or
    only sets it to a literal naming no database (darkr4m's flask-pg-school: its
    ``SQLALCHEMY_DATABASE_URI = 'REDACTED'``, the real one in its instance ``config.py``,
    loaded after it and kept out of its repository: "Could not parse SQLAlchemy URL from
    string 'REDACTED'")."""
    spelt = name.encode()
    named = sources.count(spelt)
    if not named:
        return True
    if name not in _SQLALCHEMY_NEEDS:
        return False
    literals = re.findall(rb"\b" + spelt + rb"""["']?\s*[=:]\s*["']([^"'\n]*)["']""", sources)
    return len(literals) == named and not any(b"://" in value for value in literals)


# What Flask's sessions and forms (SECRET_KEY) and Flask-SQLAlchemy (its URI, where the
# app uses it) read of an app's settings.
_FLASK_NEEDS = ("SECRET_KEY",)
_SQLALCHEMY_NEEDS = ("SQLALCHEMY_DATABASE_URI",)


def kept_out_module_names(files: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
    """{a module the app's code imports constants from (``from config import SECRET_KEY,
    ALGORITHM``) that the upload lacks and its ``.gitignore`` leaves out (its author's
    secrets, never committed): those names}. fawazk's jwt-login-fastapi ignores
    ``config.py`` and imports three settings from it: "No module named 'config'" at every
    start. Only where every name taken from it is a constant's (upper case): a function
    or a class of it cannot be made up. Its tests' imports aside."""
    found: dict[str, set[str]] = {}
    refused: set[str] = set()
    for path in python_files(files):
        if TEST_MODULE.search(path) or b"import" not in files[path]:
            continue
        tree = parse_module(files[path])
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level > 1:
                continue
            if not node.level and node.module.split(".")[0] in sys.stdlib_module_names:
                # (LeoFernanndes's django-tests: ``from uuid import UUID``, which a uuid.py
                # written at its root shadowed: opentelemetry's ``from uuid import uuid4``)
                continue
            folder = posixpath.dirname(path) if node.level else ""
            stem = posixpath.join(folder, *node.module.split("."))
            if (
                f"{stem}.py" in files
                or f"{stem}/__init__.py" in files
                or any(p.startswith(f"{stem}/") for p in files)
            ):
                continue
            package, _, name = stem.rpartition("/")
            if "." not in node.module:
                ignored = gitignored_module(node.module, files)
            else:  # a module of a package of its own (``from dhl.config import TestConfig``)
                held = any(p.startswith(f"{package}/") for p in files)
                ignored = gitignored_submodule(package, name, files) if held else None
            if ignored is None:
                continue
            names = {alias.name for alias in node.names}
            if not all(_CONSTANT.match(n) or _SETTINGS_CLASS.match(n) for n in names):
                refused.add(f"{stem}.py")
            found.setdefault(f"{stem}.py", set()).update(names)
    for target, names in _objects_loaded_missing(files).items():
        found.setdefault(target, set()).update(names)
    return {t: tuple(sorted(n)) for t, n in found.items() if t not in refused}


def _objects_loaded_missing(files: dict[str, bytes]) -> dict[str, set[str]]:
    """{a module a Flask app's ``config.from_object("app.secure_setting")`` loads that the
    upload lacks, in a package of its own or at its root: the settings it must give}: the
    ones Flask and Flask-SQLAlchemy cannot do without that the upload gives nowhere, and
    those its code reads from its config (``current_app.config["PER_PAGE"]``) and no
    module assigns. yujunje11526061's LearnFlask never committed its ``secure_setting.py``
    (its database and secret): "import_string() failed for 'app.secure_setting'"."""
    sources = b"".join(files[p] for p in python_files(files))
    if b"from_object" not in sources:
        return {}
    needs = (*_FLASK_NEEDS, *(_SQLALCHEMY_NEEDS if b"flask_sqlalchemy" in sources else ()))
    trees = [t for p in python_files(files) if (t := parse_module(files[p])) is not None]
    assigned = {n for tree in trees for n in bound_names(tree) if _CONSTANT.match(n)}
    keys = [_config_keys(tree) for tree in trees]
    read = {k for got, _ in keys for k in got} - assigned - {k for _, set_ in keys for k in set_}
    unnamed = {n for n in needs if _given_nothing(n, sources)} | read
    found: dict[str, set[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and last_name(node.func) == "from_object"):
                continue
            first = node.args[0] if len(node.args) == 1 else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            dotted = first.value
            if not re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", dotted):
                continue
            stem = dotted.replace(".", "/")
            package = posixpath.dirname(stem)
            if f"{stem}.py" in files or f"{stem}/__init__.py" in files:
                continue
            init = files.get(f"{package}/__init__.py") if package else b""
            if init is None:
                continue  # (a class of a module: ``config.DevelopmentConfig``, or not its own)
            held = parse_module(init) if init else None
            if held is not None and stem.rsplit("/", 1)[-1] in bound_names(held):
                continue  # (a class of the package's own: ``config.DevelopmentConfig``)
            if unnamed:
                found.setdefault(f"{stem}.py", set()).update(unnamed)
    return found


def _config_keys(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The settings a module reads from a Flask config by constant name (``app.config[
    "X"]``, ``current_app.config.get("X")``), and those it sets there (``app.config["X"] =
    …``, ``config.from_mapping(X=…)``, ``config.update(X=…)``)."""
    read: set[str] = set()
    given: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and last_name(node.value) == "config":
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                (read if isinstance(node.ctx, ast.Load) else given).add(key.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and last_name(node.func.value) == "config"
        ):
            if node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant):
                read.add(str(node.args[0].value))
            elif node.func.attr in ("from_mapping", "update"):
                given.update(k.arg for k in node.keywords if k.arg)
    return {k for k in read if _CONSTANT.match(k)}, given


_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
# A settings class a Flask app hands to ``config.from_object`` (``TestConfig``,
# ``DevelopmentConfig``): made of the settings every such app reads (:data:`CLASS_SETTINGS`).
_SETTINGS_CLASS = re.compile(r"^[A-Z][a-z]\w*(?:Config|Settings|Configuration)$")
CLASS_SETTINGS = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI")


def _instance_relative(tree: ast.Module) -> bool | None:
    """Whether the module's ``Flask(…)`` reads settings from its instance folder (True) or
    its own (False); None where the module makes no Flask app."""
    made = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and last_name(node.func) == "Flask":
            relative = next(
                (k.value for k in node.keywords if k.arg == "instance_relative_config"), None
            )
            made = bool(made) or (isinstance(relative, ast.Constant) and relative.value is True)
    return made


def _loaded_names(tree: ast.Module, *, silent: bool = False) -> list[str]:
    """The file names ``….config.from_pyfile("name")`` loads, not silently (or ``silent``
    too)."""
    names = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and last_name(node.func) == "from_pyfile"):
            continue
        quiet = next((k.value for k in node.keywords if k.arg == "silent"), None)
        if len(node.args) > 1 or (isinstance(quiet, ast.Constant) and quiet.value and not silent):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            name = first.value
            if name.endswith(_SETTINGS_SUFFIXES) and not posixpath.isabs(name):
                names.append(name)
    return names


def _instance_folder(module: str, files: dict[str, bytes]) -> str:
    """Flask's default instance folder of an app made in ``module``: ``instance`` beside
    the module, or beside its package (the folder holding an ``__init__.py``)."""
    folder = posixpath.dirname(module)
    if posixpath.join(folder, "__init__.py") in files:
        folder = posixpath.dirname(folder)
    return posixpath.join(folder, "instance")


_SETTINGS_MODULE = re.compile(rb"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


@dataclass(frozen=True)
class _NamedSettings:
    """The Django settings module the upload's ``manage.py`` names."""

    base: str  # manage.py's folder ("": the root), where the module is imported from
    module: str  # its dotted name (``proj.settings``)
    path: str  # its file in the upload, as named (``proj/settings.py``; maybe absent)


def _named_settings(files: dict[str, bytes]) -> _NamedSettings | None:
    """The settings module the shallowest ``manage.py`` names; None where none names one."""
    managers = sorted((p for p in files if posixpath.basename(p) == "manage.py"), key=len)
    named = _SETTINGS_MODULE.search(files[managers[0]]) if managers else None
    if named is None:
        return None
    base = posixpath.dirname(managers[0])
    module = named.group(1).decode()
    return _NamedSettings(base, module, posixpath.join(base, *module.split(".")) + ".py")


# The module written: Django's DATABASES read from the URL the preview gives.
LOCAL_DATABASES = b"""# Written by the preview service: the settings import this module, which the
# upload lacks; its database is the one the preview gives (DATABASE_URL).
import os as _os
from urllib.parse import unquote as _unquote, urlsplit as _urlsplit

_url = _urlsplit(_os.environ.get("DATABASE_URL") or "sqlite:///db.sqlite3")
_scheme = _url.scheme.split("+")[0]
if _scheme == "sqlite":
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _url.path[1:]}}
else:
    _engines = {"postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends." + _engines.get(_scheme, _scheme),
            "NAME": _unquote(_url.path.lstrip("/")),
            "USER": _unquote(_url.username or ""),
            "PASSWORD": _unquote(_url.password or ""),
            "HOST": _url.hostname or "",
            "PORT": str(_url.port or ""),
        }
    }
"""


def django_local_settings(files: dict[str, bytes]) -> dict[str, str]:
    """{the upload's path of a module the Django settings module star-imports and the
    upload lacks: that settings module}, where the settings set no ``DATABASES`` (the
    module doc)."""
    found = _star_imported_missing(files)
    if found is None or _assigns(found[1], "DATABASES"):
        return {}
    return dict.fromkeys(found[2], found[0])


def django_local_names(files: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
    """{the upload's path of a module the Django settings module star-imports and the
    upload lacks: the names the settings read and never set, which it gives}: PeymanNr's
    Drf-Blog builds ``DATABASES`` from ``DB_NAME``, ``DB_USER`` … that its .gitignored
    ``Blog/local_settings.py`` holds (``from .local_settings import *``), and Django's
    ``SECRET_KEY``, which the settings never set either. Names another module they
    star-import sets are that module's."""
    named = _named_imports_missing(files)
    found = _star_imported_missing(files)
    if found is None:
        return named
    settings, tree, targets = found
    names = _read_unset(tree)
    for module in _star_imported(tree, settings, files):
        if module in files and (other := parse_module(files[module])) is not None:
            names -= bound_names(other)
    if not _assigns(tree, "SECRET_KEY"):  # Django refuses to start without one
        names.add("SECRET_KEY")
    starred = dict.fromkeys(targets, tuple(sorted(names))) if names else {}
    for target, more in named.items():
        starred[target] = tuple(sorted({*starred.get(target, ()), *more}))
    return starred


def _named_imports_missing(files: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
    """{the upload's path of a module the Django settings module imports by name and the
    upload lacks, in its package: the names the settings take from it}: DRF-News'
    DRF-SpartaNews reads ``config.OPENAI_API_KEY`` after ``from . import config``, its
    .gitignored ``DRF_SpartarNews/config.py``; ``from .config import SECRET_KEY`` takes
    that name."""
    named = _named_settings(files)
    if named is None:
        return {}
    settings = named.path
    tree = parse_module(files[settings]) if settings in files else None
    if tree is None:
        return {}
    folder = posixpath.dirname(settings)
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        for alias in node.names:
            if alias.name == "*":
                continue
            if node.module:  # from .config import SECRET_KEY
                target, names = posixpath.join(folder, *node.module.split(".")), {alias.name}
            else:  # from . import config: what is read of it (config.OPENAI_API_KEY)
                bound = alias.asname or alias.name
                target, names = posixpath.join(folder, alias.name), _attributes(tree, bound)
            if f"{target}.py" in files or f"{target}/__init__.py" in files or not names:
                continue
            found.setdefault(f"{target}.py", set()).update(names)
    return {target: tuple(sorted(names)) for target, names in found.items()}


def _attributes(tree: ast.Module, name: str) -> set[str]:
    """The attributes read of the name ``name`` (``config.OPENAI_API_KEY``)."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
    }


def example_fill_ins(source: bytes) -> tuple[str, ...]:
    """The constants a Python example module (``config_example.py``) leaves to fill in
    (``DB_HOST = '<database host name or ip-address>'``: :func:`..configvars.fill_in`), at
    its top level, in order: a copy of it gives them nothing to run with (bku4erov's
    django-drf-hw-smart-home: "invalid integer value "<database port>" for connection
    option "port"")."""
    tree = parse_module(source)
    found: list[str] = []
    for node in tree.body if tree is not None else ():
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        if (
            isinstance(target, ast.Name)
            and _CONSTANT.match(target.id)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and fill_in(value.value)
        ):
            found.append(target.id)
    return tuple(dict.fromkeys(found))


def local_names_text(names: tuple[str, ...], values: dict[str, str]) -> bytes:
    """The module giving ``names`` their ``values`` (by meaning: the served database's
    parts, a throwaway secret; ``True``/``False`` and whole numbers as such, a name with
    none an empty string); Django's ``DATABASES`` the served database's, as
    :data:`LOCAL_DATABASES` gives it (kim-hoontae's drf-assignment7: its settings do ``from
    env import SECRET_KEY, DATABASES, ALGORITHM``, env.py left out of its repository;
    given a string, Django's "You must define a 'default' database")."""
    lines = ["", "# Written by the preview service: what the settings read from this module."]
    if "DATABASES" in names:
        lines.insert(0, LOCAL_DATABASES.decode())
    for name in names:
        if _SETTINGS_CLASS.match(name):  # jewoodev's flask-practice: dhl/config.py ignored
            lines += ["", f"class {name}:", "    DEBUG = True"]
            lines += ["    SQLALCHEMY_TRACK_MODIFICATIONS = False"]
            lines += [f"    {key} = {values.get(key, '')!r}" for key in CLASS_SETTINGS]
            continue
        if name == "DATABASES":
            continue
        value = values.get(name, "")
        typed: object = value
        if value.lower() in ("true", "false"):
            # (a switch the service gives as "true": yujunje11526061's LearnFlask's DEBUG,
            # which Flask-Mail took as its own and int() refused)
            typed = value.lower() == "true"
        elif value.isdigit() and len(value) < 10:
            typed = int(value)
        lines.append(f"{name} = {typed!r}")
    return ("\n".join(lines) + "\n").encode()


def _star_imported_missing(files: dict[str, bytes]) -> tuple[str, ast.Module, list[str]] | None:
    """The Django settings module (its path and tree) and the modules it star-imports that
    the upload lacks, near it (in its package or the project's folder); None where
    ``manage.py`` names no settings the upload has, or it star-imports none missing."""
    named = _named_settings(files)
    if named is None:
        return None
    base, settings = named.base, named.path
    tree = parse_module(files[settings]) if settings in files else None
    if tree is None:
        return None
    targets = []
    for target in _star_imported(tree, settings, files):
        package = posixpath.join(posixpath.dirname(target), "__init__.py")
        near = posixpath.dirname(target) in ("", base) or package in files
        if target not in files and target[:-3] + "/__init__.py" not in files and near:
            targets.append(target)
    return (settings, tree, targets) if targets else None


# The module the preview runs a Django app with where its settings cannot serve as they are.
PREVIEW_SETTINGS = "preview_django_settings"


# The apps of packages that a project using them lists in INSTALLED_APPS: {the app's
# label: (the module its code imports, the distribution its requirements name)}.
_PACKAGE_APPS = {
    "rest_framework": ("rest_framework", "djangorestframework"),
    "rest_framework.authtoken": ("rest_framework.authtoken", ""),
    "rest_framework_simplejwt.token_blacklist": ("rest_framework_simplejwt.token_blacklist", ""),
    "corsheaders": ("corsheaders", "django-cors-headers"),
    "django_filters": ("django_filters", "django-filter"),
    "drf_yasg": ("drf_yasg", "drf-yasg"),
    "drf_spectacular": ("drf_spectacular", "drf-spectacular"),
    "django_extensions": ("django_extensions", "django-extensions"),
}
_USER_BASES = frozenset({"AbstractUser", "AbstractBaseUser"})
_REQUIREMENTS = re.compile(r"(?:^|/)(?:requirements[\w.-]*\.txt|pyproject\.toml|Pipfile)$")


def django_missing_settings(files: dict[str, bytes]) -> dict[str, bytes]:
    """{the path of the settings module ``manage.py`` names, which the upload lacks: the
    settings ``startproject`` writes, with what the upload says of itself}, where no
    module of the upload holds Django settings at all (another one, renamed, is taken
    instead: ``detect.lone_settings_module``). davidvillard's drfbackendcheck
    ``.gitignore``s ``drf/settings.py``, beside its ``drf/urls.py`` and ``drf/wsgi.py``:
    every command died of "No module named 'drf.settings'". Written: its apps (each
    folder of the upload with an ``apps.py``), those of the packages its code imports or
    its requirements name (:data:`_PACKAGE_APPS`), its custom user model, its project's
    ``urls`` and ``wsgi`` modules, the preview's database (:data:`LOCAL_DATABASES`), every
    host allowed, debugging on."""
    named = _named_settings(files)
    if named is None:
        return {}
    base, module, path = named.base, named.module, named.path
    package = path.removesuffix(".py")
    if path in files or f"{package}/__init__.py" in files or "." not in module:
        return {}
    if any(b"INSTALLED_APPS" in files[p] for p in python_files(files)):
        return {}
    project = module.rsplit(".", 1)[0]
    folder = posixpath.dirname(path)
    if f"{folder}/urls.py" not in files:
        return {}  # no project of startproject's shape to write settings for
    within = [p for p in python_files(files) if base == "" or p.startswith(base + "/")]
    local = sorted(
        posixpath.dirname(p)[len(base) + 1 if base else 0 :].replace("/", ".")
        for p in within
        if posixpath.basename(p) == "apps.py" and posixpath.dirname(p) != base
    )
    sources = b"\n".join(files[p] for p in within)
    requirements = b"\n".join(files[p] for p in files if _REQUIREMENTS.search(p)).lower()
    packages = [
        label
        for label, (imported, distribution) in _PACKAGE_APPS.items()
        if _imports(sources, imported) or _requires(requirements, distribution)
    ]
    user = _custom_user_model(files, within)
    middleware = [
        *(["corsheaders.middleware.CorsMiddleware"] if "corsheaders" in packages else []),
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    contrib = ["admin", "auth", "contenttypes", "sessions", "messages", "staticfiles"]
    apps = [f"django.contrib.{name}" for name in contrib] + packages + local
    key = "django-insecure-preview-" + hashlib.sha256(module.encode()).hexdigest()[:40]
    templates = (
        "[BASE_DIR / 'templates']"
        if any(p.startswith(posixpath.join(base, "templates") + "/") for p in files)
        else "[]"
    )
    wsgi = f"{project}.wsgi.application" if f"{folder}/wsgi.py" in files else None
    lines = [
        f"# Written by the preview service: {module} is not in the upload (its .gitignore",
        "# leaves it out). The settings startproject writes, with the apps of the upload and",
        "# of the packages it uses, and the preview's database (DATABASE_URL).",
        LOCAL_DATABASES.split(b"\n", 2)[2].decode(),
        "from pathlib import Path as _Path",
        "",
        f"BASE_DIR = _Path(__file__).resolve().parents[{module.count('.')}]",
        f"SECRET_KEY = _os.environ.get('SECRET_KEY') or {key!r}",
        "DEBUG = True",
        "ALLOWED_HOSTS = ['*']",
        f"INSTALLED_APPS = {apps!r}",
        f"MIDDLEWARE = {middleware!r}",
        f"ROOT_URLCONF = {project + '.urls'!r}",
        *([f"WSGI_APPLICATION = {wsgi!r}"] if wsgi else []),
        "TEMPLATES = [{",
        "    'BACKEND': 'django.template.backends.django.DjangoTemplates',",
        f"    'DIRS': {templates},",
        "    'APP_DIRS': True,",
        "    'OPTIONS': {'context_processors': [",
        "        'django.template.context_processors.request',",
        "        'django.contrib.auth.context_processors.auth',",
        "        'django.contrib.messages.context_processors.messages',",
        "    ]},",
        "}]",
        *([f"AUTH_USER_MODEL = {user!r}"] if user else []),
        "LANGUAGE_CODE = 'en-us'",
        "TIME_ZONE = 'UTC'",
        "USE_I18N = True",
        "USE_TZ = True",
        "STATIC_URL = '/static/'",
        "STATIC_ROOT = BASE_DIR / 'staticfiles'",
        "MEDIA_URL = '/media/'",
        "MEDIA_ROOT = BASE_DIR / 'media'",
        "DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'",
        *(["CORS_ALLOW_ALL_ORIGINS = True"] if "corsheaders" in packages else []),
    ]
    return {path: ("\n".join(lines) + "\n").encode()}


def _imports(sources: bytes, module: str) -> bool:
    """Whether the code imports ``module`` (or a module within it)."""
    statement = rb"(?:import|from)\s+" + re.escape(module.encode()) + rb"\b"
    return re.search(statement, sources) is not None


def _requires(requirements: bytes, distribution: str) -> bool:
    """Whether a line of the requirements begins with ``distribution`` (lower-cased)."""
    line = rb"(?m)^\s*[\"']?" + re.escape(distribution.encode()) + rb"\b"
    return bool(distribution) and re.search(line, requirements) is not None


def _custom_user_model(files: dict[str, bytes], within: list[str]) -> str | None:
    """``app_label.Model`` of the one model of the upload's apps made from Django's
    abstract users (its migrations' ``settings.AUTH_USER_MODEL`` is that one), or None."""
    found = []
    for path in within:
        if posixpath.basename(path) != "models.py" or b"Abstract" not in files[path]:
            continue
        tree = parse_module(files[path])
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.ClassDef) and {last_name(b) for b in node.bases} & _USER_BASES:
                found.append(f"{posixpath.basename(posixpath.dirname(path))}.{node.name}")
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class PreviewSettings:
    """The preview's Django settings module: where it is written, its module's name, its
    text, and why each of its lines is there (said in the launch's notes)."""

    path: str
    module: str
    text: bytes
    why: tuple[str, ...]


def django_preview_settings(files: dict[str, bytes]) -> PreviewSettings | None:
    """The preview's settings module, which imports the app's whole and mends what Django
    refuses to serve with, where the module ``manage.py`` names and those it star-imports
    (every one in the upload: a module it lacks may set anything) leave

    - ``ALLOWED_HOSTS`` and ``DEBUG`` at Django's defaults (the module doc): every host
      allowed;
    - ``SECRET_KEY`` unset or a literal empty string (Ritvik-2002's Payment-DRF ships
      ``SECRET_KEY = ""``: "The SECRET_KEY setting must not be empty" at ``migrate``): a
      throwaway one, as ``startproject`` writes a ``django-insecure-`` key.

    None where they leave neither."""
    named = _named_settings(files)
    if named is None:
        return None
    base, module, settings = named.base, named.module, named.path
    tree = parse_module(files[settings]) if settings in files else None
    if tree is None:
        return None
    trees = [tree]
    for other in _star_imported(tree, settings, files):
        if other not in files or (parsed := parse_module(files[other])) is None:
            return None  # a module it lacks may set them (its local settings)
        trees.append(parsed)
    lines = [f"from {module} import *  # noqa: F403", ""]
    why = []
    if not any(_assigns(each, "ALLOWED_HOSTS") or _debugs(each) for each in trees):
        lines.append('ALLOWED_HOSTS = ["*"]')
        why.append(
            "its settings leave ALLOWED_HOSTS and DEBUG at Django's defaults, which serve"
            " no host: every host allowed"
        )
    elif _hosts_left_empty(trees):
        lines.append('ALLOWED_HOSTS = ["*"]')
        why.append(
            "its ALLOWED_HOSTS is empty, which serves no host unless its DEBUG is on, and its"
            " DEBUG is no literal True: every host allowed"
        )
    elif (read := _hosts_read_as_a_string(trees)) is not None:
        lines.append('ALLOWED_HOSTS = ["*"]')
        why.append(
            f"its ALLOWED_HOSTS is {read}'s string as read, never a list, which Django "
            "refuses: every host allowed"
        )
    if all(_empty_or_unset(each, "SECRET_KEY") for each in trees):
        key = "django-insecure-preview-" + hashlib.sha256(module.encode()).hexdigest()[:40]
        lines.append(f"SECRET_KEY = {key!r}")
        why.append("its settings leave SECRET_KEY empty, which Django refuses: a throwaway one")
    zone = _zone_in_its_case(trees)
    if zone is not None:
        lines.append(f"TIME_ZONE = {zone[1]!r}")
        why.append(
            f"its TIME_ZONE {zone[0]!r} names a zone in another case than the zone "
            f"database's, which Django refuses here: {zone[1]!r}"
        )
    manifest = _manifest_storage_setting(trees)
    if manifest is not None and not any(_debug_on(each) for each in trees):
        lines += _PLAIN_STATIC_STORAGE[manifest]
        why.append(
            "its static files are stored under a manifest that collectstatic writes, which "
            "a preview does not run (every page naming one answered 500, 'Missing staticfiles"
            " manifest entry'): stored plainly, served from the apps' own folders"
        )
    logged = any(_assigns(each, "LOGGING") or _assigns(each, "LOGGING_CONFIG") for each in trees)
    if not logged and not any(_debug_on(each) for each in trees):
        lines.append(f"LOGGING = {_ERRORS_TO_THE_CONSOLE!r}")
        why.append(
            "its DEBUG may be off and it configures no logging, which prints no server"
            " error: each one's traceback printed"
        )
    if not why:
        return None
    head = [
        f"# Written by the preview service: {module}, as the app has it, with what Django",
        "# refuses to serve with mended: " + "; ".join(why) + ".",
    ]
    text = "\n".join([*head, *lines]) + "\n"
    return PreviewSettings(
        posixpath.join(base, f"{PREVIEW_SETTINGS}.py"), PREVIEW_SETTINGS, text.encode(), tuple(why)
    )


# The settings giving static files a plain storage in place of a manifest's, by the
# setting the app names it with; whitenoise (django-heroku's) then serves them from the
# apps' own folders, as runserver would (WHITENOISE_USE_FINDERS).
_PLAIN_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
_PLAIN_STATIC_STORAGE = {
    "STATICFILES_STORAGE": [
        f"STATICFILES_STORAGE = {_PLAIN_STORAGE!r}",
        "WHITENOISE_USE_FINDERS = True",
    ],
    "STORAGES": [
        f"STORAGES = {{**STORAGES, 'staticfiles': {{'BACKEND': {_PLAIN_STORAGE!r}}}}}",
        "WHITENOISE_USE_FINDERS = True",
    ],
}
_MANIFEST = re.compile(r"Manifest\w*Storage")


def _manifest_storage_setting(trees: list[ast.Module]) -> str | None:
    """The setting its settings store static files under a manifest with
    (``ManifestStaticFilesStorage``, whitenoise's ``CompressedManifestStaticFilesStorage``;
    ``django_heroku.settings(locals())`` sets the latter as STATICFILES_STORAGE):
    stevensimba's drfSwagger, DEBUG off, never collected, answered 500 on each page naming
    a static file, "Missing staticfiles manifest entry"; None where they use none."""
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and dotted_name(node.func) == "django_heroku.settings":
                return "STATICFILES_STORAGE"
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target = node.targets[0]
            if not isinstance(target, ast.Name) or target.id not in _PLAIN_STATIC_STORAGE:
                continue
            named = [n.value for n in ast.walk(node.value) if isinstance(n, ast.Constant)]
            if any(isinstance(v, str) and _MANIFEST.search(v) for v in named):
                return target.id
    return None


def _zone_in_its_case(trees: list[ast.Module]) -> tuple[str, str] | None:
    """(the literal ``TIME_ZONE`` the settings set, the zone it names in the zone
    database's case) where the two differ only in case: a case-insensitive file system
    (macOS, Windows) finds ``Asia/kolkata``, Linux does not (varunrele's
    django-assignment-arcitech: "Incorrect timezone setting: Asia/kolkata" at
    ``migrate``). None where it names a zone as it is, or none at all."""
    set_to = None
    for tree in trees:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "TIME_ZONE" for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                set_to = node.value.value
    if not set_to:
        return None
    zones = _zones_by_lower_case()
    right = zones.get(set_to.lower())
    return (set_to, right) if right is not None and right != set_to else None


@cache
def _zones_by_lower_case() -> dict[str, str]:
    """{a zone's name in lower case: its name}, of the zone database this Python reads.
    Blocking (it lists the database's files), once."""
    import zoneinfo

    return {zone.lower(): zone for zone in zoneinfo.available_timezones()}


def _empty_or_unset(tree: ast.Module, name: str) -> bool:
    """Whether the module binds ``name`` to nothing but literal empty strings (or not at
    all: an import of it binds it)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            return False
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        value = getattr(node, "value", None)
        if not (isinstance(value, ast.Constant) and value.value == ""):
            return False
    return True


def _hosts_read_as_a_string(trees: list[ast.Module]) -> str | None:
    """The variable whose value every assignment of ``ALLOWED_HOSTS`` in ``trees`` is, as
    the environment gives it (``os.getenv("ALLOWED_HOST")``, ``os.environ["HOSTS"]``):
    a string, or None unset, never the list Django takes ("The ALLOWED_HOSTS setting must
    be a list or a tuple": Rissap's djangorest-shop at its first command). None where
    any assignment is another value (a split, a list)."""
    read = None
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign) or not any(
                isinstance(t, ast.Name) and t.id == "ALLOWED_HOSTS" for t in node.targets
            ):
                continue
            if (read := _environment_read(node.value)) is None:
                return None
    return read


def _hosts_left_empty(trees: list[ast.Module]) -> bool:
    """Whether every assignment of ``ALLOWED_HOSTS`` in ``trees`` is an empty list (none
    adds to it) and none sets ``DEBUG`` to a literal true: ``startproject``'s ``[]``,
    which serves only ``localhost`` and only with DEBUG on, left so beside a DEBUG read
    from the environment whose example is no boolean (umirzakovozodbek's
    django-cinema-API: ``DEBUG=debug``, read as off: 400 and DisallowedHost to every call)."""
    empty = False
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.AugAssign) and _assigns(
                ast.Module([node], []), "ALLOWED_HOSTS"
            ):
                return False
            if not isinstance(node, ast.Assign | ast.AnnAssign):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if "DEBUG" in names and isinstance(node.value, ast.Constant) and node.value.value:
                return False
            if "ALLOWED_HOSTS" not in names:
                continue
            if not isinstance(node.value, ast.List | ast.Tuple) or node.value.elts:
                return False
            empty = True
    return empty


def _environment_read(node: ast.expr) -> str | None:
    """The variable ``node`` reads from the environment as it is, a string or None
    (``os.getenv("X")``, ``os.environ.get("X", "…")``, ``os.environ["X"]``), else None."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        environ = isinstance(node.value, ast.Attribute) and node.value.attr == "environ"
        if environ and isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func, name = node.func, node.args[0]
    getenv = isinstance(func, ast.Name | ast.Attribute) and (
        getattr(func, "id", None) == "getenv" or getattr(func, "attr", None) == "getenv"
    )
    environ_get = (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "environ"
    )
    default = node.args[1] if len(node.args) > 1 else None
    plain = default is None or (
        isinstance(default, ast.Constant) and isinstance(default.value, str)
    )
    if (getenv or environ_get) and plain and isinstance(name, ast.Constant):
        return name.value if isinstance(name.value, str) else None
    return None


# Django's logging for DEBUG off sends a request's error to the site's admins by mail and
# to no console: a preview's 500 printed nothing (jonwillcode's menjls-ecommerce-backend:
# DEBUG = False, three routes' 500s and not a line why). Its errors printed instead,
# each with its traceback, the rest of Django's logging as it was.
_ERRORS_TO_THE_CONSOLE = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"preview_console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["preview_console"], "level": "ERROR", "propagate": False}
    },
}


def _debug_on(tree: ast.Module) -> bool:
    """Whether the module sets ``DEBUG`` to a literal true (Django then prints its
    requests' errors itself)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "DEBUG" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and node.value.value is True
        ):
            return True
    return False


def _debugs(tree: ast.Module) -> bool:
    """Whether the module sets ``DEBUG`` to anything but a literal off."""
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        if not any(isinstance(t, ast.Name) and t.id == "DEBUG" for t in targets):
            continue
        value = node.value if isinstance(node, ast.Assign) else None
        if not (isinstance(value, ast.Constant) and not value.value):
            return True
    return False


def _star_imported(tree: ast.Module, settings: str, files: dict[str, bytes]) -> list[str]:
    """The upload's paths of the modules ``settings`` star-imports (``from .local import
    *``; an absolute name from the project's folder, ``manage.py``'s)."""
    managers = sorted((p for p in files if posixpath.basename(p) == "manage.py"), key=len)
    base = posixpath.dirname(managers[0]) if managers else ""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module):
            continue
        if not any(alias.name == "*" for alias in node.names):
            continue
        parts = node.module.split(".")
        if node.level:  # relative to the settings' package
            folder = posixpath.dirname(settings)
            for _ in range(node.level - 1):
                folder = posixpath.dirname(folder)
            found.append(posixpath.join(folder, *parts) + ".py")
        else:
            found.append(posixpath.join(base, *parts) + ".py")
    return found


def _read_unset(tree: ast.Module) -> set[str]:
    """The names the module reads and never binds (nor Python's builtins)."""
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    unset = read - bound_names(tree) - set(dir(builtins))
    return {name for name in unset if not name.startswith("__")}  # (__file__: the module's)


def _assigns(tree: ast.Module, name: str) -> bool:
    """Whether the module sets ``name`` (``DATABASES = …``, ``DATABASES["default"] = …``)."""
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            while isinstance(target, ast.Subscript | ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name) and target.id == name:
                return True
    return False
