"""A package a Node app's own module requires and its package.json does not list:
:func:`missing_module_fix`, which adds it (npm's registry having it).

Its author had it installed (a global install, one ``npm install`` without ``--save``,
a dependency of another package that later dropped it), so the app ran there; here its
start ends in "Cannot find module 'callsite'" with a require stack whose first module
is the app's own (wangxiang365's node-koa-typescript: src/utils/logUtil.ts requires
callsite for its log lines' numbers). The package is added beside the app's own and the
launch starts again, said as a fix. Not where the module that requires it is a
dependency's (a peer of one: the era's, ``npmera``), nor a Node built-in, a path (``./``,
``/``, ``#`` imports, a folder of the upload its ``NODE_PATH`` or ``paths`` resolve), nor
a name the registry does not have (the app's own typo stays its failure). Likewise a
package a module of the app requires by its own name (passport.js requiring passport),
which Node resolved to that module itself by ``NODE_PATH`` (:func:`self_required_package`).
"""

from __future__ import annotations

import json
import posixpath
import re
import ssl
from collections.abc import Callable, Collection
from functools import partial
from urllib.parse import quote

import httpx
import trio

from ...apps.node.nodedeps import lock_version, resolved_by_yarn
from ...apps.node.refusednames import NODE_BUILTINS
from ...logs import JS_FRAME
from ..npmlock import REGISTRY
from .fixes import Fix
from .npmera import floors

__all__ = [
    "asked_package",
    "default_binding",
    "installed_versions",
    "missing_module_fix",
    "missing_package",
    "older_major_fix",
    "peer_placement_fix",
    "registry_has",
    "registry_peer_fit",
    "self_required_package",
    "unlisted_requires",
]

_MISSING = re.compile(r"""Cannot find (?:module|package) ['"]([^'"\s]+)['"]""")
_REQUIRED_BY = re.compile(r"^\s*-\s+(\S.*)$")  # a require stack's line: "- src/app.ts"
_IMPORTED_FROM = re.compile(r"imported from (\S+)")  # Node's ESM loader says it so
_QUOTED = re.compile(r"'([^']+)'")  # a require stack's entry in the error's fields
# Bun says it so: "Cannot find package 'kafkajs' from 'src/index.tsx'"
_BUN_FROM = re.compile(r"""Cannot find (?:module|package) ['"][^'"\s]+['"] from ['"]([^'"]+)['"]""")
_NAME = re.compile(r"^(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*$")


def missing_package(
    message: str, lines: list[str], files: dict[str, bytes], listed: set[str]
) -> tuple[str, str] | None:
    """(the package to add, the app's module requiring it) where the failure is a bare
    module its own module requires and nothing lists (see the module doc); else None."""
    texts = [message, *lines]
    found = next((m for t in texts if (m := _MISSING.search(t)) is not None), None)
    if found is None:
        return None
    specifier = found.group(1)
    if specifier.startswith((".", "/", "#", "node:", "~", "@/")) or ":" in specifier:
        return None
    parts = specifier.split("/")
    package = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    if package in NODE_BUILTINS or package in listed or not _NAME.match(package):
        return None
    if any(p == package or p.startswith((f"{package}/", f"{package}.")) for p in _tops(files)):
        return None  # a folder or module of the upload's own, resolved by a path setting
    if _imported_by_path(files, specifier):
        # A module of the app's its log names by its path alone (ESM's "Cannot find module
        # '/app/config.js' imported from …", the folder cut): Mat0wa3's Express-ejemplo
        # imports ``./config.js``, which it lacks; the npm package "config.js" was added.
        return None
    requirer = _first_requirer(texts)
    quoted = re.compile(rf"""["']{re.escape(specifier)}["']""").search
    if requirer is None or (
        requirer in files and not quoted(files[requirer].decode("utf-8", "replace"))
    ):
        requirer = _importer(files, specifier) or requirer  # a frame above the requiring one
    if requirer is None or "node_modules/" in requirer or "<environment>" in requirer:
        return None
    return package, requirer


# A value of a module the app calls a method of, which has none: "TypeError: passport.use
# is not a function".
_NO_METHOD = re.compile(
    r"TypeError: (?:\(0\s*,\s*)?([A-Za-z_$][\w$]*)\.[\w$.]+\)? is not a (?:function|constructor)\b"
)
# A module's path less its suffix, and its folder's where it is an index: the name a
# require of it by a bare specifier would give (``passport.js``, ``passport/index.js``).
_MODULE_SUFFIX = re.compile(r"(?:/index)?\.[cm]?[jt]sx?$")


