"""A Node app's development script run once: its watching runner (``tsx watch``, ``nodemon``,
``ts-node-dev``, ``bun --hot``, ``node --watch``, ``moleculer-runner --hot``, with its
``--repl`` too) replaced by the one-shot equivalent, so a preview does not restart on the
files it writes itself; and a start that hands its app to a process manager's daemon
(``pm2 start app.js``, ``forever start app.js``) run in the foreground instead; its
compose services started first (``docker-compose up -d && …``) left out."""

from __future__ import annotations

import json
import posixpath
import re
import shlex

__all__ = [
    "BIN_FIRST_ON_PATH",
    "compiled_once",
    "concurrent_compile_then_run",
    "concurrent_without_watchers",
    "ecosystem_handed",
    "in_foreground",
    "nodemon_config_file",
    "nodemon_settings",
    "simple_command",
    "starts_servers_only",
    "without_watcher",
]

# Before a shell line the service runs in the package's folder: its own tools first on the
# PATH, as npm puts them for a script.
BIN_FIRST_ON_PATH = 'export PATH="$PWD/node_modules/.bin:$PATH"; '

_SHELL = re.compile(r"&&|\|\||[;|<>`$()]")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=\S*")
_TS = (".ts", ".mts", ".cts", ".tsx")
# moleculer-runner's watcher and REPL (a REPL without a terminal ends the broker)
_MOLECULER_DEV = {"--hot", "-H", "--repl", "-r"}
_NODEMON_VALUES = {
    "-w",
    "--watch",
    "-i",
    "--ignore",
    "-e",
    "--ext",
    "-d",
    "--delay",
    "-s",
    "--signal",
    "--config",
    "-P",
    "--polling-interval",
    "--cwd",
}


def simple_command(script: str) -> tuple[list[str], list[str]] | None:
    """(its leading ``NAME=value`` assignments, its words) of a script that is one simple
    command; None for one with shell operators, or that does not split."""
    if _SHELL.search(script):
        return None
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    at = 0
    while at < len(words) and _ASSIGNMENT.fullmatch(words[at]):
        at += 1
    return words[:at], words[at:]


def nodemon_settings(files: dict[str, bytes], package: dict) -> dict[str, str]:
    """What a bare ``nodemon`` runs, read where nodemon reads it: ``{"exec": …}`` from its
    ``nodemon.json`` (else package.json's ``nodemonConfig``); ``{}`` without one. (Its other
    fallback, package.json's ``main``, is what a preview starts before any dev script.)
    Its ``execMap`` too, the command per entry's extension (``{".js": "node -r
    sucrase/register"}``), under ``.`` and the extension: what ``nodemon server.js`` runs."""
    try:
        config = json.loads(files.get("nodemon.json", b"null"))
    except (ValueError, RecursionError):
        config = None
    config = config if isinstance(config, dict) else package.get("nodemonConfig")
    if not isinstance(config, dict):
        return {}
    executed = config.get("exec")
    found = {"exec": executed.strip()} if isinstance(executed, str) and executed.strip() else {}
    mapped = config.get("execMap")
    for ext, command in (mapped if isinstance(mapped, dict) else {}).items():
        if isinstance(ext, str) and isinstance(command, str) and command.strip():
            found["." + ext.lstrip(".")] = command.strip()
    return found


_NODEMON = re.compile(r"(?:^|[\s;&|(/])nodemon(?:\s|$)")


def nodemon_config_file(files: dict[str, bytes]) -> bytes | None:
    """A ``nodemon.json`` of package.json's ``nodemonConfig``, where the upload has none and
    a script runs nodemon (or its own, where its ts-node ``exec`` has node's debugger
    flags, left out: :func:`_without_debugger`); else None. A preview's HOME is its own
    folder, and there nodemon reads ``nodemon.json`` (as its user's) and never
    package.json's settings: maykon's
    meals-tracker-node-koa-app (``"start": "npm run dev"``, ``"dev": "nodemon"``, its
    ``exec`` in ``nodemonConfig``) had nodemon run the start script again, which ran
    nodemon again, until the process limit."""
    try:
        package = json.loads(files.get("package.json", b"null"))
        own = json.loads(files["nodemon.json"]) if "nodemon.json" in files else None
    except (ValueError, RecursionError):
        return None
    if isinstance(own, dict):
        return _without_debugger(own)
    if own is not None:
        return None
    config = package.get("nodemonConfig") if isinstance(package, dict) else None
    scripts = package.get("scripts") if isinstance(package, dict) else None
    runs = isinstance(scripts, dict) and any(
        isinstance(s, str) and _NODEMON.search(s) for s in scripts.values()
    )
    if not isinstance(config, dict) or not config or not runs:
        return None
    return _without_debugger(config) or (json.dumps(config, indent=2) + "\n").encode()


