"""A Python app's later plans: the starts its deployment files declare, and its own
scripts that start its server (:func:`python_plans`).

The starts a Dockerfile's ``CMD``, a compose service's ``command``, render.yaml, fly.toml,
railway or nixpacks.toml declare (``declared``), where they run Python (``uvicorn
app.main:app --host 0.0.0.0 --port 8000``, ``python run.py``, ``gunicorn -w 4 wsgi:app``),
are what a deployment of the app runs: where the detection's own start does not serve,
each is the next plan, run as the Procfile's web line is (one worker, a factory call
quoted, ``pipenv run`` and its kin run as what they run, ``--reload`` left out: nothing
changes under a preview's start), in the folder the Dockerfile copies as the app, on its
own port (found: ``runtime.anyport``). A command naming a path of the image's own
(``/app/main.py``) is none: the upload's files are not there. After them, the server
commands its README runs (``uvicorn app.main:app --reload``, ``flask run``), a human's
account of the same.

The detection serves a Python app's object with a server of the service's choosing
(gunicorn, uvicorn), imported as a module: what a deployment does. Its author, though,
often runs a script (``python main.py``) whose ``if __name__ == "__main__":`` block starts
the server itself, and that block may do what the app needs before it serves: bmlrb2xh's
simple-flask-backend-api makes its SQLAlchemy engine and session there and hands them to a
module of state its routes read (``state.engine = create_engine(…)``) before
``werkzeug.run_simple``; served as an object, every route of it failed on ``None``. Where
the first plan does not serve (it exits, never answers, or answers only 5xx at the smoke
check), such a script is the next plan: run as its author runs it, from the upload's root
(where its ``from app.api.app import app`` resolves), its own server on whatever port it
says (the sandbox's other port is found: ``runtime.anyport``).

Where the block gives the running app what it needs in its own process — an attribute or
an item set (``state.engine = …``, ``app.config["SECRET_KEY"] = …``), an extension or a
router attached (``db.init_app(app)``, ``app.register_blueprint(…)``) — in a module other
than the one served, the script is the first plan and the served object the next: nothing
but running the block gives a server process that state (a step before it runs in a
process of its own; the served module's own block is run before it serves, by
``apps.served``' ``main_setup_served``). bmlrb2xh's app, served
as an object, answered every route 200 with its own "An unknown error occured": no smoke
check could tell.

Read from the files, never run. A script whose block only starts the server of the very
module the first plan serves is no plan (it would serve the same object again).
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass

from ...discovery.pyast import main_blocks, parse_module
from ..processes.envrunner import (
    with_app_required,
    with_factory_quoted,
    with_one_worker,
    without_env_runner,
)
from ..pyapp import python_files
from .declared import PYTHON_SERVERS, README_NAMES, Declared, declared_starts
from .ranked import MOST_PLANS, Plan, escaped, shown

__all__ = [
    "IN_FOLDER",
    "PythonStart",
    "declared_python",
    "python_plans",
    "python_starts",
    "readme_starts",
    "server_scripts",
]

# Calls that start a web server, by the name called: ``app.run(…)``, ``uvicorn.run(…)``,
# ``socketio.run(app)``, ``werkzeug.run_simple(…)``, waitress's ``serve(app)``.
_STARTS = frozenset({"run", "run_simple", "serve"})
# ``<name>.run(…)`` that is no server: an event loop, a subprocess, a test runner, a CLI
# (Flask-Script's ``manager.run()`` prints its help and exits).
_NOT_SERVERS = frozenset(
    {"asyncio", "trio", "anyio", "subprocess", "unittest", "pytest", "manager", "cli", "typer"}
)
# What a script is called, its author's likeliest first.
_SCRIPT_NAMES = ("main.py", "run.py", "app.py", "server.py", "wsgi.py", "application.py")
# Never an app's start, whatever its block does.
_NOT_SCRIPTS = frozenset({"manage.py", "setup.py", "seed.py", "seeds.py"})
# A command run in a folder of the upload: ``sh -c … sh <folder> <argv…>`` (arguments
# added after it, ``--root-path``, still reach the command).
IN_FOLDER = ("sh", "-c", 'cd "$1" && shift && exec "$@"', "sh")


def python_plans(files: dict[str, bytes], first: Plan, served: str) -> tuple[Plan, ...]:
    """``first``, then the Python starts the upload declares (:func:`declared_python`),
    then its scripts that start a server (:func:`server_scripts`), each with ``first``'s
    set-up; a script whose block sets the running app up in a module other than
    ``served`` (the module ``first`` serves, its path) before them all (module doc)."""
    plans = [first]
    for plan in declared_python(files, first):
        if all(plan.argv != p.argv for p in plans):
            plans.append(plan)
    for script, sets_up, state in server_scripts(files):
        if script == served and not sets_up:
            continue
        folder, name = posixpath.split(script)
        argv = (*IN_FOLDER, folder, "{python}", name) if folder else ("{python}", name)
        if any(argv == p.argv for p in plans):
            continue
        origin = f"{script}'s __main__ block, which starts its server"
        if sets_up:
            origin += " after setting the app up"
        notes = ()
        # (the served module's own block is run in its server's process: apps.served)
        if state is not None and plans[0] is first and script != served:
            notes = (
                f"{script}'s __main__ block sets the app up before its server starts "
                f"({state}): run as its author runs it",
            )
        plan = Plan(
            f"python {name}" if not folder else f"cd {folder} && python {name}",
            origin,
            argv,
            first.setup,
            first.setup_dirs,
            first.setup_from,
            first.optional,
            notes,
        )
        if notes:
            plans.insert(0, plan)
        else:
            plans.append(plan)
    return tuple(plans[:MOST_PLANS])


# A declared command that runs Python: an interpreter, a server, Flask's or FastAPI's CLI.
_RUNS_PYTHON = re.compile(
    rf"^(?:exec\s+)?(?:\w+=\S*\s+)*(?:python3?(?:\.\d+)?|{PYTHON_SERVERS}"
    r"|pipenv\s+run|poetry\s+run|uv\s+run)\b"
)
# A path of the image's own (``/app/main.py``, ``/code/src``): not the upload's.
_IMAGE_PATH = re.compile(r"(?:^|[\s=:])/(?!dev/null\b)[\w.-]")
_RELOAD = re.compile(r"\s--reload(?:-dir(?:=|\s+)\S+)?\b")


# A README's server command, on a line of its own or in backquotes: ``uvicorn app.main:app
# --reload``, ``flask run``, ``fastapi dev main.py``, ``python manage.py runserver``.
_README_SERVER = re.compile(
    r"(?:^|`)[ \t]*(?:\$[ \t]*)?("
    r"(?:python3?\s+-m\s+)?(?:uvicorn|gunicorn|hypercorn|daphne)\s[^`\n]*?[\w.]+:[\w.]+[^`\n]*"
    r"|(?:python3?\s+-m\s+)?flask\s+(?:--app\s+\S+\s+)?run\b[^`\n]*"
    r"|fastapi\s+(?:run|dev)\b[^`\n]*"
    r"|python3?\s+manage\.py\s+runserver\b[^`\n]*)",
    re.MULTILINE,
)
_COMMENT = re.compile(r"\s+#.*$")


def readme_starts(files: dict[str, bytes]) -> list[Declared]:
    """The server commands the README runs (above), in its order, each once: a human's
    account of how the app starts, tried as a plan after the deployment files' (the
    README's install steps, tests and one-off commands are never starts)."""
    path = next((name for name in README_NAMES if name in files), None)
    if path is None:
        return []
    text = files[path][:200_000].decode("utf-8", "replace")
    found: dict[str, Declared] = {}
    for match in _README_SERVER.finditer(text):
        command = _COMMENT.sub("", match.group(1)).strip().rstrip(".,;:")
        found.setdefault(command, Declared(command, f"the {path}'s run command"))
    return list(found.values())


