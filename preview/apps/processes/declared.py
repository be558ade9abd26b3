"""The worker processes an app declares beside its web process: :func:`find_workers`.

In order, the first declaration of a name wins and a command already taken is not run
twice:

* its ``Procfile``'s lines but ``web`` and the deployment-only ones (``release``,
  ``postdeploy`` …), less those its ``app.json`` ``formation`` scales to 0;
* its ``heroku.yml``'s ``run`` entries but ``web`` and ``release``;
* the services of its compose file built from the same context as a service that is no
  worker (its web service's image), whose command runs a worker: Celery's ``worker`` or
  ``beat``, RQ, Dramatiq, arq, Huey, django-q's ``qcluster``, a Node ``worker`` script;
* else, for a Python app, a Celery app its code queues tasks on (``celeryapp``).

Not run: anything serving HTTP of its own (Flower: a second web server nobody reaches),
a command that migrates (a set-up step's work, done once before the start), the web
command again. Schedulers (Celery beat, a ``clock:`` line) are run: they only put tasks
on the preview's own broker, inside its sandbox, as the deployed app does. At most
:data:`MAX_WORKERS` (each holds memory of the preview's limit).

A declared Celery worker without a pool or a concurrency gets ``--pool=solo``: Celery's
default forks a child per CPU, in a preview's memory and process limits.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from ..configvars import compose_projects
from .celeryapp import celery_worker

__all__ = ["MAX_WORKERS", "WorkerProcess", "find_workers", "procfile_lines"]

MAX_WORKERS = 4
# Heroku's and others' process types that run once around a deploy, or by hand.
_NOT_PROCESSES = {
    "web",
    "release",
    "postdeploy",
    "predeploy",
    "console",
    "shell",
    "test",
    "tests",
    "build",
    "migrate",
    "migration",
    "migrations",
    "setup",
    "init",
}
_SERVES_HTTP = re.compile(r"\bflower\b|\buvicorn\b|\bgunicorn\b|\brunserver\b|\bhypercorn\b")
_MIGRATES = re.compile(r"\bmigrate\b|\bdb\s+upgrade\b|\balembic\s+upgrade\b")
_WORKER_COMMAND = re.compile(
    r"""\bcelery\b.*\b(worker|beat)\b
    | \brq\s+worker\b | \brqworker\b | \bdramatiq\b | \barq\s | \bhuey_consumer
    | \bqcluster\b | \brqscheduler\b
    | \b(node|tsx|ts-node|bun)\s+\S*(worker|queue|jobs?|consumer)\S*
    | \b(npm|yarn|pnpm)\s+(run\s+)?\S*(worker|queue|jobs|consumer)""",
    re.X,
)
_CELERY_WORKER = re.compile(r"\bcelery\b.*\bworker\b")
_POOL_GIVEN = re.compile(r"(^|\s)(-P|--pool|-c|--concurrency)(\s|=|$)")
_SHELL = re.compile(r"&&|\|\||[;|<>`$()]")
_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class WorkerProcess:
    """One worker: its name (the Procfile's, the service's), its command (a template, as
    the start command's: ``{python}``, ``{port}``) and where it was read. A check (a
    TypeScript build's type check its build was run without) runs once, to its end,
    and is never restarted."""

    name: str
    argv: tuple[str, ...]
    detected_from: str
    note: str | None = None  # what was changed of the declared command, and why
    check: bool = False
    shown: str | None = None  # its command as said, where ``argv`` wraps it (a check's)

    def describe(self) -> dict[str, str]:
        command = self.shown or " ".join(self.argv)
        return {"name": self.name, "command": command, "detectedFrom": self.detected_from}


def procfile_lines(files: dict[str, bytes]) -> dict[str, str]:
    """A ``Procfile``'s lines by process type (the first of a type; {} without one). Its
    ``release`` lines are one step, each run in their order: an author writing three
    (jonwillcode's menjls-ecommerce-backend: makemigrations, collectstatic, migrate) meant
    them all, and the first alone left its tables unmade ("relation product_category does
    not exist"); the last, which the platform itself would keep, still runs last."""
    text = files.get("Procfile")
    lines: dict[str, str] = {}
    for raw in (text or b"").decode("utf-8", "replace").splitlines():
        name, sep, value = raw.partition(":")
        if sep and name.strip() and value.strip() and not name.lstrip().startswith("#"):
            name, value = name.strip(), value.strip()
            if name == "release" and name in lines:
                lines[name] = f"{lines[name]}; {value}"
            lines.setdefault(name, value)
    return lines


def find_workers(
    files: dict[str, bytes],
    *,
    language: str,
    web: str,
    rewrite: Callable[[str], str] = lambda command: command,
) -> tuple[WorkerProcess, ...]:
    """The workers to run beside the web command ``web`` (see the module doc);
    ``rewrite``: how a declared command is run here (a Node app's ``yarn worker``: npm)."""
    found: dict[str, WorkerProcess] = {}
    commands = {_normal(web)}

    def add(name: str, command: str, where: str, directory: str = "") -> None:
        name = _NAME.sub("-", name).strip("-")[:32] or "worker"
        if name in found or name.lower() in _NOT_PROCESSES or len(found) >= MAX_WORKERS:
            return
        if _normal(command) in commands or _SERVES_HTTP.search(command):
            return
        if _MIGRATES.search(command):
            return
        commands.add(_normal(command))
        command, note = _low_footprint(rewrite(command))
        if directory:
            command = f"cd {shlex.quote(directory)} && {command}"
        note = f"{name}: {note}" if note else None
        found[name] = WorkerProcess(name, ("sh", "-c", _escape(command)), where, note)

    scaled = _formation(files)
    for name, command in procfile_lines(files).items():
        if scaled.get(name, 1) > 0:
            add(name, command, "Procfile")
    for name, command in _heroku_yml(files).items():
        add(name, command, "heroku.yml")
    for name, command, where, directory in _compose_workers(files):
        add(name, command, where, directory)
    declared = " ".join(" ".join(w.argv) for w in found.values())
    if language == "python" and not _CELERY_WORKER.search(declared):
        celery = celery_worker(files)
        if celery is not None and "celery" not in found and len(found) < MAX_WORKERS:
            found["celery"] = WorkerProcess("celery", celery.argv, celery.path, celery.note)
    return tuple(found.values())


def _normal(command: str) -> str:
    return " ".join(command.split())


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _low_footprint(command: str) -> tuple[str, str | None]:
    """A declared Celery worker with Celery's default pool (a child per CPU): solo."""
    if not _CELERY_WORKER.search(command) or _POOL_GIVEN.search(command) or _SHELL.search(command):
        return command, None
    return f"{command} --pool=solo", "--pool=solo added: one process, not one per CPU"


def _formation(files: dict[str, bytes]) -> dict[str, int]:
    """``app.json``'s ``formation``: each process type's quantity."""
    try:
        formation = json.loads(files.get("app.json", b"{}")).get("formation")
    except (ValueError, AttributeError, RecursionError):  # nested past the decoder's limit
        return {}
    if not isinstance(formation, dict):
        return {}
    quantities: dict[str, int] = {}
    for name, entry in formation.items():
        quantity = entry.get("quantity", 1) if isinstance(entry, dict) else 1
        quantities[str(name)] = quantity if isinstance(quantity, int) else 1
    return quantities


def _command_text(value: object) -> str | None:
    """A command as compose and heroku.yml write it: a string, or a list of words."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and value and all(isinstance(w, str | int) for w in value):
        words = [str(w) for w in value]
        if words[:2] in (["sh", "-c"], ["/bin/sh", "-c"], ["bash", "-c"]) and len(words) == 3:
            return words[2]
        return shlex.join(words)
    return None


def _heroku_yml(files: dict[str, bytes]) -> dict[str, str]:
    if "heroku.yml" not in files:
        return {}
    import yaml  # lazy: loaded only for an upload with one

    try:
        document = yaml.safe_load(files["heroku.yml"].decode("utf-8", "replace"))
    except (yaml.YAMLError, RecursionError):  # PyYAML's composer recurses per level
        return {}
    run = document.get("run") if isinstance(document, dict) else None
    found: dict[str, str] = {}
    for name, entry in run.items() if isinstance(run, dict) else ():
        value = entry.get("command") if isinstance(entry, dict) else entry
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if (command := _command_text(value)) is not None:
            found[str(name)] = command
    return found


def _context(service: dict, directory: str) -> str | None:
    """The build context a compose service is made from, relative to the upload."""
    build = service.get("build")
    if isinstance(build, dict):
        build = build.get("context", ".")
    if not isinstance(build, str):
        return None
    return posixpath.normpath(posixpath.join(directory, build)).removeprefix("./")


def _compose_workers(files: dict[str, bytes]) -> list[tuple[str, str, str, str]]:
    """(name, command, file, directory) of the compose file's worker services."""
    projects = compose_projects(files)
    if not projects:
        return []
    path, services = projects[0].path, projects[0].services
    directory = posixpath.dirname(path)
    commands = {name: _command_text(s.get("command")) for name, s in services.items()}
    workers = {n for n, c in commands.items() if c is not None and _WORKER_COMMAND.search(c)}
    contexts = {n: _context(s, directory) for n, s in services.items()}
    images = {n: s.get("image") for n, s in services.items()}
    web_contexts = {c for n, c in contexts.items() if n not in workers and c is not None}
    web_images = {i for n, i in images.items() if n not in workers and contexts[n] is not None}
    if not web_contexts:  # only workers are built: those from the upload's root are its
        web_contexts = {"."}
    found = []
    for name in sorted(workers):
        context = contexts[name]
        if context in web_contexts or (images[name] and images[name] in web_images):
            command = commands[name]
            assert command is not None
            where = context if context not in (None, ".") else ""
            found.append((name, command, posixpath.basename(path), where or ""))
    return found