def self_required_package(
    message: str, lines: list[str], files: dict[str, bytes], listed: set[str]
) -> tuple[str, str] | None:
    """(the package to add, the app's module requiring it) where that module requires a
    package by its own name (passport.js's ``const passport = require('passport')``), the
    package is not listed, and Node, finding none in node_modules, resolved the name to
    the module itself by ``NODE_PATH`` (the app's directory, for rootpath's requires): its
    own unfinished exports, so a call of the package's method failed ("TypeError:
    passport.use is not a function"). Dimitrius504's JeopardyGameExpressHBS: its app
    folder's package.json lists no passport, the repository's root's did. None otherwise."""
    texts = [message, *lines]
    called = next((m for t in texts if (m := _NO_METHOD.search(t)) is not None), None)
    if called is None:
        return None
    name = called.group(1)
    frame = next((m for t in texts if (m := JS_FRAME.match(t)) is not None), None)
    if frame is None:
        return None
    path = frame.group(1).removeprefix("./")
    if path not in files:
        return None
    stem = _MODULE_SUFFIX.sub("", path)
    if stem in NODE_BUILTINS or stem in listed or not _NAME.match(stem):
        return None
    binds = re.compile(
        rf"""\b(?:const|let|var)\s+{re.escape(name)}\s*=\s*require\(\s*["']{re.escape(stem)}["']\s*\)"""
        rf"""|\bimport\s+(?:\*\s+as\s+)?{re.escape(name)}\s+from\s+["']{re.escape(stem)}["']"""
    )
    if binds.search(files[path].decode("utf-8", "replace")) is None:
        return None
    return stem, path


def _imported_by_path(files: dict[str, bytes], specifier: str) -> bool:
    """Whether a module of the app imports ``specifier`` by a relative path ending in it
    (``from './config.js'``, ``require('../lib/config.js')``)."""
    if "/" in specifier or "." not in specifier:
        return False
    named = re.compile(rf"""["']\.{{1,2}}/(?:[^"'\s]*/)?{re.escape(specifier)}["']""").search
    return any(
        named(data.decode("utf-8", "replace"))
        for path, data in files.items()
        if path.endswith((".js", ".cjs", ".mjs", ".ts", ".mts", ".cts"))
        and specifier.encode() in data
    )


# A frame of the module that ran the require, in a trace whose require stack was cut off
# (the failure's last lines alone are kept): ``at Object.<anonymous> (src/utils/email.ts:4:20)``.
_FRAME = re.compile(r"^\s*at Object\.<anonymous> \(([^()\s]+?):\d+:\d+\)")


def _importer(files: dict[str, bytes], specifier: str) -> str | None:
    """The app's module that requires or imports ``specifier`` (not a test's, nor a
    build's output), where the failure's lines no longer show its require stack."""
    quoted = re.compile(rf"""(?:require\(\s*|from\s+|import\s+)["']{re.escape(specifier)}["']""")
    for path in sorted(files):
        if not path.endswith((".js", ".cjs", ".mjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")):
            continue
        if re.search(
            r"(?:^|/)(?:node_modules|dist|build|tests?|__tests__)/|\.(?:spec|test)\.", path
        ):
            continue
        if quoted.search(files[path][:262144].decode("utf-8", "replace")):
            return path
    return None


def _tops(files: dict[str, bytes]) -> set[str]:
    """The upload's paths from its root and from one folder down (``src/config``)."""
    return {p for path in files for p in (path, path.partition("/")[2]) if p}


def _first_requirer(texts: list[str]) -> str | None:
    """The module that required the missing one: the require stack's first line (or the
    error's ``requireStack`` field, printed last: the stack above it may be cut from the
    failure's lines), the ESM loader's "imported from", or Bun's "from" (brnovasco's
    sse-hono: "Cannot find package 'kafkajs' from 'src/index.tsx'", which no rule read)."""
    for index, text in enumerate(texts):
        if "Require stack:" in text:
            following = texts[index + 1 : index + 2]
            match = _REQUIRED_BY.match(following[0]) if following else None
            return match.group(1).strip() if match else None
        if "requireStack: [" in text:  # the error's own fields, printed after its stack
            inline = _QUOTED.search(text.partition("requireStack: [")[2])
            following = texts[index + 1 : index + 2]
            match = inline or (_QUOTED.search(following[0]) if following else None)
            return match.group(1) if match else None
        if (imported := _IMPORTED_FROM.search(text) or _BUN_FROM.search(text)) is not None:
            return imported.group(1)
    frames = (m.group(1) for t in texts if (m := _FRAME.match(t)) is not None)
    return next(frames, None)


