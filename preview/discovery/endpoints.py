"""Find the HTTP endpoints a generated backend exposes, for the preview UI.

Two sources, one result shape. A running app's OpenAPI document is authoritative when there
is one (the caller fetches it); otherwise — Flask, Django, Express, or an app that does not
start — the endpoints are read from the generation's source files. Both give the same
JSON-ready dicts, so the UI need not care which was used.

Everything here is pure and synchronous (no I/O, no network, and the user's code is never
imported or run), so callers run it in a worker thread. Inputs are untrusted: malformed data
is skipped rather than raised on, and the work is bounded (file size, endpoint count, schema
size, include depth).

This module owns the public API, the input filtering and the final ordering; the readers
are :mod:`preview.discovery.openapi` (OpenAPI documents), :mod:`preview.discovery.python`
with :mod:`preview.discovery.routers` and :mod:`preview.discovery.django` (Python
sources), and :mod:`preview.discovery.node` (Express, Koa, Hono, NestJS, Fastify, hapi),
over the shared route graph of :mod:`preview.discovery.graph`.
"""

from __future__ import annotations

import re

from preview.discovery.django import django_endpoints
from preview.discovery.graph import MAX_ENDPOINTS, Collector, Route
from preview.discovery.litestar import litestar_endpoints
from preview.discovery.node import (
    express_endpoints,
    fastify_endpoints,
    feathers_endpoints,
    hapi_endpoints,
    nest_endpoints,
)
from preview.discovery.openapi import openapi_operations
from preview.discovery.python import PythonProject
from preview.discovery.routers import router_endpoints
from preview.discovery.seedfields import with_seed_fields

__all__ = [
    "MAX_ENDPOINTS",
    "MAX_FILE_BYTES",
    "endpoints_beyond_openapi",
    "endpoints_from_openapi",
    "endpoints_from_routes",
    "endpoints_from_source",
]

MAX_FILE_BYTES = 1024 * 1024
# A Node test's file: in __tests__/__mocks__/test/tests, or named *.test.ts, *.spec.js …
_NODE_TEST = re.compile(r"(?:^|/)(?:__tests__|__mocks__|tests?)/|\.(?:test|spec)\.[cm]?[jt]sx?$")
_EXPRESS_SHAPED = (b'"express"', b'"koa"', b'"@koa/router"', b'"koa-router"', b'"hono"')
_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "site-packages", "__pycache__"})
_OPTIONAL = re.compile(r"\{[^{}]*\}")
_FEATHERS_ID = ":__feathersId"  # the id parameter of Feathers 4's REST routes on Express
_DOCUMENTS = ("/openapi.json", "/swagger.json")
_METHOD_RANK = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


def endpoints_from_openapi(spec: dict) -> list[dict]:
    """The operations of an OpenAPI 3 (or Swagger 2) document, as endpoint dicts.

    Local ``$ref`` are inlined one level deep (deeper ones stay ``{"$ref": ...}``), which
    also makes cyclic references harmless. Parts of the wrong type are skipped.
    """
    return _finish(openapi_operations(spec))


