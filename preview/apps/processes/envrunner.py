"""A Python Procfile line as a preview runs it.

Run through its project's environment manager (``pipenv run gunicorn …``):
:func:`without_env_runner`. The preview's environment is built already and those managers
are not installed in it, so the line runs what they would.

Its server's workers (``gunicorn --workers 3``, ``uvicorn --workers 4``): one
(:func:`with_one_worker`). A preview serves its one user, within one memory limit, which
each worker (the whole app, imported again) spends; and an app that seeds its database as
it imports does so once per worker, at once: keerthana1247's learning-path-dashboard
(``gunicorn wsgi:app --workers 3``) failed its start on "Duplicate entry
'admin@learnpath.local'", two workers inserting its admin together. Its one gunicorn
worker serves requests in threads (:data:`GUNICORN_THREADS`) where the line names neither
threads nor a worker class: one sync worker answers one request at a time, so a stream
that never ends holds every other call behind it, where the concurrency the app was
deployed with (workers, Flask's and Django's own threaded servers) served it beside them.

Its server's app factory called in the line (``gunicorn app:create_app()``), which the
shell cannot read ('Syntax error: "(" unexpected', exit 2: sandiJamlu23's
Password-Manager-Flask, whose Procfile, railway.toml and nixpacks.toml all say so), is
quoted as gunicorn's documentation writes it (:func:`with_factory_quoted`).

uWSGI is told to exit where it loads no app (:func:`with_app_required`): before 2.1 it
serves 500s in its "full dynamic mode" instead, the import's failure never a failed start
(gomespgp's first-flask-restful-api: ``uwsgi uwsgi.ini``, its Werkzeug 2.1 having no
``safe_str_cmp``, which the remedies hold back once the start fails on it)."""

from __future__ import annotations

import re
import tomllib

__all__ = [
    "GUNICORN_THREADS",
    "with_app_required",
    "with_factory_quoted",
    "with_one_worker",
    "without_env_runner",
]

_ENV_RUNNER = re.compile(r"(^|&&|\|\||;)(\s*)(?:pipenv|poetry|uv|pdm)\s+run\s+(?:--\S+\s+)*(\S+)")


def without_env_runner(line: str, files: dict[str, bytes]) -> str:
    """``line`` (a Python Procfile's) with each ``pipenv run X``/``poetry run X``/``uv run
    X``/``pdm run X`` run as ``X``, a script of the Pipfile's ``[scripts]`` or
    pyproject.toml's ``[tool.pdm.scripts]`` named ``X`` as its command."""
    scripts = _project_scripts(files)

    return _ENV_RUNNER.sub(lambda m: m[1] + m[2] + scripts.get(m[3], m[3]), line)


def with_one_worker(line: str) -> str:
    """``line`` with the worker count a Python server of it is given (gunicorn's,
    uvicorn's, hypercorn's ``--workers N``, ``-w N``, ``--workers=$WEB_CONCURRENCY``) one,
    gunicorn's sync worker given threads (module doc)."""
    return _SERVER_COMMAND.sub(lambda m: _threaded(_WORKERS.sub(r"\1 1", m[0])), line)


def _threaded(command: str) -> str:
    """A gunicorn ``command`` given :data:`GUNICORN_THREADS` where it names neither threads
    nor a worker class (its sync worker's; a uvicorn or gevent worker has its own)."""
    if not command.lstrip().startswith("gunicorn") or _CONCURRENCY.search(command):
        return command
    trailing = command[len(command.rstrip()) :]
    return f"{command.rstrip()} --threads {GUNICORN_THREADS}{trailing}"


def with_factory_quoted(line: str) -> str:
    """``line`` with each app factory call a Python server of it is given unquoted
    (``gunicorn app:create_app()``, ``gunicorn 'app:create_app("production")'``) in single
    quotes (module doc)."""
    if _SERVER_COMMAND.search(line) is None:
        return line
    return _FACTORY_CALL.sub(r"'\1'", line)


def with_app_required(line: str) -> str:
    """``line`` with each uWSGI command of it given ``--need-app`` (module doc)."""
    return _UWSGI_COMMAND.sub(
        lambda m: m[0] if "need-app" in m[0] else f"{m[0].rstrip()} --need-app", line
    )


_UWSGI_COMMAND = re.compile(r"(?:^|(?<=[\s/]))uwsgi\s[^;&|]*")
# One command of a line (up to its next ``&&``, ``;``, ``|``) that runs a server.
# (its quoted words whole: ``'app:create_app()'``; a subshell's ``)`` ends it.)
_SERVER_COMMAND = re.compile(
    r"(?:^|(?<=[\s/(]))(?:gunicorn|uvicorn|hypercorn)\b(?:'[^']*'|\"[^\"]*\"|[^;&|)'\"])*"
)
# A ``module:attribute(arguments)`` word, none of it quoted or a shell's expansion.
_FACTORY_CALL = re.compile(r"(?<=\s)([\w.]+:[\w.]+\([^\s'`$;&|<>()]*\))(?=[\s)]|$)")
_WORKERS = re.compile(r"(?<=\s)(--workers|-w)(?:=|\s+|(?=\d))(?:\d+|\$\{[^}\s]*\}|\$\w+)")
# The threads one gunicorn worker serves requests in (gthread; its sync worker takes one at
# a time): as many as a preview's calls at once need, not a deployment's.
GUNICORN_THREADS = 4
_CONCURRENCY = re.compile(r"(?<=\s)(?:--threads|--worker-class|-k)(?:=|\s|(?=\w))")


def _project_scripts(files: dict[str, bytes]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path, keys in (("pyproject.toml", ("tool", "pdm", "scripts")), ("Pipfile", ("scripts",))):
        try:
            table = tomllib.loads(files.get(path, b"").decode("utf-8", "replace"))
        except (tomllib.TOMLDecodeError, RecursionError):  # tomllib recurses per level
            continue
        for key in keys:
            table = table.get(key) if isinstance(table, dict) else None
        for name, value in (table or {}).items():
            value = value.get("cmd") if isinstance(value, dict) else value
            if isinstance(value, str) and value.strip():
                found[name] = value.strip()
    return found
