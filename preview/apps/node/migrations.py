"""A Node app's migrations, run as set-up steps after its build: :func:`node_migrations`.

knex's (a ``knexfile`` beside ``package.json``, else the shallowest one below it, as in a
``server/`` the root's scripts start: ``knex`` listed, migrations in its directory):
``knex migrate:latest``, which runs in the knexfile's directory. Drizzle's
(``drizzle-kit`` listed, a ``drizzle.config``, a migrations journal in its ``out``
directory): ``drizzle-kit migrate``, which drizzle-kit has had since 0.21 (May 2024). A
drizzle-kit listed before it (``^0.20.13``) has only ``generate:pg``, ``push:pg`` … and
its apps applied the journal with drizzle-orm's own migrator: so does the step then,
through the driver the app lists (``pg``, ``postgres``, ``mysql2``), at the URL its config
reads (``process.env.X``, else ``DATABASE_URL``; node-postgres reads the ``PG*`` variables
without one). A journal whose migrations' SQL files the upload lacks (only the
snapshots committed), or none ever generated (no journal, an empty one) for a schema
declaring tables: the schema pushed (``drizzle-kit push --force``, the app's config made
not strict), as its author's ``drizzle-kit push`` made it. umzug's (and
@slonik/migrator's): the app's own script running them ``up``.
Sequelize's (``sequelize-cli`` listed, migrations in its ``migrations-path``, which a
``.sequelizerc`` may move: ``path.resolve('./server/migrations')``, else ``migrations``):
``sequelize db:migrate``, which reads the ``.sequelizerc`` and its config itself, with the
``--config`` and ``--migrations-path`` the app's own migrate script gives it.
node-pg-migrate's, ley's and db-migrate's (listed, their folder holding migrations):
their ``up``, with the folder and config the app's script running them gives.
With none of them, Sequelize models whose tables nothing of the app makes (no ``sync()``,
no migrations): :func:`sequelize_models_step`, the counterpart of a Python app's models'
tables step (:func:`preview.apps.createall.models_tables_step`).

Commands are templates like :mod:`..detect`'s (braces escaped).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterator

from preview.apps.node.devscript import BIN_FIRST_ON_PATH
from preview.apps.node.tscout import emitted_file, glob_pattern, loads_as_es_module
from preview.apps.node.tsnode import ts_node_command

__all__ = [
    "BEHIND",
    "SEQUELIZE_CLI",
    "SYNC_MODELS",
    "module_imports",
    "node_migrations",
    "sequelize_cli_wanted",
    "sequelize_environments",
    "sequelize_models_step",
    "synchronizes_its_tables",
    "syncs_its_tables",
    "typeorm_entities_step",
]

_KNEXFILES = ("knexfile.js", "knexfile.cjs", "knexfile.mjs", "knexfile.ts")
# (or from __dirname by concatenation: ccreaney's express-objection-api, ``directory:
# __dirname + '/src/db/migrations'``, whose migrations never ran: relation "users" does
# not exist)
_KNEX_DIR = re.compile(
    r"""migrations\s*:\s*\{[^}]*?directory\s*:\s*(?:__dirname\s*\+\s*)?["'`]/*([^"'`]+)["'`]""",
    re.S,
)
# directory: path.join(BASE_PATH, 'migrations'), path.resolve(__dirname, "db/migrations")
_KNEX_JOINED = re.compile(
    r"""migrations\s*:\s*\{[^}]*?directory\s*:\s*((?:path\.)?(?:join|resolve)\((?:[^()]|\([^()]*\))*\))""",
    re.S,
)
_HERE_PREFIX = re.compile(r"^\$\{\s*(?:__dirname|process\.cwd\(\))\s*\}/*")
_JOIN_TOKEN = re.compile(r"""["'`]([^"'`$]*)["'`]|([A-Za-z_$][\w$]*)""")
_DRIZZLE_CONFIGS = tuple(f"drizzle.config.{ext}" for ext in ("ts", "js", "mjs", "cjs"))
_DRIZZLE_OUT = re.compile(r"""\bout\s*:\s*["'`]([^"'`]+)["'`]""")
# A range that stays below 0.21 (npm's ^0.20 and ~0.20 keep the minor; a bare version is
# exact): the drizzle-kit that has no migrate command.
# blanks taken once (possessive): two runs either side of an optional part were quadratic
_OLD_DRIZZLE_KIT = re.compile(r"^\s*+[\^~]?\s*+0\.(\d+)(?:\.\S*)?\s*$")
_ENV_READ = re.compile(r"""process\.env(?:\.([A-Za-z_]\w*)|\[\s*["'`]([A-Za-z_]\w*)["'`]\s*\])""")
# The driver drizzle-orm's migrator is reached through: (its module, how the client is
# made from the address, how it is closed).
_DRIVERS = {
    "pg": (
        "node-postgres",
        'const client = new (require("pg").Pool)(address ? { connectionString: address } : {});',
        "client.end()",
    ),
    "postgres": (
        "postgres-js",
        'const client = require("postgres")(address, { max: 1 });',
        "client.end()",
    ),
    "mysql2": (
        "mysql2",
        'const client = require("mysql2").createPool(address);',
        "client.end()",
    ),
    # A SQLite file, named as the app names it to better-sqlite3 (destocot's
    # drizzle-express-rest-api: drizzle-kit ^0.20.14, ``new Database(DATABASE_URL)``;
    # "unknown command 'migrate'"), or libSQL's URL.
    "better-sqlite3": (
        "better-sqlite3",
        'const client = new (require("better-sqlite3"))(address);',
        "client.close()",
    ),
    "@libsql/client": (
        "libsql",
        'const client = require("@libsql/client").createClient({ url: address });',
        "client.close()",
    ),
}
_MIGRATOR = """try {{ require("dotenv").config(); }} catch (error) {{}}  // the .env it reads
const address = {address};  // not URL: pg parses with the global
{client}
const {{ drizzle }} = require("drizzle-orm/{module}");
const {{ migrate }} = require("drizzle-orm/{module}/migrator");
// better-sqlite3's migrator returns when done, the others a promise
Promise.resolve().then(() => migrate(drizzle(client), {{ migrationsFolder: {folder} }})).then(
  () => {close},
  (error) => {{ console.error(error); process.exit(1); }},
);"""


def node_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    """The Node app's migrations to run before it serves (knex's, Drizzle's); ``listed``:
    its dependencies and devDependencies with their ranges."""
    found = (
        _knex_migrations(files, listed),
        _drizzle_migrations(files, listed),
        _umzug_migrations(files, listed),
        _sequelize_migrations(files, listed),
        _typeorm_migrations(files, listed),
        _pg_migrate_migrations(files, listed),
        _ley_migrations(files, listed),
        _db_migrate_migrations(files, listed),
        _d1_migrations(files, listed),
    )
    steps = tuple(m for m in found if m is not None)
    if found[-1] is None:
        steps += _d1_schema(files, listed)
    if found[1] is not None and found[1][0] != "node" and (behind := _drizzle_behind(files)):
        at = steps.index(found[1]) + 1
        steps = (*steps[:at], behind, *steps[at:])
    if found[4] is not None and (schema := _typeorm_schema_first(files)) is not None:
        at = steps.index(found[4])
        steps = (*steps[:at], schema, *steps[at:])
    generated = None if found[1] is not None else _drizzle_generation(files, listed)
    if generated is not None and (applied := _generated_applied(files, listed)) is not None:
        steps = (applied, *steps)
    return (generated, *steps) if generated is not None else steps


def _generated_applied(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """Where Drizzle migrations are generated (:func:`_drizzle_generation`) and the start
    does not apply them (its migrator a script of its own: s22a55m77's
    realworld-nestjs-drizzle-postgresql, ``"migration:run": "pnpm tsx
    src/drizzle/migrate.ts"``; every article route met relation "articles" does not
    exist): they are applied, as the journal committed would be."""
    config = next((c for c in _DRIZZLE_CONFIGS if c in files), None)
    if config is None or _start_migrates(files):
        return None
    text = files[config].decode("utf-8", "replace")
    match = _DRIZZLE_OUT.search(text)
    out = posixpath.normpath(match.group(1) if match else "drizzle")
    old = _OLD_DRIZZLE_KIT.match(listed.get("drizzle-kit", ""))
    driver = next((d for d in _DRIVERS if d in listed), None)
    if old is not None and int(old.group(1)) < 21:
        return ("node", "-e", _migrator(driver, out, text)) if driver is not None else None
    return ("node_modules/.bin/drizzle-kit", "migrate", "--config", config)


# (``resolve`` alone too, destructured from path: GuilhermeGonSoares's
# api-rest-nodejs-express-mysql, whose migrations in src/database/migrations never ran)
# (or a plain string: VanDeFlame's express-store, ``'migrations-path': './db/migrations/'``)
_SEQUELIZE_PATH = (
    r"""["']?{}["']?\s*:\s*(?:(?:path\.)?(?:resolve|join)\(([^)]*)\)|(["'`][^"'`\n]*["'`]))"""
)
_LITERAL = re.compile(r"""["'`]([^"'`]*)["'`]""")


def _sequelize_migrations(
    files: dict[str, bytes], listed: dict[str, str]
) -> tuple[str, ...] | None:
    """``sequelize db:migrate`` where sequelize-cli is listed and its migrations directory
    (a ``.sequelizerc``'s ``migrations-path``, its ``path.resolve`` literals joined; else
    ``migrations``) holds migrations: ganeshmani's tutorial keeps them in server/. A
    ``config`` it names that sequelize-cli cannot load (a TypeScript module: devleo-m's
    speedy-drive names ``src/config/database.ts``, which makes a Sequelize instance) gives
    way to the ``config.json`` beside it, which ``sequelize init``'s models/index.js reads."""
    if "sequelize-cli" not in listed and not sequelize_cli_wanted(files, listed):
        return None
    rc = files.get(".sequelizerc", b"").decode("utf-8", "replace")
    named = _migrate_script_paths(files) or _init_layout(files, rc)
    directory = named.get("migrations-path") or _rc_path(rc, "migrations-path") or "migrations"
    if not any(p.startswith(f"{directory}/") and p.endswith((".js", ".cjs")) for p in files):
        return None
    config = named.get("config") or _rc_path(rc, "config")
    beside = posixpath.join(posixpath.dirname(config or ""), "config.json")
    if config and config.endswith((".ts", ".mts")) and beside in files:
        return ("node_modules/.bin/sequelize", "db:migrate", "--config", beside)
    given = [(f"--{key}", path) for key, path in named.items()]
    if _other_dialect(files, config or "config/config.json", listed):
        # Its config.json names an engine the app does not use (sequelize init's mysql
        # example, left as it was: prashantjoshi12's express-sequelize-postgresql-crud
        # lists pg and reads DATABASE_* itself): the database the app is given.
        line = 'node_modules/.bin/sequelize db:migrate --url "$DATABASE_URL"'
        return ("sh", "-c", " ".join([line, *(shlex.quote(w) for p in given for w in p)]))
    return ("node_modules/.bin/sequelize", "db:migrate", *(w for pair in given for w in pair))


# A README's or a script's run of sequelize-cli's migrations (``npx sequelize db:migrate``).
_CLI_MIGRATE = re.compile(rb"\bsequelize(?:-cli)?\s+db:migrate\b")
_README = re.compile(r"^readme(?:\.\w+)?$", re.I)
SEQUELIZE_CLI = "sequelize-cli@^6"  # added to the environment where the app lacks it
_DIALECT_DRIVERS = {
    "postgres": ("pg",),
    "mysql": ("mysql2", "mysql"),
    "mariadb": ("mariadb",),
    "sqlite": ("sqlite3",),
}


def sequelize_cli_wanted(files: dict[str, bytes], listed: dict[str, str]) -> bool:
    """Whether the app runs sequelize-cli's migrations without listing it: sequelize
    listed, its README (or a script) running ``sequelize db:migrate`` (``npx`` fetching
    it), its migrations committed (igaimerca's express-sequelize-postgress-auth: "Create
    necessary tables … do `sequelize db:migrate`", sequelize-cli in no package.json: every
    route met relation "users" does not exist); or, said nowhere, its migrations the
    CLI's own (:func:`_made_by_the_cli`) where nothing else makes its tables (no
    ``sync()``). It is added to the environment (:data:`SEQUELIZE_CLI`), its migrations
    run as the listed one's are."""
    if "sequelize" not in listed or "sequelize-cli" in listed:
        return False
    said = [d for p, d in files.items() if _README.match(p) or p == "package.json"]
    if any(_CLI_MIGRATE.search(text) for text in said):
        return True
    return _made_by_the_cli(files) and not syncs_its_tables(files, at_once=True)


# ``sequelize migration:generate``'s file name: its UTC time to the second, then the name.
_GENERATED = re.compile(r"^\d{14}-[\w.-]+\.c?js$")


def _made_by_the_cli(files: dict[str, bytes]) -> bool:
    """Whether sequelize-cli made the app's migrations, though nothing says to run them
    and no package.json lists it (``npx sequelize-cli`` ran it): in the migrations folder
    (a ``.sequelizerc``'s ``migrations-path``, sequelize-cli's own config file, else
    ``migrations``), a migration under the name ``migration:generate`` gives
    (``20240125114402-create-post.js``) making a table (``queryInterface.createTable``).
    The app making its tables no other way, its routes met "Table 'blogging-app.Posts'
    doesn't exist" (luqmansarwar012's blogging-app-mysql-express; nelsonsinis's
    sequelize-express-example, whose ``.sequelizerc`` moves them to src/config/database)."""
    rc = files.get(".sequelizerc", b"").decode("utf-8", "replace")
    layout = _init_layout(files, rc).get("migrations-path")
    directory = layout or _rc_path(rc, "migrations-path") or "migrations"
    for path, data in files.items():
        folder, name = posixpath.split(path)
        if folder == directory and _GENERATED.match(name) and b".createTable(" in data:
            return True
    return False


def _other_dialect(files: dict[str, bytes], config: str, listed: dict[str, str]) -> bool:
    """Whether sequelize-cli's JSON ``config``'s development dialect is one no driver the
    app lists serves, while another listed driver's is."""
    try:
        settings = json.loads(files.get(config, b"null"))
    except (ValueError, RecursionError):
        return False
    development = settings.get("development") if isinstance(settings, dict) else None
    dialect = development.get("dialect") if isinstance(development, dict) else None
    if not isinstance(dialect, str) or dialect not in _DIALECT_DRIVERS:
        return False
    served = {d for d, drivers in _DIALECT_DRIVERS.items() if set(drivers) & listed.keys()}
    return bool(served) and dialect not in served


_MIGRATE_SCRIPT = re.compile(
    r"(?:^|[\s;&|(/])sequelize(?:-cli)?\s+db:migrate(?=\s|$)(?P<rest>[^;&|]*)"
)
_PATH_OPTION = re.compile(
    r"--(config|migrations-path|options-path)(?:=|\s+)([\"']?)([^\s\"';&|]+)\2"
)


def _migrate_script_paths(files: dict[str, bytes]) -> dict[str, str]:
    """The files and folders the app's own script running ``sequelize db:migrate`` names
    (``--config``, ``--migrations-path``, ``--options-path``), where it names them: the
    plainest such script's (anbiasenggagau's boilerplate has no ``.sequelizerc``; its
    ``migration:up`` runs ``sequelize-cli db:migrate --migrations-path ./migrations
    --config ./migrations/config/config.js``, and sequelize-cli alone looked for
    ``config/config.json``: "Cannot find config/config.json")."""
    for _name, _words, command in _plainest_scripts(files):
        if (match := _MIGRATE_SCRIPT.search(command)) is not None:
            found = {
                option.group(1): posixpath.normpath(option.group(3))
                for option in _PATH_OPTION.finditer(match.group("rest"))
            }
            if found:
                return {
                    k: _folder_module(files, v) if k == "config" else v
                    for k, v in found.items()
                    if not v.startswith(("..", "/"))
                }
    return {}


def _folder_module(files: dict[str, bytes], path: str) -> str:
    """The file a ``--config`` naming a folder of the upload means, as Node's require of a
    folder resolves it (its ``index.js``, ``index.cjs``, ``index.json``): sequelize-cli 6's
    import() does not resolve folders (kinothUI's calendar-api-fastify: ``--config
    src/config``: "ERR_UNSUPPORTED_DIR_IMPORT", its migrations never ran). ``path`` as
    it is elsewhere."""
    if path in files or not any(p.startswith(f"{path}/") for p in files):
        return path
    index = (f"{path}/index.{extension}" for extension in ("js", "cjs", "json"))
    return next((candidate for candidate in index if candidate in files), path)


def _init_layout(files: dict[str, bytes], rc: str) -> dict[str, str]:
    """The ``migrations-path`` and ``config`` of ``sequelize init``'s layout made in a
    folder below the app's (``server/config/config.json`` beside ``server/migrations``;
    the shallowest such folder), where the app's own ``migrations`` holds none and no
    ``.sequelizerc`` moves them: sequelize-cli run in that folder reads them so. {}
    elsewhere. diyset's NodeJs-Sequelize-REST-API keeps all three in server/: run at its
    root, the CLI found no migration, and every route met a table that did not exist."""
    if rc or any(_holds_migration(p, "migrations") for p in files):
        return {}
    folders = {
        posixpath.dirname(posixpath.dirname(p))
        for p in files
        if posixpath.basename(p) in ("config.json", "config.js")
        and posixpath.basename(posixpath.dirname(p)) == "config"
        and "node_modules" not in p.split("/")
    }
    for folder in sorted(folders - {""}, key=lambda f: (f.count("/"), f)):
        migrations = f"{folder}/migrations"
        if any(_holds_migration(p, migrations) for p in files):
            config = f"{folder}/config/config.json"
            if config not in files:
                config = f"{folder}/config/config.js"
            return {"migrations-path": migrations, "config": config}
    return {}


def sequelize_environments(files: dict[str, bytes]) -> tuple[str, ...]:
    """The environments sequelize-cli's JSON config names (``development``, ``test``,
    ``production``: the keys its models/index.js and the CLI pick by NODE_ENV), where the
    app has one (a ``.sequelizerc``'s ``config``, ``sequelize init``'s layout, else
    ``config/config.json``); () where it has none, or none of that shape."""
    rc = files.get(".sequelizerc", b"").decode("utf-8", "replace")
    config = _init_layout(files, rc).get("config") or _rc_path(rc, "config")
    try:
        settings = json.loads(files.get(config or "config/config.json", b"null"))
    except (ValueError, RecursionError):
        return ()
    if not isinstance(settings, dict) or not settings:
        return ()
    if not all(isinstance(v, dict) for v in settings.values()):
        return ()
    return tuple(k for k in settings if isinstance(k, str))


def _holds_migration(path: str, directory: str) -> bool:
    """Whether ``path`` is a migration of sequelize-cli's in ``directory``."""
    return path.startswith(f"{directory}/") and path.endswith((".js", ".cjs"))


def _rc_path(rc: str, key: str) -> str | None:
    """A ``.sequelizerc``'s ``key`` (``path.resolve('src/config', 'database.ts')``), its
    literals joined; None where it names none so."""
    named = re.search(_SEQUELIZE_PATH.format(re.escape(key)), rc)
    parts = _LITERAL.findall(named.group(1) or named.group(2)) if named else []
    return posixpath.normpath(posixpath.join(*parts)) if parts else None


# Sequelize's sync() on the app's instance: `models.sequelize.sync()`, `db.sync({ alter:
# true })`, `sequelize.sync().then(…)`; its argument one options object at most.
_SYNC = re.compile(r"\.sync\(\s*(?:\{[^(){}]*\}\s*)?\)")
_NOT_SERVED = re.compile(
    r"(?:^|/)(?:node_modules|migrations?|seeders?|tests?|__tests__)/|\.(?:spec|test)\."
)


def syncs_its_tables(files: dict[str, bytes], *, at_once: bool = False) -> bool:
    """Whether the app makes its Sequelize tables itself as it runs: a module of it (not a
    test's, a migration's or a seeder's) calls ``sync()`` and uses Sequelize. Its
    migrations then add nothing a preview needs, as Alembic's beside ``create_all``
    (:mod:`~preview.builds` starts it when they fail: racket's history starts with an
    ``addColumn`` on a table its deleted first migrations made, ``sync()`` making it
    again at each start). ``at_once``: not a ``sync()`` a timer defers, after the app
    serves (gabrielmrts's node-sequelize-express-docker: ``setTimeout(() =>
    db.sequelize.sync(), 1000)`` after its listen; the first GET /books met relation
    "books" does not exist, unhandled, and the process ended)."""
    for path, data in files.items():
        script = path.endswith((".js", ".cjs", ".mjs", ".ts")) or (
            "." not in posixpath.basename(path) and data.startswith(b"#!") and b"node" in data[:40]
        )  # (express-generator's bin/www: a node script without an extension)
        if not script or _NOT_SERVED.search(path) or _helper_never_called(path, data, files):
            continue
        # (a sync() commented out makes nothing: Julianeme's express-store keeps
        # ``//sequelize.sync();`` with a note on when to use it)
        text = _LINE_COMMENT.sub(b"", data[:262144]).decode("utf-8", "replace")
        if (
            ".sync(" in text
            and any(not at_once or not _deferred(text, m.start()) for m in _SYNC.finditer(text))
            and ("equelize" in text or _imports_models(text))
        ):
            return True
    return False


# A module declaring Sequelize models: ``sequelize.define('tasks', …)`` (a generic's type
# argument too: ``define<Task>(``), a class's ``Model.init({…}, { sequelize })``,
# sequelize-typescript's ``@Table`` class.
_DEFINES_MODEL = re.compile(r"""\.define\s*(?:<[^()]*?>\s*)?\(\s*["'`]|@Table\b""")
_MODEL_CLASS = re.compile(r"\bextends\s+Model\b")
_INIT = re.compile(r"\.init\s*\(")
# A model class initialised on an instance elsewhere than where it is declared
# (Platzi's course shape: ``User.init(UserSchema, User.config(sequelize))`` in
# db/models/index.js, each class in a module of its own).
_INIT_ON_INSTANCE = re.compile(r"\b[A-Z]\w*\.init\s*\([^;]*?\bsequelize\b")
_MAKES_INSTANCE = re.compile(r"\bnew\s+Sequelize\s*\(")
_SERVES = re.compile(r"\.listen\s*\(")
_MIGRATION_FOLDER = re.compile(r"(?:^|/)migrations?/")
# The beginning of the first line of the steps making an app's models' tables where
# nothing of it does (Sequelize's sync(), TypeORM's synchronize()): optional steps
# (plans.optional_steps), their failure said, the app started anyway.
SYNC_MODELS = "// its models' tables ("
# What both load first: the .env its modules read, its TypeScript as its runner loads it.
_LOADING = """\
const path = require("path");
const {{ pathToFileURL }} = require("url");
const here = process.cwd();
const files = {files};
const built = {built};  // a TypeScript source's tsc output, for an app with no runner of it
try {{ require("dotenv").config(); }} catch (error) {{}}
let hooked = false;
if (files.some((file) => /\\.[cm]?ts$/.test(file))) {{
  for (const hook of ["ts-node/register/transpile-only", "tsx/cjs"]) {{
    try {{
      require(require.resolve(hook, {{ paths: [here] }}));
      hooked = true;
      break;
    }} catch (error) {{}}
  }}
}}
const load = async (file) => {{
  const output = !hooked && built[file] && path.resolve(here, built[file]);
  const where = output && require("fs").existsSync(output) ? output : path.resolve(here, file);
  try {{ return require(where); }} catch (error) {{
    if (error.code !== "ERR_REQUIRE_ESM") throw error;
    return await import(pathToFileURL(where).href);
  }}
}};
"""
_SYNC_MODELS = """\
const instances = new Set();
try {{  // each instance the app makes, as it makes it (Sequelize's universal hook)
  const {{ Sequelize }} = require(require.resolve("sequelize", {{ paths: [here] }}));
  Sequelize.addHook("afterInit", (sequelize) => instances.add(sequelize));
}} catch (error) {{}}
// sequelize-auto's models declare themselves only when called with an instance (its
// init-models' initModels(sequelize), each class's static initModel(sequelize)), which
// the module that serves does (Oliverio12's ExpressCafe_Backend: "no Sequelize model").
const initers = new Map();  // (by what declares them: each called once an instance)
const held = (value) => {{  // an instance, or a model class holding one
  if (!value || !["object", "function"].includes(typeof value)) return;
  if (typeof value.initModel === "function") initers.set(value, (db) => value.initModel(db));
  if (typeof value.sync === "function" && typeof value.define === "function") instances.add(value);
  else if (value.sequelize && typeof value.sequelize.sync === "function") held(value.sequelize);
}};
// A Nest module's providers making the instance when Nest asks for it (Nest's own
// recipe: ``{{ provide: 'SEQUELIZE', useFactory: async () => {{ new Sequelize(…);
// sequelize.addModels([…]) … }} }}``), which nothing but Nest calls: called here, those
// that take nothing Nest injects (Pasyagitka's RecipeNestJS dropped the recipe's sync():
// 'relation "public.categories" does not exist').
const provided = async (value) => {{
  if (!Array.isArray(value)) return;
  for (const provider of value) {{
    if (!provider || typeof provider.useFactory !== "function") continue;
    if ((provider.inject || []).length || provider.useFactory.length) continue;
    try {{ held(await provider.useFactory()); }} catch (error) {{
      console.error("not made:", String(provider.provide), String(error && error.message));
    }}
  }}
}};
(async () => {{
  for (const file of files) {{
    try {{
      const loaded = await load(file);
      held(loaded);
      for (const [key, value] of Object.entries(loaded || {{}})) {{
        held(value);
        await provided(value);
        if (key === "initModels" && typeof value === "function") initers.set(value, value);
      }}
    }} catch (error) {{
      console.error("not loaded:", file, String(error && error.message).split("\\n")[0]);
    }}
  }}
  const made = [];
  for (const sequelize of instances) {{
    for (const init of initers.values()) {{
      try {{ init(sequelize); }} catch (error) {{}}
    }}
    const models = Object.values(sequelize.models || {{}});
    if (!models.length) continue;
    try {{
      await sequelize.sync();
      made.push(...models.map((model) => String(model.tableName || model.name)));
    }} catch (error) {{
      console.error("its models' tables not made:", String(error && error.message));
    }}
    // (Sequelize 3's close() returns nothing: sbakkila's ExpressReview, "Cannot read
    // properties of undefined (reading 'catch')")
    await Promise.resolve().then(() => sequelize.close()).catch(() => {{}});
  }}
"""


def sequelize_models_step(
    files: dict[str, bytes], listed: dict[str, str], *, after_migrations: bool = False
) -> tuple[str, ...] | None:
    """A step making the tables of the app's Sequelize models by ``sync()`` on its own
    instance, where nothing of the app makes them: no module of it calls ``sync()``
    (:func:`syncs_its_tables`), no migrations (a ``migrations`` folder making tables,
    umzug listed). Cristiano-woody's todo-list-api-node-sequelize declares ``tasks``,
    ``users`` and ``logs`` by ``PostgresDataSource.define`` and only ``authenticate()``s:
    every route met relation "tasks" does not exist, unhandled, and the process ended.
    The step loads the modules declaring models and those making an instance (not one
    that serves: ``.listen(``), its TypeScript by the app's ts-node (else tsx), and syncs
    each instance that holds models; its failure is not the launch's (``SYNC_MODELS``).
    None where that is not so. ``after_migrations``: its migrations make tables too, and
    the step runs after them, making only what they did not (sync() creates a missing
    table, alters none): where they fail on the app's own mistake (Julianeme's
    express-store: a migration requiring '../models/userModel', renamed user.model.js),
    the app still gets its models' tables."""
    if not {"sequelize", "sequelize-typescript"} & listed.keys() or "umzug" in listed:
        return None
    if syncs_its_tables(files, at_once=True) or (
        not after_migrations
        and any(_MIGRATION_FOLDER.search(p) and b"createTable" in data for p, data in files.items())
    ):
        return None
    declaring, making = [], []
    for path, data in sorted(files.items()):
        if not path.endswith((".js", ".cjs", ".mjs", ".ts")) or path.endswith(".d.ts"):
            continue
        if _NOT_SERVED.search(path):
            continue
        text = data[:262144].decode("utf-8", "replace")
        if "equelize" not in text and not _imports_models(text):
            continue
        if (
            _DEFINES_MODEL.search(text)
            or (_MODEL_CLASS.search(text) and _INIT.search(text))
            or _INIT_ON_INSTANCE.search(text)
        ):
            declaring.append(path)
        elif _MAKES_INSTANCE.search(text) is not None and _SERVES.search(text) is None:
            making.append(path)
    if not declaring:
        return None
    return _models_step(
        "Sequelize's sync()",
        _SYNC_MODELS,
        [*making, *declaring],
        "Sequelize model made among its modules",
        _tsc_outputs([*making, *declaring], files),
    )


# Each program's end: what it made, said; none made fails the (optional) step.
_MADE = """\
  if (!made.length) {{
    console.error("its models' tables: no {none}");
    process.exit(1);
  }}
  console.error("its models' tables made (nothing in the app makes them):", made.join(", "));
  process.exit(0);  // (a pool or a timer of its modules would keep it running)
}})();"""


def _tsc_outputs(sources: list[str], files: dict[str, bytes]) -> dict[str, str]:
    """{each TypeScript file of ``sources``: the JavaScript its tsconfig.json's build
    writes for it} (Cret1no's TypeScript-Node-Express-Alumnos-Profesores lists neither
    ts-node nor tsx: its data source's module could not be loaded, its tables never made,
    "Table 'cursos_v2.cursos' doesn't exist")."""
    found = {}
    for source in sources:
        if source.endswith((".ts", ".mts", ".cts")) and (output := emitted_file(source, files)):
            found[source] = output
    return found


def _models_step(
    how: str, script: str, files: list[str], none: str, built: dict[str, str] | None = None
) -> tuple[str, ...]:
    """The ``node -e`` step running ``script`` after :data:`_LOADING` on ``files``, ended
    by :data:`_MADE` (``none``: what it says where it made nothing; ``built``: the
    JavaScript tsc writes for a TypeScript file of them, loaded where no runner of
    TypeScript is installed)."""
    text = (_LOADING + script + _MADE).format(
        files=json.dumps(files), built=json.dumps(built or {}), none=none
    )
    first = f"{SYNC_MODELS}{how}), which nothing of the app makes"
    return ("node", "-e", first + "\n" + text.replace("{", "{{").replace("}", "}}"))


# TypeORM 0.3's data source (``new DataSource({ … })``), its entities (``@Entity()``).
_DATA_SOURCE = re.compile(r"\bnew\s+DataSource\s*\(")
_ENTITY = re.compile(r"@Entity\s*\(")
# A migration's or a schema file's table (a migration class, queryRunner's createTable).
_MAKES_TABLES = re.compile(rb"\bCREATE\s+TABLE\b|\bcreateTable\s*\(|\bMigrationInterface\b", re.I)
_SYNCHRONIZE_ENTITIES = """\
(async () => {{
  const sources = new Set();
  for (const file of files) {{
    try {{
      const loaded = await load(file);
      for (const value of [loaded, ...Object.values(loaded || {{}})]) {{
        if (value && typeof value.synchronize === "function" && value.options) sources.add(value);
      }}
    }} catch (error) {{
      console.error("not loaded:", file, String(error && error.message).split("\\n")[0]);
    }}
  }}
  const made = [];
  for (const source of sources) {{
    try {{
      if (!source.isInitialized) await source.initialize();
      if (!source.entityMetadatas.length) continue;
      await source.synchronize();
      made.push(...source.entityMetadatas.map((entity) => entity.tableName));
    }} catch (error) {{
      console.error("its models' tables not made:", String(error && error.message));
    }}
    await Promise.resolve(source.isInitialized && source.destroy()).catch(() => {{}});
  }}
"""


def typeorm_entities_step(
    files: dict[str, bytes], listed: dict[str, str]
) -> tuple[str, ...] | None:
    """A step making the tables of the app's TypeORM entities by ``synchronize()`` on its
    own data source (TypeORM 0.3's ``new DataSource({ … })``, in a module that does not
    serve), where nothing of the app makes them: ``synchronize`` off (TypeORM's default,
    or written false), no migrations (a migration class, a ``createTable``, where TypeORM
    keeps them or anywhere the app's modules are) and no SQL schema file, whose tables a
    synchronize would alter to its entities. Its failure is not the launch's
    (``SYNC_MODELS``). None where that is not so."""
    if "typeorm" not in listed or synchronizes_its_tables(files):
        return None
    if any(
        (_MIGRATION_FOLDER.search(p) or p.endswith(".sql")) and _MAKES_TABLES.search(data)
        for p, data in files.items()
        if "node_modules/" not in p
    ):
        return None
    sources, entities = [], False
    for path, data in sorted(files.items()):
        if not path.endswith((".js", ".cjs", ".mjs", ".ts")) or path.endswith(".d.ts"):
            continue
        if _NOT_SERVED.search(path):
            continue
        text = data[:262144].decode("utf-8", "replace")
        entities = entities or _ENTITY.search(text) is not None
        if _DATA_SOURCE.search(text) and "typeorm" in text and not _SERVES.search(text):
            sources.append(path)
    if entities and not sources and "@nestjs/typeorm" in listed:
        module = _nest_root_module(files)
        if module is not None:
            return _models_step(
                "TypeORM's synchronize() in its Nest module's context",
                _SYNCHRONIZE_NEST,
                [module],
                "TypeORM entity made in its Nest module's context",
            )
    if not entities or not sources:
        return None
    return _models_step(
        "TypeORM's synchronize()",
        _SYNCHRONIZE_ENTITIES,
        sources,
        "TypeORM entity made among its data sources",
        _tsc_outputs(sources, files),
    )


# NestJS's TypeOrmModule.forRoot(Async) makes the data source inside the app's modules,
# none of its own to load: the app's root module's context is made (no HTTP server), its
# data source taken from it and synchronized. Its modules' decorators need TypeScript's
# metadata, which ts-node emits (tsx does not): ts-node first, as _LOADING tries it.
_SYNCHRONIZE_NEST = """\
(async () => {{
  try {{ require(require.resolve("tsconfig-paths/register", {{ paths: [here] }})); }} catch (e) {{}}
  const {{ NestFactory }} = require(require.resolve("@nestjs/core", {{ paths: [here] }}));
  // (TypeORM 0.2's, before DataSource, is its Connection: what @nestjs/typeorm 6 to 8
  // registers; lpmatiutis's crud-app-nestjs met "Nest cannot find given element")
  const {{ DataSource, Connection }} = require(require.resolve("typeorm", {{ paths: [here] }}));
  const made = [];
  for (const file of files) {{
    let context = null;
    try {{
      const loaded = await load(file);
      const root = Object.values(loaded || {{}}).find((value) => typeof value === "function");
      context = await NestFactory.createApplicationContext(root, {{
        logger: ["error"], abortOnError: false,
      }});
      const source = context.get(DataSource || Connection);
      await source.synchronize();
      made.push(...source.entityMetadatas.map((entity) => entity.tableName));
    }} catch (error) {{
      console.error("its models' tables not made:", String(error && error.message));
    }}
    if (context) await context.close().catch(() => {{}});
  }}
"""
# NestJS's bootstrap (``NestFactory.create(AppModule)``) and the import of its module.
_NEST_CREATE = re.compile(r"\bNestFactory\s*\.\s*create\w*\s*(?:<[^>]*>)?\(\s*(\w+)")


def _nest_root_module(files: dict[str, bytes]) -> str | None:
    """The TypeScript module of the root module a NestJS app bootstraps (its main's
    ``NestFactory.create(AppModule)``, imported ``from './app.module'``): norbertturek's
    nestjs-recipe-api, ``synchronize: false`` and no migration, its tables never made.
    None where no served module of it says."""
    for path, data in sorted(files.items()):
        if not path.endswith(".ts") or path.endswith(".d.ts") or _NOT_SERVED.search(path):
            continue
        text = data[:262144].decode("utf-8", "replace")
        created = _NEST_CREATE.search(text)
        if created is None:
            continue
        imported = re.search(
            r"\bimport\s*\{[^}]*\b" + re.escape(created.group(1)) + r"\b[^}]*\}\s*from\s*"
            r"""["'](\.{1,2}/[\w./-]+)["']""",
            text,
        )
        if imported is None:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), imported.group(1)))
        for candidate in (f"{target}.ts", f"{target}/index.ts"):
            if candidate in files:
                return candidate
    return None


