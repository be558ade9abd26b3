"""Endpoint discovery in Feathers apps (4 and 5, on Express or Koa), without running them.

A Feathers service is registered with ``app.use(path, service, options)``: ``'messages'``
or a constant naming it (``messagePath``, often exported by another file), the service
(``new MessageService(…)``, ``createService(…)``, a name bound to one), and in Feathers 5
``{ methods: [...] }`` (a literal, or a constant such as ``messageMethods``). Its REST
transport serves each method at a fixed route: ``find`` GET /messages, ``get`` GET
/messages/:id, ``create`` POST, ``update`` PUT /:id, ``patch`` PATCH /:id, ``remove``
DELETE /:id. A service with no ``methods`` given serves those it implements: all six are
assumed, but an ``AuthenticationService`` serves ``create`` and ``remove`` only.
``app.configure(oauth())`` of ``@feathersjs/authentication-oauth`` adds its two GETs.

Read only where a script imports ``@feathersjs/``: elsewhere ``app.use(path, x)`` is
Express's own mount (``express``).
"""

from __future__ import annotations

from preview.discovery.graph import Collector, Route, join_path
from preview.discovery.node.tokens import (
    JS_SUFFIXES,
    Tokens,
    is_punct,
    js_tokens,
    pairs,
    string_at,
    string_constants,
)

__all__ = ["feathers_endpoints"]

_ROUTES = {
    "find": ("GET", ""),
    "get": ("GET", ":id"),
    "create": ("POST", ""),
    "update": ("PUT", ":id"),
    "patch": ("PATCH", ":id"),
    "remove": ("DELETE", ":id"),
}
_AUTHENTICATION = ("create", "remove")
_OAUTH = ("/oauth/:provider", "/oauth/:provider/callback")


def feathers_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the REST endpoints of the Feathers services among ``files`` to ``out``."""
    paths = [p for p in sorted(files) if p.endswith(JS_SUFFIXES) and not p.endswith(".d.ts")]
    if not any(b"@feathersjs/" in files[path] for path in paths):
        return  # most Node apps: no file of theirs tokenised here
    scripts: dict[str, Tokens] = {}
    for path in paths:
        try:
            scripts[path] = js_tokens(files[path].decode("utf-8-sig"))
        except UnicodeDecodeError:
            continue
    strings = _shared(string_constants(tokens) for tokens in scripts.values())
    lists = _shared(_list_constants(tokens) for tokens in scripts.values())
    for path, tokens in scripts.items():
        if not out.spend(len(tokens) // 64 + 1):
            return
        _services(path, tokens, strings, lists, out)


def _shared(per_file) -> dict:
    """Names bound to one value across the files (``messagePath`` exported by one, used
    by another); a name bound to two values is nobody's."""
    found: dict = {}
    for constants in per_file:
        for name, value in constants.items():
            found[name] = value if found.get(name, value) == value else None
    return {name: value for name, value in found.items() if value is not None}


def _list_constants(tokens: Tokens) -> dict[str, tuple[str, ...]]:
    """``const messageMethods = ['find', 'get'] as const``: names bound to string lists."""
    found: dict[str, tuple[str, ...]] = {}
    for i in range(len(tokens) - 4):
        if tokens[i][1] not in ("const", "let", "var") or tokens[i][0] != "id":
            continue
        if tokens[i + 1][0] == "id" and is_punct(tokens, i + 2, "="):
            words = _string_list(tokens, i + 3)
            if words is not None:
                found[tokens[i + 1][1] or ""] = words
    return found


def _string_list(tokens: Tokens, i: int) -> tuple[str, ...] | None:
    """The strings of an array literal of strings only, starting at ``i``; else None."""
    if not is_punct(tokens, i, "["):
        return None
    words: list[str] = []
    for j in range(i + 1, min(i + 64, len(tokens))):
        kind, value, _ = tokens[j]
        if kind == "str":
            words.append(value or "")
        elif kind == "punct" and value == "]":
            return tuple(words)
        elif kind != "punct" or value != ",":
            return None
    return None


