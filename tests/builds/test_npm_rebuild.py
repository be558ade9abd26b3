"""The packages' install scripts (``npm rebuild``, real npm, offline): a native module
that fails to build, brought by a dev tool alone and not listed by the app (compodoc's
``sleep`` in CatsMiaow's node-nestjs-structure), is left unbuilt and the others' scripts
run; one the app lists is not left out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trio

from preview.builds.envcache import BuildFailed
from preview.builds.installers import (
    SAFE_PATH,
    installer_failure,
    npm_environment,
    npm_freshness,
    npm_install,
)
from preview.builds.npmlock import (
    RELINK,
    made_optional,
    npm_rebuild,
    unused_native,
    unused_program_builds,
)
from preview.builds.steps import run_logged
from preview.builds.toolerrors import NPM_PEER_CONFLICT
from preview.sandbox.process import ChildLimits

from ..launching import APPS

APP = APPS / "node_dev_tool_native"

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


def _installed(path: Path) -> Path:
    """The fixture's package.json and the node_modules npm installed for it, in ``path``."""
    path.mkdir(exist_ok=True)
    shutil.copy(APP / "package.json", path / "package.json")
    shutil.copytree(APP / "installed", path / "node_modules")
    return path


def _real_npm(
    path: Path, env: dict[str, str], ran: list[list[str]] | None = None, *, offline: bool = False
) -> Callable[[list[str]], Awaitable[None]]:
    """npm run in ``path`` as a build's step runs it, each command recorded in ``ran``;
    its failure raised as the build's (``offline``: from its cache alone)."""

    async def run(argv: list[str]) -> None:
        if ran is not None:
            ran.append(argv)
        result = await run_logged(
            [*argv, "--offline"] if offline else argv,
            cwd=path,
            env=env,
            limits=ChildLimits(memory_bytes=4 << 30),
            publish=_ignore,
            time_limit=60,
        )
        if not result.ok:
            raise BuildFailed(*installer_failure(result.tails, "npm"))

    return run


def test_only_a_dev_tools_own_native_module_is_unused(tmp_path: Path) -> None:
    path = _installed(tmp_path)
    assert unused_native(path, "sleepy") == "doc-tool"
    assert unused_native(path, "greeting") is None  # the app's own
    assert unused_native(path, "absent") is None
    # Listed by the app itself (even as a dev dependency): it may run it.
    package = (path / "package.json").read_text()
    (path / "package.json").write_text(package.replace('"doc-tool"', '"sleepy"', 1))
    assert unused_native(path, "sleepy") is None


@needs_npm
async def test_a_dev_tools_native_module_that_fails_is_left_unbuilt(tmp_path: Path) -> None:
    path = _installed(tmp_path / "env")
    env = {"PATH": SAFE_PATH, "HOME": str(tmp_path), "npm_config_cache": str(tmp_path / "c")}
    ran: list[list[str]] = []
    said: list[str] = []

    run = _real_npm(path, env, ran)

    async def say(text: str) -> None:
        said.append(text)

    with trio.fail_after(90):
        await npm_rebuild(run, _not_run, say, path)
    assert said == [
        "the native module sleepy does not build on Node "
        f"{said[0].split('Node ')[1].split(':')[0]}: only doc-tool (a dev dependency) brings "
        "it and the app does not list it: left unbuilt"
    ]
    everything = ["npm", "rebuild", "./node_modules/greeting", "./node_modules/sleepy"]
    assert ran == [everything, ["npm", "rebuild", "./node_modules/greeting"]]
    assert (path / "node_modules" / "greeting" / "built.txt").read_text() == "hello"


def _with_image_optimizers(path: Path) -> Path:
    """The installed project with a dev tool's image optimizer (gifsicle's shape: its
    install script downloads a program, else builds it with bin-build) and one the app
    lists itself."""
    lock_path = path / "node_modules" / ".package-lock.json"
    lock = json.loads(lock_path.read_text())
    lock["packages"]["node_modules/doc-tool"]["dependencies"]["gifsicle"] = "^5.0.0"
    for name, dev in (("gifsicle", True), ("pngquant-bin", False)):
        lock["packages"][f"node_modules/{name}"] = {
            "version": "5.0.0",
            "dev": dev,
            "hasInstallScript": True,
            "dependencies": {"bin-build": "^3.0.0", "bin-wrapper": "^4.0.0"},
        }
    lock_path.write_text(json.dumps(lock))
    package = json.loads((path / "package.json").read_text())
    package["dependencies"]["pngquant-bin"] = "5.0.0"
    (path / "package.json").write_text(json.dumps(package))
    return path


