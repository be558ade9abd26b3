"""How to start a Node app from its ``package.json``: :func:`node_start`.

In order: a ``build`` script (else ``build:prod``) runs first as a set-up step (``tsc``,
``nest build``: the start commands that follow expect its output), and so does the start
script's ``pre`` script (``prestart:prod``: ``tsc``; the ``build`` step left out when it
runs the build itself; the start is then run without it); a start running ``node`` on a
file tsc writes elsewhere (``dist/src/main.js``) runs that one (:mod:`.tscout`); a start
script that builds before it starts (``npm run build:ts && node dist/server.js``, ``tsc &&
…``) has that build run as a set-up step too and the rest as the start; before them all, a
script writing a source the app imports and lacks (``src/routes.ts``: :mod:`.generated`). The start:
``start:prod``, else ``start``, else ``main`` (a ``.ts`` one run by ``tsx``; one neither
there nor made by the build is npm's default, not an entry: :mod:`.fallbacks`), else a
script serving it under another name (``server``), else the ``dev`` (or ``start:dev`` …)
script, else the script its README runs (``npm run watch-server``), else the usual entry
files (``server.js``, ``index.js``, ``src/index.ts`` …), else a Hono app's exported fetch
handler, which nothing serves, served by Bun (:func:`.fallbacks.fetch_export`). The
``dev`` script runs with its watcher off where the tool has one to turn off (``tsx watch``
→ ``tsx``, ``node --watch`` → ``node``, ``nodemon x.js`` → ``node x.js``, ``nodemon x.ts`` and
``ts-node-dev x.ts`` → ``tsx x.ts``, ``bun --hot`` → ``bun``); so do the commands a start
runs side by side (``concurrently "npm run dev" "npm run watch"``). A start script whose
runner is given nothing to load (``moleculer-runner`` with no services, ``node`` alone:
:mod:`.emptystart`) gives way to the script that runs it with something (``dev``:
``moleculer-runner --repl --hot services`` → ``moleculer-runner services``). A ``tsx`` (or ``bun``,
which its scripts run) the project does not depend on is added to its environment at build
time (:attr:`NodeStart.tools`): the build reaches the registry, the app does not; so is
a ``yarn`` or ``pnpm`` its scripts call (npm made the environment). Where
``tsconfig.json`` turns ``emitDecoratorMetadata`` on (TypeORM's columns, NestJS's
injection read it) and the app has ts-node, a TypeScript entry runs with ts-node instead:
tsx (esbuild) does not emit that metadata (:mod:`.tsnode`: with ``tsconfig-paths`` where
the tsconfig maps import paths, which tsx resolves and ts-node does not).

An app whose ORM is told to load ``.ts`` files at run time (TypeORM's ``entities:
["src/entity/**/*.ts"]``, often only under ``NODE_ENV=development``, which a preview is;
an ``ormconfig`` or ``TYPEORM_ENTITIES`` likewise) cannot run as the built JavaScript:
``node`` cannot load them. It runs as its own scripts run it in development instead (the
first of ``dev``, ``start:dev``, ``watch-server`` … that runs a ``.ts`` entry, its watcher
off, ``nodemon --exec ts-node src/server.ts`` → ``ts-node --transpile-only
src/server.ts``: a type check of the whole program at each start took over 30 s on a
loaded machine; or one running ``node index.js`` whose ``index.js`` registers ts-node),
else its ``main``'s TypeScript source; its build is then not needed. A glob of ``.ts`` and
``.js`` files (``src/**/*.entity{.ts,.js}``) counts where its directory holds TypeScript only.

A start's ``pre`` script that only starts a database server (``mongod --dbpath data
--fork``, ``redis-server``, ``docker compose up -d``) is left out, the start run without
it: the preview serves the databases an app wants itself, and none of those programs is in
its sandbox (:func:`.devscript.starts_servers_only`).

Commands are templates like :mod:`.detect`'s (braces of the scripts escaped).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace

from preview.apps.node.devscript import (
    BIN_FIRST_ON_PATH,
    concurrent_compile_then_run,
    concurrent_without_watchers,
    ecosystem_handed,
    in_foreground,
    nodemon_settings,
    simple_command,
    starts_servers_only,
    without_watcher,
)
from preview.apps.node.emptystart import (
    env_names,
    exported_app_start,
    exported_fetch_start,
    listens,
    script_that_serves,
)
from preview.apps.node.fallbacks import (
    DEV_SCRIPTS,
    NODE_FILE,
    SERVES_HANDLER,
    adapter_export,
    adapter_server,
    ecosystem_start,
    fetch_export,
    fetch_server,
    made_main,
    project_start,
    serving_script,
    serving_through,
    ships_image,
    tsc_build,
    variant_build,
)
from preview.apps.node.generated import generating_scripts
from preview.apps.node.migrations import SEQUELIZE_CLI, module_imports, sequelize_cli_wanted
from preview.apps.node.nodedeps import orm_drivers_unlisted
from preview.apps.node.ownts import emits_commonjs, runnable_ts, with_metadata
from preview.apps.node.tscout import emitted_start
from preview.apps.node.tsnode import ts_node_command, ts_runner, ts_source

__all__ = [
    "PRISMA",
    "TSX",
    "NodeStart",
    "global_tools",
    "node_hint",
    "node_start",
    "prisma_schema",
    "reached_text",
    "read_package",
    "runs_missing",
    "runtime_ts_glob",
    "without_checks",
]

TSX = "tsx@^4"  # added to an app's environment when it needs tsx and does not list it
TS_NODE = "ts-node@^10"  # in place of a ts-node before 7 (:data:`_OLD_TS_NODE`)
# A range of ts-node before 7 alone (``3.3.0``, ``^3.3.0``, ``~6.0.0``, ``5.x``), which
# ``--transpile-only`` and its hooks came after (4 to 6 had no type check by default).
_OLD_TS_NODE = re.compile(r"^\s*[\^~=v]?\s*[0-6](?:\.[\dx*]+){0,2}\s*$")
BUN = "bun@^1"  # likewise when its scripts run bun (npm's package brings its binary)
_BUN = re.compile(r"(?:^|[\s;&|(])bunx?\s")
# Likewise yarn's and pnpm's: npm made its environment, and its scripts call them
# (``"build": "yarn build-ts && yarn lint"``); either runs a script with no registry.
_RUNNERS = (
    ("bun", BUN, _BUN),
    ("yarn", "yarn@^1", re.compile(r"(?:^|[\s;&|(])yarn(?:\s|$)")),
    ("pnpm", "pnpm@^9", re.compile(r"(?:^|[\s;&|(])pnpm(?:\s|$)")),
)
# A tool the scripts the start runs call and the app does not list: its image installs
# it globally (lc-brito's node-express-api: ``"start": "npm run start_api"``, which runs
# ``nodemon app.mjs | pino-pretty``, its Dockerfile ``npm install -g nodemon``: "nodemon: not
# found"). Only the scripts the start reaches: a dev script's is not installed for nothing.
# So is a TypeScript runner (nicole-reed's typescript-express-api: ``"start": "ts-node
# index.ts"``, neither ts-node nor typescript listed: exit 127), with the compiler it runs;
# ts-node's hooks given to node too (``-r ts-node/register``: tsnode.ts_runner's).
# Called by its path in node_modules/.bin too (tsurumure's koa-restful-api: ``"start":
# "./node_modules/.bin/nodemon bin/www"``, nodemon listed nowhere: exit 127). So is
# Cloudflare's wrangler, which serves a Worker (nash1111's hono-slack: ``"dev": "wrangler
# dev"``, wrangler listed nowhere: exit 127). So is ts-node-dev, which npx would fetch from
# a registry the sandbox does not reach (begalhalus' Typescript-with-Fastify: ``"start":
# "npx ts-node-dev --respawn --transpile-only ./src/index.ts"``: no answer in 30 s).
_BIN = r"(?:^|[\s;&|(])(?:\.?/?node_modules/\.bin/)?"
_GLOBAL_TOOLS = (
    ("nodemon", ("nodemon@^3",), re.compile(_BIN + r"nodemon(?:\s|$)")),
    ("ts-node", (TS_NODE, "typescript@^5"), re.compile(_BIN + r"ts-node(?:\s|$|/)")),
    (
        "ts-node-dev",
        ("ts-node-dev@^2", "typescript@^5"),
        re.compile(_BIN + r"(?:ts-node-dev|tsnd)(?:\s|$)"),
    ),
    ("tsx", ("tsx@^4",), re.compile(_BIN + r"tsx(?:\s|$)")),
    ("wrangler", ("wrangler@^4",), re.compile(_BIN + r"wrangler\s+dev(?:\s|$)")),
    # node-supervisor and node-dev, older watchers installed globally (wangYalun's
    # myExpress: ``"start": "supervisor index.js"``, exit 127)
    ("supervisor", ("supervisor@^0.12",), re.compile(_BIN + r"supervisor\s+[^\s-]")),
    ("node-dev", ("node-dev@^8",), re.compile(_BIN + r"node-dev(?:\s|$)")),
)
# TypeScript's compiler, which the start or its build runs and the app does not list (its
# author's is global): iloveyou11's node-express-ts-api, ``"dev": "tsc && node
# dist/app.js"``, no typescript in its dependencies: "tsc: not found", exit 127.
_TSC = re.compile(_BIN + r"tsc(?:\s|$)")
_BABEL = re.compile(r"(?:^|[\s;&|(])babel(?:\s|$)")
# Babel run by the start or a build (its CLI, babel-node, babel-watch, @babel/register).
_RUNS_BABEL = re.compile(
    r"(?:^|[\s;&|(])babel(?:-node|-watch)?(?:\s|$)|@babel/register|babel-register"
)
# A preset's or plugin's full name in a Babel config (``"@babel/preset-flow"``).
_BABEL_NAME = re.compile(
    r"""["'](@babel/(?:preset|plugin)-[\w-]+|babel-(?:preset|plugin)-[\w-]+)["']"""
)
_BABEL_CONFIGS = (".babelrc", ".babelrc.json", "babel.config.json", "babel.config.js")
_BABEL_CLIS = (("@babel/core", "@babel/cli@^7"), ("babel-core", "babel-cli@^6"))
# babel-node, which no core brings: Babel 7's @babel/node, Babel 6's CLI (babel-cli has
# it). iceonepiece's parking-lot: ``"dev": "nodemon --exec babel-node src/index.js"``, its
# presets Babel 6's (babel-preset-env 1, babel-preset-stage-0), neither listed (its
# author's babel-cli was global): "babel-node: not found", exit 127.
_BABEL_NODE = re.compile(_BIN + r"babel-node(?:\s|$)")
_BABEL_NODES = (("@babel/core", ("@babel/node@^7",)), ("babel-core", ("babel-cli@^6",)))
# Babel 6's own packages (``babel-preset-env``), which say its major where no core is listed.
_BABEL_6_PACKAGE = re.compile(r"^babel-(?:preset|plugin)-")
# A script running another by name (``npm run start_api``, ``yarn dev``), group 1 its name.
_CALLS = re.compile(
    r"(?:^|[\s;&|(])(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([\w:.-]+)"
)
# What a start script does before it starts the app (``npm run build:ts && node
# dist/server.js``): builds, made a set-up step, as the start's own time is bounded; and
# its migrations (objection's koa-ts example: ``npm run migrate && rm -rf dist && tsc &&
# node dist/app.js``, whose tsc took the start past its 30 s).
_BUILD_FIRST = re.compile(
    r"^(?:npx\s+)?(?:tsc|nest\s+build|tsup|babel|esbuild|swc|rimraf|rm\s+-rf|webpack|vite\s+build)\b"
    r"|^(?:npm\s+run|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+(?:build|compile|clean|migrate|migration|db:migrate)"
    r"[\w:.-]*$"
    r"|^(?:npx\s+)?(?:knex\s+migrate:latest|sequelize(?:-cli)?\s+db:migrate|prisma\s+migrate\s+deploy)"
    r"(?:\s+[\w./=-]+)*$"
)
PRISMA = "node_modules/.bin/prisma"
_TS = (".ts", ".mts", ".cts", ".tsx")
_ENTRIES = ("server.js", "index.js", "app.js", "server.ts", "index.ts", "src/index.ts")
_SERVER_FOLDERS = ("backend", "server", "api")
_SHELL = re.compile(r"&&|\|\||[;|<>`$()]")
_SQLITE = re.compile(r"""provider\s*=\s*["']sqlite["']""")
_ORMS = ("typeorm", "@mikro-orm/core", "sequelize-typescript")
# The build script: ``build``, else a production build alone (awesome-nest-boilerplate has
# ``build:prod``, which ``start:prod``'s ``node dist/main.js`` expects, and no ``build``).
_BUILDS = ("build", "build:prod", "build:production")
# A glob naming .ts files only, quoted in source or an ormconfig, or a TYPEORM_ variable.
_TS_GLOB = re.compile(
    rb"""["'`]([^"'`\n]*\*[^"'`\n]*(?<!\.d)(?<!\.spec)(?<!\.test)\.ts)["'`]"""
    rb"""|^\s*TYPEORM_\w+\s*=\s*["']?([^\s"']*\*[^\s"']*\.ts)\b""",
    re.MULTILINE,
)
# Or one naming .ts and .js files (``src/**/*.entity{.ts,.js}``) where the upload has
# only TypeScript (the glob's directory is its source's, not the build's).
_MIXED_GLOB = re.compile(rb"""["'`]([^"'`\n*]*\*[^"'`\n]*\{\.ts,\s*\.js\})["'`]""")
# An ormconfig (or its example, which the build copies: configdefaults.example_copies).
_ORM_FILES = re.compile(
    r"(?:^|/)(?:ormconfig\.\w+(?:\.(?:example|sample|dist|template))?|\.env(?:\.[\w.-]+)?)$"
)
# A tool's own configuration, whose globs are the tool's (eslint.config.mjs's ``files:
# ["**/*.dto.ts"]``, kirilldevm's nestjs-postgres-tasks-api: read as its ORM's, the app was
# run with ts-node, its start:prod's build left unbuilt): not the app's.
_TOOL_CONFIGS = re.compile(
    r"(?:^|/)\.?(?:eslint|eslintrc|jest|vitest|prettier|prettierrc|babel|lintstagedrc|lint-staged"
    r"|commitlint|stylelint|webpack|vite|rollup|tsup|playwright|cypress|nodemon|swcrc)"
    r"(?:\.config)?(?:\.[\w-]+)*\.(?:[cm]?[jt]s|json)$"
)
# A JavaScript entry that registers a TypeScript loader (``require('ts-node/register')``).
_REGISTERS_TS = re.compile(rb"""require\(\s*["'](?:ts-node/register|tsx/cjs|@swc-node/register)""")
_TESTS = re.compile(r"(?:^|/)(?:tests?|__tests__|spec|node_modules)/|\.(?:spec|test)\.[cm]?[jt]s$")
_TS_SCRIPTS = re.compile(r"dev|watch|serve|start")  # names of scripts that run the app
_TS_RUNNERS = re.compile(r"(?:^|[\s;&|(/])(?:ts-node|tsx|ts-node-dev|tsnd)\s")


