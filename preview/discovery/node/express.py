"""Endpoint discovery in Express apps (JavaScript and TypeScript), and in the frameworks that
share its router shape (Koa's koa-router, Hono), without running them.

Each file is tokenised (comments, strings, template and regex literals told apart, so none
can fake a route) and routers, imports, exports, routes and ``use()`` mounts are recognised by
their token shapes. Imports (``require`` and ``import``) are followed between the
generation's files, relative ones and those the app's aliases name (:mod:`.aliases`), so a
router mounted in another module gets its full prefix; the result is
expanded through the shared route graph of :mod:`preview.discovery.graph`.

Koa: ``new Router({ prefix: "/api" })`` gives the router its own prefix. Hono: ``new
Hono()`` (or ``new Hono<Env>().basePath("/api")``) is a router, ``app.route("/users", users)``
mounts one; TypeScript's type arguments on a call (``app.post<{ Body: X }>("/x")``) are skipped.

A module whose default export is a function making one router (``export default ({ db })
=> { let api = Router(); …; return api }``) exports that router, and ``use("/x", api(o))``
mounts what the call returns. resource-router-middleware's ``resource({ … })`` is a router
of the handlers it names (``index``: ``GET /``, ``read``: ``GET /:<id>`` …).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from preview.discovery.graph import Collector, Route, Router, expand_routers
from preview.discovery.node.aliases import ImportAliases
from preview.discovery.node.hono import (
    HonoModules,
    HonoScan,
    array_items,
    arrow_body,
    route_options,
)
from preview.discovery.node.tokens import (
    JS_SUFFIXES,
    Tokens,
    after_type_arguments,
    js_tokens,
    pairs,
)

__all__ = ["Script", "express_endpoints", "resolve_module", "scan_script"]

_EXPRESS_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "all"})
_EXPRESS_NAMES = frozenset({"app", "router", "api", "server", "routes"})
_HONO_CLASSES = frozenset({"Hono", "OpenAPIHono"})
_MAX_ARG_TOKENS = 64  # read of an import list or a use() call: they are short
_FUNCTION_WORDS = frozenset({"function", "async", "class"})
_RESOURCE = "resource-router-middleware"
# Its handler names: the method each is routed as, on "/" or on "/:<id>" (keyed).
_RESOURCE_METHODS = {
    "index": "GET",
    "list": "GET",
    "create": "POST",
    "post": "POST",
    "read": "GET",
    "get": "GET",
    "update": "PUT",
    "put": "PUT",
    "modify": "PATCH",
    "patch": "PATCH",
    "delete": "DELETE",
    "del": "DELETE",
}
_RESOURCE_KEYED = frozenset({"get", "read", "put", "update", "patch", "modify", "del", "delete"})


@dataclass
class Script:
    """What one JavaScript/TypeScript file declares, by local name, before resolution."""

    created: dict[str, bool] = field(default_factory=dict)  # name -> is an app (express())
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (spec, export)
    exports: dict[str, str] = field(default_factory=dict)  # export name -> local name
    routes: list[tuple[str, list[str], str, int]] = field(default_factory=list)
    mounts: list[tuple[str, str, list[tuple], int]] = field(default_factory=list)
    bases: dict[str, str] = field(default_factory=dict)  # name -> its own prefix
    factory: bool = False  # its default export is a function (``export default (o) => …``)
    hono: HonoScan = field(default_factory=HonoScan)  # factories, createRoute, arrays


def express_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the Express apps' and routers' endpoints declared in the JavaScript / TypeScript
    files among ``files`` to ``out``, with ``app.use(prefix, router)`` across modules."""
    aliases = ImportAliases(files)  # "@/api/user/userRouter": tsconfig's paths, say
    env_files = {p: files[p] for p in _ENV_FILES if p in files}
    files = {p: d for p, d in files.items() if p.endswith(JS_SUFFIXES) and not p.endswith(".d.ts")}
    scripts: dict[str, Script] = {}
    for path in sorted(files):
        try:
            text = files[path].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        scripts[path] = scan_script(js_tokens(text))
    routers = {
        (path, name): Router("express", prefix=script.bases.get(name, ""), is_app=is_app)
        for path, script in scripts.items()
        for name, is_app in script.created.items()
    }
    _hono_routers(scripts, aliases, routers, _environment(env_files))
    for path, script in scripts.items():
        for obj, methods, route_path, line in script.routes:
            key = _js_router(scripts, aliases, routers, path, obj)
            if key is None and (obj in _EXPRESS_NAMES or obj.lower().endswith("router")):
                key = (path, obj)  # e.g. a function parameter: an app of its own
                routers.setdefault(key, Router("express", is_app=True))
            if key is not None:
                routers[key].routes.append(Route(methods, route_path, path, line))
    for path, script in scripts.items():
        for obj, prefix, refs, line in script.mounts:
            parent = _js_router(scripts, aliases, routers, path, obj)
            if parent is None and obj in _EXPRESS_NAMES:  # e.g. Hono's initApp(app) { … }
                parent = (path, obj)
                routers.setdefault(parent, Router("express", is_app=True))
            if parent is None:
                continue
            for spec, export in refs:
                for child in _mounted(scripts, aliases, routers, path, spec, export, line):
                    if child is not None and child != parent:
                        routers[parent].includes.append((child, prefix, []))
    expand_routers(routers, out)