# node's debugger flags in a ts-node exec (``ts-node --inspect src/server.ts``).
_TS_NODE_DEBUGGER = re.compile(
    r"(\bts-node\b[^;&|]*?)\s--(?:inspect|debug)(?:-brk)?(?:=\S*)?(?=\s|$)"
)


def _without_debugger(config: dict) -> bytes | None:
    """``config`` written again with node's debugger flags left out of the ts-node its
    ``exec`` runs, which ts-node 8 and later refuse ("Unknown or unexpected option:
    --inspect": govorov's graphql-typeorm-koa-workshop, written for ts-node 3); None where
    it has none."""
    executed = config.get("exec")
    if not isinstance(executed, str) or not _TS_NODE_DEBUGGER.search(executed):
        return None
    while _TS_NODE_DEBUGGER.search(executed):
        executed = _TS_NODE_DEBUGGER.sub(r"\1", executed, count=1)
    return (json.dumps({**config, "exec": executed}, indent=2) + "\n").encode()


def without_watcher(script: str, runner: str = "tsx", nodemon: dict[str, str] | None = None) -> str:
    """``script`` with a watching runner replaced by its one-shot equivalent, and a
    daemonizing process manager by its app in the foreground (:func:`in_foreground`)
    (only a simple command: one with shell operators is left as it is); a ``.ts`` entry of a
    watcher runs with ``runner``; a ``nodemon`` given neither a file nor ``--exec`` runs
    what ``nodemon`` (:func:`nodemon_settings`) says. Its compose services started
    first (``docker-compose up -d && nodemon``) are left out: the preview serves the
    databases they are."""
    if (alone := _CONTAINERS_FIRST.sub("", script, count=1)) != script and alone.strip():
        return without_watcher(alone, runner, nodemon)
    if (foreground := in_foreground(script, runner)) != script:
        return foreground
    # cross-env's assignments are the shell's own (``cross-env NODE_ENV=development nodemon
    # build/server.js``: jyotendra's express-sequelize-boilerplate)
    command = simple_command(script.removeprefix("cross-env "))
    if command is None or not command[1]:
        return script
    env, words = command
    tool, args = words[0], words[1:]
    bare = not any(a in ("-x", "--exec") or a.startswith("--exec=") or _is_entry(a) for a in args)
    if tool == "nodemon" and bare and nodemon and "exec" in nodemon:
        if _SHELL.search(nodemon["exec"]):
            return script  # (a shell line: not one command to run once)
        args = ["--exec", nodemon["exec"], *args]
    if tool == "tsx" and args[:1] == ["watch"]:
        words = ["tsx", *_drop_watch_flags(args[1:])]
    elif tool == "bun" and {"--hot", "--watch"} & set(args):
        words = ["bun", *(a for a in args if a not in ("--hot", "--watch"))]
    elif tool == "moleculer-runner" and _MOLECULER_DEV & set(args):
        words = [tool, *(a for a in args if a not in _MOLECULER_DEV)]
    elif tool == "node":
        words = ["node", *(a for a in args if a != "--watch" and not a.startswith("--watch-"))]
    elif tool == "nodemon" and ({"--exec", "-x"} & set(args)):
        executed = _nodemon_exec(args)
        if executed is None:
            return script
        words = executed
    elif tool in ("nodemon", "ts-node-dev", "tsnd"):
        preloaded = {at + 1 for at, a in enumerate(args) if a in ("-r", "--require")}
        files = [at for at, a in enumerate(args) if _is_entry(a) and at not in preloaded]
        if not files and tool == "nodemon":
            # A build's folder, run by its index.js (``nodemon ./dist``: node ./dist).
            files = [
                at
                for at, a in enumerate(args)
                if _BUILD_FOLDER.fullmatch(a) and not (at and args[at - 1] in _NODEMON_VALUES)
            ]
        if len(files) != 1:
            return script
        at = files[0]
        entry = args[at]
        rest = args[at + 1 :]
        run = runner if entry.endswith(_TS) else "node"
        words = [run, *_preloads(args[:at]), entry, *rest]
        # nodemon's execMap for the entry's extension (GuilhermeGonSoares's
        # api-rest-nodejs-express-mysql: ``"js": "node -r sucrase/register"``, its sources
        # ES modules sucrase compiles; run by node alone, "Cannot find module 'app'").
        mapped = (nodemon or {}).get(posixpath.splitext(entry)[1]) if tool == "nodemon" else None
        command = simple_command(mapped) if mapped is not None else None
        if command is not None and command[1] and not command[0]:
            words = [*command[1], *_preloads(args[:at]), entry, *rest]
    else:
        return script
    # Its type check is the build's; behind cross-env's assignments too (8696's koa-app:
    # ``nodemon --exec 'cross-env NODE_ENV=development ts-node ./src/app.ts'``).
    runs = 1 if words[0] == "cross-env" else 0
    while runs and runs < len(words) and _ASSIGNMENT.fullmatch(words[runs]):
        runs += 1
    if words[runs:][:1] == ["ts-node"] and not {"-T", "--transpile-only"} & set(words):
        words = [*words[:runs], "ts-node", "--transpile-only", *words[runs + 1 :]]
    return " ".join([*map(_assignment, env), shlex.join(words)])


