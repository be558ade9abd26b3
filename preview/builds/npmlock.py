"""What npm is given of an app's lockfile, so that installing it does not stall:
:func:`prepare_npm_project`.

* **Another registry's addresses.** A lockfile made against a private mirror (Verdaccio,
  Nexus, a company's registry) names its tarballs there (``https://npm.example.com/
  express/-/express-4.17.1.tgz``); builds reach only the public registry, so npm retried
  each refused download with back-off, for minutes. Such addresses are rewritten to the
  registry's own (``https://registry.npmjs.org/express/-/express-4.17.1.tgz``): the same
  files, which npm checks against the lockfile's ``integrity``.
* **An old npm's lockfile** (``lockfileVersion`` 1) lacks what npm 7+ needs of each
  package, which npm fetches from the registry first ("old lockfile … one-time fix-up"),
  one package at a time on a two-core machine (its queue's width is the CPU count less
  one): a thousand round trips. npm is started with a preload that widens that queue
  (:data:`PRELOAD`, only in npm's own process, not in the packages' install scripts).

Then the packages' install scripts run (:func:`npm_rebuild`). A native module that does
not build on this Node is left out where nothing the app runs needs it: a dev tool's own
(compodoc's ``sleep``, whose node-gyp 3.8 wants a Python 2; the app does not list it and
npm installed it for its dev dependencies alone, ``"dev": true`` in
``node_modules/.package-lock.json``), as the Python builds leave out a Pipfile.lock's pin
that no module of the app imports. Any other is replaced by its newest release. Before
them, a release the lockfile pins that is known not to run on this Node
(:data:`_BROKEN_ON_NODE`: pg before 8.0.3, whose connect never settles on Node 14 and
later) is replaced by the newest its package.json range allows, where that range allows
the fixed one (eflem00's koa-boilerplate: ``"pg": "^8.0.0"``, locked at 8.0.0), else
by the newest of the first major that runs, locked or not (``"pg": "^7.12.1"``: 7.18.2,
the newest 7, hung at the first query; pg 8's API is 7's less its native defaults); a
copy a package of the tree installed for itself (postgres-migrations 3's own pg 7) is
given the first release that runs by an npm override. So is one known not to run
against the PostgreSQL a preview is given (:data:`_BROKEN_ON_POSTGRES`:
TypeORM before 0.2.21, whose schema sync reads a column PostgreSQL 12 removed), for an app
listing pg; a yarn or pnpm lockfile's pin is read as the app's own range.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import trio

from ..apps.depspec import NodeDeps
from ..apps.node.nodedeps import DEPENDENCY_TABLES, override_name
from ..generations import loads_bounded
from ..sandbox.appdir import read_no_follow, replace_file
from .envcache import BuildFailed, Say, write_node_project
from .toolerrors import NPM_PEER_CONFLICT, native_build_failure, program_download_failure

__all__ = [
    "PRELOAD",
    "REGISTRY",
    "RELINK",
    "NpmProject",
    "compiled_from_source",
    "dev_listed_only",
    "made_optional",
    "npm_rebuild",
    "prepare_npm_project",
    "registry_addresses",
    "restore_range",
    "unused_native",
    "unused_program_builds",
]

REGISTRY = "https://registry.npmjs.org/"
_REGISTRY_HOST = urlparse(REGISTRY).hostname
PRELOAD_NAME = ".npm-wide-queue.cjs"
# package: (the first release that runs, the Node major from which the older do not, why)
_BROKEN_ON_NODE = {
    "pg": ((8, 0, 3), 14, "its connect never settles on Node 14 and later (node-postgres#2179)"),
    # gyangyun's koa-rest-api: ``"config": "^1.25.1"``, comments in config/default.json:
    # "Cannot parse config file … SyntaxError: Expected property name or '}'".
    "config": (
        (3, 3, 10),
        19,
        "it reads no comment in a .json config file on Node 19 and later (it told a comment "
        "by JSON.parse's old message; node-config#715)",
    ),
}
# package: (the first release that runs, why) against every PostgreSQL a preview is given
# (12 and later: Debian's), where the app lists pg. kelvin-mai's nest-ideas-api, TypeORM
# ^0.2.7 yarn-locked at 0.2.7, died at start ("column cnst.consrc does not exist").
_BROKEN_ON_POSTGRES = {
    "typeorm": (
        (0, 2, 21),
        "its schema sync reads pg_constraint.consrc, which PostgreSQL 12 removed (typeorm#4332)",
    ),
}
Ranges = tuple[tuple[str, str], ...]  # (package, the app's own range): NodeDeps.ranges
_VERSION = re.compile(r"^\s*[\^~]?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?\s*$")
_WIDTH = 8  # npm's queues (an old lockfile's metadata, its scripts) at most this wide
# Run by node before npm's own code: promise-call-limit reads the CPU count once, when
# npm loads it. Only npm's command line (not the install scripts it starts, which
# inherit NODE_OPTIONS) sees a wider machine.
PRELOAD = f"""\
if (/[\\\\/]npm(-cli)?(\\.js)?$/.test(process.argv[1] || "")) {{
  const os = require("node:os");
  const real = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  os.availableParallelism = () => Math.max(real, {_WIDTH} + 1);
}}
"""


class NpmProject:
    """What :func:`prepare_npm_project` did: notes for the log, variables for npm."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.env: dict[str, str] = {}


