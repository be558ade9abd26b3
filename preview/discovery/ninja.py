"""Endpoint discovery in Django Ninja APIs, which Django's URL configuration mounts.

A ``NinjaAPI()`` mounted by ``path("api/", api.urls)`` serves the operations declared on
it (``@api.get("/x")``, ``@api.api_operation(["GET", "POST"], "/x")``) and on the
``Router()`` objects it adds, nested, with their prefixes (``api.add_router("/users",
router)``, the router given as an object or as a dotted string, ``"users.api.router"``).
django-ninja-extra's ``NinjaExtraAPI`` likewise, with the controllers it registers
(``api.register_controllers(TodoController)``): classes decorated ``@api_controller("/todos")``
whose methods are decorated ``@http_get("/")``, ``@http_generic("/x", methods=[...])`` or
``@route.post("/")``.
Names are resolved through :class:`~preview.discovery.python.PythonProject`; Django's
walk (:mod:`preview.discovery.django`) calls :meth:`NinjaApis.routes` where it meets a
mounted API.
"""

from __future__ import annotations

import ast
import re
from typing import TypeGuard

from preview.discovery.graph import (
    HTTP_METHODS,
    MAX_DEPTH,
    PATH_PARAMS,
    Collector,
    Route,
    join_path,
)
from preview.discovery.pyast import (
    FUNCTION_NODES,
    call_assignments,
    docstring,
    first_line,
    keywords,
    last_name,
)
from preview.discovery.python import PythonProject

__all__ = ["NinjaApis"]

_Key = tuple[str, str]  # (module, name) of an API or a router
_NINJA_PARAM = re.compile(r"\{(\w+):(\w+)\}")