async def test_a_dev_tools_program_built_from_source_is_left_unbuilt_before_its_scripts_run(
    tmp_path: Path,
) -> None:
    """PyTechMike's training-koa-2: ``neutrino start``'s dev preset brings imagemin's
    gifsicle, mozjpeg, pngquant-bin and cwebp-bin for production builds alone; no
    prebuilt binary's download reached, each compiled from its C sources, and the
    install ran past the launch's 240 s. One the app lists is built as before."""
    path = _with_image_optimizers(_installed(tmp_path / "env"))
    assert unused_program_builds(path) == {"gifsicle": "doc-tool"}
    npm = _ScriptedNpm(native_fails=False)
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    ran, said = npm.ran, npm.said
    assert said == [
        "gifsicle: their install scripts download a program, else compile it from its C "
        "sources for minutes; only doc-tool (dev dependencies) bring them and the app does "
        "not list them: left unbuilt"
    ]
    scripts = ["./node_modules/greeting", "./node_modules/sleepy", "./node_modules/pngquant-bin"]
    assert ran == [["npm", "rebuild", *scripts]]


async def test_a_native_module_the_app_lists_gets_its_newest_release_for_this_node(
    tmp_path: Path,
) -> None:
    """taptorestart's NestJS lists better-sqlite3 7.5, which does not build on Node 20: its
    replacement is asked for as a range above it (npm then honours engines), not @latest (13.2,
    for Node 22, segfaulted on 20)."""
    path = _listing_sleepy(tmp_path)
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    ran = npm.ran
    assert ran[1][-1] == "sleepy@>1.0.0" and ran[2] == RELINK, ran
    assert ran[3][:2] == ["npm", "rebuild"] and ran[3] != RELINK, ran
    assert npm.said[-1].endswith("its newest release for this Node in its place, sleepy@>1.0.0")


async def test_a_dev_dependencys_native_module_whose_newest_release_fails_too_is_left_unbuilt(
    tmp_path: Path,
) -> None:
    """dilagurung's node-sequelize-jwt-mysql lists phantomjs-prebuilt for karma: its
    script fetches PhantomJS from GitHub, out of reach, and its newest release's does too
    ("tunneling socket could not be established"): the build failed on a test tool. One
    the app lists among its dependencies fails the build as before."""
    path = _listing_sleepy(tmp_path)
    ran: list[list[str]] = []
    said: list[str] = []
    fetch = "the native module sleepy could not fetch its prebuilt binary: Error: tunneling"

    async def run(argv: list[str]) -> None:
        ran.append(argv)
        if argv[:2] == ["npm", "rebuild"] and "./node_modules/sleepy" in argv:
            raise BuildFailed(fetch)

    async def say(text: str) -> None:
        said.append(text)

    with trio.fail_after(10):
        await npm_rebuild(run, _not_run, say, path)
    assert ran[-1] == ["npm", "rebuild", "./node_modules/greeting"], ran
    assert said[-1].endswith("its newest release too: a dev dependency of the app's, left unbuilt")
    package = (path / "package.json").read_text()
    (path / "package.json").write_text(
        package.replace('"devDependencies"', '"optionalDependencies"')
    )
    with trio.fail_after(10), pytest.raises(BuildFailed):
        await npm_rebuild(run, _not_run, say, path)


async def test_a_replaced_native_modules_override_is_dropped(tmp_path: Path) -> None:
    """JaneJeon's express-objection-starter: its yarn.lock's bcrypt 3.0.6 (a package of its
    tree, pinned by an npm override) does not build on Node 20; its replacement was refused,
    "Override for bcrypt@>3.0.6 conflicts with direct dependency". The override is dropped
    first, said; the others are kept."""
    path = _listing_sleepy(tmp_path)
    package = json.loads((path / "package.json").read_text())
    package["overrides"] = {"sleepy@1.0.0": "1.0.0", "other@2.0.0": "2.0.0"}
    (path / "package.json").write_text(json.dumps(package))
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    assert npm.ran[1][-1] == "sleepy@>1.0.0", npm.ran
    assert json.loads((path / "package.json").read_text())["overrides"] == {"other@2.0.0": "2.0.0"}
    assert npm.said[-1].endswith("sleepy@>1.0.0 (its lockfile's pin, an override, dropped)")


async def test_a_replacement_refused_for_a_peer_conflict_installs_as_the_app_did(
    tmp_path: Path,
) -> None:
    """knands42's NestJs-Auth-Typeorm: its install needed --legacy-peer-deps (eslint-
    config-standard's peer eslint); sqlite3 5.0.2, replaced for this Node, was installed
    beside the tree without it, and npm refused the whole tree again (ERESOLVE)."""
    path = _listing_sleepy(tmp_path)
    npm = _ScriptedNpm(peer_conflict=True)
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    ran = npm.ran
    assert ran[1][-1] == "sleepy@>1.0.0" and ran[2] == [*ran[1], "--legacy-peer-deps"], ran
    assert ran[3] == RELINK, ran
    assert npm.said[-1].endswith("; installing again with --legacy-peer-deps"), npm.said
    # Any other failure of that install is the build's.
    npm = _ScriptedNpm(refusal="npm could not download sleepy")
    with trio.fail_after(10), pytest.raises(BuildFailed, match="could not download"):
        await npm_rebuild(npm.run, _not_run, npm.say, path)


