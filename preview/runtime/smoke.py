"""The smoke check: once a preview is ``running``, each ``GET`` route that needs no
parameter is called once, and any answer of 500 or more is reported.

A generated backend with one broken route is the most common outcome; the user should see
it before they try. The routes come from the app's live OpenAPI where it serves one, else
from its own route table (a sandboxed app's: :func:`with_route_table`), else from
its source (the same discovery as the endpoints list). Bounded: at most
``MAX_ROUTES`` routes, ``ROUTE_TIMEOUT`` seconds each, one at a time, none after
``MOST_SILENT`` gave no answer; each call is a
``proxy`` event of the preview's log marked as the service's (``[smoke check]``), and
does not count as the user's activity.

A route that answered 500 is called once more a second later, and reported only if it
fails again: an app may still be finishing its start when it first answers (Sequelize's
``sync()`` not awaited creates its tables after the server listens).

Every route answering 404 is said as an app that serves none of them here, where each
404 is its framework's answer to a path no route has (:func:`route_missed`); a 404 in the
app's own words is its route answering (kaynanxd's fastapi-async-quiz-system: "Nenhuma
questao encontrada no bd." for its empty table).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import trio

from ..apps.routes import PRELOADS, ROUTES_FILE, RouteTable, read_route_table, route_table_env
from ..discovery import (
    endpoints_beyond_openapi,
    endpoints_from_openapi,
    endpoints_from_routes,
    endpoints_from_source,
    openapi_locations,
)
from ..generations import loads_bounded
from ..sandbox.appdir import run_as_owner
from ..sandbox.bubblewrap import SOCKET_DIR_INSIDE, TOOLS_DIR_INSIDE
from .upstream import Upstream

if TYPE_CHECKING:
    from ..apps.spec import LaunchSpec
    from ..sandbox.isolation import Confinement
    from .state import PreviewState

__all__ = [
    "AGAIN_AFTER",
    "MAX_ROUTES",
    "MOST_SILENT",
    "ROUTE_TIMEOUT",
    "check_once_running",
    "live_openapi",
    "live_routes",
    "openapi_in_table",
    "route_missed",
    "smoke_check",
    "smoke_summary",
    "with_route_table",
]

MAX_ROUTES = 20
ROUTE_TIMEOUT = 2.0
AGAIN_AFTER = 1.0  # s: a 500 is asked again, once, after this (module doc)
# Routes given no answer after which no more are called: each took the whole
# ROUTE_TIMEOUT, and an app failing slowly fails so on every route (JazzKriss21's
# Tourism-Django-Rest: Django's error page for a missing module, over 2 s a route; twenty
# routes held the check, and the relaunch with its fix, past a minute).
MOST_SILENT = 3
_OPENAPI_MAX_BYTES = 5 * 1024 * 1024
_CAUSE_CHARS = 200
_TABLE_WAIT = 1.0  # s: for a just-started app's route table (see _routes)
_TABLE_POLL = 0.05
_DOCUMENTS = frozenset({"openapi.json", "swagger.json"})  # a route's name, for its document
Publish = Callable[[str, str], Awaitable[None]]  # (level, message): a proxy event
# The answer of a framework to a path none of its routes has: Starlette's (FastAPI's, and
# any JSON saying only "Not Found"),
# Werkzeug's (Flask's), Django's, Express's and Nest's ("Cannot GET /x"), Fastify's,
# Koa's and Hono's plain words; an empty body too.
_ROUTE_MISSED = re.compile(
    r'^\s*(?:\{\s*"(?:detail|error|message)"\s*:\s*"Not Found"\s*\}|(?:404:? )?Not Found)?\s*$'
    r"|Cannot (?:GET|HEAD) /|<title>(?:404 )?Not Found</title>|<title>Page not found"
    r"|The requested (?:URL|resource) was not found on (?:the|this) server"
    r'|"message"\s*:\s*"Route GET:',
    re.IGNORECASE,
)


async def smoke_check(
    upstream: Upstream, files: dict[str, bytes], publish: Publish
) -> dict[str, Any]:
    """``{ok, checked, notFound, failing: [{path, status, cause}]}`` of the app's
    parameterless ``GET`` routes (``status`` None: no answer within the time, or the
    connection failed; ``notFound``: how many answered 404)."""
    async with upstream.client(timeout=ROUTE_TIMEOUT) as client:
        paths = await _routes(client, upstream, files)
        failing = []
        not_found = 0
        checked = 0
        for path in paths[:MAX_ROUTES]:
            if sum(f["status"] is None for f in failing) >= MOST_SILENT:
                break  # (the rest would wait as long, each: see MOST_SILENT)
            status, cause = await _checked(client, upstream, path, publish, "smoke check")
            checked += 1
            if status is None or status >= 500:
                failing.append({"path": path, "status": status, "cause": cause})
            not_found += status == 404 and cause is None
        answered = [f for f in failing if f["status"] is not None]  # none: a timeout
        if answered:
            await trio.sleep(AGAIN_AFTER)
        for first in answered:
            tag = "smoke check, again"
            status, _ = await _checked(client, upstream, first["path"], publish, tag)
            if status is not None and status < 500:
                failing.remove(first)
                not_found += status == 404
    return {"ok": not failing, "checked": checked, "notFound": not_found, "failing": failing}


async def check_once_running(
    state: PreviewState,
    upstream: Upstream,
    files: dict[str, bytes],
    fixing: Callable[[dict[str, Any]], Awaitable[bool]] | None,
) -> bool:
    """The smoke check of an app that just started answering, said in its log, and its
    result the state's ``smoke`` (the status's ``health``) once it stands; True where
    its failing routes (500s, or no answer) have a fix (``fixing`` said so): the app ends
    for its relaunch."""

    async def publish(level: str, message: str) -> None:
        await state.broadcast.publish(level, message, "proxy")

    result = await smoke_check(upstream, files, publish)
    await state.system(*smoke_summary(result))
    failing = result["failing"]
    # (a route given no answer too: one whose failure its error handling makes slow —
    # Django importing the URLconf again for each error page — failed the same way)
    if fixing and failing and await fixing(result):
        return True
    state.smoke = result
    return False


def smoke_summary(result: dict[str, Any]) -> tuple[str, str]:
    """The log's (level, line) of a :func:`smoke_check` result."""
    checked, failing = result["checked"], result["failing"]
    if failing:
        shown = ", ".join(
            f"{f['path']} ({f['status'] if f['status'] is not None else 'no answer'})"
            for f in failing[:5]
        )
        return "WARN", f"smoke check: {len(failing)} of {checked} GET routes fail: {shown}"
    if checked > 1 and result["notFound"] == checked:
        # Its own routes, each "not found": it answers none of them where it is called
        # (a prefix it expects, or a host it is bound to: Flask's SERVER_NAME).
        return "WARN", (
            f"smoke check: all {checked} GET routes it declares answer 404: the app"
            " serves none of them here"
        )
    return "INFO", f"smoke check: {checked} GET routes answer"