_TIMER = re.compile(r"\bsetTimeout\s*\(")


# A module handing out a function (``module.exports = function () {``, ``export default
# async () =>``), which runs nothing of its own as it loads.
_EXPORTS_FUNCTION = re.compile(
    rb"(?:\bmodule\.exports\s*=|\bexport\s+default)\s*(?:async\s+)?(?:function\b|\([^()]*\)\s*=>)"
)
_LINE_COMMENT = re.compile(rb"^\s*//.*$", re.MULTILINE)
_SCRIPTS = (".js", ".cjs", ".mjs", ".ts", ".mts", ".cts", "package.json")


def _helper_never_called(path: str, data: bytes, files: dict[str, bytes]) -> bool:
    """Whether the module ``path`` exports a function that no module of the upload loads
    (its one require commented out), nor a package.json script names: its ``sync()`` never
    runs. phuochungdn1999's Express-warehouse: src/database/db-sync.js exports ``function
    () { sequelize.sync({ force: true }) }``, "call this once", its call in src/app/index.js
    a comment; every route met "Table 'app.warehouses' doesn't exist"."""
    if not _EXPORTS_FUNCTION.search(data):
        return False
    stem = posixpath.basename(path).rsplit(".", 1)[0]
    names = [stem, posixpath.basename(posixpath.dirname(path))] if stem == "index" else [stem]
    named = b"|".join(re.escape(n.encode()) for n in names if n)
    loads = re.compile(
        rb"""(?:\brequire\s*\(|\bfrom|\bimport\s*\(?)\s*["'][^"']*\b(?:"""
        + named
        + rb""")(?:\.[cm]?[jt]s)?["']"""
    )
    for other, text in files.items():
        name = posixpath.basename(other)
        if other == path or not (name.endswith(_SCRIPTS) or "." not in name):
            continue
        if name == "package.json":
            if any(n.encode() in text for n in names):
                return False
        elif loads.search(_LINE_COMMENT.sub(b"", text[:262144])):
            return False
    return True