@dataclass(frozen=True)
class PythonStart:
    """A start of Python the upload declares, as a plan would run it."""

    line: str  # as the status shows it (``cd api && python main.py``)
    origin: str  # where it is declared (``the Dockerfile's CMD``)
    argv: tuple[str, ...]  # the command template
    from_readme: bool  # a README's run command, not a deployment file's


def python_starts(files: dict[str, bytes]) -> list[PythonStart]:
    """The Python starts the upload's deployment files declare, then those its README
    runs, best first (module doc), none naming a path of the image's own."""
    starts = []
    readme = readme_starts(files)
    for declared in [*declared_starts(files), *readme]:
        text = declared.command.strip()
        if not _RUNS_PYTHON.match(text) or _IMAGE_PATH.search(text):
            continue
        line = with_app_required(
            with_one_worker(with_factory_quoted(without_env_runner(text, files)))
        )
        line = _RELOAD.sub("", line)
        folder = declared.folder
        command = ("sh", "-c", escaped(line))
        argv = (*IN_FOLDER, folder, *command) if folder else command
        shown_line = f"cd {folder} && {line}" if folder else line
        starts.append(PythonStart(shown_line, declared.origin, argv, declared in readme))
    return starts


def declared_python(files: dict[str, bytes], first: Plan) -> list[Plan]:
    """The Python starts the upload declares (:func:`python_starts`) as plans, none the
    same as ``first``'s."""
    plans = []
    for start in python_starts(files):
        if start.argv == first.argv:
            continue
        # (a README's account of the detection's own start: ``uvicorn app.main:app``)
        same = _served_target(shown(first.argv)) == _served_target(start.line)
        if same and start.from_readme:
            continue
        plans.append(
            Plan(
                start.line,
                start.origin,
                start.argv,
                first.setup,
                first.setup_dirs,
                first.setup_from,
                first.optional,
            )
        )
    return plans


