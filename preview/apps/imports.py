"""What a Python upload with no dependency file needs, read from its imports:
:func:`inferred_requirements`.

Every module of the upload is parsed (``ast``, never run); the top-level names it
imports absolutely, and those of the modules a Django settings module lists in
``INSTALLED_APPS`` and ``MIDDLEWARE`` or a Tortoise ORM configuration under ``"models"``
(``aerich.models``; both import them by name), less the standard
library (``sys.stdlib_module_names``) and the upload's own modules and packages, are
turned into distributions by pipreqs' maintained import-name → distribution mapping
(``yaml`` → ``PyYAML``, ``jwt`` → ``PyJWT``, ``dotenv`` → ``python-dotenv``; and Django
apps it lacks, ``corsheaders`` → ``django-cors-headers``; and the web stacks' modules it
lacks whose own name on PyPI is another project, ``tortoise`` → ``tortoise-orm``), read as
data from the installed ``pipreqs`` (the ``infer`` extra; nothing of it is imported); a
name it does not list is its own distribution, as pipreqs has it. Without pipreqs nothing
is inferred.

And a distribution that builds from source read as its twin that ships the same module as
wheels: :func:`binary_twins` (``psycopg2`` as ``psycopg2-binary``).

And before the imports, a setuptools project's ``install_requires``, also read from its
source, never run: :func:`setup_requirements` (see there); and the folders whose modules
the upload imports by their own names from within them (:func:`source_roots`).

And, for an upload with a dependency file, what its start loads: the modules outside
the upload that the modules its start command names import unconditionally as they
load, and the upload's modules those import, and so on (:func:`imported_at_start`):
compared with what its environment installed before the first start, each one missing
is a failed start less.
"""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
import sys
from collections.abc import Sequence
from functools import cache, partial
from importlib import resources

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from preview.discovery.pyast import parse_source, walked

from .pyapp import (
    ROOT_PACKAGE,
    parse_module,
    python_files,
    root_imports_relatively,
    root_package_name,
)

_ALEMBIC_ENV = re.compile(rb"^\s*from alembic import context\b", re.MULTILINE)

__all__ = [
    "binary_twins",
    "import_mapping",
    "imported_as_loaded",
    "imported_at_start",
    "imported_names",
    "inferred_requirements",
    "own_folder_names",
    "setup_requirements",
    "source_roots",
]