def peer_placement_fix(files: dict[str, bytes], message: str, lines: list[str]) -> Fix | None:
    """A yarn-locked app's install honouring its packages' peer dependencies, where a
    package's own code could not find another's module: the tree npm placed with
    --legacy-peer-deps (as yarn, which checks no peer, resolved it) hoisted the package
    beside another major of its peer than the one it needs (valdenirtrevisan's
    poc-fastify: ajv-draft-04, whose peer is ajv 8, at the top beside eslint's ajv 6:
    "Cannot find module 'ajv/dist/core'"); npm honouring peers places it beside its own.
    None where the app's tree is not yarn's, or the module is the app's to require."""
    if not resolved_by_yarn(files):
        return None
    texts = [message, *lines]
    found = next((m for t in texts if (m := _MISSING.search(t)) is not None), None)
    if found is None or found.group(1).startswith((".", "/", "#", "node:")):
        return None
    requirer = _first_requirer(texts)
    if requirer is None or "node_modules/" not in requirer:
        return None
    package = re.sub(r"^.*node_modules/((?:@[^/]+/)?[^/]+)/.*$", r"\1", requirer)
    return Fix(
        f"{package} could not find {found.group(1)}: the tree yarn.lock gives was installed "
        "with --legacy-peer-deps (yarn checks no peer dependency), which placed it beside "
        "another release of its peer; installing again with its packages' peer "
        "dependencies honoured",
        peers=True,
    )


# A package a failure asks for in words (see the module doc): a library's ``… requires
# chokidar to be installed``, Sequelize's ``Please install pg package manually``, pino's
# transport its logger names (llimllib's testing-render-fastify: ``target: "pino-pretty"``
# in development, not listed: "unable to determine transport target for "pino-pretty"").
_ASKED_IN_WORDS = re.compile(
    r"""\brequires? [`'"]?((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)[`'"]? to be installed\b"""
    r"""|\b[Pp]lease install [`'"]?((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)[`'"]? package\b"""
    r"""|\bunable to determine transport target for ["']"""
    r"""((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)["']"""
    # Nest's PackageLoader: 'please, ensure to install the "@nestjs/platform-socket.io"
    # package ($ npm install @nestjs/platform-socket.io)' (JoseManuelYC's nestjswebsocket)
    r"""|\binstall the [`'"]((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)[`'"] package\b"""
    # TypeORM's DriverPackageNotInstalledError: 'Postgres package has not been found
    # installed. Please run "npm install pg".' (dkshi's nestjsHotel: typeorm came with
    # @nestjs/typeorm, added for it, and its driver with neither)
    r"""|\b[Pp]lease run [`'"]npm (?:install|i) ((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)[`'"]"""
)


def asked_package(message: str, lines: list[str], listed: set[str]) -> str | None:
    """The package a failure asks to have installed (see the module doc), where the app
    lists none of that name and it is no Node built-in; None otherwise."""
    for text in (message, *lines):
        if (found := _ASKED_IN_WORDS.search(text)) is None:
            continue
        package = next(group for group in found.groups() if group)
        if package in NODE_BUILTINS or package in listed:
            return None
        return package
    return None


async def missing_module_fix(
    files: dict[str, bytes], message: str, lines: list[str], listed: set[str]
) -> Fix | None:
    """The package to add for a failure naming a module the app's own code requires and
    does not list, where the registry has it (see the module doc); None otherwise."""
    found = missing_package(message, lines, files, listed)
    if found is None and (itself := self_required_package(message, lines, files, listed)):
        package, requirer = itself
        if not await registry_has(package):
            return None
        said = (
            f"{package} added: {requirer} requires it by its own name and package.json lists"
            " none, so Node resolved the name to that module itself (its folder is on"
            " NODE_PATH); the registry has it"
        )
        return await _at_its_fitting_release(package, said, files)
    if found is None:
        asked = asked_package(message, lines, listed)
        if asked is None or not await registry_has(asked):
            return None
        said = (
            f"{asked} added: the failure asks for it to be installed and package.json lists "
            "none (npm installs no optional peer of a dependency); the registry has it"
        )
        return await _at_its_fitting_release(asked, said, files)
    package, requirer = found
    if not await registry_has(package):
        return None
    said = (
        f"{package} added: {requirer} requires it and package.json lists none (Cannot "
        f"find module); the registry has it, its author's machine had it installed"
    )
    fix = await _at_its_fitting_release(package, said, files)
    loaded = _reachable(files, [requirer, *_require_stack([message, *lines])])
    others = [
        other
        for other in unlisted_requires(files, listed | {package}, loaded)[:_MOST_BESIDE]
        if await registry_has(other)
    ]
    if not others or fix.add is None:
        return fix
    return Fix(
        f"{fix.said}; with {', '.join(others)}, which its other modules require and it"
        " lists none of either",
        add="\n".join([fix.add, *others]),
    )