@dataclass(frozen=True)
class NodeStart:
    argv: tuple[str, ...]  # a template ({} escaped)
    setup: tuple[tuple[str, ...], ...] = ()
    tools: tuple[str, ...] = ()  # packages the build adds (tsx)
    note: str | None = None  # how the command differs from what the app declared
    prisma: str | None = None  # the Prisma schema: its client is generated by the build


def read_package(files: Mapping[str, bytes], path: str = "package.json") -> dict | None:
    """The upload's package.json at ``path`` (the root's by default) as a JSON object;
    None where there is none, or it is not one."""
    raw = files.get(path)
    if raw is None:
        return None
    try:
        package = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
        return None
    return package if isinstance(package, dict) else None


def package_scripts(package: Mapping | None) -> dict[str, str]:
    """A package.json's scripts by name: the entries whose name and command are strings
    (a hand-edited file's other entries read as absent; none where there is no package)."""
    return _strings((package or {}).get("scripts"))


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def node_start(
    files: dict[str, bytes],
    *,
    started: bool = False,
    named: tuple[str, ...] = (),
    anywhere: bool = False,
) -> NodeStart | None:
    """How to start the Node app of ``files`` (see the module doc); None: no way found.
    ``started``: something else starts it (a Procfile): its set-up steps and tools
    whatever its package.json says of starting it (no ``argv``).
    With a Prisma schema, its client is generated by the build and its database made
    first: ``prisma migrate deploy`` where it has migrations, else ``prisma db push``
    for SQLite. ``named``: the scripts its README runs, in its order (``plans.declared``),
    the start where nothing else is one. ``anywhere``: with no usual entry, the app's one
    module of any name that listens (the last resort, after its deployment files' start:
    :func:`_listening_module`)."""
    found = _start(files, named=named, anywhere=anywhere)
    if started and read_package(files) is not None:
        found = NodeStart((), _start(files, build_only=True).setup)  # type: ignore[union-attr]
    package = read_package(files) or {}
    listed = {**_strings(package.get("dependencies")), **_strings(package.get("devDependencies"))}
    scripts = package_scripts(package).values()
    for name, tool, runs in _RUNNERS:
        if found is not None and name not in listed and any(runs.search(s) for s in scripts):
            found = replace(found, tools=(*found.tools, tool))
    all_scripts = package_scripts(package)
    reached = reached_text(found.argv, all_scripts) if found is not None else ""
    if found is not None and (added := global_tools(reached, listed)):
        found = replace(found, tools=tuple(dict.fromkeys((*found.tools, *added))))
    if found is not None and _OLD_TS_NODE.match(listed.get("ts-node", "")):
        # ts-node before 7 knows none of the flags and hooks the service runs it with
        # (``--transpile-only``, ``ts-node/register/transpile-only``, ``ts-node/esm``):
        # TypeORM's own project template pinned 3.3.0, whose parser took the flag for one
        # with a value and ran the entry as its argument's (babyplug's api-challenge-ts-
        # typeorm: exit 0, printing nothing; MatheusCyrillo's nodejs-ts-typeorm-nv03:
        # "Cannot find module 'migration:run'"). Its newest major, beside the app's own.
        found = replace(found, tools=tuple(dict.fromkeys((*found.tools, TS_NODE))))
    if found is not None and sequelize_cli_wanted(files, listed):  # its README's npx's
        found = replace(found, tools=(*found.tools, SEQUELIZE_CLI))
    # Babel's command, which its core does not bring: its CLI, of the core's major (Y-Jean's
    # express-todo-api: ``"build": "babel src --out-dir dist"``, @babel/core and
    # @babel/node listed, not @babel/cli: "babel: not found").
    built = "\n".join(reached_text(step, all_scripts) for step in (found.setup if found else ()))
    if found is not None and "typescript" not in listed and _TSC.search(f"{reached}\n{built}"):
        found = replace(found, tools=tuple(dict.fromkeys((*found.tools, "typescript@^5"))))
    if found is not None and _BABEL.search(f"{reached}\n{built}"):
        cli = next((c for core, c in _BABEL_CLIS if core in listed), None)
        if cli is not None and not {"@babel/cli", "babel-cli"} & listed.keys():
            found = replace(found, tools=(*found.tools, cli))
    if found is not None and _BABEL_NODE.search(f"{reached}\n{built}"):
        found = replace(found, tools=tuple(dict.fromkeys((*found.tools, *_babel_node(listed)))))
    if found is not None and _RUNS_BABEL.search(f"{reached}\n{built}"):
        missing = babel_extensions_unlisted(files, package, listed)
        found = replace(found, tools=tuple(dict.fromkeys((*found.tools, *missing))))
    if found is not None and (drivers := orm_drivers_unlisted(files, listed)):
        found = replace(found, tools=tuple(dict.fromkeys((*found.tools, *drivers))))
    if found is not None and (made := generating_scripts(files, package_scripts(package))):
        steps = tuple(("npm", "run", name) for name in made)  # sources it imports: .generated
        found = replace(found, setup=(*steps, *found.setup))
    if found is not None:
        found = _serving_hooks_left_out(found, package_scripts(package))
    schema = prisma_schema(files)
    if found is None or schema is None:
        return found
    tools = found.tools
    if "prisma" not in listed:  # the CLI, of the client's version
        tools = (*tools, f"prisma@{listed.get('@prisma/client', 'latest')}")
    steps = found.setup
    if _generated_outside(files, schema):  # its client in its own tree: generated there
        steps = ((PRISMA, "generate", "--schema", schema), *steps)
    migrations = f"{posixpath.dirname(schema)}/migrations/"
    if any(p.startswith(migrations) and p.endswith("/migration.sql") for p in files):
        steps = (*steps, (PRISMA, "migrate", "deploy", "--schema", schema))
    elif _SQLITE.search(files[schema].decode("utf-8", "replace")):
        steps = (*steps, (PRISMA, "db", "push", "--skip-generate", "--schema", schema))
    return replace(found, setup=steps, tools=tools, prisma=schema)


