"""The configuration an app only describes, filled in: :func:`config_defaults`.

Without a ``.env``, the nearest example of one, however spelt (``.env.example``,
``.env-example``, ``example.env``, ``.env.local.example`` …: one rule,
:func:`~preview.apps.configvars.example_rank`), stands in for it
(:func:`~preview.apps.configvars.example_env_file`), but for a
``DATABASE_URL`` naming a server, or left empty: the preview has its own database, given
as ``DATABASE_URL`` (any variable the service gives and the example leaves empty is the
service's); and a SQLite URL of an absolute path (the example's author's machine:
``sqlite:////path/to/code/app.db``) names its file in the app's directory instead.
Then each variable the app requires
(:func:`~preview.apps.configvars.required_variables`) that nobody set gets a throwaway
value where its name says what it is: a secret, key, token, password or salt a random
one, ``DEBUG`` on, a project's or app's name "Preview", an e-mail address
``preview@example.com``, another service's port its well-known one (``MAIL_PORT``
587, where the example leaves it empty), Django's ``ALLOWED_HOSTS`` ``*``, the app's own
host name (``APP_DOMAIN``; Flask's ``SERVER_NAME`` only where it is required) ``localhost`` and
its own address (``BASE_URL``, ``FRONTEND_URL``) ``http://localhost``, an identifier
another service issues (``GOOGLE_OAUTH2_CLIENT_ID``, ``PROJECT_ID``) a random
``preview-…`` one; a
variable read without a default (``os.environ.get("SECRET_KEY")``) or with ``""`` gets
one too, where its name says; a JWT's ``ALGORITHM`` ``HS256`` (the throwaway secret is a
symmetric key). What a variable the app reads *is* (:mod:`~preview.apps.configvars.meanings`)
gives it the value that matches what the service provides (:func:`_by_meaning`): a
database's part under any name (``SQL_HOST``, ``DB_PASS``) the served database's, its
engine (``DB_ENGINE``) the string the app's framework names that database by (SQLite's
where none is given), a host list read even with a default of its own (decouple's
``Csv()``) every host. The
others cannot be guessed: they are named (``missing``) so that a failure can say every
one at once. Computed once per launch, so that the set-up steps and the app see the
same values.

A configuration *file* the upload has only as an example (``src/config.ts.example``,
``ormconfig.json.example``, ``settings.py.sample``; ``.dist``, ``.template``) and not
itself, which its README asks to copy, is copied (:func:`example_copies`). A ``.env``
that a loader fails without (Starlette's ``Config(path)``, decouple's
``RepositoryEnv(path)``, django-dotenv's ``read_dotenv(directory)``, which opens the
directory itself when it holds no ``.env``), which its README asks to create, is written
empty (:func:`env_files_needed`): its variables come from the environment. An env file
the start names (``node --env-file=.env``, which exits 9 without it; ``dotenv -e``,
``env-cmd -f``), or one whose values the code reads from the file alone
(python-dotenv's ``dotenv_values(".env")``, :func:`env_files_read_only`), that the
upload lacks is written with what the service gives (:func:`start_env_files`,
:func:`env_file_text`): the example's values with its defaults. Gunicorn's own
settings file (its ``-c``, else the ``gunicorn.conf.py`` it reads unasked), written for
a server (``daemon = True``, logs under ``/var/log``), is read through one of ours that
then keeps it in the foreground with its logs on its output (:func:`gunicorn_settings`).
An INI file the code reads with ``configparser`` whose database keys are left empty, to be
filled in, is written with the served database's parts (:func:`ini_database_fills`).
"""

from __future__ import annotations

import ast
import base64
import configparser
import ipaddress
import json
import os
import posixpath
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..apps.asyncdb import async_database, sync_url
from ..apps.configvars import (
    CACHE_URL_READ,
    CRON_FIELD,
    DATABASE,
    DATABASE_URL_READ,
    EMAIL_URL_READ,
    HOSTS,
    OPTIONAL,
    OWN_PORT,
    SWITCH,
    Meaning,
    ServedDatabase,
    compared_values,
    config_selectors,
    database_option_variables,
    defaulted_reads,
    development_env_file,
    django_setting_reads,
    dotenv_text,
    engine_database,
    engine_value,
    example_env_file,
    fill_in,
    json_settings_fields,
    meaning,
    names_another_store,
    names_no_engine,
    other_env_files,
    own_defaults,
    prefixed_settings_fields,
    read_variables,
    required_types,
    router_prefix_defaults,
    served_database,
    server_url_engines,
    settings_field_types,
    template_url,
    typed_reads,
)
from ..apps.configvars.compose import (
    app_service_build_args,
    app_service_environment,
    interpolated,
)
from ..apps.configvars.readmeenv import readme_exports
from ..apps.depspec import python_dependencies
from ..apps.detect import lone_settings_module, manage_settings_module, settings_package_module
from ..apps.node.envreads import (
    IP_ADDRESS,
    cors_origin_reads,
    database_option_reads,
    described_variables,
    node_config_env,
    node_config_selectors,
    node_env_its_code_names,
    node_env_reads,
    node_fallback_reads,
    node_sources,
    orm_glob_reads,
    schema_choices,
    sqlite_file_reads,
    typeorm_unconfigured,
    unset_when_empty,
)
from ..apps.node.migrations import sequelize_environments
from ..apps.plans import dockerfile_facts
from ..apps.pyapp import parse_module, python_files
from ..apps.written import django_preview_settings
from ..apps.written.keyfiles import key_texts
from ..apps.written.logfiles import log_file_names
from ..apps.written.nodekeys import node_key_variables, node_path
from ..discovery.pyast import (
    bind_path,
    imported_files,
    last_name,
    main_blocks,
    uncommented,
    upload_path,
)

__all__ = [
    "ABSOLUTE_SQLITE",
    "GUNICORN_SHIM",
    "LAN_HOST_STAND_IN",
    "NAME_RULES",
    "STAND_IN",
    "ConfigDefaults",
    "NameRule",
    "config_defaults",
    "env_file_text",
    "env_files_needed",
    "env_files_read_only",
    "example_copies",
    "gunicorn_settings",
    "ini_database_fills",
    "lan_host_files",
    "lan_hosts_mended",
    "named_values",
    "node_dotenv_result_files",
    "node_env_named_files",
    "sequelize_node_env",
    "settings_misfits",
    "settings_spellings",
    "stand_in_value",
    "start_env_files",
    "throwaway_value",
]
GUNICORN_SHIM = ".preview-gunicorn.conf.py"
_GUNICORN_CONFIG = re.compile(r"(?<!\S)(?:-c|--config)(?:=|\s+)(\S+)")
_GUNICORN_WORD = re.compile(r"(?<![\w./-])gunicorn(?=\s)")
# Loaders that fail when the file they are given is missing: (the import that says the
# module is used, the callable's name).
_FILE_LOADERS = (
    (b"starlette.config", "Config"),
    (b"decouple", "RepositoryEnv"),
    (b"read_dotenv", "read_dotenv"),  # django-dotenv's, given the .env's directory
    # environs' Env.read_env(path): "Starting path not found" where its folder is missing
    # (soroushav's drf-ecommerce: BASE_DIR.joinpath('.env', 'local', '.env'), its env
    # imported from its base settings); django-environ's warns, and is given it too
    (b"read_env", "read_env"),
)
# Loaders that return a file's values without reading the environment (python-dotenv's).
_VALUE_LOADERS = ((b"dotenv_values", "dotenv_values"),)
_EXAMPLE_SUFFIXES = (".example", ".sample", ".dist", ".template")
# Suffixes a file's kept form takes, only as suffixes (``config/log.json.org``: you21979's
# node-koa-skeleton, whose app.js loads config/log.json: ENOENT before it listened);
# ``schema.org.json`` names no example.
_KEPT_SUFFIXES = (".default", ".tpl", ".org", ".orig")
# What a configuration file copied from its example may be (a .env is read, not copied).
_CONFIG_FILES = (
    ".ts",
    ".js",
    ".mjs",
    ".cjs",
    ".json",
    ".py",
    ".ini",
    ".cfg",
    ".toml",
    ".yml",
    ".yaml",
)
# A TypeScript declaration file's extension, two words: ``example.d.ts`` is a file named
# example, not an example of a ``d.ts`` (stringang's typescript-koa-starter declares its
# types in src/types/example.d.ts; a copy as d.ts declared each twice, TS2300).
_DECLARATION = re.compile(r"^d\.[cm]?ts$")
_NEVER_COPIED = {"package.json", "package-lock.json", "pyproject.toml", "tsconfig.json"}

# (BASIC_AUTH: another service's login in one value, sheraff0's SMS_AERO_BASIC_AUTH)
_SECRET = re.compile(
    r"SECRET|KEY|TOKEN|PASSWORD|PASSWD|PASS$|SALT|PEPPER|BASIC_AUTH$|_AUTH_HEADER$|CREDENTIALS?$"
)
# A number's unit, in its name: ACCESS_TOKEN_EXPIRE_MINUTES is a duration, not a token.
# ACCESS_EXPIRE_TIME too (kiyoshisama's fastapi-blog-sqlalchemy-v2: int(config(…))).
# Or a duration's word before a short unit (JWT_EXPIRES_MIN, jin-wk's fastapi-api: int()).
_DURATION = re.compile(
    r"(?:^|_)(?:SECONDS|MINUTES|HOURS|DAYS|TTL|EXPIRES?|EXPIRY|EXPIRATION|TIMEOUT|LIFETIME)"
    r"(?:_TIME|_(?:IN_)?(?:MINS?|SECS?|HRS?))?$"
)
# A password hash's cost (bcrypt's SALT_ROUNDS, HASH_ITERATIONS): a number, never the
# secret its SALT says (fausantosdev's ts-node-api: a token as SALT_ROUNDS, "must be a
# `number` type"); bcrypt's usual 10 where the app requires one.
# (one round's name too: haileyjpark's books-koa-backend reads SALT_ROUND)
_HASH_COST = re.compile(r"(?:^|_)(?:ROUNDS?|ITERATIONS?|WORK_FACTOR|COST)$")
# A JWT's signing algorithm: HS256 matches the throwaway secret given beside it. Its
# short forms too (khudoteplov's fastapi-delivery-project: a settings field ``algo: str``).
_ALGORITHM = re.compile(r"(?:^|_)(?:ALGORITHMS?|ALGO|ALG)$")
_NUMBER_TYPES = frozenset({"int", "float", "PositiveInt", "NonNegativeInt", "conint"})
# Another service's port, by the service its name says (MAIL_PORT: SMTP's submission
# port): the app connects there only when it uses that service, which a preview does
# not give (those it does give, it gives with their ports). The app's own PORT is not one.
_SERVICE_PORTS = tuple(
    (re.compile(rf"(?:^|_)(?:{names})_PORT$"), port)
    for names, port in (
        ("E?MAIL|SMTP", "587"),
        ("REDIS", "6379"),
        ("POSTGRES(?:QL)?|PG|DB|DATABASE", "5432"),
        ("MYSQL|MARIADB", "3306"),
        ("MONGO(?:DB)?", "27017"),
        ("RABBITMQ|AMQP|BROKER", "5672"),
        ("MEMCACHED?", "11211"),
        ("ELASTIC(?:SEARCH)?", "9200"),
    )
)
_PORT_NAME = re.compile(r"[A-Za-z0-9]_?PORT$", re.IGNORECASE)  # USER_PORT, bookPort
# A switch of another service's feature (USE_S3, ENABLE_SENTRY, REDIS_ENABLED).
_SWITCH = re.compile(r"^(?:USE|ENABLE)_\w+$|_ENABLED?$")
# An error tracker's project (Sentry's DSN): none, its errors stay in the preview's log.
# (DSN misspelt DNS too: mhavshyn's FastApi-pet requires ``SENTRY_DNS: str``.)
_ERROR_TRACKER = re.compile(r"(?:^|_)SENTRY_(?:DSN|DNS|URL)$|^(?:SENTRY_)?DSN$")
# on: a preview's schema made at start (DB_SYNC, TYPEORM_SYNCHRONIZE; @nestjs/sequelize's
# autoLoadModels, which synchronizes its models by default: theshortman's
# russian-lady-shop-nestjs reads SEQUELIZE_AUTO_LOAD_MODELS, 'relation "categories" does
# not exist' without it), and debugging
_ON = re.compile(r"(?:^|_)(?:DEBUG|SYNC|SYNCHRONI[SZ]E|AUTO_?LOAD_MODELS)$")
# FastAPI's own title and version; STACK_NAME, the full-stack FastAPI template's
# deployment's name (a required field of Anasothman55's FastAPI-Gym-api's settings).
_NAME = re.compile(r"^(?:PROJECT|APP|SITE|SERVICE|STACK)_?(?:NAME|TITLE|VERSION)$")
# A settings class's bare field (dev-hans-programmer's todo app's requires ``NAME: str``):
# the app's name, as no other thing's name is spelt bare there; an env read of it is not.
_BARE_NAME = re.compile(r"^(?:NAME|TITLE)$")
# An address: ADMIN_EMAIL, DEFAULT_FROM_EMAIL, and the sender's (fastapi-mail's MAIL_FROM,
# an EmailStr it refuses '' for), not its name (MAIL_FROM_NAME).
# The SMTP account's login too (Django's EMAIL_HOST_USER, read with no default by
# Valaraucoo's django-api-docker-aws-jwt): an address, which the app uses only to send.
_ADDRESS_NAMES = r"(?:^|_)E?MAIL$|_EMAIL_ADDRESS$|^(?:E?MAILS?|SMTP)_(?:FROM|SENDER)$"
_EMAIL = re.compile(
    _ADDRESS_NAMES + r"|^(?:E?MAIL|SMTP)(?:_HOST|_SERVER)?_(?:USER|USERNAME|LOGIN)$"
)
# Those that say an address, not an account's login (MAIL_USERNAME may be "apikey").
_ADDRESS = re.compile(_ADDRESS_NAMES)
# The app's own host or address (Flask's SERVER_NAME …), not another service's (SMTP_HOST).
# Never a host to bind (APP_HOST, HOST): "localhost" may be ::1, not where it is called.
# Its machine's address on its own network too (WIFI_DOMAIN: Anasothman55's FastAPI-Gym-api
# defaults it to its wireless interface's address, None where there is none, which its
# str field refuses).
_OWN_HOST = re.compile(
    r"^(?:SERVER_NAME|HOSTNAME|DOMAIN|(?:APP|SITE|SERVER|PUBLIC|WIFI|WLAN|LAN)_DOMAIN)$"
)
# Its client's address, whatever the last word (CLIENT_HOST, the CORS origin and cookie
# domain of minjman2659's Koa-rest-api, which throws MISSING_ENVAR without it): a page of
# the preview's own host.
# Its own API's (API_URL: the server address of charitraprajapati's DRF boilerplate's
# Swagger schema, read by decouple with no default; migrate died asking for it).
# Its words in any number (cseshahriar's drf-lms-backend: FRONTEND_SITE_URL, read by decouple
# with no default; migrate died asking for it).
_OWN_URL = re.compile(
    r"^(?:(?:APP|SITE|BASE|PUBLIC|SERVER|FRONTEND|CLIENT|API|BACKEND)_)+(?:URL|URI|ORIGIN)$"
    # where its files are served, from its own address (MEDIA_URL = MEDIA_BASE_URL + "/media/")
    r"|^(?:MEDIA|STATIC|ASSETS?|FILES?|UPLOADS?)_BASE_(?:URL|URI)$"
    r"|^(?:FRONTEND|CLIENT|FRONT_END|WEB_CLIENT)_(?:HOST|ADDRESS|DOMAIN)$"
)
# The origins Django's CSRF check trusts and django-cors-headers' allow, by their settings'
# names: each an origin with its scheme, which both check at start (Django 4.0's 4_0.E001,
# corsheaders.E013): "*" stopped saifullahtech's RUXBUX-DRF-Backend's migrate.
_SCHEMED_ORIGINS = re.compile(
    r"^(?:DJANGO_)?(?:CSRF_TRUSTED_ORIGINS|CORS_ALLOWED_ORIGINS|CORS_ORIGIN_WHITELIST)$"
)
# The origins its CORS policy allows (sudopwr's python-flask-mysql-demo hands
# ``os.getenv("APP_ORIGINS")`` to flask-cors, which fails every response on None): any.
_CORS_ORIGINS = re.compile(r"(?:^|_)ORIGINS$|^(?:CORS_(?:ALLOWED_)?|ALLOWED_)ORIGIN$")
# An identifier another service issued (an OAuth client's, a project's): any will do
# until the app calls that service, which then refuses it.
# (an SMS gateway's API_ID, a telephony account's ACCOUNT_SID: sheraff0's SMS_RU_API_ID;
# in either order or as one word: RuizFJ's API-RealState-With-NestJS hands
# GOOGLE_ID_CLIENT to passport-google-oauth20, "OAuth2Strategy requires a clientID")
_ISSUED_ID = re.compile(
    r"(?:^|_)(?:CLIENT|APP|PROJECT|API|ACCOUNT|SENDER)_?(?:ID|SID)$"
    r"|(?:^|_)ID_(?:CLIENT|APP|PROJECT)$|(?:^|_)CLOUD_NAME$"
)
# The time zone its settings read (Django's TIME_ZONE = ENV['TIME_ZONE']): UTC, which
# every zone database knows.
_TIME_ZONE = re.compile(r"(?:^|_)(?:TIME_?ZONE|TZ)$")
# The environment it runs in (jin-wk's fastapi-api puts config("APP_ENV") in its title):
# a preview is a development one. NODE_ENV is the build's to set.
_DEPLOYMENT_ENV = re.compile(
    r"^(?:(?:APP|FLASK|PYTHON|SERVER|API|DEPLOY(?:MENT)?)_)?ENV(?:IRONMENT)?$"
)
# A person's names and telephone number, of the account an app seeds at start
# (waruingugi's fastapi-ecommerce requires SUPERUSER_FIRST_NAME, _LAST_NAME, _PHONE: str).
_PERSON_NAME = re.compile(r"(?:^|_)(?:FIRST|LAST|FULL|SUR|GIVEN|FAMILY|DISPLAY)_?NAME$")
_PHONE = re.compile(r"(?:^|_)(?:PHONE|MOBILE|TELEPHONE)(?:_?(?:NUMBER|NO))?$")
# The login name of an account the app makes at start (AVIRENI-CHANDAN's flask-todo-mysql
# inserts ``User(username=os.environ.get("app_user"))``: "Column 'username' cannot be
# null"); a database's user is its served one (by meaning, before any rule).
_ACCOUNT_LOGIN = re.compile(
    r"^(?:APP|ADMIN|SUPER_?USER|ROOT|DEFAULT|INITIAL|FIRST_SUPERUSER|SEED|DEMO)_"
    r"(?:USER|USERNAME|USER_NAME|LOGIN)$"
)
# A cloud's region its SDK is built for at start (AWS's SES client in a NestJS module's
# constructor: "Region is missing", RahulBishnoi07's nestjs-sequelize-auth-boilerplate
# never listened): one every such SDK knows; nothing leaves a preview to reach it. Named
# as boto3's keyword names it too (toxa1818's flask-aws: REGION_NAME='YOUR REGION NAME'
# in its README, "Provided region_name … doesn't match a supported format").
_CLOUD_REGION = re.compile(
    r"(?:^|_)(?:AWS|S3|SES|SQS|SNS|COGNITO|BUCKET|CLOUD)_?REGION(?:_NAME)?$|^REGION(?:_NAME)?$"
)
# A storage bucket's name, which a cloud storage SDK refuses unset at start, before any
# call (nutkiattisak's express-upload-file: ``storage.bucket(process.env.GCP_BUCKET_NAME)``,
# "A bucket name is needed to use Cloud Storage."; Prasundas99's Node-Express-File-upload-
# APIs: multer-firebase-storage's "Bucket Name Required", its example's ``storageBucket``
# empty): a name, which gives no access; nothing leaves a preview to reach it.
_BUCKET = re.compile(r"(?:^|_|STORAGE)BUCKET(?:_?NAME)?$")
# The mail server it sends through (fastapi-mail's MAIL_SERVER, a required field of
# yanliu1111's fastapi-crud-app's settings) and the sender's display name: no mail leaves
# a preview (its egress), so a local server that refuses the connection does, as Django's
# console backend does (:func:`_unread_by_the_console`); the app starts and serves.
_MAIL_SERVER = re.compile(r"^(?:E?MAIL|SMTP)_(?:SERVER|HOST)$")
# A JWT's audience or issuer, read with "" for a default (unset): stepan-fedorovv's
# fastapi-user-service gives ``config("AUD", default="")`` to its JWT library's settings,
# which refuse an empty audience ("String should have at least 1 character") at start.
_JWT_CLAIM = re.compile(r"^(?:(?:JWT|TOKEN|AUTH|AUTHJWT)_)?(?:AUD|AUDIENCE|ISS|ISSUER)$")
# A message broker's host, where none runs here (RabbitMQ): its own machine's. A Celery
# app connects at its first task sent, not at start; rafawildfire42's
# python-fastapi-user-management requires RABBIT_MQ_HOST for its broker's URL and never
# started without it.
_BROKER_HOST = re.compile(r"^(?:RABBIT_?MQ|AMQP|BROKER)_(?:HOST|HOSTNAME|SERVER)$")
# Flask-Caching's backend (deaxparadox's task-flask-user-api reads CACHE_TYPE with no
# default into its config: None, "argument of type 'NoneType' is not iterable" at start):
# its in-process one, which needs no server.
_CACHE_TYPE = re.compile(r"^(?:FLASK_)?CACHE_TYPE$")
# (EMAILS_NAME, the same app's: the sender's name without FROM)
_SENDER_NAME = re.compile(r"^(?:E?MAILS?|SMTP)_(?:(?:FROM|SENDER)_)?NAME$")
# Whether its mail server is reached over TLS or SSL (the full-stack FastAPI template's
# SMTP_TLS and SMTP_SSL, required and typed str by Anasothman55's FastAPI-Gym-api): off,
# no mail leaving a preview; "false", which a bool cast reads as off (decouple refuses "").
# Django's EMAIL_USE_TLS is its own (:func:`_unread_by_the_console`).
_MAIL_SECURITY = re.compile(r"^(?!EMAIL_USE_)(?:E?MAILS?|SMTP)_(?:USE_)?(?:TLS|SSL|STARTTLS)$")
# A migration tool's bookkeeping table, its name read from the app's configuration with no
# default of the app's own: undefined, knex queried a table of no name ('select "name"
# order by "id"', RubenOAlvarado's todo-backend-express-knex: KNEX_MIGRATIONS_TABLE_NAME).
_MIGRATIONS_TABLE = re.compile(r"(?:^|_)MIGRATIONS?_TABLE(?:_?NAME)?$")
# A migration or seed tool's folder (the same app's KNEX_SEEDS_DIRECTORY): the tool's own
# default, the conventional folder's name (knex's ./migrations and ./seeds).
# The path its routes are mounted under (``app.use(config.api.prefix, router)`` with
# ``prefix: process.env.API_PREFIX``, required: julietezekwe's Node-Express-Postgres-Boilerplate
# threw "Environment variable API_PREFIX is missing"): an absolute path, as routers want.
# Where a framework serves its API's documentation (FastAPI's ``docs_url``, ``redoc_url``,
# ``openapi_url``): a path of its own, never an address (quangnh-ai's fastapi-assignment:
# ``FastAPI(docs_url=config.API_DOCS_URL)`` of a stand-in, "Routed paths must start with '/'").
_DOCS_PATH = re.compile(r"(?:^|_)(OPENAPI|DOCS|REDOC|SWAGGER)(?:_UI)?_(?:URL|PATH|ROUTE|ENDPOINT)$")
_DOCS_PATHS = {"OPENAPI": "/openapi.json", "REDOC": "/redoc", "DOCS": "/docs", "SWAGGER": "/docs"}


