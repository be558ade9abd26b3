"""Reading the operations of an OpenAPI 3 (or Swagger 2) document as endpoint dicts.

The document comes from the running app and is untrusted: parts of the wrong type are
skipped, ``$ref`` chains are bounded, and the schemas copied into the result are limited in
depth and in total size. Sorting and de-duplication are left to :mod:`preview.discovery.endpoints`.
"""

from __future__ import annotations

from urllib.parse import unquote

from preview.discovery.graph import HTTP_METHODS, MAX_ENDPOINTS, join_path

__all__ = ["openapi_operations"]

_LOCATIONS = ("path", "query", "header", "cookie")
_MAX_SCHEMA_DEPTH = 64
# Resolved schemas are copied into every endpoint that uses them; this many JSON nodes per
# spec at most, so a large spec with many references cannot balloon the result.
_MAX_SCHEMA_NODES = 200_000


def openapi_operations(spec: dict) -> list[dict]:
    """Every operation of ``spec`` (at most :data:`MAX_ENDPOINTS`), unsorted; [] if the
    document has no ``paths`` object.

    Local ``$ref`` are inlined one level deep (deeper ones stay ``{"$ref": ...}``), which
    also makes cyclic references harmless.
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
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and len(found) < MAX_ENDPOINTS:
                full = join_path(base, path) if base else path
                found.append(_operation(spec, full, method, operation, shared, budget))
    return found


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
    schema = _inline(spec, node, (), 0, budget)
    return schema if isinstance(schema, dict) else None


def _inline(
    spec: dict, node: object, within: tuple[str, ...], depth: int, budget: list[int]
) -> object:
    """A copy of ``node`` with its ``$ref`` replaced by their targets, nested ones too,
    except a ``$ref`` to a schema it is already inside (kept as it is: a cycle cannot
    recurse). A resolved component schema gets ``"$model": name``, as source discovery
    gives Pydantic bodies; the size is bounded by ``budget`` and the depth."""
    budget[0] -= 1
    if depth > _MAX_SCHEMA_DEPTH or budget[0] < 0:
        return None
    if isinstance(node, list):
        return [_inline(spec, item, within, depth + 1, budget) for item in node]
    if not isinstance(node, dict):
        return node if isinstance(node, str | int | float | bool) or node is None else None
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return {str(k): _inline(spec, v, within, depth + 1, budget) for k, v in node.items()}
    target = None if ref in within else _pointer(spec, ref)
    if not isinstance(target, dict):
        return {"$ref": ref}
    resolved = _inline(spec, target, (*within, ref), depth + 1, budget)
    if not isinstance(resolved, dict):
        return {"$ref": ref}
    if ref.startswith(("#/components/schemas/", "#/definitions/")):
        resolved.setdefault("$model", unquote(ref.rsplit("/", 1)[1]))
    for key, value in node.items():  # OpenAPI 3.1 allows siblings such as "description"
        if key != "$ref":
            resolved[str(key)] = _inline(spec, value, within, depth + 1, budget)
    return resolved