def _hono_routers(
    scripts: dict[str, Script], aliases: ImportAliases, routers: dict, environment: dict
) -> None:
    """Routers made by the app's factories, and the routes ``.openapi`` serves from
    another module's ``createRoute`` (:mod:`.hono`), added to ``routers`` and the
    scripts' routes before the routes are placed."""
    modules = HonoModules(
        {path: script.hono for path, script in scripts.items()},
        {path: script.imports for path, script in scripts.items()},
        resolve_module,
        aliases,
    )
    made = modules.factories()
    for path, script in scripts.items():
        for name, callee in script.hono.calls.items():
            if modules.function_of(path, callee) in made:
                base = _prefix(modules.base_of(path, callee), environment)
                routers.setdefault((path, name), Router("express", prefix=base))
        for obj, namespace, ref, line in script.hono.deferred:
            spec, export = script.imports.get(namespace or ref, ("", ""))  # "": none
            target = resolve_module(scripts, aliases, path, spec) if spec else None
            if namespace is None and target is None:
                found = script.hono.route_defs.get(ref)
            elif target is not None and (export == "*") is (namespace is not None):
                found = scripts[target].hono.route_defs.get(ref if namespace else export)
            else:
                found = None
            if found is not None:
                script.routes.append((obj, [found[0]], found[1], line))


# Where a Hono factory's ``basePath(env.API_PREFIX)`` is read from: the app's .env, else
# its example, as the preview's environment is made (builds.configdefaults).
_ENV_FILES = (".env", ".env.example", "env.example", ".env.sample", "example.env", ".env.local")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=\s*(.*?)\s*$")


def _environment(env_files: dict[str, bytes]) -> dict[str, str]:
    """The variables of the first of ``_ENV_FILES`` the upload has (quotes taken off)."""
    for name in _ENV_FILES:
        if name in env_files:
            found = {}
            for line in env_files[name].decode("utf-8", "replace").splitlines():
                if (m := _ENV_LINE.match(line)) is not None and not line.lstrip().startswith("#"):
                    found[m.group(1)] = m.group(2).strip("'\"")
            return found
    return {}


def _prefix(base: str | None, environment: dict[str, str]) -> str:
    """A factory's base path as a route prefix: ``api`` is ``/api`` (Hono's mergePath);
    a variable's, its value in ``environment`` ("" where it has none)."""
    if base is not None and base.startswith("$"):
        base = environment.get(base[1:])
    base = (base or "").strip().strip("/")
    return f"/{base}" if base else ""


def _mounted(scripts, aliases, routers, path, spec, name, line) -> list[tuple[str, str] | None]:
    """The routers a mount's argument names: one, or each of an array's when it is the
    parameter of ``array.forEach((name) => …)`` around it (the array here or imported)."""
    array = scripts[path].hono.array_of(name, line) if spec is None else None
    if array is None:
        return [_js_router(scripts, aliases, routers, path, name, spec)]
    where, items = path, scripts[path].hono.arrays.get(array)
    if items is None:
        spec, export = scripts[path].imports.get(array, (None, None))
        where = resolve_module(scripts, aliases, path, spec) if spec else None
        if where is None or export is None:
            return []
        local = scripts[where].exports.get(export, None if export == "default" else export)
        items = scripts[where].hono.arrays.get(local or "", [])
    return [_js_router(scripts, aliases, routers, where, item) for item in items]


