"""The variables an upload's code cannot start without (:func:`required_variables`), read
with :mod:`ast`, never run:

- the fields without a default of a pydantic-settings ``BaseSettings`` class (pydantic
  v1's too), named as the environment gives them: the class's ``env_prefix`` and the
  field's name (or its ``alias`` / ``validation_alias``), upper-cased (pydantic-settings
  matches them without case by default);
- ``os.environ["X"]`` read (not assigned), and ``values["X"]`` of ``values =
  dotenv_values(…)``, python-dotenv's file read as a dict;
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
import posixpath
import re
from collections.abc import Collection, Iterator, Mapping

from ...discovery.pyast import imported_files, is_none, last_name, parse_source
from ..node.envreads import SQL_URL_SCHEME, node_env_reads, url_places
from ..pyapp import TEST_MODULE, parse_module, python_files
from .meanings import DATABASE, DATABASE_URL_READ, meaning

__all__ = [
    "CACHE_URL_READ",
    "CRON_FIELD",
    "DATABASE_URL_READ",
    "EMAIL_URL_READ",
    "OPTIONAL",
    "compared_values",
    "config_selectors",
    "database_option_variables",
    "json_settings_fields",
    "prefixed_settings_fields",
    "read_variables",
    "required_types",
    "required_variables",
    "router_prefix_defaults",
    "server_url_engines",
    "settings_field_types",
]

OPTIONAL = "?"  # the type of a variable read without a default, not required
# The kinds of a read by a reader of a service's URL (django-environ's env.db("X")).
CACHE_URL_READ = "cache URL"
# The kind of a variable handed to a cron schedule's field (Celery's ``crontab(minute=…)``).
CRON_FIELD = "cron field"
EMAIL_URL_READ = "mail URL"
_SETTINGS_BASES = {"BaseSettings"}
_PASSWORD = re.compile(r"PASSWORD|PASSWD|PASS$")
_CONFIG_MODULES = ("decouple", "starlette.config", "environs")
_ENV_METHODS = {
    "str",
    "int",
    "bool",
    "float",
    "list",
    "tuple",
    "dict",
    "url",
    "json",
    "path",
    "decimal",
    # django-environ's URLs of a service, parsed into Django's settings (fl1p92's DRF-chat:
    # ``'default': env.db('CH_DATABASE_URL')``, unseen, so its migrate died asking for it)
    "db",
    "db_url",
    "cache",
    "cache_url",
    "email",
    "email_url",
    "search_url",
    # environs' own spellings of them
    "dj_db_url",
    "dj_cache_url",
    "dj_email_url",
}


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
    importers = _reader_importers(files)
    bases = _settings_bases(files)
    given = _given_by_code(files, bases)
    # A module's name bound to a read without a default (``EXPIRES = os.environ.get("X")``),
    # and the names other code turns into numbers (``int(settings.EXPIRES)``).
    bound: dict[str, str] = {}
    counted: set[str] = set()
    scheduled: set[str] = set()
    own = _own_names(files)
    for path in python_files(files):
        data = files[path]
        # getenv alone too: a settings module of `from os import getenv` reads with it only
        # (yurinakanishi's django-rest-framework-sample-api: its DJANGO_SECRET_KEY unseen).
        read = (b"environ", b"getenv", b"Settings", b"config", b"dotenv_values")
        reads = (
            path in importers
            or any(word in data for word in read)
            or any(base.encode() in data for base in bases - _SETTINGS_BASES)
        )
        counts = b"int(" in data or b"float(" in data
        tree = _parse(data) if reads or counts else None
        if tree is None:
            continue
        counted.update(_counted_names(tree) if counts else ())
        scheduled.update(_cron_field_names(tree) if b"crontab" in data else ())
        if not reads:
            continue
        configured = (
            any(m.encode() in data for m in _CONFIG_MODULES)
            or _imports_environ(tree)
            or path in importers
        )
        readers = _config_aliases(tree)
        defaulted, numbers = _read_shapes(tree)
        wrappers = _environ_wrappers(tree)
        prefix = _reader_prefix(tree) if configured else ""
        file_values = _dotenv_value_dicts(tree)
        bound.update(_bound_reads(tree, prefix))
        for key in _built_with(tree, prefix, own) | _guarded_reads(tree, prefix):
            if found.get(key, OPTIONAL) == OPTIONAL:
                found[key] = ""
        for node in ast.walk(tree):
            if id(node) in defaulted:  # `os.environ.get("X") or "15"`: its own default
                continue
            if isinstance(node, ast.Call) and (key := _wrapper_call(node, wrappers)):
                found.setdefault(key, numbers.get(id(node), ""))
                continue
            if (
                isinstance(node, ast.ClassDef)
                and _is_settings_class(node, bases)
                and node.name not in given
            ):
                models = _model_classes(tree)
                below = _defaulted_below(node, tree)
                delimiter = _config_string(node, "env_nested_delimiter")
                for name, kind in _settings_fields(node, _returning_none(tree)):
                    # (a nested model: its own variables, MAIL__FROM; a field a subclass
                    # gives a default, which a value given would override)
                    if kind not in models and name not in below:
                        found.setdefault(name, kind)
                    elif kind in models and name not in below and delimiter:
                        for nested, inner in _nested_fields(tree, kind, models):
                            variable = f"{name}{delimiter}{nested.replace(chr(0), delimiter)}"
                            found.setdefault(variable.upper(), inner)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                read = _is_environ(node.value) or _name(node.value) in file_values
                if read and (key := _string(node.slice)):
                    found.setdefault(key, numbers.get(id(node), ""))
            elif configured and isinstance(node, ast.Call) and (key := _config_call(node, readers)):
                found.setdefault(_prefixed(node, key, prefix), "")
            elif isinstance(node, ast.Call) and (key := _empty_default(node, configured)):
                # "" as its default: unset, by another name; but a password's "" says none
                # (a Redis or database without one), which a throwaway would contradict.
                if not _PASSWORD.search(key.upper()):
                    found.setdefault(_prefixed(node, key, prefix), OPTIONAL)
            elif isinstance(node, ast.Call) and (key := _config_file_read(node)):
                found.setdefault(key, "")  # the file Flask loads its settings from
            elif isinstance(node, ast.Attribute) and (key := _environ_get(node.value)):
                found.setdefault(key, "")  # os.environ.get("X").split(…): required
            elif isinstance(node, ast.Call) and (key := _environ_get(node)):
                # int(os.environ.get("X")) fails on None: a number it needs
                found.setdefault(key, numbers.get(id(node), OPTIONAL))
    for name in counted:
        # deaxparadox's task-flask-user-api: ``JWT_ACCESS_TOKEN_EXPIRES =
        # os.environ.get(...)`` in its settings, ``int(settings.JWT_ACCESS_TOKEN_EXPIRES)``
        # in its factory: int(None) at every start. A number it needs. Read with no
        # default too (osamaaslam86004's session-auth-fastapi: ``DATABASE_PING =
        # config("DATABASE_PING")``, then ``repeat_every(seconds=int(DATABASE_PING))``:
        # its stand-in, a word, "invalid literal for int()").
        if (key := bound.get(name)) is not None and found.get(key) in (OPTIONAL, ""):
            found[key] = "int"
    for name in scheduled:
        # KBherwani's DRF-Email-Sender-System: ``SCHEDULER_FOR_RETRY_EMAIL =
        # config(...)``, then ``crontab(minute=settings.SCHEDULER_FOR_RETRY_EMAIL)``; its
        # name's last word made it an address: "Invalid weekday literal" at every start.
        if (key := bound.get(name, name)) in found and found[key] != OPTIONAL:
            found[key] = CRON_FIELD
    required_by_node, read_by_node = node_env_reads(files)
    for name, kind in required_by_node.items():
        found.setdefault(name, kind)
    found.update({name: OPTIONAL for name in read_by_node if name not in found})
    if any(kind == OPTIONAL for kind in found.values()):  # required ones first met later
        required = {n: k for n, k in found.items() if k != OPTIONAL}
        found = {**required, **{n: k for n, k in found.items() if k == OPTIONAL}}
    return found


def read_variables(files: dict[str, bytes]) -> set[str]:
    """Every variable the app's Python code reads, with a default or without
    (``config("ALLOWED_HOSTS", default="localhost", cast=Csv())``, ``env.list("X",
    default=[])``, ``os.environ.get("X", "d")``): those whose meaning the service fills
    whatever the app's own default (``configvars.meaning``: a host list)."""
    found: set[str] = set()
    for tree, prefix in _reading_modules(files):
        found.update(k for n in ast.walk(tree) if (k := _variable_read(n, prefix)))
    return found


