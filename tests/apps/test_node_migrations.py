"""A Node app's migrations (apps.node.migrations): which tool and which command make its
tables, from its scripts, its config files and its code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from preview.apps.detect import detect
from preview.apps.node.devscript import BIN_FIRST_ON_PATH
from preview.apps.node.migrations import (
    BEHIND,
    SYNC_MODELS,
    node_migrations,
    synchronizes_its_tables,
    syncs_its_tables,
)
from preview.builds.steps import migrations_not_needed

from ..launching import app_files


def test_a_node_app_that_syncs_its_sequelize_tables_as_it_runs() -> None:
    # (the eighteenth batch's racket: `models.sequelize.sync().then(…)` in bin/www)
    www = b"#!/usr/bin/env node\nmodels.sequelize.sync().then(listen);\n"
    assert syncs_its_tables({"bin/www": www})
    assert not syncs_its_tables({"bin/www": www[20:], "README": b"sequelize.sync()"})
    assert syncs_its_tables(
        {"app.js": b"const db = require('./models');\ndb.sync({ alter: true });"}
    )
    assert syncs_its_tables(
        {"src/db.ts": b"import { Sequelize } from 'sequelize';\nsequelize.sync()"}
    )
    # Not a migration's, a test's or a seeder's; not another sync() (fs.readFileSync's name
    # aside, a sync(callback) of something that is not Sequelize's).
    for path in ("migrations/0001.js", "test/app.spec.js", "seeders/1.js", "src/a.test.ts"):
        assert not syncs_its_tables({path: b"models.sequelize.sync();\n"}), path
    assert not syncs_its_tables({"app.js": b"const fs = require('fs'); fs.readFileSync(p);"})
    assert not syncs_its_tables({"app.js": b"store.sync(() => done());"})
    # A sync() commented out makes nothing (Julianeme's express-store: "its migrations
    # failed; it makes its tables itself" was said of ``//sequelize.sync();``).
    kept = b"const { Sequelize } = require('sequelize');\n//sequelize.sync();\n"
    assert not syncs_its_tables({"libs/sequelize.js": kept})


def test_a_typeorm_app_that_synchronizes_its_tables_needs_no_migration_run() -> None:
    """JHyeok's nestjs-api-example: ``migration:run``, written for TypeORM 0.2's CLI, failed
    "Missing required argument: dataSource" under the 0.3 it installs; its
    TypeOrmConfigService says ``synchronize: isDevelopment`` (its example's NODE_ENV is
    development), which makes the tables as it connects: started anyway."""
    service = b"""import { TypeOrmModuleOptions } from '@nestjs/typeorm';
export class TypeOrmConfigService {
  createTypeOrmOptions(): TypeOrmModuleOptions {
    return { type: 'mysql', synchronize: isDevelopment, logging: isDevelopment };
  }
}
"""
    files = {"src/database/ormconfig.service.ts": service}
    assert synchronizes_its_tables(files)
    step = ("npm", "run", "migration:run")
    assert migrations_not_needed(step, files) == (
        "it makes its tables itself (TypeORM's synchronize) as it connects"
    )
    assert synchronizes_its_tables({"ormconfig.json.ts": b"export default { synchronize: true }"})
    # TypeORM 0.2's ormconfig.json (begalhalus' Typescript-with-Fastify: its migration:run
    # inserted into a table no migration makes, which its synchronize makes as it connects).
    config = b'{"type": "postgres", "host": "host", "synchronize": true}'
    assert synchronizes_its_tables({"ormconfig.json": config})
    assert not synchronizes_its_tables({"ormconfig.json": config.replace(b"true", b"false")})
    assert not synchronizes_its_tables({"config/app.json": config})
    # Written false, or only a migration's or a test's own: the migrations stand.
    never = {"src/db.ts": service.replace(b"isDevelopment,", b"false,", 1)}
    assert not synchronizes_its_tables(never)
    assert migrations_not_needed(step, never) is None
    for path in ("src/migrations/1-init.ts", "test/app.e2e-spec.ts"):
        assert not synchronizes_its_tables({path: service}), path
    assert migrations_not_needed(("npm", "run", "seed"), files) is None
    # A script of another name, read as its command (masb0ymas's hono-api-typeorm:
    # db:migrate:run, whose migrations seed tables its synchronize makes as it connects).
    scripts = {"db:migrate:run": "typeorm migration:run -d dist/config/database.js"}
    named = {**files, "package.json": json.dumps({"scripts": scripts}).encode()}
    assert migrations_not_needed(("npm", "run", "db:migrate:run"), named) == (
        "it makes its tables itself (TypeORM's synchronize) as it connects"
    )
    assert migrations_not_needed(("npm", "run", "db:migrate:run"), files) is None


def test_a_sequelizerc_config_the_cli_cannot_load_gives_way_to_its_config_json() -> None:
    # devleo-m's speedy-drive: .sequelizerc's config is src/config/database.ts (a module
    # making a Sequelize instance); db:migrate failed "Unknown file extension .ts".
    listed = {"sequelize": "^6", "sequelize-cli": "^6"}
    rc = b"""const path = require('path');
module.exports = {
  'config': path.resolve('src/config', 'database.ts'),
  'migrations-path': path.resolve('src/database', 'migrations'),
};"""
    files = {
        ".sequelizerc": rc,
        "src/config/database.ts": b"export const sequelize = new Sequelize({});",
        "src/config/config.json": b'{"development": {"dialect": "postgres"}}',
        "src/database/migrations/1-create-users.js": b"module.exports = {};",
    }
    expected = ("node_modules/.bin/sequelize", "db:migrate", "--config", "src/config/config.json")
    assert node_migrations(files, listed) == (expected,)
    # No config.json beside it: as it is (the failure says why); a JavaScript config too.
    alone = {p: d for p, d in files.items() if not p.endswith(".json")}
    assert node_migrations(alone, listed) == (expected[:2],)
    js = {**files, ".sequelizerc": rc.replace(b"database.ts", b"database.js")}
    assert node_migrations(js, listed) == (expected[:2],)
    # Its paths plain strings (VanDeFlame's express-store: ``'migrations-path':
    # './db/migrations/'``, nothing ran them: relation "categories" does not exist).
    plain = b"module.exports = {\r\n  'config': './db/config.js',\r\n"
    plain += b"  'migrations-path': './db/migrations/',\r\n}"
    moved = {".sequelizerc": plain, "db/migrations/20230216-setup.js": b"module.exports = {};"}
    assert node_migrations(moved, listed) == (expected[:2],)
    assert node_migrations({**moved, ".sequelizerc": b"module.exports = {}"}, listed) == ()


def test_typeorm_migrations_run_by_the_apps_own_script() -> None:
    # Aftab-Arbiyani's artsy-craftsy: 10 migrations in src/migrations, its README's
    # `npm run migration:up:localhost`; nothing ran them and every route answered 500.
    scripts = {
        "typeorm": "npm run build && npx typeorm -d dist/data-source.js",
        "migration:generate": "npm run typeorm -- migration:generate src/migrations/x",
        "migration:revert": "npm run typeorm -- migration:revert",
        "migration:up:localhost": "npm run typeorm -- migration:run",
        "migration:up:prod": "npm run typeorm -- migration:run -t each",
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "src/data-source.ts": b"export default new DataSource({ migrations: ['dist/m/*.js'] });",
        "src/migrations/1752296400249-seeder.ts": b"export class Seeder {}",
    }
    listed = {"typeorm": "^0.3.20", "@nestjs/typeorm": "^11"}
    assert node_migrations(files, listed) == (("npm", "run", "migration:up:localhost"),)
    # gn4r4's typeorm-express-typescript: its seed:run, plainer, runs migration:run on the
    # seeds' own data source; the migrations' script is the one that makes the tables.
    seeded = {
        "seed:run": "ts-node ./node_modules/typeorm/cli.js migration:run --config seed.ts",
        "migration:run": "ts-node ./node_modules/typeorm/cli.js migration:run --config orm.ts",
    }
    both = {**files, "package.json": json.dumps({"scripts": seeded}).encode()}
    assert node_migrations(both, listed) == (("npm", "run", "migration:run"),)
    # sogunshola's express-bus-ticketing: its one migration in src/migration/ (singular),
    # a class implementing MigrationInterface: found by what it is, not its folder's name.
    singular = {
        "package.json": files["package.json"],
        "src/data-source.ts": files["src/data-source.ts"],
        "src/migration/1699617714014-init.migration.ts": (
            b"import { MigrationInterface, QueryRunner } from 'typeorm';\n"
            b"export class init1699617714014 implements MigrationInterface {}\n"
        ),
    }
    assert node_migrations(singular, listed) == (("npm", "run", "migration:up:localhost"),)
    # andrew-snytko's nestjs-coding-test: its start runs a script named for them (which
    # runs a migrations module of its own), then serves: not the migrations' step, which
    # served forever; one running the CLI's migration:run is.
    starting = {
        "start": "npm run db:migration:run && node dist/src/main",
        "db:migration:run": "npm run build && node dist/scripts/run-migrations",
    }
    started = {**files, "package.json": json.dumps({"scripts": starting}).encode()}
    assert ("npm", "run", "start") not in node_migrations(started, listed)
    starting["db:migration:run"] = "npm run typeorm -- migration:run"
    started = {**files, "package.json": json.dumps({"scripts": starting}).encode()}
    assert node_migrations(started, listed) == (("npm", "run", "db:migration:run"),)
    # The app runs them itself as it starts; or none is committed; or no script runs them.
    itself = {**files, "src/config/database.ts": b"export default { migrationsRun: true };"}
    assert node_migrations(itself, listed) == ()
    assert node_migrations({"package.json": files["package.json"]}, listed) == ()
    unscripted = {**files, "package.json": b'{"scripts": {"start": "node dist/main"}}'}
    assert node_migrations(unscripted, listed) == ()
    # A Procfile's release line running them: not twice.
    fixture = {p: t.encode() for p, t in app_files("ts_typeorm_cli_migrations").items()}
    assert detect(fixture).setup.count(("npm", "run", "migration:run")) == 0


def test_a_typeorm_script_whose_config_names_none_of_the_migrations_gives_way() -> None:
    """lavellewarren's nestjs-crm-apis: ``typeorm:run`` (``npm run typeorm
    migration:run``, its CLI given ``--config src/typeorm.config.ts``, whose migrations
    are ``__dirname + '/migration/**/*.ts'``: none there) is plainer than ``migration:run``
    (the CLI on ormconfig.js, naming scripts/migrations/*.ts, where they are): "No
    migrations are pending", and every route met relation "claims" does not exist."""
    scripts = {
        "migration:run": "ts-node ./node_modules/typeorm/cli.js migration:run",
        "typeorm": "ts-node -r tsconfig-paths/register ./node_modules/typeorm/cli.js "
        "--config src/typeorm.config.ts",
        "typeorm:run": "npm run typeorm migration:run",
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "ormconfig.js": b"module.exports = [{ name: 'default', "
        b"migrations: ['scripts/migrations/*.ts'], synchronize: false }];\n",
        "src/typeorm.config.ts": b"const typeOrmConfig = { migrations: [__dirname + "
        b"'/migration/**/*.ts', __dirname + '/migration/**/*.js'] };\nexport = typeOrmConfig",
        "scripts/migrations/1650486226351-createContract.ts": b"export class CreateContract "
        b"implements MigrationInterface {}\n",
        "src/main.ts": b"bootstrap();\n",
    }
    listed = {"typeorm": "^0.2.41", "ts-node": "^10.0.0"}
    assert node_migrations(files, listed) == (("npm", "run", "migration:run"),)
    # Where the plainer one's config holds them too, it runs them, as before.
    moved = {
        **files,
        "src/migration/1650486226351-createContract.ts": files[
            "scripts/migrations/1650486226351-createContract.ts"
        ],
    }
    assert node_migrations(moved, listed) == (("npm", "run", "typeorm:run"),)


