"""Shapes of the Express apps of the first held-out set (issue 66's training material
since that round ended), each with a fixture app of ours."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from preview.apps.configvars import compose_environment, meaning
from preview.apps.node.migrations import node_migrations
from preview.apps.node.nodeapp import node_start
from preview.backing import wanted_servers
from preview.backing.mysql import mysql_environment
from preview.backing.postgres import postgres_variables
from preview.backing.wanted import MysqlWanted
from preview.builds.configdefaults import config_defaults, example_copies
from preview.builds.toolerrors import NPM_LOCK_OUT_OF_SYNC, only_outside_the_code, tool_failure
from preview.sandbox.appdir import write_into

PACKAGE = json.dumps(
    {"scripts": {"start": "node app.js"}, "dependencies": {"mysql2": "^2", "sequelize": "^6"}}
).encode()


def test_a_sequelize_config_json_names_the_mysql_it_opens() -> None:
    """edgareldy's tutorial names its MariaDB only in sequelize-cli's config/config.json
    (no URL, no variable): none was given it, and its migrations failed on
    ECONNREFUSED 127.0.0.1:3306. The development object is the one a preview runs as."""
    config = {
        "development": {
            "username": "root",
            "password": "123456",
            "database": "shop_db",
            "host": "127.0.0.1",
            "dialect": "mysql",
        },
        "production": {"username": "root", "password": None, "database": "prod", "host": "h"},
    }
    files = {
        "package.json": PACKAGE,
        "config/config.json": json.dumps(config).encode(),
        "app.js": b"const db = require('./models')\n",
    }
    wanted = wanted_servers(files, "app.js", {})
    assert wanted.mysql is not None
    assert "the MySQL settings of config/config.json" in wanted.mysql.why
    assert wanted.mysql.accounts == {"root": "123456"}
    assert wanted.mysql.databases == ["shop_db"]


def test_a_database_named_in_a_json_settings_file_without_its_engine() -> None:
    """samimzafar's boilerplate: convict reads config/environments/development.json
    (``"db": {"name": "sequelize_DB", …}``), and the Sequelize options beside it say
    ``dialect: "mysql"`` with every value read through convict. Its MariaDB was given,
    but not that database ("Unknown database 'sequelize_DB'")."""
    development = {"port": 4000, "db": {"username": "root", "password": None, "name": "shop_DB"}}
    development["db"]["host"] = "127.0.0.1"
    files = {
        "package.json": PACKAGE,
        "config/environments/development.json": json.dumps(development).encode(),
        "config/cli.js": b'module.exports = { dialect: "mysql", database: config.get("db.name") }',
        # Another engine's settings say nothing of MySQL's.
        "config/other.json": json.dumps(
            {"host": "pg", "user": "u", "database": "elsewhere", "dialect": "postgres"}
        ).encode(),
    }
    wanted = wanted_servers(files, "app.js", {})
    assert wanted.mysql is not None
    assert wanted.mysql.databases == ["shop_DB"]
    assert wanted.mysql.accounts == {"root": ""}
    # Alone (no driver and no other setting naming MySQL), it wants no server.
    del files["config/cli.js"]
    assert wanted_servers(files, "app.js", {}).mysql is None


def test_a_settings_example_named_by_a_prefix_or_a_word_before_its_extension() -> None:
    """afrijaldz's express-sequelize-starter ships config/example.config.json; its
    models/index.js and sequelize-cli read config/config.json ("Cannot find
    config/config.json")."""
    files = {
        "config/example.config.json": b"{}",
        "settings.sample.json": b"{}",
        "src/config.ts.example": b"",
        "example.json": b"{}",  # no name left once "example." is taken away
        "present.example.json": b"{}",
        "present.json": b"{}",
    }
    assert example_copies(files) == {
        "config/config.json": "config/example.config.json",
        "settings.json": "settings.sample.json",
        "src/config.ts": "src/config.ts.example",
    }


def test_a_served_databases_empty_password_stays_empty() -> None:
    """agucabral21's .env.example leaves ``DB_PASS=`` empty; the preview's MariaDB's
    root has no password, which the service gave it by meaning, and then replaced as an
    empty secret by a throwaway one ("Access denied for user 'root'@'localhost' (using
    password: YES)")."""
    files = {
        "package.json": PACKAGE,
        ".env.example": b"DB_HOST=\nDB_USER=\nDB_PASS=\nDB_NAME=\nJWT_SECRET=\n",
        "app.js": b"new Sequelize({ password: process.env.DB_PASS, dialect: 'mysql' })\n",
    }
    provided = mysql_environment(MysqlWanted())
    found = config_defaults(files, "app.js", {}, provided)
    assert found.values["DB_PASS"] == ""
    assert "DB_PASS" not in found.generated
    assert found.values["JWT_SECRET"] and "JWT_SECRET" in found.generated


def test_npm_ci_out_of_step_known_by_its_gaps_alone() -> None:
    """npm 11 prints its whole usage after the gaps it found; japananh's lockfile lacked
    all 544 packages, and the tail kept neither npm's first line nor the reason, only
    "Run "npm help ci" for more info" (so npm install was never tried)."""
    gaps = [f"npm error Missing: package-{n}@1.0.{n} from lock file" for n in range(100)]
    usage = ["npm error", "npm error Clean install a project", "npm error Usage:"]
    usage += ["npm error   --flag", "npm error     what it does"] * 40
    usage += ['npm error Run "npm help ci" for more info']
    found = tool_failure(gaps + usage)
    assert found is not None
    reason, shown = found
    assert reason == f"{NPM_LOCK_OUT_OF_SYNC} (Missing: package-0@1.0.0 from lock file, …)"
    assert shown[0] == "Missing: package-0@1.0.0 from lock file"
    assert tool_failure(["npm error Missing: script name", *usage]) is None


def test_a_script_the_app_runs_as_a_program_is_written_executable(tmp_path: Path) -> None:
    """An upload holds no file modes: Kuatsu's Dockerfile runs ``./docker_run_env.sh``
    (no ``#!`` line), zombiQWERTY's compile script ``./bin/start/compile.sh``, both
    committed executable and refused ("Permission denied", exit 126)."""
    files = {
        "docker_run_env.sh": b'if [ "$NODE_ENV" = "development" ]\nthen yarn dev\nfi\n',
        "bin/start/compile": b"#!/usr/bin/env node\nconsole.log(1)\n",
        "src/server.js": b"require('http').createServer().listen(process.env.PORT)\n",
    }
    (tmp_path / "app").mkdir()
    write_into(tmp_path / "app", files)
    modes = {p: stat.S_IMODE((tmp_path / "app" / p).stat().st_mode) for p in files}
    assert modes == {"docker_run_env.sh": 0o755, "bin/start/compile": 0o755, "src/server.js": 0o644}
    ran = subprocess.run(
        ["sh", "-c", "./docker_run_env.sh"], cwd=tmp_path / "app", check=False, timeout=60
    )
    assert ran.returncode == 0


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
            "node_modules/.bin/sequelize", "db:migrate",
            "--migrations-path", "db/up", "--config", "db/config/config.js",
        ),
    )  # fmt: skip
    # Without such a script: the defaults (migrations/, config/config.json).
    files["package.json"] = json.dumps({"scripts": {"start": "node app.js"}}).encode()
    files["migrations/1-create-users.js"] = files.pop("db/up/20240830-create-users.js")
    assert node_migrations(files, listed) == (("node_modules/.bin/sequelize", "db:migrate"),)


