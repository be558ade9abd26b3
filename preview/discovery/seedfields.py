"""The compact fields the seeds' frontend reads off an endpoint, derived from the full ones.

The seeds' endpoint list shows ``description`` as a one-liner, ``requestSchema`` as
``{"query": {name: type}}`` and ``responseSchema`` as ``{field: type}``. The full data
(``summary``, ``parameters``, ``requestBody``, ``responses`` as JSON schemas) stays
beside them for clients that want it.
"""

from __future__ import annotations

__all__ = ["type_name", "with_seed_fields"]

_SCALARS = {"string", "integer", "number", "boolean", "array", "object", "null"}


def with_seed_fields(endpoint: dict) -> dict:
    """``endpoint`` with ``description`` (its summary when it has no description),
    ``requestSchema`` and ``responseSchema`` (None without a 2xx response schema)."""
    request: dict[str, dict[str, str]] = {}
    for param in endpoint.get("parameters") or ():
        if param.get("in") in ("query", "path"):
            where = request.setdefault(param["in"], {})
            where[param["name"]] = type_name(param.get("schema"))
    endpoint["description"] = endpoint.get("description") or endpoint.get("summary")
    endpoint["requestSchema"] = {"query": request.pop("query", {}), **request}
    endpoint["responseSchema"] = _response_schema(endpoint.get("responses") or {})
    return endpoint


def type_name(schema: object) -> str:
    """One word for a JSON schema: its type, its model's name, or ``any``."""
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if isinstance(kind, str) and kind in _SCALARS:
        return kind
    if isinstance(schema.get("$model"), str):
        return schema["$model"]
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf", "allOf"):  # Optional[X]: the X
        options = schema.get(key)
        if isinstance(options, list):
            names = [type_name(o) for o in options if not _is_null(o)]
            if names:
                return names[0]
    return "object" if isinstance(schema.get("properties"), dict) else "any"


def _is_null(schema: object) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _response_schema(responses: dict) -> dict[str, str] | None:
    """The first 2xx response's schema: ``{field: type}`` for an object, else its type
    (and an array's item type)."""
    for code in sorted(responses):
        schema = (responses[code] or {}).get("schema") if code.startswith("2") else None
        if not isinstance(schema, dict):
            continue
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            return {str(name): type_name(sub) for name, sub in properties.items()}
        shape = {"type": type_name(schema)}
        if shape["type"] == "array":
            shape["items"] = type_name(schema.get("items"))
        return shape
    return None
