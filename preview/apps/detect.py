"""How to start an uploaded app: :func:`detect` reads its files (never runs them).

In order, the first that applies wins: the launch option ``command``; a ``Procfile``
``web:`` line; a Python ASGI app (FastAPI, Starlette, Litestar, Quart, Falcon's ASGI app)
or its factory, wherever the module creating it lives; a WSGI app or factory (Flask,
Bottle, Falcon, Pyramid's ``config.make_wsgi_app()``); a Django project (``manage.py``); a
module-level ``application`` in a ``wsgi.py``; a Node app (``package.json``). Set-up steps
come with it: a Procfile ``release:`` line, then what initialises the app's data
(:mod:`.datainit`: Django's ``migrate``, Alembic or Flask-Migrate, the project's init
command), or else the ``setup`` launch option alone.

Commands are templates: ``{python}`` and ``{port}`` are filled in when the environment is
ready (``{root_path}`` too, for a given ``command``).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace

from ..errors import BadRequest
from .datainit import DataStep, data_steps
from .pyapp import FoundApp, find_app, find_wsgi_module, python_files

__all__ = ["Detection", "detect", "nearest", "python_files"]

_UVICORN = "{python} -m uvicorn {target} --host 127.0.0.1 --port {{port}}"
_GUNICORN = "{python} -m gunicorn --bind 127.0.0.1:{{port}} --workers 1 {target}"
_LOOKED_FOR = [
    "the launch option command",
    "a Procfile with a web: line",
    "a Python module creating a FastAPI/Starlette/Litestar/Quart app or a create_app() factory",
    "a Flask, Bottle, Falcon or Pyramid app or factory",
    "a Django manage.py",
    "a wsgi.py with a module-level application",
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
    setup_dirs: tuple[str, ...] = ()  # each step's directory in the upload ("": the root)
    data_init: tuple[str, ...] = ()  # what the data steps found are ("Django's migrate" …)

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


def _split(template: str) -> tuple[str, ...]:
    return tuple(template.split())


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


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
        found = (
            _procfile(files)
            or _python_app(files)
            or _django(files)
            or _wsgi_module(files)
            or _node(files)
        )
    if found is None:
        raise BadRequest(
            "Found no way to start this app. Give the launch option command "
            '(for example ["{python}", "-m", "uvicorn", "main:app", "--port", "{port}"]).',
            code="nothing_to_run",
            details={"lookedFor": _LOOKED_FOR, "option": "command"},
        )
    if given_setup:
        found = _with_setup(found, given_setup, only=True)
    elif found.language == "python":
        found = _with_data_steps(found, files)
    return found


def _with_data_steps(found: Detection, files: dict[str, bytes]) -> Detection:
    """The steps initialising the app's data (:mod:`.datainit`), after a Procfile's
    ``release:`` line unless that line already does what one of them does."""
    release = " ".join(" ".join(step) for step in found.setup)
    steps = [
        step
        for step in data_steps(files, found.detected_from, find_app(files))
        if not (release and ("migrate" in release or "upgrade" in release) and _migrates(step))
    ]
    if not steps:
        return found
    found = _with_setup(found, tuple(s.argv for s in steps), tuple(s.where for s in steps))
    return replace(found, data_init=tuple(s.what for s in steps))


def _migrates(step: DataStep) -> bool:
    return "migrate" in step.argv or "upgrade" in step.argv


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


def _python_app(files: dict[str, bytes]) -> Detection | None:
    return _served(find_app(files))


def _wsgi_module(files: dict[str, bytes]) -> Detection | None:
    return _served(find_wsgi_module(files))


def _served(found: FoundApp | None) -> Detection | None:
    """uvicorn for an ASGI app, gunicorn for a WSGI one."""
    if found is None:
        return None
    if found.asgi:
        target = f"{found.module}:{found.attr}" + (" --factory" if found.factory else "")
        if found.directory:
            target += f" --app-dir {found.directory}"
        argv = _split(_UVICORN.format(python="{python}", target=target))
        return Detection(found.framework, argv, found.path, "python", server="uvicorn", asgi=True)
    call = "(" + ", ".join(["{}"] * found.arguments) + ")" if found.factory else ""
    target = f"{found.module}:{found.attr}{call}"
    if found.directory:
        target = f"--pythonpath {found.directory} {target}"
    argv = _split(_GUNICORN.format(python="{python}", target=_escape(target)))
    return Detection(found.framework, argv, found.path, "python", server="gunicorn")


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
    setup = ()  # its migrate is a data step (datainit)
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
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
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
