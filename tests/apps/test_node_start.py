"""How a Node app starts (apps.node): its start command read from its scripts,
TypeScript run by the runner it needs, its build without the checks before it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import trio

from preview.apps.detect import detect
from preview.apps.node import node_start
from preview.apps.node.devscript import nodemon_config_file, without_watcher
from preview.apps.node.fallbacks import SERVES_HANDLER, adapter_export
from preview.apps.node.nodeapp import TSX
from preview.apps.written import NODE_PRELOADS

from ..launching import app_files

PROCESS_WAIT = 10


def _encoded(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


async def test_a_dev_scripts_assignment_of_a_glob_stays_an_assignment(tmp_path: Path) -> None:
    """mkosir's typeorm-express-typescript: ``debug=* NODE_PATH=./src ts-node-dev …`` was
    written back as ``'debug=*' …``, which sh runs as a command: "debug=*: not found"."""
    script = "debug=* NODE_PATH=./src ts-node-dev --respawn ./src/index.ts"
    rewritten = without_watcher(script, runner="ts-node")
    runner = tmp_path / "ts-node"  # stands in for the runner: says what it was given
    runner.write_text('#!/bin/sh\nprintf "%s|%s|%s" "$debug" "$NODE_PATH" "$*"\n')
    runner.chmod(runner.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "debug=x").touch()  # a file a glob of the quoted whole would match
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    with trio.fail_after(PROCESS_WAIT):
        done = await trio.run_process(
            ["sh", "-c", rewritten], cwd=tmp_path, env=env, capture_stdout=True, check=False
        )
    assert done.returncode == 0, rewritten
    assert done.stdout.decode() == "*|./src|--transpile-only ./src/index.ts"


async def test_a_watchers_preloaded_modules_are_kept_when_it_runs_once(tmp_path: Path) -> None:
    """rubensdeoliveira's express-crud-with-authorization: ``ts-node-dev -r
    tsconfig-paths/register --inspect … src/…/server.ts`` ran as ``ts-node … server.ts``,
    which never registered its mapped imports: "Cannot find module '@config/upload'".
    What the watcher's ``-r``/``--require`` preloads, the one-shot runner preloads too."""
    script = "nodemon -r ./register.js --inspect --require=./second.js --watch src server.js"
    rewritten = without_watcher(script)
    assert rewritten == "node -r ./register.js -r ./second.js server.js"
    (tmp_path / "register.js").write_text("globalThis.registered = ['paths'];\n")
    (tmp_path / "second.js").write_text("globalThis.registered.push('config');\n")
    (tmp_path / "server.js").write_text("process.stdout.write(globalThis.registered.join(','));\n")
    with trio.fail_after(PROCESS_WAIT):
        done = await trio.run_process(
            ["sh", "-c", rewritten], cwd=tmp_path, capture_stdout=True, check=False
        )
    assert done.returncode == 0, rewritten
    assert done.stdout.decode() == "paths,config"
    ts = without_watcher("ts-node-dev -r tsconfig-paths/register src/a.ts", runner="ts-node")
    assert ts == "ts-node --transpile-only -r tsconfig-paths/register src/a.ts"


def test_ts_node_registers_tsconfig_paths_where_the_tsconfig_maps_them() -> None:
    files = _encoded("ts_node_tsconfig_paths")
    start = node_start(files)
    assert start is not None
    assert start.argv == (
        "node_modules/.bin/ts-node",
        "--transpile-only",
        "-r",
        "tsconfig-paths/register",
        "src/server.ts",
    )
    assert start.tools == ("tsconfig-paths@^4",)  # the app does not list it
    listed = files["package.json"].replace(b'"ts-node"', b'"tsconfig-paths": "4.2.0", "ts-node"')
    assert node_start({**files, "package.json": listed}).tools == ()  # type: ignore[union-attr]
    # No mapped paths: ts-node as before.
    plain = files["tsconfig.json"].replace(b'"paths": { "@/*": ["*"] }', b'"strict": false')
    argv = node_start({**files, "tsconfig.json": plain}).argv  # type: ignore[union-attr]
    assert argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/server.ts")
    # tsc --init's template: what it leaves off is commented out, not asked for.
    template = (
        b'{\n  "compilerOptions": {\n    "target": "es2016",\n'
        b'    // "emitDecoratorMetadata": true,  /* Emit design-type metadata. */\n'
        b'    // "paths": { "@/*": ["*"] },\n  },\n}\n'
    )
    argv = node_start({**files, "tsconfig.json": template}).argv  # type: ignore[union-attr]
    assert argv == ("node_modules/.bin/tsx", "src/server.ts")
    on = template.replace(b'// "emitDecoratorMetadata"', b'"emitDecoratorMetadata"')
    argv = node_start({**files, "tsconfig.json": on}).argv  # type: ignore[union-attr]
    assert argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/server.ts")


