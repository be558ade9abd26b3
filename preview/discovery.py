"""Find the HTTP endpoints a generated backend exposes, for the preview UI.

Two sources, one result shape. A running app's OpenAPI document is authoritative when there
is one (the caller fetches it); otherwise — Flask, Django, Express, or an app that does not
start — the endpoints are read from the generation's source files. Both give the same
JSON-ready dicts, so the UI need not care which was used.

Everything here is pure and synchronous (no I/O, no network, and the user's code is never
imported or run), so callers run it in a worker thread. Inputs are untrusted: malformed data
is skipped rather than raised on, and the work is bounded (file size, endpoint count, schema
size, include depth). The Python parsers live in :mod:`preview.discovery_python`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from preview.discovery_python import (
    MAX_ENDPOINTS,
    Collector,
    Route,
    Router,
    expand_routers,
    join_path,
    python_endpoints,
)

__all__ = ["MAX_ENDPOINTS", "MAX_FILE_BYTES", "endpoints_from_openapi", "endpoints_from_source"]

MAX_FILE_BYTES = 1024 * 1024
_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "site-packages", "__pycache__"})
_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
_METHOD_RANK = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
_OPENAPI_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
_LOCATIONS = ("path", "query", "header", "cookie")
_MAX_SCHEMA_DEPTH = 64
# Resolved schemas are copied into every endpoint that uses them; this many JSON nodes per
# spec at most, so a large spec with many references cannot balloon the result.
_MAX_SCHEMA_NODES = 200_000


def endpoints_from_openapi(spec: dict) -> list[dict]:
    """The operations of an OpenAPI 3 (or Swagger 2) document, as endpoint dicts.

    Local ``$ref`` are inlined one level deep (deeper ones stay ``{"$ref": ...}``), which
    also makes cyclic references harmless. Parts of the wrong type are skipped.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        return []
    base = spec.get("basePath")
    base = base if isinstance(base, str) and base.strip("/") else ""
    budget = [_MAX_SCHEMA_NODES]
    found: list[dict] = []
    for path, item in spec["paths"].items():
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        shared = item.get("parameters")
        for method in _OPENAPI_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and len(found) < MAX_ENDPOINTS:
                full = join_path(base, path) if base else path
                found.append(_operation(spec, full, method, operation, shared, budget))
    return _finish(found)


def endpoints_from_source(files: dict[str, bytes]) -> list[dict]:
    """Endpoints declared in a generation's source: FastAPI, Flask, Django and Express.

    Files over :data:`MAX_FILE_BYTES`, in dependency or VCS directories, or that do not
    parse are skipped; at most :data:`MAX_ENDPOINTS` endpoints are returned.
    """
    if not isinstance(files, dict):
        return []
    usable = {
        path: bytes(data)
        for path, data in files.items()
        if isinstance(path, str)
        and isinstance(data, bytes | bytearray)
        and len(data) <= MAX_FILE_BYTES
        and not _SKIPPED_DIRS.intersection(path.split("/"))
    }
    python, express = Collector(), Collector()
    python_endpoints({p: d for p, d in usable.items() if p.endswith(".py")}, python)
    scripts = {
        p: d for p, d in usable.items() if p.endswith(_JS_SUFFIXES) and not p.endswith(".d.ts")
    }
    _express_endpoints(scripts, express)
    return _finish([*python.found.values(), *express.found.values()])


def _finish(endpoints: list[dict]) -> list[dict]:
    """De-duplicated on (method, path), first wins; sorted by path then method; capped."""
    unique: dict[tuple[str, str], dict] = {}
    for endpoint in endpoints:
        unique.setdefault((endpoint["method"], endpoint["path"]), endpoint)
    ordered = sorted(
        unique.values(),
        key=lambda e: (e["path"], _METHOD_RANK.get(e["method"], len(_METHOD_RANK)), e["method"]),
    )
    return ordered[:MAX_ENDPOINTS]


# -- OpenAPI ---------------------------------------------------------------------------------