class NinjaApis:
    """A project's Ninja APIs and routers, their operations and their nesting."""

    def __init__(self, project: PythonProject) -> None:
        self.project = project
        self.apis: set[_Key] = set()
        self.routers: set[_Key] = set()
        for mod, (_, nodes) in project.modules.items():
            for name, call in call_assignments(nodes):
                kind = last_name(call.func)
                if kind in ("NinjaAPI", "NinjaExtraAPI"):
                    self.apis.add((mod, name))
                elif kind == "Router" and _imports_ninja(project, mod):
                    self.routers.add((mod, name))
        self.operations: dict[_Key, list[tuple[str, ast.AST, ast.Call]]] = {}
        self.children: dict[_Key, list[tuple[str, _Key]]] = {}
        self.controllers: dict[_Key, str] = {}  # ninja-extra controller -> its prefix
        if self.apis:
            for mod, (_, nodes) in project.modules.items():
                self._controllers(mod, nodes)
            for mod, (_, nodes) in project.modules.items():
                self._collect(mod, nodes)

    def api(self, mod: str, node: ast.AST) -> _Key | None:
        """The API an expression (``api`` of ``api.urls``) names, if it is one."""
        found = self.project.resolve(mod, node)
        key = found[1:] if found and found[0] == "symbol" else None
        return key if key in self.apis else None

    def routes(self, key: _Key, prefix: str, out: Collector, seen: frozenset = frozenset()) -> None:
        """The operations of ``key`` and of the routers it adds, under ``prefix``."""
        if key in seen or len(seen) > MAX_DEPTH:
            return
        braces = PATH_PARAMS["django"].sub(lambda m: "{" + m["name"] + "}", prefix)
        for mod, fn, dec in self.operations.get(key, []):
            if not out.spend():
                return
            methods, path = self._operation(mod, dec)
            if path is None:
                continue
            doc = docstring(fn)
            file = self.project.modules[mod][0]
            route = Route(methods, path, file, dec.lineno, first_line(doc), doc)
            path = _NINJA_PARAM.sub(r"{\2:\1}", path)  # {int:id}: Django's order, FastAPI's syntax
            for method in methods:
                out.add(method, join_path(braces, path), "fastapi", route)
        for sub_prefix, child in self.children.get(key, []):
            self.routes(child, join_path(prefix, sub_prefix), out, seen | {key})

    def _collect(self, mod: str, nodes: list[ast.AST]) -> None:
        for node in nodes:
            if isinstance(node, FUNCTION_NODES):
                for dec in node.decorator_list:
                    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute):
                        attr = dec.func.attr
                        if attr in HTTP_METHODS or attr == "api_operation":
                            key = self._owner(mod, dec.func.value)
                            if key is not None:
                                self.operations.setdefault(key, []).append((mod, node, dec))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "register_controllers"
            ):
                parent = self._owner(mod, node.func.value)
                for arg in node.args if parent is not None else ():
                    found = self.project.resolve(mod, arg)
                    child = found[1:] if found and found[0] == "symbol" else None
                    if parent is not None and child in self.controllers:  # (said for the checker)
                        self.children.setdefault(parent, []).append(
                            (self.controllers[child], child)
                        )
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_router"
                and len(node.args) >= 2
            ):
                parent = self._owner(mod, node.func.value)
                child = self._router(mod, node.args[1])
                sub_prefix = self.project.string(mod, node.args[0])
                if parent is not None and child is not None and sub_prefix is not None:
                    self.children.setdefault(parent, []).append((sub_prefix, child))

    def _controllers(self, mod: str, nodes: list[ast.AST]) -> None:
        """ninja-extra's ``@api_controller`` classes, and their decorated methods."""
        for node in nodes:
            if not isinstance(node, ast.ClassDef):
                continue
            for dec in node.decorator_list:
                if last_name(dec.func if isinstance(dec, ast.Call) else dec) == "api_controller":
                    path = dec.args[0] if isinstance(dec, ast.Call) and dec.args else None
                    prefix = self.project.string(mod, path) if path is not None else ""
                    self.controllers[(mod, node.name)] = prefix or ""
            for fn in node.body if (mod, node.name) in self.controllers else ():
                for dec in fn.decorator_list if isinstance(fn, FUNCTION_NODES) else ():
                    if _extra_operation(dec):
                        self.operations.setdefault((mod, node.name), []).append((mod, fn, dec))

    def _owner(self, mod: str, node: ast.AST) -> _Key | None:
        found = self.project.resolve(mod, node)
        key = found[1:] if found and found[0] == "symbol" else None
        return key if key in self.apis or key in self.routers else None

    def _router(self, mod: str, node: ast.AST) -> _Key | None:
        """A router given as an object, or as a dotted string (``"users.api.router"``)."""
        dotted = self.project.string(mod, node) if isinstance(node, ast.Constant) else None
        if dotted is None:
            return self._owner(mod, node)
        module_name, _, name = dotted.rpartition(".")
        target = self.project.find_module(module_name)
        return (target, name) if target is not None and (target, name) in self.routers else None

    def _operation(self, mod: str, dec: ast.Call) -> tuple[list[str], str | None]:
        attr = last_name(dec.func) or ""
        if attr.startswith("http_"):  # ninja-extra: http_get(...), http_generic(...)
            attr = attr.removeprefix("http_")
        if attr == "generic":
            methods_node = keywords(dec).get("methods")
            methods = [m.upper() for m in self.project.strings(mod, methods_node)]
            path_node = dec.args[0] if dec.args else None
        elif attr == "api_operation":
            methods = [
                m.upper() for m in self.project.strings(mod, dec.args[0] if dec.args else None)
            ]
            path_node = dec.args[1] if len(dec.args) > 1 else None
        else:
            methods, path_node = [attr.upper()], dec.args[0] if dec.args else None
        for keyword in dec.keywords:
            if keyword.arg == "path":
                path_node = keyword.value
        return methods, self.project.string(mod, path_node) if path_node is not None else None


def _extra_operation(dec: ast.AST) -> TypeGuard[ast.Call]:
    """``@http_get(...)`` … ``@http_generic(...)`` or ``@route.get(...)`` on a controller."""
    if not isinstance(dec, ast.Call):
        return False
    if isinstance(dec.func, ast.Name) and dec.func.id.startswith("http_"):
        return dec.func.id.removeprefix("http_") in (*HTTP_METHODS, "generic")
    return (
        isinstance(dec.func, ast.Attribute)
        and dec.func.attr in HTTP_METHODS
        and last_name(dec.func.value) == "route"
    )


def _imports_ninja(project: PythonProject, mod: str) -> bool:
    return any(
        source.split(".")[0] == "ninja" for source, _ in project.imports.get(mod, {}).values()
    )