# The scripts that start the app, by their conventional names.
_STARTING_SCRIPTS = ("start", "start:prod", "prod", "serve", "server", *DEV_SCRIPTS)
_RUNS_START = re.compile(r"(?:npm|yarn|pnpm)\s+(?:run\s+)?start(?::[\w-]+)?")


def _serving_hooks_left_out(found: NodeStart, scripts: dict[str, str]) -> NodeStart:
    """``found`` with each set-up step ``npm run x`` whose ``prex`` or ``postx`` script
    starts the app (its text a starting script's, or ``npm start``) run without that
    script: npm runs it after the build, the server never ends, and the build step waits
    out its time (pawelkarauda's tasks-manager-nestjs: ``"postbuild": "node
    dist/main.js"``, its ``start:prod``'s very command, failed every launch in its build).
    Its other hook, if any, runs as its own step."""
    starts = {scripts[name].strip() for name in _STARTING_SCRIPTS if scripts.get(name, "").strip()}

    def starts_app(name: str) -> bool:
        text = scripts.get(name, "").strip()
        return bool(text) and (text in starts or _RUNS_START.fullmatch(text) is not None)

    setup: list[tuple[str, ...]] = []
    left: list[str] = []
    for step in found.setup:
        name = step[2] if step[:2] == ("npm", "run") and len(step) == 3 else ""
        hooks = [h for h in (f"pre{name}", f"post{name}") if name and starts_app(h)]
        if not hooks:
            setup.append(step)
            continue
        left += hooks
        kept = [h for h in (f"pre{name}", f"post{name}") if h in scripts and h not in hooks]
        setup += [("npm", "run", h) for h in kept if h.startswith("pre")]
        setup.append((*step, "--ignore-scripts"))
        setup += [("npm", "run", h) for h in kept if h.startswith("post")]
    if not left:
        return found
    said = ", ".join(f"{h} ({scripts[h].strip()})" for h in left)
    note = f"its {said} starts the app as its start does: not run with the build, never ending"
    return replace(found, setup=tuple(setup), note=f"{found.note}; {note}" if found.note else note)


def global_tools(reached: str, listed: dict[str, str] | set[str]) -> tuple[str, ...]:
    """The tools (npm packages) of :data:`_GLOBAL_TOOLS` that ``reached`` (what a start
    runs: :func:`reached_text`) calls and the app, listing ``listed``, does not list."""
    added: list[str] = []
    for name, needed, runs in _GLOBAL_TOOLS:
        if name not in listed and runs.search(reached):
            added += [p for p in needed if p.rpartition("@")[0] not in listed]
    return tuple(dict.fromkeys(added))


def reached_text(argv: tuple[str, ...], scripts: dict[str, str]) -> str:
    """The text of what the start ``argv`` runs: its shell line, or the script it names,
    with their ``pre`` scripts and every script they run by name, one a line."""
    shell = argv[-1] if argv[:2] == ("sh", "-c") else ""
    if argv[:2] == ("npm", "start"):
        pending = ["start"]
    elif argv[:2] == ("npm", "run") and len(argv) > 2:
        pending = [argv[2]]
    else:
        pending = _CALLS.findall(shell)
    seen: list[str] = []
    while pending:
        name = pending.pop()
        if name in seen or name not in scripts:
            continue
        seen.append(name)
        pending += [*_CALLS.findall(scripts[name]), f"pre{name}"]
    return "\n".join([shell, *(scripts[name] for name in seen)])


def prisma_schema(files: dict[str, bytes]) -> str | None:
    """The upload's Prisma schema (package.json's ``prisma.schema``, else the ``schema``
    its ``prisma.config.ts`` names, else ``prisma/schema.prisma``), when it has one and
    depends on Prisma's client. torruuu's hono-postgresql-starter names
    src/core/db/prisma/schema.prisma in its prisma.config.ts (Prisma 6.6's config file,
    which replaces package.json's key): its client was never generated."""
    package = read_package(files) or {}
    listed = {**_strings(package.get("dependencies")), **_strings(package.get("devDependencies"))}
    if "@prisma/client" not in listed and "prisma" not in listed:
        return None
    declared = package.get("prisma")
    named = [declared.get("schema")] if isinstance(declared, dict) else []
    for config in _PRISMA_CONFIGS:
        if (found := _PRISMA_CONFIG_SCHEMA.search(files.get(config, b""))) is not None:
            named.append(found.group(1).decode("utf-8", "replace"))
    for path in (posixpath.normpath(n) for n in named if isinstance(n, str)):
        if path in files:
            return path
    return "prisma/schema.prisma" if "prisma/schema.prisma" in files else None


_PRISMA_CONFIGS = tuple(f"prisma.config.{e}" for e in ("ts", "mts", "cts", "js", "mjs", "cjs"))
_PRISMA_CONFIG_SCHEMA = re.compile(rb"""\bschema\s*:\s*["'`]([^"'`\n]+)["'`]""")
# A generator's ``output`` (``output = "../generated/prisma"``), relative to its schema.
_GENERATOR_OUTPUT = re.compile(r'generator\s+\w+\s*\{[^}]*?\boutput\s*=\s*"([^"\n]+)"')


def _generated_outside(files: dict[str, bytes], schema: str) -> bool:
    """Whether a generator of ``schema`` writes its client into the app's own tree (its
    ``output`` not under node_modules): the build generates the client into the
    environment's node_modules, where the app then finds none of such a one (Prisma 7's
    ``prisma-client`` generator always names one: "Cannot find module
    '@/core/db/generated/prisma/client.js'")."""
    text = files.get(schema, b"").decode("utf-8", "replace")
    for output in _GENERATOR_OUTPUT.findall(text):
        where = posixpath.normpath(posixpath.join(posixpath.dirname(schema), output))
        if "node_modules" not in where.split("/"):
            return True
    return False


# A script that is one JavaScript file's path and nothing else (``"start": "index.js"``).
# (or handed to npm as if it were its command: dwiyuliani's expressJS-mysql says ``"start":
# "npm src/index.js"``, its main; npm: 'Unknown command: "src/index.js"')
_BARE_FILE = re.compile(r"^\s*(?:npm\s+)?(?:\./)?([\w./-]+\.[cm]?js)\s*$")


# A script whose program is a package's folder, not its command (``./node_modules/nodemon
# express-server.js``).
_PACKAGE_FOLDER = re.compile(r"^(?:\./)?(node_modules/((?:@[\w.-]+/)?[\w.-]+))/?(\s.*)?$", re.S)


def _package_folder_run(script: str, listed: dict[str, str]) -> tuple[str, str, str] | None:
    """(the folder, the command, the script running that command instead) where ``script``
    runs the folder of a package the app lists, which the shell cannot run (jdeekonda's
    node-express-cms: ``"start": "./node_modules/nodemon express-server.js"``, "sh: 1:
    ./node_modules/nodemon: Permission denied", exit 126): the command the package is
    named for, as ``./node_modules/.bin/nodemon`` would be. None for any other script."""
    found = _PACKAGE_FOLDER.match(script.strip())
    if found is None or found.group(2) not in listed or found.group(2).startswith(".bin"):
        return None
    command = found.group(2).rsplit("/", 1)[-1]
    return found.group(1), command, f"{command}{found.group(3) or ''}"


def _bare_file(script: str, files: dict[str, bytes]) -> str | None:
    """The upload's JavaScript file a script names alone (or hands npm as its command),
    which the shell npm runs it in takes for a command and does not find (exit 127):
    CrispenGari's SQLite3-with-knex-express-API says ``"start": "index.js"``, its main.
    None for any other script."""
    found = _BARE_FILE.match(script)
    path = posixpath.normpath(found.group(1)) if found is not None else None
    return path if path is not None and path in files else None


