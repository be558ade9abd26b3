"""How a Node app is started, read from its package.json (no process): build scripts as
set-up steps, start:prod / start / main / dev, watchers off, tsx for TypeScript."""

from __future__ import annotations

import json
import os

import httpx
import pytest
import trio

from preview.apps.depspec import node_dependencies
from preview.apps.detect import detect
from preview.apps.node.devscript import BIN_FIRST_ON_PATH
from preview.apps.node.emptystart import SERVE_EXPORT
from preview.apps.node.nodeapp import BUN, TSX
from preview.apps.node.nodedeps import NodeDeps
from preview.apps.node.ownts import runnable_ts
from preview.errors import BadRequest
from preview.runtime import free_port_block

from ..launching import app_files


def _deps(files: dict[str, bytes], tools: tuple[str, ...] = ()) -> NodeDeps:
    found = node_dependencies(files, tools)
    assert found is not None
    return found


def _node(package: dict, files: dict[str, str] | None = None):
    given = {"package.json": json.dumps(package), **(files or {})}
    return detect({p: t.encode() for p, t in given.items()})


def test_build_script_is_a_setup_step_then_start() -> None:
    found = detect({p: t.encode() for p, t in app_files("ts_express_build").items()})
    assert found.language == "node"
    assert found.setup == (("npm", "run", "build"),)
    assert found.argv == ("npm", "start", "--silent")
    assert found.node_tools == ()


