"""The configuration an upload only describes, read from its files (never run):
:func:`example_env_file` (the ``.env.example`` to use when there is no ``.env``),
:func:`required_variables` (what the app cannot start without), and the one reading of
its ``.env``-like files (:func:`dotenv_text`) and compose files (:func:`compose_services`,
:func:`compose_environment`, interpolated as compose does) that every reader of them
shares.

Required, read with :mod:`ast`:

- the fields without a default of a pydantic-settings ``BaseSettings`` class (pydantic
  v1's too), named as the environment gives them: the class's ``env_prefix`` and the
  field's name (or its ``alias`` / ``validation_alias``), upper-cased (pydantic-settings
  matches them without case by default);
- ``os.environ["X"]`` read (not assigned);
- ``config("X")`` of python-decouple or Starlette's ``Config``, and environs' (or
  django-environ's) ``env("X")`` / ``env.str("X")``, without a ``default``.

A Node app's: what envalid's ``cleanEnv`` requires, and any other ``process.env.X`` read
as optional (:mod:`.node.envreads`).

``os.getenv("X")`` and ``os.environ.get("X")`` without a default are, when the value is
used at once (``os.environ.get("ALLOWED_HOSTS").split(" ")``); otherwise they are read
(as are those whose default is ``""``, i.e. unset, ``env.str("X", default="")`` too)
as optional (``OPTIONAL``): the app said what it does without, but a throwaway secret
does no harm there (Django's ``SECRET_KEY = os.environ.get("SECRET_KEY")`` needs one).
"""

from __future__ import annotations

import ast
import io
import posixpath
import re

from dotenv import dotenv_values

from .node.envreads import node_env_reads
from .pyapp import parse_module, python_files

__all__ = [
    "COMPOSE_NAMES",
    "EXAMPLE_NAMES",
    "OPTIONAL",
    "compose_environment",
    "compose_files",
    "compose_overlays",
    "compose_services",
    "dotenv_chain",
    "dotenv_text",
    "example_env_file",
    "interpolated",
    "required_types",
    "required_variables",
    "template_url",
]

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
EXAMPLE_NAMES = (".env.example", ".env.sample", ".env.template", ".env.dist")
_OVERLAY = re.compile(r"^(?:docker-)?compose\.([\w-]+)\.ya?ml$")
_NOT_LOCAL = re.compile(r"prod|stag|test|^ci$", re.IGNORECASE)
OPTIONAL = "?"  # the type of a variable read without a default, not required
_SETTINGS_BASES = {"BaseSettings"}
_DJANGO_ENVIRON = re.compile(rb"^\s*(?:import environ\b|from environ import)", re.MULTILINE)
_PASSWORD = re.compile(r"PASSWORD|PASSWD|PASS$")
_EXAMPLE_WORD = re.compile(r"example|sample|template|dist|default", re.IGNORECASE)
_CONFIG_MODULES = ("decouple", "starlette.config", "environs")
# A URL an example file gives as a form to fill in, not an address:
# ``mysql+pymysql://[USER]:[PASSWORD]@[HOST]:[PORT]/[DATABASE_NAME]``, ``<host>``,
# ``{db_name}`` (an IPv6 host, ``[::1]``, starts with no letter).
_TEMPLATE_URL = re.compile(
    r"^[a-z][a-z0-9+.-]*://\S*?"
    r"(?:\[[A-Za-z_][\w -]*\]|<[A-Za-z_][\w -]*>|(?<!\$)\{[A-Za-z_][\w -]*\})",
    re.IGNORECASE,
)
_ENV_METHODS = {"str", "int", "bool", "float", "list", "dict", "url", "json", "path", "decimal"}


def dotenv_chain(files: dict[str, bytes], anchor: str) -> list[str]:
    """The directories from ``anchor``'s up to the upload's root (""), nearest first."""
    directory = posixpath.dirname(anchor) if anchor in files else ""
    chain = [directory]
    while directory:
        directory = posixpath.dirname(directory)
        chain.append(directory)
    return chain


def dotenv_text(data: bytes) -> dict[str, str]:
    """One ``.env``-like file's variables (those given a value, ``""`` included)."""
    values = dotenv_values(stream=io.StringIO(data.decode("utf-8", "replace")))
    return {k: v for k, v in values.items() if v is not None}


def compose_files(files: dict[str, bytes]) -> list[str]:
    """The upload's compose files, by path."""
    return sorted(p for p in files if posixpath.basename(p) in COMPOSE_NAMES)


def compose_overlays(files: dict[str, bytes]) -> list[str]:
    """The compose files that add to one beside them, run as ``docker compose -f
    docker-compose.yml -f docker-compose.local.yml up`` (``.override``, ``.local``,
    ``.dev`` …; not production's, staging's or the tests'): by path."""
    found = []
    for path in sorted(files):
        match = _OVERLAY.match(posixpath.basename(path))
        beside = (_in(posixpath.dirname(path), name) in files for name in COMPOSE_NAMES)
        if match and not _NOT_LOCAL.search(match.group(1)) and any(beside):
            found.append(path)
    return found