def _docs_path(upper: str, kind: str) -> str | None:
    found = _DOCS_PATH.search(upper)
    return _DOCS_PATHS[found.group(1)] if found else None


_ROUTE_PREFIX = re.compile(
    r"^(?:API|ROUTES?|URL|APP|ROUTER)_(?:PREFIX|BASE_?PATH|ROOT_PATH)$|^(?:API_)?BASE_PATH$"
)
_TOOL_FOLDER = re.compile(r"(?:^|_)(MIGRATIONS?|SEEDS?|SEEDERS?)_(?:DIR|DIRECTORY|FOLDER|PATH)$")
# A folder the app writes its logs or uploads into (rachmizard's typescript-express-dd:
# ``join(__dirname, LOG_DIR)`` threw "The 'path' argument must be of type string"): the
# conventional folder's name, relative, which the app makes (or its logger does).
_WRITTEN_FOLDER = re.compile(
    r"(?:^|_)(LOGS?|UPLOADS?)_?(?:DIR|DIRECTORY|FOLDER)$|^(LOGS|UPLOADS)_PATH$"
)
# A file the app keeps its data in (anggierz's movies-express: ``readJSON(process.env.
# MOVIES_FILE)``, its example's ``MOVIES_FILE=xxx``, the folder its LOGS_PATH=xxx had
# made: "EISDIR"): a file of its own name in the app's folder, which the app makes. Not a
# key's, a certificate's or a database's (their own rules, or none).
_DATA_FILE = re.compile(
    r"^(?!.*(?:KEY|CERT|CREDENTIAL|SECRET|TOKEN|ACCOUNT|PEM|SSL|TLS|ENV|CONFIG|SETTINGS))"
    r"([A-Z][A-Z0-9_]*?)_(?:FILE|FILE_?PATH|FILE_?NAME)$"
)
_DATABASE_WORD = re.compile(r"(?:^|_)(?:DB|DATABASE|SQLITE\d?|SQL)(?:_|$)")
# A version read into a route's path, as its segment after a slash (the same app's
# `/api/${process.env.API_VERSION}`: every route under /api/undefined otherwise). Not a
# prefix read whole (reinhud's FastAPI template: prefix=os.getenv("API_VERSION"), which
# FastAPI wants starting with a slash): left to the app.
_PATH_VERSION = re.compile(rb"/\$\{\s*process\.env\.(\w*VERSION)\s*\}")
_CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"
_MAIL_BACKEND = re.compile(r"EMAIL_BACKEND$")  # suwasghale's drf-api: env('EMAIL_BACKEND')
_CLOUDINARY_URL = re.compile(r"^CLOUDINARY_URL$")
_ALLOWED_HOSTS = re.compile(r"ALLOWED_HOSTS$")
# Django's settings of its SMTP backend (its host, its port, whether over TLS or SSL).
_SMTP_SETTING = re.compile(r"^EMAIL_(?:HOST|PORT|USE_TLS|USE_SSL)$")
_SERVER_URL = re.compile(r"^(?!sqlite)[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_AMQP = re.compile(r"^(?:py)?amqps?://", re.IGNORECASE)
# A SQLite URL of a file by its absolute path (``sqlite:////abs/dir/app.db``, sqlite+aiosqlite
# too): its scheme, its file's name, its query. ``appenv`` puts the file in the app's
# directory; an example's one on its author's machine is said here.
ABSOLUTE_SQLITE = re.compile(r"^(sqlite(?:\+\w+)?:///)/(?:[^/?]+/)*([^/?]+)(\?.*)?$")


@dataclass
class ConfigDefaults:
    example: str | None = None  # the example file used in place of a .env
    values: dict[str, str] = field(default_factory=dict)  # below the .env and env option
    generated: list[str] = field(default_factory=list)  # names given a throwaway value
    missing: list[str] = field(default_factory=list)  # required, unset, not guessable
    stand_ins: list[str] = field(default_factory=list)  # of those, given a stand-in value
    notes: list[str] = field(default_factory=list)  # what was done, for system events
    served: set[str] = field(default_factory=set)  # names given the served database's part
    # Every name its code reads, with what it is (configvars.required_types).
    reads: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NameRule:
    """A variable whose name (searched with ``pattern`` in its upper-case form), or the
    type its settings class declares (``kinds``), says what it is (``means``), and the
    throwaway value that fits it (``value``, given the upper-case name and the type;
    None: it is left unset, a default of its own applying)."""

    pattern: re.Pattern[str]
    means: str
    value: Callable[[str, str], str | None]
    kinds: Callable[[str], bool] = lambda kind: True


_ANY_NAME = re.compile("")
# A development environment's own env file (``.env.dev``), an example where it is the only
# one (``apps.configvars.example_rank``).
_BIND_ADDRESS = re.compile(
    r"^(?:SERVER|APP|APPLICATION|HTTP|WEB|LISTEN|BIND|NODE|EXPRESS|FASTIFY|KOA|HONO)_"
    r"(?:HOST|HOSTNAME|ADDRESS|ADDR|IP)$"
)


def _is_bool(kind: str) -> bool:
    return kind in ("bool", "StrictBool")


def _cloudinary_url(upper: str, kind: str) -> str:
    # Its SDK builds each image's URL from the cloud's name, here, without calling it
    # (Code Institute's drf-api template: every route serialising an image answered
    # 500, "Must supply cloud_name"); an upload to it is then refused.
    key, secret = secrets.randbelow(10**15), secrets.token_urlsafe(20)
    return f"cloudinary://{key}:{secret}@preview-{secrets.token_hex(4)}"


def _secret(upper: str, kind: str) -> str:
    return secrets.token_urlsafe(32)


# A credential whose issuer's SDK checks its shape as the client is made, at the app's
# start: the issuer's name and the credential's in the variable's name, and the shape
# (a prefix and a body of hex or letters). adjeim's express-video-api died on its
# throwaway TWILIO_ACCOUNT_SID: "accountSid must start with AC". An account SID is
# Twilio's word, with its prefix or without (RentCarAssits' RCA-API-NestJS reads
# ACCOUNTSID for ``require("twilio")(sid, token)``: "username is required" unset).
_SHAPED_CREDENTIALS = (
    (re.compile(r"TWILIO_(?:ACCOUNT_)?SID$|(?:^|_)ACCOUNT_?SID$"), "AC", "hex"),
    (re.compile(r"TWILIO_(?:API_)?KEY(?:_SID)?$"), "SK", "hex"),
    (re.compile(r"TWILIO_(?:AUTH_)?TOKEN$"), "", "hex"),
    (re.compile(r"STRIPE_(?:SECRET|API)(?:_KEY)?$|^STRIPE_KEY$"), "sk_test_", "letters"),
    (re.compile(r"STRIPE_(?:PUBLISHABLE|PUBLIC)(?:_KEY)?$"), "pk_test_", "letters"),
    (re.compile(r"STRIPE_(?:WEBHOOK|ENDPOINT)_SECRET$"), "whsec_", "letters"),
    (re.compile(r"SENDGRID_(?:API_)?KEY$"), "SG.", "letters"),
    (re.compile(r"OPENAI_(?:API_)?KEY$"), "sk-", "letters"),
    # A Telegram bot's token, "<bot id>:<35 letters>": aiogram's Bot() refuses any other
    # as it is made (defJustAProg's warehouse bot: "Token is invalid!").
    (re.compile(r"(?:^|_)(?:TG|TELEGRAM|BOT)(?:_BOT)?(?:_API)?_TOKEN$"), "7000000000:AA", "bot"),
)
_SHAPED_CREDENTIAL = re.compile("|".join(p.pattern for p, _, _ in _SHAPED_CREDENTIALS))


def _shaped_credential(upper: str, kind: str) -> str:
    for pattern, prefix, body in _SHAPED_CREDENTIALS:
        if pattern.search(upper):
            if body == "bot":
                return prefix + _letters(33)
            return prefix + (secrets.token_hex(16) if body == "hex" else _letters(32))
    return _secret(upper, kind)


# A private key read from a variable (a service account's: FIREBASE_PRIVATE_KEY, given to
# firebase-admin's cert() by AndrewHamiliDevelopment's food-ordering-api-nestjs; a JWT's
# RS256 signing key): a key in PEM, which its parser reads, where a random string met
# "Failed to parse private key" and the app never started. Made for each launch (openssl).
_PRIVATE_KEY = re.compile(r"(?:^|_)PRIVATE_?KEY$")


def _pem_private_key(upper: str, kind: str) -> str:
    made = key_texts({"private.pem": None}, {})  # (blocking: openssl, under a second)
    return made["private.pem"].decode() if made else _secret(upper, kind)


def _letters(count: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(count))


def _path_versions(files: dict[str, bytes]) -> set[str]:
    """The variables a Node app's own sources read into a route's path as a segment
    (:data:`_PATH_VERSION`)."""
    found: set[str] = set()
    for path, data in files.items():
        if path.endswith(_SCRIPT_SOURCES) and "node_modules/" not in path and len(data) < 1 << 20:
            found.update(m.decode() for m in _PATH_VERSION.findall(data))
    return found


def _migrations_table(upper: str, kind: str) -> str:
    return "knex_migrations" if "KNEX" in upper else "migrations"  # knex's own default


def _tool_folder(upper: str, kind: str) -> str | None:
    found = _TOOL_FOLDER.search(upper)
    word = found.group(1).lower() if found is not None else ""
    return f"./{word if word.endswith('s') else word + 's'}" if word else None


def _written_folder(upper: str, kind: str) -> str | None:
    found = _WRITTEN_FOLDER.search(upper)
    word = (found.group(1) or found.group(2)).lower() if found is not None else ""
    return (word if word.endswith("s") else word + "s") if word else None


def _data_file(upper: str, kind: str) -> str | None:
    found = _DATA_FILE.search(upper)
    if found is None or _DATABASE_WORD.search(found.group(1)):
        return None
    stem = found.group(1).lower().replace("_", "-")
    return "app.log" if stem in ("log", "logs") else f"{stem}.json"


def _own_host(upper: str, kind: str) -> str | None:
    # Flask's SERVER_NAME unset is Flask's own default (any host is served); set to
    # other than the Host it is called with, Flask before 3.1 answers 404 to every
    # call: given only where the app cannot start without it.
    return None if upper == "SERVER_NAME" and kind == OPTIONAL else "localhost"


# A variable not read as a number, by what its name (or type) says, the first rule that
# applies deciding; none: the value cannot be guessed (another service's host …).
NAME_RULES: tuple[NameRule, ...] = (
    NameRule(_ALGORITHM, "a JWT's signing algorithm", lambda upper, kind: "HS256"),
    # An IP address its schema asks for (UsgMathe's study-fastify-products-crud:
    # ``SERVER_HOST: z.string().ip()`` for ``app.listen({ host })``, a stand-in "Invalid
    # ip"): its own server's address to bind is every interface, as a container's app binds.
    NameRule(
        _ANY_NAME,
        "an IP address, by its schema (its own server's to bind: every interface)",
        lambda upper, kind: "0.0.0.0" if _BIND_ADDRESS.match(upper) else "127.0.0.1",
        kinds=lambda kind: kind == IP_ADDRESS,
    ),
    # Django's mail backend read without a default: its console backend, which sends
    # nothing (each mail is written to the app's output); the SMTP settings beside it
    # are then never read (:func:`_unread_by_the_console`).
    NameRule(
        _MAIL_BACKEND,
        "Django's mail backend",
        lambda upper, kind: _CONSOLE_MAIL,
        kinds=lambda kind: kind != OPTIONAL,
    ),
    NameRule(_CLOUDINARY_URL, "Cloudinary's account URL", _cloudinary_url),
    NameRule(
        _ANY_NAME,
        "an e-mail address, by its type",
        lambda upper, kind: "preview@example.com",
        kinds=lambda kind: "EmailStr" in kind,
    ),
    NameRule(
        _ANY_NAME,
        "a secret, by its type",
        _secret,
        kinds=lambda kind: "SecretStr" in kind or "SecretBytes" in kind,
    ),
    NameRule(_ON, "a switch a preview wants on (debug, schema made at start)", lambda u, k: "true"),
    # Another service's feature, off: "false" where it is typed, else empty, which
    # `if USE_S3:` reads as off (Valaraucoo's django-api-docker-aws-jwt: "false" is a
    # true string there, and S3 wanted its bucket).
    NameRule(
        _SWITCH,
        "a switch of another service's feature",
        lambda upper, kind: "false" if kind == "bool" else "",
        kinds=lambda kind: kind != OPTIONAL,
    ),
    NameRule(
        _ERROR_TRACKER,
        "an error tracker's project",
        lambda upper, kind: "",
        kinds=lambda kind: kind != OPTIONAL,  # read with a default: the app's own
    ),
    NameRule(_PRIVATE_KEY, "a private key, made for the preview (PEM)", _pem_private_key),
    NameRule(
        _SHAPED_CREDENTIAL, "a credential of the shape its issuer's SDK checks", _shaped_credential
    ),
    NameRule(_SECRET, "a secret, key, token, password or salt", _secret),
    NameRule(_ALLOWED_HOSTS, "the hosts a Django app serves", lambda upper, kind: "*"),
    NameRule(
        _NAME,
        "the project's or app's name or version",
        lambda upper, kind: "0.1.0" if upper.endswith("VERSION") else "Preview",
    ),
    NameRule(
        _BARE_NAME,
        "the app's name, a settings class's bare field",
        lambda upper, kind: "Preview",
        kinds=lambda kind: kind == "str",
    ),
    NameRule(_DOCS_PATH, "where its API's documentation is served (a path)", _docs_path),
    NameRule(_OWN_HOST, "the app's own host name", _own_host),
    NameRule(_OWN_URL, "the app's own address", lambda upper, kind: "http://localhost"),
    NameRule(
        _SCHEMED_ORIGINS,
        "the origins Django's CSRF check and django-cors-headers trust",
        lambda upper, kind: (
            '["http://localhost"]'
            if re.search(r"\b(?:list|List|set|Set)\b", kind)
            else "http://localhost"
        ),
    ),
    NameRule(
        _CORS_ORIGINS,
        "the origins its CORS policy allows",
        lambda upper, kind: '["*"]' if re.search(r"\b(?:list|List|set|Set)\b", kind) else "*",
    ),
    NameRule(
        _ROUTE_PREFIX,
        "the path its routes are mounted under",
        lambda upper, kind: "/api",
        kinds=lambda kind: kind != OPTIONAL,  # read with a default: the app's own
    ),
    NameRule(
        _ANY_NAME,
        "an address, by its type (SERVER_HOST: AnyHttpUrl, tiangolo's)",
        lambda upper, kind: "http://localhost",
        kinds=lambda kind: "HttpUrl" in kind,
    ),
    NameRule(
        _ISSUED_ID,
        "an identifier another service issues",
        lambda upper, kind: f"preview-{secrets.token_hex(8)}",
    ),
    NameRule(_EMAIL, "an e-mail address", lambda upper, kind: "preview@example.com"),
    NameRule(_TIME_ZONE, "a time zone", lambda upper, kind: "UTC"),
    NameRule(
        _DEPLOYMENT_ENV,
        "the environment it runs in",
        lambda upper, kind: "development",
        # Read with a default, the app's own; a Literal's choices are the app's too.
        kinds=lambda kind: kind != OPTIONAL and "Literal" not in kind,
    ),
    NameRule(_PERSON_NAME, "a person's name", lambda upper, kind: "Preview"),
    # A fictional number (555-01xx, the range kept for fiction), in E.164's form.
    NameRule(_PHONE, "a telephone number", lambda upper, kind: "+15555550100"),
    NameRule(_ACCOUNT_LOGIN, "an account's login name", lambda upper, kind: "preview"),
    NameRule(
        _CLOUD_REGION,
        "a cloud's region",
        lambda upper, kind: "us-east-1",
        kinds=lambda kind: kind != OPTIONAL,  # read with a default: the app's own
    ),
    # Read where unset is no failure of the app's own (a Node read): one the app requires
    # is a stand-in's, named as missing, a value its code compares it with first.
    NameRule(
        _BUCKET,
        "a storage bucket's name",
        lambda upper, kind: "preview-bucket",
        kinds=lambda kind: kind == OPTIONAL,
    ),
    NameRule(_MAIL_SERVER, "the mail server it sends through", lambda upper, kind: "localhost"),
    NameRule(_SENDER_NAME, "a mail sender's name", lambda upper, kind: "Preview"),
    NameRule(
        _MAIL_SECURITY,
        "its mail server's TLS or SSL switch",
        lambda upper, kind: "false",
        # a bool's is a flag's (below); read with a default, the app's own
        kinds=lambda kind: kind != OPTIONAL and not _is_bool(kind),
    ),
    NameRule(_JWT_CLAIM, "a JWT's audience or issuer", lambda upper, kind: "preview"),
    NameRule(_BROKER_HOST, "a message broker's host", lambda upper, kind: "localhost"),
    NameRule(_CACHE_TYPE, "Flask-Caching's backend", lambda upper, kind: "SimpleCache"),
    NameRule(_MIGRATIONS_TABLE, "a migration tool's table", _migrations_table),
    NameRule(_TOOL_FOLDER, "a migration or seed tool's folder", _tool_folder),
    NameRule(_WRITTEN_FOLDER, "a folder it writes logs or uploads into", _written_folder),
    NameRule(
        _DATA_FILE,
        "a file it keeps its data in",
        _data_file,
        kinds=lambda kind: kind != OPTIONAL,  # read with a default: the app's own
    ),
    # Last: a flag no name above says more of (fastapi-mail's MAIL_STARTTLS, MAIL_SSL_TLS
    # and VALIDATE_CERTS, required bools of morikeli's fastapi-sqlmodel's settings) off.
    NameRule(_ANY_NAME, "a flag, by its type", lambda upper, kind: "false", kinds=_is_bool),
)


def throwaway_value(name: str, kind: str = "") -> str | None:
    """A safe value for the variable ``name`` when its name (or ``kind``, the type its
    settings class declares) says what it is (:data:`NAME_RULES`); else None."""
    upper = name.upper()
    if (choice := _literal_choice(kind)) is not None:
        return choice
    if kind == CRON_FIELD:
        return "*"  # a schedule's field, whatever its name says (…_EMAIL): every one
    if upper.endswith("PORT") and kind != OPTIONAL:
        # Another service's port, however typed (EMAIL_PORT: str); the app's own is the
        # service's to give.
        return next((port for pattern, port in _SERVICE_PORTS if pattern.search(upper)), None)
    if _HASH_COST.search(upper) and not _is_bool(kind):
        return None if kind == OPTIONAL else "10"  # (an optional one has a default)
    if kind in _NUMBER_TYPES or (_DURATION.search(upper) and not _is_bool(kind)):
        # Read as a number: never a secret (JWT_IGNORE_EXPIRATION, a bool, is no duration).
        if kind == OPTIONAL:
            return None  # an optional one has a default
        return "60" if _DURATION.search(upper) else "1"
    for rule in NAME_RULES:
        if rule.kinds(kind) and rule.pattern.search(upper):
            # A switch is a switch whatever its name says (no secret, no address).
            if _is_bool(kind) and rule.pattern not in (_ON, _SWITCH, _ANY_NAME):
                continue
            return rule.value(upper, kind)
    return None


def _literal_choice(kind: str) -> str | None:
    """A value among the choices of a field typed ``Literal[...]``: the one saying
    development, else the first. alonovg's FastAPI-CRM requires ``MODE: Literal["DEV",
    "TEST", "PROD"]``, left empty by its example (".env-example: MODE="): refused."""
    if not kind.startswith("Literal[") or not kind.endswith("]"):
        return None
    try:
        choices = ast.literal_eval(f"({kind[len('Literal[') : -1]},)")
    except (ValueError, SyntaxError, RecursionError):
        return None
    words = [str(c) for c in choices if isinstance(c, str | int) and not isinstance(c, bool)]
    developing = [w for w in words if w.lower() in ("dev", "development", "local")]
    return (developing or words or [None])[0]


# A logger's level, read by a Node app with no default: pino's createLogger({ level })
# throws "default level:undefined must be included in custom levels" (srikrishna180's
# fastify-postgres-api: PINO_LOG_LEVEL), where any level it knows would do.
_LOG_LEVEL = re.compile(r"(?:^|_)LOG(?:GER|GING)?_LEVEL$")


def _node(anchor: str) -> bool:
    """Whether the app detected from ``anchor`` is a Node app (its package.json)."""
    return posixpath.basename(anchor) == "package.json"


def _unread_by_the_console(found: ConfigDefaults) -> None:
    """Django's SMTP settings (``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_USE_TLS`` …) the
    app requires and nothing sets, where its ``EMAIL_BACKEND`` is the console one the
    service gave: that backend never reads them, so any value does (another service's
    host is no guess elsewhere)."""
    if found.values.get("EMAIL_BACKEND") != _CONSOLE_MAIL:
        return
    for name in [n for n in found.missing if _SMTP_SETTING.match(n.upper())]:
        upper = name.upper()
        found.values[name] = "localhost" if upper.endswith("HOST") else ""
        if upper.endswith("PORT"):
            found.values[name] = "587"
        found.missing.remove(name)
        found.generated.append(name)


def _deployed(name: str, value: str, files: dict[str, bytes]) -> bool:
    """An example's value that names where its author deploys, not the preview: its
    hosts (``ALLOWED_HOSTS=example.com``: 400 to every call), its cookie domain, its error
    tracker's project (podrivnick's boilerplate-django-ninja: ``SENTRY_DSN='https://dsn'``,
    ``sentry_sdk.init`` refusing it at start: "BadDsn"), or a
    ``DJANGO_SETTINGS_MODULE`` the upload does not have (``core.settings.prod``, when
    manage.py's own default, ``.local``, is there)."""
    upper = name.upper()
    if upper.endswith(("ALLOWED_HOSTS", "COOKIE_DOMAIN")):
        return value.strip() not in ("", "*")
    if _ERROR_TRACKER.search(upper):  # its project ('https://dsn': Sentry's "BadDsn")
        return bool(value.strip())
    if upper == "DJANGO_SETTINGS_MODULE":
        module = value.strip().replace(".", "/")
        return not any(p.endswith((f"{module}.py", f"{module}/__init__.py")) for p in files)
    return False


def _app_json_env(files: dict[str, bytes]) -> dict[str, str]:
    """What Heroku's ``app.json`` sets (``"env": {"X": {"value": "y"}}`` or ``"X":
    "y"``); a ``"generator": "secret"`` a throwaway secret."""
    try:
        env = json.loads(files.get("app.json", b"{}")).get("env")
    except (ValueError, AttributeError, RecursionError):
        return {}
    found: dict[str, str] = {}
    for name, entry in env.items() if isinstance(env, dict) else ():
        if isinstance(entry, dict) and entry.get("generator") == "secret":
            found[name] = secrets.token_urlsafe(32)
        value = entry.get("value") if isinstance(entry, dict) else entry
        upper = name.upper()
        deployed = (
            upper.endswith("ALLOWED_HOSTS") or _OWN_HOST.match(upper) or _OWN_URL.match(upper)
        )
        if isinstance(value, str) and not deployed:  # its Heroku host is not the preview's
            found.setdefault(name, value)
    return found


def _parsed(data: bytes) -> dict[str, str]:
    return {k: v for k, v in dotenv_text(data).items() if "\x00" not in k + v}


# What every preview is given unless the app's files say otherwise (sandbox.process).
_SERVICE_SETS = {"NODE_ENV": "development"}
_DEVELOPMENT = re.compile(r"^(?:dev|develop|development|local)$", re.IGNORECASE)


def _within_choices(found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str]) -> None:
    """A variable the schema the app checks its environment with lists the values of
    (``DB_SYNC: Joi.number().valid(0, 1).required()``: :func:`.envreads.schema_choices`)
    that its example gives another (``DB_SYNC=0_or_1_for_true_or_false``, kirilldevm's
    nestjs-postgres-tasks-api: "Config validation error"), or that it requires and nobody
    sets, gets the first it lists; one the app's own .env or the launch gives is kept.
    The service's own ``NODE_ENV=development`` likewise, where the schema lists other
    names (mateuschaves's weather-fastify: ``z.enum(['dev', 'test', 'production'])``,
    "Invalid environment variables"): the first that names development, else the first."""
    for name, choices in schema_choices(files).items():
        value = found.values.get(name, _SERVICE_SETS.get(name))
        if name in given or (value is None and name not in found.missing) or value in choices:
            continue
        found.values[name] = next((c for c in choices if _DEVELOPMENT.match(c)), choices[0])
        if name in found.missing:
            found.missing.remove(name)
        said = f"its example's {value!r}" if value is not None else "nothing"
        found.notes.append(
            f"{name}: {said} is none of the values its schema allows ({', '.join(choices)}): "
            f"{choices[0]}"
        )


