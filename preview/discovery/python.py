"""A generation's Python modules as one project: parsing, names, imports, constants, models.

The uploaded code is untrusted and need not even import here, so nothing is executed: each
file is parsed with :mod:`ast`. :class:`PythonProject` records what every module binds
(imports, definitions, string constants, lists) and resolves names across the generation's
own modules (absolute, relative, re-exported), evaluates constant strings such as route
prefixes, and turns Pydantic models into schemas. The framework scanners build on it:
FastAPI and Flask in :mod:`preview.discovery.routers`, Django in
:mod:`preview.discovery.django`.
"""

from __future__ import annotations

import ast
import copy

from preview.discovery.graph import MAX_DEPTH
from preview.discovery.pyast import (
    ARRAYS,
    FUNCTION_NODES,
    OBJECTS,
    core_type,
    elements,
    keywords,
    last_name,
    parse_module,
    type_schema,
    walked,
)

__all__ = ["PythonProject"]

_MODEL_BASES = frozenset({"BaseModel", "SQLModel"})


_parse = parse_module  # None: bad syntax, encoding, NUL, nesting


def _module_name(path: str) -> str:
    parts = [p for p in path[:-3].split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class PythonProject:
    """Every parsed module of a generation, plus the cross-module facts routing needs.

    Built in two passes, because the second needs the first complete for *all* modules:
    names (imports, definitions, string constants), then the Pydantic models. The framework
    scanners then read routers, routes and URL patterns from :attr:`modules`.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.modules: dict[str, tuple[str, list[ast.AST]]] = {}
        for path in sorted(files):
            tree = _parse(files[path]) if path.endswith(".py") else None
            if tree is not None:
                self.modules.setdefault(_module_name(path), (path, walked(tree)))
        self._by_length = sorted(self.modules, key=lambda m: (len(m), m))
        self._suffix: dict[str, str | None] = {}
        self.imports: dict[str, dict[str, tuple[str, str | None]]] = {}
        self.defs: dict[str, dict[str, ast.AST]] = {}
        self.consts: dict[str, dict[str, str]] = {}
        self.lists: dict[str, dict[str, ast.expr]] = {}
        self.loops: dict[str, dict[str, ast.expr]] = {}
        self.urlpatterns: dict[str, list[ast.expr]] = {}
        self.frameworks: dict[str, str | None] = {}
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
            elif isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
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
        found = next((f for f in ("fastapi", "flask", "quart") if f in tops), None)
        self.frameworks[mod] = "flask" if found == "quart" else found  # Quart: Flask's API

    def resolve(self, mod: str, node: ast.AST, depth: int = 0) -> tuple | None:
        """What an expression names: ``("module", name)`` or ``("symbol", module, name)``."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self._resolve_name(mod, node.id, depth + 1)
        if isinstance(node, ast.Attribute):
            base = self.resolve(mod, node.value, depth + 1)
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
        if real is None or depth > MAX_DEPTH:
            return ("module", full)  # a package without __init__.py, or a third-party name
        return self._resolve_name(real, attr, depth + 1)

    def definition(self, mod: str, node: ast.AST) -> ast.AST | None:
        """The function or class an expression refers to; by unique name as a fallback."""
        found = self.resolve(mod, node)
        if found and found[0] == "symbol" and found[2] in self.defs.get(found[1], {}):
            return self.defs[found[1]][found[2]]
        return self.global_defs.get(last_name(node) or "")

    def string(self, mod: str, node: ast.AST | None, depth: int = 0) -> str | None:
        """A string expression's value: literals, constants (here, imported, or a unique
        ``settings.API_PREFIX``-style attribute anywhere), f-strings and ``+`` of those."""
        if node is None or depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.string(mod, node.left, depth + 1)
            right = self.string(mod, node.right, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    simple = value.conversion == -1 and value.format_spec is None
                    value = value.value if simple else None
                parts.append(self.string(mod, value, depth + 1))
            return None if None in parts else "".join(parts)
        if isinstance(node, (ast.Name, ast.Attribute)):
            found = self.resolve(mod, node)
            if found and found[0] == "symbol" and found[2] in self.consts.get(found[1], {}):
                return self.consts[found[1]][found[2]]
            return self.global_consts.get(last_name(node) or "")
        return None

    def strings(self, mod: str, node: ast.AST | None) -> list[str]:
        if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return []
        return [s for e in node.elts if (s := self.string(mod, e)) is not None]

    # -- Pydantic models ----------------------------------------------------------------

    def _models(self) -> dict[str, dict]:
        """Pydantic-looking classes (inheriting BaseModel, directly or not) as object schemas."""
        classes: dict[str, ast.ClassDef] = {}
        for mod in self.modules:
            for name, node in self.defs[mod].items():
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(name, node)
        verdicts: dict[str | None, bool] = {}  # None: a base that is not a name

        def is_model(name: str | None, depth: int = 0) -> bool:
            if name not in verdicts:
                verdicts[name] = False  # provisional: an inheritance cycle is not a model
                bases = [last_name(b) for b in classes[name].bases] if name in classes else []
                verdicts[name] = depth < MAX_DEPTH and any(
                    b in _MODEL_BASES or is_model(b, depth + 1) for b in bases
                )
            return verdicts[name]

        def fields(name: str, depth: int = 0) -> tuple[dict, list[str]]:
            props: dict[str, dict] = {}
            required: list[str] = []
            for base in classes[name].bases:
                base_name = last_name(base)
                if depth < MAX_DEPTH and base_name is not None and is_model(base_name):
                    more, needed = fields(base_name, depth + 1)
                    props.update(more)
                    required += needed
            for stmt in classes[name].body:
                if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                    continue
                key, annotation = stmt.target.id, stmt.annotation
                kind = last_name(getattr(annotation, "value", annotation))
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
        schema = type_schema(annotation)
        if schema is not None:
            return schema
        core = core_type(annotation)
        name = last_name(core.value if isinstance(core, ast.Subscript) else core)
        return {"type": "object" if name in OBJECTS or name in classes else "string"}

    def body_schema(self, core: ast.AST | None) -> dict | None:
        """The request body an argument annotated ``core`` means: a model, list of, or dict."""
        if isinstance(core, ast.Subscript) and last_name(core.value) in ARRAYS:
            items = self.body_schema(core_type(elements(core)[0]))
            return {"type": "array", "items": items} if items else None
        name = last_name(core)
        if name in OBJECTS:
            return {"type": "object"}
        return copy.deepcopy(self.models[name]) if name in self.models else None


def _field_required(value: ast.expr | None) -> bool:
    """A Pydantic field is required without a default, or with ``Field(...)`` / ``Field()``."""
    if value is None:
        return True
    if isinstance(value, ast.Call) and last_name(value.func) == "Field":
        kw = keywords(value)
        given = value.args[0] if value.args else kw.get("default")
        if given is None and "default_factory" not in kw:
            return True
        return isinstance(given, ast.Constant) and given.value is Ellipsis
    return False