_MOST_BESIDE = 8  # packages added beside the one a failure named, at most
# A bare module its code requires or imports (``require('dotenv')``, ``from 'passport'``).
_BARE_REQUIRE = re.compile(
    r"""(?:\brequire\(\s*|\bfrom\s+|\bimport\s+)["']((?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)"""
    r"""(?:/[^"'\s]*)?["']"""
)
_NOT_OWN_CODE = re.compile(
    r"(?:^|/)(?:node_modules|dist|build|public|static|tests?|__tests__|coverage)/|\.(?:spec|test)\."
)


def _require_stack(texts: list[str]) -> list[str]:
    """The modules of a failure's require stack ("- routes/index.js" after "Require
    stack:"), the one requiring the missing module first, the entry last."""
    stack: list[str] = []
    for index, text in enumerate(texts):
        if "Require stack:" in text:
            for line in texts[index + 1 :]:
                if (m := _REQUIRED_BY.match(line)) is None:
                    break
                stack.append(m.group(1).strip())
            break
    return stack


_RELATIVE = re.compile(r"""(?:\brequire\(\s*|\bfrom\s+|\bimport\s+)["'](\.{1,2}/[^"'\s]+)["']""")
_RESOLVED = ("", ".js", ".cjs", ".mjs", ".ts", ".json", "/index.js", "/index.ts")


def _reachable(files: dict[str, bytes], seeds: list[str]) -> dict[str, bytes]:
    """The modules of the upload the ``seeds`` (its start's, by a failure's require stack)
    load by their relative paths, and those they load, the seeds too: what the start runs
    (not a browser's bundle, nor a script beside it)."""
    found: dict[str, bytes] = {}
    todo = [seed for seed in seeds if seed in files]
    while todo and len(found) < 2000:
        path = todo.pop()
        if path in found:
            continue
        found[path] = files[path]
        for specifier in _RELATIVE.findall(files[path][:262144].decode("utf-8", "replace")):
            wanted = posixpath.normpath(posixpath.join(posixpath.dirname(path), specifier))
            resolved = next((wanted + e for e in _RESOLVED if wanted + e in files), None)
            if resolved is not None and resolved not in found:
                todo.append(resolved)
    return found


def unlisted_requires(
    files: dict[str, bytes], listed: set[str], loaded: Collection[str] | None = None
) -> list[str]:
    """The packages the app's modules (``loaded``, those its start loads, where given; not
    its tests, a build's output or its browser files) require by their bare names that
    nothing lists, no Node built-in, none a folder or module of its own
    (:func:`missing_package`'s rules), in the order first met: Dimitrius504's
    JeopardyGameExpressHBS, its app folder uploaded, lists none of the five its
    repository's root did (passport, dotenv …), each failing the start in turn."""
    found: dict[str, None] = {}
    tops = _tops(files)
    for path in sorted(files if loaded is None else loaded):
        code = path.endswith((".js", ".cjs", ".mjs", ".ts", ".mts", ".cts")) or "." not in path
        if not code or _NOT_OWN_CODE.search(path) or path not in files:
            continue
        text = files[path][:262144].decode("utf-8", "replace")
        for package in _BARE_REQUIRE.findall(text):
            if package in listed or package in NODE_BUILTINS or package in found:
                continue
            itself = _MODULE_SUFFIX.sub("", path) == package
            own = any(p == package or p.startswith((f"{package}/", f"{package}.")) for p in tops)
            if own and not itself:  # (a module requiring its own name: the package's)
                continue
            found[package] = None
    return list(found)


async def _at_its_fitting_release(package: str, said: str, files: dict[str, bytes]) -> Fix:
    """The fix adding ``package``, at the release whose peers the app's packages meet
    where its latest's do not (:func:`registry_peer_fit`)."""
    release = await registry_peer_fit(package, installed_versions(files))
    if release is not None:
        said += f", at {release}: the newest whose peer dependencies its packages meet"
        return Fix(said, add=f"{package}@{release}")
    return Fix(said, add=package)


