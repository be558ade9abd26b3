"""Endpoint discovery in FastAPI and Flask (and Quart) apps, which declare routes on routers.

flask-restx and Flask-RESTful: an ``Api`` (its ``prefix``) or a restx ``Namespace`` (its
``path``, else ``/<name>``) is a router; a ``Resource`` class under ``@api.route(...)``
or given to ``api.add_resource(cls, *urls)`` has the methods it defines;
``api.add_namespace(ns, path=...)`` includes a namespace.

Apps and routers (``FastAPI()``, ``APIRouter(prefix=...)``, ``Flask()``, ``Quart()``,
``Blueprint(...)``) are found by their constructor calls; routes by their decorators
(``@router.get``, ``@bp.route``) and ``add_api_route`` / ``add_url_rule`` calls; includes by
``include_router`` / ``register_blueprint``, followed across modules through
:class:`~preview.discovery.python.PythonProject`. For FastAPI, a route's query, header and
cookie parameters and its request body are read from the handler's signature. The routers
become the shared route graph of :mod:`preview.discovery.graph`.
"""

from __future__ import annotations

import ast

from preview.discovery.graph import (
    HTTP_METHODS,
    MAX_WORK,
    PATH_PARAMS,
    Collector,
    Route,
    Router,
    expand_routers,
)
from preview.discovery.pyast import (
    FUNCTION_NODES,
    call_assignments,
    core_type,
    docstring,
    elements,
    first_line,
    keywords,
    last_name,
    type_schema,
)
from preview.discovery.python import PythonProject

__all__ = ["router_endpoints"]

_MARKERS = frozenset(
    {"Query", "Path", "Header", "Cookie", "Body", "Form", "File", "Depends", "Security"}
)
_INJECTED = frozenset({"Depends", "Security", "Form", "File"})  # not query parameters


def router_endpoints(project: PythonProject, out: Collector) -> None:
    """Add the endpoints of the FastAPI and Flask apps and routers in ``project`` to ``out``."""
    expand_routers(_Routers(project).routers, out)