def _node_env_its_code_names(
    found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str]
) -> None:
    """The NODE_ENV the app's own code asks for in place of the service's development
    one, where that serves or loads nothing (:func:`.envreads.node_env_its_code_names`);
    not where the app's .env, its example or the launch gives one."""
    if "NODE_ENV" in given:
        return
    if "NODE_ENV" in found.values:
        _node_env_its_config_names(found, files)
        return
    if (named := node_env_its_code_names(files)) is not None:
        found.values["NODE_ENV"] = named[0]
        found.notes.append(f"NODE_ENV={named[0]}: {named[1]}")


def sequelize_node_env(files: dict[str, bytes], value: str) -> str | None:
    """The environment of sequelize-cli's config (:func:`.node.migrations.
    sequelize_environments`) to run with in place of the NODE_ENV ``value`` the app's files
    give, where its config names no such one: the one it names so in another case, else
    its development one; None where ``value`` is one, or there is no such config or
    development environment. stephyswe's expressSequelizeMysqlJoiApi sets ``NODE_ENV =
    DEVELOPMENT`` in the file its server loads after its models read
    ``config.json[NODE_ENV]``: given at start, the CLI said "Dialect needs to be explicitly
    supplied", its models "Cannot read properties of undefined (reading
    'use_env_variable')"."""
    named = sequelize_environments(files)
    if not named or value in named:
        return None
    same = [n for n in named if n.lower() == value.strip().lower()]
    return same[0] if same else next((n for n in named if _DEVELOPMENT.match(n)), None)


def _node_env_its_config_names(found: ConfigDefaults, files: dict[str, bytes]) -> None:
    """Its example's NODE_ENV, where sequelize-cli's config names no such environment: the
    one it names (:func:`sequelize_node_env`)."""
    value = found.values["NODE_ENV"]
    if (chosen := sequelize_node_env(files, value)) is None:
        return
    found.values["NODE_ENV"] = chosen
    named = ", ".join(sequelize_environments(files))
    found.notes.append(
        f"NODE_ENV={chosen}: its example's {value!r} is no environment of its Sequelize "
        f"config ({named})"
    )


def _among_compared(found: ConfigDefaults, files: dict[str, bytes]) -> None:
    """A throwaway value by its name (``ENV=development``) for a variable the app's Python
    code compares with values of its own (``assert ENV in ("local", "test", "prod")``:
    xeavveed's fastapi-seminar-assignment6, an AssertionError at import) is one of those:
    the one naming development, else the first."""
    generated = [n for n in found.generated if n in found.values]
    compared = compared_values(files) if generated else {}
    for name in generated:
        choices = compared.get(name) or compared.get(name.upper()) or []
        if choices and found.values[name] not in choices:
            found.values[name] = next((c for c in choices if _DEVELOPMENT.match(c)), choices[0])


