"""Shapes of the sixteenth and seventeenth batches of real apps: an Alembic history that
cannot run where the app makes its tables itself as it starts. reinhud's
async-fastapi-postgres-template (its head drops tables no revision made; the app's
startup runs ``conn.run_sync(Base.metadata.create_all)``) and Chirag-Jikadra-07's
fullstack-fastapi-todoapp (its env.py imports the app's package module ``models`` as a
top-level one: "attempted relative import with no known parent package"; ``main.py``
calls ``create_all`` at import) failed their launch at the set-up step; run as their
authors run them, both work. Real builds, real previews."""

from __future__ import annotations

import json

import trio

from preview.apps.alembicheads import alembic_changes_nothing
from preview.apps.createall import creates_its_tables
from preview.apps.detect import detect
from preview.apps.node.migrations import node_migrations, syncs_its_tables

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

_AT_IMPORT = b"from db import Base, engine\nBase.metadata.create_all(bind=engine)\n"
_AT_STARTUP = b"""
async def init_models():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
"""
_UNDER_MAIN = b"if __name__ == '__main__':\n    Base.metadata.create_all(engine)\n"


def test_an_app_that_makes_its_tables_as_it_runs() -> None:
    assert creates_its_tables({"app/main.py": _AT_IMPORT})
    assert creates_its_tables({"app/db/session.py": _AT_STARTUP})
    # Not where a server never runs it: its __main__ block, tests, migrations, scripts.
    assert not creates_its_tables({"app/main.py": _UNDER_MAIN})
    for path in ("tests/conftest.py", "test_api.py", "alembic/env.py", "scripts/setup.py",
                 "init_db.py", "app/create_db.py", "seed.py"):  # fmt: skip
        assert not creates_its_tables({path: _AT_IMPORT}), path
    assert not creates_its_tables({"app/main.py": b"# create_all is not called here\n"})


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


_NOTHING = 'revision = "0001"\ndown_revision = None\n\n\ndef upgrade():\n    """-"""\n    pass\n'


def test_a_history_whose_every_upgrade_does_nothing() -> None:
    assert alembic_changes_nothing({"migrations/versions/0001_init.py": _NOTHING.encode()})
    assert not alembic_changes_nothing({})  # no revision: nothing said
    made = _NOTHING.replace("    pass\n", "    op.create_table('t')\n").encode()
    both = {"migrations/versions/0001.py": _NOTHING.encode(), "migrations/versions/0002.py": made}
    assert not alembic_changes_nothing(both)
    assert alembic_changes_nothing({"migrations/versions/0001.py": b"revision = 'x'\n"}) is False


_DROPS_WHAT_NONE_MADE = """revision = "0001"
down_revision = None

from alembic import op


def upgrade():
    op.drop_table("parent")
"""


async def test_failed_migrations_of_an_app_making_its_tables_start_it(
    builder_service: Service,
) -> None:
    service = builder_service
    files = app_files("alembic_no_revision")
    files["main.py"] += "\nmetadata.create_all(engine)\n"  # at import, as Chirag's main.py
    files["migrations/versions/0001_drop.py"] = _DROPS_WHAT_NONE_MADE
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any("it makes its tables itself (create_all)" in m for m in said), said[-5:]
        assert (await service.app_get(body, "/items")).json() == []
        assert (await service.stop(body["gid"])).status_code == 200
        # Without create_all the failure stands: the app would have no tables.
        del files["main.py"]
        files["main.py"] = app_files("alembic_no_revision")["main.py"]
        body = await launched(service, files)
        assert body["status"] == "failed"
        assert "setup step failed" in body["errorMessage"], body["errorMessage"]
        # rropppe's Flask-weather-app: an alembic.ini quoting its URL, revisions that do
        # nothing (its tables in a committed SQLite file): started anyway.
        files["migrations/versions/0001_drop.py"] = _NOTHING
        files["migrations/env.py"] = "raise SystemExit('its URL quoted: cannot be parsed')\n"
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any("their every upgrade() does nothing" in m for m in said), said[-5:]
        assert (await service.stop(body["gid"])).status_code == 200


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
    # The app runs them itself as it starts; or none is committed; or no script runs them.
    itself = {**files, "src/config/database.ts": b"export default { migrationsRun: true };"}
    assert node_migrations(itself, listed) == ()
    assert node_migrations({"package.json": files["package.json"]}, listed) == ()
    unscripted = {**files, "package.json": b'{"scripts": {"start": "node dist/main"}}'}
    assert node_migrations(unscripted, listed) == ()
    # A Procfile's release line running them: not twice.
    fixture = {p: t.encode() for p, t in app_files("ts_typeorm_cli_migrations").items()}
    assert detect(fixture).setup.count(("npm", "run", "migration:run")) == 0