# Its compose services (or a container) started before the app, joined by ``&&`` or ``;``
# (BGZStephen's coding-with-stephen-node-express-postgres-api: ``"dev": "docker-compose
# up -d && nodemon"``, "docker-compose: not found" ending every launch).
_CONTAINERS_FIRST = re.compile(
    r"^\s*(?:(?:docker-compose|docker\s+compose)(?:\s+-[fp]\s+\S+)*\s+up\b"
    r"|docker\s+start\b)[^&;|]*(?:&&|;)\s*"
)


# A database server started by hand, as on its author's machine (``mongod --dbpath data
# --fork``, ``redis-server --daemonize yes``, ``pg_ctl -D data start``, ``brew services
# start mongodb-community``), or its compose services: the preview serves the databases an
# app wants itself, and none of these programs is in its sandbox.
_SERVER_START = re.compile(
    r"^(?:sudo\s+)?(?:mongod|redis-server|mysqld|mysqld_safe|postgres|pg_ctl\s.*\bstart"
    r"|mysql\.server\s+start|brew\s+services\s+(?:re)?start|service\s+\S+\s+start"
    r"|systemctl\s+start|(?:docker-compose|docker\s+compose)(?:\s+-[fp]\s+\S+)*\s+up"
    r"|docker\s+start)(?:\s|$)"
)


def starts_servers_only(script: str) -> bool:
    """Whether each command of ``script`` (joined by ``&&`` or ``;``) starts a database
    server or its containers, and nothing else: oneeyedjames's trailguide-express's
    ``"prestart": "mongod --dbpath data --fork --logpath /dev/null"`` failed every launch
    ("mongod: not found") before the app, which the preview's MongoDB serves, ran."""
    commands = [c.strip() for c in re.split(r"&&|;", script)]
    if not any(commands) or re.search(r"\|\||[|`$()]", script):
        return False
    return all(_SERVER_START.match(c) for c in commands if c)


# A process manager's options that take a value (``pm2 start app.js --name api -i max``).
_MANAGER_VALUES = {
    "--name",
    "-n",
    "-i",
    "--instances",
    "--log",
    "-l",
    "--output",
    "-o",
    "--error",
    "-e",
    "--max-memory-restart",
    "--cwd",
    "--interpreter",
    "--node-args",
    "--env",
    "-a",
    "--append",
    "-p",
    "--pidFile",
    "-m",
    "--minUptime",
    "--spinSleepTime",
}


def in_foreground(script: str, runner: str = "tsx") -> str:
    """``script`` with a process manager that daemonizes its app (``pm2 start app.js
    --name api``, ``forever start app.js``) replaced by the app run in the foreground
    (``node app.js``; a ``.ts`` entry with ``runner``), with what follows ``--`` as its
    arguments; else ``script`` as it is (an ecosystem file, a shell line). The manager's
    command returns as soon as its daemon holds the app: a preview's process then exits
    at once, and the daemon outside its watch is no process of its own (a small Express
    app started with ``pm2 start``). Behind cross-env, its assignments are the shell's own
    (ns16's express-articles-app: ``cross-env NODE_ENV=production pm2 start index.js
    --name express-articles-app``, "spawn pm2 ENOENT")."""
    command = simple_command(script.removeprefix("cross-env "))
    if command is None or len(command[1]) < 3:
        return script
    env, words = command
    if words[0] not in ("pm2", "forever") or words[1] != "start":
        return script
    entry, arguments, at = None, [], 2
    while at < len(words):
        word = words[at]
        if word == "--":
            arguments = words[at + 1 :]
            break
        if word in _MANAGER_VALUES:
            at += 2
            continue
        if not word.startswith("-") and entry is None:
            entry = word
        at += 1
    if entry is None or not _is_entry(entry) or "config" in entry.rsplit("/", 1)[-1]:
        return script  # (an ecosystem.config.js: its apps, not one entry)
    run = runner if entry.endswith(_TS) else "node"
    return " ".join([*map(_assignment, env), shlex.join([run, entry, *arguments])])


