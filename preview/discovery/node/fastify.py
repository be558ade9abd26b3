"""Endpoint discovery for the Node frameworks that declare routes by call or by object,
without running them: Fastify (``app.get('/x', …)``, ``app.route({ method, url })`` on an
instance or on the one a plugin function receives, each plugin under the prefixes of the
``register`` calls that mount it, or of the directories below ``routes/`` where
``@fastify/autoload`` loads it) and hapi (``server.route({ method, path })`` or
``server.route([{ … }, { … }])``).
"""

from __future__ import annotations

from preview.discovery.graph import Collector, Route, Router, expand_routers
from preview.discovery.node.aliases import ImportAliases
from preview.discovery.node.express import resolve_module, scan_script
from preview.discovery.node.scopes import file_functions, owner_of
from preview.discovery.node.tokens import (
    Tokens,
    after_type_arguments,
    is_punct,
    js_tokens,
    pairs,
    string_at,
    string_constants,
)

__all__ = ["fastify_endpoints", "hapi_endpoints"]

_SUFFIXES = (".ts", ".mts", ".js", ".mjs", ".cjs")
_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
_MAX_OBJECT_TOKENS = 400  # one route's options object
_MAX_ROUTES_PER_CALL = 200
_INSTANCE_NAMES = frozenset({"fastify", "app", "server", "instance", "router", "api"})


