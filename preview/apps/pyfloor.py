"""The oldest Python an upload's own code runs on, read from its syntax where nothing
declares one: :func:`code_python_floor`; the pydantic and FastAPI its code is written
for, where nothing bounds them: :func:`pydantic_one_config`, :func:`fastapi_extra_keyword`,
:func:`fastapi_param_extra_keyword`; and the oldest Django whose modules its settings
name: :func:`django_named_floor`.

An app with no ``requires-python`` nor ``.python-version`` may be built on any Python
present, and the build picks the one its pinned packages have wheels for, which may be
older than its code: kiyoshisama's fastapi-blog-sqlalchemy-v2 (``title: str | None`` in
a pydantic model, Python 3.10's union syntax) was built on 3.9 for an old package's wheels
and died at import ("unsupported operand type(s) for |"). Read with :mod:`ast`, never run.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..discovery.pyast import (
    dotted_name,
    import_aliases,
    keywords,
    parse_source,
    uncommented,
    walked,
)
from .pyapp import TEST_MODULE, parse_module, python_files

__all__ = [
    "FASTAPI_PARAMS_WITHOUT_EXTRA",
    "FASTAPI_WITHOUT_EXTRA",
    "REMOVED_APIS",
    "RemovedApi",
    "code_python_floor",
    "deferred_annotations",
    "django_named_floor",
    "fastapi_extra_keyword",
    "fastapi_param_extra_keyword",
    "pydantic_one_config",
    "removed_apis",
]

# pydantic 1's model configuration keys that pydantic 2 renamed (it ignores them now:
# allow_population_by_field_name no longer populates by name in 2.14) or removed.
_PYDANTIC_ONE_KEYS = frozenset(
    {
        "orm_mode",
        "allow_population_by_field_name",
        "anystr_strip_whitespace",
        "underscore_attrs_are_private",
        "allow_mutation",
        "validate_all",
        "smart_union",
        "copy_on_model_validation",
    }
)
_CONFIG_KEYS = re.compile(
    rb"^\s+(?:" + b"|".join(k.encode() for k in _PYDANTIC_ONE_KEYS) + rb")\s*=", re.M
)

# FastAPI()'s own keyword arguments (0.165's). Before 0.145 it kept any other in
# ``app.extra`` (``**extra``); from then on it refuses one.
_FASTAPI_KEYWORDS = frozenset(
    {
        "callbacks",
        "contact",
        "debug",
        "default_response_class",
        "dependencies",
        "deprecated",
        "description",
        "docs_url",
        "exception_handlers",
        "form_limits",
        "generate_unique_id_function",
        "include_in_schema",
        "license_info",
        "lifespan",
        "max_body_size",
        "middleware",
        "on_shutdown",
        "on_startup",
        "openapi_external_docs",
        "openapi_tags",
        "openapi_url",
        "redirect_slashes",
        "redoc_url",
        "responses",
        "root_path",
        "root_path_in_servers",
        "routes",
        "separate_input_output_schemas",
        "servers",
        "strict_content_type",
        "summary",
        "swagger_ui_init_oauth",
        "swagger_ui_oauth2_redirect_url",
        "swagger_ui_parameters",
        "telemetry",
        "terms_of_service",
        "title",
        "version",
        "webhooks",
    }
)
# FastAPI's release that dropped ``**extra``: a hold below it keeps an extra keyword.
FASTAPI_WITHOUT_EXTRA = "0.145"
# Its parameter functions' own keyword arguments (0.165's ``Query``, ``Path``, ``Body`` …
# together). Before 0.155 they kept any other in the parameter's schema (``**extra``,
# ``Query("asc", enum=["asc", "desc"])``); from then on they refuse one.
_PARAM_KEYWORDS = frozenset(
    {
        "alias",
        "alias_priority",
        "allow_inf_nan",
        "convert_underscores",
        "decimal_places",
        "default",
        "default_factory",
        "deprecated",
        "description",
        "discriminator",
        "embed",
        "example",
        "examples",
        "fail_fast",
        "ge",
        "gt",
        "include_in_schema",
        "json_schema_extra",
        "le",
        "lt",
        "max_digits",
        "max_length",
        "media_type",
        "min_length",
        "multiple_of",
        "openapi_examples",
        "pattern",
        "regex",
        "serialization_alias",
        "strict",
        "title",
        "union_mode",
        "validate_default",
        "validation_alias",
    }
)
_PARAM_FUNCTIONS = frozenset({"Path", "Query", "Header", "Cookie", "Body", "Form", "File"})
FASTAPI_PARAMS_WITHOUT_EXTRA = "0.155"

# A module worth parsing: an ``X | None`` union, a ``match`` statement, an ``except*``,
# a generic class or function of Python 3.12 (``class Repository[T]:``, ``def first[T](``,
# ``type Id = int``).
_MAYBE = re.compile(
    rb"\|\s*None\b|\bNone\s*\||^\s*match\s|except\s*\*"
    # a union of other types in an annotation (semenaa's homework-flask: ``error_message:
    # dict | list | str`` in a method's signature, evaluated as its class is made)
    rb"|(?::|->)\s*[\w.]+(?:\[[^\n\]]*\])?\s*\|\s*[\w.]"
    rb"|^\s*(?:class|(?:async\s+)?def)\s+\w+\[|^\s*type\s+\w+",
    re.MULTILINE,
)
# Python 3.12's type parameters, in a module this Python's parser refuses (PEP 695):
# mouakos' fastapi-ecommerce, ``class GenericRepository[T_model](ABC):``, no Python declared.
_TYPE_PARAMETERS = re.compile(
    rb"^[ \t]*(?:class|(?:async[ \t]+)?def)[ \t]+\w+\[[^\]\n]*\][ \t]*[(:]"
    rb"|^[ \t]*type[ \t]+\w+(?:\[[^\]\n]*\])?[ \t]*=",
    re.MULTILINE,
)
# PEP 701's f-strings (Python 3.12): a string inside a replacement field quoted as the
# f-string around it, ``f"{":".join(parts)}"``, which older parsers end at its quote:
# deaxparadox's task-flask-user-api, no Python declared, died at import on 3.11 ("f-string:
# expecting '}'").
_SAME_QUOTE_INSIDE = re.compile(rb"""[fF][rR]?"[^"\n]*\{[^}"\n]*"|[fF][rR]?'[^'\n]*\{[^}'\n]*'""")
# And a replacement field of a one-line f-string carried over to the next line, which older
# parsers end at the line's end: davidvillard's drfbackendcheck (``print(f"…: {`` then
# ``response.text}")``; "unterminated string literal" on 3.11, its Dockerfile's 3.12 runs it).
_FIELD_ACROSS_LINES = re.compile(
    rb"""[fF][rR]?"[^"\n]*\{[^}"\n]*\n|[fF][rR]?'[^'\n]*\{[^}'\n]*\n"""
)
# Names the standard library gained in a version, by module: imported from an older
# one, "cannot import name" (rddewan's fastapi-user-management imports typing's override,
# no Python declared: built on 3.11, its alembic env died on it). A module of that name
# in the upload itself is its own: left out.
_STDLIB_NAMES: dict[str, dict[str, tuple[int, int]]] = {
    "typing": {
        "override": (3, 12),
        "TypeAliasType": (3, 12),
        "Self": (3, 11),
        "LiteralString": (3, 11),
        "Never": (3, 11),
        "assert_never": (3, 11),
        "assert_type": (3, 11),
        "reveal_type": (3, 11),
        "Required": (3, 11),
        "NotRequired": (3, 11),
        "TypeVarTuple": (3, 11),
        "Unpack": (3, 11),
        "dataclass_transform": (3, 11),
        "ParamSpec": (3, 10),
        "TypeGuard": (3, 10),
        "Concatenate": (3, 10),
        "TypeAlias": (3, 10),
        "is_typeddict": (3, 10),
    },
    "enum": {"StrEnum": (3, 11), "verify": (3, 11), "member": (3, 11)},
    "datetime": {"UTC": (3, 11)},
    "itertools": {"batched": (3, 12), "pairwise": (3, 10)},
}
_STDLIB_MODULES = {"tomllib": (3, 11)}
_STDLIB_IMPORT = re.compile(
    rb"^\s*(?:from\s+(?:typing|enum|datetime|itertools)\s+import\b|(?:from|import)\s+tomllib\b)",
    re.MULTILINE,
)


