"""The module that serves a Python upload's app: :func:`find_app`.

Where the app is made (:func:`.pyapp.made_app`) is not always what its author runs: a
module that imports the app and adds to it at module level serves it (routers included,
routes decorated), as does one run as a script that sets it up (``python app.py``).
Read with :mod:`ast`, never imported. An app whose module sets it up only in its
``__main__`` block (``db.init_app(app)`` before ``app.run()``) is served with that set-up
done (:func:`main_setup_served`).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Collection
from dataclasses import replace

from ..discovery.pyast import dotted_name as _dotted
from ..discovery.pyast import imports_module, last_name, main_blocks, same_module, walked
from ..discovery.pyast import module_level as _module_level
from .plans.declared import declared_starts, dockerfile_facts
from .pyapp import (
    TEST_MODULE,
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

__all__ = ["MAIN_SETUP", "declared_app", "find_app", "main_setup_served"]


def find_app(files: dict[str, bytes]) -> FoundApp | None:
    """The app the upload serves: the best one made (:func:`.pyapp.made_app`), from the
    module that adds to it where one does."""
    made = made_app(files)
    if made is None:
        return declared_app(files)
    best, trees = made
    served = _extended(best, trees, files) or _factory_of(best, trees[best.path]) or best
    return _declared(served, trees, files) or served


def _factory_of(found: FoundApp, tree: ast.Module) -> FoundApp | None:
    """The factory of ``found``'s module that configures the app it binds at module level
    and returns it (``app = Flask(__name__)``, then ``def create_app(): …
    app.register_blueprint(…); return app``), called with no argument: the app as its
    author serves it (jcpagsinohin's flask-fitness-app, whose ``run.py`` does ``app =
    create_app()``; its module-level ``app``, served as it is, answered 404 on every
    route: its blueprints are registered in the factory). Not one the module calls itself
    as it is imported (GomzaUlq's DiplomFirstTeaFlask: ``my_app = create_app()`` beside
    it): the app is set up already, and a second call set up Flask-SQLAlchemy twice ("A
    'SQLAlchemy' instance has already been registered on this Flask app")."""
    if found.factory:
        return None
    called = {
        call.func.id
        for node in _module_level(tree.body)
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.Expr) and node.value is not None
        for call in ast.walk(node.value)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }
    for node in _module_level(tree.body):
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        if node.name in called:
            continue
        arguments = node.args
        required = len(arguments.posonlyargs) + len(arguments.args) - len(arguments.defaults)
        if required > 0 or any(d is None for d in arguments.kw_defaults):
            continue
        local = {
            t.id
            for n in walked(node)
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        returned = [n for n in walked(node) if isinstance(n, ast.Return) and n.value is not None]
        configures = any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and _dotted(n.func.value) == found.attr
            for n in walked(node)
        )
        if (
            found.attr not in local
            and configures
            and returned
            and all(_dotted(r.value) == found.attr for r in returned if r.value is not None)
        ):
            return replace(found, attr=node.name, factory=True)
    return None


# A Python server's command and the ``module:attr`` it serves (``gunicorn … wsgi:app``,
# ``uvicorn main:app``, ``waitress-serve app:create_app()``); a ``host:port`` is no module.
_SERVER = re.compile(r"(?:^|[\s/'\"])(gunicorn|uvicorn|hypercorn|waitress-serve|daphne|granian)\s")
# The servers that serve ASGI, and what makes the others do (gunicorn's uvicorn worker).
_ASGI_SERVERS = {"uvicorn", "hypercorn", "daphne"}
_ASGI_WORKER = re.compile(r"\buvicorn\.workers\.|UvicornWorker|--interface[\s=]+asgi")
_SERVED = re.compile(r"(?:^|\s)([A-Za-z_][\w.]*):([A-Za-z_]\w*)(\(\))?(?=\s|$)")
# A Python script run as the start (``python3 /src/manage.py run``): group 1 its path.
_SCRIPT = re.compile(r"""(?:^|[\s/'"])python[\d.]*(?:\s+-u)?\s+(/?[\w./-]+\.py)(?=\s|$)""")