def _start(
    files: dict[str, bytes],
    *,
    build_only: bool = False,
    named: tuple[str, ...] = (),
    anywhere: bool = False,
) -> NodeStart | None:
    package = read_package(files)
    if package is None:
        return None
    scripts = package_scripts(package)
    listed = {**_strings(package.get("dependencies")), **_strings(package.get("devDependencies"))}
    tools = () if "tsx" in listed else (TSX,)
    # npm start builds it anyway (a Procfile may start it otherwise: built first then)
    built_first = "build" in scripts.get("prestart", "") and not build_only
    build = next(
        (
            b
            for b in _BUILDS
            if scripts.get(b, "").strip()
            and not _serves(scripts[b], files)
            and not ships_image(scripts[b], scripts)
        ),
        None,
    )
    built_by = scripts.get(build or "", "")
    setup = (("npm", "run", build),) if build and not built_first else ()
    checked = _without_checks(built_by, scripts) if setup else None
    if setup and (once := _without_tsc_watch(checked or built_by)) is not None:
        setup = (_shell(once),)  # compiled once: its watch never ends
    elif setup and checked is not None:
        setup = (_shell(checked),)  # its compile alone: lint and tests gate a commit
    setup = setup or ((_shell(made),) if (made := tsc_build(scripts, files, listed)) else ())
    if build_only:
        return NodeStart((), setup)
    glob = runtime_ts_glob(files, listed)
    if glob is not None and not _runs_ts(
        scripts, "start:prod" if "start:prod" in scripts else "start"
    ):
        found = _ts_start(files, package, scripts, listed, glob)
        if found is not None:
            return found
    for name in ("start:prod", "start"):
        if _PLATFORM_DEV.search(scripts.get(name, "")) and _serverless_export(files):
            continue  # a platform's dev server (``vercel dev``): its handler served, below
        if _TASK_MENU.search(scripts.get(name, "")):
            continue  # a menu of its scripts, asking which to run: its main, below
        serving = script_that_serves(name, scripts, env_names(files))
        if serving is not None:  # ``moleculer-runner`` alone: its dev script's services
            return _dev(scripts[serving[0]], setup, tools, ts_runner(files), *serving)
        if runs_missing(scripts.get(name, ""), scripts) and any(
            scripts.get(dev, "").strip() for dev in DEV_SCRIPTS
        ):
            continue  # it cannot run: the dev script (knite51's, below)
        if scripts.get(name, "").strip():
            argv = ("npm", "start", "--silent") if name == "start" else ("npm", "run", name)
            before = scripts.get(f"pre{name}", "").strip()
            if before and starts_servers_only(before):
                # It starts its database server itself (``mongod --fork``): left out, as
                # the preview serves the database; npm would run it still.
                scripts = {**scripts, f"pre{name}": ""}
                argv, before = (*argv, "--ignore-scripts"), ""
            if _runs_own_ts(scripts[name]):
                # It runs its TypeScript sources itself: no build output of its (8696's
                # koa-app: nodemon --exec ts-node ./src/app.ts, its `rimraf build && tsc`
                # 42 s of a launch that then ran out of time).
                setup = ()
            # Its checks and a terminal's housekeeping left out (``clear && npx kill-port
            # 3000 && nodemon app.js``, Rostmaster's ExpressHW): the rules below read the
            # script without them, and one none of them rewrites is run so.
            tidied = None if before else without_checks(scripts[name], scripts)
            if tidied is not None:
                scripts = {**scripts, name: tidied}
            split = None if before else _build_first(_called(scripts[name], scripts, files))
            if split is not None:
                build_part, run_part = split
                steps = (*(setup if "build" not in build_part else ()), _shell(build_part))
                note = f"the {name} script's build ({build_part}) runs as a set-up step"
                # Its run part handing the app to a process manager's daemon: the app
                # run in the foreground (sanket9918's TS-sequelize-express, ``yarn build
                # && NODE_ENV=production pm2 start ./dist/index.js``, pm2 not listed:
                # "pm2: not found", twice, before its dev script served).
                run_part = in_foreground(run_part)
                return NodeStart(_shell(run_part), steps, (), f"{note}, then {run_part}")
            moved = emitted_start(scripts[name], built_by, files) if setup else None
            if not before and moved:  # tsc writes its entry elsewhere than it runs
                note = f"tsc writes its entry elsewhere than its {name} runs: {moved}"
                return NodeStart(_shell(moved), setup, (), note)
            if not before and (loaded := _loaded_by_esm(scripts[name], package, listed, files)):
                # Its ES modules syntax in a CommonJS package, loaded by the esm package
                # it lists (rahillakhani's fastify-seed: ``node server.js``, its start.js
                # the ``require("esm")(module)`` shim): "Cannot find module
                # 'valFromPromise'", Node reading it as an ES module of its own.
                return NodeStart(_shell(loaded), setup, (), f"its {name} script: {loaded}")
            if not before and (elsewhere := _listening_in_place(scripts[name], files)):
                # Its file moved since (josua-stng's express-bookshelf: ``node server.js``,
                # the server in src/server.js: "Cannot find module 'server.js'").
                line, said = elsewhere
                return NodeStart(_shell(line), setup, (), f"its {name} script: {said}")
            if not before and (exported := _exported_in_place(scripts[name], package, files)):
                served, said = exported
                return NodeStart(served, setup, (), f"its {name} script: {said}")
            esm = package.get("type") == "module"
            commonjs = esm and emits_commonjs(files)
            if not before and (own := runnable_ts(scripts[name], esm, commonjs=commonjs)):
                line, why, tsx = own
                note = f"its {name} script: {why}: {line}"
                return NodeStart(_shell(line), setup, tools if tsx else (), note)
            handed = None if before else ecosystem_handed(scripts[name])
            if (
                handed is not None
                and (ecosystem := ecosystem_start(files, listed, handed[1])) is not None
            ):
                # Its app run in the foreground as pm2 would run it, not pm2's daemon.
                return _ecosystem_app(ecosystem, setup, tools, handed[0])
            if not before and in_foreground(scripts[name]) != scripts[name]:
                why = f"its {name} script hands the app to a process manager's daemon"
                return _dev(scripts[name], setup, tools, ts_runner(files), name, why)
            runner = ts_runner(files)
            split = concurrent_compile_then_run(scripts[name], scripts, runner)
            if not before and split is not None:
                return _compiled_then_run(split, setup, tools, name)
            if not before and (side := concurrent_without_watchers(scripts[name], scripts, runner)):
                note = f"its {name} script's commands without their watchers: {side}"
                return NodeStart(_shell(side), setup, (), note)
            if not before and (served := exported_app_start(scripts[name], files)):
                note = f"its {name} script's module exports its app and listens nowhere: served"
                return NodeStart(served, setup, (), note)
            if not before and (fetched := exported_fetch_start(scripts[name], files)):
                note = (
                    f"its {name} script's module {fetched[1]} exports its fetch handler, which"
                    f" nothing serves: {fetched[0]}"
                )
                bun = () if "bun" in listed else (BUN,)
                return NodeStart(_shell(fetched[0]), setup, bun, note)
            if not before and (own := _package_folder_run(scripts[name], listed)) is not None:
                why = f"its {name} script runs a package's folder ({own[0]}): its command {own[1]}"
                return _dev(own[2], setup, tools, ts_runner(files), name, why)
            if not before and (file := _bare_file(scripts[name], files)) is not None:
                note = (
                    f"its {name} script names its file {file} alone (sh: not found): node runs it"
                )
                return NodeStart(("node", file), setup, (), note)
            if tidied is not None:
                why = "its checks and terminal housekeeping left out (a commit's, a terminal's)"
                return _dev(tidied, setup, tools, ts_runner(files), name, why)
            # (a bare nodemon's command is its nodemon.json's, which the build writes anew
            # where it must: .devscript.nodemon_config_file; left to it)
            once = without_watcher(scripts[name], runner)
            by_manager = re.match(r"\s*(?:npm|yarn|pnpm)\s", once)  # (its own rules, above)
            if (
                not before
                and _WATCHER.search(scripts[name])
                and not _WATCHER.search(once)
                and not by_manager
            ):
                # A watcher outlives the app it runs: nodemon, the app crashed, "waits for
                # file changes" (VierryFadhilah's tugasExpress: ``nodemon --exec babel-node
                # index.js``, its first request's ReferenceError ended the app, and every
                # request after met no server while the start lived on, its exit unseen).
                why = f"its {name} script runs the app under a watcher, which outlives its exit"
                return _dev(scripts[name], setup, tools, runner, name, why)
            if not before:
                return NodeStart(argv, setup)
            # Its pre-script (``prestart:prod``: ``tsc``) is a build: a set-up step, not
            # part of the start (whose time is bounded); npm then runs only the script.
            steps = (*(setup if "build" not in before else ()), ("npm", "run", f"pre{name}"))
            return NodeStart((*argv, "--ignore-scripts"), steps)
    main = package.get("main")
    entry = main.strip() if isinstance(main, str) and main.strip() else ""
    runner = ts_runner(files)
    made = entry if entry in files else made_main(entry, files, built_by) if entry else None
    if made == entry and entry and (listener := _listening_beside_browser_main(entry, files)):
        what = (
            "a page's script (it uses the browser's document), which node cannot run"
            if _BROWSER_SCRIPT.search(files[entry])
            else "a tool's configuration, which serves nothing"
        )
        note = f"its main ({entry}) is {what}: {listener}, which listens"
        return _entry(listener, setup, tools, ts_node_command(files, listed), files, runner, note)
    if made == entry and entry and (listener := _listening_beside_scratch(entry, files, listed)):
        what = "a script of its own, which serves nothing and imports no module of the app"
        note = f"its main ({entry}) is {what}: {listener}, which listens"
        found = _entry(listener, setup, tools, ts_node_command(files, listed), files, runner, note)
        # (its TypeScript runner too, where it lists none: Link_shortener lists no ts-node)
        runs = global_tools(" ".join(found.argv), listed)
        return replace(found, tools=tuple(dict.fromkeys((*found.tools, *runs))))
    if made:  # see .fallbacks
        note = f"its main ({entry}) is its build's {made}" if made != entry else None
        return _entry(made, setup, tools, ts_node_command(files, listed), files, runner, note)
    why = f"its main ({entry}) is not in the upload nor made by its build" if entry else ""
    if serving := serving_script(scripts):
        note = f"{why}: the {serving} script" if why else None
        return NodeStart(("npm", "run", serving), setup, (), note)
    if through := serving_through(scripts, without_watcher):
        serving, runs = through  # (``serve``: ``npm run start-nodemon``)
        found = _dev(scripts[runs].strip(), setup, tools, runner, runs)
        said = f"the {serving} script runs " + (found.note or f"the {runs} script")
        return replace(found, note=f"{why}: {said}" if why else said)
    dev = next((name for name in DEV_SCRIPTS if scripts.get(name, "").strip()), None)
    if dev is not None and _PLATFORM_DEV.search(scripts[dev]) and _serverless_export(files):
        # A platform's own dev server (``sst dev``, ``vercel dev``, ``netlify dev``), which
        # runs nothing without the platform's account (ruchernchong's hono-sst-cloudflare:
        # exit 127): the app its handler module exports is served instead (below).
        dev = None
    if dev is not None:
        nodemon = nodemon_settings(files, package)
        if not setup and (variant := variant_build(dev, scripts, files)) is not None:
            setup = (("npm", "run", variant),)  # its build, named for the same variant
        script = scripts[dev].strip()
        if (moved := _listening_in_place(script, files)) is not None:
            script, said = moved
            why = f"{why}; {said}" if why else said
        # Its lint run first (zstared's koa-admin-api: ``npm run eslint && … nodemon
        # src/index.js``, five lint errors): a check gates a commit, not a start.
        if (checked := without_checks(script, scripts)) is not None:
            script, why = checked, why or "its checks left out (they gate a commit)"
        if (split := concurrent_compile_then_run(script, scripts, runner)) is not None:
            return _compiled_then_run(split, setup, tools, dev, why)
        return _dev(script, setup, tools, runner, dev, why, nodemon)
    # The script its README runs to start it, under a name of its own (saching618's
    # koa-crud: "npm run watch-server", nodemon running ts-node on src/server.ts; no
    # start, no dev script, no main: the launch was refused, nothing to run).
    readme = next((name for name in named if scripts.get(name, "").strip()), None)
    if readme is not None and _PLATFORM_DEV.search(scripts[readme]) and _serverless_export(files):
        readme = None  # (a platform's dev server: its handler served, below)
    if readme is not None and not runs_missing(scripts[readme], scripts):
        if (split := _build_first(_called(scripts[readme], scripts, files))) is not None:
            # It builds before it starts (msusviela's books-express: ``"app": "npx tsc &&
            # node dist/app.js"``, its tsc failing the start on type errors): the build a
            # set-up step, as a start script's is.
            build_part, run_part = split
            steps = (*(setup if "build" not in build_part else ()), _shell(build_part))
            note = f"its README runs the {readme} script; its build ({build_part}) runs first"
            return NodeStart(_shell(in_foreground(run_part)), steps, (), f"{note}, then {run_part}")
        nodemon = nodemon_settings(files, package)
        found = _dev(scripts[readme].strip(), setup, tools, runner, readme, "", nodemon)
        note = f"its README runs the {readme} script" + (f"; {found.note}" if found.note else "")
        return replace(found, note=note)
    if (ecosystem := ecosystem_start(files, listed)) is not None:
        return _ecosystem_app(ecosystem, setup, tools)
    usual = next((f for f in _ENTRIES if f in files), "") or _server_below(files)
    entry = usual or _listening_module(files, listed, anywhere=anywhere)
    exported = fetch_export(files)  # a serverless app's handler: served by Bun
    if exported is not None and entry in ("", exported[0]):
        served = fetch_server(*exported)
        note = f"{exported[0]} exports its fetch handler, which nothing serves: {served}"
        return NodeStart(_shell(served), setup, () if "bun" in listed else (BUN,), note)
    adapted = adapter_export(files)  # a serverless platform's handler: served by Bun
    if adapted is not None and usual and entry == usual and not listens(files[usual]):
        # A usual entry that only makes the app the handler module hands its platform
        # (kamo-tomoki's serverlesshono: src/index.ts's ``export const app``, its
        # api/index.ts's ``handle(app)``): run, it exited at once, printing nothing.
        entry = ""
    if adapted is not None and entry in ("", adapted[0]) and adapted[1] == ("serverless-http",):
        # An Express or Koa app on Lambda: Node serves it, as it runs there.
        command, added = _module_command(adapted[0], tools, ts_node_command(files, listed), runner)
        # serverless-http's stand-in, preloaded (written.managerready), serves it here only
        served = f"{SERVES_HANDLER}=1 {shlex.join(command)}"
        note = (
            f"{adapted[0]} hands its app to serverless-http (an AWS Lambda handler) and serves"
            f" nothing itself: {shlex.join(command)} serves that app on $PORT"
        )
        return NodeStart(_shell(served), setup, added, note)
    if adapted is not None and entry in ("", adapted[0]):
        served = adapter_server(*adapted)
        note = (
            f"{adapted[0]} hands its app to {', '.join(adapted[1])} (a serverless platform's"
            f" adapter) and serves nothing itself: Bun serves that app on $PORT"
        )
        return NodeStart(_shell(served), setup, () if "bun" in listed else (BUN,), note)
    if not entry and (project := project_start(scripts)) is not None:
        name, build = project
        steps = (("npm", "run", build),) if build else setup
        return NodeStart(("npm", "run", name), steps, (), f"its {name} script (no start)")
    if not entry:
        return None
    said = (
        None
        if entry == usual or entry in _LISTENING_NAMES
        else f"no start script, main nor entry of a usual name: {entry}, its one module that"
        " listens"
    )
    return _entry(entry, setup, tools, ts_node_command(files, listed), files, runner, said)