def prepare_npm_project(path: Path, deps: NodeDeps) -> NpmProject:
    """Write the app's package.json and lockfile into ``path`` (see the module doc)."""
    write_node_project(path, deps)
    done = NpmProject()
    if deps.lockfile is None:
        return done
    name, content = deps.lockfile
    try:
        lock = loads_bounded(content)
    except ValueError:
        return done  # npm says what is wrong with it
    if not isinstance(lock, dict):
        return done
    moved = registry_addresses(lock)
    if moved:
        (path / name).write_text(json.dumps(lock, indent=2) + "\n")
        hosts = ", ".join(sorted(moved))
        count = sum(moved.values())
        done.notes.append(
            f"{name} names another registry ({hosts}) for {count} package"
            f"{'s' if count != 1 else ''}: fetched from {_REGISTRY_HOST} instead "
            "(the same files, checked by their integrity)"
        )
    if lock.get("lockfileVersion", 1) == 1:
        (path / PRELOAD_NAME).write_text(PRELOAD)
        done.env["NODE_OPTIONS"] = f"--require {path / PRELOAD_NAME}"
        done.notes.append(
            f"{name} is an old npm's (lockfileVersion 1): npm fetches each package's "
            f"details first, {_WIDTH} at a time"
        )
    return done


def restore_range(path: Path, deps: NodeDeps, name: str) -> str | None:
    """Give ``name`` back the range the app's package.json gives it, in ``path``'s
    package.json, where it was pinned to its lockfile's version (``NodeDeps.ranges``), or
    to its dependents' where an override pinned it (``NodeDeps.overridden``); what is
    installed instead, said, or None if it was not pinned (or is already back). The
    packages of its scope pinned with it (``@mikro-orm/core`` beside ``@mikro-orm/mysql``)
    get theirs back too, and are named after it: a scope's packages are released together
    and want each other's same version, which the newest in each range gives them again."""
    ranges = dict(deps.ranges)
    if name in deps.overridden:  # a package of its tree, not its own: npm resolves it
        package = loads_bounded(read_no_follow(path / "package.json"))
        if not _pop_override(package, name):
            return None
        replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
        return "installing what its dependents' ranges allow (its override dropped)"
    if name not in ranges:
        return None
    scope = name.split("/")[0] + "/" if name.startswith("@") and "/" in name else None
    kin = [n for n in ranges if scope is not None and n != name and n.startswith(scope)]
    package = loads_bounded(read_no_follow(path / "package.json"))  # npm's scripts ran here
    restored: list[str] = []
    for each in (name, *kin):
        for key in DEPENDENCY_TABLES:
            table = package.get(key)
            if isinstance(table, dict) and each in table and table[each] != ranges[each]:
                table[each] = ranges[each]
                restored.append(each)
    if name not in restored:
        return None
    replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    others = sorted(set(restored) - {name})
    also = f", and {', '.join(others)} theirs (released with it)" if others else ""
    return f"installing the range package.json gives it, {ranges[name]}{also}"


def made_optional(path: Path, name: str) -> bool:
    """Make ``name``, a dependency of the app's own that runs on another system or
    processor (npm's EBADPLATFORM: ilkerkaran's cars-express-workshop lists the
    Windows-only msnodesqlv8 beside its SQLite), an optional one in ``path``'s package.json
    and its lockfile: npm then skips it on this machine, as it skips any optional package
    of another platform, and installs the rest. Whether it was the app's own (else
    nothing is changed). Blocking."""
    package = loads_bounded(read_no_follow(path / "package.json"))  # npm's scripts ran here
    if not _to_optional(package, name):
        return False
    replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    for lockfile in ("npm-shrinkwrap.json", "package-lock.json"):
        try:
            lock = loads_bounded(read_no_follow(path / lockfile))
        except (OSError, ValueError):
            continue
        packages = lock.get("packages") if isinstance(lock, dict) else None
        if isinstance(packages, dict):
            if isinstance(packages.get(""), dict):
                _to_optional(packages[""], name)
            locked = packages.get(f"node_modules/{name}")
            if isinstance(locked, dict):
                locked["optional"] = True
        legacy = lock.get("dependencies") if isinstance(lock, dict) else None
        if isinstance(legacy, dict) and isinstance(legacy.get(name), dict):
            legacy[name]["optional"] = True  # (lockfileVersion 1's)
        replace_file(path / lockfile, (json.dumps(lock, indent=2) + "\n").encode())
    return True


def _to_optional(package: object, name: str) -> bool:
    """Move ``name`` of a package.json's (or a lockfile's root's) dependencies into its
    optionalDependencies; whether it was among them."""
    if not isinstance(package, dict):
        return False
    moved = None
    for key in ("dependencies", "devDependencies"):
        table = package.get(key)
        if isinstance(table, dict) and name in table:
            moved = table.pop(name)
    if moved is None:
        return False
    optional = package.setdefault("optionalDependencies", {})
    if isinstance(optional, dict):
        optional[name] = moved
    return True


