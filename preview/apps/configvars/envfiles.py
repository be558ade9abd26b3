"""The upload's ``.env``-like files, read once for every reader of them: the chain of
directories a ``.env`` is looked for in (:func:`dotenv_chain`), one file's variables
(:func:`dotenv_text`), the example to use when there is no ``.env``
(:func:`example_env_file`), and a URL that is a form to fill in (:func:`template_url`)."""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Mapping

from dotenv import dotenv_values
from dotenv.variables import parse_variables

__all__ = [
    "EXAMPLE_NAMES",
    "README_NAMES",
    "development_env_file",
    "dotenv_chain",
    "dotenv_text",
    "example_env_file",
    "example_rank",
    "is_readme",
    "other_env_files",
    "readme_copied_env",
    "readme_paths",
    "settings_env_example",
    "template_url",
]

EXAMPLE_NAMES = (".env.example", ".env.sample", ".env.template", ".env.dist")
# An example's words, in the order one is preferred to another in a directory.
_EXAMPLE_WORDS = (
    "example",
    "sample",
    "template",
    "dist",
    "default",
    "defaults",
    "tpl",
    "exemple",
    "simple",  # sample misspelt: ichetiva's fastapi-crm's .env.simple (its MAIL_PORT=587)
)
# The words a name says .env by (dot-env-template spells the dot out); env.py, Alembic's,
# has no example's word, and "environment" is none of them.
_ENV_WORDS = {"env", "dotenv"}
# Development environments' names, as a file of one's values is named (``local.env``).
_DEVELOPMENT = ("local", "dev", "development")
_WORD = re.compile(r"[^._-]+")
# An example written in another format than a .env's (env.template.yaml, a CI's).
_OTHER_FORMAT = re.compile(r"\.(?:ya?ml|json|[cm]?[jt]s|py|toml|cfg|ini|md)$", re.IGNORECASE)
# A plain text file's extension, which says no format: an example named so
# (``env_example.txt``) is a .env's, ranked after one that is not a .txt.
_TEXT = ".txt"
# A URL an example file gives as a form to fill in, not an address:
# ``mysql+pymysql://[USER]:[PASSWORD]@[HOST]:[PORT]/[DATABASE_NAME]``, ``<host>``,
# ``{db_name}`` (an IPv6 host, ``[::1]``, starts with no letter); an ellipsis where its
# address would be (Meghansh-Maurya's notes_api's README: ``DATABASE_URL=postgresql://...``,
# which psycopg then looked up: "encoding with 'idna' codec failed (label empty or too
# long)"), which no host name holds.
_TEMPLATE_URL = re.compile(
    r"^[a-z][a-z0-9+.-]*://(?:\S*?"
    r"(?:\[[A-Za-z_][\w -]*\]|<[A-Za-z_][\w -]*>|(?<!\$)\{[A-Za-z_][\w -]*\})"
    r"|[^/?#\s]*?(?:\.{3}|…))",
    re.IGNORECASE,
)


def dotenv_chain(files: dict[str, bytes], anchor: str) -> list[str]:
    """The directories from ``anchor``'s up to the upload's root (""), nearest first."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    chain = [directory]
    while directory:
        directory = posixpath.dirname(directory)
        chain.append(directory)
    return chain


def dotenv_text(data: bytes) -> dict[str, str]:
    """One ``.env``-like file's variables (those given a value, ``""`` included), its
    ``${NAME}`` and ``${NAME:-default}`` given the values the file set above them, as
    python-dotenv gives them, but never one of the service's own environment: python-dotenv
    reads those too (``os.environ``), and ``SECRET=${PREVIEW_JWT_SECRET}`` in an upload's
    ``.env`` handed the app the service's secret."""
    raw = dotenv_values(stream=io.StringIO(data.decode("utf-8", "replace")), interpolate=False)
    values: dict[str, str | None] = {}
    for name, value in raw.items():
        if value is not None:
            value = "".join(atom.resolve(values) for atom in parse_variables(value))
        values[name] = value
    return {k: v for k, v in values.items() if v is not None}