def config_defaults(
    files: dict[str, bytes],
    anchor: str,
    given: dict[str, str],
    provided: Mapping[str, str] | set[str],
) -> ConfigDefaults:
    """For the app detected from ``anchor``: ``given`` are the variables its ``.env``
    files and the ``env`` option set, ``provided`` what the service sets itself
    (``DATABASE_URL``, ``PORT`` …: the names, or with their values, which say the
    database it gives: :func:`_by_meaning`)."""
    # What an env file its scripts' start names sets (``--env-file=.env.production``, an
    # upload's own file) is the app's, as its .env's is: never filled in by meaning.
    named = named_env_values(files, anchor)
    given = {**named, **given}
    database = served_database(provided) if isinstance(provided, Mapping) else None
    if database is None and isinstance(provided, Mapping):
        # Its .env gives the generic names the service's own values (DB_HOST=localhost,
        # DB_PORT=3306: the app's, left out of ``provided``): the one server the service
        # names by its engine's own is the served database still (kinothUI's
        # calendar-api-fastify: DB_DB and USERNAME, empty there, were not filled, and its
        # migrations met "No database selected").
        own = [d for e in ("mysql", "postgresql") if (d := engine_database(provided, e))]
        database = own[0] if len(own) == 1 else None
    url = provided.get("DATABASE_URL") if isinstance(provided, Mapping) else None
    offered = dict(provided) if isinstance(provided, Mapping) else {}
    provided = set(provided)
    example = example_env_file(files, anchor)
    if named and example is not None and development_env_file(example):
        example = None  # its start names the env files it runs with: those, not this one
    found = ConfigDefaults(example=example)
    defaulted = defaulted_reads(files)  # (read with a default of the code's own)
    node_options = database_option_reads(files)  # (what its Node clients' options read)
    if found.example is not None:
        values = _parsed(files[found.example])
        url = values.get("DATABASE_URL", "")
        # A PostgreSQL URL is kept where the preview is given its PostgreSQL (backing:
        # PGHOST among what the service sets), which answers it under those names.
        served = url.startswith("postgres") and "PGHOST" in provided
        if "DATABASE_URL" in provided and _SERVER_URL.match(url) and not served:
            del values["DATABASE_URL"]
            scheme = url.split("://", 1)[0]
            found.notes.append(
                f"its DATABASE_URL names a {scheme} server: the preview's own database is "
                "given as DATABASE_URL instead"
            )
        elif "DATABASE_URL" in provided and _DRIVERLESS.match(url) and _is_async(files, anchor):
            # iceyisaak's fastapi-crud-db-auth: its README's sqlite:///./app.db, on an
            # AsyncEngine ("The loaded 'pysqlite' is not async"); the service's own URL names
            # the async driver it installs (apps.asyncdb).
            del values["DATABASE_URL"]
            found.notes.append(
                f"its DATABASE_URL ({url.split('://', 1)[0]}://) names no async driver, which "
                "the app's SQLAlchemy asyncio extension refuses: the preview's own database "
                "is given as DATABASE_URL instead, with one"
            )
        # Its other names of a database's URL (DEVELOPMENT_DATABASE_URL of
        # pabloluceroschneider's flask-sqlite-api, its config's per deployment) naming a
        # server likewise: the preview's own database is given there by meaning
        # (``appenv.database_urls_by_meaning``), as DATABASE_URL is.
        if "DATABASE_URL" in provided:
            others = [n for n, v in values.items() if _names_a_server(n, v, provided)]
            for name in others:
                del values[name]
            if others:
                found.notes.append(
                    f"its {', '.join(others)} name a database server: the preview's own "
                    "database is given there instead"
                )
        # A RabbitMQ broker's URL (amqp://guest:guest@rabbitmq:5672//) under a name the
        # service gives (its Redis, which Celery takes as a broker: backing.wanted), where
        # nothing runs RabbitMQ: the service's (PaskarRules' drf-orders-platform's example
        # kept its broker's unknown host, and its /api/health/ answered 503).
        brokers = [n for n, v in values.items() if n in provided and _AMQP.match(v.strip())]
        for name in brokers:
            del values[name]
        if brokers:
            found.notes.append(
                f"its {', '.join(brokers)} name a RabbitMQ server, which none here runs: "
                "the preview's Redis is given there instead"
            )
        # SQLite named as the engine where the code writes its URL as a server's, with an
        # account and a host (``f"{engine}://{user}:{password}@{host}/{name}"``), which no
        # SQLite URL is (luantien's fastapi-tour: DB_ENGINE=sqlite, DB_NAME=sample.db made
        # "Invalid SQLite URL: sqlite://:@/sample.db"): the served database's engine (by
        # meaning, below), and the SQLite file named as its database's name with it.
        if database is not None:
            engines = server_url_engines(files) & values.keys()
            sqlite = [n for n in engines if values[n].strip().lower().startswith("sqlite")]
            sqlite += [n for n, v in values.items() if sqlite and _sqlite_file_name(n, v)]
            for name in sqlite:
                del values[name]
            if sqlite:
                found.notes.append(
                    f"{', '.join(sqlite)}: SQLite's in {found.example}, where the code writes "
                    f"its database's URL with an account and a host: the preview's "
                    f"{database.engine}'s instead"
                )
        # A placeholder of what the service gives (empty, a template URL): the service's.
        blank = [n for n, v in values.items() if template_url(v) or _unfilled(n, v, node_options)]
        for name in [n for n in blank if n in provided]:
            del values[name]
        # A database's URL that is a word (DB_URI=database_url) under a name the service
        # does not set: unset too, as if the example left it out (the app's own default,
        # or the preview's database by meaning: appenv.database_urls_by_meaning).
        words = [n for n in blank if n in values and _url_word(n, values[n], node_options)]
        for name in words:
            del values[name]
        if words:
            found.notes.append(
                f"{', '.join(words)}: a word in {found.example} where a database's URL "
                "belongs, unset"
            )
        described = [n for n, v in values.items() if _described(n, v)]
        for name in described:
            del values[name]
        if described:
            found.notes.append(
                f"{', '.join(described)}: a description in {found.example} where an address "
                "belongs, unset"
            )
        # Left empty where the app's own schema refuses "" (Joi's) or has a default. A
        # fill-in that no throwaway value stands in for is as empty (PsydoV2's
        # TypescriptExpressTemplate: HTTPPORT=_PLACEHOLDER_, beside its zod schema's
        # ``.default(9080)``, "expected number, received NaN").
        empty = {
            n
            for n, v in values.items()
            if not v.strip() or (fill_in(v) and throwaway_value(n) is None)
        }
        unset = sorted(unset_when_empty(files) & empty)
        for name in unset:
            del values[name]
        if unset:
            found.notes.append(
                f"{', '.join(unset)}: empty or a fill-in in {found.example}, unset: the "
                "schema the app checks its environment with refuses an empty value, or has its "
                "own default"
            )
        # Empty where the Python code reads it with a default of its own: that default (a
        # password's "" says none: kept).
        blanks = sorted(n for n in empty & defaulted - set(unset) if "PASS" not in n.upper())
        for name in blanks:
            del values[name]
        if blanks:
            found.notes.append(
                f"{', '.join(blanks)}: empty or a fill-in in {found.example}, unset: "
                "the code reads each with a default of its own"
            )
        for name in [n for n in values if _deployed(n, values[n], files)]:
            found.notes.append(f"its {name} names its deployment ({values.pop(name)}): unset")
        for name, value in values.items():
            if ABSOLUTE_SQLITE.match(value):  # its author's machine's, or a /tmp of its own
                found.notes.append(
                    f"its {name} names a SQLite file by its absolute path ({value}): the "
                    "file of that name in the app's directory instead"
                )
        found.values = values
        found.notes.insert(0, f"no .env: using {found.example} ({len(values)} variables)")
    taken = given.keys() | found.values.keys() | provided
    heroku = {k: v for k, v in _app_json_env(files).items() if k not in taken}
    if heroku:  # its deployment's settings (django-vue-template's DJANGO_SETTINGS_MODULE)
        found.values.update(heroku)
        found.notes.append(f"app.json: {', '.join(sorted(heroku))} as its env gives them")
    # What its README's run commands export (export PROJECT_CONFIG=development), where its
    # code reads it: the configuration its author runs it with.
    taken |= heroku.keys()
    exported = {k: v for k, v in readme_exports(files).items() if k not in taken and v}
    exported = {k: v for k, v in exported.items() if k in read_variables(files)}
    if exported:
        found.values.update(exported)
        found.notes.append(f"README: {', '.join(sorted(exported))} as its commands export them")
    taken |= exported.keys()
    # A Django settings package that says nothing itself: its development module.
    chosen = settings_package_module(files) if "DJANGO_SETTINGS_MODULE" not in taken else None
    if chosen is not None:
        found.values["DJANGO_SETTINGS_MODULE"] = chosen[0]
        found.notes.append(
            f"DJANGO_SETTINGS_MODULE={chosen[0]}: manage.py names {chosen[1]}, a folder of "
            "settings modules with nothing of its own (Django would run with no DATABASES)"
        )
    mended = django_preview_settings(files) if "DJANGO_SETTINGS_MODULE" not in taken else None
    if chosen is None and mended is not None:
        found.values["DJANGO_SETTINGS_MODULE"] = mended.module
        found.notes.append(
            f"DJANGO_SETTINGS_MODULE={mended.module}: the preview's module imports its "
            f"settings whole; {'; '.join(mended.why)}"
        )
    # (the preview's module, where there is one, is what every server's module runs with)
    renamed = manage_settings_module(files) if "DJANGO_SETTINGS_MODULE" not in taken else None
    if chosen is None and mended is None and renamed is not None:
        found.values["DJANGO_SETTINGS_MODULE"] = renamed[0]
        found.notes.append(
            f"DJANGO_SETTINGS_MODULE={renamed[0]}: manage.py names it; its server's module "
            f"names {renamed[1]}, which the upload does not have"
        )
    lone = lone_settings_module(files) if "DJANGO_SETTINGS_MODULE" not in taken else None
    if chosen is None and mended is None and renamed is None and lone is not None:
        found.values["DJANGO_SETTINGS_MODULE"] = lone[0]
        found.notes.append(
            f"DJANGO_SETTINGS_MODULE={lone[0]}: manage.py names {lone[1]}, which the upload "
            "does not have; its settings are that one"
        )
    # What its compose file's service of the app sets (AWS_REGION, EMAIL …), below what
    # its own files say: the configuration its author runs it with. A database's host,
    # port and account are the preview's (provided): compose_database_values maps them.
    # (A Node app's, so far: a Python app's compose often says DEBUG=0 or its production
    # settings module, which a preview's development run must not take.)
    node = posixpath.basename(anchor) == "package.json"
    service, composed = app_service_environment(files, anchor, given) if node else ("", {})
    composed = {k: v for k, v in composed.items() if k not in taken}
    if composed:
        found.values.update(composed)
        found.notes.append(
            f"its compose service {service}: {', '.join(sorted(composed))} as its "
            "environment gives them"
        )
    # node-config's deployment, where its config/ has none a development run loads.
    taken |= composed.keys()
    docker = dockerfile_facts(files)  # (its NODE_ENV here, its ENV for required reads below)
    if node and "NODE_CONFIG_ENV" not in taken:
        declared = docker.env.get("NODE_ENV", "") if docker is not None else ""
        if deployment := node_config_env(files, anchor, declared):
            found.values["NODE_CONFIG_ENV"] = deployment
            found.notes.append(
                f"NODE_CONFIG_ENV={deployment}: its config/ has no default nor development "
                f"file for node-config to load; {deployment}'s is its deployment's"
            )
    # TypeORM's createConnection() with no options and no ormconfig: its own variables.
    typeorm = typeorm_unconfigured(files, anchor) if node else None
    if typeorm is not None and not {"TYPEORM_CONNECTION", "TYPEORM_URL"} & taken:
        driver = typeorm["TYPEORM_CONNECTION"]
        if driver == "sqlite":
            typeorm["TYPEORM_DATABASE"] = "db.sqlite3"  # a file in the app's directory
        elif database is not None and database.engine == _ENGINES_OF[driver]:
            typeorm |= {
                "TYPEORM_HOST": database.host,
                "TYPEORM_PORT": database.port,
                "TYPEORM_USERNAME": database.user,
                "TYPEORM_PASSWORD": database.password,
                "TYPEORM_DATABASE": database.name,
            }
        else:
            typeorm = None
        if typeorm is not None:
            found.values.update(typeorm)
            found.served.update(typeorm)
            found.notes.append(
                "createConnection() with no options and no ormconfig: TypeORM's own "
                f"variables say the preview's {driver} database, its entities "
                f"({typeorm['TYPEORM_ENTITIES']})"
                + (", its tables synchronized" if "TYPEORM_SYNCHRONIZE" in typeorm else "")
                + (
                    f", its migrations ({typeorm['TYPEORM_MIGRATIONS']}) run as it connects"
                    if "TYPEORM_MIGRATIONS" in typeorm
                    else ""
                )
            )
    # An ORM's glob the app appends to its file's folder from a variable nothing gives.
    globs = {k: v for k, v in orm_glob_reads(files).items() if k not in taken} if node else {}
    _give(found, globs, "the rest of its ORM's glob from the folder of the file that reads it")
    # A key file's variable whose default is an absolute path of the author's image.
    keys = {k: v for k, v in node_key_variables(files).items() if k not in taken} if node else {}
    why = "the key files its code reads there, whose default paths are its image's, made for "
    _give(found, keys, why + "the preview in its folder")
    # A blank password of a server the preview gives (REDIS_PASSWORD='') stays: it has none.
    ours = {n for n in found.values if {n[:-8] + "HOST", n[:-8] + "URL"} & provided}
    kept = {n for n in ours if n.endswith("_PASSWORD") and not found.values[n]}
    types = found.reads = required_types(files)
    # A read that says its own type (env.bool("TOOLBAR"), cast=int) where nothing else
    # does: a switch with no example's value is off (sheraff0's rental-django-ninja-
    # pydantic, no example file: TOOLBAR, SWAGGER, S3_STORAGE "needed"), by its type.
    for name, (kind, _) in typed_reads(files).items():
        if types.get(name) == "":
            types[name] = kind
    # A library's settings that the app reads under their own names with no default, to
    # hand them on: the library requires them, typed (_LIBRARY_FIELDS).
    for module, fields in _LIBRARY_FIELDS.items():
        if any(module in data for path, data in files.items() if path.endswith(".py")):
            types |= {n: kind for n, kind in fields.items() if types.get(n) == OPTIONAL}
    # What the Dockerfile that builds it sets (``ENV docs_url='/docs'``) for a variable its
    # code cannot start without, where nothing above gives one: the value its image runs
    # with, in place of a stand-in (sr-vazkez's FastApi-RBAC reads docs_url, openapi_url
    # and redoc_url with no default: its stand-ins met FastAPI's "Routed paths must start
    # with '/'"). Only those: its ENV also sets modes (DEBUG=0, NODE_ENV=production) that
    # a preview's development run does not take.
    # Its values as the image was built: the build arguments they name given the compose
    # service's values, else their defaults (evelynting610's library-flask: ``ENV
    # APP_CONFIG_FILE=/app/config/${config_type}.py``, compose building it with
    # ``config_type: development``); one naming what nothing gives is none.
    built = {**docker.args, **app_service_build_args(files, anchor)} if docker else {}
    env = docker.env.items() if docker is not None else ()
    as_built = {name: interpolated(value, built) for name, value in env if value}
    imaged = {
        name: value
        for name, value in as_built.items()
        if "$" not in value
        and types.get(name, OPTIONAL) != OPTIONAL
        and name not in taken | found.values.keys()
    }
    if docker is not None and imaged:
        found.values.update(imaged)
        found.notes.append(f"{docker.path}: {', '.join(sorted(imaged))} as its ENV gives them")
    # A variable naming the settings file its Flask app loads (``from_pyfile(os.getenv(
    # 'CONFIG_FILE'))``, ``from_envvar('APP_SETTINGS')``), which no file of it is: an empty
    # one, its settings those it sets otherwise.
    for name in settings_file_variables(files):
        if name not in taken and name not in found.values:
            found.values[name] = os.devnull
            found.notes.append(
                f"{name}={os.devnull}: its Flask app loads the settings file it names, and "
                "the upload has none (its settings are those it sets otherwise)"
            )
    engines = {
        e: d for e in ("mysql", "postgresql") if (d := engine_database(offered, e)) is not None
    }
    served_url = offered.get("DATABASE_URL")
    _by_meaning(
        found,
        files,
        types,
        given,
        provided | kept,
        database,
        engines,
        url=served_url,
        node_options=node_options,
    )
    _switched_off(found, files, types, given, provided | kept, node)
    _from_other_env_files(found, files, types, given, provided | kept)
    _under_their_prefix(found, types, given, provided | kept)
    _as_ip_addresses(found, types, given, provided | kept)
    path_versions = _path_versions(files) if _node(anchor) else set()
    # What a schema's own description says a variable is (CRYPTO: "Encryption secret").
    # What a CORS middleware's option it is given says it is (CORS_ALLOWED_HOST: origin).
    described = {**cors_origin_reads(files), **described_variables(files)} if _node(anchor) else {}
    tests: list[str] = []
    ports: list[str] = []
    node = _node(anchor)
    # The example's empty value of one Node code reads with a fallback of its own stays
    # empty, a secret's aside (hungvt639's express-2023: ``CORS_ORIGIN=``, read as
    # ``(process.env.CORS_ORIGIN || "").split(" ").map((o) => new RegExp(o))``, was given
    # "*": "Invalid regular expression" at every start).
    left_empty = {
        name
        for name in (node_fallback_reads(files) if node else set())
        if found.values.get(name) == "" and not _SECRET_NAME.search(name.upper())
    }
    for name, kind in types.items():
        if given.get(name) or found.values.get(name) or name in provided | kept | found.served:
            continue
        if name in left_empty:  # (its empty value: the code's own fallback applies)
            continue
        value = throwaway_value(name, kind)
        if value is None and name in described:
            value = throwaway_value(described[name], kind)
        if value is None and _LOG_LEVEL.search(name.upper()) and (node or kind != OPTIONAL):
            # pino's and winston's spelling; Python's logging wants INFO (alonovg's
            # FastAPI-CRM: ``logger.setLevel(settings.LOG_LEVEL)``, "Unknown level: ''").
            value = "info" if node else "INFO"
        if value is None and _node(anchor) and name in path_versions:
            value = "v1"
        if value is None and kind != OPTIONAL and url and _test_database_url(name):
            value = url  # required to start; its tests, which it is for, never run here
            found.notes.append(
                f"{name}, which the app cannot start without: the preview's database"
            )
        if value is None and kind != OPTIONAL and database is not None:
            # Its test database's parts (DB_HOST_TEST … DB_NAME_TEST, likeThatDude's
            # settings class requires them to start): the served database's, likewise.
            part = _test_database_part(name, database.engine)
            if part is not None and (value := database.part(part)) is not None:
                found.values[name] = value
                found.served.add(name)
                tests.append(name)
                continue
        if value is None and kind != OPTIONAL and _PORT_NAME.search(name) and "PORT" in offered:
            # Another service's port that no name says (navikvinay12's Flask-Bookstore-CRUD:
            # USER_PORT, BOOK_PORT, int, its own other apps', no example): the preview's.
            found.values[name] = offered["PORT"]
            ports.append(name)
            continue
        if value is None:
            if kind != OPTIONAL:
                found.missing.append(name)
            continue
        found.values[name] = value
        found.generated.append(name)
    if ports:
        found.notes.append(
            f"{', '.join(ports)}: ports of services of the app's own that a preview does not "
            "run, which it cannot start without: the preview's own port"
        )
    if tests:
        found.notes.append(
            f"{', '.join(tests)}, its test database's, which the app cannot start without: "
            "the preview's database's"
        )
    _unread_by_the_console(found)
    # Empty secrets of the example (SECRET_KEY=) are as good as unset; not a served
    # database's empty password (agucabral21's DB_PASS=: its MariaDB's root has none, and
    # a throwaway one was refused, "Access denied for user 'root'@'localhost'").
    # A secret the example asks its reader to change (SECRET_KEY=change-this-flask-secret)
    # is one too: an app refusing its example's own values at start (moisesneivert's
    # flask-jwt-auth-api: "Production secrets must be configured with strong environment
    # values", its wsgi.py making its production configuration).
    # Any fill-in it leaves for its reader (EMAIL_PORT=<email_port>, EMAIL_FROM=<email>:
    # zeeshanravian1's fastapi-ecommerce-postgresql, whose fastapi-mail refused both) is
    # one too, where the name says what stands in.
    for name, value in list(found.values.items()):
        if name in left_empty:
            continue
        placeholder = fill_in(value) or (
            _SECRET_NAME.search(name.upper()) and _CHANGE_ME.match(value.strip())
        )
        if (
            (not value or placeholder)
            and name not in given.keys() | kept | found.served
            and (generated := throwaway_value(name))
        ):
            found.values[name] = generated
            found.generated.append(name)
    _selected(found, files, given, provided)
    _prefixed_provided(found, files, given, offered)
    _debugged_as_its_author_ran_it(found, files, anchor, given)
    _as_json(found, files, given)
    _as_addresses(found, types, given)
    if _node(anchor):
        _node_env_its_code_names(found, files, given)
        _within_choices(found, files, given)
    else:
        _among_compared(found, files)
    _misfits_said(found, files, offered, given)
    _prompted(found, files, given, provided)
    _as_fernet_keys(found, files)
    _as_key_pairs(found, files)
    _router_prefixes(found, files, given)
    if found.generated:
        found.notes.append(
            "generated throwaway values for " + ", ".join(found.generated) + " (not shown)"
        )
    _django_project_settings(found, files)
    _sqlite_files(found, files, given)
    _stand_ins(found, files, types, defaulted)
    return found


# A SQLite file an upload commits beside its code (not its tests', not a dependency's).
_COMMITTED_SQLITE = re.compile(r"^(?:[\w.-]+/)?[\w.-]+\.(?:sqlite3?|db)$")


def _sqlite_files(found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str]) -> None:
    """The variables a Node app's ORM reads its SQLite file from (``sqlite_file_reads``),
    which nothing gives: the file the upload commits (Muntasir-Zin-Alabadin's NestJsCars
    commits db.sqlite, its tables made), else ``db.sqlite`` in its folder; over the
    database's name a PostgreSQL the preview gives would say under that name (its pg is a
    production branch's: given DB_NAME, SQLite opened a new empty file of the server's
    database's name, "no such table: user")."""
    reads = sqlite_file_reads(files) if "package.json" in files else set()
    committed = sorted(p for p in files if _COMMITTED_SQLITE.match(p) and "test" not in p)
    for name in sorted(reads):
        if not given.get(name):
            found.values[name] = committed[0] if committed else "db.sqlite"
            found.notes.append(
                f"its {name} is its SQLite database's file, by its ORM's options: "
                f"{found.values[name]}"
            )


# The fields a library's settings class requires, by the module that has it, with their
# types: fastapi-mail's ``ConnectionConfig`` (a pydantic-settings class), which serhiil06's
# fastAPI-cinema builds from ``os.getenv("MAIL_PORT")`` and the like: None for its port,
# "Input should be a valid integer", and its Alembic step died on it.
_LIBRARY_FIELDS = {
    # flask-smorest's Api() refuses an app whose config lacks them (tarikibrahimovic's
    # Instagram-Flask-Backend: ``app.config['API_TITLE'] = os.getenv('API_TITLE')``,
    # "API title must be specified", its Flask-Migrate step died).
    b"flask_smorest": {"API_TITLE": "str", "API_VERSION": "str"},
    b"fastapi_mail": {
        "MAIL_USERNAME": "str",
        "MAIL_PASSWORD": "str",
        "MAIL_PORT": "int",
        "MAIL_SERVER": "str",
        "MAIL_FROM": "EmailStr",
        "MAIL_STARTTLS": "bool",
        "MAIL_SSL_TLS": "bool",
    },
}


# What ``startproject`` sets each of these Django settings to: a module beside the
# settings (its attribute after it), or a path.
_DJANGO_PROJECT_MODULES = {
    "ROOT_URLCONF": ("urls.py", ""),
    "WSGI_APPLICATION": ("wsgi.py", ".application"),
    "ASGI_APPLICATION": ("asgi.py", ".application"),
}
_DJANGO_PROJECT_PATHS = {"STATIC_URL": "/static/", "MEDIA_URL": "/media/"}


def _django_project_settings(found: ConfigDefaults, files: dict[str, bytes]) -> None:
    """The variables the app requires that its Django settings take as a setting naming
    the project's own module or URL path (``ROOT_URLCONF = env.str('ROOT_URLCONF')``),
    given what ``startproject`` would have written: the project's ``urls``, ``wsgi`` or
    ``asgi`` module nearest above the settings (as imported from manage.py's folder),
    ``/static/``, ``/media/``. A stand-in string is no module: ruslankrivoshein's
    DRFExample answered every route "No module named 'preview-stand-in'"."""
    unset = [n for n in found.missing if n not in found.values]
    reads = django_setting_reads(files) if unset else {}
    chosen: list[str] = []
    for name in unset:
        if name not in reads:
            continue
        setting, path = reads[name]
        value = _DJANGO_PROJECT_PATHS.get(setting) or _project_module(setting, path, files)
        if value is not None:
            found.values[name] = value
            chosen.append(f"{name}={value}")
    if chosen:
        found.notes.append(
            f"{', '.join(chosen)}: Django settings its settings read with no default, "
            "given what startproject writes for its layout"
        )


def _project_module(setting: str, settings_path: str, files: dict[str, bytes]) -> str | None:
    """The dotted name of the module ``setting`` names (:data:`_DJANGO_PROJECT_MODULES`):
    the nearest such file in the settings module's folder or one above it, below the
    folder of the manage.py it is imported from; None where there is none."""
    file_name, attribute = _DJANGO_PROJECT_MODULES[setting]
    roots = [posixpath.dirname(p) for p in files if posixpath.basename(p) == "manage.py"]
    folder = posixpath.dirname(settings_path)
    root = max(
        (r for r in roots if r == "" or folder == r or folder.startswith(r + "/")),
        key=len,
        default=None,
    )
    if root is None:
        return None
    while folder != root and folder:
        candidate = f"{folder}/{file_name}"
        if candidate in files:
            inside = candidate[len(root) + 1 :] if root else candidate
            return inside.removesuffix(".py").replace("/", ".") + attribute
        folder = posixpath.dirname(folder)
    return None


def _stand_ins(
    found: ConfigDefaults, files: dict[str, bytes], types: dict[str, str], defaulted: set[str]
) -> None:
    """The variables the app requires that nothing sets and no rule can guess
    (``found.missing``), given stand-ins so that it starts, each said: a value its code
    compares it with (``os.environ['MODE'] == 'dev'``: the one a development run takes,
    else the first), else one of its type and shape (:func:`stand_in_value`). Before,
    the launch failed naming them, and an app of a dozen routes served none for want of
    a storage bucket's name one of them uses (mhavshyn's FastApi-pet: S3_ENDPOINT,
    S3_BUCKET …; grigoriykuzevanov's fastapi-pet-project: REDIS_USER, REDIS_DB; michelcodeur's
    drf-restaurants: MODE). They stay named as ``missing``: a failure of the app for want
    of their real values still names every one, and the user is told to give them."""
    if not found.missing:
        return
    unset = [n for n in found.missing if n not in found.values]
    if not unset:
        return
    # (a value of the example's, even blank, is the app's; a default of its own, a
    # django-environ schema's (``environ.Env(STATIC_URL=(str, '/static/'))``), stands; its
    # own server's port is the preview's, given as it starts: ``defaulted``)
    # A settings class requiring one that a read elsewhere defaults (topgun312's
    # fastapi-business-management-and-control-app: ``MODE: str`` in its Settings,
    # ``os.getenv("MODE", "DEV")`` in its main.py; pydantic's "Field required" killed its
    # Alembic step and its start): that read's default, the author's own value.
    compared = compared_values(files)
    own = own_defaults(files) if any(n in defaulted for n in unset) else {}
    chosen: list[str] = []
    for name in unset:
        if name in defaulted and name in own:
            found.values[name] = own[name]
            chosen.append(f"{name}={own[name]}: its code's own default")
            found.stand_ins.append(name)
            continue
        if name in defaulted or ((what := meaning(name)) and what.kind == OWN_PORT):
            continue
        choices = compared.get(name) or compared.get(name.upper()) or []
        developing = [c for c in choices if c.lower() in _DEVELOPMENT_KEYS]
        if choices:
            found.values[name] = (developing or choices)[0]
            chosen.append(f"{name}={found.values[name]}: a value its code compares it with")
        else:
            found.values[name] = stand_in_value(name, types.get(name, ""))
        found.stand_ins.append(name)
    if not found.stand_ins:
        return
    said = f" ({'; '.join(chosen)})" if chosen else ""
    found.notes.append(
        "the app requires " + ", ".join(found.stand_ins) + ", which nothing sets: given "
        f"stand-in values so that it starts{said}; give the real ones with the launch "
        "option env"
    )