async def test_a_tree_that_needed_legacy_peer_deps_installs_its_tools_with_it() -> None:
    """sebapoole's fastify-typescript-knex-boilerplate: its install needed
    --legacy-peer-deps (knex 0.20's peer pg 7, the app's pg 8); what was installed beside
    it later was not, and npm churned on the same conflict ("ERESOLVE overriding peer
    dependency", 30,000 lines) until the launch timed out. Once needed, every later
    install has it from the start, and the caller is told (for the rebuild's)."""
    npm = _ScriptedNpm(refusal=f'{NPM_PEER_CONFLICT}: peerOptional pg@"^7.18.2" from knex')
    with trio.fail_after(10):
        legacy = await npm_install(npm.run, "install", ("tsx@^4",), npm.say)
    assert legacy is True
    assert [argv[-1] for argv in npm.ran] == ["--ignore-scripts", *["--legacy-peer-deps"] * 2]
    assert npm.ran[2][:4] == ["npm", "install", "--no-save", "--no-progress"], npm.ran
    assert "tsx@^4" in npm.ran[2]
    npm = _ScriptedNpm(refusal=f"{NPM_PEER_CONFLICT}: peerOptional pg")  # a yarn-resolved tree
    with trio.fail_after(10):
        assert await npm_install(npm.run, "install", ("tsx@^4",), npm.say, legacy=True)
    assert [argv[-1] for argv in npm.ran] == ["--legacy-peer-deps"] * 2, npm.ran
    npm = _ScriptedNpm()  # no conflict: no flag
    with trio.fail_after(10):
        assert await npm_install(npm.run, "install", ("tsx@^4",), npm.say) is False
    assert not any("--legacy-peer-deps" in argv for argv in npm.ran), npm.ran


class _ScriptedNpm:
    """npm as the rebuild calls it, each command recorded: the native module sleepy's
    first rebuild fails for this Node (where ``native_fails``); an install beside the tree
    is refused with ``refusal`` (a peer conflict's, where ``peer_conflict``) unless
    --legacy-peer-deps."""

    def __init__(
        self, peer_conflict: bool = False, refusal: str = "", *, native_fails: bool = True
    ) -> None:
        self.ran: list[list[str]] = []
        self.said: list[str] = []
        conflict = f'{NPM_PEER_CONFLICT}: peer eslint@"^7.12.1" from a-config'
        self.refusal = conflict if peer_conflict else refusal
        self.native_fails = native_fails

    async def run(self, argv: list[str]) -> None:
        self.ran.append(argv)
        if self.native_fails and argv[:2] == ["npm", "rebuild"] and len(self.ran) == 1:
            raise BuildFailed("the native module sleepy 1.0.0 does not build on Node 20")
        installs = argv[:2] == ["npm", "install"]
        if self.refusal and installs and "--legacy-peer-deps" not in argv:
            raise BuildFailed(self.refusal)

    async def say(self, text: str) -> None:
        self.said.append(text)


def _listing_sleepy(tmp_path: Path) -> Path:
    """The installed project, its package.json listing the native module sleepy itself."""
    path = _installed(tmp_path / "env")
    package = (path / "package.json").read_text()
    (path / "package.json").write_text(package.replace('"doc-tool"', '"sleepy"', 1))
    return path


async def _ignore(lines: list[tuple[str, str]], stream: str) -> None:
    pass


async def _not_run(argv: list[str]) -> None:
    raise AssertionError(f"the project has no install scripts of its own: {argv}")


async def test_each_replacement_keeps_the_tools_and_the_replacements_before_it(
    tmp_path: Path,
) -> None:
    """Woz-U's racket app: sqlite3 4.0.6 replaced, then bcrypt 3.0.6: that second ``npm
    install --no-save`` set the tree back to the lockfile, sqlite3 4.0.6 again (then
    refused as replaced already), and took away the yarn the build had added for its
    scripts ("yarn: not found", ShawnStewart's node-koa-typescript)."""
    path = _installed(tmp_path / "env")
    ran: list[list[str]] = []
    failures = iter(["sqlite3 4.0.6", "bcrypt 3.0.6"])

    async def run(argv: list[str]) -> None:
        ran.append(argv)
        rebuild = argv[:2] == ["npm", "rebuild"] and argv != RELINK
        if rebuild and (failing := next(failures, None)) is not None:
            raise BuildFailed(f"the native module {failing} does not build on Node 20")

    async def say(text: str) -> None:
        pass

    with trio.fail_after(10):
        await npm_rebuild(run, _not_run, say, path, (), ("yarn@^1",))
    installs = [argv[5:] for argv in ran if argv[:2] == ["npm", "install"]]
    first = ["yarn@^1", "sqlite3@>4.0.6"]
    assert installs == [first, [*first, "bcrypt@>3.0.6"]]
    assert ran[-1][:2] == ["npm", "rebuild"]


