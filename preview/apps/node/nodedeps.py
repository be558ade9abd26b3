"""A Node app's dependency set: its package.json and lockfile (:class:`NodeDeps`), with
the versions a ``pnpm-lock.yaml``, ``yarn.lock`` or ``bun.lock(b)`` locked written into its
package.json (npm reads none of them)."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

from .refusednames import without_refused_names

__all__ = [
    "DART_SASS",
    "DEPENDENCY_TABLES",
    "NodeDeps",
    "listed_once",
    "lock_version",
    "md4_bundler",
    "node_dependencies",
    "orm_drivers_unlisted",
    "override_name",
    "resolved_by_yarn",
]

# The tables of package.json whose packages npm installs.
DEPENDENCY_TABLES = ("dependencies", "devDependencies", "optionalDependencies")
_VERSION = re.compile(r"\d+\.\d+\.\d+[\w.+-]*")  # not link:, file:, a git commit
# A yarn.lock entry's version: classic's ``version "1.2.3"``, Berry's ``version: 1.2.3``,
# and npm's own writing of a yarn lockfile (npm 7 and later rewrite one they find beside
# package.json), its keys quoted: ``"version" "0.4.0"`` (SorielV's simple-nestjs-blog: its
# class-transformer locked at 0.4.0 was installed at 0.4.1, which lacks ``plainToClass``).
_YARN_VERSION = re.compile(r"""^\s+"?version"?:?\s+"?([^"\s]+)"?\s*$""")


@dataclass(frozen=True)
class NodeDeps:
    package_json: bytes
    lockfile: tuple[str, bytes] | None  # (name, content): package-lock.json or npm-shrinkwrap
    tools: tuple[str, ...] = ()  # packages added beside the app's own (tsx for a .ts entry)
    prisma: tuple[str, bytes] | None = None  # (path, content): the client generated from it
    note: str | None = None  # how package.json was changed (pnpm's locked versions), said
    # The app's own ranges of the dependencies pinned to a lockfile's versions: a version
    # the registry does not have (unpublished, or a mirror's gap) falls back to it.
    ranges: tuple[tuple[str, str], ...] = ()
    # The patches its install scripts apply to its dependencies (patch-package's
    # ``patches/``), (path, content) each: the environment is built beside them.
    patches: tuple[tuple[str, bytes], ...] = ()
    # Its tree was resolved by yarn (a yarn.lock, no npm lockfile), which checks no peer
    # dependency: npm installs it as yarn did, with --legacy-peer-deps, from the start.
    legacy_peers: bool = False
    # The packages of its tree given their lockfile's version by npm ``overrides``: one the
    # registry does not have any longer is given back to npm (``npmlock.restore_range``).
    overridden: tuple[str, ...] = ()
    # What npm installs resolved as of this time (``npm install --before``): a remedy's,
    # the era of an app with no lockfile (``remedies.npmera``); part of the key.
    before: str | None = None

    def key(self) -> str:
        digest = hashlib.sha256(self.package_json)
        if self.lockfile is not None:
            digest.update(self.lockfile[0].encode() + b"\0" + self.lockfile[1])
        if self.tools:
            digest.update(b"\0tools\0" + "\0".join(self.tools).encode())
        if self.prisma is not None:
            digest.update(b"\0prisma\0" + self.prisma[0].encode() + b"\0" + self.prisma[1])
        for path, content in self.patches:
            digest.update(b"\0patch\0" + path.encode() + b"\0" + content)
        if self.legacy_peers:
            digest.update(b"\0legacy-peer-deps")
        if self.before:
            digest.update(b"\0before\0" + self.before.encode())
        return "node-" + digest.hexdigest()[:24]


def node_dependencies(
    files: dict[str, bytes], tools: tuple[str, ...] = (), prisma: str | None = None
) -> NodeDeps | None:
    """The app's package.json and lockfile; ``tools``: packages the build adds;
    ``prisma``: the Prisma schema whose client the build generates."""
    if "package.json" not in files:
        return None
    files, refused = without_refused_names(files)
    deps = replace(_node_dependencies(files, tools, prisma), patches=_patches(files))
    deps = _dart_sass_for_node_sass(_without_unused_natives(files, deps))
    deps = _typescript_before_6(deps)
    if refused is None:
        return deps
    return replace(deps, note=f"{deps.note}; {refused}" if deps.note else refused)


# patch-package run by an install script (``"postinstall": "patch-package"``), and the
# folder it reads (``--patch-dir``, else patches/).
_PATCH_PACKAGE = re.compile(r"(?:^|[\s;&|(])patch-package(?:\s+--patch-dir[\s=]+(\S+))?")
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")


def _patches(files: dict[str, bytes]) -> tuple[tuple[str, bytes], ...]:
    """The patches patch-package applies in the app's install scripts (its folder's
    ``.patch`` files), which the build runs where the environment is made, apart from
    the upload: DmitriyMolochkov's koa-boilerplate patches bullmq to take its workers'
    file URLs ('File file://…/processor.ts does not exist' unpatched)."""
    try:
        package = json.loads(files["package.json"])
    except ValueError:
        return ()
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if not isinstance(scripts, dict):
        return ()
    for name in _INSTALL_SCRIPTS:
        script = scripts.get(name)
        found = _PATCH_PACKAGE.search(script) if isinstance(script, str) else None
        if found is not None:
            folder = (found.group(1) or "patches").strip("'\"").removeprefix("./").rstrip("/")
            return tuple(
                (path, files[path])
                for path in sorted(files)
                if path.startswith(f"{folder}/") and path.endswith(".patch") and ".." not in path
            )
    return ()