def config_selectors(files: dict[str, bytes]) -> dict[str, list[str]]:
    """{a variable the app's Python code reads to pick one of a dict's entries, with no
    default of its own: that dict's keys}: sudopwr's python-flask-mysql-demo does
    ``app.config.from_object(config.get(os.getenv("APP_MODE")))``, ``config`` being
    ``{"production": …, "development": …}`` in another module; unset, it loaded nothing,
    then ``KeyError: 'APP_ORIGINS'``. The dict is a module-level literal whose keys are
    all strings, found by its name in any of the app's modules. A variable Flask's
    ``from_object`` imports (``app.config.from_object(os.environ['APP_SETTINGS'])``) picks
    one of the upload's configuration classes by its import path: those are its keys
    (:func:`_config_object_reads`)."""
    trees = list(_reading_modules(files))
    dicts: dict[str, list[str]] = {}
    for tree, _prefix in trees:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and (keys := _literal_keys(node.value))
            ):
                dicts.setdefault(node.targets[0].id, keys)
    found: dict[str, list[str]] = {}
    # A factory picking its entry by its parameter (``def create_app(env_name): …
    # app_config[env_name]``), called with a variable read just before (haoolii's
    # flask-blog-api: ``env_name = os.getenv('FLASK_ENV')`` then ``create_app(env_name)``:
    # unset, "KeyError: None").
    picking = _picking_parameters(trees, dicts)
    settings = {node.name: node for node in _settings_classes(files)} if picking else {}
    for tree, prefix in trees:
        reads = _module_bindings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            for index, keys in picking.get(node.func.id, []):
                given = node.args[index] if index < len(node.args) else None
                value = reads.get(given.id) if isinstance(given, ast.Name) else given
                if value is None:
                    continue
                name = _variable_read(value, prefix)
                if name is not None and _read_default(value) is None:
                    found.setdefault(name, keys)
                elif name is None and (field := _unset_settings_field(value, settings, reads)):
                    found.setdefault(field, keys)
    for tree, prefix in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                owner, key = node.value.id, node.slice
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and len(node.args) == 1  # a default of its own: the app's choice
                and not node.keywords
            ):
                owner, key = node.func.value.id, node.args[0]
            else:
                continue
            name = _variable_read(key, prefix)
            defaulted = isinstance(key, ast.Call) and (len(key.args) > 1 or bool(key.keywords))
            if owner in dicts and name is not None and not defaulted:
                found.setdefault(name, dicts[owner])
    for name, paths in _config_object_reads(files, trees).items():
        found.setdefault(name, paths)
    return found


def _literal_keys(value: ast.expr) -> list[str]:
    """The keys of a dict written out whole, each a string: a literal (``{"production":
    …}``), or ``dict()`` given keywords alone (aswincsekar's flask-customers:
    ``config_by_name = dict(development=…, production=…)``, picked by
    ``config_by_name[os.getenv("FLASK_ENV")]``: unset, "KeyError: None"); [] for another."""
    if isinstance(value, ast.Dict) and value.keys and all(_string(k) for k in value.keys):
        return [_string(k) or "" for k in value.keys]
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "dict"
        and not value.args
        and value.keywords
        and all(k.arg is not None for k in value.keywords)
    ):
        return [k.arg or "" for k in value.keywords]
    return []


def _module_bindings(tree: ast.Module) -> dict[str, ast.expr]:
    """{a name the module binds at its top level by a plain assignment: its value}."""
    return {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


# A module-level configuration class (``class DevelopmentConfig(Config):``): group 1 its name.
_CONFIG_CLASS = re.compile(rb"^class[ \t]+(\w*Config\w*)[ \t]*[(:]", re.MULTILINE)


def _config_object_reads(
    files: dict[str, bytes], trees: list[tuple[ast.Module, str]]
) -> dict[str, list[str]]:
    """{a variable the code gives Flask's ``config.from_object``, read with no default
    (directly, or through a module-level name bound to the read): the import paths of
    the upload's configuration classes, ``config.DevelopmentConfig`` …}. QuentinAndre's
    Flask-Budgeter does ``app.config.from_object(os.environ['APP_SETTINGS'])``, as the
    Flask tutorials of its day said (``export APP_SETTINGS="config.DevelopmentConfig"``):
    given a stand-in, "import_string() failed for 'preview-stand-in'"."""
    paths = [
        f"{path[: -len('.py')].replace('/', '.')}.{match[1].decode('ascii', 'replace')}"
        for path in python_files(files)
        if not path.endswith("__init__.py")
        for match in _CONFIG_CLASS.finditer(files[path])
    ]
    found: dict[str, list[str]] = {}
    if not paths:
        return found
    for tree, prefix in trees:
        bound = _module_bindings(tree)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "from_object"
                and len(node.args) == 1
            ):
                continue
            given = node.args[0]
            value = bound.get(given.id) if isinstance(given, ast.Name) else given
            name = _variable_read(value, prefix) if value is not None else None
            if name is not None and value is not None and _read_default(value) is None:
                found.setdefault(name, paths)
    return found


def _picking_parameters(
    trees: list[tuple[ast.Module, str]], dicts: dict[str, list[str]]
) -> dict[str, list[tuple[int, list[str]]]]:
    """{a module-level function's name: (the index of its parameter that subscripts a
    dict, that dict's keys)}: one of ``dicts`` (the modules'), or one the function writes
    out itself (bibash-dev's social-fastapi: ``def get_config(env_state): configs =
    {"dev": DevConfig, …}; return configs[env_state]``)."""
    found: dict[str, list[tuple[int, list[str]]]] = {}
    for tree, _prefix in trees:
        for function in tree.body:
            if not isinstance(function, ast.FunctionDef):
                continue
            parameters = [a.arg for a in function.args.args]
            local = {
                node.targets[0].id: keys
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and (keys := _literal_keys(node.value))
            }
            known = {**dicts, **local}
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Subscript)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in known
                    and isinstance(node.slice, ast.Name)
                    and node.slice.id in parameters
                ):
                    index = parameters.index(node.slice.id)
                    found.setdefault(function.name, []).append((index, known[node.value.id]))
    return found


def _unset_settings_field(
    value: ast.expr, settings: dict[str, ast.ClassDef], bindings: dict[str, ast.expr]
) -> str | None:
    """The variable of the settings field ``value`` reads (``BaseConfig().ENV_STATE``, or
    ``settings.ENV_STATE`` with ``settings = BaseConfig()``), where the field has no
    default but None; None for any other expression."""
    if not isinstance(value, ast.Attribute):
        return None
    made = value.value
    if isinstance(made, ast.Name):
        made = bindings.get(made.id, made)
    if not (isinstance(made, ast.Call) and isinstance(made.func, ast.Name)):
        return None
    node = settings.get(made.func.id)
    if node is None:
        return None
    for statement in node.body:
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == value.attr
            and (statement.value is None or is_none(statement.value))
        ):
            return (_env_prefix(node) + value.attr).upper()
    return None


def _reading_modules(files: dict[str, bytes]) -> Iterator[tuple[ast.Module, str]]:
    """The app's Python modules that may read its environment, parsed, each with the
    prefix its ``env`` reader puts before every name (:func:`_reader_prefix`)."""
    for _path, tree, prefix in _reading_modules_at(files):
        yield tree, prefix


def _reading_modules_at(files: dict[str, bytes]) -> Iterator[tuple[str, ast.Module, str]]:
    """:func:`_reading_modules`, each with its path in the upload."""
    for path in python_files(files):
        data = files[path]
        if b"environ" not in data and b"config" not in data and b"env" not in data:
            continue
        tree = _parse(data)
        if tree is not None:
            yield path, tree, _reader_prefix(tree)


def _imported_reads(
    tree: ast.Module, path: str, bound: dict[str, dict[str, str]]
) -> dict[str, str]:
    """{a name the module at ``path`` imports from another module of the upload: the
    variable that module binds it to} (``from config import USER`` where config.py has
    ``USER = os.getenv("USER")``), ``bound`` holding each module's own
    (:func:`_bound_reads`). An absolute import is looked up from the upload's root and
    from the importing module's folder, where a script run there finds it: afshario's
    fastapi-feedback-system runs in ``src/``, whose db.py builds its MySQL URL of names
    src/config.py reads (``USER``, ``PASS``, ``SERVER``, ``PORT``, ``DB``)."""
    found: dict[str, str] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.ImportFrom):
            continue
        candidates = list(imported_files(path, statement))
        if not statement.level:
            here = posixpath.dirname(path)
            candidates += [posixpath.join(here, c) for c in candidates] if here else []
        source = next((bound[c] for c in candidates if c in bound), None)
        if source is None:
            continue
        for alias in statement.names:
            if alias.name in source:
                found[alias.asname or alias.name] = source[alias.name]
    return found


def database_option_variables(files: dict[str, bytes]) -> dict[str, str]:
    """{a variable the app's Python code gives a database connection's setting: the
    generic name of that part (``DB_PORT``)}, whatever its own name says. Taz742's
    django-rest-api reads its PostgreSQL's host and port from ``HOST`` and ``PORT``
    (``'PORT': os.environ['PORT'] if os.environ.get('PORT') is not None else 5432`` in
    its ``DATABASES``), names that say nothing alone; the setting each is given to does.
    A connection's settings are a dict's keys or a call's keywords that name its
    database (``NAME`` beside an ``ENGINE``, ``database``, ``dbname``, ``db``) and at
    least two of its host, port, user and password: not a mail server's nor a cache's.
    Redis's ``db`` is a number (``redis.Redis(host=…, port=…, db=0)``), its client's
    name another store's, or a variable read there (``REDIS_HOST``): none of them a SQL
    database's, or the preview gave the app's cache its PostgreSQL's port."""
    found: dict[str, str] = {}
    # (a field with a default of its own keeps it, as a read with one does)
    fields = {
        name for name, (_, has_default) in settings_field_types(files).items() if not has_default
    }
    modules = list(_reading_modules_at(files))
    own = {path: _bound_reads(tree, prefix) for path, tree, prefix in modules}
    for path, tree, prefix in modules:
        bound = {**_imported_reads(tree, path, own), **own[path]}
        for name, part in _bound_database_parts(own[path]).items():
            found.setdefault(name, part)
        for node in ast.walk(tree):
            formatted = _formatted_as_joined(node) if isinstance(node, ast.Call) else None
            if isinstance(node, ast.JoinedStr) or formatted is not None:
                joined = formatted if formatted is not None else node
                assert isinstance(joined, ast.JoinedStr)
                for name, part in _url_parts(joined, bound, prefix).items():
                    found.setdefault(name, part)
                continue
            for name in _url_setting_reads(node, prefix, fields, bound):
                found.setdefault(name, "DATABASE_URL")
            if isinstance(node, ast.Dict):
                settings = [(_string(k), v) for k, v in zip(node.keys, node.values, strict=True)]
            elif isinstance(node, ast.Call) and not _OTHER_STORE.search(_name(node.func)):
                settings = [(k.arg, k.value) for k in node.keywords]
            else:
                continue
            parts = {key.lower(): value for key, value in settings if key}
            if not _names_a_database(parts):
                continue
            # (read there, or bound to a read at its module's level: lucabattesini's
            # super-market-system reads ``database = os.getenv("database")`` and gives
            # ``mysql.connector.connect(…, database=database)``; bare names that say
            # nothing alone, given nothing, its MariaDB said "No database selected")
            reads = {
                key: {
                    v
                    for n in ast.walk(value)
                    if (v := _variable_read(n, prefix) or _bound_name(n, bound))
                }
                for key, value in parts.items()
                if key in _OPTION_PARTS
            }
            if any(_OTHER_STORE.search(name) for read in reads.values() for name in read):
                continue  # another store's settings (``REDIS_HOST`` read there)
            for key, read in reads.items():
                if len(read) == 1:
                    found.setdefault(read.pop(), _OPTION_PARTS[key])
    for name, part in _settings_database_fields(files).items():
        if name in fields:
            found.setdefault(name, part)
    return found