def _declared(
    found: FoundApp, trees: dict[str, ast.Module], files: dict[str, bytes]
) -> FoundApp | None:
    """The module a start the upload declares serves (its Dockerfile's ``CMD``, its
    compose file's app ``command``, render.yaml's …: ``gunicorn wsgi:app``), where it is
    another module of the upload than ``found``'s that binds that name: its author's
    way in. emnopal's flask-jwt-auth makes its app in ``src/__init__.py``; ``route``
    gives it its API (flask-restful's ``Api(app).add_resource``, which adds no route of
    the app's own), and its Dockerfile serves ``wsgi:app``, which imports it from there:
    served from ``src``, every route answered 404. A script it runs (``python
    manage.py run``) serves the ``app`` (``application``) that script binds. Its module is
    first looked for in the folder its image holds the app in (``COPY ./src /code``)."""
    docker = dockerfile_facts(files)
    # a module its image's start serves is in the folder its image holds the app in
    image_folder = docker.app_folder if docker is not None else ""
    for declared in declared_starts(files):
        script = _SCRIPT.search(declared.command)
        path = posixpath.normpath(script.group(1)).lstrip("/") if script else ""
        if (tree := trees.get(path)) is not None and path != found.path:
            # ``python3 /src/manage.py run`` (amastour's flask-product-api's Dockerfile,
            # whose app Flask-Script's Manager runs): the app that script binds.
            attr = next((a for a in ("app", "application") if binds(tree, a)), None)
            if attr is not None:
                app = FoundApp(path, attr, found.framework, False, found.asgi)
                return located(app, tree, files)
        if _SERVER.search(f" {declared.command}") is None:
            continue
        for match in _SERVED.finditer(declared.command):
            module, attr, call = match.groups()
            stem = module.replace(".", "/")
            bases = dict.fromkeys((image_folder, "", found.directory))
            for base in bases:
                for path in (f"{stem}.py", f"{stem}/__init__.py"):
                    path = f"{base}/{path}" if base else path
                    tree = trees.get(path)
                    if path == found.path or tree is None or not binds(tree, attr):
                        continue
                    asgi = _serves_asgi(tree, attr, declared.command, found.asgi)
                    framework = found.framework if asgi == found.asgi else _KINDS[asgi]
                    app = FoundApp(path, attr, framework, bool(call), asgi)
                    return located(app, tree, files)
    return None


_KINDS = {True: "asgi", False: "wsgi"}
# What Django's and Channels' projects bind their apps to, by the interface each serves.
_ASGI_MAKERS = {"get_asgi_application", "ProtocolTypeRouter"}
_WSGI_MAKERS = {"get_wsgi_application"}


def _serves_asgi(tree: ast.Module, attr: str, command: str, otherwise: bool) -> bool:
    """Whether the app ``attr`` that ``tree`` binds, started by ``command``, is an ASGI app:
    its server or its worker says so, else what makes it (Django's ``asgi.py``:
    ``application = get_asgi_application()``); ``otherwise`` where neither says.
    gabrielbentog's django-auth-api declares ``gunicorn django_auth_api.asgi:application
    -k uvicorn.workers.UvicornWorke`` (a letter short): served as WSGI, every request met
    "ASGIHandler.__call__() missing 1 required positional argument: 'send'"."""
    server = _SERVER.search(f" {command}")
    if server is not None and (server.group(1) in _ASGI_SERVERS or _ASGI_WORKER.search(command)):
        return True
    for node in _module_level(tree.body):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == attr for t in node.targets)
            and isinstance(node.value, ast.Call)
        ):
            made_by = last_name(node.value.func)
            if made_by in _ASGI_MAKERS:
                return True
            if made_by in _WSGI_MAKERS:
                return False
    return otherwise


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
        if TEST_MODULE.search(path):  # a test adding a route to the app it tests
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


# -- set-up done only in the app module's __main__ block --------------------------------