def _node_dependencies(
    files: dict[str, bytes], tools: tuple[str, ...], prisma: str | None
) -> NodeDeps:
    schema = (prisma, files[prisma]) if prisma is not None and prisma in files else None
    for name in ("npm-shrinkwrap.json", "package-lock.json"):
        if name in files:
            peers = tuple(p for p in _optional_peers(files[name]) if p not in tools)
            note = (
                f"{name}: {', '.join(peers)} installed beside (optional peers it locks, "
                "which npm ci leaves out)"
                if peers
                else None
            )
            lockfile = (name, files[name])
            package_json, once = listed_once(files["package.json"], files[name])
            note = "; ".join(n for n in (note, once) if n) or None
            return NodeDeps(package_json, lockfile, (*tools, *peers), schema, note)
    pinned = (
        _pinned(files, "pnpm-lock.yaml", _pnpm_locked, _pnpm_transitive, tools)
        or _pinned(files, "yarn.lock", _yarn_locked, _yarn_transitive, tools)
        or _pinned(files, "bun.lock", _bun_locked)
        or _pinned(files, "bun.lockb", _bun_binary_locked)
    )
    # sebapoole's fastify-typescript-knex-boilerplate, yarn-locked: knex 0.20's optional
    # peer pg 7 beside its pg 8, which npm refused (ERESOLVE) after 95 s of resolving, then
    # installed with the flag: the launch's time was gone before its build.
    yarn = resolved_by_yarn(files)
    if pinned is not None:
        package_json, note, ranges, overridden = pinned
        return NodeDeps(
            package_json,
            None,
            tools,
            schema,
            note,
            ranges,
            legacy_peers=yarn,
            overridden=overridden,
        )
    return NodeDeps(files["package.json"], None, tools, schema, legacy_peers=yarn)


# Native addons that are libraries alone (no command of theirs), compiled at install where
# no prebuilt binary of theirs is reached, and the words a use of one is written with (a
# require, Sequelize's or knex's dialect ``sqlite``).
_NATIVE_LIBRARIES = {
    "sqlite3": "sqlite",
    "better-sqlite3": "sqlite",
    "bcrypt": "bcrypt",
    "argon2": "argon2",
    "canvas": "canvas",
    "libxmljs": "libxmljs",
    "leveldown": "level",
    # (its install downloads libtensorflow from storage.googleapis.com, which the sandbox
    # refuses: zstared's koa-admin-api lists it and names it nowhere, its install failed)
    "@tensorflow/tfjs-node": "tfjs",
    "@tensorflow/tfjs-node-gpu": "tfjs",
    # node-sass 4 does not build on Node 20; its middleware brings it (seif1000's
    # nodejs-sequelize-app lists both, their one use commented out)
    "node-sass": "sass",
    "node-sass-middleware": "sass",
}
_MANIFESTS = re.compile(
    r"(?:^|/)(?:package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock"
    r"|pnpm-lock\.yaml|bun\.lockb?)$"
)
# Files that name what a tool leaves out (``*.sqlite`` in a .gitignore): no use of a library.
_IGNORE_FILES = re.compile(r"(?:^|/)\.[\w-]*ignore$")
# A source's comments (a use commented out is none): blocks, and lines that are one.
_COMMENTS = re.compile(r"/\*.*?\*/|^\s*//[^\n]*", re.S | re.M)
_CODE = re.compile(r"\.(?:[cm]?[jt]sx?)$")
# A page's files, whose words are the browser's (a stylesheet's ``canvas``, the element):
# no use of a library of the server's.
_PAGE_FILES = re.compile(r"\.(?:css|scss|sass|less|html?|svg|map|ejs|hbs|handlebars|pug)$")


def _package_tables(deps: NodeDeps) -> tuple[dict, list[dict]] | None:
    """``deps``' package.json read, and its tables of dependencies npm installs (the same
    objects: a change to one is the package's); None where it is not a JSON object."""
    try:
        package = json.loads(deps.package_json)
    except ValueError:
        return None
    if not isinstance(package, dict):
        return None
    return package, [t for k in DEPENDENCY_TABLES if isinstance(t := package.get(k), dict)]