def fastify_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the Fastify routes declared among ``files`` to ``out``: on an instance
    (``Fastify()``) or on the one a plugin function receives, each plugin under the
    prefixes of the ``register(plugin, { prefix })`` calls that mount it (across modules,
    through relative imports and the app's aliases), or of ``@fastify/autoload``."""
    manifests = [data for path, data in files.items() if path.rpartition("/")[2] == "package.json"]
    if manifests and not any(b'"fastify"' in data for data in manifests):
        return
    autoload = any(b"@fastify/autoload" in data for data in files.values())
    aliases = ImportAliases(files)
    plugins = {path: _Plugins(path, tokens) for path, tokens in _scripts(files, b"")}
    routers: dict[tuple[str, str], Router] = {}
    for path, found in plugins.items():
        prefix = _autoloaded(path, autoload)
        for key, routes in found.routes.items():
            router = routers.setdefault(
                (path, key), Router("express", prefix, is_app=key in found.apps)
            )
            router.routes += routes
        for key, target, mount, _line in found.mounts:
            child = _plugin(plugins, aliases, path, target)
            if child is not None:
                routers.setdefault((path, key), Router("express", prefix, is_app=key in found.apps))
                routers.setdefault(child, Router("express", _autoloaded(child[0], autoload)))
                routers[(path, key)].includes.append((child, mount, []))
    # A plugin nobody registers is still served when autoload (or a loop) registers it;
    # a function that only looks like one (``client.get("/x")``) is not.
    included = {child for router in routers.values() for child, _, _ in router.includes}
    for key in [k for k in routers if k not in included and not routers[k].is_app]:
        if not plugins[key[0]].plugin_like(key[1]):
            del routers[key]
    expand_routers(routers, out)


def _autoloaded(path: str, autoload: bool) -> str:
    """The prefix ``@fastify/autoload`` gives a file: its directories below ``routes/``."""
    parts = path.split("/")
    return (
        "/".join(parts[parts.index("routes") + 1 : -1])
        if autoload and "routes" in parts[:-1]
        else ""
    )


class _Plugins:
    """One file's Fastify declarations: routes per owner (an instance's name, or
    ``fn@<index>`` for the plugin function whose parameter they are declared on), the
    ``register`` calls, and what its names and exports are bound to."""

    def __init__(self, path: str, tokens: Tokens) -> None:
        closing = pairs(tokens)
        self.functions = {f"fn@{f.start}": f for f in file_functions(tokens, closing)}
        script = scan_script(tokens)
        self.imports = script.imports
        self.names = {name: key for key, f in self.functions.items() for name in f.names}
        if (alias := script.exports.get("default")) is not None and alias in self.names:
            self.names.setdefault("default", self.names[alias])
        self.apps: set[str] = {"fastify"}  # `fastify.get(…)` at the top: the app's
        self.routes: dict[str, list[Route]] = {}
        self.mounts: list[tuple[str, list, str, int]] = []
        constants = string_constants(tokens)  # `${apiModule}/feed`'s apiModule
        options = _object_constants(tokens, closing)  # `const _options = { prefix: … }`
        opened = {end: start for start, end in closing.items()}
        functions = list(self.functions.values())
        for i, (kind, value, line) in enumerate(tokens[:-4]):
            if kind == "punct" and value == ")" and is_punct(tokens, i + 1, "."):
                value = _chain_head(tokens, opened, i)  # `app.register(a).register(b)`
                if value is None:
                    continue
            elif kind != "id" or not is_punct(tokens, i + 1, ".") or is_punct(tokens, i - 1, "."):
                if kind == "id" and _creates_instance(tokens, i):
                    self.apps.add(value or "")
                continue
            owner = owner_of(functions, i, value or "")
            key = f"fn@{owner.start}" if owner is not None else value or ""
            if owner is None and key not in self.apps:
                continue
            verb = tokens[i + 2][1] or ""
            opening = after_type_arguments(tokens, i + 3)
            if not is_punct(tokens, opening, "(") or opening not in closing:
                continue
            if verb in _VERBS or verb == "all":
                methods, sub = (
                    ["ANY" if verb == "all" else verb.upper()],
                    string_at(tokens, opening + 1, constants),
                )
            elif verb == "route":
                methods, sub = _route_object(tokens, opening + 1, constants)
            elif verb == "register":
                arguments = _arguments(tokens, opening, closing[opening])
                mount = _prefix(arguments[1], constants, options) if len(arguments) > 1 else ""
                self.mounts.append((key, arguments[0] if arguments else [], mount, line))
                continue
            else:
                continue
            for method in methods if sub is not None else []:
                self.routes.setdefault(key, []).append(Route([method], sub or "", path, line))

    def plugin_like(self, key: str) -> bool:
        """A function that is a plugin by its shape: its module's default export, or a
        parameter named or typed as Fastify's instance."""
        function = self.functions.get(key)
        if function is None:
            return True
        typed = (function.param_type or "").startswith("Fastify")
        return typed or "default" in function.names or function.param in _INSTANCE_NAMES


def _plugin(
    plugins: dict[str, _Plugins], aliases: ImportAliases, path: str, target: list
) -> tuple[str, str] | None:
    """The plugin ``register``'s first argument names: an inline function, a name (local
    or imported), ``require("./x")`` or ``import("./x")``, through wrappers (``fp(x)``)."""
    here = plugins[path]
    while target:
        words = [t[1] for t in target]
        start = target[0][3]
        inline = [k for k, f in here.functions.items() if start <= f.start <= target[-1][3]]
        if inline:
            return path, min(inline, key=lambda k: here.functions[k].start)
        if len(target) == 1 and target[0][0] == "id":
            name = words[0] or ""
            if name in here.names:
                return path, here.names[name]
            spec, export = here.imports.get(name, (None, None))
            return _exported(plugins, aliases, path, spec, export)
        if words[:2] in (["require", "("], ["import", "("]) and len(target) == 4:
            return _exported(plugins, aliases, path, words[2], "default")
        if target[0][0] == "id" and words[1:2] == ["("] and words[-1] == ")":
            target = target[2:-1]  # fp(plugin, …): its first argument
            depth, end = 0, len(target)
            for k, token in enumerate(target):
                depth += (token[1] in "([{") - (token[1] in ")]}") if token[0] == "punct" else 0
                if depth == 0 and token[1] == "," and token[0] == "punct":
                    end = k
                    break
            target = target[:end]
            continue
        return None
    return None


def _exported(
    plugins: dict[str, _Plugins], aliases: ImportAliases, path: str, spec, export
) -> tuple[str, str] | None:
    target = resolve_module(plugins, aliases, path, spec) if spec and export else None
    if target is None:
        return None
    key = plugins[target].names.get(export)
    return (target, key) if key is not None else None


def _creates_instance(tokens: Tokens, i: int) -> bool:
    """``NAME = Fastify(…)`` / ``fastify(…)`` / ``require("fastify")(…)`` at ``i``."""
    j = i + 1
    if is_punct(tokens, j, ":"):  # `const app: FastifyInstance = …`
        j += 2
    if not is_punct(tokens, j, "=") or is_punct(tokens, j + 1, "="):
        return False
    callee = [t[1] for t in tokens[j + 1 : j + 6]]
    if callee[:4] == ["require", "(", "fastify", ")"]:
        return callee[4:5] == ["("]
    return (callee[0] or "").lower() == "fastify" and "(" in callee[1:3]


def _arguments(tokens: Tokens, opening: int, end: int) -> list[list]:
    """A call's arguments as token lists, each token with its index: (kind, value, line, i)."""
    arguments: list[list] = [[]]
    depth = 0
    for k in range(opening + 1, min(end, opening + 1 + _MAX_OBJECT_TOKENS)):
        kind, value, line = tokens[k]
        if kind == "punct" and value == "," and depth == 0:
            arguments.append([])
            continue
        depth += (value in "([{") - (value in ")]}") if kind == "punct" else 0
        arguments[-1].append((kind, value, line, k))
    return [a for a in arguments if a]


def _prefix(options: list, constants: dict[str, str], objects: dict[str, list]) -> str:
    """``{ prefix: "/x" }``'s prefix ("" without one); the object or the prefix may be a
    name the file binds (``_options``, ``{ prefix: API_PREFIX }``)."""
    if len(options) == 1 and options[0][0] == "id":
        options = objects.get(options[0][1], [])
    for k, token in enumerate(options[:-2]):
        if token[1] == "prefix" and options[k + 1][1] == ":":
            kind, value = options[k + 2][:2]
            if kind == "str" or (kind == "id" and value in constants):
                return (value if kind == "str" else constants[value]) or ""
    return ""


def _object_constants(tokens: Tokens, closing: dict[int, int]) -> dict[str, list]:
    """The names a file binds to an object literal (``const opts = { prefix: "/x" }``),
    each with its tokens as :func:`_arguments` gives them."""
    found: dict[str, list] = {}
    for i in range(len(tokens) - 3):
        declares = tokens[i][1] in ("const", "let", "var") and tokens[i + 1][0] == "id"
        if declares and is_punct(tokens, i + 2, "=") and is_punct(tokens, i + 3, "{"):
            end = min(closing.get(i + 3, i + 3), i + 3 + _MAX_OBJECT_TOKENS)
            found[tokens[i + 1][1] or ""] = [(*tokens[k], k) for k in range(i + 3, end + 1)]
    return found


def _chain_head(tokens: Tokens, opened: dict[int, int], i: int) -> str | None:
    """The name a chain of calls ending at ``i`` starts on (``app`` of
    ``app.register(a).register(b)``), None when it starts on none."""
    for _ in range(_MAX_ROUTES_PER_CALL):
        start = opened.get(i)
        if start is None or not is_punct(tokens, start - 2, "."):
            return None
        before = start - 3  # the token before `.verb(`
        if before >= 0 and tokens[before][0] == "id" and not is_punct(tokens, before - 1, "."):
            return tokens[before][1]
        if not is_punct(tokens, before, ")"):
            return None
        i = before
    return None


def hapi_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add hapi's ``server.route(…)`` routes among ``files`` to ``out`` (a project that
    depends on ``@hapi/hapi`` or ``hapi``)."""
    manifest = files.get("package.json", b"")
    if b'"@hapi/hapi"' not in manifest and b'"hapi"' not in manifest:
        return
    for path, tokens in _scripts(files, b".route("):
        closing, constants = pairs(tokens), string_constants(tokens)
        for i, (kind, value, line) in enumerate(tokens[:-4]):
            if kind != "id" or value != "route" or not is_punct(tokens, i - 1, "."):
                continue
            if not is_punct(tokens, i + 1, "(") or i + 1 not in closing:
                continue
            end, objects = closing[i + 1], []
            j = i + 2 + is_punct(tokens, i + 2, "[")
            while j < end and is_punct(tokens, j, "{") and j in closing:
                objects.append(j)
                j = closing[j] + 1 + is_punct(tokens, closing[j] + 1, ",")
            for start in objects[:_MAX_ROUTES_PER_CALL]:
                methods, sub = _route_object(tokens, start, constants)
                for method in methods if sub is not None else []:
                    out.add(method, sub or "/", "express", Route([method], sub or "", path, line))


def _scripts(files: dict[str, bytes], marker: bytes):
    """(path, tokens) of the scripts among ``files`` that contain ``marker``."""
    for path in sorted(files):
        if path.endswith(_SUFFIXES) and not path.endswith(".d.ts") and marker in files[path]:
            yield path, js_tokens(files[path].decode("utf-8-sig", "replace"))


def _route_object(
    tokens: Tokens, i: int, constants: dict[str, str] | None = None
) -> tuple[list[str], str | None]:
    """``{ method: 'GET' | ['GET', 'POST'] | '*', url|path: '/x' }`` at ``i``: its methods and
    its path (a template literal on the file's ``constants`` too). Only the object's own
    keys count (depth 1), not a nested ``options``'s."""
    methods: list[str] = []
    url = None
    depth = 0
    for j in range(i, min(i + _MAX_OBJECT_TOKENS, len(tokens) - 2)):
        kind, value, _ = tokens[j]
        if kind == "punct" and value in "{[(":
            depth += 1
        elif kind == "punct" and value in "}])":
            depth -= 1
            if depth <= 0:
                break
        if depth != 1 or not is_punct(tokens, j + 1, ":"):
            continue
        if value == "method":  # 'GET', or ['PUT', 'PATCH']: the verbs right after it
            said = [str(v).upper() for k, v, _ in tokens[j + 2 : j + 12] if k == "str"]
            methods = ["ANY" if m == "*" else m for m in said if m.lower() in _VERBS or m == "*"]
            methods = list(dict.fromkeys(methods))
        elif value in ("url", "path"):
            url = string_at(tokens, j + 2, constants)
    return methods, url