async def test_what_the_build_added_is_installed_again_after_an_own_script_installs(
    tmp_path: Path,
) -> None:
    """JannickOste's express-learning-project: its own ``install`` script runs ``npm
    install --save-dev …``, which set the tree back to its package.json and took away the
    ts-node the build had added beside it ("ts-node: not found"). What the build added is
    installed again, and the commands relinked; not where it is still there."""
    path = _installed(tmp_path / "env")
    package = json.loads((path / "package.json").read_text())
    package["scripts"]["install"] = "npm install --save-dev express"
    (path / "package.json").write_text(json.dumps(package))
    tool = path / "node_modules" / "ts-node"
    tool.mkdir()
    (tool / "package.json").write_text('{"name": "ts-node"}')
    ran: list[list[str]] = []
    said: list[str] = []

    async def run(argv: list[str]) -> None:
        ran.append(argv)

    async def own(argv: list[str]) -> None:
        ran.append(argv)
        if pruning:
            shutil.rmtree(tool, ignore_errors=True)

    async def say(text: str) -> None:
        said.append(text)

    pruning = False
    with trio.fail_after(10):
        await npm_rebuild(run, own, say, path, (), ("ts-node@^10",))
    assert not [argv for argv in ran if argv[:2] == ["npm", "install"]]
    pruning = True
    with trio.fail_after(10):
        await npm_rebuild(run, own, say, path, (), ("ts-node@^10",))
    assert ran[-2][:3] == ["npm", "install", "--no-save"] and ran[-2][-1] == "ts-node@^10"
    assert ran[-1] == RELINK
    assert any("installing again what the build adds (ts-node@^10)" in s for s in said)


@needs_npm
async def test_the_projects_own_install_scripts_run_apart_from_its_packages(
    tmp_path: Path,
) -> None:
    """The uploaded project's own install scripts are its code, run by ``run_own`` (which
    the builder gives the package indexes alone, not the hosts of prebuilt binaries its
    packages' scripts may reach: a NestJS upload's postinstall fetched a program from a
    GitHub release); the packages' scripts are named to npm, which then leaves the
    project's own out."""
    path = _installed(tmp_path / "env")
    package = json.loads((path / "package.json").read_text())
    package["devDependencies"] = {}  # sleepy (which does not build here) is not installed
    shutil.rmtree(path / "node_modules" / "sleepy")
    record = json.loads((path / "node_modules" / ".package-lock.json").read_text())
    del record["packages"]["node_modules/sleepy"]
    (path / "node_modules" / ".package-lock.json").write_text(json.dumps(record))
    package["scripts"]["postinstall"] = "node -e \"require('fs').writeFileSync('own.txt', 'x')\""
    (path / "package.json").write_text(json.dumps(package))
    env = {"PATH": SAFE_PATH, "HOME": str(tmp_path), "npm_config_cache": str(tmp_path / "c")}
    ran: list[tuple[str, list[str]]] = []

    def running(who: str) -> Callable[[list[str]], Awaitable[None]]:
        async def run(argv: list[str]) -> None:
            ran.append((who, argv))
            result = await run_logged(
                argv,
                cwd=path,
                env=env,
                limits=ChildLimits(memory_bytes=4 << 30),
                publish=_ignore,
                time_limit=60,
            )
            assert result.ok, result.tail
            # Nothing of the project's own ran among its packages' scripts.
            assert (path / "own.txt").exists() == (who == "own"), (who, argv)

        return run

    async def say(text: str) -> None:
        pass

    with trio.fail_after(90):
        await npm_rebuild(running("packages"), running("own"), say, path)
    assert ran == [
        ("packages", ["npm", "rebuild", "./node_modules/greeting"]),
        ("own", ["npm", "rebuild", "."]),
    ]
    assert (path / "node_modules" / "greeting" / "built.txt").read_text() == "hello"


async def test_packages_npm_kept_no_record_of_are_rebuilt_as_the_projects_own(
    tmp_path: Path,
) -> None:
    """Without npm's record of what it installed (node_modules/.package-lock.json), which
    packages have scripts is unknown: all of them run with what the app may reach."""
    path = _installed(tmp_path / "env")
    (path / "node_modules" / ".package-lock.json").unlink()
    ran: list[tuple[str, list[str]]] = []

    async def packages(argv: list[str]) -> None:
        ran.append(("packages", argv))

    async def own(argv: list[str]) -> None:
        ran.append(("own", argv))

    async def say(text: str) -> None:
        pass

    with trio.fail_after(10):
        await npm_rebuild(packages, own, say, path)
    assert ran == [("own", ["npm", "rebuild"])]


