"""Endpoint discovery in Express apps (JavaScript and TypeScript) and NestJS controllers,
without running them.

Each file is tokenised (comments, strings, template and regex literals told apart, so none
can fake a route) and routers, imports, exports, routes and ``use()`` mounts are recognised by
their token shapes. Relative imports (``require`` and ``import``) are followed between the
generation's files, so a router mounted in another module gets its full prefix; the result is
expanded through the shared route graph of :mod:`preview.discovery.graph`.

NestJS: a controller is a class decorated ``@Controller('cats')`` (or ``@Controller({ path:
'cats' })``, or bare: the root); its handlers are methods decorated ``@Get(':id')``,
``@Post()``, ``@All('x')`` …, each served under the controller's path and the app's
``setGlobalPrefix('api')``, read from the same tokens.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from preview.discovery.graph import Collector, Route, Router, expand_routers, join_path

__all__ = ["express_endpoints", "nest_endpoints"]

_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
_JS_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<comment>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))
    | (?P<str>'(?:[^'\\\n]|\\[\s\S])*'?|"(?:[^"\\\n]|\\[\s\S])*"?)
    | (?P<id>[A-Za-z_$][\w$]*)
    | (?P<num>\d[\w.]*)
    | (?P<punct>[\s\S])""",
    re.VERBOSE,
)
_REGEX_AFTER_PUNCT = frozenset("(,=:[!&|?{};+-*%<>~^")
_REGEX_AFTER_WORD = frozenset({"return", "typeof", "case", "do", "else", "in", "of", "new", "void"})
_EXPRESS_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "all"})
_EXPRESS_NAMES = frozenset({"app", "router", "api", "server", "routes"})
_JS_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[A-Za-z]*")
_MAX_ARG_TOKENS = 64  # read of an import list or a use() call: they are short
_OPENER = {")": "(", "}": "{"}


@dataclass
class _Script:
    """What one JavaScript/TypeScript file declares, by local name, before resolution."""

    created: dict[str, bool] = field(default_factory=dict)  # name -> is an app (express())
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (spec, export)
    exports: dict[str, str] = field(default_factory=dict)  # export name -> local name
    routes: list[tuple[str, list[str], str, int]] = field(default_factory=list)
    mounts: list[tuple[str, str, list[tuple], int]] = field(default_factory=list)


def express_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the Express apps' and routers' endpoints declared in the JavaScript / TypeScript
    files among ``files`` to ``out``, with ``app.use(prefix, router)`` across modules."""
    files = {p: d for p, d in files.items() if p.endswith(_JS_SUFFIXES) and not p.endswith(".d.ts")}
    scripts: dict[str, _Script] = {}
    for path in sorted(files):
        try:
            text = files[path].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        scripts[path] = _scan_script(_js_tokens(text))
    routers = {
        (path, name): Router("express", is_app=is_app)
        for path, script in scripts.items()
        for name, is_app in script.created.items()
    }
    for path, script in scripts.items():
        for obj, methods, route_path, line in script.routes:
            key = _js_router(scripts, routers, path, obj)
            if key is None and (obj in _EXPRESS_NAMES or obj.lower().endswith("router")):
                key = (path, obj)  # e.g. a function parameter: an app of its own
                routers.setdefault(key, Router("express", is_app=True))
            if key is not None:
                routers[key].routes.append(Route(methods, route_path, path, line))
    for path, script in scripts.items():
        for obj, prefix, refs, _line in script.mounts:
            parent = _js_router(scripts, routers, path, obj)
            for spec, export in refs if parent else ():
                child = _js_router(scripts, routers, path, export, spec)
                if child is not None and child != parent:
                    routers[parent].includes.append((child, prefix, []))
    expand_routers(routers, out)


def _js_router(scripts, routers, path, name, spec=None, depth=0) -> tuple[str, str] | None:
    """The router ``name`` refers to in ``path`` (or export ``name`` of module ``spec``)."""
    if spec is None:
        if (path, name) in routers:
            return (path, name)
        spec, name = scripts[path].imports.get(name, (None, None))
    target = _js_module(scripts, path, spec) if spec else None
    if target is None or name is None or depth > 8:
        return None
    local = scripts[target].exports.get(name, None if name == "default" else name)
    return _js_router(scripts, routers, target, local, None, depth + 1) if local else None


def _js_module(scripts: dict, path: str, spec: str) -> str | None:
    """The file a relative import specifier names, trying the usual extensions and index."""
    if not spec.startswith("."):
        return None
    base = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
    stem = base.rsplit(".", 1)[0] if base.endswith(_JS_SUFFIXES) else base
    candidates = [
        base,
        *(stem + s for s in _JS_SUFFIXES),
        *(base + "/index" + s for s in _JS_SUFFIXES),
    ]
    return next((c for c in candidates if c in scripts), None)


def _js_tokens(text: str) -> list[tuple[str, str | None, int]]:
    """(kind, value, line) tokens, without comments; string values are unescaped.

    A template literal with ``${...}`` is a "tpl" token without value, and a regular
    expression literal a "re" token, so neither can fake a string or hide a quote.
    """
    tokens: list[tuple[str, str | None, int]] = []
    position, line, no_regex_until = 0, 1, 0
    while position < len(text):
        match = _JS_TOKEN.match(text, position)
        kind, end, value = match.lastgroup, match.end(), match.group()
        if value == "`":
            value, end = _js_template(text, position)
            kind = "str" if value is not None else "tpl"
        elif value == "/" and position >= no_regex_until and _regex_allowed(tokens):
            if literal := _JS_REGEX.match(text, position):
                kind, end = "re", literal.end()
            else:  # nothing closes it on this line: do not try again for each "/" of it
                newline = text.find("\n", position)
                no_regex_until = len(text) if newline < 0 else newline
        elif kind == "str":
            closed = len(value) > 1 and value[-1] == value[0]
            value = re.sub(r"\\([\s\S])", r"\1", value[1:-1] if closed else value[1:])
        if kind not in ("space", "comment"):
            tokens.append((kind, value, line))
        line += text.count("\n", position, end)
        position = end
    return tokens


def _regex_allowed(tokens: list) -> bool:
    """Whether a "/" here starts a regular expression rather than being a division."""
    if not tokens:
        return True
    kind, value, _ = tokens[-1]
    return (kind == "punct" and value in _REGEX_AFTER_PUNCT) or (
        kind == "id" and value in _REGEX_AFTER_WORD
    )


def _js_template(text: str, start: int) -> tuple[str | None, int]:
    """A template literal's value (None when it has substitutions) and where it ends."""
    position, depth, dynamic = start + 1, 0, False
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 1
        elif depth == 0 and char == "`":
            return (None if dynamic else text[start + 1 : position]), position + 1
        elif depth == 0 and text.startswith("${", position):
            dynamic, depth = True, 1
            position += 1
        elif depth:
            depth += (char == "{") - (char == "}")
        position += 1
    return None, len(text)