async def npm_rebuild(
    run: Callable[[list[str]], Awaitable[None]],
    run_own: Callable[[list[str]], Awaitable[None]],
    say: Say,
    path: Path,
    ranges: Ranges = (),
    tools: Sequence[str] = (),
    natives: Callable[[list[str]], Awaitable[list[str]]] | None = None,
) -> None:
    """``npm rebuild`` (its packages' install scripts) by ``run``, in ``path``; then the
    project's own install scripts by ``run_own``: they are the uploaded app's code, which
    may reach no more while it builds than its packages' indexes (not the hosts of prebuilt
    binaries its packages' scripts are given: a NestJS upload's postinstall fetched a
    program from a GitHub release and ran it). Where a
    native module does not build on this Node, a dev tool's that the app does not use is
    left out (the others' scripts run again without it); any other (code older than
    Node's API: bcrypt 3's on Node 20, whose prebuilt binary would come from outside the
    registry) is replaced by its newest release whose engines allow this Node, saying so,
    and the rebuild runs again
    (once a package). ``ranges``: the app's own ranges of the packages a yarn or pnpm
    lockfile pinned (``NodeDeps.ranges``), which :func:`_broken_pins` reads as the app's.
    Each ``npm install --no-save`` here names again what the ones before it put in
    (``tools``, the packages the build added, and the replacements): npm sets the tree
    back to package.json and its lockfile otherwise (a yarn the app's scripts call was
    gone, and sqlite3 4.0.6, replaced, back when bcrypt 3.0.6 was: Woz-U's racket app).
    ``natives``: given the packages whose scripts are to run, puts in the binaries this
    machine compiled of the native ones (``builds.native``) and returns those left."""
    kept = list(tools)
    broken = await trio.to_thread.run_sync(_broken_pins, path, ranges)
    for name, locked, wanted, why, beyond in broken:
        if beyond:  # its range allows none that runs
            what = f"installed) {why}: its package.json range allows no release that runs"
            what += f", installing the newest of the first major that does, {name}@{wanted}"
        else:
            what = f"its lockfile's) {why}: installing the newest release its package.json"
            what += f" range allows, {name}@{wanted}"
        await say(f"{name} {locked} ({what}")
    raised = {name: wanted for name, _, wanted, _, _ in broken}
    nested = await trio.to_thread.run_sync(_nested_broken_overridden, path, raised, ranges)
    for name, versions, spec, why in nested:
        await say(
            f"{name} {', '.join(versions)} (installed for the packages depending on it) "
            f"{why}: given {name}@{spec} by an npm override"
        )
    if broken or nested:  # in one install: one's new peer range wants the other's new release
        # (TypeORM 0.2.45's peerOptional pg ^8.5.1, pg itself still pinned at 7.5.0 in the
        # package.json a second install re-read: ERESOLVE)
        kept += (f"{name}@{wanted}" for name, _, wanted, _, _ in broken)
        await _install_beside(run, kept, say)
        await run(RELINK)
    if old_graceful := await trio.to_thread.run_sync(_graceful_fs_overridden, path):
        await say(
            f"graceful-fs {', '.join(old_graceful)} (installed) reads Node's internals as it "
            "loads ('primordials is not defined' on Node 12 and later): "
            f"installing graceful-fs@{_GRACEFUL_FS_RUNS} in its place, by an npm override"
        )
        await _install_beside(run, kept, say)
        await run(RELINK)
    builds, databases, checks = await trio.to_thread.run_sync(_drop_own_steps, path)
    if builds:
        await say(
            f"its {', '.join(builds)} script builds the app from its sources, which are not "
            "where the environment is made: left to the build's own step"
        )
    if databases:
        await say(
            f"its {', '.join(databases)} script works on its database, which is not served "
            "where the environment is made: left to its data's initialisation"
        )
    if checks:
        await say(
            f"its {', '.join(checks)} script checks the machine's Node, npm or package "
            "manager against the author's: left out (the preview runs on this machine's "
            "Node and npm)"
        )
    replaced: set[str] = set()
    left_out: set[str] = set()
    if unbuilt := await trio.to_thread.run_sync(unused_program_builds, path):
        left_out.update(unbuilt)
        bringers = ", ".join(sorted(set(unbuilt.values())))
        await say(
            f"{', '.join(unbuilt)}: their install scripts download a program, else compile "
            f"it from its C sources for minutes; only {bringers} (dev dependencies) bring "
            "them and the app does not list them: left unbuilt"
        )
    began = trio.current_time()
    while True:
        try:
            targets = await trio.to_thread.run_sync(_scripted, path, left_out)
            own_ran = await trio.to_thread.run_sync(_own_install_scripts, path)
            if targets is None:  # which packages have scripts is unknown: all, as the app's
                await run_own(["npm", "rebuild"])
            else:
                if targets and natives is not None:
                    targets = await natives(targets)
                if targets:  # named, npm rebuild runs theirs and not the project's own
                    await run(["npm", "rebuild", *targets])
                if own_ran:
                    await run_own(["npm", "rebuild", "."])
            # Its own script installing (``npm install --save-dev …``) set the tree back to
            # its package.json: what the build put beside is gone (JannickOste's
            # express-learning-project: ts-node, "not found").
            gone = await trio.to_thread.run_sync(_not_installed, path, kept) if own_ran else []
            if gone:
                await say(
                    "its own install script set its packages back to its package.json: "
                    f"installing again what the build adds ({', '.join(gone)})"
                )
                await _install_beside(run, kept, say)
                await run(RELINK)
            compiled = await trio.to_thread.run_sync(compiled_from_source, path)
            if compiled:
                took = trio.current_time() - began
                await say(
                    f"compiled from source, no prebuilt binary for this machine reached: "
                    f"{', '.join(compiled)} (the install scripts took {took:.0f} s)"
                )
            return
        except BuildFailed as failure:
            program = program_download_failure(failure.message)
            if program is not None and program not in left_out:
                left_out.add(program)  # (by its name: each copy of it, nested or not)
                await say(
                    f"{failure.message}: left unbuilt, the app's server starts without it "
                    "(what starts that program fails)"
                )
                continue
            native = native_build_failure(failure.message)
            if native is None or native[0] in left_out:
                raise
            if native[0] in replaced:
                # Its newest release failed too: a dev dependency of the app's own is left
                # unbuilt (dilagurung's node-sequelize-jwt-mysql lists phantomjs-prebuilt
                # for karma, whose script fetches PhantomJS from GitHub, out of reach).
                if not await trio.to_thread.run_sync(dev_listed_only, path, native[0]):
                    raise
                left_out.add(native[0])
                await say(
                    f"{failure.message}, its newest release too: a dev dependency of the "
                    "app's, left unbuilt"
                )
                continue
            brought_by = await trio.to_thread.run_sync(unused_native, path, native[0])
            if brought_by is not None:
                left_out.add(native[0])
                await say(
                    f"{failure.message}: only {brought_by} (a dev dependency) brings it and "
                    "the app does not list it: left unbuilt"
                )
                continue
            replaced.add(native[0])
            # A range above the broken one, not the tag: npm then takes the newest whose
            # engines allow this Node (better-sqlite3@latest, 13.2, asks for Node 22 and
            # segfaulted on 20: taptorestart's NestJS; @>7.5.0 gives 12.11), and not the
            # one installed (which @* would keep).
            newest = f"{native[0]}@>{native[1]}" if native[1] else f"{native[0]}@latest"
            # Its override (a yarn lockfile's pin of a package of its tree) dropped: npm
            # refuses any other release of it (JaneJeon's express-objection-starter:
            # bcrypt 3.0.6, "Override for bcrypt@>3.0.6 conflicts with direct dependency").
            dropped = await trio.to_thread.run_sync(_drop_override, path, native[0])
            # One the app does not list, a package of its tree's (alaneicker's express-user-
            # authentication: sqlite's own sqlite3 ^4.0.0, 4.2.0 for Node 20 from source):
            # installed beside, it stayed under that package, which npm gives the newest
            # only by an override of the whole tree's.
            overridden = bool(native[1]) and await trio.to_thread.run_sync(
                _override_unlisted, path, native[0], f">{native[1]}"
            )
            tree = " (an override: its copies the app's packages depend on too)"
            await say(
                f"{failure.message}: installing its newest release for this Node in its "
                f"place, {newest}"
                + (" (its lockfile's pin, an override, dropped)" if dropped else "")
                + (tree if overridden else "")
            )
            kept.append(newest)
            await _install_beside(run, kept, say)
            # That install may take a command's link away from the packages that still
            # run it: two giving .bin/node-pre-gyp (sqlite3 5.0's node-pre-gyp, gone with
            # it, and @mapbox/node-pre-gyp, kept for bcrypt), npm removed the link with
            # the first ("node-pre-gyp: not found": iramirezc's express-jwt-sequelize-
            # mariadb). A rebuild without scripts links every package's commands again.
            await run(RELINK)


