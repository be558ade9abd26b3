"""Endpoint discovery in Django projects: ``urlpatterns``, Django REST framework routers and
Django Ninja APIs (:mod:`.ninja`).

URL configurations are walked from ROOT_URLCONF (or from every urls module nobody includes),
through ``path`` / ``re_path`` / ``url`` entries, ``include()`` of modules or lists, list
variables and ``+``; a view's methods come from its decorators or, for a class-based view, its
handler methods. A DRF ``router.urls`` expands into the list and detail routes of each
``router.register(...)``. Names are resolved through
:class:`~preview.discovery.python.PythonProject`.
"""

from __future__ import annotations

import ast
from typing import Any

from preview.discovery.graph import HTTP_METHODS, MAX_DEPTH, MAX_WORK, Collector, Route, join_path
from preview.discovery.ninja import NinjaApis
from preview.discovery.pyast import (
    FUNCTION_NODES,
    call_assignments,
    docstring,
    first_line,
    keywords,
    last_name,
)
from preview.discovery.python import PythonProject

__all__ = ["django_endpoints", "regex_to_route"]

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
# Generic class-based views (DRF's ``ListCreateAPIView`` … and Django's): what they serve.
_GENERIC_VIEWS: dict[str, list[str]] = {
    "List": ["GET"],
    "Create": ["POST"],
    "ListCreate": ["GET", "POST"],
    "Retrieve": ["GET"],
    "Update": ["PUT", "PATCH"],
    "Destroy": ["DELETE"],
    "RetrieveUpdate": ["GET", "PUT", "PATCH"],
    "RetrieveDestroy": ["GET", "DELETE"],
    "RetrieveUpdateDestroy": ["GET", "PUT", "PATCH", "DELETE"],
    "TemplateView": ["GET"],
    "ListView": ["GET"],
    "DetailView": ["GET"],
    "RedirectView": ["GET"],
    "CreateView": ["GET", "POST"],
    "UpdateView": ["GET", "POST"],
    "DeleteView": ["GET", "POST"],
    "FormView": ["GET", "POST"],
    "LoginView": ["GET", "POST"],
    "LogoutView": ["POST"],
}
_DJANGO_FIXED = {"require_GET": ["GET"], "require_POST": ["POST"], "require_safe": ["GET", "HEAD"]}


def django_endpoints(project: PythonProject, out: Collector) -> None:
    """Add the endpoints of the Django URL configuration in ``project`` to ``out``."""
    out.work = MAX_WORK  # a budget of its own, whatever other scanners used
    _Django(project).walk(out)


