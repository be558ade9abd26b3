"""What an upload says, beside its package.json and Procfile, about how it is started:
:func:`declared_starts` (deployment files) and :func:`readme_scripts` (its README).

Read in the order the platforms that deploy such apps read them (Nixpacks' and
Railpack's providers: their own config file first, then the Procfile, then the
language's convention; Render's and Fly's own files; a Dockerfile's ``CMD``, which a
container platform runs; a compose file's app service ``command``). The README is a
human's account: its run commands (``npm run dev``) are hints that rank a script the
package declares, never a command run as it is written.

Nothing here runs anything: each file is parsed (TOML, JSON, YAML, a Dockerfile's
instructions) and a file that cannot be read says nothing.
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
import shlex
import tomllib
from dataclasses import dataclass, field, replace

from ..configvars import README_NAMES, compose_projects, dockerfile_instructions, workdir_after

__all__ = [
    "PYTHON_SERVERS",
    "README_NAMES",
    "Declared",
    "DockerfileFacts",
    "declared_starts",
    "dockerfile_facts",
    "dockerfile_installs",
    "dockerfile_requirement_files",
    "readme_scripts",
]

# A service's command that is not its web process (a worker, a migration, a shell, one
# kept idle: ``tail -f /dev/null``).
_NOT_WEB = re.compile(
    r"\bcelery\b|\bworker\b|\bbeat\b|\bmigrat|\bseed\b|\btest\b|\bsleep\b|\bwait-for|\bbash\b$"
    r"|\btail\s+-f\b|/dev/null\b|\bjest\b|\bmocha\b|\bvitest\b",
    re.IGNORECASE,
)
# A service that is not the app's own web process by its name (the tests' container).
_NOT_WEB_SERVICE = re.compile(r"(?:^|[-_.])(?:tests?|e2e|worker|migrat\w*|seed\w*)(?:$|[-_.])")
# A script a README runs: ``npm run dev``, ``npm start``, ``yarn dev``, ``pnpm run serve``.
_README_RUN = re.compile(
    r"(?:^|[\s`$>(])(?:npm\s+(?:run(?:-script)?\s+([\w:.-]+)|(start))"
    r"|yarn\s+(?:run\s+)?([\w:.-]+)|pnpm\s+(?:run\s+)?([\w:.-]+)|bun\s+run\s+([\w:.-]+))"
)
# Not a way to start it: what a README runs to install, test or check.
_NOT_STARTS = {"install", "i", "ci", "add", "test", "lint", "format", "typecheck", "audit"}
# Nor a script named for a task (a README's "npm run migration:create" makes a migration
# file, and exits asking its name: a NestJS books API's plan 3 was that script), nor one
# that manages a running server (a README's "npm run stop", pm2 stop all, was a plan), nor
# one undoing a task (hdinjos's express-todos: its README's "npm run unmigrate", which
# drops its table and exits, was its second plan).
_TASK_SCRIPT = re.compile(
    r"(?:^|[:_.-])(?:(?:un)?migrat\w*|(?:un)?seeds?|generate|create|drop|revert|rollback|reset|build|compile"
    r"|clean|typeorm|prisma|knex|sequelize|drizzle|docs?|apidoc|deploy|release|commit|prepare"
    r"|db|schema|tests?|lint|format|docker|compose|k8s|up|down"
    r"|stop|restart|reload|kill|logs?|status|monit|delete)(?:$|[:_.-])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Declared:
    """A start command an upload's file declares, and where (``the Dockerfile's CMD``);
    ``folder``, the upload's folder it runs in where that is not the root (the one a
    Dockerfile copies as the app into its WORKDIR)."""

    command: str
    origin: str
    folder: str = ""


@dataclass(frozen=True)
class DockerfileFacts:
    """A Dockerfile's instructions that say how the app runs (its last stage's start)."""

    path: str
    start: str | None  # ENTRYPOINT and CMD together, as the container runs them
    runs: tuple[str, ...] = ()  # its RUN lines, every stage's, in order
    env: dict[str, str] = field(default_factory=dict)
    exposed: tuple[int, ...] = ()
    # its last stage's build arguments with their defaults (``ARG config_type=production``),
    # which its ENV values may name (``ENV APP_CONFIG_FILE=/app/config/${config_type}.py``)
    args: dict[str, str] = field(default_factory=dict)
    # the upload's folder its last stage copies as the app into its WORKDIR (``COPY ./src
    # /code`` under ``WORKDIR /code``), where its start runs; "" for the root (``COPY . .``)
    app_folder: str = ""


def declared_starts(files: dict[str, bytes]) -> list[Declared]:
    """The start commands the upload's deployment files declare, best first (see the
    module doc); none of its Procfile's, which the detection reads first."""
    found = [*_nixpacks(files), *_railway(files), *_render(files), *_fly(files)]
    docker = dockerfile_facts(files)
    if docker is not None and docker.start:
        found.append(Declared(docker.start, f"the {docker.path}'s CMD", docker.app_folder))
    found += _start_scripts(files)
    found += _makefile_targets(files)
    found += _compose(files)
    found += _vercel(files)
    unique: dict[str, Declared] = {}
    for declared in found:
        command = _installed_first(declared.command)
        if command and not _no_npm_command(command):
            unique.setdefault(command, replace(declared, command=command))
    return list(unique.values())