BLOG_CONFIG = b"""module.exports = {
  development: {
    username: process.env.DB_USERNAME_DEV,
    password: process.env.DB_PASSWORD_DEV,
    database: process.env.DB_DATABASE_DEV,
    host: process.env.DB_HOST,
    dialect: process.env.DB_DIALECT_DEV,
  },
};
"""


def test_a_development_databases_variables_by_their_suffix() -> None:
    """mohamilin's blog reads ``DB_DIALECT_DEV`` (and ``DB_USERNAME_DEV`` …) under
    NODE_ENV=development, which a preview runs as: those names said nothing, and
    Sequelize stopped on "Dialect needs to be explicitly supplied"."""
    assert meaning("DB_DIALECT_DEV") == meaning("DB_DIALECT")
    assert meaning("DB_USERNAME_DEVELOPMENT") == meaning("DB_USERNAME")
    assert meaning("DB_HOST_PROD") is None and meaning("DB_NAME_TEST") is None
    files = {"package.json": PACKAGE, "src/config/config.js": BLOG_CONFIG}
    provided = postgres_variables({}, "127.0.0.1", 5432, {})
    found = config_defaults(files, "src/server.js", {}, provided)
    assert found.values["DB_DIALECT_DEV"] == "postgres"


def test_dockers_name_for_its_host_in_a_compose_environment_is_the_sandboxs() -> None:
    """The same blog's compose file gives its app ``DB_HOST=host.docker.internal``: the
    author's machine, where their PostgreSQL listens; a preview's servers listen on its
    own loopback. Its database's variables then matched no served database, and its
    engine's variable was given SQLite's."""
    service = {
        "environment": [
            "DB_HOST=host.docker.internal",
            "DATABASE_URL=postgres://u:p@host.docker.internal:5432/blog",
            "API=http://gateway.docker.internal:8080/v1",
            "NOTE=my-host.docker.internal.example",
        ]
    }
    assert compose_environment(service, {}) == {
        "DB_HOST": "127.0.0.1",
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/blog",
        "API": "http://127.0.0.1:8080/v1",
        "NOTE": "my-host.docker.internal.example",
    }