def test_sequelize_migrations_where_the_apps_own_migrate_script_says() -> None:
    """anbiasenggagau's boilerplate has no .sequelizerc: its ``migration:up`` script
    names the migrations and the config (``migrations/config/config.js``), and
    sequelize-cli run alone looked for config/config.json ("Cannot find
    config/config.json. Have you run sequelize init?")."""
    scripts = {
        "migration:up": "npx sequelize-cli db:migrate --migrations-path ./db/up "
        "--config ./db/config/config.js",
        "migration:down": "npx sequelize-cli db:migrate:undo --config ./elsewhere.js",
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "db/up/20240830-create-users.js": b"module.exports = { up() {}, down() {} }\n",
        "db/config/config.js": b"module.exports = { development: {} }\n",
    }
    listed = {"sequelize": "^6", "sequelize-cli": "^6"}
    assert node_migrations(files, listed) == (
        (
            "node_modules/.bin/sequelize",
            "db:migrate",
            "--migrations-path",
            "db/up",
            "--config",
            "db/config/config.js",
        ),
    )
    # Without such a script: the defaults (migrations/, config/config.json).
    files["package.json"] = json.dumps({"scripts": {"start": "node app.js"}}).encode()
    files["migrations/1-create-users.js"] = files.pop("db/up/20240830-create-users.js")
    assert node_migrations(files, listed) == (("node_modules/.bin/sequelize", "db:migrate"),)


def test_sequelize_cli_config_naming_a_folder_is_its_index_module() -> None:
    """kinothUI's calendar-api-fastify: ``"db:migrate": "yarn sequelize db:migrate
    --config src/config --migrations-path src/migrations"``, src/config/index.js its
    settings: sequelize-cli 6 imports its config, which resolves no folder
    ("ERR_UNSUPPORTED_DIR_IMPORT"), and its migrations never ran. The folder's index
    module is named, as Node's require resolved it for its author; a file, or a folder
    without one, as written."""
    scripts = {
        "db:migrate": "yarn sequelize db:migrate --config src/config --migrations-path "
        "src/migrations"
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "src/migrations/20201116223038-create-account.js": b"module.exports = {};\n",
        "src/config/index.js": b"module.exports = { development: {} };\n",
    }
    listed = {"sequelize": "^6", "sequelize-cli": "^6", "mysql2": "^2"}
    (step,) = node_migrations(files, listed)
    assert step[2:] == ("--config", "src/config/index.js", "--migrations-path", "src/migrations")
    files["src/config/settings.js"] = files.pop("src/config/index.js")
    (step,) = node_migrations(files, listed)
    assert step[2:4] == ("--config", "src/config")


def test_sequelize_migrations_of_an_init_layout_in_a_folder_below() -> None:
    """diyset's NodeJs-Sequelize-REST-API: ``sequelize init``'s config/, migrations/ and
    models/ all in server/, no .sequelizerc: run at the root, the CLI found no migration,
    and every route met a table that did not exist."""
    files = {
        "package.json": json.dumps({"scripts": {"start": "node ./bin/www"}}).encode(),
        "server/config/config.json": b'{"development": {"dialect": "mysql"}}',
        "server/migrations/20180904023921-create-user.js": b"queryInterface.createTable('Users')",
        "server/models/index.js": b"require(__dirname + '/../config/config.json')",
    }
    listed = {"sequelize": "^4", "sequelize-cli": "^4"}
    step = (
        "node_modules/.bin/sequelize",
        "db:migrate",
        "--migrations-path",
        "server/migrations",
        "--config",
        "server/config/config.json",
    )
    assert node_migrations(files, listed) == (step,)
    # The CLI not listed: its generated migrations there are still its own.
    assert node_migrations(files, {"sequelize": "^6"}) == (step,)
    # Migrations at the root, or a .sequelizerc: as they say.
    rooted = {**files, "migrations/1-create-user.js": b""}
    assert node_migrations(rooted, listed) == (("node_modules/.bin/sequelize", "db:migrate"),)
    moved = {**files, ".sequelizerc": b"module.exports = {}"}
    assert node_migrations(moved, listed) == ()


def test_node_pg_migrate_runs_up_in_its_folder() -> None:
    # Machulsky's nodejs-fastify-postgres-api: "node-pg-migrate -m database/migrations".
    listed = {"node-pg-migrate": "^5.2.0", "pg": "^8"}
    migration = {"database/migrations/1_users.js": b"exports.up = () => {};"}

    def package(scripts: dict[str, str]) -> dict[str, bytes]:
        return {"package.json": json.dumps({"scripts": scripts}).encode(), **migration}

    files = package({"migration": "node-pg-migrate -m database/migrations"})
    expected = ("node_modules/.bin/node-pg-migrate", "up", "-m", "database/migrations")
    assert node_migrations(files, listed) == (expected,)
    # Its own script saying up: run as it is; one saying down or create is not one.
    files = package({"migrate:up": "node-pg-migrate up -m database/migrations"})
    assert node_migrations(files, listed) == (("npm", "run", "migrate:up"),)
    files = package({"m:down": "node-pg-migrate down -m database/migrations"})
    assert node_migrations(files, listed) == ()
    # No script: its default folder, where it holds migrations.
    default = {"migrations/1_users.js": b"exports.up = () => {};"}
    assert node_migrations(default, listed) == (("node_modules/.bin/node-pg-migrate", "up"),)
    assert node_migrations(migration, listed) == ()
    assert node_migrations(files | default, {"pg": "^8"}) == ()