def test_a_build_runs_its_compile_without_the_checks_before_it() -> None:
    """IvanOrsh's ts-express-sequelize-auth-example builds with ``npm-run-all lint
    format test clean && tsc``: its lint failed the set-up step ("lint" exited with 1)
    before tsc ran, and its tests want a database of their own. A build's checks (lint,
    format, tests) and a watcher that never returns gate a commit, not a preview."""
    scripts = {
        "clean": "rimraf ./build",
        "lint": "eslint src",
        "build": "npm-run-all lint format test clean && tsc",
        "start": "NODE_ENV=development node build/server.js",
    }
    package = {"scripts": scripts, "devDependencies": {"typescript": "^5", "npm-run-all": "^4"}}
    files = {"package.json": json.dumps(package).encode(), "src/server.ts": b""}
    found = node_start(files)
    assert found is not None
    assert found.setup == (
        ("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; npm-run-all clean && tsc'),
    )
    # The checks chained one by one, and a watcher, likewise; a build of checks alone,
    # or of none, is run as it is.
    scripts["build"] = (
        "cross-env NODE_ENV=development npm run clean && npm run lint && eslint . && "
        "gulp compile && npm run set-watch"
    )
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.setup[0][2].endswith(
        "cross-env NODE_ENV=development npm run clean && gulp compile"
    )
    for build in ("npm run lint && npm run test", "rimraf build && tsc"):
        scripts["build"] = build
        found = node_start({**files, "package.json": json.dumps(package).encode()})
        assert found is not None and found.setup == (("npm", "run", "build"),)
    # Bun's (jakswa's bun-hono-ssr: its tests refused the database a preview gives).
    scripts["build"] = (
        "bun run db:types && bun run typecheck && bun test && node --test && bun run app:build"
    )
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.setup[0][2].endswith(
        "bun run db:types && bun run app:build"
    ), found.setup


def test_a_start_running_typescript_with_node_itself_runs_with_tsx() -> None:
    """marcoturi's fastify-boilerplate starts with ``node --env-file=.env --import
    ./src/instrumentation.ts ./src/index.ts`` (Node 24 strips the types itself): Node 20
    refused the .ts file (ERR_UNKNOWN_FILE_EXTENSION). tsx runs the same line."""
    scripts = {
        "start": "node --env-file=.env --watch src/index.ts | pino-pretty",
        "start:prod": "node --env-file=.env --import ./src/instrumentation.ts ./src/index.ts",
    }
    files = {
        "package.json": json.dumps({"type": "module", "scripts": scripts}).encode(),
        "src/index.ts": b"",
        "src/instrumentation.ts": b"",
    }
    found = detect(files)
    line = "tsx --env-file=.env --import ./src/instrumentation.ts ./src/index.ts"
    assert found.argv == ("sh", "-c", f'export PATH="$PWD/node_modules/.bin:$PATH"; {line}')
    assert found.node_tools == (TSX,)
    assert found.notes[0].endswith(f"with tsx: {line}")
    # Plain JavaScript: as it was.
    scripts["start:prod"] = "node --env-file=.env ./dist/index.js"
    files["package.json"] = json.dumps({"type": "module", "scripts": scripts}).encode()
    assert detect(files).argv == ("npm", "run", "start:prod")


def test_a_watcher_the_start_reaches_and_the_app_does_not_list_is_added() -> None:
    """lc-brito's node-express-api: ``"start": "npm run start_api"``, which runs ``nodemon
    app.mjs | pino-pretty``; nodemon is in no dependency list (its Dockerfile installs it
    globally): "sh: 1: nodemon: not found". The build adds it; not where only a script the
    start never runs calls it, nor where the app lists it."""
    files = _encoded("node_start_unlisted_watcher")
    start = node_start(files)
    assert start is not None and start.argv == ("npm", "start", "--silent")
    assert start.tools == ("nodemon@^3",)
    package = json.loads(files["package.json"])
    package["scripts"]["start"] = "node app.mjs"  # start_cron's nodemon is never run
    alone = node_start({**files, "package.json": json.dumps(package).encode()})
    assert alone is not None and alone.tools == ()
    package["scripts"]["start"] = "npm run start_api"
    package["devDependencies"] = {"nodemon": "^2.0.0"}
    listed = node_start({**files, "package.json": json.dumps(package).encode()})
    assert listed is not None and listed.tools == ()


def test_a_watcher_the_start_calls_by_its_path_in_node_modules_is_added() -> None:
    """tsurumure's koa-restful-api: ``"start": "./node_modules/.bin/nodemon bin/www"``,
    nodemon in no dependency list: "./node_modules/.bin/nodemon: not found", exit 127. A
    watcher called by its path in node_modules/.bin is added as one called by its name."""
    package = {
        "scripts": {"start": "./node_modules/.bin/nodemon bin/www"},
        "dependencies": {"koa": "^2.6.2"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "bin/www": b"require('../app').listen(process.env.PORT);\n",
        "app.js": b"const Koa = require('koa');\nmodule.exports = new Koa();\n",
    }
    start = node_start(files)
    assert start is not None and start.tools == ("nodemon@^3",)
    package["scripts"]["start"] = "node_modules/.bin/ts-node bin/www"
    start = node_start({**files, "package.json": json.dumps(package).encode()})
    assert start is not None and start.tools == ("ts-node@^10", "typescript@^5")
    # node-supervisor, an older watcher (wangYalun's myExpress: ``supervisor index.js``).
    package["scripts"]["start"] = "supervisor bin/www"
    start = node_start({**files, "package.json": json.dumps(package).encode()})
    assert start is not None and start.tools == ("supervisor@^0.12",)


def test_wrangler_the_start_serves_a_worker_with_and_the_app_does_not_list_is_added() -> None:
    """nash1111's hono-slack: ``"dev": "wrangler dev"`` (its wrangler.toml's main
    src/index.ts), wrangler in no dependency list: exit 127. Added; not where listed."""
    package = {"scripts": {"dev": "wrangler dev"}, "dependencies": {"hono": "^4"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "wrangler.toml": b'name = "x"\nmain = "src/index.ts"\n',
        "src/index.ts": b"import { Hono } from 'hono'\nexport default new Hono()\n",
    }
    start = node_start(files)
    assert start is not None and start.tools == ("wrangler@^4",)
    package["devDependencies"] = {"wrangler": "^3"}
    start = node_start({**files, "package.json": json.dumps(package).encode()})
    assert start is not None and start.tools == ()


def test_a_typescript_runner_the_start_calls_and_the_app_does_not_list_is_added() -> None:
    """nicole-reed's typescript-express-api: ``"start": "ts-node index.ts"``, neither
    ts-node nor typescript in its dependencies (its author's are global): exit 127. The
    build adds both; only the runner where the app lists the compiler."""
    package = {"scripts": {"start": "ts-node index.ts"}, "dependencies": {"express": "^4"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "index.ts": b"import express from 'express';\nexpress().listen(process.env.PORT);\n",
    }
    start = node_start(files)
    assert start is not None and start.tools == ("ts-node@^10", "typescript@^5")
    package["devDependencies"] = {"typescript": "^4.9.5"}
    listed = node_start({**files, "package.json": json.dumps(package).encode()})
    assert listed is not None and listed.tools == ("ts-node@^10",)
    # ts-node-dev by npx (begalhalus' Typescript-with-Fastify: npx would fetch it from a
    # registry the sandbox does not reach; no answer within the start's time).
    package["scripts"]["start"] = "npx ts-node-dev --respawn --transpile-only ./index.ts"
    npx = node_start({**files, "package.json": json.dumps(package).encode()})
    assert npx is not None and "ts-node-dev@^2" in npx.tools, npx


def test_typescript_the_start_compiles_with_and_the_app_does_not_list_is_added() -> None:
    """iloveyou11's node-express-ts-api: ``"dev": "tsc && node dist/app.js"``, run by its
    start's nodemon, typescript in no dependency list (its author's tsc is global): "tsc:
    not found", exit 127. The build adds the compiler; not where the app lists it, nor
    where nothing the start reaches compiles."""
    package = {
        "scripts": {"start": "nodemon -x npm run dev", "dev": "tsc && node dist/app.js"},
        "dependencies": {"express": "^4"},
        "devDependencies": {"nodemon": "^3", "@types/express": "^4"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b'{"compilerOptions": {"outDir": "dist"}}',
        "app.ts": b"import express from 'express';\nexpress().listen(process.env.PORT);\n",
    }
    start = node_start(files)
    assert start is not None and "typescript@^5" in start.tools, start
    package["devDependencies"]["typescript"] = "^4.9.5"
    listed = node_start({**files, "package.json": json.dumps(package).encode()})
    assert listed is not None and "typescript@^5" not in listed.tools
    package["devDependencies"].pop("typescript")
    # (its output committed: what the start runs is there, nothing need compile it)
    package["scripts"] = {"start": "node dist/app.js", "check": "tsc --noEmit"}
    built = {**files, "dist/app.js": b"", "package.json": json.dumps(package).encode()}
    unreached = node_start(built)
    assert unreached is not None and "typescript@^5" not in unreached.tools


def test_the_build_of_the_script_a_start_runs_by_name_is_a_set_up_step() -> None:
    """iloveyou11's node-express-ts-api: ``"start": "nodemon -e ts -w ./ -x npm run dev"``,
    ``"dev": "tsc && node dist/app.js"``: its tsc ran in the start, type-checked, and
    failed it on newer type declarations' errors (exit 2). The script the start runs by
    name (its watcher left out) is split as a start script is: its build a set-up step
    (transpiled), then its run; not where the script named has a pre script."""
    package = {
        "scripts": {
            "start": "nodemon -e ts -w ./ -x npm run dev",
            "dev": "tsc && node dist/app.js",
        },
        "dependencies": {"express": "^4"},
        "devDependencies": {"nodemon": "^3", "typescript": "^5"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b'{"compilerOptions": {"outDir": "dist"}}',
        "app.ts": b"import express from 'express';\nexpress().listen(process.env.PORT);\n",
    }
    start = node_start(files)
    assert start is not None and start.argv[-1].endswith("; node dist/app.js"), start
    assert [step[-1].rpartition("; ")[2] for step in start.setup] == ["tsc"]
    package["scripts"]["predev"] = "echo checking"
    kept = node_start({**files, "package.json": json.dumps(package).encode()})
    assert kept is not None and kept.argv == ("npm", "start", "--silent")


def test_package_json_nodemon_settings_are_written_where_nodemon_reads_them() -> None:
    """maykon's meals-tracker-node-koa-app: ``"start": "npm run dev"``, ``"dev": "nodemon"``,
    its ``exec`` in package.json's ``nodemonConfig``, which nodemon skips in its HOME (a
    preview's own folder): it ran the start script instead, which ran nodemon again, until
    the process limit. Its settings are written to nodemon.json, which it reads there."""
    files = _encoded("node_nodemon_package_config")
    written = nodemon_config_file(files)
    assert written is not None
    assert json.loads(written) == json.loads(files["package.json"])["nodemonConfig"]
    assert nodemon_config_file({**files, "nodemon.json": b"{}"}) is None  # its own, kept
    package = json.loads(files["package.json"])
    package["scripts"] = {"start": "node server.js"}  # nothing runs nodemon
    assert nodemon_config_file({**files, "package.json": json.dumps(package).encode()}) is None


def test_a_start_running_ts_node_runs_it_without_its_type_check() -> None:
    """darthvaderovych's koa-ts-typeorm: ``"start": "ts-node src/server.ts"`` type-checked
    the whole program at each start and did not answer within 30 s on a loaded machine;
    8696's koa-app likewise behind nodemon's ``--exec 'cross-env … ts-node ./src/app.ts'``.
    The type check is the build's: ts-node runs with --transpile-only."""
    files = _encoded("node_ts_node_start")
    start = node_start(files)
    assert start is not None and start.argv[:2] == ("sh", "-c")
    assert start.argv[2].endswith("; ts-node --transpile-only src/server.ts"), start.argv
    assert start.tools == ()
    assert start.setup == ()  # it runs its sources: no build output of its (8696's koa-app)
    package = json.loads(files["package.json"])
    package["scripts"]["start"] = "ts-node -T src/server.ts"  # already off: run as it is
    kept = node_start({**files, "package.json": json.dumps(package).encode()})
    assert kept is not None and kept.argv == ("npm", "start", "--silent")
    script = "nodemon --ext ts --exec 'cross-env NODE_ENV=development ts-node ./src/app.ts'"
    assert without_watcher(script) == (
        "cross-env NODE_ENV=development ts-node --transpile-only ./src/app.ts"
    )


def test_a_dev_script_starting_its_compose_services_first_runs_the_app_alone() -> None:
    # BGZStephen's coding-with-stephen-node-express-postgres-api: "docker-compose up -d &&
    # nodemon", nodemon.json's exec the app: "docker-compose: not found" before.
    nodemon = {"exec": "node ./src/app/index.js"}
    assert without_watcher("docker-compose up -d && nodemon", nodemon=nodemon) == (
        "node ./src/app/index.js"
    )
    assert without_watcher("docker compose -f dev.yml up -d db; nodemon app.js") == "node app.js"
    assert without_watcher("docker start pg && tsx watch src/index.ts") == "tsx src/index.ts"
    # Compose alone, or after the app: left as it is.
    assert without_watcher("docker-compose up") == "docker-compose up"
    assert without_watcher("nodemon app.js && docker-compose up") == (
        "nodemon app.js && docker-compose up"
    )


def test_a_start_building_first_then_handing_the_app_to_pm2_runs_it_in_the_foreground() -> None:
    """sanket9918's TS-sequelize-express: ``"start:prod": "yarn build && NODE_ENV=production
    pm2 start ./dist/index.js"``, pm2 not listed: its build ran as a set-up step, then
    "pm2: not found" (exit 127), twice, before its dev script served. The build stays a
    step, the entry runs in the foreground with the script's variable."""
    scripts = {
        "start:dev": "ts-node-dev index.ts",
        "build": "tsc",
        "start:prod": "yarn build && NODE_ENV=production pm2 start ./dist/index.js --name api",
    }
    package = {"scripts": scripts, "dependencies": {"express": "^4"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "index.ts": b"import express from 'express';\nexpress().listen(3000);\n",
        "tsconfig.json": b"{}",
    }
    found = detect(files)
    assert found is not None
    assert found.argv[-1].endswith("; NODE_ENV=production node ./dist/index.js"), found.argv
    assert found.setup[-1][-1].endswith("; yarn build")


def test_presets_a_babel_config_names_and_the_app_does_not_list_are_added() -> None:
    """hsarb's postgres-express-boilerplate: ``nodemon --exec babel-node bin/start.js``,
    its .babelrc naming ``@babel/preset-flow``, which it does not list (its core a 7.0
    beta): "Cannot find module '@babel/preset-flow'". Added, of the core's own beta; of
    Babel 7 where the core is a release; none where nothing runs Babel."""
    babelrc = b'{"presets": [["@babel/preset-env", {}], "@babel/preset-flow"]}'
    package = {
        "scripts": {"start": "nodemon --exec babel-node --harmony bin/start.js"},
        "devDependencies": {"@babel/core": "^7.0.0-beta.40", "@babel/preset-env": "^7"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        ".babelrc": babelrc,
        "bin/start.js": b"require('express')().listen(process.env.PORT);\n",
    }
    found = detect(files)
    assert found is not None and "@babel/preset-flow@7.0.0-beta.40" in found.node_tools
    assert not any(t.startswith("@babel/preset-env") for t in found.node_tools)
    package["devDependencies"]["@babel/core"] = "^7.12.0"
    found = detect({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and "@babel/preset-flow@^7" in found.node_tools
    package["scripts"]["start"] = "node bin/start.js"
    found = detect({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and not any("preset-flow" in t for t in found.node_tools)


def test_a_start_running_unbuilt_output_without_a_tsconfig_has_tsc_given_its_source() -> None:
    """shabith's typescript-node-api: ``"start": "node dist/index.js"``, src/index.ts, no
    build script and no tsconfig (its .gitignore leaves it out): "Cannot find module
    'dist/index.js'". tsc compiles the source into the directory the start runs from."""
    package = {"scripts": {"start": "node dist/index.js"}, "devDependencies": {"typescript": "^2"}}
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b"", "src/App.ts": b""}
    found = node_start(files)
    assert found is not None and found.argv == ("npm", "start", "--silent")
    assert found.setup == (
        ("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; tsc --outDir dist src/index.ts'),
    )
    # Its directory (node dist/), likewise; none where no source of it is there.
    package["scripts"]["start"] = "node dist/"
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.setup[0][2].endswith("tsc --outDir dist src/index.ts")
    del files["src/index.ts"]
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.setup == ()


def test_a_start_file_requiring_unbuilt_output_has_tsc_run_first() -> None:
    """JamesOlaleye's CRUD-MVC-Architecture-NodeTS keeps express-generator's ``bin/www``,
    which requires ``'../dist/app'``; its tsconfig writes into dist, only a ``tsc -w``
    script compiles it and no script builds: "Cannot find module '../dist/app'". Not where
    what it requires is in the upload."""
    package = {
        "scripts": {"start": "node ./bin/www", "compile": "tsc -w"},
        "dependencies": {"express": "~4.16.1"},
        "devDependencies": {"typescript": "^5.1.6"},
    }
    www = b"#!/usr/bin/env node\nvar app = require('../dist/app');\nvar http = require('http');\n"
    files = {
        "package.json": json.dumps(package).encode(),
        "bin/www": www,
        "tsconfig.json": b'{"compilerOptions": {"rootDir": "./src", "outDir": "./dist"}}',
        "src/app.ts": b"export default {};\n",
    }
    found = node_start(files)
    assert found is not None and found.argv == ("npm", "start", "--silent")
    assert len(found.setup) == 1 and found.setup[0][-1].endswith("tsc"), found.setup
    found = node_start({**files, "dist/app.js": b"module.exports = {};\n"})
    assert found is not None and found.setup == ()
    # Its start under nodemon, as one tutorial's todo API has it (countzyx's and
    # tatjama's typescript-node-express: "nodemon dist/app.js", "Cannot find module").
    package["scripts"] = {"start": "nodemon dist/app.js"}
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.setup and found.setup[0][-1].endswith("tsc"), found
    # tatjama's lists no TypeScript (its author's tsc was global): its tsconfig says it
    # is compiled, by a compiler the start's tools then bring.
    del package["devDependencies"]
    found = detect({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.setup and found.setup[0][-1].endswith("tsc"), found
    assert "typescript@^5" in found.node_tools, found.node_tools


def test_a_start_running_scripts_side_by_side_runs_them_without_their_watchers() -> None:
    """gzuppa's node-express-task-manager: ``concurrently "npm run dev " "npm run watch "``,
    its dev ``nodemon ./index.js``, its watch ``webpack --watch``: nodemon restarted the
    app when webpack wrote its bundle, and the preview's requests failed on the restart.
    The server runs once; the bundle's watch, and a start with no watcher, as they are."""
    scripts = {
        "dev": "nodemon ./index.js",
        "start": 'concurrently -n api,web "npm run dev " "npm run watch "',
        "watch": "webpack --watch --mode development",
    }
    package = {"scripts": scripts, "dependencies": {"concurrently": "^7", "nodemon": "^2"}}
    files = {"package.json": json.dumps(package).encode(), "index.js": b""}
    found = node_start(files)
    assert found is not None and found.argv == (
        "sh",
        "-c",
        'export PATH="$PWD/node_modules/.bin:$PATH"; '
        "concurrently -n api,web 'node ./index.js' 'npm run watch '",
    )
    assert found.note is not None and "without their watchers" in found.note
    scripts["dev"] = "node ./index.js"
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and found.argv == ("npm", "start", "--silent")


def test_a_build_script_that_runs_the_server_is_no_set_up_step() -> None:
    """xuyangyang2019's jubo-chat-koa2: ``"build": "set NODE_ENV=production&& node
    --use_strict app.js --prod"``, its start's app.js, which listened inside the set-up
    step until the launch's time ran out. A build running a file that does not listen
    (a bundler's script) stays one."""
    scripts = {
        "start": "set NODE_ENV=development&& node --use_strict app.js --dev",
        "build": "set NODE_ENV=production&& node --use_strict app.js --prod",
    }
    app = b"const app = new Koa();\napp.listen(3000);\n"
    files = {"package.json": json.dumps({"scripts": scripts}).encode(), "app.js": app}
    found = node_start(files)
    assert found is not None and found.setup == () and found.argv[:2] == ("npm", "start")
    scripts["build"] = "node scripts/bundle.js"
    bundled = {**files, "package.json": json.dumps({"scripts": scripts}).encode()}
    bundled["scripts/bundle.js"] = b"require('esbuild').buildSync({ entryPoints: ['a.js'] })\n"
    found = node_start(bundled)
    assert found is not None and found.setup == (("npm", "run", "build"),), found


def test_a_ts_node_before_7_gets_its_newest_major_beside_it() -> None:
    """TypeORM's project template pins ts-node 3.3.0, whose parser took ``--transpile-only``
    for a flag with a value and ran nothing (babyplug's api-challenge-ts-typeorm: exit 0,
    printing nothing). ts-node 10 is installed beside the app's; not for a ts-node of 7 or
    later, nor a range that takes the newest."""
    package = {
        "scripts": {"start": "ts-node src/index.ts"},
        "devDependencies": {"ts-node": "3.3.0", "typescript": "3.3.3333"},
    }
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b""}
    for old in ("3.3.0", "^3.3.0", "~6.2.1", "5.x"):
        package["devDependencies"]["ts-node"] = old
        found = node_start({**files, "package.json": json.dumps(package).encode()})
        assert found is not None and "ts-node@^10" in found.tools, (old, found)
    for new in ("^10.9.1", "8.10.2", ">=3.3.0", "latest"):
        package["devDependencies"]["ts-node"] = new
        found = node_start({**files, "package.json": json.dumps(package).encode()})
        assert found is not None and "ts-node@^10" not in found.tools, (new, found)


def test_a_compiler_watching_beside_the_app_compiles_once_first() -> None:
    """SarahAbuirmeileh's Express-RBAC: ``"dev": "concurrently \\"npm:build-tsc\\"
    \\"npm:run-watch\\""``, ``tsc -w`` and ``nodemon ./dist`` (main ./dist, no build
    script): nodemon ran before tsc wrote dist ("Cannot find module"), then waited for a
    change. tsc runs once as a set-up step, then node runs the build's folder."""
    scripts = {
        "build-tsc": "tsc -w",
        "run-watch": "nodemon ./dist",
        "dev": 'concurrently -n tsc,app "npm:build-tsc"  "npm:run-watch"',
    }
    package = {"main": "./dist", "type": "module", "scripts": scripts}
    files = {"package.json": json.dumps(package).encode(), "index.ts": b"", "tsconfig.json": b"{}"}
    found = node_start(files)
    assert found is not None, found
    assert found.argv == ("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; node ./dist')
    assert found.setup == (("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; tsc'),)
    assert found.note is not None and "compiler runs once first (tsc)" in found.note
    # Two commands beside the compiler: no one app to run after it (left as it was).
    scripts["dev"] += ' "npm run other"'
    scripts["other"] = "node worker.js"
    found = node_start({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and not found.setup, found


def test_a_hono_app_exporting_its_fetch_handler_is_served_by_bun() -> None:
    """Ayub1224's ayub-hono-example: no script, src/index.js ends ``export const handler =
    app.fetch`` (AWS Lambda's shape): refused, nothing to run. Bun serves the handler;
    the app as a default export (Bun's, Workers') is Bun's to serve as it is; a module
    that serves itself is not taken for one."""
    source = (
        "// export const handler = app.fetch;\n"
        "import { Hono } from 'hono';\nconst app = new Hono();\n"
        "app.get('/', (c) => c.text('welcome'));\nexport const handler = app.fetch;\n"
    )
    package = {"main": "index.js", "dependencies": {"hono": "^4"}}
    files = {"package.json": json.dumps(package).encode(), "src/index.js": source.encode()}
    found = node_start(files)
    assert found is not None and found.tools == ("bun@^1",)
    served = "Bun.serve({{ port: Number(process.env.PORT), fetch: handler }})"
    assert found.argv[-1].endswith(
        f"bun -e \"import {{{{ handler }}}} from './src/index.js'; {served}\""
    )
    default = source.replace("export const handler = app.fetch", "export default app")
    files["src/index.js"] = default.encode()
    found = node_start(files)
    assert found is not None and found.argv[-1].endswith("; bun src/index.js")
    files["src/index.js"] += b"serve({ fetch: app.fetch, port: 3000 });\n"
    assert node_start(files) is None


def test_a_start_running_a_module_that_exports_its_hono_app_is_served_by_bun() -> None:
    """hoce1n's hono-try: ``"start": "tsx src/index.ts"``, src/index.ts ending ``export
    default app`` (deployed to Vercel), nothing listening: it ended at once, code 0,
    printing nothing. Bun serves the module's app; not where the module serves itself,
    nor where the start runs another module."""
    source = (
        "import { Hono } from 'hono'\nconst app = new Hono()\n"
        "app.get('/', (c) => c.text('hi'))\nexport default app\n"
    )
    package = {"type": "module", "scripts": {"dev": "tsx watch src/index.ts"}}
    package["scripts"]["start"] = "tsx src/index.ts"
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": source.encode()}
    found = node_start(files)
    assert found is not None and found.argv[-1].endswith("; bun src/index.ts"), found
    assert found.tools == ("bun@^1",)
    assert found.note is not None and "exports its fetch handler" in found.note
    serving = source + "import { serve } from '@hono/node-server'\nserve(app)\n"
    found = node_start({**files, "src/index.ts": serving.encode()})
    assert found is None or "bun" not in found.argv[-1], found
    package["scripts"]["start"] = "tsx src/server.ts"
    files["package.json"] = json.dumps(package).encode()
    found = node_start(files)
    assert found is None or "bun" not in found.argv[-1], found


def test_an_app_handed_to_a_serverless_adapter_is_served_by_bun() -> None:
    """kungfu321's aws-hono: src/index.ts ends ``export const handler = handle(app)``
    (``hono/aws-lambda``), deployed by SST, no start script: it ran, exited at once,
    printing nothing. Bun imports it with the adapter replaced by one serving the app on
    $PORT; a module that serves itself besides is not taken for one."""
    source = (
        "import { Hono } from 'hono'\nimport { handle } from 'hono/aws-lambda'\n"
        "const app = new Hono().basePath('/api')\n"
        "app.get('/health', (c) => c.json({ status: 'ok' }))\n"
        "export const handler = handle(app)\n"
    )
    package = {
        "type": "module",
        "scripts": {"deploy": "sst deploy"},
        "dependencies": {"hono": "^4"},
    }
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": source.encode()}
    found = node_start(files)
    assert found is not None and found.tools == ("bun@^1",), found
    assert "hands its app to hono/aws-lambda" in (found.note or "")
    assert "await import('./src/index.ts')" in found.argv[-1]
    served = {**files, "src/index.ts": source.encode() + b"serve({ fetch: app.fetch })\n"}
    assert adapter_export(served) is None
    express = (
        b"const serverless = require('serverless-http')\nmodule.exports.handler = serverless(app)\n"
    )
    assert adapter_export({"handler.js": express}) == ("handler.js", ("serverless-http",))


async def test_an_app_handed_to_serverless_http_is_served_by_node(tmp_path: Path) -> None:
    """helder9991's serverless-express-api: src/lambda.ts hands its Express app to
    serverless-http; Bun, which served it, ran its modules in another order (tsyringe met no
    reflect-metadata: exit 1). Node runs the module (ts-node where its tsconfig asks for
    decorator metadata) with serverless-http's stand-in, which gives the app to its own
    ``listen`` on $PORT, whether the module requires or imports serverless-http."""
    required = (
        "const serverless = require('serverless-http')\n"
        "const app = { listen: (port) => process.stdout.write(`listens on ${port}`) }\n"
        "module.exports.handler = serverless(app)\n"
    )
    imported = required.replace(
        "const serverless = require('serverless-http')", "import serverless from 'serverless-http'"
    ).replace("module.exports.handler =", "export const handler =")
    package: dict[str, object] = {
        "scripts": {"deploy": "serverless deploy"},
        "dependencies": {"serverless-http": "^3"},
    }
    for module, source, kind in (
        ("handler.js", required, "commonjs"),
        ("lambda.js", imported, "module"),
    ):
        package["type"] = kind
        files = {"package.json": json.dumps(package).encode(), module: source.encode()}
        found = node_start(files)
        assert found is not None and "bun" not in found.argv[-1], found
        assert found.note is not None and "hands its app to serverless-http" in found.note
        await trio.Path(tmp_path / module).write_text(source)
        done = await _run_with_preloads(found.argv, tmp_path, files)
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.decode() == "listens on 18077", module
    # A set-up step importing the handler (no mark of the start's) gets the package itself
    # (not installed here), and serves nothing.
    done = await _run_with_preloads(("node", "lambda.js"), tmp_path, files)
    assert done.stdout == b"" and b"Cannot find package 'serverless-http'" in done.stderr
    # A TypeScript runner's require hook (ts-node's) still loads the handler: a preload by
    # --import made Node load it by its ES module loader (ERR_UNKNOWN_FILE_EXTENSION).
    await trio.Path(tmp_path / "ts-hook.cjs").write_text(
        "require.extensions['.ts'] = require.extensions['.js']\n"
    )
    await trio.Path(tmp_path / "lambda.ts").write_text(required)
    package["type"] = "commonjs"
    files = {"package.json": json.dumps(package).encode(), "lambda.ts": required.encode()}
    runner = ("sh", "-c", f"{SERVES_HANDLER}=1 node --require ./ts-hook.cjs lambda.ts")
    done = await _run_with_preloads(runner, tmp_path, files)
    assert done.stdout.decode() == "listens on 18077", done.stderr.decode()
    typed = {
        "package.json": json.dumps({"dependencies": {"express": "^4", "tsyringe": "^4"}}).encode(),
        "tsconfig.json": b'{"compilerOptions": {"emitDecoratorMetadata": true}}',
        "src/lambda.ts": b"import serverless from 'serverless-http'\n"
        b"export const handler = serverless(app)\n",
    }
    found = node_start(typed)
    assert found is not None and "ts-node --transpile-only src/lambda.ts" in found.argv[-1]
    # The module serverless.yml names as its function's handler, wherever it is.
    typed["src/functions/api/main.ts"] = typed.pop("src/lambda.ts")
    assert node_start(typed) is None
    typed["serverless.yml"] = b"functions:\n  api:\n    handler: src/functions/api/main.handler\n"
    found = node_start(typed)
    assert found is not None and found.argv[-1].endswith("src/functions/api/main.ts"), found


async def _run_with_preloads(
    argv: Sequence[str], cwd: Path, files: dict[str, bytes]
) -> subprocess.CompletedProcess[bytes]:
    """``argv`` run in ``cwd`` (its package.json written from ``files``) with PORT 18077
    and the Node preloads the upload wants, as the app's environment gives them."""
    await trio.Path(cwd / "package.json").write_bytes(files["package.json"])
    options = ""
    for wanted, name, text in NODE_PRELOADS:
        if wanted(files):
            await trio.Path(cwd / name).write_text(text)
            options += f' --require "{cwd / name}"'
    with trio.fail_after(PROCESS_WAIT):
        return await trio.run_process(
            argv,
            cwd=cwd,
            env={**os.environ, "PORT": "18077", "NODE_OPTIONS": options},
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )


def test_a_start_that_is_a_menu_of_its_scripts_is_no_start() -> None:
    """lord09244's lambda-express-prototype: ``"start": "node ./node_modules/ntl/cli.js"``,
    ntl's menu of the project's scripts, waiting for a key ("did not answer HTTP"). Its
    main is its start instead; a start of another command is still its start."""
    package = {"main": "app.js", "scripts": {"start": "node ./node_modules/ntl/cli.js"}}
    app = b"const app = require('express')()\napp.listen(3000)\n"
    files = {"package.json": json.dumps(package).encode(), "app.js": app}
    found = node_start(files)
    assert found is not None and found.argv == ("node", "app.js"), found
    for menu in ("ntl", "npx ntl", "nps"):
        package["scripts"]["start"] = menu
        files["package.json"] = json.dumps(package).encode()
        assert node_start(files).argv == ("node", "app.js"), menu  # type: ignore[union-attr]
    package["scripts"]["start"] = "node app.js --menu"
    files["package.json"] = json.dumps(package).encode()
    assert node_start(files).argv[:2] == ("npm", "start")  # type: ignore[union-attr]


def test_a_platforms_dev_server_gives_way_to_the_handler_its_module_exports() -> None:
    """ruchernchong's hono-sst-cloudflare: ``"dev": "sst dev --stage dev"`` (SST, which runs
    nothing without its account: exit 127) and src/index.ts's ``export default app``: Bun
    serves that app. A dev script of another command is still its start."""
    source = "import { Hono } from 'hono'\nconst app = new Hono()\nexport default app;\n"
    package = {"type": "module", "scripts": {"dev": "sst dev --stage dev"}}
    package["dependencies"] = {"hono": "^4", "sst": "^3"}
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": source.encode()}
    found = node_start(files)
    assert found is not None and found.argv[-1].endswith("bun src/index.ts"), found
    package["scripts"]["dev"] = "tsx watch src/index.ts"
    files["package.json"] = json.dumps(package).encode()
    found = node_start(files)
    assert found is not None and "bun" not in found.argv[-1], found


def test_a_platforms_dev_server_as_its_start_gives_way_to_its_vercel_function() -> None:
    """themuuln's learn-hono-v2: ``"start": "vercel dev"`` ("No existing credentials
    found. Please run `vercel login`") and api/index.ts's ``export default handle(app)``
    (hono/vercel's adapter, Vercel's functions folder): Bun serves that app. A start of
    another command is still its start."""
    source = (
        "import { Hono } from 'hono';\nimport { handle } from 'hono/vercel';\n"
        "const app = new Hono().basePath('/api/v1');\nexport default handle(app);\n"
    )
    package = {"scripts": {"start": "vercel dev", "deploy": "vercel"}}
    package["dependencies"] = {"hono": "^4.3.9"}
    files = {"package.json": json.dumps(package).encode(), "api/index.ts": source.encode()}
    found = node_start(files)
    assert found is not None and "api/index.ts" in found.argv[-1], found
    assert found.note is not None and "hono/vercel" in found.note, found
    # Its README running it (``npm run start``) too.
    found = node_start(files, named=("start",))
    assert found is not None and "api/index.ts" in found.argv[-1], found
    # @hono/node-server's adapter for Vercel (pkorac's serverlesshono) likewise; and the app
    # made in a module of its own that serves nothing (kamo-tomoki's: src/index.ts).
    node_server = source.replace("'hono/vercel'", "'@hono/node-server/vercel'")
    found = node_start({**files, "api/index.ts": node_server.encode()})
    assert found is not None and "api/index.ts" in found.argv[-1], found
    handed = (
        "import { handle } from '@hono/node-server/vercel';\nimport { app } from '../src';\n"
        "export default handle(app);\n"
    )
    made = "import { Hono } from 'hono';\nexport const app = new Hono();\n"
    tsconfig = b'{"compilerOptions": {"module": "ESNext"}}'
    both = {**files, "api/index.ts": handed.encode(), "src/index.ts": made.encode()}
    found = node_start({**both, "tsconfig.json": tsconfig})
    assert found is not None and "api/index.ts" in found.argv[-1], found
    package["scripts"]["start"] = "node server.js"
    files["package.json"] = json.dumps(package).encode()
    found = node_start(files)
    assert found is not None and found.argv[:2] == ("npm", "start"), found


def test_a_main_that_is_a_pages_script_gives_way_to_the_module_that_listens() -> None:
    """Carlos5456's Sistema-express: ``"main": "script.js"`` (npm init named its form's
    script: ``document.getElementById``), no scripts, ``server.js`` calling
    ``app.listen``: node ran the page's script, "ReferenceError: document is not
    defined". A main that is a server's, or no other module listening, is kept."""
    package = b'{"name": "sistema", "main": "script.js", "dependencies": {"express": "^4"}}'
    page = b"var input = document.getElementById('search-input');\n"
    server = b"const app = require('express')();\napp.listen(3000, () => console.log('up'));\n"
    files = {"package.json": package, "script.js": page, "server.js": server}
    found = node_start(files)
    assert found is not None and found.argv == ("node", "server.js"), found
    assert found.note is not None and "is a page's script" in found.note
    kept = node_start({**files, "script.js": server + page})
    assert kept is not None and kept.argv == ("node", "script.js"), kept
    alone = node_start({"package.json": package, "script.js": page})
    assert alone is not None and alone.argv == ("node", "script.js"), alone


def test_a_main_that_is_a_tools_configuration_gives_way_to_the_module_that_listens() -> None:
    """schererleander's expressjs-quiz: ``"main": "tailwind.config.js"`` (npm init named
    the first script it saw), ``server.js`` calling ``app.listen``, its only script a
    ``test`` running it: node ran tailwind's configuration, which exited 0."""
    package = (
        b'{"main": "tailwind.config.js", "scripts": {"test": "node server.js"},'
        b' "dependencies": {"express": "^4"}, "devDependencies": {"tailwindcss": "^3"}}'
    )
    config = b'module.exports = {\n  content: ["./index.html"],\n  plugins: [],\n};\n'
    server = b"const app = require('express')();\napp.listen(3000, () => console.log('up'));\n"
    files = {"package.json": package, "tailwind.config.js": config, "server.js": server}
    found = node_start(files)
    assert found is not None and found.argv == ("node", "server.js"), found
    assert found.note is not None and "is a tool's configuration" in found.note


def test_a_main_that_is_a_script_of_its_own_gives_way_to_the_module_that_listens() -> None:
    """NikitaLazutinn's Link_shortener: ``"main": "index.js"``, which only connects to
    MongoDB and prints "yes", beside Nest's src/main.ts, which listens; no start script,
    nor any TypeScript runner listed: no answer in 30 s. That module runs, with its
    runner; a main that requires the app's modules, or exports, is kept."""
    package = {
        "main": "index.js",
        "scripts": {"test": "jest"},
        "dependencies": {"@nestjs/core": "^10.4.1", "mongodb": "^6"},
    }
    scratch = (
        b"const {MongoClient} = require('mongodb')\nconst client = new MongoClient('x')\n"
        b"client.connect().then(() => console.log('yes'))\n"
    )
    main = b"async function bootstrap() {\n  await app.listen(3000);\n}\nbootstrap();\n"
    files = {
        "package.json": json.dumps(package).encode(),
        "index.js": scratch,
        "src/main.ts": main,
        "tsconfig.json": b'{"compilerOptions": {"emitDecoratorMetadata": true}}',
    }
    found = node_start(files)
    assert found is not None and found.argv[-1] == "src/main.ts", found
    assert found.note is not None and "is a script of its own" in found.note
    assert any(tool.startswith(("ts-node@", "tsx@")) for tool in found.tools), found.tools
    app = {"src/app.js": b"const express = require('express');\n"}
    requiring = node_start({**files, **app, "index.js": scratch + b"require('./src/app')\n"})
    assert requiring is not None and requiring.argv == ("node", "index.js"), requiring
    exporting = node_start({**files, "index.js": scratch + b"module.exports = client\n"})
    assert exporting is not None and exporting.argv == ("node", "index.js"), exporting


def test_an_es_modules_entry_of_a_commonjs_package_listing_esm_is_loaded_by_it() -> None:
    """rahillakhani's fastify-seed: ``"start": "node server.js"``, server.js written with
    ``import``, esm listed and its start.js the ``require("esm")(module)`` shim: Node 20
    read it as an ES module of its own ("Cannot find module 'valFromPromise'"). Its
    start loaded by esm, as the loader apps of that time ran with; not an ES module
    package's, nor one listing no esm, nor a CommonJS entry."""
    server = b"import Fastify from 'fastify';\nconst dotenv = require('dotenv');\n"
    package = {"scripts": {"start": "node server.js"}, "dependencies": {"esm": "^3.2.25"}}
    files = {"package.json": json.dumps(package).encode(), "server.js": server}
    found = node_start(files)
    assert found is not None and found.argv[-1].endswith("; node -r esm server.js"), found
    for changed in ({"type": "module"}, {"dependencies": {"fastify": "^3"}}):
        other = {"package.json": json.dumps({**package, **changed}).encode(), "server.js": server}
        assert node_start(other).argv == ("npm", "start", "--silent")  # type: ignore[union-attr]
    plain = {**files, "server.js": b"const Fastify = require('fastify');\n"}
    assert node_start(plain).argv == ("npm", "start", "--silent")  # type: ignore[union-attr]


def test_a_start_script_running_its_app_under_a_watcher_runs_it_once() -> None:
    """VierryFadhilah's tugasExpress: ``"start": "nodemon --exec babel-node index.js"``;
    its first request's ReferenceError ended the app, nodemon "waiting for file changes",
    and every request after met no server while the start lived on, its exit unseen. The
    app runs without the watcher, as a dev script's does; a start with none, or one whose
    watcher runs a package manager's script, is run as it is."""
    package = {
        "scripts": {"start": "nodemon --exec babel-node index.js"},
        "dependencies": {"express": "^4"},
        "devDependencies": {"nodemon": "^2", "@babel/node": "^7"},
    }
    files = {"package.json": json.dumps(package).encode(), "index.js": b""}
    start = node_start(files)
    assert start is not None and start.argv[-1].endswith("; babel-node index.js"), start
    assert start.note is not None and "runs the app under a watcher" in start.note
    for script in ("node index.js", "nodemon -x npm run dev"):
        package["scripts"] = {"start": script, "dev": "node index.js"}
        kept = node_start({**files, "package.json": json.dumps(package).encode()})
        assert kept is not None and kept.argv == ("npm", "start", "--silent"), kept