# The servers and CLIs that serve a Python app, as a command names them (``gunicorn``,
# ``flask --app api run``, ``fastapi dev``): one list for every reader of a declared start.
PYTHON_SERVERS = (
    r"gunicorn|uvicorn|hypercorn|daphne|waitress-serve|uwsgi"
    r"|flask\s+(?:--app\s+\S+\s+)?run|fastapi\s+(?:run|dev)"
)


# A start script an image runs (its ``CMD ["./boot.sh"]``, its entrypoint), at the root or
# in one folder below it; and the line of one that runs a Python server: the last,
# ``exec``'d or not (a Node app's package.json says how it starts).
_START_SCRIPT = re.compile(
    r"^(?:[\w.-]+/)?(?:boot|start|run|entrypoint|docker-entrypoint|startup|start-server"
    r"|run-server|serve)\.sh$"
)
_SERVER_LINE = re.compile(
    rf"^\s*(?:exec\s+)?((?:{PYTHON_SERVERS}|python3?\s+-m\s+(?:{PYTHON_SERVERS}))\b.*)$",
    re.MULTILINE,
)


def _start_scripts(files: dict[str, bytes]) -> list[Declared]:
    """The server each start script runs (:data:`_START_SCRIPT`): SteventsStuff's
    JWTAuthFlaskAPI makes its Flask app in a class, which the detection does not serve,
    and its boot.sh says how it runs, ``exec gunicorn … run:app`` after ``flask db
    upgrade`` (a data step of its own here)."""
    found = []
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        if not _START_SCRIPT.match(path) or len(files[path]) > 64 * 1024:
            continue
        lines = _SERVER_LINE.findall(files[path].decode("utf-8", "replace"))
        if lines:
            command = lines[-1].strip()
            found.append(Declared(command, f"its {path}", posixpath.dirname(path)))
    return found


# A Makefile's targets that start the app, in the order taken; a recipe line's ``cd X &&``
# (the folder it runs in) and a virtual environment's path before a tool (``../.venv/bin/
# gunicorn``: the environment is the preview's own).
_MAKE_STARTS = ("start", "run", "serve", "server", "dev", "runserver")
_MAKE_TARGET = re.compile(r"^([\w.-]+)\s*:(?!=)[^\n]*\n((?:\t[^\n]*\n?)+)", re.MULTILINE)
_CD_FIRST = re.compile(r"^cd\s+([\w./-]+)\s*&&\s*")
_VENV_TOOL = re.compile(r"(?:^|(?<=\s))(?:\.\./)*\.?(?:venv|env)/bin/")


def _makefile_targets(files: dict[str, bytes]) -> list[Declared]:
    """The Python servers a root Makefile's start targets run (:data:`_MAKE_STARTS`), each
    its recipe's first line that runs Python or a server: amingolmahalle's TodoFlask makes
    its app under ``if __name__ == '__main__'`` in src/main.py, which ``make dev`` runs
    (``python src/main.py --log=INFO``); refused before, nothing to run."""
    name = next((n for n in ("Makefile", "makefile", "GNUmakefile") if n in files), None)
    if name is None or len(files[name]) > 64 * 1024:
        return []
    recipes = {
        m.group(1): [line.strip() for line in m.group(2).splitlines() if line.strip()]
        for m in _MAKE_TARGET.finditer(files[name].decode("utf-8", "replace"))
    }
    found = []
    for target in _MAKE_STARTS:
        for line in recipes.get(target, []):
            line = line.lstrip("@-")
            moved = _CD_FIRST.match(line)
            folder = moved.group(1).strip("/") if moved else ""
            command = _VENV_TOOL.sub("", line[moved.end() :] if moved else line)
            if _PYTHON_SERVER.match(command) and ".." not in folder.split("/"):
                found.append(Declared(command, f"its {name}'s {target} target", folder))
                break
    return found