def _not_installed(path: Path, packages: Sequence[str]) -> list[str]:
    """Those of ``packages`` (npm specs: ``ts-node@^10``, ``@scope/x@1``) that ``path``'s
    node_modules does not hold. Blocking."""
    gone = []
    for spec in packages:
        at = spec.rfind("@")
        name = spec[:at] if at > 0 else spec
        if not (path / "node_modules" / name / "package.json").is_file():
            gone.append(spec)
    return gone


def _drop_override(path: Path, name: str) -> bool:
    """Take ``name`` out of the ``overrides`` of ``path``'s package.json; whether it was
    there. Blocking."""
    package = _package(path)
    if not _pop_override(package, name):
        return False
    replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    return True


def _override_unlisted(path: Path, name: str, spec: str) -> bool:
    """Give every copy of ``name`` in ``path``'s tree ``spec`` (an npm override) where the
    app's package.json does not list it itself; whether it was given. Blocking."""
    package = _package(path)
    tables = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
    if any(isinstance(t := package.get(k), dict) and name in t for k in tables):
        return False
    overrides = package.get("overrides")
    package["overrides"] = {**(overrides if isinstance(overrides, dict) else {}), name: spec}
    replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    return True


def _pop_override(package: dict, name: str) -> bool:
    """Take ``name``'s overrides out of ``package``'s, by its name alone or with a version
    (``ms@2.1.2``, as ``nodedeps`` keys a lockfile's pins); whether there was one."""
    overrides = package.get("overrides")
    if not isinstance(overrides, dict):
        return False
    keys = [key for key in overrides if override_name(key) == name]
    for key in keys:
        del overrides[key]
    return bool(keys)


# npm's links of every installed package's commands (node_modules/.bin), made again.
RELINK = ["npm", "rebuild", "--ignore-scripts"]


async def _install_beside(
    run: Callable[[list[str]], Awaitable[None]], packages: list[str], say: Say
) -> None:
    """``npm install --no-save`` of ``packages`` beside the app's tree; where npm refuses
    the tree for a peer conflict (ERESOLVE) once more with ``--legacy-peer-deps``, as the
    app's own install did (knands42's NestJs-Auth-Typeorm: sqlite3 replaced for Node 20,
    then eslint-config-standard's peer eslint refused the whole tree again)."""
    argv = ["npm", "install", "--no-save", "--no-progress", "--ignore-scripts", *packages]
    try:
        await run(argv)
    except BuildFailed as failure:
        if not failure.message.startswith(NPM_PEER_CONFLICT):
            raise
        await say(f"{failure.message}; installing again with --legacy-peer-deps")
        await run([*argv, "--legacy-peer-deps"])


