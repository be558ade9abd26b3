"""Endpoint discovery in Python sources (FastAPI, Flask, Django), by reading them with ast.

The uploaded code is untrusted and need not even import here, so nothing is executed: each
file is parsed with :mod:`ast` and routing calls are recognised by their shape. Imports are
followed between the generation's own modules (absolute, relative, re-exported), so a router
defined in one file and included in another gets its full prefix. The route-graph helpers
(path joining, include expansion, endpoint dicts) are shared with the JavaScript scanner in
:mod:`preview.discovery`, which imports them from here.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_ENDPOINTS",
    "Collector",
    "Route",
    "Router",
    "expand_routers",
    "join_path",
    "python_endpoints",
]

MAX_ENDPOINTS = 2000
# Include graphs can fan out (one router included under many prefixes, nested), so walking
# one costs at most this many steps: an adversarial graph cannot take exponential time.
_MAX_WORK = 100_000
_MAX_DEPTH = 32  # include nesting, name-resolution hops, expression nesting
_PARAM = {
    "fastapi": re.compile(r"\{(?P<name>\w+)(?::(?P<conv>\w+))?\}"),
    "flask": re.compile(r"<(?:(?P<conv>\w+)(?:\([^)>]*\))?:)?(?P<name>\w+)>"),
    "express": re.compile(r":(?P<name>[A-Za-z_$][\w$]*)(?:\([^)]*\))?[?*+]?"),
}
_PARAM["django"] = _PARAM["flask"]
_CONVERTER_TYPES = {"int": "integer", "float": "number"}
_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
_SCALARS = dict.fromkeys(("str", "bytes", "UUID", "date", "datetime", "time", "EmailStr"), "string")
_SCALARS |= {"int": "integer", "float": "number", "Decimal": "number", "bool": "boolean"}
_ARRAYS = frozenset({"list", "List", "set", "Set", "frozenset", "tuple", "Tuple", "Sequence"})
_OBJECTS = frozenset({"dict", "Dict", "Mapping"})
_MODEL_BASES = frozenset({"BaseModel", "SQLModel"})
_MARKERS = frozenset(
    {"Query", "Path", "Header", "Cookie", "Body", "Form", "File", "Depends", "Security"}
)
_INJECTED = frozenset({"Depends", "Security", "Form", "File"})  # not query parameters
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DRF_ALL = ("list", "create", "retrieve", "update", "partial_update", "destroy")
_DRF_BASES = {
    "ModelViewSet": set(_DRF_ALL),
    "ReadOnlyModelViewSet": {"list", "retrieve"},
    "ListModelMixin": {"list"},
    "CreateModelMixin": {"create"},
    "RetrieveModelMixin": {"retrieve"},
    "UpdateModelMixin": {"update", "partial_update"},
    "DestroyModelMixin": {"destroy"},
}
_DJANGO_FIXED = {"require_GET": ["GET"], "require_POST": ["POST"], "require_safe": ["GET", "HEAD"]}


@dataclass
class Route:
    """One route declaration; its path is still relative to the router that owns it."""

    methods: list[str]
    path: str
    file: str
    line: int
    summary: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    params: list[dict] = field(default_factory=list)  # query / header / cookie
    path_schemas: dict[str, dict] = field(default_factory=dict)  # typed args, by name
    body: dict | None = None


@dataclass
class Router:
    """An app or router: its routes, the routers it includes, its own prefix and tags.

    ``includes`` holds ``(child key, prefix given at include time or None, tags)``.
    """

    framework: str
    prefix: str = ""
    tags: list[str] = field(default_factory=list)
    is_app: bool = False
    routes: list[Route] = field(default_factory=list)
    includes: list[tuple] = field(default_factory=list)


class Collector:
    """Endpoints keyed by (method, path), first declaration wins, bounded in count and work."""

    def __init__(self) -> None:
        self.found: dict[tuple[str, str], dict] = {}
        self.work = _MAX_WORK

    def spend(self, steps: int = 1) -> bool:
        """Charge ``steps`` of work; False once the budget or the endpoint cap is used up."""
        self.work -= steps
        return self.work >= 0 and len(self.found) < MAX_ENDPOINTS

    def add(self, method: str, raw_path: str, framework: str, route: Route, tags=()) -> None:
        """Record an endpoint, its parameter syntax turned into ``{name}``.

        Path parameters are only known once every prefix is joined (a prefix may declare
        one), so a FastAPI argument first taken for a query parameter moves to the path here.
        """
        schemas: dict[str, dict] = {}

        def to_braces(match: re.Match) -> str:
            conv = match.groupdict().get("conv") or ""
            schema = route.path_schemas.get(match["name"])
            schema = schema or {"type": _CONVERTER_TYPES.get(conv, "string")}
            schemas.setdefault(match["name"], schema)
            return "{" + match["name"] + "}"

        path = _PARAM[framework].sub(to_braces, raw_path)
        if (method, path) in self.found or len(self.found) >= MAX_ENDPOINTS:
            return  # before any copying: duplicates can be many
        params = [
            {"name": name, "in": "path", "required": True, "schema": copy.deepcopy(schema)}
            for name, schema in schemas.items()
        ]
        params += [
            copy.deepcopy(p) for p in route.params if p["in"] != "query" or p["name"] not in schemas
        ]
        self.found[(method, path)] = {
            "method": method,
            "path": path,
            "summary": route.summary,
            "description": route.description,
            "tags": list(dict.fromkeys(tags)),
            "parameters": params,
            "requestBody": copy.deepcopy(route.body),
            "responses": {},
            "source": {
                "kind": "source",
                "framework": framework,
                "file": route.file,
                "line": route.line,
            },
        }


def join_path(*parts: str) -> str:
    """Join route fragments the way the frameworks do: one slash between, a leading slash.

    A trailing slash survives only when the last non-empty fragment declared it: "/x" and
    "/x/" are different routes in FastAPI, Flask and Django.
    """
    segments: list[str] = []
    trailing = False
    for part in parts:
        if part:
            segments.extend(s for s in part.split("/") if s)
            trailing = part.endswith("/")
    return "/" + "/".join(segments) + ("/" if trailing and segments else "")


def expand_routers(routers: dict, out: Collector) -> None:
    """Emit every route reachable from a root: an app, or a router nobody includes.

    Routers nobody includes are kept because they are often included in ways not followed
    here (a loop over a computed list, a plugin registry); their own prefix still applies.
    FastAPI and Express stack prefixes (include prefix + router prefix); a Flask blueprint's
    ``url_prefix`` is replaced by the one given to ``register_blueprint``, if any.
    """
    included = {child for r in routers.values() for child, _, _ in r.includes}

    def walk(key: tuple, prefix: str, tags: list[str], seen: frozenset) -> None:
        router = routers[key]
        if len(seen) > _MAX_DEPTH or not out.spend(1 + len(router.routes)):
            return
        tags = tags + router.tags
        for route in router.routes:
            # Express routing is not strict: a router's "/" is its mount point, "/api/users".
            express_root = router.framework == "express" and route.path == "/"
            full = join_path(prefix, "" if express_root else route.path)
            for method in route.methods:
                out.add(method, full, router.framework, route, tags + route.tags)
        for child, edge_prefix, edge_tags in router.includes:
            sub = routers.get(child)
            if sub is None or child in seen:
                continue
            override = sub.framework == "flask" and edge_prefix is not None
            parts = (edge_prefix,) if override else (edge_prefix or "", sub.prefix)
            walk(child, join_path(prefix, *parts), tags + edge_tags, seen | {child})

    for key in sorted(k for k, r in routers.items() if r.is_app or k not in included):
        walk(key, routers[key].prefix, [], frozenset({key}))


def python_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the endpoints declared in ``.py`` files to ``out``; unparsable files are skipped."""
    project = _Project(files)
    expand_routers(project.routers, out)
    out.work = _MAX_WORK  # a budget of its own, whatever the routers used
    project.django(out)


