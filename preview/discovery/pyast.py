"""Small readers of Python syntax trees shared by the Python framework scanners.

Pure functions over :mod:`ast` nodes: the name an expression ends in, a call's keywords, a
definition's docstring, what a module's imports bind, the statements its import runs, and
the JSON-schema type an annotation stands for (``Optional``, ``Annotated``, unions and
forward references unwrapped). Nothing here knows about modules or
frameworks; those are :mod:`preview.discovery.python` and the scanners built on it.
"""

from __future__ import annotations

import ast
import io
import posixpath
import re
import threading
import tokenize
from collections.abc import Iterable, Iterator
from typing import Any

from preview.discovery.graph import MAX_DEPTH

__all__ = [
    "ARRAYS",
    "FUNCTION_NODES",
    "OBJECTS",
    "STAR",
    "bind_path",
    "bound_names",
    "call_assignments",
    "core_type",
    "docstring",
    "dotted_name",
    "elements",
    "first_line",
    "import_aliases",
    "imported_files",
    "imports_module",
    "is_main_check",
    "is_none",
    "keywords",
    "last_name",
    "main_blocks",
    "module_level",
    "parse_module",
    "parse_source",
    "readable_part",
    "same_module",
    "syntax_error",
    "type_schema",
    "uncommented",
    "upload_path",
    "walked",
]

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
ARRAYS = frozenset({"list", "List", "set", "Set", "frozenset", "tuple", "Tuple", "Sequence"})
OBJECTS = frozenset({"dict", "Dict", "Mapping"})
_SCALARS: dict[str, str] = dict.fromkeys(
    ("str", "bytes", "UUID", "date", "datetime", "time", "EmailStr"), "string"
)
_SCALARS |= {"int": "integer", "float": "number", "Decimal": "number", "bool": "boolean"}


def imported_files(path: str, node: ast.ImportFrom) -> tuple[str, str]:
    """The files ``node`` (an import in the upload's ``path``) may import: ``x/y.py`` or
    ``x/y/__init__.py``, from ``path``'s package where the import is relative (each level
    past the first one folder up), else from the upload's root."""
    name = (node.module or "").replace(".", "/")
    if node.level:
        base = posixpath.dirname(path)
        for _ in range(node.level - 1):
            base = posixpath.dirname(base)
        name = posixpath.join(base, name) if name else base
    return f"{name}.py", f"{name}/__init__.py"


def last_name(node: ast.AST | None) -> str | None:
    """``x`` for ``x`` and ``a.b.x``; None for any other expression."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def keywords(call: ast.AST | None) -> dict[str, ast.expr]:
    """A call's keyword arguments by name (``**kwargs`` left out); {} if not a call."""
    if not isinstance(call, ast.Call):
        return {}
    return {k.arg: k.value for k in call.keywords if k.arg}


def call_assignments(nodes: Iterable[ast.AST]) -> Iterator[tuple[str, ast.Call]]:
    """``(name, call)`` for each ``name = f(...)`` or ``name: T = f(...)`` among ``nodes``."""
    for node in nodes:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    yield target.id, node.value


def first_line(doc: str | None) -> str | None:
    return doc.strip().splitlines()[0] if doc and doc.strip() else None


def docstring(node: ast.AST | None) -> str | None:
    return ast.get_docstring(node) if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)) else None


def elements(node: ast.AST) -> list[ast.AST]:
    """The items of a tuple / list / set, or of a subscript's slice; else ``[node]``."""
    if isinstance(node, ast.Subscript):
        node = node.slice
    return list(node.elts) if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]


def core_type(node: ast.AST | None) -> ast.AST | None:
    """The type inside ``Optional[X]``, ``X | None``, ``Union[X, None]``, ``Annotated[X, ...]``."""
    for _ in range(MAX_DEPTH):
        if isinstance(node, ast.Subscript) and last_name(node.value) in ("Optional", "Annotated"):
            node = elements(node)[0]
        elif isinstance(node, ast.Subscript) and last_name(node.value) == "Union":
            node = next((e for e in elements(node) if not is_none(e)), None)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            node = node.right if is_none(node.left) else node.left
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200
        ):
            node = _parse_annotation(node.value)  # a forward reference: "UserCreate"
        else:
            return node
    return None


