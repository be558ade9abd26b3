"""Endpoint discovery in Litestar apps (and Starlite, its former name), from source.

Route handlers are functions decorated ``@get("/x")``, ``@post(path="/x")``, ``@route("/x",
http_method=["GET", "POST"])`` (a list of paths: each; none: ``/``); a ``Controller``
subclass serves its decorated methods under its ``path``; a ``Router(path="/api",
route_handlers=[...])`` serves its handlers, controllers and routers under its path; the app
is ``Litestar(route_handlers=[...])``. From the app's handlers down, followed across modules
through :class:`~preview.discovery.python.PythonProject`; where no app names them (it is
built out of the upload's sight), each controller and handler at its own path.
"""

from __future__ import annotations

import ast

from preview.discovery.graph import MAX_DEPTH, Collector, Route, join_path
from preview.discovery.pyast import (
    FUNCTION_NODES,
    docstring,
    first_line,
    keywords,
    last_name,
    walked,
)
from preview.discovery.python import PythonProject

__all__ = ["litestar_endpoints"]

_FRAMEWORKS = ("litestar", "starlite")
_VERBS = {"get", "post", "put", "patch", "delete", "head"}
_APPS = ("Litestar", "Starlite")


def litestar_endpoints(project: PythonProject, out: Collector) -> None:
    """Add the endpoints of the Litestar apps in ``project`` to ``out``."""
    mods = [m for m in project.modules if _imports_litestar(project, m)]
    if not mods:
        return
    walker, before = _Litestar(project, out), len(out.found)
    apps = [
        (mod, node)
        for mod in mods
        for node in project.modules[mod][1]
        if isinstance(node, ast.Call) and last_name(node.func) in _APPS
    ]
    for mod, call in apps:
        walker.handlers(mod, keywords(call).get("route_handlers"), "", frozenset())
    if len(out.found) == before:  # no app in sight: each controller and handler at its own path
        for mod in mods:
            for node in project.modules[mod][1]:
                if isinstance(node, ast.ClassDef) and _is_controller(node):
                    walker.controller(mod, node, "")
                elif isinstance(node, FUNCTION_NODES) and node.col_offset == 0:
                    walker.handler(mod, node, "")


def _imports_litestar(project: PythonProject, mod: str) -> bool:
    imports = project.imports.get(mod, {}).values()
    return any(source.split(".")[0] in _FRAMEWORKS for source, _ in imports)


def _is_controller(node: ast.ClassDef) -> bool:
    return any(last_name(base) == "Controller" for base in node.bases)


class _Litestar:
    def __init__(self, project: PythonProject, out: Collector) -> None:
        self.project = project
        self.out = out

    def handlers(self, mod: str, node: ast.AST | None, prefix: str, seen: frozenset) -> None:
        """The elements of a ``route_handlers`` list, under ``prefix``."""
        if node is None or len(seen) > MAX_DEPTH:
            return
        if isinstance(node, ast.Name) and node.id in self.project.lists.get(mod, {}):
            node = self.project.lists[mod][node.id]
        if not isinstance(node, ast.List | ast.Tuple):
            return
        for element in node.elts:
            if not self.out.spend():
                return
            if isinstance(element, ast.Starred):
                self.handlers(mod, element.value, prefix, seen)
                continue
            if isinstance(element, ast.Call) and last_name(element.func) == "Router":
                kw = keywords(element)
                inner = join_path(prefix, self.project.string(mod, kw.get("path")) or "")
                self.handlers(mod, kw.get("route_handlers"), inner, seen | {(mod, id(element))})
                continue
            found = self.project.resolve(mod, element)
            where = found[1] if found and found[0] == "symbol" else mod
            router = self._router(where, found[2] if found and found[0] == "symbol" else None)
            if router is not None:
                key = (where, router[0])
                if key not in seen:
                    self.handlers(where, router[2], join_path(prefix, router[1]), seen | {key})
                continue
            target = self.project.definition(mod, element)
            if isinstance(target, ast.ClassDef):
                self.controller(where, target, prefix)
            elif isinstance(target, FUNCTION_NODES):
                self.handler(where, target, prefix)

    def _router(self, mod: str, name: str | None) -> tuple[str, str, ast.AST | None] | None:
        """``name = Router(path=..., route_handlers=...)`` of ``mod``: (name, path, handlers)."""
        if name is None:
            return None
        for node in self.project.modules.get(mod, ("", []))[1]:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and last_name(node.value.func) == "Router"
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            ):
                kw = keywords(node.value)
                path = self.project.string(mod, kw.get("path")) or ""
                return name, path, kw.get("route_handlers")
        return None

    def controller(self, mod: str, cls: ast.ClassDef, prefix: str) -> None:
        path = ""
        for node in walked(cls):  # ``path = "/x"``, or ``self.path = "/x"`` in __init__
            if isinstance(node, ast.Assign) and any(
                (isinstance(t, ast.Name) and t.id == "path")
                or (isinstance(t, ast.Attribute) and t.attr == "path")
                for t in node.targets
            ):
                path = self.project.string(mod, node.value) or path
        for node in cls.body:
            if isinstance(node, FUNCTION_NODES):
                self.handler(mod, node, join_path(prefix, path))

    def handler(self, mod: str, fn: ast.AST, prefix: str) -> None:
        for dec in getattr(fn, "decorator_list", []):
            name = last_name(dec.func if isinstance(dec, ast.Call) else dec)
            if name not in _VERBS and name != "route":
                continue
            call = dec if isinstance(dec, ast.Call) else None
            kw = keywords(call) if call is not None else {}
            path_node = call.args[0] if call is not None and call.args else kw.get("path")
            paths = self.project.strings(mod, path_node) if path_node is not None else []
            if path_node is not None and not paths:
                single = self.project.string(mod, path_node)
                paths = [single] if single is not None else []
            methods = [name.upper()] if name in _VERBS else []
            if name == "route":
                second = call.args[1] if call is not None and len(call.args) > 1 else None
                given = kw.get("http_method") or second
                methods = [m.upper() for m in self.project.strings(mod, given)]
                methods = methods or [
                    s.upper() for s in [self.project.string(mod, given) or ""] if s
                ]
            doc = docstring(fn)
            file = self.project.modules[mod][0]
            for path in paths or ["/"]:
                route = Route(methods, path, file, getattr(dec, "lineno", 0), first_line(doc), doc)
                full = join_path(prefix, path).rstrip("/") or "/"  # Litestar's: no trailing /
                for method in methods:
                    self.out.add(method, full, "fastapi", route)