# A stand-in's shape by the variable's last word: a URL (an endpoint, an origin), a host,
# an account's name; a Redis connection's user and database (its default ones).
_URL_WORD = re.compile(r"(?:^|_)(?:URLS?|URIS?|ENDPOINT|DSN|ORIGIN|WEBHOOK|LINK)$")
_HOST_WORD = re.compile(r"(?:^|_)(?:HOST|HOSTNAME|SERVER|DOMAIN)$")
_USER_WORD = re.compile(r"(?:^|_)(?:USER|USERNAME|LOGIN)$")
_REDIS_USER = re.compile(r"^REDIS_(?:USER|USERNAME)$")
_REDIS_DATABASE = re.compile(r"^REDIS_(?:DB|DATABASE|INDEX|DB_INDEX)$")
_LISTS = frozenset({"list", "List", "set", "Set", "tuple", "Tuple", "Sequence", "frozenset"})
_DICTS = frozenset({"dict", "Dict", "Mapping"})
STAND_IN = "preview-stand-in"  # a stand-in string of no known shape


# pydantic's network types that ask for a scheme of their own: one each accepts.
_DSN_SCHEMES = {
    "AmqpDsn": "amqp",
    "MongoDsn": "mongodb",
    "KafkaDsn": "kafka",
    "NatsDsn": "nats",
    "ClickHouseDsn": "clickhouse+native",
    "SnowflakeDsn": "snowflake",
    "CockroachDsn": "cockroachdb",
    "MySQLDsn": "mysql",
    "MariaDBDsn": "mariadb",
    "FtpUrl": "ftp",
    "WebsocketUrl": "ws",
}


_BARE_ENDPOINT = re.compile(r"(?:^|_)MINIO_(?:\w+_)?(?:ENDPOINT|END_POINT)$")


def stand_in_value(name: str, kind: str = "") -> str:
    """A value for the variable ``name`` that its type (``kind``, as its settings class or
    reader declares it) and its name's shape accept, standing in for one nobody gave: a
    switch off, a number 0, an empty list or mapping (JSON, as pydantic-settings reads
    them), a URL that refuses at once (nothing listens on the discard port), a host of
    the sandbox's own, Redis's default user and database, else :data:`STAND_IN`."""
    upper = name.upper()
    head = kind.split("[", 1)[0].rsplit(".", 1)[-1]
    if _is_bool(kind):
        return "false"
    if kind in _NUMBER_TYPES:
        return "0"
    if kind == CACHE_URL_READ:
        return "locmemcache://"
    if kind == EMAIL_URL_READ:
        return "consolemail://"
    if head in _LISTS:
        return "[]"
    if head in _DICTS:
        return "{}"
    if _REDIS_USER.match(upper):
        return "default"
    if _REDIS_DATABASE.match(upper):
        return "0"
    if _BARE_ENDPOINT.search(upper):
        # An object store's endpoint its SDK takes as a host alone (MinIO's ``endPoint``:
        # NovikovaAleAle's nestCRUD, "Invalid endPoint : http://localhost:9" at start).
        return "localhost"
    if (scheme := _DSN_SCHEMES.get(head)) is not None:
        # A server's URL typed by its scheme (pydantic's AmqpDsn: hyoseok0604's
        # fastapi-deploy requires RABBITMQ_URI so, "URL scheme should be 'amqp'"): that
        # scheme, on the discard port, which refuses at once.
        return f"{scheme}://localhost:9/"
    if "Url" in kind or "URL" in kind or _URL_WORD.search(upper):
        return "http://localhost:9"
    if _HOST_WORD.search(upper):
        return "localhost"
    if _USER_WORD.search(upper):
        return "preview"
    return STAND_IN


_IMPORTS_FLASK = re.compile(rb"^\s*(?:from\s+flask\s+import|import\s+flask\b)", re.MULTILINE)


def _debugged_as_its_author_ran_it(
    found: ConfigDefaults, files: dict[str, bytes], anchor: str, given: dict[str, str]
) -> None:
    """``FLASK_DEBUG=1`` for a Flask app whose module runs ``app.run(debug=True)`` as a
    script, as its author ran it: in debug an exception reaches the error handlers an
    extension registers (flask-jwt-extended's, behind Flask-RESTful's own handling, which
    re-raises it only then). rishabh11336's jwt-login-flask answered its protected route
    with 500 ("NoAuthorizationError: Missing Authorization Header") where its author's run
    answered 401. Not where its .env or the launch says otherwise."""
    data = files.get(anchor, b"") if anchor.endswith(".py") else b""
    if "FLASK_DEBUG" in given or not _IMPORTS_FLASK.search(data) or b"debug" not in data:
        return
    tree = parse_module(data)
    if tree is None:
        return
    for block in main_blocks(tree):
        for node in ast.walk(block):
            if (
                isinstance(node, ast.Call)
                and last_name(node.func) == "run"
                and any(
                    k.arg == "debug" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords
                )
            ):
                found.values["FLASK_DEBUG"] = "1"
                found.notes.append(
                    f"FLASK_DEBUG=1: {anchor} runs its app with debug=True, as its author ran it"
                )
                return


def _prefixed_provided(
    found: ConfigDefaults,
    files: dict[str, bytes],
    given: dict[str, str],
    provided: Mapping[str, str],
) -> None:
    """What the service gives (``DATABASE_URL``) under the prefix of a settings class that
    reads its fields so (``DEV_DATABASE_URL``: ``configvars.prefixed_settings_fields``),
    where nothing gives that variable. Not a database's part by its prefixed name: a
    class prefixed ``DB_`` reads its ``port`` from ``DB_PORT``, the database's, not the
    app's own ``PORT`` (ummataliyev's fastapi-microservice connected to its own server as
    its PostgreSQL: "rejected SSL upgrade")."""
    named = []
    for variable, unprefixed in prefixed_settings_fields(files).items():
        if variable in given or variable in found.values or not provided.get(unprefixed):
            continue
        what = meaning(variable)
        if what is not None and what.kind == DATABASE and unprefixed in ("HOST", "PORT"):
            continue
        found.values[variable] = provided[unprefixed]
        named.append(variable)
    if named:
        found.notes.append(
            f"{', '.join(named)}: its settings classes' prefixed names for what the preview "
            "gives without the prefix"
        )


def _selected(
    found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str], provided: set[str]
) -> None:
    """A variable its code picks one of a dict's entries by, unset (``config.get(
    os.getenv("APP_MODE"))``: ``configvars.config_selectors``): the entry a development
    run takes, as a preview is one; none where the dict has no such key. A configuration
    class's import path (``config.DevelopmentConfig``) is read by its class's name less
    ``Config``; where none is a development one, the first that is not production's or
    testing's (any class imports, where a stand-in would not)."""
    selectors = {**node_config_selectors(files), **config_selectors(files)}
    for name, keys in selectors.items():
        if given.get(name) or found.values.get(name) or name in provided:
            continue
        lowered = {_entry_word(key): key for key in reversed(keys)}
        key = next((lowered[k] for k in _DEVELOPMENT_KEYS if k in lowered), None)
        if key is None and all("." in k for k in keys):
            key = next((k for k in keys if _entry_word(k) not in _NOT_DEVELOPMENT), None)
        if key is not None:
            found.values[name] = key
            found.notes.append(
                f"{name}={key}: the entry a development run takes of those its code picks "
                f"by it ({', '.join(keys)})"
            )


_DEVELOPMENT_KEYS = ("development", "dev", "develop", "local", "default", "debug")
_NOT_DEVELOPMENT = frozenset({"production", "prod", "testing", "test", "staging"})


def _entry_word(key: str) -> str:
    """What an entry names: a dict's key lowered, a class's (``config.DevelopmentConfig``)
    name lowered less its ``config``."""
    if "." not in key:
        return key.lower()
    return key.rsplit(".", 1)[-1].lower().replace("config", "")


def _from_other_env_files(
    found: ConfigDefaults,
    files: dict[str, bytes],
    types: dict[str, str],
    given: dict[str, str],
    taken: set[str],
) -> None:
    """A variable the app's settings require that nothing sets, given the value another
    env file of the upload sets (``configvars.other_env_files``: another example, a
    development one's ``.env.local``), the best first: noman13bd's
    fastapi-mysql-async-boilerplate runs with example.env, which lacks CELERY_BROKER_URL
    and ES_URL; its .env.local sets them ("these 2 variables are needed")."""
    wanted = [
        n
        for n, kind in types.items()
        if kind != OPTIONAL and not (given.get(n) or found.values.get(n) or n in taken)
    ]
    if not wanted:
        return
    said: dict[str, list[str]] = {}
    for path in other_env_files(files, found.example):
        values = _parsed(files[path])
        for name in [n for n in wanted if values.get(n, "").strip()]:
            found.values[name] = values[name]
            said.setdefault(path, []).append(name)
            wanted.remove(name)
    for path, names in said.items():
        found.notes.append(f"{', '.join(names)} as {path} gives them (its example has none)")


_SECRET_NAME = re.compile(r"SECRET|(?:^|_)(?:KEY|TOKEN|SALT|PEPPER)$")
_CHANGE_ME = re.compile(
    r"^['\"]?(?:change|replace|your|put|insert|enter|set)(?:[-_ ]|me\b|$)", re.IGNORECASE
)
_STATE_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9]+$")


def _under_their_prefix(
    found: ConfigDefaults, types: dict[str, str], given: dict[str, str], taken: set[str]
) -> None:
    """A variable the app's settings read that nothing sets, given the value its example
    sets under the prefix another variable's value names: deight93's fastapi-boilerplate
    reads ENV_STATE (dev in the .env its CI writes) and then every setting as
    ``f"{ENV_STATE}_"`` + its name (DEV_ALLOWED_ORIGINS as ALLOWED_ORIGINS), a .env the
    preview has no file of ("the variable ALLOWED_ORIGINS is needed"). Only where one
    such name is set; what the service gives (a database's account) stays its own."""
    values = {**found.values, **given}
    states = {v.strip().lower() for v in values.values() if _STATE_WORD.match(v.strip())}
    said = []
    for name in types:
        if given.get(name) or found.values.get(name) or name in taken:
            continue
        ends = f"_{name.upper()}"
        prefixed = [
            k for k in values if k.upper().endswith(ends) and k[: -len(ends)].lower() in states
        ]
        if len(prefixed) == 1:
            found.values[name] = values[prefixed[0]]
            said.append(f"{name} as {prefixed[0]}")
    if said:
        found.notes.append(
            f"{', '.join(said)} (the prefix another of its variables names, as its "
            "settings read them)"
        )


def _as_json(found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str]) -> None:
    """The values given to settings fields pydantic-settings reads as JSON (a
    ``list[str]``: ``configvars.json_settings_fields``) written as JSON: an example's
    ``a,b`` as ``["a","b"]``, the throwaway host list ``*`` as ``["*"]``. Written as they
    were, pydantic-settings refuses them before the app's own validator (which may split
    ``a,b`` itself) sees them, and the app never starts. A mapping that is not JSON is
    left as it is (nothing says its keys); what the upload's ``.env`` or the launch
    sets is never changed."""
    fields = json_settings_fields(files)
    if not fields:
        return
    changed = []
    for name, value in found.values.items():
        shape = fields.get(name.upper())
        if shape != "list" or name in given or _json_list(value):
            continue
        parts = value.split(",") if "," in value else value.split()
        found.values[name] = json.dumps([p.strip().strip("'\"") for p in parts if p.strip()])
        changed.append(name)
    if changed:
        found.notes.append(
            f"{', '.join(changed)}: lists the app's settings read as JSON, given as JSON"
        )


def _names_a_server(name: str, value: str, provided: set[str]) -> bool:
    """Whether ``name`` (not DATABASE_URL) is a database's URL by what it is, and ``value``
    names a server the preview does not answer for (its PostgreSQL answers a PostgreSQL
    URL's names: PGHOST among what the service sets)."""
    what = meaning(name) if name != "DATABASE_URL" else None
    if what is None or what.kind != DATABASE or what.part != "url":
        return False
    served = value.startswith("postgres") and "PGHOST" in provided
    return _SERVER_URL.match(value) is not None and not served


def _test_database_url(name: str) -> bool:
    """A test database's URL (``TEST_DATABASE_URL``): a database's URL once its ``TEST``
    word is left out (which ``configvars.meaning`` reads as another store's)."""
    words = [w for w in name.upper().split("_") if w and w != "TEST"]
    what = meaning("_".join(words)) if len(words) < len(name.split("_")) else None
    return what is not None and what.kind == DATABASE and what.part == "url"


# An INI file's line giving a key nothing (``host =``), and the INI files of tools that
# are no configuration of the app's own.
_EMPTY_INI_KEY = re.compile(r"^(\s*)([A-Za-z_][\w.-]*)(\s*[=:])[ \t]*$")
_TOOLS_INI = {"alembic.ini", "pytest.ini", "tox.ini", "mypy.ini", "uwsgi.ini", "setup.cfg"}


def ini_database_fills(
    files: dict[str, bytes], database: ServedDatabase | None
) -> dict[str, bytes]:
    """The INI files the app's code reads with ``configparser`` (its modules name the
    file) whose database keys are empty (vineetpatel725's fastapi-crud-app: ``.ini``'s
    ``[database]`` ``host =``, ``port =`` …, which its README says to fill in; "invalid
    literal for int() with base 10: ''" at its ``getint('database', 'port')``), each with
    those keys given the served database's parts, by what section and key name
    (``configvars.meaning`` of ``DATABASE_HOST``); the rest of the file as it is."""
    if database is None:
        return {}
    readers = [files[p] for p in python_files(files) if b"ConfigParser" in files[p]]
    filled: dict[str, bytes] = {}
    for path in files:
        name = posixpath.basename(path)
        if not name.endswith(".ini") or name in _TOOLS_INI or len(files[path]) > 64 * 1024:
            continue
        quoted = (f'"{name}"'.encode(), f"'{name}'".encode())
        if not any(q in reader for reader in readers for q in quoted):
            continue
        lines = files[path].decode("utf-8", "replace").splitlines(keepends=True)
        section, changed = "", False
        for number, line in enumerate(lines):
            if (header := re.match(r"^\s*\[([^\]]+)\]", line)) is not None:
                section = header.group(1).strip()
                continue
            empty = _EMPTY_INI_KEY.match(line.rstrip("\r\n"))
            what = meaning(f"{section}_{empty.group(2)}".upper()) if empty and section else None
            if what is None or what.kind != DATABASE or what.engine not in ("", database.engine):
                continue
            if (value := database.part(what.part)) is not None and empty is not None:
                lines[number] = f"{empty.group(1)}{empty.group(2)}{empty.group(3)} {value}\n"
                changed = True
        if changed and _parses(lines):
            filled[path] = "".join(lines).encode()
    return filled


# An address of a private network's (RFC 1918: 10/8, 172.16/12, 192.168/16), whole.
_PRIVATE_V4 = (
    rb"(?<![\w.])(?:10\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}(?![\w.])"
)
# Such an address as a host the app connects to or binds: quoted on a line naming a host
# (``host:'10.0.32.106'``, ``HOST = "192.168.1.5"``), a URL's host
# (``postgres://u:p@192.168.30.80:5432/db``), or an env file's ``…HOST…=`` value.
_LAN_HOST = re.compile(
    rb"(?P<quoted>(?i:host)[^\n]{0,40}?['\"`])" + _PRIVATE_V4 + rb"(?=['\"`:])"
    rb"|(?P<url>://(?:[^/\s@'\"`]*@)?)"
    + _PRIVATE_V4
    + rb"|(?P<env>^[ \t]*(?:export[ \t]+)?[A-Za-z_]*(?i:host)[A-Za-z_]*[ \t]*=[ \t]*['\"]?)"
    + _PRIVATE_V4,
    re.MULTILINE,
)
# A public address (any but loopback, the unspecified and a private network's) as the host
# of a database server: quoted on a line naming a host among its connection's account
# (:data:`_ACCOUNT_KEY` near it), a database URL's host, or an env file's database host.
# 2384830985's nodeProjectKoa2 connects its MySQL to ``host: '39.107.42.37'``, its
# author's server: no preview reaches a database outside (egress is HTTP(S) alone).
_PUBLIC_V4 = rb"(?<![\w.])(?!127\.|0\.0\.0\.0)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w.])"
_REMOTE_DATABASE_HOST = re.compile(
    rb"(?P<quoted>(?i:host)[^\n]{0,40}?['\"`])" + _PUBLIC_V4 + rb"(?=['\"`:])"
    rb"|(?P<url>(?i:mysql|mariadb|postgres(?:ql)?|mongodb(?:\+srv)?|mssql)(?:\+\w+)?"
    rb"://(?:[^/\s@'\"`]*@)?)"
    + _PUBLIC_V4
    + rb"|(?P<env>^[ \t]*(?:export[ \t]+)?(?i:[A-Za-z_]*(?:DB|DATABASE|MYSQL|PG|POSTGRES|MONGO)"
    rb"[A-Za-z_]*HOST[A-Za-z_]*)[ \t]*=[ \t]*['\"]?)" + _PUBLIC_V4,
    re.MULTILINE,
)
_ACCOUNT_KEY = re.compile(rb"(?i)\b(?:user(?:name)?|password|database|db_?name)['\"`]?\s*[:=]")
_ACCOUNT_NEAR = 300  # bytes either side of a quoted host: one connection's options
# The files whose text may name one: sources and configuration, the app's own.
_LAN_HOST_FILES = re.compile(
    r"\.(?:[cm]?[jt]s|py|json|ya?ml|ini|cfg|conf|toml|properties)$|(?:^|/)\.env[^/]*$|\.env$"
)
LAN_HOST_STAND_IN = "127.0.0.1"  # the sandbox's loopback: its private servers' relays


def lan_host_files(files: dict[str, bytes]) -> list[str]:
    """The app's files naming a host by an address of its author's private network
    (:func:`lan_hosts_mended` changes them): lpmatiutis's crud-app-nestjs connects its
    TypeORM to ``host: '192.168.30.80'``, callmewayne's note-express-server its MySQL to
    ``host:'10.0.32.106'``; no preview reaches its author's network, and the app waited
    on it, or failed, where the preview serves that database itself."""
    return [
        path
        for path, data in files.items()
        if _LAN_HOST_FILES.search(path)
        and "node_modules/" not in path
        and not path.endswith(("package-lock.json", "pnpm-lock.yaml", "composer.lock"))
        and len(data) <= 512 * 1024
        and (
            _LAN_HOST.search(data) is not None
            or _remote_database_hosts(data)
            or _MONGODB_ELSEWHERE.search(data) is not None
        )
    ]


def lan_hosts_mended(text: bytes) -> bytes:
    """``text`` with each private network's address it names as a host (:data:`_LAN_HOST`)
    replaced by the sandbox's loopback, where the preview's own servers are relayed; and
    each public one it names as a database server's host (:data:`_REMOTE_DATABASE_HOST`)."""
    mended = _LAN_HOST.sub(
        lambda m: (
            (m.group("quoted") or m.group("url") or m.group("env")) + LAN_HOST_STAND_IN.encode()
        ),
        text,
    )
    for match in reversed(_remote_database_hosts(mended)):
        kept = match.group("quoted") or match.group("url") or match.group("env")
        start = match.start() + len(kept)
        mended = mended[:start] + LAN_HOST_STAND_IN.encode() + mended[match.end() :]
    return _MONGODB_ELSEWHERE.sub(_mongodb_here, mended)


