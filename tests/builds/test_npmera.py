"""A Node app with no lockfile whose build or start fails in its dependencies is installed
again as of its era (``preview.builds.remedies.npmera``): which failures call for it,
which apps get it, the day read from the registry's release times of its ranges' floors,
and the install it makes (npm's ``--before``, part of the environment's key)."""

from __future__ import annotations

import json
import types
from typing import Any, cast

import pytest
import trio

from preview.apps.node.nodedeps import NodeDeps
from preview.builds import relaunch
from preview.builds.preparation import BUILD, INSTALL
from preview.builds.remedies import Remedies
from preview.builds.remedies.fixes import Fix
from preview.builds.remedies.npmera import (
    dependency_failure,
    floor_pins,
    floors,
    locked,
    node_era_fix,
    read_node_era,
    released,
)
from preview.metrics import PREPARATION_FAILED

PACKAGE = {
    "name": "nestprac",
    "dependencies": {
        "@nestjs/typeorm": "^8.0.2",
        "typeorm": "^0.2.37",
        "pg": "~8.7.1",
        "lodash": "4.17.21",
        "rxjs": "*",
        "local": "file:../local",
        "either": "^1.0.0 || ^2.0.0",
    },
    "devDependencies": {"typescript": ">=4.2.3", "jest": "26.x"},
}
# The registry's documents (their ``time``): the publisher's, with ``created``.
DOCUMENTS: dict[str, object] = {
    "@nestjs/typeorm": {"time": {"created": "2017-01-01T00:00:00Z", "8.0.2": "2021-06-28T10:00Z"}},
    "typeorm": {"time": {"created": "2016-02-29T00:00:00Z", "0.2.37": "2021-08-13T09:00:00Z"}},
    "pg": {"time": {"created": "2010-10-01T00:00:00Z", "8.7.1": "2021-07-27T12:00:00Z"}},
    "lodash": {"time": {"created": "2012-04-23T00:00:00Z", "4.17.21": "2021-02-20T15:42:16Z"}},
    "typescript": {"time": {"created": "2012-10-01T00:00:00Z", "4.2.3": "2021-03-05T00:00:00Z"}},
}
TS_FAILURE = (
    "setup step failed (exited with code 1): npm run build: TypeScript: 18 errors in 7 files "
    "(src/auth/auth.controller.ts, ../../..<environment>/node_modules/@nestjs/typeorm/dist/"
    "common/typeorm.decorators.d.ts, …)"
)


def files_of(package: dict, **more: bytes) -> dict[str, bytes]:
    return {"package.json": json.dumps(package).encode(), "src/main.ts": b"", **more}


async def fetch(names: set[str]) -> dict[str, object]:
    return {name: DOCUMENTS[name] for name in names if name in DOCUMENTS}


def test_the_floors_are_the_lowest_versions_its_ranges_allow() -> None:
    assert floors(json.dumps(PACKAGE).encode()) == {
        "@nestjs/typeorm": "8.0.2",
        "typeorm": "0.2.37",
        "pg": "8.7.1",
        "lodash": "4.17.21",
        "typescript": "4.2.3",
    }  # not *, a file: path, alternatives nor 26.x: they name no version installed
    assert floors(b"[]") == {} and floors(b"{not json") == {}


def test_a_release_is_dated_by_the_publishers_time_not_a_mirrors() -> None:
    assert released(DOCUMENTS["typeorm"], "0.2.37") == "2021-08-13"
    assert released(DOCUMENTS["typeorm"], "0.3.0") is None
    # A mirror's time: when it copied each release (every version within days), no created.
    mirror = {"time": {"0.2.37": "2024-12-07T08:06:06.915000+00:00", "modified": "2024-12-13"}}
    assert released(mirror, "0.2.37") is None
    assert released(None, "1.0.0") is None


