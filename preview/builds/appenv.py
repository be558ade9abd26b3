"""The environment an app (and its set-up steps) runs with: :func:`app_environment`.

From the bottom up: the scrubbed base of :func:`~.process.child_environment` (nothing of
the service's own), the upload's ``.env`` files (parsed by python-dotenv, not executed:
the one at the root, and those on the way down to the detected app's directory, the
nearer one winning, as in the FastAPI full-stack template's ``.env`` beside ``backend/``),
then the ``env`` launch option; below them, what ``configdefaults`` filled in (an
``.env.example`` standing in for a missing ``.env``, throwaway secrets). The service
then adds only what the app needs from it: ``PORT`` and ``HOST`` (where it must
listen) and, when neither the user nor the app set one, ``DATABASE_URL`` for the
preview's own throwaway SQLite file (the URLs it is given naming the async driver of an
app on SQLAlchemy's asyncio extension, or the sync one a SQLAlchemy app installs instead
of psycopg2, ``postgres://`` for Tortoise ORM: ``apps.asyncdb``; that URL under the
other names the app reads one by, ``POSTGRES_DSN``, a ``PostgresDsn`` field:
:func:`database_urls_by_meaning`), and, for the local packages a
Python app names
(``-e ./libs/common``, Poetry's ``path``), which no build installs, ``PYTHONPATH`` to
where they import from, and ``VIRTUAL_ENV`` to the built environment, as activating
it would, and ``PYTHON_VERSION`` to its Python's, as the official python image sets it.
A Flask app reading ``SERVER_NAME`` with a default naming another host (its
compose network's, ``os.environ.get('SERVER_NAME', 'app.docker:5000')``), to which Flask
before 3.1 binds every route, is given the host it is called by, ``127.0.0.1:<port>``.
A variable of the app's files that the preview's own servers fill (``PGHOST``,
``DATABASE_URL`` …) naming an address of a private network, not this machine's loopback
(a committed ``.env``'s ``PGHOST=172.17.0.2``, its author's Docker bridge, which no
preview reaches), or a URL to fill in (``postgresql://user:password@host:port/dbname``),
gives way to the preview's own: those servers are what it meant. A value the app's
settings class refuses for its field's type (an empty ``SMTP_PORT=`` of its compose
env_file, for an ``Optional[int]``), not one of the user's, is unset where the field has a
default, else a throwaway (``configdefaults.settings_misfits``); one it spells in another
case than the settings field's name (an example's ``port=``) is given that name's value
(``configdefaults.settings_spellings``).
Names the app's compose service maps onto a database service the preview gives
(``HOST: db``, ``PORT: 3306``, ``USER`` … beside it) mean that database
(:func:`compose_database_values`); ``PORT`` only where the app's own server listens on
another variable (``APP_PORT``, given the service's port) or on a port its code writes.
A Node app's tools that find its root from where node_modules really is (a link to the
built environment) are told it: ``APP_ROOT_PATH`` (app-root-path), ``TS_NODE_PROJECT``
(ts-node running a script of node_modules), and ``NODE_PATH`` the app's directory (rootpath);
module-alias, node keeping node_modules' link path (``--preserve-symlinks``). A Node app
given a private database and no way out takes the self-signed certificate of the
preview's own servers (``NODE_TLS_REJECT_UNAUTHORIZED=0``). A Node app that tells a process
manager it is ready (``process.send("ready")``) is given a ``process.send`` where no
manager gave it one (``apps.written.managerready``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import posixpath
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from ..apps.alembicheads import alembic_sqlite_file, runs_alembic
from ..apps.asyncdb import (
    URL_VARIABLES,
    async_database,
    sync_driver_url,
    sync_url,
    tortoise_url,
)
from ..apps.configvars import (
    DATABASE,
    OWN_PORT,
    compose_database_names,
    compose_environment,
    compose_projects,
    database_option_variables,
    dotenv_text,
    fill_in,
    meaning,
    names_no_engine,
    own_defaults,
    read_variables,
    required_types,
    served_database,
    template_url,
)
from ..apps.depspec import PythonDeps, import_roots, python_dependencies
from ..apps.detect import Detection
from ..apps.imports import own_folder_names, source_roots
from ..apps.node.envreads import database_option_reads, node_env_reads, unset_for_strings
from ..apps.node.nodedeps import md4_bundler
from ..apps.spec import LaunchSpec
from ..apps.written.locales import build_locales, missing_locales
from ..apps.written.managerready import NODE_PRELOADS
from ..apps.written.ownname import OWN_NAMES_DIR
from ..discovery.node.tokens import JS_SUFFIXES
from ..sandbox.egress import proxy_environment
from ..sandbox.process import child_environment
from .configdefaults import (
    ABSOLUTE_SQLITE,
    named_env_values,
    sequelize_node_env,
    settings_misfits,
    settings_spellings,
)
from .typescript.tsnode import ts_node_compiler

__all__ = [
    "app_environment",
    "compose_database_values",
    "database_urls_by_meaning",
    "dotenv_file",
    "option_database_values",
    "with_async_driver",
    "with_redis_client",
    "with_setuptools",
    "with_step_tools",
]

# The app's own compiled locales (apps.written.locales), in its directory, which its sandbox sees.
_LOCALES = ".preview-locales"

_OURS = ("PORT", "HOST")
_PYVENV_VERSION = re.compile(r"^version(?:_info)?\s*=\s*(\d+\.\d+\.\d+)", re.MULTILINE)
_SERVER_NAME_DEFAULT = re.compile(
    rb"""(?:environ\.get|getenv)\(\s*["']SERVER_NAME["']\s*,\s*["'][\w.-]+(?::\d+)?["']"""
)


def _installed_modules(venv: Path) -> set[str]:
    """The top-level modules the environment at ``venv`` has, its dependencies' own too
    (celery, which django-celery-beat brings), by their normalised names."""
    names: set[str] = set()
    for site in venv.glob("lib/python*/site-packages"):
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in entries:  # a package's folder, module.py, module.cpython-….so
            stem = entry.split(".", 1)[0]
            if stem.isidentifier() and not entry.endswith((".dist-info", ".egg-info")):
                names.add(canonicalize_name(stem))
    return names


# The env files loaded where an app runs, each over the one before: Flask's CLI loads
# ``.flaskenv`` (its public settings, committed: FLASK_APP, FLASK_ENV) below ``.env`` (its
# private ones), and compose services of Flask apps name it as their ``env_file``.
# cj-lin's coding-exercise-flask sets DEBUG from its FLASK_ENV=development there: without
# it, Flask-RESTful answered 500 where Flask-JWT-Extended's handler says 401.
_LOADED_ENV_FILES = (".flaskenv", ".env")


def dotenv_file(files: dict[str, bytes], anchor: str = "") -> dict[str, str]:
    """The ``.env`` variables (those with a value) of the app whose entry file is
    ``anchor``: from the root's ``.env`` down to the one in ``anchor``'s directory, each
    over its folder's ``.flaskenv`` (:data:`_LOADED_ENV_FILES`)."""
    found: dict[str, str] = {}
    directory = posixpath.dirname(anchor) if anchor in files else ""
    chain = [directory]
    while directory:
        directory = posixpath.dirname(directory)
        chain.append(directory)
    for where in reversed(chain):
        for name in _LOADED_ENV_FILES:
            data = files.get(f"{where}/{name}" if where else name)
            if data is None:
                continue
            found.update({k: v for k, v in dotenv_text(data).items() if "\x00" not in k + v})
    return found


def _sqlite_file_kept(value: str, app_dir: Path) -> str | None:
    """The URL naming, in the app's directory, the SQLite file an env file of the app
    puts elsewhere by its absolute path; None where ``value`` is no such URL. In /tmp,
    its set-up steps' file is gone when it starts, each in a sandbox of its own with a
    /tmp of its own (sgmagar's DrfBootcamp: ``DATABASE_URL='sqlite:////tmp/my-tmp-
    sqlite.db'``, migrated, then "no such table: auth_user"); anywhere else, the folder
    is its author's machine's."""
    match = ABSOLUTE_SQLITE.match(value.strip())
    if match is None or value.strip().startswith(f"{match.group(1)}{app_dir}/"):
        return None
    return f"{match.group(1)}{app_dir / match.group(2)}{match.group(3) or ''}"


def app_environment(
    spec: LaunchSpec,
    python: str,
    *,
    app_dir: Path,
    database_env: dict[str, str],
    egress_open: bool,
    memory_limit_mb: int,
    defaults: dict[str, str] | None = None,
    database_certificate: bytes | None = None,
) -> dict[str, str]:
    """The variables the app (or a set-up step) of ``spec`` starts with, run by
    ``python`` in ``app_dir``: see the module doc. ``database_env``: its own PostgreSQL's
    variables (empty without one: ``backing.Backing.env``), each where the app sets none;
    ``egress_open``: its sandbox has a way out; ``defaults``: the configuration filled
    in below them all (``configdefaults``); ``database_certificate``: those its
    PostgreSQL and MariaDB serve TLS with (``backing.Backing.certificate``). Blocking (it parses the
    upload's modules, reads its build's files): called in a worker thread, never on the
    event loop (``preparation``)."""
    base = child_environment(cwd=app_dir, port=spec.port, python=python)
    database_url = base.pop("DATABASE_URL", None)
    anchor = spec.detection.detected_from if spec.detection is not None else ""
    # A value its .env leaves empty that the defaults fill (``JWT_SECRET=``, which
    # configdefaults reads as unset) is a form to fill in, not the app's own: its empty
    # value won, and sarikamahboob's Hono app died at start ("JWT auth middleware
    # requires options for "secret""; Bun reads .env below the environment). So is a
    # fill-in it leaves (``DIALECT=YOUR_DIALECT``) where the defaults give the value.
    filled = {name for name, value in (defaults or {}).items() if value}
    # The env file its start loads (``env-cmd -f ./environment/.env.local npm run
    # migration:run && … nest start``) is its environment for its set-up steps too, which
    # the service runs apart (vlad-borodaev's NestJS app: its sequelize-cli migration,
    # run without it, had no DB_DIALECT). Below its .env, as env-cmd's file is below it.
    loaded = {**named_env_values(spec.files, anchor), **dotenv_file(spec.files, anchor)}
    if "NODE_ENV" in loaded and (chosen := sequelize_node_env(spec.files, loaded["NODE_ENV"])):
        # Its file's NODE_ENV, which its Sequelize config names no environment of: its
        # server loaded the file only after its models had read the config.
        loaded["NODE_ENV"] = chosen
    dotenv = {k: v for k, v in loaded.items() if (v and not _fills_in(k, v)) or k not in filled}
    own = {**dotenv, **spec.extra}  # the user's, not filled in
    given = {**(defaults or {}), **own}
    ours = database_env.keys() | ({"DATABASE_URL"} if database_url is not None else set())
    for name in [n for n in given if n in ours and n not in spec.extra]:
        # Its author's container network, or a URL to fill in (``host:port``), or left
        # empty in its .env for its reader to fill in (BlackStarCodes' fastapi-jwt-auth-api
        # commits ``DATABASE_URL=``): ours instead.
        value = given[name]
        if (
            _private_address(value)
            or template_url(value)
            or fill_in(value)
            or not value.strip()
            or _mongodb_elsewhere(value)
            or _no_mongodb_url(value, database_env.get(name, ""))
        ):
            del given[name]
    env = {**base, **{k: v for k, v in given.items() if k not in _OURS}}
    env.update({k: base[k] for k in _OURS})
    for name, value in given.items():  # (its env files' and examples', not the user's)
        if name not in spec.extra and (kept := _sqlite_file_kept(value, app_dir)) is not None:
            env[name] = kept
    for name, value in database_env.items():
        env.setdefault(name, value)
    mapped = compose_database_values(spec.files, given, database_env, spec.detection)
    mapped.update(option_database_values(spec.files, database_env, spec.detection))
    env.update({k: v for k, v in mapped.items() if k not in own or k in _OURS})
    if "PORT" in mapped:  # the app's own server listens where it reads its port from
        env.update(dict.fromkeys(_own_port_names(spec.files), base["PORT"]))
    # Its own server's port left empty (``APP_PORT=`` of its .env.example, given as its
    # .env): the port it is served on (code-simple's typescript-expressJs-postgreSQL-
    # boilerplate: ``app.listen(process.env.APP_PORT)`` threw ERR_SOCKET_BAD_PORT on "").
    # Unset too, where it is the one such name (adrianmulyawan's express-contact-api:
    # ``app.listen(+process.env.APP_PORT)``, no example's value, listened on NaN); two
    # (an API's and an admin's) stay their own. So is one its files give no number but a
    # form to fill in (AliAzlanAziz's roplant-delivery-system-koa: ``SERVER_PORT=<port>``
    # of the config.env it loads, which Node took for a pipe's path: EADDRINUSE).
    own_ports = _own_port_names(spec.files)
    for name in own_ports:
        unset = name not in env and len(own_ports) == 1
        no_number = name in env and not env[name].strip().isdigit()
        if name not in spec.extra and (unset or no_number):
            env[name] = base["PORT"]
    if database_url is not None and "DATABASE_URL" not in given:
        if (migrated := alembic_sqlite_file(spec.files)) is not None:
            # The SQLite file its alembic.ini migrates: its tables are made there.
            database_url = f"sqlite:///{app_dir / migrated}"
        if spec.detection is not None and spec.detection.prisma_schema is not None:
            database_url = database_url.replace("sqlite:///", "file:", 1)  # Prisma's form
        elif _libsql_client(spec.files):
            # libSQL's client takes file: URLs only (tcchawla's hono-openapi: drizzle-kit
            # migrate "URL_SCHEME_NOT_SUPPORTED … got "sqlite:"", its client the same).
            database_url = database_url.replace("sqlite:///", "file:", 1)
        elif _lists(spec.files, _DRIZZLE_BETTER_SQLITE3):
            # Drizzle's better-sqlite3 driver runs on a Database the app opens by its
            # path (destocot's drizzle-express-rest-api: ``new Database(DATABASE_URL)``,
            # drizzle-kit's config the same url: "the directory does not exist").
            database_url = database_url.removeprefix("sqlite:///")  # sqlite:////abs: /abs
        env.setdefault("DATABASE_URL", database_url)
    if egress_open:
        # Its only way out (see sandbox.egress); the user's own proxy settings give way.
        env.update(proxy_environment())
    detection = spec.detection
    python_app = detection is not None and detection.language == "python"
    deps = python_dependencies(spec.files, anchor) if python_app else None
    if not {"AWS_REGION", "AWS_DEFAULT_REGION"} & env.keys() and _uses_an_aws_sdk(spec, deps):
        # The region its author's ~/.aws/config gives every client, which boto3 refuses to
        # make one without at import (adamsulemanji's fastapi-lambda-dynamodb:
        # ``boto3.resource("dynamodb")`` at its module's top, "NoRegionError: You must
        # specify a region"): one every SDK knows; nothing leaves a preview to reach it.
        env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = _AWS_REGION
    if deps is not None:
        # A form its author left to fill in (SMTP_PORT= in its compose env_file), which
        # its settings class refuses for the field's type: its default, or a throwaway.
        for name, stand_in in settings_misfits(spec.files, env, own).items():
            if stand_in is None:
                env.pop(name, None)
            else:
                env[name] = stand_in
        # One setting in two spellings (its example's ``port=``, the service's ``PORT``):
        # the one decided, whichever pydantic reads last.
        env.update(settings_spellings(spec.files, env, own))
        asyncdb = async_database(spec.files, deps)
        hosts = own_defaults(spec.files)
        for name in URL_VARIABLES:
            if name in env and name not in given:  # the service's URL, not the app's own
                url = env[name]
                if _BARE_HOST.match(hosts.get(name, "")) and (host := _url_host(url)):
                    # Read as a host by its default (victorgmrqs's simple-fastapi-jwt-auth:
                    # ``DB_URL = getenv('DB_URL', 'localhost')`` between the @ and the port
                    # of the URL it builds; given a URL, "invalid literal for int()").
                    env[name] = host
                    continue
                if asyncdb is not None and not asyncdb.migrations_only:
                    env[name] = asyncdb.url(url)
                else:
                    env[name] = sync_driver_url(url, deps.names())
        for name in URL_VARIABLES if "tortoise-orm" in deps.names() else ():
            # The app's own too, where it is SQLAlchemy's, which Tortoise reads no scheme
            # of (e-gulakhmet's FastAPIChat: its compose file's leftover
            # ``postgresql+asyncpg://``, "Unknown DB scheme" from its Tortoise and Aerich).
            if name in env and name not in spec.extra:  # (the user's own option stands)
                env[name] = tortoise_url(env[name])
        env.update(database_urls_by_meaning(spec.files, env, given, "python", deps.names()))
        venv = Path(python).parent.parent
        if "VIRTUAL_ENV" not in given and (venv / "pyvenv.cfg").is_file():
            # What activating it sets, which tools find the build by: uWSGI's
            # virtualenv=$(VIRTUAL_ENV) (Wagtail's bakerydemo: no Python home without it).
            env["VIRTUAL_ENV"] = str(venv)
        version = _python_version(venv) if "PYTHON_VERSION" not in given else None
        if version is not None:  # as the official python image sets it (its Dockerfile's)
            env["PYTHON_VERSION"] = version
        sources = (data for path, data in spec.files.items() if path.endswith(".py"))
        if "SERVER_NAME" not in spec.extra and (
            "SERVER_NAME" in given  # the upload's .env or its example: its author's host
            or any(_SERVER_NAME_DEFAULT.search(data) for data in sources)
        ):  # flask-bones: every route answered 404 (called as 127.0.0.1, bound to app.docker);
            # dev-rijan's flask-api-stater: SERVER_NAME='localhost:8000' in its .env.example
            env["SERVER_NAME"] = f"127.0.0.1:{spec.port}"
        roots = [str(app_dir / root) for root in import_roots(spec.files, deps.local)]
        installed = deps.names() | _installed_modules(venv)
        roots += [str(app_dir / r) for r in source_roots(spec.files, installed)]  # an IDE's
        if own_folder_names(spec.files):  # its own folder, imported by its name
            roots.append(str(app_dir / OWN_NAMES_DIR))
        if roots and "PYTHONPATH" not in given:  # the upload's local packages: not installed
            env["PYTHONPATH"] = os.pathsep.join(roots)
        locales = missing_locales(spec.files, env) if "LOCPATH" not in given else []
        if locales and build_locales(locales, app_dir / _LOCALES):
            # The locale it sets (TIME_LOCALE=ru_RU.utf8), which its image installs and
            # this machine lacks: compiled for it alone (apps.written.locales).
            env["LOCPATH"] = str(app_dir / _LOCALES)
    node = detection is not None and detection.language == "node"
    if node:
        env.update(database_urls_by_meaning(spec.files, env, given, "node"))
        # A number its zod schema takes no string for (``PORT: z.number().default(3333)``)
        # is met only unset: its default used, an app then listening elsewhere than
        # $PORT is found there (runtime.anyport). The user's own value stays (but PORT's,
        # HOST's: the service's, as above).
        for name in unset_for_strings(spec.files) - (own.keys() - set(_OURS)):
            env.pop(name, None)
    if node and "NODE_OPTIONS" not in given:
        # The address-space limit is lifted for V8 (Preparation.memory_limit): bound its heap.
        env["NODE_OPTIONS"] = f"--max-old-space-size={memory_limit_mb}"
        if _module_aliases(spec.files):
            # module-alias (``require('module-alias/register')``) reads its aliases from
            # the package.json two folders above its own real place, the built
            # environment's, and joins them to it ('@src' → <environment>/src): node
            # keeping the link's path, node_modules' parent is the app's directory (bonkx's
            # express-jwt-postgres: "Cannot find module '<environment>/src/routes/…'").
            env["NODE_OPTIONS"] += " --preserve-symlinks"
        if md4_bundler(spec.files) is not None:
            # webpack 4 (and what builds on it) hashes with MD4, which this Node's OpenSSL
            # 3 refuses at its build or its dev server's start (ERR_OSSL_EVP_UNSUPPORTED),
            # as the projects' own READMEs say: OpenSSL's legacy provider, for every step.
            env["NODE_OPTIONS"] += " --openssl-legacy-provider"
        # process.send("ready") for pm2's wait_ready, with no manager here (no IPC channel:
        # "process.send is not a function"); an HTTPS server of its own, which the proxy
        # and the readiness probe do not speak: apps.written.managerready.
        for wanted, name, text in NODE_PRELOADS:
            if wanted(spec.files):
                preload = app_dir / name
                if not preload.is_file() or preload.read_text() != text:
                    preload.write_text(text)
                env["NODE_OPTIONS"] += f' --require "{preload}"'
    if (
        node
        and database_env
        and not egress_open
        and "NODE_TLS_REJECT_UNAUTHORIZED" not in given
        and _asks_tls(spec.files)
    ):
        # An app asking its database for TLS (TypeORM's ``ssl: true``, pg's ``ssl: {}``)
        # checks the certificate, which the preview's own server signs itself: "Error:
        # self-signed certificate" (luisrodge's nestjs-api-demo). With no way out of the
        # sandbox, that server is the only TLS peer it reaches.
        env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0"
    if node and database_certificate and "NODE_EXTRA_CA_CERTS" not in given:
        # An app verifying its server's certificate whatever that variable says (pg's
        # ``ssl: { rejectUnauthorized: true, ca: process.env.DB_CA }`` for its hosted
        # database: jsdev4web's inventory-express-app, "Error: self-signed certificate")
        # trusts the preview's own, made for localhost and 127.0.0.1, where it is told to;
        # as does one verifying its MySQL's (the ``mysql`` package's ``ssl: { mode:
        # 'require' }``, verified unless told not to: https-carlos' express-biblioteca).
        certificate = app_dir / _DATABASE_CERTIFICATE
        if not certificate.is_file() or certificate.read_bytes() != database_certificate:
            certificate.write_bytes(database_certificate)
        env["NODE_EXTRA_CA_CERTS"] = str(certificate)
    if node and "APP_ROOT_PATH" not in given:
        # app-root-path (TypeORM 0.2 finds ormconfig.json with it) takes node_modules'
        # parent for the app's root: the built environment's, not the app's directory.
        env["APP_ROOT_PATH"] = str(app_dir)
    if node and "NODE_PATH" not in given:
        # rootpath (``require('rootpath')()``, then ``require('_helpers/db')``) puts the
        # parent of its own node_modules on NODE_PATH, before what is there: the built
        # environment's, not the app's directory (cornflourblue's node-mysql-crud-api:
        # "Cannot find module '_middleware/error-handler'"). Node reads NODE_PATH last,
        # after every node_modules, so the app's packages resolve as before.
        env["NODE_PATH"] = str(app_dir)
    if node and "TS_NODE_PROJECT" not in given:
        project = _ts_node_project(spec.files)
        if project is not None:
            env["TS_NODE_PROJECT"] = str(app_dir / project)
    if node and "TS_NODE_TRANSPILE_ONLY" not in given:
        # ts-node wherever the app runs it (its TypeORM CLI, a nodemon.json's exec, a
        # ``-r ts-node/register``), not only in the start the service rewrites: without its
        # type check, as a preview's TypeScript runs (the build's check, not each run's).
        # A type error, or an old TypeScript reading today's @types (Alexkalbitz's
        # myserverNestJS: TypeScript 3 on @types/express-serve-static-core, "TSError:
        # Unable to compile"), failed what ran under it.
        env["TS_NODE_TRANSPILE_ONLY"] = "true"
    if node and "TS_NODE_COMPILER" not in given:
        # ts-node's emit writes an enum type's decorator metadata as tsc does (see
        # builds.typescript.tsnode): an app whose ORM reads its .ts entities runs on it.
        compiler = ts_node_compiler(spec.files, app_dir)
        if compiler is not None:
            env["TS_NODE_COMPILER"] = str(compiler)
    return env


# A host's name alone (``localhost``, ``db``, ``127.0.0.1``): no scheme, port or path.
_BARE_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _url_host(url: str) -> str | None:
    """The host a database URL names, or None (a SQLite file's names none)."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def database_urls_by_meaning(
    files: dict[str, bytes],
    env: dict[str, str],
    given: dict[str, str],
    language: str,
    listed: set[str] | None = None,
) -> dict[str, str]:
    """The database URL the preview gives (``DATABASE_URL`` and its other names,
    :data:`URL_VARIABLES`, as the app's driver takes it) under the other names the app
    reads a database's URL from, by what they are (``configvars.meaning``: ``POSTGRES_DSN``,
    ``DATABASE_DSN``, a field typed ``PostgresDsn``), where nothing sets them: an engine's
    name (``POSTGRES_DSN``) only the URL of that engine. nikhilgupta345's
    fastapi-postgres-docker died on "POSTGRES_DSN field required" beside its PostgreSQL.
    A name for its sync clients (``DATABASE_URL_SYNC``) names the sync driver ``listed``
    (its distributions) installs (``asyncdb.sync_url``)."""
    if language == "node":
        required, read = node_env_reads(files)
        reads = {**dict.fromkeys(read, ""), **required}
    else:
        # Only those read with no default of the app's own: ``os.environ.get(
        # "DEV_DATABASE_URL") or "sqlite:///…"`` is its own file (miguelgrinberg's flasky,
        # given its PostgreSQL there, imported a psycopg2 its Python could not load).
        reads = required_types(files)
    sources = [n for n in URL_VARIABLES if env.get(n) and n not in given]
    sources += [n for n in URL_VARIABLES if env.get(n) and n in given]  # the app's own last
    served = served_database(env)
    if served is not None:
        # A server given by its parts (a MariaDB: DB_HOST …): the SQLite file DATABASE_URL
        # still names is not what a URL by meaning is (Time-Tracker's express-sequelize-api read
        # CLEARDB_DATABASE_URL, given that file: "The dialect sqlite is not supported").
        sources = [n for n in sources if not env[n].lower().startswith(("sqlite", "file:"))]
    urls = [env[n] for n in sources]
    if not urls and served is not None and language == "node":
        # A MariaDB given by its parts alone, none of them a URL: one made of them, for the
        # names the code reads a URL by (stealergood's vehicle-rental-express parses
        # Heroku's JAWSDB_URL: "Cannot read properties of undefined (reading 'match')").
        urls.append(served.url())
    found: dict[str, str] = {}
    read_names = {name.upper() for name in reads}
    # (a connection string's option over its name: ``connectionString: env.
    # DATABASE_CONNECTION``, a name that alone says an engine, as Laravel's DB_CONNECTION)
    options = database_option_reads(files) if language == "node" else {}
    for name, kind in reads.items():
        if options.get(name, "DATABASE_URL") != "DATABASE_URL":
            # Given to a client's option of another part, that part's whatever its name:
            # selmanjir's blog-with-express.js gives ``port: process.env.
            # MYSQL_CONNECTION_STRING``; a URL there was a socket's path to mysql2 (ENOENT).
            continue
        url = options.get(name) == "DATABASE_URL"
        what = meaning("DATABASE_URL") if url else meaning(name, kind)
        if what is None or what.kind != DATABASE or what.part != "url":
            continue
        # A form its example leaves to fill in (solnsumei's flask-rest-api-setup:
        # ``DATABASE_URI=<your development database here>``) names no database: ours.
        own = env.get(name) or given.get(name) or ""
        if own and not (template_url(own) or fill_in(own)):
            continue
        schemes = _ENGINE_SCHEMES.get(what.engine, ())
        url = next((u for u in urls if not schemes or u.lower().startswith(schemes)), None)
        if url is not None and language == "python" and _sqlite_file_name(files, name):
            # Its own code writes the SQLite URL around it: the file's path is wanted.
            url = next((env[n] for n in sources if env[n].startswith("sqlite:///")), None)
            if url is not None:
                found[name] = url.removeprefix("sqlite:///").split("?", 1)[0]
        elif url is not None:
            # Named for its sync clients (DATABASE_URL_SYNC), or the plain one of a pair
            # whose other is named for its async ones (Serious-Projects' fastapi-user-
            # events-api: SQLITE_DB_URL to create_engine, SQLITE_DB_URL_ASYNC beside it).
            sync = (
                name.upper().rsplit("_", 1)[-1] == "SYNC" or f"{name}_ASYNC".upper() in read_names
            )
            found[name] = sync_url(url, listed or set()) if sync else url
    return found


def _sqlite_file_name(files: dict[str, bytes], name: str) -> bool:
    """Whether the app's Python code puts the variable ``name`` into a SQLite URL it writes
    itself (zergcore's fastapi-movies-api: ``X = os.getenv('SQLALCHEMY_DATABASE_URL')``,
    then ``f"sqlite:///{os.path.join(base_dir, X)}"``; given the preview's URL there, its
    SQLite could not open "…/config/sqlite:////…"): its value is a file's name."""
    quoted = re.escape(name.encode())
    read = re.compile(
        rb"(\w+)\s*(?::[^=\n]+)?=\s*(?:os\.)?(?:getenv|environ\.get|environ\[)\s*\(?\s*[\"']"
        + quoted
        + rb"[\"']"
    )
    for path, data in files.items():
        if not path.endswith(".py") or b"sqlite" not in data or name.encode() not in data:
            continue
        for target in {m.group(1) for m in read.finditer(data)}:
            inside = rb"sqlite(?:\+\w+)?:///\{[^}\n]*\b" + re.escape(target) + rb"\b"
            if re.search(inside, data):
                return True
    return False


# The schemes of an engine's URLs (postgresql+asyncpg://, postgres://, mysql+pymysql://).
_ENGINE_SCHEMES = {"postgresql": ("postgres",), "mysql": ("mysql", "mariadb")}


def compose_database_values(
    files: dict[str, bytes],
    given: dict[str, str],
    database_env: dict[str, str],
    detection: Detection | None = None,
) -> dict[str, str]:
    """The names the app's compose service maps onto a database service the preview
    gives (``HOST: db``, ``PORT: 3306``, ``USER``, ``PASSWORD``, ``DATABASE`` beside it:
    ``configvars.compose_database_names``), with the values compose gives them there
    (the server makes those accounts and databases), but the host and port: the served
    one's. ``PORT`` among them only where the app's own server
    listens elsewhere than ``$PORT`` (:func:`_listens_elsewhere`). An Express app got the
    service's PORT as its MySQL's port."""
    projects = compose_projects(files)
    served = served_database(database_env)
    if not projects or served is None:
        return {}
    services = projects[0].services
    images = {n: str(s.get("image", "")) for n, s in services.items()}
    engines = {"mysql": _MYSQL_IMAGES, "postgresql": _POSTGRES_IMAGES}
    databases = {
        name.lower(): engine
        for name, image in images.items()
        for engine, pattern in engines.items()
        if pattern.match(image) and engine == served.engine
    }
    found: dict[str, str] = {}
    for name, service in services.items():
        if name.lower() in databases:
            continue
        environment = compose_environment(service, given)
        for variable, part in compose_database_names(environment, databases).items():
            # Where it is, the served one's (a compose network's name is the sandbox's
            # alone); who logs in to what, the compose file's (the server makes them).
            where = served.part(part) if part in ("host", "port") else None
            found[variable] = where or environment[variable]
    if "PORT" in found and not _listens_elsewhere(files, detection):
        del found["PORT"]  # it listens on $PORT: the service's
    return found


def option_database_values(
    files: dict[str, bytes], database_env: dict[str, str], detection: Detection | None
) -> dict[str, str]:
    """``HOST`` and ``PORT``, names the service sets for the app's own server, where the
    app's code gives them to its database client's settings instead
    (``configvars.database_option_variables``: Django's ``'PORT': os.environ['PORT']``,
    ``createConnection({host: process.env.HOST, …})``): the served database's, when the
    app's server listens elsewhere than ``$PORT`` (:func:`_listens_elsewhere`). Taz742's
    django-rest-api connected to its own gunicorn's port as its PostgreSQL."""
    served = served_database(database_env)
    if served is None:
        return {}
    options = {**database_option_variables(files), **database_option_reads(files)}
    found: dict[str, str] = {}
    for name in _OURS:
        what = meaning(options[name]) if name in options else None
        if what is not None and (value := served.part(what.part)) is not None:
            found[name] = value
    return found if found and _listens_elsewhere(files, detection) else {}


def _listens_elsewhere(files: dict[str, bytes], detection: Detection | None) -> bool:
    """Whether the app's own server listens elsewhere than ``$PORT``: on a port its start
    command gives it (``gunicorn --bind 127.0.0.1:{port}``, ``uvicorn --port {port}``),
    on a port of its own name (``APP_PORT``, given the service's), or on one written in
    its code (found where it listens, ``anyport``)."""
    argv = " ".join(detection.argv) if detection is not None else ""
    if "{port}" in argv and "$PORT" not in argv and "${PORT" not in argv:
        return True
    return bool(_own_port_names(files)) or any(
        _HARD_CODED_LISTEN.search(data) or (_HARD_CODED_PORT.search(data) and _SERVES.search(data))
        for path, data in files.items()
        if _SOURCE.search(path) and "node_modules/" not in path
    )


_MYSQL_IMAGES = re.compile(r"^(?:[\w.-]+/)*(?:mysql|mariadb|percona[\w-]*)(?::|@|$)")
_POSTGRES_IMAGES = re.compile(r"^(?:[\w.-]+/)*(?:postgres\w*|postgis/postgis)(?::|@|$)")
_SOURCE = re.compile(r"\.(?:[cm]?[jt]s|py)$")
# A server listening on a port written in its code: app.listen(3000), port=8000.
_HARD_CODED_LISTEN = re.compile(rb"\.listen\(\s*\d{2,5}\b")
# ``port = 8000`` is its server's in a module that starts one (``app.listen(port)``,
# ``uvicorn.run(…, port=port)``), not in another's (a Redis helper's ``const port = 6000``:
# alchemistphantom's RestFull-API-Job-Posting then got its MySQL's port as its own PORT).
_HARD_CODED_PORT = re.compile(rb"\bport\s*=\s*\d{2,5}\b", re.IGNORECASE)
_SERVES = re.compile(rb"\.listen\(|\brun\(|\bserve\(")


def _own_port_names(files: dict[str, bytes]) -> list[str]:
    """The variables the app reads its own server's port from, other than ``PORT``
    (``configvars.meaning``: ``APP_PORT``, ``SERVER_PORT`` …), and those its Node code
    hands ``listen`` (:func:`_listened_variables`), whatever their names say."""
    _required, read = node_env_reads(files)
    names = [*read, *sorted(read_variables(files))]
    meant = [n for n in names if (m := meaning(n)) is not None and m.kind == OWN_PORT]
    return list(dict.fromkeys([*meant, *_listened_variables(files)]))


# A Node server's ``listen`` given a variable's read, or a name bound to one in the module
# (``const PUERTO = process.env.PUERTO || 3000`` … ``app.listen(PUERTO, …)``).
_LISTEN_ARGUMENT = re.compile(
    rb"\.listen\(\s*(?:process\.env\.([A-Za-z_]\w*)|([A-Za-z_$][\w$]*)\s*[,)])"
)


def _listened_variables(files: dict[str, bytes]) -> list[str]:
    """The variables the app's Node code reads the port it listens on from, by their use
    (Luca0612-Simo's ServerExpress: ``app.listen(PUERTO)``, PUERTO's example a fill-in,
    ``<tu_valor_aqui>``, which Node took for a pipe's path: no answer on its port)."""
    found: list[str] = []
    for path, data in files.items():
        if not path.endswith(JS_SUFFIXES) or "node_modules/" in path or b".listen(" not in data:
            continue
        for variable, local in _LISTEN_ARGUMENT.findall(data):
            if variable:
                found.append(variable.decode())
                continue
            bound = re.search(
                rb"\b(?:const|let|var)\s+" + re.escape(local) + rb"\s*=\s*"
                rb"(?:Number\(|parseInt\(|\+)?\s*process\.env\.([A-Za-z_]\w*)",
                data,
            )
            if bound is not None:
                found.append(bound.group(1).decode())
    return [name for name in dict.fromkeys(found) if name != "PORT"]


def _python_version(venv: Path) -> str | None:
    """The version of a built environment's Python (``3.13.0``), from its ``pyvenv.cfg``
    (venv's ``version``, uv's ``version_info``): what the official python image sets as
    ``PYTHON_VERSION``, which apps read (docker-django-example's home page,
    ``os.environ["PYTHON_VERSION"]``: 500)."""
    try:
        text = (venv / "pyvenv.cfg").read_text(errors="replace")
    except OSError:
        return None
    found = _PYVENV_VERSION.search(text)
    return found.group(1) if found else None


_DATABASE_CERTIFICATE = ".preview-database-ca.pem"  # in the app's directory


def _fills_in(name: str, value: str) -> bool:
    """Whether its .env's ``value`` for ``name`` is a form to fill in: a fill-in
    (``your_db_host``), or an engine's value naming none (``DB_TYPE=sql``), where
    configdefaults gives the served database's engine."""
    return fill_in(value) or names_no_engine(meaning(name), value)


_MONGODB_ELSEWHERE = re.compile(
    r"^\s*mongodb\+srv://|^\s*mongodb://(?:[^@/\s]*@)?(?!localhost\b|127\.)[\w-]+\.[\w.-]+"
)


def _mongodb_elsewhere(value: str) -> bool:
    """Whether ``value`` is a MongoDB URL of a server on the internet (an Atlas cluster's
    ``mongodb+srv://``, a host with a domain), which no preview reaches: where the preview
    has a MongoDB of its own, the name is its server's (``backing.wanted``)."""
    return bool(_MONGODB_ELSEWHERE.match(value))


def _no_mongodb_url(value: str, ours: str) -> bool:
    """Whether ``value`` is no MongoDB URL where the service's for its name is one: a
    form its example leaves (haroldcastillo's SampleNestJS: ``MONGODB_URI=
    placeholder_mongodb_uri``, "Invalid scheme" from mongoose at start)."""
    return ours.startswith("mongodb://") and not value.strip().lower().startswith("mongodb")


def _private_address(value: str) -> bool:
    """Whether ``value`` (a host, or a URL) is an address of a private network that is not
    this machine's own (172.17.0.2, 10.0.0.5; not 127.0.0.1, not a name)."""
    host = value.strip()
    if "://" in host:
        try:
            host = urlsplit(host).hostname or ""
        except ValueError:
            return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private and not (address.is_loopback or address.is_unspecified)


# A client's TLS option in the app's own code (``ssl: true``, ``ssl: this.isProduction()``,
# Sequelize's ``dialectOptions: { ssl: … }``), or a URL's ``sslmode``/``ssl=true``.
_TLS_OPTION = re.compile(rb"""\bssl["']?\s*:|sslmode=|[?&]ssl=true""")


def _asks_tls(files: dict[str, bytes]) -> bool:
    """Whether a Node app's own files (not its dependencies') ask a database for TLS:
    only then is Node told to take a self-signed certificate (it warns of it at start)."""
    return any(
        _TLS_OPTION.search(data)
        for path, data in files.items()
        if (path.endswith((*JS_SUFFIXES, ".json")) or ".env" in posixpath.basename(path))
        and "node_modules/" not in path
        and len(data) < 1 << 20
    )


def _module_aliases(files: dict[str, bytes]) -> bool:
    """The app's package.json lists module-alias and gives it ``_moduleAliases``."""
    try:
        package = json.loads(files.get("package.json", b"null"))
    except (ValueError, RecursionError):
        return False
    if not isinstance(package, dict) or not isinstance(package.get("_moduleAliases"), dict):
        return False
    listed = [package.get(k) for k in ("dependencies", "devDependencies")]
    return bool(package["_moduleAliases"]) and any(
        isinstance(d, dict) and "module-alias" in d for d in listed
    )


def _ts_node_project(files: dict[str, bytes]) -> str | None:
    """The tsconfig.json ts-node would read for a script in the app's ``node_modules``
    had it the app's own: the one beside package.json, when it is the upload's only one.
    ts-node finds its tsconfig from the real directory of the script it runs, and
    node_modules is a link to the shared environment, where there is none: a TypeORM CLI
    run as ``ts-node ./node_modules/typeorm/cli.js`` (brocoders' nestjs-boilerplate)
    compiled the app's data source with ts-node's defaults (``module: node16``), whose
    ES-module output Node ran as one ("__dirname is not defined in ES module scope").
    With another tsconfig.json in a subfolder, the scripts there read theirs: not set."""
    if "tsconfig.json" not in files:
        return None
    others = (
        p
        for p in files
        if posixpath.basename(p) == "tsconfig.json"
        and p != "tsconfig.json"
        and "node_modules" not in p.split("/")
    )
    return None if next(others, None) is not None else "tsconfig.json"


async def with_async_driver(
    deps: PythonDeps,
    files: dict[str, bytes],
    env: dict[str, str],
    say: Callable[[str], Awaitable[None]],
) -> PythonDeps:
    """``deps`` with what an app on SQLAlchemy's asyncio extension needs and does not
    list (``apps.asyncdb``: the driver its database URLs name, greenlet), said in the log."""
    asyncdb = async_database(files, deps)
    if asyncdb is None or deps.lock is not None:
        return deps
    urls = [env[name] for name in URL_VARIABLES if name in env]
    if asyncdb.migrations_only:  # its Alembic steps are given the async driver's URLs
        urls = [asyncdb.url(url) for url in urls]
    missing = asyncdb.to_install(urls)
    if not missing:
        return deps
    schemes = sorted({url.partition("://")[0] + "://" for url in urls})
    user = "its Alembic env.py uses" if asyncdb.migrations_only else "the app uses"
    await say(
        f"{user} SQLAlchemy's asyncio extension ({asyncdb.where}), given "
        f"{' and '.join(schemes)} URLs: adding {', '.join(missing)} to its build (its "
        "dependencies do not list them)"
    )
    return replace(deps, requirements=(*deps.requirements, *missing))


async def with_redis_client(
    deps: PythonDeps,
    files: dict[str, bytes],
    env: dict[str, str],
    say: Callable[[str], Awaitable[None]],
) -> PythonDeps:
    """``deps`` with the Redis client that what the app uses imports and it does not
    list, said in the log: Celery's Redis transport (kombu's ``redis`` extra) where its
    broker is a Redis, the preview's (in place of its RabbitMQ: backing.wanted) or a
    ``redis://`` its own code sets; Django's own RedisCache backend. ravuritejaswi's
    DJANGORESTPROJECT sets ``CELERY_BROKER_URL = "redis://…"`` and that cache in its
    settings, and lists neither celery nor redis: with celery added, every route importing
    its tasks met kombu's "'NoneType' object has no attribute 'Redis'"."""
    names = deps.names()
    if names & _REDIS_CLIENTS or deps.lock is not None:
        return deps
    code = {p: d for p, d in files.items() if p.endswith(".py") and len(d) <= 512_000}
    brokers = [n for n, v in env.items() if "BROKER" in n.upper() and v.startswith("redis://")]
    celery = "celery" in names or any(_IMPORTS_CELERY.search(d) for d in code.values())
    in_code = (
        next((p for p, d in sorted(code.items()) if _REDIS_BROKER.search(d)), None)
        if celery and not brokers
        else None
    )
    if celery and (brokers or in_code):
        where = ", ".join(sorted(brokers)) if brokers else in_code
        await say(
            f"its Celery broker ({where}) is a Redis: adding kombu[redis], what Celery's "
            "Redis transport needs, to its build"
        )
        return replace(deps, requirements=(*deps.requirements, "kombu[redis]"))
    cache = next((p for p, d in sorted(code.items()) if _DJANGO_REDIS_CACHE in d), None)
    if cache is not None:
        await say(f"Django's RedisCache backend ({cache}) imports redis: adding it to its build")
        return replace(deps, requirements=(*deps.requirements, "redis"))
    return deps


# The Redis clients a dependency set may hold (those that bring ``redis`` with them too).
_REDIS_CLIENTS = frozenset({"redis", "django-redis", "channels-redis", "redis-py-cluster"})
_IMPORTS_CELERY = re.compile(rb"^[ \t]*(?:from|import)[ \t]+celery\b", re.MULTILINE)
# A broker URL its code sets (Django's ``CELERY_BROKER_URL = "redis://…"``, Celery's
# ``broker_url``, ``Celery(broker="redis://…")``).
_REDIS_BROKER = re.compile(rb"""(?i)broker(?:_url)?["']?\s*[=:]\s*[fr]?["']rediss?://""")
_DJANGO_REDIS_CACHE = b"django.core.cache.backends.redis.RedisCache"


async def with_step_tools(
    deps: PythonDeps,
    steps: list[tuple[tuple[str, ...], str]],
    say: Callable[[str], Awaitable[None]],
) -> PythonDeps:
    """``deps`` with Alembic where a set-up step the app is given runs its migrations with
    it (its alembic.ini and versions: ``apps.datainit``) and it lists neither Alembic nor
    Flask-Migrate, which brings it (iamshahboz's FastAPI-wallet keeps an Alembic history
    and lists no alembic: its step died on "No module named 'alembic'"), said in the log."""
    names = deps.names()
    if names & {"alembic", "flask-migrate"} or deps.lock is not None:
        return deps
    if not any(runs_alembic(step) for step, _ in steps):
        return deps
    await say(
        "its migrations are Alembic's, which its dependencies do not list: adding alembic"
        " to its build"
    )
    return replace(deps, requirements=(*deps.requirements, "alembic"))


# The last setuptools with pkg_resources (it left in 81): what a virtualenv had seeded.
SEEDED_SETUPTOOLS = "setuptools<81"


_SETUPTOOLS_LINE = re.compile(r"^\s*setuptools\s*(?:[<>=!~;\[]|$)", re.IGNORECASE)


async def with_setuptools(
    deps: PythonDeps, say: Callable[[str], Awaitable[None]], *, offline: bool = False
) -> PythonDeps:
    """``deps`` with setuptools, pkg_resources kept, where they name none and no lock
    fixes the set: the environment an app was made in had it (``python -m venv``, pip's
    and Poetry's virtualenvs seeded it before Python 3.12), and its releases of the time
    import pkg_resources (gunicorn before 21 at its start, drf-yasg, pandas' pickles),
    where an environment uv makes has nothing it was not asked for. Four apps of
    heldout17 each died once on "No module named 'pkg_resources'" and were built again
    with it (a failed start and a second install: 10-30 s), one only when a route ran.
    Not ``offline`` (no index, a wheelhouse only): a wheelhouse lacking it would fail
    every build, where only an app needing it would."""
    # (a constraint of its own holds it too: a whole machine's pip freeze, its other pins
    # constraints, setuptools==82.0.1 among them; xowwl226's DRFtodolist: "you require
    # setuptools<81 and setuptools==82.0.1")
    held = any(_SETUPTOOLS_LINE.match(line) for line in deps.constraints)
    if "setuptools" in deps.names() or held or deps.lock is not None or offline:
        return deps
    await say(
        f"adding {SEEDED_SETUPTOOLS} to its build, as the virtualenv it was made in had it "
        "(pkg_resources: its older packages import it)"
    )
    return replace(deps, requirements=(*deps.requirements, SEEDED_SETUPTOOLS))


_LIBSQL_CLIENTS = ("@libsql/client", "libsql")


_DRIZZLE_BETTER_SQLITE3 = ("drizzle-orm", "better-sqlite3")


def _libsql_client(files: dict[str, bytes]) -> bool:
    """Whether the app's package.json lists a libSQL client (and so opens its SQLite by
    a ``file:`` URL)."""
    return any(_lists(files, (client,)) for client in _LIBSQL_CLIENTS)


_AWS_REGION = "us-east-1"
_PYTHON_AWS_SDKS = frozenset({"boto3", "botocore", "aioboto3", "aiobotocore"})


def _uses_an_aws_sdk(spec: LaunchSpec, deps: PythonDeps | None) -> bool:
    """Whether the app lists an AWS SDK: boto3's family among a Python app's ``deps``,
    aws-sdk or an @aws-sdk/ client in a Node one's package.json."""
    if deps is not None:
        return bool(_PYTHON_AWS_SDKS & deps.names())
    if spec.detection is None or spec.detection.language != "node":
        return False
    listed = _listed_packages(spec.files)
    return "aws-sdk" in listed or any(n.startswith("@aws-sdk/") for n in listed)


def _lists(files: dict[str, bytes], names: tuple[str, ...]) -> bool:
    """Whether the app's package.json lists every one of ``names`` (its dependencies or
    devDependencies)."""
    return set(names) <= _listed_packages(files)


def _listed_packages(files: dict[str, bytes]) -> set[str]:
    """The packages the app's package.json lists (its dependencies, devDependencies)."""
    try:
        package = json.loads(files.get("package.json", b"{}"))
    except ValueError:
        return set()
    if not isinstance(package, dict):
        return set()
    tables = [package.get(key) for key in ("dependencies", "devDependencies")]
    return {n for t in tables if isinstance(t, dict) for n in t}