class _Routers:
    """The routers of a project, with their routes and includes.

    Two passes over all modules: router objects first, so that a route or include in any
    module can name a router defined in any other.
    """

    def __init__(self, project: PythonProject) -> None:
        self.project = project
        self.routers: dict[tuple[str, str], Router] = {}
        self._edges: set[tuple] = set()
        self.work = MAX_WORK
        for mod in project.modules:
            self._collect_routers(mod)
        for mod in project.modules:
            self._collect_routes(mod)

    def _collect_routers(self, mod: str) -> None:
        for name, call in call_assignments(self.project.modules[mod][1]):
            self._router_object(mod, name, call)

    def _router_object(self, mod: str, name: str, call: ast.Call) -> None:
        kind, kw = last_name(call.func), keywords(call)
        if kind in ("FastAPI", "Flask", "Quart"):  # Quart: Flask's API, asynchronous
            self.routers[(mod, name)] = Router(
                "fastapi" if kind == "FastAPI" else "flask", is_app=True
            )
        elif kind == "APIRouter":
            prefix = self.project.string(mod, kw.get("prefix"))
            tags = self.project.strings(mod, kw.get("tags"))
            self.routers[(mod, name)] = Router("fastapi", prefix or "", tags)
        elif kind == "Blueprint":
            prefix = self.project.string(mod, kw.get("url_prefix"))
            self.routers[(mod, name)] = Router("flask", prefix or "")
        elif kind == "Api":  # flask-restx / Flask-RESTful: Resource classes on it
            prefix = self.project.string(mod, kw.get("prefix"))
            self.routers[(mod, name)] = Router("flask", prefix or "")
        elif kind == "Namespace" and (call.args or "path" in kw):  # flask-restx's
            path = self.project.string(mod, kw.get("path"))
            named = self.project.string(mod, call.args[0]) if call.args else None
            if path is not None or named is not None:
                self.routers[(mod, name)] = Router("flask", path or f"/{named}")

    def _router_key(self, mod: str, node: ast.AST) -> tuple[str, str] | None:
        """The router an expression names. An unknown plain name in a module importing
        FastAPI or Flask (``app = create_app()``) becomes an implicit app of its own."""
        found = self.project.resolve(mod, node)
        if found and found[0] == "symbol" and found[1:] in self.routers:
            return found[1:]
        framework = self.project.frameworks[mod]
        if framework and isinstance(node, ast.Name) and (found is None or found[0] == "symbol"):
            key = found[1:] if found else (mod, node.id)
            self.routers.setdefault(key, Router(framework, is_app=True))
            return key
        return None

    def _collect_routes(self, mod: str) -> None:
        for node in self.project.modules[mod][1]:
            if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
                for dec in node.decorator_list:
                    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute):
                        self._decorator(mod, node, dec)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                attr = node.func.attr
                if attr in ("include_router", "register_blueprint", "add_namespace"):
                    self._include(mod, node)
                elif attr in ("add_api_route", "add_url_rule"):
                    self._add_rule(mod, node)
                elif attr == "add_resource":
                    self._add_resource(mod, node)

    def _decorator(self, mod: str, fn: ast.AST, dec: ast.Call) -> None:
        assert isinstance(dec.func, ast.Attribute)  # (as its callers checked: obj.method(...))
        attr = dec.func.attr
        if attr not in HTTP_METHODS and attr not in ("route", "api_route"):
            return
        resource = isinstance(fn, ast.ClassDef)
        if resource and attr != "route":
            return
        key = self._router_key(mod, dec.func.value)
        if key is not None:
            kw = keywords(dec)
            path = dec.args[0] if dec.args else kw.get("path", kw.get("rule"))
            methods = [attr.upper()] if attr in HTTP_METHODS else None
            if resource:  # @api.route("/x") on a Resource: the methods it defines
                methods = _resource_methods(fn)
                if not methods:
                    return
            paths = [path, *dec.args[1:]] if resource else [path]  # restx: several URLs
            for each in paths:
                self._add_route(mod, key, fn, each, methods, kw, dec.lineno)

    def _add_resource(self, mod: str, call: ast.Call) -> None:
        """``api.add_resource(TodoResource, "/todos", "/todos/<int:id>")``."""
        assert isinstance(call.func, ast.Attribute)  # (as its callers checked: obj.method(...))
        key = self._router_key(mod, call.func.value)
        if key is None or self.routers[key].framework != "flask":
            return
        resource = self.project.definition(mod, call.args[0])
        methods = _resource_methods(resource) if isinstance(resource, ast.ClassDef) else []
        for path in call.args[1:] if methods else ():
            self._add_route(mod, key, resource, path, methods, keywords(call), call.lineno)

    def _add_rule(self, mod: str, call: ast.Call) -> None:
        """``app.add_api_route(path, endpoint, ...)`` / ``app.add_url_rule(rule, name, view)``."""
        assert isinstance(call.func, ast.Attribute)  # (as its callers checked: obj.method(...))
        key = self._router_key(mod, call.func.value)
        if key is not None:
            kw = keywords(call)
            flask = call.func.attr == "add_url_rule"
            position = 2 if flask else 1
            view = call.args[position] if len(call.args) > position else None
            view = kw.get("view_func" if flask else "endpoint", view)
            fn = self.project.definition(mod, view) if view is not None else None
            self._add_route(mod, key, fn, call.args[0], None, kw, call.lineno)

    def _add_route(self, mod, key, fn, path_node, methods, kw, line) -> None:
        path = self.project.string(mod, path_node)
        if path is None:
            return
        listed = [m.upper() for m in self.project.strings(mod, kw.get("methods"))]
        methods = methods or listed or ["GET"]
        doc = docstring(fn)
        route = Route(
            methods,
            path,
            self.project.modules[mod][0],
            line,
            self.project.string(mod, kw.get("summary")) or first_line(doc),
            self.project.string(mod, kw.get("description")) or doc,
            self.project.strings(mod, kw.get("tags")),
        )
        if self.routers[key].framework == "fastapi" and isinstance(fn, FUNCTION_NODES):
            self._signature(mod, fn, route)
        self.routers[key].routes.append(route)

    def _signature(
        self, mod: str, fn: ast.FunctionDef | ast.AsyncFunctionDef, route: Route
    ) -> None:
        """Query/header/cookie parameters and the body, from the function's arguments as
        FastAPI reads them; arguments it would inject (``Depends``, ``Request``...) are left."""
        in_path = {m["name"] for m in PATH_PARAMS["fastapi"].finditer(route.path)}
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = [*zip(positional, defaults, strict=True)]
        pairs += zip(args.kwonlyargs, args.kw_defaults, strict=True)
        for arg, default in pairs:
            marker = _marker(arg.annotation)
            if isinstance(default, ast.Call) and last_name(default.func) in _MARKERS:
                marker = default
            kind = last_name(marker.func) if marker else None
            if kind in _INJECTED or arg.annotation is None:
                continue
            core = core_type(arg.annotation)
            body = self.project.body_schema(core)
            if body is not None or kind == "Body":
                route.body = route.body or body
                continue
            schema = type_schema(core)
            if schema is None or (schema["type"] == "array" and kind != "Query"):
                continue  # FastAPI reads an unmarked list as a body, and skips unknown types
            route.path_schemas[arg.arg] = schema
            places = {"Header": "header", "Cookie": "cookie", "Path": "path"}
            where = places.get(kind or "", "query")  # no marker (None): a query's
            if where == "path" or arg.arg in in_path:
                continue
            alias = self.project.string(mod, keywords(marker).get("alias"))
            name = alias or (arg.arg.replace("_", "-") if where == "header" else arg.arg)
            required = _required(default, marker)
            route.params.append({"name": name, "in": where, "required": required, "schema": schema})

    def _include(self, mod: str, call: ast.Call) -> None:
        """``parent.include_router(child, prefix=...)``, ``register_blueprint(bp, url_prefix=...)``,
        also in ``for r in (a.router, b.router):`` loops."""
        assert isinstance(call.func, ast.Attribute)  # (as its callers checked: obj.method(...))
        parent = self._router_key(mod, call.func.value)
        if parent is None:
            return
        kw = keywords(call)
        prefix_node = kw.get("prefix", kw.get("url_prefix", kw.get("path")))  # path: restx's
        prefix = self.project.string(mod, prefix_node) if prefix_node is not None else None
        tags = self.project.strings(mod, kw.get("tags"))
        child = call.args[0]
        base = child.value if isinstance(child, ast.Attribute) else child
        loop = self.project.loops[mod].get(base.id) if isinstance(base, ast.Name) else None
        if isinstance(loop, ast.Name):
            loop = self.project.lists[mod].get(loop.id)
        options = [child]
        if isinstance(loop, ast.List | ast.Tuple):
            options = loop.elts
            if isinstance(child, ast.Attribute):
                options = [ast.Attribute(value=e, attr=child.attr, ctx=ast.Load()) for e in options]
        for option in options:
            self.work -= 1
            if self.work < 0:  # an include in a loop over a huge list, many times
                return
            found = self.project.resolve(mod, option)
            child_key = found[1:] if found and found[0] == "symbol" else None
            edge = (parent, child_key, prefix, tuple(tags))
            if child_key in self.routers and child_key != parent and edge not in self._edges:
                self._edges.add(edge)
                self.routers[parent].includes.append((child_key, prefix, tags))


def _resource_methods(cls: ast.ClassDef) -> list[str]:
    """The HTTP methods a Resource (flask-restx, Flask-RESTful) or MethodView class defines."""
    return [
        node.name.upper()
        for node in cls.body
        if isinstance(node, FUNCTION_NODES) and node.name in HTTP_METHODS
    ]


def _marker(annotation: ast.AST | None) -> ast.Call | None:
    """The ``Query()`` / ``Header()`` / ... call in ``Annotated[X, Query()]``, if any."""
    if isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Annotated":
        for meta in elements(annotation)[1:]:
            if isinstance(meta, ast.Call) and last_name(meta.func) in _MARKERS:
                return meta
    return None


def _required(default: ast.expr | None, marker: ast.Call | None) -> bool:
    """FastAPI's rule: required without a default, or with ``Query()`` / ``Query(...)``."""
    if marker is not None and (default is None or default is marker):
        given = marker.args[0] if marker.args else keywords(marker).get("default")
        return given is None or (isinstance(given, ast.Constant) and given.value is Ellipsis)
    return default is None