def _deferred(text: str, at: int) -> bool:
    """Whether the call at ``at`` in ``text`` is within a ``setTimeout(`` call's
    parentheses, begun in the 200 characters before it."""
    window = text[max(0, at - 200) : at]
    timers = list(_TIMER.finditer(window))
    if not timers:
        return False
    inside = window[timers[-1].end() :]
    return inside.count("(") >= inside.count(")")


# TypeORM's options making the schema at connection: ``synchronize: true``, or a value
# the app decides (``synchronize: isDevelopment``, ``synchronize: process.env.X === …``).
_SYNCHRONIZE = re.compile(r"""["']?\bsynchronize["']?\s*:\s*(?!false\b)[^\s,}]""")


def synchronizes_its_tables(files: dict[str, bytes]) -> bool:
    """Whether the app's TypeORM options (a module of it, not a test's or a migration's)
    make its tables as it connects, ``synchronize`` not written false: its migrations then
    add nothing a preview needs (JHyeok's nestjs-api-example: ``migration:run``, written
    for TypeORM 0.2's CLI, failed "Missing required argument: dataSource" under 0.3, where
    its TypeOrmConfigService says ``synchronize: isDevelopment``, its example's NODE_ENV).
    tsc's output committed beside its source says nothing the build does not write anew:
    lucasprezlp's Typescript-con-express commits build/db/conexion.js (``synchronize:
    true``) of its src/db/conexion.ts, which says false; its tables were never made."""
    said = []
    for path, data in files.items():
        # (and TypeORM 0.2's ormconfig.json / .yml: begalhalus' Typescript-with-Fastify says
        # ``"synchronize": true`` there, and its migration:run, which inserts into a table
        # no migration makes, failed before the app could make them)
        options = posixpath.basename(path).startswith("ormconfig.") and path.endswith(
            (".json", ".yml", ".yaml")
        )
        if not (options or path.endswith((".js", ".cjs", ".mjs", ".ts"))):
            continue
        if _NOT_SERVED.search(path):
            continue
        text = data[:262144].decode("utf-8", "replace")
        typeorm = "typeorm" in text.lower() or "ormconfig" in path.lower()
        if typeorm and "synchronize" in text and _SYNCHRONIZE.search(text):
            if path.endswith(".ts") or options:
                return True
            said.append(path)
    if not said:
        return False
    emitted = {
        emitted_file(p, files)
        for p in files
        if p.endswith(".ts") and not p.endswith(".d.ts") and "node_modules/" not in p
    }
    return any(p not in emitted for p in said)