def type_schema(node: ast.AST | None, depth: int = 0) -> dict | None:
    """JSON-schema type of a simple annotation (scalars and arrays of them), else None."""
    node = core_type(node)
    name = last_name(node.value if isinstance(node, ast.Subscript) else node)
    if name in _SCALARS:
        return {"type": _SCALARS[name]}
    if name in ARRAYS:
        items = None
        if isinstance(node, ast.Subscript) and depth < MAX_DEPTH:  # list[int]: its items
            items = type_schema(elements(node)[0], depth + 1)
        return {"type": "array", "items": items} if items else {"type": "array"}
    if name == "Literal" and isinstance(node, ast.Subscript):
        first = elements(node)[0]
        kind = type(first.value).__name__ if isinstance(first, ast.Constant) else ""
        return {"type": _SCALARS[kind]} if kind in _SCALARS else None
    return None


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` for that expression; None for any other."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def walked(node: ast.AST) -> list[ast.AST]:
    """Every node below ``node`` and itself, in ``ast.walk``'s order, listed once per node
    and kept on it: the readers walk each module and definition several times (import
    roots, aliases, factories, settings), and ``ast.walk``'s generators were most of a
    detection's time (126 modules of a real FastAPI app: 690,000 walks, 4 s of 6). Trees
    are never changed once parsed, so the list stays true."""
    nodes = node.__dict__.get(_WALKED)
    if nodes is None:
        nodes = list(ast.walk(node))
        setattr(node, _WALKED, nodes)
    return nodes


_WALKED = "_preview_walked"  # the attribute :func:`walked` keeps its list in


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Names the module's imports bind -> what they name (``App`` -> ``falcon.App``)."""
    names: dict[str, str] = {}
    for node in walked(tree):
        if isinstance(node, ast.Import):
            names.update({a.asname: a.name for a in node.names if a.asname})
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return names


def is_main_check(test: ast.expr) -> bool:
    """Whether an ``if`` tests ``__name__`` (``if __name__ == "__main__":``)."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def imports_module(tree: ast.Module, module: list[str]) -> bool:
    """Whether ``tree`` imports the module ``module`` anywhere."""
    for node in walked(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(f"{node.module or ''}.{a.name}" for a in node.names)]
        if any(same_module(n.strip(".").split("."), module) for n in names if n.strip(".")):
            return True
    return False


def same_module(one: list[str], other: list[str]) -> bool:
    """Whether two dotted names are one module's (from import roots that may differ)."""
    shorter = min(len(one), len(other))
    return one[-shorter:] == other[-shorter:]


def main_blocks(tree: ast.Module) -> list[ast.If]:
    """The module's ``if __name__ == "__main__":`` blocks (what runs only as a script)."""
    return [n for n in tree.body if isinstance(n, ast.If) and is_main_check(n.test)]


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported: those of its top-level
    ``with``/``try``/``if`` blocks too, not those under ``if __name__ == "__main__"``
    but those of its ``else`` (davidjeiel's api-flask-carros: ``else: app.run(port=5000)``)."""
    for node in body:
        yield node
        if isinstance(node, ast.With | ast.AsyncWith):
            yield from module_level(node.body)
        elif isinstance(node, ast.Try):
            yield from module_level([*node.body, *node.orelse, *node.finalbody])
        elif isinstance(node, ast.If) and not is_main_check(node.test):
            yield from module_level([*node.body, *node.orelse])
        elif isinstance(node, ast.If):  # the branch a module imported (not run) takes
            negated = isinstance(node.test, ast.Compare) and isinstance(node.test.ops[0], ast.NotEq)
            yield from module_level(node.body if negated else node.orelse)


def is_none(node: ast.AST) -> bool:
    """Whether ``node`` is the literal ``None``."""
    return isinstance(node, ast.Constant) and node.value is None


def _parse_annotation(text: str) -> ast.AST | None:
    parsed = _parse(text, "eval")
    return parsed.body if parsed is not None else None


_AST_RACE = "AST constructor recursion depth mismatch"
_RACE_ATTEMPTS = 5
_PARSING = threading.RLock()
_MAX_REWRITES = 20  # statements of 3.12's syntax read without it, in one module
_TYPE_ALIAS = re.compile(r"^(\s*)type\s+(\w+)\s*(?:\[[^\]]*\])?\s*=.*$")
_TYPE_PARAMS = re.compile(r"((?:def|class)\s+\w+)\[[^\]]*\]")
# An f-string's opening (not a triple-quoted one's): its prefix, its quote.
_FSTRING_START = re.compile(r"""(?<![\w'"])(?:[rR]?[fF]|[fF][rR])(['"])(?!\1\1)""")


def _older_fstrings(line: str) -> str:
    """``line`` with each f-string's own quote inside its replacement fields turned into
    the other quote, as Pythons before 3.12 read them (``f'{d['k']}'`` → ``f'{d["k"]}'``)."""
    out: list[str] = []
    at = 0
    while (start := _FSTRING_START.search(line, at)) is not None:
        out.append(line[at : start.end()])
        quote = start.group(1)
        other = '"' if quote == "'" else "'"
        at, depth = start.end(), 0
        while at < len(line):
            char = line[at]
            at += 1
            if depth == 0 and char == quote:
                out.append(char)
                break
            if char == "{" and not (depth == 0 and line.startswith("{", at)):
                depth += 1
            elif char == "{":  # an escaped brace, {{
                out.append(char)
                at += 1
            elif char == "}" and depth:
                depth -= 1
            elif char == quote:
                char = other
            out.append(char)
    return "".join([*out, line[at:]])


def parse_module(data: bytes | str) -> ast.Module | None:
    """``data`` parsed, or None when it is not Python (bad syntax or encoding, a NUL,
    nesting too deep), read by :func:`parse_source`, which survives CPython 3.11's AST race.

    Python 3.12's type parameter syntax, which this interpreter cannot read, is read
    without it: a ``type X = …`` alias as ``X = None``, ``def f[T](…)`` and ``class
    C[T]`` without their ``[T]`` (fastapi-nano's auth module declared ``type UserRecord =
    …``, and its routes went unseen). So are 3.12's f-strings quoting their own quote
    inside a replacement field, read with the other quote there: VelmiraPetkova's
    Employee-Management-System builds its URL of ``f'{config('DB_USER')}:'`` in the
    module making its app, and nothing to run was found."""
    parsed = _parse(data, "exec")
    if parsed is not None:
        return parsed
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        return None
    if "type " not in text and "[" not in text and not _FSTRING_START.search(text):
        return None  # no 3.12 syntax: bad syntax
    lines = text.split("\n")
    for _ in range(_MAX_REWRITES):
        try:
            return parse_source("\n".join(lines))
        except SyntaxError as error:
            at = (error.lineno or 0) - 1
            if not 0 <= at < len(lines):
                return None
            if error.msg.startswith("f-string"):
                older = _older_fstrings(lines[at])
            else:
                older = _TYPE_ALIAS.sub(r"\1\2 = None", lines[at], count=1)
                older = _TYPE_PARAMS.sub(r"\1", older, count=1)
            if older == lines[at]:
                return None
            lines[at] = older
        except (ValueError, RecursionError):
            return None
    return None


# A line an unresolved merge conflict left (git's markers: ``<<<<<<< HEAD``, ``=======``,
# ``>>>>>>> origin/master``).
_CONFLICT_MARKER = re.compile(r"^(?:<{7}|={7}|>{7})(?:\s|$)")


def uncommented(data: bytes) -> bytes:
    """Python source ``data`` with its comments blanked (a string's ``#`` kept), for the
    readers of its text by pattern: a line commented out is no code. Shayan-9248's
    FastAPI-Wishlist keeps ``# SQLALCHEMY_DATABASE_URL = "sqlite:///./sql_app.db"`` above
    its PostgreSQL URL and ``# connect_args={"check_same_thread": False}`` in its
    engine's call: read as code, it ran on SQLite alone and was given no PostgreSQL.
    ``data`` as it is where it does not tokenize."""
    if b"#" not in data:
        return data
    text = data.decode("utf-8", "replace")
    lines = io.StringIO(text).readlines()
    try:
        comments = [
            token
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError):
        return data
    for token in comments:
        (row, start), (_, end) = token.start, token.end
        line = lines[row - 1]
        lines[row - 1] = line[:start] + line[end:]
    return "".join(lines).encode("utf-8", "replace")


def syntax_error(data: bytes | str) -> tuple[int, str] | None:
    """Where a module Python cannot parse goes wrong: (its line, what Python says, and
    what the line is where Python's words do not tell: a merge conflict's marker); None
    for a module that parses (as :func:`parse_module` reads it: Python 3.12's type syntax
    too), or one that is not text."""
    if parse_module(data) is not None:
        return None
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        parse_source(text)
    except SyntaxError as error:
        line = error.lineno or 0
        lines = text.splitlines()
        said = error.msg
        if 0 < line <= len(lines) and _CONFLICT_MARKER.match(lines[line - 1]):
            said = f"{said}: {lines[line - 1].strip()!r}, a merge conflict left unresolved"
        return line, said
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return None


# A top-level assignment whose call goes on below (``app = FastAPI(`` then its arguments).
_OPENED_CALL = re.compile(r"^(\w+\s*(?::\s*[\w.]+\s*)?=\s*[\w.]+\()")


def readable_part(data: bytes | str) -> ast.Module | None:
    """What can be read of a module Python cannot parse (:func:`parse_module` gave None):
    its top-level lines that parse alone (imports, assignments; an assignment whose call
    goes on below, ``app = FastAPI(``, as that call without its arguments); None where
    nothing is, or the file is not text. A model's code with a syntax error still shows
    where it makes its app, so that its server runs it and says the error itself."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        return None
    body: list[ast.stmt] = []
    for line in text.splitlines():
        if not line[:1].isalpha():  # blank, indented, a comment, a decorator
            continue
        parsed = _parse(line, "exec")
        if parsed is None and (opened := _OPENED_CALL.match(line)):
            parsed = _parse(opened.group(1) + ")", "exec")
        if parsed is not None:
            body.extend(parsed.body)
    return ast.Module(body=body, type_ignores=[]) if body else None


def parse_source(data: bytes | str, mode: str = "exec") -> Any:
    """``ast.parse(data, mode)``: the one place the service parses Python (its
    ``SyntaxError``, ``ValueError`` and ``RecursionError`` are the caller's to catch).

    CPython 3.11 keeps the AST constructor's recursion count once per interpreter, not
    per thread: a parse racing one in another thread (the readers run in worker threads,
    several launches at once) fails with a ``SystemError`` ("recursion depth mismatch",
    CPython gh-106905) that says nothing of the source, and reached a user as "the service
    failed to run it". Parses therefore take turns, under a lock that a parse nested in
    another on the same thread (a finaliser run by the collector) may take again; such a
    nested parse can still trip the count, so the race is tried again."""
    with _PARSING:
        for _ in range(_RACE_ATTEMPTS - 1):
            try:
                return ast.parse(data, mode=mode)
            except SystemError as error:
                if _AST_RACE not in str(error):
                    raise
        return ast.parse(data, mode=mode)


def _parse(data: bytes | str, mode: str) -> Any:
    try:
        return parse_source(data, mode)
    except (SyntaxError, ValueError, RecursionError):
        return None


def upload_path(node: ast.AST, module: str, names: dict[str, str]) -> str | None:
    """A path expression's value as a path in the upload, ``module`` being the file it is
    in (``__file__``) and ``names`` the paths names are bound to: a bare string is
    relative to the upload's root (where the app runs); ``Path(here, "static")``,
    ``here / "static"``, ``os.path.join(here, "static")``, ``.parent``, ``.parents[1]``,
    ``dirname``, ``abspath``, ``here.joinpath("a", "b")`` … are followed. None if not
    spelled out, or outside."""
    value = _path_value(node, module, names)
    if value is None:
        return None
    value = posixpath.normpath(value)
    return None if value.startswith("..") or value.startswith("/") else value


def _path_value(node: ast.AST, module: str, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return module if node.id == "__file__" else names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # Path(…) / ".env"
        left, right = _path_value(node.left, module, names), _path_value(node.right, module, names)
        return posixpath.join(left, right) if left is not None and right is not None else None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _path_value(node.value, module, names)
        return posixpath.dirname(inner) if inner is not None else None
    if isinstance(node, ast.Subscript) and last_name(node.value) == "parents":  # parents[1]
        owner = getattr(node.value, "value", None)  # the Path(…) of Path(…).parents
        inner = _path_value(owner, module, names) if owner is not None else None
        index = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if inner is None or not isinstance(index, int) or not 0 <= index < 8:
            return None
        for _ in range(index + 1):
            inner = posixpath.dirname(inner)
        return inner
    if not isinstance(node, ast.Call):
        return None
    callee, args = last_name(node.func), node.args
    if callee in ("Path", "PurePath") and len(args) > 1:  # Path(BASE_DIR, "templates")
        callee = "join"
    if callee in ("str", "fspath") and len(args) == 1:  # str(BASE_DIR / ".env")
        return _path_value(args[0], module, names)
    if callee in ("realpath", "abspath", "Path", "PurePath", "resolve", "absolute"):
        target = args[0] if args else getattr(node.func, "value", None)
        return _path_value(target, module, names) if target is not None else None
    if callee == "dirname" and len(args) == 1:
        inner = _path_value(args[0], module, names)
        return posixpath.dirname(inner) if inner is not None else None
    if callee == "joinpath" and args and isinstance(node.func, ast.Attribute):
        args = [node.func.value, *args]  # BASE_DIR.joinpath(".env", "local", ".env")
        callee = "join"
    if callee == "join" and args:
        parts = [_path_value(a, module, names) for a in args]
        known = [part for part in parts if part is not None]
        return posixpath.join(*known) if len(known) == len(parts) else None
    return None


def bind_path(statement: ast.AST, module: str, names: dict[str, str]) -> None:
    """Where ``statement`` binds one name to a path expression (``BASE_DIR =
    Path(__file__).resolve().parent``), ``names`` gets that name's path in the upload
    (:func:`upload_path`), for the expressions after it to read."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        if isinstance(target, ast.Name) and (value := upload_path(statement.value, module, names)):
            names[target.id] = value


STAR = "*"  # what :func:`bound_names` holds for a star import: any name, unknown which
_TYPE_PARAM_NODES = ("TypeVar", "ParamSpec", "TypeVarTuple")  # ``def f[T](x: T)``'s (3.12)


def bound_names(tree: ast.AST) -> set[str]:
    """Every name ``tree`` binds anywhere, in any scope and under any condition: assigned,
    imported, defined, an argument, ``except … as``, declared ``global``/``nonlocal``, a
    match capture, a type parameter; :data:`STAR` among them for a ``from … import *``."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
        elif type(node).__name__ in _TYPE_PARAM_NODES:  # not in an older Python's ``ast``
            bound.add(str(getattr(node, "name", "")))
    return bound