def compose_services(data: bytes) -> dict[str, dict]:
    """A compose file's services by name ({} for a file YAML cannot read, or none)."""
    import yaml  # lazy: loaded only for an upload with a compose file

    try:
        document = yaml.safe_load(data.decode("utf-8", "replace"))
    except yaml.YAMLError:
        return {}
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict):
        return {}
    return {str(k): v for k, v in services.items() if isinstance(v, dict)}


def _service_environment(service: dict) -> dict[str, str]:
    """A compose service's ``environment`` (a mapping, or a list of ``K=V``)."""
    env = service.get("environment")
    if isinstance(env, dict):
        return {str(k): str(v) for k, v in env.items() if v is not None}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {k: v for k, eq, v in pairs if eq}
    return {}


def compose_environment(service: dict, env: dict[str, str]) -> dict[str, str]:
    """A compose service's ``environment`` as compose gives it to the container: its
    ``${NAME}``, ``${NAME:-default}`` and ``$NAME`` from ``env`` (:func:`interpolated`:
    the ``.env`` compose reads, the launch's variables), ``$$`` a plain ``$``. A value
    that names a variable ``env`` lacks, with no default, is left out: compose would
    give it empty, and an empty ``DATABASE_URL`` is no better than the service's."""
    found: dict[str, str] = {}
    for name, value in _service_environment(service).items():
        given = interpolated(value.replace("$$", "\0"), env)
        if "$" not in given and "\0" not in name:
            found[name] = given.replace("\0", "$")
    return found


def _in(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def interpolated(text: str, env: dict[str, str]) -> str:
    """``text`` with compose's ``${NAME}``, ``${NAME:-default}`` and ``$NAME`` given their
    values from ``env`` (the ``.env`` compose reads, else its example), left as they are
    where ``env`` has none and no default is given."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if env.get(name):
            return env[name]
        return match.group(2) if match.group(2) is not None else match.group(0)

    return _INTERPOLATION.sub(value, text)


def template_url(value: str) -> bool:
    """Whether ``value`` is a URL with placeholders to fill in (:data:`_TEMPLATE_URL`),
    which names no server: the service's own stands in for it where it gives one."""
    return _TEMPLATE_URL.match(value.strip()) is not None


def example_env_file(files: dict[str, bytes], anchor: str) -> str | None:
    """When no ``.env`` is on the way from the root to ``anchor``'s directory: the
    example of one nearest to the app (``.env.example``, ``.env.sample``,
    ``.env.template``, ``.env.dist``, in that order in each directory); else None."""
    chain = dotenv_chain(files, anchor)
    if any(_in(d, ".env") in files for d in chain):
        return None
    for directory in chain:
        for name in EXAMPLE_NAMES:
            if _in(directory, name) in files:
                return _in(directory, name)
        # .env.dev-sample, .env.local.example, env-example-relational …: a development
        # one before a production one, a SQL database's before a document store's
        others = [
            p
            for p in files
            if posixpath.dirname(p) == directory
            and posixpath.basename(p).startswith((".env.", "env-example", "env.example"))
            and _EXAMPLE_WORD.search(posixpath.basename(p))
        ]
        if others:
            return min(
                others, key=lambda p: ("prod" in p, "document" in p or "mongo" in p, len(p), p)
            )
    return None


_parse = parse_module


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _keyword(call: ast.Call, *names: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg in names), None)


def required_variables(files: dict[str, bytes]) -> list[str]:
    """The environment variables the app's Python code cannot start without (see the
    module doc), in the order first met."""
    return [name for name, kind in required_types(files).items() if kind != OPTIONAL]


def required_types(files: dict[str, bytes]) -> dict[str, str]:
    """:func:`required_variables` with the type each is declared with, as written in a
    settings class (``EmailStr``, ``SecretStr``, ``PostgresDsn`` …; "" elsewhere), and
    after them those read without a default (type ``OPTIONAL``)."""
    found: dict[str, str] = {}
    for path in python_files(files):
        data = files[path]
        tree = (
            _parse(data) if b"environ" in data or b"Settings" in data or b"config" in data else None
        )
        if tree is None:
            continue
        configured = any(m.encode() in data for m in _CONFIG_MODULES) or bool(
            _DJANGO_ENVIRON.search(data)
        )
        defaulted, numbers = _read_shapes(tree)
        for node in ast.walk(tree):
            if id(node) in defaulted:  # `os.environ.get("X") or "15"`: its own default
                continue
            if isinstance(node, ast.ClassDef) and any(
                _name(b) in _SETTINGS_BASES for b in node.bases
            ):
                for name, kind in _settings_fields(node):
                    found.setdefault(name, kind)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                if _is_environ(node.value) and (key := _string(node.slice)):
                    found.setdefault(key, numbers.get(id(node), ""))
            elif configured and isinstance(node, ast.Call) and (key := _config_call(node)):
                found.setdefault(key, "")
            elif isinstance(node, ast.Call) and (key := _empty_default(node, configured)):
                # "" as its default: unset, by another name; but a password's "" says none
                # (a Redis or database without one), which a throwaway would contradict.
                if not _PASSWORD.search(key.upper()):
                    found.setdefault(key, OPTIONAL)
            elif isinstance(node, ast.Attribute) and (key := _environ_get(node.value)):
                found.setdefault(key, "")  # os.environ.get("X").split(…): required
            elif isinstance(node, ast.Call) and (key := _environ_get(node)):
                # int(os.environ.get("X")) fails on None: a number it needs
                found.setdefault(key, numbers.get(id(node), OPTIONAL))
    required_by_node, read_by_node = node_env_reads(files)
    for name, kind in required_by_node.items():
        found.setdefault(name, kind)
    found.update({name: OPTIONAL for name in read_by_node if name not in found})
    if any(kind == OPTIONAL for kind in found.values()):  # required ones first met later
        required = {n: k for n, k in found.items() if k != OPTIONAL}
        found = {**required, **{n: k for n, k in found.items() if k == OPTIONAL}}
    return found


