"""The schema of a Flask-SQLAlchemy app that nothing else creates: :func:`create_all_step`.

A Flask app on Flask-Migrate that ships no ``migrations/`` folder (its authors ran ``flask
db init`` / ``migrate`` on their own machines and never committed the result, as
gothinkster's Conduit did), or one on Flask-SQLAlchemy alone that calls ``create_all()``
nowhere (its tutorial creates the tables in ``flask shell``), has no schema once
uploaded: every database route answers 500 "no such table". When :mod:`.datainit` finds
neither migrations nor an init command, a set-up step loads the app as ``flask`` does
(``FLASK_APP``, :class:`flask.cli.ScriptInfo`, its ``.env`` / ``.flaskenv``) and calls
``db.create_all()`` in its app context, with the Flask-SQLAlchemy extension the app
registered (``app.extensions``; Flask-SQLAlchemy 2 keeps it as ``state.db``). In a
package's folder (an ``__init__.py`` at the app's root: ``pyapp.root_package_name``),
``FLASK_APP`` is imported as it is named, where Flask's CLI would walk up to the folder
above and import ``<folder>.billApp`` ("Could not import").

Why ``create_all()`` and not ``flask db init && flask db migrate && flask db upgrade`` in a
scratch copy: on an empty database both make the same tables from the same models, but
autogeneration writes a migrations folder (into the app's directory, or a copy whose
imports then differ), needs the database reachable twice, and fails on what it cannot
render (custom column types, old Alembic against a new SQLAlchemy); ``create_all()`` is
one call of the app's own extension, idempotent (tables that exist are left alone), so a
relaunch, or an app that also creates them itself, is unharmed. A table its database
refuses (gothinkster's Conduit declares a foreign key to a column that is not unique:
SQLite lets it be, PostgreSQL does not) is said and left out, each other table made one
by one: the routes that do not use it are previewed, and the ones that do answer 500
with the missing table diagnosed.

An app that calls ``create_all()`` only under ``if __name__ == "__main__":`` (which a
server never runs: miguelgrinberg's REST-auth) gets the same step: it does what ``python
app.py`` would have done before serving. Any other app whose module makes its tables in
that block, itself or through a function of the module it calls (``asyncio.run(main())``
whose ``main`` awaits Piccolo's ``create_table()``; peewee's ``create_tables()``,
Tortoise's ``generate_schemas()``, SQLAlchemy's ``create_all()``), gets
:func:`main_block_step`: the block run as ``python -m`` runs it, the server it then
starts made a no-op (``uvicorn.run``, ``Flask.run`` …: the preview starts the app). One
whose tables are made in another module's block is left to
:func:`.datainit.missing_tables_hint`, which names it.

An app declaring SQLAlchemy models (``__tablename__``, SQLModel's ``table=True``) with no
Flask-SQLAlchemy extension, whose code makes their tables nowhere (its author made them by
hand, or in a database console, on the server its example names), gets
:func:`models_tables_step` last: the app imported as its server imports it, then each
declarative base's metadata its modules hold made on each engine they hold
(``create_all``: what exists is left alone). Tortoise ORM's likewise
(:func:`tortoise_tables_step`): an app calling ``register_tortoise`` with no
``generate_schemas`` and no Aerich project gets its tables from Tortoise's own
``generate_schemas`` on the options it gives ``register_tortoise``.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Sequence

from ..discovery.pyast import FUNCTION_NODES, is_main_check, last_name, main_blocks
from .imports import imported_names
from .pyapp import (
    TEST_MODULE,
    FoundApp,
    app_in_module,
    binds,
    holds_module,
    located,
    parse_module,
    python_files,
    required_positionals,
)

__all__ = [
    "CREATE_ALL",
    "create_all_step",
    "creates_its_tables",
    "env_kept_out",
    "flask_migrations",
    "flask_target",
    "idempotent_table_script",
    "in_directory",
    "main_block_step",
    "main_only_create_all",
    "migrating_app",
    "models_tables_step",
    "no_revision_yet",
    "sql_table_script",
    "table_script_step",
    "tortoise_tables_step",
]

_MIGRATE_WITH_APP = re.compile(rb"\bMigrate\(\s*[A-Za-z_]")  # Migrate(app, db), not Migrate()

# Run with the app's interpreter in its directory, FLASK_APP naming it. Its first line is
# what the log shows of it. No braces: set-up steps are templates ({python}).
CREATE_ALL = """\
# db.create_all(): the tables of the app's Flask-SQLAlchemy models (it has no migrations)
import os
import sys

import flask.cli
from flask.cli import ScriptInfo

try:
    from flask.cli import load_dotenv
except ImportError:
    pass
else:
    load_dotenv()
if os.path.exists("__init__.py"):  # a package's folder: Flask would import the app as a
    flask.cli.prepare_import = lambda path: path  # module of the folder above, not ours
app = ScriptInfo(app_import_path=os.environ["FLASK_APP"]).load_app()
if os.path.exists("_preview_served.py"):  # its __main__ block's set-up (apps.served): its
    sys.path.insert(0, os.getcwd())  # models may be imported there alone
    import _preview_served