@needs_npm
async def test_the_relink_after_a_replacement_makes_each_packages_commands_again(
    tmp_path: Path,
) -> None:
    """iramirezc's express-jwt-sequelize-mariadb: sqlite3 5.0.2's replacement took away
    .bin/node-pre-gyp, which its old node-pre-gyp and bcrypt's @mapbox/node-pre-gyp both
    gave: bcrypt's install script then failed, "node-pre-gyp: not found". The relink
    (real npm, offline) makes every package's command link again and runs no script."""
    path = _installed(tmp_path / "env")
    env = {"PATH": SAFE_PATH, "HOME": str(tmp_path), "npm_config_cache": str(tmp_path / "c")}
    assert not (path / "node_modules" / ".bin" / "doc-tool").exists()
    with trio.fail_after(60):
        result = await run_logged(
            RELINK,
            cwd=path,
            env={**env, "npm_config_offline": "true"},
            limits=ChildLimits(memory_bytes=4 << 30),
            publish=_ignore,
            time_limit=50,
        )
    assert result.ok, result.tails
    link = path / "node_modules" / ".bin" / "doc-tool"
    assert link.resolve() == (path / "node_modules" / "doc-tool" / "cli.js").resolve()
    assert not (path / "node_modules" / "greeting" / "built.txt").exists()  # no script ran


async def test_a_native_module_whose_engines_ask_a_newer_node_gets_the_major_below(
    tmp_path: Path,
) -> None:
    """leosuncin's koa-api-example lists better-sqlite3 ^13.0.2, whose engines ask for
    Node 22: built on Node 20 all the same, it was killed by SIGSEGV as it loaded. The
    newest release of the major below (12.x, engines 20.x || 22.x …) is installed instead."""
    path = tmp_path / "env"
    (path / "node_modules").mkdir(parents=True)
    package = {"dependencies": {"fast-sqlite": "^13.0.2", "plain": "^1.0.0", "shipped": "^3"}}
    (path / "package.json").write_text(json.dumps(package))
    packages = {
        "": package,
        "node_modules/fast-sqlite": {
            "version": "13.0.2",
            "hasInstallScript": True,
            "engines": {"node": ">=99"},
        },
        "node_modules/plain": {"version": "1.0.0", "engines": {"node": ">=99"}},  # no script
        # Its binaries in the package (better-sqlite3 13.2's prebuilds/), no install script.
        "node_modules/shipped": {"version": "3.1.0", "engines": {"node": ">=99"}},
    }
    (path / "node_modules" / "shipped" / "prebuilds").mkdir(parents=True)
    lock = {"lockfileVersion": 3, "packages": packages}
    (path / "node_modules" / ".package-lock.json").write_text(json.dumps(lock))
    npm = _ScriptedNpm(native_fails=False)
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    ran, said = npm.ran, npm.said
    assert ran[0] == [
        "npm",
        "install",
        "--no-save",
        "--no-progress",
        "--ignore-scripts",
        "fast-sqlite@<13",
        "shipped@<3",
    ]
    assert said[0].startswith(
        "fast-sqlite 13.0.2 (installed) a native module, its engines ask for Node 99"
    )
    assert not any("plain" in " ".join(argv) for argv in ran), ran
    # Engines this Node meets: nothing replaced.
    for name in ("fast-sqlite", "shipped"):
        packages[f"node_modules/{name}"]["engines"] = {"node": ">=14"}
    (path / "node_modules" / ".package-lock.json").write_text(json.dumps(lock))
    ran.clear()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    assert not any(argv[:2] == ["npm", "install"] for argv in ran), ran


async def test_a_range_the_cached_index_cannot_meet_is_asked_of_the_registry_first() -> None:
    """npm takes the machine's cache as it is (``npm_freshness``), and does not ask the
    registry again by itself when a cached index of a package has no version a range
    wants (one published since): the step runs again with --prefer-online, said, before
    the app's pin is given up; without the cache first, no such step."""
    unpinned: list[str] = []

    async def unpin(name: str) -> str | None:
        unpinned.append(name)
        return None

    for offline_first in (True, False):
        ran: list[list[str]] = []
        said: list[str] = []

        async def run(argv: list[str], ran: list[list[str]] = ran) -> None:
            ran.append(argv)
            if "--prefer-online" not in argv:
                raise BuildFailed("no version of left-pad matches ^9.1.0")

        async def say(text: str, said: list[str] = said) -> None:
            said.append(text)

        with trio.fail_after(10):
            if offline_first:
                await npm_install(run, "install", (), say, unpin, offline_first=True)
            else:
                with pytest.raises(BuildFailed, match="no version of left-pad"):
                    await npm_install(run, "install", (), say, unpin)
        if offline_first:
            assert ran[1] == [*ran[0], "--prefer-online"], ran
            assert said == [
                "npm's cached index of left-pad has no version matching ^9.1.0: asking the"
                " registry for a newer one"
            ]
            assert unpinned == []
        else:
            assert len(ran) == 1 and unpinned == ["left-pad"], (ran, unpinned)