def _without_unused_natives(files: dict[str, bytes], deps: NodeDeps) -> NodeDeps:
    """``deps`` without the native libraries its package.json lists that no file of the
    upload names (:data:`_NATIVE_LIBRARIES`): a build from source for nothing (cotcac's
    sequelize-express-boilerplate lists sqlite3 4, on MySQL throughout: its newest
    release for this Node compiled 92 s of a launch, past its time where the machine was
    busy). An ignore file naming it (nataljadj's express-user-service: ``*.sqlite`` in its
    .gitignore, sqlite3 3.1.13 built from source past its time) is no use of it, nor a
    page's file (zstared's koa-admin-api: canvas named only by its API docs' bootstrap.css,
    the HTML element; canvas 2 did not build on Node 20), nor a comment."""
    read = _package_tables(deps)
    if read is None:
        return deps
    package, tables = read
    every = {name for table in tables for name in table}
    listed = every & _NATIVE_LIBRARIES.keys()
    carriers = {
        name: f"the native module {native}"
        for name, native in _native_carriers(deps.lockfile, every - listed).items()
    }
    for name, url in _git_carriers(files, every - listed).items():
        carriers.setdefault(name, f"a dependency from the git repository {url}")
    if not listed and not carriers:
        return deps
    texts = [
        _COMMENTS.sub("", text) if _CODE.search(path) else text
        for path, data in files.items()
        if (text := data[:262144].decode("utf-8", "replace"))
        if not _MANIFESTS.search(path)
        and not _IGNORE_FILES.search(path)
        and not _PAGE_FILES.search(path)
        and "node_modules/" not in path
    ]
    scripts = package.get("scripts")  # (its own scripts run a tool: ``node-sass scss -o css``)
    texts += [json.dumps(scripts)] if isinstance(scripts, dict) else []
    unused = sorted(
        name
        for name in listed
        if not any(
            re.search(rf"\b{re.escape(w)}\b", t, re.IGNORECASE)
            for w in {name, _NATIVE_LIBRARIES[name]}
            for t in texts
        )
    )
    # A package bringing one, which no file of the app requires by its name (the module
    # of another, alike named, is not it: identicon.js is not identicon), nor a script runs.
    run = json.dumps(scripts) if isinstance(scripts, dict) else ""
    unrequired = sorted(
        name
        for name in carriers
        if not re.search(rf"\b{re.escape(name)}\b", run)
        and not any(re.search(rf"""["'`]{re.escape(name)}(?:/[^"'`]*)?["'`]""", t) for t in texts)
    )
    if not unused and not unrequired:
        return deps
    for table in tables:
        for name in (*unused, *unrequired):
            table.pop(name, None)
    told = [
        f"{', '.join(unused)} left out, a native module no file of the app requires or names "
        "(built from source here, for nothing)"
    ]
    told = told if unused else []
    told += [
        f"{name} left out, which brings {carriers[name]} and which no file of the app requires"
        for name in unrequired
    ]
    said = "; ".join(told)
    said = f"package.json: {said}"
    note = f"{deps.note}; {said}" if deps.note else said
    return replace(deps, package_json=json.dumps(package, indent=2).encode() + b"\n", note=note)


# Dart Sass, whose JavaScript API keeps node-sass's (``render``, ``renderSync``, ``types``).
DART_SASS = "npm:sass@^1.32.0"


def _dart_sass_for_node_sass(deps: NodeDeps) -> NodeDeps:
    """``deps`` with node-sass, which the app uses (the unused one is left out above),
    installed as Dart Sass under its name: node-sass 4 and 5 compile from source on
    Node 20 and fail (its prebuilt binaries stop at Node 16), and Dart Sass is its
    successor, pure JavaScript, with the same API (nhannhan159's cart-express: lasso-sass
    requires node-sass: "the native module node-sass does not build on Node 20"). Listed
    by the app or brought by one of its dependencies (npm ``overrides``, the app's own
    first)."""
    read = _package_tables(deps)
    if read is None:
        return deps
    package, tables = read
    locked = deps.lockfile is not None and b'node_modules/node-sass"' in deps.lockfile[1]
    if not any("node-sass" in t for t in tables) and not locked:
        return deps
    for table in tables:
        if "node-sass" in table:
            table["node-sass"] = DART_SASS
    own = package.get("overrides")
    if own is None or isinstance(own, dict):
        package["overrides"] = {"node-sass": DART_SASS, **(own or {})}
    said = (
        f"package.json: node-sass installed as Dart Sass ({DART_SASS}: its API, no native "
        "code to build)"
    )
    note = f"{deps.note}; {said}" if deps.note else said
    return replace(deps, package_json=json.dumps(package, indent=2).encode() + b"\n", note=note)


# A range with no upper bound (``*``, ``latest``, ``>=4.1``; each of its ``||`` sets): npm
# installs the newest major it knows.
_UNBOUNDED = re.compile(r"^\s*(?:\*|x|latest|>=?\s*v?[\d.x*]+)?\s*$")


def _below_6(part: str) -> str:
    """One ``||`` set of a range, below 6 where it has no upper bound."""
    if not _UNBOUNDED.match(part):
        return part
    return "<6" if part in ("", "*", "x", "latest") else f"{part} <6"


def _typescript_before_6(deps: NodeDeps) -> NodeDeps:
    """``deps`` with a TypeScript range of no upper bound (in any of its ``||`` sets)
    held below 6, where no lockfile says its version: TypeScript 6 turns the deprecations
    of the 5 the app was written for into errors and changes its defaults (``rootDir``,
    ``moduleResolution: node``), so a tsconfig written before it stops compiling.
    helder9991's serverless-express-api lists ``"typescript": "*"``: ts-node exited on
    TS5011 and TS5107."""
    read = _package_tables(deps) if deps.lockfile is None else None
    if read is None:
        return deps
    package, tables = read
    held = ""
    for table in tables:
        wanted = table.get("typescript")
        if not isinstance(wanted, str) or not any(map(_UNBOUNDED.match, wanted.split("||"))):
            continue
        table["typescript"] = " || ".join(_below_6(part.strip()) for part in wanted.split("||"))
        held = f'typescript "{wanted}" installed as "{table["typescript"]}"'
    if not held:
        return deps
    said = (
        f"package.json: {held} (TypeScript 6 makes the deprecations and defaults of the 5 "
        "its tsconfig was written for errors)"
    )
    note = f"{deps.note}; {said}" if deps.note else said
    return replace(deps, package_json=json.dumps(package, indent=2).encode() + b"\n", note=note)