MAIN_SETUP = "_preview_served.py"  # written beside the app's import root, imported by name
_TARGET = re.compile(r"^([A-Za-z_][\w.]*):([A-Za-z_]\w*)$")
_SERVER_CALLS = {"run", "run_simple", "serve", "run_app"}
_WRAPPER = """\
# The preview service's: {module} as imported, then what its __main__ block sets up
# before it starts its server ({said}), that server not started:
# the preview serves the app.
import ast as _ast
import importlib as _importlib

_module = _importlib.import_module({module!r})
with open(_module.__file__, encoding="utf-8") as _file:
    _tree = _ast.parse(_file.read())
_kept = [n for n in _ast.walk(_tree) if getattr(n, "lineno", None) in {lines!r}]
_kept = [n for n in _kept if isinstance(n, _ast.stmt)]
exec(compile(_ast.Module(body=_kept, type_ignores=[]), _module.__file__, "exec"), vars(_module))
{attr} = getattr(_module, {attr!r})
"""


def main_setup_served(
    argv: tuple[str, ...], files: dict[str, bytes]
) -> tuple[tuple[str, ...], str, bytes | None]:
    """``argv`` (a gunicorn start of ``module:app``) serving :data:`MAIN_SETUP` instead, the
    folder to write it in and its text, where the module's ``__main__`` block sets the app
    up before running it and does nothing else (imports, calls given the app or of its
    methods, ``app.config[…] = …``): store-flask-rest-api-sqlalch (and the course it
    follows) calls ``db.init_app(app)`` there alone, and every route answered 500 "The
    sqlalchemy extension was not registered". ``argv``, "" and None for any other."""
    at = next((i for i, a in enumerate(argv) if a in ("gunicorn", "gunicorn.app.wsgiapp")), -1)
    found = [(i, m) for i, a in enumerate(argv) if i > at >= 0 and (m := _TARGET.match(a))]
    if not found:
        return argv, "", None
    index, target = found[-1]
    module, attr = target.group(1), target.group(2)
    chdir = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--chdir"), "")
    base = posixpath.join(chdir, *module.split("."))
    path = next((p for p in (f"{base}.py", f"{base}/__init__.py") if p in files), None)
    tree = parse_module(files[path]) if path is not None else None
    own = _own_modules(files, chdir)
    kept = _main_setup(tree, attr, own) if tree is not None else None
    if not kept:
        return argv, "", None
    wrappers = _app_wrappers(tree, attr) if tree is not None else set()
    said = "; ".join(
        ast.unparse(statement) for statement in kept if _sets_up(statement, attr, own, wrappers)
    )
    lines = sorted(statement.lineno for statement in kept)
    text = _WRAPPER.format(module=module, said=said[:200], lines=set(lines), attr=attr)
    served = f"{MAIN_SETUP.removesuffix('.py')}:{attr}"
    return (*argv[:index], served, *argv[index + 1 :]), chdir, text.encode()


def _own_modules(files: dict[str, bytes], chdir: str) -> set[str]:
    """The dotted names of the upload's own modules, as imported from ``chdir``."""
    prefix = f"{chdir}/" if chdir else ""
    names = set()
    for path in files:
        if path.startswith(prefix) and path.endswith(".py"):
            inner = path[len(prefix) :].removesuffix(".py").removesuffix("/__init__")
            names.add(inner.replace("/", "."))
    return names


def _main_setup(tree: ast.Module, name: str, own: set[str]) -> list[ast.stmt] | None:
    """The statements of the module's ``__main__`` blocks to run before serving the app
    bound to ``name`` (its imports and set-up, not its server), where they set it up,
    start its server and do nothing else; None otherwise."""
    kept: list[ast.stmt] = []
    runs = False
    functions = _own_functions(tree, own)
    modules = _own_module_names(tree, own)
    wrappers = _app_wrappers(tree, name)
    for statement in _inlined([s for block in main_blocks(tree) for s in block.body], tree):
        call = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(call, ast.Call) and last_name(call.func) in _SERVER_CALLS:
            runs = True
        elif isinstance(statement, ast.Import | ast.ImportFrom) or _sets_up(
            statement, name, wrappers=wrappers
        ):
            kept.append(statement)
        elif _calls_own_function(call, functions, modules):
            # Its own set-up, run as its author runs it first: FreekStraten's
            # boggle-flask-2023 calls ``create_database()`` (from its database module)
            # before ``app.secret_key = …``: no table, no session, under a server;
            # ipapMaster's flaskLessons ``db_session.global_init('db/news.sqlite')``.
            kept.append(statement)
        else:
            return None
    return kept if runs and any(_sets_up(s, name, own, wrappers) for s in kept) else None