def _settings_database_fields(files: dict[str, bytes]) -> dict[str, str]:
    """{a field of a settings class that holds a database's parts under their bare names
    (``host``, ``port``, ``user``, ``password``, ``database``: its name and at least two
    of the others, as a connection's keywords say one, :func:`_names_a_database`), by the
    name the environment gives it: the generic name of its part}. profatsky's
    fastapi-video-hosting builds its PostgreSQL's URL of such a class's ``host``, ``user``
    … (its example leaves them empty): given the service's own ``HOST`` and ``PORT`` (the
    app's server's), it connected nowhere. A class of another store's (``RedisSettings``)
    or a prefix of its own (``DB_``: the names say it then) is none."""
    found: dict[str, str] = {}
    for node in _settings_classes(files):
        if _OTHER_STORE.search(node.name) or _env_prefix(node):
            continue
        parts: dict[str, ast.expr] = {}
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                typed_number = ast.unparse(statement.annotation) == "int"
                number = ast.Constant(0) if typed_number else ast.Constant("")
                parts[statement.target.id.lower()] = statement.value or number
        if not _names_a_database(parts):
            continue
        for field in parts.keys() & (_OPTION_PARTS.keys() - {"engine", "name"}):
            found[field.upper()] = _OPTION_PARTS[field]
    return found


# SQLAlchemy's engine makers, whose first argument is the database's URL.
_ENGINE_MAKERS = frozenset({"create_engine", "create_async_engine"})


def _url_setting_reads(
    node: ast.AST, prefix: str, fields: Collection[str], bound: Mapping[str, str]
) -> list[str]:
    """The variables ``node`` stores into a setting whose name means a database's URL
    (``app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("X")``, a config class's
    ``DATABASE_URL = getenv("X")``, ``config.update(SQLALCHEMY_DATABASE_URI=…)``, a dict's
    key) or gives an engine maker (``create_engine(os.environ["X"])``): a URL, whatever
    its own name says, where the app has no default of its own; a field of its settings
    classes (``fields``, by its upper-case name) likewise. aniqkcuse's
    flask-forum-api reads its URI from ``SQLALCHEMY_DATABASE``, a name that reads as the
    database's name, and got ``app``: "Could not parse SQLAlchemy URL from string 'app'".
    A module-level name bound to a read (``bound``) likewise: rajerez's restapi-fastapi,
    ``conn_str = config("CONNSTR")`` then ``create_engine(conn_str)``, ran on a stand-in."""
    stored: list[tuple[str | None, ast.AST]] = []
    if isinstance(node, ast.Assign):
        stored = [(_setting_name(target), node.value) for target in node.targets]
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        stored = [(_setting_name(node.target), node.value)]
    elif isinstance(node, ast.Dict):
        stored = [(_string(k), v) for k, v in zip(node.keys, node.values, strict=True)]
    elif isinstance(node, ast.Call):
        stored = [(k.arg, k.value) for k in node.keywords]
        if _name(node.func).rsplit(".", 1)[-1] in _ENGINE_MAKERS:
            url = node.args[0] if node.args else _keyword(node, "url")
            if url is not None:
                stored.append(("DATABASE_URL", url))
    found: list[str] = []
    for setting, value in stored:
        what = meaning(setting.upper()) if setting else None
        if what is None or what.kind != DATABASE or what.part != "url":
            continue
        # Read with no default of the app's own (``… or 'sqlite:///app.db'`` stands).
        read = _variable_read(value, prefix)
        if read is not None and _read_default(value) is None:
            found.append(read)
        elif isinstance(value, ast.Attribute) and value.attr.upper() in fields:
            # A settings class's field (``create_engine(settings.SUPABASE_CONN_STRING)``:
            # rollingsxshi's fastapi-lms, whose two were "needed", URLs by their use)
            found.append(value.attr.upper())
        elif isinstance(value, ast.Name) and value.id in bound:
            found.append(bound[value.id])
    return found


# Django settings that name the project's own modules or URL paths: ``startproject``
# writes each, so a project reading one from its environment with no default of its own
# says what it means by where its files are.
DJANGO_PROJECT_SETTINGS = frozenset(
    {"ROOT_URLCONF", "WSGI_APPLICATION", "ASGI_APPLICATION", "STATIC_URL", "MEDIA_URL"}
)