def _scan_script(tokens: list[tuple[str, str | None, int]]) -> _Script:
    """Recognise routers, imports, exports, routes and mounts by their token shapes."""
    script = _Script()
    closing = _pairs(tokens)

    def value(index: int) -> str | None:
        return tokens[index][1] if 0 <= index < len(tokens) else None

    def kind(index: int) -> str | None:
        return tokens[index][0] if 0 <= index < len(tokens) else None

    for i, (tkind, name, line) in enumerate(tokens):
        if tkind != "id" or value(i - 1) == ".":
            continue
        if name == "import":
            _scan_import(i, script, closing, value, kind)
        elif name == "module" and [value(i + k) for k in (1, 2, 3)] == [".", "exports", "="]:
            if kind(i + 4) == "id":
                script.exports["default"] = value(i + 4)
        elif name == "export" and value(i + 1) == "default" and kind(i + 2) == "id":
            script.exports["default"] = value(i + 2)
        j = i + 1
        if value(j) == ":" and value(i - 1) in ("const", "let", "var"):  # TypeScript type
            j += 2
            while value(j) == "." and kind(j + 1) == "id":
                j += 2
        if value(j) == "=" and value(j + 1) not in ("=", ">"):
            rhs = [value(j + k) for k in range(1, 8)]
            if rhs[:4] == ["require", "(", "express", ")"]:  # require("express")() / .Router()
                rhs = ["express", *rhs[4:]]
            if rhs[:4] == ["express", ".", "Router", "("] or rhs[:2] == ["Router", "("]:
                script.created[name] = False
            elif rhs[:2] == ["express", "("]:
                script.created[name] = True
            elif rhs[:2] == ["require", "("] and kind(j + 3) == "str" and rhs[3] == ")":
                dotted = value(j + 5) == "." and kind(j + 6) == "id"
                script.imports[name] = (value(j + 3), value(j + 6) if dotted else "default")
        if value(i + 1) != "." or kind(i + 2) != "id" or i + 3 not in closing:
            continue
        verb, path = value(i + 2), value(i + 4) if kind(i + 4) == "str" else None
        if verb in _EXPRESS_VERBS and path and path[0] in "/*" and value(i + 5) == ",":
            script.routes.append((name, ["ANY" if verb == "all" else verb.upper()], path, line))
        elif verb == "route" and path is not None and value(i + 5) == ")":
            methods, k = [], i + 6
            while value(k) == "." and value(k + 1) in _EXPRESS_VERBS and k + 2 in closing:
                methods.append("ANY" if value(k + 1) == "all" else value(k + 1).upper())
                k = closing[k + 2] + 1
            script.routes.append((name, methods, path, line))
        elif verb == "use":
            last = min(closing[i + 3], i + 4 + _MAX_ARG_TOKENS)  # mounts are short
            script.mounts.append((name, *_scan_use(tokens[i + 4 : last]), line))
    return script