def installed_versions(files: dict[str, bytes]) -> Callable[[str], str | None]:
    """How to read the version the app installs of a package: its package-lock.json's,
    top level (:func:`~preview.apps.node.nodedeps.lock_version`), else the floor of its
    package.json's range (``npmera``)."""
    try:
        lock = json.loads(files.get("package-lock.json", b"null"))
    except (ValueError, RecursionError):
        lock = None
    if isinstance(lock, dict) and (lock.get("packages") or lock.get("dependencies")):
        return partial(lock_version, lock)
    return floors(files.get("package.json", b"{}")).get


async def registry_peer_fit(package: str, installed: Callable[[str], str | None]) -> str | None:
    """The newest release of ``package`` (no prerelease) whose peer dependencies the
    app's ``installed`` versions (:func:`installed_versions`) meet (a peer it does not
    have is none of its concern), where its ``latest`` release's do not; None where those
    do, where none does, or where the registry cannot be read. JoseManuelYC's
    nestjswebsocket runs Nest 10 and its code requires @nestjs/websockets, which it does
    not list: its 12.1.1 wants @nestjs/common 12, installed beside 10 with
    --legacy-peer-deps it failed to load ("Cannot find module …/@nestjs/common/internal");
    10.4.x is the one."""
    from semantic_version import NpmSpec, Version  # lazy: only for a package to add

    document = await _registry_document(package)
    if document is None or not isinstance(versions := document.get("versions"), dict):
        return None

    def fits(release: object) -> bool:
        peers = release.get("peerDependencies") if isinstance(release, dict) else None
        for peer, wanted in (peers or {}).items() if isinstance(peers, dict) else ():
            have = installed(peer)
            try:
                if have is not None and not NpmSpec(str(wanted)).match(Version.coerce(have)):
                    return False
            except ValueError:
                continue  # a range or a version this reader does not know: no verdict
        return True

    tags = document.get("dist-tags")
    latest = tags.get("latest") if isinstance(tags, dict) else None
    if not isinstance(latest, str) or fits(versions.get(latest)):
        return None
    released = []
    for number in versions:
        try:
            version = Version(number)
        except ValueError:
            continue
        if not version.prerelease:
            released.append(version)
    return next((str(v) for v in sorted(released, reverse=True) if fits(versions[str(v)])), None)


# A value the app calls that is none: ``TypeError: koaBody is not a function`` (a
# bundler's ``(0 , koaBody) is not a function`` too).
_NOT_CALLABLE = re.compile(
    r"TypeError: (?:\(0\s*,\s*)?([A-Za-z_$][\w$]*)\)? is not a (?:function|constructor)\b"
)
_VERSION = re.compile(r"^(\d+)\.\d+\.\d+")


def default_binding(files: dict[str, bytes], package: str, name: str) -> str | None:
    """The app's own module binding ``name`` to ``package``'s default export (``const
    koaBody = require('koa-body')``, ``import koaBody from "koa-body"``); None for none."""
    quoted = rf"""["']{re.escape(package)}["']"""
    binds = re.compile(
        rf"""\b(?:const|let|var)\s+{re.escape(name)}\s*=\s*require\(\s*{quoted}\s*\)"""
        rf"""|\bimport\s+{re.escape(name)}\s+from\s+{quoted}"""
    )
    for path in sorted(files):
        if not path.endswith((".js", ".cjs", ".mjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")):
            continue
        if re.search(r"(?:^|/)(?:node_modules|dist|build)/", path):
            continue
        if binds.search(files[path].decode("utf-8", "replace")):
            return path
    return None


