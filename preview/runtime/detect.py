"""How to start an uploaded app: :func:`detect` reads its files (never runs them).

In order, the first that applies wins: the launch option ``command``; a ``Procfile``
``web:`` line; a Python ASGI app (FastAPI, Starlette, Litestar, Quart) or its factory,
wherever the module creating it lives; a Flask (or other WSGI) app or factory; a Django
project (``manage.py``); a Node app (``package.json``). Set-up steps come with it: Django's
``migrate``, ``alembic upgrade head`` when there is an ``alembic.ini``, a Procfile
``release:`` line, or the ``setup`` launch option.

Commands are templates: ``{python}`` and ``{port}`` are filled in when the environment is
ready (``{root_path}`` too, for a given ``command``).
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
from dataclasses import dataclass, field

from ..errors import BadRequest

__all__ = ["Detection", "detect", "python_files"]

_ASGI = {"FastAPI": "fastapi", "Starlette": "starlette", "Litestar": "litestar", "Quart": "quart"}
_WSGI = {"Flask": "flask"}
_FACTORY_NAMES = ("create_app", "make_app", "get_app", "build_app", "app_factory", "application")
_PREFERRED_FILES = ("main.py", "app.py", "asgi.py", "server.py", "api.py", "wsgi.py", "run.py")
_SKIPPED_DIRS = {"tests", "test", "node_modules", "migrations", "alembic", "venv", ".venv", "docs"}
_UVICORN = "{python} -m uvicorn {target} --host 127.0.0.1 --port {{port}}"
_GUNICORN = "{python} -m gunicorn --bind 127.0.0.1:{{port}} --workers 1 {target}"
_LOOKED_FOR = [
    "the launch option command",
    "a Procfile with a web: line",
    "a Python module creating a FastAPI/Starlette/Litestar/Quart app or a create_app() factory",
    "a Flask app or factory",
    "a Django manage.py",
    "a package.json with scripts.start or main",
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

    def runtime_info(self) -> dict[str, str]:
        return {
            "framework": self.framework,
            "command": " ".join(self.argv),
            "detectedFrom": self.detected_from,
        }


def _split(template: str) -> tuple[str, ...]:
    return tuple(template.split())


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def python_files(files: dict[str, bytes]) -> list[str]:
    """Python sources worth looking at, outside tests, migrations and environments."""
    return [
        path
        for path in files
        if path.endswith(".py")
        and not _SKIPPED_DIRS.intersection(path.split("/")[:-1])
        and not posixpath.basename(path).startswith("test_")
    ]


def detect(
    files: dict[str, bytes],
    command: list[str] | None = None,
    setup: list[str] | None = None,
) -> Detection:
    """The way to start the app in ``files``; :class:`BadRequest` ``nothing_to_run`` if none."""
    given_setup = (tuple(setup),) if setup else ()
    if command:
        found = Detection("command", tuple(command), "command option", _language(files))
    else:
        found = _procfile(files) or _python_app(files) or _django(files) or _node(files)
    if found is None:
        raise BadRequest(
            "Found no way to start this app. Give the launch option command "
            '(for example ["{python}", "-m", "uvicorn", "main:app", "--port", "{port}"]).',
            code="nothing_to_run",
            details={"lookedFor": _LOOKED_FOR, "option": "command"},
        )
    if given_setup:
        found = _with_setup(found, given_setup, replace=True)
    elif "alembic.ini" in files and found.language == "python" and found.framework != "django":
        found = _with_setup(found, (_split("{python} -m alembic upgrade head"),))
    return found


def _with_setup(
    found: Detection, steps: tuple[tuple[str, ...], ...], *, replace: bool = False
) -> Detection:
    setup = steps if replace else found.setup + steps
    return Detection(
        found.framework, found.argv, found.detected_from, found.language, setup,
        found.server, found.asgi, found.notes,
    )  # fmt: skip


def _language(files: dict[str, bytes]) -> str:
    python = any(p.endswith(".py") for p in files)
    return "node" if "package.json" in files and not python else "python"


# -- Procfile --------------------------------------------------------------------------


def _procfile(files: dict[str, bytes]) -> Detection | None:
    text = files.get("Procfile")
    if text is None:
        return None
    lines: dict[str, str] = {}
    for raw in text.decode("utf-8", "replace").splitlines():
        name, sep, value = raw.partition(":")
        if sep and name.strip() and value.strip():
            lines.setdefault(name.strip(), value.strip())
    if "web" not in lines:
        return None
    release = (("sh", "-c", _escape(lines["release"])),) if "release" in lines else ()
    return Detection(
        "procfile", ("sh", "-c", _escape(lines["web"])), "Procfile", _language(files), release
    )


# -- Python ASGI and WSGI apps ---------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    path: str
    attr: str
    framework: str
    factory: bool
    asgi: bool


def _parse(data: bytes) -> ast.Module | None:
    try:
        return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _callee(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def _creates(nodes: list[ast.AST]) -> str | None:
    """The app class a function body instantiates (FastAPI, Flask, …), if any."""
    for node in nodes:
        name = _callee(node)
        if name in _ASGI or name in _WSGI:
            return name
    return None


def _candidates(path: str, tree: ast.Module, factories: dict[str, str]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = _callee(node.value)
            kind = name if name in _ASGI or name in _WSGI else factories.get(name or "")
            if kind is None:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    found.append(_Candidate(path, target.id, kind, False, kind in _ASGI))
    if not found:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in factories:
                kind = factories[node.name]
                found.append(_Candidate(path, node.name, kind, True, kind in _ASGI))
    return found


def _rank(candidate: _Candidate) -> tuple:
    name = posixpath.basename(candidate.path)
    preferred = _PREFERRED_FILES.index(name) if name in _PREFERRED_FILES else len(_PREFERRED_FILES)
    return (
        candidate.factory,
        preferred,
        candidate.path.count("/"),
        candidate.attr not in ("app", "application", "api"),
        candidate.path,
    )


def _import_root(path: str, tree: ast.Module, files: dict[str, bytes]) -> tuple[str, str]:
    """(directory to import from, dotted module name) for the file at ``path``.

    Packages are the directories with an ``__init__.py``; a directory without one still
    counts when the module imports relatively or imports its own directory's name
    (``app/main.py`` doing ``from app.routers import items``).
    """
    parts = path[:-3].split("/")
    relative = any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()  # the package itself; its relative imports stay inside it
        relative = False
    root = len(parts) - 1  # parts[:root] is the module's directory
    imported = _absolute_imports(tree)
    while root > 0:
        package = "/".join(parts[:root])
        if package + "/__init__.py" in files or parts[root - 1] in imported or relative:
            root -= 1
            relative = False
        else:
            break
    return "/".join(parts[:root]), ".".join(parts[root:])


def _absolute_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def _python_app(files: dict[str, bytes]) -> Detection | None:
    trees = {p: t for p in python_files(files) if (t := _parse(files[p])) is not None}
    factories: dict[str, str] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                made = _creates(list(ast.walk(node)))
                if made is not None and (node.name in _FACTORY_NAMES or "app" in node.name):
                    factories.setdefault(node.name, made)
    candidates = [c for path, tree in trees.items() for c in _candidates(path, tree, factories)]
    if not candidates:
        return None
    best = min(candidates, key=_rank)
    directory, module = _import_root(best.path, trees[best.path], files)
    framework = _ASGI.get(best.framework) or _WSGI.get(best.framework, best.framework)
    if best.asgi:
        target = f"{module}:{best.attr}" + (" --factory" if best.factory else "")
        if directory:
            target += f" --app-dir {directory}"
        argv = _split(_UVICORN.format(python="{python}", target=target))
        return Detection(framework, argv, best.path, "python", server="uvicorn", asgi=True)
    target = f"{module}:{best.attr}" + ("()" if best.factory else "")
    if directory:
        target = f"--pythonpath {directory} {target}"
    argv = _split(_GUNICORN.format(python="{python}", target=_escape(target)))
    return Detection(framework, argv, best.path, "python", server="gunicorn")


# -- Django ----------------------------------------------------------------------------

_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


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
    setup = (_split(f"{{python}} {manage} migrate --noinput"),)
    if project and f"{prefix}{project.replace('.', '/')}/wsgi.py" in files:
        target = f"{project}.wsgi:application"
        if base:
            target = f"--chdir {base} {target}"
        argv = _split(_GUNICORN.format(python="{python}", target=target))
        return Detection("django", argv, manage, "python", setup, server="gunicorn")
    argv = _split(f"{{python}} {manage} runserver --noreload 127.0.0.1:{{port}}")
    return Detection("django", argv, manage, "python", setup)


# -- Node ------------------------------------------------------------------------------


def _node(files: dict[str, bytes]) -> Detection | None:
    raw = files.get("package.json")
    if raw is None:
        return None
    try:
        package = json.loads(raw)
    except ValueError:
        package = None
    if not isinstance(package, dict):
        return None
    scripts = package.get("scripts")
    if isinstance(scripts, dict) and isinstance(scripts.get("start"), str):
        return Detection("node", ("npm", "start", "--silent"), "package.json", "node")
    main = package.get("main")
    if isinstance(main, str) and main.strip():
        entry = main.strip()
    else:
        entry = next((f for f in ("server.js", "index.js", "app.js") if f in files), "")
    if entry:
        return Detection("node", ("node", _escape(entry)), "package.json", "node")
    return None