# A menu of the project's scripts that asks which to run (ntl, npm-run-menu, nps with no
# script named), a developer's chooser, which serves nothing (lord09244's
# lambda-express-prototype: ``"start": "node ./node_modules/ntl/cli.js"``, waiting for a
# key: "did not answer HTTP").
_TASK_MENU = re.compile(
    r"^\s*(?:(?:node\s+)?(?:\./)?node_modules/(?:\.bin/)?ntl(?:/cli\.js)?|npx\s+ntl|ntl"
    r"|npm-run-menu|nps)\s*$"
)


# A serverless platform's own dev server, run by a script.
_PLATFORM_DEV = re.compile(r"(?:^|[\s;&|(])(?:sst\s+(?:dev|start)|vercel\s+dev|netlify\s+dev)\b")


def _serverless_export(files: dict[str, bytes]) -> bool:
    """Whether a module of the app exports a fetch handler or hands its app to a serverless
    platform's adapter (:func:`.fallbacks.fetch_export`, :func:`.fallbacks.adapter_export`)."""
    return fetch_export(files) is not None or adapter_export(files) is not None


# A TypeScript runner given a .ts entry in the script itself (ts-node, tsx, ts-node-dev,
# nodemon's --exec of one), not a script that calls another.
_OWN_TS = re.compile(
    r"(?:^|[\s;&|('\"])(?:ts-node|tsx|ts-node-dev|tsnd)\s(?:[^&|;]*\s)?[\w./-]+\.ts\b"
)


def _babel_node(listed: dict[str, str]) -> tuple[str, ...]:
    """The packages that bring babel-node where the app lists none (:data:`_BABEL_NODE`):
    of its core's major, else Babel 6's where it lists a package of Babel 6's, else
    Babel 7's node with its core."""
    if {"@babel/node", "babel-cli"} & listed.keys():
        return ()
    if found := next((tools for core, tools in _BABEL_NODES if core in listed), None):
        return found
    if any(_BABEL_6_PACKAGE.match(name) for name in listed):
        return ("babel-cli@^6",)
    return ("@babel/node@^7", "@babel/core@^7")


def babel_extensions_unlisted(
    files: dict[str, bytes], package: dict, listed: dict[str, str]
) -> tuple[str, ...]:
    """The presets and plugins the app's Babel config names (its ``.babelrc``,
    ``babel.config``, package.json's ``babel``) that it does not list, each to add: of its
    core's release where that is a prerelease (Babel 7's betas, whose later releases it
    cannot load), else of its major (hsarb's postgres-express-boilerplate: ``babel-node``
    and a .babelrc naming ``@babel/preset-flow``, not listed: "Cannot find module
    '@babel/preset-flow'")."""
    texts = [files[name] for name in _BABEL_CONFIGS if name in files]
    if isinstance(package.get("babel"), dict):
        texts.append(json.dumps(package["babel"]).encode())
    named = {m for text in texts for m in _BABEL_NAME.findall(text.decode("utf-8", "replace"))}
    core = listed.get("@babel/core", "").strip().lstrip("^~=v ")
    seven = core if re.fullmatch(r"7\.\d+\.\d+-[\w.]+", core) else "^7"
    return tuple(
        f"{name}@{seven if name.startswith('@babel/') else '^6'}"
        for name in sorted(named)
        if name not in listed
    )


def _runs_own_ts(script: str) -> bool:
    """Whether ``script`` runs a ``.ts`` entry with a TypeScript runner itself."""
    return _OWN_TS.search(script) is not None


def _server_below(files: dict[str, bytes]) -> str:
    """A conventional entry one folder down that listens (dbaigara's first-app: its root
    package.json lists the server's packages, ``backend/server.js`` uses them and has no
    package.json of its own); "" for none."""
    for folder in _SERVER_FOLDERS:
        for name in _ENTRIES[:5] if f"{folder}/package.json" not in files else ():
            if b".listen(" in files.get(f"{folder}/{name}", b""):
                return f"{folder}/{name}"
    return ""


# Where an app without a start script, main or conventional entry keeps the module that
# starts it: its own name for it, at the root or in src/. JavaScript alone: a TypeScript
# module no script runs says nothing of how it is compiled or run.
_LISTENING_NAMES = tuple(
    f"{folder}{name}.{ext}"
    for folder in ("", "src/")
    for name in ("main", "server", "index", "app")
    for ext in ("js", "mjs", "cjs")
)


