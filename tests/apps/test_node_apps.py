"""Node and TypeScript apps launched as uploaded, built by real npm installs from the
registry: a build script (tsc) run as a set-up step before ``start``, a project with
only a ``dev`` script (tsx watch, run without its watcher), a ``.ts`` main run by a tsx
the build adds, TypeORM entities as ``.ts`` globs run by the app's own ts-node."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import trio

from preview.apps.node import node_start
from preview.apps.written import serves_https

from ..backing.test_app_postgres import needs_server
from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


_TRANSPILED = "(tsc as TypeScript's emit without its type check)"


def _declared_tsc(package: str) -> str:
    """``package`` with its ``"build": "tsc"`` given a flag (``--pretty``), which no
    emit without type check stands in for: tsc runs as the app declared it."""
    return package.replace('"build": "tsc"', '"build": "tsc --pretty"')


async def test_typescript_express_is_built_by_tsc_then_started(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("ts_express_build"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"] == "npm start --silent"
        assert (await service.app_get(body, "/items/1")).json() == {"id": 1, "name": "typed apple"}
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        events = await service.history(body["gid"])
        system = messages(events, "system")
        # tsc's JavaScript without its type check (builds.typescript)
        assert f"setup: npm run build {_TRANSPILED}" in system, system
        assert any(m.startswith("transpiled 1 file to dist/") for m in messages(events, "setup"))
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_handing_the_app_to_pm2s_daemon_runs_it_in_the_foreground(
    builder_service: Service,
) -> None:
    """``"start": "pm2 start app.js --name api"`` (a small Express app of the training
    set): pm2 returns once its daemon holds the app, so the preview's process exited at
    once ("[PM2][WARN] No process found", exit 1). Its entry runs in the foreground, with
    what follows ``--`` as its arguments; no pm2 needed (none is installed here)."""
    service = builder_service
    server = (
        "const http = require('http');\n"
        "http.createServer((req, res) => {\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({argv: process.argv.slice(2)}));\n"
        "}).listen(process.env.PORT);\n"
    )
    package = {"name": "pm2-app", "scripts": {"start": "pm2 start app.js --name api -- --fast"}}
    files = {"package.json": json.dumps(package), "app.js": server}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"argv": ["--fast"]}
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if "process manager's daemon" in m]
        assert said and said[0].endswith("in the foreground: node app.js --fast"), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_pm2_ecosystem_files_apps_run_their_compilers_once_then_the_app(
    builder_service: Service,
) -> None:
    """z411392's express-quiz: no scripts, its pm2 ecosystem.config.js the only start:
    ``npx tsc -w``, ``npx tsc-alias -w`` (listed nowhere) and ``src/main.js serve``,
    tsc's outDir ``src`` from ``lib``, its imports by the tsconfig's ``@/*`` ("Found no
    way to start this app"). The compilers run once, tsc-alias added, then the app, with
    its args."""
    service = builder_service
    ecosystem = """module.exports = {
    apps: [
        { name: "tsc", script: "npx", args: "tsc -w", autorestart: false },
        { name: "tsc-alias", script: "npx", args: "tsc-alias -w", autorestart: false },
        { name: "main", watch: ["src"], script: "src/main.js", args: "serve" },
    ],
}
"""
    tsconfig = {
        "compilerOptions": {
            "module": "CommonJS",
            "target": "ES2020",
            "outDir": "src",
            "rootDir": "lib",
            "baseUrl": "lib",
            "paths": {"@/*": ["*"]},
            "strict": True,
            "skipLibCheck": True,
        },
        "include": ["lib"],
    }
    main = (
        'import { createServer } from "http";\n'
        'import { word } from "@/words/word";\n'
        "createServer((_request, response) => {\n"
        '  response.setHeader("content-type", "application/json");\n'
        "  response.end(JSON.stringify({ word, argv: process.argv.slice(2) }));\n"
        "}).listen(Number(process.env.PORT));\n"
    )
    files = {
        "package.json": json.dumps(
            {"dependencies": {}, "devDependencies": {"typescript": "~5.4.5", "@types/node": "^20"}}
        ),
        "ecosystem.config.js": ecosystem,
        "tsconfig.json": json.dumps(tsconfig),
        "lib/main.ts": main,
        "lib/words/word.ts": 'export const word: string = "aliased";\n',
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"word": "aliased", "argv": ["serve"]}
        system = messages(await service.history(body["gid"]), "system")
        said = "its pm2 ecosystem.config.js runs node src/main.js serve after tsc && tsc-alias"
        assert any(m.startswith(said) for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_running_tsc_output_no_script_builds_has_tsc_run_first(
    builder_service: Service,
) -> None:
    """pawanganesh's fastify-typescript-typeorm: ``"start": "node build/server.js"``, no
    build script (its tsc runs only in its dev script's tsc-watch): "Cannot find module
    'build/server.js'"."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("ts_start_unbuilt"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"] == "npm start --silent"
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_running_tsc_output_directory_has_tsc_run_first(
    builder_service: Service,
) -> None:
    """Feathers' generated app: ``"start": "node lib/"`` (the directory: its index.js),
    tsc only in a ``compile`` script: "Cannot find module 'lib'"."""
    service = builder_service
    files = app_files("ts_start_unbuilt")
    files["src/index.ts"] = files.pop("src/server.ts")
    package = json.loads(files["package.json"])
    package["scripts"] = {"compile": "tsc", "start": "node build/"}
    files["package.json"] = json.dumps(package)
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_that_builds_first_and_scripts_calling_yarn(builder_service: Service) -> None:
    """``"start": "npm run build:ts && yarn serve"`` (fastify-api-boilerplate's shape:
    tsc inside the start, whose time is bounded): the build runs as a set-up step, the
    start runs the rest; its scripts call yarn (koa-restful-boilerplate's ``"build": "yarn
    build-ts && yarn lint"``), which npm's environment gets, as it would bun."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_yarn_build_in_start"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"].endswith("yarn serve"), body["runtime"]
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        events = await service.history(body["gid"])
        system = messages(events, "system")
        assert any(m.startswith("setup: npm run build:ts (tsc as") for m in system), system
        assert any(m.startswith("transpiled ") for m in messages(events, "setup"))
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_build_in_tscs_watch_mode_is_compiled_once(builder_service: Service) -> None:
    """Profanor's express-crud-application: ``"build": "tsc --watch"``, its start ``node
    ./bin/www`` requiring what tsc writes to dist/; the set-up step never ended and the
    launch waited out its time. The build runs as tsc alone."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_tsc_watch_build"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        system = messages(await service.history(body["gid"]), "system")
        assert f"setup: tsc {_TRANSPILED}" in system, system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_that_migrates_and_compiles_first(builder_service: Service) -> None:
    """``npm run migrate && rm -rf dist && tsc && node dist/index.js`` (objection's koa-ts
    example): its migrations and tsc run as a set-up step, the start runs node alone."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_migrate_tsc_in_start"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"].endswith("node dist/index.js"), body["runtime"]
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("setup: ") and "npm run migrate" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_sqlite_apps_own_set_up_scripts_make_its_data(builder_service: Service) -> None:
    """Its tables come from `npm run setup-example-db`, its third row from `npm run
    seed` after it: both set-up steps, so its route answers with the data."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_sqlite_setup_script"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_get(body, "/")
        assert answer.json() == {"users": ["ada", "grace", "linus"]}, answer.text
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_sqlite_apps_seed_that_makes_its_tables_is_run(builder_service: Service) -> None:
    """christianjtr's express-rest-api-sequelize: its tables are made only by its seed
    script (``Profile.sync({ force: true })``), which its README runs before ``npm
    start``; every route met "no such table"."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_sqlite_seed_makes_tables"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_get(body, "/")
        assert answer.json() == {"profiles": ["Harry", "Mr Robot"]}, answer.text
        assert (await service.stop(body["gid"])).status_code == 200


async def test_what_envalid_requires_gets_a_throwaway_where_its_name_says(
    builder_service: Service,
) -> None:
    """realworld-fastify-drizzle: envalid's ``cleanEnv`` exited naming ACCESS_TOKEN_SECRET
    (no .env, no example): it is a secret; JWT_SECRET, read with its own fallback, too."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_envalid"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["generatedEnv"] == ["ACCESS_TOKEN_SECRET", "JWT_SECRET"]
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"secret": True, "bucket": "uploads", "jwt": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_typescript_errors_in_the_code_run_its_output_unless_it_emits_none_then(
    builder_service: Service,
) -> None:
    """Where tsc runs as the app declared (another flag than its project's: no emit
    without type check stands in for it, ``builds.typescript``), its errors in the code
    are said, without tsc's colours, and the JavaScript it wrote all the same runs, as a
    transpile-only runner would run it (tonysnickers' api-book-express: 12 errors in 3
    files failed its launch); a tsconfig with ``noEmitOnError`` fails the step."""
    service = builder_service
    files = app_files("ts_express_build")
    files["package.json"] = files["package.json"].replace(
        '"build": "tsc"', '"build": "tsc --pretty"'
    )
    files["src/index.ts"] += "\nconst wrong: number = 'text';\nconst worse: string = 42;\n"
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if m.startswith("TypeScript: 2 errors in src/index.ts")]
        assert said and "type errors in its code" in said[0] and "\x1b" not in said[0], system
        assert (await service.stop(body["gid"])).status_code == 200
        config = json.loads(files["tsconfig.json"])
        config["compilerOptions"]["noEmitOnError"] = True
        body = await launched(service, {**files, "tsconfig.json": json.dumps(config)})
        assert body["status"] == "failed"
        assert "TypeScript: 2 errors in src/index.ts" in body["errorMessage"], body
        assert "\x1b" not in body["errorMessage"]
        assert any("TS2322" in line for line in body["errorLines"])


async def test_tsc_errors_saying_nothing_of_the_code_leave_its_output_to_run(
    builder_service: Service,
) -> None:
    """noUnusedLocals (express-ts-typeorm-starter's unused import: TS6133) fails tsc,
    which wrote dist/ all the same: the app starts, the errors said, not its failure
    (tsc run as declared: another flag than its project's)."""
    service = builder_service
    files = app_files("ts_express_build")
    files["package.json"] = files["package.json"].replace(
        '"build": "tsc"', '"build": "tsc --pretty"'
    )
    config = json.loads(files["tsconfig.json"])
    config["compilerOptions"]["noUnusedLocals"] = True
    files["tsconfig.json"] = json.dumps(config)
    files["src/index.ts"] = "import { join } from 'path';\n" + files["src/index.ts"]
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        system = messages(await service.history(body["gid"]), "system")
        assert any(
            m.startswith("TypeScript: 1 error in src/index.ts; first: src/index.ts(1,1) TS6133")
            and m.endswith(
                "tsc wrote its JavaScript to dist/ all the same (noEmitOnError is "
                "off), run as it is"
            )
            for m in system
        ), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_only_a_dev_script_runs_without_its_watcher(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("ts_dev_only"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"].endswith("; tsx src/index.ts")
        answer = (await service.app_get(body, "/ada")).json()
        assert answer == {"hello": "ada", "watched": False}
        system = messages(await service.history(body["gid"]), "system")
        assert "the dev script without its watcher: tsx src/index.ts" in system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_typescript_main_runs_with_a_tsx_the_build_adds(builder_service: Service) -> None:
    service = builder_service
    files = {
        "package.json": json.dumps({"name": "ts-main", "main": "src/index.ts"}),
        "src/index.ts": (
            'import { createServer } from "node:http";\n'
            "const port: number = Number(process.env.PORT);\n"
            "createServer((_req, res) => res.end(JSON.stringify({ typed: true })))"
            '.listen(port, "127.0.0.1");\n'
        ),
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"typed": True}
        system = messages(await service.history(body["gid"]), "system")
        assert any("(npm, package.json + tsx@^4)" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_the_start_scripts_pre_script_runs_as_a_setup_step(builder_service: Service) -> None:
    """``prestart:prod`` (a build, bounded as one) runs before the start, once: not within
    the start's time limit, where npm would run it again."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_prestart"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"] == "npm run start:prod --ignore-scripts"
        assert (await service.app_get(body, "/")).json() == {"built": True, "buildRuns": 1}
        assert "setup: npm run prestart:prod" in messages(await service.history(body["gid"]))


async def test_a_production_build_script_alone_runs_as_the_build(builder_service: Service) -> None:
    """awesome-nest-boilerplate builds with ``build:prod`` and has no ``build``: its
    ``start:prod`` (``node dist/main.js``) found no dist/ until that ran first."""
    service = builder_service
    files = app_files("node_prestart")
    scripts = {"build:prod": "node build.js", "start:prod": "node dist/main.js"}
    files["package.json"] = json.dumps({"name": "node-build-prod", "scripts": scripts})
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"] == "npm run start:prod"
        assert (await service.app_get(body, "/")).json() == {"built": True, "buildRuns": 1}
        assert "setup: npm run build:prod" in messages(await service.history(body["gid"]))


@needs_server
async def test_typeorm_entities_as_ts_globs_run_with_the_apps_ts_node(
    builder_service: Service,
) -> None:
    isolation = builder_service.supervisor.isolation
    if isolation is None or not isolation.sandboxed:
        pytest.skip("the sandbox is not available here (the private server runs in it)")
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):  # typeorm, typescript and ts-node from the registry
        body = await launched(service, app_files("ts_typeorm_entities"), wait=False)
        while body["status"] not in ("running", "failed", "stopped"):
            await trio.sleep(0.2)
            body = {**body, **await service.status(body["gid"])}
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert body["runtime"]["command"].endswith("; ts-node --transpile-only src/server.ts")
        assert (await service.app_get(body, "/")).json() == {"notes": ["kept"]}
        system = messages(await service.history(body["gid"]), "system")
        assert any("its ORM loads src/entity/**/*.ts" in line for line in system), system
        assert "setup: npm run build" not in system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_modules_required_from_the_root_through_rootpath_are_found(
    builder_service: Service,
) -> None:
    """cornflourblue's node-mysql-crud-api: ``require('rootpath')()`` then
    ``require('_middleware/error-handler')``. rootpath puts the folder holding its own
    node_modules on NODE_PATH, which is the built environment's (node_modules is a link
    there), not the app's: "Cannot find module". NODE_PATH names the app's directory."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_rootpath"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"fromRoot": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_modules_required_through_module_alias_are_found(builder_service: Service) -> None:
    """bonkx's express-jwt-postgres: ``require('module-alias/register')`` then
    ``require('@src/routes/index.route')``. module-alias joins package.json's
    ``_moduleAliases`` to the folder two above its own real place, the built environment
    (node_modules is a link there), not the app's: "Cannot find module
    '<environment>/src/routes/index.route'". Node keeps the link's path for such an app."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_module_alias"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"aliased": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_folder_git_ignores_that_the_code_writes_in_is_made(service: Service) -> None:
    """hainam0412's server-with-express-typescript-postgres: its logger writes
    ``path.resolve(__dirname, '../../log')/db.log``, a folder its .gitignore leaves out of
    the repository: "ENOENT: no such file or directory, open 'log/db.log'" before it
    listened. A folder the .gitignore names and the code names as a path is made."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_ignored_log_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"logged": True}
        system = messages(await service.history(body["gid"]), "system")
        assert any("log/.gitkeep written empty" in line for line in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_app_telling_pm2_it_is_ready_runs_without_pm2(service: Service) -> None:
    """fadedDexofan's koa-typeorm-starter: run by pm2 with ``wait_ready``, it calls
    ``process.send("ready")`` once it listens, unchecked; with no process manager there is
    no IPC channel ("TypeError: process.send is not a function", exit before it served).
    Its process is given a ``process.send`` that delivers nothing."""
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pm2_wait_ready"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"toldManager": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_npm_start_runs_its_script_without_npm_beside_it(
    builder_service: Service,
) -> None:
    """``npm start`` is a Node program of its own that stays beside the app: its start-up
    came before every launch's, its memory beside every preview's. The script runs as
    npm runs it (``apps.processes.scriptrun``): the variables npm gives it, no npm above it."""
    service = builder_service
    server = (
        "const fs = require('fs');\n"
        "const http = require('http');\n"
        "const parent = fs.readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8');\n"
        "http.createServer((req, res) => {\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({\n"
        "    version: process.env.npm_package_version,\n"
        "    event: process.env.npm_lifecycle_event,\n"
        "    parent: parent.split('\\0')[0],\n"
        "  }));\n"
        "}).listen(process.env.PORT);\n"
    )
    package = {"name": "direct", "version": "2.1.0", "scripts": {"start": "node server.js"}}
    files = {"package.json": json.dumps(package), "server.js": server}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer == {"version": "2.1.0", "event": "start", "parent": "sh"}
        system = messages(await service.history(body["gid"]), "system")
        started = [m for m in system if m.startswith("process started")]
        assert started and started[0].endswith(
            "node server.js (its start script, run as npm runs it, without npm)"
        ), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_builds_post_script_that_starts_the_app_is_not_run_with_it(
    builder_service: Service,
) -> None:
    """pawelkarauda's tasks-manager-nestjs: ``"postbuild": "node dist/main.js"``, its
    ``start:prod``'s command: npm started the server after the build, the set-up step
    never ended and every launch waited out its build's time. The build runs without
    that hook (its other one, a ``prebuild``, as a step of its own), then the start."""
    scripts = {
        "prebuild": "node -e \"require('fs').mkdirSync('dist', {recursive: true})\"",
        "build": "node build.js",
        "postbuild": "node dist/server.js",
        "start": "node dist/server.js",
    }
    files = {
        "package.json": json.dumps({"name": "hooked", "version": "1.0.0", "scripts": scripts}),
        "build.js": "require('fs').copyFileSync('src/server.js', 'dist/server.js')\n",
        "src/server.js": """const http = require('http');
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ built: true }));
}).listen(process.env.PORT);
""",
    }
    found = node_start({p: t.encode() for p, t in files.items()})
    assert found is not None
    assert found.setup == (("npm", "run", "prebuild"), ("npm", "run", "build", "--ignore-scripts"))
    assert found.note is not None and "postbuild (node dist/server.js)" in found.note
    with trio.fail_after(BUILD_WAIT):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/")).json() == {"built": True}
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_an_app_serving_https_itself_is_served_plain_behind_the_proxy(
    service: Service, tmp_path: Path
) -> None:
    """whejhe's Proyecto-Express: ``https.createServer({key, cert}, app).listen(PORT)``,
    its certificate committed beside it; the proxy and the readiness probe speak plain HTTP
    to it ("did not answer HTTP on port … within 30 s"). Its process makes the plain HTTP
    server of the same handler instead (the preview gives its user HTTPS itself)."""
    with trio.fail_after(60):
        await trio.run_process(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "cert.pem"),
            ],
            cwd=tmp_path,
            capture_stdout=True,
            capture_stderr=True,
        )
    files = {
        "package.json": json.dumps({"name": "tls", "scripts": {"start": "node app.js"}}),
        "app.js": """const fs = require('fs');