def _imports_models(text: str) -> bool:
    """``require('./models')`` (or ``../models``, an import of it): sequelize-cli's
    ``models/index.js``, which makes the Sequelize instance the app syncs."""
    return (
        re.search(
            r"""(?:require\(|from\s)\s*["'](?:\.{1,2}/)+models(?:/index(?:\.js)?)?["']""", text
        )
        is not None
    )


def _umzug_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """The app's own script applying its migrations where umzug (or @slonik/migrator, made
    on it) runs them: it has no command of its own, each app writes its runner
    (domain-driven-hexagon's ``"migration:up": "ts-node database/migrate up"``; without it
    every route answered 500, relation "users" does not exist). The plainest script named
    for migrations whose command ends in ``up`` (not the tests', not ``down``)."""
    if not {"umzug", "@slonik/migrator"} & listed.keys():
        return None
    for name, words, command in _plainest_scripts(files):
        named = words & {"migrate", "migration", "migrations"}
        if (
            named
            and command.split()[-1:] == ["up"]
            and not words & {"test", "tests", "down", "create"}
        ):
            return ("npm", "run", name)
    return None


_PG_MIGRATE = re.compile(r"(?:^|[\s;&|(/])node-pg-migrate(?=\s|$)(?P<rest>[^;&|]*)")
_PG_MIGRATE_DIR = re.compile(r"(?:^|\s)(?:-m|--migrations-dir)(?:=|\s+)([\"']?)([^\s\"']+)\1")
_PG_MIGRATE_COMMANDS = {"up", "down", "create", "redo"}


