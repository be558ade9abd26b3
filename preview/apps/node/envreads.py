"""The environment variables a Node app's own sources read (never run): :func:`node_env_reads`.

envalid's ``cleanEnv(process.env, { X: str(), PORT: port() })`` validates them at start
and exits naming those unset: each without a ``default`` (or ``devDefault``) is
required, a number for ``num()`` and ``port()``. Any other ``process.env.X`` (or
``process.env["X"]``, ``const { X } = process.env``) read is read as optional: what the app
does without it is its own (``process.env.JWT_SECRET || "dev"``), but a throwaway value
where its name says what it is does no harm (:mod:`preview.builds.configdefaults`).
NestJS's ``ConfigService`` alike: ``getOrThrow('X')`` fails the start without it
(umairansariii's nestjs-typeorm: "Configuration key "POSTGRES_SYNC" does not exist"),
``get('X')`` is optional; and the Joi schema its ``ConfigModule.forRoot({ validationSchema
})`` checks at start: ``X: Joi.string().required()`` is required (a number for
``Joi.number()``), unless it has a ``.default(…)``. And a zod schema a file parses
``process.env`` with, or a module named for it declares (``z.object({ JWT_SECRET:
z.string().min(1) })``, t3-env's ``createEnv``, zennv's ``zennv({ schema })`` in env.ts):
each key without ``.optional()``, ``.default(…)``, ``.catch(…)`` or ``.nullish()`` is
required (a number for ``z.coerce.number()``). And the JSON schema env-schema and
``@fastify/env`` check it with (``required: ["SECRET_TOKEN", …]``, ``properties: {
SALT_ROUNDS: { type: "number" } }``): each listed name whose property gives no default
of its type is required (myoxine's learn-fastify-restful-api: "env must have required
property 'SECRET_TOKEN'", its knex migration and its start alike). The values such a
schema lists (Joi's ``.valid(0, 1)``, zod's ``z.enum``, envalid's ``choices``, a JSON
schema's ``enum``): :func:`schema_choices`. Sources are the upload's JavaScript and
TypeScript, not its dependencies', builds' or tests'.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .fallbacks import uncommented

__all__ = [
    "IP_ADDRESS",
    "SQL_URL_SCHEME",
    "cors_origin_reads",
    "database_option_reads",
    "described_variables",
    "node_config_env",
    "node_config_selectors",
    "node_env_its_code_names",
    "node_env_reads",
    "node_fallback_reads",
    "node_sources",
    "orm_glob_reads",
    "schema_choices",
    "sqlite_file_reads",
    "typeorm_unconfigured",
    "unset_for_strings",
    "unset_when_empty",
    "url_places",
]

_SOURCES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
_SKIPPED_DIRS = {"node_modules", "dist", "build", ".next", "coverage", "test", "tests", "__tests__"}
_TEST_FILE = re.compile(r"\.(?:test|spec|e2e-spec)\.[cm]?[jt]s$")
_READ = re.compile(
    r"""process\.env(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\])"""
)
# const { PORT, CLIENT_HOST, SECRET: key = "dev" } = process.env (not process.env.X …)
_DESTRUCTURED = re.compile(r"(?:const|let|var)\s*\{([^{}]*)\}\s*=\s*process\.env\b(?!\s*[.\[])")
_DESTRUCTURED_KEY = re.compile(r"(?:^|,)\s*([A-Z][A-Z0-9_]*)\s*(?=[:=,]|$)")
# Its .env's values as dotenv's config() parsed them, read as process.env's are
# (T-travis's fastify-tasks-list: ``const { DB_HOST, DB_TYPE } = config.parsed``).
_DOTENV_PARSED = re.compile(r"(?:const|let|var)\s*\{([^{}]*)\}\s*=\s*[^;\n{}]*\.parsed\b")
_CLEAN_ENV = re.compile(r"cleanEnv\s*\(\s*process\.env\s*,\s*\{")
# One validator of envalid's spec: `NAME: str()`, `PORT: port({ default: 3000 })`, or
# called on the module (eraldoabedini's fastifyCrudApp: `X: envalid.str({})`).
_VALIDATOR = re.compile(
    r"""(?:^|[{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*(?:envalid\.)?"""
    r"""(str|num|port|bool|email|url|host|json)"""
    r"""\s*\(\s*(\{[^{}]*\})?\s*\)"""
)
# The kinds a validator declares that a throwaway value must match (a number, a switch:
# Uzair-Organization's express-objection requires JWT_IGNORE_EXPIRATION: Joi.boolean()).
_KINDS = {"num": "int", "port": "int", "number": "int", "boolean": "bool", "bool": "bool"}
IP_ADDRESS = "ip"  # the kind of a variable a schema takes an IP address for (zod's .ip())
_ZOD_IP = re.compile(r"\.\s*ip\s*\(")
# configService.getOrThrow<string>('X'), configService.get('X', 'fallback')
# (or an enum's member naming it, group 4: ``config.get(Configuration.DB_TYPE)``)
_CONFIG_READ = re.compile(
    r"""\.(getOrThrow|get)\s*(?:<[^<>()]*>)?\s*\(\s*(?:["'`]([A-Z][A-Z0-9_]*)["'`]\s*(,)?"""
    r"""|([A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*)\s*[,)])"""
)


# A service of the app's own that reads its settings as NestJS's ConfigService does
# (dlrtn's nestjs-study: ``envService.get('JWT_SECRET')`` of its EnvService, which parses
# default.env itself): its ``.get('X')`` reads the variable X.
_OWN_CONFIG_SERVICE = re.compile(r"\b\w*(?:Env|Config|Configuration|Settings)Service\b")


def _schema_key(library: str) -> re.Pattern[str]:
    """One key of a ``library``'s schema (a pattern of its name): ``X: Joi.string()
    .required()``, ``PORT: yup.number().default(4004)``; groups the key, its kind and the
    chain of calls after it."""
    return re.compile(
        rf"""(?:^|[{{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*{library}\s*\.\s*(\w+)\s*"""
        r"""(?:<[^<>()]*>)?\(\s*\)((?:\s*\.\s*\w+\s*\((?:[^()]|\([^()]*\))*\))*)"""
    )


# One key of a Joi schema: `X: Joi.string().required()`, `PORT: Joi.number().default(3000)`;
# Joi imported as ``joi`` too (fastery-dev-sas's api-wallet-nestjs: ``import * as joi from
# 'joi'``, ``API_PREFIX: joi.string().required()``, in no example: "Config ENV error").
_JOI_KEY = _schema_key("[jJ]oi")
# An option its library checks at construction, given a variable: passport's OAuth
# strategies' client and consumer keys, passport-jwt's secret.
_REFUSED_WITHOUT = re.compile(
    r"\b(?:clientID|clientSecret|consumerKey|consumerSecret|secretOrKey)\s*:\s*"
    r"process\.env\.([A-Za-z_][A-Za-z0-9_]*)"
)
# One key of a yup schema the app validates process.env with (fausantosdev's ts-node-api:
# ``EMAIL_PORT: yup.number().required()``, in no example: "EMAIL_PORT is a required field").
_YUP_KEY = _schema_key("[yY]up")


# One key of a zod schema: `X: z.string().min(1)`, `PORT: z.coerce.number().default(3000)`.
_ZOD_KEY = re.compile(
    r"""(?:^|[{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*z\s*\.\s*(?:coerce\s*\.\s*)?(\w+)\s*"""
    r"""\((?:[^()]|\([^()]*\))*\)((?:\s*\.\s*\w+\s*\((?:[^()]|\([^()]*\))*\))*)"""
)
_ZOD_OPTIONAL = re.compile(r"\.\s*(?:optional|default|catch|nullish)\s*\(")
# A module named for the environment or the configuration, whose schema a package reads the
# environment with itself (zennv's ``zennv({ dotenv: true, schema: z.object({ JWT_SECRET:
# z.string() }) })`` in tobiaswutz's fastify-server's src/config/env.ts, which never spells
# process.env: a ZodError at every start).
_ENV_MODULE = re.compile(r"(?:^|/)(?:[\w-]*env[\w-]*|config)(?:/|\.[cm]?[jt]s$)", re.IGNORECASE)


# A read of process.env by a parameter: ``process.env[keyname]`` (group 1 the parameter).
_READ_BY = re.compile(r"process\.env\[\s*([A-Za-z_$][\w$]*)\s*\]")
# A function's definition with its first parameter: ``function env(key``, ``const env =
# (key``, ``= async key =>``, ``= function (key``, a class's or object's ``env(key: string``;
# groups: its name (one of 1, 3, 5), its first parameter (2, 4, 6).
_DEFINED = re.compile(
    r"\bfunction\s+([A-Za-z_$][\w$]*)\s*\(\s*([A-Za-z_$][\w$]*)"
    r"|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*(?:async\s+)?"
    r"(?:function\s*\w*\s*)?\(?\s*([A-Za-z_$][\w$]*)"
    r"|^[ \t]*(?:export\s+)?(?:public\s+|private\s+|protected\s+)?(?:static\s+)?(?:async\s+)?"
    r"(?!(?:if|for|while|switch|catch|return|function)\b)([A-Za-z_$][\w$]*)\s*\(\s*"
    r"([A-Za-z_$][\w$]*)\s*[:,)=][^\n]*\{\s*$",
    re.MULTILINE,
)


# A TypeScript enum (``export enum Configuration { DB_TYPE = "DB_TYPE", … }``): group 1
# its name, 2 its body; and a member of it given a variable's name (group 1, 2).
_ENUM = re.compile(r"\benum\s+([A-Za-z_$][\w$]*)\s*\{([^{}]*)\}")
_ENUM_MEMBER = re.compile(r"""([A-Za-z_$][\w$]*)\s*=\s*["'`]([A-Z][A-Z0-9_]*)["'`]""")


def _enum_names(texts: list[str]) -> dict[str, str]:
    """{``Enum.MEMBER``: the variable's name it is} of the app's TypeScript enums whose
    members are variables' names: jeiDev's vehicle-entity-crud-nestjs reads
    ``config.get(Configuration.JWT_SECRET)``, which no name of a read spelt (its JWT
    strategy: "requires a secret or key")."""
    found: dict[str, str] = {}
    for text in texts:
        for enum in _ENUM.finditer(text) if "enum" in text else ():
            for member in _ENUM_MEMBER.finditer(enum.group(2)):
                found[f"{enum.group(1)}.{member.group(1)}"] = member.group(2)
    return found


def _name_and_parameter(definition: re.Match[str]) -> tuple[str, str]:
    """A function's name and its first parameter, of a :data:`_DEFINED` match."""
    name = definition.group(1) or definition.group(3) or definition.group(5)
    return name, definition.group(2) or definition.group(4) or definition.group(6)


def _wrapper_kind(name: str) -> str:
    """The kind of value a reading function's name says it parses (``parseIntEnv``:
    ``"int"``, ``getBoolEnv``: ``"bool"``), else ``""``."""
    if re.search(r"int|num|port", name, re.IGNORECASE):
        return "int"
    return "bool" if re.search(r"bool", name, re.IGNORECASE) else ""


def _env_wrappers(texts: list[str]) -> dict[str, bool]:
    """{name: whether it throws} of the app's own functions that read ``process.env`` by
    their first parameter (dashsaurabh's fastify-rest-api-postgres-demo: ``function
    loadEnvironmentVariable(keyname) { const envVar = process.env[keyname]; if (!envVar)
    throw … }``, then ``databaseUri: loadEnvironmentVariable('DB_URI')``): the nearest
    definition before the read whose first parameter it reads."""
    found: dict[str, bool] = {}
    for text in texts:
        for read in _READ_BY.finditer(text):
            defined = list(_DEFINED.finditer(text, 0, read.start()))
            for definition in reversed(defined):
                name, first = _name_and_parameter(definition)
                if first != read.group(1):
                    continue
                brace = text.find("{", definition.end() - 1, read.start())
                body = _braced(text, brace) if brace >= 0 else text[definition.start() :]
                throws = re.search(r"\bthrow\b", body) is not None
                found[name] = found.get(name, False) or throws
                break
    # A function handing its first parameter on to one of those (NovikovaAleAle's nestCRUD:
    # ``parseStringEnv(nameEnv)`` returns ``envIsExist(nameEnv)``, which reads and throws):
    # one too, throwing as that one does; to a few levels.
    for _ in range(3):
        added = False
        for text in texts if found else ():
            for definition in _DEFINED.finditer(text):
                name, first = _name_and_parameter(definition)
                if name in found or not name or not first:
                    continue
                brace = text.find("{", definition.end() - 1, definition.end() + 120)
                body = _braced(text, brace) if brace >= 0 else text[definition.end() :][:200]
                for inner in re.finditer(r"([A-Za-z_$][\w$]*)\s*\(\s*" + re.escape(first), body):
                    if inner.group(1) in found:
                        found[name] = found[inner.group(1)]
                        added = True
                        break
        if not added:
            break
    return found


# An object's entry picked by a variable (``config[process.env.ENV]``, ``config[`${
# process.env.ENV}`]``, ``config[process.env["APP_ENV"]]``): group 1, 2 or 3 the variable.
_PICKED_BY = re.compile(
    r"""\w\s*\[\s*(?:process\.env\.([A-Z][A-Z0-9_]*)\b|process\.env\[\s*["'`]([A-Z][A-Z0-9_]*)"""
    r"""["'`]\s*\]|`\$\{\s*process\.env\.([A-Z][A-Z0-9_]*)\s*\}`)\s*\]"""
)
# An entry of an object keyed by the environments it runs in (``development: {``).
_ENVIRONMENT_ENTRY = re.compile(
    r"""^\s*["']?(development|production|test|testing|staging|dev|prod|local)["']?\s*:\s*\{""",
    re.MULTILINE,
)


def node_config_selectors(files: dict[str, bytes]) -> dict[str, list[str]]:
    """{a variable the app's Node code picks an object's entry by: the environments the
    upload's objects are keyed by} (``config[`${process.env.ENV}`]``, ``config`` being
    ``{ development: {…}, production: {…}, test: {…} }``): hungdevjs'
    tsc-expressjs-typeorm-simple read ``dbConfig.host`` of ``config["undefined"]``.
    Empty where no object of the app's is keyed so."""
    picked: set[str] = set()
    keys: list[str] = []
    for _path, text in node_sources(files):
        for match in _PICKED_BY.finditer(text):
            picked.add(match.group(1) or match.group(2) or match.group(3))
        keys += _ENVIRONMENT_ENTRY.findall(text)
    if not keys:
        return {}
    ordered = list(dict.fromkeys(keys))
    return {name: ordered for name in sorted(picked)}


def node_sources(files: dict[str, bytes]) -> Iterator[tuple[str, str]]:
    """Each of the app's own sources, its path and its text, in path order: no
    declaration file, no test's, none under a dependency's, a build's or the tests'
    folder."""
    for path in sorted(files):
        if not path.endswith(_SOURCES) or path.endswith(".d.ts") or _TEST_FILE.search(path):
            continue
        if _SKIPPED_DIRS.intersection(posixpath.dirname(path).split("/")):
            continue
        yield path, files[path].decode("utf-8", "replace")


def _source_texts(files: dict[str, bytes]) -> Iterator[str]:
    return (text for _, text in node_sources(files))


# An ORM's options naming SQLite (TypeORM's ``type``, Sequelize's ``dialect``, knex's
# ``client``), and the variable its file's option reads (``database``, ``storage``, knex's
# ``connection.filename``): from process.env or Nest's ConfigService (``config.get<string>(
# 'DB_NAME')``). LeonardoSantos16's Daily-Diet-API gives knex ``client: 'sqlite',
# connection: { filename: process.env.DATABASE_URL }``: given the preview's SQLite URL,
# it opened no file ("SQLITE_CANTOPEN"), its migrations and routes alike.
_SQLITE_OPTIONS = re.compile(
    r"""\b(?:type|dialect|client)\s*:\s*["'`](?:sqlite3?|better-sqlite3)["'`]"""
)
_FILE_OPTION = re.compile(
    r"""\b(?:database|storage|filename)\s*:\s*(?:process\.env\.([A-Za-z_]\w*)"""
    r"""|\w+\.get(?:OrThrow)?(?:<\w+>)?\(\s*["'`]([A-Za-z_]\w*)["'`])"""
)


def sqlite_file_reads(files: dict[str, bytes]) -> set[str]:
    """The variables a Node app's ORM options beside ``type: 'sqlite'`` (``dialect``) read
    its database's file from: a SQLite file's path, whatever the name says (the NestJS
    course's car-value app: ``type: 'sqlite', database: config.get<string>('DB_NAME')``,
    its .env.development never committed: "Driver option (database) is not set")."""
    found: set[str] = set()
    for text in _source_texts(files):
        for sqlite in _SQLITE_OPTIONS.finditer(text):
            # (its own options object: not another environment's beside it, on a server)
            start, end = text.rfind("{", 0, sqlite.start()), text.find("}", sqlite.end())
            options = text[max(start, 0) : end if end != -1 else len(text)]
            found |= {a or b for a, b in _FILE_OPTION.findall(options)}
    return found


def node_env_reads(files: dict[str, bytes]) -> tuple[dict[str, str], list[str]]:
    """({variable envalid requires: ``""``, ``"int"`` for a number, ``"bool"`` for a
    switch}, [any other variable read]): see the module doc."""
    required: dict[str, str] = {}
    read: dict[str, None] = {}
    sources = list(node_sources(files))
    wrappers = _env_wrappers([text for _, text in sources])
    members = _enum_names([text for _, text in sources])
    calls = (
        re.compile(
            r"(?<![\w$])(" + "|".join(re.escape(n) for n in wrappers) + r")\s*\(\s*"
            r"""["'`]([A-Z][A-Z0-9_]*)["'`]\s*([,)])"""
        )
        if wrappers
        else None
    )
    # Given an enum's member naming the variable (``parseStringEnv(Env.DATABASE)``).
    by_member = (
        re.compile(
            r"(?<![\w$])(" + "|".join(re.escape(n) for n in wrappers) + r")\s*\(\s*"
            r"([A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*)\s*([,)])"
        )
        if wrappers and members
        else None
    )
    for path, text in sources:
        for call in by_member.finditer(text) if by_member is not None else ():
            if (name := members.get(call.group(2))) is None:
                continue
            if wrappers[call.group(1)] and call.group(3) == ")":
                required.setdefault(name, _wrapper_kind(call.group(1)))
            else:
                read.setdefault(name)
        for call in calls.finditer(text) if calls is not None else ():
            # Given the name alone to one that throws without it: the start fails unset.
            if wrappers[call.group(1)] and call.group(3) == ")":
                required.setdefault(call.group(2), _wrapper_kind(call.group(1)))
            else:
                read.setdefault(call.group(2))
        if "ConfigService" in text or _OWN_CONFIG_SERVICE.search(text):
            for match in _CONFIG_READ.finditer(text):
                if match.group(4) is not None:  # an enum's member: the variable it names
                    if (name := members.get(match.group(4))) is not None:
                        read.setdefault(name)
                elif match.group(1) == "getOrThrow" and not match.group(3):
                    required.setdefault(match.group(2), "")
                else:
                    read.setdefault(match.group(2))
        keys = [*(_JOI_KEY.finditer(text) if "oi." in text else ())]
        keys += _YUP_KEY.finditer(text) if "up." in text and "process.env" in text else ()
        for match in keys:
            name, kind, chain = match.groups()
            if re.search(r"\.\s*required\s*\(", chain) and ".default" not in chain:
                required.setdefault(name, _KINDS.get(kind, ""))
            else:
                read.setdefault(name)
        # An option a library refuses to be made without (passport's strategies:
        # andyle171998's expressmvc, ``clientID: process.env.FACEBOOK_ID``, "OAuth2Strategy
        # requires a clientID option" at start): required, whatever its name says.
        for match in _REFUSED_WITHOUT.finditer(text) if "process.env" in text else ():
            required.setdefault(match.group(1), "")
        zod = re.search(r"\bz\s*\.\s*object\s*\(|\bcreateEnv\s*\(", text) is not None
        if zod and ("process.env" in text or _ENV_MODULE.search(path)):
            for match in _ZOD_KEY.finditer(text):
                name, kind, chain = match.groups()
                if _ZOD_OPTIONAL.search(chain):
                    read.setdefault(name)
                else:
                    kind = IP_ADDRESS if _ZOD_IP.search(chain) else _KINDS.get(kind, "")
                    required.setdefault(name, kind)
        for name, kind in _json_schema_required(text).items():
            required.setdefault(name, kind)
        if "dotenv" in text:
            for match in _DOTENV_PARSED.finditer(text):
                for key in _DESTRUCTURED_KEY.finditer(match.group(1)):
                    read.setdefault(key.group(1))
        if "process.env" not in text:
            continue
        for clean in _CLEAN_ENV.finditer(text):
            for match in _VALIDATOR.finditer(_braced(text, clean.end() - 1)):
                name, validator, options = match.groups()
                if not options or not re.search(r"\b(?:default|devDefault)\s*:", options):
                    required.setdefault(name, _KINDS.get(validator, ""))
        for match in _READ.finditer(text):
            read.setdefault(match.group(1) or match.group(2))
        for match in _DESTRUCTURED.finditer(text):
            for key in _DESTRUCTURED_KEY.finditer(match.group(1)):
                read.setdefault(key.group(1))
    for name in node_config_variables(files):
        required.setdefault(name, "")
    return required, [name for name in read if name not in required]


# node-config's ``config.get("mail.password")``: group 1 the setting's path.
_CONFIG_GET = re.compile(r"""\bconfig\s*\.\s*get\s*(?:<[^<>()]*>)?\s*\(\s*["'`]([\w.-]+)["'`]""")


def node_config_variables(files: dict[str, bytes]) -> list[str]:
    """The variables node-config's ``custom-environment-variables.json`` maps settings to,
    for each setting the code ``config.get``s that no file a development run loads
    defines: node-config throws at the get ("Configuration property "mail.password" is not
    defined"), so the app cannot start without it. JayrajkumarSarvaiya's
    express-with-typeScript maps ``mail.password`` to ``app_password`` and defines it
    nowhere else."""
    folder, package = _package_beside(files, "package.json")
    listed = package.get("dependencies")
    if not isinstance(listed, dict) or "config" not in listed:
        return []
    directory = _config_directory(files, folder, package)
    mapped = _json_leaves(files.get(posixpath.join(directory, "custom-environment-variables.json")))
    if not mapped:
        return []
    defined: set[str] = set()
    for stem in ("default", "development", "local", "local-development"):
        defined |= _json_leaves(files.get(posixpath.join(directory, f"{stem}.json"))).keys()
    got = {m.group(1) for _, text in node_sources(files) for m in _CONFIG_GET.finditer(text)}

    def undefined(got: str) -> bool:  # (a part of the settings, none of it defined: too)
        return got not in defined and not any(d.startswith(f"{got}.") for d in defined)

    return [
        variable
        for path, variable in mapped.items()
        if path not in defined
        and any(path == g or (path.startswith(f"{g}.") and undefined(g)) for g in got)
    ]


def _json_leaves(data: bytes | None) -> dict[str, str]:
    """A JSON file's settings by their dotted paths (``{"mail": {"password": "x"}}``:
    ``{"mail.password": "x"}``), each value as text; node-config's ``{"__name": "X"}``
    (a variable parsed by its ``__format``) as its name. {} where it is no JSON object."""
    try:
        loaded = json.loads(data or b"null")
    except ValueError:
        return {}
    found: dict[str, str] = {}

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict) and isinstance(value.get("__name"), str):
            found[path] = value["__name"]
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif path:
            found[path] = value if isinstance(value, str) else json.dumps(value)

    walk(loaded, "")
    return found


# A database client's constructor, whose options say what each value is.
_CLIENT = re.compile(
    r"\b(?:Sequelize|Pool|createPool|createConnection|DataSource|knex|Client)\s*\("
)
# A database's dialect given by a variable: its file's options are a database's, even
# where the client is made in another file from it (``module.exports = {HOST: …,
# dialect: process.env.DIALECT}``, required by the module that calls ``new Sequelize``).
# Or written (``dialect: "mysql"``: kinothUI's calendar-api-fastify, sequelize-cli's
# src/config/index.js, its values destructured from process.env first).
_DIALECT = re.compile(
    r"""\bdialect[\"']?\s*:\s*(?:(?:process\.env\.)?[A-Za-z_]\w*|["'`][a-z]+["'`])\s*[,}\n]"""
)
# An option of a database client given a variable (``dialect: process.env.DIALECT``), or
# a constant bound to one (``const dialect = process.env.DIALECT`` then ``dialect:
# dialect``); a config module's keys in capitals too (``DB: process.env.DB``).
# Or a key of the module's own object of variables (penkong's devref-back auth service:
# ``config = {DBURL: process.env.DBURL, PGPASS: process.env.PASSWORD}``, then TypeORM's
# ``host: config.DBURL || '172.18.0.2'``; DBURL, its example's ``pg``, is a host).
_OPTION = re.compile(
    r"\b(dialect|database|db|username|user|password|host|port)[\"']?\s*:\s*"
    r"(?:process\.env\.|[A-Za-z_$][\w$]*\.)?([A-Za-z_]\w*)\b(?!\s*[.(\[])",
    re.IGNORECASE,
)
_BOUND = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_]\w*)\s*=\s*process\.env\.([A-Za-z_]\w*)\b")
# An object's key given a variable (``PGPASS: process.env.PASSWORD``).
_KEYED = re.compile(r"\b([A-Za-z_]\w*)[\"']?\s*:\s*process\.env\.([A-Za-z_]\w*)\b")
# A client's connection string given a variable in capitals, from process.env or the
# object a config module made of it (tobiaswutz's fastify-server: ``new Pool({
# connectionString: env.DATABASE_CONNECTION })``, a name that says an engine as Laravel's
# DB_CONNECTION does: it was given one, and pg looked up a host "base").
_URL_OPTION = re.compile(
    r"\bconnectionString[\"']?\s*:\s*(?:process\.env\.|[A-Za-z_$][\w$]*\.)?"
    r"([A-Z][A-Z0-9_]*)\b(?!\s*[.(\[])"
)
# Drizzle's database URL given a variable: drizzle.config's ``dbCredentials: { url:
# process.env.DB_FILE_NAME! }`` and drizzle-orm's ``drizzle(process.env.DB_FILE_NAME!)``
# (golaughlin's north-pole-api-hono, its SQLite file's name, which nothing set: drizzle
# opened a database in memory, the pushed schema's tables elsewhere, "no such table").
_DRIZZLE_URL = re.compile(
    r"\bdbCredentials\s*:\s*\{[^{}]*?\burl\s*:\s*process\.env\.([A-Za-z_]\w*)\b"
    r"|\bdrizzle\s*\(\s*(?:\{\s*connection\s*:\s*)?process\.env\.([A-Za-z_]\w*)\b"
)
# Sequelize's positional form: ``new Sequelize(database, username, password, {…})``.
_SEQUELIZE_ARGS = re.compile(
    r"\bnew\s+Sequelize\s*\(\s*(?:process\.env\.)?([A-Za-z_]\w*)\s*,"
    r"\s*(?:process\.env\.)?([A-Za-z_]\w*)\s*,\s*(?:process\.env\.)?([A-Za-z_]\w*)\s*[,)]"
)


def _connection_reads(text: str) -> bool:
    """Whether a module's options read a database's host and its name from the environment
    (``host: process.env.HOST || ""``, ``database: process.env.DATABASE``): a connection's
    settings, whichever module makes the client from them (UskoKruM's
    restapi-nodejs-express-mysql: its config.js exports them, database.js gives them to
    promise-mysql; HOST, DATABASE, USER and PASSWORD said nothing alone, unset)."""
    options = {option.lower() for option in _OPTION_READ.findall(text)}
    return "host" in options and bool({"database", "db"} & options)


def _connection_key_reads(text: str) -> bool:
    """Likewise, the options given the keys of an object of variables (:data:`_OPTION`)."""
    options = set(_OPTION_KEY_READ.findall(text))
    return "host" in options and bool({"database", "db"} & options)


_OPTION_READ = re.compile(
    r"\b(database|db|host)[\"']?\s*:\s*process\.env\.[A-Za-z_]\w*\b(?!\s*[.(\[])",
    re.IGNORECASE,
)
# The same options given the keys of the module's own object of variables (``host:
# config.DBURL``, ``database: config.DBNAME``: see :data:`_OPTION`), in lower case.
_OPTION_KEY_READ = re.compile(
    r"\b(database|db|host)[\"']?\s*:\s*[A-Za-z_$][\w$]*\.[A-Za-z_]\w*\b(?!\s*[.(\[])"
)
# Each option as the generic name of the same part (``configvars.meaning`` reads it).
_OPTION_NAMES = {
    "dialect": "DB_DIALECT",
    "database": "DB_NAME",
    "db": "DB_NAME",
    "username": "DB_USER",
    "user": "DB_USER",
    "password": "DB_PASSWORD",
    "host": "DB_HOST",
    "port": "DB_PORT",
}


def database_option_reads(files: dict[str, bytes]) -> dict[str, str]:
    """{a variable a Node app gives a database client's option: the generic name of that
    part}: caiolorramvalente's express-sequelize-api builds ``new Sequelize({dialect:
    process.env.DIALECT, database: process.env.DATABASE, username: process.env.NAME, …,
    port: process.env.PORTDB})``, names none of which says a database's part ("Dialect
    needs to be explicitly supplied"); the option each is given to does. Through a
    constant too (anasseth's ``const dialect = process.env.DIALECT``, then ``new
    Sequelize(database, userName, password, {host: hostName, dialect: dialect})``), and
    in a config module whose ``dialect`` says it is a database's (bahadirsofuoglu's
    ``{HOST: process.env.HOST, USER: process.env.USER_NAME, DB: process.env.DB, dialect:
    process.env.DIALECT}``). Names destructured from ``process.env`` too: kinothUI's
    calendar-api-fastify gives ``database: DB_DB, username: USERNAME`` beside ``dialect:
    "mysql"``, both empty in its .env: sequelize-cli's migrations met "No database
    selected"."""
    found: dict[str, str] = {}
    for text in _source_texts(files):
        for name, part in _template_url_parts(text).items():
            found.setdefault(name, part)
        if _CLIENT.search(text):
            for name in _URL_OPTION.findall(text):
                found.setdefault(name, "DATABASE_URL")
        for config, client in _DRIZZLE_URL.findall(text):
            found.setdefault(config or client, "DATABASE_URL")
        if "process.env" not in text:
            continue
        # (a config module's keys in capitals are a database's options where the module is
        # a database's by itself, not where only the options of an object of the app's
        # variables are: ``PORT: process.env.PORT`` there is its own server's)
        database_module = bool(
            _CLIENT.search(text) or _DIALECT.search(text) or _connection_reads(text)
        )
        if not (database_module or _connection_key_reads(text)):
            continue
        bound = {**dict(_KEYED.findall(text)), **dict(_BOUND.findall(text))}
        read = {m.group(1) for m in re.finditer(r"process\.env\.([A-Za-z_]\w*)", text)}
        for names in _DESTRUCTURED.findall(text):  # const { DB_DB, USERNAME } = process.env
            read.update(_DESTRUCTURED_KEY.findall(names))
        given = [
            (option.lower(), value)
            for option, value in _OPTION.findall(text)
            if database_module or not option.isupper()
        ]
        for args in _SEQUELIZE_ARGS.findall(text):
            given += list(zip(("database", "username", "password"), args, strict=True))
        for option, value in given:
            name = bound.get(value) or (value if value in read else None)
            if name is not None:
                found.setdefault(name, _OPTION_NAMES[option])
    for name, said in described_variables(files).items():
        if _DESCRIBED_PART.match(said):
            found.setdefault(name, said)
    return found


# A SQL database URL's scheme, up to its ``://`` (a driver after ``+``: ``mysql+pymysql``).
SQL_URL_SCHEME = re.compile(r"^(?:postgres(?:ql)?|mysql|mariadb|mssql|oracle)(?:\+\w+)?://$")
# The text before each of a URL's parts, in its order: user, password, host, port.
_URL_PLACES = (("://", "DB_USER"), (":", "DB_PASSWORD"), ("@", "DB_HOST"), (":", "DB_PORT"))


def url_places(fields: list[tuple[str, str | None]]) -> dict[str, str]:
    """{a variable a database URL is written with: the generic name of its part}, each by
    its place: ``fields`` are the URL's fields in order, each as (the text since the one
    before it, the URL's scheme first; the variable it reads, None where none). After
    ``://`` its user, then its password, host and port, each after its separator; after a
    ``/`` past the host, its database's name (``postgres://${USER}:${PASS}@${SERVICE}:
    ${PORT}/${DB}``: ``SERVICE`` is the host, whatever its name says). One reading
    for Node's template literals (:func:`database_option_reads`) and Python's f-strings
    (``configvars.required``)."""
    places = list(_URL_PLACES)
    found: dict[str, str] = {}
    for before, name in fields:
        if before.endswith("/") and not before.endswith("://"):  # after the host: its name
            part: str | None = "DB_NAME"
        else:
            while places and not before.endswith(places[0][0]):
                places.pop(0)
            part = places.pop(0)[1] if places else None
        if name is not None and part is not None:
            found[name] = part
    return found


# A SQL database's URL written as a template literal, or several joined by ``+``
# (alessandrob88's clean-architecture-fastify-postgres: ``postgres://${process.env.
# POSTGRES_USER}:${…}`+`@${process.env.POSTGRES_SERVICE}:…``): its text, literals joined.
_TEMPLATE_URL = re.compile(
    r"`((?:postgres(?:ql)?|mysql|mariadb|mssql)(?:\+\w+)?://(?:[^`\\]|\\.|`\s*\+\s*`)*)`"
)
_JOINED_LITERALS = re.compile(r"`\s*\+\s*`")
_TEMPLATE_FIELD = re.compile(r"\$\{\s*([^{}]*?)\s*\}")
_ENV_READ = re.compile(
    r"^process\.env\.([A-Za-z_]\w*)$|^process\.env\[[\"'`]([A-Za-z_]\w*)[\"'`]\]$"
)


def _template_url_parts(text: str) -> dict[str, str]:
    """{a variable a template literal database URL is written with: the generic name of
    its part}, each by its place (:func:`url_places`): read from ``process.env``
    in its field, or through a constant bound to such a read."""
    found: dict[str, str] = {}
    if "://" not in text or "${" not in text:
        return found
    bound: dict[str, str] | None = None
    for literal in _TEMPLATE_URL.finditer(text):
        url = _JOINED_LITERALS.sub("", literal.group(1))
        fields: list[tuple[str, str | None]] = []
        start = 0
        for field in _TEMPLATE_FIELD.finditer(url):
            read = _ENV_READ.match(field.group(1))
            name = (read.group(1) or read.group(2)) if read is not None else None
            if name is None and field.group(1).isidentifier():
                bound = dict(_BOUND.findall(text)) if bound is None else bound
                name = bound.get(field.group(1))
            fields.append((url[start : field.start()], name))
            start = field.end()
        for name, part in url_places(fields).items():
            found.setdefault(name, part)
    return found


# A module of a CORS middleware's (cors, @fastify/cors, @koa/cors, Nest's enableCors),
# and a variable given to its ``origin`` option.
_CORS_MODULE = re.compile(
    r"""["'](?:cors|@fastify/cors|fastify-cors|@koa/cors|koa2-cors)["']|enableCors"""
)
_CORS_ORIGIN_READ = re.compile(
    r"""\borigin["']?\s*:\s*process\.env(?:\.([A-Za-z_]\w*)|\[["'`]([A-Za-z_]\w*)["'`]\])"""
)


def cors_origin_reads(files: dict[str, bytes]) -> dict[str, str]:
    """{a variable a CORS middleware's ``origin`` option is given: ``CORS_ORIGIN``}, what it
    is whatever its own name says: alessandrob88's clean-architecture-fastify-postgres
    gives ``origin: process.env.CORS_ALLOWED_HOST`` to @fastify/cors, which, unset,
    failed every request ("Invalid CORS origin option")."""
    found: dict[str, str] = {}
    for text in _source_texts(files):
        if "origin" not in text or not _CORS_MODULE.search(text):
            continue
        for match in _CORS_ORIGIN_READ.finditer(text):
            found.setdefault(match.group(1) or match.group(2), "CORS_ORIGIN")
    return found


# A variable read with a fallback of the code's own: ``(process.env.CORS_ORIGIN || "")``,
# ``process.env.LIMIT ?? 100``.
_FALLBACK_READ = re.compile(
    r"""process\.env(?:\.([A-Za-z_]\w*)|\[["'`]([A-Za-z_]\w*)["'`]\])\s*(?:\|\||\?\?)"""
)


def node_fallback_reads(files: dict[str, bytes]) -> set[str]:
    """The variables the Node code reads with a fallback of its own (``||``, ``??``)."""
    found: set[str] = set()
    for text in _source_texts(files):
        for match in _FALLBACK_READ.finditer(text):
            found.add(match.group(1) or match.group(2))
    return found


# A Joi key's own description: `DATABASE: Joi.string().required().description('Database
# name')` (Uzair-Organization's express-objection, whose DATABASE, DB_USER, PASSWORD and
# HOST said nothing alone: "DATABASE" is required).
_DESCRIPTION = re.compile(r"""\.\s*description\s*\(\s*["'`]([A-Za-z ]{3,40})["'`]\s*\)""")
_DESCRIBED_PART = re.compile(r"^DATABASE_(?:NAME|USER|USERNAME|PASSWORD|HOST|PORT|URL)$")


def described_variables(files: dict[str, bytes]) -> dict[str, str]:
    """{a variable of a Joi schema: the name its description spells} (``Database name``:
    ``DATABASE_NAME``; ``Encryption secret``: ``ENCRYPTION_SECRET``), which says what it
    is where its own name does not (``DATABASE``, ``CRYPTO``)."""
    found: dict[str, str] = {}
    for text in _source_texts(files):
        if "oi." not in text or "description" not in text:
            continue
        for match in _JOI_KEY.finditer(text):
            said = _DESCRIPTION.search(match.group(3))
            if said is None:
                continue
            found.setdefault(match.group(1), "_".join(said.group(1).upper().split()))
    return found


_DEFAULTED = re.compile(r"\.\s*default\s*\(")
# A schema made once and named: ``const flag = z.enum(["true", "false"]).default("false")``,
# its chain up to the end of the statement; and a key given one by name (``FLAG: flag,``).
_ZOD_CONST = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(z\s*\.[^;]*)")
_ZOD_ALIASED = re.compile(
    r"""(?:^|[{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*([A-Za-z_$][\w$]*)\s*[,}]"""
)
_JOI_VALID = re.compile(r"\.\s*(?:valid|only)\s*\(([^()]*)\)")
_ZOD_ENUM = re.compile(
    r"""(?:^|[{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*z\s*\.\s*enum\s*\(\s*\[([^\[\]]*)\]"""
)
_ENVALID_CHOICES = re.compile(r"\bchoices\s*:\s*\[([^\[\]]*)\]")
_CHOICE = re.compile(r"""\s*(?:(["'`])([^"'`]*)\1|(-?\d+(?:\.\d+)?)|(true|false))\s*$""")


# A module checking its environment against a JSON schema: env-schema's, @fastify/env's.
_JSON_SCHEMA_ENV = re.compile(r"""["'](?:env-schema|@fastify/env|fastify-env)["']""")
_JSON_REQUIRED = re.compile(r"""\brequired\s*:\s*\[([^\[\]]*)\]""")
_JSON_NAME = re.compile(r"""["'`]([A-Z][A-Z0-9_]*)["'`]""")
# One property of its ``properties``: ``NAME: { type: "number", default: 3000 }``.
_JSON_PROPERTY = re.compile(r"""(?:^|[{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*\{([^{}]*)\}""")
_JSON_TYPE = re.compile(r"""\btype\s*:\s*["'](\w+)["']""")
_JSON_DEFAULT = re.compile(r"""\bdefault\s*:\s*(["'`])?""")
_JSON_ENUM = re.compile(r"""\benum\s*:\s*\[([^\[\]]*)\]""")


def _json_schema_required(text: str) -> dict[str, str]:
    """{a variable a JSON schema of env-schema's or @fastify/env's requires: its kind}
    (module doc): listed in a ``required`` array, its property giving no default, or a
    quoted one where its type is a number (``default: "info"`` for a number: "must be
    number")."""
    if not _JSON_SCHEMA_ENV.search(text):
        return {}
    listed = [
        name.group(1)
        for required in _JSON_REQUIRED.finditer(text)
        for name in _JSON_NAME.finditer(required.group(1))
    ]
    if not listed:
        return {}
    properties = {m.group(1): m.group(2) for m in _JSON_PROPERTY.finditer(text)}
    found: dict[str, str] = {}
    for name in listed:
        body = properties.get(name, "")
        kind = (typed.group(1) if (typed := _JSON_TYPE.search(body)) else "").lower()
        kind = {"integer": "number"}.get(kind, kind)
        default = _JSON_DEFAULT.search(body)
        mistyped = default is not None and default.group(1) is not None and kind == "number"
        if default is None or mistyped:
            found[name] = _KINDS.get(kind, "")
    return found


def schema_choices(files: dict[str, bytes]) -> dict[str, list[str]]:
    """{variable: the values the schema the app validates its environment with allows},
    where it lists them: Joi's ``.valid(0, 1)``, zod's ``z.enum(["a", "b"])``, envalid's
    ``str({ choices: ["a", "b"] })``; each literal as the environment spells it. A list
    with anything but literals in it (``Joi.valid(...MODES)``) is left out."""
    found: dict[str, list[str]] = {}
    for path in sorted(files):
        if not path.endswith(_SOURCES) or path.endswith(".d.ts") or _TEST_FILE.search(path):
            continue
        if _SKIPPED_DIRS.intersection(posixpath.dirname(path).split("/")):
            continue
        text = files[path].decode("utf-8", "replace")
        listed: list[tuple[str, str]] = []
        if "oi." in text:
            for match in _JOI_KEY.finditer(text):
                if (valid := _JOI_VALID.search(match.group(3))) is not None:
                    listed.append((match.group(1), valid.group(1)))
        if "z." in text:
            listed += [(m.group(1), m.group(2)) for m in _ZOD_ENUM.finditer(text)]
        for clean in _CLEAN_ENV.finditer(text):
            for match in _VALIDATOR.finditer(_braced(text, clean.end() - 1)):
                if match.group(3) and (choices := _ENVALID_CHOICES.search(match.group(3))):
                    listed.append((match.group(1), choices.group(1)))
        if _JSON_SCHEMA_ENV.search(text):
            for prop in _JSON_PROPERTY.finditer(text):
                if (listed_enum := _JSON_ENUM.search(prop.group(2))) is not None:
                    listed.append((prop.group(1), listed_enum.group(1)))
        for name, items in listed:
            values = [_CHOICE.match(item) for item in items.split(",") if item.strip()]
            if values and all(values) and name not in found:
                found[name] = [
                    m.group(2) if m.group(1) else m.group(3) or m.group(4) for m in values if m
                ]
    for name, environments in _db_migrate_environments(files).items():
        found.setdefault(name, environments)
    return found


# db-migrate's instance made on the environment a variable names (``dbmigrate.getInstance(
# true, { env: env("ENV") })``, ``{ env: process.env.NODE_ENV }``): group 1 or 2 its name.
_DB_MIGRATE_ENV = re.compile(
    r"""\bgetInstance\s*\([^()]*?\benv\s*:\s*"""
    r"""(?:process\.env\.([A-Z][A-Z0-9_]*)|[\w$.]+\(\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\))"""
)
_DEVELOPMENT_FIRST = ("development", "dev", "local", "default")


def _db_migrate_environments(files: dict[str, bytes]) -> dict[str, list[str]]:
    """{the variable db-migrate's instance takes its environment from: the environments
    its database.json defines, a development one first}: only those exist
    (OmarMAttia7's express-storefront-backend defines ``dev`` and ``test``, its example's
    ``ENV=`` empty: given "development", "Environment(s) 'development' not found")."""
    try:
        config = json.loads(files.get("database.json", b"{}"))
    except (ValueError, RecursionError):
        return {}
    names = (
        [k for k, v in config.items() if isinstance(v, dict)] if isinstance(config, dict) else []
    )
    if not names:
        return {}
    names.sort(key=lambda n: _DEVELOPMENT_FIRST.index(n) if n in _DEVELOPMENT_FIRST else 9)
    found: dict[str, list[str]] = {}
    for _, text in node_sources(files):
        for match in _DB_MIGRATE_ENV.finditer(text) if "getInstance" in text else ():
            found.setdefault(match.group(1) or match.group(2), names)
    return found


def unset_when_empty(files: dict[str, bytes]) -> set[str]:
    """The variables a schema the app validates its environment with takes better unset
    than empty: each key of a Joi or yup schema (Joi's ``string()`` and yup's
    ``required()`` refuse ``""``, and a default of either applies only unset), and a zod
    or envalid key with a default of its own. fausantosdev's ts-node-api leaves
    ``JWT_ALGORITHM=`` and ``AWS_BUCKET_NAME=`` empty in its example beside ``yup.string()
    .default('HS256')`` and ``yup.string().required()``: "AWS_BUCKET_NAME is a required
    field".
    guntoroyk's express-sequelize-mysql-boilerplate leaves ``API_VERSION=`` empty in its
    example beside ``API_VERSION: Joi.string().default('1.0')``: "API_VERSION is not
    allowed to be empty"."""
    found: set[str] = set()
    for path in sorted(files):
        if not path.endswith(_SOURCES) or path.endswith(".d.ts") or _TEST_FILE.search(path):
            continue
        if _SKIPPED_DIRS.intersection(posixpath.dirname(path).split("/")):
            continue
        text = files[path].decode("utf-8", "replace")
        if "oi." in text:
            found.update(m.group(1) for m in _JOI_KEY.finditer(text))
        if "up." in text:  # yup's too: required() refuses "", a default applies unset only
            found.update(m.group(1) for m in _YUP_KEY.finditer(text))
        if "z." in text:
            found.update(
                m.group(1) for m in _ZOD_KEY.finditer(text) if _DEFAULTED.search(m.group(3))
            )
            # A key given a schema the file made before (``SMTP_SECURE: booleanFromString``,
            # its ``const booleanFromString = z.enum([…]).default("false")``: PsydoV2's
            # TypescriptExpressTemplate).
            made = {m.group(1) for m in _ZOD_CONST.finditer(text) if _DEFAULTED.search(m.group(2))}
            found.update(m.group(1) for m in _ZOD_ALIASED.finditer(text) if m.group(2) in made)
        for clean in _CLEAN_ENV.finditer(text):
            for match in _VALIDATOR.finditer(_braced(text, clean.end() - 1)):
                if match.group(3) and re.search(r"\bdefault\s*:", match.group(3)):
                    found.add(match.group(1))
    return found


# A zod key of a number or a switch that takes no string (no ``z.coerce``): ``PORT:
# z.number().default(3333)``; group 1 the name, group 2 its chain.
_ZOD_UNCOERCED = re.compile(
    r"""(?:^|[{,\s])["']?([A-Z][A-Z0-9_]*)["']?\s*:\s*z\s*\.\s*(?:number|boolean)\s*"""
    r"""\(\s*\)((?:\s*\.\s*\w+\s*\((?:[^()]|\([^()]*\))*\))*)"""
)


def unset_for_strings(files: dict[str, bytes]) -> set[str]:
    """The variables a zod schema the app parses ``process.env`` with declares as a number
    or a switch that takes no string (``z.number()``, not ``z.coerce.number()``) and may
    be left unset (a ``.default(…)``, ``.optional()``): any value the environment gives,
    a string, fails the parse, so the app starts only with it unset. GabriellMaiaa's
    API-Fastify-Zod, a course's shape: ``PORT: z.number().default(3333)``, "ZodError:
    Expected number, received string" at each start given PORT."""
    found: set[str] = set()
    for path, text in node_sources(files):
        zod = re.search(r"\bz\s*\.\s*object\s*\(", text) is not None
        if not zod or not ("process.env" in text or _ENV_MODULE.search(path)):
            continue
        for match in _ZOD_UNCOERCED.finditer(text):
            chain = match.group(2)
            if _ZOD_OPTIONAL.search(chain) and not re.search(r"\.\s*catch\s*\(", chain):
                found.add(match.group(1))
    return found


def _braced(text: str, start: int) -> str:
    """The ``{…}`` opening at ``start``, through its closing brace (or the text's end)."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    return text[start:]


# node-config's file names that are no deployment of their own (loaded in any), and
# those the preview's NODE_ENV (development) loads.
_CONFIG_ALWAYS = {"default", "local", "custom-environment-variables"}
_CONFIG_DEVELOPMENT = {"development", "dev", "local-development"}
_CONFIG_FILE = re.compile(r"^([\w-]+)\.(?:json5?|[cm]?[jt]s|ya?ml|toml|hjson|cson|properties|xml)$")


def node_config_env(files: dict[str, bytes], anchor: str, declared: str = "") -> str | None:
    """The deployment node-config (the ``config`` package) is to load, given as
    ``NODE_CONFIG_ENV`` (which node-config reads before ``NODE_ENV``), where the app's
    ``config/`` has no file a development run loads (no ``default`` nor ``development``):
    the deployment ``declared`` by its own files (its Dockerfile's ``ENV NODE_ENV``)
    where it has a file, else ``production``'s, else its only one; None elsewhere.
    jtwebman's node-express-postgres-docker-todo has ``config/production.js`` and
    ``config/test.js`` alone (its compose file runs it with NODE_ENV=production): every
    setting was undefined ("No configurations found in configuration directory")."""
    folder, package = _package_beside(files, anchor)
    listed = package.get("dependencies")
    if not isinstance(listed, dict) or "config" not in listed:
        return None
    directory = _config_directory(files, folder, package)
    stems = {
        m.group(1)
        for path in files
        if posixpath.dirname(path) == directory
        and (m := _CONFIG_FILE.match(posixpath.basename(path)))
    }
    if not stems or stems & (_CONFIG_ALWAYS | _CONFIG_DEVELOPMENT):
        return None
    deployments = sorted(s for s in stems if s != "test" and not s.startswith("local-"))
    for wanted in (declared, "production"):
        if wanted in deployments:
            return wanted
    return deployments[0] if len(deployments) == 1 else None


# NODE_CONFIG_DIR set in a source (``process.env['NODE_CONFIG_DIR'] = __dirname +
# '/configs'``, ``path.join(__dirname, 'configs')``), or in a script or a .env file.
_CONFIG_DIR_SET = re.compile(
    r"""process\.env(?:\.NODE_CONFIG_DIR\b|\[\s*["'`]NODE_CONFIG_DIR["'`]\s*\])\s*=(?!=)"""
    r"""\s*([^;\n]+)"""
)
_CONFIG_DIR_GIVEN = re.compile(r"""(?:^|[\s;&])NODE_CONFIG_DIR=["']?([\w./-]+)""", re.M)
_LITERAL_PART = re.compile(r"""["'`]([\w./-]*)["'`]""")


def _config_directory(files: dict[str, bytes], folder: str, package: dict[str, Any]) -> str:
    """The folder node-config reads its files from: the ``NODE_CONFIG_DIR`` the app sets
    (a source assigning it, relative to that source's folder where it joins
    ``__dirname``, else to the app's; else its scripts or .env files), else ``config/``.
    Seunope's typescript-backend sets it to ``__dirname + '/configs'`` in src/server.ts,
    which holds development.json; its config/ is sequelize-cli's config.json alone, read
    as a deployment named "config": node-config then loaded nothing ("Configuration
    property "log.dir" is not defined")."""
    written: list[tuple[str, str]] = []
    for path, text in node_sources(files):
        for match in _CONFIG_DIR_SET.finditer(text):
            expression = match.group(1)
            base = posixpath.dirname(path) if "__dirname" in expression else folder
            expression = expression.replace("${__dirname}", "")  # `${__dirname}/configs`
            parts = [p.strip("/") for p in _LITERAL_PART.findall(expression) if p.strip("/")]
            written.append((base, "/".join(parts)))
    scripts = package.get("scripts")
    for command in scripts.values() if isinstance(scripts, dict) else ():
        if isinstance(command, str) and (given := _CONFIG_DIR_GIVEN.search(command)):
            written.append((folder, given.group(1)))
    for name in (".env", ".env.example", ".env.sample"):
        text = files.get(posixpath.join(folder, name), b"").decode("utf-8", "replace")
        if given := _CONFIG_DIR_GIVEN.search(text):
            written.append((folder, given.group(1)))
    for base, relative in written:
        directory = posixpath.normpath(posixpath.join(base, relative)).removeprefix("./")
        if directory != "." and any(p.startswith(directory + "/") for p in files):
            return directory
    return posixpath.join(folder, "config")


def _package_beside(files: dict[str, bytes], anchor: str) -> tuple[str, dict[str, Any]]:
    """The folder of ``anchor`` (the file the app's start was read from) and the
    package.json there ({} where it has none or it is no JSON object)."""
    folder = posixpath.dirname(anchor) if anchor in files else ""
    try:
        package = json.loads(files.get(posixpath.join(folder, "package.json"), b"{}"))
    except (ValueError, RecursionError):
        return folder, {}
    return folder, package if isinstance(package, dict) else {}


# createConnection() or createConnections() with no options: both read ormconfig, else
# TypeORM's variables (DevJpFarias' loja-nodejs-express-typescript-postgres: the latter).
# (``getConnectionOptions()`` reads them as createConnection() does: martinajindal's
# expressjs-typeorm passes what it reads on, its ormconfig git-ignored)
# (Nest's ``TypeOrmModule.forRoot()`` with none reads them so: agoodnight's teaNestJS)
_NO_OPTIONS = re.compile(
    r"\b(?:createConnections?|getConnectionOptions|TypeOrmModule\s*\.\s*forRoot)\s*\(\s*\)"
)
_MIGRATION = re.compile(r"(?:^|/)migrations?/")  # a migration's source, in its folder
_ORMCONFIG = re.compile(r"(?:^|/)ormconfig\.\w+(?:\.(?:example|sample|dist|template))?$")
_ENTITY = re.compile(r"@Entity\s*\(")
_TYPEORM_DRIVERS = {"pg": "postgres", "mysql2": "mysql", "mysql": "mysql", "sqlite3": "sqlite"}
_OUT_DIR = re.compile(r'"outDir"\s*:\s*"(?:\./)?([\w./-]+?)/?"')


def typeorm_unconfigured(files: dict[str, bytes], anchor: str) -> dict[str, str] | None:
    """What TypeORM 0.2's own variables are to say (``TYPEORM_CONNECTION``, the entities'
    glob, ``TYPEORM_SYNCHRONIZE`` where the upload has no migration, else its migrations'
    glob and ``TYPEORM_MIGRATIONS_RUN``: run as it connects), for an app that calls
    ``createConnection()`` (or ``createConnections()``, ``getConnectionOptions()``, Nest's
    ``TypeOrmModule.forRoot()``) with no options, which reads an
    ``ormconfig`` file, else those variables, where its upload has no ``ormconfig``
    (git-ignored); None elsewhere.
    Its database's address is the caller's to add (the preview's). The entities: the
    folders of the sources declaring ``@Entity(``, as the start runs them: their
    compiled ``.js`` under tsconfig's ``outDir`` where the scripts run ``node <outDir>/…``,
    else the sources. prkpiyush's express-postgres-todo git-ignores its ormconfig.json:
    "No connection options were found in any orm configuration files"."""
    folder, package = _package_beside(files, anchor)
    listed = package.get("dependencies")
    if not isinstance(listed, dict) or "typeorm" not in listed:
        return None
    driver = next((d for p, d in _TYPEORM_DRIVERS.items() if p in listed), None)
    sources = [
        p
        for p in files
        if p.endswith(_SOURCES)
        and not _TEST_FILE.search(p)
        and not _SKIPPED_DIRS.intersection(posixpath.dirname(p).split("/"))
    ]
    if driver is None or any(_ORMCONFIG.search(p) for p in files):
        return None
    if not any(_NO_OPTIONS.search(files[p].decode("utf-8", "replace")) for p in sources):
        return None
    entities = sorted(
        {
            posixpath.dirname(p)
            for p in sources
            if _ENTITY.search(files[p].decode("utf-8", "replace"))
        }
    )
    if not entities:
        return None
    tsconfig = uncommented(files.get(posixpath.join(folder, "tsconfig.json"), b""))
    out = _OUT_DIR.search(tsconfig.decode("utf-8", "replace"))
    runs = (
        " ".join(str(v) for v in (package.get("scripts") or {}).values())
        if isinstance(package.get("scripts"), dict)
        else ""
    )
    runs += files.get(posixpath.join(folder, "nodemon.json"), b"").decode("utf-8", "replace")
    built = out is not None and re.search(rf"\bnode\s+(?:\./)?{re.escape(out.group(1))}/", runs)

    def globs(directories: list[str]) -> str:
        found = []
        for directory in directories:
            inside = posixpath.relpath(directory, folder or ".")
            if built and out is not None:
                found.append(f"{out.group(1)}/**/{posixpath.basename(inside)}/*.js")
            else:
                extension = (
                    ".ts"
                    if any(p.endswith(".ts") and posixpath.dirname(p) == directory for p in sources)
                    else ".js"
                )
                found.append(f"{inside}/*{extension}")
        return ",".join(found)

    migrations = sorted({posixpath.dirname(p) for p in sources if _MIGRATION.search(p)})
    found = {"TYPEORM_CONNECTION": driver, "TYPEORM_ENTITIES": globs(entities)}
    if not migrations:
        found["TYPEORM_SYNCHRONIZE"] = "true"
    else:  # run as it connects: nothing else names them (DevJpFarias' loja-nodejs-express-…)
        found |= {"TYPEORM_MIGRATIONS": globs(migrations), "TYPEORM_MIGRATIONS_RUN": "true"}
    return found


# ``entities: [__dirname + this.envService.get('DATABASE_ENTITY_PATH')]`` (or
# ``process.env.X``): the folder's rest of an ORM's glob, from the file's own folder.
_GLOB_FROM_HERE = re.compile(
    r"""\b(entities|migrations)\s*:\s*\[\s*__dirname\s*\+\s*(?:process\.env(?:\.([A-Z][A-Z0-9_]*)"""
    r"""\b|\[\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\])|[\w$.]*\.get\s*(?:<[^<>()]*>)?\s*\(\s*"""
    r"""["'`]([A-Z][A-Z0-9_]*)["'`]\s*\))\s*\]"""
)


def orm_glob_reads(files: dict[str, bytes]) -> dict[str, str]:
    """The variables an ORM's ``entities`` (or ``migrations``) option appends to the
    folder of the file that reads it (``[__dirname + env.get('DATABASE_ENTITY_PATH')]``),
    each given the rest of a glob that leads from there to the app's entity classes
    (``@Entity(``) or its migrations: ``/../../**/*.entity{.ts,.js}`` where they share
    one suffix, else their folders. ``.ts`` and ``.js`` both: the file runs from its
    source (ts-node) or from its build, which keeps the source's folders. dlrtn's
    nestjs-study keeps the glob in a default.env it does not upload: TypeORM loaded no
    entity ("No metadata for "Member" was found"). Empty where nothing reads one so."""
    sources = dict(node_sources(files))
    entities = sorted(p for p, text in sources.items() if _ENTITY.search(text))
    migrations = sorted(p for p in sources if _MIGRATION.search(p))
    found: dict[str, str] = {}
    for path, text in sources.items():
        for match in _GLOB_FROM_HERE.finditer(text):
            name = match.group(2) or match.group(3) or match.group(4)
            targets = entities if match.group(1) == "entities" else migrations
            if targets and (glob := _glob_from(posixpath.dirname(path), targets, sources)):
                found.setdefault(name, glob)
    return found


def _glob_from(folder: str, targets: list[str], sources: Iterable[str]) -> str | None:
    """A glob, from ``folder``, of exactly the files ``targets`` among ``sources`` (their
    ``.ts`` or ``.js`` forms): their one shared suffix under their common folder, else
    their folders' files where those hold nothing else; None else."""
    common = posixpath.commonpath([posixpath.dirname(t) for t in targets])
    base = posixpath.relpath(common or ".", folder or ".")
    names = [posixpath.basename(t).rsplit(".", 1)[0] for t in targets]
    suffixes = {n.rsplit(".", 1)[1] for n in names if "." in n}
    if len(suffixes) == 1 and all("." in n for n in names):
        return f"/{base}/**/*.{suffixes.pop()}{{.ts,.js}}"
    folders = sorted({posixpath.dirname(t) for t in targets})
    if any(posixpath.dirname(p) in folders and p not in targets for p in sources):
        return None
    inside = ",".join(posixpath.relpath(f, folder or ".") for f in folders)
    return f"/{inside}/*{{.ts,.js}}" if len(folders) == 1 else f"/{{{inside}}}/*{{.ts,.js}}"


# ``if (process.env.NODE_ENV === 'local') {``: the block its app is served in, and the
# value (group 1 or 2), either side of the comparison.
_SERVED_UNDER = re.compile(
    r"""\bif\s*\(\s*(?:process\.env\.NODE_ENV\s*===?\s*["'](\w+)["']"""
    r"""|["'](\w+)["']\s*===?\s*process\.env\.NODE_ENV)\s*\)\s*\{"""
)
# ``process.env.NODE_ENV || 'dev'``: the value the app takes where none is given.
_NODE_ENV_DEFAULT = re.compile(r"""process\.env\.NODE_ENV\s*(?:\|\||\?\?)\s*["'](\w+)["']""")
# A path made of NODE_ENV: ``'./node_env/' + process.env.NODE_ENV + '.json'``, `${…}`.
_NAMED_BY_NODE_ENV = re.compile(
    r"""["'`][\w./-]*["'`]\s*\+\s*process\.env\.NODE_ENV\b|\$\{\s*process\.env\.NODE_ENV\s*\}"""
)


def node_env_its_code_names(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(the ``NODE_ENV`` the app's own code asks for, why) where a development run's
    (``development``) serves nothing or loads nothing: its only ``listen`` inside ``if
    (process.env.NODE_ENV === 'local') {…}`` (mayajuni's lambda-koa-seed, a Lambda
    handler served locally so; it exited at once, printing nothing), or its configuration
    loaded from a file named by NODE_ENV with a default of its own, where no file is named
    for development (youyudehexie's koa-seed: ``process.env.NODE_ENV || 'dev'``, then
    ``require('./node_env/' + process.env.NODE_ENV + '.json')``: dev.json, prod.json, no
    development.json). None where neither is so."""
    listens = 0
    served: list[tuple[str, str]] = []
    for path, code in node_sources(files):
        listens += len(re.findall(r"\.listen\(", code))
        for match in _SERVED_UNDER.finditer(code):
            if ".listen(" in _braced(code, match.end() - 1):
                served.append((match.group(1) or match.group(2), path))
    if len(served) == 1 and listens == 1 and served[0][0] != "development":
        value, path = served[0]
        return value, f"{path} listens only where NODE_ENV is {value!r}"
    stems = {posixpath.splitext(posixpath.basename(p))[0] for p in files}
    if stems & {"development"}:
        return None
    for path, code in node_sources(files):
        default = _NODE_ENV_DEFAULT.search(code)
        if default is None or not _NAMED_BY_NODE_ENV.search(code):
            continue
        value = default.group(1)
        if value != "development" and value in stems:
            return value, f"{path} loads its configuration by NODE_ENV, {value!r} by default"
    return None