def _scan_import(i: int, script: _Script, closing: dict, value, kind) -> None:
    """``import x from "m"``, ``import x, {a as b} from "m"``, ``import {a} from "m"``."""
    names: list[tuple[str, str]] = []
    k = i + 1
    if kind(k) == "id" and value(k) not in ("from", "type"):
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
        elif words[:2] == ["require", "("] and len(arg) in (4, 6) and arg[2][0] == "str":
            dotted = len(arg) == 6 and words[4] == "."
            if words[3] == ")" and (len(arg) == 4 or dotted):
                refs.append((words[2], words[5] if dotted else "default"))
    return prefix, refs


def _pairs(tokens: list) -> dict[int, int]:
    """Index of each "(" or "{" token to that of its closing token; unclosed ones are left
    out. Computed once, so no scan ahead can make a file cost quadratic time."""
    pairs: dict[int, int] = {}
    stacks: dict[str, list[int]] = {"(": [], "{": []}
    for index, (kind, value, _) in enumerate(tokens):
        if kind == "punct" and value in stacks:
            stacks[value].append(index)
        elif kind == "punct" and value in (")", "}") and stacks[_OPENER[value]]:
            pairs[stacks[_OPENER[value]].pop()] = index
    return pairs


# -- NestJS -----------------------------------------------------------------------------

_NEST_SUFFIXES = (".ts", ".mts", ".js")
_NEST_VERBS = {
    "Get": "GET", "Post": "POST", "Put": "PUT", "Patch": "PATCH", "Delete": "DELETE",
    "Head": "HEAD", "Options": "OPTIONS", "All": "ANY",
}  # fmt: skip
_NestTokens = list[tuple[str, str | None, int]]


def nest_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Add the endpoints of the NestJS controllers among ``files`` to ``out``."""
    scripts: dict[str, _NestTokens] = {}
    for path in sorted(files):
        if not path.endswith(_NEST_SUFFIXES) or path.endswith(".d.ts") or ".spec." in path:
            continue
        data = files[path]
        if b"@nestjs/" not in data and b"setGlobalPrefix" not in data:
            continue
        try:
            scripts[path] = _js_tokens(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            continue
    prefix = ""
    for tokens in scripts.values():
        for i, (kind, value, _) in enumerate(tokens):
            if kind == "id" and value == "setGlobalPrefix" and _nest_punct(tokens, i + 1, "("):
                prefix = _nest_string(tokens, i + 2) or prefix
    for path, tokens in scripts.items():
        _nest_controllers(path, tokens, prefix, out)


def _nest_controllers(path: str, tokens: _NestTokens, prefix: str, out: Collector) -> None:
    controller: str | None = None
    for i, (kind, value, line) in enumerate(tokens):
        if (
            kind != "id"
            or not _nest_punct(tokens, i - 1, "@")
            or not _nest_punct(tokens, i + 1, "(")
        ):
            continue
        if value == "Controller":
            controller = _nest_argument(tokens, i + 2) or ""
        elif value in _NEST_VERBS and controller is not None:
            method = _NEST_VERBS[value]
            sub = _nest_argument(tokens, i + 2) or ""
            route = Route([method], sub, path, line)
            out.add(method, join_path(prefix, controller, sub), "express", route)


def _nest_argument(tokens: _NestTokens, i: int) -> str | None:
    """A decorator's path: its first string, or an object's ``path: '...'``."""
    if _nest_string(tokens, i) is not None:
        return _nest_string(tokens, i)
    if _nest_punct(tokens, i, "{"):
        for j in range(i + 1, min(i + 40, len(tokens) - 2)):
            kind, value, _ = tokens[j]
            if kind == "punct" and value == "}":
                break
            if kind == "id" and value == "path" and _nest_punct(tokens, j + 1, ":"):
                return _nest_string(tokens, j + 2)
    return None


def _nest_string(tokens: _NestTokens, i: int) -> str | None:
    return tokens[i][1] if 0 <= i < len(tokens) and tokens[i][0] == "str" else None


def _nest_punct(tokens: _NestTokens, i: int, char: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i][0] == "punct" and tokens[i][1] == char