# A dependency's spec naming a git repository in a bun.lock line, which a build here
# cannot fetch: it reaches the package registries only.
_GIT_IN_LINE = re.compile(r'"((?:git\+|git://|github:)[^"\s]+)"')


def _git_carriers(files: dict[str, bytes], listed: set[str]) -> dict[str, str]:
    """Of ``listed``, each package bun.lock's line of it has depend on a package from a git
    repository, with that repository's URL. Hamed-Ajaj's hono-tasks-api lists stocker
    beside stoker, which its code imports; bun.lock has stocker depend on ``secret-module:
    git+ssh://git@github.com/…``, and npm's install failed on fetching it. (An npm
    lockfile's packages so locked are resolved again: ``refusednames``.)"""
    found: dict[str, str] = {}
    bun = files.get("bun.lock")
    for line in bun.decode("utf-8", "replace").splitlines() if bun is not None else ():
        key = re.match(r'\s*"((?:@[\w.-]+/)?[\w.-]+)":\s*\[\s*"', line)
        if key is None or key.group(1) not in listed:
            continue
        at = line.find("dependencies")
        if at >= 0 and (url := _GIT_IN_LINE.search(line, at)) is not None:
            found.setdefault(key.group(1), url.group(1))
    return found


def _native_carriers(lockfile: tuple[str, bytes] | None, listed: set[str]) -> dict[str, str]:
    """Of ``listed``, each package an npm lockfile (v2, v3) locks depending on a native
    library of :data:`_NATIVE_LIBRARIES`, with that library's ``name@version`` as locked
    for it. akihiko-ima's hono-clone-sns lists identicon, whose canvas 2 (node-pre-gyp's
    binary out of reach, its source wanting pixman's headers) failed the install; its code
    imports identicon.js alone."""
    try:
        lock = json.loads(lockfile[1]) if lockfile is not None else None
    except (ValueError, RecursionError):
        return {}
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return {}
    found: dict[str, str] = {}
    for name in sorted(listed):
        entry = packages.get(f"node_modules/{name}")
        if not isinstance(entry, dict):
            continue
        wanted: dict = {}
        for key in ("dependencies", "optionalDependencies"):
            table = entry.get(key)
            wanted.update(table if isinstance(table, dict) else {})
        native = sorted(wanted.keys() & _NATIVE_LIBRARIES.keys())
        if native:
            at = packages.get(f"node_modules/{name}/node_modules/{native[0]}")
            at = at if isinstance(at, dict) else packages.get(f"node_modules/{native[0]}")
            version = at.get("version") if isinstance(at, dict) else None
            found[name] = f"{native[0]}@{version}" if isinstance(version, str) else native[0]
    return found


def listed_once(package_json: bytes, lockfile: bytes) -> tuple[bytes, str | None]:
    """package.json with each package it lists in both ``dependencies`` and
    ``devDependencies``, under two ranges, listed once: the range its npm lockfile's
    version is (an exact one), else the ``dependencies``' one, as the npm that wrote the
    lock read it; npm 7 and later take the ``devDependencies``' (clicker645's
    typeorm-express: ``"ts-node": "^8.4.1"`` and ``"3.3.0"``, its lock at 8.4.1; npm
    installed 3.3.0, which took ``--transpile-only`` for a file to run: "File
    '[eval].ts' is not under 'rootDir'"). With what was done, said (None: nothing)."""
    try:
        package, lock = json.loads(package_json), json.loads(lockfile)
    except (ValueError, RecursionError):
        return package_json, None
    if not isinstance(package, dict) or not isinstance(lock, dict):
        return package_json, None
    runtime, dev = package.get("dependencies"), package.get("devDependencies")
    if not isinstance(runtime, dict) or not isinstance(dev, dict):
        return package_json, None
    kept = []
    for name in sorted(runtime.keys() & dev.keys()):
        if runtime[name] == dev[name]:
            continue
        locked = lock_version(lock, name)
        exact = isinstance(dev[name], str) and dev[name].strip().lstrip("=v") == locked
        table = runtime if exact else dev
        kept.append(f"{name} {(dev if exact else runtime)[name]}")
        del table[name]
    if not kept:
        return package_json, None
    names = ", ".join(k.split(" ")[0] for k in kept)
    said = f"package.json lists {names} in dependencies and devDependencies: kept as "
    said += ", ".join(kept) + " (as the npm that wrote its lockfile read it)"
    return json.dumps(package, indent=2).encode() + b"\n", said


def lock_version(lock: dict, name: str) -> str | None:
    """The version an npm lockfile (any of its formats) locks ``name`` at, top level."""
    packages, older = lock.get("packages"), lock.get("dependencies")
    entry = packages.get(f"node_modules/{name}") if isinstance(packages, dict) else None
    if not isinstance(entry, dict):
        entry = older.get(name) if isinstance(older, dict) else None
    version = entry.get("version") if isinstance(entry, dict) else None
    return version if isinstance(version, str) else None