def test_typeorm_migrations_that_only_fill_tables_get_the_schema_synced_first() -> None:
    # masb0ymas's hono-api-typeorm: its migrations are seeders (and an extension), its
    # tables come from its entities' schema (README: db:sync); on a new database its
    # RoleSeeder met relation "roles" does not exist.
    scripts = {
        "db:migrate:run": "typeorm migration:run -d dist/config/database.js",
        "db:schema:sync": "typeorm schema:sync -d dist/config/database.js",
        "db:schema:drop": "typeorm schema:drop -d dist/config/database.js",
        "db:reset": "npm-run-all db:schema:drop db:schema:sync",
    }
    seeder = b"export class RoleSeeder1 { async up() { await repo.save(ROLES) } }"
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "src/database/migrations/1-role-seeder.ts": seeder,
    }
    listed = {"typeorm": "^0.3.20", "pg": "^8"}
    assert node_migrations(files, listed) == (
        ("npm", "run", "db:schema:sync"),
        ("npm", "run", "db:migrate:run"),
    )
    # A migration making its table: the migrations alone make the schema.
    creates = b"await queryRunner.query('CREATE TABLE \"roles\" (id uuid)')"
    made = {**files, "src/database/migrations/0-init.ts": creates}
    assert node_migrations(made, listed) == (("npm", "run", "db:migrate:run"),)