def _parse(data: bytes) -> ast.Module | None:
    try:
        return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError):  # bad syntax, encoding, NUL, nesting
        return None


def _module_name(path: str) -> str:
    parts = [p for p in path[:-3].split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _last_name(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _keywords(call: ast.AST | None) -> dict[str, ast.expr]:
    if not isinstance(call, ast.Call):
        return {}
    return {k.arg: k.value for k in call.keywords if k.arg}


def _first_line(doc: str | None) -> str | None:
    return doc.strip().splitlines()[0] if doc and doc.strip() else None


def _docstring(node: ast.AST | None) -> str | None:
    return ast.get_docstring(node) if isinstance(node, (*_FUNCS, ast.ClassDef)) else None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _elts(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Subscript):
        node = node.slice
    return list(node.elts) if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]


def _core(node: ast.AST | None) -> ast.AST | None:
    """The type inside ``Optional[X]``, ``X | None``, ``Union[X, None]``, ``Annotated[X, ...]``."""
    for _ in range(_MAX_DEPTH):
        if isinstance(node, ast.Subscript) and _last_name(node.value) in ("Optional", "Annotated"):
            node = _elts(node)[0]
        elif isinstance(node, ast.Subscript) and _last_name(node.value) == "Union":
            node = next((e for e in _elts(node) if not _is_none(e)), None)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            node = node.right if _is_none(node.left) else node.left
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200
        ):
            node = _parse_annotation(node.value)  # a forward reference: "UserCreate"
        else:
            return node
    return None


