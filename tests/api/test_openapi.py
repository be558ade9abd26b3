"""The API describes itself (issue 26, item 9): ``/api/openapi.json`` is a valid OpenAPI 3.1
document, and it says what the service's Quart routes and the API table (docs/api.md) say,
both ways: every route and method, every query parameter, every error code, and nothing
else. ``/api/docs`` renders it with nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from openapi_spec_validator import validate

from preview import create_app
from preview.api.openapi import AUTH_ERRORS, SHARE_ERRORS, SHARED_OPERATIONS
from preview.settings import Settings

from ..conftest import Service, auth
from ..ui_helpers import browser_page, in_browser, require_browser

README = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()  # the API table
_PROXY = "/api/generations/{gid}/preview/proxy/{path}"
_HTTP = {"get", "put", "post", "delete", "patch"}  # head and options: the proxy's alone
Op = tuple[str, str]


def _table() -> list[tuple[list[Op], str]]:
    """The API table (docs/api.md): each row's operations (method, path) and its text."""
    start = README.index("| method and path | does |")
    rows = README[start : README.index("\n\n", start)].splitlines()[2:]
    table = []
    for row in rows:
        first, rest = row[2:].split(" | ", 1)
        ops: list[Op] = []
        for method, path in re.findall(r"`(?:([A-Z]+) )?([^`]+)`", first):
            path = path.replace("…", "/api/generations/{gid}")
            if method:
                ops.append((method.lower(), path))
            elif path == _PROXY:  # any method
                ops.extend((each, path) for each in sorted(_HTTP))
            else:  # "(also `…/x`)": the same method as the one before
                ops.append((ops[-1][0], path))
        table.append((ops, rest))
    return table


def _row_errors(text: str) -> dict[int, set[str]]:
    """A row's *Errors*: ``Errors: 400 `a`, `b`; 404 `c`.``"""
    if "Errors: " not in text:
        return {}
    said = text.split("Errors: ", 1)[1]
    return {
        int(status): set(re.findall(r"`([a-z_]+)`", codes))
        for status, codes in re.findall(r"(\d{3}) ((?:`[a-z_]+`(?:, )?)+)", said)
    }


def _row_parameters(text: str) -> tuple[set[str], set[str]]:
    """Names a row writes in backticks, and those it writes as query parameters
    (`?name=`, `name=…`)."""
    mentioned, written = set(), set()
    for token in re.findall(r"`([^`]+)`", text):
        if (m := re.fullmatch(r"\??([a-z][A-Za-z]*)(=.*)?", token)) is not None:
            mentioned.add(m.group(1))
            if token.startswith("?") or m.group(2):
                written.add(m.group(1))
    return mentioned, written


def _auth_sentence() -> dict[int, set[str]]:
    start = README.index("Every route but the public ones")
    sentence = README[start : README.index("each row's *Errors*", start)]
    said = " ".join(sentence.split())
    return {
        401: set(re.findall(r"`([a-z_]+)`", said.split("401 (", 1)[1].split(")", 1)[0])),
        403: set(re.findall(r"403 `([a-z_]+)`", said)),
        503: set(re.findall(r"503 `([a-z_]+)`", said)),
    }


def _document_ops(document: dict[str, Any]) -> dict[Op, dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _HTTP
    }


def _codes(operation: dict[str, Any]) -> dict[int, set[str]]:
    codes = {}
    for status, response in operation["responses"].items():
        examples = response.get("content", {}).get("application/json", {}).get("examples", {})
        if examples:
            codes[int(status)] = set(examples)
    return codes


def _quart_routes(settings: Settings) -> set[Op]:
    routes = set()
    for rule in create_app(settings).url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        if re.search(r"/preview/proxy/?$", path):  # the proxy's root, with or without /
            path = _PROXY
        methods = {"get"} if rule.websocket else {m.lower() for m in rule.methods} & _HTTP
        routes.update((method, path) for method in methods)
    return routes


@pytest.fixture
async def document(service: Service) -> dict[str, Any]:
    # Public: no credentials.
    response = await service.client.get("/api/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_routes_are_those_of_quart_and_of_the_readme(
    document: dict[str, Any], settings: Settings
) -> None:
    described = set(_document_ops(document))
    in_readme = {op for ops, _ in _table() for op in ops}
    assert described == in_readme, (described - in_readme, in_readme - described)
    routes = _quart_routes(settings)
    assert described == routes, (described - routes, routes - described)
    # The proxy takes every method, HEAD and OPTIONS too.
    assert set(document["paths"][_PROXY]) == _HTTP | {"head", "options"}


async def test_error_codes_are_the_readmes_both_ways(document: dict[str, Any]) -> None:
    assert _auth_sentence() == {status: set(codes) for status, codes in AUTH_ERRORS.items()}
    ops = _document_ops(document)
    for row_ops, text in _table():
        described: dict[int, set[str]] = {}
        for op in row_ops:
            operation = ops[op]
            codes = _codes(operation)
            public = operation.get("security") == []
            for status, auth_codes in AUTH_ERRORS.items():
                # The ones every route may answer: on each route that needs the caller.
                assert set(auth_codes) <= codes.get(status, set()) or public, (op, status)
                if public:
                    assert not set(auth_codes) & codes.get(status, set()), op
                codes[status] = codes.get(status, set()) - set(auth_codes)
            shared = op in SHARED_OPERATIONS or ("*", op[1]) in SHARED_OPERATIONS
            if "{gid}" in op[1] and not shared:  # the owner's alone: said once, as auth's
                for status, owner_codes in SHARE_ERRORS.items():
                    assert set(owner_codes) <= codes.get(status, set()), (op, status)
                    codes[status] = codes[status] - set(owner_codes)
            for status, found in codes.items():
                if found:
                    described.setdefault(status, set()).update(found)
        assert described == _row_errors(text), row_ops


