"""Hono apps as generators lay them out (the ``@hono/zod-openapi`` starters): routers made
by the app's own factory, routes declared by ``createRoute`` and served by ``.openapi``,
routers mounted over an array. Read from the tokens :mod:`.express` scans.

* **Factories.** ``export function createRouter() { return new OpenAPIHono(…) }``, and
  ``createApp() { const app = createRouter(); …; return app }`` calling it: a function
  whose body makes a Hono (``new Hono``/``new OpenAPIHono``) or calls such a function,
  in its module or through its imports. ``const router = createRouter()`` is a router,
  under the factory's ``new Hono().basePath(…)`` (or that of a factory it calls): its
  literal, or ``env.X`` / ``process.env.X`` as the app's .env (else its example) gives X.
* **OpenAPI routes.** ``router.openapi(createRoute({ method: "get", path: "/tasks" }),
  handler)``, or ``router.openapi(routes.list, handlers.list)`` with ``export const list =
  createRoute({ … })`` in the module ``routes`` names (``import * as routes``). Their
  paths are OpenAPI's (``/tasks/{id}``), as the app's own document gives them.
* **Chains.** ``createRouter().openapi(…).openapi(…)``: each call of a chain is the
  router's (:mod:`.express` reads them).
* **Arrays.** ``const routes = [index, tasks]; routes.forEach((route) => app.route("/",
  route))``, the array in this module or imported (``export const adminRoutes = […]``):
  each of its routers is mounted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from preview.discovery.node.tokens import Tokens, after_type_arguments

if TYPE_CHECKING:
    from preview.discovery.node.aliases import ImportAliases

__all__ = [
    "HonoModules",
    "HonoScan",
    "array_items",
    "arrow_body",
    "base_path",
    "route_options",
]

# express.resolve_module: (scripts, aliases, importing module, specifier) -> module
ResolveModule = Callable[[dict, "ImportAliases", str, str], "str | None"]
_HONO_CLASSES = frozenset({"Hono", "OpenAPIHono"})
_MAX_ITEMS_TOKENS = 256  # an array of routers: a few dozen names
_MAX_DEPTH = 8  # imports followed from one name


@dataclass
class HonoScan:
    """What one module declares of the shapes above, by local name."""

    makers: dict[str, tuple[bool, frozenset[str]]] = field(default_factory=dict)
    # name -> (makes a Hono itself, the plain functions its body calls)
    calls: dict[str, str] = field(default_factory=dict)  # ``const x = f(…)``: x -> f
    route_defs: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (method, path)
    deferred: list[tuple[str, str | None, str, int]] = field(default_factory=list)
    # ``obj.openapi(ns.name, …)``: (obj, ns or None, name, line), resolved across modules
    arrays: dict[str, list[str]] = field(default_factory=dict)  # ``const a = [x, y]``
    each: list[tuple[str, str, int, int]] = field(default_factory=list)
    # ``arr.forEach((p) => …)``: (p, arr, its first and last lines)
    default_function: str | None = None  # ``export default function createApp()``
    # A maker's ``new Hono().basePath(…)``: name -> the literal, or ``$NAME`` for a variable
    # of the environment's (``basePath(env.API_PREFIX)``, ``process.env.API_PREFIX``)
    bases: dict[str, str] = field(default_factory=dict)

    def maker(self, name: str, tokens: Tokens, closing: dict[int, int], body: range | None) -> None:
        """Record the function ``name`` whose body is the tokens ``body`` (None: not
        a function)."""
        if body is None:
            return
        direct, called = False, set()
        for k in body:
            kind, value, _ = tokens[k]
            if kind != "id":
                continue
            if value == "new" and k + 1 < len(tokens) and tokens[k + 1][1] in _HONO_CLASSES:
                direct = True
                if (base := base_path(tokens, closing, k + 2)) is not None:
                    self.bases.setdefault(name, base)
            elif tokens[k - 1][1] != "." and k + 1 in closing and tokens[k + 1][1] == "(":
                called.add(value)
        self.makers[name] = (direct, frozenset(called))

    def array_of(self, param: str, line: int) -> str | None:
        """The array whose ``forEach`` callback, around ``line``, names ``param``."""
        around = [e for e in self.each if e[0] == param and e[2] <= line <= e[3]]
        return min(around, key=lambda e: e[3] - e[2])[1] if around else None

    def call(
        self, tokens: Tokens, closing: dict[int, int], obj: str, verb: str | None, opening: int
    ) -> tuple[str, str] | None:
        """``obj.verb(…)``, its ``(`` at ``opening``: ``.openapi(route, handler)`` (the
        route's (METHOD, path) when declared there, else recorded to resolve) and
        ``.forEach((router) => …)``."""
        arg = opening + 1
        if arg + 3 >= len(tokens):
            return None
        first, then = tokens[arg], tokens[arg + 1][1]
        if verb == "openapi":
            if first[1] == "createRoute" and then == "(":
                return route_options(tokens, closing, arg + 1)
            if first[0] == "id" and then == "." and tokens[arg + 3][1] == ",":
                self.deferred.append((obj, first[1], tokens[arg + 2][1], first[2]))
            elif first[0] == "id" and then == ",":
                self.deferred.append((obj, None, first[1], first[2]))
        elif verb == "forEach":
            if first[1] == "(" and arg in closing:  # ((route) => …)
                param, arrow = then, closing[arg] + 1
            else:  # (route => …)
                param, arrow = first[1], arg + 1
            if param and [t[1] for t in tokens[arrow : arrow + 2]] == ["=", ">"]:
                last = tokens[closing[opening]][2] if opening in closing else first[2]
                self.each.append((param, obj, tokens[opening][2], last))
        return None


def base_path(tokens: Tokens, closing: dict[int, int], k: int) -> str | None:
    """The ``.basePath(…)`` chained on the ``new Hono<…>(…)`` whose type arguments or
    ``(`` are at ``k``: its literal, ``$NAME`` for ``env.NAME`` or ``process.env.NAME``
    (a variable of the app's environment), None for none or another argument."""
    k = after_type_arguments(tokens, k)
    if k not in closing or tokens[k][1] != "(":
        return None
    after = closing[k] + 1
    words = [t[1] for t in tokens[after : after + 3]]
    if words != [".", "basePath", "("] or after + 2 not in closing:
        return None
    inside = tokens[after + 3 : closing[after + 2]]
    if len(inside) == 1 and inside[0][0] == "str":
        return inside[0][1]
    names = [t[1] for t in inside]
    if len(names) >= 3 and names[-2] == "." and names[:-2] in (["env"], ["process", ".", "env"]):
        return f"${names[-1]}" if inside[-1][0] == "id" else None
    return None


def arrow_body(tokens: Tokens, closing: dict[int, int], k: int) -> range | None:
    """The body of the function whose definition starts at token ``k`` (after a name's
    ``=``): ``(…) => …``, ``async (…) => …``, ``p => …``, ``function (…) { … }``."""
    if k < len(tokens) and tokens[k][1] == "async":
        k += 1
    if k < len(tokens) and tokens[k][1] == "function":
        k += 1 + (k + 1 < len(tokens) and tokens[k + 1][0] == "id")
        if k not in closing:
            return None
        brace = closing[k] + 1
        return range(brace, closing[brace]) if brace in closing else None
    if k in closing and tokens[k][1] == "(":
        k = closing[k] + 1
    elif k < len(tokens) and tokens[k][0] == "id":
        k += 1
    else:
        return None
    while k < len(tokens) and tokens[k][1] == ":":  # a return type: `(): Hono<Env> =>`
        k += 1
        while k < len(tokens) and tokens[k][1] not in ("=", "{"):
            k = closing.get(k, k) + 1
    if k + 1 >= len(tokens) or (tokens[k][1], tokens[k + 1][1]) != ("=", ">"):
        return None
    start = k + 2
    if start in closing and tokens[start][1] == "{":
        return range(start, closing[start])
    return range(start, min(start + _MAX_ITEMS_TOKENS, len(tokens)))  # an expression


def route_options(tokens: Tokens, closing: dict[int, int], opening: int) -> tuple[str, str] | None:
    """``createRoute({ method: "get", path: "/x", … })``'s (METHOD, path), from the
    object's own keys (not those nested in ``request`` or ``responses``)."""
    start = opening + 1
    if opening not in closing or start not in closing or tokens[start][1] != "{":
        return None
    found: dict[str, str] = {}
    k = start + 1
    while k < closing[start]:
        kind, value, _ = tokens[k]
        if kind == "id" and tokens[k + 1][1] == ":" and tokens[k + 2][0] == "str":
            found.setdefault(value, tokens[k + 2][1])
        k = closing[k] + 1 if k in closing else k + 1
    method, path = found.get("method"), found.get("path")
    if not method or not path or not path.startswith("/"):
        return None
    return method.upper(), path


def array_items(tokens: Tokens, k: int) -> list[str] | None:
    """``[a, b, c]`` from its ``[`` at ``k``: its names; None unless it is only names."""
    items: list[str] = []
    for j in range(k + 1, min(k + _MAX_ITEMS_TOKENS, len(tokens))):
        kind, value, _ = tokens[j]
        if value == "]":
            return items
        if kind == "id" and tokens[j + 1][1] in (",", "]"):
            items.append(value)
        elif value != ",":
            return None
    return None


@dataclass(frozen=True)
class HonoModules:
    """Every module's scan and imports, and how an import is followed (``resolve``:
    ``express.resolve_module``, through the app's ``aliases``)."""

    scans: dict[str, HonoScan]
    imports: dict[str, dict[str, tuple[str, str]]]
    resolve: ResolveModule
    aliases: ImportAliases

    def factories(self) -> set[tuple[str, str]]:
        """The (module, function) pairs that make a Hono (the module doc): those whose
        body does, then, until none is added, those calling one of them."""
        made = {
            (path, name)
            for path, scan in self.scans.items()
            for name, (direct, _) in scan.makers.items()
            if direct
        }
        grew = True
        while grew:
            grew = False
            for path, scan in self.scans.items():
                for name, (_, called) in scan.makers.items():
                    if (path, name) not in made and any(
                        self.function_of(path, c) in made for c in called
                    ):
                        made.add((path, name))
                        grew = True
        return made

    def base_of(self, path: str, name: str, depth: int = 0) -> str | None:
        """The base path of the Hono the function ``name`` of module ``path`` makes: its
        own ``basePath``, else that of the first factory it calls that has one."""
        found = self.function_of(path, name)
        if found is None or depth > _MAX_DEPTH:
            return None
        scan = self.scans[found[0]]
        if found[1] in scan.bases:
            return scan.bases[found[1]]
        for called in sorted(scan.makers.get(found[1], (False, frozenset()))[1]):
            if (base := self.base_of(found[0], called, depth + 1)) is not None:
                return base
        return None

    def function_of(self, path: str, name: str) -> tuple[str, str] | None:
        """Where the function ``name`` of module ``path`` is defined: (module, its name)."""
        for _ in range(_MAX_DEPTH):
            scan = self.scans[path]
            if name in scan.makers:
                return path, name
            spec, export = self.imports[path].get(name) or (None, None)
            target = self.resolve(self.scans, self.aliases, path, spec) if spec else None
            if target is None or export is None:
                return None
            path = target
            default = self.scans[target].default_function or ""
            name = default if export == "default" else export
        return None