def _optional_peers(lockfile: bytes) -> list[str]:
    """``name@version`` of each package an npm lockfile (v2, v3) has at the top of its
    node_modules only as an optional peer (``"peer": true, "optional": true``): the
    author's tree held it, and npm ci now leaves it out, while the framework that names
    it loads it when there (NestJS's ValidationPipe exits at start without
    class-transformer: halilyanik98's NestJS-TypeOrm-CRUD locks it only so)."""
    try:
        lock = json.loads(lockfile)
    except (ValueError, RecursionError):
        return []
    packages = lock.get("packages") if isinstance(lock, dict) else None
    found: list[str] = []
    for path, entry in packages.items() if isinstance(packages, dict) else ():
        name = path.removeprefix("node_modules/")
        if (
            name == path
            or "node_modules/" in name
            or not isinstance(entry, dict)
            or not (entry.get("peer") is True and entry.get("optional") is True)
            or entry.get("link")
            or not _fits_this_machine(entry, name)
        ):
            continue
        version = _exact(entry.get("version"))
        if version is not None:
            found.append(f"{name}@{version}")
    return sorted(found)


# npm's names of this machine's system and processor (its ``os`` and ``cpu`` fields).
_NPM_CPU = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "i686": "ia32", "i386": "ia32"}


# This machine's C library as npm names it (``libc`` of a package: ``glibc`` or ``musl``),
# and the part of a package's name that says it is built for the other one.
_LIBC = "glibc" if platform.libc_ver()[0] == "glibc" else "musl"
_OTHER_LIBCS_BUILD = re.compile(r"-musl" if _LIBC == "glibc" else r"-gnu")


def _fits_this_machine(entry: dict, name: str = "") -> bool:
    """Whether a locked package's ``os``, ``cpu`` and ``libc`` fields (``["android"]``,
    ``["!win32"]``, ``["musl"]``) admit this machine: a platform's own build locked as an
    optional peer (esbuild 0.14's esbuild-android-64 … under shibbirweb's
    express-contact-service) is refused by npm anywhere else: "EBADPLATFORM … Unsupported
    platform". A lockfile older than npm's ``libc`` field says it by the package's name
    alone (M-Shrief's Adeeb_ExpressTS_Postgres: ``@swc/core-linux-x64-musl``, refused on
    glibc)."""
    here = {
        "os": sys.platform,
        "cpu": _NPM_CPU.get(platform.machine().lower(), platform.machine().lower()),
        "libc": _LIBC,
    }
    if "libc" not in entry and _OTHER_LIBCS_BUILD.search(name):
        return False
    for field, current in here.items():
        wanted = entry.get(field)
        if not isinstance(wanted, list) or not wanted:
            continue
        names = [w for w in wanted if isinstance(w, str)]
        if f"!{current}" in names:
            return False
        allowed = [w for w in names if not w.startswith("!")]
        if allowed and current not in allowed:
            return False
    return True


Transitive = Callable[[bytes, dict], dict[str, str]]


def override_name(key: str) -> str:
    """The package an npm override's key names: ``ms`` of ``ms``, ``ms@2.1.2``;
    ``@babel/core`` of ``@babel/core@7.5.5``."""
    at = key.find("@", 1)
    return key if at < 0 else key[:at]


def _pinned(
    files: dict[str, bytes],
    lockfile: str,
    read: Callable[[bytes, dict], dict[str, str] | None],
    transitive: Transitive | None = None,
    tools: tuple[str, ...] = (),
) -> tuple[bytes, str, tuple[tuple[str, str], ...], tuple[str, ...]] | None:
    """package.json with its direct dependencies at the versions ``lockfile`` (pnpm's or
    yarn's, read by ``read``) locked: npm reads neither, and would install the newest each
    range allows, which a project resolved months ago may not build or run with (an swc
    plugin must match its @swc/core, locked together); and the rest of its tree that
    ``transitive`` reads at its locked versions, as npm ``overrides`` (the app's own
    overrides win), but for the ``tools`` the build adds: npm installs each beside the app
    as a direct dependency, which an override of its name contradicts (ftm2626's
    Express-Ecommerce: ts-node@^10 added for its ``tsnd`` script, ts-node-dev's ts-node
    locked: "Override for ts-node@^10 conflicts with direct dependency"). The note saying
    so, the ranges replaced and the packages overridden. None without such a lockfile or
    with nothing to pin."""
    if lockfile not in files:
        return None
    try:
        package = json.loads(files["package.json"])
    except (ValueError, RecursionError):
        return None
    if not isinstance(package, dict):
        return None
    locked = read(files[lockfile], package) or {}
    ranges: list[tuple[str, str]] = []
    for key in DEPENDENCY_TABLES:
        table = package.get(key)
        if isinstance(table, dict):
            for name in table:
                if name in locked and table[name] != locked[name]:
                    ranges.append((name, str(table[name])))
                    table[name] = locked[name]
    own = package.get("overrides", {})
    overrides = transitive(files[lockfile], package) if transitive is not None else {}
    owned = {override_name(k) for k in own} if isinstance(own, dict) else set()
    owned |= {override_name(tool) for tool in tools}
    overrides = (
        {k: v for k, v in overrides.items() if k not in owned} if isinstance(own, dict) else {}
    )
    if overrides:
        # Keyed by the locked version (``"minimatch@3.0.4": "3.0.4"``): npm overrides only
        # the ranges that version meets, which are those the lockfile resolved to it, and
        # leaves a package the build adds its own (tsurumure's koa-restful-api: nodemon 3
        # beside a yarn.lock of 2019, its ``minimatch@^10`` overridden to 3.0.4 by name:
        # "minimatch is not a function").
        keyed = {f"{name}@{version}": version for name, version in overrides.items()}
        package["overrides"] = {**keyed, **own}
    if not ranges and not overrides:
        return None
    also = f", {len(overrides)} of their own dependencies too" if overrides else ""
    note = f"{lockfile}: {len(ranges)} dependencies at its locked versions{also} (npm reads none)"
    return json.dumps(package, indent=2).encode(), note, tuple(ranges), tuple(overrides)