def _listening_module(
    files: dict[str, bytes], listed: dict[str, str], *, anywhere: bool = False
) -> str:
    """The one module of the names an entry has (main, server, index, app; at the root or
    in src/) that listens, where the package says nothing of starting it (jinfazhu-mygit's
    koa backend: npm init's main index.js absent, no scripts, src/main.js calls
    ``app.listen``: refused, nothing to run); ``anywhere``, with none of those names, the
    app's one own module of any name that listens (nicklaros' todoapp: src/rest/index.js
    beside a CLI's src/cli/index.js; DimNih's Typescript-api-express: api.ts, ts-node
    listed, no scripts); "" for none, or several that listen."""
    listening = [n for n in _LISTENING_NAMES if b".listen(" in files.get(n, b"")]
    if listening or not anywhere:
        return listening[0] if len(listening) == 1 else ""
    typescript = any(name in listed for name in ("typescript", "ts-node", "tsx"))
    kinds = (*_JS, *(_TS if typescript else ()))
    # A folder with a package.json of its own is another project (a front end, a tool).
    projects = tuple(n.removesuffix("package.json") for n in files if n.endswith("/package.json"))
    listening = [
        name
        for name, text in files.items()
        if name.endswith(kinds)
        and not name.endswith(".d.ts")
        and not name.startswith(projects)
        and not _NOT_AN_ENTRY.search(name)
        and _LISTENS.search(text)
    ]
    return _importing_root(files, listening, kinds)


def _importing_root(files: dict[str, bytes], listening: list[str], kinds: tuple[str, ...]) -> str:
    """The entry the modules that listen are run from: each of them, or the module that
    imports it, and so on up, until a module none of the app's own modules imports.
    digglp's cleanarchitectureexpressexample listens in src/application/server.ts (``new
    serverHandler().listen(3001)``) and in the class it imports
    (src/domain-handlers/serverHandler.ts: ``this.app.listen(port, …)``): server.ts, which
    nothing imports. luismoroco's ServerTSXExpress: app.ts runs ``setupServer.listen()``
    of models/server.ts, which listens. "" unless there is exactly one."""
    own = [
        name
        for name in files
        if name.endswith(kinds) and not name.endswith(".d.ts") and not _NOT_AN_ENTRY.search(name)
    ]
    importers: dict[str, set[str]] = {}
    for name in own:
        for module in module_imports(name, files):
            importers.setdefault(module, set()).add(name)
    roots: set[str] = set()
    for module in listening:
        seen, waiting = {module}, [module]
        while waiting:
            current = waiting.pop()
            above = importers.get(current, set()) - seen
            if not importers.get(current):
                roots.add(current)
            seen |= above
            waiting += sorted(above)
    return roots.pop() if len(roots) == 1 else ""


def _listening_beside_browser_main(entry: str, files: dict[str, bytes]) -> str:
    """The module that listens (:func:`_listening_module`'s) where the package's ``main``
    is no server's module and listens nowhere: a page's script, using the browser's
    ``document`` or ``window``, or a tool's configuration (``*.config.js``): npm init
    named the first script it saw (Carlos5456's Sistema-express: ``"main": "script.js"``,
    its form's handler, beside ``server.js``, "ReferenceError: document is not defined";
    schererleander's expressjs-quiz: ``"main": "tailwind.config.js"``, which ran and
    exited 0). "" where main is no such module or none other listens."""
    text = files.get(entry, b"")
    page = _BROWSER_SCRIPT.search(text) is not None
    if not (page or _TOOL_CONFIG.search(entry)) or _LISTENS.search(text):
        return ""
    listener = _listening_module(files, {})
    return listener if listener != entry else ""


def _listening_beside_scratch(entry: str, files: dict[str, bytes], listed: dict[str, str]) -> str:
    """The app's one module that listens, anywhere (:func:`_listening_module`'s), where
    the package's ``main`` (a JavaScript module) listens nowhere, exports nothing and
    imports none of the app's modules: a script its author tried something with
    (NikitaLazutinn's Link_shortener: ``"main": "index.js"``, which connects to MongoDB
    and prints "yes", beside Nest's src/main.ts, which listens: no answer in 30 s). Its
    TypeScript modules counted where a tsconfig.json says it is compiled. "" otherwise."""
    text = files.get(entry)
    if text is None or not entry.endswith(_JS):
        return ""  # (a build's output, or TypeScript: another's to read)
    if _LISTENS.search(text) or _SERVES_OR_EXPORTS.search(text):
        return ""
    if module_imports(entry, files):
        return ""
    typescript = {"typescript": ""} if "tsconfig.json" in files else {}
    listener = _listening_module(files, {**listed, **typescript}, anywhere=True)
    return listener if listener != entry else ""


# What a module that serves or is part of an app has: a server made, an export.
_SERVES_OR_EXPORTS = re.compile(
    rb"\bcreateServer\b|\.listen\(|\bmodule\.exports\b|\bexports\.|^\s*export\b", re.M
)


# A tool's configuration module (tailwind.config.js, .eslintrc.js, gulpfile.js): no app.
_TOOL_CONFIG = re.compile(
    r"(?:^|/)(?:[\w-]+\.config|\.[\w-]+rc|gulpfile|gruntfile)\.[cm]?js$", re.IGNORECASE
)


# A page's script: the browser's DOM, used at its top level or in its handlers.
_BROWSER_SCRIPT = re.compile(
    rb"\bdocument\.(?:getElementById|querySelector(?:All)?|addEventListener|createElement"
    rb"|body|forms)\b|\bwindow\.(?:addEventListener|onload|location)\b"
)
_JS = (".js", ".mjs", ".cjs")
# Where no app's entry is: dependencies, builds, tests, front-end pages, configuration.
_NOT_AN_ENTRY = re.compile(
    r"(?:^|/)(?:node_modules|dist|build|out|lib|coverage|public|static|tests?|__tests__|"
    r"specs?|e2e|examples?|scripts|config)/|\.(?:test|spec|config)\.[cm]?[jt]s$"
    r"|(?:^|/)tests?\.[cm]?[jt]s$"
)
# A server's listen call: ``app.listen(port``, ``new Koa().listen(8000`` (not a test's
# ``server.listen()``).
_LISTENS = re.compile(rb"[\w)]\.listen\(\s*[\w\"'`{]")


# A script's file argument (``./src/main.ts``), as a word of its own.
_SCRIPT_FILE = re.compile(r"(?<![\w./-])(?:\./)?([\w./-]+\.(?:[cm]?[jt]s))(?![\w./-])")
_LISTENING_ANY = tuple(
    f"{folder}{name}.{ext}"
    for folder in ("", "src/")
    for name in ("main", "server", "index", "app")
    for ext in ("ts", "mts", "js", "mjs", "cjs")
)


# A module's ES modules syntax: ``import x from 'y'``, ``import { a } from``, ``export``.
_ESM_SYNTAX = re.compile(
    rb"^\s*(?:import\s+[\w{*][^\n]*\bfrom\s|export\s+(?:default|const|function|class)\b)",
    re.M,
)


def _loaded_by_esm(
    script: str, package: dict, listed: dict[str, str], files: dict[str, bytes]
) -> str | None:
    """``node -r esm <entry> …`` for a start ``node <entry> …`` whose entry is written
    in ES modules syntax, in a CommonJS package listing esm (``listed``: its packages;
    the loader apps of before Node's own ES modules ran with, ``require =
    require("esm")(module)``); None for any other start."""
    if "esm" not in listed or package.get("type") == "module":
        return None
    command = simple_command(script)
    if command is None or len(command[1]) < 2 or command[1][0] != "node":
        return None
    env, words = command
    entry = posixpath.normpath(words[1])
    if words[1].startswith("-") or not entry.endswith(".js") or entry not in files:
        return None
    if not _ESM_SYNTAX.search(files[entry]):
        return None
    return " ".join([*map(shlex.quote, env), "node", "-r", "esm", *map(shlex.quote, words[1:])])


def _listening_in_place(script: str, files: dict[str, bytes]) -> tuple[str, str] | None:
    """``script`` with the source file it runs, which the upload lacks, replaced by the
    upload's one module of an entry's names that listens (:func:`_listening_module`'s
    names, TypeScript's too where the file was TypeScript: its runner runs either), and
    the note saying so; None where it has its file, or not one such module.
    adrianmdeiros's clean-node-fastify-drizzle-freight-api-fragment: ``"dev": "tsx watch
    ./src/main.ts"``, no src/main.ts; src/server.ts calls ``server.listen``: "Cannot find
    module 'src/main.ts'", then its tests ran as its start."""
    found = _SCRIPT_FILE.findall(script)
    missing = [f for f in found if posixpath.normpath(f) not in files]
    if len(found) != 1 or len(missing) != 1 or missing[0].startswith(_BUILT_DIRS):
        return None
    at = _SCRIPT_FILE.search(script)
    assert at is not None
    # The same file named from another folder (Foysal-BoyTech's Koa-exercise: ``nodemon
    # ../server/app.js`` beside its package.json's server/app.js, run from a folder of
    # its author's): the upload's one file its path ends with, where that one listens.
    tail = posixpath.normpath(missing[0]).split("/")
    tail = tail[next((i for i, part in enumerate(tail) if part != ".."), len(tail)) :]
    if len(tail) > 1:
        ending = "/".join(tail)
        same = [p for p in files if p == ending or p.endswith(f"/{ending}")]
        if len(same) == 1 and listens(files[same[0]]):
            moved = script[: at.start()] + same[0] + script[at.end() :]
            return moved, f"its file {missing[0]} is not in the upload: its {same[0]} instead"
    typescript = missing[0].endswith(("ts", "mts"))
    kinds = ("ts", "mts", "js", "mjs", "cjs") if typescript else ("js", "mjs", "cjs")
    # (outside its comments: a listen commented out serves nothing)
    listening = [n for n in _LISTENING_ANY if n.endswith(kinds) and listens(files.get(n, b""))]
    if len(listening) != 1:
        return None
    moved = script[: at.start()] + listening[0] + script[at.end() :]
    said = f"its file {missing[0]} is not in the upload: {listening[0]}, which listens, instead"
    return moved, said


