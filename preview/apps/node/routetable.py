"""A running Express app's own route table (``routetable.cjs``), for its endpoint list.

Routes made in a loop, under names built at run time or by a framework on Express
(NestJS) are out of a source reading's reach; the app itself knows them. A sandboxed
Node app starts with ``routetable.cjs`` preloaded (``NODE_OPTIONS --require``, the file
bound read-only into its sandbox's tools), which records what Express's public methods
are given and writes the joined routes to ``routes.json`` in the sandbox's socket
directory (``/run/preview``, the app's own). The service reads that file back with the
app's rights (``runtime.smoke.live_routes``), never through a link, a bounded number of
bytes, and takes only well-formed entries: the app wrote it, so it is data of the app's,
like its OpenAPI document.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

__all__ = ["PRELOAD", "ROUTES_FILE", "read_route_table", "route_table_env"]

PRELOAD = Path(__file__).with_name("routetable.cjs")
ROUTES_FILE = "routes.json"
_MAX_BYTES = 1 << 20
_MAX_ROUTES = 2000
_MAX_PATH = 2048
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})


def route_table_env(
    env: dict[str, str], tools_inside: str, socket_dir_inside: str
) -> dict[str, str]:
    """``env`` with the preload added to ``NODE_OPTIONS`` (after the app's own options)
    and where its table goes."""
    preload = f'--require "{tools_inside}/{PRELOAD.name}"'
    options = env.get("NODE_OPTIONS", "").strip()
    return {
        **env,
        "NODE_OPTIONS": f"{options} {preload}" if options else preload,
        "PREVIEW_ROUTES_FILE": f"{socket_dir_inside}/{ROUTES_FILE}",
    }


def read_route_table(path: Path) -> list[tuple[str, str]] | None:
    """``[(method, path)]`` of the table at ``path``: None if it is missing, not a
    regular file (a link, a pipe that would never end), over ``_MAX_BYTES`` or not a
    JSON list; entries of another shape are skipped."""
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
        table = json.loads(data)
    except ValueError:
        return None
    if not isinstance(table, list):
        return None
    routes: dict[tuple[str, str], None] = {}
    for entry in table:
        if len(routes) >= _MAX_ROUTES:
            break
        if not (isinstance(entry, list) and len(entry) == 2):
            continue
        method, route = entry
        if (
            isinstance(method, str)
            and method in _METHODS
            and isinstance(route, str)
            and route.startswith("/")
            and len(route) <= _MAX_PATH
            and route.isprintable()
        ):
            routes[(method, route)] = None
    return list(routes)