def compiled_from_source(path: Path) -> list[str]:
    """The packages in ``path``'s node_modules whose native code node-gyp compiled here
    (its ``build/config.gypi``, which a prebuilt binary's download does not write), by
    name; blocking. A compile takes minutes on a small machine where a download takes a
    second (sqlite3: 284 s of a small Express app's first launch): said, with the time."""
    names = []
    for at, entry in _installed(path).items():
        if entry.get("hasInstallScript") and (path / at / "build" / "config.gypi").is_file():
            names.append(at.rpartition("node_modules/")[2])
    return sorted(set(names))


def dev_listed_only(path: Path, name: str) -> bool:
    """Whether the app in ``path`` lists ``name`` among its dev dependencies and nowhere
    else (its start, in production, never has it). Blocking."""
    package = _package(path)
    tables = {
        key: table
        for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
        if isinstance(table := package.get(key), dict)
    }
    return name in tables.get("devDependencies", {}) and not any(
        name in table for key, table in tables.items() if key != "devDependencies"
    )


def unused_native(path: Path, name: str) -> str | None:
    """The dev dependency of the app in ``path`` that alone brings ``name``, where the
    app does not list ``name`` itself and npm installed every copy of it for the dev
    dependencies only; else None (the app may run it). Blocking."""
    package, installed = _package(path), _installed(path)
    listed = {
        key: table
        for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
        if isinstance(table := package.get(key), dict)
    }
    copies = {at: entry for at, entry in installed.items() if _name(at) == name}
    if not copies or any(name in table for table in listed.values()):
        return None
    if not all(entry.get("dev") is True for entry in copies.values()):
        return None
    # The app's dev dependency it is under, else one that depends on it (hoisted).
    for at in copies:
        outer = at.split("/node_modules/")[0].removeprefix("node_modules/")
        if outer != name and outer in listed.get("devDependencies", {}):
            return outer
    dependents = sorted(
        _name(at)
        for at, entry in installed.items()
        if isinstance(entry.get("dependencies"), dict) and name in entry["dependencies"]
    )
    return dependents[0] if dependents else "a dev dependency"


# What a package's install script compiles its program with when the prebuilt binary's
# download fails (imagemin's gifsicle, mozjpeg, pngquant-bin, cwebp-bin: bin-build runs
# its C sources' configure and make).
_BUILDS_A_PROGRAM = "bin-build"


def unused_program_builds(path: Path) -> dict[str, str]:
    """The packages whose install scripts build a program (:data:`_BUILDS_A_PROGRAM`) that
    only the app's dev dependencies bring (:func:`unused_native`), each with the one that
    brings it: PyTechMike's training-koa-2 runs ``neutrino start``, whose dev preset
    brings imagemin's four for production builds alone; compiled from source, no binary's
    download reached, its install ran past the launch's 240 s. Blocking."""
    installed = _installed(path)
    building = sorted(
        {
            _name(at)
            for at, entry in installed.items()
            if entry.get("hasInstallScript") is True
            and isinstance(entry.get("dependencies"), dict)
            and _BUILDS_A_PROGRAM in entry["dependencies"]
        }
    )
    found = {name: unused_native(path, name) for name in building}
    return {name: brought for name, brought in found.items() if brought is not None}


def _scripted(path: Path, left_out: set[str]) -> list[str] | None:
    """The installed packages with install scripts (as ``npm rebuild`` takes folders),
    but ``left_out``'s; None where npm's record of what it installed cannot be read.
    Blocking."""
    installed = _installed(path)
    if not installed and (path / "node_modules").is_dir() and _has_packages(path):
        return None
    return [
        f"./{at}"
        for at, entry in installed.items()
        if entry.get("hasInstallScript") is True and _name(at) not in left_out
    ]


def _has_packages(path: Path) -> bool:
    """Whether npm installed anything in ``path``'s node_modules (its own files aside)."""
    return any(not entry.name.startswith(".") for entry in (path / "node_modules").iterdir())


# The scripts npm runs of the project itself when it installs (and rebuilds) it.
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")


def _own_install_scripts(path: Path) -> bool:
    """Whether the project in ``path`` has install scripts of its own. Blocking."""
    scripts = _package(path).get("scripts")
    return isinstance(scripts, dict) and any(name in scripts for name in _INSTALL_SCRIPTS)


# An install script that compiles the project's sources (``"postinstall": "tsc"``, ``npm
# run build``, ``nest build``): every part of it (joined by ``&&``) such a command.
_SOURCE_BUILD = re.compile(
    r"^\s*(?:npx\s+)?(?:tsc(?:\s+(?:-p|--project|-b|--build)\s+\S+)?"
    r"|(?:npm|yarn|pnpm)\s+(?:run\s+)?build(?::\w+)?|nest\s+build)\s*$"
)


