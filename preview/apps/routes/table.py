"""A running app's own route table, for its endpoint list.

Routes made in a loop, under names built at run time, or by a framework on another
(NestJS on Express, DRF's routers on Django) are out of a source reading's reach; the
app itself knows them. A sandboxed app starts with a preload of the service's, bound
read-only into its sandbox's tools: a Node app with ``routetable/index.cjs``
(``NODE_OPTIONS --require``), which records what Express's, Fastify's router's, Koa's
routers' and Hono's public methods are given; a
Python app with ``site/sitecustomize.py`` (on ``PYTHONPATH``), which reads the rules of
Werkzeug's ``Map`` objects (Flask, Quart), Django's URL resolver or the routers of
Starlette's applications (FastAPI's). Either writes the
table to ``routes.json`` in the sandbox's socket directory (``/run/preview``, the app's
own: a small tmpfs). The service reads it back with the app's rights
(``runtime.smoke.live_routes``), never through a link, a bounded number of bytes, and
takes only well-formed entries: the app wrote it, so it is data of the app's, like its
OpenAPI document.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ...discovery import regex_to_route
from ...generations import loads_bounded

__all__ = ["PRELOADS", "ROUTES_FILE", "RouteTable", "read_route_table", "route_table_env"]

_HERE = Path(__file__).parent
# What a sandbox binds into its tools, by the app's language.
PRELOADS = {"node": _HERE / "routetable", "python": _HERE / "site"}
_ENTRIES = {"node": "/index.cjs", "python": ""}  # in the preload's directory
ROUTES_FILE = "routes.json"
_MAX_BYTES = 1 << 20
_MAX_ROUTES = 2000
_MAX_PATH = 2048
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
_FRAMEWORKS = ("express", "fastify", "koa", "hono", "flask", "django", "starlette")
RouteTable = tuple[str, list[tuple[str, str]]]  # (its framework, [(method, path)])


def route_table_env(
    env: dict[str, str], language: str, tools_inside: str, socket_dir_inside: str
) -> dict[str, str]:
    """``env`` with ``language``'s preload (after the app's own options and paths) and
    where its table goes."""
    preload = f"{tools_inside}/{PRELOADS[language].name}{_ENTRIES[language]}"
    if language == "node":
        name, added, separator = "NODE_OPTIONS", f'--require "{preload}"', " "
    else:
        name, added, separator = "PYTHONPATH", preload, os.pathsep
    before = env.get(name, "").strip()
    return {
        **env,
        name: f"{before}{separator}{added}" if before else added,
        "ROUTE_TABLE_PATH": f"{socket_dir_inside}/{ROUTES_FILE}",
    }


def read_route_table(path: Path) -> RouteTable | None:
    """The table at ``path``: None if it is missing, not a regular file (a link, a pipe
    that would never end), over ``_MAX_BYTES`` or not a table; entries of another shape
    are skipped. Django's paths (their patterns' parts) are joined in ``path()``'s
    syntax, their regular expressions turned into it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = file.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        return None
    try:
        table = loads_bounded(data)
    except ValueError:
        return None
    if not isinstance(table, dict) or table.get("framework") not in _FRAMEWORKS:
        return None
    framework, entries = table["framework"], table.get("routes")
    routes: dict[tuple[str, str], None] = {}
    for entry in entries if isinstance(entries, list) else ():
        if len(routes) >= _MAX_ROUTES:
            break
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            continue
        if entry[0] not in _METHODS:
            continue
        route = _django_path(entry[1]) if framework == "django" else entry[1]
        if (
            isinstance(route, str)
            and route.startswith("/")
            and len(route) <= _MAX_PATH
            and route.isprintable()
        ):
            routes[(entry[0], route)] = None
    return framework, list(routes)


def _django_path(parts: Any) -> str | None:
    """``[[kind, text], ...]`` (``p``: a ``path()`` route, ``r``: a regex) as one path."""
    if not isinstance(parts, list) or len(parts) > 32:
        return None
    joined = []
    for part in parts:
        if not (isinstance(part, list) and len(part) == 2 and isinstance(part[1], str)):
            return None
        kind, text = part
        joined.append(regex_to_route(text) if kind == "r" else text)
    return "/" + "".join(joined).lstrip("/")