def _js_router(scripts, aliases, routers, path, name, spec=None, depth=0) -> tuple[str, str] | None:
    """The router ``name`` refers to in ``path`` (or export ``name`` of module ``spec``)."""
    if spec is None:
        if (path, name) in routers:
            return (path, name)
        spec, name = scripts[path].imports.get(name, (None, None))
    target = resolve_module(scripts, aliases, path, spec) if spec else None
    if target is None or name is None or depth > 8:
        return None
    local = scripts[target].exports.get(name, None if name == "default" else name)
    return _js_router(scripts, aliases, routers, target, local, None, depth + 1) if local else None


def resolve_module(scripts: dict, aliases: ImportAliases, path: str, spec: str) -> str | None:
    """The file an import specifier names (relative, or by the app's aliases), trying the
    usual extensions and index."""
    if spec.startswith("."):
        bases = [posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))]
    else:
        bases = aliases.targets(path, spec)
    for base in bases:
        stem = base.rsplit(".", 1)[0] if base.endswith(JS_SUFFIXES) else base
        candidates = [
            base,
            *(stem + s for s in JS_SUFFIXES),
            *(base + "/index" + s for s in JS_SUFFIXES),
        ]
        found = next((c for c in candidates if c in scripts), None)
        if found is not None:
            return found
    return None


def scan_script(tokens: Tokens) -> Script:
    """Recognise routers, imports, exports, routes and mounts by their token shapes."""
    script = Script()
    closing = pairs(tokens)

    def value(index: int) -> str | None:
        return tokens[index][1] if 0 <= index < len(tokens) else None

    def kind(index: int) -> str | None:
        return tokens[index][0] if 0 <= index < len(tokens) else None

    for i, (tkind, name, _) in enumerate(tokens):
        if tkind != "id" or value(i - 1) == ".":
            continue
        if name == "import":
            _scan_import(i, script, closing, value, kind)
        elif name == "module" and [value(i + k) for k in (1, 2, 3)] == [".", "exports", "="]:
            if kind(i + 4) == "id" and value(i + 4) not in _FUNCTION_WORDS:
                script.exports["default"] = tokens[i + 4][1]
            else:
                script.factory = True  # module.exports = (app) => …
        elif name == "export" and value(i + 1) == "default":
            if kind(i + 2) == "id" and value(i + 2) not in _FUNCTION_WORDS:
                script.exports["default"] = tokens[i + 2][1]
            else:
                script.factory = True
                k = i + 2 + (value(i + 2) == "async")
                if value(k) == "function" and kind(k + 1) == "id":
                    script.hono.default_function = value(k + 1)
        if name == "function" and kind(i + 1) == "id":  # function createRouter() { … }
            script.hono.maker(tokens[i + 1][1], tokens, closing, arrow_body(tokens, closing, i))
        if script.imports.get(name, ("",))[0] == _RESOURCE and value(i + 1) == "(":
            _scan_resource(tokens, closing, i, script)
        j = i + 1
        if value(j) == ":" and value(i - 1) in ("const", "let", "var"):  # TypeScript type
            j += 2
            while value(j) == "." and kind(j + 1) == "id":
                j += 2
        if value(j) == "=" and value(j + 1) not in ("=", ">"):
            new = value(j + 1) == "new"  # `new Router()`, `new Hono<Env>()`
            rhs = [value(j + k) for k in range(1 + new, 8 + new)]
            if rhs[:4] == ["require", "(", "express", ")"]:  # require("express")() / .Router()
                rhs = ["express", *rhs[4:]]
            if rhs[:4] == ["express", ".", "Router", "("] or rhs[:2] == ["Router", "("]:
                script.created[name] = False
                opening = j + new + (4 if rhs[0] == "express" else 2)
                if prefix := _option(tokens, closing, opening, "prefix"):  # koa-router
                    script.bases[name] = prefix
            elif rhs[0] in _HONO_CLASSES and new:
                opening = after_type_arguments(tokens, j + 3)
                if opening in closing and value(opening) == "(":
                    script.created[name] = False  # a root unless another mounts it
                    after = closing[opening] + 1
                    chained = [value(after + k) for k in range(3)] + [kind(after + 3)]
                    if chained == [".", "basePath", "(", "str"]:
                        script.bases[name] = tokens[after + 3][1]
            elif rhs[:2] == ["express", "("]:
                script.created[name] = True
            elif rhs[:2] == ["require", "("] and kind(j + 3) == "str" and rhs[3] == ")":
                dotted = value(j + 5) == "." and kind(j + 6) == "id"
                script.imports[name] = (tokens[j + 3][1], tokens[j + 6][1] if dotted else "default")
            elif not new and kind(j + 1) == "id" and value(j + 2) == "(" and j + 2 in closing:
                _scan_call(tokens, closing, script, name, j + 1)  # const router = f(…)…
            elif value(j + 1) == "[" and (items := array_items(tokens, j + 1)) is not None:
                script.hono.arrays[name] = items
            script.hono.maker(name, tokens, closing, arrow_body(tokens, closing, j + 1))
        _scan_chain(tokens, closing, script, name, i + 1)
    if "default" not in script.exports and script.factory and len(script.created) == 1:
        script.exports["default"] = next(iter(script.created))  # the router it makes
    return script