const https = require('https');
const options = { key: fs.readFileSync('cert/key.pem'), cert: fs.readFileSync('cert/cert.pem') };
https.createServer(options, (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ secure: true }));
}).listen(process.env.PORT, () => console.log('HTTPS server on', process.env.PORT));
""",
        "cert/key.pem": (tmp_path / "key.pem").read_text(),
        "cert/cert.pem": (tmp_path / "cert.pem").read_text(),
    }
    assert serves_https({p: t.encode() for p, t in files.items()})
    esm = b"import { createServer } from 'node:https';\ncreateServer(options, app).listen(3000);\n"
    assert serves_https({"src/index.mjs": esm})
    assert not serves_https({"index.js": b"const http = require('http');\nhttp.createServer();\n"})
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"secure": True}
        assert (await service.stop(body["gid"])).status_code == 200
    # fnalabs's starter-koa2-js: http2's createSecureServer({ allowHTTP1: true }) in
    # bin/start, a script with no extension (its ``#!`` line names node).
    del files["app.js"]
    files["package.json"] = json.dumps({"name": "tls", "scripts": {"start": "node ./bin/start"}})
    files["bin/start"] = """#! /usr/bin/env node
const fs = require('fs');
const { createSecureServer } = require('http2');
const options = {
  allowHTTP1: true, key: fs.readFileSync('cert/key.pem'), cert: fs.readFileSync('cert/cert.pem'),
};
createSecureServer(options, (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ secure: 2 }));
}).listen(process.env.PORT, () => console.log('app running on port', process.env.PORT));
"""
    assert serves_https({p: t.encode() for p, t in files.items()})
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"secure": 2}
        assert (await service.stop(body["gid"])).status_code == 200