def code_python_floor(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(the oldest minor version the upload's code needs, why: where and what) where its
    syntax needs one newer than 3.9, else None. What needs one: a ``match`` statement
    (3.10), ``except*`` (3.11), and a ``X | Y`` union in an annotation Python evaluates
    as the module runs (3.10): any, without ``from __future__ import annotations``;
    with it, a class's fields', which pydantic, SQLModel and SQLAlchemy's ``Mapped``
    evaluate all the same; type parameters (``class Repository[T]:``, 3.12) and a string
    inside an f-string's field quoted as the f-string or a field carried over to the next
    line (PEP 701, 3.12), read in a module
    this Python's parser refuses. Tests are not the app's start: left out."""
    best: tuple[tuple[int, int], str] | None = None
    own = {posixpath.splitext(p)[0].removesuffix("/__init__").rpartition("/")[2] for p in files}
    for path in python_files(files):
        data = files[path]
        if TEST_MODULE.search(path):
            continue
        stdlib = _stdlib_floor(data, own) if _STDLIB_IMPORT.search(data) else None
        if stdlib is not None and (best is None or stdlib[0] > best[0]):
            best = (stdlib[0], f"{path}: {stdlib[1]}")
        pep_701 = _SAME_QUOTE_INSIDE.search(data) or _FIELD_ACROSS_LINES.search(data)
        if pep_701 is not None and _refused(data):
            found: tuple[tuple[int, int], str] | None = (3, 12), "PEP 701 f-strings (3.12)"
        elif _MAYBE.search(data) is None:
            continue
        elif _TYPE_PARAMETERS.search(data) is not None and _refused(data):
            # Python 3.12's syntax, which this Python's parser refuses (parse_module reads
            # it without its type parameters).
            found = (3, 12), "type parameters (Python 3.12)"
        elif (tree := parse_module(data)) is not None:
            found = _module_floor(tree)
        else:
            continue
        if found is not None and (best is None or found[0] > best[0]):
            best = (found[0], f"{path}: {found[1]}")
    if best is None:
        return None
    return f"{best[0][0]}.{best[0][1]}", best[1]


def _stdlib_floor(data: bytes, own: set[str]) -> tuple[tuple[int, int], str] | None:
    """The newest Python whose standard library the module imports a name of
    (:data:`_STDLIB_NAMES`), where the upload has no module of that name itself. At its
    top level only: one under ``try:`` has its fallback (typing_extensions)."""
    tree = parse_module(data)
    found: tuple[tuple[int, int], str] | None = None
    for node in tree.body if tree is not None else ():
        needs: list[tuple[tuple[int, int], str]] = []
        if isinstance(node, ast.ImportFrom) and not node.level and node.module not in own:
            names = _STDLIB_NAMES.get(node.module or "", {})
            needs = [
                (names[a.name], f"{node.module}.{a.name}") for a in node.names if a.name in names
            ]
            if node.module in _STDLIB_MODULES:
                needs.append((_STDLIB_MODULES[node.module], node.module))
        elif isinstance(node, ast.Import):
            needs = [
                (_STDLIB_MODULES[a.name], a.name)
                for a in node.names
                if a.name in _STDLIB_MODULES and a.name not in own
            ]
        for version, name in needs:
            if found is None or version > found[0]:
                found = version, f"{name} (Python {version[0]}.{version[1]})"
    return found


def _refused(data: bytes) -> bool:
    """Whether this Python's own parser refuses ``data``."""
    try:
        parse_source(data)
    except (SyntaxError, ValueError, RecursionError):
        return True
    return False


def _module_floor(tree: ast.Module) -> tuple[tuple[int, int], str] | None:
    deferred = _deferred_already(tree)
    found: tuple[tuple[int, int], str] | None = None
    for node in walked(tree):
        # (read where this Python parses them: 3.12's ast)
        if getattr(node, "type_params", None) or type(node).__name__ == "TypeAlias":
            return (3, 12), "type parameters (Python 3.12)"
        if isinstance(node, ast.TryStar):
            return (3, 11), "except* (Python 3.11)"
        if isinstance(node, ast.Match) and found is None:
            found = (3, 10), "a match statement (Python 3.10)"
        if found is None and _evaluated_union(node, deferred):
            found = (3, 10), "an X | Y annotation evaluated as it runs (Python 3.10)"
    return found


def _evaluated_union(node: ast.AST, deferred: bool) -> bool:
    """Whether ``node`` carries an annotation with a ``|`` union that runs (see
    :func:`code_python_floor`)."""
    annotations: list[ast.expr] = []
    if isinstance(node, ast.ClassDef):
        annotations = [s.annotation for s in node.body if isinstance(s, ast.AnnAssign)]
    elif not deferred and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        annotations = _signature_annotations(node)
    elif not deferred and isinstance(node, ast.Module):
        annotations = [s.annotation for s in node.body if isinstance(s, ast.AnnAssign)]
    return any(
        isinstance(part, ast.BinOp) and isinstance(part.op, ast.BitOr)
        for annotation in annotations
        for part in walked(annotation)
    )


def pydantic_one_config(files: dict[str, bytes]) -> str | None:
    """Where the upload's code configures a model as pydantic 1 does (a nested ``class
    Config`` setting a key pydantic 2 renamed or dropped: ``orm_mode``,
    ``allow_population_by_field_name`` …), as "path: key"; None where none does.
    piyota0901's fastapi-todo-app lists nothing; built with the newest pydantic, its
    camel-cased schema was never populated by its fields' names ("createAt: Field
    required") and its one route answered 500."""
    for path in python_files(files):
        data = files[path]
        if TEST_MODULE.search(path) or b"Config" not in data or not _CONFIG_KEYS.search(data):
            continue
        for node in walked(parse_module(data) or ast.Module(body=[], type_ignores=[])):
            if not isinstance(node, ast.ClassDef) or node.name != "Config":
                continue
            for statement in node.body:
                targets = statement.targets if isinstance(statement, ast.Assign) else []
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in _PYDANTIC_ONE_KEYS:
                        return f"{path}: {target.id}"
    return None


def _calls(files: dict[str, bytes], needle: bytes) -> Iterator[tuple[str, str, ast.Call]]:
    """(path, the dotted name it calls by its imports: ``fastapi.FastAPI``, the call) of
    each call in the upload's modules naming ``needle``, its tests' aside."""
    for path in python_files(files):
        data = files[path]
        if TEST_MODULE.search(path) or needle not in data:
            continue
        tree = parse_module(data)
        if tree is None:
            continue
        aliases = import_aliases(tree)
        for node in walked(tree):
            if isinstance(node, ast.Call):
                head, _, rest = (dotted_name(node.func) or "").partition(".")
                yield path, ".".join(filter(None, (aliases.get(head, head), rest))), node


def fastapi_param_extra_keyword(files: dict[str, bytes]) -> str | None:
    """Where the upload's code gives one of FastAPI's parameter functions (``Query(…)``,
    ``Path``, ``Body`` …) a keyword argument that is none of theirs
    (:data:`_PARAM_KEYWORDS`), as "path: keyword"; None where none does. FastAPI before
    :data:`FASTAPI_PARAMS_WITHOUT_EXTRA` kept it in the parameter's schema; the newest
    refuses it at import. Pavel547's fastAPI-bookstore-api lists fastapi unpinned and
    declares ``Query("asc", enum=["asc", "desc"])``: "Query() got an unexpected keyword
    argument 'enum'"."""
    for path, full, node in _calls(files, b"fastapi"):
        module, _, function = full.rpartition(".")
        if module not in ("fastapi", "fastapi.params", "fastapi.param_functions"):
            continue
        if function not in _PARAM_FUNCTIONS:
            continue
        if extra := sorted(set(keywords(node)) - _PARAM_KEYWORDS):
            return f"{path}: {extra[0]}"
    return None


def fastapi_extra_keyword(files: dict[str, bytes]) -> str | None:
    """Where the upload's code gives ``FastAPI(…)`` a keyword argument that is none of
    its own (:data:`_FASTAPI_KEYWORDS`), as "path: keyword"; None where none does. FastAPI
    before :data:`FASTAPI_WITHOUT_EXTRA` kept it in ``app.extra``; the newest refuses it
    at import. souravmondaldev's fastAPI-JobBoard lists fastapi unpinned and calls
    ``FastAPI(title=…, VERSION=…)``: "unexpected keyword argument 'VERSION'"."""
    for path, full, node in _calls(files, b"FastAPI"):
        if full != "fastapi.FastAPI":
            continue
        if extra := sorted(set(keywords(node)) - _FASTAPI_KEYWORDS):
            return f"{path}: {extra[0]}"
    return None


# Django's dotted names a settings module gives as a string (a backend, a hasher), by the
# release that added each: named to an older Django, its settings fail where Django loads
# them ("Could not find backend 'django.core.cache.backends.redis.RedisCache'").
_DJANGO_NAMES = {
    "django.core.cache.backends.redis.RedisCache": "4.0",
    "django.contrib.auth.hashers.ScryptPasswordHasher": "4.0",
    "django.core.cache.backends.memcached.PyMemcacheCache": "3.2",
    "django.db.models.BigAutoField": "3.2",
    "django.db.backends.postgresql": "1.9",
}
_DJANGO_NAMED = re.compile(rb"django\.(?:core|contrib|db)\.[\w.]+")


def django_named_floor(files: dict[str, bytes]) -> tuple[str, str] | None:
    """(the oldest Django release having each Django module the upload's code names in a
    string, where it names one of :data:`_DJANGO_NAMES`: "path: name") or None.
    mohammadanarul's drf-job-portal pins Django==3.2.16 (its README asks for 4.1.3, as
    its earlier requirements did) while its settings' CACHES use Django 4.0's
    RedisCache: its migrate died on "No module named 'django.core.cache.backends.redis'"."""
    best: tuple[tuple[int, ...], str, str] | None = None
    for path in python_files(files):
        data = files[path]
        if TEST_MODULE.search(path) or _DJANGO_NAMED.search(data) is None:
            continue
        tree = parse_module(data)
        for node in walked(tree) if tree is not None else ():
            if not isinstance(node, ast.Constant) or node.value not in _DJANGO_NAMES:
                continue
            release = _DJANGO_NAMES[node.value]
            key = tuple(int(part) for part in release.split("."))
            if best is None or key > best[0]:
                best = key, release, f"{path}: {node.value}"
    return None if best is None else (best[1], best[2])


@dataclass(frozen=True)
class RemovedApi:
    """A name a distribution's release removed, as code using it reads (``pattern``, over
    a module's bytes): the code is written for a release before ``release``."""

    distribution: str  # "flask"
    release: str  # "2.3": the first release without it
    pattern: re.Pattern[bytes]
    what: str  # "app.config['ENV']", said


# The names the app's code reads that a release of its framework removed, each with the
# release that removed it. An app listing its framework unpinned is built with the newest
# release, which its code never knew: nahlaerrakik's tweets-flask-final reads
# ``app.config['ENV']`` (Flask 2.3 dropped the key) before it loads its settings, "KeyError:
# 'ENV'" at import.
REMOVED_APIS = (
    # read, not set: ``app.config['ENV'] = …`` makes the key itself
    RemovedApi(
        "flask",
        "2.3",
        re.compile(rb"""config\[\s*['"]ENV['"]\s*\](?!\s*=[^=])"""),
        "app.config['ENV']",
    ),
    RemovedApi("flask", "2.3", re.compile(rb"\.before_first_request\b"), "before_first_request"),
    RemovedApi(
        "flask",
        "2.3",
        re.compile(rb"\bfrom\s+flask\.json\s+import\s[^\n]*\bJSONEncoder\b"),
        "flask.json.JSONEncoder",
    ),
    RemovedApi(
        "flask",
        "3.0",
        re.compile(rb"\bfrom\s+flask\s+import\s[^\n]*\b(?:escape|Markup)\b"),
        "flask.escape / flask.Markup",
    ),
    RemovedApi(
        "flask", "3.0", re.compile(rb"\b_(?:request|app)_ctx_stack\b"), "flask's _request_ctx_stack"
    ),
    RemovedApi(
        "werkzeug", "2.1", re.compile(rb"\bsafe_str_cmp\b"), "werkzeug.security.safe_str_cmp"
    ),
    RemovedApi(
        "werkzeug",
        "3.0",
        re.compile(
            rb"\bfrom\s+werkzeug\.urls\s+import\s[^\n]*"
            rb"\burl_(?:quote|unquote|parse|encode|decode|join)\b"
        ),
        "werkzeug.urls' url_* functions",
    ),
    RemovedApi("sqlalchemy", "2.0", re.compile(rb"\bengine\.execute\("), "engine.execute()"),
    RemovedApi(
        "flask-sqlalchemy", "3.0", re.compile(rb"\bget_debug_queries\b"), "get_debug_queries"
    ),
    # Its app registered twice, which 3.0 refuses ("A 'SQLAlchemy' instance has already
    # been registered on this Flask app": viktordoms's github-flask-app).
    RemovedApi(
        "flask-sqlalchemy",
        "3.0",
        re.compile(rb"\bSQLAlchemy\(\s*(\w+)\s*\)(?s:.*)\.init_app\(\s*\1\s*\)"),
        "SQLAlchemy(app) then db.init_app(app) on the same app",
    ),
)


def removed_apis(files: dict[str, bytes]) -> list[tuple[RemovedApi, str]]:
    """(each :data:`REMOVED_APIS` entry the upload's own code uses, the first module
    using it), its tests aside."""
    found: dict[RemovedApi, str] = {}
    for path in python_files(files):
        if TEST_MODULE.search(path):
            continue
        text = uncommented(files[path])
        for api in REMOVED_APIS:
            if api not in found and api.pattern.search(text):
                found[api] = path
    return list(found.items())


# The statement Python 3.14's deferred annotations (PEP 649) stand for on older ones.
_DEFERRED = b"from __future__ import annotations\n"


def deferred_annotations(files: dict[str, bytes]) -> dict[str, bytes]:
    """``{module: its text with from __future__ import annotations}`` for each of the app's
    modules whose annotations, evaluated as older Pythons evaluate them (at the class's or
    the function's definition), name what the module binds only after them or under ``if
    TYPE_CHECKING:``: Python 3.14 defers them and the app runs there; before it, the
    import fails. The future import makes every annotation a string, as good as deferred
    for SQLAlchemy, pydantic and FastAPI, which resolve them. Ajay-user's fastapi-workshop
    (``requires-python = ">=3.14"``, 3.13 the newest here): ``posts: Mapped[list[Post]]``
    in ``class User``, Post defined below it, "NameError: name 'Post' is not defined"."""
    found: dict[str, bytes] = {}
    for path in python_files(files):
        data = files[path]
        if b"class " not in data and b"def " not in data:
            continue
        tree = parse_module(data)
        if tree is None or _deferred_already(tree) or not _names_ahead(tree):
            continue
        found[path] = _with_future_import(data, tree)
    return found


def _deferred_already(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.ImportFrom)
        and n.module == "__future__"
        and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )


def _names_ahead(tree: ast.Module) -> bool:
    """Whether an annotation evaluated at definition names what the module binds later
    (a class named below, the class it sits in, a name imported only for type checkers)."""
    later: dict[str, int] = {}
    checking: set[str] = set()  # bound under ``if TYPE_CHECKING:`` alone
    for at, statement in enumerate(tree.body):
        for name in _bound_names(statement):
            if _type_checking(statement):
                checking.add(name)
            else:
                later.setdefault(name, at)
    checking -= later.keys()
    bound: set[str] = set()
    for at, statement in enumerate(tree.body):
        own = {statement.name} if isinstance(statement, ast.ClassDef) else set()
        for annotation in _evaluated_annotations(statement):
            for node in ast.walk(annotation):
                if not isinstance(node, ast.Name) or node.id in bound:
                    continue
                if node.id in own or node.id in checking or later.get(node.id, -1) >= at:
                    return True
        bound |= set(_bound_names(statement)) if not _type_checking(statement) else set()
    return False


def _type_checking(statement: ast.stmt) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``): bound for type checkers alone."""
    return isinstance(statement, ast.If) and dotted_name(statement.test) in (
        "TYPE_CHECKING",
        "typing.TYPE_CHECKING",
    )


def _bound_names(statement: ast.stmt) -> list[str]:
    """The module-level names ``statement`` binds (in an ``if`` block's body too)."""
    if isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [statement.name]
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in statement.names]
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(statement, ast.If | ast.Try):
        return [n for child in statement.body for n in _bound_names(child)]
    return []