@needs_npm
def test_npm_takes_its_cache_as_it_is_unless_an_era_needs_the_registrys_indexes(
    tmp_path: Path,
) -> None:
    """The settings ``npm_freshness`` gives are the ones npm reads."""

    def npm_says(name: str, settings: dict[str, str]) -> str:
        env = {**npm_environment(tmp_path, tmp_path / "cache", settings), "NODE_OPTIONS": ""}
        done = subprocess.run(
            ["npm", "config", "get", name], env=env, cwd=tmp_path, capture_output=True, check=True
        )
        return done.stdout.decode().strip()

    assert npm_says("prefer-offline", npm_freshness(None)) == "true"
    dated = npm_freshness("2021-03-01T00:00:00Z")
    assert npm_says("prefer-offline", dated) == "false"
    assert npm_says("before", dated).startswith("Mon Mar 01 2021")


async def test_a_node_config_release_that_reads_no_comment_here_gets_the_next_major(
    tmp_path: Path,
) -> None:
    """gyangyun's koa-rest-api: ``"config": "^1.25.1"`` (1.31.0 installed), comments in its
    config/default.json. Before 3.3.10 node-config tells a comment by JSON.parse's message,
    which Node 19 changed: "Cannot parse config file … Expected property name or '}'". The
    newest 3 is installed instead, saying so; where the release installed reads them, as
    it was."""
    path = tmp_path / "env"
    (path / "node_modules").mkdir(parents=True)
    package = {"dependencies": {"config": "^1.25.1", "koa": "^2.2.0"}}
    (path / "package.json").write_text(json.dumps(package))
    installed = {
        "packages": {
            "node_modules/config": {"version": "1.31.0"},
            "node_modules/koa": {"version": "2.16.1"},
        }
    }
    lock = path / "node_modules" / ".package-lock.json"
    lock.write_text(json.dumps(installed))
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    version = (await trio.run_process(["node", "--version"], capture_stdout=True)).stdout
    node = int(version.decode().lstrip("v").split(".")[0])
    if node < 19:
        pytest.skip(f"Node {node} reads them")
    assert npm.ran[0][-1] == "config@>=3.3.10 <4", npm.ran
    assert npm.said[0].startswith("config 1.31.0 (installed) it reads no comment"), npm.said
    installed["packages"]["node_modules/config"]["version"] = "3.3.12"
    lock.write_text(json.dumps(installed))
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    assert not any(argv[:2] == ["npm", "install"] for argv in npm.ran), npm.ran


@needs_npm
async def test_a_program_download_that_fails_is_left_unbuilt(tmp_path: Path) -> None:
    """mayankpatel1004's nodejs-postgresql: html-pdf-node's own puppeteer 10 downloads
    Chromium r901912 at install, gone from its host (403): the environment failed, the app
    never started. Its install script is left out (by its name), the others' run."""
    path = tmp_path / "env"
    shutil.copytree(APP / "installed" / "greeting", path / "node_modules" / "greeting")
    nested = path / "node_modules" / "pdf-maker" / "node_modules" / "puppeteer"
    nested.mkdir(parents=True)
    failing = (
        "node -e \"console.error('ERROR: Failed to set up Chromium r901912!'); "
        "console.error('Error: Download failed: server returned code 403.'); process.exit(1)\""
    )
    (nested / "package.json").write_text(
        json.dumps({"name": "puppeteer", "version": "10.4.0", "scripts": {"install": failing}})
    )
    (path / "node_modules" / "pdf-maker" / "package.json").write_text(
        json.dumps({"name": "pdf-maker", "version": "1.0.8"})
    )
    listed = {"greeting": "1.0.0", "pdf-maker": "1.0.8"}
    (path / "package.json").write_text(json.dumps({"name": "app", "dependencies": listed}))
    packages = {
        "node_modules/greeting": {"version": "1.0.0", "hasInstallScript": True},
        "node_modules/pdf-maker": {"version": "1.0.8"},
        "node_modules/pdf-maker/node_modules/puppeteer": {
            "version": "10.4.0",
            "hasInstallScript": True,
        },
    }
    record = {"name": "app", "lockfileVersion": 3, "requires": True, "packages": packages}
    (path / "node_modules" / ".package-lock.json").write_text(json.dumps(record))
    env = {"PATH": SAFE_PATH, "HOME": str(tmp_path), "npm_config_cache": str(tmp_path / "c")}
    ran: list[list[str]] = []
    said: list[str] = []

    run = _real_npm(path, env, ran)

    async def say(text: str) -> None:
        said.append(text)

    with trio.fail_after(90):
        await npm_rebuild(run, _not_run, say, path)
    assert said == [
        "puppeteer's install script could not download its program: left unbuilt, the "
        "app's server starts without it (what starts that program fails)"
    ]
    assert ran[-1] == ["npm", "rebuild", "./node_modules/greeting"], ran
    assert (path / "node_modules" / "greeting" / "built.txt").read_text() == "hello"