state = app.extensions.get("sqlalchemy") or app.extensions.get("migrate")
db = getattr(state, "db", state)
if db is None or not hasattr(db, "create_all"):
    print("the app registers no Flask-SQLAlchemy extension: no tables to create")
    sys.exit(0)
with app.app_context():
    try:
        db.create_all()
        refused = []
    except Exception as error:  # one table its database refuses: the others still made
        print("create_all() failed:", str(error).splitlines()[0], file=sys.stderr)
        refused = []
        for table in db.metadata.sorted_tables:
            try:
                table.create(bind=db.engine, checkfirst=True)
            except Exception as again:
                refused.append(table.name)
                print("table", table.name, "refused:", str(again).splitlines()[0], file=sys.stderr)
        if len(refused) == len(db.metadata.tables):
            raise error
    made = [name for name in sorted(db.metadata.tables) if name not in refused]
print("created the tables of its models:", ", ".join(made) or "none (no model imported)")
if refused:
    print("not created:", ", ".join(refused), "(its database refuses them: routes on them fail)")
"""


def in_directory(path: str, directory: str) -> bool:
    """Whether the upload's ``path`` is inside ``directory`` ("": the upload's root)."""
    return not directory or path.startswith(directory + "/")


def flask_target(app: FoundApp | None, cwd: str, files: dict[str, bytes]) -> str | None:
    """What ``FLASK_APP`` (or ``QUART_APP``) names the app as, run in ``cwd``: a factory
    that needs arguments by the module binding what a call of it makes
    (:func:`_made_by_calling`)."""
    if app is None or app.framework not in ("flask", "quart"):
        return None
    if app.factory and _needs_arguments(app, files):
        app = _made_by_calling(app, files) or app
    call = "()" if app.factory else ""
    if app.directory == cwd:
        return f"{app.module}:{app.attr}{call}"
    if in_directory(app.path, cwd) and app.module.count(".") == 0:
        rel = app.path[len(cwd) + 1 :] if cwd else app.path
        return f"{rel}:{app.attr}{call}"
    return None


def _needs_arguments(factory: FoundApp, files: dict[str, bytes]) -> bool:
    """Whether the factory ``factory`` has a positional parameter without a default."""
    tree = parse_module(files[factory.path]) if factory.path in files else None
    for node in tree.body if tree is not None else ():
        if isinstance(node, FUNCTION_NODES) and node.name == factory.attr:
            return required_positionals(node) > 0
    return False


def _made_by_calling(factory: FoundApp, files: dict[str, bytes]) -> FoundApp | None:
    """The app a module binds at its top level by calling the factory ``factory`` (``app =
    create_app(config_name)`` in run.py), the shallowest; None where none does. Flask's
    CLI calls a factory with no argument (Flask 1 with its ScriptInfo): luke-grammer's
    secure-login-flask-site's ``create_app(config_name)`` met "KeyError: <flask.cli.
    ScriptInfo …>" at ``flask db upgrade``, where its run.py makes the app."""
    for path in sorted(python_files(files), key=lambda p: (p.count("/"), p)):
        if path == factory.path or factory.attr.encode() not in files[path]:
            continue
        tree = parse_module(files[path])
        if tree is None:
            continue
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)
                and last_name(node.value.func) == factory.attr
            ):
                made = FoundApp(path, node.targets[0].id, factory.framework, False, factory.asgi)
                return located(made, tree, files)
    return None


def migrating_app(files: dict[str, bytes], app: FoundApp | None) -> FoundApp | None:
    """The Flask app ``flask db`` must load: the one Flask-Migrate is registered on.
    Where the app that serves is not it (its module creates a second app for a
    Flask-Script ``manage.py`` with ``Migrate(server, db)``: antkahn's starter kit), the
    app of the module that calls ``Migrate(app, …)`` with an app of its own."""
    if app is None or app.framework != "flask" or b"Migrate(" in files.get(app.path, b""):
        return app
    for path in sorted(python_files(files), key=lambda p: (p.count("/"), p)):
        if _MIGRATE_WITH_APP.search(files[path]) is not None:
            found = app_in_module(files, path) or _imported_app(files, path)
            if found is not None and found.framework == "flask":
                return found
    return app


def _imported_app(files: dict[str, bytes], path: str) -> FoundApp | None:
    """The app a module that makes none registers Flask-Migrate on, as imported there
    (a Flask-Script ``manage.py``'s ``from api.app import app`` then ``Migrate(app=app,
    db=db)``: DenerRodrigues' flask-restful-api-example, whose ``flask db upgrade`` was
    pointed at the serving module, where no ``db`` command is registered: "KeyError:
    'migrate'"); that module's name for it, loaded by ``flask db`` from that module."""
    tree = parse_module(files[path])
    if tree is None:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Migrate"):
            continue
        given = node.args[0] if node.args else None
        given = next((k.value for k in node.keywords if k.arg == "app"), given)
        if isinstance(given, ast.Name) and binds(tree, given.id):
            return located(FoundApp(path, given.id, "flask", False, False), tree, files)
    return None