def _pg_migrate_migrations(
    files: dict[str, bytes], listed: dict[str, str]
) -> tuple[str, ...] | None:
    """node-pg-migrate's ``up`` where it is listed and its migrations folder (``-m``/
    ``--migrations-dir`` of the app's script running it, else ``migrations``) holds
    migrations: the app's own script where it says ``up``, else its options after ``up``
    (Machulsky's nodejs-fastify-postgres-api: ``"migration": "node-pg-migrate -m
    database/migrations"``, a command to complete; every query met relation "platforms"
    does not exist). It reads DATABASE_URL, which the preview gives."""
    if "node-pg-migrate" not in listed:
        return None
    for name, _words, command in _plainest_scripts(files):
        found = _PG_MIGRATE.search(command)
        if found is None:
            continue
        rest = found.group("rest").split()
        commands = _PG_MIGRATE_COMMANDS.intersection(rest)
        if commands - {"up"}:
            continue  # its down, create or redo
        named = _PG_MIGRATE_DIR.search(found.group("rest"))
        directory = posixpath.normpath(named.group(2)) if named else "migrations"
        if not _holds_migrations(files, directory):
            return None
        if commands:
            return ("npm", "run", name)
        return ("node_modules/.bin/node-pg-migrate", "up", *rest)
    if _holds_migrations(files, "migrations"):
        return ("node_modules/.bin/node-pg-migrate", "up")
    return None


_LEY = re.compile(r"(?:^|[\s;&|(/])ley(?=\s|$)(?P<rest>[^;&|]*)")
_LEY_DIR = re.compile(r"(?:^|\s)(?:-d|--dir)(?:=|\s+)([\"']?)([^\s\"']+)\1")


# A Drizzle config reaching Cloudflare's D1 through Cloudflare's HTTP API (an account's).
_D1_HTTP = re.compile(r"""\bdriver\s*:\s*["'`]d1-http["'`]""")
_WRANGLER_CONFIGS = ("wrangler.jsonc", "wrangler.json", "wrangler.toml")


def _d1_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """A Cloudflare Worker's D1 migrations applied to the local database ``wrangler dev``
    serves it (``wrangler d1 migrations apply --local <database>``), where wrangler is
    listed and its config's ``d1_databases`` has one whose ``migrations_dir`` (default
    ``migrations``) holds SQL (Michaelomh's bun-hono: a Hono Worker on D1, whose
    drizzle.config, ``driver: 'd1-http'``, reaches the remote database with an account's
    token; run instead, it failed the launch: "ENOENT … open '.env'")."""
    if "wrangler" not in listed:
        return None
    for name in _WRANGLER_CONFIGS:
        if name not in files:
            continue
        for database in _d1_databases(name, files[name]):
            label = database.get("database_name") or database.get("binding")
            folder = posixpath.normpath(str(database.get("migrations_dir") or "migrations"))
            if isinstance(label, str) and any(
                posixpath.dirname(p) == folder and p.endswith(".sql") for p in files
            ):
                return ("node_modules/.bin/wrangler", "d1", "migrations", "apply", "--local", label)
    return None


# SQL making a table (SQLite's, as D1 is): a schema file's mark.
_D1_CREATES = re.compile(rb"\bCREATE\s+TABLE\b", re.I)
_D1_NOT_SCHEMA = re.compile(r"(?:^|/)(?:node_modules|tests?|__tests__|\.wrangler)/")


def _d1_schema(files: dict[str, bytes], listed: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    """Where a Worker's D1 database has no migrations (:func:`_d1_migrations`), the
    upload's SQL files that make tables, each executed into the local database ``wrangler
    dev`` serves (``wrangler d1 execute <database> --local --file <path>``), in their
    paths' order, as its author ran them once by hand (VPrueba57's hono-videos-api:
    database-scripts/schema.sql and schemaVideo.sql, no migrations folder; every route met
    D1_ERROR: no such table). Its first database's, where wrangler is listed."""
    if "wrangler" not in listed:
        return ()
    config = next((n for n in _WRANGLER_CONFIGS if n in files), None)
    databases = _d1_databases(config, files[config]) if config is not None else []
    label = next(
        (d.get("database_name") or d.get("binding") for d in databases),
        None,
    )
    if not isinstance(label, str):
        return ()
    schema = sorted(
        p
        for p, data in files.items()
        if p.endswith(".sql") and not _D1_NOT_SCHEMA.search(p) and _D1_CREATES.search(data)
    )
    execute = ("node_modules/.bin/wrangler", "d1", "execute", label, "--local", "--file")
    return tuple((*execute, path) for path in schema)


def _d1_databases(name: str, data: bytes) -> list[dict]:
    """The ``d1_databases`` a wrangler config declares (JSON with comments, or TOML)."""
    text = data.decode("utf-8", "replace")
    try:
        config = tomllib.loads(text) if name.endswith(".toml") else json.loads(_no_comments(text))
    except (ValueError, RecursionError):
        return []
    found = config.get("d1_databases") if isinstance(config, dict) else None
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


# JSONC's comments and trailing commas, outside its strings.
_JSONC = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.S)


def _no_comments(text: str) -> str:
    return _JSONC.sub(lambda m: m.group(1) or "", text)


def _ley_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """ley's ``up`` where it is listed and its migrations folder (``-d``/``--dir`` of the
    app's script running it, else ``migrations``) holds migrations (tamaradanhash's
    express-postgres-api: ``"migrate": "dotenv ley --"``, a command its README leaves to
    complete; the app's first query ended it, relation "products" does not exist). ley
    connects as its driver does without a config (``postgres``, ``pg``: the ``PG*``
    variables the preview gives)."""
    if "ley" not in listed:
        return None
    directory = "migrations"
    for _name, _words, command in _plainest_scripts(files):
        found = _LEY.search(command)
        named = _LEY_DIR.search(found.group("rest")) if found is not None else None
        if named is not None:
            directory = posixpath.normpath(named.group(2))
            break
    if not _holds_migrations(files, directory):
        return None
    given = ("--dir", directory) if directory != "migrations" else ()
    return ("node_modules/.bin/ley", "up", *given)


_DB_MIGRATE = re.compile(r"(?:^|[\s;&|(/])db-migrate(?=\s|$)(?P<rest>[^;&|]*)")
_DB_MIGRATE_OPTION = re.compile(
    r"(?:^|\s)(?P<option>-m|--migrations-dir|--config)(?:=|\s+)([\"']?)(?P<value>[^\s\"']+)\2"
)


def _db_migrate_migrations(
    files: dict[str, bytes], listed: dict[str, str]
) -> tuple[str, ...] | None:
    """db-migrate's ``up`` where it is listed and its migrations folder (``-m``/
    ``--migrations-dir`` of the app's script running it, else ``migrations``) holds
    migrations, with the ``--config`` that script gives (else its ``database.json``),
    and the environment of that config the preview's NODE_ENV names where db-migrate's
    own default (``dev``) is not one of them; without DATABASE_URL where that config is
    the upload's (db-migrate takes the URL over it: the preview's SQLite one had it look
    for its sqlite3 driver) (mizukenwater's express-blog-api:
    ``database.json``'s ``development`` and ``test``, no script running it; its first
    query ended it, Table 'expressblogapi_development.articles' doesn't exist)."""
    if "db-migrate" not in listed:
        return None
    given: dict[str, str] = {}
    for _name, _words, command in _plainest_scripts(files):
        found = _DB_MIGRATE.search(command)
        if found is not None:
            options = _DB_MIGRATE_OPTION.finditer(found.group("rest"))
            given = {m.group("option"): m.group("value") for m in options}
            break
    directory = posixpath.normpath(given.get("-m") or given.get("--migrations-dir") or "migrations")
    if not _holds_migrations(files, directory):
        return None
    config = posixpath.normpath(given.get("--config") or "database.json")
    try:
        environments = json.loads(files.get(config, b"{}"))
    except ValueError:
        environments = {}
    step = ["node_modules/.bin/db-migrate", "up", "--migrations-dir", directory]
    step += ["--config", config] if "--config" in given else []
    if config in files:  # db-migrate takes DATABASE_URL over it, and the preview gives one
        step = ["env", "-u", "DATABASE_URL", *step]
    named = environments if isinstance(environments, dict) else {}
    if "dev" not in named and "development" in named:
        step += ["--env", "development"]
    return tuple(step)


def _holds_migrations(files: dict[str, bytes], directory: str) -> bool:
    return any(
        p.startswith(f"{directory}/") and p.endswith((".js", ".cjs", ".ts", ".sql")) for p in files
    )


def _plainest_scripts(files: dict[str, bytes]) -> Iterator[tuple[str, set[str], str]]:
    """package.json's scripts, the plainest (shortest) name first: (its name, the words of
    it, its command); none where package.json cannot be read."""
    try:
        scripts = json.loads(files.get("package.json", b"{}")).get("scripts")
    except (ValueError, AttributeError):
        return
    scripts = scripts if isinstance(scripts, dict) else {}
    for name in sorted(scripts, key=lambda n: (len(n), n)):
        command = scripts[name] if isinstance(scripts[name], str) else ""
        yield name, set(re.split(r"[-:_.]", name.lower())), command


def _knex_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """``knex migrate:latest`` where a knexfile beside package.json (a ``.ts`` one only
    with ts-node listed: knex loads it by ts-node) names a migrations directory (its
    ``migrations.directory``, else ``migrations``) holding migrations."""
    if "knex" not in listed:
        return None
    knexfiles = sorted(
        (p for p in files if posixpath.basename(p) in _KNEXFILES and "node_modules/" not in p),
        key=lambda p: (p.count("/"), _KNEXFILES.index(posixpath.basename(p)), p),
    )
    for knexfile in knexfiles:
        if knexfile.endswith(".ts") and "ts-node" not in listed:
            continue
        text = files[knexfile].decode("utf-8", "replace")
        match = _KNEX_DIR.search(text) or _imported_knex_dir(files, knexfile, text)
        named = match.group(1) if match else _joined_dir(text) or "migrations"
        # A template literal from the knexfile's folder (rickymbru's node-postgres-knex:
        # `${__dirname}/src/database/migrations`): the folder relative to it.
        named = _HERE_PREFIX.sub("", named)
        directory = posixpath.normpath(posixpath.join(posixpath.dirname(knexfile), named))
        if not any(p.startswith(f"{directory}/") for p in files):
            continue
        if knexfile.endswith(".ts") and loads_as_es_module(files, knexfile):
            # knex loads a .ts knexfile by ts-node's CommonJS hook, and Node loads one of
            # a "type": "module" package as an ES module, which that hook cannot:
            # "Unknown file extension ".ts" for knexfile.ts" (stivendiaz's
            # nodejs-sales-express, whose own script runs knex under ts-node/esm).
            cli = ("node", "--loader", "ts-node/esm", "node_modules/knex/bin/cli.js")
            return (*cli, "migrate:latest", "--knexfile", knexfile)
        return ("node_modules/.bin/knex", "migrate:latest", "--knexfile", knexfile)
    return None


_IMPORTED = re.compile(r"""(?:\bfrom\s+|\brequire\(\s*)["'](\.{1,2}/[\w./-]+)["']""")