def _in(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


# A port that is a word, not a number: ``postgresql://user:password@host:port/dbname``
# (viktorsapozhok's fastapi-services-oauth2's committed .env), ``:PORT``, ``:$DB_PORT``;
# words after it too (``host:PASSWORD:PORT/db``, no account: NSAtgur's fastapi-job-portal,
# SQLAlchemy's "invalid literal for int() with base 10: 'PASSWORD:PORT'").
_WORD_PORT = re.compile(
    r"^[a-z][a-z0-9+.-]*://(?:[^/?#@\s]*@)?"  # its scheme, its account
    r"[^/?#@:\s\[\]]+:\$?[A-Za-z_][\w-]*(?:[/?#:]|$)",  # a host (not [::1]), a word
    re.IGNORECASE,
)


def template_url(value: str) -> bool:
    """Whether ``value`` is a URL with placeholders to fill in (:data:`_TEMPLATE_URL`,
    :data:`_WORD_PORT`: which no client parses, SQLAlchemy's "invalid literal for int()"),
    which names no server: the service's own stands in for it where it gives one."""
    value = value.strip()
    return _TEMPLATE_URL.match(value) is not None or _WORD_PORT.match(value) is not None


# A value its author wrote for the reader to replace: "your_postgres_db_url", "<db-host>".
# (or an ellipsis alone: ghassenjridi8's typescript-rest-api's README, ``DB_HOST=...``
# for each, which TypeORM then looked up: getaddrinfo ENOTFOUND ...)
# (a run of x's or stars too: T-travis's fastify-tasks-list gives every variable of its
# example.env ``XXX``, and its Sequelize met "The dialect XXX is not supported")
# (or a name in braces, as a template writes one: adriangmweb's express-quiz-app, a
# course's, ``DATABASE_URL={your-db-host}`` in .env-sample, which its own URL parser
# then failed on: "Cannot read properties of null")
_FILL_IN = re.compile(
    r"^(?:(?:your|enter|insert)[_-][\w.-]*|<[^<>]+>|\[[A-Za-z_][\w -]*\]|\.{3,}|…|x{3,}|\*{3,}"
    # a value masked but for its first and last characters (ingeniousambivert's README:
    # TWILIO_ACCOUNT_SID=Axxxx…xd, which Twilio's SDK refused: "must start with AC")
    r"|[\w-]{0,10}?x{8,}[\w-]{0,6}"
    r"|\{\{?\s*[A-Za-z_][\w .-]*\}\}?"
    # the example's own word for every value (Aretemal's ExpressMySQL: DB_TYPE = 'example'
    # …, which Sequelize refused: "The dialect example is not supported"; PsydoV2's
    # TypescriptExpressTemplate: HTTPPORT=_PLACEHOLDER_, which its zod schema refused)
    r"|[_-]*(?:example|sample|placeholder)[_-]*"
    # a dotted name whose last part is one (mr-time2028's DjangoEcommerceApi:
    # DB_ENGINE=django.db.backends.YOUR_DATABASE, "isn't an available database backend")
    r"|(?:[A-Za-z_]\w*\.)+(?:your|enter|insert)_[\w-]+"
    # a phrase addressed to the reader (grigoriykuzevanov's README: DB_USER="Your postgres
    # user name", SECRET_KEY="Your secret key")
    r"|(?:your|enter|insert)(?:\s+[\w'-]+){1,6}"
    # the choices a reader picks one of (acharyarupak391's ExpressJS-Sequelize's README:
    # DB_DIALECT=postgres | sql | ..., which Sequelize refused: "The dialect postgres | sql
    # | ... is not supported"): the service's engine stands in where it gives one
    r"|[\w.-]+(?:\s+\|\s+(?:[\w.-]+|\.{3}|…)){1,}"
    r"|[\w.-]+(?:\s*\|\s*[\w.-]+)*\s*\|\s*(?:\.{3}|…))$",
    re.I,
)


def fill_in(value: str) -> bool:
    """Whether ``value`` is a fill-in an example leaves for its reader (``your_postgres_
    db_url``, ``your-db-host``, ``<host>``, ``<your database here>``, ``[PASSWORD]``,
    ``...``), which names nothing: the service's own value stands in for a database's where
    it gives one (bonkx's express-jwt-postgres: ``DATABASE_URL="your_postgres_db_url"``, Sequelize's
    "Error parsing url")."""
    return _FILL_IN.match(value.strip()) is not None


def development_env_file(path: str) -> bool:
    """Whether a file is a development environment's own values by its name, either word
    first (``local.env``, ``dev.env``, ``.env.local``, ``.env.development``)."""
    words = [w.lower() for w in _WORD.findall(posixpath.basename(path))]
    pair = words if len(words) == 2 else ["", ""]
    return (pair[0] in _DEVELOPMENT and pair[1] == "env") or (
        pair[0] in _ENV_WORDS and pair[1] in _DEVELOPMENT
    )


def example_rank(path: str) -> tuple | None:
    """Where the file at ``path`` ranks among the examples of a ``.env`` in its
    directory (lowest first), or None where it is none: one rule for every spelling,
    its name's words (split at ``.``, ``-``, ``_``) saying ``env`` and an example's
    word (``.env.example``, ``.env-example``, ``.env_example``, ``example.env``,
    ``env.sample``, ``.env.local.example``, ``dot-env-template`` …), in a .env's format
    (as plain text too, after any other: ``env_example.txt``, solnsumei's flask-rest-api-setup,
    whose ``FLASK_ENV=development`` is what sets its database URL; ``env.txt``).
    A name of no other word first (``.env.example`` before ``.env.local.example``), a
    development one before a production one, a SQL database's before a document
    store's, then by its example's word (``example`` before ``dist``); a development
    environment's own file (``local.env``, ``dev.env``) after every example."""
    name = posixpath.basename(path)
    words = [w.lower() for w in _WORD.findall(name)]
    said = [w for w in words if w in _EXAMPLE_WORDS]
    plain = words[-1:] == ["txt"] and set(words[:-1]) <= {*_ENV_WORDS, *said}
    if plain and _ENV_WORDS & set(words):
        # A .env's lines kept as plain text, ``env.txt`` (tnsc's secure-node-express-api-
        # boilerplate: "Environmental variables needed to start the project", its
        # API_BASE_URL the app mounts its routes at): after every example of a .env's name.
        word = _EXAMPLE_WORDS.index(said[0]) if said else len(_EXAMPLE_WORDS)
        return (True, False, False, 0, word, len(name), name)
    # (or the other way round: DrMinh's FastifyMinimalProject holds .env.dev alone, its
    # @fastify/env schema requiring the TEST it sets: "env must have required property")
    if not said and development_env_file(name):
        # A development environment's own file (local.env, dev.env: what a compose file's
        # env_file names; qlawmarq's fastapi-mysql-docker, whose api/ holds local.env and
        # no example): after every example by its word.
        return (False, False, False, 0, len(_EXAMPLE_WORDS), len(name), name)
    if not _ENV_WORDS & set(words) or not said or _OTHER_FORMAT.search(name):
        return None
    text = name.lower().endswith(_TEXT)
    others = [w for w in words if w not in _ENV_WORDS and w not in (*_EXAMPLE_WORDS, "txt")]
    lowered = name.lower()
    return (
        text,
        "prod" in lowered,
        "document" in lowered or "mongo" in lowered,
        len(others),
        _EXAMPLE_WORDS.index(said[0]),
        len(name),
        name,
    )


def other_env_files(files: dict[str, bytes], chosen: str | None) -> list[str]:
    """The upload's env files other than ``chosen`` (the example it runs with), best
    first: its examples by :func:`example_rank`, then a development environment's own
    (``.env.local``, ``.env.development``); never a production one's, nor a ``.env``
    (which the app is given already). noman13bd's fastapi-mysql-async-boilerplate: its
    example.env lacks CELERY_BROKER_URL and ES_URL, which its settings require and its
    ``.env.local`` sets."""
    ranked: list[tuple[tuple, str]] = []
    for path in files:
        name = posixpath.basename(path)
        if path == chosen or name == ".env" or "node_modules/" in path or "prod" in name.lower():
            continue
        words = [w.lower() for w in _WORD.findall(name)]
        rank = example_rank(path)
        if rank is None and len(words) == 2 and words[0] in _ENV_WORDS and words[1] in _DEVELOPMENT:
            rank = (False, False, False, 1, len(_EXAMPLE_WORDS), len(name), name)  # .env.local
        if rank is not None:
            ranked.append((rank, path))
    return [path for _, path in sorted(ranked)]


def example_env_file(files: dict[str, bytes], anchor: str) -> str | None:
    """When no ``.env`` is on the way from the root to ``anchor``'s directory: the file
    the README says to copy to ``.env`` (:func:`readme_copied_env`), else the example of
    one nearest to the app (:func:`example_rank`: the best of a directory), else the
    example of the env file its settings read elsewhere (:func:`settings_env_example`);
    else None."""
    chain = dotenv_chain(files, anchor)
    if any(_in(d, ".env") in files for d in chain):
        return None
    copied = readme_copied_env(files)  # the root's README: a .env at the root, on the way
    if copied is not None:
        return copied
    for directory in chain:
        ranked = [
            (rank, p)
            for p in files
            if posixpath.dirname(p) == directory and (rank := example_rank(p)) is not None
        ]
        if ranked:
            return min(ranked)[1]
    return settings_env_example(files)


# A settings class's env file, as pydantic's reads it (``class Config: env_file =
# "envs/dev.env"``, ``SettingsConfigDict(env_file=(".env", …))``): its first path.
_SETTINGS_ENV_FILE = re.compile(
    rb"""\benv_file\s*(?::[^=\n]+)?=\s*[(\[]?\s*[rRbB]?["']([^"'\n]+)["']"""
)


def settings_env_example(files: dict[str, bytes]) -> str | None:
    """The example of the env file a settings class of the app reads (pydantic's
    ``env_file``) where the upload lacks that file and holds an example of it in its
    folder (:func:`example_rank`), else None. RashminDungrani's fastapi-invoice-app reads
    ``envs/dev.env``, its README says to write it as ``envs/dev.example.env`` is (MySQL's
    ``db_type``, host and port): the service read no example, and its settings' own
    defaults (PostgreSQL on localhost) refused the connection."""
    named: set[str] = set()
    for path, data in files.items():
        if path.endswith(".py") and b"env_file" in data and "site-packages/" not in path:
            found = (m.decode("utf-8", "replace") for m in _SETTINGS_ENV_FILE.findall(data))
            named.update(posixpath.normpath(f.removeprefix("./")) for f in found)
    for target in sorted(t for t in named if t not in files and not t.startswith((".", "/"))):
        folder = posixpath.dirname(target)
        ranked = [
            (rank, p)
            for p in files
            if posixpath.dirname(p) == folder and (rank := example_rank(p)) is not None
        ]
        if folder and ranked:
            return min(ranked)[1]
    return None


# The names a README goes by, the first the upload has its one (every reader of it here).
README_NAMES = (
    "README.md",
    "readme.md",
    "Readme.md",
    "README.MD",
    "README.markdown",
    "README.rst",
    "README",
)
# A README anywhere in the upload, by its name in any case (``docs/README.md``, ``readme``).
_README_PATH = re.compile(r"(?:^|/)readme(?:\.\w+)?$", re.IGNORECASE)


def is_readme(path: str) -> bool:
    """Whether ``path`` is a README, in whatever folder and case."""
    return _README_PATH.search(path) is not None


def readme_paths(files: Mapping[str, bytes]) -> list[str]:
    """Every README of the upload, the shallowest first (then by path): the nearest a
    human setting the app up reads first."""
    return sorted((p for p in files if is_readme(p)), key=lambda p: (p.count("/"), p))


# The README's step that makes the .env: ``cp .env.local .env``, "Copy the sample
# `.env.local` file to `.env`", "copy env.dev into .env".
_COPIED = re.compile(
    r"(?:\b(?:cp|copy)\s+(?:-\w+\s+)?|\bcopy\s+(?:the\s+)?(?:\w+\s+){0,2}?)"
    r"[`'\"]?(?P<source>[\w./-]*env[\w./-]*?)[`'\"]?\s+"
    r"(?:(?:file|template)\s+)?(?:(?:to|into|as)\s+)?(?:a\s+(?:new\s+)?(?:file\s+)?)?"
    r"(?:(?:named|called)\s+)?[`'\"]?(?:\./)?\.env[`'\"]?(?![\w.-])",
    re.IGNORECASE,
)


def readme_copied_env(files: dict[str, bytes]) -> str | None:
    """The upload's file the README says to copy to ``.env`` where it has none (Jeihunn's
    fastapi-blog-best-practices: "Copy the sample `.env.local` file to `.env`", a name no
    example's word says), by its path; None where it says none, or names no file of
    the upload's."""
    readme = next((name for name in README_NAMES if name in files), None)
    if readme is None:
        return None
    text = files[readme][:200_000].decode("utf-8", "replace")
    for match in _COPIED.finditer(text):
        source = posixpath.normpath(match.group("source").removeprefix("./"))
        if source != ".env" and source in files:
            return source
    return None
