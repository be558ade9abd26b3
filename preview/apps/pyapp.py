"""Where a Python upload creates its web app: :func:`made_app` and :func:`find_wsgi_module`
(:mod:`.served`: the module that serves it).

Read with :mod:`ast`, never imported. An app is a module-level assignment of an app
object (``app = FastAPI()``, ``app = falcon.App()``, ``app = config.make_wsgi_app()``) or,
failing that, a factory function creating one (``create_app()``, Pyramid's ``main``). An
app a class makes in a method (``self.app = FastAPI()``) counts where the module binds it
from an instance (``app = AppCreator().app``, or ``creator = AppCreator()`` then ``app =
creator.app``). A statement in a top-level ``with``/``try``/``if`` block counts as
module-level, since it runs on import, but not one under ``if __name__ == "__main__"``.
With no app anywhere else, a module with a syntax error is read as far as it can be
(``readable_part``). :func:`detect <.detect.detect>` turns what is found into a command.
"""

from __future__ import annotations

import ast
import posixpath
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ..discovery.pyast import (
    FUNCTION_NODES,
    is_none,
    last_name,
    parse_module,
    readable_part,
    walked,
)
from ..discovery.pyast import dotted_name as _dotted
from ..discovery.pyast import import_aliases as _aliases
from ..discovery.pyast import module_level as _module_level

__all__ = [
    "ROOT_PACKAGE",
    "TEST_MODULE",
    "FoundApp",
    "app_classes",
    "app_in_module",
    "binds",
    "find_wsgi_module",
    "holds_module",
    "import_root",
    "located",
    "made_app",
    "parse_module",
    "python_files",
    "rank",
    "required_positionals",
    "root_imports_relatively",
    "root_package_name",
    "runs_in_its_folder",
]

# A module of the upload's tests (a tests/ folder's, test_x.py, x_test.py, conftest.py):
# what the app's own code is read without.
TEST_MODULE = re.compile(r"(?:^|/)tests?/|(?:^|/)(?:test_[^/]*|[^/]*_test|conftest)\.py$")

# The name the upload's root is imported by where a module there imports its siblings
# relatively (``from .db import engine`` in ``main.py``): a module of no package refuses
# that ("attempted relative import with no known parent package"); its author ran it as
# FastAPI's CLI does, from the folder above (``fastapi dev main.py``, the root holding an
# ``__init__.py``). A package of this name whose path is the root is written for it
# (``written.ownname``), and the app is served as ``uploaded_app.main``.
ROOT_PACKAGE = "uploaded_app"

# App classes known by their name alone (``FastAPI(...)`` is unambiguous): framework.
_ASGI = {"FastAPI": "fastapi", "Starlette": "starlette", "Litestar": "litestar", "Quart": "quart"}
_ASGI["Sanic"] = "sanic"  # an ASGI app too: uvicorn runs its server listeners at start-up
_WSGI = {"Flask": "flask", "Bottle": "bottle"}
# Names too common to trust alone (``App()``): known by what they were imported from.
_QUALIFIED = {
    "falcon.App": ("falcon", False),
    "falcon.API": ("falcon", False),  # Falcon before 3.0
    "falcon.asgi.App": ("falcon", True),
    "bottle.default_app": ("bottle", False),
    "bottle.app": ("bottle", False),
}
_METHODS = {"make_wsgi_app": "pyramid"}  # config.make_wsgi_app(), whatever "config" is
_FACTORY_NAMES = ("create_app", "make_app", "get_app", "build_app", "app_factory", "application")
_FACTORY_NAMES += ("create", "factory")  # `sanic sanic_template.app.create --factory`
_PREFERRED_FILES = ("main.py", "app.py", "asgi.py", "server.py", "api.py", "wsgi.py", "run.py")
_SKIPPED_DIRS = {"tests", "test", "node_modules", "migrations", "alembic", "venv", ".venv", "docs"}

_ALEMBIC_ENV = re.compile(rb"^\s*from alembic import context\b", re.MULTILINE)

Kind = tuple[str, bool]  # (framework, ASGI?)


@dataclass(frozen=True)
class FoundApp:
    """An app object (or its factory) and how to import it."""

    path: str  # the module's file in the upload
    attr: str
    framework: str  # fastapi, flask, falcon, pyramid, wsgi …
    factory: bool
    asgi: bool
    directory: str = ""  # the directory to import from ("": the upload's root)
    module: str = ""  # dotted module name from there
    arguments: int = 0  # positional arguments the factory needs (Pyramid's global_config)


def python_files(files: dict[str, bytes]) -> list[str]:
    """Python sources worth looking at, outside tests (pytest's conftest.py too: its fixture
    making an app, RashminDungrani's fastapi-invoice-app's, was served), migrations and
    environments; an Alembic ``env.py`` under any name of its folder too
    (docker-flask-example's ``db/``, whose ``app = create_app()`` was served, and died on
    ``context.config``)."""
    skipped = _SKIPPED_DIRS.intersection
    return [
        p
        for p in files
        if p.endswith(".py")
        and not skipped(p.split("/")[:-1])
        and not posixpath.basename(p).startswith("test_")
        and posixpath.basename(p) != "conftest.py"  # pytest's fixtures: an app it tests
        and not (posixpath.basename(p) == "env.py" and _ALEMBIC_ENV.search(files[p]))
    ]