def _own_module_names(tree: ast.Module, own: set[str]) -> set[str]:
    """The names ``tree`` binds the upload's own modules to (``from data import
    db_session``, ``import db_session``)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name in own}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {a.asname or a.name for a in node.names if f"{node.module}.{a.name}" in own}
    return names


def _app_wrappers(tree: ast.Module, name: str) -> set[str]:
    """The names ``tree`` binds at its top level to an object made given the app
    (``api = Api(app)``): calls of their methods set the app up (``api.add_resource``)."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and any(_dotted(a) == name for a in node.value.args)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _inlined(statements: list[ast.stmt], tree: ast.Module) -> list[ast.stmt]:
    """``statements`` with a call of a function of the module's own, taking nothing, whose
    body starts the server (``main()``) made that body: akoudad14's flaskProject sets its
    app up in ``main()`` (``initialize_app(app)``, its blueprint and namespaces, then
    ``app.run()``), which its ``__main__`` block calls; served, it answered 404 to all."""
    defined = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and not (node.args.args or node.args.posonlyargs or node.args.kwonlyargs)
    }
    found: list[ast.stmt] = []
    for statement in statements:
        call = statement.value if isinstance(statement, ast.Expr) else None
        function = (
            defined.get(call.func.id)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and not call.args
            else None
        )
        starts = function is not None and any(
            isinstance(node, ast.Call) and last_name(node.func) in _SERVER_CALLS
            for node in ast.walk(function)
        )
        found.extend(function.body if function is not None and starts else [statement])
    return found


def _own_functions(tree: ast.Module, own: set[str]) -> set[str]:
    """The names of the functions ``tree`` defines at its top level or imports from the
    upload's ``own`` modules (``from database import create_database``)."""
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in own:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _calls_own_function(
    call: ast.expr | None, functions: set[str], modules: Collection[str] = ()
) -> bool:
    """Whether ``call`` calls one of the app's own ``functions`` by its name, or a
    function of one of its own ``modules`` (``db_session.global_init``), with literals
    alone for arguments (its set-up: ``init_db()``, ``global_init('db/news.sqlite')``)."""
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    own = (isinstance(func, ast.Name) and func.id in functions) or (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in modules
    )
    given = [*call.args, *(k.value for k in call.keywords)]
    return own and all(isinstance(value, ast.Constant) for value in given)


def _sets_up(
    statement: ast.stmt, name: str, own: Collection[str] = (), wrappers: Collection[str] = ()
) -> bool:
    """Whether ``statement`` sets up the app bound to ``name``: a call given it
    (``db.init_app(app)``), one of its methods (``app.register_blueprint(bp)``), an
    assignment to its ``config`` or an attribute of it (``app.secret_key = …``), or an
    import of the upload's ``own`` modules (RamiroPintos' Flask-EventPage imports
    ``routes.routes``, whose ``@app.route``s are its every route, there alone: all
    answered 404), or a method of an object made given it (``wrappers``: ``api =
    Api(app)``'s ``api.add_resource``)."""
    if isinstance(statement, ast.ImportFrom) and statement.level == 0:
        return statement.module in own
    if isinstance(statement, ast.Import):
        return any(alias.name in own for alias in statement.names)
    if isinstance(statement, ast.Assign):
        return all(
            (isinstance(t, ast.Subscript) and _dotted(t.value) == f"{name}.config")
            or (isinstance(t, ast.Attribute) and _dotted(t.value) == name)
            for t in statement.targets
        )
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not isinstance(call, ast.Call):
        return False
    given = any(_dotted(a) == name for a in [*call.args, *(k.value for k in call.keywords)])
    called_on = _dotted(call.func.value) if isinstance(call.func, ast.Attribute) else None
    return given or called_on == name or (called_on is not None and called_on in wrappers)