def _exported_in_place(
    script: str, package: dict, files: dict[str, bytes]
) -> tuple[tuple[str, ...], str] | None:
    """The start serving the app a module exports (``exported_app_start``: its ``main``,
    else one of an entry's names) for a ``script`` running a file the upload lacks, where
    no module of it listens; and the note saying so. None otherwise. CrissyMichelle's
    ExpressInvoices: ``"start": "node server.js"``, no server.js (its app.js, its main,
    exports the app its tests call through supertest): "Cannot find module 'server.js'"."""
    found = _SCRIPT_FILE.findall(script)
    if len(found) != 1 or posixpath.normpath(found[0]) in files or found[0].startswith(_BUILT_DIRS):
        return None
    main = package.get("main")
    names = [posixpath.normpath(main)] if isinstance(main, str) else []
    names += [n for n in _LISTENING_ANY if n.endswith((".js", ".cjs"))]
    for module in dict.fromkeys(names):
        if module in files and (served := exported_app_start(f"node {module}", files)):
            return served, f"its file {found[0]} is not in the upload: the app {module} exports"
    return None


_BUILT_DIRS = ("dist/", "build/", "lib/", "out/", ".output/")
_NPM_RUNS = re.compile(r"(?:^|[\s;&|(])npm\s+run(?:-script)?\s+([\w:.-]+)")


def runs_missing(script: str, scripts: dict[str, str]) -> bool:
    """Whether ``script`` runs (``npm run X``) a script the package lacks: npm stops it
    there, "Missing script" (knite51's Restful-Api-Using-Express-Sequelize-Postgres:
    ``"start": "npm run build && node ./build/server.js"`` and no build script; its
    ``dev``, ``babel-watch server.js``, runs it)."""
    if re.search(r"\s(?:-w|--workspaces?|--prefix|-C)(?:[\s=]|$)", script):
        return False  # another package's script (a workspace's, another folder's)
    return any(name not in scripts for name in _NPM_RUNS.findall(script))


def _called(script: str, scripts: dict[str, str], files: dict[str, bytes]) -> str:
    """The script ``script`` runs by name and nothing else, its watcher left out
    (iloveyou11's node-express-ts-api: ``"start": "nodemon -e ts -w ./ -x npm run dev"``,
    ``"dev": "tsc && node dist/app.js"``, whose tsc, run at each start, failed the start on
    type errors of newer type declarations where its build is transpiled); ``script``
    itself for any other, or where the script named has a ``pre`` script."""
    once = without_watcher(
        script, ts_runner(files), nodemon_settings(files, read_package(files) or {})
    )
    run = _RUN_SCRIPT.match(once.strip())
    if run is None or run.group("env") or scripts.get(f"pre{run.group('name')}"):
        return script
    return scripts.get(run.group("name"), script)


def _build_first(script: str) -> tuple[str, str] | None:
    """(its build, the rest) of a start script that builds before it starts the app
    (:data:`_BUILD_FIRST`, joined by ``&&`` only); None for any other."""
    if re.search(r"\|\||[;|<>`]", script):
        return None
    parts = [part.strip() for part in script.split("&&")]
    built = 0
    while built < len(parts) - 1 and _BUILD_FIRST.match(parts[built]):
        built += 1
    if not built:
        return None
    return " && ".join(parts[:built]), " && ".join(parts[built:])


# A script that checks the code rather than makes it (a linter, a formatter, the tests)
# or watches it (which never returns), by its name's words; and such tools run directly.
_CHECKS = re.compile(
    r"^(?:lint|eslint|format|prettier|test|tests|e2e|coverage|typecheck|type-check)(?:$|[:_-])"
    r"|(?:^|[:_-])watch(?:$|[:_-])"
)
# A check's tool, or a runtime's own test runner (``bun test``, ``node --test``: jakswa's
# bun-hono-ssr builds with ``bun run typecheck && bun test && bun run app:build``).
_CHECK_TOOLS = re.compile(
    r"^(?:npx\s+)?(?:eslint|prettier|jest|mocha|vitest|tslint)\b"
    r"|^(?:bun|deno)\s+test\b|^node\s+--test\b|^(?:npm|yarn|pnpm)\s+(?:run\s+)?test$"
)
# A terminal's housekeeping before the app (``clear && npx kill-port 3000 && nodemon
# app.js``, Rostmaster's ExpressHW): ``clear`` fails with no terminal ("TERM environment
# variable not set", exit 1) and npx fetches kill-port from a registry a preview cannot
# reach; a preview's port is its own, freed by the service.
_HOUSEKEEPING = re.compile(
    r"^(?:clear|cls|reset|(?:npx\s+(?:-y\s+|--yes\s+)?)?(?:kill-port|fkill)\b.*|fuser\s+-k\b.*)$"
)
_RUN_SCRIPT = re.compile(
    r"^(?P<env>(?:[\w-]+=\S*\s+|cross-env\s+)*)"
    r"(?:npm\s+run|yarn(?:\s+run)?|pnpm(?:\s+run)?|bun\s+run)\s+(?P<name>[\w:.-]+)$"
)
_RUN_ALL = re.compile(
    r"^(?P<tool>(?:npx\s+)?(?:npm-run-all|run-s)(?:\s+-[\w-]+)*)\s+(?P<names>[\w:.\s-]+)$"
)


def _without_checks(script: str, scripts: dict[str, str]) -> str | None:
    """The build script ``script`` without the checks it runs before its compile (each a
    part joined by ``&&``: ``npm run lint``, ``npm-run-all lint format test clean``'s
    names, ``eslint src``), nor a watcher (``npm run set-watch``); None where it runs
    none, or nothing else. IvanOrsh's ts-express-sequelize-auth-example builds with
    ``npm-run-all lint format test clean && tsc``: its lint failed the build ("lint"
    exited with 1) before tsc, and its tests want a database of their own."""
    parts = [p.strip() for p in script.split("&&")]
    if (len(parts) < 2 and not _RUN_ALL.match(script.strip())) or "||" in script:
        return None
    kept: list[str] = []
    for part in parts:
        if _CHECK_TOOLS.match(part) or _HOUSEKEEPING.match(part):
            continue
        if (run := _RUN_SCRIPT.match(part)) and _CHECKS.search(run.group("name")):
            continue
        if run_all := _RUN_ALL.match(part):
            names = [n for n in run_all.group("names").split() if not _CHECKS.search(n)]
            if names:
                kept.append(f"{run_all.group('tool')} {' '.join(names)}")
            continue
        kept.append(part)
    if not kept or kept == parts:
        return None
    return " && ".join(kept)


# The command nodemon runs, quoted: ``--exec "yarn lint && ts-node src/main.ts"``.
_NODEMON_EXEC = re.compile(r"""\bnodemon\b[^&|;]*?\s(?:--exec|-x)\s+(["'])(.+?)\1""")


def without_checks(script: str, scripts: dict[str, str]) -> str | None:
    """The start script ``script`` without the checks it runs before the app, its own
    (:func:`_without_checks`) and those of the command its nodemon runs
    (:func:`_exec_without_checks`); None where it runs none."""
    inner = _exec_without_checks(script, scripts)
    outer = _without_checks(inner or script, scripts)
    return outer or inner


def _exec_without_checks(script: str, scripts: dict[str, str]) -> str | None:
    """The dev script ``script`` with the checks left out of the command its nodemon runs
    (:func:`_without_checks`); None where it runs none. unfetteredman2020's koa-service:
    ``nodemon --ext js,ts --exec "yarn lint && ts-node --files src/main.ts"``, its lint
    run before every start (and yarn not here: "exec not found")."""
    found = _NODEMON_EXEC.search(script)
    if found is None or (inner := _without_checks(found.group(2), scripts)) is None:
        return None
    return script[: found.start(2)] + inner + script[found.end(2) :]


# tsc's watch mode as the build: it never ends, and the launch waited out its time on it
# (Profanor's express-crud-application: "build": "tsc --watch", its start node ./bin/www
# requiring ../dist/app, which tsc writes).
_TSC_WATCH = re.compile(r"(\btsc\b[^&|;]*?)\s+(?:--watch|-w)(?=\s|$)")


def _serves(script: str, files: dict[str, bytes]) -> bool:
    """Whether a build script runs a server rather than a build: its last command node on
    a file of the upload that listens (xuyangyang2019's jubo-chat-koa2: ``"build": "set
    NODE_ENV=production&& node --use_strict app.js --prod"``, its start's app.js, which
    then served inside the set-up step until the launch's time ran out)."""
    last = re.split(r"&&|;", script)[-1].strip()
    found = NODE_FILE.match(last)
    path = posixpath.normpath(found.group(2)) if found else ""
    return path in files and listens(files[path])


def _without_tsc_watch(script: str) -> str | None:
    """The build script ``script`` with tsc's watch flag left out; None where it has none."""
    once = _TSC_WATCH.sub(r"\1", script)
    return once if once != script else None


def _shell(command: str) -> tuple[str, ...]:
    return ("sh", "-c", _escape(BIN_FIRST_ON_PATH + command))


def _entry(
    entry: str,
    setup: tuple[tuple[str, ...], ...],
    tools: tuple[str, ...],
    ts_node: tuple[tuple[str, ...], tuple[str, ...]],  # ts_node_command's
    files: dict[str, bytes],
    runner: str = "tsx",
    note: str | None = None,
) -> NodeStart:
    """The start of the app's entry module: by node, tsx or ts-node; a module that exports
    its app and listens nowhere (marialelopez's servidores-express-laboratorio, tested
    through supertest, its ``app.listen`` commented out: exit 0, nothing served) given to
    an HTTP server on $PORT, as a start script running it is (``exported_app_start``)."""
    server = _server_of(entry, files)
    if server is not None:  # (the caller's note, if any, spoke of the entry)
        said = f"{entry} exports its app and listens nowhere: {server}, which serves it"
        return NodeStart(("node", _escape(server)), setup, (), said)
    served = exported_app_start(f"node {entry}", files)
    if served is not None:
        said = f"{entry} exports its app and listens nowhere: served"
        return NodeStart(served, setup, (), f"{note}; {said}" if note else said)
    command, added = _module_command(entry, tools, ts_node, runner)
    return NodeStart(tuple(map(_escape, command)), setup, added, note)