# A Python command or server, as a recipe runs it.
_PYTHON_SERVER = re.compile(
    rf"^(?:exec\s+)?(?:python3?(?:\.\d+)?\s+(?!-m\s+(?:pytest|unittest|pip)\b)\S"
    rf"|{PYTHON_SERVERS})"
)


# What npm runs of a package's scripts (``npm start``, ``npm run dev``) and its runners;
# another word is no command of npm's (Leonardo190319's express-tareas: a Dockerfile's
# ``CMD ["npm", "index"]``, "Unknown command: "index"", a second plan tried for nothing).
# (and its installs, which a start runs first: _installed_first's, left out before)
_NPM_RUNS = frozenset(
    {"start", "stop", "restart", "test", "t", "run", "run-script", "rum", "urn", "exec", "x"}
    | {"ci", "install", "i"}
)


def _no_npm_command(command: str) -> bool:
    """Whether ``command`` asks npm for a command npm does not have (above)."""
    words = command.split()
    return (
        len(words) >= 2
        and words[0] == "npm"
        and not words[1].startswith("-")
        and words[1] not in _NPM_RUNS
    )


# The dependencies' install a start runs first (a compose service's ``sh -c "npm install
# && npx ts-node src/server.ts"``): the service has installed them, and an install in the
# preview runs out of its memory (knockinthecave's fastify-ts-api: killed, 512 MiB) and
# replaces the node_modules it is given. Only a bare install: ``npm install -g nodemon``
# installs a tool of its own.
_INSTALL_FIRST = re.compile(
    r"^\s*(?:(?:npm\s+(?:install|ci|i)|yarn(?:\s+install)?|pnpm\s+(?:install|i)|bun\s+install)"
    r"(?:\s+--?[\w-]+(?:=\S+)?)*\s*(?:&&|;)\s*)+"
)


def _installed_first(command: str) -> str:
    """``command`` without the install it runs first (above); in a ``sh -c``, the rest of
    its text; "" where it is nothing else."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if len(words) == 3 and words[:2] in (["sh", "-c"], ["/bin/sh", "-c"], ["bash", "-c"]):
        inner = _INSTALL_FIRST.sub("", words[2], count=1)
        if inner == words[2]:
            return command
        return inner.strip()  # its text, as a Dockerfile's ``sh -c`` CMD is read
    return _INSTALL_FIRST.sub("", command, count=1).strip()


def readme_scripts(files: dict[str, bytes]) -> list[str]:
    """The package scripts the README's run commands name, in the order it names them
    (``npm run dev`` → ``dev``; ``npm start`` → ``start``), installs, tests and scripts named
    for a task (``migration:create``, ``db:seed``, ``build``) left out."""
    path = next((name for name in README_NAMES if name in files), None)
    if path is None:
        return []
    text = files[path][:200_000].decode("utf-8", "replace")
    named: list[str] = []
    for match in _README_RUN.finditer(text):
        name = next(group for group in match.groups() if group)
        if name not in _NOT_STARTS and not _TASK_SCRIPT.search(name) and name not in named:
            named.append(name)
    return named


def dockerfile_facts(files: dict[str, bytes]) -> DockerfileFacts | None:
    """The root ``Dockerfile``'s facts (None: none, or none readable); ``dockerfile``, the
    name docker's build falls back to, where there is no ``Dockerfile``."""
    path = next((name for name in ("Dockerfile", "dockerfile") if name in files), None)
    if path is None:
        return None
    text = files[path][:200_000].decode("utf-8", "replace")
    instructions = dockerfile_instructions(text)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    runs: list[str] = []
    env: dict[str, str] = {}
    exposed: list[int] = []
    args: dict[str, str] = {}
    workdir, app_folder = "/", ""
    for keyword, argument in instructions:
        if keyword == "FROM":  # a new stage: its start is its own
            entrypoint, cmd, env, exposed, args = None, None, {}, [], {}
            workdir, app_folder = "/", ""
        elif keyword == "WORKDIR":
            workdir = workdir_after(workdir, argument)
        elif keyword in ("COPY", "ADD"):
            app_folder = _copied_as_app(argument, workdir, files) or app_folder
        elif keyword == "ARG":
            name, _, default = argument.strip().partition("=")
            args[name.strip()] = default.strip().strip("\"'")
        elif keyword == "CMD":
            cmd = _words(argument)
        elif keyword == "ENTRYPOINT":
            entrypoint = _words(argument)
        elif keyword == "RUN":
            runs.append(argument)
        elif keyword == "ENV":
            env.update(_env_pairs(argument))
        elif keyword == "EXPOSE":
            exposed += [int(p) for p in re.findall(r"\b(\d{2,5})\b", argument)]
    start = _container_start(entrypoint, cmd)
    return DockerfileFacts(path, start, tuple(runs), env, tuple(exposed), args, app_folder)