async def test_a_native_module_only_a_package_of_its_tree_depends_on_is_overridden(
    tmp_path: Path,
) -> None:
    """alaneicker's express-user-authentication lists sqlite, whose own sqlite3 ^4.0.0
    (4.2.0) does not build on Node 20: installed beside, the newest stayed out of sqlite's
    reach. An override gives it to the whole tree; not where the app lists it itself."""
    path = _installed(tmp_path / "env")
    package = json.loads((path / "package.json").read_text())
    package["dependencies"]["doc-tool"] = package.pop("devDependencies")["doc-tool"]
    (path / "package.json").write_text(json.dumps(package))  # sqlite's place: the app's own
    record = path / "node_modules" / ".package-lock.json"
    lock = json.loads(record.read_text())
    for entry in lock["packages"].values():
        entry.pop("dev", None)
    record.write_text(json.dumps(lock))
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    assert npm.ran[1][-1] == "sleepy@>1.0.0", npm.ran
    assert json.loads((path / "package.json").read_text())["overrides"] == {"sleepy": ">1.0.0"}
    assert npm.said[-1].endswith("its copies the app's packages depend on too)"), npm.said
    (tmp_path / "listed").mkdir()
    listed = _listing_sleepy(tmp_path / "listed")
    with trio.fail_after(10):
        await npm_rebuild(_ScriptedNpm().run, _not_run, npm.say, listed)
    assert "overrides" not in json.loads((listed / "package.json").read_text())


async def test_a_packages_own_copy_of_an_old_pg_is_overridden_with_the_apps(
    tmp_path: Path,
) -> None:
    """valar-videos' koa-pg: ``"pg": "^7.8.0"`` and postgres-migrations 3, which brings its
    own pg 7 (``node_modules/postgres-migrations/node_modules/pg``). The app's pg was
    raised to 8, but the migrations' connect never settled on this Node and the process
    exited 0 before it served. Every copy below 8.0.3 is given the app's raised range by
    an npm override, in the same install."""
    path = tmp_path / "env"
    (path / "node_modules").mkdir(parents=True)
    package = {"dependencies": {"pg": "^7.8.0", "postgres-migrations": "^3.0.2"}}
    (path / "package.json").write_text(json.dumps(package))
    installed = {
        "packages": {
            "node_modules/pg": {"version": "7.18.2"},
            "node_modules/postgres-migrations": {"version": "3.0.2"},
            "node_modules/postgres-migrations/node_modules/pg": {"version": "7.18.2"},
            "node_modules/pgtools/node_modules/pg": {"version": "6.4.2"},
        }
    }
    (path / "node_modules" / ".package-lock.json").write_text(json.dumps(installed))
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    written = json.loads((path / "package.json").read_text())
    assert written["dependencies"]["pg"] == ">=8.0.3 <9", written
    assert written["overrides"] == {"pg@<8.0.3": "$pg"}, written
    installs = [argv for argv in npm.ran if argv[:2] == ["npm", "install"]]
    assert len(installs) == 1 and installs[0][-1] == "pg@>=8.0.3 <9", npm.ran
    assert npm.said[1] == (
        "pg 6.4.2, 7.18.2 (installed for the packages depending on it) its connect never "
        "settles on Node 14 and later (node-postgres#2179): given pg@>=8.0.3 <9 by an npm "
        "override"
    ), npm.said