# Django apps whose module is not their distribution's name and which pipreqs' table
# lacks: a settings module names them in INSTALLED_APPS / MIDDLEWARE.
_DJANGO_APPS = {
    "corsheaders": "django-cors-headers",
    "allauth": "django-allauth",
    "debug_toolbar": "django-debug-toolbar",
    "widget_tweaks": "django-widget-tweaks",
    "django_filters": "django-filter",
    "rest_auth": "django-rest-auth",
    "rest_framework_simplejwt": "djangorestframework-simplejwt",
    "knox": "django-rest-knox",
    "django_extensions": "django-extensions",
    "import_export": "django-import-export",
    "phonenumber_field": "django-phonenumber-field",
    "guardian": "django-guardian",
    "simple_history": "django-simple-history",
    "django_celery_beat": "django-celery-beat",
    "django_celery_results": "django-celery-results",
    "oauth2_provider": "django-oauth-toolkit",
    "social_django": "social-auth-app-django",
    "polymorphic": "django-polymorphic",
    "ckeditor": "django-ckeditor",
    "axes": "django-axes",
    "constance": "django-constance",
    "cloudinary_storage": "django-cloudinary-storage",
    # Django REST framework's companions, whose modules are not their projects' names
    # (hellen-22's hospital-api-django imports rest_framework_nested unlisted: PyPI has
    # no rest-framework-nested, "not in the package registry: no fix").
    "rest_framework_nested": "drf-nested-routers",
    "rest_framework_jwt": "djangorestframework-jwt",
    "rest_framework_json_api": "djangorestframework-jsonapi",
    "rest_framework_gis": "djangorestframework-gis",
    "rest_framework_api_key": "djangorestframework-api-key",
    "rest_framework_xml": "djangorestframework-xml",
    "rest_framework_csv": "djangorestframework-csv",
    "rest_framework_recursive": "djangorestframework-recursive",
    "rest_framework_swagger": "django-rest-swagger",
    # Django apps named without the project's ``django-``.
    "imagekit": "django-imagekit",
    "colorfield": "django-colorfield",
    "modeltranslation": "django-modeltranslation",
    "versatileimagefield": "django-versatileimagefield",
    "push_notifications": "django-push-notifications",
    "cities_light": "django-cities-light",
    "hitcount": "django-hitcount",
    "tinymce": "django-tinymce",
    "markdownx": "django-markdownx",
    "qr_code": "django-qr-code",
    "two_factor": "django-two-factor-auth",
    "filer": "django-filer",
    "admin_interface": "django-admin-interface",
    "jazzmin": "django-jazzmin",
    "unfold": "django-unfold",
    "nested_admin": "django-nested-admin",
    "adminsortable2": "django-admin-sortable2",
    "dbbackup": "django-dbbackup",
    "sass_processor": "django-sass-processor",
    "anymail": "django-anymail",
    "post_office": "django-post-office",
    "health_check": "django-health-check",
    "watson": "django-watson",
    "ordered_model": "django-ordered-model",
    "djmoney": "django-money",
    "localflavor": "django-localflavor",
}
# Modules of the web stacks generators use that pipreqs' table lacks (or maps to a
# Python 2 relic), whose own name on PyPI is another project: installing that gives no
# such module (PyPI's `tortoise` has no `tortoise.contrib`: corcasta's FastAPI-Demo).
_ELSEWHERE_ON_PYPI = {
    "tortoise": "tortoise-orm",
    "ninja": "django-ninja",
    "ninja_jwt": "django-ninja-jwt",
    "jose": "python-jose",
    "multipart": "python-multipart",
    "attr": "attrs",
    "strawberry": "strawberry-graphql",
    "environ": "django-environ",
    "MySQLdb": "mysqlclient",  # pipreqs': MySQL-python, Python 2 only
    "mysql": "mysql-connector-python",  # pipreqs': mysql_connector_repackaged, Python 2's
    # PyPI's fastapi-cache (0.1.0, 2020) has no FastAPICache, which every app of ours
    # imports from fastapi-cache2 (grigoriykuzevanov's fastapi-pet-project lists neither)
    "fastapi_cache": "fastapi-cache2",
    # Not in pipreqs' table at all (DkryuProject's fastapi-practice imports cv2 unlisted:
    # "+ cv2" found no such distribution). OpenCV's build without its GUI: a server's,
    # which needs no libGL.
    "cv2": "opencv-python-headless",
    "psycopg2": "psycopg2-binary",
    "docx": "python-docx",
    "pkg_resources": "setuptools",
    # (PyPI's argon2 is another, older project: pwdlib's argon2 hasher imports argon2-cffi's)
    "argon2": "argon2-cffi",
    # pipreqs' table names a relic of the module's own name: python-bcrypt (0.3.2, 2013,
    # built from source, whose hashpw takes str: AdhilSalah's fastApiFinance, "hashpw()
    # argument 1 must be str, not bytes"), msgpack-python and docker-py (both renamed),
    # ruamel.base (a namespace stub, no ruamel.yaml), pies2overrides (configparser is
    # Python's own)
    "bcrypt": "bcrypt",
    "msgpack": "msgpack",
    "docker": "docker",
    "ruamel": "ruamel.yaml",
}
# A Python 2 relic pipreqs names for a module (and so the requirements files it wrote):
# the distribution of the same module that runs on Python 3, whatever version was pinned
# (their versions are unrelated). prashant1879's flask-crud-with-mysql-and-jwt lists
# mysql_connector_repackaged==0.3.1, whose mysql.connector imports its own _version as
# Python 2 did ("No module named '_version'").
_PYTHON3_TWINS = {
    "mysql-connector-repackaged": "mysql-connector-python",
    "mysql-python": "mysqlclient",
}
# A distribution named as the module of another project, listed for that project's:
# PyPI's ``decouple`` (0.0.7, "decoupling" helpers) for python-decouple's ``decouple``
# (tauhedulislam0001's JWT-Token-FastAPI lists ``decouple~=0.0.7`` and imports ``from
# decouple import config``: "cannot import name 'config' from 'decouple'").
# PyPI's ``sklearn`` too: a placeholder for scikit-learn's ``sklearn`` whose every build
# now fails on purpose (funmech's drf-lab lists ``sklearn==0.0.post12``: "Failed to build").
_ANOTHER_PROJECTS = {
    "decouple": "python-decouple",
    "sklearn": "scikit-learn",
    # PyPI's bson is py-bson, which overwrites pymongo's bson package and no longer builds
    # (RomanovRomanU's SimpleAppointments-Flask- lists it beside PyMongo for ``from
    # bson.objectid import ObjectId``: "Failed to build `bson==0.4.8`").
    "bson": "pymongo",
}
# Settings listing dotted module paths (``INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS``).
_MODULE_LISTS = ("INSTALLED_APPS", "MIDDLEWARE", "MIDDLEWARE_CLASSES")


