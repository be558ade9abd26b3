"""The module that serves a Python upload's app: :func:`find_app`.

Where the app is made (:func:`.pyapp.made_app`) is not always what its author runs: a
module that imports the app and adds to it at module level serves it (routers included,
routes decorated), as does one run as a script that sets it up (``python app.py``).
Read with :mod:`ast`, never imported.
"""

from __future__ import annotations

import ast
import re

from ..discovery.pyast import dotted_name as _dotted
from ..discovery.pyast import imports_module, main_blocks, same_module, walked
from ..discovery.pyast import module_level as _module_level
from .plans.declared import declared_starts
from .pyapp import (
    FoundApp,
    app_classes,
    binds,
    import_root,
    located,
    made_app,
    parse_module,
    python_files,
    rank,
)

__all__ = ["declared_app", "find_app"]


def find_app(files: dict[str, bytes]) -> FoundApp | None:
    """The app the upload serves: the best one made (:func:`.pyapp.made_app`), from the
    module that adds to it where one does."""
    made = made_app(files)
    if made is None:
        return declared_app(files)
    best, trees = made
    served = _extended(best, trees, files) or best
    return _declared(served, trees, files) or served


# A Python server's command and the ``module:attr`` it serves (``gunicorn … wsgi:app``,
# ``uvicorn main:app``, ``waitress-serve app:create_app()``); a ``host:port`` is no module.
_SERVER = re.compile(r"(?:^|[\s/'\"])(gunicorn|uvicorn|hypercorn|waitress-serve|daphne|granian)\s")
# The servers that serve ASGI, and what makes the others do (gunicorn's uvicorn worker).
_ASGI_SERVERS = {"uvicorn", "hypercorn", "daphne"}
_ASGI_WORKER = re.compile(r"UvicornWorker|--interface[\s=]+asgi")
_SERVED = re.compile(r"(?:^|\s)([A-Za-z_][\w.]*):([A-Za-z_]\w*)(\(\))?(?=\s|$)")


def _declared(
    found: FoundApp, trees: dict[str, ast.Module], files: dict[str, bytes]
) -> FoundApp | None:
    """The module a start the upload declares serves (its Dockerfile's ``CMD``, its
    compose file's app ``command``, render.yaml's …: ``gunicorn wsgi:app``), where it is
    another module of the upload than ``found``'s that binds that name: its author's
    way in. emnopal's flask-jwt-auth makes its app in ``src/__init__.py``; ``route``
    gives it its API (flask-restful's ``Api(app).add_resource``, which adds no route of
    the app's own), and its Dockerfile serves ``wsgi:app``, which imports it from there:
    served from ``src``, every route answered 404."""
    for declared in declared_starts(files):
        if _SERVER.search(f" {declared.command}") is None:
            continue
        for match in _SERVED.finditer(declared.command):
            module, attr, call = match.groups()
            stem = module.replace(".", "/")
            bases = dict.fromkeys(("", found.directory))
            for base in bases:
                for path in (f"{stem}.py", f"{stem}/__init__.py"):
                    path = f"{base}/{path}" if base else path
                    tree = trees.get(path)
                    if path == found.path or tree is None or not binds(tree, attr):
                        continue
                    app = FoundApp(path, attr, found.framework, bool(call), found.asgi)
                    return located(app, tree, files)
    return None


def declared_app(files: dict[str, bytes]) -> FoundApp | None:
    """The app a start the upload declares serves (its compose file's app ``command``,
    its Dockerfile's ``CMD`` …: ``uvicorn main:app``), where no module makes one that
    :func:`.pyapp.made_app` can see: a module of the upload named so that binds that
    name (the shallowest), its framework the one whose app class a module of the
    upload calls. ILugaro's fastapi-postgresql-alembic-docker makes its FastAPI inside
    a class's ``__init__`` and binds ``app = api_service.get_app()`` in ``src/main.py``,
    which its compose service (``build: ./src``) serves with ``uvicorn main:app``:
    "found no way to start this app"."""
    trees: dict[str, ast.Module] = {}
    for declared in declared_starts(files):
        server = _SERVER.search(f" {declared.command}")
        if server is None:
            continue
        asgi = server.group(1) in _ASGI_SERVERS or bool(_ASGI_WORKER.search(declared.command))
        for match in _SERVED.finditer(declared.command):
            module, attr, call = match.groups()
            stem = module.replace(".", "/")
            ends = (f"{stem}.py", f"{stem}/__init__.py")
            paths = [p for p in files if p in ends or p.endswith(tuple(f"/{e}" for e in ends))]
            for path in sorted(paths, key=lambda p: (p.count("/"), p)):
                tree = trees.get(path) or parse_module(files[path])
                if tree is None or not binds(tree, attr):
                    continue
                trees[path] = tree
                framework = _framework_made(files, asgi)
                app = FoundApp(path, attr, framework, bool(call), asgi)
                return located(app, tree, files)
    return None


