"""Dependencies whose names npm refuses, left out of what it installs
(:func:`without_refused_names`).

A typo in an install command becomes a dependency: ``npm i - D`` (for ``-D``) wrote
``"-": "^0.0.1"`` and ``"D": "^1.0.0"`` into fcbento's nodejs-fastify-knex-sqlite-render.
npm 10.9 and later refuse the first ("name cannot start with a hyphen") before installing
anything, so the app never starts, though it imports neither. A name npm refuses
cannot be imported by the app either (a module's name is its package's), so leaving it
out of package.json and its lockfile, saying so, changes nothing the app runs. A name
npm only warns about (capitals: ``D``, ``JSONStream``) stays.

Likewise a dependency fetched from a git host (``git+https://github.com/…``,
``github:user/repo``, ``user/repo``), which the build cannot reach (it reaches the
registry only), where the app's own sources, outside its tests, never require or import
it: resolritter's koa-knex-starter lists its integration tests' port server so, and npm
failed the whole install on it. One the app imports is taken from the registry under its
name instead, its newest release (saying so; where the registry has none, npm's failure
says so): chrisveness' koa-sample-web-app-api-mysql imports koa-lusca, which it takes from
a pull request's head on GitHub (``koajs/koa-lusca#pull/19/head``), and npm failed the
whole install on it. A package the lockfile takes from a git host for a registry package
that requires it (mysql2 2.2.3 required ``"@types/mysql": "github:types/mysql"``, locked
so by Rishav0907's express-movie-sql: ``git ls-remote ssh://git@github.com/types/mysql.git``
failed the install) is taken out of the lockfile with the package requiring it, which npm
then resolves again from package.json's range (mysql2 ^2.2.3: 2.3.3 requires none).

Likewise a dependency named as a Node built-in (``"http": "0.0.0"``, ``"fs"``), where no
bundler is among its dependencies: Node's ``require("http")`` loads the built-in whatever
node_modules holds, so the package is never loaded, while the registry holds most such
names only as placeholders (pirela's sequelize-api: npm found no version of http at all,
ENOVERSIONS, and the whole install failed). A bundler's browser build takes the registry's
polyfills of some (buffer, events, util): with one listed, they stay, but those no browser
build has (fs, child_process, net …).
"""

from __future__ import annotations

import json
import re

__all__ = ["NODE_BUILTINS", "without_refused_names"]

_TABLES = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
# npm's rule (validate-npm-package-name): URL-safe, not starting with a dot, an
# underscore or a hyphen; a scope's name likewise.
_PART = r"[A-Za-z0-9~][A-Za-z0-9._~-]*"
_VALID = re.compile(rf"(?:@{_PART}/)?{_PART}")
_LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")


# A dependency's spec naming a git repository, not a registry version.
_GIT_SPEC = re.compile(
    r"^(?:git(?:\+[a-z]+)?://|git@|(?:github|gitlab|bitbucket|gist):|\w[\w.-]*/[\w.-]+(?:#\S*)?$)"
)
_SOURCES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
_TEST_PATH = re.compile(
    r"(?:^|/)(?:node_modules|tests?|__tests__|spec|e2e|integration)/|\.(?:test|spec|e2e-spec)\."
)


# Node 20's built-in modules reached without ``node:`` (``require('module').builtinModules``).
NODE_BUILTINS = frozenset(
    [
        "assert",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "domain",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "inspector",
        "module",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "repl",
        "stream",
        "string_decoder",
        "sys",
        "timers",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
    ]
)
# Bundlers whose browser builds take the registry's polyfills of built-ins' names.
_BUNDLERS = frozenset(
    [
        "webpack",
        "browserify",
        "vite",
        "rollup",
        "parcel",
        "parcel-bundler",
        "esbuild",
        "react-scripts",
        "next",
    ]
)

# Built-ins no browser build has a polyfill of (node-libs-browser's ``null`` entries: a
# bundler stubs them out): the registry's package of the name is never taken even by a
# bundle (Desuma's express-learning lists ``"fs": "^0.0.1-security"`` beside webpack, and
# npm found no version of fs at all: ENOVERSIONS, the whole install failed).
_SERVER_ONLY = frozenset(
    [
        "async_hooks",
        "child_process",
        "cluster",
        "dgram",
        "diagnostics_channel",
        "dns",
        "fs",
        "http2",
        "inspector",
        "module",
        "net",
        "perf_hooks",
        "readline",
        "repl",
        "tls",
        "trace_events",
        "v8",
        "wasi",
        "worker_threads",
    ]
)


