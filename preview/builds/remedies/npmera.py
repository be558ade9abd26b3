"""A Node app with no lockfile installed as of its era, where today's versions fail it:
:func:`node_era_fix` (npm's own ``install --before``).

A package.json alone says ranges (``"@nestjs/typeorm": "^8.0.2"``, ``"typeorm":
"^0.2.37"``); installed today, each comes at the newest its range allows, and what those
depend on at their newest: @nestjs/typeorm 8.1, written for typeorm 0.3, beside the app's
typeorm 0.2 (kasrak2k's nest-crud-role-permision: 18 TypeScript errors, some in
node_modules' declarations). A human installs the versions of the app's own day, and the
app says which day that is, as a Python app's pins do (``era``): npm writes
``^<the version it installed>``, so the floors of its ranges are what its author
installed, and the newest of their releases (the registry's ``time``) dates it
(:func:`read_node_era`). The upload itself has no date to read (the service keeps no
file's time, nor a repository's). Where its failure points at its dependencies
(:func:`dependency_failure`: TypeScript errors located in node_modules, "is not a
function" or an option required raised in a package's code, "does not provide an export
named" of a package, a package's exports refusing a path the app imports, npm's peer
conflict), the next attempt installs as of that day and :data:`MARGIN` after (``npm
install --before``): every floor still installs, since none was released later.

An app with a lockfile has no era (what it installs is its lock's), nor one whose ranges
name no version (``*``, ``latest``, a git URL). A registry whose ``time`` lacks its
``created`` (a mirror recording when it copied each release, not when it was published:
every version of a package dated within days) dates nothing: ``--before`` reads the same
field, and would find no version at all (npm's ENOVERSIONS). There, the app is installed
at its ranges' floors instead (:func:`floor_pins`: ``^8.0.2`` as ``8.0.2``), the versions
its author installed, what they depend on at the newest their own ranges allow.
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx
import trio

from ...store.revisions import NODE_LOCKFILES
from ..npmlock import REGISTRY
from ..toolerrors import NPM_PEER_CONFLICT
from .fixes import MARGIN, Era, Fix

__all__ = [
    "dependency_failure",
    "floor_pins",
    "floors",
    "locked",
    "node_era_fix",
    "read_node_era",
    "released",
]

_TABLES = ("dependencies", "devDependencies")
_QUERY_TIME = 20.0  # s for all of an app's queries; then what is known so far counts
_CONCURRENT = 8
_MAX_DOCUMENT = 48 * 1024 * 1024  # a package's document larger than this is not read
_KEPT = 256  # eras read (by package.json), at most
_ERAS: dict[bytes, Era | None] = {}
# A range's floor: ``^8.0.2``, ``~1.2.3``, ``>=1.2.3``, ``=1.2.3``, ``1.2.3`` (one
# comparator; ``1.x``, ``*``, ``||`` alternatives, tags and URLs name no day).
_FLOOR = re.compile(r"^\s*(?:\^|~|>=|=|v)?\s*(\d+\.\d+\.\d+(?:-[\w.]+)?)\s*$")
# tsc's error located in a dependency's file: ``node_modules/x/y.d.ts(3,5): error TS2305``
# (plain) or ``node_modules/x/y.d.ts:3:5 - error TS2305`` (pretty), and the one-line
# reason the build gives ("TypeScript: 18 errors in 7 files (…, …/node_modules/…)").
_TS_IN_DEPENDENCY = re.compile(r"node_modules/\S+?\.d\.[cm]?ts\b.*\berror TS\d+")
_TS_REASON = re.compile(r"TypeScript: \d+ errors? in .*node_modules/\S+?\.d\.[cm]?ts")
_NOT_A_FUNCTION = re.compile(r"\bis not a (?:function|constructor)\b")
# A package refusing options its later releases require (hono's newest 4.x jwt()
# requires ``alg``: Lightnet's minimal_module_js, ``"hono": "^4.7.7"``, no lockfile, its
# ``jwt({ secret, cookie })`` at start-up: 'JWT auth middleware requires options for
# "alg"'; its floors served), thrown by the package's code.
_OPTION_REQUIRED = re.compile(
    r"\brequires? (?:the )?options?\b|\boptions? [\"'`]?\w+[\"'`]? (?:is|are) required\b"
)
_THROWN = re.compile(r"^\s*(?:Uncaught )?\w*Error\b")  # the error's own line (not its source's)
_FRAME = re.compile(r"^\s*at ")
_FRAME_IN_DEPENDENCY = re.compile(r"^\s*at .*node_modules/")
# ESM's: "The requested module 'typeorm' does not provide an export named 'DataSource'"
# (a package's, not the app's own './x.js').
_NO_EXPORT = re.compile(
    r"requested module '([^'./][^']*)' does not provide an export named '([^']+)'"
)

# A package's "exports" refusing a subpath the app imports, which its older releases, with
# no exports map, let node resolve elsewhere (vjorihoxha's ts-typeorm-express-auth imports
# 'typeorm/entities/User', its own src/typeorm/ by NODE_PATH; typeorm 0.2.45 has exports,
# 0.2.41 had none): Node's "Package subpath … is not defined by "exports"", or its
# "Cannot find module '…node_modules/typeorm/entities/User.js'" (group 1 or 2: the package).
_NOT_EXPORTED = re.compile(
    r"""Package subpath '[^']+' is not defined by "exports" in \S*?node_modules/"""
    r"""((?:@[\w.-]+/)?[\w.-]+)/package\.json"""
    r"""|Cannot find module '(?:[^']*/)?node_modules/((?:@[\w.-]+/)?[\w.-]+)/[^']+'"""
)