def _kind(node: ast.AST, aliases: dict[str, str]) -> Kind | None:
    """What app a call creates, if it creates one."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    local = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    name = aliases.get(local, local).rpartition(".")[2]  # `import X as Y`, a subclass's base
    if (known := _known_class(name)) is not None:
        return known
    if isinstance(func, ast.Attribute) and func.attr in _METHODS:
        return _METHODS[func.attr], False
    if (extended := _extension_class(name, aliases.get(local, ""))) is not None:
        return extended
    dotted = _dotted(func)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    return _QUALIFIED.get(aliases.get(head, head) + (f".{rest}" if rest else ""))


def _known_class(name: str) -> Kind | None:
    """The kind of app a class of that name makes (:data:`_ASGI`, :data:`_WSGI`)."""
    if name in _ASGI:
        return _ASGI[name], True
    if name in _WSGI:
        return _WSGI[name], False
    return None


def _extension_class(name: str, imported: str) -> Kind | None:
    """The kind of an app class an extension of a framework publishes under its name
    (``from flask_lambda import FlaskLambda``: gromenawuer12's flask-lambda-base, "Found no
    way to start this app"; apiflask's ``APIFlask``, flask_api's ``FlaskAPI``): a class
    whose name holds the framework's class's, imported from a package whose name holds
    the framework's."""
    origin = imported.partition(".")[0].lower()  # (``imported``: what the name was bound to)
    for framework_class, kinds in ((_WSGI, False), (_ASGI, True)):
        for cls, framework in framework_class.items():
            if cls in name and cls != name and framework in origin:
                return framework, kinds
    return None


def required_positionals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """How many positional parameters ``function`` has without a default."""
    args = function.args
    return len(args.posonlyargs) + len(args.args) - len(args.defaults)


def _takes_script_info(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a Flask factory's one required parameter is the ScriptInfo Flask's CLI
    before 2.0 passed it (``def create_app(script_info):``)."""
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return required_positionals(function) == 1 and names[:1] in (["script_info"], ["info"])


def _callee(node: ast.AST) -> str:
    """The name a call calls (``create_app`` of ``factory.create_app()``); "" for no call."""
    return (last_name(node.func) or "") if isinstance(node, ast.Call) else ""


def _held(tree: ast.Module, aliases: dict[str, str]) -> dict[str, dict[str, Kind]]:
    """Classes, by name, whose methods make an app as an attribute: {attr: kind}, and
    {"method()": kind} for each method returning it (``return self.app``)."""
    holders: dict[str, dict[str, Kind]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in walked(node):
            if isinstance(item, ast.Assign) and (kind := _kind(item.value, aliases)):
                for target in item.targets:
                    if isinstance(target, ast.Attribute) and _dotted(target.value) == "self":
                        holders.setdefault(node.name, {})[target.attr] = kind
        held = holders.get(node.name, {})
        for method in (n for n in node.body if isinstance(n, FUNCTION_NODES)):
            for item in walked(method):
                value = item.value if isinstance(item, ast.Return) else None
                if not isinstance(value, ast.Attribute) or _dotted(value.value) != "self":
                    continue
                if (kind := held.get(value.attr)) is not None:
                    held[f"{method.name}()"] = kind
    return holders


def _held_kind(
    value: ast.AST, holders: dict[str, dict[str, Kind]], instances: dict[str, str]
) -> Kind | None:
    """The kind of ``Holder().app`` or ``holder.app`` (``holder = Holder()``), or of a
    method's call returning it (``holder.get_app()``)."""
    wanted = ""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        value, wanted = value.func, "()"
    if not isinstance(value, ast.Attribute):
        return None
    owner = value.value
    name = _callee(owner) if isinstance(owner, ast.Call) else instances.get(_dotted(owner) or "")
    return holders.get(name or "", {}).get(value.attr + wanted)


def _candidates(
    path: str,
    tree: ast.Module,
    factories: dict[str, Kind],
    classes: dict[str, str],
    held: dict[str, dict[str, Kind]] | None = None,
) -> list[FoundApp]:
    """The app objects (else factories) the module at ``path`` makes; ``held`` the holder
    classes (:func:`_held`) of the upload's other modules, which it may import."""
    aliases = _with_subclasses(tree, classes)
    holders = {**(held or {}), **_held(tree, aliases)}
    instances: dict[str, str] = {}  # module-level names bound to a holder's instance
    found: list[FoundApp] = []
    for node in _module_level(tree.body):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if (holder := _callee(node.value)) in holders:
                instances.update((t.id, holder) for t in targets if isinstance(t, ast.Name))
            kind = (
                _kind(node.value, aliases)
                or factories.get(_callee(node.value))
                or _held_kind(node.value, holders, instances)
                or _built(node.value, aliases, tree, targets)
            )
            if kind is None:
                continue
            for target in targets:
                if isinstance(target, ast.Tuple):
                    target = _unpacked_app(target, node.value, tree, aliases)
                if isinstance(target, ast.Name):
                    found.append(FoundApp(path, target.id, kind[0], False, kind[1]))
    if not found:
        made = [n for n in tree.body if isinstance(n, FUNCTION_NODES) and n.name in factories]
        # One another factory here calls is that one's first step, not the app served.
        inner = {_callee(c) for f in made for c in walked(f) if _callee(c) != f.name}
        for node in made:
            if node.name not in inner or len(made) == 1:
                framework, asgi = factories[node.name]
                # Only Pyramid's convention says what to pass: main(global_config, **settings);
                # and Flask's CLI before 2.0, which called create_app(script_info) (jerr0328's
                # simple-flask-auth-app: "missing 1 required positional argument").
                needs = required_positionals(node) if framework == "pyramid" else 0
                if framework == "flask" and _takes_script_info(node):
                    needs = 1
                found.append(FoundApp(path, node.name, framework, True, asgi, arguments=needs))
    return found


def _unpacked_app(
    target: ast.Tuple, value: ast.expr, tree: ast.Module, aliases: dict[str, str]
) -> ast.expr:
    """The name a tuple's unpacking binds the app to (``app, api, celery = create_app()``,
    KiranPrasath-26's flask-kanban, served as ``create_app()``: "Application object must
    be callable"): the place of the app among what the factory returns (``return app,
    api, celery``, ``app`` bound to what it made), where this module defines it; else the
    target."""
    callee = _callee(value)
    function = next(
        (n for n in tree.body if isinstance(n, FUNCTION_NODES) and n.name == callee), None
    )
    if function is None:
        return target
    for item in walked(function):
        returned = item.value if isinstance(item, ast.Return) else None
        if not isinstance(returned, ast.Tuple) or len(returned.elts) != len(target.elts):
            continue
        for index, element in enumerate(returned.elts):
            if isinstance(element, ast.Name) and _binds_made(function, element.id, aliases):
                return target.elts[index]
    return target


def _binds_made(
    function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, aliases: dict[str, str]
) -> bool:
    """Whether ``function`` binds ``name`` to an app it makes (``app = Flask(__name__)``)."""
    return any(
        isinstance(item, ast.Assign)
        and _kind(item.value, aliases) is not None
        and any(isinstance(t, ast.Name) and t.id == name for t in item.targets)
        for item in walked(function)
    )


# The decorators that put a route on an app (``@app.get("/")``, Flask's ``@app.route``).
_ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket"}
)


def _built(
    value: ast.expr, aliases: dict[str, str], tree: ast.Module, targets: Sequence[ast.expr]
) -> Kind | None:
    """What app a builder's chain of calls makes from the app it is handed
    (``app = AppBuilder(app=FastAPI(…)).add_middleware(…).build()``: yxxjimin's
    fastapi-gym-crm), where the module puts routes on the name it binds (``@app.get``):
    the app class made inside the chain says which; None for any other value."""
    if not isinstance(value, ast.Call) or _kind(value, aliases) is not None:
        return None
    names = {t.id for t in targets if isinstance(t, ast.Name)}
    routed = any(
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in _ROUTE_DECORATORS
        and _dotted(decorator.func.value) in names
        for node in tree.body
        if isinstance(node, FUNCTION_NODES)
        for decorator in node.decorator_list
    )
    if not routed:
        return None
    return next((k for n in walked(value) if (k := _kind(n, aliases)) is not None), None)


def _with_subclasses(tree: ast.Module, classes: dict[str, str]) -> dict[str, str]:
    """The module's import aliases, where one imports an upload's subclass of an app
    class from its module (``from core.flask import FlaskWithContainer``: ganggas95's
    flask-api-solid-boilerplate, whose factory makes a ``FlaskWithContainer(__name__)``)
    naming the class it subclasses, as the subclass's own name does where it is defined."""
    aliases = _aliases(tree)
    for name, target in aliases.items():
        base = classes.get(target.rpartition(".")[2])
        if base is not None:
            aliases[name] = base
    return {**classes, **aliases}


def _subclasses(trees: dict[str, ast.Module]) -> dict[str, str]:
    """The upload's classes, by name, subclassing an app class (``class App(Sanic)``):
    the class they subclass."""
    found: dict[str, str] = {}
    for tree in trees.values():
        aliases = _aliases(tree)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                named = aliases.get(_dotted(base) or "", _dotted(base) or "").rpartition(".")[2]
                if named in _ASGI or named in _WSGI:
                    found.setdefault(node.name, named)
    return found


def _factories(trees: dict[str, ast.Module], classes: dict[str, str]) -> dict[str, Kind]:
    """Functions, by name, whose body creates an app and whose name says it is a factory."""
    factories: dict[str, Kind] = {}
    for tree in trees.values():
        aliases = _with_subclasses(tree, classes)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            made = next(filter(None, (_kind(n, aliases) for n in walked(node))), None)
            if made is None and (annotated := _annotated_app(node, aliases)) is not None:
                # Its return annotation says it makes one, however (juanstenghele's
                # fastapi-sandbox: ``def app() -> FastAPI:`` returning its AppBuilder's
                # build(), served ``uvicorn main:app --factory``: "Found no way").
                factories.setdefault(node.name, annotated)
                continue
            if made is None:
                continue
            if _factory_named(node.name) or (made[0] == "pyramid" and node.name == "main"):
                factories.setdefault(node.name, made)
            elif _returns_its_app(node, aliases):
                # Named as it likes, a function returning the app it makes is its factory:
                # slev-v's fastapi-user serves ``uvicorn --factory …web:init_api``.
                factories.setdefault(node.name, made)
    # A factory making its app by calling one and setting it up (demetrzz's template:
    # create_app() is init_app() with its Dishka container, which every route needs).
    for tree in trees.values():
        for node in tree.body:
            if not isinstance(node, FUNCTION_NODES) or node.name in factories:
                continue
            if not _factory_named(node.name):
                continue
            called = _returns_made(node, factories)
            if called:
                factories[node.name] = factories[called]
    return factories


def _returns_its_app(
    function: ast.FunctionDef | ast.AsyncFunctionDef, aliases: dict[str, str]
) -> bool:
    """Whether ``function`` returns an app it creates: the call itself, or a name bound to
    it (``app = FastAPI()`` … ``return app``)."""
    made: set[str] = set()
    for node in walked(function):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _kind(node.value, aliases) is not None:
                made.update(t.id for t in targets if isinstance(t, ast.Name))
    for node in walked(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Name) and value.id in made:
                return True
            if _kind(value, aliases) is not None:
                return True
    return False


def _returns_made(function: ast.FunctionDef | ast.AsyncFunctionDef, factories: dict) -> str | None:
    """The factory whose app ``function`` returns: a call of it returned, or a name bound
    to one (``app = init_app()`` … ``return app``); None where it returns something else
    (a run_app() serving what it made returns nothing; nickjj's create_celery_app() calls
    create_app() and returns the Celery app it makes from it, which no server serves)."""
    made: dict[str, str] = {}  # a name: the factory whose call it was bound to
    for node in walked(function):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found = next((c for n in ast.walk(node.value) if (c := _callee(n)) in factories), None)
            for target in targets:
                if isinstance(target, ast.Name) and found is not None:
                    made[target.id] = found
                elif isinstance(target, ast.Name):
                    made.pop(target.id, None)
    for node in walked(function):
        if not isinstance(node, ast.Return) or node.value is None or is_none(node.value):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in made:
            return made[node.value.id]
        if isinstance(node.value, ast.Call) and (called := _callee(node.value)) in factories:
            return called
    return None


def _annotated_app(
    function: ast.FunctionDef | ast.AsyncFunctionDef, aliases: dict[str, str]
) -> Kind | None:
    """The kind of app a function's return annotation names (``-> FastAPI``), if any."""
    returned = function.returns
    local = _dotted(returned) if returned is not None else None
    if local is None:
        return None
    return _known_class(aliases.get(local, local).rpartition(".")[2])


def _factory_named(name: str) -> bool:
    return name in _FACTORY_NAMES or "app" in name


def rank(candidate: FoundApp) -> tuple:
    name = posixpath.basename(candidate.path)
    preferred = _PREFERRED_FILES.index(name) if name in _PREFERRED_FILES else len(_PREFERRED_FILES)
    return (
        name == "__main__.py",  # a script's (python -m pkg), which runs a server of its own
        candidate.factory,
        preferred,
        candidate.path.count("/"),
        candidate.attr not in ("app", "application", "api"),
        candidate.path,
    )


def import_root(path: str, tree: ast.Module, files: dict[str, bytes]) -> tuple[str, str]:
    """(directory to import from, dotted module name) for the file at ``path``.

    Packages are the directories with an ``__init__.py``; a directory without one still
    counts when the module imports relatively or imports its own directory's name
    (``app/main.py`` doing ``from app.routers import items``); one it imports by its own
    name is a top-level one, in a folder with an ``__init__.py`` too (``src/api``).
    """
    parts = path[:-3].split("/")
    relative = any(isinstance(n, ast.ImportFrom) and n.level for n in walked(tree))
    if len(parts) == 1 and (own := root_package_name(files)) is not None:
        return "", own if parts[0] == "__init__" else f"{own}.{parts[0]}"
    if len(parts) == 1 and relative and parts[0] != "__init__":
        return "", f"{ROOT_PACKAGE}.{parts[0]}"
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()  # the package itself; its relative imports stay inside it
        relative = False
    root = len(parts) - 1  # parts[:root] is the module's directory
    imported = _absolute_imports(tree)
    while root > 0:
        if root < len(parts) - 1 and parts[root] in imported:
            break
        package = "/".join(parts[:root])
        if package + "/__init__.py" in files or parts[root - 1] in imported or relative:
            root -= 1
            relative = False
        else:
            break
    root = _ancestor_package_root(parts, root, _absolute_modules(tree), files)
    if not any(isinstance(n, ast.ImportFrom) and n.level for n in walked(tree)):
        root = _best_resolving(parts, root, imported, files)
    return "/".join(parts[:root]), ".".join(parts[root:])


def root_package_name(files: dict[str, bytes]) -> str | None:
    """The name a package upload (an ``__init__.py`` at its root) imports itself by, its
    author running it from the folder above: shahin-0's Flask-Billing-app uploaded as its
    ``billApp/``, whose ``__init__.py`` makes the app and ends ``from billApp import
    routes``, and ``routes.py`` does ``from billApp import app, db`` and ``from
    billApp.models import Item`` ("No module named 'billApp'"). A name counts where each
    import from it at the root names the root's modules or folders (``billApp.models``,
    ``from billApp import routes``, one at least) or what its ``__init__.py`` assigns
    (``app``, ``db``); never a module of the root's own, nor of the standard library.
    The app is then served as that package (``billApp:app``, ``billApp.main:app``),
    whose ``__init__.py`` is the root's (``written.ownname``); None for any other
    upload, or where two names would count."""
    if "__init__.py" not in files:
        return None
    at_root = frozenset(p.split("/")[0].removesuffix(".py") for p in files)
    modules = tuple((p, files[p]) for p in python_files(files) if "/" not in p)
    return _root_package_name(modules, at_root)  # (asked of each root module: cached)


@lru_cache(maxsize=16)
def _root_package_name(
    modules: tuple[tuple[str, bytes], ...], at_root: frozenset[str]
) -> str | None:
    init = parse_module(dict(modules).get("__init__.py", b"\0"))
    if init is None:
        return None
    assigned = _assigned_names(init)
    wrong: set[str] = set()
    named_modules: set[str] = set()
    for _, data in modules:
        tree = parse_module(data)
        for node in walked(tree) if tree is not None else ():
            for top, names in _imported_from(node):
                if top in at_root or top in sys.stdlib_module_names:
                    continue
                inside = [name for name in names if name not in assigned]
                if any(name not in at_root for name in inside):
                    wrong.add(top)
                elif inside:
                    named_modules.add(top)
    own = sorted(named_modules - wrong)
    return own[0] if len(own) == 1 else None


def _assigned_names(tree: ast.Module) -> set[str]:
    """The names a module's top level assigns or defines (not those it imports)."""
    names: set[str] = set()
    for node in _module_level(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _imported_from(node: ast.AST) -> list[tuple[str, list[str]]]:
    """(top-level name, what it names inside it) of an absolute import: ``from a.b import
    c``, ``import a.b``: ``("a", ["b"])``; ``from a import c, d``: ``("a", ["c", "d"])``."""
    if isinstance(node, ast.Import):
        dotted = [a.name.split(".") for a in node.names if "." in a.name]
        return [(parts[0], [parts[1]]) for parts in dotted]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        top, _, inner = node.module.partition(".")
        return [(top, [inner.split(".")[0]] if inner else [a.name for a in node.names])]
    return []


def root_imports_relatively(files: dict[str, bytes]) -> bool:
    """Whether a module at the upload's root (not its ``__init__.py``) imports relatively:
    the root is then a package, imported as :data:`ROOT_PACKAGE`."""
    for path in python_files(files):
        if "/" in path or path == "__init__.py" or b"from ." not in files[path]:
            continue
        tree = parse_module(files[path])
        if tree is not None and any(
            isinstance(n, ast.ImportFrom) and n.level for n in walked(tree)
        ):
            return True
    return False


def _best_resolving(
    parts: list[str], root: int, imported: set[str], files: dict[str, bytes]
) -> int:
    """The directory on the module's way (``parts[:k]``) from which most of its absolute
    imports resolve to the upload's own modules, where that is more than from ``root``.
    alibigdeli's FastApi-Blog-Authentication-App runs ``core/main.py`` from ``core/``
    (its Dockerfile copies ``./core`` into its WORKDIR; compose mounts it there), which
    imports ``core.database`` (``core/core/database.py``), ``blog`` and ``accounts``
    (``core/blog``, ``core/accounts``): read from the root, its ``from core…`` named the
    folder, and uvicorn could not import ``core.main``."""

    def resolved(k: int) -> int:
        base = "/".join(parts[:k])
        found = 0
        for name in imported:
            stem = f"{base}/{name}" if base else name
            if f"{stem}.py" in files or any(p.startswith(f"{stem}/") for p in files):
                found += 1
        return found

    best, most = root, resolved(root)
    for k in range(len(parts)):
        if k != root and (count := resolved(k)) > most:
            best, most = k, count
    return best


def _ancestor_package_root(
    parts: list[str], root: int, imported: set[str], files: dict[str, bytes]
) -> int:
    """The parent of the nearest folder on the module's way, above ``root``, that the
    module imports a module of by its folder's name (``from app.routers.users import …``
    in ``app/api/app.py``, ``app/routers/users.py`` there), whether or not the folders
    between have an ``__init__.py``: bmlrb2xh's simple-flask-backend-api, whose ``main.py``
    imports it as ``app.api.app``; from ``app/api/``, ``app`` was the module itself ("'app'
    is not a package"). ``root`` where there is none."""
    for j in range(root - 1, -1, -1):
        folder = "/".join(parts[: j + 1])
        for dotted in imported:
            top, _, rest = dotted.partition(".")
            inner = rest.split(".")[0]
            if top == parts[j] and inner and holds_module(files, folder, inner):
                return j
    return root


def _absolute_modules(tree: ast.Module) -> set[str]:
    """The dotted modules a module's absolute imports name (``from a.b import c``: ``a.b``;
    ``import a.b``: ``a.b``)."""
    names: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names


def _absolute_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def located(found: FoundApp, tree: ast.Module, files: dict[str, bytes]) -> FoundApp:
    directory, module = import_root(found.path, tree, files)
    return replace(found, directory=directory, module=module)


def holds_module(files: dict[str, bytes], folder: str, name: str) -> bool:
    """Whether the upload has the module or package ``name`` in ``folder`` ("" the root)."""
    module = posixpath.normpath(posixpath.join(folder, name)) if folder else name
    return f"{module}.py" in files or any(p.startswith(f"{module}/") for p in files)


def runs_in_its_folder(found: FoundApp, files: dict[str, bytes]) -> bool:
    """Whether the app ``found`` imports from a folder of the upload (``found.directory``)
    is run in that folder, as its author's ``cd app && uvicorn main:app`` or its image's
    ``WORKDIR`` does: the relative paths its code there hands to calls
    (``StaticFiles(directory="static")``, ``open("data/seed.json")``) name more of that
    folder's files than of the upload's root. bantosJerry's Dockerized FastAPI CRUD app
    (its Dockerfile copies ``./app`` into its WORKDIR) serves ``app/static/home.html``
    from ``os.getcwd()``: run from the root, its home page answered 500."""
    if not found.directory:
        return False
    prefix = f"{found.directory}/"
    top = found.directory.split("/")[0]
    if top in _imported_third_party(files, prefix):
        # The folder bears the name of a package its code imports (aniquequreshi's
        # fastapi-one keeps its app in fastapi/): from the root, ``import fastapi`` found
        # the folder ("cannot import name 'FastAPI' from 'fastapi' (fastapi/__init__.py)").
        return True
    present = set(files)
    present.update(p.rsplit("/", k)[0] for p in files for k in range(1, p.count("/") + 1))
    inside = outside = 0
    for path in [p for p in python_files(files) if p.startswith(prefix)]:
        tree = parse_module(files[path])
        for node in walked(tree) if tree is not None else ():
            if not isinstance(node, ast.Call):
                continue
            for name in _paths_given(node):
                inside += posixpath.normpath(prefix + name) in present
                outside += posixpath.normpath(name) in present
    return inside > outside


def _imported_third_party(files: dict[str, bytes], prefix: str) -> set[str]:
    """The top-level modules the sources under ``prefix`` import absolutely, that are no
    module of that folder's own, nor the folder itself imported by its name from above
    (arysaj's fastapi-unitofwork: ``from src.fastapi_unitofwork.schemas.token import …``
    in src/, its author's root on the path besides: run in src/, "No module named
    'src'")."""
    own = {
        p[len(prefix) :].split("/")[0].removesuffix(".py") for p in files if p.startswith(prefix)
    }
    name = posixpath.basename(prefix.rstrip("/"))
    imported: set[str] = set()
    for path in [p for p in python_files(files) if p.startswith(prefix)]:
        tree = parse_module(files[path])
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.Import):
                dotted = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                dotted = [node.module]
            else:
                continue
            for module in dotted:
                top, _, rest = module.partition(".")
                if not (top == name and rest.split(".")[0] in own):
                    imported.add(top)
    return imported - own


# A relative path a call is given (``static``, ``./templates``, ``data/seed.json``), or
# one up from the folder (xianhawk's fastapi-messenger, run from ``messenger/backend``:
# ``StaticFiles(directory="../frontend/static")`` and ``sqlite:///../db/messenger.db``).
_RELATIVE_PATH = re.compile(r"(?:\.\.?/)*[\w-][\w.-]*(?:/[\w-][\w.-]*)*/?")
# A keyword naming a path (``directory=``, ``template_folder=``, ``filename=``).
_PATH_KEYWORD = re.compile(r"dir|folder|path|file|root", re.IGNORECASE)
# Calls whose first argument is a path.
_PATH_CALLS = frozenset(
    {"open", "StaticFiles", "Jinja2Templates", "FileSystemLoader", "FileResponse", "Path"}
    | {"exists", "isdir", "isfile", "listdir", "makedirs", "mkdir", "load_dotenv", "read_csv"}
    | {"send_from_directory", "send_file", "render_template", "TemplateResponse"}
)


def _paths_given(call: ast.Call) -> list[str]:
    """The relative paths ``call`` is given as literals: a path of several names or a
    file's (``app/static``, ``data/seed.json``) wherever it is; a single word
    (``static``) only where a path is taken (``directory="static"``, ``open("data")``),
    not where a name is (``app.mount("/static", …, "static")``, SQLAlchemy's
    ``back_populates="posts"``: nshib00's myvkfeed-fastapi was run in its ``app/`` for
    those, its ``StaticFiles(directory='app/static')`` then missing)."""
    takes_path = last_name(call.func) in _PATH_CALLS
    given = [(a, takes_path and i == 0) for i, a in enumerate(call.args)]
    given += [(k.value, bool(k.arg and _PATH_KEYWORD.search(k.arg))) for k in call.keywords]
    found: list[str] = []
    for argument, at_path in given:
        name = argument.value if isinstance(argument, ast.Constant) else None
        if not isinstance(name, str) or not _RELATIVE_PATH.fullmatch(name):
            continue
        if at_path or "/" in name.rstrip("/") or "." in name.lstrip("."):
            found.append(name)
    return found


def made_app(files: dict[str, bytes]) -> tuple[FoundApp, dict[str, ast.Module]] | None:
    """The best module-level app object, else the best factory, in the upload, with the
    parsed modules it was chosen from (by path); :func:`.served.find_app` then finds the
    module that serves it."""
    trees = {p: t for p in python_files(files) if (t := parse_module(files[p])) is not None}
    classes = _subclasses(trees)
    factories = _factories(trees, classes)
    # A holder class of one module, its app made by another's instance of it (Gennadii87's
    # flask-tasks: app.py's ``ConfigApp(BaseWork, db).get_app()``, config/config.py's
    # class making ``self.app = Flask(__name__)``): nothing to run was found.
    held: dict[str, dict[str, Kind]] = {}
    for tree in trees.values():
        held.update(_held(tree, _with_subclasses(tree, classes)))
    candidates = [c for p, t in trees.items() for c in _candidates(p, t, factories, classes, held)]
    if not candidates:  # one a module Python cannot parse makes: its server says why
        broken = (p for p in python_files(files) if p not in trees)
        trees |= {p: t for p in broken if (t := readable_part(files[p])) is not None}
        candidates = [c for p, t in trees.items() for c in _candidates(p, t, {}, classes)]
    if not candidates:
        return None
    unshadowed = [c for c in candidates if not _shadowed(c.path, files)] or candidates
    routed = _routed_alone(unshadowed, trees)
    chosen = min(
        unshadowed,
        key=lambda c: (
            _untouched(c, trees),
            bool(routed) and c not in routed,
            not _routes_attached(c, trees[c.path]),
            *rank(c),
        ),
    )
    return located(chosen, trees[chosen.path], files), trees


def _untouched(candidate: FoundApp, trees: dict[str, ast.Module]) -> bool:
    """Whether ``candidate`` is an app object its module makes and never uses again, in
    a module no other one imports: nothing can attach a route to it, a stub beside the
    app (felipe0365's rest-flask-bookmark-api: ``src/app.py`` holds only ``app =
    Flask(__name__)``, its routes are ``src/__init__.py``'s ``create_app``'s; served,
    every route answered 404). Another candidate comes first. One a factory's call makes
    (``app = create_app()``) is the app set up, whoever uses it."""
    if candidate.factory:
        return False
    made = _bound_values(candidate, trees[candidate.path])
    # Made by its class (``Flask(__name__)``), not by a factory's call (``create_app()``,
    # which sets it up: run.py's ``app = create_app()`` is what a server serves).
    if not made or not all(_callee(value)[:1].isupper() for value in made):
        return False
    names = [
        node
        for node in ast.walk(trees[candidate.path])
        if isinstance(node, ast.Name) and node.id == candidate.attr
    ]
    if any(isinstance(node.ctx, ast.Load) for node in names):
        return False
    stem = posixpath.splitext(posixpath.basename(candidate.path))[0]
    if stem == "__init__":
        stem = posixpath.basename(posixpath.dirname(candidate.path)) or stem
    for path, tree in trees.items():
        if path == candidate.path:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                stem in (node.module or "").split(".")
                or any(alias.name == stem for alias in node.names)
            ):
                return False
            if isinstance(node, ast.Import) and any(
                stem in alias.name.split(".") for alias in node.names
            ):
                return False
    return True