async def _routes(
    client: httpx.AsyncClient, upstream: Upstream, files: dict[str, bytes]
) -> list[str]:
    spec = await live_openapi(client, upstream, files)
    # Just running, an app may still be loading (a gunicorn worker, after its port
    # opened): its table is waited for a moment.
    table = await live_routes(upstream, wait=_TABLE_WAIT if spec is None else 0.0)
    if table is not None and spec is None:  # perhaps its document where the source is mute
        spec = await openapi_in_table(client, upstream, table, files)
    if spec is not None:
        endpoints = await trio.to_thread.run_sync(endpoints_from_openapi, spec)
        if table is not None:  # and the routes the document leaves out
            endpoints = await trio.to_thread.run_sync(endpoints_beyond_openapi, endpoints, *table)
    else:
        endpoints = await trio.to_thread.run_sync(endpoints_from_source, files)
        if table is not None and table[1]:
            endpoints = await trio.to_thread.run_sync(endpoints_from_routes, *table, endpoints)
    return [
        endpoint["path"]
        for endpoint in endpoints
        if endpoint.get("method") == "GET" and _parameterless(endpoint)
    ]


async def live_openapi(
    client: httpx.AsyncClient,
    upstream: Upstream,
    files: dict[str, bytes],
    request_timeout: float | None = None,
) -> dict | None:
    """The running app's OpenAPI document, if it serves one: at the ``openapi_url`` its
    source gives, else at the first of the common places that answers with one
    (``request_timeout``: each request's, else the client's)."""
    for path in await trio.to_thread.run_sync(openapi_locations, files):
        spec = await _json_at(client, upstream, path, request_timeout)
        if isinstance(spec, dict) and isinstance(spec.get("paths"), dict):
            return spec
    return None


async def openapi_in_table(
    client: httpx.AsyncClient,
    upstream: Upstream,
    table: RouteTable,
    files: dict[str, bytes],
    request_timeout: float | None = None,
) -> dict | None:
    """The OpenAPI (or Swagger) document at a route of the app's own table named as
    one (``…/openapi.json``, ``…/swagger.json``: flask-restx's under its prefix), where
    :func:`live_openapi` did not look."""
    tried = set(await trio.to_thread.run_sync(openapi_locations, files))
    for method, path in table[1]:
        name = path.rpartition("/")[2]
        if method != "GET" or name not in _DOCUMENTS or path in tried or _has_parameters(path):
            continue
        spec = await _json_at(client, upstream, path, request_timeout)
        if isinstance(spec, dict) and isinstance(spec.get("paths"), dict):
            return spec
    return None