def test_a_dev_script_running_tsc_output_no_script_builds_has_tsc_run_first() -> None:
    """fathurds' belajar-express-typescript: ``"dev": "nodemon ./build/index.js"``, no start
    and no build script, its tsc in ``"tsc": "rm -rf build/ && tsc"``: "Cannot find module
    'build/index.js'". The dev script that runs is read as a start is: tsc first."""
    scripts = {"tsc": "rm -rf build/ && tsc", "dev": "nodemon ./build/index.js"}
    files = {"tsconfig.json": '{"compilerOptions": {"outDir": "./build"}}', "src/index.ts": ""}
    found = _node({"scripts": scripts, "devDependencies": {"typescript": "^5"}}, files)
    assert found.argv[-1].endswith("; node ./build/index.js"), found.argv
    assert found.setup == (("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; tsc'),)


def test_a_committed_build_older_than_its_sources_is_built_again_first() -> None:
    """guidomiranda's afex-challenge: ``"start": "node build/index.js"``, its tsc in a
    ``tsc`` script; it commits build/index.js, of a build before src/routes/delivery.ts,
    which build/ has nothing of: every route answered 404. tsc runs first; not where
    each source has its JavaScript there."""
    scripts = {"tsc": "tsc", "start": "node build/index.js"}
    files = {
        "tsconfig.json": '{"compilerOptions": {"outDir": "./build"}}',
        "src/index.ts": "import router from './routes/delivery';\n",
        "src/routes/delivery.ts": "export default 1;\n",
        "src/types.d.ts": "",
        "build/index.js": "require('express')().listen(3000);\n",
    }
    package = {"scripts": scripts, "devDependencies": {"typescript": "^4.8"}}
    found = _node(package, files)
    assert found.setup == (("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; tsc'),)
    assert found.argv == ("npm", "start", "--silent"), found.argv
    built = {**files, "build/routes/delivery.js": "exports.default = 1;\n"}
    assert _node(package, built).setup == ()


def test_a_build_in_tscs_watch_mode_runs_once() -> None:
    # Profanor's express-crud-application: "build": "tsc --watch" never ended.
    found = detect({p: t.encode() for p, t in app_files("node_tsc_watch_build").items()})
    assert found.setup == (("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; tsc'),)
    scripts = {"build": "tsc -w -p . && cp -r views dist", "start": "node dist/index.js"}
    assert _node({"scripts": scripts}).setup[0][-1].endswith("; tsc -p . && cp -r views dist")
    assert _node({"scripts": {"build": "tsc", "start": "node d.js"}}).setup == (
        ("npm", "run", "build"),
    )


def test_a_start_that_migrates_and_compiles_first() -> None:
    # objection's koa-ts example: its start's tsc took it past the start's 30 s.
    found = detect({p: t.encode() for p, t in app_files("node_migrate_tsc_in_start").items()})
    assert found.setup[-1][:2] == ("sh", "-c") and found.setup[-1][2].endswith(
        "npm run migrate && rm -rf dist && tsc"
    )
    assert found.argv[-1].endswith("node dist/index.js"), found.argv
    scripts = {"start": "npx knex migrate:latest --knexfile knexfile.js && node app.js"}
    assert _node({"scripts": scripts}).argv[-1].endswith("node app.js")
    assert _node({"scripts": {"start": "npm run migrator-ui && node x"}}).setup == ()


def test_start_prod_wins_over_start() -> None:
    scripts = {"build": "nest build", "start": "nest start", "start:prod": "node dist/main"}
    found = _node({"scripts": scripts})
    assert found.argv == ("npm", "run", "start:prod")
    assert found.setup == (("npm", "run", "build"),)


def test_a_production_build_alone_is_the_build() -> None:
    scripts = {"build:prod": "nest build", "start:prod": "node dist/main.js"}
    assert _node({"scripts": scripts}).setup == (("npm", "run", "build:prod"),)
    both = {**scripts, "build": "tsc"}  # the plain build first, as before
    assert _node({"scripts": both}).setup == (("npm", "run", "build"),)


def test_the_start_scripts_pre_script_is_a_setup_step_and_not_run_again() -> None:
    found = _node({"scripts": {"prestart:prod": "tsc", "start:prod": "node dist/main.js"}})
    assert found.setup == (("npm", "run", "prestart:prod"),)
    assert found.argv == ("npm", "run", "start:prod", "--ignore-scripts")
    both = {"build": "tsc", "prestart": "node migrate.js", "start": "node dist/main.js"}
    found = _node({"scripts": both})
    assert found.setup == (("npm", "run", "build"), ("npm", "run", "prestart"))
    assert found.argv == ("npm", "start", "--silent", "--ignore-scripts")
    builds = {**both, "prestart": "rimraf dist && npm run build"}  # the build is its own
    assert _node({"scripts": builds}).setup == (("npm", "run", "prestart"),)


def test_a_pre_script_starting_a_database_server_is_left_out() -> None:
    """oneeyedjames's trailguide-express: its prestart starts mongod ("mongod: not found"),
    the database the preview serves itself; a pre-script doing more than that still runs."""
    scripts = {
        "build": "rm -rf dist/* && tsc",
        "prestart": "mongod --dbpath data --fork --logpath /dev/null",
        "start": "node dist/index.js",
    }
    found = _node({"scripts": scripts})
    assert found.setup == (("npm", "run", "build"),)
    assert found.argv == ("npm", "start", "--silent", "--ignore-scripts")
    both = {**scripts, "prestart": "docker-compose up -d && redis-server --daemonize yes"}
    assert _node({"scripts": both}).setup == (("npm", "run", "build"),)
    seeds = {**scripts, "prestart": "mongod --fork && node seed.js"}
    assert _node({"scripts": seeds}).setup == (("npm", "run", "build"), ("npm", "run", "prestart"))


def test_main_built_by_the_build_script_is_run_after_it() -> None:
    found = _node({"main": "dist/index.js", "scripts": {"build": "tsc"}})
    assert found.argv == ("node", "dist/index.js")
    assert found.setup == (("npm", "run", "build"),)


def test_typescript_main_runs_with_tsx_added_when_not_listed() -> None:
    found = _node({"main": "src/index.ts"}, {"src/index.ts": ""})
    assert found.argv == ("node_modules/.bin/tsx", "src/index.ts")
    assert found.node_tools == (TSX,)
    own = _node({"main": "src/index.ts", "devDependencies": {"tsx": "^4"}}, {"src/index.ts": ""})
    assert own.node_tools == ()
    # The tool is part of the environment's key: not the app's own set.
    plain = node_dependencies({"package.json": b"{}"})
    assert plain is not None
    assert plain.key() != _deps({"package.json": b"{}"}, (TSX,)).key()


@pytest.mark.parametrize(
    ("dev", "runs"),
    [
        ("tsx watch src/index.ts", "tsx src/index.ts"),
        ("tsx watch --clear-screen=false src/index.ts", "tsx src/index.ts"),
        ("NODE_ENV=development tsx watch src/index.ts", "NODE_ENV=development tsx src/index.ts"),
        ("node --watch server.js", "node server.js"),
        ("nodemon server.js", "node server.js"),
        ("nodemon src/index.ts", "tsx src/index.ts"),
        ("ts-node-dev --respawn --transpile-only src/index.ts", "tsx src/index.ts"),
    ],
)
def test_only_a_dev_script_runs_without_its_watcher(dev: str, runs: str) -> None:
    found = _node({"scripts": {"dev": dev}})
    assert found.argv[:2] == ("sh", "-c")
    assert found.argv[2].endswith("; " + runs)
    assert 'PATH="$PWD/node_modules/.bin:$PATH"' in found.argv[2]
    assert found.notes == [f"the dev script without its watcher: {runs}"]
    assert found.node_tools == ((TSX,) if "tsx" in runs else ())


def test_a_bare_nodemon_runs_once_what_its_settings_say() -> None:
    # A "dev": "nodemon" whose command is in nodemon.json ran with its watcher on.
    config = {"nodemon.json": '{"watch": ["src"], "ext": "ts", "exec": "ts-node ./src/index.ts"}'}
    found = _node({"scripts": {"dev": "nodemon"}}, config)
    assert found.argv[2].endswith("; ts-node --transpile-only ./src/index.ts"), found.argv
    inline = {"scripts": {"dev": "nodemon"}, "nodemonConfig": {"exec": "node app.js"}}
    assert _node(inline).argv[2].endswith("; node app.js")
    options = _node({"scripts": {"dev": "nodemon --delay 2 --inspect"}}, config)
    assert options.argv[2].endswith("; ts-node --transpile-only ./src/index.ts"), options.argv
    # A shell line is not one command to run once; a nodemon given its file keeps it.
    chained = {"nodemon.json": '{"exec": "npm run build && node dist/index.js"}'}
    assert _node({"scripts": {"dev": "nodemon"}}, chained).argv == ("npm", "run", "dev")
    given = _node({"scripts": {"dev": "nodemon app.js"}}, config)
    assert given.argv[2].endswith("; node app.js")


def test_a_nodemon_entry_runs_with_the_command_its_exec_map_gives_its_extension() -> None:
    """GuilhermeGonSoares's api-rest-nodejs-express-mysql: ``"dev": "nodemon server.js"``,
    its nodemon.json's ``execMap`` ``{"js": "node -r sucrase/register"}`` (its sources ES
    modules sucrase compiles); run by node alone: "Cannot find module 'app'"."""
    mapped = {"nodemon.json": '{"execMap": {"js": "node -r sucrase/register"}}'}
    found = _node({"scripts": {"dev": "nodemon server.js"}}, mapped)
    assert found.argv[2].endswith("; node -r sucrase/register server.js"), found.argv
    # Another extension's, a shell line's, or none: node alone, as before.
    other = {"nodemon.json": '{"execMap": {"py": "python", "ts": "a && b"}}'}
    for config in (other, {"nodemon.json": '{"execMap": []}'}):
        assert (
            _node({"scripts": {"dev": "nodemon server.js"}}, config)
            .argv[2]
            .endswith("; node server.js")
        )
    # A bare nodemon with an execMap and no exec is not given an exec of its own.
    assert _node({"scripts": {"dev": "nodemon"}}, mapped).argv == ("npm", "run", "dev")


def test_a_nodemon_execs_preloads_stay_preloads_and_node_keeps_the_apps_ts_loader() -> None:
    """mateuszzdyb's node-koa-knex-fun-fair: ``nodemon … --exec 'node --inspect=…' -r
    dotenv/config -r ts-node/register src/index.ts``; the ``-r`` (nodemon's pass-through
    to the command) were dropped and their modules run as files by tsx: "Cannot find
    module 'dotenv/config'". They stay preloads, and node keeps the app's own TypeScript
    loader (its type check off), not tsx."""
    dev = (
        "nodemon --ext ts,json --watch src --exec 'node --inspect=0.0.0.0:9229' "
        "-r dotenv/config -r ts-node/register src/index.ts"
    )
    found = _node({"scripts": {"develop": dev}, "devDependencies": {"ts-node": "^10"}})
    line = "node --inspect=0.0.0.0:9229 -r dotenv/config -r ts-node/register src/index.ts"
    assert found.argv[2].endswith(f"; {line}"), found.argv
    assert runnable_ts(line) == (
        f"TS_NODE_TRANSPILE_ONLY=true {line}",
        "its type check off (the build's, not each start's)",
        False,
    )
    assert runnable_ts(line.replace("ts-node/register", "tsx/cjs")) is None
    # node alone on a .ts file (Node 22's type stripping): tsx, as before.
    assert runnable_ts("node src/index.ts") is not None


def test_a_start_running_a_script_the_package_lacks_gives_way() -> None:
    """knite51's Restful-Api-Using-Express-Sequelize-Postgres: ``"start": "npm run build &&
    node ./build/server.js"`` and no build script; every plan ran ``npm run build`` first,
    "Missing script: build". The dev script (babel-watch) runs instead."""
    scripts = {"start": "npm run build && node ./build/server.js", "dev": "babel-watch server.js"}
    found = _node({"scripts": scripts})
    assert found.argv == ("npm", "run", "dev") and found.setup == (), found
    assert [p.command for p in found.plans] == ["npm run dev"]  # nor a later plan
    # A workspace's script (npm run build -w api) is that package's, not a missing one.
    workspace = {**scripts, "start": "npm run build -w api && node api/dist/main.js"}
    assert _node({"scripts": workspace}).argv == ("npm", "start", "--silent")
    scripts["build"] = "babel . -d build"
    assert _node({"scripts": scripts}).argv[-1].endswith("node ./build/server.js")


def test_a_babel_build_without_babels_cli_has_it_added() -> None:
    """Y-Jean's express-todo-api: ``"build": "babel src --out-dir dist"``, @babel/core and
    @babel/node listed, not @babel/cli: its build failed, "babel: not found". Its CLI, of
    the core's major, is added; not where the app lists one, nor without a core."""
    scripts = {"start": "node ./bin/www", "build": "babel src --out-dir dist"}
    core = {"@babel/core": "^7.26.0", "@babel/node": "^7.26.0"}
    found = _node({"scripts": scripts, "devDependencies": core})
    assert found.setup == (("npm", "run", "build"),) and found.node_tools == ("@babel/cli@^7",)
    listed = {**core, "@babel/cli": "^7"}
    assert _node({"scripts": scripts, "devDependencies": listed}).node_tools == ()
    assert _node({"scripts": scripts}).node_tools == ()
    old = {"babel-core": "6.26.3"}
    assert _node({"scripts": scripts, "devDependencies": old}).node_tools == ("babel-cli@^6",)


def test_babel_node_without_a_package_bringing_it_has_one_added() -> None:
    """iceonepiece's parking-lot: ``"dev": "nodemon --exec babel-node src/index.js"``, its
    presets Babel 6's, no babel-cli nor @babel/node listed: "babel-node: not found", exit
    127. Babel 6's CLI, which has it; Babel 7's node where its core is listed or none of
    Babel's is; nothing where the app lists one."""
    scripts = {"dev": "nodemon --exec babel-node src/index.js"}
    six = {"babel-preset-env": "^1.7.0", "babel-preset-stage-0": "^6.24.1"}
    files = {"src/index.js": "import { start } from './app';\nstart();\n"}
    found = _node({"scripts": scripts, "devDependencies": six}, files)
    assert found.argv[-1].endswith("; babel-node src/index.js"), found.argv
    assert "babel-cli@^6" in found.node_tools, found.node_tools
    seven = {"@babel/core": "^7.26.0", "@babel/preset-env": "^7.26.0"}
    found = _node({"scripts": scripts, "devDependencies": seven}, files)
    assert "@babel/node@^7" in found.node_tools and "babel-cli@^6" not in found.node_tools
    found = _node({"scripts": scripts}, files)
    assert {"@babel/node@^7", "@babel/core@^7"} <= set(found.node_tools), found.node_tools
    listed = {**seven, "@babel/node": "^7.26.0"}
    found = _node({"scripts": scripts, "devDependencies": listed}, files)
    assert not any("babel" in tool for tool in found.node_tools), found.node_tools


def test_a_monorepos_one_project_start_is_the_start() -> None:
    """kosAndrey22's Nest-Typeorm-Postgres: no start, ``start:api`` (nest start api),
    ``start:api:prod`` (node dist/apps/api/main) and ``build:api``: "nothing to run". Its
    project's production start runs after its build; several projects: none chosen."""
    scripts = {
        "build:api": "nest build api",
        "start:api": "nest start api",
        "start:api:dev": "nest start api --watch",
        "start:api:prod": "node dist/apps/api/main",
    }
    found = _node({"scripts": scripts})
    assert found.argv == ("npm", "run", "start:api:prod")
    assert found.setup == (("npm", "run", "build:api"),)
    del scripts["build:api"]
    assert _node({"scripts": scripts}).argv == ("npm", "run", "start:api")
    with pytest.raises(BadRequest):
        _node({"scripts": {**scripts, "start:admin": "nest start admin"}})


def test_other_dev_scripts_run_as_they_are() -> None:
    assert _node({"scripts": {"dev": "ts-node src/index.ts"}}).argv == ("npm", "run", "dev")
    chained = _node({"scripts": {"dev": "tsc -w & node --watch dist/index.js"}})
    assert chained.argv == ("npm", "run", "dev")


def test_fixture_with_only_a_dev_script() -> None:
    found = detect({p: t.encode() for p, t in app_files("ts_dev_only").items()})
    assert found.argv[2].endswith("; tsx src/index.ts")
    assert found.node_tools == ()  # its own devDependency


def test_nothing_to_run_in_a_node_upload_suggests_a_node_command() -> None:
    with pytest.raises(BadRequest) as refused:
        _node({"scripts": {"lint": "eslint ."}})
    assert '["npm", "run", "lint"]' in refused.value.message
    assert "uvicorn" not in refused.value.message
    with pytest.raises(BadRequest) as bare:
        detect({"package.json": b"{}"})
    assert '["node", "server.js"]' in bare.value.message


PRISMA_SQLITE = """generator client {
  provider = "prisma-client-js"
}
datasource db {
  provider = "sqlite"
  url      = env("DATABASE_URL")
}
model Note {
  id   Int    @id @default(autoincrement())
  text String
}
"""


def test_prisma_client_is_generated_by_the_build_then_its_database_made() -> None:
    package = {
        "main": "index.js",
        "dependencies": {"@prisma/client": "^6.16.0"},
        "devDependencies": {"typescript": "^5"},  # its build's compiler, listed
        "scripts": {"build": "tsc"},
    }
    files = {"index.js": "", "prisma/schema.prisma": PRISMA_SQLITE}
    found = _node(package, files)
    assert found.prisma_schema == "prisma/schema.prisma"
    assert found.node_tools == ("prisma@^6.16.0",)  # the CLI, of the client's version
    push = ("node_modules/.bin/prisma", "db", "push", "--skip-generate")
    assert found.setup == (("npm", "run", "build"), (*push, "--schema", "prisma/schema.prisma"))
    # Migrations, when it has them, instead of db push.
    migrated = _node(
        package, {**files, "prisma/migrations/20240101_init/migration.sql": "CREATE TABLE x;"}
    )
    assert migrated.setup[-1][1:3] == ("migrate", "deploy")
    # The schema is part of the environment's key: the client generated from it is there.
    raw = {p: t.encode() for p, t in {"package.json": json.dumps(package), **files}.items()}
    schema = "prisma/schema.prisma"
    one = node_dependencies(raw, (), schema)
    other = node_dependencies({**raw, schema: raw[schema] + b"\n"}, (), schema)
    assert one is not None and other is not None and one.key() != other.key()


def test_a_prisma_schema_its_config_file_names_and_a_client_in_its_own_tree() -> None:
    """torruuu's hono-postgresql-starter: prisma.config.ts names its schema
    (src/core/db/prisma/schema.prisma), whose ``prisma-client`` generator writes to
    ``../generated/prisma``, imported as ``@/core/db/generated/prisma/client.js``: never
    generated, "Cannot find package '@/core'"."""
    package = {"main": "src/index.ts", "dependencies": {"@prisma/client": "^7.4.1"}}
    schema = "src/core/db/prisma/schema.prisma"
    generator = 'generator client {\n  provider = "prisma-client"\n'
    generator += '  output = "../generated/prisma"\n}\n'
    files = {
        "src/index.ts": "",
        "prisma.config.ts": f"export default defineConfig({{\n  schema: '{schema}',\n}})\n",
        schema: generator + 'datasource db {\n  provider = "postgresql"\n}\n',
        "src/core/db/prisma/migrations/1_init/migration.sql": "CREATE TABLE x (id int);",
    }
    found = _node(package, files)
    assert found.prisma_schema == schema
    prisma = "node_modules/.bin/prisma"
    assert found.setup == (
        (prisma, "generate", "--schema", schema),
        (prisma, "migrate", "deploy", "--schema", schema),
    )
    # Its client in node_modules (the default, or an output there): the build's.
    default = {**files, schema: files[schema].replace('  output = "../generated/prisma"\n', "")}
    assert _node(package, default).setup == ((prisma, "migrate", "deploy", "--schema", schema),)


def test_no_prisma_steps_without_its_client() -> None:
    found = _node({"main": "index.js"}, {"index.js": "", "prisma/schema.prisma": PRISMA_SQLITE})
    assert found.prisma_schema is None and found.setup == ()


def test_a_procfile_node_app_is_built_and_migrated_and_yarn_is_npm() -> None:
    found = detect({p: t.encode() for p, t in app_files("node_knex_procfile").items()})
    assert (found.framework, found.language) == ("procfile", "node")
    assert found.argv == ("sh", "-c", "npm start")
    assert found.setup == (
        ("node_modules/.bin/knex", "migrate:latest", "--knexfile", "knexfile.js"),
    )
    assert found.notes == ["yarn is not installed here (npm built the environment): npm start"]
    scripts = {"build": "tsc", "serve": "node dist/index.js"}
    files = {"Procfile": "web: pnpm run serve --port 3000\nrelease: node release.js\n"}
    built = _node({"scripts": scripts}, files)
    assert built.argv == ("sh", "-c", "npm run serve -- --port 3000")
    assert built.setup == (("npm", "run", "build"), ("sh", "-c", "node release.js"))
    as_is = _node({"scripts": scripts}, {"Procfile": "web: yarn build && node dist/index.js\n"})
    assert as_is.argv == ("sh", "-c", "yarn build && node dist/index.js")  # not a plain run


def test_a_procfile_release_running_a_script_its_package_lacks_is_not_run() -> None:
    """thejonroberts's booking-node-ts-express-api: ``release: npm run migrate``, its
    scripts' ``db:migrate`` (sequelize-cli, a .sequelizerc naming db/migrations): npm's
    "Missing script" failed the release and the launch, its migrations never run. The
    release is not run, said; its migrations are, as without one. A script it has runs."""
    package = {
        "scripts": {"start": "node dist/server.js", "db:migrate": "sequelize db:migrate"},
        "dependencies": {"sequelize": "^4", "sequelize-cli": "^4", "pg": "^7"},
    }
    files = {
        "Procfile": "web: npm run start\nrelease: npm run migrate\n",
        "migrations/20180530064918-create-genre.js": "module.exports = { up() {} };",
    }
    found = _node(package, files)
    assert found.setup == (("node_modules/.bin/sequelize", "db:migrate"),)
    assert any("runs the script migrate, which its package.json lacks" in n for n in found.notes)
    package["scripts"]["migrate"] = "sequelize db:migrate"
    assert _node(package, files).setup == (("sh", "-c", "npm run migrate"),)


def test_a_procfile_web_line_running_a_script_its_package_lacks_gives_way() -> None:
    """gami34's harperdb-mercurius-fastify-cf-rest: ``web: npm run dev`` and no dev script
    ("Missing script: dev"): the start its package.json declares runs instead, as without
    a Procfile; a web line running a script it has stays."""
    package = {"scripts": {"start": "node dist/index.js", "build": "tsc"}}
    files = {"Procfile": "web: npm run dev\n", "src/index.ts": "app.listen(3000);"}
    found = _node(package, files)
    assert found.framework != "procfile" and "npm run dev" not in " ".join(found.argv)
    package["scripts"]["dev"] = "tsnd src/index.ts"
    assert _node(package, files).framework == "procfile"


def test_a_start_script_naming_a_file_alone_is_run_by_node() -> None:
    """CrispenGari's SQLite3-with-knex-express-API: ``"start": "index.js"``, which the
    shell npm runs scripts in takes for a command: "index.js: not found", exit 127. Its
    file, run by node; a script naming a file the upload lacks, or a command, as it is."""
    package = {"main": "index.js", "scripts": {"start": "index.js"}}
    found = _node(package, {"index.js": "require('./api/server').listen(5000);"})
    assert found.argv == ("node", "index.js")
    assert found.notes == [
        "its start script names its file index.js alone (sh: not found): node runs it"
    ]
    assert _node(package, {"server.js": ""}).argv[:2] == ("npm", "start")
    package["scripts"]["start"] = "node index.js"
    assert _node(package, {"index.js": ""}).argv[:2] == ("npm", "start")
    # dwiyuliani's expressJS-mysql: the file handed to npm ('Unknown command')
    package = {"main": "src/index.js", "scripts": {"start": "npm src/index.js"}}
    assert _node(package, {"src/index.js": ""}).argv == ("node", "src/index.js")


def test_a_start_script_running_a_packages_folder_runs_its_command() -> None:
    """jdeekonda's node-express-cms: ``"start": "./node_modules/nodemon express-server.js"``,
    a folder the shell cannot run ("Permission denied", exit 126). The command the
    package is named for runs instead, its watcher off as any start's; a folder of a
    package the app does not list, or the package's bin, as it is."""
    package = {
        "main": "express-server.js",
        "dependencies": {"express": "^4", "nodemon": "^1"},
        "scripts": {"start": "./node_modules/nodemon express-server.js"},
    }
    found = _node(package, {"express-server.js": "require('express')().listen(3000)"})
    assert found.argv == ("sh", "-c", f"{BIN_FIRST_ON_PATH}node express-server.js")
    assert found.notes == [
        "its start script runs a package's folder (node_modules/nodemon): its command"
        " nodemon: the start script without its watcher: node express-server.js"
    ]
    package["scripts"]["start"] = "node_modules/.bin/nodemon express-server.js"
    assert _node(package, {"express-server.js": ""}).argv[:2] == ("npm", "start")
    package["scripts"]["start"] = "./node_modules/serve build"
    assert _node(package, {"express-server.js": ""}).argv[:2] == ("npm", "start")


def test_a_knexfile_in_a_subfolder_is_migrated_from_there() -> None:
    found = detect({p: t.encode() for p, t in app_files("node_knex_subfolder").items()})
    assert found.setup == (
        ("node_modules/.bin/knex", "migrate:latest", "--knexfile", "server/knexfile.js"),
    )


def test_a_build_that_prestart_runs_is_not_a_setup_step_too() -> None:
    scripts = {"build": "babel src -d dist", "prestart": "npm run -s build", "start": "node dist"}
    found = _node({"scripts": scripts})
    # The pre-script builds it once, as a set-up step; the start then runs without it.
    assert found.setup == (("npm", "run", "prestart"),)
    assert found.argv[-1] == "--ignore-scripts"


def test_knex_migrations_need_knex_and_migrations() -> None:
    knexfile = {"knexfile.js": "module.exports = { client: 'pg' }"}
    migration = {"migrations/001_init.js": "exports.up = () => {}"}
    with_knex = {"dependencies": {"knex": "^3"}, "scripts": {"start": "node server.js"}}
    found = _node(with_knex, {**knexfile, **migration})
    knex = ("node_modules/.bin/knex", "migrate:latest", "--knexfile", "knexfile.js")
    assert found.setup == (knex,)
    assert _node(with_knex, knexfile).setup == ()  # no migrations
    assert _node({"scripts": {"start": "node server.js"}}, {**knexfile, **migration}).setup == ()
    # A template literal from the knexfile's folder (rickymbru's node-postgres-knex: no
    # step, the app's first query "relation "projects" does not exist").
    here = {
        "knexfile.js": "module.exports = { client: 'pg', migrations: { directory:"
        " `${__dirname}/src/database/migrations` } }",
        "src/database/migrations/001_init.js": "exports.up = () => {}",
    }
    assert _node(with_knex, here).setup == (knex,)
    # Concatenated to __dirname (ccreaney's express-objection-api: its migrations never
    # ran, relation "users" does not exist).
    joined = {
        "knexfile.js": "module.exports = { development: { client: 'pg', migrations: {"
        " tableName: 'migrations', directory: __dirname + '/src/db/migrations' } } }",
        "src/db/migrations/001_users.js": "exports.up = () => {}",
    }
    assert _node(with_knex, joined).setup == (knex,)


def test_a_typescript_knexfile_of_an_es_module_package_is_loaded_by_ts_nodes_esm_loader() -> None:
    """stivendiaz's nodejs-sales-express (``"type": "module"``, knexfile.ts): knex's
    CommonJS hook for .ts met "Unknown file extension ".ts" for knexfile.ts", and its
    tables were never made. Run under ts-node/esm, as its own script runs knex; a
    CommonJS package's knexfile.ts keeps knex's own hook."""
    files = {
        "knexfile.ts": "export default { migrations: { directory: './knex/migrations' } }",
        "knex/migrations/001_products.ts": "export async function up() {}",
    }
    listed = {"dependencies": {"knex": "^2", "ts-node": "^10"}, "scripts": {"start": "node x"}}
    esm = ("node", "--loader", "ts-node/esm", "node_modules/knex/bin/cli.js")
    found = _node({**listed, "type": "module"}, files)
    assert found.setup == ((*esm, "migrate:latest", "--knexfile", "knexfile.ts"),)
    commonjs = ("node_modules/.bin/knex", "migrate:latest", "--knexfile", "knexfile.ts")
    assert _node(listed, files).setup == (commonjs,)


def test_drizzle_migrations_need_drizzle_kit_and_a_journal() -> None:
    config = {"drizzle.config.ts": 'export default { out: "./src/db/migrations" }'}
    journal = {"src/db/migrations/meta/_journal.json": "{}"}
    kit = {"devDependencies": {"drizzle-kit": "^0.31"}, "scripts": {"start": "node dist"}}
    step = ("node_modules/.bin/drizzle-kit", "migrate", "--config", "drizzle.config.ts")
    assert _node(kit, {**config, **journal}).setup == (step,)
    assert _node(kit, config).setup == ()  # nothing generated yet
    assert _node({"scripts": {"start": "node dist"}}, {**config, **journal}).setup == ()
    default_out = {"drizzle.config.ts": "export default {}", "drizzle/meta/_journal.json": "{}"}
    assert _node(kit, default_out).setup == (step,)


def test_drizzle_kit_1_migrations_are_folders_without_a_journal() -> None:
    """ronsj's Hono API (drizzle-kit ^1.0.0-rc.3): its migrations are
    src/db/migrations/<when>_<name>/migration.sql with no meta/_journal.json; nothing ran
    them, and /authors answered 500 (relation "authors" does not exist)."""
    config = {"drizzle.config.ts": 'export default { out: "./src/db/migrations" }'}
    folders = {
        "src/db/migrations/20260529212308_spicy_fallen_one/migration.sql": "CREATE TABLE a ();",
        "src/db/migrations/20260529212308_spicy_fallen_one/snapshot.json": "{}",
    }
    kit = {"devDependencies": {"drizzle-kit": "^1.0.0-rc.3"}, "scripts": {"start": "node dist"}}
    step = ("node_modules/.bin/drizzle-kit", "migrate", "--config", "drizzle.config.ts")
    assert _node(kit, {**config, **folders}).setup == (step,)
    # A migration.sql elsewhere (deeper, or the out folder's own) is no such folder.
    deeper = {"src/db/migrations/x/y/migration.sql": "", "src/db/migrations/migration.sql": ""}
    assert _node(kit, {**config, **deeper}).setup == ()


def test_drizzle_migrations_the_start_applies_are_generated_first() -> None:
    """Kei-K23's RBAC Fastify API: its main.ts runs drizzle-orm's migrator on
    ./migrations, which is not committed; its ``migrate`` script (``drizzle-kit
    generate:pg``) writes them from the schema: without it, "Can't find
    meta/_journal.json file" at start."""
    scripts = {"dev": "tsx watch src/main.ts", "migrate": "drizzle-kit generate:pg"}
    kit = {"devDependencies": {"drizzle-kit": "^0.19.13"}, "scripts": scripts}
    main = 'import { migrate } from "drizzle-orm/node-postgres/migrator";\nmigrate(db, {});'
    files = {"drizzle.config.json": '{"out": "./migrations"}', "src/main.ts": main}
    assert _node(kit, files).setup == (("npm", "run", "migrate"),)
    # The start applies none itself: nothing to generate for it.
    assert _node(kit, {**files, "src/main.ts": "listen()"}).setup == ()


def test_a_drizzle_kit_before_0_21_migrates_by_drizzle_orms_migrator() -> None:
    files = {p: t.encode() for p, t in app_files("node_drizzle_old").items()}
    (step,) = detect(files).setup
    assert step[:2] == ("node", "-e")
    assert 'require("drizzle-orm/node-postgres/migrator")' in step[2]
    assert 'address = process.env["POSTGRES_URL"]' in step[2]  # its config's variable
    assert 'migrationsFolder: "migrations"' in step[2]
    # A URL written as a template of variables (PetarIvanov01's DrizzleExpress-API): that
    # template, not its first variable (its password, which pg read as a host: "base").
    url = "`postgres://postgres:${process.env.DB_PASSWORD}@localhost:${process.env.DB_PORT}/db`"
    config = files["drizzle.config.js"].replace(
        b"connectionString: process.env.POSTGRES_URL", f"url: {url}".encode()
    )
    templated = {**files, "drizzle.config.js": config}
    (step,) = detect(templated).setup
    braced = url.replace("{", "{{").replace("}", "}}")  # (a step is a template)
    assert f"const address = {braced};" in step[2]
    package = json.loads(files["package.json"])
    package["devDependencies"]["drizzle-kit"] = "^0.21.0"
    files["package.json"] = json.dumps(package).encode()
    assert detect(files).setup[0][1] == "migrate"


def test_an_orm_loading_ts_files_runs_as_the_apps_development_script() -> None:
    files = {p: t.encode() for p, t in app_files("ts_typeorm_entities").items()}
    found = detect(files)
    assert found.argv[2].endswith(
        "; ts-node --transpile-only src/server.ts"
    )  # nodemon --exec, watcher off
    assert found.setup == ()  # its build is not needed
    assert found.notes == [
        "its ORM loads src/entity/**/*.ts (src/config.ts) at run time, which the built "
        "JavaScript cannot: the watch-server script without its watcher: "
        "ts-node --transpile-only src/server.ts"
    ]
    package = json.loads(files["package.json"])
    # No such script: its main's TypeScript source, with its ts-node (decorator metadata).
    scripts = {k: v for k, v in package["scripts"].items() if k != "watch-server"}
    alone = {**files, "package.json": json.dumps({**package, "scripts": scripts}).encode()}
    assert detect(alone).argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/server.ts")
    # Globs the built JS loads too, a start that runs TypeScript itself, or no ORM: as before.
    both = {**files, "src/config.ts": b'export const entities = ["dist/**/*.entity{.ts,.js}"];'}
    assert detect(both).argv == ("npm", "start", "--silent")
    ts_start = {**package["scripts"], "start": "ts-node --transpile-only src/server.ts"}
    own = {**files, "package.json": json.dumps({**package, "scripts": ts_start}).encode()}
    assert detect(own).argv == ("npm", "start", "--silent")
    plain = {**package, "dependencies": {"pg": "^8"}}
    assert detect({**files, "package.json": json.dumps(plain).encode()}).setup == (
        ("npm", "run", "build"),
    )


def test_a_ts_and_js_glob_over_typescript_sources_runs_the_entry_registering_ts_node() -> None:
    """An ormconfig given only as its example, its entities ``src/**/*.entity{.ts,.js}``
    (src/ holds TypeScript only: node would load .ts), a start script whose entry
    registers ts-node: that script, not the built start:prod (nor its tsc)."""
    scripts = {
        "start": "node index.js",
        "prestart:prod": "tsc",
        "start:prod": "node dist/main.js",
    }
    files = {
        "package.json": json.dumps(
            {"main": "index.js", "scripts": scripts, "dependencies": {"typeorm": "^0.2"}}
        ),
        "index.js": "require('ts-node/register');\nrequire('./src/main');\n",
        "src/main.ts": "",
        "src/user/user.entity.ts": "",
        "ormconfig.json.example": '{"type": "mysql", "entities": ["src/**/**.entity{.ts,.js}"]}',
    }
    found = _node(json.loads(files.pop("package.json")), files)
    assert found.argv == ("npm", "start", "--silent") and found.setup == ()
    assert found.notes == [
        "its ORM loads src/**/**.entity{.ts,.js} (ormconfig.json.example) at run time, which "
        "the built JavaScript cannot: the start script (node index.js), whose entry loads "
        "TypeScript itself"
    ]
    # The same glob over built JavaScript (dist/ in the upload): the built start, as before.
    built = {**files, "dist/main.js": "", "dist/user/user.entity.js": ""}
    built["ormconfig.json.example"] = built["ormconfig.json.example"].replace("src/", "dist/")
    package = {"main": "index.js", "scripts": scripts, "dependencies": {"typeorm": "^0.2"}}
    assert _node(package, built).argv == ("npm", "run", "start:prod", "--ignore-scripts")


def test_decorator_metadata_asks_for_ts_node_over_tsx() -> None:
    dev = {"dev": "nodemon src/index.ts"}
    listed = {"ts-node": "^10"}
    config = {"tsconfig.json": '{"compilerOptions": {"emitDecoratorMetadata": true}}'}
    found = _node({"scripts": dev, "devDependencies": listed}, config)
    assert (
        found.argv[2].endswith("; ts-node --transpile-only src/index.ts") and found.node_tools == ()
    )
    assert _node({"scripts": dev, "devDependencies": listed}).argv[2].endswith("; tsx src/index.ts")
    # Said in the tsconfig it extends (NestJS monorepos, tsconfig.base.json).
    extended = {
        "tsconfig.json": '{"extends": "./tsconfig.base.json", "include": ["src"]}',
        "tsconfig.base.json": '{"compilerOptions": {"emitDecoratorMetadata": true}}',
    }
    found = _node({"scripts": dev, "devDependencies": listed}, extended)
    assert found.argv[2].endswith("; ts-node --transpile-only src/index.ts"), found.argv
    # TypeScript's own decorators alone (000eze000's jwt-express-typescrit-sequelize, its
    # tsconfig including "scr": tsx gave its models the standard ones, and
    # sequelize-typescript's @Column failed).
    legacy = {"tsconfig.json": '{"compilerOptions": {"experimentalDecorators": true}}'}
    found = _node({"scripts": dev, "devDependencies": listed}, legacy)
    assert found.argv[2].endswith("; ts-node --transpile-only src/index.ts"), found.argv


def test_a_module_importing_after_it_exports_runs_in_its_order_under_ts_node() -> None:
    """LuiFeAn's express-contacts-api: router/index.ts exports its Router, then imports the
    route modules that import it back (CommonJS, its tsconfig's module); tsx hoists the
    imports first: "Cannot read properties of undefined (reading 'post')". ts-node keeps
    the order; imports only at the top, or an ES module's tsconfig, stay tsx's."""
    dev = {"start:dev": "ts-node-dev --respawn --transpile-only src/server.ts"}
    package = {"scripts": dev, "dependencies": {"ts-node-dev": "^2"}}
    late = (
        'import { Router } from "express";\nconst router = Router();\n'
        'export default router;\n\nimport "./users.routes";\n'
    )
    files = {
        "tsconfig.json": '{"compilerOptions": {"module": "commonjs"}}',
        "src/server.ts": 'import router from "./router";\n',
        "src/router.ts": late,
        "src/users.routes.ts": 'import router from "./router";\nrouter.get("/", () => 1);\n',
    }
    found = _node(package, files)
    assert found.argv[2].endswith("; ts-node --transpile-only src/server.ts"), found.argv
    typed_import = 'import type { Routes } from "./users.routes";\n'
    typed = {**files, "src/router.ts": late.replace('import "./users.routes";\n', typed_import)}
    assert _node(package, typed).argv[2].endswith("; tsx src/server.ts")
    esm = {**files, "tsconfig.json": '{"compilerOptions": {"module": "esnext"}}'}
    assert _node(package, esm).argv[2].endswith("; tsx src/server.ts")


def test_a_namespace_import_called_runs_under_ts_node_without_interop() -> None:
    """rodrigoribeirosilva's restaurant-api-express-knex: ``import * as knex from 'knex'``
    then ``knex({...})``, CommonJS without esModuleInterop, where TypeScript's emit binds
    the module itself; tsx binds a namespace: "TypeError: knex is not a function". With
    esModuleInterop, or a namespace only read (``path.join``), tsx stays."""
    dev = {"dev": "ts-node-dev src/server.ts"}
    package = {"scripts": dev, "dependencies": {"ts-node-dev": "^2"}}
    factory = "import * as knex from 'knex';\nexport const db = knex({ client: 'mysql2' });\n"
    files = {
        "tsconfig.json": '{"compilerOptions": {"module": "commonjs"}}',
        "src/server.ts": 'import { db } from "./db";\n',
        "src/db.ts": factory,
    }
    found = _node(package, files)
    assert found.argv[2].endswith("; ts-node --transpile-only src/server.ts"), found.argv
    interop = '{"compilerOptions": {"module": "commonjs", "esModuleInterop": true}}'
    assert (
        _node(package, {**files, "tsconfig.json": interop}).argv[2].endswith("; tsx src/server.ts")
    )
    read = {
        **files,
        "src/db.ts": "import * as path from 'path';\nexport const p = path.join('a');\n",
    }
    assert _node(package, read).argv[2].endswith("; tsx src/server.ts")


def test_decorator_metadata_runs_ts_node_where_the_app_lacks_it() -> None:
    """obeim's fastify-ecommerce-api: TypeORM entities, emitDecoratorMetadata on, its dev
    script ``nodemon src/index.ts`` (whose default for a .ts file is ts-node), ts-node not
    listed; run with tsx, TypeORM could not tell a column's type. ts-node is added, with
    the compiler where the app lacks it; a tsx script run through ts-node's hook likewise."""
    config = {"tsconfig.json": '{"compilerOptions": {"emitDecoratorMetadata": true}}'}
    package = {"scripts": {"dev": "nodemon src/index.ts"}, "devDependencies": {"nodemon": "^3"}}
    found = _node(package, config)
    assert found.argv[2].endswith("; ts-node --transpile-only src/index.ts"), found.argv
    assert found.node_tools == ("ts-node@^10", "typescript@^5"), found.node_tools
    package["devDependencies"]["typescript"] = "^5"
    assert _node(package, config).node_tools == ("ts-node@^10",)
    # Its ORM loading .ts files at run time, its dev script tsx's: ts-node's hook.
    orm = {
        "scripts": {"dev": "tsx watch src/index.ts", "build": "tsc", "start": "node dist/index.js"},
        "dependencies": {"typeorm": "^0.3"},
        "devDependencies": {"tsx": "^4", "typescript": "^5"},
    }
    source = {**config, "src/data-source.ts": 'export const m = ["src/migration/**/*.ts"];'}
    found = _node(orm, source)
    assert "-r ts-node/register/transpile-only src/index.ts" in found.argv[2], found.argv
    assert found.node_tools == ("ts-node@^10",), found.node_tools


def test_pnpm_locked_versions_pin_the_direct_dependencies() -> None:
    files = {p: t.encode() for p, t in app_files("node_pnpm_locked").items()}
    deps = _deps(files)
    assert json.loads(deps.package_json)["dependencies"] == {"ms": "2.0.0"}
    assert deps.lockfile is None and deps.note is not None
    v5 = b"lockfileVersion: 5.4\nspecifiers:\n  ms: ^2.0.0\ndependencies:\n  ms: 2.1.2\n"
    assert json.loads(_deps({**files, "pnpm-lock.yaml": v5}).package_json)["dependencies"] == {
        "ms": "2.1.2"
    }
    with_npm_lock = {**files, "package-lock.json": b"{}"}
    assert _deps(with_npm_lock).package_json == files["package.json"]


def test_a_sqlite_apps_own_set_up_scripts_make_its_data() -> None:
    """Sequelize's express-example: its tables and rows come from `npm run
    setup-example-db`, then a seed script; a test's set-up script is not one of them."""
    found = detect({p: t.encode() for p, t in app_files("node_sqlite_setup_script").items()})
    assert found.setup == (("npm", "run", "setup-example-db"), ("npm", "run", "seed"))
    sqlite = {"sqlite3": "^5", "sequelize": "^6"}
    for name in ("db:init", "init-db", "create-tables", "db:setup", "reset_database"):
        found = _node({"dependencies": sqlite, "scripts": {"start": "node .", name: "node x"}})
        assert found.setup == (("npm", "run", name),), name


def test_a_sqlite_apps_migration_script_making_its_tables_runs_before_its_seed() -> None:
    """urfavteddybear's express-library-api: ``"migration": "node database/migration.js"``
    (its CREATE TABLEs) and ``"seed"``, which its Dockerfile RUNs before ``node app.js``;
    every route met "no such table". One whose file makes no table is not run."""
    sqlite = {"sqlite3": "^5"}
    scripts = {
        "start": "node app.js",
        "dev": "node database/migration.js && node database/seed.js",
        "migration": "node database/migration.js",
        "seed": "node database/seed.js",
    }
    files = {
        "app.js": "",
        "database/migration.js": "db.run(`CREATE TABLE IF NOT EXISTS books (id INTEGER)`);",
        "database/seed.js": "db.run('INSERT INTO books VALUES (1)');",
    }
    found = _node({"dependencies": sqlite, "scripts": scripts}, files)
    assert found.setup == (("npm", "run", "migration"), ("npm", "run", "seed"))
    empty = {**files, "database/migration.js": "console.log('nothing');"}
    assert _node({"dependencies": sqlite, "scripts": scripts}, empty).setup == ()


def test_a_migration_script_loading_its_migrations_by_name_makes_the_tables() -> None:
    """Glebvvss's restaurant-express-js (sqlite-async): ``"migrate": "node ./migrate.js"``,
    which imports src/core/db.js, which requires ``../migrations/${name}.js``, whose
    0_schema.js sends the CREATE TABLEs; every route met "no such table: reserves"."""
    scripts = {"serve": "nodemon index.js", "migrate": "node ./migrate.js"}
    files = {
        "index.js": "",
        "migrate.js": "const { migrate } = require('./src/core/db.js')\nmigrate('0_schema')\n",
        "src/core/db.js": "const migrate = name => require(`../migrations/${name}.js`)\n",
        "src/migrations/0_schema.js": "db.run(`CREATE TABLE tables (n INTEGER)`)\n",
    }
    package = {"dependencies": {"sqlite-async": "^1.1.0", "express": "^4"}, "scripts": scripts}
    assert _node(package, files).setup == (("npm", "run", "migrate"),)
    elsewhere = {**files, "src/migrations/0_schema.js": "console.log('no table')\n"}
    assert _node(package, elsewhere).setup == ()


def test_a_script_named_for_the_database_alone_running_its_table_making_file() -> None:
    """larrythng96's simple-libsql-drizzle-express: ``"db": "node src/db/seed.js"``, whose
    file sends CREATE TABLE IF NOT EXISTS and its rows (the README's ``npm run db``); /users
    met no such table. Run before the start; not where the file makes no table."""
    libsql = {"@libsql/client": "^0.17", "drizzle-orm": "^0.45", "express": "^5"}
    scripts = {"dev": "nodemon src/index.js", "db": "node src/db/seed.js"}
    files = {
        "src/index.js": "",
        "src/db/seed.js": "await db.run(sql`CREATE TABLE IF NOT EXISTS users (id INTEGER)`);",
    }
    package = {"dependencies": libsql, "devDependencies": {"drizzle-kit": "^0.31"}}
    found = _node({**package, "scripts": scripts}, files)
    assert found.setup == (("npm", "run", "db"),)
    plain = {**files, "src/db/seed.js": "console.log('hello');"}
    assert _node({"dependencies": libsql, "scripts": scripts}, plain).setup == ()


def test_bun_sqlite_apps_database_scripts_run_before_it() -> None:
    """fajaralfa's belajar-hono keeps its data in Bun's own SQLite (``bun:sqlite``, which
    no package lists) and makes its tables in ``"db:create": "bun run script/db:create.ts"``
    (its schema.sql), seeding in ``db:seed``: / met "no such table: users". Its scripts
    named for making and seeding the database run before it, as a listed SQLite
    client's do; not where nothing opens bun:sqlite."""
    scripts = {
        "dev": "bun run --hot src/index.ts",
        "db:create": "bun run script/db:create.ts",
        "db:seed": "bun run script/db:seed.ts",
    }
    files = {
        "src/index.ts": "import { Hono } from 'hono'\n",
        "src/ext.ts": 'import { Database } from "bun:sqlite"\nexport const db = new Database()\n',
        "script/db:create.ts": "db().exec(await Bun.file('./src/schema.sql').text())\n",
    }
    package = {"type": "module", "dependencies": {"hono": "^4"}, "scripts": scripts}
    found = _node(package, files)
    assert found.setup[-2:] == (("npm", "run", "db:create"), ("npm", "run", "db:seed")), found
    plain = {**files, "src/ext.ts": "export const db = () => null\n"}
    assert ("npm", "run", "db:create") not in _node(package, plain).setup


def test_a_file_making_the_tables_that_its_readme_runs_first_is_a_setup_step() -> None:
    """fariswd's honobun: its README says "Rename, init, run" (``bun run
    ./src/config/init.ts``, its only ``CREATE TABLE``, then ``bun run ./src/app.ts``), no
    script naming it: /product met "no such table". The README's run of a file of the
    upload making the tables is a set-up step; not one of a file making none."""
    readme = (
        "# Hono Bun\n\n## To run:\n\n```bash\nmv ./.env_copy ./.envs\n"
        "bun run ./src/config/init.ts\nbun run ./src/app.ts\n```\n"
    )
    files = {
        "README.md": readme,
        "src/app.ts": "import { Hono } from 'hono'\nconst app = new Hono()\nexport default app\n",
        "src/config/init.ts": (
            'import { Database } from "bun:sqlite";\nconst db = new Database("p.db");\n'
            'db.run("CREATE TABLE products(id TEXT, name TEXT)");\n'
        ),
    }
    package = {"dependencies": {"hono": "^4"}, "scripts": {"test": "exit 1"}}
    found = _node(package, files)
    init = 'export PATH="$PWD/node_modules/.bin:$PATH"; bun run ./src/config/init.ts'
    assert ("sh", "-c", init) in found.setup, found
    files["src/config/init.ts"] = 'import { Database } from "bun:sqlite";\n'
    assert not any("init.ts" in " ".join(step) for step in _node(package, files).setup)


def test_a_script_copying_its_seed_to_the_data_file_it_reads_runs_first() -> None:
    """Gerpha's express-file-crud: ``"reset": "cp db/seed.json db/data.json"``, its
    data_store reading ``./db/data.json`` (kept out by its .gitignore) at start: ENOENT, the
    app died. A copy of a file of the upload to one it lacks that its code reads runs as a
    set-up step; not where the upload has the file, nor where no code names it."""
    scripts = {"watch": "nodemon", "reset": "cp db/seed.json db/data.json"}
    store = "fs.readFile('./db/data.json', 'utf8', (err, data) => { if (err) throw err })"
    files = {"app.js": "require('./data_store')", "data_store.js": store, "db/seed.json": "[]"}
    package = {"main": "app.js", "dependencies": {"express": "^4"}, "scripts": scripts}
    assert _node(package, files).setup == (("npm", "run", "reset"),)
    assert _node(package, {**files, "db/data.json": "[]"}).setup == ()
    assert _node(package, {**files, "data_store.js": "module.exports = {}"}).setup == ()


def test_no_own_data_scripts_on_a_server_database_or_with_migrations() -> None:
    scripts = {"start": "node server.js", "db:create": "node c.js", "db:seed": "node s.js"}
    # fastify/demo's shape: its MySQL database and user are the service's to make.
    assert _node({"dependencies": {"mysql2": "^3"}, "scripts": scripts}).setup == ()
    both = {"sqlite3": "^5", "pg": "^8"}  # either: the server's, when the service gives one
    assert _node({"dependencies": both, "scripts": scripts}).setup == ()
    seed_only = {"start": "node server.js", "seed": "node s.js"}  # needs tables it makes not
    assert _node({"dependencies": {"sqlite3": "^5"}, "scripts": seed_only}).setup == ()
    # Unless its file makes them itself (christianjtr's express-rest-api-sequelize).
    makes = {"s.js": "await Profile.sync({ force: true });"}
    found = _node({"dependencies": {"sqlite3": "^5"}, "scripts": seed_only}, makes)
    assert found.setup == (("npm", "run", "seed"),)
    knex = {"sqlite3": "^5", "knex": "^3"}
    files = {"knexfile.js": "module.exports = {}", "migrations/001.js": "exports.up = () => {}"}
    found = _node({"dependencies": knex, "scripts": scripts}, files)
    knex_step = ("node_modules/.bin/knex", "migrate:latest", "--knexfile", "knexfile.js")
    assert found.setup == (knex_step,)
    released = _node(
        {"dependencies": {"sqlite3": "^5"}, "scripts": scripts},
        {"Procfile": "web: npm start\nrelease: node migrate.js\n"},
    )
    assert released.setup == (("sh", "-c", "node migrate.js"),)


def test_yarn_locked_versions_pin_the_direct_dependencies() -> None:
    """awesome-nest-boilerplate's swc plugin must match its @swc/core: npm gave each the
    newest its range allows, and the build failed on 98 files; yarn.lock had them paired."""
    files = {p: t.encode() for p, t in app_files("node_yarn_locked").items()}
    deps = _deps(files)
    assert json.loads(deps.package_json)["dependencies"] == {"ms": "2.0.0"}
    assert deps.note == "yarn.lock: 1 dependencies at its locked versions (npm reads none)"
    package = json.dumps({"dependencies": {"@swc/core": "^1.11.1", "own": "file:./own"}})
    berry = b"""__metadata:
  version: 8

"@swc/core@npm:^1.11.1, @swc/core@npm:^1.3.0":
  version: 1.11.5
  resolution: "@swc/core@npm:1.11.5"

"own@file:./own::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
"""
    pinned = _deps({"package.json": package.encode(), "yarn.lock": berry})
    assert json.loads(pinned.package_json)["dependencies"] == {
        "@swc/core": "1.11.5",
        "own": "file:./own",
    }


def test_a_start_script_whose_runner_loads_nothing_gives_way_to_the_dev_script() -> None:
    # gothinkster's Moleculer RealWorld: npm start's moleculer-runner loads no service
    # (its Dockerfile sets SERVICEDIR) and the broker stopped at once, exit code 0.
    found = detect({p: t.encode() for p, t in app_files("node_runner_loads_nothing").items()})
    assert found.argv[:2] == ("sh", "-c") and found.argv[2].endswith("; moleculer-runner services")
    assert found.notes == [
        "the start script (moleculer-runner) loads nothing: "
        "the dev script without its watcher: moleculer-runner services"
    ]
    # Told what to load (by its arguments, the script's variables or the app's .env),
    # the start script stays; so does a start with no script naming what to load.
    dev = "moleculer-runner --hot services"
    for start, env in (
        ("moleculer-runner services", ""),
        ("SERVICEDIR=services moleculer-runner --env", ""),
        ("moleculer-runner", "SERVICES=api,greeter\n"),
    ):
        files = {".env": env} if env else {}
        assert _node({"scripts": {"start": start, "dev": dev}}, files).argv == (
            "npm",
            "start",
            "--silent",
        )
    assert _node({"scripts": {"start": "moleculer-runner"}}).argv == ("npm", "start", "--silent")
    # node alone is a REPL: the script running the server is the one.
    served = _node({"scripts": {"start": "node", "serve": "node server.js"}})
    assert served.argv[2].endswith("; node server.js")
    assert served.notes == [
        "the start script (node) loads nothing: the serve script: node server.js"
    ]


def test_a_main_neither_uploaded_nor_built_is_npms_default_not_the_entry() -> None:
    """eflem00's koa-boilerplate: ``"main": "index.js"`` (npm init's), a tsc build into
    build/, only start:dev: it runs as start:dev does (once), not ``node index.js``."""
    found = detect({p: t.encode() for p, t in app_files("node_main_unmade").items()})
    assert found.argv[:2] == ("sh", "-c"), found.argv
    assert found.argv[2].endswith("; ts-node --transpile-only src/server.ts"), found.argv
    assert found.notes == [
        "its main (index.js) is not in the upload nor made by its build: the start:dev"
        " script without its watcher: ts-node --transpile-only src/server.ts"
    ]
    # Made by the build: under its outDir (or dist/ …), from its .ts source, or named.
    tsconfig = {"tsconfig.json": '{"compilerOptions": {"outDir": "./out-js"}}'}
    made_by_build = [
        ("out-js/index.js", tsconfig),
        ("dist/main.js", {}),
        ("index.js", {"index.ts": ""}),
    ]
    for main, extra in made_by_build:
        made = _node({"main": main, "scripts": {"build": "tsc", "dev": "x"}}, extra)
        assert made.argv == ("node", main), (main, made.argv)
    # From its .ts source, where tsc writes it: beside it without an outDir, else below the
    # outDir at its path from the rootDir (veressgergo88's kenn-crud backend: "main":
    # "index.js", src/index.ts, "outDir": "./out": "Cannot find module 'index.js'").
    written_elsewhere = [
        ("server.js", {"src/server.ts": ""}, "src/server.js"),
        ("index.js", {"src/index.ts": "", "src/db.ts": "", **tsconfig}, "out-js/index.js"),
        (  # tsc --init's tsconfig: every other option a comment
            "index.js",
            {
                "src/index.ts": "",
                "tsconfig.json": '{"compilerOptions": {\n    // "rootDir": "./",\n'
                ' /* "outDir": "lib" */ "outDir": "./out", /* Emit */\n  }\n}',
            },
            "out/index.js",
        ),
        (
            "index.js",
            {"src/index.ts": "", "scripts/seed.ts": "", **tsconfig},
            "out-js/src/index.js",
        ),
        (
            "index.js",
            {
                "src/index.ts": "",
                "tsconfig.json": '{"compilerOptions": {"outDir": "o", "rootDir": "."}}',
            },
            "o/src/index.js",
        ),
    ]
    for main, extra, written in written_elsewhere:
        made = _node({"main": main, "scripts": {"build": "tsc", "dev": "x"}}, extra)
        assert made.argv == ("node", written), (main, extra, made.argv)
        assert made.notes == [f"its main ({main}) is its build's {written}"]
    named = _node({"main": "bundle.js", "scripts": {"build": "webpack -o bundle.js"}})
    assert named.argv == ("node", "bundle.js")


def test_a_script_serving_the_built_app_under_another_name_starts_it() -> None:
    """hi-ogawa's typescript-express-example: ``build`` (tsc) and ``"server": "node
    build/server.js"``, no start script, no main: was nothing_to_run."""
    scripts = {"build": "tsc", "server": "node build/server.js", "routes": "ts-node x.ts"}
    found = _node({"scripts": scripts})
    assert found.argv == ("npm", "run", "server")
    assert found.setup == (("npm", "run", "build"),)
    prod = _node({"scripts": {"prod": "NODE_ENV=production node --enable-source-maps dist/a.js"}})
    assert prod.argv == ("npm", "run", "prod")
    # Not a plain node start (a frontend's dev server): not taken for one.
    with pytest.raises(BadRequest):
        _node({"scripts": {"serve": "vue-cli-service serve"}})


def test_a_script_generating_a_source_the_app_imports_runs_before_the_build() -> None:
    """hi-ogawa's typescript-express-example: src/app.ts imports ./routes, which its
    ``routes`` script writes (src/routes.ts, not committed): tsc failed on it (TS2307)."""
    found = detect({p: t.encode() for p, t in app_files("node_generated_routes").items()})
    assert found.setup == (("npm", "run", "routes"), ("npm", "run", "build")), found.setup
    assert found.argv == ("npm", "run", "server")
    # Named but committed, or written and imported by nobody: no set-up step.
    files = app_files("node_generated_routes")
    committed = {**files, "src/routes.ts": "export const routes = [];\n"}
    assert detect({p: t.encode() for p, t in committed.items()}).setup == (("npm", "run", "build"),)
    unused = {**files, "src/app.ts": 'import express from "express";\n'}
    assert detect({p: t.encode() for p, t in unused.items()}).setup == (("npm", "run", "build"),)


def test_a_server_one_folder_down_that_listens_is_run_with_the_roots_packages() -> None:
    # dbaigara's first-app: "main": "index.js" (absent), no start or dev script; the
    # express server in backend/server.js, the React app in frontend/ with its own
    # package.json. It was refused: "Found no way to start this app".
    server = "const app = require('express')();\napp.listen(process.env.PORT || 3001);\n"
    package = {"main": "index.js", "dependencies": {"express": "^4", "sqlite3": "^5"}}
    files = {"backend/server.js": server, "frontend/package.json": "{}"}
    assert _node(package, files).argv == ("node", "backend/server.js")
    # A folder that is a project of its own, or a file that does not listen, is not one.
    with pytest.raises(BadRequest):
        _node(package, {**files, "backend/package.json": "{}"})
    with pytest.raises(BadRequest):
        _node(package, {"backend/server.js": "module.exports = {};\n"})


def test_the_one_module_named_as_an_entry_that_listens_is_run() -> None:
    # jinfazhu-mygit's koa backend: npm init's main (index.js, absent), no scripts; its
    # src/main.js calls app.listen: refused, "Found no way to start this app".
    server = "const Koa = require('koa');\nnew Koa().listen(8000);\n"
    package = {"main": "index.js", "dependencies": {"koa": "^2"}}
    files = {"src/main.js": server, "src/app/config.js": "module.exports = {};\n"}
    assert _node(package, files).argv == ("node", "src/main.js")
    # Two that listen say nothing of which; one that does not listen is no entry.
    with pytest.raises(BadRequest):
        _node(package, {**files, "src/server.js": server})
    with pytest.raises(BadRequest):
        _node(package, {"src/main.js": "module.exports = {};\n"})


def test_the_one_own_module_that_listens_is_run_whatever_its_name() -> None:
    """nicklaros' todoapp: no scripts, main index.js absent, src/rest/index.js listens
    beside a CLI's src/cli/index.js; DimNih's Typescript-api-express: api.ts listens,
    ts-node listed, no scripts. Both refused, "Found no way to start this app". Tests,
    builds and a second module that listens are no such entry; a .ts module runs only
    where the project lists TypeScript."""
    server = "import express from 'express'\nconst app = express()\napp.listen(port, () => {})\n"
    package = {"main": "index.js", "type": "module", "dependencies": {"express": "^4"}}
    files = {
        "src/rest/index.js": server,
        "src/cli/index.js": "import { Command } from 'commander'\n",
        "test/rest.test.js": "server.listen(0)\n",
        "dist/old.js": server,
    }
    found = _node(package, files)
    assert found.argv == ("node", "src/rest/index.js")
    assert any("src/rest/index.js, its one module that listens" in n for n in found.notes)
    with pytest.raises(BadRequest):
        _node(package, {**files, "src/admin/index.js": server})
    typescript = {"devDependencies": {"ts-node": "^10", "typescript": "^5"}}
    assert _node({**package, **typescript}, {"api.ts": server}).argv[-1] == "api.ts"
    with pytest.raises(BadRequest):
        _node(package, {"api.ts": server})


def test_the_module_that_runs_the_ones_that_listen_is_the_entry() -> None:
    """digglp's cleanarchitectureexpressexample listens in server.ts and in the class it
    imports; luismoroco's ServerTSXExpress's app.ts calls ``listen()`` of the class in
    models/server.ts: each was refused or ran the class alone (exit 0, printing nothing).
    The module nothing imports that imports them, at any depth, is run; two such are not."""
    package = {"dependencies": {"express": "^4"}, "devDependencies": {"typescript": "^5"}}
    handler = (
        "import express from 'express'\nexport class ServerHandler {\n"
        "  listen(port: number) { this.app.listen(port, () => console.log(port)) }\n}\n"
    )
    files = {
        "src/domain/serverHandler.ts": handler,
        "src/application/server.ts": (
            "import { ServerHandler } from '../domain/serverHandler'\n"
            "new ServerHandler().listen(3001)\n"
        ),
        "src/domain/user.ts": "export class User {}\n",
    }
    assert _node(package, files).argv[-1] == "src/application/server.ts"
    bare = {
        "models/server.ts": handler.replace("listen(port: number)", "listen()"),
        "app.ts": "import Server from './models/server'\nconst server = new Server()\n"
        "server.listen()\n",
    }
    assert _node(package, bare).argv[-1] == "app.ts"
    with pytest.raises(BadRequest):  # two entries running it: neither is taken
        _node(package, {**bare, "worker.ts": "import Server from './models/server'\n"})


def test_a_dev_scripts_missing_file_is_the_one_module_that_listens() -> None:
    """adrianmdeiros's clean-node-fastify-drizzle-freight-api-fragment: ``"dev": "tsx watch
    ./src/main.ts"``, no src/main.ts; src/server.ts calls ``server.listen``: "Cannot find
    module 'src/main.ts'". The module that listens runs in its place, as the script runs
    it; not where the file is there, nor where two modules listen."""
    server = "import fastify from 'fastify'\nconst server = fastify()\nserver.listen({ port })\n"
    package = {"main": "main.ts", "scripts": {"dev": "tsx watch ./src/main.ts", "test": "vitest"}}
    files = {"src/server.ts": server, "src/app/routes.ts": "export async function routes() {}\n"}
    found = _node(package, files)
    assert found.argv[-1].endswith("; tsx src/server.ts"), found.argv
    assert any("src/server.ts, which listens, instead" in n for n in found.notes), found.notes
    kept = _node(package, {**files, "src/main.ts": server})
    assert kept.argv[-1].endswith("; tsx ./src/main.ts"), kept.argv
    two = _node(package, {**files, "src/app.ts": server})
    assert two.argv[-1].endswith("; tsx ./src/main.ts"), two.argv


def test_a_start_scripts_missing_file_is_the_one_module_that_listens() -> None:
    """josua-stng's express-bookshelf: ``"start": "node server.js"``, the server moved to
    src/server.js: "Cannot find module 'server.js'". The module that listens runs in its
    place; not where the file is there."""
    server = "import express from 'express'\nconst app = express()\napp.listen(PORT)\n"
    package = {"main": "server.js", "type": "module", "scripts": {"start": "node server.js"}}
    files = {"src/server.js": server, "src/books.js": "export default []\n"}
    found = _node(package, files)
    assert found.argv[-1].endswith("; node src/server.js"), found.argv
    assert "src/server.js, which listens, instead" in found.notes[0]
    assert _node(package, {**files, "server.js": server}).argv == ("npm", "start", "--silent")


def test_a_serving_script_that_runs_another_script_starts_what_that_one_runs() -> None:
    """jyotendra's express-sequelize-boilerplate: no start or dev script, npm init's main
    (index.js, absent); ``serve`` is ``npm run start-nodemon``, which runs its build's
    output under nodemon and cross-env. It was refused: "Found no way to start this app"."""
    found = detect({p: t.encode() for p, t in app_files("node_serve_through_npm_run").items()})
    assert found.argv[:2] == ("sh", "-c"), found.argv
    assert found.argv[2].endswith("; NODE_ENV=development node ./build/src/server.js"), found.argv
    # Its build without the lint before its compile nor the watcher after it.
    assert found.setup[0][2].endswith("; npm run compile"), found.setup
    assert found.notes == [
        "its main (index.js) is not in the upload nor made by its build: the serve script"
        " runs the start-watch script without its watcher:"
        " NODE_ENV=development node ./build/src/server.js"
    ]
    # A script run through another that is no node start (a frontend's) is not one.
    with pytest.raises(BadRequest):
        _node({"scripts": {"serve": "npm run ui", "ui": "vue-cli-service serve"}})
    # Nor a loop of scripts naming each other.
    with pytest.raises(BadRequest):
        _node({"scripts": {"serve": "npm run server", "server": "npm run serve"}})


def test_a_linters_glob_of_ts_files_is_not_the_orms() -> None:
    """kirilldevm's nestjs-postgres-tasks-api: its eslint.config.mjs's ``files:
    ["**/*.dto.ts"]`` was read as its TypeORM's glob of .ts files loaded at run time, and
    the app run with ts-node instead of its build's output."""
    package = {
        "scripts": {"build": "nest build", "start": "nest start", "start:prod": "node dist/main"},
        "dependencies": {"@nestjs/core": "^11", "typeorm": "^0.3", "@nestjs/typeorm": "^11"},
        "devDependencies": {"@nestjs/cli": "^11", "typescript": "^5"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "nest-cli.json": b'{"sourceRoot": "src"}',
        "tsconfig.json": b'{"compilerOptions": {"outDir": "./dist"}}',
        "src/main.ts": b"import { NestFactory } from '@nestjs/core';\n",
        "eslint.config.mjs": b"export default [{ files: ['**/*.dto.ts'], rules: {} }];\n",
    }
    assert not any("ORM loads" in note for note in detect(files).notes)
    orm = {**files, "src/db.ts": b"export const entities = ['src/**/*.entity.ts'];\n"}
    assert any("ORM loads src/**/*.entity.ts" in note for note in detect(orm).notes)


def test_the_script_a_readme_runs_starts_an_app_with_no_other_start() -> None:
    # saching618's koa-crud: only "watch-server" (nodemon running ts-node on
    # src/server.ts), its README "npm run watch-server"; refused before, nothing to run.
    script = "nodemon --watch 'src/**/*' -e ts,tsx --exec ts-node ./src/server.ts"
    files = {
        "package.json": json.dumps({"scripts": {"watch-server": script}}).encode(),
        "README.md": b"# koa-crud\nRun \nnpm i\nnpm run watch-server\n",
        "src/server.ts": b"app.listen(3000)\n",
    }
    found = detect(files)
    assert found.argv[-1].endswith("ts-node --transpile-only ./src/server.ts")
    assert found.notes[0].startswith("its README runs the watch-server script")
    # Not named by its README: nothing to run, as before.
    with pytest.raises(BadRequest):
        detect({**files, "README.md": b"# koa-crud\n"})


def test_the_script_a_readme_runs_builds_first_as_a_set_up_step() -> None:
    # msusviela's books-express: only "app": "npx tsc && node dist/app.js", its README
    # "npm run app"; tsc, run in the start, failed it on type errors (exit 2).
    package = {"scripts": {"app": "npx tsc && node dist/app.js"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "README.md": b"# Books\n```\nnpm install\nnpm run app\n```\n",
        "tsconfig.json": b'{"compilerOptions": {"outDir": "dist"}}',
        "app.ts": b"app.listen(3000)\n",
    }
    found = detect(files)
    assert found.argv[-1].endswith("; node dist/app.js")
    assert [step[-1].rsplit("; ", 1)[-1] for step in found.setup] == ["npx tsc"]


def test_a_node_app_saying_nothing_of_its_start_runs_its_dockerfiles_node_cmd() -> None:
    """Portus7's postgres-express-auth: a package.json of dependencies alone, its module
    ``db_conexion.js`` (no conventional entry's name), a ``dockerfile`` (the name docker's
    build falls back to) saying ``CMD ["node", "db_conexion.js"]``: the launch was refused,
    nothing to run. Its CMD starts it; not a CMD naming a module the upload lacks."""
    files = {
        "package.json": json.dumps({"dependencies": {"express": "^5", "pg": "^8"}}).encode(),
        "db_conexion.js": b"require('express')().listen(process.env.PORT || 3000);\n",
        "dockerfile": b'FROM node:18-alpine\nCOPY . .\nCMD ["node", "db_conexion.js"]\n',
    }
    found = detect(files)
    assert found.argv == ("node", "db_conexion.js")
    assert "dockerfile's CMD" in found.notes[0]
    files["Dockerfile"] = files.pop("dockerfile")
    assert detect(files).argv == ("node", "db_conexion.js")
    # A CMD naming a module the upload lacks says nothing: its one module that listens
    # runs, as the last resort.
    files["Dockerfile"] = b'FROM node:18\nCMD ["node", "dist/server.js"]\n'
    found = detect(files)
    assert found.argv == ("node", "db_conexion.js")
    assert "its one module that listens" in found.notes[0]


def test_a_node_app_saying_nothing_of_its_start_runs_its_images_bun_or_typescript_cmd() -> None:
    """guigiusti's fastify-url-shortener: a package.json of dependencies alone (Bun's
    ``module`` field naming an index.ts it lacks), its image ``oven/bun``'s ``CMD ["bun",
    "run", "src/server.ts"]``: the launch was refused, nothing to run. Its CMD runs it,
    with Bun; a TypeScript runner's CMD with tsx; each added where the app lacks it."""
    package = {"module": "index.ts", "dependencies": {"fastify": "^5"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "src/server.ts": b"import { app } from './app';\napp.listen({ port: 3000 });\n",
        "src/app.ts": b"export const app = {};\n",
        "Dockerfile": b'FROM oven/bun:latest\nCMD ["bun", "run", "src/server.ts"]\n',
    }
    found = detect(files)
    assert found.argv[-1].endswith("; bun run src/server.ts")
    assert found.node_tools == (BUN,)
    assert "Dockerfile's CMD" in found.notes[0]
    files["Dockerfile"] = b'FROM node:22\nCMD ["npx", "tsx", "src/server.ts"]\n'
    with pytest.raises(BadRequest):  # (npx's: not read here)
        detect(files)
    files["Dockerfile"] = b'FROM node:22\nCMD ["ts-node", "src/server.ts"]\n'
    found = detect(files)
    assert found.argv[-1].endswith("; tsx src/server.ts")
    assert found.node_tools == (TSX,)
    files["Dockerfile"] = b'FROM oven/bun\nCMD ["bun", "run", "src/main.ts"]\n'
    with pytest.raises(BadRequest):  # a module the upload lacks
        detect(files)


_EXPORTED_APP = """const http = require("http");
const handler = (req, res) => res.end("served " + req.url);
/* Init server listening
handler.listen(2400);
*/
module.exports = handler;
"""


def test_a_start_whose_module_exports_its_app_and_listens_nowhere_serves_the_export() -> None:
    # arunjasper's sakila-node-sqlite: vercel.json builds index.js with @vercel/node; its
    # app.listen commented out, ``node index.js`` ended at once, code 0, serving nothing.
    package = {"scripts": {"start": "node index.js"}, "dependencies": {"express": "^5"}}
    found = _node(package, {"index.js": _EXPORTED_APP})
    assert found.argv[:2] == ("node", "-e") and found.argv[-1] == "index.js", found.argv
    listening = _EXPORTED_APP + "http.createServer(handler).listen(3000);\n"  # its own
    assert _node(package, {"index.js": listening}).argv == ("npm", "start", "--silent")


def test_an_entry_module_that_exports_its_app_and_listens_nowhere_serves_the_export() -> None:
    """marialelopez's servidores-express-laboratorio: no start script, its main (app.js)
    in src/, tested through supertest, its ``app.listen`` commented out: ``node
    src/app.js`` ended at once, code 0, serving nothing."""
    package = {"main": "app.js", "dependencies": {"express": "^4"}}
    found = _node(package, {"src/app.js": _EXPORTED_APP})
    assert found.argv[:2] == ("node", "-e") and found.argv[-1] == "src/app.js", found.argv
    assert "src/app.js exports its app and listens nowhere: served" in found.notes[-1]
    listening = _EXPORTED_APP + "http.createServer(handler).listen(3000);\n"  # its own
    assert _node(package, {"src/app.js": listening}).argv[:2] != ("node", "-e")


def test_a_test_modules_listen_does_not_count_as_the_app_listening() -> None:
    """PeterNMcArthur's koasupertest: server.js exports its Koa app and listens nowhere;
    test.js's ``app.listen(3000)`` is supertest's server. Run as ``node server.js``, it
    ended at once, code 0, serving nothing."""
    package = {"main": "index.js", "devDependencies": {"koa": "^1.1.2"}}
    server = "var koa = require('koa');\nvar app = koa();\nmodule.exports = app;\n"
    test = "var app = require('./server');\nvar routes = app.listen(3000);\n"
    found = _node(package, {"server.js": server, "test.js": test})
    assert found.argv[:2] == ("node", "-e") and found.argv[-1] == "server.js", found.argv


_OUT_DIST = '{"compilerOptions": {"outDir": "dist", "rootDir": "src"}}'


def test_a_build_script_that_only_ships_an_image_is_no_build_of_the_app() -> None:
    """scottdkey's koaBase: ``"build": "run-s docker:*"`` builds and pushes a Docker image
    ("Cannot connect to the Docker daemon", the launch failed in its set-up); its app's
    compile is its ``ts`` script's ``tsc``, which its start's dist/index.js needs."""
    scripts = {
        "start": "node dist/index.js",
        "ts": "tsc",
        "docker:build": "docker build -t me/app:$(echo $npm_package_version) .",
        "docker:push": "docker push me/app:$(echo $npm_package_version)",
        "build": "run-s docker:*",
    }
    package = {
        "scripts": scripts,
        "dependencies": {"koa": "^2"},
        "devDependencies": {"typescript": "^4"},
    }
    source = {
        "src/index.ts": "import Koa from 'koa';\nnew Koa().listen(3000);\n",
        "tsconfig.json": "{}",
    }
    found = _node(package, source)
    assert ("npm", "run", "build") not in found.setup, found.setup
    assert any("tsc" in " ".join(step) for step in found.setup), found.setup
    compiled = {**scripts, "build": "tsc && docker build ."}  # a compile among them: a build
    assert ("npm", "run", "build") in _node({**package, "scripts": compiled}, source).setup


def test_a_start_scripts_terminal_housekeeping_is_left_out() -> None:
    """Rostmaster's ExpressHW: ``"start": "clear && npx kill-port 3000 && nodemon app.js"``:
    ``clear`` with no terminal exits 1 ("TERM environment variable not set"), npx would
    fetch kill-port from a registry out of reach; the app alone is run."""
    package = {
        "scripts": {"start": "clear && npx kill-port 3000 && nodemon app.js"},
        "dependencies": {"express": "^4"},
    }
    found = _node(package, {"app.js": "require('express')().listen(3000);\n"})
    line = " ".join(found.argv)
    assert "app.js" in line and "clear" not in line and "kill-port" not in line, found.argv
    # Its app.js never committed, its main index.js listening: read without them too.
    moved = _node(
        {**package, "main": "index.js"}, {"index.js": "require('express')().listen(3000);\n"}
    )
    line = " ".join(moved.argv)
    assert "index.js" in line and "clear" not in line and "kill-port" not in line, moved.argv


def test_a_library_its_package_json_publishes_is_refused_as_no_app() -> None:
    """IamIsthill's zodexpress: an Express middleware published to npm (``"types"``,
    ``"files": ["dist"]``, ``publishConfig``; scripts test, build and publish): run as
    its main, it exited at once, code 0, serving nothing. Refused, saying why; not an app
    with a start script, nor one whose module listens."""
    package = {
        "name": "zodware",
        "main": "dist/index.js",
        "types": "dist/index.d.ts",
        "files": ["dist"],
        "publishConfig": {"access": "public"},
        "scripts": {"test": "jest", "build": "tsc"},
    }
    source = {"src/index.ts": "export const validate = () => (req, res, next) => next();\n"}
    with pytest.raises(BadRequest, match=r"publishes a library .* not an app"):
        _node(package, source)
    started = {**package, "scripts": {**package["scripts"], "start": "node dist/index.js"}}
    assert _node(started, source).argv
    listening = {"src/index.ts": "import express from 'express';\nexpress().listen(3000);\n"}
    assert _node(package, listening).argv
    # borsucok's koas3: "typings", a prepublishOnly build, a start that only compiles.
    koas3 = {
        "name": "koas3",
        "main": "lib/koas3.js",
        "typings": "lib/koas3.d.ts",
        "scripts": {"start": "tsc --watch", "build": "tsc", "prepublishOnly": "npm run build"},
    }
    with pytest.raises(BadRequest, match=r"publishes a library .* not an app"):
        _node(koas3, {"src/koas3.ts": "export default function koas3() {}\n"})


def test_a_start_file_never_committed_serves_the_app_its_main_exports() -> None:
    """CrissyMichelle's ExpressInvoices: ``"start": "node server.js"``, no server.js; its
    main, app.js, exports the app its tests call through supertest: "Cannot find module
    'server.js'". Its export is served; not where a module of it listens."""
    package = {"main": "app.js", "scripts": {"start": "node server.js"}}
    app = (
        "const express = require('express');\nconst app = express();\n"
        "app.get('/invoices', (req, res) => res.json([]));\nmodule.exports = app;\n"
    )
    found = _node(package, {"app.js": app, "db.js": "module.exports = {};\n"})
    assert found.argv[:2] == ("node", "-e") and found.argv[-1] == "app.js", found.argv
    assert found.notes[-1] == (
        "its start script: its file server.js is not in the upload: the app app.js exports"
    )
    listening = app + "app.listen(3000);\n"
    assert _node(package, {"app.js": listening}).argv[:2] != ("node", "-e")
    # A listen commented out serves nothing: its export is served all the same.
    commented = {"app.js": app + "/* app.listen(3000); */\n"}
    assert _node(package, commented).argv[:2] == ("node", "-e")


def test_an_entry_module_served_by_another_module_of_its_folder_runs_that_one() -> None:
    """liyang0612's koa2-graphql: ``"main": "app.js"`` exports its Koa app, and service.js
    serves it (``http.createServer(app.callback()).listen(4000)``); its test.js listens
    too. ``node app.js`` ran 30 s serving nothing."""
    package = {"main": "app.js", "dependencies": {"koa": "^2"}}
    app = "const Koa = require('koa');\nconst app = new Koa();\nmodule.exports = app\n"
    files = {
        "app.js": app,
        "service.js": (
            "const app = require('./app')\nhttp.createServer(app.callback()).listen(4000)\n"
        ),
        "test.js": "require('http').createServer(() => {}).listen(8888);\n",
    }
    found = _node(package, files)
    assert found.argv == ("node", "service.js"), found.argv
    assert (
        found.notes[-1] == "app.js exports its app and listens nowhere: service.js, which serves it"
    )
    # A module that listens without requiring it is another program: not this rule's.
    files["service.js"] = "http.createServer(() => {}).listen(4000)\n"
    assert _node(package, files).argv == ("node", "app.js")


async def test_the_served_export_answers_on_port(tmp_path) -> None:
    (tmp_path / "index.js").write_text(_EXPORTED_APP)
    port = free_port_block(1, lowest=21000)
    code = SERVE_EXPORT  # (the template's braces unescaped: as the start runs it)
    env = {**os.environ, "PORT": str(port)}
    with trio.fail_after(20):
        process = await trio.lowlevel.open_process(
            ["node", "-e", code, "index.js"], cwd=tmp_path, env=env
        )
        try:
            async with httpx.AsyncClient() as client:
                while True:
                    try:
                        answer = await client.get(f"http://127.0.0.1:{port}/films")
                        break
                    except httpx.TransportError:
                        await trio.sleep(0.1)
            assert answer.text == "served /films"
        finally:
            process.kill()
            await process.wait()


def test_a_dev_script_running_its_build_is_built_by_its_variants_build() -> None:
    """kgomez95's Nodejs-typescript-api-crud: ``"start:dev": "nodemon dist/index.js"``,
    built by ``"build:dev": "tsc && copyfiles …"``; no start nor build script: "Cannot
    find module 'dist/index.js'"."""
    scripts = {"build:dev": "tsc && copyfiles a.sql dist", "start:dev": "nodemon dist/index.js"}
    files = {"tsconfig.json": '{"compilerOptions": {"outDir": "./dist"}}', "src/index.ts": ""}
    found = _node({"main": "index.js", "scripts": scripts}, files)
    assert found.argv[2].endswith("; node dist/index.js"), found.argv
    assert found.setup == (("npm", "run", "build:dev"),)
    # Another variant's build is not its own; nor one for a dev script running its sources.
    other = {"build:test": scripts["build:dev"], "start:dev": scripts["start:dev"]}
    assert _node({"scripts": other}, files).setup == ()
    sources = {**scripts, "start:dev": "nodemon src/index.ts"}
    assert _node({"scripts": sources}, files).setup == ()


def test_a_dev_script_running_its_lint_first_runs_without_it() -> None:
    """zstared's koa-admin-api: ``"dev": "npm run eslint && cross-env NODE_ENV=development
    nodemon src/index.js"``, its lint failing on five errors: the app never started."""
    scripts = {
        "eslint": "eslint . --fix",
        "dev": "npm run eslint && cross-env NODE_ENV=development nodemon src/index.js",
    }
    found = _node({"main": "app.js", "scripts": scripts}, {"src/index.js": ""})
    assert found.argv[2].endswith("; NODE_ENV=development node src/index.js"), found.argv
    assert "eslint" not in found.argv[2]


def test_a_nodemon_exec_running_its_lint_first_runs_without_it() -> None:
    """unfetteredman2020's koa-service: ``nodemon --ext js,ts --exec "yarn lint && ts-node
    --files src/main.ts"``; the lint ran before every start, and yarn is not here
    ("exec not found"). The command nodemon runs keeps its start alone."""
    scripts = {
        "lint": "eslint --ext .js --ext .ts  src/",
        "dev": 'nodemon --ext js,ts --exec "yarn lint && ts-node --files src/main.ts"',
    }
    found = _node({"main": "main.js", "scripts": scripts}, {"src/main.ts": ""})
    assert "lint" not in found.argv[2] and "src/main.ts" in found.argv[2], found.argv
    single = {**scripts, "dev": "nodemon -x 'ts-node src/main.ts'"}
    assert "src/main.ts" in _node({"scripts": single}, {"src/main.ts": ""}).argv[2]


def test_a_pm2_ecosystem_files_one_app_is_the_start_its_args_a_list_or_a_line() -> None:
    """An ecosystem file's apps read where package.json says nothing of a start: the one
    app running a file (its ``args`` a line or a list) after the compilers the others
    watch with, run once; two apps of files, or another command, say nothing."""
    ecosystem = """module.exports = {
  apps: [
    { name: "build", script: "npx", args: "tsc -p tsconfig.json --watch" },
    { name: "api", script: "./dist/server.js", args: ["serve", "--port", "8080"] },
  ],
};
"""
    files = {"ecosystem.config.js": ecosystem, "tsconfig.json": '{"compilerOptions": {}}'}
    files["src/server.ts"] = "server.listen(8080);\n"
    listed = {"dependencies": {"express": "^4"}, "devDependencies": {"typescript": "^5"}}
    found = _node(listed, files)
    assert found.argv[-1].endswith("; node dist/server.js serve --port 8080"), found.argv
    assert found.setup == (("sh", "-c", f"{BIN_FIRST_ON_PATH}tsc -p tsconfig.json"),), found
    assert found.node_tools == ()
    two = ecosystem.replace("  ],", '    { name: "worker", script: "dist/worker.js" },\n  ],')
    other = ecosystem.replace('script: "npx"', 'script: "bash"')
    for text in (two, other):  # say nothing: its one module that listens, the last resort
        found = _node(listed, {**files, "ecosystem.config.js": text})
        assert found.argv == ("node_modules/.bin/tsx", "src/server.ts"), found.argv


def test_a_start_handing_pm2_its_ecosystem_file_runs_that_files_app_with_its_node_args() -> None:
    """takuya-motoshima's express-easy-starter: ``"start": "env TZ='Asia/Tokyo' pm2 start
    ecosystem.config.js"``, whose one app is ``bin/www.js`` with ``node_args: '-r esm'``
    (its ES modules loaded by esm): that app, in the foreground, with the script's
    environment and Node's options, not pm2's daemon."""
    ecosystem = """module.exports = {
  apps : [
    { name: 'sample', script: 'bin/www.js', node_args: '-r esm', watch: '.',
      env: { NODE_ENV: 'development' } }
  ]
};
"""
    files = {"ecosystem.config.js": ecosystem, "bin/www.js": "", "app.js": ""}
    handed = "env TZ='Asia/Tokyo' pm2 start ecosystem.config.js"
    found = _node({"scripts": {"start": handed}}, files)
    assert found.argv == ("sh", "-c", f"{BIN_FIRST_ON_PATH}TZ=Asia/Tokyo node -r esm bin/www.js")
    listed = ecosystem.replace("node_args: '-r esm'", 'interpreter_args: ["-r", "esm"]')
    runtime = "pm2-runtime start --env production ecosystem.config.js"
    found = _node({"scripts": {"start": runtime}}, {**files, "ecosystem.config.js": listed})
    assert found.argv == ("sh", "-c", f"{BIN_FIRST_ON_PATH}node -r esm bin/www.js")
    # A file the upload lacks says nothing: the start script stands.
    missing = _node({"scripts": {"start": "pm2 start ecosystem.config.json"}}, files)
    assert missing.argv == ("npm", "start", "--silent"), missing.argv


def test_a_start_handing_its_app_to_pm2_behind_cross_env_runs_it_in_the_foreground() -> None:
    """ns16's express-articles-app: ``"start:prod": "cross-env NODE_ENV=production pm2
    start index.js --name express-articles-app"``, pm2 not installed: "spawn pm2
    ENOENT". Its entry runs in the foreground with cross-env's assignments."""
    script = "cross-env NODE_ENV=production pm2 start index.js --name express-articles-app"
    found = _node({"scripts": {"start:prod": script}}, {"index.js": ""})
    assert found.argv == ("sh", "-c", f"{BIN_FIRST_ON_PATH}NODE_ENV=production node index.js")
    alone = _node({"scripts": {"start:prod": "cross-env NODE_ENV=production node index.js"}})
    assert alone.argv == ("npm", "run", "start:prod")


def test_a_start_scripts_file_named_from_another_folder_is_the_uploads_own() -> None:
    """Foysal-BoyTech's Koa-exercise: ``"start": "nodemon ../server/app.js"`` beside its
    package.json's server/app.js (its author ran it from a folder of its own): "Cannot find
    module '<service>/server/app.js'", nodemon then ran npm init's ``main``. The upload's
    one file the path ends with runs, where it listens; not where two files end so."""
    server = "const Koa = require('koa')\nconst app = new Koa()\napp.listen(3000)\n"
    package = {"main": "index.js", "scripts": {"start": "nodemon ../server/app.js"}}
    files = {"server/app.js": server, "server/router.js": "module.exports = {}\n"}
    found = _node(package, files)
    assert found.argv[-1].endswith("server/app.js"), found.argv
    assert "../server" not in found.argv[-1], found.argv
    assert any("its server/app.js instead" in n for n in found.notes), found.notes
    two = _node(package, {**files, "client/server/app.js": server})
    assert "server/app.js instead" not in " ".join(two.notes), two.notes