def _refused(name: str) -> bool:
    return len(name) > 214 or _VALID.fullmatch(name) is None


def _imported(name: str, files: dict[str, bytes]) -> bool:
    """Whether a source of the app's own, outside its tests, names module ``name``
    (``require("name")``, ``from 'name/sub'``, ``import("name")``) or a script runs it."""
    quoted = re.compile(rb"""["'`]""" + re.escape(name.encode()) + rb"""(?:/[^"'`]*)?["'`]""")
    for path, data in files.items():
        if path.endswith(_SOURCES) and not _TEST_PATH.search(path) and quoted.search(data):
            return True
    return False


def _case_twins(package: dict, table: dict, files: dict[str, bytes]) -> list[str]:
    """The names of ``table`` with a capital that another dependency of ``package`` spells
    in lower case, the code requiring none of them so (andrielcf's express-laboratorio
    lists ``"Express": "^3.0.1"`` beside ``"express": "^4.21.0"``: npm installed the one
    and the app's ``require('express')`` found nothing)."""
    lower = {
        n for key in _TABLES if isinstance(t := package.get(key), dict) for n in t if n.islower()
    }
    return [
        name
        for name in table
        if name != name.lower() and name.lower() in lower and not _imported(name, files)
    ]


def without_refused_names(files: dict[str, bytes]) -> tuple[dict[str, bytes], str | None]:
    """``files`` with package.json's (and its lockfile's) dependencies npm refuses the
    names of left out, and the note saying so; ``files`` itself and None when none is."""
    try:
        package = json.loads(files["package.json"])
    except (KeyError, ValueError, RecursionError):
        return files, None
    if not isinstance(package, dict):
        return files, None
    refused: list[str] = []
    builtins: list[str] = []
    bundled = any(isinstance(t := package.get(k), dict) and _BUNDLERS & set(t) for k in _TABLES)
    unreachable: list[str] = []
    registry: list[str] = []  # git ones the app imports: the registry's release instead
    twins: list[str] = []  # a capitalised copy of a listed name (``Express`` by ``express``)
    for key in _TABLES:
        table = package.get(key)
        if not isinstance(table, dict):
            continue
        for name in [n for n in table if _refused(n)]:
            del table[name]
            refused.append(name)
        for name in _case_twins(package, table, files):
            del table[name]
            twins.append(name)
        for name in [n for n in table if n in NODE_BUILTINS and (n in _SERVER_ONLY or not bundled)]:
            del table[name]
            builtins.append(name)
        for name, spec in list(table.items()):
            git = isinstance(spec, str) and _GIT_SPEC.match(spec.strip())
            if git and not _imported(name, files):
                del table[name]
                unreachable.append(name)
            elif git and not _refused(name):
                table[name] = "*"
                registry.append(name)
    relocked = [
        (lockname, names)
        for lockname in _LOCKFILES
        if lockname in files and (names := _git_locked(files[lockname]))
    ]
    # (a locked package's own dependency under a name npm refuses: one the registry
    # mirror it was locked from kept, "// console-control-strings" of gauge and npmlog)
    nested = {
        lockname: cleaned
        for lockname in _LOCKFILES
        if lockname in files and (cleaned := _without_nested_refused(files[lockname]))
    }
    listed = refused or builtins or unreachable or registry or twins
    if not listed and not relocked and not nested:
        return files, None
    changed = {**files, "package.json": json.dumps(package, indent=2).encode()}
    if not listed:
        changed = dict(files)
    changed.update(nested)
    for lockname, names in relocked:
        changed[lockname] = _unlocked(changed[lockname], names)
    for lockname in _LOCKFILES:
        if lockname in files:
            gone = {*refused, *builtins, *unreachable, *registry, *twins}
            lock = _without(changed[lockname], gone)
            if lock is not None:
                changed[lockname] = lock
    said = []
    if nested:
        said.append(
            f"{', '.join(nested)}: the dependencies of its packages under names npm refuses "
            "left out (npm failed the whole install on them)"
        )
    if relocked:
        names = ", ".join(sorted({n for _, found in relocked for n in found}))
        said.append(
            f"{names} taken out of its lockfile: locked from a git host (the build reaches "
            "the registry only), or requiring a package so locked; npm resolves them again"
        )
    if refused:
        names = ", ".join(json.dumps(n) for n in dict.fromkeys(refused))
        said.append(f"left out {names}, a dependency npm refuses the name of")
    if twins:
        names = ", ".join(json.dumps(n) for n in dict.fromkeys(twins))
        said.append(
            f"left out {names}, a capitalised copy of a dependency it lists in lower case, "
            "which its code requires"
        )
    if builtins:
        names = ", ".join(json.dumps(n) for n in dict.fromkeys(builtins))
        said.append(f"left out {names}, named as a Node built-in, which require() loads instead")
    if unreachable:
        names = ", ".join(json.dumps(n) for n in dict.fromkeys(unreachable))
        said.append(
            f"left out {names}, fetched from a git host (the build reaches the registry "
            "only), which none of the app's sources outside its tests imports"
        )
    if registry:
        names = ", ".join(json.dumps(n) for n in dict.fromkeys(registry))
        said.append(
            f"{names}, which the app imports, fetched from a git host (the build reaches "
            "the registry only): the registry's newest release of that name instead"
        )
    return changed, ("package.json: " if listed else "") + "; ".join(said)