def _operation(
    spec: dict, path: str, method: str, op: dict, shared: object, budget: list[int]
) -> dict:
    """One operation's endpoint dict; ``shared`` are its path item's parameters."""
    params: dict[tuple[str, str], dict] = {}
    body = None
    for raw in _list(shared) + _list(op.get("parameters")):  # same name and "in": op's wins
        param = _deref(spec, raw)
        name, where = param.get("name"), param.get("in")
        if not isinstance(name, str):
            continue
        if where == "body":  # Swagger 2
            body = _schema(spec, param.get("schema"), budget)
        elif where in _LOCATIONS:
            schema = param.get("schema")
            if schema is None and isinstance(param.get("type"), str):  # Swagger 2
                schema = {"type": param["type"]}
            required = param.get("required") is True or where == "path"
            schema = _schema(spec, schema, budget)
            params[(name, where)] = {
                "name": name,
                "in": where,
                "required": required,
                "schema": schema,
            }
    request = _deref(spec, op.get("requestBody"))
    if "content" in request:
        body = _content_schema(spec, request.get("content"), budget, any_type=True)
    responses = {}
    raw_responses = op.get("responses")
    for code, raw in raw_responses.items() if isinstance(raw_responses, dict) else ():
        response = _deref(spec, raw)
        if not response:
            continue
        if "content" in response:
            schema = _content_schema(spec, response.get("content"), budget, any_type=False)
        else:
            schema = _schema(spec, response.get("schema"), budget)  # Swagger 2
        description = response.get("description")
        description = description if isinstance(description, str) else None
        responses[str(code)] = {"description": description, "schema": schema}
    return {
        "method": method.upper(),
        "path": path,
        "summary": _text(op.get("summary")),
        "description": _text(op.get("description")),
        "tags": [tag for tag in _list(op.get("tags")) if isinstance(tag, str)],
        "parameters": list(params.values()),
        "requestBody": body,
        "responses": responses,
        "source": {"kind": "openapi"},
    }


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _pointer(spec: dict, ref: str) -> object:
    """The node a local JSON pointer (``#/components/schemas/X``) names, or None."""
    if not ref.startswith("#/"):
        return None
    node: object = spec
    for part in ref[2:].split("/"):
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _deref(spec: dict, node: object) -> dict:
    """A parameter / request body / response object, following ``$ref`` chains; {} if bad."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and len(seen) < 8:
        if node["$ref"] in seen:
            return {}
        seen.add(node["$ref"])
        node = _pointer(spec, node["$ref"])
    return node if isinstance(node, dict) and "$ref" not in node else {}


def _content_schema(spec, content, budget, *, any_type: bool) -> dict | None:
    """The JSON media type's schema; with ``any_type``, else the first media type's."""
    if not isinstance(content, dict):
        return None
    media = content.get("application/json")
    if not isinstance(media, dict):
        keys = [k for k in content if isinstance(k, str) and k.split(";")[0].endswith("json")]
        if not keys and any_type:
            keys = list(content)
        media = content[keys[0]] if keys else None
    return _schema(spec, media.get("schema"), budget) if isinstance(media, dict) else None


def _schema(spec: dict, node: object, budget: list[int]) -> dict | None:
    schema = _inline(spec, node, False, 0, budget)
    return schema if isinstance(schema, dict) else None


def _inline(spec: dict, node: object, inside_ref: bool, depth: int, budget: list[int]) -> object:
    """A copy of ``node`` with its ``$ref`` replaced by their targets, whose own ``$ref`` are
    kept as they are: one level, so a cycle cannot recurse. A resolved component schema gets
    ``"$model": name``, as source discovery gives Pydantic bodies."""
    budget[0] -= 1
    if depth > _MAX_SCHEMA_DEPTH or budget[0] < 0:
        return None
    if isinstance(node, list):
        return [_inline(spec, item, inside_ref, depth + 1, budget) for item in node]
    if not isinstance(node, dict):
        return node if isinstance(node, str | int | float | bool) or node is None else None
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return {str(k): _inline(spec, v, inside_ref, depth + 1, budget) for k, v in node.items()}
    target = None if inside_ref else _pointer(spec, ref)
    if not isinstance(target, dict):
        return {"$ref": ref}
    resolved = _inline(spec, target, True, depth + 1, budget)
    if not isinstance(resolved, dict):
        return {"$ref": ref}
    if ref.startswith(("#/components/schemas/", "#/definitions/")):
        resolved.setdefault("$model", unquote(ref.rsplit("/", 1)[1]))
    for key, value in node.items():  # OpenAPI 3.1 allows siblings such as "description"
        if key != "$ref":
            resolved[str(key)] = _inline(spec, value, inside_ref, depth + 1, budget)
    return resolved


# -- Express ---------------------------------------------------------------------------------

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


def _express_endpoints(files: dict[str, bytes], out: Collector) -> None:
    """Express apps and routers, with ``app.use(prefix, router)`` across modules."""
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