# A MongoDB cluster on the internet named in the app's code (an Atlas SRV URL, hosts with
# a domain): its account, its hosts, its database and its options. zikkri's
# ExpressPortfolio connects to ``mongodb+srv://…@cluster004.xdjel.mongodb.net/…`` in its
# code: "querySrv ECONNREFUSED", where the preview has a MongoDB of its own.
_MONGODB_ELSEWHERE = re.compile(
    rb"mongodb(?:\+srv)?://(?:[^@/\s'\"`]*@)?"
    rb"(?!localhost\b|127\.|mongo\b|mongodb\b)[\w-]+\.[\w.-]+(?::\d+)?(?:,[\w.:-]+)*"
    rb"(?P<rest>/[^\s'\"`?]*)?(?P<options>\?[^\s'\"`]*)?"
)
# Its options the preview's server would refuse: TLS (it speaks none), a replica set's name
# (it is a standalone server), an account's mechanism or source (it is given none).
_ELSEWHERE_OPTION = re.compile(
    rb"(?:^|&)(?:ssl|tls|replicaSet|authMechanism|authSource)[^&]*", re.I
)


def _mongodb_here(match: re.Match[bytes]) -> bytes:
    """The preview's own MongoDB, on the sandbox's loopback, for a cluster on the internet:
    its database and options kept, but its account (the preview's server knows none of
    its author's) and the options a standalone server without TLS refuses."""
    options = _ELSEWHERE_OPTION.sub(b"", (match.group("options") or b"?")[1:]).lstrip(b"&")
    where = f"mongodb://{LAN_HOST_STAND_IN}:27017".encode()
    return where + (match.group("rest") or b"/") + (b"?" + options if options else b"")


def _remote_database_hosts(text: bytes) -> list[re.Match[bytes]]:
    """The places ``text`` names a database server outside by a public address: a quoted
    host only where its connection's account is named near it."""
    found = []
    for match in _REMOTE_DATABASE_HOST.finditer(text):
        if match.group("quoted"):
            near = text[max(0, match.start() - _ACCOUNT_NEAR) : match.end() + _ACCOUNT_NEAR]
            if _ACCOUNT_KEY.search(near) is None:
                continue
        found.append(match)
    return found


def _parses(lines: list[str]) -> bool:
    """Whether ``lines`` are an INI file ``configparser`` reads."""
    try:
        configparser.ConfigParser(interpolation=None).read_string("".join(lines))
    except configparser.Error:
        return False
    return True


# A module asking its operator at a terminal (getpass, input()), which a preview has none
# of: the settings it reads (``settings.root_user_password``), and its env reads.
_PROMPTS = re.compile(rb"\bgetpass\(|(?<![\w.])input\(")
_SETTING_READS = re.compile(
    rb"\b(?:settings|config|conf|cfg)\.([A-Za-z_]\w*)\b"
    rb"|\b(?:getenv|environ\.get)\(\s*[\"']([A-Za-z_]\w*)[\"']"
)


def _prompted(
    found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str], provided: set[str]
) -> None:
    """A password or secret a module asks for at a terminal when its setting is empty
    (aykut-canturk's fastapi-jwt-auth-starter: ``root_user_password: str = ""``, then
    ``getpass.getpass("Enter a password for the admin user: ")``, "Aborted!" with no
    terminal): the setting it reads there gets a throwaway value instead."""
    said = []
    for path in python_files(files):
        if not _PROMPTS.search(files[path]):
            continue
        for read in _SETTING_READS.finditer(files[path]):
            name = (read.group(1) or read.group(2)).decode().upper()
            if name in found.values or name in provided or given.get(name):
                continue
            if _SECRET.search(name) and (value := throwaway_value(name)) is not None:
                found.values[name] = value
                found.generated.append(name)
                said.append(name)
    if said:
        found.notes.append(
            f"{', '.join(said)}: asked for at a terminal when unset, which a preview has "
            "none of: given a throwaway value"
        )


# A module making a Fernet cipher (cryptography's), and one encoding its key itself
# (``Fernet(urlsafe_b64encode(secret))``: the secret is the 32 raw bytes).
_FERNET = re.compile(rb"\bFernet\(")
_ENCODES = re.compile(rb"\b(?:urlsafe_)?b64encode\(")


def _router_prefixes(found: ConfigDefaults, files: dict[str, bytes], given: dict[str, str]) -> None:
    """A settings field the app mounts its routers under whose default FastAPI refuses
    for its trailing slash (``configvars.router_prefix_defaults``: ``main_url = "/"``)
    given that default less it, where nothing sets it."""
    said = []
    for name, value in router_prefix_defaults(files).items():
        if given.get(name) or found.values.get(name) or any(n.upper() == name for n in given):
            continue
        found.values[name] = value
        said.append(f"{name}={value!r}")
    if said:
        found.notes.append(
            f"{', '.join(said)}: the prefix the app mounts its routers under, its default "
            "less the trailing slash FastAPI refuses there"
        )


def _as_fernet_keys(found: ConfigDefaults, files: dict[str, bytes]) -> None:
    """A throwaway secret a module hands to ``Fernet(…)`` (its name in that module), in the
    shape Fernet takes: a url-safe base64 key of 32 bytes (``Fernet.generate_key()``'s), or
    32 characters where the module base64-encodes it itself (aykut-canturk's
    fastapi-jwt-auth-starter: ``Fernet(urlsafe_b64encode(settings.crypto_secret))``; any
    other length is "Fernet key must be 32 url-safe base64-encoded bytes")."""
    modules = [
        files[p] for p in python_files(files) if _FERNET.search(files[p]) and b"fernet" in files[p]
    ]
    for name in found.generated:
        said = re.compile(rb"\b%s\b" % re.escape(name.encode()), re.IGNORECASE)
        using = [m for m in modules if said.search(m)]
        if not using:
            continue
        if any(_ENCODES.search(m) for m in using):
            found.values[name] = secrets.token_urlsafe(24)  # 32 characters
        else:
            found.values[name] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        found.notes.append(f"{name}: a key in the shape Fernet takes, which its code makes one of")


def _give(found: ConfigDefaults, values: dict[str, str], why: str) -> None:
    """``values`` given the app, said in one note naming each (``A=x, B=y: why``)."""
    if values:
        found.values.update(values)
        found.notes.append(", ".join(f"{k}={v}" for k, v in sorted(values.items())) + f": {why}")


# A key pair's public half read from a variable (``JWT_PUBLIC_KEY`` beside
# ``JWT_PRIVATE_KEY``), and a key's variable read through base64: Python's
# ``b64decode(settings.JWT_PUBLIC_KEY)`` (any case: a settings field), Node's
# ``Buffer.from(process.env.JWT_PUBLIC_KEY, 'base64')`` and ``atob(…)``.
_PUBLIC_KEY = re.compile(r"(?:^|_)PUBLIC_?KEY$")
_BASE64_READ = (
    rb"(?:b64decode\(|atob\()[\w.\s\[\]('\"]{0,40}?\b%s\b"
    rb"|Buffer\.from\([\w.\s\[\]('\"]{0,40}?\b%s\b[^)\n]{0,40}base64"
)


def _as_key_pairs(found: ConfigDefaults, files: dict[str, bytes]) -> None:
    """Throwaway keys the app reads as a pair, made one (fersubair40's bank-api-fastapi:
    ``JWT_PRIVATE_KEY`` and ``JWT_PUBLIC_KEY``, each a key of its own, could never verify
    what the other signed): an RSA private key and its public key, and their algorithm
    (``JWT_ALGORITHM``) RS256 where it was given an HMAC one; each read through base64
    (its ``b64decode(settings.JWT_PUBLIC_KEY)`` met "Incorrect padding" on PEM text)
    given base64-encoded."""
    for public in found.generated:
        if (suffix := _PUBLIC_KEY.search(public)) is None:
            continue
        private = public[: suffix.start()] + suffix.group(0).replace("PUBLIC", "PRIVATE")
        if private not in found.generated:
            continue
        made = key_texts({"private.pem": None, "public.pem": "private.pem"}, {})  # (openssl)
        if not made:
            continue
        sources = [d for p, d in files.items() if p.endswith((".py", ".js", ".ts", ".mjs", ".cjs"))]
        keys = {private: made["private.pem"], public: made["public.pem"]}
        encoded = []
        for name, pem in keys.items():
            read = re.compile(_BASE64_READ % (name.encode(), name.encode()), re.IGNORECASE)
            if any(read.search(source) for source in sources):
                pem = base64.b64encode(pem)
                encoded.append(name)
            found.values[name] = pem.decode()
        algorithm = public[: suffix.start()] + ("_" if suffix.start() else "") + "ALGORITHM"
        hmac = algorithm in found.generated and found.values[algorithm].startswith("HS")
        if hmac:
            found.values[algorithm] = "RS256"
        found.notes.append(
            f"{private}, {public}: a key pair made for the preview (RSA, PEM)"
            + (f", {' and '.join(encoded)} base64-encoded as its code decodes" if encoded else "")
            + (f"; {algorithm}=RS256, the algorithm of such keys" if hmac else "")
        )


def _test_database_part(name: str, engine: str) -> str | None:
    """A test database's part (``DB_HOST_TEST``, ``TEST_DB_USER``): the part a database's
    variable names once its ``TEST`` word is left out (``host``), where it names no
    engine but ``engine`` (the served one's); None for any other."""
    words = [w for w in name.upper().split("_") if w and w != "TEST"]
    what = meaning("_".join(words)) if len(words) < len(name.split("_")) else None
    if what is None or what.kind != DATABASE or what.part in ("url", "engine"):
        return None
    return what.part if what.engine in ("", engine) else None


def _as_addresses(found: ConfigDefaults, types: dict[str, str], given: dict[str, str]) -> None:
    """An example's placeholder for a field its settings class types ``EmailStr``
    (Jeihunn's fastapi-blog-best-practices: ``MAIL_FROM='your_email'``, which pydantic
    refuses, and the app never starts), or for a variable whose name says it is an
    address (smigy32's fastapi-library: ``MAIL_FROM=YourEmail``, read untyped and handed
    to fastapi-mail's ConnectionConfig, which refused it), given a throwaway address."""
    for name, value in list(found.values.items()):
        typed = "EmailStr" in types.get(name, "")
        named = _ADDRESS.search(name.upper()) and types.get(name) != CRON_FIELD
        if not (typed or named) or name in given:
            continue
        if value and "@" not in value:
            found.values[name] = "preview@example.com"
            found.notes.append(f"its {name} is no e-mail address ({value!r}): a throwaway one")


_IP_TYPES = re.compile(r"\bIP(?:vAny|v4|v6)Address\b")


def _as_ip_addresses(
    found: ConfigDefaults, types: dict[str, str], given: dict[str, str], taken: set[str]
) -> None:
    """A field its settings class types as an IP address (``IPvAnyAddress``) that nothing
    sets, or that its example leaves empty or gives a host name: the loopback's address.
    ctrl-kitty's fastapi-sqlmodel (``BACKEND_HOST: IPvAnyAddress``, its README's
    ``BACKEND_HOST= #String(ip validation)``) was refused at every start."""
    changed = []
    for name, kind in types.items():
        if not _IP_TYPES.search(kind) or given.get(name) or name in taken:
            continue
        value = found.values.get(name, "").strip()
        try:
            ipaddress.ip_address(value)
        except ValueError:
            found.values[name] = "127.0.0.1"
            changed.append(name)
    if changed:
        found.notes.append(
            f"{', '.join(changed)}: the loopback's address (127.0.0.1), as its settings "
            "type them IP addresses"
        )


_NUMBER_WORDS = frozenset({"int", "float", "PositiveInt", "NonNegativeInt", "conint", "confloat"})
_NUMBER_TEXT = re.compile(r"^\s*[+-]?\d+(?:\.\d*)?\s*$")
_BOOL_TEXT = frozenset({"true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"})


def _fits(kind: str, value: str) -> bool | None:
    """Whether pydantic takes ``value`` for a settings field annotated ``kind``: a number,
    an e-mail address or a switch where it says so; None where it may take any text (a
    ``str`` among its types, or a type nothing here reads)."""
    words = set(re.findall(r"[A-Za-z_]\w*", kind))
    if words & {"str", "SecretStr", "Any", "Path"}:
        return None
    if words & _NUMBER_WORDS:
        return _NUMBER_TEXT.match(value) is not None
    if words & {"EmailStr", "NameEmail"}:
        return "@" in value
    if words == {"bool"} or words == {"Optional", "bool"}:
        return value.strip().lower() in _BOOL_TEXT
    return None


def settings_misfits(
    files: dict[str, bytes], env: Mapping[str, str], own: Mapping[str, str]
) -> dict[str, str | None]:
    """The values of ``env`` (but those of ``own``: the upload's ``.env``, the launch's
    ``env`` option) that the app's settings class refuses for their field's type
    (``configvars.settings_field_types``), each with what stands in: None (unset) where
    the field has a default of its own, else a throwaway value by its name and type.
    Such a value is a form its author leaves to fill in: an empty ``SMTP_PORT=`` in the
    env_file of eladgunders' fastapi-todos' compose service (``Optional[int] = None``:
    refused, the app never started), ``ACCESS_TOKEN_EXPIRE_MINUTES =
    tiempo_en_que_expira_el_token`` in the README of Cohetero's FastAPI-JWT-SQLAlchemy
    (an ``int``). A variable the code reads as a number or a switch
    (``configvars.typed_reads``) is typed the same way (``MAIL_PORT=Port``,
    ``VAR_SIZE=Keep,as,you,need``; ``env.bool("REFRESH_TOKEN_IN_BODY")`` given "")."""
    python = [data for path, data in files.items() if path.endswith(".py")]
    if not python:
        return {}
    fields = settings_field_types(files) if any(b"BaseSettings" in d for d in python) else {}
    read_typed = {n: typed for n, typed in typed_reads(files).items() if n not in fields}
    found: dict[str, str | None] = {}
    for name, (kind, defaulted) in {**fields, **read_typed}.items():
        value = env.get(name)
        if value is None or name in own or _fits(kind, value) is not False:
            continue
        if defaulted:
            found[name] = None
            continue
        words = set(re.findall(r"[A-Za-z_]\w*", kind))
        typed = "int" if words & _NUMBER_WORDS else "EmailStr" if "EmailStr" in words else kind
        if (stand_in := throwaway_value(name, typed)) is not None and _fits(kind, stand_in):
            found[name] = stand_in
    return found


def settings_spellings(
    files: dict[str, bytes], env: Mapping[str, str], own: Mapping[str, str]
) -> dict[str, str]:
    """{a variable of ``env`` spelled in another case than the name a field of the app's
    settings classes is given (``port`` of an example written in lower case, beside the
    ``PORT`` the service decided): the value of that name}. pydantic reads the
    environment without regard to case, and of two spellings takes whichever comes last:
    profatsky's fastapi-video-hosting's example leaves ``port=`` empty, which its
    ``port: int`` refused ("value is not a valid integer") though ``PORT`` held one. The
    user's own (``own``: the upload's ``.env``, the launch's ``env`` option) stay."""
    if not any(b"BaseSettings" in d for p, d in files.items() if p.endswith(".py")):
        return {}
    fields = settings_field_types(files)
    return {
        name: env[name.upper()]
        for name, value in env.items()
        if name != name.upper() and name.upper() in fields and name.upper() in env
        if name not in own and value != env[name.upper()]
    }


_DRIVERLESS = re.compile(r"^(?:postgres(?:ql)?|sqlite|mysql)://", re.IGNORECASE)


def _sync_of_pair(name: str, url: str, options: Mapping[str, str], files: dict[str, bytes]) -> str:
    """The URL for ``name``, a database URL by its use: the sync driver's where it is the
    plain one of a pair whose other is named for async clients (``ASYNC_X`` or
    ``X_ASYNC``, also a URL by its use), as appenv's names by meaning are.
    rollingsxshi's fastapi-lms gives SUPABASE_CONN_STRING to ``create_engine`` and
    ASYNC_SUPABASE_CONN_STRING to ``create_async_engine``: both got asyncpg's URL, and its
    sync sessions died of "MissingGreenlet"."""
    upper = name.upper()
    if not {f"ASYNC_{upper}", f"{upper}_ASYNC"} & {n.upper() for n in options}:
        return url
    deps = python_dependencies(files, "")
    return sync_url(url, set(deps.names()))


def _is_async(files: dict[str, bytes], anchor: str) -> bool:
    """Whether the app's SQLAlchemy is its asyncio extension's (``apps.asyncdb``)."""
    return async_database(files, python_dependencies(files, anchor)) is not None


def _misfits_said(
    found: ConfigDefaults, files: dict[str, bytes], offered: dict[str, str], given: dict[str, str]
) -> None:
    """The values the app's settings class would refuse (:func:`settings_misfits`, which
    ``appenv`` applies to everything the app is given) taken out of ``found`` or given a
    throwaway in it, and said."""
    misfits = settings_misfits(files, {**offered, **found.values}, given)
    for name, stand_in in misfits.items():
        if stand_in is None:
            found.values.pop(name, None)
        else:
            found.values[name] = stand_in
    unset = [n for n, v in misfits.items() if v is None]
    replaced = [n for n, v in misfits.items() if v is not None]
    if unset:
        found.notes.append(
            f"{', '.join(unset)}: a value the app's settings class refuses for its type "
            "(a form to fill in): unset, its own default stands"
        )
    if replaced:
        found.notes.append(
            f"{', '.join(replaced)}: a value the app's settings class refuses for its type "
            "(a form to fill in): a throwaway one instead"
        )


def _json_list(value: str) -> bool:
    try:
        return isinstance(json.loads(value), list)
    except ValueError:
        return False


def _django(files: dict[str, bytes]) -> bool:
    """Whether the app's database settings are Django's (its ``DATABASES``), in whichever
    module of a Django app they are: JoaoPedro8807's drf-hotel-api sets them in a
    settings/databases.py that never says "django" ('ENGINE': os.environ.get('DB_ENGINE')),
    and got "postgres": "'postgres' isn't an available database backend"."""
    own = [p for p in files if p.endswith(".py") and "site-packages/" not in p]
    if not any(b"DATABASES" in files[p] for p in own):
        return False
    return any(_DJANGO_IMPORT.search(files[p]) for p in own)


_DJANGO_IMPORT = re.compile(rb"^\s*(?:from|import)\s+django\b|DJANGO_SETTINGS_MODULE", re.M)


_SQLALCHEMY_IMPORT = re.compile(
    rb"^\s*(?:from|import)\s+(?:sqlalchemy|flask_sqlalchemy|sqlmodel)\b", re.MULTILINE
)


def _uses_sqlalchemy(files: dict[str, bytes]) -> bool:
    """Whether a Python module of the app imports SQLAlchemy (or a wrapper of it)."""
    return any(
        _SQLALCHEMY_IMPORT.search(data)
        for path, data in files.items()
        if path.endswith(".py") and "site-packages/" not in path and len(data) <= 512_000
    )


def _sqlite_file_name(name: str, value: str) -> bool:
    """Whether ``name`` is a database's name (``DB_NAME``) given a SQLite file's
    (``sample.db``, ``app.sqlite3``)."""
    what = meaning(name)
    named = what is not None and what.kind == DATABASE and what.part == "name"
    return named and re.search(r"\.(?:db|sqlite3?)$", value.strip(), re.I) is not None