def django_setting_reads(files: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """{a variable a Django settings module reads with no default of its own into one of
    :data:`DJANGO_PROJECT_SETTINGS`: (that setting, the module's path)}.
    ruslankrivoshein's DRFExample sets ``ROOT_URLCONF = env.str('ROOT_URLCONF')`` and
    ships no example of it: a stand-in made every route "No module named
    'preview-stand-in'"."""
    found: dict[str, tuple[str, str]] = {}
    for path, tree, prefix in _reading_modules_at(files):
        if b"INSTALLED_APPS" not in files[path] and b"ROOT_URLCONF" not in files[path]:
            continue
        for statement in tree.body:
            if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
                continue
            setting = _setting_name(statement.targets[0])
            read = _variable_read(statement.value, prefix)
            if setting not in DJANGO_PROJECT_SETTINGS or read is None:
                continue
            if _read_default(statement.value) is None:  # (its own default stands)
                found[read] = (setting, path)
    return found


def _bound_database_parts(bound: Mapping[str, str]) -> dict[str, str]:
    """{a variable a module binds to a name of a database's part, its own name saying
    nothing: the generic name of that part}. delvin-pf's restapi-fastapi reads
    ``DATABASE_NAME = os.environ.get('DATABASE')``, ``DATABASE_HOST =
    os.environ.get('HOST')``, ``… = os.environ.get('PORT')``, ``USER``, ``PASSWORD``:
    names that say nothing alone, bound to names that do; it ran on stand-ins. A name
    of another store's (``REDIS_HOST = os.environ.get("HOST")``) is none."""
    found: dict[str, str] = {}
    for name, variable in bound.items():
        what = meaning(name.upper())
        if what is None or what.kind != DATABASE:
            continue
        generic = "DATABASE_URL" if what.part == "url" else _OPTION_PARTS.get(what.part)
        if generic and meaning(variable) is None and not _OTHER_STORE.search(name):
            found[variable] = generic
    return found


def _setting_name(target: ast.expr) -> str | None:
    """The name a setting is stored under: ``X``, ``self.X``, ``config["X"]``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        return _string(target.slice)
    return None


def _bound_reads(tree: ast.Module, prefix: str) -> dict[str, str]:
    """{a module-level name: the variable it is bound to} (``HOST =
    os.environ.get("HOST")``)."""
    bound: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            read = _variable_read(statement.value, prefix)
            if isinstance(target, ast.Name) and read is not None:
                bound[target.id] = read
    return bound


def _bound_name(node: ast.AST, bound: dict[str, str]) -> str | None:
    """The variable a module-level name ``node`` is bound to a read of, if it is one."""
    return bound.get(node.id) if isinstance(node, ast.Name) else None


def _own_names(files: dict[str, bytes]) -> set[str]:
    """Every folder's and module's name among the app's Python files: what an import of
    its own may start with (``app.images``, a ``src/`` layout's package)."""
    found: set[str] = set()
    for path in python_files(files):
        found.update(part.removesuffix(".py") for part in path.split("/"))
    return found


_CONNECTION_PARTS = frozenset(("host", "port", "db", "database", "user", "username", "password"))


def _guarded_reads(tree: ast.Module, prefix: str) -> set[str]:
    """The variables bound at module level to a read without a default that a module-level
    ``if`` refuses to go on without: ``if not URL or not KEY: raise …`` (``sys.exit``,
    ``exit`` too). muhammadfauzanis' GITS-Billing-FastAPI reads ``SUPABASE_URL =
    os.getenv("SUPABASE_URL")`` and raises "Supabase URL and Service Key must be set in
    .env file" at import where either is unset."""
    bound = _bound_reads(tree, prefix)
    found: set[str] = set()
    for statement in tree.body:
        if not isinstance(statement, ast.If) or not _stops(statement.body):
            continue
        test = statement.test
        tests = (
            test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) else [test]
        )
        for each in tests:
            if isinstance(each, ast.UnaryOp) and isinstance(each.op, ast.Not):
                each = each.operand
            elif (
                isinstance(each, ast.Compare)
                and isinstance(each.ops[0], ast.Is | ast.Eq)
                and is_none(each.comparators[0])
            ):
                each = each.left
            else:
                continue
            if isinstance(each, ast.Name) and each.id in bound:
                found.add(bound[each.id])
            elif (key := _environ_get(each)) is not None:
                found.add(key)
    return found


def _stops(body: list[ast.stmt]) -> bool:
    """Whether a block raises or exits (``raise``, ``sys.exit(…)``, ``exit(…)``)."""
    for statement in body:
        if isinstance(statement, ast.Raise):
            return True
        call = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(call, ast.Call) and last_name(call.func) in ("exit", "_exit"):
            return True
    return False


def _built_with(tree: ast.Module, prefix: str, own: set[str]) -> set[str]:
    """The variables read without a default (or bound to such a read at module level) that
    the module gives a third-party class it builds as it is imported: an SDK's client,
    which refuses None (AhmadAli-68's FastAPI-PhotoVideoSharingApp: ``ImageKit(private_key=
    os.getenv('IMAGEKIT_PRIVATE_KEY'), …)`` at module level, "Missing public_key or
    private_key or url_endpoint during ImageKit initialization" at every start). Not a
    function's call (``sentry_sdk.init(dsn=…)`` takes None as "off"), nor one in a
    function's body, run when it is called."""
    classes: set[str] = set()
    modules: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
            if statement.module.split(".")[0] not in own:
                classes.update(a.asname or a.name for a in statement.names if a.name[:1].isupper())
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.name.split(".")[0] not in own:
                    modules.add(alias.asname or alias.name.split(".")[0])
    if not classes and not modules:
        return set()
    bound = _bound_reads(tree, prefix)
    found: set[str] = set()
    for call in _module_level_calls(tree):
        func = call.func
        built = (isinstance(func, ast.Name) and func.id in classes) or (
            isinstance(func, ast.Attribute)
            and func.attr[:1].isupper()
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        )
        if not built:
            continue
        # A connection's parts, which its client takes as None until it connects (a
        # Redis's host: the cache's meaning gives it, not a stand-in): not an SDK's keys.
        given = [k.value for k in call.keywords if k.arg not in _CONNECTION_PARTS]
        for arg in [*call.args, *given]:
            if (key := _environ_get(arg)) is not None:
                found.add(key)
            elif isinstance(arg, ast.Name) and arg.id in bound:
                found.add(bound[arg.id])
    return found


def _module_level_calls(tree: ast.Module) -> Iterator[ast.Call]:
    """The calls made as the module is imported: not in a function's, class's or lambda's
    body."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            yield node
        pending.extend(ast.iter_child_nodes(node))


def _formatted_as_joined(call: ast.Call) -> ast.JoinedStr | None:
    """``"mysql://{}:{}@{}:3306/{}".format(user, password, host, database)`` as the f-string
    it comes to (:func:`_url_parts` reads that): arthurfonsek's basic-fastapi-crud builds
    its URL so of ``USER``, ``KEY``, ``HOST`` and ``DATABASE``, which say nothing alone
    ("Unknown database 'None'"); numbered fields alike (``"{0}://{1}:{2}@{3}/books"``:
    Markov500's pythonFlask-gestion-livre). None for another call, or fields named."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr == "format"
        and isinstance(func.value, ast.Constant)
        and isinstance(func.value.value, str)
        and not call.keywords
    ):
        return None
    pieces = _FIELD.split(func.value.value)  # text, field, text, field, …, text
    fields = pieces[1::2]
    if any("{" in p or "}" in p for p in pieces[::2]) or not fields:
        return None
    numbered = [int(f) if f else None for f in fields]
    if all(n is None for n in numbered):
        numbered = list(range(len(fields)))
    if None in numbered or max(n for n in numbered if n is not None) >= len(call.args):
        return None
    values: list[ast.expr] = [ast.Constant(pieces[0])]
    for number, after in zip(numbered, pieces[2::2], strict=True):
        assert number is not None
        values += [ast.FormattedValue(call.args[number], -1, None), ast.Constant(after)]
    return ast.JoinedStr([v for v in values if not (isinstance(v, ast.Constant) and not v.value)])


# A replacement field of ``str.format``: ``{}`` or ``{0}`` (group 1 its number, if any).
_FIELD = re.compile(r"\{(\d*)\}")


def _url_parts(url: ast.JoinedStr, bound: dict[str, str], prefix: str) -> dict[str, str]:
    """{a variable an f-string database URL is built of: the generic name of its part},
    each by its place: deaxparadox's task-flask-user-api builds
    ``f'mysql+pymysql://{USERNAME}:{PASSWORD}@{HOST}:{PORT}/{DBNAME}'`` from names that
    say nothing alone (``HOST``, ``PORT``), and connected to its own server's port."""
    pieces = url.values
    found: dict[str, str] = {}
    if len(pieces) > 1 and isinstance(pieces[0], ast.FormattedValue):
        # The scheme a variable of its own (``{0}://…``, ``f"{DIALECT}://…"``): the
        # engine's, then the rest as after a scheme.
        after = _string(pieces[1]) or ""
        value = pieces[0].value
        name = bound.get(value.id) if isinstance(value, ast.Name) else None
        if not after.startswith("://"):
            return {}
        if (name := name or _variable_read(value, prefix)) is not None:
            found[name] = "DB_ENGINE"
        pieces = [ast.Constant("postgresql" + after), *pieces[2:]]
    first = _string(pieces[0]) if pieces else None
    if first is None or not SQL_URL_SCHEME.match(first):
        return {}
    fields: list[tuple[str, str | None]] = []
    before = first
    for piece in pieces[1:]:
        text = _string(piece)
        if text is not None:
            before = text
            continue
        if not isinstance(piece, ast.FormattedValue):
            break
        value = piece.value
        name = bound.get(value.id) if isinstance(value, ast.Name) else None
        fields.append((before, name or _variable_read(value, prefix)))
        before = ""
    return {**found, **url_places(fields)}


def server_url_engines(files: dict[str, bytes]) -> set[str]:
    """The variables the app's Python code reads into the scheme of an f-string URL that
    names an account and a host after it (``f"{engine}://{user}:{password}@{host}/{name}"``,
    the names bound anywhere in its module): a database server's engine, whatever its
    example says. luantien's fastapi-tour's ``.env.sample`` gives ``DB_ENGINE=sqlite``,
    which made ``sqlite://:@/sample.db``: no SQLite URL has an account and a host."""
    found: set[str] = set()
    for tree, prefix in _reading_modules(files):
        bound = {
            target.id: read
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            if isinstance(target := node.targets[0], ast.Name)
            if (read := _variable_read(node.value, prefix)) is not None
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr) or len(node.values) < 2:
                continue
            first, rest = node.values[0], node.values[1:]
            after = "".join(text for piece in rest if (text := _string(piece)) is not None)
            scheme_ends = (_string(rest[0]) or "").startswith("://")
            if not isinstance(first, ast.FormattedValue) or not scheme_ends or "@" not in after:
                continue
            value = first.value
            name = bound.get(value.id) if isinstance(value, ast.Name) else None
            if (name := name or _variable_read(value, prefix)) is not None:
                found.add(name)
    return found


# A connection setting's key -> the generic name of its part (``configvars.meaning``).
_OPTION_PARTS = {
    "engine": "DB_ENGINE",
    "name": "DB_NAME",
    "database": "DB_NAME",
    "dbname": "DB_NAME",
    "db": "DB_NAME",
    "user": "DB_USER",
    "username": "DB_USER",
    "password": "DB_PASSWORD",
    "passwd": "DB_PASSWORD",
    "host": "DB_HOST",
    "port": "DB_PORT",
}


# Another store's word, in a client's name or a variable's (``StrictRedis``, ``MONGO_HOST``).
_OTHER_STORE = re.compile(
    r"redis|mongo|memcache|cache|elastic|cassandra|neo4j|influx|rabbit|amqp|celery|kafka",
    re.IGNORECASE,
)


def typed_reads(files: dict[str, bytes]) -> dict[str, tuple[str, bool]]:
    """The variables the app's Python code reads as a number or a switch, each with its
    kind (``int``, ``bool``) and whether its read has a default of its own. A number:
    wrapped in ``int()``/``float()`` (``int(os.getenv("MAIL_PORT"))``, smigy32's
    fastapi-library), read with a number for its default (``os.getenv("VAR_SIZE", "50")``,
    KSHELL28's Flask-Todo-api, whose example file says ``VAR_SIZE=Keep,as,you,need``), or
    by a typed reader (environs' and django-environ's ``env.int``, decouple's
    ``cast=int``). A switch: ``env.bool("X")``, ``config("X", cast=bool)`` (lymagics'
    django-blog-api: its example's ``REFRESH_TOKEN_IN_BODY=``, "Not a valid boolean"). A
    value that is neither is a form to fill in."""
    found: dict[str, tuple[str, bool]] = {}
    for tree, prefix in _reading_modules(files):
        _, numbers = _read_shapes(tree)
        for node in ast.walk(tree):
            if (key := _variable_read(node, prefix)) is None:
                continue
            default = _read_default(node)
            kind = "int" if id(node) in numbers else _read_kind(node, default)
            if kind is not None:
                defaulted = found[key][1] if key in found else True
                found[key] = (kind, defaulted and default is not None)
    return found


def defaulted_reads(files: dict[str, bytes]) -> set[str]:
    """The variables the app's Python code reads with a default of its own that says
    something (``os.environ.get('HOST_SERVER', 'localhost')``, ``getenv("PORT", 5432)``:
    not ``""``), where every read of it has one: an example's empty value for it is a blank
    its reader fills in, the code's default the author's (chaleay's
    fastapi-postgres-crud-template: ``HOST_SERVER=`` empty in its .env.sample, an empty host
    in its URL, "unsupported operand type(s) for +=: 'NoneType' and 'str'")."""
    found: dict[str, bool] = {}
    for tree, prefix in _reading_modules(files):
        schema = _env_schema_defaults(tree)
        for node in ast.walk(tree):
            if (key := _variable_read(node, prefix)) is None:
                continue
            found[key] = found.get(key, True) and (_says(_read_default(node)) or key in schema)
    return {name for name, says in found.items() if says}


def own_defaults(files: dict[str, bytes]) -> dict[str, str]:
    """The default the app's Python code gives a variable it reads, where every read of it
    gives the same constant one (``os.getenv("MODE", "DEV")``): the value the author runs
    it with where nothing sets it."""
    found: dict[str, str | None] = {}
    for path, tree, prefix in _reading_modules_at(files):
        if TEST_MODULE.search(path):
            # (a test's default is the test's: potier97's fastApiCelery's job/
            # converter_test.py reads PUBLIC_DIR with a URL's, and the app, given it, mounted
            # "http://localhost:8080" as its static folder)
            continue
        for node in ast.walk(tree):
            if (key := _variable_read(node, prefix)) is None:
                continue
            default = _read_default(node)
            value = (
                str(default.value) if isinstance(default, ast.Constant) and _says(default) else None
            )
            found[key] = value if found.get(key, value) == value else None
    return {name: value for name, value in found.items() if value is not None}


def _says(default: ast.expr | None) -> bool:
    """Whether a read's default says something: a constant but ``""``, or an f-string
    with text of its own (vihithr's FastAPI-Game-Rating-Lite: ``os.getenv(
    "STG_DATABASE_URL", f"sqlite:///{DEFAULT_DB_PATH.absolute()}")``, its env.example's
    ``STG_DATABASE_URL=`` kept empty: "Could not parse SQLAlchemy URL")."""
    if isinstance(default, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and v.value for v in default.values)
    return isinstance(default, ast.Constant) and default.value not in ("", None)


def _env_schema_defaults(tree: ast.Module) -> set[str]:
    """The variables a django-environ schema gives a default that says something
    (``env = environ.Env(STATIC_URL=(str, "/static/"))``), which each ``env("X")`` read
    without one of its own falls back on: phillip-stanley's drf-contacts-api's
    ``STATIC_URL=`` empty in its .env.example made STATIC_URL "", MEDIA_URL's own:
    "The MEDIA_URL and STATIC_URL settings must have different values"."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name(node.func) == "Env"):
            continue
        for keyword in node.keywords:
            value = keyword.value
            if not (keyword.arg and isinstance(value, ast.Tuple) and len(value.elts) == 2):
                continue
            default = value.elts[1]
            if isinstance(default, ast.Constant) and default.value not in ("", None):
                found.add(keyword.arg)
    return found


def _read_kind(node: ast.AST, default: ast.expr | None) -> str | None:
    """``bool`` or ``int`` where a read says so itself (its reader's type, its ``cast``, a
    number for its default), else None."""
    if isinstance(node, ast.Call):
        cast = _keyword(node, "cast")
        typed = {_name(cast) if cast is not None else ""}
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            typed.add(node.func.attr if node.func.value.id == "env" else "")
        if "bool" in typed:
            return "bool"
        if typed & {"int", "float"}:
            return "int"
        for reader in typed & _SERVICE_URL_READERS.keys():
            return _SERVICE_URL_READERS[reader]
    if isinstance(default, ast.Constant) and isinstance(default.value, bool):
        return "bool"  # (``os.environ.get('DJANGO_DEBUG', True)``: a switch, no number)
    return "int" if default is not None and _number(default) else None


# django-environ's and environs' readers of a service's URL, with the kind each read is:
# a database's URL whatever the variable's name (``env.db("DEFAULT")``), a cache's
# (``locmemcache://``), a mail backend's (``consolemail://``).
_SERVICE_URL_READERS = {
    "db": DATABASE_URL_READ,
    "db_url": DATABASE_URL_READ,
    "dj_db_url": DATABASE_URL_READ,
    "cache": CACHE_URL_READ,
    "cache_url": CACHE_URL_READ,
    "dj_cache_url": CACHE_URL_READ,
    "email": EMAIL_URL_READ,
    "email_url": EMAIL_URL_READ,
    "dj_email_url": EMAIL_URL_READ,
}


def _read_default(node: ast.AST) -> ast.expr | None:
    """The default a read (``os.getenv("X", d)``, ``config("X", default=d)``) gives."""
    if not isinstance(node, ast.Call):
        return None
    default = node.args[1] if len(node.args) > 1 else _keyword(node, "default")
    return None if default is None or is_none(default) else default


def _names_a_database(parts: dict[str, ast.expr]) -> bool:
    index = parts.get("db")  # Redis's database is a number: ``db=0``, ``int(getenv(…))``
    named = bool(parts.keys() & {"engine", "database", "dbname"}) or (
        index is not None and not _number(index)
    )
    return named and len(parts.keys() & {"host", "port", "user", "username", "password"}) >= 2


def _number(node: ast.expr) -> bool:
    """Whether ``node`` is a number: ``0``, ``"1"``, ``int(…)``, or a variable read with a
    number for its default (``os.getenv("REDIS_DB", 0)``)."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):  # (an int to Python, a switch to its reader)
            return False
        return isinstance(node.value, int) or str(node.value).isdigit()
    if isinstance(node, ast.Call) and _name(node.func) == "int":
        return True
    if isinstance(node, ast.Call) and _reader(node.func):
        default = node.args[1] if len(node.args) > 1 else _keyword(node, "default")
        return default is not None and _number(default)
    return False


def _variable_read(node: ast.AST, prefix: str) -> str | None:
    """The variable ``node`` reads (``os.environ["X"]``, ``os.getenv("X", d)``,
    ``config("X")``, ``env.int("X")``), or None."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        key = _string(node.slice)
    elif isinstance(node, ast.Call) and node.args and _reader(node.func):
        key = _string(node.args[0])
        key = _prefixed(node, key, prefix) if key else None
    else:
        return None
    return key if key and key.replace("_", "").isalnum() else None


def _reader_prefix(tree: ast.AST) -> str:
    """The prefix the module's ``env`` reader puts before every name it reads:
    django-environ's ``env.prefix = "DJANGO_"`` (its ``env.str("SECRET_KEY")`` reads
    ``DJANGO_SECRET_KEY``: billy0402's django-rest-project-template, whose example file
    names DJANGO_SECRET_KEY), or ``Env(prefix="X_")`` of environs and django-environ;
    "" where there is none."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "prefix"
                and isinstance(target.value, ast.Name)
                and target.value.id == "env"
                and (value := _string(node.value))
            ):
                return value
            if (
                isinstance(target, ast.Name)
                and target.id == "env"
                and isinstance(node.value, ast.Call)
                and _name(node.value.func) == "Env"
                and (value := _string(_keyword(node.value, "prefix")))
            ):
                return value
    return ""