def _module_command(
    module: str,
    tools: tuple[str, ...],
    ts_node: tuple[tuple[str, ...], tuple[str, ...]],  # ts_node_command's
    runner: str,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the command running ``module``, the packages the build adds for it): node, tsx or
    ts-node (``runner``'s choice for TypeScript)."""
    if module.endswith(_TS) and runner == "ts-node":
        command, added = ts_node
        return (*command, module), added
    if module.endswith(_TS):
        return ("node_modules/.bin/tsx", module), tools
    return ("node", module), ()


def _server_of(entry: str, files: dict[str, bytes]) -> str | None:
    """The one other module of the app's that listens and requires ``entry``, where
    ``entry`` (a JavaScript module) listens nowhere itself: the app's server beside its
    app module (liyang0612's koa2-graphql: ``"main": "app.js"``, which exports its Koa app,
    and service.js, ``http.createServer(app.callback()).listen(4000)``; ``node app.js``
    ran 30 s and served nothing). None elsewhere."""
    if not entry.endswith((".js", ".cjs")) or listens(files.get(entry, b"")):
        return None
    stem = posixpath.splitext(posixpath.basename(entry))[0]
    requires = re.compile(
        rb"""(?:require\(\s*|from\s+)["']\.{1,2}/(?:[\w./-]*/)?"""
        + re.escape(stem.encode())
        + rb"""(?:\.c?js)?["']"""
    )
    servers = [
        path
        for path, data in files.items()
        if path != entry
        and path.endswith((".js", ".cjs"))
        and posixpath.dirname(path) == posixpath.dirname(entry)
        and not _NOT_AN_ENTRY.search(path)
        and _LISTENS.search(data)
        and requires.search(data)
    ]
    return servers[0] if len(servers) == 1 else None


def _ecosystem_app(
    ecosystem: tuple[str, tuple[str, ...], tuple[str, ...], str],
    setup: tuple[tuple[str, ...], ...],
    tools: tuple[str, ...],
    assignments: str = "",
) -> NodeStart:
    """The start of a pm2 ecosystem file's app (``ecosystem``: fallbacks.ecosystem_start),
    the compilers its other apps run in watch mode run once first; ``assignments``: the
    environment the script handing pm2 the file gives it (``env TZ='Asia/Tokyo'``)."""
    command, steps, added, note = ecosystem
    built = (*setup, _shell(" && ".join(steps))) if steps else setup
    runs_tsx = command.startswith("node_modules/.bin/tsx")
    line = f"{assignments} {command}".strip()
    return NodeStart(_shell(line), built, (*added, *(tools if runs_tsx else ())), note)


def _compiled_then_run(
    split: tuple[str, str],
    setup: tuple[tuple[str, ...], ...],
    tools: tuple[str, ...],
    name: str,
    why: str = "",
) -> NodeStart:
    """The ``name`` script's compilers (watching beside the app) run once as a set-up
    step, then its app once (``split``: :func:`.devscript.concurrent_compile_then_run`)."""
    compile_once, run_once = split
    said = f"the {name} script's compiler runs once first ({compile_once}), then {run_once}"
    needs_tsx = re.search(r"(?:^|\s)tsx\s", run_once + " ") is not None
    return NodeStart(
        _shell(run_once),
        (*setup, _shell(compile_once)),
        tools if needs_tsx else (),
        f"{why}: {said}" if why else said,
    )


# A watcher running the app, restarting it on a change of its files (and, nodemon, waiting
# for one where it crashed): nodemon, ts-node-dev, node-dev, tsx watch, node --watch, bun's.
_WATCHER = re.compile(
    r"(?:^|[\s;&|(])(?:(?:\./)?node_modules/\.bin/)?(?:nodemon|ts-node-dev|tsnd|node-dev)(?:\s|$)"
    r"|\btsx\s+watch\b|\bnode\s+(?:[^;&|]*\s)?--watch\b|\bbun\s+(?:[^;&|]*\s)?--(?:hot|watch)\b"
)


def _dev(
    script: str,
    setup: tuple[tuple[str, ...], ...],
    tools: tuple[str, ...],
    runner: str = "tsx",
    name: str = "dev",
    why: str = "",
    nodemon: dict[str, str] | None = None,
    esm: bool | None = None,
) -> NodeStart:
    """The ``name`` script, its watcher off where that can be said of its tool (a bare
    ``nodemon``'s command read as ``nodemon`` says: :func:`.devscript.nodemon_settings`);
    given ``esm`` (whether its modules are ES modules), a tsx line through ts-node where
    that is its ``runner`` (:func:`.ownts.with_metadata`)."""
    rewritten = without_watcher(script, runner, nodemon)
    if esm is not None and runner == "ts-node":
        rewritten = with_metadata(rewritten, esm) or rewritten
    needs_tsx = re.search(r"(?:^|\s)tsx\s", rewritten + " ") is not None
    if rewritten == script and not needs_tsx and not why:
        return NodeStart(("npm", "run", name), setup)
    shell = BIN_FIRST_ON_PATH + rewritten
    how = "in the foreground" if in_foreground(script, runner) != script else "without its watcher"
    note = f"the {name} script {how}: {rewritten}" if rewritten != script else None
    if why:
        note = f"{why}: the {name} script" + (
            f" {how}: {rewritten}" if rewritten != script else f": {script}"
        )
    return NodeStart(("sh", "-c", _escape(shell)), setup, tools if needs_tsx else (), note)


def runtime_ts_glob(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, str] | None:
    """(the glob, its file) where the app's ORM is told to load ``.ts`` files at run
    time (see the module doc); None when it is not."""
    if not any(orm in listed for orm in _ORMS):
        return None
    for path in sorted(files):
        source = path.endswith((".ts", ".js", ".mjs", ".cjs")) and not path.endswith(".d.ts")
        if _TESTS.search(path) or _TOOL_CONFIGS.search(path):
            continue
        if not (source or _ORM_FILES.search(path)):
            continue
        if len(files[path]) > 512 * 1024:
            continue
        if found := _TS_GLOB.search(files[path]):
            glob = (found.group(1) or found.group(2)).decode("utf-8", "replace")
            return glob, path
        for mixed in _MIXED_GLOB.finditer(files[path]):
            glob = mixed.group(1).decode("utf-8", "replace")
            base = glob.split("*")[0].removeprefix("./")
            under = [p for p in files if p.startswith(base) and not _TESTS.search(p)]
            if any(p.endswith(".ts") for p in under) and not any(p.endswith(".js") for p in under):
                return glob, path
    return None


def _runs_ts(scripts: dict[str, str], name: str, depth: int = 0) -> bool:
    """Whether the script ``name`` (through the ``npm run`` scripts it calls) runs
    TypeScript itself (ts-node, tsx …)."""
    script = scripts.get(name, "")
    if _TS_RUNNERS.search(f" {script} ") or re.search(r"\.ts\b", script):
        return True
    called = re.findall(r"(?:npm|yarn|pnpm)\s+(?:run\s+)?([\w:.-]+)", script)
    return depth < 4 and any(_runs_ts(scripts, c, depth + 1) for c in called if c != name)


def _ts_start(
    files: dict[str, bytes],
    package: dict,
    scripts: dict[str, str],
    listed: dict[str, str],
    glob: tuple[str, str],
) -> NodeStart | None:
    """How an app whose ORM loads ``.ts`` files runs: as its development script runs
    it, else its main's TypeScript source (see the module doc); None: neither found."""
    runner = ts_runner(files)
    tools = () if "tsx" in listed or runner == "ts-node" else (TSX,)
    why = f"its ORM loads {glob[0]} ({glob[1]}) at run time, which the built JavaScript cannot"
    built: list[str] = []  # the built entries its scripts run (node dist/main)
    for name, script in scripts.items():
        if not _TS_SCRIPTS.search(name) or re.search(r"build|test|lint|migrat|seed", name):
            continue
        once = without_watcher(script, runner)
        if _TS_RUNNERS.search(f" {once} ") and re.search(r"\S+\.ts\b", once):
            esm = package.get("type") == "module"
            return _dev(script, (), tools, runner, name, why, esm=esm)
        entry = re.fullmatch(r"node\s+(?:\./)?(\S+?)(?:\.js)?", once.strip())
        registers = entry is not None and _REGISTERS_TS.search(files.get(f"{entry[1]}.js", b""))
        if registers:  # node index.js, which registers ts-node itself
            argv = ("npm", "start", "--silent") if name == "start" else ("npm", "run", name)
            note = f"{why}: the {name} script ({script}), whose entry loads TypeScript itself"
            return NodeStart(argv, (), (), note)
        built += [entry[1]] if entry is not None else []
    # Its main's source, else the source of the built entry a script runs: a NestJS app
    # has no main, its start:prod runs node dist/main (JuniorZilles' todo-list-nestjs-typeorm,
    # whose .env.example gives TYPEORM_MIGRATIONS=src/migrations/**/*.ts).
    main = package.get("main")
    mains = [main, *built] if isinstance(main, str) else built
    source = next((s for m in mains if (s := ts_source(m, files)) is not None), None)
    if source is None:
        return None
    note = f"{why}: running {source} with {runner}"
    return _entry(source, (), tools, ts_node_command(files, listed), files, runner, note)


def node_hint(files: dict[str, bytes]) -> str:
    """The example command of ``nothing_to_run`` for a Node upload."""
    package = read_package(files) or {}
    scripts = sorted(package_scripts(package))
    if scripts:
        return f'["npm", "run", "{scripts[0]}"]'
    js = sorted(p for p in files if p.endswith((".js", ".mjs", ".ts")) and "/" not in p)
    return f'["node", "{js[0] if js else "server.js"}"]'