def _imported_knex_dir(files: dict[str, bytes], knexfile: str, text: str) -> re.Match[str] | None:
    """The ``migrations.directory`` of a config module the knexfile imports (its modules'
    and theirs, two deep): mateuszzdyb's node-koa-knex-fun-fair exports ``configs.
    databaseConfig`` from ./src/config, whose database.ts names
    ``src/infrastructure/database/migrations``; nothing ran them (every route met relation
    "users" does not exist). A literal path, as knex reads it from the knexfile's folder."""
    pending, seen = [(knexfile, text)], {knexfile}
    for _depth in range(3):
        found: list[tuple[str, str]] = []
        for path, source in pending:
            for relative in _IMPORTED.findall(source):
                base = posixpath.normpath(posixpath.join(posixpath.dirname(path), relative))
                stem = base.rsplit(".", 1)[0] if base.endswith((".js", ".ts")) else base
                for candidate in (f"{stem}{e}" for e in (".ts", ".js", "/index.ts", "/index.js")):
                    if candidate in files and candidate not in seen:
                        seen.add(candidate)
                        module = files[candidate].decode("utf-8", "replace")
                        if match := _KNEX_DIR.search(module):
                            return match
                        found.append((candidate, module))
        pending = found
    return None


def _joined_dir(text: str) -> str | None:
    """A knexfile's ``migrations.directory`` built with ``path.join``/``path.resolve``
    from ``__dirname`` and literals, through a constant of the file too (``const BASE =
    path.join(__dirname, 'src', 'server', 'db')`` … ``directory: path.join(BASE,
    'migrations')``): the folder relative to the knexfile; None when it is not so built."""
    match = _KNEX_JOINED.search(text)
    if match is None:
        return None
    parts: list[str] = []
    for token in _JOIN_TOKEN.finditer(match.group(1)):
        literal, name = token.group(1), token.group(2)
        if literal is not None:
            parts.append(literal)
        elif name in ("path", "join", "resolve", "__dirname", "process", "cwd"):
            continue
        elif (const := re.search(rf"(?:const|let|var)\s+{name}\s*=\s*([^;\n]+)", text)) and (
            "__dirname" in const.group(1) or "path." in const.group(1)
        ):
            parts += [t.group(1) for t in _JOIN_TOKEN.finditer(const.group(1)) if t.group(1)]
        else:
            return None  # a value this reading cannot tell
    parts = [p.strip("/") for p in parts if p.strip("/") not in ("", ".")]
    return posixpath.join(*parts) if parts else None


def _drizzle_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """``drizzle-kit migrate`` where drizzle-kit is listed and a drizzle.config beside
    package.json has a migrations journal (``meta/_journal.json``) in its ``out``
    directory (default ``drizzle``), or drizzle-kit 1.0's folders of them
    (``<out>/<when>_<name>/migration.sql``); drizzle-orm's migrator for a drizzle-kit
    before 0.21."""
    if "drizzle-kit" not in listed:
        return None
    for config in _drizzle_configs(files):
        if config in files:
            text = files[config].decode("utf-8", "replace")
            if _D1_HTTP.search(text):
                continue  # Cloudflare's D1 over its HTTP API: no local database (_d1_migrations)
            match = _DRIZZLE_OUT.search(text)
            out = posixpath.normpath(match.group(1) if match else "drizzle")
            # drizzle-kit 1.0 writes a folder per migration (<when>_<name>/migration.sql),
            # no journal: ronsj's Hono API ("relation "authors" does not exist").
            v1 = any(
                p.startswith(f"{out}/")
                and p.count("/") == out.count("/") + 2
                and p.endswith("/migration.sql")
                for p in files
            )
            old = _OLD_DRIZZLE_KIT.match(listed["drizzle-kit"])
            driver = next((d for d in _DRIVERS if d in listed), None)
            if f"{out}/meta/_journal.json" not in files and not v1:
                # The journal moved, its config's out left behind (masmuss's
                # hono-api-boilerplate: out ./src/db/migrations, its journal in
                # src/core/db/migrations; "relation products does not exist"): the one
                # journal of the upload, applied by drizzle-orm's migrator.
                moved = _moved_journal(files)
                if moved is not None and driver is not None:
                    return ("node", "-e", _migrator(driver, moved, text))
                if moved is None and (pushed := _unmigrated_push(files, listed, config)):
                    return pushed
                continue
            if (
                not v1
                and _journal_entries(files, out) == []
                and (pushed := _unmigrated_push(files, listed, config))
            ):
                return pushed  # an empty journal: `drizzle-kit generate` never run
            if old is not None and int(old.group(1)) < 21 and driver is not None:
                return ("node", "-e", _migrator(driver, out, text))
            if not v1 and _journal_sql_missing(files, out):
                # Its journal and snapshots committed, the SQL they list left out
                # (aginev's fastify-api: "No file ./src/db/migrations/…_users.sql found"):
                # the schema pushed as it is, with no confirmation asked.
                return ("node", "-e", _push(config))
            return ("node_modules/.bin/drizzle-kit", "migrate", "--config", config)
    return None


_OUTSIDE = re.compile(r"(?:^|/)(?:node_modules|tests?|__tests__)/")


def _drizzle_configs(files: dict[str, bytes]) -> tuple[str, ...]:
    """The drizzle.config beside package.json; where there is none, the upload's one
    drizzle.config in a folder of it (not a dependency's nor a test's), which its scripts
    name with ``--config`` from the root (LautaroEpifani's nodejs-express-hexagonal-arq:
    src/lib/User/infrastructure/DrizzlePostgresUser/drizzle.config.ts, no migrations,
    relation "users" does not exist)."""
    if any(c in files for c in _DRIZZLE_CONFIGS):
        return _DRIZZLE_CONFIGS
    nested = tuple(
        p
        for p in sorted(files)
        if posixpath.basename(p) in _DRIZZLE_CONFIGS and not _OUTSIDE.search(p)
    )
    return nested if len(nested) == 1 else ()


def _moved_journal(files: dict[str, bytes]) -> str | None:
    """The folder of the upload's one Drizzle journal (``<folder>/meta/_journal.json``,
    not a dependency's nor a test's) whose SQL files are there; None for none or several."""
    found = [
        p[: -len("/meta/_journal.json")]
        for p in files
        if p.endswith("/meta/_journal.json") and not _OUTSIDE.search(p)
    ]
    if len(found) != 1 or not any(
        p.startswith(f"{found[0]}/") and p.endswith(".sql") for p in files
    ):
        return None
    return found[0]


def _journal_entries(files: dict[str, bytes], out: str) -> list[object] | None:
    """The entries of ``out``'s journal; None where it has none or they cannot be read."""
    try:
        journal = json.loads(files[f"{out}/meta/_journal.json"])
    except (KeyError, ValueError, RecursionError):
        return None
    entries = journal.get("entries") if isinstance(journal, dict) else None
    return entries if isinstance(entries, list) else None


def _journal_sql_missing(files: dict[str, bytes], out: str) -> bool:
    """Whether ``out``'s journal lists a migration whose SQL file (``<out>/<tag>.sql``) the
    upload lacks (a .gitignore'd ``*.sql``, a repository keeping only the snapshots)."""
    entries = _journal_entries(files, out)
    tags = [e.get("tag") for e in entries or () if isinstance(e, dict)]
    return any(isinstance(t, str) and f"{out}/{t}.sql" not in files for t in tags)


def _unmigrated_push(
    files: dict[str, bytes], listed: dict[str, str], config: str
) -> tuple[str, ...] | None:
    """The schema pushed where no migration was ever generated (no journal, or an empty
    one) and the schema files the config names declare tables, as its author's
    ``drizzle-kit push`` (a ``db:push`` script, a README's step) made them: vhlongon's
    hono-todos (``"db:push": "drizzle-kit push"``, no ``drizzle/`` folder) answered /todos
    with 500, no such table; schndra's express-drizzle-mysql-template commits a journal
    with no entries. None where the app's start applies migrations it generates itself
    (:func:`_drizzle_generation`), or for a drizzle-kit before 0.21, whose push is a
    command per dialect (``push:pg``) on a config of another shape."""
    old = _OLD_DRIZZLE_KIT.match(listed.get("drizzle-kit", ""))
    if (old is not None and int(old.group(1)) < 21) or not _declared_tables(files, config):
        return None
    if _drizzle_generation(files, listed) is not None and _start_migrates(files):
        return None
    return ("node", "-e", _push(config, _schema_beside(files, config)))


def _start_migrates(files: dict[str, bytes]) -> bool:
    """Whether a module importing drizzle-orm's migrator is the app's, not a script of its
    own that a package.json script runs (schndra's ``"db:migrate": "dotenv -- ts-node
    src/db/migrator.ts"``, which the start never reaches)."""
    commands = " ".join(command for _name, _words, command in _plainest_scripts(files))
    return any(
        _MIGRATOR_IMPORT.search(data) and path not in commands
        for path, data in files.items()
        if path.endswith((".ts", ".js", ".mjs", ".cjs")) and "node_modules/" not in path
    )


# drizzle-kit push with the app's config, made not strict (strict asks before every push,
# which no one answers here) by a config of the preview's beside it that spreads the app's.
_PUSH_CONFIG = ".preview-drizzle.config.ts"
_PUSH = """\
const fs = require("fs");
const {{ spawnSync }} = require("child_process");
fs.writeFileSync({wrapper}, {text});
const run = spawnSync("node_modules/.bin/drizzle-kit", ["push", "--force", "--config", {wrapper}],
  {{ stdio: "inherit" }});
process.exit(run.status === null ? 1 : run.status);"""


# The first line of the push run after migrations that lack tables of the schema: an
# optional step (plans.optional_steps), its failure said, the app started without it.
BEHIND = "// the schema's tables its committed migrations lack"
_TABLE_CALL = re.compile(rb"""\b(?:pg|mysql|sqlite)Table\s*\(\s*["'`]([\w.-]+)["'`]""")
_DRIZZLE_SCHEMA = re.compile(r"""\bschema\s*:\s*(\[[^\]]*\]|["'`][^"'`]+["'`])""")


def _drizzle_behind(files: dict[str, bytes]) -> tuple[str, ...] | None:
    """The schema pushed after ``drizzle-kit migrate`` where the schema files its config
    names declare tables its newest committed snapshot lacks (urn-tty's
    hono-backend-sample: ``pgTable("todos")`` added, its README's ``db:generate`` never
    run for it, so the one migration made ``users`` alone; /api/todos answered 500).
    None where the migrations cover the schema (or nothing says)."""
    config = next((c for c in _DRIZZLE_CONFIGS if c in files), None)
    if config is None:
        return None
    text = files[config].decode("utf-8", "replace")
    match = _DRIZZLE_OUT.search(text)
    out = posixpath.normpath(match.group(1) if match else "drizzle")
    declared = _declared_tables(files, config)
    snapshots = sorted(
        f for f in files if f.startswith(f"{out}/meta/") and f.endswith("_snapshot.json")
    )
    if not declared or not snapshots:
        return None
    try:
        tables = json.loads(files[snapshots[-1]]).get("tables") or {}
    except (ValueError, RecursionError, AttributeError):
        return None
    made = {str(t.get("name")) for t in tables.values() if isinstance(t, dict)}
    if not made or declared <= made:
        return None
    return ("node", "-e", BEHIND + "\n" + _push(config))