def with_route_table(
    confinement: Confinement | None, spec: LaunchSpec, env: dict[str, str]
) -> dict[str, str]:
    """A sandboxed app's environment with the preload that writes its route table
    (``apps.routes``), the preload bound into its sandbox's tools; an unsandboxed app's
    ``env`` as it is (its table would have no private place)."""
    detection = spec.detection
    if confinement is None or detection is None or detection.language not in PRELOADS:
        return env
    confinement.tools = (*confinement.tools, PRELOADS[detection.language])
    return route_table_env(env, detection.language, TOOLS_DIR_INSIDE, SOCKET_DIR_INSIDE)


async def live_routes(upstream: Upstream, *, wait: float = 0.0) -> RouteTable | None:
    """The route table the app at ``upstream`` wrote (:func:`with_route_table`), read
    with its rights from its sandbox's socket directory; None without one (looked for
    again for up to ``wait`` seconds: its preload writes it once the app has routes)."""
    if upstream.socket_path is None:
        return None
    directory = Path(upstream.socket_path).parent
    due = trio.current_time() + wait
    while True:
        table = await trio.to_thread.run_sync(_route_table_in, directory)
        if table is not None or trio.current_time() >= due:
            return table
        await trio.sleep(_TABLE_POLL)


def _route_table_in(directory: Path) -> RouteTable | None:
    try:
        return run_as_owner(directory, read_route_table, directory / ROUTES_FILE)
    except OSError:  # its directory gone (the preview ended), or not a directory
        return None


def _has_parameters(path: str) -> bool:
    """Whether ``path`` has a parameter in any framework's syntax (``{id}``, ``<id>``,
    ``:id``, ``*``): no call of it without one."""
    return any(mark in path for mark in "{<*:")


def _parameterless(endpoint: dict) -> bool:
    path = endpoint.get("path") or ""
    if not path.startswith("/") or _has_parameters(path):
        return False
    return not any(
        parameter.get("required") and parameter.get("in") in ("query", "path", "header")
        for parameter in endpoint.get("parameters") or []
    )


async def _json_at(
    client: httpx.AsyncClient, upstream: Upstream, path: str, request_timeout: float | None
) -> object:
    request = client.build_request(
        "GET",
        upstream.url(path),
        extensions=upstream.extensions,
        timeout=httpx.USE_CLIENT_DEFAULT if request_timeout is None else request_timeout,
    )
    try:
        response = await client.send(request, stream=True)
        try:
            if response.status_code != 200:
                return None
            content = b""
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > _OPENAPI_MAX_BYTES:
                    return None
        finally:
            await response.aclose()
        return loads_bounded(content)
    except (httpx.HTTPError, ValueError):
        return None


async def _checked(
    client: httpx.AsyncClient, upstream: Upstream, path: str, publish: Publish, tag: str
) -> tuple[int | None, str | None]:
    """One call of ``path``, said as a ``proxy`` event marked ``[tag]``: (status, cause)."""
    status, cause, elapsed = await _call(client, upstream, path)
    level = "ERROR" if status is None or status >= 500 else "INFO"
    outcome = str(status) if status is not None else f"failed ({cause})"
    await publish(level, f"GET {path} -> {outcome} in {elapsed:.1f} ms [{tag}]")
    return status, cause


async def _call(
    client: httpx.AsyncClient, upstream: Upstream, path: str
) -> tuple[int | None, str | None, float]:
    """(status, cause of a failure, elapsed ms); a 404's cause is the app's own words
    where its body is no framework's answer to a path no route has (:func:`route_missed`)."""
    began = trio.current_time()
    # A connection of its own: after a 500 an app may close the one it answered on.
    request = client.build_request(
        "GET", upstream.url(path), headers={"Connection": "close"}, extensions=upstream.extensions
    )
    try:
        response = await client.send(request, stream=True)
        try:
            body = b""
            # Only a failure's body is read (its cause): a route that answers with a stream
            # (an event stream, kabilanmohanraj's fastapi-crud-app's /events/crud) never ends.
            if response.status_code >= 500 or response.status_code == 404:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > 4096:
                        break
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        return None, f"no answer within {ROUTE_TIMEOUT:g} s", _ms(began)
    except httpx.HTTPError as error:
        return None, type(error).__name__, _ms(began)
    cause = _cause(body) if response.status_code >= 500 else None
    if response.status_code == 404 and not route_missed(body.decode("utf-8", "replace")):
        cause = _cause(body)  # its route's own 404
    return response.status_code, cause, _ms(began)


def route_missed(body: str) -> bool:
    """Whether a 404's ``body`` is a framework's answer to a path none of its routes has,
    not a route's own words (a row not found)."""
    return _ROUTE_MISSED.search(body) is not None


def _cause(body: bytes) -> str | None:
    """What a 5xx answer says: its JSON ``detail``/``error``/``message``, else its text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = loads_bounded(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("detail", "error", "message"):
            if isinstance(data.get(key), str):
                return data[key][:_CAUSE_CHARS]
    first = text.splitlines()[0] if text else ""
    return first[:_CAUSE_CHARS] or None


def _ms(began: float) -> float:
    return (trio.current_time() - began) * 1000