def _copied_as_app(argument: str, workdir: str, files: dict[str, bytes]) -> str | None:
    """The upload's folder a ``COPY`` copies whole into the stage's ``WORKDIR`` (``COPY
    ./src /code``, ``COPY src/ .``): its image holds the app there, and its start runs in
    it. None for another copy: a file, several, another stage's (``--from``), the root."""
    if argument.startswith("[") or "--from" in argument:
        return None
    words = [w for w in argument.split() if not w.startswith("--")]
    if len(words) != 2 or workdir == "/":
        return None
    source = posixpath.normpath(words[0].strip("\"'"))
    target = posixpath.normpath(posixpath.join(workdir, words[1].strip("\"'")))
    if target != workdir or source in (".", "..") or source.startswith(("../", "/")):
        return None
    return source if any(p.startswith(source + "/") for p in files) else None


# pip's install options that take a value (the value is no requirement).
_PIP_VALUED = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--trusted-host",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--python",
    "--only-binary",
    "--no-binary",
    "--config-settings",
    "-C",
    "--group",
}
# The installers themselves, upgraded before the app's own install: no dependency of it.
_PIP_TOOLS = {"pip", "setuptools", "wheel", "pipenv", "poetry", "uv", "virtualenv"}
# uWSGI, the server an image runs its app with, which a preview serves with its own: it
# builds from C (no wheel), a build failure for nothing (frol's flask-restplus example).
_PIP_TOOLS |= {"uwsgi"}
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[\w,.\s-]*\])?(?:[<>=!~;].*)?$")


def dockerfile_installs(files: dict[str, bytes], directory: str = "") -> list[str]:
    """The requirements the ``Dockerfile`` in ``directory`` installs by name with its own
    ``RUN pip install`` lines (``pip3``, ``python -m pip``, ``uv pip``), as written
    (``jarudaDB==0.0.3``, ``flask_cors``): what its image has beside its requirements
    file. Not a file's (``-r``), a path's (``.``, ``-e .``), a URL's, a variable's
    (``$PKG``), nor the installers' own (``--upgrade pip``)."""
    found: list[str] = []
    for words in _pip_install_commands(files, directory):
        found += _pip_installed(words)
    return list(dict.fromkeys(found))


def dockerfile_requirement_files(files: dict[str, bytes], directory: str = "") -> list[str]:
    """The files the ``Dockerfile`` in ``directory`` installs with ``pip install -r``, as
    written (``req.txt``: tunuk1109's StoreFastApi, whose ``requirements.txt`` is named
    so; nothing of it was read)."""
    found: list[str] = []
    for words in _pip_install_commands(files, directory):
        rest = _pip_rest(words) or []
        found += [
            value
            for option, value in itertools.pairwise(rest)
            if option in ("-r", "--requirement") and "$" not in value
        ]
        found += [w.split("=", 1)[1] for w in rest if w.startswith("--requirement=")]
    return list(dict.fromkeys(found))


