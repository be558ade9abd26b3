"""Shapes of the former held-out set's NestJS, Fastify, Koa and Hono apps (issue 66's
training set since its round ended): an optional peer only the lockfile installs; a hosted
PostgreSQL its settings name; a NestJS app whose env example has TypeORM load .ts files;
the env file its start names; TypeScript run by node itself, by ts-node in an ES module
project, by tsx where it needs decorator metadata; a module kept as its backup copy; a git
dependency the app imports; dbmate's SQL migrations."""

from __future__ import annotations

import json

from preview.apps.detect import detect
from preview.apps.node.nodeapp import TSX
from preview.apps.node.nodedeps import node_dependencies
from preview.backing.wants import postgres_wants
from preview.builds.configdefaults import config_defaults, example_copies


def test_a_lockfiles_optional_peers_are_installed_beside_it() -> None:
    """halilyanik98's NestJS-TypeOrm-CRUD uses NestJS's ValidationPipe, which loads
    class-transformer, a package its package.json does not list: its package-lock.json
    holds it at the top of node_modules as an optional peer of @nestjs/common, which npm ci
    leaves out, and Nest exited at start ('The "class-transformer" package is missing')."""
    lock = {
        "lockfileVersion": 2,
        "packages": {
            "": {"dependencies": {"@nestjs/common": "^8.0.0"}},
            "node_modules/@nestjs/common": {"version": "8.4.7"},
            "node_modules/class-transformer": {"version": "0.5.1", "optional": True, "peer": True},
            "node_modules/kafkajs": {"version": "2.2.4", "dev": True, "optional": True},
            # Nested, or a peer it needs: npm installs those itself.
            "node_modules/a/node_modules/class-validator": {
                "version": "0.13.2", "optional": True, "peer": True,
            },
            "node_modules/rxjs": {"version": "7.5.5", "peer": True},
            "node_modules/local": {"link": True, "optional": True, "peer": True},
        },
    }  # fmt: skip
    files = {
        "package.json": json.dumps({"dependencies": {"@nestjs/common": "^8.0.0"}}).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }
    deps = node_dependencies(files, ("tsx@4",))
    assert deps is not None
    assert deps.tools == ("tsx@4", "class-transformer@0.5.1")
    assert deps.note is not None and "class-transformer@0.5.1" in deps.note
    # A lockfile without any: nothing added, nothing said.
    del lock["packages"]["node_modules/class-transformer"]  # type: ignore[attr-defined]
    files["package-lock.json"] = json.dumps(lock).encode()
    deps = node_dependencies(files)
    assert deps is not None and deps.tools == () and deps.note is None


def test_a_hosted_postgresql_its_settings_name_is_the_previews_own() -> None:
    """256Taras' fastify-typeorm-starter-kit gives its compose service the env file
    configs/.env.docker, whose TYPEORM_HOST is a hosted PostgreSQL
    (isilo.db.elephantsql.com): its migrations failed on EAI_AGAIN, the name unknown in
    the sandbox; the preview's own server answers for it (its /etc/hosts)."""
    compose = b"""services:
  db:
    image: postgres:14.1-alpine
  backend:
    build: .
    env_file: ['./configs/.env.docker']
"""
    files = {
        "package.json": json.dumps({"dependencies": {"pg": "^8", "typeorm": "^0.3"}}).encode(),
        "docker-compose.yml": compose,
        "configs/.env.docker": b"TYPEORM_HOST=isilo.db.elephantsql.com\nTYPEORM_PORT=5433\n",
        "src/db.js": b"const url = 'postgres://u:p@ep-cool-1.eu.aws.neon.tech/app'\n"
        b"const other = 'postgres://u:p@10.0.0.7:5432/app'\n",
    }
    wants = postgres_wants(files, {})
    assert "isilo.db.elephantsql.com" in wants.aliases
    assert "ep-cool-1.eu.aws.neon.tech" in wants.aliases
    assert 5433 in wants.ports
    assert "10.0.0.7" not in wants.aliases  # an address: no name to answer for
    assert "db" in wants.aliases