def _bound_values(candidate: FoundApp, tree: ast.Module) -> list[ast.expr]:
    """What ``candidate``'s module assigns to its name at its top level."""
    return [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == candidate.attr for t in node.targets)
    ]


# Any way of attaching a route other than a decorator on an app object (a blueprint, a
# router, a resource, a view class, a route added by call): a factory's app may get its
# routes so.
_OTHER_ROUTING = frozenset(
    {
        "Blueprint",
        "APIRouter",
        "Router",
        "Namespace",
        "Api",
        "Resource",
        "MethodView",
        "View",
        "register_blueprint",
        "include_router",
        "add_url_rule",
        "add_api_route",
        "add_route",
        "add_resource",
        "add_namespace",
        "mount",
    }
)


def _routed_alone(candidates: list[FoundApp], trees: dict[str, ast.Module]) -> list[FoundApp]:
    """The candidates whose own module decorates them with routes (``@app.route(...)`` on
    an ``app = Flask(__name__)``), where the upload attaches routes no other way (no
    blueprint, router, resource, nor a route added by call): every other candidate then
    serves none (kylanalicia's flask-pizza-restaurant: ``manage.py``'s ``create_app()``
    makes an app with no route, ``app/routes.py``'s own ``Flask`` holds all seven; served
    as the former, every route answered 404). Empty where that cannot be told."""
    routed = [c for c in candidates if not c.factory and _decorated(c, trees[c.path])]
    if not routed or len(routed) == len(candidates):
        return []
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and last_name(node.func) in _OTHER_ROUTING:
                return []
            if isinstance(node, ast.ClassDef) and any(
                last_name(base) in _OTHER_ROUTING for base in node.bases
            ):
                return []
    return routed


