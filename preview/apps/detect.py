"""How to start an uploaded app: :func:`detect` reads its files (never runs them).

In order, the first that applies wins: the launch option ``command``; a ``Procfile``
``web:`` line; a Python ASGI app (FastAPI, Starlette, Litestar, Quart, Falcon's ASGI app)
or its factory, wherever the module creating it lives; a WSGI app or factory (Flask,
Bottle, Falcon, Pyramid's ``config.make_wsgi_app()``); a Django project (``manage.py``); a
module-level ``application`` in a ``wsgi.py``; the app a library's README example makes
from its package (:mod:`.plans.readmeapp`); a Node app (``package.json``: see
:mod:`.nodeapp`, whose ``build`` script is a set-up step). Set-up steps come with it: a
Procfile ``release:`` line, then what initialises the app's data (:mod:`.datainit`:
Django's ``migrate``, Alembic or Flask-Migrate, the project's init command), or else the
``setup`` launch option alone.

A Python app's JavaScript frontend whose output it reads and the upload lacks is noted
(:mod:`.frontend`): the build makes it first. For Node, knex's and Drizzle's migrations
are set-up steps after the build (:mod:`.node.migrations`). A Procfile's Node app gets its build
(and Prisma's) steps as Heroku's buildpack would, and a ``yarn``/``pnpm`` run of one of
its scripts (neither is installed here; npm made the environment) is run by npm
(:func:`npm_for_procfile`). A Python Procfile's line through the project's environment
manager (``pipenv run upgrade``, ``poetry run gunicorn …``, ``uv run``, ``pdm run``) runs
without it: none is installed here, and the preview's environment is the one it would run
in; a Pipfile's or pdm's script named there is replaced by its command
(``processes.without_env_runner``).

Commands are templates: ``{python}`` and ``{port}`` are filled in when the environment is
ready (``{root_path}`` too, for a given ``command``).
"""

from __future__ import annotations

import ast
import posixpath
import re
import shlex
from dataclasses import dataclass, field, replace

from ..discovery.node.tokens import JS_SUFFIXES
from ..discovery.pyast import is_main_check, module_level, syntax_error
from ..errors import BadRequest
from .configvars import README_NAMES
from .datainit import DataStep, data_steps, own_makemigrations
from .frontend import Frontend, find_frontend
from .imports import imported_names, source_roots
from .node.datascripts import copy_scripts, data_scripts
from .node.devscript import BIN_FIRST_ON_PATH
from .node.emptystart import listens
from .node.migrations import node_migrations, sequelize_models_step, typeorm_entities_step
from .node.nodeapp import BUN, TSX, node_hint, node_start, read_package
from .plans import (
    IN_FOLDER,
    Plan,
    declared_starts,
    escaped,
    node_plans,
    optional_steps,
    python_plans,
    python_starts,
    readme_app,
    readme_scripts,
    shown,
)
from .processes import (
    GUNICORN_THREADS,
    WorkerProcess,
    find_workers,
    procfile_lines,
    with_app_required,
    with_factory_quoted,
    with_one_worker,
    without_env_runner,
)
from .pyapp import (
    FoundApp,
    binds,
    find_wsgi_module,
    parse_module,
    python_files,
    runs_in_its_folder,
)
from .served import find_app

__all__ = [
    "Detection",
    "detect",
    "nearest",
    "npm_for_procfile",
    "python_files",
    "without_env_runner",
]