def _without(content: bytes, names: set[str]) -> bytes | None:
    """The lockfile with ``names`` taken out of its root's dependencies and packages (both
    formats: ``packages`` of v2/v3, ``dependencies`` of v1), so that ``npm ci`` still
    finds it in step with package.json; None when it does not parse."""
    try:
        lock = json.loads(content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(lock, dict):
        return None
    packages = lock.get("packages")
    if isinstance(packages, dict):
        root = packages.get("")
        for key in _TABLES:
            table = root.get(key) if isinstance(root, dict) else None
            if isinstance(table, dict):
                for name in names & set(table):
                    del table[name]
        for name in names:
            packages.pop(f"node_modules/{name}", None)
    v1 = lock.get("dependencies")
    if isinstance(v1, dict):
        for name in names:
            v1.pop(name, None)
    return json.dumps(lock, indent=2).encode()


def _without_nested_refused(content: bytes) -> bytes | None:
    """The lockfile with every locked package's dependencies under a name npm refuses
    taken out (aomandeshangxiao's express-service: ``"// console-control-strings":
    "^1.0.0"`` among gauge's and npmlog's, "EINVALIDPACKAGENAME", nothing installed);
    None where it has none, or does not parse."""
    try:
        lock = json.loads(content)
    except (ValueError, RecursionError):
        return None
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return None
    found = False
    for path, entry in packages.items():
        if not path or not isinstance(entry, dict):
            continue
        for key in _TABLES:
            table = entry.get(key)
            if isinstance(table, dict):
                for name in [n for n in table if _refused(n)]:
                    del table[name]
                    found = True
    return json.dumps(lock, indent=2).encode() if found else None


def _git_locked(content: bytes) -> set[str]:
    """The packages a lockfile's top level locks from a git host, and those requiring one
    by a git spec (module doc); both formats."""
    try:
        lock = json.loads(content)
    except (ValueError, RecursionError):
        return set()
    if not isinstance(lock, dict):
        return set()
    found: set[str] = set()
    entries: dict[str, object] = {}
    if isinstance(v1 := lock.get("dependencies"), dict):
        entries.update(v1)
    if isinstance(packages := lock.get("packages"), dict):
        entries.update(
            {
                k.removeprefix("node_modules/"): v
                for k, v in packages.items()
                if k.count("node_modules/") == 1 and k.startswith("node_modules/")
            }
        )
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        version, resolved = str(entry.get("version", "")), str(entry.get("resolved", ""))
        wanted = {**_strings(entry.get("requires")), **_strings(entry.get("dependencies"))}
        if (
            _GIT_SPEC.match(version)
            or resolved.startswith(("git+", "git:", "github:"))
            or any(_GIT_SPEC.match(spec) for spec in wanted.values())
        ):
            found.add(name)
    return found


def _strings(table: object) -> dict[str, str]:
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(v, str)}


def _unlocked(content: bytes, names: set[str]) -> bytes:
    """The lockfile without its top-level entries for ``names`` (their ranges in its root
    stay: npm resolves them again)."""
    lock = json.loads(content)
    if isinstance(packages := lock.get("packages"), dict):
        for name in names:
            packages.pop(f"node_modules/{name}", None)
    if isinstance(v1 := lock.get("dependencies"), dict):
        for name in names:
            v1.pop(name, None)
    return json.dumps(lock, indent=2).encode()