def endpoints_from_source(files: dict[str, bytes]) -> list[dict]:
    """Endpoints declared in a generation's source: FastAPI, Flask, Django, Litestar, Express,
    Koa, Hono, NestJS, Feathers, Fastify, hapi.

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
    project = PythonProject(usable)  # reads the .py files only
    router_endpoints(project, python)
    django_endpoints(project, python)
    litestar_endpoints(project, python)
    # A Node app's tests mount their own routes (express-typescript-2024's
    # src/common/__tests__ serve /error, /success …): the app's are the rest.
    scripts = {p: d for p, d in usable.items() if not _NODE_TEST.search(p)}
    if not _fastify_only(scripts):  # whose plugins' `app.get` Express's reading misplaces
        express_endpoints(scripts, express)  # reads the JavaScript / TypeScript files only
    nest_endpoints(scripts, express)  # NestJS's controllers, in TypeScript
    feathers_endpoints(scripts, express)  # Feathers' services, at their REST routes
    fastify_endpoints(scripts, express)
    hapi_endpoints(scripts, express)
    return _finish([*python.found.values(), *express.found.values()])


def endpoints_from_routes(
    framework: str, routes: list[tuple[str, str]], source: list[dict]
) -> list[dict]:
    """The endpoints of a running app's own route table (``[(method, path)]`` in
    ``framework``'s syntax: Express's, Fastify's, Koa's and Hono's ``:id``, Flask's and
    Django's ``<int:id>``, Starlette's ``{id:int}``;
    ``apps.routes``): each as the ``source`` list has it where that has the same method
    and path (its parameters, body, file and line), else with no more than its path
    parameters. The table is the app's whole list: the source's endpoints it lacks are
    not the app's, but for Feathers' services (``node.feathers``): Feathers 5 serves
    them through one middleware of its REST transport, which no table sees."""
    read = {(endpoint["method"], endpoint["path"]): endpoint for endpoint in source}
    syntax = {"flask": "flask", "django": "flask", "starlette": "fastapi"}.get(framework, "express")
    found = Collector()
    for method, path in routes:
        # Express 5's optional segments (``/users{/:id}``): the path without them;
        # Feathers 4's ``:__feathersId``: ``:id``, as the source has it.
        plain = path
        if syntax == "express":
            plain = _OPTIONAL.sub("", path).replace(_FEATHERS_ID, ":id")
        found.add(method, plain, syntax, Route([method], path, "", 0))
    endpoints = []
    for key, endpoint in found.found.items():
        known = read.get(key)
        if known is not None:
            endpoint = {**known, "source": {**known["source"], "kind": "app"}}
        else:
            endpoint["source"] = {"kind": "app", "framework": framework}
        endpoints.append(endpoint)
    endpoints += [
        endpoint
        for endpoint in source
        if endpoint["source"].get("framework") == "feathers"
        and (endpoint["method"], endpoint["path"]) not in found.found
    ]
    return _finish(endpoints)


def endpoints_beyond_openapi(
    documented: list[dict], framework: str, routes: list[tuple[str, str]]
) -> list[dict]:
    """The OpenAPI document's endpoints (``documented``), and the routes of the running
    app's own table it leaves out (a document of some routes only: @hono/zod-openapi's,
    swagger-jsdoc's), each as :func:`endpoints_from_routes` has it. Neither the document
    itself nor catch-all routes (static files, a docs page's assets, a single-page app's
    fallback: ``*``, ``<path:…>``, ``{…:path}``) are among the latter."""
    plain = [
        (method, path)
        for method, path in routes
        if not ("*" in path or "<path:" in path or ":path}" in path or path.endswith(_DOCUMENTS))
    ]
    known = {(endpoint["method"], endpoint["path"]) for endpoint in documented}
    extra = [
        endpoint
        for endpoint in endpoints_from_routes(framework, plain, documented)
        if (endpoint["method"], endpoint["path"]) not in known
    ]
    return _finish([*documented, *extra]) if extra else documented


def _fastify_only(files: dict[str, bytes]) -> bool:
    """Its package.json files name Fastify and none of the frameworks of Express's shape."""
    manifests = [d for p, d in files.items() if p.rpartition("/")[2] == "package.json"]
    return any(b'"fastify"' in d for d in manifests) and not any(
        name in d for d in manifests for name in _EXPRESS_SHAPED
    )


def _finish(endpoints: list[dict]) -> list[dict]:
    """De-duplicated on (method, path), first wins; sorted by path then method; capped;
    with the seeds' compact fields (``seedfields``)."""
    unique: dict[tuple[str, str], dict] = {}
    for endpoint in endpoints:
        unique.setdefault((endpoint["method"], endpoint["path"]), endpoint)
    ordered = sorted(
        unique.values(),
        key=lambda e: (e["path"], _METHOD_RANK.get(e["method"], len(_METHOD_RANK)), e["method"]),
    )
    return [with_seed_fields(endpoint) for endpoint in ordered[:MAX_ENDPOINTS]]