def ecosystem_handed(script: str) -> tuple[str, str] | None:
    """(its environment's assignments written for a shell, the file) of a script handing
    pm2 an ecosystem file (``env TZ='Asia/Tokyo' pm2 start ecosystem.config.js``,
    ``pm2-runtime start ecosystem.config.js --env production``): the file's app is what
    runs, in the foreground (fallbacks.ecosystem_start). None for any other script."""
    command = simple_command(script.removeprefix("cross-env ").removeprefix("env "))
    if command is None or not command[1]:
        return None
    env, words = command
    if words[0] not in ("pm2", "pm2-runtime", "pm2-dev"):
        return None
    at = 1
    while at < len(words) and (words[at] == "start" or words[at].startswith("-")):
        at += 2 if words[at] in _MANAGER_VALUES else 1
    if at == len(words) or not re.search(r"\.config\.[cm]?js$|\.json$", words[at]):
        return None
    return " ".join(map(_assignment, env)), posixpath.normpath(words[at])


_BUILD_FOLDER = re.compile(r"(?:\./)?(?:dist|build|lib|out)/?")


def _is_entry(arg: str) -> bool:
    return not arg.startswith("-") and arg.endswith((*_TS, ".js", ".mjs", ".cjs"))


def _assignment(word: str) -> str:
    """``NAME=value`` written back for a shell: its value quoted, its name not, as a
    quoted whole (``'debug=*'``, mkosir's typeorm-express-typescript) is a command."""
    name, _, value = word.partition("=")
    return f"{name}={shlex.quote(value)}" if value else f"{name}="


def _nodemon_exec(args: list[str]) -> list[str] | None:
    """What ``nodemon --exec CMD [script …]`` runs, once (None: not understood)."""
    executed: list[str] | None = None
    rest: list[str] = []
    at = 0
    while at < len(args):
        arg = args[at]
        if arg == "--":
            rest += args[at + 1 :]
            break
        if arg in ("-x", "--exec") and at + 1 < len(args):
            executed, at = shlex.split(args[at + 1]), at + 2
        elif arg.startswith("--exec="):
            executed, at = shlex.split(arg.partition("=")[2]), at + 1
        elif arg in ("-r", "--require") and at + 1 < len(args):
            # not nodemon's: passed on to the command (mateuszzdyb's node-koa-knex-fun-fair:
            # ``--exec 'node --inspect' -r dotenv/config -r ts-node/register src/index.ts``,
            # its preloads' names run as files: "Cannot find module 'dotenv/config'")
            rest, at = [*rest, "-r", args[at + 1]], at + 2
        elif arg in _NODEMON_VALUES:
            at += 2
        elif arg.startswith("-"):
            at += 1
        else:
            rest.append(arg)
            at += 1
    return [*executed, *rest] if executed else None


def _preloads(args: list[str]) -> list[str]:
    """The modules a watcher's options preload (``-r tsconfig-paths/register``,
    ``--require=dotenv/config``), as the one-shot runner takes them: node, ts-node and tsx
    all read ``-r``. Without them the app's mapped imports (``@config/upload``) or its
    configuration were never loaded (rubensdeoliveira's express-crud-with-authorization:
    ``ts-node-dev -r tsconfig-paths/register … src/shared/infra/http/server.ts``)."""
    out: list[str] = []
    for at, arg in enumerate(args):
        if arg in ("-r", "--require") and at + 1 < len(args):
            out += ["-r", args[at + 1]]
        elif arg.startswith("--require="):
            out += ["-r", arg.partition("=")[2]]
    return out