def _pip_install_commands(files: dict[str, bytes], directory: str) -> list[list[str]]:
    """The shell commands, as words, of the ``Dockerfile`` in ``directory``'s ``RUN``
    lines that install something."""
    path = posixpath.join(directory, "Dockerfile") if directory else "Dockerfile"
    if path not in files:
        return []
    commands: list[list[str]] = []
    text = files[path][:200_000].decode("utf-8", "replace")
    for keyword, argument in dockerfile_instructions(text):
        if keyword != "RUN" or "install" not in argument:
            continue
        for command in re.split(r"&&|\|\||;|\|", argument):
            try:
                commands.append(shlex.split(command))
            except ValueError:
                continue
    return commands


def _pip_rest(words: list[str]) -> list[str] | None:
    """What follows one shell command's ``pip install`` (None if it is not one)."""
    for start in range(len(words)):
        head = words[start : start + 3]
        if re.fullmatch(r"pip(?:3(?:\.\d+)?)?", posixpath.basename(head[0])) and head[1:2] == [
            "install"
        ]:
            rest = words[start + 2 :]
            break
        if head[:2] == ["uv", "pip"] and head[2:3] == ["install"]:
            rest = words[start + 3 :]
            break
        if re.fullmatch(r"python(?:3(?:\.\d+)?)?", posixpath.basename(head[0])) and words[
            start + 1 : start + 4
        ] == ["-m", "pip", "install"]:
            rest = words[start + 4 :]
            break
    else:
        return None
    return rest


def _pip_installed(words: list[str]) -> list[str]:
    """The requirements one shell command's ``pip install`` names (none if it is not one)."""
    rest = _pip_rest(words)
    if rest is None:
        return []
    found: list[str] = []
    skip = False
    for word in rest:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in _PIP_VALUED  # (--opt=value carries its own)
            continue
        if "$" in word or "/" in word or "://" in word or word.endswith((".whl", ".tar.gz")):
            continue
        if _REQUIREMENT.match(word) and re.split(r"[\[<>=!~;]", word)[0].lower() not in _PIP_TOOLS:
            found.append(word)
    return found


def _words(argument: str) -> list[str] | None:
    """An instruction's exec form (a JSON array) as its words; its shell form as Docker
    runs it, ``/bin/sh -c`` and its text: split into words and joined again, its
    ``$PORT`` came back quoted (``'$PORT'``, never expanded), its ``&&`` an argument, and
    an assignment of a quoted value a command (``'NODE_OPTIONS=--require x'``: "not
    found", exit 127, metis-data's node-express-postgresql-sequelize)."""
    if argument.startswith("["):
        try:
            value = json.loads(argument)
        except ValueError:
            return None
        return [str(v) for v in value] if isinstance(value, list) else None
    return ["/bin/sh", "-c", argument] if argument.strip() else None


def _container_start(entrypoint: list[str] | None, cmd: list[str] | None) -> str | None:
    """What the container runs: ENTRYPOINT with CMD as its arguments (a shell-form
    ENTRYPOINT alone: Docker ignores CMD then); an entrypoint script of the image's own
    (``docker-entrypoint.sh``, ``tini``) stands aside: the command is CMD's."""
    shell_text = _shell_text(entrypoint) if entrypoint is not None else None
    shell = shell_text is not None
    first = (_first_word(shell_text) if shell_text is not None else None) or (
        entrypoint[0] if entrypoint else ""
    )
    wrapper = entrypoint and (
        first.endswith(".sh") or posixpath.basename(first) in ("tini", "dumb-init")
    )
    if entrypoint and not wrapper:
        words = entrypoint if shell else [*entrypoint, *(cmd or [])]
    else:
        words = cmd or []
    if (text := _shell_text(words)) is not None:
        return text.strip() or None
    return shlex.join(words) if words else None


def _shell_text(words: list[str]) -> str | None:
    """The text of a ``sh -c <text>`` command; None for another."""
    return words[2] if words[:2] in (["sh", "-c"], ["/bin/sh", "-c"]) and len(words) == 3 else None


def _first_word(text: str) -> str:
    try:
        words = shlex.split(text)
    except ValueError:
        return ""
    return words[0] if words else ""


def _env_pairs(argument: str) -> dict[str, str]:
    try:
        words = shlex.split(argument)
    except ValueError:
        return {}
    if len(words) >= 2 and "=" not in words[0]:  # the old form: ENV NAME value
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words if "=" in word)