def _prefixed(call: ast.Call, key: str, prefix: str) -> str:
    """``key`` as the environment gives it: with ``prefix`` where ``call`` is the
    prefixed reader's (``env(…)``, ``env.str(…)``), not ``os.environ``'s."""
    func = call.func
    reader = func.value if isinstance(func, ast.Attribute) else func
    is_env = isinstance(reader, ast.Name) and reader.id == "env"
    return f"{prefix}{key}" if prefix and is_env else key


def _reader(func: ast.AST) -> bool:
    """``os.environ.get``, ``os.getenv``, ``getenv``, ``config``, ``env`` and
    ``env.<type>`` (django-environ's, environs')."""
    if isinstance(func, ast.Name):
        return func.id in ("getenv", "config", "env")
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "get":
        return _is_environ(func.value)
    env = isinstance(func.value, ast.Name) and func.value.id == "env"
    return func.attr == "getenv" or (env and func.attr in _ENV_METHODS)


def _read_shapes(tree: ast.AST) -> tuple[set[int], dict[int, str]]:
    """The nodes that have a fallback (``a or b``: all but the last operand; ``x if c
    else y``), and those read as a number (``int(…)``, ``float(…)``: their type's name),
    by ``id``."""
    defaulted: set[int] = set()
    numbers: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            defaulted.update(id(value) for value in node.values[:-1])
        elif isinstance(node, ast.IfExp) and not (
            _environ_get(node.body) and _environ_get(node.orelse)
        ):
            # (a variable read in either mode, ``os.environ.get("DB_ENGINE") if not
            # asyncMode else os.environ.get("ASYNC_DB_ENGINE")``: each has no fallback
            # but the other, read by another mode: mitidevus's fastapi-practice)
            defaulted.update((id(node.body), id(node.orelse)))
        elif isinstance(node, ast.Call) and _name(node.func) in ("int", "float") and node.args:
            numbers[id(node.args[0])] = _name(node.func) or ""
    return defaulted, numbers


