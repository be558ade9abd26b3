"""Endpoint discovery for the Node frameworks that declare routes by call or by object,
without running them: Fastify (``fastify.get('/x', …)``, ``fastify.route({ method, url })``,
under the prefix ``@fastify/autoload`` gives a file: its directories below ``routes/``) and
hapi (``server.route({ method, path })`` or ``server.route([{ … }, { … }])``).
"""

from __future__ import annotations

from preview.discovery.graph import Collector, Route, join_path
from preview.discovery.node.tokens import (
    Tokens,
    after_type_arguments,
    is_punct,
    js_tokens,
    pairs,
    string_at,
)

__all__ = ["fastify_endpoints", "hapi_endpoints"]

_SUFFIXES = (".ts", ".mts", ".js", ".mjs", ".cjs")
_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
_MAX_OBJECT_TOKENS = 400  # one route's options object
_MAX_ROUTES_PER_CALL = 200


def fastify_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the Fastify routes declared among ``files`` to ``out``."""
    autoload = any(b"@fastify/autoload" in data for data in files.values())
    for path, tokens in _scripts(files, b"fastify."):
        parts = path.split("/")
        below = parts[parts.index("routes") + 1 : -1] if "routes" in parts[:-1] else []
        prefix = "/".join(below) if autoload else ""
        for i, (kind, value, line) in enumerate(tokens[:-4]):
            if kind != "id" or value != "fastify" or not is_punct(tokens, i + 1, "."):
                continue
            verb = tokens[i + 2][1] or ""
            opening = after_type_arguments(tokens, i + 3)
            if not is_punct(tokens, opening, "("):
                continue
            if verb in _VERBS:
                methods, sub = [verb.upper()], string_at(tokens, opening + 1)
            elif verb == "route":
                methods, sub = _route_object(tokens, opening + 1)
            else:
                continue
            for method in methods if sub is not None else []:
                route = Route([method], sub or "", path, line)
                out.add(method, join_path(prefix, sub or ""), "express", route)


def hapi_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add hapi's ``server.route(…)`` routes among ``files`` to ``out`` (a project that
    depends on ``@hapi/hapi`` or ``hapi``)."""
    manifest = files.get("package.json", b"")
    if b'"@hapi/hapi"' not in manifest and b'"hapi"' not in manifest:
        return
    for path, tokens in _scripts(files, b".route("):
        closing = pairs(tokens)
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
                methods, sub = _route_object(tokens, start)
                for method in methods if sub is not None else []:
                    out.add(method, sub or "/", "express", Route([method], sub or "", path, line))


def _scripts(files: dict[str, bytes], marker: bytes):
    """(path, tokens) of the scripts among ``files`` that contain ``marker``."""
    for path in sorted(files):
        if path.endswith(_SUFFIXES) and not path.endswith(".d.ts") and marker in files[path]:
            yield path, js_tokens(files[path].decode("utf-8-sig", "replace"))


def _route_object(tokens: Tokens, i: int) -> tuple[list[str], str | None]:
    """``{ method: 'GET' | ['GET', 'POST'] | '*', url|path: '/x' }`` at ``i``: its methods and
    its path. Only the object's own keys count (depth 1), not a nested ``options``'s."""
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
            url = string_at(tokens, j + 2)
    return methods, url