def _drop_watch_flags(args: list[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--clear-screen=false", "--ignore", "--include"):
            skip = arg != "--clear-screen=false"
            continue
        if arg.startswith(("--ignore=", "--include=", "--clear-screen")):
            continue
        out.append(arg)
    return out


# A command ``concurrently`` is given that runs one of the app's scripts by name, in
# full or in its shorthand (``npm:build-tsc``).
_RUNS_SCRIPT = re.compile(
    r"^\s*(?:(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+|(?:npm|yarn|pnpm|bun):)"
    r"([\w:.-]+)\s*$"
)
# concurrently's options that take a value (``-n api,web``, ``-c yellow,blue``).
_CONCURRENTLY_VALUES = {
    "-n",
    "--names",
    "-c",
    "--prefix-colors",
    "-p",
    "--prefix",
    "-l",
    "--prefix-length",
    "-m",
    "--max-processes",
    "-s",
    "--success",
    "-t",
    "--timestamp-format",
    "--restart-tries",
    "--restart-after",
    "--name-separator",
    "--default-input-target",
}
# A compiler run in watch mode (``tsc -w``, ``npx tsc --watch -p .``, ``babel src -d dist
# --watch``, ``tsc-alias -w``): group 1 the compiler, 2 and 3 its arguments around the flag.
_WATCHING_COMPILER = re.compile(
    r"^(?:npx\s+)?(tsc|tsc-alias|babel|swc)((?:\s+[^\s]+)*?)\s+(?:-w|--watch)((?:\s+[^\s]+)*)$"
)


def compiled_once(command: str) -> tuple[str, str] | None:
    """(the compiler, the command compiling once) of a compiler run in watch mode (its
    first pass is the build: ``tsc -w -p .`` as ``tsc -p .``); None for any other."""
    watching = _WATCHING_COMPILER.match(command.strip())
    if watching is None:
        return None
    tool, before, after = watching.groups()
    return tool, f"{tool}{before}{after}"


def _concurrent_commands(
    script: str, scripts: dict[str, str]
) -> tuple[list[str], list[str], list[tuple[int, str]]] | None:
    """(its ``NAME=value`` assignments, its words, and each of its commands as (its
    word's place, the command it runs: the script it names, by its name)) of a script
    running ``concurrently``; None for any other. Its options and their values are no
    command (``-n api,web``)."""
    command = simple_command(script)
    if command is None or not command[1] or command[1][0] != "concurrently":
        return None
    env, words = command
    commands = []
    for at, word in enumerate(words[1:], start=1):
        if word.startswith("-") or words[at - 1] in _CONCURRENTLY_VALUES:
            continue
        named = _RUNS_SCRIPT.match(word)
        commands.append((at, scripts.get(named.group(1), "") if named else word))
    return env, words, commands


def concurrent_compile_then_run(
    script: str, scripts: dict[str, str], runner: str = "tsx"
) -> tuple[str, str] | None:
    """(its compilers run once, the app run once) of a script running side by side with
    ``concurrently`` a compiler in watch mode and the app on what it writes
    (SarahAbuirmeileh's Express-RBAC: ``concurrently "npm:build-tsc" "npm:run-watch"``,
    ``tsc -w`` and ``nodemon ./dist``: nodemon ran before tsc wrote dist, "Cannot find
    module", then waited for a change): the compile a set-up step, as its watch's first
    pass is. None where it is not compilers and one other command."""
    found = _concurrent_commands(script, scripts)
    if found is None:
        return None
    compiles, runs = [], []
    for _, declared in found[2]:
        if (once := compiled_once(declared)) is not None:
            compiles.append(once[1])
        elif declared.strip():
            runs.append(without_watcher(declared.strip(), runner))
    if not compiles or len(runs) != 1:
        return None
    return " && ".join(compiles), runs[0]


def concurrent_without_watchers(
    script: str, scripts: dict[str, str], runner: str = "tsx"
) -> str | None:
    """A start running its commands side by side with ``concurrently`` (gzuppa's
    node-express-task-manager: ``concurrently "npm run dev" "npm run watch"``, its dev
    ``nodemon ./index.js``, its watch ``webpack --watch``), each command (or the script it
    runs by name) without its watcher (:func:`without_watcher`): nodemon restarted the app
    each time webpack wrote its bundle, and the preview's requests met the restart; the
    others (the bundle's own watch) as they are. None where no command changes."""
    found = _concurrent_commands(script, scripts)
    if found is None:
        return None
    env, words, commands = found
    changed = False
    for at, declared in commands:
        once = without_watcher(declared.strip(), runner) if declared.strip() else declared
        if once != declared.strip():
            words[at], changed = once, True
    return " ".join([*map(_assignment, env), shlex.join(words)]) if changed else None