def test_a_node_app_opening_its_mysql_with_the_driver_itself_wants_one() -> None:
    """shazzad-hosen's express-mysql-auth-api: ``mysql.createPool({ host: ENV.DB_HOST,
    … })`` in src/config/db.js, every DB_* of its example empty, no compose file: its
    only SQL driver was no sign alone, and no MariaDB was given it (ECONNREFUSED
    127.0.0.1:3306)."""
    package = {"type": "module", "dependencies": {"express": "^5", "mysql2": "^3"}}
    files = {
        "package.json": json.dumps(package).encode(),
        ".env.example": b"DB_HOST=\nDB_USER=\nDB_PASSWORD=\nDB_NAME=\n",
        "src/config/db.js": b'import mysql from "mysql2/promise";\n'
        b"const pool = mysql.createPool({ host: ENV.DB_HOST, user: ENV.DB_USER });\n",
    }
    wanted = wanted_servers(files, "src/server.js", {})
    assert wanted.mysql is not None
    assert "src/config/db.js connects with its MySQL driver" in wanted.mysql.why
    # A test's connection is not the app's; another SQL driver beside it leaves it open.
    code = files.pop("src/config/db.js")
    tested = {**files, "tests/db.test.js": code}
    assert wanted_servers(tested, "src/server.js", {}).mysql is None
    package["dependencies"]["pg"] = "^8"
    files["package.json"] = json.dumps(package).encode()
    files["src/config/db.js"] = code
    assert wanted_servers(files, "src/server.js", {}).mysql is None


JOI_CONFIG = b"""const schema = Joi.object({
    NODE_ENV: Joi.string().allow('development', 'production').default('development'),
    API_VERSION: Joi.string().default('1.0').description('API Version'),
    CLIENT_WEB_URL: Joi.string().description('URL of web client'),
    JWT_SECRET: Joi.string().required().description('JWT Secret required to sign'),
}).unknown().required();
const { error, value: envVars } = schema.validate(process.env);
"""


def test_an_empty_example_value_a_joi_schema_refuses_is_left_unset() -> None:
    """guntoroyk's boilerplate validates process.env with Joi; its example leaves
    ``API_VERSION=`` (and ``NODE_ENV=``, ``CLIENT_WEB_URL=``) empty, which Joi's
    ``string()`` refuses ("API_VERSION is not allowed to be empty"). Unset, each takes
    its default or is left out; a required one gets a throwaway value where its name
    says what it is."""
    files = {
        "package.json": PACKAGE,
        ".env.example": b"NODE_ENV=\nAPI_VERSION=\nCLIENT_WEB_URL=\nJWT_SECRET=\nOTHER=\n",
        "src/config/config.js": JOI_CONFIG,
    }
    found = config_defaults(files, "src/index.js", {}, {"PORT": "8000"})
    for name in ("NODE_ENV", "API_VERSION", "CLIENT_WEB_URL"):
        assert name not in found.values, name
    assert found.values["JWT_SECRET"] and found.values["OTHER"] == ""
    # zod's string() takes "": only a key with a default of its own is left unset.
    files["src/config/config.js"] = (
        b"const env = z.object({ API_VERSION: z.string().default('1'), NAME: z.string() })"
        b".parse(process.env)\n"
    )
    files[".env.example"] = b"API_VERSION=\nNAME=\n"
    found = config_defaults(files, "src/index.js", {}, {"PORT": "8000"})
    assert "API_VERSION" not in found.values and found.values["NAME"] == ""


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


TSC_LAYOUT = """> app@1.0.0 clean
> rimraf ./build

error TS6059: File '__tests__/e2e/login.spec.ts' is not under 'rootDir' 'src'. 'rootDir' \
is expected to contain all source files.
  The file is in the program because:
    Matched by include pattern '__tests__/e2e' in 'tsconfig.json'
error TS6059: File 'package.json' is not under 'rootDir' 'src'. 'rootDir' is expected to \
contain all source files.
  The file is in the program because:
    Matched by include pattern 'package.json' in 'tsconfig.json'"""


def test_tsc_refusing_files_outside_its_root_dir_still_wrote_the_program() -> None:
    """IvanOrsh's tsconfig includes its tests and package.json beside ``rootDir: src``:
    tsc says TS6059 for each, with no place in a file (the reason read "Matched by
    include pattern 'package.json'"), writes build/ all the same and exits 2."""
    lines = TSC_LAYOUT.splitlines()
    found = tool_failure(lines)
    assert found is not None and found[0].startswith(
        "TypeScript: 2 errors of its project's configuration; first: TS6059: File "
        "'__tests__/e2e/login.spec.ts' is not under 'rootDir' 'src'."
    )
    assert only_outside_the_code(lines)
    # Another error of the project's (a tsconfig option tsc does not know) is not so.
    assert not only_outside_the_code([*lines, "error TS5023: Unknown compiler option 'x'."])
    typed = "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."
    assert not only_outside_the_code([*lines, typed])