_UVICORN = "{python} -m uvicorn {target} --host 127.0.0.1 --port {{port}}"
_SHELL = re.compile(r"&&|\|\||[;|<>`$()]")
# A Procfile's server program: its package.
_PROCFILE_SERVERS = {
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "waitress-serve": "waitress",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
}
# A Python project's environment manager running a command (or a script of its own) in the
# project's environment: each part of a line joined by &&, || or ;.
# gunicorn's runner module, not ``-m gunicorn``: its ``__main__`` came in 20.1, and apps pin
# older ones (flask-bones: gunicorn==20.0.4, "No module named gunicorn.__main__"). One
# worker, its requests in threads, as Flask's and Django's own servers serve them: one sync
# worker answered one call at a time, and flask-kanban-kiranprasath-26's endless /stream
# (flask-sse) held / and /verify behind it until they timed out.
_GUNICORN = (
    "{python} -m gunicorn.app.wsgiapp --bind 127.0.0.1:{{port}} --workers 1 "
    f"--threads {GUNICORN_THREADS} {{target}}"
)
# A start with a folder of the upload after the others on its import path (``PYTHONPATH``:
# the service's own entries kept first): ``sh -c … sh <folder> <argv…>``.
_ALSO_ON_PATH = (
    "sh",
    "-c",
    'export PYTHONPATH="${{PYTHONPATH:+$PYTHONPATH:}}$PWD/$1" && shift && exec "$@"',
    "sh",
)
_LOOKED_FOR = [
    "the launch option command",
    "a Procfile with a web: line",
    "a Python module creating a FastAPI/Starlette/Litestar/Quart/Sanic app or its factory",
    "a Flask, Bottle, Falcon or Pyramid app or factory",
    "a Django manage.py",
    "a wsgi.py with a module-level application",
    "a README example making an ASGI app from the upload's own package",
    "a Python start its Dockerfile, compose file or other deployment file declares",
    "a package.json with a start:prod, start or dev script or a main (its build script first)",
]


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` found: the start command and everything it needs."""

    framework: str  # fastapi, starlette, flask, django, node, procfile, command …
    argv: tuple[str, ...]  # a template: {python}, {port} (and {root_path}) filled in later
    detected_from: str  # the file (or "command option") it was read from
    language: str  # "python" or "node": which environment the build makes
    setup: tuple[tuple[str, ...], ...] = ()  # templates, run in order before the start
    server: str | None = None  # the server package the start needs (uvicorn, gunicorn)
    asgi: bool = False  # uvicorn serving an ASGI app: --root-path may be added
    notes: list[str] = field(default_factory=list)
    setup_dirs: tuple[str, ...] = ()  # each step's directory in the upload ("": the root)
    node_tools: tuple[str, ...] = ()  # npm packages the build adds (tsx for a .ts entry)
    prisma_schema: str | None = None  # its client generated by the build
    data_init: tuple[str, ...] = ()  # what the data steps found are ("Django's migrate" …)
    # Those steps themselves (templates, among ``setup``): run once per data-init key where
    # the launch keeps initialised data (builds.preparation: DataInitCache).
    data_setup: tuple[tuple[str, ...], ...] = ()
    workers: tuple[WorkerProcess, ...] = ()  # run beside it once it answers (.processes)
    frontend: Frontend | None = None  # a Python app's pages, built before it starts
    # The ways to start it, ranked (.plans): the first is the detection's own; a launch
    # tries the next when one does not serve (builds.plantries). () for a given command.
    plans: tuple[Plan, ...] = ()
    plan: int = 0  # the one in force
    optional: tuple[tuple[str, ...], ...] = ()  # set-up steps whose failure is not fatal

    def with_plan(self, index: int) -> Detection:
        """Itself started as its plan ``index`` says (its set-up steps, start, tools)."""
        plan = self.plans[index]
        return replace(
            self,
            argv=plan.argv,
            setup=plan.setup,
            setup_dirs=plan.setup_dirs,
            optional=plan.optional,
            notes=list(plan.notes),
            node_tools=plan.tools if self.language == "node" else self.node_tools,
            plan=index,
        )

    def with_data_optional(self) -> Detection:
        """Itself with every step of its data set-up optional (its failure said, the start
        going on): after that set-up failed and no fix is known (builds.plantries)."""
        return replace(self, optional=tuple(dict.fromkeys((*self.optional, *self.data_setup))))

    def setup_steps(self) -> list[tuple[tuple[str, ...], str]]:
        """(template, directory in the upload) of each set-up step, in order."""
        dirs = self.setup_dirs + ("",) * (len(self.setup) - len(self.setup_dirs))
        return list(zip(self.setup, dirs, strict=False))

    def runtime_info(self) -> dict[str, str]:
        return {
            "framework": self.framework,
            "command": " ".join(self.argv),
            "detectedFrom": self.detected_from,
        }

    def without_workers(self, off: frozenset[str]) -> Detection:
        """Itself less the workers the launch option ``workers`` turns off, by name
        (``spec.workers_off``: ``workers: false`` is every detected worker's name)."""
        kept = tuple(w for w in self.workers if w.name not in off)
        return replace(self, workers=kept)


# A word of a command template standing for an argument given whole (a folder's name may
# hold spaces).
_WHOLE = "\x00whole\x00"


def _split(template: str, *whole: str) -> tuple[str, ...]:
    """``template``'s words, each :data:`_WHOLE` replaced by the next of ``whole``."""
    given = iter(whole)
    return tuple(next(given) if word == _WHOLE else word for word in template.split())


def detect(
    files: dict[str, bytes],
    command: list[str] | None = None,
    setup: list[str] | None = None,
) -> Detection:
    """The way to start the app in ``files``; :class:`BadRequest` ``nothing_to_run`` if none."""
    given_setup = (tuple(setup),) if setup else ()
    app = _AppFinder(files)  # (parsing every module once: it costs ms a file)
    if command:
        found = Detection("command", tuple(command), "command option", _language(files))
    else:
        python = (
            _procfile(files)
            or _served(app(), files)
            or _django(files)
            or _wsgi_module(files)
            or _readme_served(files)
            or _python_declared(files)
        )
        if python is not None and _nested_beside_a_root_server(python, files):
            python = _node(files) or python
        found = python or _node(files) or _node_declared(files) or _node(files, anywhere=True)
        if found is not None and found.language == "node" and _published_library(files):
            raise BadRequest(
                f"Found no way to start this app; {_A_LIBRARY}. Give the launch option"
                f" command (for example {node_hint(files)}).",
                code="nothing_to_run",
                details={"lookedFor": _LOOKED_FOR, "option": "command"},
            )
    if found is None:
        example = (
            node_hint(files)
            if _language(files) == "node"
            else '["{python}", "-m", "uvicorn", "main:app", "--port", "{port}"]'
        )
        broken = _unparsable(files)
        idle = not broken and _language(files) == "python" and _serves_nothing(files)
        raise BadRequest(
            "Found no way to start this app"
            + "".join(f"; {path} line {line} is not Python ({said})" for path, line, said in broken)
            + (f"; {_SERVES_NOTHING}" if idle else "")
            + f". Give the launch option command (for example {example}).",
            code="nothing_to_run",
            details={"lookedFor": _LOOKED_FOR, "option": "command"},
        )
    web = procfile_lines(files).get("web") or " ".join(found.argv)
    node = found.language == "node"  # yarn and pnpm are not installed: npm runs its scripts

    def rewrite(line: str) -> str:  # run as the web line is (pipenv's, yarn's)
        return npm_for_procfile(line, files)[0] if node else without_env_runner(line, files)

    workers = find_workers(files, language=found.language, web=web, rewrite=rewrite)
    notes = [*found.notes, *(w.note for w in workers if w.note)]
    found = replace(found, workers=workers, notes=notes)
    if given_setup:
        found = _with_setup(found, given_setup, only=True)
    elif found.language == "python":
        found = _with_data_steps(found, files, app())
    if found.language == "python":
        found = replace(found, frontend=find_frontend(files))
    return found if command else _with_plans(found, files)


# A Node server's framework, which a package.json lists to serve from Node (not a
# frontend's bundler, nor a tool's).
_NODE_SERVER_PACKAGES = frozenset(
    {"express", "koa", "fastify", "hono", "@nestjs/core", "@hapi/hapi", "hapi", "restify"}
)


def _nested_beside_a_root_server(python: Detection, files: dict[str, bytes]) -> bool:
    """Whether the Python app found lies in a folder below a root package.json that
    lists a Node server's framework (youyudehexie's koa-seed: its Koa blog at the root,
    ``main: app.js``, a Django admin of the same tables in dashboard/app/, which was
    started instead, its Python 2 failing migrate): the root's manifest is the app's."""
    if "/" not in python.detected_from or python.detected_from.startswith("Procfile"):
        return False
    listed = (read_package(files) or {}).get("dependencies")
    return isinstance(listed, dict) and bool(_NODE_SERVER_PACKAGES & listed.keys())


_SERVES_NOTHING = "no module of it imports a web framework or server: nothing in it serves"
# What a Python module that serves imports (top-level names): web frameworks, their
# servers, the toolkits serving pages of their own, RPC and socket servers.
_SERVING = frozenset(
    {
        "aiohttp",
        "ariadne",
        "bjoern",
        "blacksheep",
        "bottle",
        "chalice",
        "cherrypy",
        "connexion",
        "daphne",
        "dash",
        "django",
        "emmett",
        "eve",
        "falcon",
        "fastapi",
        "flask",
        "flask_restful",
        "flask_restx",
        "gevent",
        "gradio",
        "granian",
        "graphene",
        "grpc",
        "gunicorn",
        "hug",
        "hypercorn",
        "klein",
        "litestar",
        "masonite",
        "meinheld",
        "microdot",
        "nameko",
        "nicegui",
        "panel",
        "pyramid",
        "quart",
        "reflex",
        "responder",
        "rest_framework",
        "robyn",
        "sanic",
        "socketify",
        "socketio",
        "starlette",
        "streamlit",
        "strawberry",
        "tornado",
        "twisted",
        "uvicorn",
        "waitress",
        "web",
        "websockets",
        "werkzeug",
        "zmq",
    }
)
# The standard library's servers (``http.server``, ``socketserver``, ``wsgiref``).
_STDLIB_SERVING = re.compile(
    rb"^\s*(?:from|import)\s+(?:http\.server|socketserver|wsgiref)\b", re.M
)


def _serves_nothing(files: dict[str, bytes]) -> bool:
    """Whether no Python module of the upload imports anything that serves (a script
    querying its database and printing: Joichiro433's Blog-sqlmodel, refused, nothing to
    run, where nothing could be)."""
    if imported_names(files) & _SERVING:
        return False
    return not any(_STDLIB_SERVING.search(files[path]) for path in python_files(files))


def _unparsable(files: dict[str, bytes]) -> list[tuple[str, int, str]]:
    """The app's Python modules (a few) that do not parse, each with its first error: where
    nothing runnable was found, one of them may be where its app is made (williamyizima's
    flask-wallet: the conflict markers of a merge left in its create_app's module)."""
    found = []
    for path in sorted(python_files(files)):
        if (error := syntax_error(files[path])) is not None:
            found.append((path, *error))
    return found[:_MOST_UNPARSABLE]


_MOST_UNPARSABLE = 3


def _with_plans(found: Detection, files: dict[str, bytes]) -> Detection:
    """``found`` with its plans (:mod:`.plans`): its own first, then, for a Node app,
    the other starts the upload declares; for a Python app, the starts its deployment
    files and README declare and its scripts that start its server."""
    steps = found.setup_steps()
    release = 1 if found.setup and found.setup[0][:2] == ("sh", "-c") else 0
    froms = ["Procfile release"] * release if found.framework == "procfile" else []
    froms += list(found.data_init)[: len(steps) - len(froms)] if found.language == "python" else []
    optional = optional_steps(files, found.argv, found.setup)
    first = Plan(
        shown(found.argv),
        _origin(found),
        found.argv,
        found.setup,
        tuple(d for _, d in steps),
        tuple(froms),
        optional,
        tuple(found.notes),
        found.node_tools,
    )
    if found.language == "node":
        plans = node_plans(files, first)
    else:
        plans = python_plans(files, first, found.detected_from)
    found = replace(found, plans=plans, optional=optional)
    # A script its author runs first where only it sets the app up (.plans.pyplans)
    return found if plans[0] is first else found.with_plan(0)


def _origin(found: Detection) -> str:
    """Where the detected start came from, said as the status says it."""
    if found.framework == "procfile":
        return "Procfile web"
    if found.language != "node":
        return found.detected_from
    if found.argv[:2] == ("npm", "start"):
        return "package.json script start"
    if found.argv[:2] == ("npm", "run") and len(found.argv) > 2:
        return f"package.json script {found.argv[2]}"
    return "package.json"


class _AppFinder:
    """:func:`find_app` of ``files``, found once when first asked for."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self._files = files
        self._found: tuple[FoundApp | None] | None = None

    def __call__(self) -> FoundApp | None:
        if self._found is None:
            self._found = (find_app(self._files),)
        return self._found[0]


def _with_data_steps(found: Detection, files: dict[str, bytes], app: FoundApp | None) -> Detection:
    """The steps initialising the app's data (:mod:`.datainit`), after a Procfile's
    ``release:`` line unless that line already does what one of them does."""
    release = " ".join(" ".join(step) for step in found.setup)
    # A release line migrating its database (``release: pipenv run upgrade``, ``flask db
    # upgrade``) is data set-up too: where it fails and no fix is known, the app starts
    # once more without it, judged by whether it then serves (phorjax's StarWars-Flask-API:
    # a history whose DROP TABLE PostgreSQL refuses, the launch failed there).
    migrating = tuple(
        step
        for step in found.setup
        if found.framework == "procfile"
        and step[:2] == ("sh", "-c")
        and _MIGRATING_RELEASE.search(step[-1])
    )
    steps = [
        step
        for step in data_steps(files, found.detected_from, app)
        if not (release and ("migrate" in release or "upgrade" in release) and _migrates(step))
        and not _script_run_by(step, release)
    ]
    if not steps:
        return replace(found, data_setup=migrating) if migrating else found
    found = _with_setup(found, tuple(s.argv for s in steps), tuple(s.where for s in steps))
    return replace(
        found,
        data_init=tuple(s.what for s in steps),
        data_setup=(*migrating, *(s.argv for s in steps)),
    )


# A release line's command that migrates (Procfile's ``release: flask db upgrade``,
# ``python manage.py migrate``, ``alembic upgrade head``, ``npx prisma migrate deploy``).
_MIGRATING_RELEASE = re.compile(r"\b(?:migrate|upgrade)\b")


def _migrates(step: DataStep) -> bool:
    return "migrate" in step.argv or "upgrade" in step.argv


def _script_run_by(step: DataStep, release: str) -> bool:
    """Whether ``step`` runs a script of the upload (``python -m seed``, ``python
    scripts/init_db.py``) that the release line runs already (``python seed.py``): run
    twice, a seed's rows were there twice."""
    words = list(step.argv)
    module = words[words.index("-m") + 1] if "-m" in words[:-1] else None
    script = (
        module.replace(".", "/") + ".py"
        if module
        else next((w for w in words if w.endswith(".py")), None)
    )
    if script is None:
        return False
    said = re.split(r"[\s;&|()]+", release)
    return script in said or f"./{script}" in said or (module is not None and module in said)


def nearest(files: dict[str, bytes], anchor: str, name: str) -> str | None:
    """The file ``name`` in ``anchor``'s directory or the nearest one above it (up to the
    upload's root), e.g. ``backend/alembic.ini`` for ``backend/app/main.py``."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    while True:
        path = f"{directory}/{name}" if directory else name
        if path in files:
            return path
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def _with_setup(
    found: Detection,
    steps: tuple[tuple[str, ...], ...],
    dirs: tuple[str, ...] = (),
    *,
    only: bool = False,
) -> Detection:
    if only:
        setup, setup_dirs = steps, dirs
    else:  # the steps found with the start first, each in its own directory
        setup = found.setup + steps
        setup_dirs = tuple(d for _, d in found.setup_steps()) + dirs
    return replace(found, setup=setup, setup_dirs=setup_dirs)


_A_LIBRARY = (
    "its package.json publishes a library (its types, the files it ships) and runs nothing:"
    " no script starts it and no module of it listens, not an app: nothing in it serves"
)
# What a package published for others to import says of itself (and an app does not).
_LIBRARY_FIELDS = ("types", "typings", "publishConfig", "files")
# ... and of its scripts: a build before each publish.
_LIBRARY_SCRIPTS = ("prepublishOnly", "prepublish")
_STARTS = ("start", "dev", "serve", "server", "start:dev", "start:prod", "develop")
# A start that only compiles (``"start": "tsc --watch"``): it starts nothing.
_COMPILES_ONLY = re.compile(r"^\s*(?:tsc|babel|swc)(?:\s+[^&|;<>]*)?$")


def _published_library(files: dict[str, bytes]) -> bool:
    """Whether the upload is a package others import, not an app (IamIsthill's zodexpress:
    an Express middleware published to npm, ``"types": "dist/index.d.ts"``, ``"files":
    ["dist"]``, ``publishConfig``, its only scripts test, build and publish; run as its
    ``main``, it exited at once, code 0, having served nothing): package.json declares
    two of those fields (a ``prepublishOnly`` script counts as one), names no start script
    but one that only compiles (borsucok's koas3, Koa middleware: ``"typings"``,
    ``prepublishOnly``, ``"start": "tsc --watch"``: the launch waited out its time on
    the watch), and no source of it listens."""
    package = read_package(files)
    if package is None:
        return False
    scripts = package.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    said = sum(field in package for field in _LIBRARY_FIELDS)
    said += any(name in scripts for name in _LIBRARY_SCRIPTS)
    starts = [s for s in _STARTS if s in scripts and not _COMPILES_ONLY.match(str(scripts[s]))]
    if said < 2 or starts:
        return False
    return not any(
        listens(data)
        for path, data in files.items()
        if path.endswith(JS_SUFFIXES) and "node_modules/" not in path
    )


def _language(files: dict[str, bytes]) -> str:
    python = any(p.endswith(".py") for p in files)
    return "node" if "package.json" in files and not python else "python"


# -- Procfile --------------------------------------------------------------------------


# Heroku runs a Procfile's lines with bash: a line using bash's own words (``source``,
# ``[[``) is run by bash here too (andela-hoyeboade's flask-graphql-app: ``web: source
# ./build.sh;``, "sh: 1: source: not found"); any other by sh, as before.
_BASH_ONLY = re.compile(r"(?:^|[\s;&|(])(?:source\s|\[\[\s|function\s+\w)")


def _procfile_shell(line: str) -> tuple[str, str, str]:
    """The argv running a Procfile's ``line`` as Heroku does."""
    return ("bash" if _BASH_ONLY.search(line) else "sh", "-c", escaped(line))


def _procfile(files: dict[str, bytes]) -> Detection | None:
    lines = procfile_lines(files)
    if "web" not in lines:
        return None
    language = _language(files)
    if language == "node" and _missing_npm_script(lines["web"], files):
        # Its web line runs a script its package.json lacks (gami34's harperdb-mercurius-
        # fastify: ``web: npm run dev``, no dev script: "Missing script"): the start its
        # package.json declares is read instead, as without a Procfile.
        return None
    unrun = None
    if language == "node" and (script := _missing_npm_script(lines.get("release"), files)):
        lines = {k: v for k, v in lines.items() if k != "release"}
        unrun = (
            f"its Procfile's release line runs the script {script}, which its package.json "
            "lacks (npm: Missing script): not run; its data is initialised as without one"
        )
    release = (_procfile_shell(lines["release"]),) if "release" in lines else ()
    if language == "node":  # built as Heroku's buildpack does: its build script first
        web, note = npm_for_procfile(lines["web"], files)
        node = node_start(files, started=True)
        data = _node_migrations(files, node.prisma if node else None, own=not release)
        data = () if "migrat" in lines.get("release", "") else data  # (run there: not twice)
        return _with_node_data(
            Detection(
                "procfile",
                _procfile_shell(web),
                "Procfile",
                language,
                (*(node.setup if node else ()), *data, *release),
                notes=[n for n in (note, unrun) if n],
                node_tools=tuple(t for t in node.tools if _needed_by(t, web)) if node else (),
                prisma_schema=node.prisma if node else None,
            ),
            data,
        )
    web = with_factory_quoted(without_env_runner(lines["web"], files))
    web = with_app_required(with_one_worker(web))
    # (a script its release line may make, as the platform runs that line first, is its)
    absent = "release" not in lines and _script_absent(web, files)
    if language == "python" and (_target_unbound(web, files) or absent):
        return None  # the app the upload makes is served instead (_served)
    if "release" in lines:
        command = own_makemigrations(without_env_runner(lines["release"], files), files)
        release = (_procfile_shell(command),)
    return Detection(
        "procfile",
        _procfile_shell(web),
        "Procfile",
        language,
        release,
        server=_procfile_server(web) if language == "python" else None,
    )


# A release line that is one run of a package.json script (``npm run migrate``).
_RUNS_SCRIPT = re.compile(r"^\s*npm\s+run(?:-script)?\s+([\w:.-]+)\s*$")


def _missing_npm_script(line: str | None, files: dict[str, bytes]) -> str | None:
    """The script a Node app's Procfile line (``release:``, ``web:``) runs by ``npm run``
    that its package.json does not have, which npm refuses ("Missing script"); None
    elsewhere.
    thejonroberts's booking-node-ts-express-api says ``release: npm run migrate``, its
    scripts ``db:migrate`` (sequelize-cli, its .sequelizerc's migrations): the release
    failed, and with it the launch, its own migrations never run."""
    found = _RUNS_SCRIPT.match(line or "")
    scripts = (read_package(files) or {}).get("scripts")
    if found is None or not isinstance(scripts, dict) or found.group(1) in scripts:
        return None
    return found.group(1)


# A WSGI or ASGI target of a server's command line: module:attr (a factory's call too).
_SERVER_TARGET = re.compile(r"^([A-Za-z_][\w.]*):([A-Za-z_]\w*)(?:\(.*\))?$")


def _target_unbound(web: str, files: dict[str, bytes]) -> bool:
    """Whether a Python web line's server target (``gunicorn app:app``) names a module of
    the upload that binds no such name as it is imported: its app made only under
    ``if __name__ == "__main__":`` (leatuan021211's flask-restful-api: ``app =
    create_app()`` there, its Procfile's gunicorn "Failed to find attribute 'app'"),
    which a server never runs."""
    if _procfile_server(web) is None:
        return False
    for word in web.split()[1:]:
        target = _SERVER_TARGET.match(word.strip("'\""))
        if target is None:
            continue
        module, name = target.group(1).replace(".", "/"), target.group(2)
        path = next((p for p in (f"{module}.py", f"{module}/__init__.py") if p in files), None)
        tree = parse_module(files[path]) if path is not None else None
        return tree is not None and not binds(tree, name) and not _star_imports(tree)
    return False


def _script_absent(web: str, files: dict[str, bytes]) -> bool:
    """Whether a Python web line runs a script the upload does not have: Grinch101's
    flask-crm says ``web: python app:app`` ("can't open file 'app:app'"), a server's
    target given to python; its app.py is served instead."""
    if any(mark in web for mark in ("&&", ";", "|")):
        return False  # a chain: its steps' scripts are read by none here
    words = _command_words(web)
    if len(words) < 2 or posixpath.basename(words[0]) not in ("python", "python3"):
        return False
    script = words[1]
    return not script.startswith("-") and posixpath.normpath(script) not in files


def _command_words(web: str) -> list[str]:
    """A web line's words without the variables it sets first (``env X=1 gunicorn …``)."""
    return [w for w in web.split() if "=" not in w and w != "env"]


def _star_imports(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in tree.body
    )


def _procfile_server(web: str) -> str | None:
    """The server package a Python web line runs (``gunicorn wsgi:app``, ``python -m
    uvicorn …``): installed with the app when its dependency file does not list it
    (flask-bluelog lists gunicorn in its Pipfile.lock only, not its requirements.txt).
    Each command of a chained line, the last server of them: geekwise-estefania-flores's
    django-drf-bank-app runs ``cd app && python manage.py migrate && gunicorn main.wsgi``,
    its Pipfile lists no gunicorn ("sh: 1: gunicorn: not found")."""
    found = None
    for command in _CHAINED.split(web):
        words = _command_words(command)
        if words[:1] == ["exec"]:
            words = words[1:]
        if words[:2] in (["python", "-m"], ["python3", "-m"]):
            words = words[2:]
        found = _PROCFILE_SERVERS.get(words[0], found) if words else found
    return found


# Where one command of a shell line ends and the next begins.
_CHAINED = re.compile(r"&&|\|\||;")


def _needed_by(tool: str, command: str) -> bool:
    """Whether ``command`` needs ``tool``, a tool the build adds: tsx or bun, what runs a
    start command, only when the command names it; any other, always."""
    name = tool.partition("@")[0]
    return name not in ("tsx", "bun") or name in command


# -- Python ASGI and WSGI apps ---------------------------------------------------------


def _wsgi_module(files: dict[str, bytes]) -> Detection | None:
    return _served(find_wsgi_module(files), files)


def _served(found: FoundApp | None, files: dict[str, bytes]) -> Detection | None:
    """uvicorn for an ASGI app, gunicorn for a WSGI one; in the folder it imports from
    where its code names that folder's files (``pyapp.runs_in_its_folder``), else with
    that folder on its import path."""
    if found is None:
        return None
    if (script := _serves_at_import(found, files)) is not None:
        return script
    if (script := _rebound_after_its_main(found, files)) is not None:
        return script
    if found.module.rsplit(".", 1)[-1] == "__main__" and b".run(" in files[found.path]:
        # A package's __main__.py, which no server imports by that name (uvicorn found its
        # own __main__: "Attribute "app" not found", fotikhbek's minimal-fastapi-blog):
        # run as its author runs it (its compose's ``cd app && python __main__.py``);
        # served as its package's module from above where its code imports that package
        # (kykyrzik's FastAPIproject: ``from src.api.v1 import api`` in src/__main__.py,
        # whose ``uvicorn.run("main:app")`` names a module it has not: run in src/, "Could
        # not import module "main"").
        package = found.module.rpartition(".")[0].replace(".", "/")
        folder = posixpath.join(found.directory, package) if package else found.directory
        if not _imports_its_package(folder, files):
            note = f"{found.path} is its package's __main__, which no server imports"
            return _as_script(found, note)
        if not package:  # served as its package's module
            parent, name = posixpath.split(found.directory)
            found = replace(found, directory=parent, module=f"{name}.__main__")
    if (package := _named_as_its_folder(found, files)) is not None:
        served = _served(package, files)
        if served is None:
            return None
        note = (
            f"{found.path} bears its folder's name and imports {found.directory} as a package: "
            f"served as {package.module}, {found.directory} also on its import path"
        )
        argv = (*_ALSO_ON_PATH, escaped(found.directory), *served.argv)
        return replace(served, argv=argv, notes=[*served.notes, note])
    in_folder = runs_in_its_folder(found, files)
    # The folder is one argument whatever its name holds (rv1281's Online-Attendance-Flask-
    # Application keeps its app in "Online Student Attendance/": split at its spaces,
    # gunicorn was given the app "Student").
    folder = (escaped(found.directory),) if found.directory else ()
    if found.asgi:
        target = f"{found.module}:{found.attr}" + (" --factory" if found.factory else "")
        if folder and not in_folder:
            target += f" --app-dir {_WHOLE}"
        argv = _split(_UVICORN.format(python="{python}", target=target), *folder)
        if in_folder:  # uvicorn has no --chdir: a shell goes there first
            argv = (*IN_FOLDER, *folder, *argv)
        return Detection(found.framework, argv, found.path, "python", server="uvicorn", asgi=True)
    call = "(" + ", ".join(["{}"] * found.arguments) + ")" if found.factory else ""
    target = f"{found.module}:{found.attr}{call}"
    if folder:
        option = "--chdir" if in_folder else "--pythonpath"  # --chdir: its import path too
        target = f"{option} {_WHOLE} {escaped(target)}"
    else:
        target = escaped(target)
    argv = _split(_GUNICORN.format(python="{python}", target=target), *folder)
    return Detection(found.framework, argv, found.path, "python", server="gunicorn")


def _named_as_its_folder(found: FoundApp, files: dict[str, bytes]) -> FoundApp | None:
    """``found`` imported as a module of its folder's package, that folder also on the
    import path, where its module bears the folder's name and the code imports the
    package by that name (EricDalrymple91's simple-flask-api-with-sqlalchemy: ``app/app.py``
    does ``from app.models.database import db`` and ``from routes.main_db import …``; run
    in ``app/``, ``app`` was that module: "'app' is not a package"). From the folder's
    parent, with the folder after it on PYTHONPATH, both imports resolve, as in its
    image (the repository and the folder's files both at its root). None elsewhere."""
    name = posixpath.basename(found.directory)
    if not name or found.module.split(".")[0] != name:
        return None
    if not _imports_its_package(found.directory, files):
        return None
    parent = posixpath.dirname(found.directory)
    return replace(found, directory=parent, module=f"{name}.{found.module}")


def _imports_its_package(directory: str, files: dict[str, bytes]) -> bool:
    """Whether ``directory`` is a package (its ``__init__.py``) whose own modules import it
    by its name (``from app.models import …`` in ``app/``), one of its modules at least."""
    name = posixpath.basename(directory)
    if not name or f"{directory}/__init__.py" not in files:
        return False
    imported = re.compile(rb"^\s*(?:from|import)\s+" + re.escape(name.encode()) + rb"\.(\w+)", re.M)
    below = f"{directory}/"
    for path in python_files(files):
        if not path.startswith(below):
            continue
        for match in imported.finditer(files[path]):
            sub = f"{below}{match.group(1).decode()}"
            if f"{sub}.py" in files or f"{sub}/__init__.py" in files:
                return True
    return False


def _readme_served(files: dict[str, bytes]) -> Detection | None:
    """A library making no app of its own served as its README's example makes one from
    its package (:mod:`.plans.readmeapp`: MukievMukhammad's fastapi-email-auth, refused
    ``nothing_to_run``)."""
    if _language(files) != "python" or (found := readme_app(files)) is None:
        return None
    note = f"no app of its own: the one its {found.readme}'s example makes from its package, served"
    return Detection(
        found.framework, found.argv, found.readme, "python", server="uvicorn", notes=[note]
    )


def _python_declared(files: dict[str, bytes]) -> Detection | None:
    """A Python upload in which nothing the detection knows makes an app — a framework it
    does not serve itself (NiceGUI's ``ui.run()``), a server of the app's own —: the start
    its deployment files declare, run as they run it, on whatever port it listens
    (pffigueiredo's nicetodo-sqlmodel-postgres: ``CMD ["uv", "run", "--no-dev", "python",
    "main.py"]`` in its Dockerfile; refused, nothing to run). A README's run command is
    no such start: it names a server serving a module, which the detection would have
    found."""
    if _language(files) != "python":
        return None
    for start in python_starts(files):
        if not start.from_readme:
            note = f"no app the detection serves: {start.origin}, {start.line}, as declared"
            return Detection("declared", start.argv, start.origin, "python", notes=[note])
    return None


def _serves_at_import(found: FoundApp, files: dict[str, bytes]) -> Detection | None:
    """The app's module run as a script where it starts its own server at import, outside
    ``if __name__ == "__main__":`` (koukol-p's flask-sqlite-rest ends with ``app.run(port=
    5000, debug=True)``): a server importing it would block in that call, and the
    reloader it starts ran gunicorn again, on the port its master held. As a script it
    listens where it says (a sandbox's other port is found: runtime.anyport)."""
    if found.factory:
        return None
    tree = parse_module(files[found.path])
    if tree is None or not any(
        _starts_a_server(node, found.attr) for node in module_level(tree.body)
    ):
        return None
    return _as_script(
        found,
        f"{found.path} starts its own server when imported ({found.attr}.run() outside"
        ' `if __name__ == "__main__"`)',
    )


def _as_script(found: FoundApp, why: str) -> Detection:
    """``found``'s module run as a script in its folder (``why``: what says so)."""
    folder, script = posixpath.split(found.path)
    argv = (*IN_FOLDER, folder, "{python}", script) if folder else ("{python}", script)
    return Detection(found.framework, argv, found.path, "python", notes=[f"{why}: run as a script"])


def _rebound_after_its_main(found: FoundApp, files: dict[str, bytes]) -> Detection | None:
    """The app's module run as a script where its main block serves the app bound
    before it and the module binds the name anew after it (benjiea's music-index-flask:
    ``from application import app``, the main block's ``app.run()``, then a stray ``app =
    Flask(__name__)`` at its end, which gunicorn served: every route answered 404). As a
    script it serves what its author's ``python app.py`` served."""
    if found.factory:
        return None
    tree = parse_module(files[found.path])
    if tree is None:
        return None
    mains = [i for i, n in enumerate(tree.body) if isinstance(n, ast.If) and is_main_check(n.test)]
    if not mains:
        return None
    bound = [i for i, n in enumerate(tree.body) if found.attr in _names_bound(n)]
    before, after = [i for i in bound if i < mains[0]], [i for i in bound if i > mains[0]]
    if not before or not after or f"{found.attr}.run(".encode() not in files[found.path]:
        return None
    return _as_script(
        found,
        f"{found.path} binds {found.attr} anew after its main block, which serves the one "
        "bound before",
    )


def _names_bound(statement: ast.stmt) -> set[str]:
    """The names a module-level statement binds (an assignment's, an import's)."""
    if isinstance(statement, ast.Assign):
        return {t.id for t in statement.targets if isinstance(t, ast.Name)}
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return {statement.target.id}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    return set()


def _starts_a_server(statement: ast.stmt, attr: str) -> bool:
    """``app.run(…)`` or ``uvicorn.run(…)`` as a statement of its own."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    func = statement.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "run"
        and isinstance(func.value, ast.Name)
        and func.value.id in (attr, "uvicorn")
    )


# -- Django ----------------------------------------------------------------------------

_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


# A settings package's modules a checkout runs with, in order (a development run's first).
_DEVELOPMENT_SETTINGS = ("local", "dev", "development", "develop", "base", "common", "default")


def _manage_named(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(its folder, the settings module it names) of the upload's outermost ``manage.py``;
    None where it has none, or one naming no settings module."""
    managers = sorted((p for p in files if posixpath.basename(p) == "manage.py"), key=len)
    if not managers:
        return None
    match = _SETTINGS_MODULE.search(files[managers[0]].decode("utf-8", "replace"))
    return (posixpath.dirname(managers[0]), match.group(1)) if match is not None else None


def settings_package_module(files: dict[str, bytes]) -> tuple[str, str] | None:
    """The settings module to run a Django app with where the one its ``manage.py`` names
    is a folder that says nothing itself (no ``__init__.py``, or an empty one) beside its
    modules (``base.py``, ``development.py`` …), which Django imports as an empty package
    ("settings.DATABASES is improperly configured. Please supply the ENGINE value"):
    agustin-jimenez's drf-events-api names ``events.settings``, its compose file's env
    file (not uploaded) the development one. Its development module (:data:`_DEVELOPMENT_
    SETTINGS`' order), with the module named; None where the named one is a module."""
    found = _manage_named(files)
    if found is None:
        return None
    base, named = found
    folder = posixpath.join(base, *named.split("."))
    init = files.get(f"{folder}/__init__.py")
    if f"{folder}.py" in files or (init is not None and _says_something(init)):
        return None
    modules = {
        posixpath.basename(p)[:-3]
        for p in files
        if posixpath.dirname(p) == folder and p.endswith(".py")
    }
    chosen = next((m for m in _DEVELOPMENT_SETTINGS if m in modules), None)
    return (f"{named}.{chosen}", named) if chosen is not None else None


def manage_settings_module(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(the settings module its ``manage.py`` names, the one its ``wsgi.py``/``asgi.py``
    names) where the latter is not in the upload and the former is: a project renamed
    after those were written (loggedme's server-django: ``config/wsgi.py`` still says
    ``app.settings``, manage.py ``config.settings``; its author runs manage.py, the
    preview's gunicorn met "No module named 'app.settings'"). None where that is not so."""
    found = _manage_named(files)
    if found is None:
        return None
    base, named = found

    def present(module: str) -> bool:
        path = posixpath.join(base, *module.split("."))
        return f"{path}.py" in files or f"{path}/__init__.py" in files

    if not present(named):
        return None
    for path in sorted(files):
        if posixpath.basename(path) not in ("wsgi.py", "asgi.py") or "site-packages/" in path:
            continue
        served = _SETTINGS_MODULE.search(files[path].decode("utf-8", "replace"))
        if served is not None and served.group(1) != named and not present(served.group(1)):
            return named, served.group(1)
    return None


def lone_settings_module(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(the upload's one settings module, the one its ``manage.py`` names) where the
    latter is not in the upload: a project renamed, its own env file (not uploaded)
    naming the right one (mrlkn's ysepeti-django-assignment: manage.py, wsgi.py and
    asgi.py all say ``app.settings``, its settings are ``yemeksepeti/settings.py``, its
    compose file's ``env_file: ../app/.env``; "No module named 'app.settings'"). The one
    is a ``settings`` module (or package) beside a ``urls.py``, ``wsgi.py`` or
    ``asgi.py``; None where the named one is there, or where not exactly one is."""
    manage = _manage_named(files)
    if manage is None:
        return None
    base, module = manage
    named = posixpath.join(base, *module.split("."))
    if f"{named}.py" in files or f"{named}/__init__.py" in files:
        return None
    # Its module under a folder its code imports from as a sources root, which is put on
    # the path (Eleverkuhn's AuthDRF: ``config.settings.base`` is src/config/settings/
    # base.py, its Dockerfile's PYTHONPATH /app/src): that one, not another.
    for root in source_roots(files, set()):
        under = posixpath.join(root, *module.split("."))
        if f"{under}.py" in files or f"{under}/__init__.py" in files:
            return None
    found = set()
    for path in files:
        folder, name = posixpath.split(path)
        if name == "__init__.py" and posixpath.basename(folder) == "settings":
            folder = posixpath.dirname(folder)
        elif name != "settings.py":
            continue
        beside = (f"{folder}/{n}" if folder else n for n in ("urls.py", "wsgi.py", "asgi.py"))
        inside = not base or folder == base or folder.startswith(f"{base}/")
        if inside and "site-packages/" not in path and any(p in files for p in beside):
            own = posixpath.relpath(f"{folder}/settings" if folder else "settings", base or ".")
            found.add(own.replace("/", "."))
    return (found.pop(), module) if len(found) == 1 else None


def _says_something(source: bytes) -> bool:
    """Whether a module has a line other than a comment or blank."""
    lines = source.decode("utf-8", "replace").splitlines()
    return any(line.strip() and not line.strip().startswith("#") for line in lines)


def _django(files: dict[str, bytes]) -> Detection | None:
    managers = sorted((p for p in files if posixpath.basename(p) == "manage.py"), key=len)
    if not managers:
        return None
    manage = managers[0]
    base = posixpath.dirname(manage)
    text = files[manage].decode("utf-8", "replace")
    match = _SETTINGS_MODULE.search(text)
    project = match.group(1).rsplit(".", 1)[0] if match else None
    prefix = f"{base}/" if base else ""
    setup = ()  # its migrate is a data step (datainit)
    wsgi = f"{prefix}{project.replace('.', '/')}/wsgi.py" if project else ""
    if project and wsgi in files:
        target = f"{project}.wsgi:{_wsgi_callable(files[wsgi])}"
        if base:
            target = f"--chdir {base} {target}"
        argv = _split(_GUNICORN.format(python="{python}", target=target))
        return Detection("django", argv, manage, "python", setup, server="gunicorn")
    argv = _split(f"{{python}} {manage} runserver --noreload 127.0.0.1:{{port}}")
    return Detection("django", argv, manage, "python", setup)


def _wsgi_callable(source: bytes) -> str:
    """The name a Django project's ``wsgi.py`` binds its WSGI application to:
    ``application`` where it binds that (Django's template), else the one it binds
    ``get_wsgi_application()`` to (MohammadFahad1's SiOi-Global-Trade-Backend: ``app =
    get_wsgi_application()`` for Vercel, its settings' WSGI_APPLICATION ``….wsgi.app``;
    gunicorn met "Failed to find attribute 'application'")."""
    tree = parse_module(source)
    if tree is None or binds(tree, "application"):
        return "application"
    for node in module_level(tree.body):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called = node.value.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name == "get_wsgi_application":
                bound = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if bound:
                    return bound[0]
    return "application"


# -- Node ------------------------------------------------------------------------------


def _node(files: dict[str, bytes], *, anywhere: bool = False) -> Detection | None:
    found = node_start(files, named=tuple(readme_scripts(files)), anywhere=anywhere)
    if found is None:
        return None
    notes = [found.note] if found.note else []
    data = _node_migrations(files, found.prisma)
    return _with_node_data(
        Detection(
            "node",
            found.argv,
            "package.json",
            "node",
            (*found.setup, *data),
            notes=notes,
            node_tools=found.tools,
            prisma_schema=found.prisma,
        ),
        data,
    )


def _with_node_data(found: Detection, data: tuple[tuple[str, ...], ...]) -> Detection:
    """``found`` with its Node migrations and data scripts (among its set-up steps) named
    its data steps: run once per data-init key where the launch keeps initialised data,
    as a Python app's (``builds.preparation``), and timed as its data init."""
    if not data:
        return found
    return replace(found, data_init=tuple(shown(step) for step in data), data_setup=data)


def _node_declared(files: dict[str, bytes]) -> Detection | None:
    """A Node app whose package.json says nothing of starting it (no start or dev script,
    no main, no conventional entry): the start its deployment files declare where it is
    ``node`` on a module of the upload (Portus7's postgres-express-auth: no scripts, its
    ``dockerfile``'s ``CMD ["node", "db_conexion.js"]``; the launch was refused, nothing
    to run)."""
    if read_package(files) is None:
        return None
    for declared in declared_starts(files):
        try:
            words = shlex.split(declared.command)
        except ValueError:
            continue
        found = _declared_module_run(words, files)
        if found is not None:
            argv, tools = found
            note = f"no start script, main or entry of its own: {declared.origin}"
            data = _node_migrations(files, None)
            return _with_node_data(
                Detection(
                    "node",
                    argv,
                    declared.origin.removeprefix("the "),
                    "node",
                    data,
                    notes=[f"{note}, {declared.command}"],
                    node_tools=tools,
                ),
                data,
            )
    return None


def _declared_module_run(
    words: list[str], files: dict[str, bytes]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(the command, the packages the build adds for it) of a declared start that runs a
    module of the upload: ``node`` on JavaScript as it is; Bun's ``bun [run]`` on any
    module, with Bun (guigiusti's fastify-url-shortener: no scripts, its image
    ``oven/bun``'s ``CMD ["bun", "run", "src/server.ts"]``: refused, nothing to run); a
    TypeScript runner's (tsx, ts-node, node's own type stripping) with tsx, as a script's
    .ts entry is run. None for any other."""
    runner = words[0] if words else ""
    at = 2 if runner == "bun" and words[1:2] == ["run"] else 1
    module = posixpath.normpath(words[at]) if len(words) > at else ""
    if module not in files:
        return None
    listed = _listed(files)
    if runner == "node" and module.endswith(_JS_MODULES):
        return tuple(words), ()
    if runner == "bun" and module.endswith((*_JS_MODULES, *_TS_MODULES)):
        tools = () if "bun" in listed else (BUN,)
        return _on_own_path(shlex.join(words)), tools
    if runner in ("node", "tsx", "ts-node") and module.endswith(_TS_MODULES):
        line = shlex.join(["tsx", *words[at:]])
        return _on_own_path(line), () if "tsx" in listed else (TSX,)
    return None


_JS_MODULES = (".js", ".mjs", ".cjs")
_TS_MODULES = (".ts", ".mts", ".cts", ".tsx")


def _on_own_path(line: str) -> tuple[str, ...]:
    """``line`` run by the shell with the environment's own tools first on its PATH."""
    return ("sh", "-c", escaped(BIN_FIRST_ON_PATH + line))


def _listed(files: dict[str, bytes]) -> dict[str, str]:
    package = read_package(files) or {}
    found: dict[str, str] = {}
    for key in ("dependencies", "devDependencies"):
        table = package.get(key)
        if isinstance(table, dict):
            found.update({k: v for k, v in table.items() if isinstance(v, str)})
    return found


_SEQUELIZE_MIGRATE = "sequelize db:migrate"  # sequelize-cli's step, however it is run


def _node_migrations(
    files: dict[str, bytes], prisma: str | None, *, own: bool = True
) -> tuple[tuple[str, ...], ...]:
    """The Node app's migrations (``node.migrations``); with none (nor a Prisma schema,
    nor a Procfile's release step: ``own`` False), its own SQLite set-up scripts
    (``node.datascripts``), else its Sequelize models' or TypeORM entities' tables made
    where nothing of it makes them."""
    listed = _listed(files)
    migrations = node_migrations(files, listed)
    if migrations and prisma is None and any(_SEQUELIZE_MIGRATE in " ".join(m) for m in migrations):
        # Sequelize's models synced after its migrations: what they failed to make (an
        # optional step, as its first line says).
        after = sequelize_models_step(files, listed, after_migrations=True)
        return (*migrations, after) if after is not None else migrations
    if migrations or prisma is not None or not own:
        return migrations
    scripts = (read_package(files) or {}).get("scripts")
    own_scripts = (
        {k: v for k, v in scripts.items() if isinstance(v, str)}
        if isinstance(scripts, dict)
        else {}
    )
    copies = copy_scripts(own_scripts, files)  # its data file, copied from the upload's
    readme = next((files[name] for name in README_NAMES if name in files), b"")
    if found := data_scripts(own_scripts, listed, files, readme):
        return (*copies, *found)
    # its models' tables, where nothing of it makes them
    models = sequelize_models_step(files, listed) or typeorm_entities_step(files, listed)
    return (*copies, models) if models is not None else copies


def npm_for_procfile(web: str, files: dict[str, bytes]) -> tuple[str, str | None]:
    """A Procfile's ``web:`` command with a ``yarn``/``pnpm`` run of one of the project's
    scripts (``yarn start``, ``pnpm run serve``) made npm's, and the note saying so;
    any other command as it is (None)."""
    package = read_package(files)
    if package is None or _SHELL.search(web):
        return web, None
    try:
        words = shlex.split(web)
    except ValueError:
        return web, None
    if len(words) < 2 or words[0] not in ("yarn", "pnpm"):
        return web, None
    rest = words[2:] if words[1] == "run" else words[1:]
    scripts = package.get("scripts")
    if not rest or not isinstance(scripts, dict) or not isinstance(scripts.get(rest[0]), str):
        return web, None
    script, args = rest[0], rest[1:]
    npm = ["npm", "start"] if script == "start" else ["npm", "run", script]
    command = shlex.join([*npm, *(["--", *args] if args else [])])
    return command, f"{words[0]} is not installed here (npm built the environment): {command}"