@cache
def import_mapping() -> dict[str, str] | None:
    """pipreqs' import name → distribution table, with :data:`_DJANGO_APPS` and
    :data:`_ELSEWHERE_ON_PYPI`; None when pipreqs is not installed."""
    try:
        text = resources.files("pipreqs").joinpath("mapping").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
    table = {}
    for line in text.splitlines():
        name, sep, distribution = line.strip().partition(":")
        if sep and name and distribution:
            table[name] = distribution
    return {**table, **_DJANGO_APPS, **_ELSEWHERE_ON_PYPI}


def _listed_modules(node: ast.AST) -> set[str]:
    """Top-level names of the dotted modules a Django setting lists, where ``node``
    assigns one (``INSTALLED_APPS = [...]``, ``THIRD_PARTY_APPS = (...)``, ``+=``)."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return set()
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    if not any(n in _MODULE_LISTS or n.endswith(("_APPS", "_MIDDLEWARE")) for n in names):
        return set()
    strings = [n.value for n in walked(value) if isinstance(n, ast.Constant)]
    dotted = [s for s in strings if isinstance(s, str) and s.replace(".", "").isidentifier()]
    return {s.split(".")[0] for s in dotted}


def _tortoise_modules(tree: ast.AST) -> set[str]:
    """Top-level names of the modules a Tortoise ORM configuration lists under
    ``"models"`` (``"apps": {"models": {"models": ["app.models", "aerich.models"]}}``,
    ``register_tortoise(modules={"models": [...]})``), which Tortoise imports by name."""
    found = set()
    for node in walked(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and key.value == "models"):
                continue
            if isinstance(value, ast.List | ast.Tuple):
                strings = [e.value for e in value.elts if isinstance(e, ast.Constant)]
                dotted = [
                    s for s in strings if isinstance(s, str) and s.replace(".", "").isidentifier()
                ]
                found.update(s.split(".")[0] for s in dotted)
    return found


def imported_names(files: dict[str, bytes], *, nested_own: bool = True) -> set[str]:
    """Top-level names the upload imports that are neither the standard library's nor
    its own modules'; with ``nested_own`` false, its own are those at its root alone (a
    module deep in a package, ``src/helpers/jwt.py``, is no ``import jwt``'s)."""
    own = _own_names(files) if nested_own else _root_names(files)
    found: set[str] = set()
    for path in python_files(files):
        tree = parse_module(files[path])
        if tree is None:
            continue
        found |= _top_imports(tree)
        for node in tree.body:  # what Django imports for it, by name
            found |= _listed_modules(node)
        found |= _tortoise_modules(tree)
    stdlib = set(sys.stdlib_module_names)
    found = {name for name in found if name not in stdlib and name not in own and name}
    found -= own_folder_names(files)  # its own root folder's name (from backend.web …)
    # An Alembic environment (env.py's `from alembic import context`, a module the scan
    # skips, in a folder ``alembic init alembic`` names alembic): its upgrade is a set-up
    # step, which needs Alembic (piyota0901's fastapi-todo-app: never installed).
    if _alembic_envs(files):
        found.add("alembic")
    return found


def imported_as_loaded(files: dict[str, bytes]) -> set[str]:
    """Top-level names the upload's modules import as they load: outside any function's
    body (an import inside one runs when it is called: a route's own, alone)."""
    found: set[str] = set()
    for path in python_files(files):
        tree = parse_module(files[path])
        if tree is None:
            continue
        stack: list[ast.AST] = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            stack.extend(ast.iter_child_nodes(node))
    return found


def inferred_requirements(files: dict[str, bytes]) -> tuple[list[str], str] | None:
    """(distributions, how they were found) for the upload's imports; None when nothing
    can be inferred (no mapping here, or no import outside its own modules)."""
    mapping = import_mapping()
    names = imported_names(files)
    if mapping is None or not names:
        return None
    listed = sorted({mapping.get(name, name) for name in names}, key=str.lower)
    said = ", ".join(
        f"{name} → {mapping[name]}" if name in mapping else name for name in sorted(names)
    )
    return listed, said