class _Django:
    """A project's URL configuration, with its DRF routers and their registrations."""

    def __init__(self, project: PythonProject) -> None:
        self.project = project
        self.drf: dict[tuple[str, str], list[tuple[str, ast.Call]]] = {}
        self.api_roots: set[tuple[str, str]] = set()  # DefaultRouters: they serve a root view
        self.unslashed: set[tuple[str, str]] = set()  # routers of trailing_slash=False
        self._entry_memo: dict[tuple[str, int], list] = {}
        self.ninja = NinjaApis(project)  # Django Ninja's APIs, mounted by ``api.urls``
        for mod, (_, nodes) in project.modules.items():
            for name, call in call_assignments(nodes):
                if last_name(call.func) in ("DefaultRouter", "SimpleRouter"):
                    self.drf[(mod, name)] = []
                    slash = keywords(call).get("trailing_slash")
                    if isinstance(slash, ast.Constant) and slash.value is False:
                        self.unslashed.add((mod, name))
                if last_name(call.func) == "DefaultRouter":
                    self.api_roots.add((mod, name))
        for mod, (_, nodes) in project.modules.items():  # once every router is known
            for node in nodes:
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                if node.func.attr == "register" and node.args:
                    found = project.resolve(mod, node.func.value)
                    if found and found[0] == "symbol" and found[1:] in self.drf:
                        self.drf[found[1:]].append((mod, node))

    def walk(self, out: Collector) -> None:
        """Walk ``urlpatterns`` from ROOT_URLCONF (or every urls module nobody includes)."""
        included = set()
        for mod, (_, nodes) in self.project.modules.items():
            for node in nodes:
                if isinstance(node, ast.Call) and last_name(node.func) == "include" and node.args:
                    conf = self._urlconf(mod, node.args[0])
                    included.add(conf[0] if conf else None)
        candidates = [m for m in self.project.modules if self.project.urlpatterns[m]]
        root = self.project.find_module(self.project.global_consts.get("ROOT_URLCONF") or "")
        roots = [root] if root in candidates else [m for m in candidates if m not in included]
        for mod in roots or candidates:
            entries = self._entries(mod, self.project.urlpatterns[mod], out)
            self._walk_urls(mod, entries, "", out, frozenset({mod}))

    def _urlconf(self, mod: str, node: ast.AST) -> tuple | None:
        """What ``include(x)`` includes: (identity, module its names live in, entries)."""
        if isinstance(node, ast.Tuple) and node.elts:  # include(("app.urls", "app_name"))
            node = node.elts[0]
        if isinstance(node, ast.List) or (isinstance(node, ast.Attribute) and node.attr == "urls"):
            return ((mod, node.lineno, node.col_offset), mod, node)
        found: tuple | None = None  # as resolve() tells it: ("module", name) or ("symbol", …)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = ("module", node.value)
        elif isinstance(node, ast.Name | ast.Attribute):
            found = self.project.resolve(mod, node)
        if found and found[0] == "symbol" and found[2] in self.project.lists.get(found[1], {}):
            return (found[1:], found[1], self.project.lists[found[1]][found[2]])
        target = self.project.find_module(found[1]) if found and found[0] == "module" else None
        return (target, target, self.project.urlpatterns[target]) if target else None

    def _entries(self, mod: str, node: object, out: Collector, depth: int = 0) -> list:
        """The entries of a urlpatterns expression: lists, ``+``, list variables, wrappers such
        as ``format_suffix_patterns([...])``; a DRF ``router.urls`` is kept as an entry.

        Memoised and de-duplicated, so ``a = [*b, *b]; b = [*c, *c]...`` stays linear.
        """
        key = (mod, id(node))
        if key in self._entry_memo:
            return self._entry_memo[key]
        if depth > MAX_DEPTH or not out.spend():
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
        elif isinstance(node, ast.Name) and node.id in self.project.lists[mod]:
            parts = [self.project.lists[mod][node.id]]
        elif isinstance(node, ast.Call) and node.args:
            parts = [node.args[0]]
        elif isinstance(node, ast.Attribute) and node.attr == "urls":
            result = [node]
        for part in parts:
            result += self._entries(mod, part, out, depth + 1)
        self._entry_memo[key] = list({id(e): e for e in result}.values())
        return self._entry_memo[key]

    def _walk_urls(self, mod, entries, prefix: str, out: Collector, seen: frozenset) -> None:
        file = self.project.modules[mod][0]
        for node in entries:
            if not out.spend():
                return
            if isinstance(node, ast.Attribute):
                self._drf_routes(mod, node, prefix, out)
                continue
            kind = last_name(node.func) if isinstance(node, ast.Call) else None
            if kind not in ("path", "re_path", "url"):
                continue
            kw = keywords(node)
            route = self.project.string(mod, node.args[0] if node.args else kw.get("route"))
            if route is None:
                continue
            full = join_path(prefix, route if kind == "path" else regex_to_route(route))
            view = node.args[1] if len(node.args) > 1 else kw.get("view")
            if isinstance(view, ast.Call) and last_name(view.func) == "include":
                conf = self._urlconf(mod, view.args[0]) if view.args else None
                included = self.project.string(mod, view.args[0]) if view.args else None
                if conf is None and included in _KNOWN_INCLUDES:  # the framework's own
                    route_of = Route([], route, file, node.lineno, f"{included}")
                    for method, sub_path in _KNOWN_INCLUDES[included]:
                        out.add(method, join_path(full, sub_path), "django", route_of)
                elif conf and conf[0] not in seen and len(seen) < MAX_DEPTH:
                    entries = self._entries(conf[1], conf[2], out)
                    self._walk_urls(conf[1], entries, full, out, seen | {conf[0]})
            elif isinstance(view, ast.Attribute) and self.ninja.api(mod, view.value):
                self.ninja.routes(self.ninja.api(mod, view.value) or ("", ""), full, out)
            elif view is not None:
                methods, fn = self._view(mod, view)
                doc = docstring(fn)
                endpoint = Route(methods, route, file, node.lineno, first_line(doc), doc)
                for method in methods:
                    out.add(method, full, "django", endpoint)

    def _view(self, mod: str, node: ast.AST) -> tuple[list[str], ast.AST | None]:
        """HTTP methods of a view: from ``@api_view`` / ``@require_*`` decorators on a function,
        or the handler methods of a class-based view; "ANY" when unknown."""
        # SomeView.as_view(): the class (a function imported as as_view() has no class).
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "as_view"
        ):
            node = node.func.value
        fn = self.project.definition(mod, node)
        methods: list[str] = []
        if isinstance(fn, ast.ClassDef):
            methods = self._class_methods(mod, fn, 0)
        for dec in fn.decorator_list if isinstance(fn, FUNCTION_NODES) else []:
            name = last_name(dec.func if isinstance(dec, ast.Call) else dec)
            if name in ("api_view", "require_http_methods"):
                kw = keywords(dec)
                given = (
                    dec.args[0]
                    if isinstance(dec, ast.Call) and dec.args
                    else kw.get("http_method_names")
                )
                listed = [m.upper() for m in self.project.strings(mod, given)]
                methods = listed or (["GET"] if name == "api_view" else [])
            if name in _DJANGO_FIXED:
                methods = _DJANGO_FIXED[name]
        return methods or ["ANY"], fn

    def _class_methods(self, mod: str, cls: ast.ClassDef, depth: int) -> list[str]:
        """A class-based view's methods: its own handlers, else its bases' (DRF's generic
        views and Django's, or the project's own classes)."""
        handlers = (n.name for n in cls.body if isinstance(n, FUNCTION_NODES))
        methods = [name.upper() for name in handlers if name in HTTP_METHODS]
        for base in cls.bases:
            name = last_name(base) or ""
            known = _GENERIC_VIEWS.get(name) or _GENERIC_VIEWS.get(name.removesuffix("APIView"))
            if known is not None:
                methods += known
                continue
            parent = self.project.definition(mod, base)
            if isinstance(parent, ast.ClassDef) and parent is not cls and depth < 4:
                methods += self._class_methods(mod, parent, depth + 1)
        return list(dict.fromkeys(methods))

    def _drf_routes(self, mod: str, node: ast.Attribute, prefix: str, out: Collector) -> None:
        """Django REST framework ``router.urls`` as they resolve: a list and a detail route
        per registration, its ``@action`` routes, and a DefaultRouter's API root."""
        found = self.project.resolve(mod, node.value)
        key: tuple = found[1:] if found else ()  # (module, name)
        if key in self.api_roots:  # at the include's prefix, slash or not
            file = self.project.modules[key[0]][0]
            out.add("GET", join_path(prefix, "/"), "django", Route([], "", file, node.lineno))
        if key in self.unslashed:
            out = _Unslashed(out)  # type: ignore[assignment]
        for reg_mod, call in self.drf.get(key, []):
            base = self.project.string(reg_mod, call.args[0])
            viewset = call.args[1] if len(call.args) > 1 else keywords(call).get("viewset")
            cls = self.project.definition(reg_mod, viewset) if viewset is not None else None
            actions, lookup = set(_DRF_ALL), "pk"
            if isinstance(cls, ast.ClassDef):
                own = {n.name for n in cls.body if isinstance(n, FUNCTION_NODES)}
                for b in cls.bases:
                    own |= _DRF_BASES.get(last_name(b) or "", set())
                actions = own & actions or actions
                lookup = next(
                    (
                        s.value.value
                        for s in cls.body
                        if isinstance(s, ast.Assign)
                        and last_name(s.targets[0]) == "lookup_field"
                        and isinstance(s.value, ast.Constant)
                    ),
                    lookup,
                )
            doc = docstring(cls)
            file = self.project.modules[reg_mod][0]
            route = Route([], base or "", file, call.lineno, first_line(doc), doc)
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
            if base is not None and isinstance(cls, ast.ClassDef):
                self._drf_actions(reg_mod, cls, join_path(prefix, base + "/"), detail, out)

    def _drf_actions(
        self, mod: str, cls: ast.ClassDef, base: str, detail: str, out: Collector
    ) -> None:
        """A viewset's ``@action`` methods: ``base/<url_path>/`` or, with ``detail=True``,
        ``base/<lookup>/<url_path>/``, for each of their ``methods`` (GET by default)."""
        file = next(
            (f for f, nodes in self.project.modules.values() if any(n is cls for n in nodes)),
            self.project.modules[mod][0],
        )
        for fn in cls.body:
            if not isinstance(fn, FUNCTION_NODES):
                continue
            for decorator in fn.decorator_list:
                if not isinstance(decorator, ast.Call) or last_name(decorator.func) != "action":
                    continue
                given = keywords(decorator)
                detail_given = given.get("detail")
                is_detail = isinstance(detail_given, ast.Constant) and bool(detail_given.value)
                url_path = (
                    self.project.string(mod, given["url_path"]) if "url_path" in given else None
                )
                methods = [m.upper() for m in self.project.strings(mod, given.get("methods"))]
                doc = docstring(fn)
                route = Route([], "", file, fn.lineno, first_line(doc), doc)
                path = join_path(base, detail if is_detail else "", (url_path or fn.name) + "/")
                for method in methods or ["GET"]:
                    out.add(method, path, "django", route)


# URL modules of Django and DRF that projects include (not in the upload): what they serve.
_AUTH_VIEWS = [("GET", "login/"), ("POST", "login/"), ("POST", "logout/")]
_KNOWN_INCLUDES: dict[str, list[tuple[str, str]]] = {
    "rest_framework.urls": _AUTH_VIEWS,
    "django.contrib.auth.urls": [
        *_AUTH_VIEWS,
        ("GET", "password_change/"),
        ("POST", "password_change/"),
        ("GET", "password_change/done/"),
        ("GET", "password_reset/"),
        ("POST", "password_reset/"),
        ("GET", "password_reset/done/"),
        ("GET", "reset/<uidb64>/<token>/"),
        ("POST", "reset/<uidb64>/<token>/"),
        ("GET", "reset/done/"),
    ],
}


def regex_to_route(regex: str) -> str:
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


class _Unslashed:
    """Routes as a ``DefaultRouter(trailing_slash=False)`` serves them: no final slash."""

    def __init__(self, out: Collector) -> None:
        self._out = out

    def add(self, method: str, path: str, *rest: Any) -> None:
        self._out.add(method, path.rstrip("/") or "/", *rest)