def _framework_made(files: dict[str, bytes], asgi: bool) -> str:
    """The framework whose app class a module of the upload calls (``FastAPI(…)``
    anywhere, a class's method included), of the kind its server serves; else the
    kind's own name (``asgi``, ``wsgi``)."""
    classes = app_classes(asgi)
    for path in python_files(files):
        tree = None
        if any(name.encode() in files[path] for name in classes):
            tree = parse_module(files[path])
        for node in walked(tree) if tree is not None else ():
            if isinstance(node, ast.Call):
                called = (_dotted(node.func) or "").rpartition(".")[2]
                if called in classes:
                    return classes[called]
    return "asgi" if asgi else "wsgi"


_TEST_MODULE = re.compile(r"(?:^|/)tests?/|(?:^|/)(?:test_[^/]*|[^/]*_test|conftest)\.py$")
# What a module does to an app it imported, adding to it: the app it serves is that one.
_EXTENDING = {
    "include_router",
    "mount",
    "add_middleware",
    "add_api_route",
    "add_route",
    "register_blueprint",
    "include",
    "add_exception_handler",
}


def _extended(
    best: FoundApp, trees: dict[str, ast.Module], files: dict[str, bytes]
) -> FoundApp | None:
    """The module that imports ``best``'s app and adds to it at module level, where one
    does (leosussan's fastapi-gino-arq-uvicorn: ``app/application.py`` makes the app,
    ``app/main.py``, which its image serves, includes its routers): the app as served;
    not one the app's module imports back (Flask's ``from app import routes``)."""
    found = []
    modules = {p: import_root(p, t, files)[1].split(".") for p, t in trees.items()}
    for path, tree in trees.items():
        if _TEST_MODULE.search(path):  # a test adding a route to the app it tests
            continue
        module = modules[path]
        local = _imported_app(trees, modules, path, best) if path != best.path else None
        if local and imports_module(trees[best.path], module):
            continue
        if local and (_adds_to(tree, local) or _runs_what_it_configures(tree, local)):
            app = FoundApp(path, local, best.framework, False, best.asgi)
            found.append(located(app, tree, files))
    return min(found, key=rank) if found else None


def _imported_app(
    trees: dict[str, ast.Module],
    modules: dict[str, list[str]],
    path: str,
    app: FoundApp,
    seen: set[str] | None = None,
) -> str | None:
    """The name the module at ``path`` (``modules``: each one's dotted name) binds ``app``'s
    object to by importing it: by name, or through a chain of star imports (rropppe's
    Flask-weather-app: ``app.py`` does ``from forms import *``, forms ``from models import
    *``, models ``from main import *``, which makes the app; ``python app.py`` serves it
    with app.py's routes). Each module of a chain is read once (``seen``)."""
    seen = {path} if seen is None else seen
    for node in _module_level(trees[path].body):
        if isinstance(node, ast.ImportFrom):
            named = node.module.split(".") if node.module else []
            named = modules[path][: -node.level] + named if node.level else named
            if named and same_module(named, app.module.split(".")):
                return next(
                    (
                        app.attr if a.name == "*" else a.asname or a.name
                        for a in node.names
                        if a.name in (app.attr, "*")
                    ),
                    None,
                )
            if not named or all(a.name != "*" for a in node.names):
                continue
            for through in (p for p, m in modules.items() if m == named and p not in seen):
                seen.add(through)
                if _imported_app(trees, modules, through, app, seen) == app.attr:
                    return app.attr
    return None


def _runs_what_it_configures(tree: ast.Module, name: str) -> bool:
    """Whether the module runs the app it binds to ``name`` as a script (``app.run()``
    under ``if __name__ == "__main__":``: ``python app.py`` is its author's start) and
    sets it up at module level (``app.config[...] = …``, ``Api(app)``, ``Migrate(app,
    db)``, ``db.init_app(app)``): Gaitano123's chats-api makes its app in models.py and
    gives it its settings, database and 37 routes in app.py. Not a ``run.py`` that only
    runs it."""
    mains = main_blocks(tree)
    runs = any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "run"
        and _dotted(n.func.value) == name
        for main in mains
        for n in walked(main)
    )
    for node in _module_level(tree.body) if runs else ():
        value = node.value if isinstance(node, ast.Expr | ast.Assign) else None
        if isinstance(value, ast.Call) and any(_dotted(a) == name for a in value.args):
            return True
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(
            isinstance(t, ast.Subscript) and _dotted(t.value) == f"{name}.config" for t in targets
        ):
            return True
    return False


def _adds_to(tree: ast.Module, name: str) -> bool:
    """Whether the module adds to the app it binds to ``name`` (a router, a route)."""
    for node in _module_level(tree.body):
        routes = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if routes:
            calls = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
        elif isinstance(node, ast.For):  # for router in ROUTERS: app.include_router(router)
            calls = [n.value for n in node.body if isinstance(n, ast.Expr)]
        else:
            calls = [node.value] if isinstance(node, ast.Expr) else []
        for call in calls:
            target = call.func if isinstance(call, ast.Call) else call
            if (
                isinstance(target, ast.Attribute)
                and _dotted(target.value) == name
                and (routes or target.attr in _EXTENDING)
            ):
                return True
    return False