def _exact(version: object) -> str | None:
    """A locked version (``1.2.3``, ``1.2.3(react@18)``, pnpm 5's ``1.2.3_<peers' hash>``,
    a semver never holding ``_``); None for ``link:``, a git one …"""
    text = str(version).split("(", 1)[0].split("_", 1)[0].strip() if version is not None else ""
    return text if _VERSION.fullmatch(text) else None


def _pnpm_locked(content: bytes, package: dict) -> dict[str, str] | None:
    """{direct dependency: the version ``pnpm-lock.yaml`` locked} (any of its formats)."""
    import yaml  # lazy: an idle service imports none of it (only such an upload needs it)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        lock = yaml.load(content, Loader=loader)
    except (RecursionError, yaml.YAMLError):
        return None
    if not isinstance(lock, dict):
        return None
    importers = lock.get("importers")
    root = importers.get(".") if isinstance(importers, dict) else lock  # v5: at the top
    locked: dict[str, str] = {}
    for key in DEPENDENCY_TABLES:
        table = root.get(key) if isinstance(root, dict) else None
        for name, entry in (table or {}).items() if isinstance(table, dict) else ():
            version = _exact(entry.get("version") if isinstance(entry, dict) else entry)
            if version is not None:
                locked[name] = version
    return locked


def _pnpm_transitive(content: bytes, package: dict) -> dict[str, str]:
    """{package: its version} of each package ``pnpm-lock.yaml`` locks at one version
    alone and package.json does not list (its ``packages``: ``/ms/2.1.2`` in lockfile 5,
    ``/ms@2.1.2(peer@1)`` in 6, ``ms@2.1.2`` in 9), as :func:`_yarn_transitive` reads
    yarn's: jessekalil's fastify-zod-swagger-api locks zod 3.24.1 and the
    zod-to-json-schema 3.24.1 its fastify-type-provider-zod asks; npm resolved that one
    anew to a release importing ``zod/v3`` (Package subpath './v3' is not defined)."""
    import yaml  # lazy: an idle service imports none of it (only such an upload needs it)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        lock = yaml.load(content, Loader=loader)
    except (RecursionError, yaml.YAMLError):
        return {}
    packages = lock.get("packages") if isinstance(lock, dict) else None
    by_name: dict[str, set[str]] = {}
    elsewhere: set[str] = set()  # locked from a URL, a path or git
    for key in packages if isinstance(packages, dict) else ():
        found = _pnpm_key(str(key))
        if found is None:
            continue
        name, version = found
        if (exact := _exact(version)) is None:
            elsewhere.add(name)
        else:
            by_name.setdefault(name, set()).add(exact)
    return _locked_alone(by_name, elsewhere, package)


def _pnpm_key(key: str) -> tuple[str, str] | None:
    """(name, version) of a key of pnpm-lock.yaml's ``packages``; None for one naming no
    package of the registry's shape (a git host's path)."""
    key = key.lstrip("/").split("(", 1)[0]
    name, _, version = key.rpartition("@")
    if _PACKAGE_NAME.fullmatch(name):
        return name, version
    name, _, version = key.rpartition("/")  # lockfile 5: /name/1.2.3_<peers>
    return (name, version) if _PACKAGE_NAME.fullmatch(name) else None


# One hoisted package of a text bun.lock: ``"hono": ["hono@4.9.6", "", {…}, "sha512-…"],``.
_BUN_ENTRY = re.compile(r'^\s*"([^"]+)":\s*\[\s*"([^"]+)"', re.MULTILINE)


def _bun_locked(content: bytes, package: dict) -> dict[str, str]:
    """{direct dependency: the version a text ``bun.lock`` locked}: its hoisted entry's
    ``name@version``. sarikamahboob's Hono app, ``"hono": "^4.9.6"`` locked at 4.9.6, got
    the newest 4.x, whose JWT middleware asks an ``alg`` option the app never gives."""
    text = content.decode("utf-8", "replace")
    start = text.find('"packages"')
    hoisted = {
        key: spec.rpartition("@")[2]
        for key, spec in _BUN_ENTRY.findall(text[start:] if start >= 0 else "")
        if spec.rpartition("@")[0] == key
    }
    locked: dict[str, str] = {}
    for key in DEPENDENCY_TABLES:
        table = package.get(key)
        for name in table if isinstance(table, dict) else ():
            if (version := _exact(hoisted.get(name))) is not None:
                locked[name] = version
    return locked


# A package's tarball a binary bun.lockb resolved to, its name and version in the address
# (``https://registry.npmjs.org/@types/bun/-/bun-1.1.6.tgz``): group 1 the name, 3 the
# version. The strings lie side by side, unseparated: each ends at its ``.tgz``.
_BUN_TARBALL = re.compile(
    rb"https?://[\w.:-]+/((?:@[\w.-]+/)?([\w.-]+))/-/\2-(\d+\.\d+\.\d+(?:-[\w.-]+?)?)\.tgz"
)