def _counted_names(tree: ast.AST) -> set[str]:
    """The names (``EXPIRES``) or attributes (``settings.EXPIRES``) given to ``int()`` or
    ``float()``."""
    return {
        _name(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _name(node.func) in ("int", "float")
        and node.args
        and isinstance(node.args[0], ast.Name | ast.Attribute)
    }


# Celery's crontab(): each of its fields takes "*" (every one).
_CRON_FIELDS = frozenset({"minute", "hour", "day_of_week", "day_of_month", "month_of_year"})


def _cron_field_names(tree: ast.AST) -> set[str]:
    """The names (``RETRY``), attributes (``settings.RETRY``) and variables read in place
    (``config("RETRY")``) given as a field of a ``crontab(…)`` schedule."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name(node.func) == "crontab"):
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg not in _CRON_FIELDS:
                continue
            if isinstance(value, ast.Name | ast.Attribute):
                found.add(_name(value))
            elif (read := _variable_read(value, "")) is not None:
                found.add(read)
    return found


def _dotenv_value_dicts(tree: ast.AST) -> set[str]:
    """The names bound to python-dotenv's ``dotenv_values(…)``, a file's variables as a
    dict: ``v = dotenv_values(".env")`` then ``v["SECRET_KEY"]``, read as ``os.environ``'s
    (BlackStarCodes' fastapi-jwt-auth-api reads its every setting so)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            call, target = node.value, node.targets[0]
            loaded = isinstance(call, ast.Call) and _name(call.func) == "dotenv_values"
            if loaded and isinstance(target, ast.Name):
                found.add(target.id)
    return found


# A module of the upload building the reader other modules import: ``env = environ.Env()``.
_BUILDS_READER = re.compile(rb"^env\s*=\s*(?:environ\.|environs\.)?Env\(", re.MULTILINE)
_IMPORTS_READER = re.compile(rb"^\s*from\s+[\w.]+\s+import\s+(?:\*|[^#\n]*\benv\b)", re.MULTILINE)


def _reader_importers(files: dict[str, bytes]) -> set[str]:
    """The modules that import ``env`` (by name or ``*``) from a module of the upload that
    builds it (sheraff0's rental-django-ninja-pydantic: config/settings/env.py's ``env =
    environ.Env(…)``, its ``env('SECRET_KEY')`` read in config/settings/__init__.py after
    ``from .env import *``: unseen, ``migrate`` died on ImproperlyConfigured)."""
    modules = python_files(files)
    builders = {p for p in modules if _BUILDS_READER.search(files[p])}
    importers: set[str] = set()
    for path in modules if builders else ():
        if path in builders or not _IMPORTS_READER.search(files[path]):
            continue
        tree = _parse(files[path])
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.ImportFrom) and any(a.name in ("*", "env") for a in node.names):
                stem = imported_files(path, node)
                if any(b == s or b.endswith(f"/{s}") for b in builders for s in stem):
                    importers.add(path)
    return importers


def _imports_environ(tree: ast.AST) -> bool:
    """Whether the module imports django-environ, however it is written: ``import
    environ``, ``from environ import Env``, and beside others on one line, ``import os,
    environ`` (AppSeed's api-server-django: its ``env('GITHUB_CLIENT_ID')`` went unread, and
    ``migrate`` died on ImproperlyConfigured)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "environ" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "environ" and not node.level:
            return True
    return False


def _environ_wrappers(tree: ast.Module) -> set[str]:
    """The module's own functions that read ``os.environ[key]`` of their first parameter
    (0ff1ane's fastapi-sqlalchemy2-alembic: ``def get_env_var(key, default=NO_ARG)``,
    which raises where it is unset and no default is given): called with the name alone,
    each is a variable the app cannot start without (:func:`_wrapper_call`)."""
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
            continue
        key = node.args.args[0].arg
        if any(
            isinstance(inner, ast.Subscript)
            and _is_environ(inner.value)
            and isinstance(inner.slice, ast.Name)
            and inner.slice.id == key
            for inner in ast.walk(node)
        ):
            found.add(node.name)
    return found


def _wrapper_call(call: ast.Call, wrappers: set[str]) -> str | None:
    """``X`` of ``get_env_var("X")``, a call of one of ``wrappers`` with the name alone."""
    if not wrappers or len(call.args) != 1 or call.keywords:
        return None
    if not (isinstance(call.func, ast.Name) and call.func.id in wrappers):
        return None
    key = _string(call.args[0])
    return key if key and key.replace("_", "").isalnum() else None


def _environ_get(node: ast.AST) -> str | None:
    """``X`` of ``os.environ.get("X")`` / ``os.getenv("X")`` without a default, or with
    ``None`` as one (ParkHyeonChae's django-crud-restapi: ``os.environ.get(
    "DJANGO_SECRET_KEY", None)``, then "The SECRET_KEY setting must not be empty")."""
    if not isinstance(node, ast.Call) or not 1 <= len(node.args) <= 2 or node.keywords:
        return None
    if len(node.args) == 2 and not is_none(node.args[1]):
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


def _config_aliases(tree: ast.Module) -> set[str]:
    """The names decouple's or environs' reader is imported under besides its own
    (``from decouple import config as decouple_config``: kiyoshisama's
    fastapi-blog-sqlalchemy-v2 read its TEST_DATABASE_URL so, unseen)."""
    return {
        alias.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("decouple", "environs")
        for alias in node.names
        if alias.asname and alias.name in ("config", "env")
    }


def _config_file_read(call: ast.Call) -> str | None:
    """Flask's ``app.config.from_envvar("X")``, not told to be silent: the variable
    naming its settings file, without which it refuses to start (evelynting610's
    library-flask: "The environment variable 'APP_CONFIG_FILE' is not set")."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr != "from_envvar" or not call.args:
        return None
    if not (isinstance(func.value, ast.Attribute) and func.value.attr == "config"):
        return None
    silent = _keyword(call, "silent")
    if len(call.args) > 1 or (silent is not None and not _false(silent)):
        return None
    return _string(call.args[0])


def _false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _config_call(call: ast.Call, aliases: set[str] | tuple[str, ...] = ()) -> str | None:
    """``config("X")`` / ``env("X")`` / ``env.str("X")`` without a default (``aliases``:
    other names the module imports ``config`` under)."""
    func = call.func
    named = isinstance(func, ast.Name) and func.id in ("config", "env", *aliases)
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


def compared_values(files: dict[str, bytes]) -> dict[str, list[str]]:
    """{a variable, or a settings field by its upper-case name: the strings the app's
    Python code compares its value with, in the order met} (``os.environ['MODE'] ==
    'dev'``, ``settings.ENVIRONMENT in ("local", "staging")``, ``ENV.lower() != "prod"``
    where ``ENV`` is bound to a read, a ``match`` statement's cases). The values the app
    itself tells apart, of which a variable nothing else fills can be given one
    (michelcodeur's drf-restaurants: ``DEBUG = True if os.environ['MODE'] == 'dev' else
    False``)."""
    found: dict[str, list[str]] = {}
    for tree, prefix in _reading_modules(files):
        bound = _bound_reads(tree, prefix)
        for node in ast.walk(tree):
            if isinstance(node, ast.Match):  # ``match configs.db_connection: case "sqlite":``
                name = _compared_name(node.subject, bound, prefix)
                strings = [s for case in node.cases for s in _matched_strings(case.pattern)]
                if name is not None and strings:
                    known = found.setdefault(name, [])
                    known.extend(s for s in strings if s not in known)
                continue
            if not isinstance(node, ast.Compare) or len(node.comparators) != 1:
                continue
            if not isinstance(node.ops[0], ast.Eq | ast.NotEq | ast.In | ast.NotIn):
                continue
            pair = (node.left, node.comparators[0])
            for read, against in (pair, pair[::-1]):
                name = _compared_name(read, bound, prefix)
                strings = _strings(against)
                if name is not None and strings:
                    known = found.setdefault(name, [])
                    known.extend(s for s in strings if s not in known)
    return found


def _matched_strings(pattern: ast.pattern) -> list[str]:
    """The strings a ``case`` pattern matches (``case "a":``, ``case "a" | "b":``)."""
    if isinstance(pattern, ast.MatchValue):
        value = pattern.value
        return (
            [value.value]
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
            else []
        )
    if isinstance(pattern, ast.MatchOr):
        return [s for inner in pattern.patterns for s in _matched_strings(inner)]
    return []


# The string methods a value is compared through (``os.environ["ENV"].lower()``).
_NORMALISERS = frozenset({"lower", "upper", "strip", "casefold"})


def _compared_name(node: ast.expr, bound: dict[str, str], prefix: str) -> str | None:
    """The variable (or settings field) whose value ``node`` is: a read, a name bound to
    one, ``<settings>.FIELD``, each maybe through ``.lower()`` and the like."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _NORMALISERS
        and not node.args
    ):
        node = node.func.value
    if (read := _variable_read(node, prefix)) is not None:
        return read
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Call):
        return node.attr.upper()
    return None


def _strings(node: ast.expr) -> list[str]:
    """The strings ``node`` is: one constant, or a tuple's, list's or set's."""
    if (text := _string(node)) is not None:
        return [text]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [t for element in node.elts if (t := _string(element)) is not None]
    return []