def _routes_attached(candidate: FoundApp, tree: ast.Module) -> bool:
    """Whether ``candidate``'s own module attaches routes to it (``app.add_url_rule``,
    ``app.include_router``, ``@app.route``): where several modules bind the one app a
    cached factory makes (sangreguerrer's FlaskHW: ``app = get_app()`` in auth.py,
    tools.py and pg.py, whose ``add_url_rule`` calls alone route it), the one that sets
    it up is served; served as auth.py's, every route answered 404. Only an app bound
    from a factory's call counts: one its module makes with its class is a draft beside
    a factory's as likely as not (see :func:`_routed_alone`)."""
    if candidate.factory:
        return False
    made = _bound_values(candidate, tree)
    if not made or any(not _callee(value)[:1].islower() for value in made):
        return False
    routing = _OTHER_ROUTING | _ROUTE_DECORATORS
    return any(_calls_method(node, candidate.attr, routing) for node in ast.walk(tree))


def _decorated(candidate: FoundApp, tree: ast.Module) -> bool:
    return any(
        _calls_method(decorator, candidate.attr, _ROUTE_DECORATORS)
        for node in ast.walk(tree)
        if isinstance(node, FUNCTION_NODES)
        for decorator in node.decorator_list
    )


def _calls_method(node: ast.AST, name: str, methods: frozenset[str]) -> bool:
    """Whether ``node`` calls one of ``methods`` on the object bound to ``name``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in methods
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == name
    )


def _shadowed(path: str, files: dict[str, bytes]) -> bool:
    """Whether the module at ``path`` (``src/app.py``) has a package of its name beside it
    (``src/app/__init__.py``), which an import of that name finds first: amastour's
    flask-product-api, whose ``src/app.py`` (an early draft) was served as ``app:app``
    and gunicorn imported the package ("module 'app' has no attribute 'app'")."""
    return path.endswith(".py") and f"{path[:-3]}/__init__.py" in files


def app_in_module(files: dict[str, bytes], path: str) -> FoundApp | None:
    """The best app object (else factory) the module at ``path`` itself creates."""
    tree = parse_module(files[path]) if path in files else None
    if tree is None:
        return None
    classes = _subclasses({path: tree})
    candidates = _candidates(path, tree, _factories({path: tree}, classes), classes)
    return located(min(candidates, key=rank), tree, files) if candidates else None


def app_classes(asgi: bool) -> dict[str, str]:
    """The app classes of the ASGI frameworks (else the WSGI ones), each with its
    framework's name (``FastAPI``: fastapi)."""
    return _ASGI if asgi else _WSGI


def binds(tree: ast.Module, name: str) -> bool:
    """Whether importing the module binds ``name`` (assigned, imported or defined)."""
    for node in _module_level(tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            if any((a.asname or a.name) == name for a in node.names):
                return True
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return True  # a plain WSGI callable
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def find_wsgi_module(files: dict[str, bytes]) -> FoundApp | None:
    """A ``wsgi.py`` binding ``application`` at module level (the WSGI convention), the
    shallowest first: a WSGI app whatever made it."""
    paths = [p for p in python_files(files) if posixpath.basename(p) == "wsgi.py"]
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        tree = parse_module(files[path])
        if tree is not None and binds(tree, "application"):
            return located(FoundApp(path, "application", "wsgi", False, False), tree, files)
    return None