def _parse_annotation(text: str) -> ast.AST | None:
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None


def _type_schema(node: ast.AST | None, depth: int = 0) -> dict | None:
    """JSON-schema type of a simple annotation (scalars and arrays of them), else None."""
    node = _core(node)
    name = _last_name(node.value if isinstance(node, ast.Subscript) else node)
    if name in _SCALARS:
        return {"type": _SCALARS[name]}
    if name in _ARRAYS:
        inner = isinstance(node, ast.Subscript) and depth < _MAX_DEPTH
        items = _type_schema(_elts(node)[0], depth + 1) if inner else None
        return {"type": "array", "items": items} if items else {"type": "array"}
    if name == "Literal" and isinstance(node, ast.Subscript):
        first = _elts(node)[0]
        kind = type(first.value).__name__ if isinstance(first, ast.Constant) else ""
        return {"type": _SCALARS[kind]} if kind in _SCALARS else None
    return None


def _marker(annotation: ast.AST | None) -> ast.Call | None:
    """The ``Query()`` / ``Header()`` / ... call in ``Annotated[X, Query()]``, if any."""
    if isinstance(annotation, ast.Subscript) and _last_name(annotation.value) == "Annotated":
        for meta in _elts(annotation)[1:]:
            if isinstance(meta, ast.Call) and _last_name(meta.func) in _MARKERS:
                return meta
    return None


def _required(default: ast.expr | None, marker: ast.Call | None) -> bool:
    """FastAPI's rule: required without a default, or with ``Query()`` / ``Query(...)``."""
    if marker is not None and (default is None or default is marker):
        given = marker.args[0] if marker.args else _keywords(marker).get("default")
        return given is None or (isinstance(given, ast.Constant) and given.value is Ellipsis)
    return default is None


def _regex_to_route(regex: str) -> str:
    """A Django ``re_path`` regex in ``path()`` syntax: named groups become ``<name>``."""
    regex = regex.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out: list[str] = []
    i = 0
    while i < len(regex):
        if regex.startswith("(?P<", i) and (close := regex.find(">", i)) > 0:
            end, depth = close + 1, 1
            while end < len(regex) and depth:
                char = regex[end]
                depth += (char == "(") - (char == ")")
                end += 2 if char == "\\" else 1
            body = regex[close + 1 : end - 1]
            conv = "int:" if body in (r"\d+", "[0-9]+") else ""
            out.append(f"<{conv}{regex[i + 4 : close]}>")
            i = end
        elif regex[i] == "\\":
            out.append(regex[i + 1 : i + 2])
            i += 2
        else:
            out.append("" if regex[i] in "?^$" else regex[i])
            i += 1
    return "".join(out)