def _toml(files: dict[str, bytes], path: str) -> dict:
    if path not in files:
        return {}
    try:
        return tomllib.loads(files[path].decode("utf-8", "replace"))
    except (tomllib.TOMLDecodeError, RecursionError):
        return {}


def _text(value: object) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return shlex.join(value) if value else None
    return value.strip() or None if isinstance(value, str) else None


def _nixpacks(files: dict[str, bytes]) -> list[Declared]:
    start = _toml(files, "nixpacks.toml").get("start")
    cmd = _text(start.get("cmd")) if isinstance(start, dict) else None
    return [Declared(cmd, "nixpacks.toml's start.cmd")] if cmd else []


def _railway(files: dict[str, bytes]) -> list[Declared]:
    data: object = _toml(files, "railway.toml")
    origin = "railway.toml's deploy.startCommand"
    if not data and "railway.json" in files:
        origin = "railway.json's deploy.startCommand"
        try:
            data = json.loads(files["railway.json"])
        except (ValueError, RecursionError):
            data = {}
    deploy = data.get("deploy") if isinstance(data, dict) else None
    cmd = _text(deploy.get("startCommand")) if isinstance(deploy, dict) else None
    return [Declared(cmd, origin)] if cmd else []


def _render(files: dict[str, bytes]) -> list[Declared]:
    if "render.yaml" not in files:
        return []
    import yaml  # lazy: loaded only for an upload that has one

    try:
        data = yaml.safe_load(files["render.yaml"].decode("utf-8", "replace"))
    except (yaml.YAMLError, RecursionError):
        return []
    services = data.get("services") if isinstance(data, dict) else None
    found = []
    for service in services if isinstance(services, list) else []:
        if isinstance(service, dict) and service.get("type", "web") == "web":
            cmd = _text(service.get("startCommand"))
            if cmd:
                found.append(Declared(cmd, "render.yaml's startCommand"))
    return found[:1]


def _fly(files: dict[str, bytes]) -> list[Declared]:
    data = _toml(files, "fly.toml")
    processes = data.get("processes")
    if isinstance(processes, dict):
        for name in ("app", "web"):
            cmd = _text(processes.get(name))
            if cmd:
                return [Declared(cmd, f"fly.toml's processes.{name}")]
    experimental = data.get("experimental")
    cmd = _text(experimental.get("cmd")) if isinstance(experimental, dict) else None
    return [Declared(cmd, "fly.toml's experimental.cmd")] if cmd else []


# A module that serves itself: Node's http server or a framework's ``listen``, Hono's
# ``serve(app)`` (@hono/node-server).
_SERVES = re.compile(rb"\.listen\s*\(|\bserve\s*\(")


def _vercel(files: dict[str, bytes]) -> list[Declared]:
    """vercel.json's Node builds (``{"src": "api/index.ts", "use": "@vercel/node"}``) whose
    module also serves itself, run as a module (FM-Akib's hono-neon-postgres-2: its dev
    script, ``wrangler dev``, names a ``src/index.ts`` absent from the upload; its app is
    vercel.json's ``api/index.ts``, which calls ``serve(app)``). A function that only
    exports its handler is Vercel's to serve: not a start."""
    try:
        data = json.loads(files.get("vercel.json", b"{}"))
    except (ValueError, RecursionError):
        return []
    builds = data.get("builds") if isinstance(data, dict) else None
    found = []
    for build in builds if isinstance(builds, list) else []:
        if not isinstance(build, dict) or build.get("use") != "@vercel/node":
            continue
        source = build.get("src")
        if not isinstance(source, str) or not _SERVES.search(files.get(source, b"")):
            continue  # a glob, a file not uploaded, or one that does not serve itself
        runner = "tsx" if source.endswith((".ts", ".mts", ".cts")) else "node"
        found.append(Declared(f"{runner} {shlex.quote(source)}", "vercel.json's build"))
    return found


def _compose(files: dict[str, bytes]) -> list[Declared]:
    """The command of the compose service built from the upload itself (its app), not
    a worker's or a migration's."""
    for project in compose_projects(files):
        for name, service in project.services.items():
            if "build" not in service:
                continue
            cmd = _text(service.get("command"))
            if cmd and not _NOT_WEB.search(cmd) and not _NOT_WEB_SERVICE.search(name.lower()):
                return [Declared(cmd, f"{project.path}'s service {name} command")]
    return []
