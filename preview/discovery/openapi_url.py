"""Where a running app serves its OpenAPI document (:func:`openapi_locations`) and its
API docs page (:func:`docs_location`).

First the ``openapi_url`` the app's source gives its ``FastAPI(...)`` call (a string, or
an f-string / concatenation of string constants defined anywhere in the upload, such as
``f"{settings.API_V1_STR}/openapi.json"``), then the places apps commonly use. An app that
sets ``openapi_url=None`` has none. A Node app's, where its source says: Hono's
``app.doc("/doc", …)`` (``doc31``), NestJS's ``SwaggerModule.setup("api", …)`` (the
document at ``/api-json``). Its docs page is found the same way, from
``docs_url``: FastAPI's docs routes are not in the OpenAPI document, so the source is the
only place that says where they are, or that there are none. Pure: the caller fetches.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from preview.discovery.node.tokens import JS_SUFFIXES
from preview.discovery.pyast import last_name, parse_module, walked

__all__ = ["COMMON_OPENAPI_PATHS", "FASTAPI_DOCS_PATH", "docs_location", "openapi_locations"]

COMMON_OPENAPI_PATHS = (
    "/openapi.json",
    "/api/openapi.json",
    "/api/v1/openapi.json",
    "/schema/openapi.json",  # Litestar's
    "/docs/openapi.json",
    "/v1/openapi.json",
    "/api/docs/openapi.json",
    "/swagger.json",  # swagger-ui-express apps' usual route for their document
)
FASTAPI_DOCS_PATH = "/docs"  # FastAPI's docs_url when the app sets none
_MAX_FILE_BYTES = 1024 * 1024
# Frameworks serving a document by default (FastAPI, Litestar, django-ninja, APIFlask,
# flask-smorest, flask-restx, connexion, Starlette's schemas) and the tools that make one.
_DOCUMENT_HINT = re.compile(
    rb"openapi|swagger|fastapi|litestar|ninja|apiflask|smorest|restx|connexion|spectacular"
    rb"|drf.yasg|apispec",
    re.IGNORECASE,
)
_HONO_DOC = re.compile(rb"""\.doc(?:31)?\(\s*["'`](/[^"'`\s]*)["'`]""")
_NEST_SWAGGER = re.compile(rb"""SwaggerModule\.setup\(\s*["'`]/?([^"'`\s]*)["'`]""")


def openapi_locations(files: dict[str, bytes]) -> list[str]:
    """Paths to try, best first; [] when the app turned its OpenAPI document off."""
    trees = _parse(files)
    constants = _string_constants(trees)
    declared: list[str] = []
    disabled = False
    for call in _fastapi_calls(trees):
        for keyword in call.keywords:
            if keyword.arg != "openapi_url":
                continue
            if _is_none(keyword.value):
                disabled = True
                continue
            value = _evaluate(keyword.value, constants)
            if value and value.startswith("/"):
                declared.append(value)
    litestar, litestar_off = _litestar_locations(trees, constants)
    declared += litestar + _node_locations(files)
    if (disabled or litestar_off) and not declared:
        return []
    # The common places only where the source suggests a document: each probe is a 404
    # line in the app's own log (an Express app with none logged 24 after it started).
    probed = COMMON_OPENAPI_PATHS if _suggests_a_document(files) else ()
    return list(dict.fromkeys([*declared, *probed]))


def _suggests_a_document(files: dict[str, bytes]) -> bool:
    """Whether the app's own files (not vendored ones) name a framework that serves an
    OpenAPI document by default, or an OpenAPI or Swagger tool."""
    for name, data in files.items():
        if "node_modules/" in name or "site-packages/" in name or len(data) > _MAX_FILE_BYTES:
            continue
        if _DOCUMENT_HINT.search(data) is not None:
            return True
    return False


def _node_locations(files: dict[str, bytes]) -> list[str]:
    """A Node app's document, where its source says (the module doc)."""
    found: list[str] = []
    for name, data in files.items():
        if not name.endswith(JS_SUFFIXES) or "node_modules/" in name:
            continue
        if len(data) > _MAX_FILE_BYTES:
            continue
        found += [m.decode("utf-8", "replace") for m in _HONO_DOC.findall(data)]
        found += [f"/{m.decode('utf-8', 'replace')}-json" for m in _NEST_SWAGGER.findall(data)]
    return found


def _litestar_locations(
    trees: list[ast.Module], constants: dict[str, str | None]
) -> tuple[list[str], bool]:
    """Litestar's document: ``<OpenAPIConfig(path=...)>/openapi.json`` (its path is
    ``/schema`` by default); (paths, whether ``Litestar(openapi_config=None)`` turned
    it off)."""
    declared: list[str] = []
    disabled = False
    for tree in trees:
        for node in walked(tree):
            if not isinstance(node, ast.Call):
                continue
            called = last_name(node.func)
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            if called == "Litestar" and "openapi_config" in keywords:
                value = keywords["openapi_config"]
                disabled |= isinstance(value, ast.Constant) and value.value is None
            elif called == "OpenAPIConfig":
                path = _evaluate(keywords["path"], constants) if "path" in keywords else "/schema"
                if path and path.startswith("/"):
                    declared.append(path.rstrip("/") + "/openapi.json")
    return declared, disabled


def docs_location(files: dict[str, bytes]) -> str | None:
    """The path of a FastAPI app's docs page (Swagger UI): its ``docs_url``, else
    ``/docs``. None when it has none (``docs_url=None``, or ``openapi_url=None``, which
    the page needs), when its ``docs_url`` is only known at run time, or when the upload
    has no ``FastAPI(...)`` call."""
    trees = _parse(files)
    constants = _string_constants(trees)
    for call in _fastapi_calls(trees):
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        if "docs_url" not in keywords:
            if not _is_none(keywords.get("openapi_url")):
                return FASTAPI_DOCS_PATH
            continue
        value = _evaluate(keywords["docs_url"], constants)
        if value and value.startswith("/") and not _is_none(keywords.get("openapi_url")):
            return value
    return None


def _parse(files: dict[str, bytes]) -> list[ast.Module]:
    trees = []
    for path, data in files.items():
        if path.endswith(".py") and len(data) <= _MAX_FILE_BYTES:
            tree = parse_module(data)
            if tree is not None:
                trees.append(tree)
    return trees


def _fastapi_calls(trees: list[ast.Module]) -> Iterator[ast.Call]:
    for tree in trees:
        for node in walked(tree):
            if isinstance(node, ast.Call) and last_name(node.func) == "FastAPI":
                yield node


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _string_constants(trees: list[ast.Module]) -> dict[str, str | None]:
    """``NAME = "text"`` (module or class level, annotated or not) across the upload; a
    name bound to two different texts maps to None (ambiguous)."""
    found: dict[str, str | None] = {}
    for tree in trees:
        for node in walked(tree):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            value = node.value
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                continue
            for target in targets:
                name = last_name(target)
                if name is not None:
                    found[name] = (
                        value.value if found.get(name, value.value) == value.value else None
                    )
    return found


def _evaluate(node: ast.expr, constants: dict[str, str | None], depth: int = 0) -> str | None:
    if depth > 20:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name | ast.Attribute):
        name = last_name(node)
        return constants.get(name) if name else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            text = _evaluate(inner, constants, depth + 1)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _evaluate(node.left, constants, depth + 1)
        right = _evaluate(node.right, constants, depth + 1)
        return left + right if left is not None and right is not None else None
    return None