# The app a server command serves: ``module:attr`` (``app.main:app``, ``wsgi:create_app()``).
_TARGET = re.compile(r"""(?:^|\s)['"]?([\w.]+:[\w.]+(?:\(.*?\))?)['"]?(?=\s|$)""")


def _served_target(command: str) -> str:
    """The ``module:attr`` a server command serves, whichever server (a README's ``uvicorn
    app.main:app --reload`` is the detection's ``python -m uvicorn app.main:app …``);
    the command itself where it names none."""
    found = _TARGET.search(command)
    return found.group(1) if found else command


def server_scripts(files: dict[str, bytes]) -> list[tuple[str, bool, str | None]]:
    """(path, whether its block does more than start the server, the first statement of
    its blocks that gives the app state in its own process: :func:`_state_set`) of every
    module whose ``__main__`` block starts a web server, best first: those setting the app
    up before it, then the shallowest, then by their names' likeliness
    (:data:`_SCRIPT_NAMES`)."""
    found = []
    for path in python_files(files):
        if posixpath.basename(path) in _NOT_SCRIPTS:
            continue
        tree = parse_module(files[path])
        if tree is None:
            continue
        blocks = main_blocks(tree)
        for block in blocks:
            if any(_starts_a_server(node) for node in ast.walk(block)):
                found.append((path, _sets_up(block.body), _state_set(blocks)))
                break
    return sorted(found, key=_likeliness)


def _likeliness(found: tuple[str, bool, str | None]) -> tuple:
    path, sets_up, _ = found
    name = posixpath.basename(path)
    named = _SCRIPT_NAMES.index(name) if name in _SCRIPT_NAMES else len(_SCRIPT_NAMES)
    return (not sets_up, path.count("/"), named, path)


def _starts_a_server(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in ("run_simple", "serve")
    if not isinstance(func, ast.Attribute) or func.attr not in _STARTS:
        return False
    owner = func.value
    return not (isinstance(owner, ast.Name) and owner.id in _NOT_SERVERS)


def _sets_up(body: list[ast.stmt]) -> bool:
    """Whether a ``__main__`` block does something before its server that the app may
    need: anything but the server's start, a print, a log line, or a name given a
    constant or the environment's value (its host, its port)."""
    for statement in body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if _starts_a_server(call) or _is_said(call):
                continue
            return True
        if isinstance(statement, ast.Assign | ast.AnnAssign) and _is_setting(statement):
            continue
        if isinstance(statement, ast.Pass):
            continue
        return True
    return False


# Methods attaching to the app what it serves with: an extension, a router, a setting.
_ATTACHING = frozenset(
    {"init_app", "register_blueprint", "include_router", "add_middleware", "mount"}
    | {"add_url_rule", "add_resource", "update", "setdefault", "from_object", "from_pyfile"}
)


def _state_set(blocks: list[ast.If]) -> str | None:
    """The first statement of a module's ``__main__`` ``blocks`` that gives the app state
    in its own process (module doc), shown as its code, shortened; None where there is
    none."""
    for block in blocks:
        for node in ast.walk(block):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Attribute | ast.Subscript) for t in targets):
                    return _shortened(node)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                if isinstance(func, ast.Attribute) and func.attr in _ATTACHING:
                    return _shortened(node)
    return None


def _shortened(node: ast.AST) -> str:
    text = ast.unparse(node).splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "…"


def _is_said(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    return isinstance(func, ast.Attribute) and func.attr in (
        "info",
        "debug",
        "warning",
        "basicConfig",
    )


def _is_setting(statement: ast.Assign | ast.AnnAssign) -> bool:
    """``port = int(os.environ.get("PORT", 5000))``, ``host = "0.0.0.0"``: a local name
    given a constant, or a value read from the environment."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    if not all(isinstance(target, ast.Name) for target in targets):
        return False
    value = statement.value
    if value is None or isinstance(value, ast.Constant):
        return True
    text = ast.unparse(value)
    return "environ" in text or "getenv" in text