@pytest.mark.parametrize(
    ("message", "lines", "said"),
    [
        (TS_FAILURE, [], "TypeScript errors in its dependencies' declarations"),
        (
            "setup step failed: npm run build",
            [
                "node_modules/@types/eslint/index.d.ts(453,41): error TS1005: ',' expected.",
                "src/app.ts(3,1): error TS2304: Cannot find name 'x'.",
            ],
            "TypeScript errors in its dependencies' declarations",
        ),
        (
            "setup step failed: npm run build",
            ["node_modules/@types/node/ts4.8/fs.d.ts:12:5 - error TS2300: Duplicate identifier"],
            "TypeScript errors in its dependencies' declarations",
        ),
        (
            "setup step failed (exited with code 1): npm install: npm could not resolve the "
            "dependency tree: While resolving: @nestjs/typeorm@8.1.4",
            [],
            "peer dependency conflict (ERESOLVE)",
        ),
        (
            "the process exited during start-up",
            [
                "SyntaxError: The requested module 'typeorm' does not provide an export named "
                "'DataSource'",
            ],
            "typeorm does not provide an export named DataSource",
        ),
        (
            "the process exited during start-up",
            [
                "TypeError: (0 , typeorm_1.getMetadataArgsStorage) is not a function",
                "    at Object.<anonymous> (/app/node_modules/@nestjs/typeorm/dist/x.js:4:9)",
            ],
            "is not a function",
        ),
        (
            "Error: Cannot find module 'node_modules/typeorm/entities/User.js'",
            ["  code: 'MODULE_NOT_FOUND',", "  path: 'node_modules/typeorm/package.json'"],
            "typeorm's exports do not include a path the app imports",
        ),
        (
            # Lightnet's minimal_module_js: hono ^4.7.7, whose newest requires jwt()'s alg.
            'Error: JWT auth middleware requires options for "alg"',
            [
                "file:///env/node_modules/hono/dist/middleware/jwt/jwt.js:40",
                '\tif (!options.alg) throw new Error("JWT auth middleware requires options for',
                'Error: JWT auth middleware requires options for "alg"',
                "    at jwt (file:///env/node_modules/hono/dist/middleware/jwt/jwt.js:40:26)",
                "    at file:///app/src/server.js:68:3",
            ],
            'Error: JWT auth middleware requires options for "alg" (raised in a package',
        ),
        (
            "the process exited during start-up",
            [
                "Error [ERR_PACKAGE_PATH_NOT_EXPORTED]: Package subpath './lib/x' is not defined"
                ' by "exports" in /app/node_modules/@scope/pkg/package.json'
            ],
            "@scope/pkg's exports",
        ),
    ],
)
def test_failures_in_its_dependencies_call_for_its_era(
    message: str, lines: list[str], said: str
) -> None:
    found = dependency_failure(message, lines)
    assert found is not None and said in found


@pytest.mark.parametrize(
    ("message", "lines"),
    [
        # The app's own code: its own errors alone, its own function, its own module.
        ("npm run build: TypeScript: 2 errors in src/app.ts", ["src/app.ts(3,1): error TS2304"]),
        (
            "the process exited during start-up",
            [
                "TypeError: this.users.find is not a function",
                "    at find (/app/src/users.js:9:3)",
                "    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)",
            ],
        ),
        (
            "the process exited during start-up",
            ["SyntaxError: The requested module './db.js' does not provide an export named 'x'"],
        ),
        # An option its own code requires: not a package's.
        (
            "the process exited during start-up",
            ["Error: option 'secret' is required", "    at makeAuth (/app/src/auth.js:4:9)"],
        ),
        # A service's absence, its configuration.
        ("the process exited during start-up", ["Error: connect ECONNREFUSED 127.0.0.1:5432"]),
        # A module of its own, missing: not a package's.
        ("the process exited during start-up", ["Error: Cannot find module './routes/users'"]),
    ],
)
def test_other_failures_do_not(message: str, lines: list[str]) -> None:
    assert dependency_failure(message, lines) is None


def test_an_app_with_no_lockfile_is_installed_as_of_its_newest_floor_and_90_days() -> None:
    fix = trio.run(node_era_fix, files_of(PACKAGE), TS_FAILURE, [], fetch)
    assert fix is not None
    # typeorm 0.2.37 (2021-08-13) is the newest floor: 90 days after, 2021-11-11.
    assert fix.before == "2021-11-11T00:00:00Z"
    assert fix.said.startswith(
        "no lockfile: installed as of 2021-11-11, the app's era, where today's versions fail "
        "its build: TypeScript errors in its dependencies' declarations"
    )
    assert "typeorm@0.2.37, released 2021-08-13" in fix.said
    assert fix.change == "resolved as of 2021-11-11"


@pytest.mark.parametrize(
    "lockfile", ["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock"]
)
def test_an_app_with_a_lockfile_has_no_era(lockfile: str) -> None:
    files = files_of(PACKAGE, **{lockfile: b"{}"})
    assert locked(files)
    assert trio.run(node_era_fix, files, TS_FAILURE, [], fetch) is None


def test_no_era_without_a_failure_of_its_dependencies() -> None:
    own = "npm run build: TypeScript: 1 error in src/app.ts"
    assert trio.run(node_era_fix, files_of(PACKAGE), own, [], fetch) is None


