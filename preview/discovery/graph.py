"""The route graph every source scanner builds, and the endpoint dicts it turns into.

A scanner (Python in :mod:`preview.discovery.python`, Node in :mod:`preview.discovery.node`)
records :class:`Router` objects holding :class:`Route` declarations and the routers they
include; :func:`expand_routers` walks that graph, joining prefixes with :func:`join_path`, and
hands each endpoint to a :class:`Collector`, which normalises path-parameter syntax and bounds
the count and the work. The limits shared by all scanners live here too.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

__all__ = [
    "HTTP_METHODS",
    "MAX_DEPTH",
    "MAX_ENDPOINTS",
    "MAX_WORK",
    "PATH_PARAMS",
    "Collector",
    "Route",
    "Router",
    "expand_routers",
    "join_path",
]

MAX_ENDPOINTS = 2000
# Include graphs can fan out (one router included under many prefixes, nested), so walking
# one costs at most this many steps: an adversarial graph cannot take exponential time.
MAX_WORK = 100_000
MAX_DEPTH = 32  # include nesting, name-resolution hops, expression nesting
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
# Each framework's path-parameter syntax, by framework name.
PATH_PARAMS = {
    "fastapi": re.compile(r"\{(?P<name>\w+)(?::(?P<conv>\w+))?\}"),
    "flask": re.compile(r"<(?:(?P<conv>\w+)(?:\([^)>]*\))?:)?(?P<name>\w+)>"),
    "express": re.compile(r":(?P<name>[A-Za-z_$][\w$]*)(?:\([^)]*\))?[?*+]?"),
}
PATH_PARAMS["django"] = PATH_PARAMS["flask"]
# Feathers' REST routes are Express's or Koa's (``:id``); marked apart in an endpoint's
# ``source`` because an app's route table may not hold them (``endpoints_from_routes``).
PATH_PARAMS["feathers"] = PATH_PARAMS["express"]
_CONVERTER_TYPES = {"int": "integer", "float": "number"}


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
        self.work = MAX_WORK

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

        path = PATH_PARAMS[framework].sub(to_braces, raw_path)
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
        if len(seen) > MAX_DEPTH or not out.spend(1 + len(router.routes)):
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
            # Flask: register_blueprint's url_prefix replaces the blueprint's own.
            if sub.framework == "flask" and edge_prefix is not None:
                parts = (edge_prefix,)
            else:
                parts = (edge_prefix or "", sub.prefix)
            walk(child, join_path(prefix, *parts), tags + edge_tags, seen | {child})

    for key in sorted(k for k, r in routers.items() if r.is_app or k not in included):
        walk(key, routers[key].prefix, [], frozenset({key}))