def settings_field_types(files: dict[str, bytes]) -> dict[str, tuple[str, bool]]:
    """Every field of the upload's pydantic-settings classes (pydantic v1's too), with a
    default or without, by the name the environment gives it (:func:`required_types`'
    naming), each with its annotation as written and whether it has a default of its
    own; and the variable a field's default reads (``token_expire: int =
    os.getenv("ACCESS_TOKEN_EXPIRE_MINUTES")``, Cohetero's FastAPI-JWT-SQLAlchemy: the
    field is validated with that variable's value, pydantic v1's ``validate_all``) with
    the field's annotation, and no default (None is no ``int``). The values the service
    gives are read against them (``builds.configdefaults.settings_misfits``)."""
    found: dict[str, tuple[str, bool]] = {}
    for node in _settings_classes(files):
        prefix = _env_prefix(node)
        for statement in node.body:
            if not isinstance(statement, ast.AnnAssign) or not isinstance(
                statement.target, ast.Name
            ):
                continue
            field = statement.target.id
            if field.startswith("_") or field == "model_config":
                continue
            kind = ast.unparse(statement.annotation)
            value = statement.value
            alias = None
            default: ast.expr | None = value
            if isinstance(value, ast.Call) and _name(value.func) == "Field":
                alias = _string(_keyword(value, "validation_alias", "alias", "env"))
                default = value.args[0] if value.args else _keyword(value, "default")
                if isinstance(default, ast.Constant) and default.value is Ellipsis:
                    default = None
                if _keyword(value, "default_factory") is not None:
                    default = value
            found.setdefault((alias or prefix + field).upper(), (kind, default is not None))
            if default is not None and (read := _environ_get(default)) is not None:
                found.setdefault(read, (kind, False))
    return found


def prefixed_settings_fields(files: dict[str, bytes]) -> dict[str, str]:
    """{the variable a settings class with a prefix reads a field under, its own or one of
    its bases' (the upload's settings classes): that field's unprefixed name}.
    bibash-dev's social-fastapi declares ``DATABASE_URL`` in ``GlobalConfig`` and ``class
    DevConfig(GlobalConfig)`` with ``env_prefix="DEV_"``: picked, it reads
    ``DEV_DATABASE_URL``, which nothing gave ("argument of type 'NoneType' is not
    iterable" at ``"sqlite" in config.DATABASE_URL``)."""
    classes = {node.name: node for node in _settings_classes(files)}
    found: dict[str, str] = {}
    for node in classes.values():
        prefix = _env_prefix(node)
        if not prefix:
            continue
        bases, seen = [node.name], set()
        while bases:
            base = classes.get(name := bases.pop())
            if base is None or name in seen:
                continue
            seen.add(name)
            bases += [_name(b).rsplit(".", 1)[-1] for b in base.bases]
            for statement in base.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    field = statement.target.id
                    if not field.startswith("_") and field != "model_config":
                        found.setdefault((prefix + field).upper(), field.upper())
    return found


def router_prefix_defaults(files: dict[str, bytes]) -> dict[str, str]:
    """{a settings field the app mounts its routers under (``app.include_router(router,
    prefix=settings.main_url)``), by the name the environment gives it: its default less
    its trailing slash}, where that default ends with one (``main_url: str = "/"``):
    FastAPI refuses such a prefix ("A path prefix must not end with '/'"), so the app never
    started on its default (PatakIN13's fastapi-notifications; its author's .env, which
    the upload lacks, set another)."""
    defaults: dict[str, tuple[str, str]] = {}  # {field: (its class's env prefix, default)}
    for node in _settings_classes(files):
        prefix = _env_prefix(node)
        for statement in node.body:
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                defaults[statement.target.id] = (prefix, statement.value.value)
    if not defaults:
        return {}
    found: dict[str, str] = {}
    for path in python_files(files):
        if b"include_router" not in files[path] or (tree := _parse(files[path])) is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func).rsplit(".", 1)[-1] != (
                "include_router"
            ):
                continue
            mounted = _keyword(node, "prefix")
            if not isinstance(mounted, ast.Attribute) or mounted.attr not in defaults:
                continue
            env_prefix, default = defaults[mounted.attr]
            if default.endswith("/"):
                found[(env_prefix + mounted.attr).upper()] = default.rstrip("/")
    return found


# The types pydantic-settings reads from the environment as JSON (its "complex" fields):
# a list, set, tuple or mapping, alone or optional (a union with ``str`` is not: where the
# JSON fails, pydantic-settings hands the text to the ``str`` arm).
_COLLECTIONS = {
    "list",
    "List",
    "set",
    "Set",
    "tuple",
    "Tuple",
    "frozenset",
    "FrozenSet",
    "Sequence",
    "dict",
    "Dict",
    "Mapping",
}
_MAPPINGS = {"dict", "Dict", "Mapping"}


def _settings_classes(files: dict[str, bytes]) -> Iterator[ast.ClassDef]:
    """The upload's pydantic-settings classes (pydantic v1's ``BaseSettings`` too), and
    the classes derived from them (:func:`_settings_bases`)."""
    bases = _settings_bases(files)
    for path in python_files(files):
        data = files[path]
        if not any(base.encode() in data for base in bases):
            continue
        tree = _parse(data)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _is_settings_class(node, bases):
                yield node