class _Project:
    """Every parsed module of a generation, plus the cross-module facts routing needs.

    Three passes, because each needs the previous one complete for *all* modules: names
    (imports, definitions, string constants), then router objects, then routes and includes.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.modules: dict[str, tuple[str, list[ast.AST]]] = {}
        for path in sorted(files):
            tree = _parse(files[path]) if path.endswith(".py") else None
            if tree is not None:
                self.modules.setdefault(_module_name(path), (path, list(ast.walk(tree))))
        self._by_length = sorted(self.modules, key=lambda m: (len(m), m))
        self._suffix: dict[str, str | None] = {}
        self.imports: dict[str, dict[str, tuple[str, str | None]]] = {}
        self.defs: dict[str, dict[str, ast.AST]] = {}
        self.consts: dict[str, dict[str, str]] = {}
        self.lists: dict[str, dict[str, ast.expr]] = {}
        self.loops: dict[str, dict[str, ast.expr]] = {}
        self.urlpatterns: dict[str, list[ast.expr]] = {}
        self.routers: dict[tuple[str, str], Router] = {}
        self.drf: dict[tuple[str, str], list[tuple[str, ast.Call]]] = {}
        self.frameworks: dict[str, str | None] = {}
        self._entry_memo: dict[tuple[str, int], list] = {}
        self._edges: set[tuple] = set()
        self.work = _MAX_WORK
        for mod in self.modules:
            self._collect_names(mod)
        self.global_consts: dict[str, str | None] = {}
        self.global_defs: dict[str, ast.AST | None] = {}
        for mod in self.modules:
            for key, value in self.consts[mod].items():
                self.global_consts[key] = (
                    value if self.global_consts.get(key, value) == value else None
                )
            for key, node in self.defs[mod].items():
                self.global_defs[key] = None if key in self.global_defs else node
        self.models = self._models()
        for mod in self.modules:
            self._collect_routers(mod)
        for mod in self.modules:
            self._collect_routes(mod)

    # -- names and modules ------------------------------------------------------------

    def find_module(self, name: str) -> str | None:
        """The module called ``name``, or one ending in ``.name``: a generation's import root
        is often a subdirectory ("backend/app/main.py" importing ``app.routers``)."""
        if name in self.modules:
            return name
        if name not in self._suffix:
            tail = "." + name
            self._suffix[name] = next((m for m in self._by_length if m.endswith(tail)), None)
        return self._suffix[name]

    def _collect_names(self, mod: str) -> None:
        file, nodes = self.modules[mod]
        imports = self.imports[mod] = {}
        defs = self.defs[mod] = {}
        consts = self.consts[mod] = {}
        lists = self.lists[mod] = {}
        loops = self.loops[mod] = {}
        patterns = self.urlpatterns[mod] = []
        package = mod.split(".") if file.endswith("__init__.py") else mod.split(".")[:-1]
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    imports[local] = (alias.name if alias.asname else local, None)
            elif isinstance(node, ast.ImportFrom):
                base = package[: max(0, len(package) - node.level + 1)] if node.level else []
                source = ".".join([*base, node.module] if node.module else base)
                for alias in node.names:
                    imports[alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, (*_FUNCS, ast.ClassDef)):
                defs.setdefault(node.name, node)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                loops[node.target.id] = node.iter
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if not isinstance(target, ast.Name):
                        continue
                    if target.id == "urlpatterns":
                        patterns.append(node.value)
                    if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                        consts[target.id] = node.value.value
                    elif isinstance(node.value, (ast.List, ast.Tuple)):
                        lists.setdefault(target.id, node.value)
        tops = {source.split(".")[0] for source, _ in imports.values()}
        self.frameworks[mod] = next((f for f in ("fastapi", "flask") if f in tops), None)

    def _resolve(self, mod: str, node: ast.AST, depth: int = 0) -> tuple | None:
        """What an expression names: ``("module", name)`` or ``("symbol", module, name)``."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self._resolve_name(mod, node.id, depth + 1)
        if isinstance(node, ast.Attribute):
            base = self._resolve(mod, node.value, depth + 1)
            if base is not None and base[0] == "module":
                return self._member(base[1], node.attr, depth + 1)
        return None

    def _resolve_name(self, mod: str, name: str, depth: int) -> tuple | None:
        target = self.imports.get(mod, {}).get(name)
        if target is None:
            return ("symbol", mod, name)
        source, attr = target
        if attr is None:
            return ("module", self.find_module(source) or source)
        return self._member(source, attr, depth + 1)

    def _member(self, module: str, attr: str, depth: int) -> tuple | None:
        """``module.attr``: a submodule if the files have one, else what ``module`` binds."""
        full = f"{module}.{attr}" if module else attr
        if (sub := self.find_module(full)) is not None:
            return ("module", sub)
        real = self.find_module(module) if module else None
        if real is None or depth > _MAX_DEPTH:
            return ("module", full)  # a package without __init__.py, or a third-party name
        return self._resolve_name(real, attr, depth + 1)

    def _definition(self, mod: str, node: ast.AST) -> ast.AST | None:
        """The function or class an expression refers to; by unique name as a fallback."""
        found = self._resolve(mod, node)
        if found and found[0] == "symbol" and found[2] in self.defs.get(found[1], {}):
            return self.defs[found[1]][found[2]]
        return self.global_defs.get(_last_name(node) or "")

    def _str(self, mod: str, node: ast.AST | None, depth: int = 0) -> str | None:
        """A string expression's value: literals, constants (here, imported, or a unique
        ``settings.API_PREFIX``-style attribute anywhere), f-strings and ``+`` of those."""
        if node is None or depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._str(mod, node.left, depth + 1)
            right = self._str(mod, node.right, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    simple = value.conversion == -1 and value.format_spec is None
                    value = value.value if simple else None
                parts.append(self._str(mod, value, depth + 1))
            return None if None in parts else "".join(parts)
        if isinstance(node, (ast.Name, ast.Attribute)):
            found = self._resolve(mod, node)
            if found and found[0] == "symbol" and found[2] in self.consts.get(found[1], {}):
                return self.consts[found[1]][found[2]]
            return self.global_consts.get(_last_name(node) or "")
        return None

    def _strs(self, mod: str, node: ast.AST | None) -> list[str]:
        if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return []
        return [s for e in node.elts if (s := self._str(mod, e)) is not None]

    def _models(self) -> dict[str, dict]:
        """Pydantic-looking classes (inheriting BaseModel, directly or not) as object schemas."""
        classes: dict[str, ast.ClassDef] = {}
        for mod in self.modules:
            for name, node in self.defs[mod].items():
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(name, node)
        verdicts: dict[str, bool] = {}

        def is_model(name: str | None, depth: int = 0) -> bool:
            if name not in verdicts:
                verdicts[name] = False  # provisional: an inheritance cycle is not a model
                bases = [_last_name(b) for b in classes[name].bases] if name in classes else []
                verdicts[name] = depth < _MAX_DEPTH and any(
                    b in _MODEL_BASES or is_model(b, depth + 1) for b in bases
                )
            return verdicts[name]

        def fields(name: str, depth: int = 0) -> tuple[dict, list[str]]:
            props: dict[str, dict] = {}
            required: list[str] = []
            for base in classes[name].bases:
                if depth < _MAX_DEPTH and is_model(_last_name(base)):
                    more, needed = fields(_last_name(base), depth + 1)
                    props.update(more)
                    required += needed
            for stmt in classes[name].body:
                if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                    continue
                key, annotation = stmt.target.id, stmt.annotation
                kind = _last_name(getattr(annotation, "value", annotation))
                if key.startswith("_") or key == "model_config" or kind == "ClassVar":
                    continue
                props[key] = self._field_schema(stmt.annotation, classes)
                if _field_required(stmt.value) and key not in required:
                    required.append(key)
            return props, required

        models = {}
        for name in classes:
            if is_model(name):
                props, required = fields(name)
                models[name] = {"$model": name, "type": "object", "properties": props}
                models[name]["required"] = required
        return models

    def _field_schema(self, annotation: ast.AST, classes: dict) -> dict:
        schema = _type_schema(annotation)
        if schema is not None:
            return schema
        core = _core(annotation)
        name = _last_name(core.value if isinstance(core, ast.Subscript) else core)
        return {"type": "object" if name in _OBJECTS or name in classes else "string"}

    def _body_schema(self, core: ast.AST | None) -> dict | None:
        """The request body an argument annotated ``core`` means: a model, list of, or dict."""
        if isinstance(core, ast.Subscript) and _last_name(core.value) in _ARRAYS:
            items = self._body_schema(_core(_elts(core)[0]))
            return {"type": "array", "items": items} if items else None
        name = _last_name(core)
        if name in _OBJECTS:
            return {"type": "object"}
        return copy.deepcopy(self.models[name]) if name in self.models else None

    # -- FastAPI and Flask -----------------------------------------------------------------

    def _collect_routers(self, mod: str) -> None:
        for node in self.modules[mod][1]:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._router_object(mod, target.id, node.value)

    def _router_object(self, mod: str, name: str, call: ast.Call) -> None:
        kind, kw = _last_name(call.func), _keywords(call)
        if kind in ("FastAPI", "Flask"):
            self.routers[(mod, name)] = Router(kind.lower(), is_app=True)
        elif kind == "APIRouter":
            prefix, tags = self._str(mod, kw.get("prefix")), self._strs(mod, kw.get("tags"))
            self.routers[(mod, name)] = Router("fastapi", prefix or "", tags)
        elif kind == "Blueprint":
            self.routers[(mod, name)] = Router("flask", self._str(mod, kw.get("url_prefix")) or "")
        elif kind in ("DefaultRouter", "SimpleRouter"):
            self.drf[(mod, name)] = []

    def _router_key(self, mod: str, node: ast.AST) -> tuple[str, str] | None:
        """The router an expression names. An unknown plain name in a module importing
        FastAPI or Flask (``app = create_app()``) becomes an implicit app of its own."""
        found = self._resolve(mod, node)
        if found and found[0] == "symbol" and found[1:] in self.routers:
            return found[1:]
        framework = self.frameworks[mod]
        if framework and isinstance(node, ast.Name) and (found is None or found[0] == "symbol"):
            key = found[1:] if found else (mod, node.id)
            self.routers.setdefault(key, Router(framework, is_app=True))
            return key
        return None

    def _collect_routes(self, mod: str) -> None:
        for node in self.modules[mod][1]:
            if isinstance(node, _FUNCS):
                for dec in node.decorator_list:
                    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute):
                        self._decorator(mod, node, dec)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                attr = node.func.attr
                if attr in ("include_router", "register_blueprint"):
                    self._include(mod, node)
                elif attr in ("add_api_route", "add_url_rule"):
                    self._add_rule(mod, node)
                elif attr == "register":
                    found = self._resolve(mod, node.func.value)
                    if found and found[0] == "symbol" and found[1:] in self.drf:
                        self.drf[found[1:]].append((mod, node))

    def _decorator(self, mod: str, fn: ast.AST, dec: ast.Call) -> None:
        attr = dec.func.attr
        if attr not in _VERBS and attr not in ("route", "api_route"):
            return
        key = self._router_key(mod, dec.func.value)
        if key is not None:
            kw = _keywords(dec)
            path = dec.args[0] if dec.args else kw.get("path", kw.get("rule"))
            methods = [attr.upper()] if attr in _VERBS else None
            self._add_route(mod, key, fn, path, methods, kw, dec.lineno)

    def _add_rule(self, mod: str, call: ast.Call) -> None:
        """``app.add_api_route(path, endpoint, ...)`` / ``app.add_url_rule(rule, name, view)``."""
        key = self._router_key(mod, call.func.value)
        if key is not None:
            kw = _keywords(call)
            flask = call.func.attr == "add_url_rule"
            position = 2 if flask else 1
            view = call.args[position] if len(call.args) > position else None
            view = kw.get("view_func" if flask else "endpoint", view)
            fn = self._definition(mod, view) if view is not None else None
            self._add_route(mod, key, fn, call.args[0], None, kw, call.lineno)

    def _add_route(self, mod, key, fn, path_node, methods, kw, line) -> None:
        path = self._str(mod, path_node)
        if path is None:
            return
        methods = methods or [m.upper() for m in self._strs(mod, kw.get("methods"))] or ["GET"]
        doc = _docstring(fn)
        route = Route(
            methods,
            path,
            self.modules[mod][0],
            line,
            self._str(mod, kw.get("summary")) or _first_line(doc),
            self._str(mod, kw.get("description")) or doc,
            self._strs(mod, kw.get("tags")),
        )
        if self.routers[key].framework == "fastapi" and isinstance(fn, _FUNCS):
            self._signature(mod, fn, route)
        self.routers[key].routes.append(route)

    def _signature(self, mod: str, fn: ast.FunctionDef, route: Route) -> None:
        """Query/header/cookie parameters and the body, from the function's arguments as
        FastAPI reads them; arguments it would inject (``Depends``, ``Request``...) are left."""
        in_path = {m["name"] for m in _PARAM["fastapi"].finditer(route.path)}
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = [*zip(positional, defaults, strict=True)]
        pairs += zip(args.kwonlyargs, args.kw_defaults, strict=True)
        for arg, default in pairs:
            marker = _marker(arg.annotation)
            if isinstance(default, ast.Call) and _last_name(default.func) in _MARKERS:
                marker = default
            kind = _last_name(marker.func) if marker else None
            if kind in _INJECTED or arg.annotation is None:
                continue
            core = _core(arg.annotation)
            body = self._body_schema(core)
            if body is not None or kind == "Body":
                route.body = route.body or body
                continue
            schema = _type_schema(core)
            if schema is None or (schema["type"] == "array" and kind != "Query"):
                continue  # FastAPI reads an unmarked list as a body, and skips unknown types
            route.path_schemas[arg.arg] = schema
            where = {"Header": "header", "Cookie": "cookie", "Path": "path"}.get(kind, "query")
            if where == "path" or arg.arg in in_path:
                continue
            alias = self._str(mod, _keywords(marker).get("alias"))
            name = alias or (arg.arg.replace("_", "-") if where == "header" else arg.arg)
            required = _required(default, marker)
            route.params.append({"name": name, "in": where, "required": required, "schema": schema})

    def _include(self, mod: str, call: ast.Call) -> None:
        """``parent.include_router(child, prefix=...)``, ``register_blueprint(bp, url_prefix=...)``,
        also in ``for r in (a.router, b.router):`` loops."""
        parent = self._router_key(mod, call.func.value)
        if parent is None:
            return
        kw = _keywords(call)
        prefix_node = kw.get("prefix", kw.get("url_prefix"))
        prefix = self._str(mod, prefix_node) if prefix_node is not None else None
        tags = self._strs(mod, kw.get("tags"))
        child = call.args[0]
        base = child.value if isinstance(child, ast.Attribute) else child
        loop = self.loops[mod].get(base.id) if isinstance(base, ast.Name) else None
        if isinstance(loop, ast.Name):
            loop = self.lists[mod].get(loop.id)
        options = [child]
        if isinstance(loop, ast.List | ast.Tuple):
            options = loop.elts
            if isinstance(child, ast.Attribute):
                options = [ast.Attribute(value=e, attr=child.attr, ctx=ast.Load()) for e in options]
        for option in options:
            self.work -= 1
            if self.work < 0:  # an include in a loop over a huge list, many times
                return
            found = self._resolve(mod, option)
            child_key = found[1:] if found and found[0] == "symbol" else None
            edge = (parent, child_key, prefix, tuple(tags))
            if child_key in self.routers and child_key != parent and edge not in self._edges:
                self._edges.add(edge)
                self.routers[parent].includes.append((child_key, prefix, tags))

    # -- Django ------------------------------------------------------------------------------

    def django(self, out: Collector) -> None:
        """Walk ``urlpatterns`` from ROOT_URLCONF (or every urls module nobody includes)."""
        included = set()
        for mod, (_, nodes) in self.modules.items():
            for node in nodes:
                if isinstance(node, ast.Call) and _last_name(node.func) == "include" and node.args:
                    conf = self._urlconf(mod, node.args[0])
                    included.add(conf[0] if conf else None)
        candidates = [m for m in self.modules if self.urlpatterns[m]]
        root = self.find_module(self.global_consts.get("ROOT_URLCONF") or "")
        roots = [root] if root in candidates else [m for m in candidates if m not in included]
        for mod in roots or candidates:
            entries = self._entries(mod, self.urlpatterns[mod], out)
            self._walk_urls(mod, entries, "", out, frozenset({mod}))

    def _urlconf(self, mod: str, node: ast.AST) -> tuple | None:
        """What ``include(x)`` includes: (identity, module its names live in, entries)."""
        if isinstance(node, ast.Tuple) and node.elts:  # include(("app.urls", "app_name"))
            node = node.elts[0]
        if isinstance(node, ast.List) or (isinstance(node, ast.Attribute) and node.attr == "urls"):
            return ((mod, node.lineno, node.col_offset), mod, node)
        found = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = ("module", node.value)
        elif isinstance(node, ast.Name | ast.Attribute):
            found = self._resolve(mod, node)
        if found and found[0] == "symbol" and found[2] in self.lists.get(found[1], {}):
            return (found[1:], found[1], self.lists[found[1]][found[2]])
        target = self.find_module(found[1]) if found and found[0] == "module" else None
        return (target, target, self.urlpatterns[target]) if target else None

    def _entries(self, mod: str, node: object, out: Collector, depth: int = 0) -> list:
        """The entries of a urlpatterns expression: lists, ``+``, list variables, wrappers such
        as ``format_suffix_patterns([...])``; a DRF ``router.urls`` is kept as an entry.

        Memoised and de-duplicated, so ``a = [*b, *b]; b = [*c, *c]...`` stays linear.
        """
        key = (mod, id(node))
        if key in self._entry_memo:
            return self._entry_memo[key]
        if depth > _MAX_DEPTH or not out.spend():
            return []
        self._entry_memo[key] = []  # an expression that contains itself adds nothing
        result: list = []
        parts: list = []
        if isinstance(node, list):  # a module's urlpatterns assignments
            parts = node
        elif isinstance(node, ast.List | ast.Tuple):
            for elt in node.elts:
                starred = isinstance(elt, ast.Starred)
                result += self._entries(mod, elt.value, out, depth + 1) if starred else [elt]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = [node.left, node.right]
        elif isinstance(node, ast.Name) and node.id in self.lists[mod]:
            parts = [self.lists[mod][node.id]]
        elif isinstance(node, ast.Call) and node.args:
            parts = [node.args[0]]
        elif isinstance(node, ast.Attribute) and node.attr == "urls":
            result = [node]
        for part in parts:
            result += self._entries(mod, part, out, depth + 1)
        self._entry_memo[key] = list({id(e): e for e in result}.values())
        return self._entry_memo[key]

    def _walk_urls(self, mod, entries, prefix: str, out: Collector, seen: frozenset) -> None:
        file = self.modules[mod][0]
        for node in entries:
            if not out.spend():
                return
            if isinstance(node, ast.Attribute):
                self._drf_routes(mod, node, prefix, out)
                continue
            kind = _last_name(node.func) if isinstance(node, ast.Call) else None
            if kind not in ("path", "re_path", "url"):
                continue
            kw = _keywords(node)
            route = self._str(mod, node.args[0] if node.args else kw.get("route"))
            if route is None:
                continue
            full = join_path(prefix, route if kind == "path" else _regex_to_route(route))
            view = node.args[1] if len(node.args) > 1 else kw.get("view")
            if isinstance(view, ast.Call) and _last_name(view.func) == "include":
                conf = self._urlconf(mod, view.args[0]) if view.args else None
                if conf and conf[0] not in seen and len(seen) < _MAX_DEPTH:
                    entries = self._entries(conf[1], conf[2], out)
                    self._walk_urls(conf[1], entries, full, out, seen | {conf[0]})
            elif view is not None:
                methods, fn = self._view(mod, view)
                doc = _docstring(fn)
                endpoint = Route(methods, route, file, node.lineno, _first_line(doc), doc)
                for method in methods:
                    out.add(method, full, "django", endpoint)

    def _view(self, mod: str, node: ast.AST) -> tuple[list[str], ast.AST | None]:
        """HTTP methods of a view: from ``@api_view`` / ``@require_*`` decorators on a function,
        or the handler methods of a class-based view; "ANY" when unknown."""
        if isinstance(node, ast.Call) and _last_name(node.func) == "as_view":
            node = node.func.value
        fn = self._definition(mod, node)
        methods: list[str] = []
        if isinstance(fn, ast.ClassDef):
            handlers = (n.name for n in fn.body if isinstance(n, _FUNCS))
            methods = [name.upper() for name in handlers if name in _VERBS]
        for dec in fn.decorator_list if isinstance(fn, _FUNCS) else []:
            name = _last_name(dec.func if isinstance(dec, ast.Call) else dec)
            if name in ("api_view", "require_http_methods"):
                kw = _keywords(dec)
                given = dec.args[0] if getattr(dec, "args", None) else kw.get("http_method_names")
                listed = [m.upper() for m in self._strs(mod, given)]
                methods = listed or (["GET"] if name == "api_view" else [])
            methods = _DJANGO_FIXED.get(name, methods)
        return methods or ["ANY"], fn

    def _drf_routes(self, mod: str, node: ast.Attribute, prefix: str, out: Collector) -> None:
        """Django REST framework ``router.urls``: a list and a detail route per registration."""
        found = self._resolve(mod, node.value)
        for reg_mod, call in self.drf.get(found[1:] if found else (), []):
            base = self._str(reg_mod, call.args[0])
            viewset = call.args[1] if len(call.args) > 1 else _keywords(call).get("viewset")
            cls = self._definition(reg_mod, viewset) if viewset is not None else None
            actions, lookup = set(_DRF_ALL), "pk"
            if isinstance(cls, ast.ClassDef):
                own = {n.name for n in cls.body if isinstance(n, _FUNCS)}
                for b in cls.bases:
                    own |= _DRF_BASES.get(_last_name(b) or "", set())
                actions = own & actions or actions
                lookup = next(
                    (
                        s.value.value
                        for s in cls.body
                        if isinstance(s, ast.Assign)
                        and _last_name(s.targets[0]) == "lookup_field"
                        and isinstance(s.value, ast.Constant)
                    ),
                    lookup,
                )
            doc = _docstring(cls)
            file = self.modules[reg_mod][0]
            route = Route([], base or "", file, call.lineno, _first_line(doc), doc)
            detail = f"<{lookup}>/"
            for action, method, suffix in (
                ("list", "GET", ""),
                ("create", "POST", ""),
                ("retrieve", "GET", detail),
                ("update", "PUT", detail),
                ("partial_update", "PATCH", detail),
                ("destroy", "DELETE", detail),
            ):
                if base is not None and action in actions:
                    path = join_path(prefix, base + "/", suffix)
                    out.add(method, path, "django", route)


def _field_required(value: ast.expr | None) -> bool:
    """A Pydantic field is required without a default, or with ``Field(...)`` / ``Field()``."""
    if value is None:
        return True
    if isinstance(value, ast.Call) and _last_name(value.func) == "Field":
        kw = _keywords(value)
        given = value.args[0] if value.args else kw.get("default")
        if given is None and "default_factory" not in kw:
            return True
        return isinstance(given, ast.Constant) and given.value is Ellipsis
    return False