def test_undated_by_the_registry_its_ranges_are_installed_at_their_floors() -> None:
    async def mirror(names: set[str]) -> dict[str, object]:
        return {name: {"time": {"0.2.37": "2024-12-07T08:06:06Z"}} for name in names}

    other = {"name": "y", "dependencies": {"typeorm": "^0.2.37", "rxjs": "*"}}
    assert trio.run(read_node_era, json.dumps(other).encode(), mirror) is None
    fix = trio.run(node_era_fix, files_of(other), TS_FAILURE, [], mirror)
    assert fix is not None and fix.floors and fix.before is None
    assert fix.said.startswith("no lockfile: installed at the versions its ranges name")
    assert "what its author installed: typeorm 0.2.37, …" in fix.said
    assert fix.change == "its ranges at their floors"
    pinned = floor_pins(json.dumps(other).encode())
    assert pinned is not None
    assert json.loads(pinned)["dependencies"] == {"typeorm": "0.2.37", "rxjs": "*"}
    # Nothing to pin: no fix.
    loose = {"name": "z", "dependencies": {"rxjs": "*", "lodash": "4.17.21"}}
    assert floor_pins(json.dumps(loose).encode()) is None
    assert trio.run(node_era_fix, files_of(loose), TS_FAILURE, [], mirror) is None


def test_the_era_is_one_fix_remembered_by_upload_and_part_of_the_install_key() -> None:
    learned: dict[str, list[Fix]] = {}
    remedies = Remedies(learned)
    files = files_of(PACKAGE)
    assert remedies.adopt(files) == [] and not remedies.tried_era()
    fix = Fix("no lockfile: …", before="2021-11-11T00:00:00Z")
    remedies.take(fix)
    assert remedies.tried_era()
    later = Remedies(learned)  # the next launch of the same upload starts dated
    assert later.adopt(files) == [fix]
    assert remedies.withdraw_dated() == fix and remedies.tried_era()  # refused: not again
    floored = Remedies()
    floored.take(Fix("no lockfile: …", floors=True))
    assert floored.tried_era() and floored.withdraw_dated() is not None
    deps = NodeDeps(files["package.json"], None)
    dated = NodeDeps(files["package.json"], None, before=fix.before)
    assert deps.key() != dated.key()
    assert NodeDeps(files["package.json"], None, before=None).key() == deps.key()


class _State:
    def __init__(self, message: str, phase: str, reason: str) -> None:
        self.error_message: str | None = message
        self.error_lines: list[str] = []
        self.stop_reason: str | None = reason
        self.phase = phase
        self.exit_code: int | None = 1
        self.smoke: dict | None = None
        self.said: list[tuple[str, str]] = []
        self.row = types.SimpleNamespace(update=lambda **_: None)

    async def system(self, level: str, message: str) -> None:
        self.said.append((level, message))

    async def publish_status(self, status: str, message: str) -> None:
        pass


class _Runtime:
    def __init__(self, files: dict[str, bytes], state: _State, remedies: Remedies) -> None:
        detection = types.SimpleNamespace(language="node")
        spec = types.SimpleNamespace(detection=detection, files=files)
        self.state = state
        self.preparation = types.SimpleNamespace(spec=spec, remedies=remedies)
        self.containment = types.SimpleNamespace(release=lambda: None, confinement=None)

    def fresh_scopes(self) -> bool:
        return True

    async def reset_data(self) -> None:
        pass


def test_a_node_launch_is_relaunched_once_as_of_its_era_and_taken_back_if_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fixed(files: dict[str, bytes], message: str, lines: list[str]) -> Fix | None:
        return await node_era_fix(files, message, lines, fetch)

    monkeypatch.setattr(relaunch, "node_era_fix", fixed)
    remedies = Remedies()
    state = _State(TS_FAILURE, BUILD, PREPARATION_FAILED)
    runtime = _Runtime(files_of(PACKAGE), state, remedies)
    assert trio.run(relaunch.relaunch_with_fix, cast(Any, runtime))
    assert state.said[0][0] == "WARN" and state.said[0][1].startswith("fix 1: no lockfile")
    assert state.stop_reason is None and remedies.fixes[0].before == "2021-11-11T00:00:00Z"
    # The install as of then fails (npm finds no version so dated): taken back, the
    # failure before stands, and it is not tried again.
    state.error_message, state.phase = "npm install: No versions available for x", INSTALL
    state.stop_reason = PREPARATION_FAILED
    assert not trio.run(relaunch.relaunch_with_fix, cast(Any, runtime))
    assert state.error_message == TS_FAILURE and remedies.fixes == []
    assert state.said[-1] == ("WARN", "resolved as of 2021-11-11 did not make it run: no fix")
    assert not trio.run(relaunch.relaunch_with_fix, cast(Any, runtime))  # not again


def test_a_node_launch_that_went_further_keeps_its_era(monkeypatch: pytest.MonkeyPatch) -> None:
    remedies = Remedies()
    remedies.take(Fix("no lockfile: …", before="2021-11-11T00:00:00Z"))
    remedies.failure_before = (TS_FAILURE, [], PREPARATION_FAILED)
    state = _State(
        "connect ECONNREFUSED 127.0.0.1:6379", BUILD, "the process exited during start-up"
    )
    runtime = _Runtime(files_of(PACKAGE), state, remedies)
    assert not trio.run(relaunch.relaunch_with_fix, cast(Any, runtime))
    assert len(remedies.fixes) == 1 and str(state.error_message).startswith("connect")