def test_the_owners_routes_are_said_once() -> None:
    said = " ".join(README[: README.index("| method and path | does |")].split())
    assert "403 `owner_only`" in said and set(SHARE_ERRORS) == {403}


async def test_query_parameters_are_the_readmes_both_ways(document: dict[str, Any]) -> None:
    ops = _document_ops(document)
    for row_ops, text in _table():
        mentioned, written = _row_parameters(text)
        described = set()
        for op in row_ops:
            for parameter in ops[op]["parameters"]:
                if parameter["in"] == "query":
                    described.add(parameter["name"])
                else:  # the path's own
                    assert parameter["in"] == "path" and f"{{{parameter['name']}}}" in op[1]
        assert described <= mentioned, (row_ops, described - mentioned)
        assert written <= described, (row_ops, written - described)


async def test_the_docs_page_is_served_here_and_renders_every_route(service: Service) -> None:
    require_browser()
    async with httpx.AsyncClient(base_url=service.url, trust_env=False) as client:
        index = await client.get("/")
        page = await client.get("/api/docs")
    assert 'href="/api/docs"' in index.text  # the UI links to it
    assert page.status_code == 200
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    assert "http" not in re.sub(r'xmlns="[^"]+"', "", page.text)  # nothing from elsewhere

    def script(url: str) -> dict[str, Any]:
        with browser_page() as (page, log):
            page.goto(f"{url}/api/docs")
            page.wait_for_selector(".opblock-summary-path")
            paths = page.eval_on_selector_all(
                ".opblock-summary-path", "e => e.map(x => x.getAttribute('data-path'))"
            )
            log.assert_clean()
            return {"paths": paths, "external": log.external}

    with trio.fail_after(120):
        seen = await in_browser(script, service.url)
    assert seen["external"] == []
    assert "/api/generations/{gid}/preview/launch" in seen["paths"]
    assert len(seen["paths"]) >= 25


# Where the API's routes raise their errors (the preview origins' router, the static
# files and /readyz are no routes of the table).
_RAISERS = (
    "api/generations.py",
    "api/previews.py",
    "api/streams.py",
    "api/origins.py",
    "api/proxying.py",
    "history/routes.py",
    "api/endpoints.py",
    "api/alerts.py",
    "api/snapshots.py",
    "sharing/routes.py",
    "sharing/rules.py",
    "services/callers.py",
    "apps/spec.py",
    "auth.py",
    "generations/uploads.py",
    "proxy/access.py",
    "proxy/policy.py",
    "runtime/supervisor.py",
    "runtime/ports.py",
    "services/bodies.py",
    "services/callers.py",
    "services/state.py",
    "snapshots/appfiles.py",
    "snapshots/keeper.py",
    "snapshots/pgdata.py",
)


_PACKAGE = Path(__file__).resolve().parents[2] / "preview"


async def test_every_code_the_routes_raise_is_described(document: dict[str, Any]) -> None:
    raised = {
        code
        for name in _RAISERS
        for code in re.findall(r'code="([a-z_]+)"', await trio.Path(_PACKAGE / name).read_text())
    }
    described = {
        code
        for operation in _document_ops(document).values()
        for codes in _codes(operation).values()
        for code in codes
    }
    assert raised - described == set()


async def test_the_answers_that_are_not_200_are_described(
    document: dict[str, Any], service: Service
) -> None:
    """An upload, a revision and a snapshot are 201 (a revision also 200 unchanged, 202
    while applied), a finished log stream 204: the document said 200 for each
    (schemathesis: "undocumented status code")."""
    paths = document["paths"]
    with trio.fail_after(30):
        gid = await service.upload({"main.py": "print('hi')\n"})  # asserts its 201
        revisions = f"/api/generations/{gid}/revisions"
        new = {"files": {"main.py": "print('new')\n"}}
        added = await service.client.post(revisions, json=new, headers=auth())
        again = await service.client.post(revisions, json=new, headers=auth())
    assert (added.status_code, again.status_code) == (201, 200)
    assert set(paths["/api/generations"]["post"]["responses"]) >= {"201"}
    assert "200" not in paths["/api/generations"]["post"]["responses"]
    assert set(paths["/api/generations/{gid}/revisions"]["post"]["responses"]) >= {
        "200",
        "201",
        "202",
    }
    snapshots = paths["/api/generations/{gid}/preview/snapshots"]["post"]["responses"]
    assert "201" in snapshots and "200" not in snapshots
    stream = paths["/api/generations/{gid}/preview/logs/stream"]["get"]["responses"]
    assert {"200", "204"} <= set(stream)