def _by_meaning(
    found: ConfigDefaults,
    files: dict[str, bytes],
    types: dict[str, str],
    given: dict[str, str],
    provided: set[str],
    served: ServedDatabase | None,
    engines: Mapping[str, ServedDatabase] | None = None,
    url: str | None = None,
    *,
    node_options: Mapping[str, str],
) -> None:
    """The variables the app reads that nobody set, given what they are
    (``configvars.meaning``) where the service has it: a database's part the served
    database's (``SQL_HOST``, ``DB_PASS`` under whatever name the app reads it), its
    engine the string the app names that engine by (``DB_ENGINE``:
    ``django.db.backends.mysql`` for a Django app on the preview's MariaDB; SQLite's,
    and a file for its name, where the preview gives none), a host list (read with a
    default or not: decouple's ``Csv()`` applied to ``"localhost"``) every host, ``*``.
    An example's empty value, or a port that is a word, is as good as unset.
    ``node_options``: :func:`database_option_reads` of ``files``, read once by the caller."""
    # A variable given to a database client's option means that option's part, whatever
    # its name (``dialect: process.env.DIALECT``, Django's ``'PORT': os.environ['PORT']``).
    # Read with a default too: its default (``'localhost'``, ``'postgres'``) is its author's
    # machine's, and a dotenv file the code loads may hold a fill-in (Frengocode's
    # DRF-Post-App: ``PG_PORT = "port"`` in .envs/.env, its PG_PORT's default unused); a Node
    # client's option of any name (``"dialect": process.env.DB_DIALECT`` in a sequelize-cli
    # config: "Dialect needs to be explicitly supplied").
    python_options = database_option_variables(files)
    # A read whose reader parses a database's URL (env.db("CH_DATABASE_URL")) is one.
    url_reads = {n: "DATABASE_URL" for n, kind in types.items() if kind == DATABASE_URL_READ}
    options = {**url_reads, **python_options, **node_options}
    told = list(python_options)
    read = (*types, *found.values, *told, *node_options)
    names = [n for n in read if _not_given(n, given, options) and n not in provided]
    meanings = {
        name: what
        for name in dict.fromkeys(names)
        # (tobiaswutz's DATABASE_CONNECTION, pg's connectionString, says an engine by its
        # name alone: the option says what it is)
        if (what := _option_or_name_meaning(name, options))
        and _unfilled(name, found.values.get(name), options)
    }
    database = {n: w for n, w in meanings.items() if w.kind == DATABASE}
    filled: dict[str, str] = {}
    django = _django(files)
    engine = served.engine if served is not None else None
    sqlalchemy = not django and _uses_sqlalchemy(files)
    for name in [n for n, w in database.items() if w.part == "engine"]:
        # An engine's name whose own name says another engine served too names that one
        # (iv4n89's node-express-ts: TypeORM's ``type: process.env.MYSQL_TYPE || 'mysql'``
        # beside its MYSQL_HOST, pg and mysql2 both listed: given "postgres", pg spoke to
        # the MariaDB, "Cannot read properties of undefined (reading 'handleCopyData')").
        own = database[name].engine
        said = own if own and own != engine and own in (engines or {}) else engine
        filled[name] = engine_value(said or "sqlite", name, django, sqlalchemy=sqlalchemy)
        if (chosen := _compared_engine(name, said or "sqlite", files)) is not None:
            filled[name] = chosen
    for name, what in database.items():
        if what.part == "url":
            # Stored into a URL setting (``SQLALCHEMY_DATABASE_URI``), whatever its own
            # name says: the URL the preview gives (required.database_option_variables).
            if url and options.get(name) == "DATABASE_URL":
                filled[name] = _sync_of_pair(name, url, options, files)
            continue
        if served is not None and what.engine in ("", served.engine):
            if (value := _part_value(name, what.part, served)) is not None:
                filled[name] = value
        elif what.engine and (other := (engines or {}).get(what.engine)) is not None:
            # An engine's part where the generic names are the other's: its own server's
            if (value := other.part(what.part)) is not None and what.part != "engine":
                filled[name] = value
        elif served is None and what.part == "name" and filled:
            filled[name] = "db.sqlite3"  # SQLite's file (its engine given), in the app's dir
    for name in (*names, *sorted(read_variables(files))):
        what = meaning(name)
        unset = not given.get(name) and not found.values.get(name) and name not in provided
        if what is not None and what.kind == HOSTS and unset and name not in filled:
            found.values[name] = "*"  # said with the throwaway values
            found.generated.append(name)
    if filled:
        found.values.update(filled)
        found.served.update(filled)
        where = f"the preview's {engine}'s" if engine else "what the preview gives"
        found.notes.append(
            f"{', '.join(filled)}: {where}, by what their names say the app reads them for"
        )


# The words an app's own code names each engine by, where it compares a variable with them.
_ENGINE_WORDS = {
    "postgresql": ("postgres", "postgresql", "pg", "psql", "pgsql"),
    "mysql": ("mysql", "mariadb"),
    "sqlite": ("sqlite", "sqlite3"),
}


def _compared_engine(name: str, engine: str, files: dict[str, bytes]) -> str | None:
    """The word the app's Python code names ``engine`` by for the variable ``name``: where
    it compares the variable with engines' words (abolfazlakbary's fastapi-core: ``match
    configs.db_connection: case "sqlite": … case "postgres": … case _: raise
    ValueError("Database connection failed")``, given "postgresql"), else its own default
    where that names ``engine`` (Nohysiwe's FastAPIBlogBackend: ``config("DB_DRIVER",
    default="postgresql")``, an asyncpg DSN's scheme, given SQLAlchemy's "psycopg2": "invalid
    DSN"); None elsewhere."""
    if not any(path.endswith(".py") for path in files):
        return None
    words = _ENGINE_WORDS.get(engine, ())
    choices = compared_values(files).get(name.upper(), [])
    if (chosen := next((c for c in choices if c.lower() in words), None)) is not None:
        return chosen
    default = own_defaults(files).get(name)
    return default if default is not None and default.lower().split("+")[0] in words else None


def _part_value(name: str, part: str, served: ServedDatabase) -> str | None:
    """The served database's ``part`` for the variable ``name``. A schema's variable
    (``DATABASE_SCHEMA``) is PostgreSQL's ``public``, the namespace its tables go in where
    nothing made another, not the database's name, which it is on MySQL, whose schema is
    its database (tommycontreras11's typeorm-node-crud-restapi: TypeORM's ``schema:
    process.env.DATABASE_SCHEMA || 'public'`` given the database's name, 'schema "…" does
    not exist' at its migrations and at its connection)."""
    if part == "name" and served.engine == "postgresql" and name.upper().endswith("SCHEMA"):
        return "public"
    return served.part(part)


def _not_given(name: str, given: Mapping[str, str], options: Mapping[str, str]) -> bool:
    """Whether ``given`` (its .env's, the user's) leaves ``name`` to be filled by meaning:
    unset, empty, or an engine's value that names no engine (``configvars.names_no_engine``),
    which the app's own driver cannot take either (the user's own value still wins: appenv)."""
    value = given.get(name)
    return not value or names_no_engine(_option_or_name_meaning(name, options), value)


_ENGINES_OF = {"postgres": "postgresql", "mysql": "mysql"}  # TypeORM's type: the served's
# The services none of whose servers this machine has (nor gives a preview): their switch
# (configvars.meaning's SWITCH) turns them off.
_NO_SERVER_HERE = frozenset(
    {
        "kafka",
        "elasticsearch",
        "opensearch",
        "cassandra",
        "neo4j",
        "rabbitmq",
        "nats",
        "pulsar",
        "clickhouse",
        "influxdb",
        "solr",
        "meilisearch",
        "typesense",
        "zookeeper",
    }
)


def _switched_off(
    found: ConfigDefaults,
    files: dict[str, bytes],
    types: dict[str, str],
    given: dict[str, str],
    provided: set[str],
    node: bool,
) -> None:
    """The switches the app reads of a service none of whose servers is here
    (``KAFKA_ENABLED``, ``USE_ELASTICSEARCH``, ``DISABLE_KAFKA``), that neither its .env
    nor the user set, turned to off (its example's ``true`` too: its author's, with a
    broker beside it): briancappello's fastapi-starter starts its Kafka consumers
    (``os.getenv("KAFKA_ENABLED", "true")``) at start, and died on aiokafka's "Unable to
    bootstrap from localhost:9092"."""
    if node:
        required, read = node_env_reads(files)
        names = [*required, *read]
    else:
        names = [*types, *sorted(read_variables(files)), *settings_field_types(files)]
    names += list(found.values)
    said: list[str] = []
    maintenance: list[str] = []
    for name in dict.fromkeys(names):
        if given.get(name) or name in provided:
            continue
        if _MAINTENANCE.search(name.upper()):
            # Its maintenance page, on by its own default (Jude-Vigor's flask-payment-api:
            # ``os.getenv("MAINTENANCE_MODE", "true")``, its home page a 503): a preview is
            # there to serve, as its author's own runs did with it turned off.
            found.values[name] = "false"
            maintenance.append(name)
            continue
        what = meaning(name)
        if what is None or what.kind != SWITCH or what.engine not in _NO_SERVER_HERE:
            continue
        found.values[name] = "false" if what.part == "on" else "true"
        said.append(f"{name}={found.values[name]}")
    if said:
        found.notes.append(
            f"{', '.join(said)}: its switches of services none of whose servers is here "
            "(nor can be given a preview), turned off"
        )
    if maintenance:
        found.notes.append(f"{', '.join(maintenance)}=false: its maintenance mode, off")


# A switch putting the app in maintenance (MAINTENANCE_MODE, MAINTENANCE, IS_MAINTENANCE).
_MAINTENANCE = re.compile(r"(?:^|_)MAINTENANCE(?:_MODE|_ENABLED|_ON)?$")


def _unfilled(name: str, value: str | None, options: Mapping[str, str] | None = None) -> bool:
    """An example's value that gives nothing: empty, a fill-in left for its reader
    (bahadirsofuoglu's README: ``DIALECT= "YOUR_DIALECT"``, which Sequelize refused), or a
    database's port that is a word (Cohetero's FastAPI-JWT-SQLAlchemy's README: ``DB_PORT
    = port``, which no client parses), or a database's URL that is no URL, only a word
    naming what to put there (tomdu3's flask-expense: ``DB_URI=database_url`` in its
    .env-sample, SQLAlchemy's "Could not parse SQLAlchemy URL"). ``options``: as
    :func:`_option_or_name_meaning` reads them."""
    if not value or not value.strip() or fill_in(value):
        return True
    what = _option_or_name_meaning(name, options or {})
    if what is None or what.kind != DATABASE:
        return False
    if _NAMES_A_VARIABLE.fullmatch(value.strip()):
        return True
    if what.part == "url":
        return _url_word(name, value, options or {})
    if what.part == "engine":
        return names_no_engine(what, value)
    return what.part == "port" and not value.strip().isdigit()


# A database's part given the name of a variable instead of a value: haileyjpark's
# books-koa-backend's README lists ``DATABASE_DIALECT=DB_DIALECT``, ``DATABASE_HOST=DB_HOST``
# (Sequelize: "The dialect DB_DIALECT is not supported").
_NAMES_A_VARIABLE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def _described(name: str, value: str) -> bool:
    """Whether ``value``, an example's, describes the host, port or URL ``name`` is, in
    words, instead of giving one: none of those has a space (guigiusti's
    fastify-url-shortener: ``REDIS_PORT = Redis Port from Docker Container / Defaults to
    6379``, which its ``Number(process.env.REDIS_PORT ?? 6379)`` made NaN; its HOST and
    PORT alike)."""
    last = re.split(r"[_\W]+", name.upper())[-1]
    return last in _ADDRESS_WORDS and re.search(r"\S\s+\S", value.strip()) is not None


_ADDRESS_WORDS = {"HOST", "HOSTNAME", "PORT", "URL", "URI", "DSN"}


def _option_or_name_meaning(name: str, options: Mapping[str, str]) -> Meaning | None:
    """What the variable ``name`` is, given ``options`` ({a variable a database client's
    option is given: that option's generic name}): a connection string's option over its
    name, and over a store's word in it (a URL an engine maker is given is a SQL
    database's, as Supabase's connection string is its PostgreSQL's: rollingsxshi's
    fastapi-lms); an option's other part over a name saying a URL (penkong's devref-back:
    ``host: config.DBURL``, its example's ``DBURL=pg``, was given the preview's URL as a
    host name: "getaddrinfo ENOTFOUND postgresql://…"); else its name's, else the
    option's where the name says no other store's (wangxiang365's node-koa-typescript
    gives REDIS_DB and REDIS_PWD to its Redis client's ``db`` and ``password``, which got
    the MariaDB's database and password: "ERR value is not an integer or out of range")."""
    option = options.get(name)
    if option == "DATABASE_URL":
        return meaning(option)
    named = meaning(name)
    told = meaning(option) if option is not None and not names_another_store(name) else None
    url = named is not None and named.kind == DATABASE and named.part == "url"
    if url and told is not None and told.kind == DATABASE and told.part != "url":
        return told
    # Another part of the same database than its name says: the option it is given to
    # says what it is (xpros' django-rest-framework-todo: ``"HOST":
    # os.getenv("DATABASE_SERVICE_NAME")``, given the database's name, "could not
    # translate host name 'app'").
    if (
        named is not None
        and told is not None
        and named.kind == told.kind == DATABASE
        and told.part != named.part
        and not named.engine
    ):
        return told
    return named or told


def _url_word(name: str, value: str, options: Mapping[str, str]) -> bool:
    """Whether ``value`` of the database URL ``name`` is a word standing for one (not a
    host's name where a client's option says it is a host: :func:`_option_or_name_meaning`)."""
    what = _option_or_name_meaning(name, options)
    url = what is not None and what.kind == DATABASE and what.part == "url"
    return url and _NO_URL.fullmatch(value.strip()) is not None


# A word where a URL belongs (``database_url``, ``DATABASE-URI``, ``postgres_url``): no
# scheme, no path, no host:port; a SQLite file's name (``app.db``) has a dot and is kept.
_NO_URL = re.compile(r"[A-Za-z][A-Za-z_-]*")


# A start naming the env file it reads: Node's --env-file (Node exits 9 without it),
# dotenv-cli's -e, env-cmd's -f (both fail without theirs).
_START_ENV_FILE = re.compile(
    r"""(?:--env-file|(?<![\w-])dotenv(?:-cli)?\s+(?:(?!--\s)\S+\s+){0,4}?-e|"""
    r"""(?<![\w-])env-cmd\s+(?:-f|--file))(?:=|\s+)(["']?)([^\s"';&|]+)\1"""
)
# A script copying an env file (bugoverfl0w's fastify-sequelize-basic builds with ``babel
# ./src --out-dir build; cp ./src/.env ./build/``, its upload src/.env.example: "cp: cannot
# stat './src/.env'"): it reads the file as a start naming it does.
_COPIED_ENV_FILE = re.compile(
    r"""(?<![\w-])cp(?:\s+-\w+)*\s+(["']?)((?:[^\s"';&|]*/)?\.env(?:\.[\w.-]+)?)\1(?=\s)"""
)
_TEST_SCRIPT = re.compile(r"test|lint|format|e2e|jest|cypress", re.IGNORECASE)