def _declared_tables(files: dict[str, bytes], config: str) -> set[str]:
    """The tables (``pgTable("todos", …)``) the schema files drizzle.config ``config`` names
    (its ``schema``: a file, a folder, a glob, a list of them) declare. A glob is one too,
    which drizzle-kit expands itself (UNRIVALLEDKING's first-hono-project: ``schema:
    './src/models/*.js'``, never pushed: relation "todos" does not exist)."""
    named = _DRIZZLE_SCHEMA.search(files[config].decode("utf-8", "replace"))
    if named is None:
        return set()
    paths = _schema_beside(files, config) or [
        posixpath.normpath(p) for p in _LITERAL.findall(named.group(1))
    ]
    globs = [glob_pattern(p) for p in paths if "*" in p]
    sources = [
        f
        for f in files
        if any(f == p or f.startswith(p.rstrip("/") + "/") for p in paths)
        or any(g.fullmatch(f) for g in globs)
    ]
    return {
        t.decode() for f in _with_imports(sources, files) for t in _TABLE_CALL.findall(files[f])
    }


# A module's relative imports: ``require("./book.model.js")``, ``from './users'``,
# ``export * from "./posts"``.
_RELATIVE_IMPORT = re.compile(rb"""(?:\bfrom\s+|\brequire\(\s*)["'](\.{1,2}/[\w./-]+)["']""")
_MODULE_EXTENSIONS = (".ts", ".js", ".mjs", ".cjs", ".mts", ".cts")


def module_imports(path: str, files: dict[str, bytes]) -> list[str]:
    """The upload's modules ``path`` imports relatively (``require("./book.model.js")``,
    ``from './users'``: a file, its module without an extension, a folder's index)."""
    found = []
    for name in _RELATIVE_IMPORT.findall(files[path]):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), name.decode()))
        stem = target.rsplit(".", 1)[0] if target.endswith(_MODULE_EXTENSIONS) else target
        candidates = (
            target,
            *(f"{stem}{ext}" for ext in _MODULE_EXTENSIONS),
            *(f"{target}/index{ext}" for ext in _MODULE_EXTENSIONS),
        )
        module = next((c for c in candidates if c in files), None)
        if module is not None and module not in found:
            found.append(module)
    return found


def _with_imports(sources: list[str], files: dict[str, bytes]) -> set[str]:
    """``sources`` and the upload's modules they import, relatively, at any depth: a schema
    file that gathers its tables from modules beside it (sukhendralodhi's
    docker-drizzle-express: ``schema: "./models/index.js"``, which requires
    ``./book.model.js`` and ``./author.model.js``; relation "books" does not exist)."""
    found = set(sources)
    waiting = list(sources)
    while waiting:
        for module in module_imports(waiting.pop(), files):
            if module not in found:
                found.add(module)
                waiting.append(module)
    return found


def _schema_beside(files: dict[str, bytes], config: str) -> list[str] | None:
    """The schema files a drizzle.config in a folder names (``schema: "./schema.ts"``) as
    found from its own folder, where drizzle-kit, reading them from where it runs (the
    root), would find none of them there: its author pulled the schema with it and never
    pushed from the root. None where the config is the root's, or its paths are found."""
    named = _DRIZZLE_SCHEMA.search(files[config].decode("utf-8", "replace"))
    folder = posixpath.dirname(config)
    if named is None or not folder:
        return None
    paths = [p for p in _LITERAL.findall(named.group(1)) if "*" not in p]

    def found(path: str) -> bool:
        return path in files or any(f.startswith(path.rstrip("/") + "/") for f in files)

    if not paths or any(found(posixpath.normpath(p)) for p in paths):
        return None
    beside = [posixpath.normpath(posixpath.join(folder, p)) for p in paths]
    return beside if all(found(p) for p in beside) else None


def _push(config: str, schema: list[str] | None = None) -> str:
    """A script pushing the schema of drizzle.config ``config`` (a template); ``schema``:
    its schema files as found from the root, where the config's own do not say them."""
    module = "./" + config.rsplit(".", 1)[0]
    override = f"schema: {json.dumps(schema)}, " if schema else ""
    text = (
        f"import config from {json.dumps(module)};\n"
        f"export default {{ ...config, {override}strict: false, verbose: false }};\n"
    )
    script = _PUSH.format(wrapper=json.dumps(_PUSH_CONFIG), text=json.dumps(text))
    return script.replace("{", "{{").replace("}", "}}")


_MIGRATOR_IMPORT = re.compile(rb"""["']drizzle-orm/[\w-]+/migrator["']""")
_GENERATE = re.compile(r"\bdrizzle-kit\s+generate(?::\w+)?\b")