def _evaluated_annotations(statement: ast.stmt) -> list[ast.expr]:
    """The annotations Python before 3.14 evaluates as ``statement`` runs: a class body's
    and its methods' signatures, a function's signature, a module-level variable's."""
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    found: list[ast.expr] = []
    if isinstance(statement, ast.ClassDef):
        found += [s.annotation for s in statement.body if isinstance(s, ast.AnnAssign)]
        functions += [
            s for s in statement.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
    elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        functions.append(statement)
    elif isinstance(statement, ast.AnnAssign):
        found.append(statement.annotation)
    for function in functions:
        found += _signature_annotations(function)
    return found


def _signature_annotations(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """A function's parameters' annotations and its return's, which its ``def`` evaluates."""
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    found = [a.annotation for a in every if a.annotation is not None]
    return found + ([function.returns] if function.returns is not None else [])


def _with_future_import(data: bytes, tree: ast.Module) -> bytes:
    """``data`` with :data:`_DEFERRED` after its docstring (before its first statement
    else), where a future import must stand."""
    body = tree.body
    docstring = (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if not docstring:
        return _DEFERRED + data
    lines = data.splitlines(keepends=True)
    end = body[0].end_lineno or 1
    ending = b"" if lines[end - 1].endswith(b"\n") else b"\n"
    return b"".join([*lines[:end], ending, _DEFERRED, *lines[end:]])