def _read_shapes(tree: ast.AST) -> tuple[set[int], dict[int, str]]:
    """The nodes that have a fallback (``a or b``: all but the last operand; ``x if c
    else y``), and those read as a number (``int(…)``, ``float(…)``: their type's name),
    by ``id``."""
    defaulted: set[int] = set()
    numbers: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            defaulted.update(id(value) for value in node.values[:-1])
        elif isinstance(node, ast.IfExp):
            defaulted.update((id(node.body), id(node.orelse)))
        elif isinstance(node, ast.Call) and _name(node.func) in ("int", "float") and node.args:
            numbers[id(node.args[0])] = _name(node.func) or ""
    return defaulted, numbers


def _environ_get(node: ast.AST) -> str | None:
    """``X`` of ``os.environ.get("X")`` / ``os.getenv("X")`` without a default."""
    if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
        return None
    func = node.func
    getter = isinstance(func, ast.Attribute) and (
        (func.attr == "get" and _is_environ(func.value)) or func.attr == "getenv"
    )
    if not (getter or (isinstance(func, ast.Name) and func.id == "getenv")):
        return None
    return _string(node.args[0])


def _empty_default(call: ast.Call, configured: bool) -> str | None:
    """``X`` of ``os.environ.get("X", "")``, ``os.getenv("X", "")``, ``config("X",
    default="")``, ``env.str("X", default="")``: read with the empty string as default."""
    if len(call.args) == 2 and _string(call.args[1]) == "" and not call.keywords:
        key = _environ_get(ast.Call(func=call.func, args=call.args[:1], keywords=[]))
        if key is not None:
            return key
    default = _keyword(call, "default")
    if configured and _string(default) == "" and call.args:
        func = call.func
        named = isinstance(func, ast.Name) and func.id in ("config", "env")
        method = isinstance(func, ast.Attribute) and func.attr in _ENV_METHODS
        key = _string(call.args[0])
        if (named or method) and key and key.replace("_", "").isalnum():
            return key
    return None


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` (or ``environ`` alone, as ``from os import environ`` binds it);
    not a request's WSGI ``environ``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _config_call(call: ast.Call) -> str | None:
    """``config("X")`` / ``env("X")`` / ``env.str("X")`` without a default."""
    func = call.func
    named = isinstance(func, ast.Name) and func.id in ("config", "env")
    method = (
        isinstance(func, ast.Attribute)
        and func.attr in _ENV_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id == "env"
    )
    if not (named or method) or not call.args:
        return None
    key = _string(call.args[0])
    if key is None or _keyword(call, "default") is not None or len(call.args) > (2 if named else 1):
        return None  # config("X", cast=int) has no default; config("X", "d") has one
    return key if key.replace("_", "").isalnum() else None


def _settings_fields(node: ast.ClassDef) -> list[tuple[str, str]]:
    prefix = _env_prefix(node)
    names = []
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        field = statement.target.id
        if (
            field.startswith("_")
            or field == "model_config"
            or "ClassVar" in ast.unparse(statement.annotation)
        ):
            continue
        value = statement.value
        alias = None
        if isinstance(value, ast.Call) and _name(value.func) == "Field":
            alias = _string(_keyword(value, "validation_alias", "alias", "env"))
            default = value.args[0] if value.args else _keyword(value, "default", "default_factory")
            if default is not None and not (
                isinstance(default, ast.Constant) and default.value is Ellipsis
            ):
                continue
        elif value is not None:
            continue
        names.append(((alias or prefix + field).upper(), ast.unparse(statement.annotation)))
    return names


def _env_prefix(node: ast.ClassDef) -> str:
    """``model_config = SettingsConfigDict(env_prefix=…)`` or v1's ``class Config``."""
    for statement in node.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(
            statement.value, ast.Call
        ):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                return _string(_keyword(statement.value, "env_prefix")) or ""
        if isinstance(statement, ast.ClassDef) and statement.name == "Config":
            for inner in statement.body:
                if isinstance(inner, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "env_prefix" for t in inner.targets
                ):
                    return _string(inner.value) or ""
    return ""