def _services(
    path: str,
    tokens: Tokens,
    strings: dict[str, str],
    lists: dict[str, tuple[str, ...]],
    out: Collector,
) -> None:
    closing = pairs(tokens)
    bound = _bound_classes(tokens)
    for i, (kind, value, line) in enumerate(tokens):
        if kind != "id" or not is_punct(tokens, i - 1, ".") or not is_punct(tokens, i + 1, "("):
            continue
        if value == "configure" and _calls(tokens, i + 2, "oauth"):
            for route in _OAUTH:
                out.add("GET", route, "feathers", Route(["GET"], route, path, line))
            continue
        if value != "use":
            continue
        where = _path_at(tokens, i + 2, strings)
        if where is None or not is_punct(tokens, i + 3, ","):
            continue  # a middleware, or a path of no string we know
        service = _service_class(tokens, i + 4, bound)
        if service is None:
            continue  # a function (Express's middleware or router), not a service
        end = closing.get(i + 1, len(tokens))
        methods = _methods_option(tokens, i + 4, end, lists)
        if methods is None:
            methods = _AUTHENTICATION if service == "AuthenticationService" else tuple(_ROUTES)
        for name in methods:
            if name in _ROUTES:
                verb, sub = _ROUTES[name]
                route = join_path(where, sub)
                out.add(verb, route, "feathers", Route([verb], route, path, line))


def _path_at(tokens: Tokens, i: int, strings: dict[str, str]) -> str | None:
    if i >= len(tokens):
        return None
    text = string_at(tokens, i, strings)
    if text is None and tokens[i][0] == "id":
        text = strings.get(tokens[i][1] or "")
    if text is None or not text.strip("/") or any(c in text for c in "*:(){} "):
        return None
    return "/" + text.strip("/")


def _calls(tokens: Tokens, i: int, name: str) -> bool:
    return tokens[i][0] == "id" and tokens[i][1] == name and is_punct(tokens, i + 1, "(")


def _bound_classes(tokens: Tokens) -> dict[str, str]:
    """``const authentication = new AuthenticationService(app)``: name → class."""
    found: dict[str, str] = {}
    for i in range(len(tokens) - 4):
        named = tokens[i][0] == "id" and is_punct(tokens, i + 1, "=")
        if named and tokens[i + 2][1] == "new" and tokens[i + 3][0] == "id":
            found[tokens[i][1] or ""] = tokens[i + 3][1] or ""
    return found


def _service_class(tokens: Tokens, i: int, bound: dict[str, str]) -> str | None:
    """What ``app.use``'s second argument makes: a class's name (``new X(…)``, a name
    bound to one), ``""`` for a service a function call makes (``createService(…)``),
    None for what is not a service (a function, an arrow, a router)."""
    if i + 1 >= len(tokens) or tokens[i][0] != "id":
        return None
    word = tokens[i][1] or ""
    if word == "new":
        return tokens[i + 1][1] if tokens[i + 1][0] == "id" else ""
    if word in ("function", "async"):
        return None
    if is_punct(tokens, i + 1, "("):  # a factory's service; not a known middleware
        return None if word.lower().endswith(("router", "middleware", "static")) else ""
    return bound.get(word)  # a bare name: a service only where bound to `new X`


def _methods_option(
    tokens: Tokens, start: int, end: int, lists: dict[str, tuple[str, ...]]
) -> tuple[str, ...] | None:
    """``methods: [...]`` (or a list constant) among ``app.use``'s arguments."""
    for j in range(start, min(end, len(tokens) - 2)):
        if tokens[j][0] == "id" and tokens[j][1] == "methods" and is_punct(tokens, j + 1, ":"):
            listed = _string_list(tokens, j + 2)
            if listed is None and tokens[j + 2][0] == "id":
                listed = lists.get(tokens[j + 2][1] or "")
            return listed
    return None