async def test_a_nested_old_pg_the_app_does_not_list_gets_the_first_release_that_runs(
    tmp_path: Path,
) -> None:
    """A copy of an old pg that only a package of the tree depends on (the app lists none):
    the override gives it the first major that runs; where the app overrides pg itself,
    or asks for one exact release, its choice stands."""
    path = tmp_path / "env"
    (path / "node_modules").mkdir(parents=True)
    package: dict = {"dependencies": {"postgres-migrations": "^3.0.2"}}
    (path / "package.json").write_text(json.dumps(package))
    installed = {
        "packages": {"node_modules/postgres-migrations/node_modules/pg": {"version": "7.4.0"}}
    }
    (path / "node_modules" / ".package-lock.json").write_text(json.dumps(installed))
    npm = _ScriptedNpm()
    with trio.fail_after(10):
        await npm_rebuild(npm.run, _not_run, npm.say, path)
    assert json.loads((path / "package.json").read_text())["overrides"] == {
        "pg@<8.0.3": ">=8.0.3 <9"
    }
    assert any(argv[:2] == ["npm", "install"] for argv in npm.ran), npm.ran
    for own in ({**package, "overrides": {"pg": "7.4.0"}}, {"dependencies": {"pg": "7.4.0"}}):
        (path / "package.json").write_text(json.dumps(own))
        npm = _ScriptedNpm()
        with trio.fail_after(10):
            await npm_rebuild(npm.run, _not_run, npm.say, path)
        assert json.loads((path / "package.json").read_text()) == own
        assert not any(argv[:2] == ["npm", "install"] for argv in npm.ran), npm.ran


@needs_npm
async def test_a_dependency_of_another_platform_is_made_optional_and_skipped(
    tmp_path: Path,
) -> None:
    """ilkerkaran's cars-express-workshop lists the Windows-only msnodesqlv8 beside its
    SQLite: npm refused the whole install (EBADPLATFORM). Made optional, in package.json
    and its lockfile, it is skipped here as npm skips any optional package of another
    platform, said, and the rest is installed; a package of another platform the app
    does not list itself stays npm's failure."""
    packages = tmp_path / "packages"
    for name, manifest in {
        "winonly": {"os": ["win32"]},
        "anywhere": {},
    }.items():
        folder = packages / name
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(
            json.dumps({"name": name, "version": "1.0.0", **manifest})
        )
        (folder / "index.js").write_text("module.exports = 1;\n")
    env = {"PATH": SAFE_PATH, "HOME": str(tmp_path), "npm_config_cache": str(tmp_path / "c")}
    for name in ("winonly", "anywhere"):
        await trio.run_process(
            ["npm", "pack", "--silent", str(packages / name)],
            cwd=packages,
            env=env,
            capture_stdout=True,
        )
    path = tmp_path / "app"
    path.mkdir()
    dependencies = {
        "anywhere": f"file:{packages / 'anywhere-1.0.0.tgz'}",
        "winonly": f"file:{packages / 'winonly-1.0.0.tgz'}",
    }
    (path / "package.json").write_text(
        json.dumps({"name": "app", "version": "1.0.0", "dependencies": dependencies})
    )
    said: list[str] = []

    run = _real_npm(path, env, offline=True)

    async def say(text: str) -> None:
        said.append(text)

    async def optional(name: str) -> bool:
        return await trio.to_thread.run_sync(made_optional, path, name)

    with trio.fail_after(90):
        await npm_install(run, "install", (), say, None, optional)
    assert (path / "node_modules" / "anywhere" / "index.js").is_file()
    assert not (path / "node_modules" / "winonly").exists()
    package = json.loads((path / "package.json").read_text())
    assert package["optionalDependencies"] == {"winonly": dependencies["winonly"]}
    assert package["dependencies"] == {"anywhere": dependencies["anywhere"]}
    assert said == [
        "the package winonly 1.0.0 runs on another system or processor than this Linux's: "
        'it wants {"os":"win32"}: made an optional dependency, which npm skips on this '
        "machine (what loads it fails)"
    ]
    # Its lockfile's record is made optional too (npm ci installs from it).
    lock = json.loads((path / "package-lock.json").read_text())
    lock["packages"][""]["dependencies"]["winonly"] = dependencies["winonly"]
    del lock["packages"][""]["optionalDependencies"]
    (path / "package-lock.json").write_text(json.dumps(lock))
    assert made_optional(path, "winonly") is False  # package.json lists it optional already
    package["dependencies"]["winonly"] = package.pop("optionalDependencies")["winonly"]
    (path / "package.json").write_text(json.dumps(package))
    assert made_optional(path, "winonly") is True
    lock = json.loads((path / "package-lock.json").read_text())
    assert lock["packages"][""]["optionalDependencies"] == {"winonly": dependencies["winonly"]}
    assert "winonly" not in lock["packages"][""]["dependencies"]
    # Not the app's own (another package's dependency): npm's failure stands.
    assert made_optional(path, "elsewhere") is False

    async def refused(argv: list[str]) -> None:
        raise BuildFailed(
            "the package deep 1.0.0 runs on another system or processor than this Linux's: "
            'it wants {"cpu":"arm64"}'
        )

    with trio.fail_after(10), pytest.raises(BuildFailed, match=r"the package deep 1\.0\.0"):
        await npm_install(refused, "install", (), say, None, optional)