def create_all_step(
    files: dict[str, bytes], app: FoundApp | None, only_main: str | None = None
) -> list[tuple[tuple[str, ...], str, str]]:
    """(argv, directory, what) of the step creating the tables of a Flask app on
    Flask-SQLAlchemy that has no migrations (no ``alembic.ini`` anywhere) and either
    declares Flask-Migrate or calls ``create_all()`` nowhere, or only under
    ``__main__`` in ``only_main`` (the module doc); [] for any other app."""
    inis = [posixpath.dirname(p) for p in files if posixpath.basename(p) == "alembic.ini"]
    if not all(no_revision_yet(files, migrations) for migrations in inis):
        return []  # migrations it has: datainit's (or, unrunnable, not ours to replace)
    if app is None or app.framework != "flask":
        return main_block_step(files, app) or table_script_step(files, only_main, app)
    target = flask_target(app, app.directory, files)
    if target is None:
        return []
    imported = imported_names(files)
    if "flask_sqlalchemy" not in imported:
        return main_block_step(files, app)
    creates = any(b"create_all" in files[p] for p in files if p.endswith(".py"))
    if "flask_migrate" not in imported and creates and only_main is None:
        return []  # it creates them itself
    argv = ("env", f"FLASK_APP={target}", "{python}", "-c", CREATE_ALL)
    what = "Flask-SQLAlchemy's create_all() (Flask-Migrate without migrations/)"
    if inis:
        what = f"Flask-SQLAlchemy's create_all() (Flask-Migrate's {inis[0]}/ holds no revision)"
    if "flask_migrate" not in imported:
        what = "Flask-SQLAlchemy's create_all() (nothing else creates its tables)"
        if creates:
            what = f"Flask-SQLAlchemy's create_all() ({only_main} calls it only under __main__)"
    return [(argv, app.directory, what)]


def no_revision_yet(files: dict[str, bytes], migrations: str) -> bool:
    """Whether ``migrations`` (the folder of an ``alembic.ini``) is Flask-Migrate's (its
    ``env.py`` takes the app from Flask) with no revision under ``versions/`` (``flask db
    init`` run, ``flask db migrate`` never: mzb527's FlaskWorkout): upgraded, it makes
    nothing, so the app is treated as having no migrations."""
    versions = f"{migrations}/versions/" if migrations else "versions/"
    return flask_migrations(files, migrations) and not any(
        p.startswith(versions) and p.endswith(".py") for p in files
    )


def flask_migrations(files: dict[str, bytes], migrations: str) -> bool:
    """Whether the Alembic folder ``migrations`` is Flask-Migrate's: its ``env.py`` takes
    the app from Flask (``current_app``), or it has none (:func:`env_kept_out`)."""
    env = files.get(f"{migrations}/env.py" if migrations else "env.py", b"")
    return b"current_app" in env or b"flask" in env.lower() or env_kept_out(files, migrations)


def env_kept_out(files: dict[str, bytes], migrations: str) -> bool:
    """Whether ``migrations`` is Flask-Migrate's folder without its ``env.py``, which a
    .gitignore's ``env*`` kept out of the repository (ricoputrap's flask-rest-api-modular:
    "No 'script_location' key found in configuration"): an ``alembic.ini`` naming no
    ``script_location`` (``flask db`` gives it), revisions, and Flask-Migrate imported.
    Its env.py is Flask-Migrate's own template, which the step writes back first."""
    prefix = f"{migrations}/" if migrations else ""
    ini = files.get(f"{prefix}alembic.ini")
    if ini is None or f"{prefix}env.py" in files or b"script_location" in ini:
        return False
    revisions = any(p.startswith(f"{prefix}versions/") and p.endswith(".py") for p in files)
    return revisions and "flask_migrate" in imported_names(files)


# -- create_all() under __main__ -------------------------------------------------------


def _calls_create_all(nodes: Sequence[ast.AST]) -> bool:
    return any(_is_create_all(n) for node in nodes for n in ast.walk(node))


