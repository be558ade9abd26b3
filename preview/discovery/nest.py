"""Endpoint discovery in NestJS apps (TypeScript), without running or compiling them.

A controller is a class decorated ``@Controller('cats')`` (or ``@Controller({ path:
'cats' })``, or bare: the root); its handlers are methods decorated ``@Get(':id')``,
``@Post()``, ``@All('x')`` …, each served under the controller's path and the app's
``setGlobalPrefix('api')``. Files are read with Express's tokeniser
(:mod:`preview.discovery.express`: comments and strings told apart, so a comment cannot
fake a route); ``:id`` parameters become ``{id}`` like Express's.
"""

from __future__ import annotations

from preview.discovery.express import js_tokens
from preview.discovery.graph import Collector, Route, join_path

__all__ = ["nest_endpoints"]

_SUFFIXES = (".ts", ".mts", ".js")
_VERBS = {
    "Get": "GET", "Post": "POST", "Put": "PUT", "Patch": "PATCH", "Delete": "DELETE",
    "Head": "HEAD", "Options": "OPTIONS", "All": "ANY",
}  # fmt: skip
_Tokens = list[tuple[str, str | None, int]]


def nest_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the endpoints of the NestJS controllers among ``files`` to ``out``."""
    scripts: dict[str, _Tokens] = {}
    for path in sorted(files):
        if not path.endswith(_SUFFIXES) or path.endswith(".d.ts") or ".spec." in path:
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
            if kind == "id" and value == "setGlobalPrefix" and _punct(tokens, i + 1, "("):
                prefix = _string(tokens, i + 2) or prefix
    for path, tokens in scripts.items():
        _controllers(path, tokens, prefix, out)


def _controllers(path: str, tokens: _Tokens, prefix: str, out: Collector) -> None:
    controller: str | None = None
    for i, (kind, value, line) in enumerate(tokens):
        if kind != "id" or not _punct(tokens, i - 1, "@") or not _punct(tokens, i + 1, "("):
            continue
        if value == "Controller":
            controller = _argument(tokens, i + 2) or ""
        elif value in _VERBS and controller is not None:
            method = _VERBS[value]
            sub = _argument(tokens, i + 2) or ""
            route = Route([method], sub, path, line)
            out.add(method, join_path(prefix, controller, sub), "express", route)


def _argument(tokens: _Tokens, i: int) -> str | None:
    """A decorator's path: its first string, or an object's ``path: '...'``."""
    if _string(tokens, i) is not None:
        return _string(tokens, i)
    if _punct(tokens, i, "{"):
        for j in range(i + 1, min(i + 40, len(tokens) - 2)):
            kind, value, _ = tokens[j]
            if kind == "punct" and value == "}":
                break
            if kind == "id" and value == "path" and _punct(tokens, j + 1, ":"):
                return _string(tokens, j + 2)
    return None


def _string(tokens: _Tokens, i: int) -> str | None:
    return tokens[i][1] if 0 <= i < len(tokens) and tokens[i][0] == "str" else None


def _punct(tokens: _Tokens, i: int, char: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i][0] == "punct" and tokens[i][1] == char