# An install script that works on the app's database (``"postinstall": "npm run db-init"``,
# ``createdb app``, ``sequelize db:migrate``): every part of it such a command, or ``npm run``
# of a script that is one.
_DATABASE_STEP = re.compile(
    r"^\s*(?:npx\s+)?(?:createdb|dropdb|psql|mysql|mysqladmin|sequelize(?:-cli)?\s+db:"
    r"|knex\s+(?:migrate|seed)|prisma\s+(?:migrate|db)\b|typeorm(?:-ts-node-\w+)?\s+"
    r"(?:migration|schema))"
)
_RUNS_SCRIPT = re.compile(r"^\s*(?:npm|yarn|pnpm)\s+(?:run\s+)?([\w:.-]+)\s*$")
# The build's output cleaned before it is made again (``rimraf dist``, ``rm -rf ./build``):
# part of a build, nothing of its own.
_OUTPUT_CLEAN = re.compile(
    r"^\s*(?:npx\s+)?(?:rimraf|rm\s+-(?:rf|fr|r))\s+(?:\./)?(?:dist|build|lib|out)/?\s*$"
)
# An install script that checks the author's machine, not the app: its Node and npm
# versions against the exact ones of package.json's engines (``"preinstall": "npx
# check-engine"``), or which package manager installs (``npx only-allow pnpm``).
_MACHINE_CHECK = re.compile(
    r"^\s*(?:npx\s+(?:(?:-y|--yes)\s+)?)?(?:check-engines?|check-node-version|only-allow)\b"
)


class _OwnStepsLeftOut(NamedTuple):
    """The install scripts taken out of a package.json, by what they do (their names)."""

    builds: list[str]
    databases: list[str]
    machine_checks: list[str]


def _drop_own_steps(path: Path) -> _OwnStepsLeftOut:
    """Take out of ``path``'s package.json its own install scripts that build the app from
    its sources (:data:`_SOURCE_BUILD`) or work on its database (:data:`_DATABASE_STEP`):
    only its package.json and lockfile are where the environment is made, no database is
    served there, and its build and data initialisation run as steps in the app's folder
    (Ziel-Global's express-typescript-postgresql-boilerplate: ``"postinstall": "tsc"``,
    which found no tsconfig.json there, printed its help and failed the install;
    pasyagitka's recipeNestJS: ``"postinstall": "npm run prestart:prod"``, that script
    ``rimraf dist && npm run build``, whose ``tsc -p tsconfig.build.json`` found none there);
    yamolatix's challenge-express-sequelize: ``"postinstall": "npm run db-init"``, its
    ``createdb`` with no server to reach: "connection to server on socket … failed").
    Likewise one that checks the author's machine (:data:`_MACHINE_CHECK`): the preview
    runs on this one's Node and npm, whatever versions the app pinned (stivendiaz's
    nodejs-sales-express: ``npx check-engine`` against node 18.7.0 and npm 8.15.0,
    "Environment is invalid!"). Blocking."""
    package = _package(path)
    scripts = package.get("scripts")
    if not isinstance(scripts, dict):
        return _OwnStepsLeftOut([], [], [])

    def parts(name: str) -> list[str]:
        text = scripts.get(name)
        return text.split("&&") if isinstance(text, str) and text.strip() else []

    def made_of(
        steps: list[str],
        step: re.Pattern[str],
        beside: re.Pattern[str] | None = None,
        depth: int = 0,
    ) -> bool:
        """Whether ``steps`` are each a ``step``, ``npm run`` of a script made of them, or
        a ``beside`` (a build's clean of its output), one at least a ``step``."""
        done = False
        for part in steps:
            run = _RUNS_SCRIPT.match(part)
            inner = parts(run[1]) if run and depth < 3 else []
            if step.match(part) or (inner and made_of(inner, step, beside, depth + 1)):
                done = True
            elif beside is None or not beside.match(part):
                return False
        return done

    builds = [n for n in _INSTALL_SCRIPTS if made_of(parts(n), _SOURCE_BUILD, _OUTPUT_CLEAN)]
    databases = [
        n for n in _INSTALL_SCRIPTS if n not in builds and made_of(parts(n), _DATABASE_STEP)
    ]
    checks = [
        n
        for n in _INSTALL_SCRIPTS
        if n not in builds and n not in databases and made_of(parts(n), _MACHINE_CHECK)
    ]
    if builds or databases or checks:
        for name in (*builds, *databases, *checks):
            del scripts[name]
        replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    return _OwnStepsLeftOut(builds, databases, checks)


def _installed(path: Path) -> dict[str, dict]:
    """npm's record of what it installed (``node_modules/.package-lock.json``'s
    packages, by folder); {} when it cannot be read."""
    try:
        lock = loads_bounded(read_no_follow(path / "node_modules" / ".package-lock.json"))
    except (OSError, ValueError):
        return {}
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return {}
    return {
        at: entry
        for at, entry in packages.items()
        if at.startswith("node_modules/") and isinstance(entry, dict)
    }


def _package(path: Path) -> dict:
    try:
        package = loads_bounded(read_no_follow(path / "package.json"))
    except (OSError, ValueError):
        return {}
    return package if isinstance(package, dict) else {}


def _name(at: str) -> str:
    """The package installed at the folder ``at`` (``node_modules/a/node_modules/@s/b``)."""
    return at.rsplit("node_modules/", 1)[-1]


def registry_addresses(lock: dict) -> dict[str, int]:
    """Rewrite (in place) each ``resolved`` tarball address of another registry to the
    public one's; the hosts moved away from, with their counts."""
    moved: dict[str, int] = {}

    def visit(entry: object) -> None:
        if isinstance(entry, dict):
            resolved = entry.get("resolved")
            if isinstance(resolved, str):
                public = _public_address(resolved)
                if public is not None:
                    entry["resolved"] = public
                    host = urlparse(resolved).hostname or "?"
                    moved[host] = moved.get(host, 0) + 1
            for key in ("packages", "dependencies"):
                nested = entry.get(key)
                if isinstance(nested, dict):
                    for child in nested.values():
                        visit(child)

    visit(lock)
    return moved