def _is_create_all(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "create_all"


def main_only_create_all(files: dict[str, bytes]) -> str | None:
    """The module calling ``create_all()`` only in its ``__main__`` block (a server never
    runs it), itself or through a function or method of its own that nothing else names
    (chanikarnock's workout-tracker-fastapi: ``PostgresRepo.create_tables()``, called by
    app/databases/postgres.py's block alone), when no module calls it anywhere else;
    None otherwise. A function decorated (a startup hook, a command) or named outside a
    ``__main__`` block (a lifespan handed on, a call) is the app's as it runs."""
    only_main = None
    makers: set[str] = set()  # the functions calling it, every module's
    for path in python_files(files):
        tree = parse_module(files[path]) if b"create_all" in files[path] else None
        if tree is None:
            continue
        main = main_blocks(tree)
        rest = [n for n in tree.body if n not in main]
        own = _create_all_functions(rest)
        if any(_is_create_all(n) for n in _outside_functions(rest)) or any(own.values()):
            return None
        if only_main is None and (_calls_create_all(main) or _calls_any(main, set(own))):
            only_main = path
        makers |= set(own)
    # (every module read for the names it uses only where a function may be the way in)
    if only_main is not None and makers & _named_outside_main(files):
        return None
    return only_main


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _create_all_functions(nodes: Sequence[ast.stmt]) -> dict[str, bool]:
    """{name: whether it is decorated} of the functions and methods among ``nodes`` whose
    body calls ``create_all()``. A decorator that is a plain function of the same module
    is a wrapper, not a framework's hook: erikborella's simple-flask-chat-api wraps its
    ``migrate()`` (``drop_all``, ``create_all``) in its own ``@with_app_context``, called
    from db_utils.py's ``__main__`` block alone (``--migrate``): "no such table: room"."""
    wrappers = {node.name for node in nodes if isinstance(node, _FUNCTIONS)}
    return {
        node.name: any(
            not (isinstance(d, ast.Name) and d.id in wrappers) for d in node.decorator_list
        )
        for statement in nodes
        for node in ast.walk(statement)
        if isinstance(node, _FUNCTIONS) and _calls_create_all(node.body)
    }


def _outside_functions(nodes: Sequence[ast.AST]) -> list[ast.AST]:
    """The nodes among and below ``nodes`` that run as the module is imported or its
    classes are made: all but those of their functions and methods."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, _FUNCTIONS):
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _named_outside_main(files: dict[str, bytes]) -> set[str]:
    """The names (a call's, a reference's, an attribute's) the upload's modules use
    outside their ``__main__`` blocks, but each function's own name in its ``def``."""
    named: set[str] = set()
    for path in python_files(files):
        tree = parse_module(files[path])
        if tree is None:
            continue
        main = main_blocks(tree)
        for statement in (n for n in tree.body if n not in main):
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    named.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    named.add(node.attr)
    return named


def _calls_any(nodes: Sequence[ast.stmt], names: set[str]) -> bool:
    return any(
        isinstance(n, ast.Call) and last_name(n.func) in names
        for node in nodes
        for n in ast.walk(node)
    )


# Modules a server never imports: tests, migrations, scripts run by hand.
_NOT_SERVED = re.compile(
    r"(?:^|/)(?:tests?|alembic|migrations|scripts?|bin)/|(?:^|/)(?:test_\w*|conftest"
    r"|\w*(?:init|create|reset|drop)_?db\w*|seed\w*|manage|cli)\.py$"
)


def creates_its_tables(files: dict[str, bytes]) -> bool:
    """Whether the app makes its SQLAlchemy tables itself as it runs: ``create_all``
    called or handed on (``conn.run_sync(Base.metadata.create_all)``) outside a
    ``__main__`` block, in a module a server imports (not a test's, a migration's or a
    script's); in a module-level function, one that served code names (calls, or hands
    on as a startup hook). BaturinM's fastapi-user-storage defines ``init_models()`` and
    calls it only from its cli.py's command: its tables were never made, every route
    on its data answered 500. Its migrations then add nothing a preview needs
    (:mod:`~preview.builds` starts it when they fail). One it calls at import only under a
    condition (``if ENVIRONMENT != "production":``) may not run: CesarTokai's
    muebleria-plaza-reforma's .env says production, and its tables were never made."""
    makers: set[str] = set()  # the functions making them
    served: dict[str, list[ast.stmt]] = {}  # each module parsed once
    for path in python_files(files):
        if b"create_all" not in files[path] or _NOT_SERVED.search(path):
            continue
        served[path] = _served(files[path])
        for node in served[path]:
            functions = node.body if isinstance(node, ast.ClassDef) else [node]
            made = [f for f in functions if _makes_them(f)]
            if any(not isinstance(f, (*FUNCTION_NODES, ast.If)) for f in made):
                return True  # at import
            makers.update(f.name for f in made if isinstance(f, FUNCTION_NODES))
    named = (
        _names_used(served[path] if path in served else _served(files[path]))
        for path in python_files(files)
        if not _NOT_SERVED.search(path) and any(n.encode() in files[path] for n in makers)
    )
    return any(makers & names for names in named)


def _served(source: bytes) -> list[ast.stmt]:
    """A module's statements a server runs: all but its ``__main__`` block."""
    tree = parse_module(source)
    body = tree.body if tree is not None else []
    return [n for n in body if not (isinstance(n, ast.If) and is_main_check(n.test))]


def _makes_them(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "create_all" for n in ast.walk(node))


def _names_used(nodes: list[ast.stmt]) -> set[str]:
    """The names (``init_models``) and attributes (``db.init_models``) read in ``nodes``."""
    return {
        name
        for node in nodes
        for n in ast.walk(node)
        if isinstance(n, ast.Name | ast.Attribute) and isinstance(n.ctx, ast.Load)
        if (name := n.id if isinstance(n, ast.Name) else n.attr)
    }


# -- tables made in the app module's __main__ block ------------------------------------

_MAKES_TABLES = {"create_all", "create_table", "create_tables", "generate_schemas"}
# Run with the app's interpreter in its import directory, the module's name its argument.
# No braces: set-up steps are templates ({python}).
MAIN_BLOCK = """\
# the module's __main__ block, as python -m runs it; the server it starts is not started
import importlib
import runpy
import sys

SERVERS = (
    ("uvicorn", "", "run"), ("uvicorn", "Server", "run"), ("flask", "Flask", "run"),
    ("quart", "Quart", "run"), ("sanic", "Sanic", "run"), ("aiohttp.web", "", "run_app"),
    ("bottle", "", "run"), ("waitress", "", "serve"), ("werkzeug.serving", "", "run_simple"),
)
AWAITED = (("uvicorn", "Server", "serve"), ("hypercorn.asyncio", "", "serve"))


def not_served(*args, **kwargs):
    print("its server is not started by this step: the preview starts the app")


async def not_awaited(*args, **kwargs):
    not_served()


for servers, stand_in in ((SERVERS, not_served), (AWAITED, not_awaited)):
    for module, owner, name in servers:
        try:
            found = importlib.import_module(module)
        except Exception:
            continue
        target = getattr(found, owner, None) if owner else found
        if target is not None and hasattr(target, name):
            setattr(target, name, stand_in)
sys.argv = [sys.argv[1]]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def main_block_step(
    files: dict[str, bytes], app: FoundApp | None
) -> list[tuple[tuple[str, ...], str, str]]:
    """The step running the app module's ``__main__`` block where it makes the app's
    tables (the module doc); [] where it does not."""
    if app is None or not app.module or app.path not in files:
        return []
    tree = parse_module(files[app.path])
    if tree is None:
        return []
    functions = {
        n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    pending: list[ast.AST] = [*main_blocks(tree)]
    seen: set[str] = set()
    while pending:
        for node in ast.walk(pending.pop()):
            if not isinstance(node, ast.Call):
                continue
            if _makes_tables(node):
                argv = ("{python}", "-c", MAIN_BLOCK, app.module)
                what = (
                    f"{app.path}'s __main__ block, which makes its tables (its server not started)"
                )
                return [(argv, app.directory, what)]
            # main(), asyncio.run(main()) (its inner call is walked too), trio.run(main)
            names = [node.func, *node.args]
            for called in (n.id for n in names if isinstance(n, ast.Name) and n.id in functions):
                if called not in seen:
                    seen.add(called)
                    pending.append(functions[called])
    return []


# SQL making a table, as a DB-API cursor runs it (``cursor.execute("CREATE TABLE IF NOT
# EXISTS users …")``; ``executescript``): Ahmad-Faraj's flask-sqlite-auth makes its tables
# so in an init_db() its __main__ block calls before app.run() ("no such table: users"
# under a server importing it).
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\b", re.IGNORECASE | re.M)
_CREATE_TABLE_BYTES = re.compile(rb"CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\b", re.IGNORECASE)


def _makes_tables(call: ast.Call) -> bool:
    """Whether ``call`` makes tables: one of :data:`_MAKES_TABLES`, or SQL making one."""
    return getattr(call.func, "attr", None) in _MAKES_TABLES or _creates_tables(call)


def _creates_tables(call: ast.Call) -> bool:
    """Whether ``call`` runs SQL that makes a table (its first argument, a literal)."""
    if getattr(call.func, "attr", None) not in ("execute", "executescript") or not call.args:
        return False
    sql = call.args[0]
    return (
        isinstance(sql, ast.Constant)
        and isinstance(sql.value, str)
        and _CREATE_TABLE.search(sql.value) is not None
    )


# What a script that only makes the tables may call in its __main__ block besides them.
_TABLE_SCRIPT_CALLS = _MAKES_TABLES | {"drop_all", "print"}


def table_script_step(
    files: dict[str, bytes], script: str | None, app: FoundApp | None = None
) -> list[tuple[tuple[str, ...], str, str]]:
    """The step running ``script``, a module other than the app's whose ``__main__``
    block does nothing but make the tables (``Base.metadata.create_all(engine)``, a
    ``drop_all`` before it): what its author runs by hand once (luisnquin's
    fastapi-restapi-sqlalchemy-v2: src/db/migrations.py; every route 500 "relation does
    not exist"). Run as a script, as its author does: its own folder first on the import
    path (``from connection import engine``). [] for any other."""
    tree = parse_module(files[script]) if script is not None and script in files else None
    if script is None or tree is None:
        return []
    statements = [statement for block in main_blocks(tree) for statement in block.body]
    names = set()
    built = set()  # the objects it makes to call a table maker of (``repo = Repo(…)``)
    for statement in statements:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            built.add(last_name(statement.value.func))
            continue
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            return []  # an assignment of a value, a loop, a server started: no table script
        names.add(last_name(statement.value.func))
    makers = _table_makers(tree)
    if not names <= _TABLE_SCRIPT_CALLS | makers or not names & (_MAKES_TABLES | makers):
        return []
    if built - _classes(tree):
        return []  # (an object of another module's, or a function's value: not its own)
    what = f"{script}'s __main__ block, which only makes its tables"
    module = script[:-3].replace("/", ".")
    if _imports_from_the_root(tree, script, files) and all(
        part.isidentifier() for part in module.split(".")
    ):
        # Its imports are the root's (``from settings import …``, ``from app.models …``:
        # chanikarnock's workout-tracker-fastapi): run from there, as ``python -m`` runs it;
        # the app's module imported first where it is another's: its models, which the
        # script's own imports leave out (its Base alone: no table was made).
        dotted = app is not None and all(p.isidentifier() for p in app.module.split("."))
        if app is not None and dotted and app.path != script:
            code = f"{_APP_FIRST.format(app=app.module)}{_RUN_MAIN.format(module=module)}"
            return [(("{python}", "-c", code), "", f"{what}, the app's {app.path} imported first")]
        return [(("{python}", "-m", module), "", what)]
    return [(("{python}", script), "", what)]


# The app's module imported as its server imports it (its failure left to the script's),
# then the script's ``__main__`` block run.
_APP_FIRST = "try:\n    import {app}\nexcept Exception:\n    pass\n"
_RUN_MAIN = "import runpy\nrunpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"


def _imports_from_the_root(tree: ast.Module, script: str, files: dict[str, bytes]) -> bool:
    """Whether the module at ``script`` (in a folder) imports a module of the upload's
    root that its own folder lacks."""
    folder = posixpath.dirname(script)
    if not folder:
        return False
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            first = node.module.split(".")[0]
        elif isinstance(node, ast.Import):
            first = node.names[0].name.split(".")[0]
        else:
            continue
        if holds_module(files, "", first) and not holds_module(files, folder, first):
            return True
    return False


def _classes(tree: ast.Module) -> set[str]:
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def _table_makers(tree: ast.Module) -> set[str]:
    """The names of the module's own functions that make tables: SQL making one
    (:func:`_creates_tables`), or a call of :data:`_MAKES_TABLES`."""
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(n, ast.Call) and _makes_tables(n) for n in ast.walk(node))
    }


def sql_table_script(files: dict[str, bytes]) -> str | None:
    """A module whose ``__main__`` block only calls its own functions that make the
    tables in SQL (leisenhour2's python_task_manager-FastAPI-SQLite-: database.py's
    ``create_table()``, ``CREATE TABLE IF NOT EXISTS tasks``, run by hand; every route
    500 "no such table"), where no other module names those functions (the app making
    them itself as it runs); None where none is."""
    # (tests make tables of their own: never the app's data-init)
    modules = {p: files[p] for p in python_files(files) if not TEST_MODULE.search(p)}
    for path, data in modules.items():
        if _CREATE_TABLE_BYTES.search(data) is None or (tree := parse_module(data)) is None:
            continue
        makers = _table_makers(tree)
        if not makers or not main_blocks(tree) or table_script_step(files, path) == []:
            continue
        names = re.compile(rb"\b(?:%s)\b" % b"|".join(m.encode() for m in makers))
        naming = {p: other for p, other in modules.items() if p != path and names.search(other)}
        if not _made_as_it_runs(modules, naming, makers):
            return path
    return None


def _made_as_it_runs(modules: dict[str, bytes], naming: dict[str, bytes], makers: set) -> bool:
    """Whether a module of ``naming`` (those naming one of ``makers``) calls one as the
    app runs: where its import runs it, in a decorated function (a route, a hook), or in
    a function or method (``Database.make_db``) that code a server runs calls. One called
    only from a ``__main__`` block is its author's by hand too: a-watkin's
    flask-photo-site's ``make_db()`` calls photo_site_schema's ``create_database()``,
    from database_interface.py's own block only ("no such table: tag")."""
    callers: set[str] = set()
    for data in naming.values():
        for statement in _served(data):
            if not isinstance(statement, (ast.ClassDef, *FUNCTION_NODES)):
                if makers & _names_used([statement]):
                    return True  # at import
                continue
            for node in ast.walk(statement):
                if not (isinstance(node, FUNCTION_NODES) and makers & _names_used(node.body)):
                    continue
                if node.decorator_list:
                    return True  # a route's, a hook's: its framework calls it
                callers.add(node.name)
    if not callers:
        return False
    spelt = re.compile(rb"\b(?:%s)\b" % b"|".join(c.encode() for c in callers))
    return any(
        callers & _names_used(_served(data)) for data in modules.values() if spelt.search(data)
    )


# A table made only where missing: the SQL a script may run after the app's own init.
_CREATE_TABLE_IF_MISSING = re.compile(
    rb"CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+IF\s+NOT\s+EXISTS\b", re.IGNORECASE
)


def idempotent_table_script(files: dict[str, bytes]) -> str | None:
    """The SQL table script (:func:`sql_table_script`) where each table it makes it makes
    only if missing (``CREATE TABLE IF NOT EXISTS``): one that runs as well after the
    app's own init command as without it. ChaoticML's flask-finance-tracker has its
    ``flask init-db`` make ``entries`` (schema.sql) and its README run
    ``add_categories_table.py`` for ``categories``: only the command ran, and every
    route answered 500 ("no such table: categories"). None where there is none."""
    script = sql_table_script(files)
    if script is None:
        return None
    data = files[script]
    made = len(_CREATE_TABLE_BYTES.findall(data))
    return script if made == len(_CREATE_TABLE_IF_MISSING.findall(data)) else None


# -- the tables of SQLAlchemy models nothing makes ---------------------------------------

# A model's table, declared: SQLAlchemy's declarative __tablename__, SQLModel's table=True.
# A declarative model (``__tablename__``, SQLModel's ``table=True``), or a table of
# SQLAlchemy's core on a MetaData (``Table("books", metadata, …)``: FastAPI's tutorial of
# the ``databases`` package).
_DECLARES_TABLE = re.compile(
    rb"^\s+__tablename__\s*=|\btable\s*=\s*True\b"
    rb"""|\bTable\(\s*["'][\w.]+["']\s*,\s*[\w.]*meta(?:data)?\b""",
    re.MULTILINE | re.IGNORECASE,
)
# Run with the app's interpreter in its import directory, the app's module its argument.
# No braces: set-up steps are templates ({python}).
MODELS_TABLES = """\
# its models' tables: SQLAlchemy models whose tables nothing in the app makes
import asyncio
import importlib
import os
import sys

sys.path.insert(0, os.getcwd())
importlib.import_module(sys.argv[1])  # as its server imports it: its routes, its models
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
try:
    from sqlalchemy.ext.asyncio import AsyncEngine
except ImportError:  # an SQLAlchemy before 1.4
    AsyncEngine = Engine
here = os.path.join(os.getcwd(), "")
models, engines = [], []
for module in list(sys.modules.values()):
    where = getattr(module, "__file__", None) or ""
    if not where.startswith(here) or "site-packages" in where:
        continue
    for value in list(vars(module).values()):
        held = getattr(value, "metadata", None) if isinstance(value, type) else value
        if isinstance(held, MetaData) and held.tables and all(held is not m for m in models):
            models.append(held)
        elif isinstance(value, (Engine, AsyncEngine)) and all(value is not e for e in engines):
            engines.append(value)
if models and not engines:
    # No engine of SQLAlchemy's: the URL of a ``databases.Database`` it queries through
    # (riadelimemmedov's FastAPI-BookStore), on its sync driver, else its async one.
    from sqlalchemy import create_engine
    try:
        from sqlalchemy.ext.asyncio import create_async_engine
    except ImportError:
        create_async_engine = None
    asynchronous = dict(postgresql="asyncpg", mysql="aiomysql", sqlite="aiosqlite")
    for module in list(sys.modules.values()):
        where = getattr(module, "__file__", None) or ""
        if not where.startswith(here) or "site-packages" in where:
            continue
        for value in list(vars(module).values()):
            kind = type(value)
            if kind.__name__ != "Database" or not kind.__module__.startswith("databases"):
                continue
            url = str(getattr(value, "url", ""))
            scheme, _, rest = url.partition("://")
            dialect = scheme.split("+")[0]
            dialect = "postgresql" if dialect == "postgres" else dialect
            try:
                engine = create_engine(dialect + "://" + rest)
                engine.connect().close()
            except Exception:
                if create_async_engine is None or dialect not in asynchronous:
                    continue
                engine = create_async_engine(dialect + "+" + asynchronous[dialect] + "://" + rest)
            if all(engine.url != e.url for e in engines):
                engines.append(engine)
if models and not engines and os.environ.get("DATABASE_URL", "").startswith("postgres"):
    # No engine made at import: one its script makes as it starts (bmlrb2xh's
    # simple-flask-backend-api, in its __main__ block), on the private server whose
    # DATABASE_URL (and DB_* parts) the service gives it.
    from sqlalchemy import create_engine
    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    try:
        engine = create_engine(url)
        if getattr(engine.dialect, "is_async", False):
            # An async driver's URL, as the service gives an app of SQLAlchemy's asyncio
            # (yeisonipia48's ApiFastApi: postgresql+asyncpg://, its engine made in a
            # class): a sync engine on it met "greenlet_spawn has not been called".
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(url)
        engines.append(engine)
    except Exception:  # its driver not installed: no engine, said below
        pass
if not models or not engines:
    sys.exit("its models' tables: " + ("no engine (create_engine) among its modules' names"
             if models else "no model's table among its modules' names"))
async def made_async(engine, metadata):
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
from sqlalchemy import Enum, String, Text
def sized(engine, metadata):
    # MySQL makes no VARCHAR without a length ("VARCHAR requires a length on dialect
    # mysql"), which its author's own server was given by hand: 255, as such tools give.
    if engine.dialect.name not in ("mysql", "mariadb"):
        return
    for table in metadata.tables.values():
        for column in table.columns:
            kind = column.type
            if isinstance(kind, String) and not isinstance(kind, (Text, Enum)):
                if kind.length is None:
                    kind.length = 255
def one_by_one(engine, metadata):
    # A model that cannot be made (a foreign key to a table no model declares: mruna18's
    # blog-FastAPI, "could not find table 'user'") keeps create_all() from making any:
    # each table that can be, in as many rounds as their keys need.
    left, done = list(metadata.tables.values()), []
    while left:
        failed = []
        for table in left:
            try:
                table.create(engine, checkfirst=True)
            except Exception:
                failed.append(table)
            else:
                done.append(table.name)
        if len(failed) == len(left):
            break
        left = failed
    return done, [table.name for table in left]
made = []
for engine in engines:
    for metadata in models:
        sized(engine, metadata)
        try:
            if isinstance(engine, Engine):
                metadata.create_all(engine)
            else:
                asyncio.run(made_async(engine, metadata))
        except Exception as error:  # another engine of its may reach its database
            print("its models' tables not made on", engine.url.render_as_string(),
                  ":", str(error).splitlines()[0], file=sys.stderr)
            if isinstance(engine, Engine):
                done, unmade = one_by_one(engine, metadata)
                made += [name for name in done if name not in made]
                if done and unmade:
                    print("its models' tables made one by one but", ", ".join(unmade),
                          file=sys.stderr)
        else:
            made += [name for name in sorted(metadata.tables) if name not in made]
if not made:
    sys.exit(1)
print("its models' tables made (nothing in the app makes them):", ", ".join(made),
      file=sys.stderr)
"""


def models_tables_step(
    files: dict[str, bytes], app: FoundApp | None, *, made_elsewhere_too: bool = False
) -> list[tuple[tuple[str, ...], str, str]]:
    """The step making the tables of the app's SQLAlchemy models where nothing of the app
    makes them (the module doc): srickky's fastapi-postgres-crud declares ``users`` in
    app/models.py and calls ``create_all()`` nowhere, its tables made by hand on its
    author's Neon server ("relation users does not exist" on every route of its data).
    [] where the app makes its tables itself, or declares none. ``made_elsewhere_too``:
    made even where a ``create_all()`` of its is read (one of a script its start never
    runs: matheushss1's FastAPI-Quick-Starter's initialize.py), after a step that may make
    them, as ``create_all()`` makes only those missing."""
    if app is None or not app.module or (creates_its_tables(files) and not made_elsewhere_too):
        return []
    declared = [
        p
        for p in python_files(files)
        if not _NOT_SERVED.search(p) and _DECLARES_TABLE.search(files[p]) is not None
    ]
    if not declared:
        return []
    argv = ("{python}", "-c", MODELS_TABLES, app.module)
    return [(argv, app.directory, f"its models' tables ({declared[0]}), which nothing makes")]


# -- Tortoise ORM's tables, which nothing makes ----------------------------------------

# The call that opens Tortoise ORM for the app's framework (tortoise.contrib.fastapi's,
# starlette's, quart's …), and a way of its own to make the tables: generate_schemas=True
# given there (a name too, DEBUG's), or generate_schemas() called.
_REGISTERS_TORTOISE = re.compile(rb"\bregister_tortoise\s*\(")
_GENERATES_SCHEMAS = re.compile(rb"\bgenerate_schemas\s*=\s*(?!False\b)\w|\.generate_schemas\s*\(")
# Run with the app's interpreter in its import directory, the module's name its argument.
# No braces: set-up steps are templates ({python}).
TORTOISE_TABLES = """\
# its models' tables: Tortoise ORM models whose tables nothing in the app makes
import importlib
import os
import sys

sys.path.insert(0, os.getcwd())
from tortoise import Tortoise, run_async
given = []
def recording(register):
    def recorded(*args, **kwargs):
        named = dict(zip(("config", "config_file", "db_url", "modules"), args[1:]))
        named.update(kwargs)
        given.append(named)
        return register(*args, **kwargs)
    return recorded
for framework in ("fastapi", "starlette", "quart", "sanic", "aiohttp", "blacksheep"):
    try:
        contrib = importlib.import_module("tortoise.contrib." + framework)
    except Exception:  # that framework is not installed
        continue
    if hasattr(contrib, "register_tortoise"):
        contrib.register_tortoise = recording(contrib.register_tortoise)
importlib.import_module(sys.argv[1])  # as its server imports it: register_tortoise called
if not given:
    sys.exit("its models' tables: register_tortoise() was not called on import")
kept = ("config", "config_file", "db_url", "modules")
options = dict((k, v) for k, v in given[0].items() if k in kept and v is not None)
async def made():
    await Tortoise.init(**options)
    await Tortoise.generate_schemas(safe=True)
run_async(made())
print("its models' tables made (Tortoise's generate_schemas: nothing in the app makes them)",
      file=sys.stderr)
"""


def tortoise_tables_step(
    files: dict[str, bytes], app: FoundApp | None
) -> list[tuple[tuple[str, ...], str, str]]:
    """The step making the tables of the app's Tortoise ORM models where nothing of the
    app makes them: ``register_tortoise(app, config=…)`` with no ``generate_schemas=True``,
    and no Aerich project (:func:`.alembicheads.aerich_upgrade`, found before this) nor
    ``generate_schemas()`` of its own. rafa1off's fastapi-games names ``aerich.models`` in
    its config and committed no migrations nor ``[tool.aerich]``: "relation games does not
    exist". The app is imported as its server imports it, register_tortoise's options
    recorded, then ``Tortoise.init`` on them and ``generate_schemas(safe=True)`` (what
    exists is left alone). [] where it makes them itself, or calls no register_tortoise."""
    if app is None or not app.module:
        return []
    served = [p for p in python_files(files) if not _NOT_SERVED.search(p)]
    registering = [p for p in served if _REGISTERS_TORTOISE.search(files[p])]
    if not registering or any(_GENERATES_SCHEMAS.search(files[p]) for p in served):
        return []
    argv = ("{python}", "-c", TORTOISE_TABLES, app.module)
    return [
        (
            argv,
            app.directory,
            f"its Tortoise models' tables ({registering[0]}), which nothing makes",
        )
    ]