def _bun_binary_locked(content: bytes, package: dict) -> dict[str, str]:
    """{direct dependency: the version a binary ``bun.lockb`` (Bun before 1.2) locked},
    read from the tarball addresses it holds, where it holds one version of it alone:
    gordysc's hono-example, ``"hono": "^4.5.1"`` locked at 4.5.1, got the newest 4.x,
    whose JWT middleware asks an ``alg`` option the app never gives."""
    versions: dict[str, set[str]] = {}
    for found in _BUN_TARBALL.finditer(content):
        name, version = found.group(1).decode(), found.group(3).decode()
        versions.setdefault(name, set()).add(version)
    locked: dict[str, str] = {}
    for key in DEPENDENCY_TABLES:
        table = package.get(key)
        for name in table if isinstance(table, dict) else ():
            if len(found := versions.get(name, set())) == 1:
                locked[name] = next(iter(found))
    return locked


def _yarn_versions(content: bytes) -> dict[str, str]:
    """{``name@range``: the version ``yarn.lock`` locked for it}: classic's (``"a@^1.0",
    a@^1.2:`` then ``version "1.2.3"``) and Berry's (``"a@npm:^1.0":`` then ``version:
    1.2.3``) entries."""
    versions: dict[str, str] = {}
    specs: list[str] = []
    for line in content.decode("utf-8", "replace").splitlines():
        if line[:1] not in ("", " ", "#") and line.rstrip().endswith(":"):
            specs = [spec.strip().strip('"') for spec in line.rstrip()[:-1].split(",")]
        elif specs and (match := _YARN_VERSION.match(line)):
            versions.update(dict.fromkeys(specs, match.group(1)))
            specs = []
    return versions


def _yarn_transitive(content: bytes, package: dict) -> dict[str, str]:
    """{package: its version} of each package ``yarn.lock`` locks at one version alone
    and package.json does not list: the rest of the tree yarn resolved, which npm resolves
    anew to the newest each range allows (julietezekwe's node-express-postgres-boilerplate:
    its @babel/core locked at 7.5, the @babel/register of its locked @babel/node resolved
    anew to one calling ``loadPartialConfigSync``, which 7.5 lacks: "is not a function").
    One version met every range that asked for the package, so it meets them for npm too;
    a package locked at several versions is left to npm."""
    by_name: dict[str, set[str]] = {}
    elsewhere: set[str] = set()  # locked from elsewhere than the registry, or an alias
    for spec, version in _yarn_versions(content).items():
        name, _, wanted = spec.rpartition("@")
        if not _PACKAGE_NAME.fullmatch(name):
            continue
        range_ = wanted.removeprefix("npm:")  # Berry's way of naming the registry's
        if any(mark in range_ for mark in (":", "/", "@")):  # a URL, a path, an alias
            elsewhere.add(name)
        elif (exact := _exact(version)) is not None:
            by_name.setdefault(name, set()).add(exact)
    return _locked_alone(by_name, elsewhere, package)


def _locked_alone(
    by_name: dict[str, set[str]], elsewhere: set[str], package: dict
) -> dict[str, str]:
    """{package: its version} of each package a lockfile locks at one version alone from
    the registry (``by_name``: the versions it locks each at; ``elsewhere``: those it
    also locks from a URL, a path or an alias) that package.json does not list."""
    listed = {
        name
        for key in DEPENDENCY_TABLES
        if isinstance(package.get(key), dict)
        for name in package[key]
    }
    return {
        name: next(iter(versions))
        for name, versions in sorted(by_name.items())
        if len(versions) == 1 and name not in listed and name not in elsewhere
    }


# A registry package's name (``ms``, ``@babel/core``): not an alias's (``a@npm:b``).
_PACKAGE_NAME = re.compile(r"(?:@[a-z0-9][\w.~-]*/)?[a-z0-9][\w.~-]*")


def _yarn_locked(content: bytes, package: dict) -> dict[str, str]:
    """{direct dependency: the version ``yarn.lock`` locked for its range}
    (:func:`_yarn_versions`), found by the ``name@range`` package.json gives."""
    versions = _yarn_versions(content)
    locked: dict[str, str] = {}
    for key in DEPENDENCY_TABLES:
        table = package.get(key)
        for name, wanted in table.items() if isinstance(table, dict) else ():
            found = versions.get(f"{name}@{wanted}") or versions.get(f"{name}@npm:{wanted}")
            if (version := _exact(found)) is not None:
                locked[name] = version
    return locked