def _root_names(files: dict[str, bytes]) -> set[str]:
    """The module and package names at the upload's root (``jwt.py``, ``app/``)."""
    return {p.split("/")[0].removesuffix(".py") for p in files}


def _own_names(files: dict[str, bytes]) -> set[str]:
    """Every module or package name the upload could import from itself, whatever its
    sys.path: each directory's and each module's name, at any depth."""
    own = set()
    for path in files:
        parts = path.split("/")
        own.update(parts[:-1])
        if path.endswith(".py"):
            own.add(posixpath.basename(path)[:-3])
    return own


# A distribution built from source (a compiler, its library's headers, a minute) whose
# twin ships the same module as wheels, from the twin's first version on.
_BINARY_TWINS = {"psycopg2": ("psycopg2-binary", "2.7.4")}  # its first release


def binary_twins(lines: list[str]) -> tuple[list[str], list[str]]:
    """``lines`` with ``psycopg2`` as ``psycopg2-binary`` (the same module, as wheels)
    where the versions it allows include one of the twin's, ``psycopg[c]`` as
    ``psycopg[binary]``, and a Python 2 relic as the
    distribution of its module that runs on Python 3 (:data:`_PYTHON3_TWINS`); and what
    was changed."""
    out, notes = [], []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            out.append(line)
            continue
        name = requirement.name.lower().replace("_", "-").replace(".", "-")
        if (modern := _PYTHON3_TWINS.get(name)) is not None:
            requirement.name, requirement.specifier = modern, SpecifierSet()
            out.append(str(requirement))
            notes.append(
                f"{line.strip()} → {requirement}: the same module, for Python 3 ({line.strip()} "
                "is Python 2's)"
            )
            continue
        if (meant := _ANOTHER_PROJECTS.get(name)) is not None:
            requirement.name, requirement.specifier = meant, SpecifierSet()
            out.append(str(requirement))
            notes.append(
                f"{line.strip()} → {requirement}: the project whose module the code imports "
                f"({name} on PyPI is another's)"
            )
            continue
        if name == "psycopg" and "c" in requirement.extras:
            # psycopg 3's C implementation compiled here (a compiler, libpq's headers, and
            # minutes of a launch: ja-camus's blog-fastapi, out of time installing) is
            # the one its ``binary`` extra ships built.
            requirement.extras = (requirement.extras - {"c"}) | {"binary"}
            out.append(str(requirement))
            notes.append(
                f"{line.strip()} → {requirement}: psycopg's C implementation as wheels "
                "(building it from source takes a compiler and libpq's headers)"
            )
            continue
        twin = _BINARY_TWINS.get(name)
        if twin is None or not _twin_has(requirement.specifier, Version(twin[1])):
            out.append(line)
            continue
        requirement.name = twin[0]
        out.append(str(requirement))
        notes.append(
            f"{line.strip()} → {requirement}: the same module as wheels (building it from "
            "source takes a compiler and its library's headers)"
        )
    return out, notes


def _twin_has(specifier: SpecifierSet, first: Version) -> bool:
    """Whether the versions ``specifier`` allows are the twin's (from ``first`` on)."""
    pins = [s for s in specifier if s.operator in ("==", "===")]
    try:
        if pins:
            return all(Version(p.version.removesuffix(".*")) >= first for p in pins)
    except InvalidVersion:
        return False
    newest = Version(f"{first.major}.99")
    return not specifier or specifier.contains(newest) or specifier.contains(first)


def setup_requirements(files: dict[str, bytes], directory: str) -> tuple[list[str], str] | None:
    """(its requirement lines, the file they come from) of the setuptools project in
    ``directory``; None when it has none, or lists them only in a way read by running it.

    ``pip install -e .`` is how such a project is installed; with no requirements.txt nor
    pyproject.toml dependencies, its setup.py is its dependency file. Read by the imports
    instead (lafrech's flask-smorest-sqlalchemy-example), the newest of each was installed:
    flask-smorest 0.40 for the ``>=0.18.0,<0.19`` it pins, whose ``@blp.response`` takes
    the status code first, and every route module failed at import."""
    path = posixpath.join(directory, "setup.py")
    if path in files and (found := _from_setup_py(files[path])) is not None:
        return found, path
    path = posixpath.join(directory, "setup.cfg")
    if path in files and (found := _from_setup_cfg(files[path])) is not None:
        return found, path
    return None