async def older_major_fix(
    files: dict[str, bytes], message: str, lines: list[str], added: str
) -> Fix | None:
    """For a package a fix added unversioned (:func:`missing_module_fix`: its newest
    release) whose default export the app's module then calls and finds no function:
    the releases below its newest major, which the app, naming none, was written against;
    and where those fail alike, below the major before (``added`` then ``name@<major``),
    down to :data:`_MAJORS_DOWN` majors below the newest. cashon1120's koa-bookstroe:
    ``const koaBody = require('koa-body')``, koa-body 8 (and 7, and 6) exporting ``{
    koaBody }`` alone: "TypeError: koaBody is not a function". None where the failure is
    another, or the value is bound to anything else (the app's own bug)."""
    found = next((m for t in [message, *lines] if (m := _NOT_CALLABLE.search(t))), None)
    added, *beside = added.split("\n")  # (the packages added with it: kept)
    package, _, below = added[1:].partition("@")
    package = added[0] + package
    if below and not re.fullmatch(r"<\d+", below):
        return None
    if found is not None:
        name, module = found.group(1), default_binding(files, package, found.group(1))
        failure = f"TypeError: {name} is not a function"
    elif (given := _given_where_a_function_was_wanted(files, [message, *lines], package)) is None:
        return None
    else:
        module, name = given
        failure = message.strip()[:120]
    if module is None:
        return None
    latest = await registry_latest(package)
    version = _VERSION.match(latest or "")
    if version is None:
        return None
    newest = int(version.group(1))
    major = int(below[1:]) - 1 if below else newest
    if major < 1 or newest - major >= _MAJORS_DOWN:
        return None
    said = (
        f"{package}@<{major} in place of {added if below else f'{package} {latest}'}: "
        f"{module} calls its default export ({name}), which "
        f"{'its newest major does' if not below else f'its {package}@{below} does'} not "
        f"export as one ({failure}); the app names no release of it"
    )
    return Fix(said, add="\n".join([f"{package}@<{major}", *beside]))


_MAJORS_DOWN = 3  # majors below a package's newest that an added package is taken to


def _given_where_a_function_was_wanted(
    files: dict[str, bytes], texts: list[str], package: str
) -> tuple[str, str] | None:
    """(the app's module, the name) where a failure saying a function was wanted (a
    library's own check: mongoose's "First param to `schema.plugin()` must be a function,
    got "object"", Node's 'The "callback" argument must be of type function') has its
    innermost frame of the app's own on a line passing ``package``'s default export, as
    that module binds it (Dimitrius504's JeopardyGameExpressHBS: ``adminSchema.plugin(plm)``,
    passport-local-mongoose 9 exporting ``{ default, errors }`` where 8 exported the
    plugin); None otherwise."""
    if not any(re.search(r"\bfunction\b", text) for text in texts[:2]):
        return None
    for text in texts:
        frame = JS_FRAME.match(text)
        path = frame.group(1).removeprefix("./") if frame is not None else None
        if frame is None or path is None or path not in files or "node_modules/" in path:
            continue
        lines = files[path].decode("utf-8", "replace").splitlines()
        number = int(frame.group(2))
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        for name in set(re.findall(r"[A-Za-z_$][\w$]*", line)):
            if default_binding({path: files[path]}, package, name) is not None:
                return path, name
        return None  # (the innermost of the app's frames: it alone tells)
    return None


_ASKED = 15.0  # s for the registry's answer
# npm's abbreviated document (its install metadata): a package's few kB, not its readmes'.
_ABBREVIATED = "application/vnd.npm.install-v1+json"


def _registry_client() -> httpx.AsyncClient:
    """A client of npm's registry asking for its abbreviated documents."""
    return httpx.AsyncClient(
        verify=ssl.create_default_context(),
        trust_env=True,
        follow_redirects=True,
        timeout=_ASKED,
        headers={"Accept": _ABBREVIATED},
    )


async def registry_has(package: str) -> bool:
    """Whether npm's registry has ``package`` (its abbreviated document answers 200)."""
    with trio.move_on_after(_ASKED):
        async with _registry_client() as client:
            try:
                async with client.stream("GET", REGISTRY + quote(package, safe="@")) as answer:
                    return answer.status_code == 200
            except httpx.HTTPError:
                return False
    return False


async def registry_latest(package: str) -> str | None:
    """The release npm's registry tags ``latest`` for ``package``; None where it cannot be
    read."""
    document = await _registry_document(package)
    tags = document.get("dist-tags") if document else None
    latest = tags.get("latest") if isinstance(tags, dict) else None
    return latest if isinstance(latest, str) else None


async def _registry_document(package: str) -> dict | None:
    """npm's abbreviated document of ``package`` (its releases' install metadata); None
    where it cannot be read."""
    with trio.move_on_after(_ASKED):
        async with _registry_client() as client:
            try:
                answer = await client.get(REGISTRY + quote(package, safe="@"))
            except httpx.HTTPError:
                return None
            if answer.status_code != 200 or len(answer.content) > _MOST_DOCUMENT:
                return None
            try:
                document = answer.json()
            except ValueError:
                return None
            return document if isinstance(document, dict) else None
    return None


_MOST_DOCUMENT = 8 * 1024 * 1024  # bytes of an abbreviated document read, at most
