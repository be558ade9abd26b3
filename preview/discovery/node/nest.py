"""Endpoint discovery in NestJS controllers, without running them.

A controller is a class decorated ``@Controller('cats')`` (or ``@Controller({ path: 'cats'
})``, or bare: the root); its handlers are methods decorated ``@Get(':id')``, ``@Post()``,
``@All('x')`` …, each served under the controller's path and the app's
``setGlobalPrefix('api')``, read from the same tokens.
"""

from __future__ import annotations

from preview.discovery.graph import Collector, Route, join_path
from preview.discovery.node.tokens import Tokens, is_punct, js_tokens, string_at

__all__ = ["nest_endpoints"]

_NEST_SUFFIXES = (".ts", ".mts", ".js")
_NEST_VERBS = {
    "Get": "GET",
    "Post": "POST",
    "Put": "PUT",
    "Patch": "PATCH",
    "Delete": "DELETE",
    "Head": "HEAD",
    "Options": "OPTIONS",
    "All": "ANY",
}


def nest_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the endpoints of the NestJS controllers among ``files`` to ``out``."""
    scripts: dict[str, Tokens] = {}
    for path in sorted(files):
        if not path.endswith(_NEST_SUFFIXES) or path.endswith(".d.ts") or ".spec." in path:
            continue
        data = files[path]
        if b"@nestjs/" not in data and b"setGlobalPrefix" not in data:
            continue
        try:
            scripts[path] = js_tokens(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            continue
    prefix = ""
    for tokens in scripts.values():
        for i, (kind, value, _) in enumerate(tokens):
            if kind == "id" and value == "setGlobalPrefix" and is_punct(tokens, i + 1, "("):
                prefix = string_at(tokens, i + 2) or prefix
    for path, tokens in scripts.items():
        _nest_controllers(path, tokens, prefix, out)


def _nest_controllers(path: str, tokens: Tokens, prefix: str, out: Collector) -> None:
    controller: str | None = None
    for i, (kind, value, line) in enumerate(tokens):
        decorator = is_punct(tokens, i - 1, "@") and is_punct(tokens, i + 1, "(")
        if kind != "id" or not decorator:
            continue
        if value == "Controller":
            controller = _nest_argument(tokens, i + 2) or ""
        elif value in _NEST_VERBS and controller is not None:
            method, sub = _NEST_VERBS[value], _nest_argument(tokens, i + 2) or ""
            out.add(
                method,
                join_path(prefix, controller, sub),
                "express",
                Route([method], sub, path, line),
            )


def _nest_argument(tokens: Tokens, i: int) -> str | None:
    """A decorator's path: its first string, or an object's ``path: '...'``."""
    if string_at(tokens, i) is not None:
        return string_at(tokens, i)
    if is_punct(tokens, i, "{"):
        for j in range(i + 1, min(i + 40, len(tokens) - 2)):
            kind, value, _ = tokens[j]
            if kind == "punct" and value == "}":
                break
            if kind == "id" and value == "path" and is_punct(tokens, j + 1, ":"):
                return string_at(tokens, j + 2)
    return None