# An ORM's option naming the database it opens: TypeORM's ``type: 'postgres'``, Sequelize's
# ``dialect: "mysql"`` (in code, an ormconfig or sequelize-cli's config.json); group 1 the
# option, 2 the engine.
_ORM_ENGINE = re.compile(rb"""["']?\b(type|dialect)["']?\s*:\s*["'`]([a-z-]+)["'`]""")
# The driver each ORM loads for an engine (its error when absent: TypeORM's
# DriverPackageNotInstalledError, Sequelize's "Please install pg package manually"), and
# the packages that count as having it. Pure JavaScript but SQLite's, whose native code may
# have to be compiled: added only where SQLite is the one engine the app names.
_ORM_DRIVERS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("typeorm", "postgres"): (("pg@^8",), ("pg", "pg-native")),
    ("typeorm", "cockroachdb"): (("pg@^8",), ("pg", "pg-native")),
    ("typeorm", "mysql"): (("mysql2@^3",), ("mysql", "mysql2")),
    ("typeorm", "mariadb"): (("mysql2@^3",), ("mysql", "mysql2")),
    ("typeorm", "mssql"): (("mssql@^11",), ("mssql",)),
    ("typeorm", "sqlite"): (("sqlite3@^5",), ("sqlite3",)),
    ("typeorm", "better-sqlite3"): (("better-sqlite3@^11",), ("better-sqlite3",)),
    ("sequelize", "postgres"): (("pg@^8", "pg-hstore@^2"), ("pg", "pg-native")),
    ("sequelize", "mysql"): (("mysql2@^3",), ("mysql2",)),
    ("sequelize", "mariadb"): (("mariadb@^3",), ("mariadb",)),
    ("sequelize", "mssql"): (("tedious@^18",), ("tedious",)),
    ("sequelize", "sqlite"): (("sqlite3@^5",), ("sqlite3",)),
}
_ORM_PACKAGES = {
    "typeorm": ("typeorm",),
    "sequelize": ("sequelize", "sequelize-typescript"),
}
_ORM_OPTION = {"typeorm": b"type", "sequelize": b"dialect"}
_ORM_FILES = re.compile(r"(?:^|/)(?:ormconfig\.\w+|config/config\.json)$")
_NOT_APP = re.compile(r"(?:^|/)(?:node_modules|tests?|__tests__|test-utils)/|\.(?:spec|test)\.")
_SOURCE = re.compile(r"\.(?:[cm]?[jt]sx?)$")
_MAX_SOURCE = 512 * 1024


def orm_drivers_unlisted(files: dict[str, bytes], listed: dict[str, str]) -> tuple[str, ...]:
    """The database drivers the app's ORM loads for the engine its options name, which
    its package.json does not list (nor its lockfile brings): norbertturek's
    nestjs-recipe-api lists typeorm and names ``type: 'postgres'``, not pg
    ("DriverPackageNotInstalledError: Postgres package has not been found installed" at
    every retry; its author's global install or a forgotten ``npm i pg``). Read in its
    own modules that name the ORM and in its ormconfig or sequelize-cli config (not its
    tests); a SQLite driver only where SQLite is the one engine named."""
    wanted: dict[tuple[str, str], None] = {}
    for orm, packages in _ORM_PACKAGES.items():
        if not any(p in listed for p in packages):
            continue
        for path, data in sorted(files.items()):
            if _NOT_APP.search(path) or len(data) > _MAX_SOURCE:
                continue
            config = _ORM_FILES.search(path) is not None
            if not config and not (_SOURCE.search(path) and orm.encode() in data.lower()):
                continue
            for option, engine in _ORM_ENGINE.findall(data):
                key = (orm, engine.decode())
                if option == _ORM_OPTION[orm] and key in _ORM_DRIVERS:
                    wanted[key] = None
    engines = {engine for _orm, engine in wanted}
    added: list[str] = []
    for key in wanted:
        drivers, having = _ORM_DRIVERS[key]
        if "sqlite" in key[1] and len(engines) > 1:
            continue
        if not any(p in listed for p in having):
            added += [d for d in drivers if d not in added]
    return tuple(added)


def resolved_by_yarn(files: dict[str, bytes]) -> bool:
    """Whether the app's tree is yarn's (a yarn.lock, no pnpm-lock.yaml), which checks no
    peer dependency: npm installs it likewise, with --legacy-peer-deps."""
    return "yarn.lock" in files and "pnpm-lock.yaml" not in files


# Bundlers whose releases before these majors hash with MD4 (webpack 4 and the tools built
# on it), which Node 17 and later's OpenSSL 3 refuses ("error:0308010C:digital envelope
# routines::unsupported", ERR_OSSL_EVP_UNSUPPORTED) unless its legacy provider is on.
_MD4_BEFORE = {
    "webpack": 5,
    "react-scripts": 5,
    "@vue/cli-service": 5,
    "neutrino": 10,
    "laravel-mix": 6,
    "next": 11,
    "@angular-devkit/build-angular": 12,
}
_MAJOR = re.compile(r"\d+")


def md4_bundler(files: dict[str, bytes]) -> str | None:
    """The bundler (``webpack 4.10.2``) of the app's tree that hashes with MD4, as its
    lockfile locks it (webpack under neutrino 8: PyTechMike's training-koa-2, its start
    ``neutrino start``) or else as package.json lists it; None where none does."""
    try:
        package = json.loads(files.get("package.json", b"{}"))
        lock = json.loads(files.get("package-lock.json", b"{}"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(package, dict) or not isinstance(lock, dict):
        return None
    listed: dict[str, object] = {}
    for table in ("dependencies", "devDependencies"):
        if isinstance(package.get(table), dict):
            listed.update(package[table])
    yarn = _yarn_versions(files["yarn.lock"]) if "yarn.lock" in files else {}
    for name, before in _MD4_BEFORE.items():
        by_yarn = (v for spec, v in yarn.items() if spec.rpartition("@")[0] == name)
        version = lock_version(lock, name) or next(by_yarn, None) or listed.get(name)
        major = _MAJOR.search(version) if isinstance(version, str) else None
        if major is not None and int(major.group()) < before:
            return f"{name} {version}"
    return None