# A class statement's name and its bases, as written (``class Settings(A, B):``).
_CLASS_LINE = re.compile(rb"^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.MULTILINE)


def _settings_bases(files: dict[str, bytes]) -> frozenset[str]:
    """The names of the upload's settings classes' bases: ``BaseSettings`` and every class
    of the upload derived from it, however many steps away, so that a settings class
    made of others is one too: mhavshyn's FastApi-pet declares ``class
    Settings(CoreSettings, PostgresSettings, …, PaymentSettings)`` with three fields of
    its own (SENTRY_DNS, BETTER_STACK_TOKEN, BETTER_STACK_URL), unseen, so none was
    given a value and its Alembic step died of pydantic's "Field required". A name
    ``BaseSettings`` is imported as is one too (``from pydantic_settings import
    BaseSettings as BaseConfig``: francomz92's e-commerce-fastapi, its ENVIRONMENT and
    TIME_ZONE "needed"). Read from the class statements' and imports' text (no module
    parsed for it)."""
    derived: dict[str, set[str]] = {}
    found = set(_SETTINGS_BASES)
    for path in python_files(files):
        found.update(m[1].decode("ascii", "replace") for m in _BASE_ALIAS.finditer(files[path]))
        for match in _CLASS_LINE.finditer(files[path]):
            names = {
                b.strip().rsplit(b".", 1)[-1].decode("ascii", "replace")
                for b in match[2].split(b",")
            }
            derived.setdefault(match[1].decode("ascii", "replace"), set()).update(names)
    grew = True
    while grew:
        grew = False
        for name, bases in derived.items():
            if name not in found and bases & found:
                found.add(name)
                grew = True
    return frozenset(found)


# ``BaseSettings`` imported under a name of the module's own (pydantic's or
# pydantic-settings'): group 1 that name.
_BASE_ALIAS = re.compile(
    rb"^[ \t]*from[ \t]+pydantic(?:_settings)?[ \t]+import[ \t]*(?:\([^)]*?|[^\n(]*?)"
    rb"\bBaseSettings\s+as\s+(\w+)",
    re.MULTILINE,
)
# A call given a named mapping's items (``Settings(**yaml_settings)``): group 1 what is
# called, group 2 the mapping's name.
_UNPACKED_CALL = re.compile(rb"\b([A-Za-z_]\w*)\((?:[^()]|\([^()]*\))*?\*\*\s*([A-Za-z_]\w*)\b")
# A name bound to what a file of YAML, JSON or TOML holds (``yaml_settings = yaml.load(f,
# Loader=yaml.Loader)``): group 1 the name.
_FILE_LOADED = re.compile(
    rb"^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=[ \t]*(?:yaml|json|toml|tomllib|tomli)"
    rb"\.(?:safe_|full_|unsafe_)?loads?\(",
    re.MULTILINE,
)


def _given_by_code(files: dict[str, bytes], bases: frozenset[str]) -> frozenset[str]:
    """The settings classes the upload makes from a mapping it loads from a file of its
    own (YAML, JSON, TOML), and those their fields are typed by: their values come from
    that file, not the environment.
    BernarBerdikul's fastapi-menu-async reads its YAML config into ``Settings(
    **yaml_settings)``, whose fields ``app: App``, ``postgres: Postgres`` are settings
    classes too: read as required variables, they were given stand-ins, and pydantic,
    which parses a nested field's variable as JSON, refused ``APP`` ("error parsing env
    var") before the YAML's values could stand."""
    loaded = {m[1] for path in python_files(files) for m in _FILE_LOADED.finditer(files[path])}
    called = {
        match[1].decode("ascii", "replace")
        for path in python_files(files)
        for match in _UNPACKED_CALL.finditer(files[path])
        if match[2] in loaded
    }
    given = set(called & bases)
    if not given:
        return frozenset()
    classes = {node.name: node for node in _settings_classes(files)}
    grew = True
    while grew:
        grew = False
        for name in list(given):
            node = classes.get(name)
            for statement in node.body if node is not None else ():
                if not isinstance(statement, ast.AnnAssign):
                    continue
                for part in ast.walk(statement.annotation):
                    typed = _name(part).rsplit(".", 1)[-1]
                    if typed in classes and typed not in given:
                        given.add(typed)
                        grew = True
    return frozenset(given)


def _defaulted_below(node: ast.ClassDef, tree: ast.Module) -> set[str]:
    """The environment names (``node``'s prefix) of the fields a subclass of ``node`` in
    the module gives a default: PetitLepton's FastAPI-e-commerce declares ``engine_string:
    str`` in DBSettings and uses DevelopmentDBSettings, whose ``engine_string = "sqlite:///
    development.sqlite3"`` a stand-in given as DB_ENGINE_STRING overrode ("Could not parse
    rfc1738 URL from string 'preview-stand-in'")."""
    prefix = _env_prefix(node)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    family, found = {node.name}, set()
    for _ in range(3):  # subclasses of subclasses, in any order of definition
        for cls in classes:
            if cls.name not in family and any(_name(b) in family for b in cls.bases):
                family.add(cls.name)
                for statement in cls.body:
                    if (
                        isinstance(statement, ast.AnnAssign)
                        and isinstance(statement.target, ast.Name)
                        and statement.value is not None
                    ):
                        found.add((prefix + statement.target.id).upper())
    return found


def _is_settings_class(node: ast.ClassDef, bases: frozenset[str]) -> bool:
    """Whether ``node`` derives from one of ``bases`` (:func:`_settings_bases`)."""
    return any(_name(b).rsplit(".", 1)[-1] in bases for b in node.bases)


def json_settings_fields(files: dict[str, bytes]) -> dict[str, str]:
    """The environment names of the pydantic-settings fields, with or without a default,
    that it decodes as JSON before any validator of the app's sees the value (a
    ``list[str]`` given ``a,b`` is a ``SettingsError``, the app never starts), each
    with ``"list"`` or ``"mapping"``: what JSON it takes. A field annotated
    ``NoDecode``, or a class with ``enable_decoding=False``, takes the text as it is."""
    found: dict[str, str] = {}
    for node in _settings_classes(files):
        if "enable_decoding=False" in ast.unparse(node).replace(" ", ""):
            continue
        prefix = _env_prefix(node)
        for statement in node.body:
            if not isinstance(statement, ast.AnnAssign) or not isinstance(
                statement.target, ast.Name
            ):
                continue
            shape = _json_shape(statement.annotation)
            if shape is None or statement.target.id.startswith("_"):
                continue
            value = statement.value
            alias = None
            if isinstance(value, ast.Call) and _name(value.func) == "Field":
                alias = _string(_keyword(value, "validation_alias", "alias", "env"))
            found.setdefault((alias or prefix + statement.target.id).upper(), shape)
    return found


def _json_shape(annotation: ast.expr) -> str | None:
    """``"list"`` / ``"mapping"`` where a settings field of this annotation is read as
    JSON (:func:`json_settings_fields`), else None."""
    arms = _union_arms(annotation)
    if arms is None:
        return None
    kept = [a for a in arms if not (isinstance(a, ast.Constant) and a.value is None)]
    kept = [a for a in kept if _name(a) != "None"]
    if len(kept) != 1:
        return None  # a union with str (or another simple type): parsed leniently
    arm = kept[0]
    if isinstance(arm, ast.Subscript) and _name(arm.value) == "Annotated":
        inner = arm.slice.elts if isinstance(arm.slice, ast.Tuple) else [arm.slice]
        if any("NoDecode" in ast.unparse(extra) for extra in inner[1:]):
            return None
        return _json_shape(inner[0])
    base = arm.value if isinstance(arm, ast.Subscript) else arm
    if _name(base) not in _COLLECTIONS:
        return None
    return "mapping" if _name(base) in _MAPPINGS else "list"


def _union_arms(annotation: ast.expr) -> list[ast.expr] | None:
    """A union's arms (``X | None``, ``Optional[X]``, ``Union[X, Y]``); ``[annotation]``
    for any other."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = _union_arms(annotation.left), _union_arms(annotation.right)
        return None if left is None or right is None else left + right
    if isinstance(annotation, ast.Subscript) and _name(annotation.value) in ("Optional", "Union"):
        inner = annotation.slice
        return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _union_arms(parse_source(annotation.value, "eval").body)
        except (SyntaxError, ValueError, RecursionError):
            return None
    return [annotation]


def _model_classes(tree: ast.Module) -> set[str]:
    """The names of the module's pydantic models (``class MailSettings(BaseModel)``, and
    their subclasses): a settings field of one is read from its own fields' variables
    (``MAIL__USERNAME`` under ``env_nested_delimiter="__"``) or as JSON, never as one
    value to make up. dgucik's fastapi-auth-boilerplate was given a throwaway address as
    MAIL, which pydantic-settings refused ('error parsing value for field "mail"')."""
    models: set[str] = set()
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    for _ in range(3):  # subclasses of subclasses, in any order of definition
        for node in classes:
            if any(_name(b) in {"BaseModel", *models} for b in node.bases):
                models.add(node.name)
    return models


def _settings_fields(
    node: ast.ClassDef, returning_none: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """Its fields' variables that the environment must give, with their annotations;
    ``returning_none``: the module's functions that may return None."""
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
        elif value is not None and (read := _environ_get(value)) and not _admits_none(statement):
            # `env: str = os.getenv("ENV")`: its default is None where the variable is
            # unset, which its own type refuses (Vedansh1857's fastapi-user-mgmt: "Input
            # should be a valid string"); the variable it reads is required.
            names.append((read, ast.unparse(statement.annotation)))
            continue
        elif isinstance(value, ast.List | ast.Tuple | ast.Set) and (
            reads := _element_reads(statement)
        ):
            # ``BACKEND_CORS_ORIGINS: List[AnyHttpUrl] = [os.environ.get("URL_ONE"), …]``:
            # each element None where its variable is unset, which the element's type
            # refuses (morshedul-antor's fastapi-email-ses: "none is not an allowed value").
            names.extend(reads)
            continue
        elif (
            isinstance(value, ast.Call)
            and _name(value.func) in returning_none
            and not _admits_none(statement)
        ):
            # ``WIFI_DOMAIN: str = get_host()``, the module's own function giving its
            # machine's wireless address, None where it has none (Anasothman55's
            # FastAPI-Gym-api: "Input should be a valid string"): its variable is required.
            pass
        elif value is not None and not _empty_database_url(prefix + field, value):
            continue
        names.append(((alias or prefix + field).upper(), ast.unparse(statement.annotation)))
    return names


_ADMITS_NONE = re.compile(r"\b(?:Optional|None|Any)\b")


def _element_reads(field: ast.AnnAssign) -> list[tuple[str, str]]:
    """The variables a settings field's list default reads bare, each with the type of the
    field's elements (``AnyHttpUrl`` of ``List[AnyHttpUrl]``), where that type refuses None."""
    annotation = field.annotation
    element = annotation.slice if isinstance(annotation, ast.Subscript) else None
    if element is None or isinstance(element, ast.Tuple):
        return []
    kind = ast.unparse(element)
    if _ADMITS_NONE.search(kind):
        return []
    value = field.value
    elements = value.elts if isinstance(value, ast.List | ast.Tuple | ast.Set) else []
    return [(read, kind) for item in elements if (read := _environ_get(item))]


def _returning_none(tree: ast.Module) -> frozenset[str]:
    """The module's own functions whose return annotation admits None (``-> str | None``,
    ``-> Optional[str]``)."""
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.returns is not None
        and any(word in ast.unparse(node.returns) for word in ("Optional", "None"))
    )


def _empty_database_url(variable: str, default: ast.expr) -> bool:
    """Whether a settings field is a database's URL left empty for a .env to give
    (``SQLITE_DB_URL: str = ""``): no engine opens it (Serious-Projects' fastapi-user-events-
    api: "Could not parse SQLAlchemy URL from string ''" at import), so its variable is
    required, and given the served database's URL."""
    if not (isinstance(default, ast.Constant) and default.value in ("", b"")):
        return False
    found = meaning(variable)
    return found is not None and found.kind == DATABASE and found.part == "url"


def _admits_none(field: ast.AnnAssign) -> bool:
    """Whether a settings field's type takes None (``Optional[str]``, ``str | None``,
    ``Any``)."""
    annotation = ast.unparse(field.annotation)
    return any(word in annotation for word in ("Optional", "None", "Any"))


def _env_prefix(node: ast.ClassDef) -> str:
    """``model_config = SettingsConfigDict(env_prefix=…)`` or v1's ``class Config``."""
    return _config_string(node, "env_prefix")


def _config_string(node: ast.ClassDef, setting: str) -> str:
    """A settings class's string ``setting`` (``env_prefix``, ``env_nested_delimiter``):
    its ``model_config = SettingsConfigDict(…)``'s, or v1's ``class Config``'s; ""."""
    for statement in node.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(
            statement.value, ast.Call
        ):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                return _string(_keyword(statement.value, setting)) or ""
        if isinstance(statement, ast.ClassDef) and statement.name == "Config":
            for inner in statement.body:
                if isinstance(inner, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == setting for t in inner.targets
                ):
                    return _string(inner.value) or ""
    return ""


def _nested_fields(
    tree: ast.Module, model: str, models: set[str], depth: int = 2
) -> list[tuple[str, str]]:
    """The variables below a settings field of the module's pydantic model ``model``
    that the environment must give (its fields with no default, a model's within, down to
    ``depth`` levels, their names joined by NUL), each with its annotation: pydantic-settings
    reads ``APP_CONFIG__DB__URL`` under ``env_prefix="APP_CONFIG__"`` and
    ``env_nested_delimiter="__"`` (Nikolailavr's FastapiUsersTemplate: its ``db:
    DatabaseConfig`` of a required ``url: PostgresDsn``, ``access_token: AccessToken`` of
    two secrets; "Field required" at its start). The delimiter is the caller's."""
    found = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == model), None)
    if found is None:
        return []
    fields: list[tuple[str, str]] = []
    for name, kind in _settings_fields(found):
        if kind not in models:
            fields.append((name, kind))
        elif depth > 1:
            fields += [
                (f"{name}\0{inner_name}", inner)
                for inner_name, inner in _nested_fields(tree, kind, models, depth - 1)
            ]
    return fields