def _scan_call(tokens: list, closing: dict, script: Script, name: str, k: int) -> None:
    """``name = callee(…)`` with ``callee`` at ``k``: a route's declaration
    (``createRoute({…})``), else a call whose result may be a router (:mod:`.hono`),
    with the calls chained on it (``createRouter().openapi(…)``)."""
    callee = tokens[k][1]
    if callee == "createRoute":
        if (found := route_options(tokens, closing, k + 1)) is not None:
            script.hono.route_defs[name] = found
    elif callee not in ("require", "express", "Router"):
        script.hono.calls[name] = callee
        _scan_chain(tokens, closing, script, name, closing[k + 1] + 1)


def _scan_chain(tokens: list, closing: dict, script: Script, obj: str, p: int) -> None:
    """The calls chained on ``obj`` from token ``p`` (a ``.``): routes, mounts,
    ``.openapi(route, handler)`` and ``.forEach((router) => …)``. The first call's line
    is the object's (``app`` above ``.route("/books")``), the others' their own."""

    def value(index: int) -> str | None:
        return tokens[index][1] if 0 <= index < len(tokens) else None

    def kind(index: int) -> str | None:
        return tokens[index][0] if 0 <= index < len(tokens) else None

    while value(p) == "." and kind(p + 1) == "id":
        opening = after_type_arguments(tokens, p + 2)  # `app.post<{ Body: X }>(...)`
        if opening not in closing or value(opening) != "(":
            return
        verb, line = value(p + 1), tokens[p + 1 if tokens[p - 1][1] == ")" else p - 1][2]
        path = value(opening + 1) if kind(opening + 1) == "str" else None
        after = closing[opening] + 1
        if verb in _EXPRESS_VERBS and path and path[0] in "/*" and value(opening + 2) == ",":
            script.routes.append((obj, ["ANY" if verb == "all" else verb.upper()], path, line))
        elif verb == "route" and path is not None and value(opening + 2) == ")":
            methods, after = [], opening + 3
            while value(after) == "." and value(after + 1) in _EXPRESS_VERBS:
                if after + 2 not in closing:
                    break
                methods.append("ANY" if value(after + 1) == "all" else tokens[after + 1][1].upper())
                after = closing[after + 2] + 1
            script.routes.append((obj, methods, path, line))
        elif verb == "use" or (verb == "route" and value(opening + 2) == ","):
            # Express's use([prefix,] router), Hono's route(prefix, app)
            last = min(closing[opening], opening + 1 + _MAX_ARG_TOKENS)  # mounts are short
            script.mounts.append((obj, *_scan_use(tokens[opening + 1 : last]), line))
        elif verb in ("doc", "doc31") and path and path[0] == "/":  # zod-openapi's document
            script.routes.append((obj, ["GET"], path, line))
        elif (found := script.hono.call(tokens, closing, obj, verb, opening)) is not None:
            script.routes.append((obj, [found[0]], found[1], line))  # .openapi(createRoute(…))
        p = after