def _drizzle_generation(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """The app's own script generating its Drizzle migrations (``"migrate": "drizzle-kit
    generate:pg"``) where none is committed and its start applies them itself (its source
    imports drizzle-orm's migrator): Kei-K23's RBAC Fastify API exited with "Can't find
    meta/_journal.json file" (its ``migrate`` script writes them, from its schema)."""
    if "drizzle-kit" not in listed:
        return None
    sources = (
        p
        for p in files
        if p.endswith((".ts", ".js", ".mjs", ".cjs"))
        and "node_modules/" not in p
        and not re.search(r"(?:^|/)(?:tests?|__tests__)/|\.(?:spec|test)\.", p)
    )
    if not any(_MIGRATOR_IMPORT.search(files[p]) for p in sources):
        return None
    for name, _words, command in _plainest_scripts(files):
        if _GENERATE.search(command):
            return ("npm", "run", name)
    return None


# A config's credentials read one by one (``host: process.env.DB_HOST!``, ``port:
# Number(process.env.DB_PORT!)``): group 1 the option, 2 or 3 the variable.
# A config's URL written as a template of variables (PetarIvanov01's DrizzleExpress-API:
# ``url: `postgres://postgres:${process.env.DB_PASSWORD}@localhost:${…DB_PORT}/…```):
# its placeholders each a variable's read, nothing else.
_TEMPLATE_URL = re.compile(r"""\burl\s*:\s*(`[^`]*`)""")
_TEMPLATE_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_CREDENTIAL = re.compile(
    r"""\b(host|port|user|password|database)\s*:\s*(?:Number\(|\+\(?)?\s*"""
    r"""process\.env(?:\.([A-Za-z_]\w*)|\[\s*["'`]([A-Za-z_]\w*)["'`]\s*\])"""
)


def _migrator(driver: str, folder: str, config: str) -> str:
    """drizzle-orm's migrator applying ``folder`` through ``driver`` (a template): at the
    URL the config's credentials read (a template of variables as the config writes it),
    else, for node-postgres, at the host, user and
    database they read one by one (the app's own connection, whichever database that
    names), else at ``DATABASE_URL``."""
    module, client, close = _DRIVERS[driver]
    at = max(config.find("dbCredentials"), 0)
    read = _ENV_READ.search(config, at)
    url = next((g for g in read.groups() if g), "DATABASE_URL") if read else "DATABASE_URL"
    address = f"process.env[{json.dumps(url)}]"
    template = _TEMPLATE_URL.search(config, at)
    if template is not None and all(
        _ENV_READ.fullmatch(p.strip()) for p in _TEMPLATE_PLACEHOLDER.findall(template.group(1))
    ):
        address = template.group(1)  # (not its first variable alone: that is a password)
    each = {m.group(1): m.group(2) or m.group(3) for m in _CREDENTIAL.finditer(config, at)}
    if driver == "pg" and {"host", "database"} <= each.keys():
        options = ", ".join(
            f"{k}: Number(process.env[{json.dumps(v)}]) || undefined"
            if k == "port"
            else f"{k}: process.env[{json.dumps(v)}]"
            for k, v in each.items()
        )
        client = f'const client = new (require("pg").Pool)({{ {options} }});'
    script = _MIGRATOR.format(
        address=address, client=client, module=module, folder=json.dumps(folder), close=close
    )
    return script.replace("{", "{{").replace("}", "}}")


_MIGRATIONS_RUN = re.compile(rb"\bmigrationsRun\s*:\s*true\b")
# TypeORM's CLI command, not a script named for it that another runs (andrew-snytko's
# nestjs-coding-test: ``"start": "npm run db:migration:run && node dist/src/main"``, the
# plainest, taken for the migrations and run as a set-up step that served forever).
_CLI_MIGRATION_RUN = re.compile(r"(?<![\w:.-])migration:run\b")
# A seed's script runs migration:run too, on a data source of its own (gn4r4's
# typeorm-express-typescript: "seed:run", the plainest, ran only the seeds, which then
# failed on the tables the migrations make: relation "users" does not exist).
_NOT_THE_DEV_RUN = {
    "revert",
    "generate",
    "create",
    "show",
    "test",
    "tests",
    "prod",
    "production",
    "seed",
    "seeds",
}


_MAKES_TABLE = re.compile(rb"\bCREATE\s+TABLE\b|\bcreateTable\s*\(|\bnew\s+Table\s*\(", re.I)


_SCHEMA_SYNC = re.compile(r"\btypeorm(?:-ts-node-\w+)?(?:/cli(?:\.js)?)?\s+schema:sync\b")


def _typeorm_schema_first(files: dict[str, bytes]) -> tuple[str, ...] | None:
    """The app's own script running TypeORM's ``schema:sync``, to run before its
    migrations where none of them makes a table: they fill tables its entities' schema
    makes (masb0ymas's hono-api-typeorm: role and user seeders as migrations, its
    README's ``db:sync``; on a new database they met relation "roles" does not exist).
    None elsewhere."""
    migrations = [
        p
        for p in files
        if "/migrations/" in f"/{p}" and p.endswith((".ts", ".js")) and "node_modules/" not in p
    ]
    if not migrations or any(_MAKES_TABLE.search(files[p]) for p in migrations):
        return None
    for name, words, command in _plainest_scripts(files):
        runs = _SCHEMA_SYNC.search(command)  # TypeORM's CLI itself, not a script list
        if runs and not words & {"test", "tests", "drop", "prod"}:
            return ("npm", "run", name)
    return None


def _typeorm_migrations(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...] | None:
    """The app's own script running TypeORM's ``migration:run`` where typeorm is listed,
    migrations are committed and no data source runs them itself (``migrationsRun: true``):
    its CLI needs the data source's file, built or run by ts-node, which the app's script
    names (artsy-craftsy's ``"migration:up:localhost": "npm run typeorm -- migration:run"``,
    its README's step; without it every route answered 500, relation "category" does not
    exist). The plainest such script, not a revert's, the tests' or production's."""
    if "typeorm" not in listed:
        return None
    sources = [p for p in files if p.endswith((".ts", ".js")) and "node_modules/" not in p]
    if any(_MIGRATIONS_RUN.search(files[p]) for p in sources):
        return None
    # Committed migrations, by what they are: a folder named for them, or a module
    # implementing TypeORM's interface in any folder (sogunshola's bus-ticketing backend:
    # src/migration/…-init.migration.ts; never run, every table's route answered 500).
    if any("/migrations/" in f"/{p}" or _A_MIGRATION.search(files[p]) for p in sources):
        found = [
            (name, command)
            for name, words, command in _plainest_scripts(files)
            if _CLI_MIGRATION_RUN.search(command) and not words & _NOT_THE_DEV_RUN
        ]
        # One whose config names no migration the upload has runs none: another that
        # runs them first (lavellewarren's nestjs-crm-apis: ``typeorm:run``, its
        # src/typeorm.config.ts naming an empty src/migration/, "No migrations are
        # pending", every route then 500; ``migration:run``'s ormconfig.js names
        # scripts/migrations/*.ts, six of them).
        found.sort(key=lambda script: _runs_none(files, sources, script[1]))
        for name, command in found:
            return _commonjs_run(files, command) or ("npm", "run", name)
    return _ormconfig_migrations(files, sources, listed)


# The config a TypeORM CLI's command reads (0.2's ``--config``/``-f``, 0.3's ``-d``).
_CONFIG_FLAG = re.compile(
    r"(?:^|\s)(?:--config|-f|-d|--dataSource|--data-source)(?:=|\s+)([^\s;&|]+)"
)
_RUNS_SCRIPT = re.compile(r"^\s*npm\s+run(?:-script)?\s+([\w:.-]+)(.*)$")


def _runs_none(files: dict[str, bytes], sources: list[str], command: str) -> bool:
    """Whether the TypeORM CLI ``command`` runs (through the script it calls, ``npm run
    typeorm migration:run``) reads a config, its own or the default ormconfig, whose
    ``migrations`` globs hold none of the upload's migrations; False where that config
    cannot be read."""
    called = _RUNS_SCRIPT.match(command)
    scripts = dict((name, line) for name, _words, line in _plainest_scripts(files))
    if called is not None and called.group(1) in scripts:
        command = f"{scripts[called.group(1)]} {called.group(2)}"
    flag = _CONFIG_FLAG.search(command)
    if flag is not None:
        config = posixpath.normpath(flag.group(1).strip("'\"").removeprefix("./"))
    else:
        config = next((c for c in ("ormconfig.json", *_ORMCONFIG_MODULES) if c in files), "")
    globs = _config_globs(files, config) if config in files else None
    if globs is None:
        return False
    return not any(_MIGRATION_CLASS.search(files[p]) and _under(p, globs) for p in sources)


def _config_globs(files: dict[str, bytes], path: str) -> list[str] | None:
    """The folders the ``migrations`` globs of the TypeORM config ``path`` name (JSON, or
    a module's first ``migrations:``); None where it names none."""
    if path.endswith(".json"):
        try:
            config = json.loads(files[path])
        except (ValueError, RecursionError):
            return None
        globs = config.get("migrations") if isinstance(config, dict) else None
        if not isinstance(globs, list):
            return None
        return [_glob_base(g) for g in globs if isinstance(g, str) and "*" in g]
    option = _MIGRATIONS_OPTION.search(files[path].decode("utf-8", "replace"))
    if option is None:
        return None
    folder = posixpath.dirname(path)
    return [
        _glob_base(_HERE.sub("", glob), folder if here or _HERE.match(glob) else "")
        for here, glob in _GLOB_LITERAL.findall(option.group(1))
        if "*" in glob
    ]


_RUNS_WITH_ARGS = re.compile(r"^npm\s+run\s+([\w:.-]+)\s+--\s+(.+)$")


def _commonjs_run(files: dict[str, bytes], command: str) -> tuple[str, ...] | None:
    """TypeORM's CLI by ts-node's CommonJS hook where the app's script runs its ESM one
    (``typeorm-ts-node-esm``) in a project whose modules are CommonJS (no ``"type":
    "module"``): on Node 20 its loader failed on the data source (cristianA123's
    Nest-TypeOrm-Docker: ``npm run typeorm -- migration:run``, ``"typeorm":
    "typeorm-ts-node-esm -d src/database/data-source.ts"``: "Unable to open file …
    Unexpected token ')'"), its type check off. None for any other script."""
    try:
        package = json.loads(files.get("package.json", b"{}"))
    except (ValueError, RecursionError):
        return None
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if not isinstance(scripts, dict) or package.get("type") == "module":
        return None
    line = command.strip()
    if (called := _RUNS_WITH_ARGS.match(line)) is not None:
        inner = scripts.get(called.group(1))
        line = f"{inner.strip()} {called.group(2)}" if isinstance(inner, str) else ""
    if not line.startswith("typeorm-ts-node-esm ") or re.search(r"[;&|<>`$()]", line):
        return None
    once = line.replace("typeorm-ts-node-esm", "typeorm-ts-node-commonjs", 1)
    return ("sh", "-c", f"{BIN_FIRST_ON_PATH}TS_NODE_TRANSPILE_ONLY=true {once}")


def _ormconfig_migrations(
    files: dict[str, bytes], sources: list[str], listed: dict[str, str]
) -> tuple[str, ...] | None:
    """TypeORM's CLI run on the migrations its configuration names where no script of the
    app runs them and the upload holds some: an ``ormconfig`` (``.json``, or a module:
    TypeORM 0.2's CLI reads it itself), else a module making TypeORM 0.3's ``new
    DataSource({…})`` with ``migrations`` (given to the CLI by ``-d``), through ts-node
    where they are TypeScript (where the app lists it, or ts-node-dev, which brings it),
    with ``tsconfig-paths`` registered where the tsconfig maps import paths and the app
    lists it. darthvaderovych's koa-ts-typeorm: ``"migrations":
    ["src/db/migration/**/*.ts"]``, ``synchronize: false``, no script: relation "user"
    does not exist, at every call of its one route. thalesmacena's typeorm-crud-todo (an
    ormconfig.js naming ``./src/database/migration/*.ts``) and luucasdinoo's
    express-events-aos (src/database/data-source.ts, its entities imported by
    ``@modules/…``, its script ``ts-node-dev ./node_modules/typeorm/cli`` given nothing to
    run) likewise: relation "todos", "event" does not exist."""
    config, globs = _typeorm_config(files, sources)
    if config is None:
        return None
    # 0.2's CLI reads an ormconfig, 0.3's a data source alone (its -d).
    before = _TYPEORM_02.match(listed.get("typeorm", "")) is not None
    if before != posixpath.basename(config).startswith("ormconfig."):
        return None
    held = [p for p in sources if _MIGRATION_CLASS.search(files[p]) and _under(p, globs)]
    if not held:
        return None
    given = () if before else ("-d", config)
    if not any(p.endswith(".ts") for p in (*held, config)):
        return ("node_modules/.bin/typeorm", "migration:run", *given)
    if not {"ts-node", "ts-node-dev"} & listed.keys():
        return None
    runner, tools = ts_node_command(files, listed)
    hooks = runner[2:] if not tools else ()  # tsconfig-paths only where the app lists it
    words = ("ts-node", "--transpile-only", *hooks, "node_modules/typeorm/cli.js")
    line = " ".join((*words, "migration:run", *(shlex.quote(w) for w in given)))
    return ("sh", "-c", BIN_FIRST_ON_PATH + line)


# A TypeORM migration's class, in any folder (a JavaScript one implements no interface).
# A module that is one TypeORM migration, wherever it is.
_A_MIGRATION = re.compile(rb"\bimplements\s+MigrationInterface\b")
_MIGRATION_CLASS = re.compile(rb"\bMigrationInterface\b|\bqueryRunner\b")
_TYPEORM_02 = re.compile(r"^\s*[\^~=]?\s*0\.[0-2]\.")
_ORMCONFIG_MODULES = tuple(f"ormconfig.{e}" for e in ("js", "cjs", "ts"))
# ``migrations: [ … ]`` or ``migrations: "…"`` in a module's options; its globs' literals.
_MIGRATIONS_OPTION = re.compile(
    r"""["']?\bmigrations["']?\s*:\s*(\[[^\]]*\]|[^,}\n]*["'`][^"'`]*["'`][^,}\n]*)"""
)
_HERE = re.compile(r"^\$\{\s*__dirname\s*\}")  # a template literal's ``${__dirname}/…``
_GLOB_LITERAL = re.compile(
    r"""(__dirname\s*\+\s*|\$\{\s*__dirname\s*\})?["'`]?([^"'`]*\*[^"'`]*)"""
)


def _typeorm_config(files: dict[str, bytes], sources: list[str]) -> tuple[str | None, list[str]]:
    """The file TypeORM's CLI reads the app's migrations from, and the folders its
    ``migrations`` globs name (relative to the app, a ``__dirname`` one to the file's
    folder): ``ormconfig.json``, an ``ormconfig`` module, else the one module (not a
    test's) making a ``new DataSource(`` with migrations. (None, []) where none names any,
    or TypeORM runs them itself (``migrationsRun: true``)."""
    try:
        config = json.loads(files.get("ormconfig.json", b"null"))
    except (ValueError, RecursionError):
        config = None
    if isinstance(config, dict):
        globs = config.get("migrations")
        if not isinstance(globs, list) or config.get("migrationsRun") is True:
            return None, []
        return "ormconfig.json", [_glob_base(g) for g in globs if isinstance(g, str) and "*" in g]
    candidates = [c for c in _ORMCONFIG_MODULES if c in files]
    candidates += [
        p
        for p in sorted(sources)
        if not _NOT_SERVED.search(p)
        and _DATA_SOURCE.search(files[p].decode("utf-8", "replace")) is not None
        and b"typeorm" in files[p]
        and not _SERVES.search(files[p].decode("utf-8", "replace"))
    ]
    for path in candidates:
        globs = _config_globs(files, path)
        if globs is None or _MIGRATIONS_RUN.search(files[path]):
            continue
        return path, globs
    return None, []


def _glob_base(glob: str, folder: str = "") -> str:
    """The folder a migrations glob starts from (``./src/db/migration/*.ts`` →
    ``src/db/migration/``), joined to ``folder`` (a ``__dirname`` glob's)."""
    base = posixpath.dirname(glob.split("*", 1)[0] + "x")
    return posixpath.normpath(posixpath.join(folder, base.lstrip("/"))) + "/"


def _under(path: str, bases: list[str]) -> bool:
    return any(base == "./" or path.startswith(base) for base in bases)