def locked(files: dict[str, bytes], folder: str = "") -> bool:
    """Whether the app (its package.json in ``folder``) has a lockfile."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    return any(f"{prefix}{name}" in files for name in NODE_LOCKFILES)


def dependency_failure(message: str, lines: list[str]) -> str | None:
    """How a failure points at the app's dependencies, in a few words; None where it does
    not (the app's own code, a service's absence, its configuration)."""
    texts = [message, *lines]
    if any(_TS_IN_DEPENDENCY.search(t) or _TS_REASON.search(t) for t in texts):
        return "TypeScript errors in its dependencies' declarations (node_modules)"
    if any(NPM_PEER_CONFLICT in t or "ERESOLVE" in t for t in texts):
        return "npm's peer dependency conflict (ERESOLVE)"
    for text in texts:
        if (found := _NO_EXPORT.search(text)) is not None:
            return f"{found.group(1)} does not provide an export named {found.group(2)}"
        if (refused := _NOT_EXPORTED.search(text)) is not None:
            package = refused.group(1) or refused.group(2)
            return f"{package}'s exports do not include a path the app imports"
    for index, line in enumerate(lines):
        required = _OPTION_REQUIRED.search(line) and _THROWN.match(line)
        if _NOT_A_FUNCTION.search(line) is None and not required:
            continue
        # Raised in a package's code: the first frame under it is one (a package's frames
        # further down, express calling the app's handler, say nothing).
        top = next((f for f in lines[index + 1 :] if _FRAME.match(f)), "")
        if _FRAME_IN_DEPENDENCY.match(top):
            return f"{line.strip()[:160]} (raised in a package's code)"
    return None


def floors(package_json: bytes) -> dict[str, str]:
    """The lowest version each of the app's ranges allows, by package ({} where
    package.json is not an object)."""
    try:
        package = json.loads(package_json)
    except (ValueError, RecursionError):
        return {}
    found: dict[str, str] = {}
    for key in _TABLES:
        table = package.get(key) if isinstance(package, dict) else None
        for name, wanted in table.items() if isinstance(table, dict) else ():
            match = _FLOOR.match(wanted) if isinstance(wanted, str) else None
            if match is not None and re.fullmatch(r"(@[\w.-]+/)?[\w.-]+", name):
                found.setdefault(name, match.group(1))
    return found


def floor_pins(package_json: bytes) -> bytes | None:
    """package.json with each range that names a floor pinned to it (``^8.0.2`` as
    ``8.0.2``); None where none changes."""
    wanted = floors(package_json)
    package = json.loads(package_json) if wanted else None
    if not isinstance(package, dict):
        return None
    changed = False
    for key in _TABLES:
        table = package.get(key)
        if not isinstance(table, dict):
            continue
        for name in table:
            if name in wanted and table[name] != wanted[name]:
                table[name], changed = wanted[name], True
    return (json.dumps(package, indent=2) + "\n").encode() if changed else None


def released(document: object, version: str) -> str | None:
    """The day ``version`` was published by a registry's package document ("2021-08-13"),
    None where it does not say: no such version, or a ``time`` without ``created`` (a
    mirror's times: see the module doc)."""
    times = document.get("time") if isinstance(document, dict) else None
    if not isinstance(times, dict) or not isinstance(times.get("created"), str):
        return None
    day = times.get(version)
    return day[:10] if isinstance(day, str) and re.match(r"\d{4}-\d\d-\d\d", day) else None


Fetch = Callable[[set[str]], Awaitable[dict[str, object]]]


async def read_node_era(package_json: bytes, fetch: Fetch | None = None) -> Era | None:
    """The era of an app's package.json: the newest release among its ranges' floors
    (asked of the registry once per package.json, bounded in time); None where none was
    dated. ``fetch``: the packages' documents by name (the registry's, by default)."""
    if package_json in _ERAS:
        return _ERAS[package_json]
    wanted = floors(package_json)
    if not wanted:
        return None
    documents = await (fetch or _documents)(set(wanted))
    dates = [
        (day, f"{name}@{version}")
        for name, version in wanted.items()
        if (day := released(documents.get(name), version)) is not None
    ]
    era = Era(*max(dates)) if dates else None
    if documents:  # the registry answered (else asked again next time)
        _ERAS[package_json] = era
        while len(_ERAS) > _KEPT:
            _ERAS.pop(next(iter(_ERAS)))
    return era


async def node_era_fix(
    files: dict[str, bytes], message: str, lines: list[str], fetch: Fetch | None = None
) -> Fix | None:
    """The install as of the app's era, where it has no lockfile and its failure points
    at its dependencies (see the module doc); None otherwise."""
    if "package.json" not in files or locked(files):
        return None
    why = dependency_failure(message, lines)
    if why is None:
        return None
    era = await read_node_era(files["package.json"], fetch)
    if era is None:
        pinned = floor_pins(files["package.json"])
        if pinned is None:
            return None
        name, floor = next(iter(floors(files["package.json"]).items()))
        said = (
            f"no lockfile: installed at the versions its ranges name (their floors, what its "
            f"author installed: {name} {floor}, …), where today's versions fail its build: "
            f"{why} (the registry gives no release times to date its era by, which npm "
            "install --before reads)"
        )
        return Fix(said, floors=True)
    said = (
        f"no lockfile: installed as of {era.until[:10]}, the app's era, where today's "
        f"versions fail its build: {why} ({MARGIN.days} days after {era.pin}, released "
        f"{era.day}, the newest of its ranges' floors; npm install --before)"
    )
    return Fix(said, before=era.until)


async def _documents(names: set[str]) -> dict[str, object]:
    """Each package's document from the registry, as far as it answered within
    :data:`_QUERY_TIME`."""
    found: dict[str, object] = {}
    with trio.move_on_after(_QUERY_TIME):
        limiter = trio.CapacityLimiter(_CONCURRENT)
        async with httpx.AsyncClient(
            verify=ssl.create_default_context(),
            trust_env=True,
            follow_redirects=True,
            timeout=_QUERY_TIME,
            headers={"Accept": "application/json"},
        ) as client:

            async def one(name: str) -> None:
                async with limiter:
                    body = await _document(client, REGISTRY + quote(name, safe="@"))
                if body is not None:
                    with contextlib.suppress(ValueError, RecursionError):
                        found[name] = await trio.to_thread.run_sync(json.loads, body)

            async with trio.open_nursery() as nursery:
                for name in sorted(names):
                    nursery.start_soon(one, name)
    return found


async def _document(client: httpx.AsyncClient, url: str) -> bytes | None:
    body = bytearray()
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                return None
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > _MAX_DOCUMENT:
                    return None
    except httpx.HTTPError:
        return None
    return bytes(body)