def _scan_resource(tokens: list, closing: dict, i: int, script: Script) -> None:
    """resource-router-middleware's ``resource({ id: "facet", index() {…}, read() {…} })``:
    a router whose routes are the handlers the object names, on ``/`` or ``/:<id>``."""
    start = i + 2
    if start not in closing or tokens[start][1] != "{":
        return
    keys: list[str] = []
    param = "id"
    k = start + 1
    while k < closing[start]:
        word, follow = tokens[k][1], tokens[k + 1][1] if k + 1 < len(tokens) else None
        after = tokens[k - 1][1] in ("{", ",", "async")  # a key's place in the object
        if tokens[k][0] == "id" and after and follow in ("(", ":"):
            keys.append(word)
            if word == "id" and follow == ":" and tokens[k + 2][0] == "str":
                param = tokens[k + 2][1]
        k = closing[k] + 1 if k in closing else k + 1
    name = f"resource@{tokens[i][2]}"
    script.created[name] = False
    for key in keys:
        if (method := _RESOURCE_METHODS.get(key)) is not None:
            path = f"/:{param}" if key in _RESOURCE_KEYED else "/"
            script.routes.append((name, [method], path, tokens[i][2]))


def _scan_import(i: int, script: Script, closing: dict, value, kind) -> None:
    """``import x from "m"``, ``import x, {a as b} from "m"``, ``import {a} from "m"``."""
    names: list[tuple[str, str]] = []
    k = i + 1
    if value(k) == "*" and value(k + 1) == "as" and kind(k + 2) == "id":  # a namespace
        names.append(("*", value(k + 2)))
        k += 3
    elif kind(k) == "id" and value(k) not in ("from", "type"):
        names.append(("default", value(k)))
        k += 2 if value(k + 1) == "," else 1
    if value(k) == "{":
        end = closing.get(k, k)
        for j in range(k + 1, end if end - k < _MAX_ARG_TOKENS else k):
            if kind(j) == "id" and "as" not in (value(j), value(j - 1)):
                alias = value(j + 2) if value(j + 1) == "as" else None
                names.append((value(j), alias or value(j)))
        k = end + 1
    if value(k) == "from" and kind(k + 1) == "str":
        for export, local in names:
            script.imports[local] = (value(k + 1), export)


def _scan_use(args_tokens: list) -> tuple[str, list[tuple[str | None, str]]]:
    """``x.use([prefix,] a, require("./b"), ...)``: the prefix, and candidate routers as
    (module specifier or None, name)."""
    args: list[list] = [[]]
    depth = 0
    for token in args_tokens:
        if token[0] == "punct" and token[1] == "," and depth == 0:
            args.append([])
            continue
        depth += (token[1] in "([{") - (token[1] in ")]}") if token[0] == "punct" else 0
        args[-1].append(token)
    prefix = args.pop(0)[0][1] if len(args[0]) == 1 and args[0][0][0] == "str" else ""
    refs: list[tuple[str | None, str]] = []
    for arg in args:
        words = [t[1] for t in arg]
        if len(arg) == 1 and arg[0][0] == "id":
            refs.append((None, words[0]))
        elif (
            len(arg) > 2
            and arg[0][0] == "id"
            and words[:2] != ["require", "("]
            and (words[1] == "(" and words[-1] == ")")
        ):
            refs.append((None, words[0]))  # a factory's call: api({ config, db })
        elif words[:2] == ["require", "("] and len(arg) in (4, 6) and arg[2][0] == "str":
            dotted = len(arg) == 6 and words[4] == "."
            if words[3] == ")" and (len(arg) == 4 or dotted):
                refs.append((words[2], words[5] if dotted else "default"))
    return prefix, refs


def _option(tokens: list, closing: dict, opening: int, key: str) -> str | None:
    """The string ``key`` has in the options object a call passes first: ``({ key: "x" })``."""
    start = opening + 1
    if opening not in closing or start not in closing or tokens[start][1] != "{":
        return None
    for j in range(start + 1, min(closing[start], start + _MAX_ARG_TOKENS) - 2):
        if tokens[j][1] == key and tokens[j + 1][1] == ":" and tokens[j + 2][0] == "str":
            return tokens[j + 2][1]
    return None