def test_a_nest_app_whose_env_example_loads_typescript_runs_its_source() -> None:
    """JuniorZilles' todo-list-nestjs-typeorm passes TYPEORM_MIGRATIONS from its
    .env.example (src/migrations/**/*.ts) to TypeORM, which runs them at start: its
    start:prod (node dist/main, NestJS has no package.json main) required a .ts file and
    died on its syntax ('Unexpected strict mode reserved word'). The source of the built
    entry its script runs starts instead, with ts-node (its tsconfig asks for decorator
    metadata)."""
    scripts = {
        "build": "nest build",
        "start": "nest start",
        "start:dev": "nest start --watch",
        "start:prod": "node dist/main",
    }
    package = {
        "scripts": scripts,
        "dependencies": {"@nestjs/core": "^9", "typeorm": "^0.3", "mysql2": "^2"},
        "devDependencies": {"ts-node": "^10", "typescript": "^4"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b'{"compilerOptions": {"emitDecoratorMetadata": true, "outDir": "dist"}}',
        ".env.example": b"TYPEORM_HOST=db\nTYPEORM_MIGRATIONS=src/migrations/**/*.ts\n",
        "src/main.ts": b"",
        "src/migrations/1657308260232-migrations.ts": b"",
        "src/module/database/database.module.ts": b"migrations: [process.env.TYPEORM_MIGRATIONS]",
    }
    found = detect(files)
    assert found.argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/main.ts")
    assert found.setup == ()
    assert found.notes == [
        "its ORM loads src/migrations/**/*.ts (.env.example) at run time, which the built "
        "JavaScript cannot: running src/main.ts with ts-node"
    ]


def test_the_env_file_its_start_names_is_the_apps_own() -> None:
    """thomijasir's hono-starter starts with ``bun run --env-file=.env.production
    src/main.ts``, whose file sets DB_DRIVER=SQLITE (its zod schema: SQLITE, PGSQL or
    MYSQL); the preview gave DB_DRIVER by what its name says, and the app's parse failed
    (ZodError) at every start. A variable that file sets is never filled in."""
    scripts = {
        "start": "bun run --env-file=.env.production src/main.ts",
        "dev": "bun run --env-file=.env.development --hot src/main.ts",
    }
    schema = b"""const envSchema = z.object({
  DB_DRIVER: z.enum(["SQLITE", "PGSQL", "MYSQL"]),
  SESSION_SECRET: z.string(),
});
export const ENVIRONMENT = envSchema.parse(process.env);
"""
    files = {
        "package.json": json.dumps({"scripts": scripts, "dependencies": {"hono": "^4"}}).encode(),
        ".env.production": b"DB_DRIVER=SQLITE\nDB_URL=sqlite.db\n",
        ".env.development": b"DB_DRIVER=SQLITE\n",
        "src/constants/environment.ts": schema,
    }
    found = config_defaults(files, "package.json", {}, {"PORT": "8000"})
    assert "DB_DRIVER" not in found.values and "DB_URL" not in found.values
    assert "SESSION_SECRET" in found.values  # what no file of its sets: generated
    # Without the file, what its name says is given as before.
    del files[".env.production"], files[".env.development"]
    assert "DB_DRIVER" in config_defaults(files, "package.json", {}, {"PORT": "8000"}).values


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


def test_ts_node_in_an_es_module_project_runs_as_its_loader() -> None:
    """DmitriyMolochkov's koa-boilerplate ("type": "module") starts with ``ts-node
    src/index.ts``, which failed on Node 20 (ERR_UNKNOWN_FILE_EXTENSION for src/index.ts)
    while its migrations, through ts-node's loader (typeorm-ts-node-esm), ran."""
    scripts = {"start": "ts-node src/index.ts", "deploy": "ts-node --swc src/index.ts"}
    package = {"type": "module", "scripts": scripts, "devDependencies": {"ts-node": "^10"}}
    files = {"package.json": json.dumps(package).encode(), "src/index.ts": b""}
    found = detect(files)
    line = "TS_NODE_TRANSPILE_ONLY=true node --loader ts-node/esm src/index.ts"
    assert found.argv == ("sh", "-c", f'export PATH="$PWD/node_modules/.bin:$PATH"; {line}')
    assert found.node_tools == ()
    # A CommonJS project's ts-node runs as it is.
    files["package.json"] = json.dumps({**package, "type": "commonjs"}).encode()
    assert detect(files).argv == ("npm", "start", "--silent")


def test_a_module_it_imports_kept_only_as_a_backup_copy_is_copied() -> None:
    """kausar2697's boilerplate-nestjs-typeorm-passport-jwt git-ignores src/app.module.ts,
    which src/main.ts imports, and ships src/app.module-backup.ts: nest build failed on
    TS2307 (Cannot find module './app.module'). A backup nothing imports stays one."""
    files = {
        "package.json": b"{}",
        "src/main.ts": b"import { AppModule } from './app.module';\n",
        "src/app.module-backup.ts": b"export class AppModule {}\n",
        "src/users/users.service_backup.ts": b"export class Old {}\n",
        "src/settings.backup.js": b"module.exports = {}\n",
        "src/index.js": b"const settings = require('./settings.js')\n",
    }
    assert example_copies(files) == {
        "src/app.module.ts": "src/app.module-backup.ts",
        "src/settings.js": "src/settings.backup.js",
    }
    files["src/app.module.ts"] = b"export class AppModule {}\n"  # there: left as it is
    assert example_copies(files) == {"src/settings.js": "src/settings.backup.js"}


def test_a_git_dependency_the_app_imports_is_the_registrys_release() -> None:
    """chrisveness' koa-sample-web-app-api-mysql imports koa-lusca, which its package.json
    takes from a pull request's head on GitHub (``koajs/koa-lusca#pull/19/head``): the
    build reaches the registry only, and npm failed the whole install ("Could not read
    from remote repository"). The registry's newest koa-lusca is installed instead."""
    package = {"dependencies": {"koa": "^2.0.0", "koa-lusca": "koajs/koa-lusca#pull/19/head"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "app-www/app-www.js": b"import lusca from 'koa-lusca';\n",
    }
    deps = node_dependencies(files)
    assert deps is not None
    assert json.loads(deps.package_json)["dependencies"] == {"koa": "^2.0.0", "koa-lusca": "*"}
    assert deps.note is not None and '"koa-lusca", which the app imports' in deps.note


def test_a_tsx_dev_script_runs_through_ts_node_where_decorator_metadata_is_needed() -> None:
    """pepemolnar's node-fastify-typeorm has TypeORM load src/migrations/*.ts at run time,
    so its dev script runs (tsx watch --env-file=.env src/index.ts); tsx emits no
    decorator metadata, which its tsconfig asks for and its entities need: TypeORM failed
    (ColumnTypeUndefinedError). Its ts-node's loader runs it (its own typeorm script's)."""
    scripts = {
        "dev": "tsx watch --env-file=.env src/index.ts",
        "start": "node --env-file=.env dist/index.js",
        "build": "tsc",
    }
    package = {
        "type": "module",
        "scripts": scripts,
        "dependencies": {"typeorm": "^1.0.0", "pg": "^8"},
        "devDependencies": {"ts-node": "^10.9.2", "tsx": "^4"},
    }
    source = b'export const s = new DataSource({migrations: ["src/migrations/*.ts"]});'
    files = {
        "package.json": json.dumps(package).encode(),
        "tsconfig.json": b'{"compilerOptions": {"emitDecoratorMetadata": true}}',
        "src/index.ts": b"",
        "src/data-source.ts": source,
    }
    line = "TS_NODE_TRANSPILE_ONLY=true node --env-file=.env --loader ts-node/esm src/index.ts"
    assert detect(files).argv[-1].endswith(line)
    # No decorator metadata asked for: tsx, as its script says.
    files["tsconfig.json"] = b'{"compilerOptions": {}}'
    assert detect(files).argv[-1].endswith("; tsx --env-file=.env src/index.ts")


def test_dbmate_migrations_run_their_up_part_only() -> None:
    """marcoturi's fastify-boilerplate keeps its schema as dbmate migrations
    (db/migrations/*.sql: ``-- migrate:up`` CREATE TABLE …, ``-- migrate:down`` DROP
    TABLE …), run by a dbmate binary it does not ship; the file, run whole as its one
    schema, dropped the table it made ("relation users does not exist" at every call)."""
    up = b'-- migrate:up\nCREATE TABLE "users" ("id" uuid NOT NULL);\n\n'
    files = {
        "package.json": json.dumps({"dependencies": {"postgres": "^3"}}).encode(),
        "db/migrations/20240415225644_create_users_table.sql": up
        + b'-- migrate:down\nDROP TABLE "users"\n',
        "db/migrations/20240501000000_add_index.sql": b"-- migrate:up\nCREATE INDEX i ON u (id);",
        "db/seeds/20240415231037_users.seed.sql": b"-- migrate:up\nINSERT INTO users VALUES (1);\n",
    }
    wants = postgres_wants(files, {})
    assert wants.lone_schema
    assert [path for path, _ in wants.init_scripts] == [
        "db/migrations/20240415225644_create_users_table.sql",
        "db/migrations/20240501000000_add_index.sql",
    ]
    first = wants.init_scripts[0][1]
    assert "CREATE TABLE" in first and "DROP TABLE" not in first