def test_a_script_running_its_own_table_making_file_is_run_and_may_fail() -> None:
    """hafiedh's crud-express-pg: ``"db_migrate": "node migrations/index.js"``, whose file
    sends ``create table IF NOT EXISTS`` through pg itself (no migration tool): every
    route met 'relation "schools" does not exist' until it ran. It is run before the
    start, and its failure is said, not the launch's."""
    migrate = (
        b'const pool = require("../config");\n'
        b"pool.query(`create table IF NOT EXISTS schools (id serial primary key)`);\n"
    )
    package = {
        "scripts": {"db_migrate": "node migrations/index.js", "dev": "nodemon app.js"},
        "dependencies": {"express": "^4", "pg": "^8", "nodemon": "^2"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "app.js": b"require('express')().listen(3000);\n",
        "migrations/index.js": migrate,
    }
    found = detect(files)
    assert found is not None
    assert ("npm", "run", "db_migrate") in found.setup
    assert ("npm", "run", "db_migrate") in found.optional
    # A script named so whose file makes no table (it prints, or calls a tool): not run.
    files["migrations/index.js"] = b"console.log('run psql -f schema.sql');\n"
    found = detect(files)
    assert found is not None and ("npm", "run", "db_migrate") not in found.setup
    # Named for making alone (Kauanphbbb's short-links-with-fastify: ``"setup": "tsx
    # src/setup.ts"``, its CREATE TABLE short_links): its file's tables say what it is.
    package["scripts"] = {"setup": "tsx src/setup.ts", "dev": "nodemon app.js"}
    files["package.json"] = json.dumps(package).encode()
    files["src/setup.ts"] = b"await sql`CREATE TABLE IF NOT EXISTS short_links (id serial)`\n"
    found = detect(files)
    assert found is not None and ("npm", "run", "setup") in found.setup
    files["src/setup.ts"] = b"console.log('copy .env.example to .env')\n"
    found = detect(files)
    assert found is not None and ("npm", "run", "setup") not in found.setup


def test_a_script_sending_the_uploads_sql_files_is_run() -> None:
    """alhabib5565's ts-node-express-pg: ``"migrate": "ts-node migrate.ts"``, which reads
    src/database/migrations/*.sql and sends each (no migration tool): every route met
    relation "users" does not exist. It is run before the start (by ts-node as by node);
    not where the upload's SQL makes no table."""
    migrate = (
        b"const files = fs.readdirSync(dir).filter((file) => file.endsWith('.sql'));\n"
        b"for (const file of files) await client.query(fs.readFileSync(path.join(dir, file)));\n"
    )
    package = {
        "scripts": {"migrate": "ts-node migrate.ts", "start": "node dist/server.js"},
        "dependencies": {"express": "^4", "pg": "^8"},
        "devDependencies": {"ts-node": "^10", "typescript": "^5"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "dist/server.js": b"require('express')().listen(3000);\n",
        "migrate.ts": migrate,
        "src/database/migrations/001_users.sql": b"CREATE TABLE IF NOT EXISTS users (id int);",
    }
    found = detect(files)
    assert found is not None and ("npm", "run", "migrate") in found.setup, found
    files["src/database/migrations/001_users.sql"] = b"INSERT INTO users VALUES (1);"
    found = detect(files)
    assert found is not None and ("npm", "run", "migrate") not in found.setup


def test_sequelize_models_are_synced_after_its_migrations_as_an_optional_step() -> None:
    """Julianeme's express-store: its one migration requires '../models/userModel', which
    the upload has as user.model.js, and its models are initialised in db/models/index.js
    (``User.init(UserSchema, User.config(sequelize))``): the migrations failed and no
    table was made. The models are synced after them (what they made is left as it is),
    a step whose failure is not the launch's."""
    package = {
        "scripts": {"start": "node app.js"},
        "dependencies": {"express": "^4", "pg": "^8", "sequelize": "^6", "sequelize-cli": "^6"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "app.js": b"require('./libs/sequelize');\nrequire('express')().listen(3000);\n",
        "libs/sequelize.js": b"const { Sequelize } = require('sequelize');\n"
        b"const setUpModels = require('../db/models');\n"
        b"const sequelize = new Sequelize(process.env.DATABASE_URL);\nsetUpModels(sequelize);\n",
        "db/models/index.js": b"const { User, UserSchema } = require('./user.model');\n"
        b"function setUpModels(sequelize) { User.init(UserSchema, User.config(sequelize)); }\n",
        "db/models/user.model.js": b"const { Model } = require('sequelize');\n"
        b"class User extends Model {}\n",
        "migrations/20230921-db.js": b"module.exports = {\n"
        b"  up: (queryInterface) => queryInterface.createTable('users', {}),\n};\n",
    }
    found = detect(files)
    assert found is not None
    assert found.setup[0] == ("node_modules/.bin/sequelize", "db:migrate")
    assert found.setup[1][:2] == ("node", "-e") and found.setup[1] in found.optional
    assert "libs/sequelize.js" in found.setup[1][2] and "db/models/index.js" in found.setup[1][2]


def test_a_knexfile_exporting_a_config_module_has_that_modules_migrations_run() -> None:
    """mateuszzdyb's node-koa-knex-fun-fair: knexfile.ts exports ``configs.databaseConfig``
    from ./src/config, whose database.ts names ``src/infrastructure/database/migrations``;
    nothing ran them. Its migrations are run; not where that folder holds none."""
    files = {
        "knexfile.ts": b"import configs from './src/config';\nexport default configs.db;\n",
        "src/config/index.ts": b"import database from './database';\nexport default {};\n",
        "src/config/database.ts": b"export default { client: 'pg', migrations: { directory:"
        b" 'src/infrastructure/database/migrations' } };\n",
        "src/infrastructure/database/migrations/create_table.ts": b"export async function up",
    }
    listed = {"knex": "^2.5", "ts-node": "^10", "pg": "^8"}
    step = ("node_modules/.bin/knex", "migrate:latest", "--knexfile", "knexfile.ts")
    assert node_migrations(files, listed) == (step,)
    del files["src/infrastructure/database/migrations/create_table.ts"]
    assert node_migrations(files, listed) == ()


def test_a_built_or_seeding_script_making_its_tables_is_run() -> None:
    """hdinjos's express-todos: ``"migrate": "npm run build && node
    ./dist/migrations/index.js"``, babel's dist/ built from src/migrations/index.js, which
    sends CREATE TABLE (every route met relation "todos" does not exist). SohrabYavari's
    ts-fastify-mysql: ``"seed": "node -r ts-node/register src/db/run-seed.ts"``, whose
    seed.ts (imported) drops and creates its tables, its only table creation. Each is run,
    an optional step; not a seed whose files make no table, nor one after a non-build."""
    package = {
        "scripts": {
            "dev": "nodemon --exec babel-node ./src/app.js",
            "build": "babel src --out-dir dist",
            "migrate": "npm run build && node ./dist/migrations/index.js",
            "unmigrate": "npm run build && node ./dist/migrations/zero.js",
        },
        "dependencies": {"express": "^4", "pg": "^8"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "src/app.js": b"import express from 'express';\nexpress().listen(3000);\n",
        "src/migrations/index.js": b"await pool.query(`CREATE TABLE IF NOT EXISTS todos ()`);",
        "src/migrations/zero.js": b"await pool.query('DROP TABLE todos');",
    }
    found = detect(files)
    assert found is not None and ("npm", "run", "migrate") in found.setup
    assert ("npm", "run", "migrate") in found.optional
    package["scripts"]["migrate"] = "rm -rf x && node ./dist/migrations/index.js"
    found = detect({**files, "package.json": json.dumps(package).encode()})
    assert found is not None and ("npm", "run", "migrate") not in found.setup
    seeding = {
        "scripts": {"start": "node dist/listen.js", "seed": "node -r ts-node/register src/run.ts"},
        "dependencies": {"fastify": "^5", "mysql2": "^3"},
    }
    seeded = {
        "package.json": json.dumps(seeding).encode(),
        "dist/listen.js": b"require('fastify')().listen({ port: 3000 });\n",
        "src/run.ts": b"import seed from './seed';\nseed();\n",
        "src/seed.ts": b"export default async () => db.query(`CREATE TABLE users (id INT)`);",
    }
    found = detect(seeded)
    assert found is not None and ("npm", "run", "seed") in found.setup
    assert ("npm", "run", "seed") in found.optional
    found = detect({**seeded, "src/seed.ts": b"export default async () => db.query('SELECT 1');"})
    assert found is not None and found.setup == ()


def test_drizzle_migrations_behind_their_schema_are_followed_by_a_push() -> None:
    """urn-tty's hono-backend-sample: drizzle.schema.ts declares users and todos, its one
    committed migration (and its snapshot) users alone (its README's ``db:generate`` never
    run after todos was added): /api/todos answered 500. After ``drizzle-kit migrate``, the
    schema is pushed, an optional step; where the snapshot has every table, no push."""
    from preview.apps.node.migrations import BEHIND
    from preview.apps.plans import optional_steps

    snapshot = {"tables": {"public.users": {"name": "users", "columns": {}}}}
    schema = (
        b'export const users = pgTable("users", { id: serial("id") });\n'
        b'export const todos = pgTable(\n  "todos", { id: serial("id") });\n'
    )
    package = {
        "dependencies": {"drizzle-orm": "^0.44", "postgres": "^3"},
        "devDependencies": {"drizzle-kit": "^0.31"},
        "scripts": {"start": "node x.js"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "drizzle.config.ts": b"export default defineConfig({ schema: './src/db/schema.ts', "
        b"out: './drizzle', dialect: 'postgresql' });\n",
        "src/db/schema.ts": schema,
        "drizzle/0000_first.sql": b'CREATE TABLE "users" ("id" serial PRIMARY KEY);\n',
        "drizzle/meta/_journal.json": b'{"entries": [{"idx": 0, "tag": "0000_first"}]}',
        "drizzle/meta/0000_snapshot.json": json.dumps(snapshot).encode(),
    }
    steps = node_migrations(files, {"drizzle-kit": "^0.31", "drizzle-orm": "^0.44"})
    assert steps[0] == ("node_modules/.bin/drizzle-kit", "migrate", "--config", "drizzle.config.ts")
    assert steps[1][:2] == ("node", "-e") and steps[1][2].startswith(BEHIND + "\n")
    assert "push" in steps[1][2]
    assert optional_steps(files, ("node", "x.js"), steps) == (steps[1],)
    snapshot["tables"]["public.todos"] = {"name": "todos", "columns": {}}
    files["drizzle/meta/0000_snapshot.json"] = json.dumps(snapshot).encode()
    assert len(node_migrations(files, {"drizzle-kit": "^0.31", "drizzle-orm": "^0.44"})) == 1


def test_typeorm_02s_cli_runs_the_migrations_its_ormconfig_names() -> None:
    """darthvaderovych's koa-ts-typeorm: TypeORM 0.2, its ormconfig.json naming
    ``src/db/migration/**/*.ts`` with ``synchronize: false`` and no script running them:
    "relation "user" does not exist" at every call. Its CLI runs them, through ts-node;
    not where ts-node is not listed, nor where TypeORM runs them itself."""
    files = {p: t.encode() for p, t in app_files("node_typeorm_ormconfig_migrations").items()}
    listed = json.loads(files["package.json"])["dependencies"]
    line = "ts-node --transpile-only node_modules/typeorm/cli.js migration:run"
    steps = node_migrations(files, listed)
    assert steps == (("sh", "-c", f'export PATH="$PWD/node_modules/.bin:$PATH"; {line}'),)
    assert node_migrations(files, {k: v for k, v in listed.items() if k != "ts-node"}) == ()
    config = json.loads(files["ormconfig.json"]) | {"migrationsRun": True}
    assert node_migrations({**files, "ormconfig.json": json.dumps(config).encode()}, listed) == ()


def test_typeorms_cli_runs_the_migrations_an_ormconfig_module_or_a_data_source_names() -> None:
    """thalesmacena's typeorm-crud-todo (TypeORM 0.2): an ormconfig.js naming
    ``./src/database/migration/*.ts``; luucasdinoo's express-events-aos (0.3): the data
    source of src/database/data-source.ts, its entities imported by a path its tsconfig
    maps. Neither has a script running them ("typeorm": the CLI given nothing to run):
    relation "todos", "event" does not exist. TypeORM's CLI runs them (0.3's given the
    data source), through ts-node with the app's tsconfig-paths; not the migrations its
    globs do not name, nor a data source for 0.2's CLI or an ormconfig for 0.3's."""
    config = (
        b"require('dotenv').config();\nmodule.exports = {\n  type: process.env.DB_TYPE,\n"
        b"  entities: ['./src/app/model/*.ts'],\n"
        b"  migrations: ['./src/database/migration/*.ts'],\n"
        b"  cli: { migrationsDir: './src/database/migration' }\n};\n"
    )
    migration = b"export class createTodo implements MigrationInterface {}\n"
    files = {
        "ormconfig.js": config,
        "src/database/migration/1625264021702-create_todo.ts": migration,
        "src/app/model/Todo.ts": b"@Entity('todos')\nexport class Todo {}\n",
    }
    listed = {"typeorm": "^0.2.34", "pg": "^8", "ts-node": "^10"}
    line = "ts-node --transpile-only node_modules/typeorm/cli.js migration:run"
    assert node_migrations(files, listed) == (("sh", "-c", BIN_FIRST_ON_PATH + line),)
    moved = {**files, "ormconfig.js": config.replace(b"database/migration/", b"db/elsewhere/")}
    assert node_migrations(moved, listed) == ()
    assert node_migrations(files, {**listed, "typeorm": "^0.3.20"}) == ()
    fixture = {p: t.encode() for p, t in app_files("ts_typeorm_datasource_migrations").items()}
    listed = {
        **json.loads(fixture["package.json"])["dependencies"],
        **json.loads(fixture["package.json"])["devDependencies"],
    }
    line = (
        "ts-node --transpile-only -r tsconfig-paths/register node_modules/typeorm/cli.js "
        "migration:run -d src/database/data-source.ts"
    )
    assert node_migrations(fixture, listed) == (("sh", "-c", BIN_FIRST_ON_PATH + line),)
    assert node_migrations(fixture, {**listed, "typeorm": "^0.2.45"}) == ()
    ran = fixture["src/database/data-source.ts"].replace(
        b"synchronize: false", b"migrationsRun: true"
    )
    assert node_migrations({**fixture, "src/database/data-source.ts": ran}, listed) == ()


def test_drizzle_schema_never_migrated_is_pushed() -> None:
    """vhlongon's hono-todos: ``"db:push": "drizzle-kit push"``, no migration ever
    generated (no drizzle/ folder): /todos answered 500, no such table. schndra's
    express-drizzle-mysql-template commits a journal with no entries. The schema its
    drizzle.config names is pushed; not where the schema declares no table, nor for a
    drizzle-kit before 0.21 (push:pg …), nor where the start applies migrations it
    generates itself (Kei-K23's: its ``migrate`` script generates them first)."""
    config = b"export default defineConfig({ out: './drizzle', schema: './src/db/schema.ts' });"
    files = {
        "drizzle.config.ts": config,
        "src/db/schema.ts": b"export const todos = sqliteTable('todos_table', { id: int() });",
    }
    listed = {"drizzle-kit": "^0.26.2", "drizzle-orm": "^0.35", "@libsql/client": "^0.14"}
    (step,) = node_migrations(files, listed)
    assert step[:2] == ("node", "-e") and '["push", "--force", "--config"' in step[2]
    assert not step[2].startswith(BEHIND)  # not optional: the only way its tables are made
    empty = {**files, "drizzle/meta/_journal.json": b'{"version": "7", "entries": []}'}
    assert node_migrations(empty, listed) == (step,)
    assert node_migrations({**files, "src/db/schema.ts": b"export {};"}, listed) == ()
    assert node_migrations(files, {**listed, "drizzle-kit": "^0.20.17"}) == ()
    main = b'import { migrate } from "drizzle-orm/libsql/migrator";\nmigrate(db, {});'
    package = json.dumps({"scripts": {"migrate": "drizzle-kit generate"}}).encode()
    generated = {**files, "src/main.ts": main, "package.json": package}
    assert node_migrations(generated, listed) == (("npm", "run", "migrate"),)
    # Its migrator a script of its own that a package.json script runs, not the start's
    # (schndra's ``"db:migrate": "ts-node src/db/migrator.ts"``): pushed.
    scripts = {"db:generate": "drizzle-kit generate", "db:migrate": "ts-node src/main.ts"}
    apart = {**generated, "package.json": json.dumps({"scripts": scripts}).encode()}
    assert node_migrations(apart, listed) == (step,)


def test_drizzle_schema_named_by_a_glob_is_pushed() -> None:
    """UNRIVALLEDKING's first-hono-project: ``schema: './src/models/*.js'``, no migration
    generated: its tables were never made (relation "todos" does not exist). The files
    the glob matches declare its tables; a glob matching none pushes nothing."""
    config = b"export default defineConfig({ schema: './src/models/*.js', dialect: 'postgresql' });"
    files = {
        "drizzle.config.js": config,
        "src/models/todo.model.js": b"export const todos = pgTable('todos', { id: serial() });",
    }
    listed = {"drizzle-kit": "^0.30.1", "drizzle-orm": "^0.38", "pg": "^8"}
    (step,) = node_migrations(files, listed)
    assert step[:2] == ("node", "-e") and '["push", "--force", "--config"' in step[2]
    deeper = config.replace(b"/*.js", b"/**/*.model.js")
    assert node_migrations({**files, "drizzle.config.js": deeper}, listed) == (step,)
    elsewhere = config.replace(b"models/*.js", b"schema/*.ts")
    assert node_migrations({**files, "drizzle.config.js": elsewhere}, listed) == ()


def test_generated_drizzle_migrations_the_start_does_not_apply_are_applied() -> None:
    """s22a55m77's realworld-nestjs-drizzle-postgresql (drizzle-kit ^0.20): its migrations
    are generated (``migration:generate``), and applied only by a script of its own
    (``"migration:run": "pnpm tsx src/drizzle/migrate.ts"``): every article route met
    relation "articles" does not exist. They are applied after generation, by drizzle-orm's
    migrator at the host, user and database the config reads one by one."""
    config = (
        b"export default { driver: 'pg', out: './src/drizzle/migrations', schema: "
        b"'./src/drizzle/schema.ts', dbCredentials: { host: process.env.DB_HOST!, port: "
        b"Number(process.env.DB_PORT!), user: process.env.DB_USERNAME!, database: "
        b"process.env.DB_NAME! } };"
    )
    scripts = {
        "migration:generate": "pnpm drizzle-kit generate:pg",
        "migration:run": "pnpm tsx src/drizzle/migrate.ts",
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "drizzle.config.ts": config,
        "src/drizzle/migrate.ts": b'import { migrate } from "drizzle-orm/node-postgres/migrator";',
    }
    listed = {"drizzle-kit": "^0.20.17", "drizzle-orm": "^0.30", "pg": "^8"}
    generate, apply = node_migrations(files, listed)
    assert generate == ("npm", "run", "migration:generate")
    assert apply[:2] == ("node", "-e") and 'migrationsFolder: "src/drizzle/migrations"' in apply[2]
    assert 'database: process.env["DB_NAME"]' in apply[2] and "DB_PORT" in apply[2]
    # The start's own module applying them: generated alone, as before.
    files["src/main.ts"] = files.pop("src/drizzle/migrate.ts")
    assert node_migrations(files, listed) == (generate,)


def test_sequelize_migrations_a_readme_runs_without_the_cli_listed() -> None:
    """igaimerca's express-sequelize-postgress-auth: its README says "do `sequelize
    db:migrate`", sequelize-cli in no package.json (npx fetched it): every route met
    relation "users" does not exist. The CLI is added to its environment and its
    migrations run; prashantjoshi12's config.json is sequelize init's mysql example, the
    app on pg reading DATABASE_* itself: migrated at the database the app is given."""
    package = {"scripts": {"start": "node app.js"}, "dependencies": {"sequelize": "^6", "pg": "^8"}}
    config = {"development": {"dialect": "postgres", "host": "127.0.0.1", "database": "db"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "app.js": b"require('express')().listen(3000);\n",
        "README.md": b"- Create necessary tables do `sequelize db:migrate`\n",
        "config/config.json": json.dumps(config).encode(),
        "migrations/20220514084226-create-user.js": b"module.exports = { up() {} };\n",
    }
    found = detect(files)
    assert found is not None
    assert found.setup == (("node_modules/.bin/sequelize", "db:migrate"),)
    assert "sequelize-cli@^6" in found.node_tools
    config["development"]["dialect"] = "mysql"
    other = {**files, "config/config.json": json.dumps(config).encode()}
    found = detect(other)
    assert found is not None
    line = 'node_modules/.bin/sequelize db:migrate --url "$DATABASE_URL"'
    assert found.setup == (("sh", "-c", line),)
    # Nothing saying to run them: neither the CLI nor the step.
    quiet = {**files, "README.md": b"npm start\n"}
    found = detect(quiet)
    assert found is not None and found.setup == () and "sequelize-cli@^6" not in found.node_tools


def test_a_sequelizerc_resolving_with_paths_resolve_alone_names_its_migrations() -> None:
    """GuilhermeGonSoares's api-rest-nodejs-express-mysql: ``const { resolve } =
    require('path')`` and ``'migrations-path': resolve(__dirname, 'src', 'database',
    'migrations')``; read as naming none, its migrations never ran (Table 'app.alunos'
    doesn't exist)."""
    rc = (
        b"const { resolve } = require('path');\nmodule.exports = {\n"
        b"  config: resolve(__dirname, 'src', 'config', 'database.js'),\n"
        b"  'migrations-path': resolve(__dirname, 'src', 'database', 'migrations'),\n};\n"
    )
    files = {".sequelizerc": rc, "src/database/migrations/20230117-alunos.js": b"up() {}"}
    steps = node_migrations(files, {"sequelize-cli": "^6", "sequelize": "^6"})
    assert steps == (("node_modules/.bin/sequelize", "db:migrate"),)


def test_typeorms_esm_cli_in_a_commonjs_project_runs_by_its_commonjs_hook() -> None:
    """cristianA123's Nest-TypeOrm-Docker: ``"migrations:run": "npm run typeorm --
    migration:run"``, ``"typeorm": "typeorm-ts-node-esm -d src/database/data-source.ts"``
    in a CommonJS project: on Node 20, "Unable to open file … Unexpected token ')'". Run
    by typeorm-ts-node-commonjs, its type check off; an ES module project's as it is."""
    scripts = {
        "typeorm": "typeorm-ts-node-esm -d src/database/data-source.ts",
        "migrations:run": "npm run typeorm -- migration:run",
    }
    files = {
        "package.json": json.dumps({"scripts": scripts}).encode(),
        "src/database/data-source.ts": b"export default new DataSource({});",
        "src/database/migrations/1-init.ts": b"export class Init {}",
    }
    line = (
        'export PATH="$PWD/node_modules/.bin:$PATH"; TS_NODE_TRANSPILE_ONLY=true '
        "typeorm-ts-node-commonjs -d src/database/data-source.ts migration:run"
    )
    assert node_migrations(files, {"typeorm": "^0.3.16"}) == (("sh", "-c", line),)
    esm = {**files, "package.json": json.dumps({"type": "module", "scripts": scripts}).encode()}
    assert node_migrations(esm, {"typeorm": "^0.3.16"}) == (("npm", "run", "migrations:run"),)


def test_ley_runs_up_in_its_folder() -> None:
    # tamaradanhash's express-postgres-api: "migrate": "dotenv ley --", its migrations in
    # migrations/; its first query ended it, relation "products" does not exist.
    listed = {"ley": "^0.4.1", "postgres": "^1.0.2"}
    migration = {"migrations/1584003991-create-products-table.js": b"exports.up = 1;"}
    package = {"package.json": json.dumps({"scripts": {"migrate": "dotenv ley --"}}).encode()}
    assert node_migrations({**package, **migration}, listed) == (("node_modules/.bin/ley", "up"),)
    moved = {"db/migrations/1_products.js": b"exports.up = 1;"}
    script = {"package.json": json.dumps({"scripts": {"m": "ley -d db/migrations up"}}).encode()}
    expected = ("node_modules/.bin/ley", "up", "--dir", "db/migrations")
    assert node_migrations({**script, **moved}, listed) == (expected,)
    # None committed, or ley not listed: nothing.
    assert node_migrations(package, listed) == ()
    assert node_migrations({**package, **migration}, {"postgres": "^1"}) == ()


def test_db_migrate_runs_up_in_the_environment_its_config_has() -> None:
    # mizukenwater's express-blog-api: db-migrate listed, database.json's development and
    # test (no dev, db-migrate's default), a migration creating articles; its first query
    # ended it, Table 'expressblogapi_development.articles' doesn't exist.
    listed = {"db-migrate": "^0.11.4", "db-migrate-mysql": "^1.1.10", "mysql": "^2"}
    config = {"development": {"driver": "mysql"}, "test": {"driver": "mysql"}}
    files = {
        "package.json": b'{"scripts": {"start": "node dist/server.js"}}',
        "database.json": json.dumps(config).encode(),
        "migrations/20200405073452-create-table-articles.js": b"exports.up = 1;",
    }
    base = ("env", "-u", "DATABASE_URL", "node_modules/.bin/db-migrate", "up")
    base = (*base, "--migrations-dir", "migrations")
    assert node_migrations(files, listed) == ((*base, "--env", "development"),)
    # Its config with a dev environment: db-migrate's default.
    dev = {**files, "database.json": b'{"dev": {"driver": "mysql"}}'}
    assert node_migrations(dev, listed) == (base,)
    # Its script's folder and config.
    scripts = {"scripts": {"migrate": "db-migrate up -m db/m --config db/config.json"}}
    moved = {
        "package.json": json.dumps(scripts).encode(),
        "db/config.json": b'{"dev": {}}',
        "db/m/1-users.js": b"exports.up = 1;",
    }
    expected = ("env", "-u", "DATABASE_URL", "node_modules/.bin/db-migrate", "up")
    expected = (*expected, "--migrations-dir", "db/m", "--config", "db/config.json")
    assert node_migrations(moved, listed) == (expected,)
    # No config of its own: DATABASE_URL, which db-migrate reads.
    alone = {k: v for k, v in files.items() if k != "database.json"}
    assert node_migrations(alone, listed) == (base[3:],)
    assert node_migrations(files, {"mysql": "^2"}) == ()


def test_sequelize_clis_own_migrations_run_where_nothing_says_so() -> None:
    """luqmansarwar012's blogging-app-mysql-express: sequelize listed, not sequelize-cli,
    no README; its migrations named as ``migration:generate`` names them, each a
    ``queryInterface.createTable``, and nothing else makes the tables: every route met
    "Table 'blogging-app.Posts' doesn't exist". The CLI is added and they run; a
    ``.sequelizerc`` moving them (nelsonsinis's sequelize-express-example) is followed."""
    package = {"scripts": {"start": "node server.js"}, "dependencies": {"sequelize": "^6"}}
    package["dependencies"]["mysql2"] = "^3"
    migration = (
        b"module.exports = {\n  async up(queryInterface, Sequelize) {\n"
        b"    await queryInterface.createTable('Posts', { id: { type: Sequelize.INTEGER } });\n"
        b"  },\n};\n"
    )
    files = {
        "package.json": json.dumps(package).encode(),
        "server.js": b"require('express')().listen(process.env.PORT);\n",
        "config/config.json": b'{"development": {"dialect": "mysql", "database": "blog"}}',
        "migrations/20240125114402-create-post.js": migration,
    }
    found = detect(files)
    assert found is not None
    assert found.setup == (("node_modules/.bin/sequelize", "db:migrate"),)
    assert "sequelize-cli@^6" in found.node_tools
    rc = b"const path = require('path');\nmodule.exports = {\n" + (
        b"  'migrations-path': path.resolve('src/config/database', 'migrations'),\n};\n"
    )
    moved = {
        **{k: v for k, v in files.items() if not k.startswith("migrations/")},
        ".sequelizerc": rc,
        "src/config/database/migrations/20210417123025-create-person.js": migration,
    }
    found = detect(moved)
    assert found is not None and found.setup == (("node_modules/.bin/sequelize", "db:migrate"),)
    # Not where the app syncs its tables itself, nor for a migration of another name or
    # one making no table, nor one outside the migrations folder.
    synced = {**files, "server.js": b"const db = require('./models');\ndb.sequelize.sync();\n"}
    named = {
        **{k: v for k, v in files.items() if not k.startswith("migrations/")},
        "migrations/create-post.js": migration,
    }
    empty = {**files, "migrations/20240125114402-create-post.js": b"module.exports = {};\n"}
    elsewhere = {
        **{k: v for k, v in files.items() if not k.startswith("migrations/")},
        "db/migrations/20240125114402-create-post.js": migration,
    }
    for other in (synced, named, empty, elsewhere):
        found = detect(other)
        assert found is not None and found.setup == ()
        assert "sequelize-cli@^6" not in found.node_tools
    # A sync() a timer defers past the listen (gabrielmrts's node-sequelize-express-docker:
    # its first GET met relation "books" does not exist) makes no table before it serves.
    later = b"const db = require('./models');\napp.listen(3030);\n"
    later += b"setTimeout(() => {\n  db.sequelize.sync();\n}, 1000);\n"
    found = detect({**files, "server.js": later})
    assert found is not None and found.setup == (("node_modules/.bin/sequelize", "db:migrate"),)


def test_a_workers_d1_migrations_apply_to_wranglers_local_database() -> None:
    """Michaelomh's bun-hono: a Hono Worker on D1 (``"dev": "wrangler dev"``), its
    wrangler.jsonc declaring the database and its ``migrations_dir``; its drizzle.config
    (``driver: 'd1-http'``) reaches the remote D1 with an account's token, and run as a
    step it failed the launch. The migrations apply to the local database instead (a
    TOML config likewise); none without wrangler listed or without SQL in the folder."""
    package = {
        "scripts": {"dev": "wrangler dev"},
        "dependencies": {"hono": "^4", "drizzle-orm": "^0.44"},
        "devDependencies": {"wrangler": "^4", "drizzle-kit": "^0.31"},
    }
    wrangler = (
        b'{\n  // the Worker\n  "name": "api", "main": "src/index.ts",\n'
        b'  "d1_databases": [{"binding": "DB", "database_name": "api-d1",\n'
        b'    "migrations_dir": "src/db/migrations",},],\n}\n'
    )
    drizzle = (
        b"export default defineConfig({ dialect: 'sqlite', out: './src/db/migrations',\n"
        b"  driver: 'd1-http', dbCredentials: { token: env.CLOUDFLARE_D1_TOKEN } });\n"
    )
    files = {
        "package.json": json.dumps(package).encode(),
        "wrangler.jsonc": wrangler,
        "drizzle.config.ts": drizzle,
        "src/index.ts": b"export default app;\n",
        "src/db/migrations/0000_first.sql": b"CREATE TABLE tasks (id integer);\n",
        "src/db/migrations/meta/_journal.json": b'{"entries": [{"tag": "0000_first"}]}',
    }
    listed = {**package["dependencies"], **package["devDependencies"]}
    apply = ("node_modules/.bin/wrangler", "d1", "migrations", "apply", "--local")
    assert node_migrations(files, listed) == ((*apply, "api-d1"),)
    toml = b'name = "api"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "db2"\n'
    moved = {k: v for k, v in files.items() if k != "wrangler.jsonc"}
    moved["wrangler.toml"] = toml
    moved["migrations/0001.sql"] = b"CREATE TABLE a (id integer);\n"
    assert node_migrations(moved, listed) == ((*apply, "db2"),)
    unlisted = {k: v for k, v in listed.items() if k != "wrangler"}
    assert node_migrations(files, unlisted) == ()
    no_sql = {k: v for k, v in files.items() if not k.endswith(".sql")}
    assert all(step[:2] != apply[:2] for step in node_migrations(no_sql, listed))


def test_a_workers_d1_schema_files_run_into_the_local_database_without_migrations() -> None:
    """VPrueba57's hono-videos-api's shape: a Hono Worker on D1 (``"start": "wrangler
    dev"``), no migrations folder; its schema in SQL files of its own folder, one a file of
    rows alone. Each file that makes a table is executed into the local database, in its
    path's order; none where wrangler is not listed, nor where migrations apply."""
    package = {
        "scripts": {"start": "wrangler dev"},
        "dependencies": {"hono": "^4"},
        "devDependencies": {"wrangler": "^3"},
    }
    toml = b'name = "videos"\nmain = "src/index.ts"\n[[d1_databases]]\nbinding = "DB"\n'
    toml += b'database_name = "prod-d1-videos"\ndatabase_id = "0a54"\n'
    files = {
        "package.json": json.dumps(package).encode(),
        "wrangler.toml": toml,
        "src/index.ts": b"app.get('/api/video', (c) => c.env.DB.prepare('SELECT * FROM Video'))",
        "database-scripts/schemaVideo.sql": b"CREATE TABLE IF NOT EXISTS Video (VideoId INTEGER);",
        "database-scripts/schema.sql": b"DROP TABLE IF EXISTS Actor;\nCREATE TABLE Actor (a);\n",
        "database-scripts/Actor_2024.sql": b"INSERT INTO Actor (ActorName) VALUES ('a');\n",
    }
    listed = {**package["dependencies"], **package["devDependencies"]}
    execute = ("node_modules/.bin/wrangler", "d1", "execute", "prod-d1-videos", "--local")
    assert node_migrations(files, listed) == (
        (*execute, "--file", "database-scripts/schema.sql"),
        (*execute, "--file", "database-scripts/schemaVideo.sql"),
    )
    unlisted = {k: v for k, v in listed.items() if k != "wrangler"}
    assert node_migrations(files, unlisted) == ()
    migrated = {**files, "migrations/0001_first.sql": b"CREATE TABLE Video (VideoId INTEGER);"}
    apply = ("node_modules/.bin/wrangler", "d1", "migrations", "apply", "--local")
    assert node_migrations(migrated, listed) == ((*apply, "prod-d1-videos"),)
    found = detect(files)
    assert found is not None and found.setup[-1][-1] == "database-scripts/schemaVideo.sql"


def test_sequelize_models_whose_tables_nothing_makes_are_synced_and_may_fail() -> None:
    """Cristiano-woody's todo-list-api-node-sequelize: models by ``define()`` on its own
    instance, which only ``authenticate()``s (no ``sync()``, no migrations): every route
    met relation "tasks" does not exist. A step syncs them, loading the modules that make
    the instance (not the one that serves) and those declaring models; its failure is
    not the launch's. Not where the app syncs, or keeps migrations."""
    fixture = {k: v.encode() for k, v in app_files("node_sequelize_models").items()}
    found = detect(fixture)
    assert found is not None
    steps = [s for s in found.setup if s[-1].startswith(SYNC_MODELS)]
    assert len(steps) == 1 and steps[0] in found.optional
    assert steps[0][:2] == ("node", "-e")
    assert '["src/database.ts", "src/models/note.ts"]' in steps[0][-1]
    said = f"node -e {SYNC_MODELS}Sequelize's sync()), which nothing of the app makes …"
    assert found.data_init == (said,)
    # A class's Model.init() declares models too.
    init = b"class Note extends Model {}\nNote.init({ text: DataTypes.STRING }, { sequelize });\n"
    classes = {**fixture, "src/models/note.ts": b"import { Model } from 'sequelize';\n" + init}
    found = detect(classes)
    assert found is not None and any(s[-1].startswith(SYNC_MODELS) for s in found.setup)
    synced = {**fixture, "src/sync.ts": b"import sequelize from './database';\nsequelize.sync();\n"}
    migrated = {
        **fixture,
        "migrations/1-notes.js": b"module.exports = { up: (q) => q.createTable('notes', {}) };",
    }
    undeclared = {k: v for k, v in fixture.items() if k != "src/models/note.ts"}
    for files in (synced, migrated, undeclared):
        found = detect(files)
        assert found is not None and not any(s[-1].startswith(SYNC_MODELS) for s in found.setup)


def test_a_sync_helper_nothing_calls_leaves_the_models_to_be_synced() -> None:
    """phuochungdn1999's Express-warehouse: src/database/db-sync.js exports ``function () {
    sequelize.sync({ force: true }) }`` ("call this once"), its one require in the app a
    comment: every route met "Table 'app.warehouses' doesn't exist". Its sync() never runs;
    the models are synced by the step. Where a module calls the helper, it runs there."""
    fixture = {k: v.encode() for k, v in app_files("node_sequelize_models").items()}
    helper = b"const sequelize = require('../database');\nmodule.exports = function () {\n"
    helper += b"  sequelize.sync({ force: true }).then(() => console.log('synced'));\n};\n"
    files = {
        **fixture,
        "src/db/db-sync.js": helper,
        "src/main.js": b"// require('./db/db-sync')()\nrequire('./server');\n",
    }
    found = detect(files)
    assert found is not None and any(s[-1].startswith(SYNC_MODELS) for s in found.setup)
    called = {**files, "src/main.js": b"require('./db/db-sync')();\nrequire('./server');\n"}
    found = detect(called)
    assert found is not None and not any(s[-1].startswith(SYNC_MODELS) for s in found.setup)


def test_typeorm_entities_whose_tables_nothing_makes_are_synchronized_and_may_fail() -> None:
    """TypeORM entities on the app's own ``new DataSource({ … synchronize: false })``, no
    migrations, no schema file: every route would meet relation "notes" does not exist.
    A step synchronizes that data source; not where its options synchronize, where it
    keeps migrations or a schema file (which a synchronize would alter), nor without
    entities."""
    fixture = {k: v.encode() for k, v in app_files("node_typeorm_entities").items()}
    found = detect(fixture)
    assert found is not None
    steps = [s for s in found.setup if s[-1].startswith(SYNC_MODELS)]
    assert len(steps) == 1 and steps[0] in found.optional
    assert steps[0][-1].startswith(f"{SYNC_MODELS}TypeORM's synchronize())")
    assert '["src/data-source.ts"]' in steps[0][-1]
    source = fixture["src/data-source.ts"]
    synchronized = {**fixture, "src/data-source.ts": source.replace(b"false", b"true")}
    migration = b"export class Notes implements MigrationInterface {}"
    migrated = {**fixture, "src/migrations/1-notes.ts": migration}
    schema = {**fixture, "schema.sql": b"CREATE TABLE notes (id serial primary key);"}
    entityless = {k: v for k, v in fixture.items() if k != "src/entity/Note.ts"}
    entityless["src/server.ts"] = b"import './data-source';\n"
    # tsc's output of its source, committed (lucasprezlp's Typescript-con-express: its
    # build/db/conexion.js says ``synchronize: true``, the source false): the source says.
    config = json.loads(fixture["tsconfig.json"])
    config["compilerOptions"] |= {"outDir": "build", "rootDir": "src"}
    stale = b'const typeorm = require("typeorm");\nnew typeorm.DataSource({ synchronize: true })\n'
    built = {**fixture, "tsconfig.json": json.dumps(config).encode(), "build/data-source.js": stale}
    found = detect(built)
    assert found is not None and any(s[-1].startswith(SYNC_MODELS) for s in found.setup)
    own_javascript = {**built, "lib/data-source.js": stale}  # no source of it: its own
    for files in (synchronized, migrated, schema, entityless, own_javascript):
        found = detect(files)
        assert found is not None and not any(s[-1].startswith(SYNC_MODELS) for s in found.setup)


def test_a_drizzle_kit_before_its_migrate_command_on_sqlite_gets_the_journal_applied() -> None:
    """destocot's drizzle-express-rest-api: drizzle-kit ^0.20.14 (no ``migrate``: "unknown
    command 'migrate'") on better-sqlite3, whose file the app opens at DATABASE_URL.
    drizzle-orm's better-sqlite3 migrator applies the journal there (it returns when done,
    not a promise); on libSQL, its migrator through @libsql/client."""
    config = b"export default { schema: './src/schema.ts', out: 'migrations',"
    config += b" driver: 'better-sqlite', dbCredentials: { url: process.env.DATABASE_URL! } };"
    files = {
        "drizzle.config.ts": config,
        "migrations/meta/_journal.json": b'{"version": "5", "entries": [{"tag": "0000_a"}]}',
        "migrations/0000_a.sql": b"CREATE TABLE `users` (`id` text PRIMARY KEY NOT NULL);",
    }
    listed = {"drizzle-kit": "^0.20.14", "drizzle-orm": "^0.30.8", "better-sqlite3": "^9.5.0"}
    (step,) = node_migrations(files, listed)
    assert step[:2] == ("node", "-e")
    assert 'require("better-sqlite3"))(address)' in step[2]
    assert 'require("drizzle-orm/better-sqlite3/migrator")' in step[2]
    assert 'process.env["DATABASE_URL"]' in step[2] and '"migrations"' in step[2]
    libsql = {**listed, "@libsql/client": "^0.5"}
    del libsql["better-sqlite3"]
    (step,) = node_migrations(files, libsql)
    assert 'require("drizzle-orm/libsql/migrator")' in step[2]


def test_drizzle_tables_declared_by_modules_the_schema_file_gathers_are_pushed() -> None:
    """sukhendralodhi's docker-drizzle-express: ``schema: "./models/index.js"``, a file
    that only requires ``./book.model.js`` and ``./author.model.js`` (their ``pgTable``
    calls), no migration generated: relation "books" does not exist. The tables of the
    modules it imports (at any depth) count; a module outside the schema's does not
    unless imported."""
    config = b"module.exports = defineConfig({ schema: './models/index.js', out: './drizzle' });"
    files = {
        "drizzle.config.js": config,
        "models/index.js": b'const books = require("./book.model.js");\nmodule.exports = books;',
        "models/book.model.js": b'const authors = require("./author");\nmodule.exports = 1;',
        "models/author.js": b'module.exports = pgTable("authors", { id: uuid() });',
    }
    listed = {"drizzle-kit": "^0.31.5", "drizzle-orm": "^0.44", "pg": "^8"}
    (step,) = node_migrations(files, listed)
    assert step[:2] == ("node", "-e") and '["push", "--force", "--config"' in step[2]
    unrelated = {**files, "models/book.model.js": b"module.exports = 1;"}
    assert node_migrations(unrelated, listed) == ()


def test_a_drizzle_config_in_a_folder_of_its_own_is_pushed_with_its_schema_found() -> None:
    """LautaroEpifani's nodejs-express-hexagonal-arq keeps its one drizzle.config in
    src/lib/User/infrastructure/DrizzlePostgresUser/, naming ``schema: "./schema.ts"``
    beside it (its ``drizzle-pull`` script runs it with ``--config`` from the root, where
    that path finds nothing), no migration: relation "users" does not exist. The config
    is read; its schema, found from its folder, is pushed from the root. Two configs in
    folders say nothing; one beside package.json is the one read, as before."""
    folder = "src/lib/User/infrastructure/DrizzlePostgresUser"
    config = b'export default defineConfig({ out: "./drizzle", schema: "./schema.ts",\n'
    config += b'  dialect: "postgresql", dbCredentials: { url: dbConfig.DATABASE_URL! } });\n'
    files = {
        f"{folder}/drizzle.config.ts": config,
        f"{folder}/schema.ts": b'export const users = pgTable("users", { id: uuid() });',
    }
    listed = {"drizzle-kit": "^0.30.1", "drizzle-orm": "^0.38.3", "pg": "^8.13.1"}
    (step,) = node_migrations(files, listed)
    assert step[:2] == ("node", "-e") and '["push", "--force", "--config"' in step[2]
    wrapper = json.dumps(
        f'import config from "./{folder}/drizzle.config";\n'
        f'export default {{ ...config, schema: ["{folder}/schema.ts"], strict: false, '
        "verbose: false };\n"
    )
    assert wrapper.replace("{", "{{").replace("}", "}}") in step[2], step[2]
    other = {"src/other/drizzle.config.ts": config, "src/other/schema.ts": b""}
    assert node_migrations({**files, **other}, listed) == ()
    assert node_migrations({**files, "tests/drizzle.config.ts": config}, listed) == (step,)


def test_a_nest_apps_typeorm_entities_are_synchronized_in_its_root_modules_context() -> None:
    """norbertturek's nestjs-recipe-api: ``TypeOrmModule.forRootAsync({ … synchronize:
    false, autoLoadEntities: true })``, entities, no migration and no data source module of
    its own to load: its tables were never made. The step makes the context of the root
    module its main bootstraps (``NestFactory.create(AppModule)``) and synchronizes the
    data source in it; optional, as the data source's own step is."""
    package = {
        "scripts": {"build": "nest build", "start:prod": "node dist/main"},
        "dependencies": {
            "@nestjs/core": "^11",
            "@nestjs/typeorm": "^11",
            "typeorm": "^0.3",
            "pg": "^8",
        },
    }
    database = b"TypeOrmModule.forRootAsync({ useFactory: () => ({ type: 'postgres',"
    database += b" autoLoadEntities: true, synchronize: false }) })"
    files = {
        "package.json": json.dumps(package).encode(),
        "src/main.ts": b"import { NestFactory } from '@nestjs/core';\n"
        b"import { AppModule } from './app.module';\n"
        b"const app = await NestFactory.create(AppModule);\n",
        "src/app.module.ts": b"@Module({ imports: [DatabaseModule] }) export class AppModule {}",
        "src/database/database.module.ts": database,
        "src/recipe/dish.entity.ts": b"@Entity() export class Dish {}",
    }
    found = detect(files)
    assert found is not None
    (step,) = [s for s in found.setup if s[-1].startswith(SYNC_MODELS)]
    assert step in found.optional and found.setup[0] == ("npm", "run", "build")
    assert "in its Nest module's context" in step[-1].split("\n", 1)[0]
    assert '["src/app.module.ts"]' in step[-1] and "createApplicationContext" in step[-1]
    # TypeORM 0.2 has no DataSource: its Connection is what Nest registers (lpmatiutis's
    # crud-app-nestjs: "Nest cannot find given element")
    assert "context.get(DataSource || Connection)" in step[-1]
    synchronized = database.replace(b"false", b"true")
    for other in (
        {"src/database/database.module.ts": synchronized},
        {"src/migrations/1-dishes.ts": b"export class D implements MigrationInterface {}"},
        {"src/main.ts": b"bootstrap();\n"},
    ):
        found = detect({**files, **other})
        assert found is not None and not any(s[-1].startswith(SYNC_MODELS) for s in found.setup)


def _sync_step_run(
    node: str, files: dict[str, bytes], tmp_path: Path
) -> subprocess.CompletedProcess:
    """The models' sync step detected for ``files``, run by Node in ``tmp_path``."""
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    found = detect(files)
    assert found is not None
    (step,) = [s for s in found.setup if s[-1].startswith(SYNC_MODELS)]
    script = step[-1].replace("{{", "{").replace("}}", "}")  # (a step is a template)
    return subprocess.run(
        [node, "-e", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_the_sync_step_closes_an_instance_whose_close_returns_nothing(tmp_path: Path) -> None:
    """Sequelize 3's ``close()`` returns nothing (sbakkila's ExpressReview): the step's
    ``sequelize.close().catch(…)`` threw "Cannot read properties of undefined (reading
    'catch')" after its tables were made. Run by Node on an instance of that shape."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    instance = (  # (the shape of Sequelize 3's instance, its close() returning nothing)
        b"class Sequelize {\n  constructor() { this.models = { Note: { tableName: 'notes' } }; }\n"
        b"  define() {}\n  async sync() { console.log('synced'); }\n"
        b"  close() { console.log('closed'); }\n}\n"
        b"module.exports = new Sequelize('app', 'root', '', { dialect: 'sqlite' });\n"
    )
    files = {
        "package.json": b'{"scripts": {"start": "node src/server.js"}, '
        b'"dependencies": {"express": "^4", "sequelize": "^3"}}',
        "src/database.js": instance,
        "src/models/note.js": b"const { DataTypes } = require('sequelize');\n"
        b"const database = require('../database');\n"
        b"module.exports = database.define('notes', { text: DataTypes.STRING });\n",
        "src/server.js": b"require('./models/note');\napp.listen(3000);\n",
    }
    ran = _sync_step_run(node, files, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "closed" in ran.stdout and "reading 'catch'" not in ran.stderr


def test_the_sync_step_declares_sequelize_autos_models_on_the_instance(tmp_path: Path) -> None:
    """sequelize-auto's models declare themselves only when called with an instance (its
    init-models' ``initModels(sequelize)``, each class's static ``initModel``), which the
    module that serves does (Oliverio12's ExpressCafe_Backend: "no Sequelize model made
    among its modules", then 'relation "public.categorias" does not exist')."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    instance = (  # (a Sequelize instance's shape)
        b"class Sequelize {\n  constructor() { this.models = {}; }\n  define() {}\n"
        b"  async sync() { console.log('synced', Object.keys(this.models).join(',')); }\n"
        b"  async close() {}\n}\n"
        b"module.exports = new Sequelize('app', 'root', '', { dialect: 'postgres' });\n"
    )
    model = (
        b"class Categoria extends Object {\n  static initModel(sequelize) {\n"
        b"    sequelize.models.categorias = { tableName: 'categorias' };\n"
        b"    return Categoria.init({}, { sequelize, tableName: 'categorias' });\n  }\n"
        b"  static init() { return Categoria; }\n}\nmodule.exports = { Categoria };\n"
    )
    files = {
        "package.json": b'{"scripts": {"start": "node src/index.js"}, '
        b'"dependencies": {"express": "^4", "sequelize": "^6", "pg": "^8"}}',
        "src/database.js": instance,
        "src/models/categoria.js": model,
        "src/index.js": b"const db = require('./database');\n"
        b"require('./models/categoria').Categoria.initModel(db);\napp.listen(3000);\n",
    }
    ran = _sync_step_run(node, files, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "synced categorias" in ran.stdout, (ran.stdout, ran.stderr)


def test_the_sync_step_calls_a_nest_providers_factory_making_the_instance(
    tmp_path: Path,
) -> None:
    """Nest's Sequelize recipe makes the instance in a provider's ``useFactory``, which
    only Nest calls (Pasyagitka's RecipeNestJS: ``sequelize.addModels([categories, …])``
    there, its recipe's ``sync()`` dropped): "no Sequelize model made among its modules",
    then 'relation "public.categories" does not exist'. The step calls a factory taking
    nothing Nest injects; not one that does."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    instance = (  # (a Sequelize instance's shape, as sequelize-typescript's addModels)
        b"class Sequelize {\n  constructor() { this.models = {}; }\n  define() {}\n"
        b"  addModels(models) { for (const m of models) this.models[m.name] = m; }\n"
        b"  async sync() { console.log('synced', Object.keys(this.models).join(',')); }\n"
        b"  async close() {}\n}\n"
    )
    providers = (
        b"const { Sequelize } = require('./sequelize');\n"
        b"const { categories } = require('../categories/categories.entity');\n"
        b"exports.databaseProviders = [{\n  provide: 'SEQUELIZE',\n"
        b"  useFactory: async () => {\n    const sequelize = new Sequelize('postgres://x');\n"
        b"    sequelize.addModels([categories]);\n    return sequelize;\n  },\n}];\n"
        b"exports.injected = [{ provide: 'OTHER', inject: ['CONFIG'],\n"
        b"  useFactory: (config) => { console.log('injected called'); } }];\n"
    )
    files = {
        "package.json": b'{"scripts": {"start": "node src/main.js"}, "dependencies": '
        b'{"@nestjs/core": "^8", "sequelize": "^6", "sequelize-typescript": "^2"}}',
        "src/database/sequelize.js": instance + b"module.exports = { Sequelize };\n",
        "src/database/database.providers.js": providers,
        "src/categories/categories.entity.js": (
            b"// sequelize-typescript's @Table({ tableName: 'categories' })\n"
            b"class categories {}\nmodule.exports = { categories };\n"
        ),
        "src/main.js": b"require('./database/database.providers');\napp.listen(3000);\n",
    }
    ran = _sync_step_run(node, files, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "synced categories" in ran.stdout, (ran.stdout, ran.stderr)
    assert "injected called" not in ran.stdout