def _from_setup_py(data: bytes) -> list[str] | None:
    try:
        tree = parse_source(data)
    except (SyntaxError, ValueError, RecursionError):
        return None
    bound: dict[str, ast.expr] = {}  # module-level `REQUIRES = [...]`
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            bound[node.targets[0].id] = node.value
    for node in walked(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        if name != "setup":
            continue
        value = next((k.value for k in node.keywords if k.arg == "install_requires"), None)
        if isinstance(value, ast.Name):
            value = bound.get(value.id)
        try:
            listed = ast.literal_eval(value) if value is not None else None
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return None
        if isinstance(listed, list | tuple) and all(isinstance(r, str) for r in listed):
            return [r.strip() for r in listed if r.strip()] or None  # []: the imports say
        return None
    return None


def _from_setup_cfg(data: bytes) -> list[str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8", "replace"))
    except configparser.Error:
        return None
    text = parser.get("options", "install_requires", fallback=None)
    if text is None:
        return None
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line] or None


def source_roots(files: dict[str, bytes], installed: set[str]) -> list[str]:
    """The folders the upload's own code imports modules of by their top-level names, from
    modules within them: an IDE's "sources root", which puts them on ``sys.path``; the
    root (``""``) last, where a module below it imports one only the root holds.
    brithely's todo-python-litestar-api marks ``src/`` so (its .idea):
    ``src/users/adapters/orm.py`` imports ``from databases import ModelBase``
    (``src/databases.py``) and its Alembic env.py ``from src.users.adapters.orm import
    User``, from the root: "No module named 'databases'" from either place without it.
    A name the root has too, the standard library's, or one of a distribution the app
    installs (``installed``, its normalised names) says nothing: Django's ``proj/celery.py``
    imports the installed celery, and on the path it would shadow it everywhere. Nor does
    a module importing its own name (that ``celery.py`` with celery installed only by a
    dependency: ``from celery import Celery`` there is the package, never itself)."""
    mapping = import_mapping() or {}
    # (an Alembic env.py too, which the app's own modules leave out: its step runs there)
    paths = list(dict.fromkeys([*python_files(files), *_alembic_envs(files)]))
    at_root = {p.split("/", 1)[0].removesuffix(".py") for p in paths}
    stdlib = set(sys.stdlib_module_names)
    # The modules below the root, by name: only a file whose import lines name one is
    # parsed (parsing every file took 0.5 s for 680 of them, at each launch, on the loop).
    below = {
        posixpath.basename(p).removesuffix(".py") for p in files if "/" in p and p.endswith(".py")
    }
    # and its folders of modules, a package's (``__init__.py``) or a namespace's, which a
    # dotted import names (danielhamelberg's fastapi-microservice: ``from auth.utils import
    # …`` in src/main.py for src/auth/, no ``__init__.py``; skipped here, src/ was never
    # a sources root: "No module named 'auth'")
    below |= {posixpath.basename(posixpath.dirname(p)) for p in paths if p.count("/") >= 2}
    below |= {posixpath.basename(posixpath.dirname(p)) for p in files if p.endswith("/__init__.py")}
    below -= at_root | stdlib
    taken = stdlib | _installed_modules(installed)  # what a root on the path would shadow
    # and the root's folders without an __init__.py: a namespace package loses to any
    # module of its name anywhere on the path (uablor's Hotel-drf: ``common/`` beside
    # ``core/settings/common.py``, that folder put on the path for a stray file's ``from
    # prod import *``: "No module named 'common.models'; 'common' is not a package").
    shadowed = taken | _namespace_roots(files, paths)
    tops = sorted(_top_folders(paths))
    roots: list[str] = []
    for path in paths:
        if "/" not in path:
            continue
        named = _imports_in_text(files[path])
        if named is not None and not named & below:
            continue
        if (tree := parse_module(files[path])) is None:
            continue
        dotted = _dotted_tops(tree)
        for name in _top_imports(tree) - at_root - stdlib:
            if {canonicalize_name(name), canonicalize_name(mapping.get(name, name))} & installed:
                continue
            holds = partial(_holds_module, files, paths, name, dotted.get(name), path)
            folder = posixpath.dirname(path)
            while folder and not holds(folder):  # the nearest folder above the importer
                folder = posixpath.dirname(folder)
            if not folder:
                # None above it: a sibling of its top folder, where only one holds it.
                # withfaithinFuture's FastapiPetproj: ``alembic/env.py`` imports
                # ``db.base_service``, which only ``src/db/`` holds ("No module named
                # 'db'" at ``alembic upgrade head``, its author's PYTHONPATH=src).
                mine = path.split("/", 1)[0]
                holding = [top for top in tops if top != mine and holds(top)]
                folder = holding[0] if len(holding) == 1 else ""
            if folder and not _shadowing(files, folder, shadowed):
                roots.append(folder)
    if _root_imported_from_below(files, paths, taken) and not _shadowing(files, "", taken):
        roots.append("")
    return list(dict.fromkeys(roots))


def _alembic_envs(files: dict[str, bytes]) -> list[str]:
    """The upload's Alembic ``env.py`` files, under any name of their folder."""
    return [p for p in files if posixpath.basename(p) == "env.py" and _ALEMBIC_ENV.search(files[p])]


def _holds_module(
    files: dict[str, bytes],
    paths: list[str],
    name: str,
    inner: set[str] | None,
    importer: str,
    folder: str,
) -> bool:
    """Whether ``folder`` holds the module or package ``name`` that ``importer`` imports
    (``inner``: the module paths it names inside it, where it imports it with a dot)."""
    module = posixpath.join(folder, f"{name}.py")
    package = posixpath.join(folder, name, "__init__.py")
    if inner is not None:
        # Imported with a dot (``apps.content.models``), it is a package, never a module
        # file: pjesus22's simple-drf-blog's ``src/apps/content/apps.py`` (Django's
        # AppConfig) put on the path shadowed its ``src/apps`` folder.
        return any(
            p.startswith(posixpath.join(folder, name, part)) for part in inner for p in paths
        )
    return (module in files and module != importer) or package in files


def _top_folders(paths: list[str]) -> set[str]:
    """The root's folders that hold Python modules."""
    return {p.split("/", 1)[0] for p in paths if "/" in p}


def _namespace_roots(files: dict[str, bytes], paths: list[str]) -> set[str]:
    """The root's folders of Python modules that have no ``__init__.py``."""
    return {folder for folder in _top_folders(paths) if f"{folder}/__init__.py" not in files}


def _root_imported_from_below(files: dict[str, bytes], paths: list[str], taken: set[str]) -> bool:
    """Whether a module below the root imports a module or package of the root's (not one
    of ``taken``: the standard library's, an installed distribution's) that no folder
    between them holds: its author runs it from the root, with the root on the path (an
    IDE's content root, ``poetry install``). moreirak14's auth-api-django runs ``python
    src/manage.py``, whose ``src/django_app/settings.py`` imports ``from config import
    settings`` (the root's ``config.py``): Python puts ``src/`` on the path, not the
    folder it runs in ("No module named 'config'")."""
    at_root = {p.removesuffix(".py") for p in paths if "/" not in p}
    at_root |= {p.split("/")[0] for p in paths if p.count("/") == 1 and p.endswith("/__init__.py")}
    at_root -= taken | {"__init__", "__main__", "setup", "manage", "conftest"}
    for path in paths:
        if "/" not in path:
            continue
        named = _imports_in_text(files[path])
        if named is not None and not named & at_root:
            continue
        if (tree := parse_module(files[path])) is None:
            continue
        for name in _top_imports(tree) & at_root:
            folder = posixpath.dirname(path)
            while folder and not (
                posixpath.join(folder, f"{name}.py") in files
                or posixpath.join(folder, name, "__init__.py") in files
            ):
                folder = posixpath.dirname(folder)
            if not folder:  # only the root holds it
                return True
    return False


def _installed_modules(installed: set[str]) -> set[str]:
    """The module names of the distributions ``installed`` (normalised names): each its
    own name as a module, and those pipreqs' table gives it (``mysql``:
    mysql-connector-python)."""
    mapping = import_mapping() or {}
    named = {name.replace("-", "_") for name in installed}
    return named | {m for m, d in mapping.items() if canonicalize_name(d) in installed}


def _shadowing(files: dict[str, bytes], folder: str, taken: set[str]) -> bool:
    """Whether ``folder`` holds a module named as one of ``taken`` (the standard
    library's, an installed distribution's), which on the path would be imported in its
    place by everything: GlazovDaniil's DRF-events-website-API has
    ``events/meetings/calendar.py`` (``from models import Timetable``, imported by
    nothing); with that folder on the path Django's own ``import calendar`` loaded it, and
    no manage.py command ran ("Couldn't import Django"). nvson2201's fastapi-blog keeps
    ``app/plugins/{kafka,mysql,redis}/``: its kafka plugin's ``from kafka import …``
    (kafka-python, unlisted) put ``app/plugins`` on the path, and SQLAlchemy's ``from
    mysql import connector`` loaded the plugin ("cannot import name 'connector'")."""
    names = {
        posixpath.basename(p).removesuffix(".py")
        for p in files
        if posixpath.dirname(p) == folder and p.endswith(".py")
    }
    names |= {
        posixpath.basename(posixpath.dirname(p))
        for p in files
        if posixpath.dirname(posixpath.dirname(p)) == folder and p.endswith("/__init__.py")
    }
    return bool((names - {"__init__", "__main__", "test"}) & taken)


def own_folder_names(files: dict[str, bytes]) -> set[str]:
    """The names the upload's code imports its own root folder by (``from backend.web.apis
    import todo`` where ``web/apis/`` is at the root): its author runs it from the folder
    above (``cd backend && PYTHONPATH=../ uvicorn web.main:app``), a folder the upload is
    only the inside of. piyota0901's fastapi-todo-app uploaded as its ``backend/``: the
    name was taken for a distribution ("only backend>=0.2 is available"), and no path
    imports it. A name counts where every module path imported under it is one at the
    root (a module, or a folder: a namespace package), one at least; never a name of
    the upload's own modules, of the standard library's or of a known distribution's.
    Where a module at the root imports its siblings relatively, the root's package name
    too (:data:`.pyapp.ROOT_PACKAGE`), which the app is served by; and the name a package
    upload imports itself by (:func:`.pyapp.root_package_name`)."""
    if not files:
        return set()
    own = _own_names(files)
    mapping = import_mapping() or {}
    stdlib = set(sys.stdlib_module_names)
    folders = {posixpath.dirname(p) for p in files} - {""}
    folders |= {"/".join(f.split("/")[:i]) for f in folders for i in range(1, f.count("/") + 1)}
    known = own | stdlib | mapping.keys()
    found: dict[str, bool] = {}
    for path in python_files(files):
        # Only a module whose import lines name something unknown is parsed (parsing
        # every module of a large upload takes a second, at each launch).
        named = _imports_in_text(files[path])
        if named is not None and named <= known:
            continue
        if (tree := parse_module(files[path])) is None:
            continue
        for top, inner in _dotted_modules(tree):
            if top in own or top in stdlib or top in mapping:
                continue
            at = inner.replace(".", "/")
            here = at in folders or f"{at}.py" in files
            found[top] = found.get(top, True) and here
    own_names = {name for name, here in found.items() if here}
    if (package := root_package_name(files)) is not None:
        own_names.add(package)  # a package upload's name for itself (``from billApp import``)
    return own_names | ({ROOT_PACKAGE} if root_imports_relatively(files) else set())


def _dotted_modules(tree: ast.AST) -> list[tuple[str, str]]:
    """(top-level name, the module path inside it) of each absolute import of a module
    inside a package (``import a.b.c``, ``from a.b import c``: ``("a", "b.c")``,
    ``("a", "b")``); ``from a import b`` names ``("a", "")``, which no root holds."""
    found = []
    for node in walked(tree):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        for module in modules:
            top, _, inner = module.partition(".")
            if inner or isinstance(node, ast.ImportFrom):
                found.append((top, inner))
    return found


# Where an import statement can start: a line's start, after ``;``, or after a compound
# statement's ``:`` on its line; then ``import`` names or ``from`` a module (not ``.x``).
_IMPORT_TEXT = re.compile(
    rb"(?:^|[;:])[ \t]*(?:import[ \t]+([^#\n;]*)|from[ \t]+([^\s.]\S*))", re.M
)


def _imports_in_text(data: bytes) -> set[str] | None:
    """The top-level names a module's import statements name, read from its text (a
    superset of its tree's: in a string too); None where the text cannot say (a line
    continued with a backslash)."""
    names: set[str] = set()
    for listed, module in _IMPORT_TEXT.findall(data):
        if module:
            names.add(module.decode("utf-8", "replace").split(".")[0])
            continue
        if listed.rstrip().endswith(b"\\"):
            return None
        for part in listed.decode("utf-8", "replace").split(","):
            words = part.split()
            if words:
                names.add(words[0].split(".")[0])
    return names


def _dotted_tops(tree: ast.AST) -> dict[str, set[str]]:
    """The top-level names a module imports something inside of (``import a.b``, ``from
    a.b import c``): packages, each with the names it imports inside them (``b``)."""
    names: dict[str, set[str]] = {}
    dotted = [a.name for n in walked(tree) if isinstance(n, ast.Import) for a in n.names]
    dotted += [
        n.module
        for n in walked(tree)
        if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module
    ]
    for module in dotted:
        top, _, rest = module.partition(".")
        if rest:
            names.setdefault(top, set()).add(rest.split(".")[0])
    return names


def _top_imports(tree: ast.AST) -> set[str]:
    """The top-level names a module's ``import`` and ``from … import`` statements import
    (``from .x``, relative, names none)."""
    names: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


# Start arguments naming a module and its app (uvicorn's ``app.main:app``, gunicorn's
# ``run:create_app()``) or a script (``python main.py``).
_MODULE_ARGUMENT = re.compile(r"^([A-Za-z_][\w.]*):[A-Za-z_][\w.]*(?:\(.*\))?$")


def imported_at_start(files: dict[str, bytes], argv: Sequence[str]) -> set[str]:
    """The top-level names not of the upload's files nor the standard library that the
    modules its start command ``argv`` names import unconditionally as they load, and the
    upload's modules those import, followed: outside any function, ``if`` (a platform's,
    a setting's), ``try`` with a handler (an optional import) and ``__main__`` block;
    empty where the command names no module of the upload. (A name of the upload's own
    found nowhere, ``from app import missing_module``, is among them: the remedies know
    it for the upload's.)"""
    words = [w for arg in argv for w in arg.split() if "{" not in w]
    todo = [path for word in words for path in _started_files(word, words, files)]
    seen: set[str] = set()
    found: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = parse_module(files[path])
        if tree is None:
            continue
        for module, level in _unconditional_imports(tree):
            own = _own_module_files(module, level, path, files)
            if own:
                todo.extend(own)
            elif level == 0:
                found.add(module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "__future__"}


def _started_files(word: str, words: list[str], files: dict[str, bytes]) -> list[str]:
    """The upload's files a start argument names: a script, ``-m``'s module, a
    ``module:app``."""
    if word.endswith(".py") and word.lstrip("./") in files:
        return [word.lstrip("./")]
    index = words.index(word)
    after_m = index > 0 and words[index - 1] == "-m"
    match = _MODULE_ARGUMENT.match(word)
    if match is None and not after_m:
        return []
    module = match.group(1) if match is not None else word
    return _own_module_files(module, 0, "", files)


def _unconditional_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """(module, relative level) of each import a module runs whenever it loads: its
    ``from x import y`` as ``x.y`` too (``y`` may be a module)."""
    found: list[tuple[str, int]] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((base, node.level))
            prefix = f"{base}." if base else ""
            found.extend((prefix + alias.name, node.level) for alias in node.names)
        elif isinstance(node, ast.Try) and not node.handlers:
            stack.extend([*node.body, *node.finalbody])
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.ClassDef)):
            stack.extend(node.body)
    return found


def _own_module_files(module: str, level: int, importer: str, files: dict[str, bytes]) -> list[str]:
    """The upload's file of ``module`` (relative at ``level`` to ``importer``, else from
    the root or the importer's folder, as a script's run puts it on the path), and its
    packages' ``__init__.py`` files that loading it runs; [] where it is not the upload's."""
    if level:
        base = posixpath.dirname(importer)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        roots = [base]
        if not module:
            return []
    else:
        roots = list(dict.fromkeys(["", posixpath.dirname(importer)]))
    parts = module.split(".")
    for root in roots:
        here = posixpath.join(root, *parts)
        for path in (f"{here}.py", f"{here}/__init__.py"):
            if path in files:
                packages = [
                    posixpath.join(root, *parts[:n], "__init__.py") for n in range(1, len(parts))
                ]
                return [path, *(p for p in packages if p in files)]
    return []