def start_env_files(
    files: dict[str, bytes], anchor: str, argv: tuple[str, ...] | list[str]
) -> list[str]:
    """The env files the app's start names (``node --env-file=.env``, also in its
    package.json's scripts, ``dotenv -e .env``, ``env-cmd -f .env``, ``cp ./src/.env
    ./build/``), or its ``.env`` where its code refuses to start without one
    (:func:`_refuses_no_env`), that the upload lacks, as paths in the upload (relative to
    the package.json's directory, where npm runs its scripts): the service writes them
    (:func:`env_file_text`)."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    texts = [" ".join(argv)]
    package = files.get(posixpath.join(directory, "package.json"))
    try:
        scripts = json.loads(package).get("scripts") if package else None
    except (ValueError, AttributeError, RecursionError):
        scripts = None
    if isinstance(scripts, dict):
        texts += [str(v) for k, v in scripts.items() if not _TEST_SCRIPT.search(str(k))]
    found: list[str] = []
    for text in texts:
        for match in [*_START_ENV_FILE.finditer(text), *_COPIED_ENV_FILE.finditer(text)]:
            path = posixpath.normpath(posixpath.join(directory, match.group(2)))
            if path not in files and not path.startswith(("..", "/")) and path not in found:
                found.append(path)
    own = posixpath.join(directory, ".env")
    if package is not None and own not in files and own not in found and _refuses_no_env(files):
        found.append(own)
    return found


# A Node app that refuses to start without its .env: dotenv's result checked (``if
# (envFound.error) throw …``, Uzair-Organization's express-objection; or a block that
# says so first: ``{ console.log("Error loading env variables, aborting."); process.exit(1)
# }``, ghassenjridi8's typescript-rest-api), or the file's existence
# (``fse.pathExists(`${root}.env`)`` then throw, M-erb's koa-knex-starter).
_DOTENV_ERROR_THROWN = re.compile(
    r"if\s*\(\s*[\w.]+\.error\s*\)\s*(?:\{[^{}]*?)?\b(?:throw\b|process\.exit\()"
)
_ENV_FILE_CHECKED = re.compile(
    r"(?:existsSync|pathExists(?:Sync)?|accessSync)\s*\([^;\n]*\.env\b(?![.\w-])"
)


# A path to a .env written as a string (```${__dirname}/../../.env` ``, ``'.env'``).
_ENV_PATH_LITERAL = re.compile(r"""["'`][^"'`\n]*(?<![\w.-])\.env["'`]""")


def _refuses_no_env(files: dict[str, bytes]) -> bool:
    """Whether the Node app's own code refuses to start without a ``.env`` (above): its
    existence checked in the call or through a name bound to its path (jeiDev's
    vehicle-entity-crud-nestjs: ``const envFilePath = `${__dirname}/../../.env` ``, then
    ``if (!fs.existsSync(envFilePath)) process.exit(0)``, ".env file does not exist")."""
    for _, text in node_sources(files):
        if "dotenv" in text and _DOTENV_ERROR_THROWN.search(text):
            return True
        checked = _ENV_FILE_CHECKED.search(text) or (
            "existsSync" in text and _ENV_PATH_LITERAL.search(text)
        )
        if checked and ("throw" in text or "process.exit" in text):
            return True
    return False


# An env file named for the run's NODE_ENV, read whole and parsed (NestJS's documented
# ConfigService before @nestjs/config: ``dotenv.parse(fs.readFileSync(filePath))`` of
# `${process.env.NODE_ENV || 'development'}.env`, in the folder its module's
# ``register({ folder: './config' })`` gives): readFileSync throws without it.
_NODE_ENV_NAMED = re.compile(
    r"""`\$\{\s*process\.env\.NODE_ENV(?:\s*(?:\|\||\?\?)\s*["'][\w-]+["'])?\s*\}\.env`"""
)
_FOLDER_OPTION = re.compile(r"""\bfolder\s*:\s*["'`](?:\./)?([\w./-]*)["'`]""")
NODE_ENV_GIVEN = "development"  # (the preview's NODE_ENV: sandbox.process)
# An env file a module parses itself by its literal name (dlrtn's nestjs-study: ``constructor
# (filePath = 'default.env') { … dotenv.parse(fs.readFileSync(filePath)) }``): group 1.
_PARSED_ENV_FILE = re.compile(r"""["'`](?:\./)?((?:[\w.-]+/)*[\w-]+\.env)["'`]""")


def node_env_named_files(files: dict[str, bytes], anchor: str) -> list[str]:
    """The env files named for NODE_ENV that the Node app's code reads whole
    (:data:`_NODE_ENV_NAMED`: ``readFileSync`` beside the name, its values parsed from
    the file alone) and the upload lacks: ``development.env`` (the preview's NODE_ENV) in
    the folder its options name (``options.folder``), else where npm runs it, as paths in
    the upload. miyachew's nestjs-sqlite-user-photo-tags keeps only config/.env.example
    (its README: "Create {environment}.env files based on .env.example"): ENOENT, open
    'config/development.env', at every start. So is one the module that parses it names
    (:data:`_PARSED_ENV_FILE`: ``'default.env'``)."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    sources = list(node_sources(files))
    found: list[str] = []
    for _, text in sources:
        if "readFileSync" in text and re.search(
            r"\bdotenv\.parse\(|\bparse\(\s*(?:fs\.)?readFileSync", text
        ):
            for name in _PARSED_ENV_FILE.findall(text):
                path = posixpath.normpath(posixpath.join(directory, name))
                if path not in files and not path.startswith(("..", "/")) and path not in found:
                    found.append(path)
        if "readFileSync" not in text or not _NODE_ENV_NAMED.search(text):
            continue
        folders = [""]
        if re.search(r"\boptions\.folder\b|\{\s*folder\s*\}", text):
            folders = [m.group(1) for _, t in sources for m in _FOLDER_OPTION.finditer(t)]
        for folder in folders:
            path = posixpath.normpath(posixpath.join(directory, folder, f"{NODE_ENV_GIVEN}.env"))
            if path not in files and not path.startswith(("..", "/")) and path not in found:
                found.append(path)
    return found


# The result of dotenv's config() used, which says whether a .env was read: its
# ``parsed`` values (``const { DB_HOST } = require("dotenv").config().parsed``) or its
# ``error`` (``const { error } = require('dotenv').config(); if (error) throw …``); also
# config imported by name and given options, or handed to dotenv-expand's expand()
# (ivan-yuldashev's hono-quickstart: ``const { parsed } = expand(config({ override:
# true, path: … '.env' }))``, its schema checked against ``parsed`` alone).
_DOTENV_RESULT = re.compile(
    r"""\{[^{}]*\b(?:error|parsed)\b[^{}]*\}\s*=\s*"""
    r"""(?:(?:require\(\s*["']dotenv["']\s*\)|dotenv)\.|(?:\w+\.)?expand\(\s*)?config\("""
    r"""|\.config\([^()]*\)\s*\.\s*(?:parsed|error)\b"""
    r"""|=\s*(?:require\(\s*["']dotenv["']\s*\)|dotenv)\.config\(\s*\)\s*;?\s*\n(?s:.*)\.parsed\b"""
)


def node_dotenv_result_files(files: dict[str, bytes], anchor: str) -> list[str]:
    """The ``.env`` where npm runs the Node app (its package's folder) when the upload
    lacks it and its code uses what dotenv's ``config()`` found there, not the environment
    alone: AndriiZil's nodejs-sequelize-posgresql throws '".env" file should be provided.'
    on config()'s ``error``; T-travis's fastify-tasks-list destructures DB_HOST … from its
    ``parsed``, undefined without the file. The service writes it with what it gives."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    path = posixpath.join(directory, ".env")
    if path in files:
        return []
    for _, text in node_sources(files):
        if "dotenv" in text and _DOTENV_RESULT.search(text):
            return [path]
    return []


def named_env_values(files: dict[str, bytes], anchor: str) -> dict[str, str]:
    """The variables of the env files the upload has that its start or its package.json's
    scripts name (``bun run --env-file=.env.production src/main.ts``): thomijasir's
    hono-starter sets DB_DRIVER=SQLITE there, which its zod schema allows, and the
    preview's by-meaning DB_DRIVER replaced it (ZodError at every start)."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    package = files.get(posixpath.join(directory, "package.json"))
    try:
        scripts = json.loads(package).get("scripts") if package else None
    except (ValueError, AttributeError, RecursionError):
        scripts = None
    found: dict[str, str] = {}
    texts = (
        [str(v) for k, v in scripts.items() if not _TEST_SCRIPT.search(str(k))]
        if isinstance(scripts, dict)
        else []
    )
    for text in texts:
        for match in _START_ENV_FILE.finditer(text):
            path = posixpath.normpath(posixpath.join(directory, match.group(2)))
            if path in files and not path.startswith(("..", "/")):
                for name, value in dotenv_text(files[path]).items():
                    found.setdefault(name, value)
    for path in _code_loaded_env_files(files):
        for name, value in dotenv_text(files[path]).items():
            found.setdefault(name, value)
    return found


# dotenv's config given the file's path (``require('dotenv').config({ path: __dirname +
# '/.env' })``, ``dotenv.config({path: path.join(__dirname, '../.env')})``, ``config({
# path: './config/.env' })`` imported from dotenv): its path's expression follows.
_DOTENV_CONFIG = re.compile(r"""(?:\.\s*|(?<![\w$.]))config\s*\(\s*\{[^{}]*?\bpath\s*:\s*""")


def _code_loaded_env_files(files: dict[str, bytes]) -> list[str]:
    """The upload's env files its Node code loads by their path with dotenv, elsewhere
    than the folders a ``.env`` is looked for in: blss-tico's fastify-webserver keeps its
    own in src/config/.env, read by ``require('dotenv').config({ path: __dirname +
    '/.env' })`` from src/config/configuration.js; the service, reading none, gave its
    SRV_HOST, RD_HOST … stand-ins, which dotenv does not replace, and the app exited 1."""
    found: list[str] = []
    for source, text in node_sources(files):
        if "dotenv" not in text:
            continue
        for match in _DOTENV_CONFIG.finditer(text):
            path = node_path(text[match.end() :], posixpath.dirname(source))
            if path is None or path.startswith("../") or path not in files:
                continue
            if "env" in posixpath.basename(path).lower() and path not in found:
                found.append(path)
    return found


def named_values(
    files: dict[str, bytes],
    anchor: str,
    given: dict[str, str],
    provided: dict[str, str],
    names: list[str],
) -> dict[str, str]:
    """The values the service gives ``names`` as it would variables of those names the
    app's code required (:func:`config_defaults`: by meaning, throwaways), and what it
    gives under them itself; for a settings file the app loads and lacks
    (``apps.written.configfiles``), whose keys are read, not variables."""
    reads = "import os\n" + "".join(f"{name} = os.environ[{name!r}]\n" for name in names)
    found = config_defaults({**files, _NAMED_READS: reads.encode()}, anchor, given, provided)
    # (no stand-ins: a key such a file is written with and nothing fills stays empty, a
    # form to fill in, as the app's author's file would have it)
    stood = set(found.stand_ins)
    values = {**provided, **given, **{n: v for n, v in found.values.items() if n not in stood}}
    # A name the app opens its log file by, whatever it says (badrievad's FlaskCRM:
    # ``RotatingFileHandler(PATH_FOR_LOG)`` of its ignored config.py, given "", opened the
    # working directory: "IsADirectoryError: [Errno 21] Is a directory: '.'"): a file.
    for name in log_file_names(files) & set(names):
        if not values.get(name):
            values[name] = f"{name.lower()}.log"
    return {name: values[name] for name in names if name in values}


_NAMED_READS = ".preview-named-reads.py"  # (never written: read by config_defaults alone)


def env_file_text(values: dict[str, str]) -> bytes:
    """``values`` as a ``.env`` that Node's own parser, dotenv's and python-dotenv's
    read alike: each quoted (single quotes, literal, where the value has none)."""
    lines = []
    for name, value in values.items():
        if "'" not in value and "\n" not in value:
            lines.append(f"{name}='{value}'")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'{name}="{escaped}"')
    return ("\n".join(lines) + "\n").encode() if lines else b""


# A Flask app's settings file named by a variable: ``config.from_pyfile(os.getenv("X"))``
# (``os.environ.get``, ``os.environ[…]``) or ``config.from_envvar("X")``: group 1 or 2.
_SETTINGS_FILE_VARIABLE = re.compile(
    r"""\.from_pyfile\(\s*os\.(?:getenv|environ\.get)\(\s*["'](\w+)["']"""
    r"""|\.from_pyfile\(\s*os\.environ\[\s*["'](\w+)["']"""
    r"""|\.from_envvar\(\s*(?:variable_name\s*=\s*)?["'](\w+)["']"""
)


def settings_file_variables(files: dict[str, bytes]) -> list[str]:
    """The variables whose value is the path of the settings file a Flask app loads
    (:data:`_SETTINGS_FILE_VARIABLE`); its env files, where they give it, name its own:
    fidemin's flask-practice raises "CONFIG_FILE is not set" at its start, its settings
    file its image's, none in its repository."""
    found: list[str] = []
    for path in python_files(files):
        if b"from_pyfile" not in files[path] and b"from_envvar" not in files[path]:
            continue
        text = uncommented(files[path]).decode("utf-8", "replace")
        for match in _SETTINGS_FILE_VARIABLE.finditer(text):
            name = next(group for group in match.groups() if group)
            if name not in found:
                found.append(name)
    return found


def example_copies(files: dict[str, bytes]) -> dict[str, str]:
    """{a configuration file the upload lacks: its example}, e.g. ``{"src/config.ts":
    "src/config.ts.example"}`` (see the module doc)."""
    copies: dict[str, str] = {}
    for path in sorted(files):
        if "node_modules/" in path:
            continue
        for target in [*_example_targets(path), *_joined_prefix_targets(path, files)]:
            name = posixpath.basename(target)
            if (
                target != path
                and target.endswith(_CONFIG_FILES)
                and not name.startswith(".env")
                and name not in _NEVER_COPIED
                and target not in files
                and target not in copies
            ):
                copies[target] = path
    copies.update(_backup_copies(files, copies))
    return copies


# A module's copy kept beside it under another name (``app.module-backup.ts``,
# ``config1.js``, ``db.copy.js``, ``database.default.js``), the module itself git-ignored.
_KEPT_COPY = re.compile(
    r"^(?P<stem>.+?)(?:[-_.](?:backup|bak|copy|old|orig|default)|[-_]?\d)"
    r"(?P<extension>\.[cm]?[jt]s)$"
)
_SCRIPT_SOURCES = (".ts", ".js", ".mjs", ".cjs", ".mts", ".cts")
# A relative module a source imports: ``from './app.module'``, ``require("../config")``.
_RELATIVE_IMPORT = re.compile(
    rb"""(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|^\s*import\s+)["'](\.{1,2}/[^"'\n]+)["']""",
    re.MULTILINE,
)


def _backup_copies(files: dict[str, bytes], taken: dict[str, str]) -> dict[str, str]:
    """{a module the upload's sources import and lack: its copy kept beside it}:
    kausar2697's boilerplate-nestjs-typeorm-passport-jwt git-ignores src/app.module.ts,
    which src/main.ts imports, and ships src/app.module-backup.ts (its README: copy the
    backup and rename it); nest build failed on TS2307. qibing147147's miniprogram-koa
    git-ignores config/config.js and ships config/config1.js; wangYalun's myExpress
    git-ignores config/database.js and ships config/database.default.js. Only a module
    something imports: a copy nothing reads is an old one (egg.js reads its
    ``config.default.js`` itself)."""
    backups: dict[str, tuple[str, str]] = {}  # the module, no extension: (target, backup)
    for path in sorted(files):
        folder, name = posixpath.split(path)
        if "node_modules/" not in path and (m := _KEPT_COPY.match(name)):
            target = posixpath.join(folder, m["stem"] + m["extension"])
            if target not in files and target not in taken:
                backups.setdefault(posixpath.splitext(target)[0], (target, path))
    found: dict[str, str] = {}
    for path, data in files.items() if backups else ():
        if not path.endswith(_SCRIPT_SOURCES) or len(data) > 512 * 1024:
            continue
        for match in _RELATIVE_IMPORT.finditer(data):
            spec = match.group(1).decode("utf-8", "replace")
            module = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
            module = posixpath.splitext(module)[0] if module.endswith((".js", ".ts")) else module
            if module in backups:
                target, backup = backups[module]
                found[target] = backup
    return found


def _example_targets(path: str) -> list[str]:
    """The file ``path`` is an example of, however its name says so: a suffix
    (``config.ts.example``), a prefix (``example.config.json``: afrijaldz's
    express-sequelize-starter, whose ``models/index.js`` requires ``config/config.json``)
    or a word before its extension (``config.example.json``, ``config_example.py``)."""
    folder, name = posixpath.split(path)
    suffixes = (*_EXAMPLE_SUFFIXES, *_KEPT_SUFFIXES)
    targets = [path.removesuffix(s) for s in suffixes if path.endswith(s)]
    for word in (s.lstrip(".") for s in _EXAMPLE_SUFFIXES):
        rest = name.removeprefix(f"{word}.")
        if name.startswith(f"{word}.") and name.count(".") >= 2 and not _DECLARATION.match(rest):
            targets.append(posixpath.join(folder, name.removeprefix(f"{word}.")))
        stem, dot, extension = name.rpartition(".")
        if dot and stem.endswith(f".{word}") and stem.count(".") >= 1:
            targets.append(posixpath.join(folder, f"{stem.removesuffix(f'.{word}')}.{extension}"))
        # Joined by ``_`` or ``-`` (``config_example.py``: bku4erov's django-drf-hw-smart-home
        # git-ignores measurement/config.py, which its settings import).
        for joined in (f"_{word}", f"-{word}"):
            if dot and stem.endswith(joined) and len(stem) > len(joined):
                targets.append(posixpath.join(folder, f"{stem.removesuffix(joined)}.{extension}"))
    return [t for t in targets if t != path]


def _joined_prefix_targets(path: str, files: dict[str, bytes]) -> list[str]:
    """The file ``path`` is an example of by a word before its name joined by ``-`` or
    ``_`` (``sample-config.yaml``: kelvingsli's flask-microservice-users, whose app.py
    opens ``config.yaml``, git-ignored: FileNotFoundError), where a source of the app's
    names that file (a sample of data, ``sample-users.json``, is no example of
    ``users.json`` that nothing reads)."""
    folder, name = posixpath.split(path)
    targets = []
    for word in (s.lstrip(".") for s in _EXAMPLE_SUFFIXES):
        for joined in (f"{word}-", f"{word}_"):
            rest = name.removeprefix(joined)
            if not name.startswith(joined) or "." not in rest:
                continue
            if _named_by_code(rest, files) or _required_by_code(folder, rest, files):
                targets.append(posixpath.join(folder, rest))
    return targets


def _required_by_code(folder: str, name: str, files: dict[str, bytes]) -> bool:
    """Whether a Node source of the upload's requires the module ``folder/name`` by its
    path without its extension (icheater's expressserver: ``require(`${appRoot}/config/
    mailerconfig`)``, git-ignored, beside config/example_mailerconfig.js: "Cannot find
    module")."""
    stem, extension = posixpath.splitext(name)
    if extension not in _SCRIPT_SOURCES or not folder:
        return False
    path = re.escape(f"{folder}/{stem}".encode())
    required = re.compile(rb"""(?:["'`/]|\./)""" + path + rb"""["'`]""")
    return any(
        required.search(data)
        for source, data in files.items()
        if source.endswith(_SCRIPT_SOURCES) and "node_modules/" not in source
    )


def _named_by_code(name: str, files: dict[str, bytes]) -> bool:
    """Whether a source of the upload's (Python or Node) names the file ``name`` in a
    string (``open('config.yaml')``, ``require('./config.json')``)."""
    quoted = re.compile(rb"""["'`/\\]""" + re.escape(name.encode()) + rb"""["'`]""")
    return any(
        quoted.search(data)
        for path, data in files.items()
        if path.endswith((".py", *_SCRIPT_SOURCES)) and "node_modules/" not in path
    )


def env_files_needed(files: dict[str, bytes]) -> list[str]:
    """The ``.env`` files the upload lacks that its code gives a loader which fails
    without one (``Config(os.path.join(os.path.dirname(__file__), "..", ".env"))``), as
    paths in the upload; only paths the code spells out (module doc)."""
    return _env_files_lacked(files, _FILE_LOADERS)


# The loaders that find a .env themselves when given no path, and whose reader fails
# without one: dotenv_values() (gustavomotadev's food menu read AMBIENTE['ALGORITMO']).
_FINDING = {"dotenv_values"}


def env_files_read_only(files: dict[str, bytes]) -> list[str]:
    """The ``.env`` files the upload lacks whose values its code reads from the file
    alone, never from the environment: python-dotenv's ``dotenv_values(".env")`` returns
    the file's variables as a dict (BlackStarCodes' fastapi-jwt-auth-api reads
    ``v["SECRET_KEY"]`` from it, its own .env kept in src/ with empty values: KeyError at
    start-up). The service writes them with what it gives, as it does an env file the
    start names (:func:`start_env_files`); a path relative to the directory it runs in,
    the upload's root (where ``dotenv_values()`` is given no path: the nearest .env
    above the module)."""
    return _env_files_lacked(files, _VALUE_LOADERS)


def _env_files_lacked(
    files: dict[str, bytes], known_loaders: tuple[tuple[bytes, str], ...]
) -> list[str]:
    needed: list[str] = []
    for path in python_files(files):
        data = files[path]
        loaders = {name for marker, name in known_loaders if marker in data}
        tree = parse_module(data) if loaders else None
        if tree is None:
            continue
        names: dict[str, str] = _imported_paths(tree, path, files)
        for node in ast.walk(tree):
            bind_path(node, path, names)
            if isinstance(node, ast.Call) and (loader := last_name(node.func)) in loaders:
                given = node.args[0] if node.args else _dotenv_path_keyword(node)
                found = upload_path(given, path, names) if given is not None else None
                if given is None and not node.keywords and loader in _FINDING:
                    # No path: python-dotenv finds the nearest .env above the module's
                    # folder, which the upload's root is on the way to.
                    found = ".env"
                if found and loader == "read_dotenv" and not found.endswith(".env"):
                    found = posixpath.normpath(posixpath.join(found, ".env"))  # a directory's
                if found and found.endswith(".env") and found not in files:
                    needed.append(found)
    return sorted(set(needed))


def _imported_paths(tree: ast.Module, module: str, files: dict[str, bytes]) -> dict[str, str]:
    """The paths a module imports from a sibling by a relative import (``from .base import
    *`` bringing ``BASE_DIR = Path(__file__).resolve().parent.parent.parent``: pjesus22's
    simple-drf-blog gives ``RepositoryEnv(BASE_DIR.parent / ".env")`` in its development
    settings, whose .env it lacks, and migrate died on FileNotFoundError)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.level or not node.module:
            continue
        source = imported_files(module, node)[0]
        other = parse_module(files[source]) if source in files else None
        if other is None:
            continue
        paths: dict[str, str] = {}
        for statement in other.body:
            bind_path(statement, source, paths)
        wanted = {a.asname or a.name: a.name for a in node.names}
        for bound, name in wanted.items():
            if name == "*":
                found.update(paths)
            elif name in paths:
                found[bound] = paths[name]
    return found


def _dotenv_path_keyword(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == "dotenv_path"), None)


def gunicorn_settings(
    argv: tuple[str, ...], files: dict[str, bytes]
) -> tuple[tuple[str, ...], bytes | None]:
    """``argv`` (a start command) reading the app's gunicorn settings through
    :data:`GUNICORN_SHIM`, and that file's text; ``argv`` and None where it runs no
    gunicorn or gives it no settings file. flask-blueprint-tutorial's gunicorn.conf.py
    set ``daemon = True`` and its logs under /var/log: its start exited at once, silent."""
    word = _GUNICORN_WORD.search(argv[2]) if argv[:2] == ("sh", "-c") and len(argv) == 3 else None
    if word is not None:  # a Procfile's line
        line = argv[2]
        given = _GUNICORN_CONFIG.search(line, word.end())
        conf = given.group(1) if given else "gunicorn.conf.py"
        if not given and conf not in files:
            return argv, None
        if given:
            line = line[: given.start(1)] + GUNICORN_SHIM + line[given.end(1) :]
        else:
            line = line[: word.end()] + f" -c {GUNICORN_SHIM}" + line[word.end() :]
        return ("sh", "-c", line), _shim(conf)
    at = next((i + 1 for i, a in enumerate(argv) if a in ("gunicorn", "gunicorn.app.wsgiapp")), 0)
    if not at or "gunicorn.conf.py" not in files:
        return argv, None
    if any(a in ("-c", "--config") or a.startswith("--config=") for a in argv[at:]):
        return argv, None  # our own commands give none: an app's command option does
    return (*argv[:at], "-c", GUNICORN_SHIM, *argv[at:]), _shim("gunicorn.conf.py")


def _shim(conf: str) -> bytes:
    return f"""# The preview service's: {conf}'s settings, then what a preview needs of them (in
# the foreground, its logs on its output, no pid file): gunicorn reads this file instead.
import runpy as _runpy

for _name, _value in _runpy.run_path({conf!r}).items():
    if not _name.startswith("_"):
        globals()[_name] = _value
daemon = False
pidfile = None
errorlog = "-"
if globals().get("accesslog"):
    accesslog = "-"
""".encode()