def _public_address(resolved: str) -> str | None:
    """The public registry's address of another registry's tarball, else None: npm's
    form (``<package>/-/<file>``) and the ``/download/`` one of cnpm's mirrors and
    Artifactory's npm remotes (``<package>/download/@scope/<file>``: jackgaoyuan's
    node-koa2-mysql locked its every package at a company's Artifactory, one of 231 moved;
    npm, refused there, hung its install to the launch's timeout)."""
    url = urlparse(resolved)
    if url.scheme not in ("http", "https") or url.hostname == _REGISTRY_HOST:
        return None
    where = url.path.rsplit("/-/", 1)
    if len(where) != 2:
        where = url.path.rsplit("/download/", 1)
        if len(where) == 2:
            where[1] = where[1].rsplit("/", 1)[-1]  # (its scope, written again: dropped)
    if len(where) != 2 or "/" in where[1] or not where[1].endswith(".tgz"):
        return None
    parts = where[0].replace("%2f", "/").replace("%2F", "/").split("/")
    if len(parts) >= 2 and parts[-2].replace("%40", "@").startswith("@"):
        package = f"{parts[-2].replace('%40', '@')}/{parts[-1]}"
    elif parts[-1]:
        package = parts[-1]
    else:
        return None
    return f"{REGISTRY}{package}/-/{where[1]}"


def _node_major() -> int | None:
    """The major version of the Node the app runs on; None where it cannot be read."""
    try:
        found = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10)
        return int(found.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def _nested_broken_overridden(
    path: Path, raised: dict[str, str], ranges: Ranges = ()
) -> list[tuple[str, list[str], str, str]]:
    """(name, the versions, the range given, why) of each package of
    :data:`_BROKEN_ON_NODE` that a package of ``path``'s tree installed a copy of its own
    of, at a release that does not run on this Node: ``path``'s package.json then gets an
    npm override of that range to the first release that runs (valar-videos' koa-pg:
    postgres-migrations 3 brings its own pg 7, whose connect never settled, the process
    exiting 0 before it served, the app's own pg raised to 8 beside it all the while).
    ``raised``: the range :func:`_broken_pins` installs of a top-level one, written as the
    app's direct range (an npm override may not contradict it); none where the app
    overrides the package itself, or asks for an exact release of it. Blocking."""
    node = _node_major()
    if node is None:
        return []
    package, installed = _package(path), _installed(path)
    overrides = package.get("overrides", {})
    if not isinstance(overrides, dict):
        return []
    listed = {**(package.get("devDependencies") or {}), **(package.get("dependencies") or {})}
    listed.update(dict(ranges))
    found = []
    for name, (fixed, since, why) in _BROKEN_ON_NODE.items():
        old = sorted(
            {
                version
                for at, entry in installed.items()
                if _name(at) == name
                and at != f"node_modules/{name}"
                and _older(version := str(entry.get("version", "")), fixed)
            }
        )
        if node < since or not old or any(override_name(k) == name for k in overrides):
            continue
        below = f"{fixed[0] + 1}" if fixed[0] else f"0.{fixed[1] + 1}"
        first = f">={'.'.join(map(str, fixed))} <{below}"
        direct = [
            t for k in DEPENDENCY_TABLES if isinstance(t := package.get(k), dict) and name in t
        ]
        wanted = raised.get(name) or listed.get(name)
        runs = name in raised or (isinstance(wanted, str) and _allows(wanted, fixed))
        if direct and not runs:
            continue  # an exact release the app chose, kept with its copies
        for table in direct:
            table[name] = wanted
        version = ".".join(map(str, fixed))
        overrides[f"{name}@<{version}"] = f"${name}" if direct else first
        found.append((name, old, wanted if direct else first, why))
    if found:
        package["overrides"] = overrides
        replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    return found


def _broken_pins(path: Path, ranges: Ranges = ()) -> list[tuple[str, str, str, str, bool]]:
    """(name, its installed version, the range to install, why, whether that is beyond
    the app's range) of each top-level package of
    :data:`_BROKEN_ON_NODE` installed at a release that does not run on this Node, with
    the newest its range allows that runs (else the first major's that does: ``>=8.0.3
    <9``; an exact version is the app's choice); and of :data:`_BROKEN_ON_POSTGRES`, for
    an app listing pg. The range is the app's own (``ranges``)
    where a yarn or pnpm lockfile pinned it in ``path``'s package.json: kelvin-mai's
    nest-ideas-api, ``"pg": "^7.5.0"`` and a yarn.lock at 7.x, read as an exact version,
    the app's choice, kept the hang (TypeORM's start exited 0 before it served). Blocking."""
    node = _node_major()
    if node is None:
        return []
    package, installed = _package(path), _installed(path)
    listed = {**(package.get("devDependencies") or {}), **(package.get("dependencies") or {})}
    listed.update(dict(ranges))
    known = [(n, fixed, node >= since, why) for n, (fixed, since, why) in _BROKEN_ON_NODE.items()]
    known += [(n, fixed, "pg" in listed, why) for n, (fixed, why) in _BROKEN_ON_POSTGRES.items()]
    broken = []
    for name, fixed, applies, why in known:
        wanted, entry = listed.get(name), installed.get(f"node_modules/{name}", {})
        version = str(entry.get("version", ""))
        if not applies or not isinstance(wanted, str) or not _older(version, fixed):
            continue
        if _allows(wanted, fixed):
            broken.append((name, version, wanted, why, False))
        else:
            # ^7.12.1 (ganeshmani's sequelize-cli tutorial, 2019): every 7.x hangs here;
            # an exact pin likewise, which no release it names runs (andrew-snytko's
            # nestjs-coding-test: "pg": "7.18.2", exited 0 before it served).
            # A 0.x's minor is its major (^0.2.7: below 0.3).
            below = f"{fixed[0] + 1}" if fixed[0] else f"0.{fixed[1] + 1}"
            first = f">={'.'.join(map(str, fixed))} <{below}"
            broken.append((name, version, first, why, True))
    # A native module whose own engines ask for a newer Node, installed here all the same
    # (its binaries in the package, or built): it crashes as it loads (leosuncin's
    # koa-api-example: better-sqlite3 13.2, engines >=22, its prebuilds/ in the package,
    # killed by SIGSEGV at start). The newest release of the major below it, which npm
    # picks among those whose engines allow this Node.
    for name in listed:
        entry = installed.get(f"node_modules/{name}", {})
        floor, version = _node_floor(entry.get("engines")), str(entry.get("version", ""))
        major = version.split(".")[0]
        newer = floor is not None and floor > node and _native(path / "node_modules" / name, entry)
        if newer and major.isdigit() and int(major) > 0 and all(b[0] != name for b in broken):
            why = f"a native module, its engines ask for Node {floor} and later, not {node}"
            broken.append((name, version, f"<{major}", why, True))
    return broken


# graceful-fs below 4.2 reads Node's internals as it loads ("ReferenceError: primordials is
# not defined" on Node 12 and later), so no tree holding one runs here; 4.2 keeps its API.
# Old toolchains bring it: gulp 3's vinyl-fs, sequelize-cli 2 (jadeydi's koajs: its
# migrations died on it), old node-sass and glob.
_GRACEFUL_FS = "graceful-fs"
_GRACEFUL_FS_RUNS = "^4.2.11"


def _graceful_fs_overridden(path: Path) -> list[str]:
    """The versions of graceful-fs below 4.2 installed in ``path``'s tree, its package.json
    then given an npm override of that range to 4.2's newest (a direct dependency's range
    raised with it, which the override refers to: npm refuses one contradicting it); none
    where the app overrides graceful-fs itself. Blocking."""
    old = sorted(
        {
            version
            for at, entry in _installed(path).items()
            if _name(at) == _GRACEFUL_FS
            and _older(version := str(entry.get("version", "")), (4, 2, 0))
        }
    )
    package = _package(path)
    overrides = package.get("overrides", {})
    if not old or not isinstance(overrides, dict):
        return []
    if any(override_name(key) == _GRACEFUL_FS for key in overrides):
        return []  # the app's own choice
    direct = [
        t for k in DEPENDENCY_TABLES if isinstance(t := package.get(k), dict) and _GRACEFUL_FS in t
    ]
    for table in direct:
        table[_GRACEFUL_FS] = _GRACEFUL_FS_RUNS
    overrides[f"{_GRACEFUL_FS}@<4.2"] = f"${_GRACEFUL_FS}" if direct else _GRACEFUL_FS_RUNS
    package["overrides"] = overrides
    replace_file(path / "package.json", (json.dumps(package, indent=2) + "\n").encode())
    return old


def _native(folder: Path, entry: dict) -> bool:
    """Whether the package installed in ``folder`` (npm's record of it: ``entry``) has
    native code: an install script, a node-gyp build file, or prebuilt binaries."""
    if entry.get("hasInstallScript") is True:
        return True
    return (folder / "binding.gyp").is_file() or (folder / "prebuilds").is_dir()


def _node_floor(engines: object) -> int | None:
    """The Node major an ``engines`` record asks at least, where it says only that
    (``{"node": ">=22"}``); None for any other."""
    wanted = engines.get("node") if isinstance(engines, dict) else None
    found = re.fullmatch(r"\s*>=?\s*v?(\d+)(?:\.\d+){0,2}\s*", wanted or "")
    return int(found.group(1)) if found else None


def _older(version: str, fixed: tuple[int, int, int]) -> bool:
    parts = version.split("-")[0].split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts) and tuple(map(int, parts)) < fixed


def _allows(wanted: str, fixed: tuple[int, int, int]) -> bool:
    """Whether the npm range ``wanted`` (``^8.0.0``, ``~8.0.1``, ``8.x``, ``*``, ``>=7``;
    others are not read) allows ``fixed``."""
    wanted = wanted.strip()
    if wanted in ("*", "", "latest", "x"):
        return True
    if (floor := re.fullmatch(r">=?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", wanted)) is not None:
        return tuple(int(g or 0) for g in floor.groups()) <= fixed
    if (match := _VERSION.match(wanted)) is None:
        return False
    parts = [int(g) if g is not None and g.isdigit() else None for g in match.groups()]
    low = tuple(p or 0 for p in parts)
    if wanted.startswith("^") and (parts[0] or 0) > 0:  # ^8.0.0: any 8
        return fixed[0] == parts[0] and fixed >= low
    if wanted.startswith("^") and parts[0] == 0 and parts[1]:  # ^0.2.7: any 0.2, as npm reads it
        return fixed[:2] == (0, parts[1]) and fixed >= low
    if wanted.startswith("~") or parts[2] is None:  # ~8.0.1, 8.0.x, 8.x: that minor (major)
        same = parts[:1] if parts[1] is None else parts[:2]
        return list(fixed[: len(same)]) == same and fixed >= low
    return False  # an exact version: the app asked for that one
