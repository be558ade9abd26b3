"""A Node app's dependencies as installed (apps.node.nodedeps): what is left out, what
is taken from the registry instead, what is installed beside a lockfile."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from preview.apps.node.nodeapp import node_start
from preview.apps.node.nodedeps import DART_SASS, node_dependencies, orm_drivers_unlisted
from preview.builds.npmlock import restore_range

from ..launching import app_files


def _locked(package: dict, installed: dict[str, str | dict]) -> dict[str, bytes]:
    """package.json and a package-lock.json (v3) installing ``installed`` (a path under
    node_modules/: its version, or its whole entry)."""
    packages: dict[str, dict] = {"": {"dependencies": dict(package["dependencies"])}}
    for path, entry in installed.items():
        packages[f"node_modules/{path}"] = {"version": entry} if isinstance(entry, str) else entry
    lock = {"lockfileVersion": 3, "packages": packages}
    return {
        "package.json": json.dumps(package).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }


def test_a_dependency_npm_refuses_the_name_of_is_left_out_of_both_files() -> None:
    """fcbento's fastify app: ``npm i - D`` wrote ``"-": "^0.0.1"``; npm 10.9+ refused it
    ("name cannot start with a hyphen") before installing anything."""
    package = {"dependencies": {"-": "^0.0.1", "D": "^1.0.0", "fastify": "^5.1.0"}}
    files = _locked(package, {"-": "0.0.1", "D": "1.0.0", "fastify": "5.1.0"})
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    kept = json.loads(deps.package_json)["dependencies"]
    assert kept == {"D": "^1.0.0", "fastify": "^5.1.0"}  # capitals: npm only warns
    locked = json.loads(deps.lockfile[1])["packages"]
    assert locked[""]["dependencies"] == kept  # npm ci: still in step with package.json
    assert "node_modules/-" not in locked and "node_modules/D" in locked
    assert deps.note == 'package.json: left out "-", a dependency npm refuses the name of'
    plain = {"package.json": json.dumps({"dependencies": {"fastify": "^5"}}).encode()}
    untouched = node_dependencies(plain)
    assert untouched is not None and untouched.package_json == plain["package.json"]


def test_a_capitalised_copy_of_a_listed_dependency_is_left_out_of_both_files() -> None:
    """andrielcf's express-laboratorio lists ``"Express": "^3.0.1"`` beside ``"express":
    "^4.21.0"``: npm installed one, and ``require('express')`` found nothing. A capitalised
    name the code requires so, or one with no lower-case twin, stays."""
    package = {"dependencies": {"express": "^4.21.0", "Express": "^3.0.1", "D": "^1.0.0"}}
    files = _locked(package, {"express": "4.21.0", "Express": "3.0.1", "D": "1.0.0"})
    files["src/main.js"] = b"const express = require('express');\n"
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    kept = json.loads(deps.package_json)["dependencies"]
    assert kept == {"express": "^4.21.0", "D": "^1.0.0"}
    locked = json.loads(deps.lockfile[1])["packages"]
    assert locked[""]["dependencies"] == kept and "node_modules/Express" not in locked
    assert "a capitalised copy of a dependency it lists in lower case" in (deps.note or "")
    files["src/main.js"] = b"const Express = require('Express');\n"  # its own spelling
    kept = json.loads(node_dependencies(files).package_json)["dependencies"]  # type: ignore[union-attr]
    assert "Express" in kept


def test_a_locked_packages_dependency_under_a_refused_name_is_left_out() -> None:
    """aomandeshangxiao's express-service: its lockfile (from a registry mirror) gives
    gauge and npmlog a dependency ``"// console-control-strings": "^1.0.0"``; npm refused
    the whole install ("EINVALIDPACKAGENAME"). Left out of those entries alone."""
    gauge = {
        "version": "2.7.4",
        "dependencies": {"// console-control-strings": "^1.0.0", "console-control-strings": "^1"},
    }
    package = {"dependencies": {"express": "^4.18.2", "gauge": "^2.7.4"}}
    files = _locked(package, {"express": "4.18.2", "gauge": gauge})
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    locked = json.loads(deps.lockfile[1])["packages"]
    assert locked["node_modules/gauge"]["dependencies"] == {"console-control-strings": "^1"}
    assert json.loads(deps.package_json)["dependencies"] == package["dependencies"]
    assert "the dependencies of its packages under names npm refuses" in (deps.note or "")


def test_a_git_dependency_only_its_tests_import_is_left_out_of_both_files() -> None:
    """resolritter's koa-knex-starter lists its integration tests' port server as
    ``git+https://github.com/…``; the build reaches the registry only, and npm failed the
    whole install on it ("Could not read from remote repository")."""
    package = {
        "dependencies": {
            "koa": "^2.13.0",
            "port_acquisition_server": "git+https://github.com/someone/port_server.git",
            "shared-models": "github:someone/shared-models#v1",
            "local-lib": "../lib",
        },
        "devDependencies": {"helper": "someone/helper"},
    }
    lock = {
        "lockfileVersion": 1,
        "dependencies": {
            "koa": {"version": "2.13.0"},
            "port_acquisition_server": {"version": "git+https://github.com/someone/x.git#ab"},
        },
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "package-lock.json": json.dumps(lock).encode(),
        "src/main.js": b"const Koa = require('koa')\nconst m = require('shared-models/user')\n",
        "src/tests/integration/lib/constants.js": b"require('port_acquisition_server')\n",
        "test/helper.test.js": b"import helper from 'helper'\n",
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    kept = json.loads(deps.package_json)
    # What the app imports: the registry's release of its name (since batch 24); a path
    # is no git host's.
    assert kept["dependencies"] == {"koa": "^2.13.0", "shared-models": "*", "local-lib": "../lib"}
    assert kept["devDependencies"] == {}
    assert "port_acquisition_server" not in json.loads(deps.lockfile[1])["dependencies"]
    assert deps.note is not None and '"port_acquisition_server", "helper"' in deps.note
    assert "fetched from a git host" in deps.note


def test_a_lockfiles_optional_peers_are_installed_beside_it() -> None:
    """halilyanik98's NestJS-TypeOrm-CRUD uses NestJS's ValidationPipe, which loads
    class-transformer, a package its package.json does not list: its package-lock.json
    holds it at the top of node_modules as an optional peer of @nestjs/common, which npm ci
    leaves out, and Nest exited at start ('The "class-transformer" package is missing')."""
    lock = {
        "lockfileVersion": 2,
        "packages": {
            "": {"dependencies": {"@nestjs/common": "^8.0.0"}},
            "node_modules/@nestjs/common": {"version": "8.4.7"},
            "node_modules/class-transformer": {"version": "0.5.1", "optional": True, "peer": True},
            "node_modules/kafkajs": {"version": "2.2.4", "dev": True, "optional": True},
            # Nested, or a peer it needs: npm installs those itself.
            "node_modules/a/node_modules/class-validator": {
                "version": "0.13.2",
                "optional": True,
                "peer": True,
            },
            "node_modules/rxjs": {"version": "7.5.5", "peer": True},
            "node_modules/local": {"link": True, "optional": True, "peer": True},
        },
    }
    files = {
        "package.json": json.dumps({"dependencies": {"@nestjs/common": "^8.0.0"}}).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }
    deps = node_dependencies(files, ("tsx@4",))
    assert deps is not None
    assert deps.tools == ("tsx@4", "class-transformer@0.5.1")
    assert deps.note is not None and "class-transformer@0.5.1" in deps.note
    # A lockfile without any: nothing added, nothing said.
    del lock["packages"]["node_modules/class-transformer"]  # type: ignore[attr-defined]
    files["package-lock.json"] = json.dumps(lock).encode()
    deps = node_dependencies(files)
    assert deps is not None and deps.tools == () and deps.note is None


def test_a_locked_optional_peer_of_another_platform_is_not_installed() -> None:
    """shibbirweb's express-contact-service locks esbuild 0.14's platform builds
    (esbuild-android-64, esbuild-darwin-arm64 …) as optional peers: installed beside the
    lock, npm refused the first ("EBADPLATFORM … Unsupported platform"). Only a build
    whose ``os``, ``cpu`` and C library admit this machine is."""
    here = {"os": [sys.platform], "cpu": ["x64", "arm64", "ia32", "arm", "s390x", "ppc64"]}
    lock = {
        "lockfileVersion": 2,
        "packages": {
            "": {"dependencies": {"esbuild": "^0.14.0"}},
            "node_modules/esbuild-android-64": {
                "version": "0.14.48",
                "optional": True,
                "peer": True,
                "os": ["android"],
                "cpu": ["x64"],
            },
            "node_modules/not-here": {
                "version": "1.0.0",
                "optional": True,
                "peer": True,
                "os": [f"!{sys.platform}"],
            },
            "node_modules/esbuild-here": {"version": "0.14.48", "optional": True, "peer": True}
            | here,
            # another C library's build, by its name alone in a lockfile older than npm's
            # libc field (M-Shrief's Adeeb_ExpressTS_Postgres: @swc/core-linux-x64-musl)
            "node_modules/@swc/core-linux-x64-musl": {"version": "1.3.96", "optional": True}
            | {"peer": True}
            | here,
            "node_modules/other-libc": {"version": "1.0.0", "optional": True, "peer": True}
            | {"libc": ["musl" if platform.libc_ver()[0] == "glibc" else "glibc"]},
        },
    }
    files = {
        "package.json": json.dumps({"dependencies": {"esbuild": "^0.14.0"}}).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.tools == ("esbuild-here@0.14.48",), deps


def test_a_git_dependency_the_app_imports_is_the_registrys_release() -> None:
    """chrisveness' koa-sample-web-app-api-mysql imports koa-lusca, which its package.json
    takes from a pull request's head on GitHub (``koajs/koa-lusca#pull/19/head``): the
    build reaches the registry only, and npm failed the whole install ("Could not read
    from remote repository"). The registry's newest koa-lusca is installed instead."""
    package = {"dependencies": {"koa": "^2.0.0", "koa-lusca": "koajs/koa-lusca#pull/19/head"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "app-www/app-www.js": b"import lusca from 'koa-lusca';\n",
    }
    deps = node_dependencies(files)
    assert deps is not None
    assert json.loads(deps.package_json)["dependencies"] == {"koa": "^2.0.0", "koa-lusca": "*"}
    assert deps.note is not None and '"koa-lusca", which the app imports' in deps.note


def test_a_package_locked_from_a_git_host_is_resolved_again_with_what_requires_it() -> None:
    """Rishav0907's express-movie-sql: its old lockfile (v1) locks mysql2 2.2.3, which
    required ``"@types/mysql": "github:types/mysql"``, locked at a commit: npm's ``git
    ls-remote ssh://git@github.com/types/mysql.git`` failed the install (the build reaches
    the registry only). Both leave the lockfile; npm resolves mysql2 ^2.2.3 again."""
    package = {"dependencies": {"express": "^4.17.1", "mysql2": "^2.2.3"}}
    lock = {
        "lockfileVersion": 1,
        "dependencies": {
            "@types/mysql": {"version": "github:types/mysql#c26b1bc", "from": "github:types/mysql"},
            "express": {"version": "4.17.1", "requires": {"accepts": "~1.3.7"}},
            "mysql2": {"version": "2.2.3", "requires": {"@types/mysql": "github:types/mysql"}},
        },
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "package-lock.json": json.dumps(lock).encode(),
        "app.js": b"const mysql = require('mysql2');\n",
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    assert set(json.loads(deps.lockfile[1])["dependencies"]) == {"express"}
    assert json.loads(deps.package_json)["dependencies"] == package["dependencies"]
    assert deps.note is not None and "@types/mysql, mysql2 taken out of its lockfile" in deps.note


def test_a_tree_yarn_resolved_is_installed_without_peer_checks() -> None:
    """sebapoole's fastify-typescript-knex-boilerplate (a yarn.lock): knex 0.20's optional
    peer pg 7 beside its own pg 8, which yarn never checks; npm took 95 s to refuse it
    (ERESOLVE) before it installed with --legacy-peer-deps, and the launch ran out of
    time. A yarn-resolved tree is installed with the flag from the start; npm's own
    lockfile and pnpm's (which installs peers) are not."""
    files = {p: t.encode() for p, t in app_files("node_yarn_locked").items()}
    deps = node_dependencies(files)
    assert deps is not None and deps.legacy_peers
    unpinned = node_dependencies({**files, "yarn.lock": b"# yarn lockfile v1\n"})
    assert unpinned is not None and unpinned.legacy_peers  # nothing pinned, still yarn's
    assert deps.key() != replace(deps, legacy_peers=False).key()
    npm = node_dependencies({**files, "package-lock.json": b'{"lockfileVersion": 3}'})
    assert npm is not None and not npm.legacy_peers
    pnpm = node_dependencies({**files, "pnpm-lock.yaml": b"lockfileVersion: '9.0'\n"})
    assert pnpm is not None and not pnpm.legacy_peers


def test_a_pnpm_5_lockfile_pins_its_versions_without_their_peers_suffix() -> None:
    """leosuncin's nest-sequelize-example (pnpm-lock.yaml 5.4): a dependency with peers is
    locked as ``9.3.3_welcnyot5bzd5wa2aovbkxpi4i`` (5.4's hash) or ``2.1.5_rxjs@7.8.0``
    (5.3's names); pinned as written, npm refused each (ETARGET) and the install
    unpinned them one refusal at a time, past the launch's time. The version is the
    part before ``_``."""
    package = {"dependencies": {"alpha": "^9.0.0", "beta": "^2.1.0", "gamma": "^5.1.0"}}
    lock = (
        "lockfileVersion: 5.4\n\nspecifiers:\n  alpha: ^9.0.0\n  beta: ^2.1.0\n"
        "  gamma: ^5.1.0\n\ndependencies:\n  alpha: 9.3.3_welcnyot5bzd5wa2aovbkxpi4i\n"
        "  beta: 2.1.5_rxjs@7.8.0+reflect-metadata@0.1.13\n  gamma: 5.1.4\n"
    )
    files = {"package.json": json.dumps(package).encode(), "pnpm-lock.yaml": lock.encode()}
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is None
    pinned = json.loads(deps.package_json)["dependencies"]
    assert pinned == {"alpha": "9.3.3", "beta": "2.1.5", "gamma": "5.1.4"}


def test_a_pnpm_lockfiles_own_dependencies_are_kept_at_their_locked_versions() -> None:
    """jessekalil's fastify-zod-swagger-api: pnpm-lock.yaml locks zod 3.24.1 and the
    zod-to-json-schema 3.24.1 its fastify-type-provider-zod asks; npm resolved that one
    anew to a release importing ``zod/v3`` ("Package subpath './v3' is not defined").
    What package.json does not list and the lock holds at one version alone is kept at it
    (lockfiles 5, 6 and 9), as npm overrides; one at two versions, or from a git host or
    a URL, is left to npm, and a tool the build adds is its own."""
    package = {"dependencies": {"alpha": "^4.0.2", "zod": "^3.24.1"}}
    v9 = (
        "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies:\n      alpha:\n"
        "        specifier: ^4.0.2\n        version: 4.0.2(zod@3.24.1)\n      zod:\n"
        "        specifier: ^3.24.1\n        version: 3.24.1\n\npackages:\n"
        "  alpha@4.0.2:\n    resolution: {integrity: sha512-a}\n"
        "  zod-to-json-schema@3.24.1:\n    resolution: {integrity: sha512-b}\n"
        "  zod@3.24.1:\n    resolution: {integrity: sha512-c}\n"
        "  '@scope/twice@1.0.0':\n    resolution: {integrity: sha512-d}\n"
        "  '@scope/twice@2.0.0':\n    resolution: {integrity: sha512-e}\n"
        "  gitty@https://codeload.github.com/a/b/tar.gz/0a1b:\n    resolution: {tarball: x}\n"
        "  ts-node@10.9.2:\n    resolution: {integrity: sha512-f}\n"
    )
    files = {"package.json": json.dumps(package).encode(), "pnpm-lock.yaml": v9.encode()}
    deps = node_dependencies(files, tools=("ts-node@^10",))
    assert deps is not None and deps.lockfile is None
    written = json.loads(deps.package_json)
    assert written["dependencies"] == {"alpha": "4.0.2", "zod": "3.24.1"}
    assert written["overrides"] == {"zod-to-json-schema@3.24.1": "3.24.1"}
    v6 = "lockfileVersion: '6.0'\n\npackages:\n\n  /zod-to-json-schema@3.24.1(zod@3.24.1):\n"
    v6 += "    resolution: {integrity: sha512-b}\n"
    deps = node_dependencies({**files, "pnpm-lock.yaml": v6.encode()})
    assert deps is not None
    assert json.loads(deps.package_json)["overrides"] == {"zod-to-json-schema@3.24.1": "3.24.1"}
    v5 = "lockfileVersion: 5.4\n\npackages:\n\n  /@babel/core/7.5.5_x@1.0.0:\n"
    v5 += "    resolution: {integrity: sha512-b}\n"
    deps = node_dependencies({**files, "pnpm-lock.yaml": v5.encode()})
    assert deps is not None
    assert json.loads(deps.package_json)["overrides"] == {"@babel/core@7.5.5": "7.5.5"}


def test_bun_locked_versions_pin_the_direct_dependencies() -> None:
    """sarikamahboob's authentication-jwt-bun-hono-sqlite: ``"hono": "^4.9.6"``, its
    bun.lock at 4.9.6; npm reads no bun.lock and installed the newest 4.x, whose JWT
    middleware asks an ``alg`` option the app never gives ("JWT auth middleware requires
    options for "alg""). The hoisted entries' versions are written into package.json."""
    files = {p: t.encode() for p, t in app_files("node_bun_locked").items()}
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is None and not deps.legacy_peers
    package = json.loads(deps.package_json)
    assert package["dependencies"] == {"hono": "4.9.6", "ms": "2.0.0"}
    assert package["devDependencies"] == {"@types/bun": "1.2.21"}
    assert deps.note == "bun.lock: 3 dependencies at its locked versions (npm reads none)"
    assert dict(deps.ranges)["hono"] == "^4.9.6"  # the app's own, should 4.9.6 be gone


def test_a_binary_bun_lockb_pins_the_direct_dependencies_it_holds_one_version_of() -> None:
    """gordysc's hono-example: ``"hono": "^4.5.1"``, its bun.lockb (Bun before 1.2, a
    binary file) at 4.5.1: the newest 4.x's JWT middleware asks an ``alg`` option the app
    never gives. The tarball addresses it holds name each package's version; one held at
    two versions is left to its range."""
    lockb = (
        b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n\x00\x07hono\x00^4.5.1\x00"
        b"typescript@types/bunhttps://registry.npmjs.org/zod/-/zod-3.23.8.tgz"
        b"https://registry.npmjs.org/hono/-/hono-4.5.1.tgz"
        b"https://registry.npmjs.org/@types/bun/-/bun-1.1.6.tgzbun-types"
        b"https://registry.npmjs.org/ms/-/ms-2.0.0.tgz\x00\x01"
        b"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"
        b"https://registry.npmjs.org/pre/-/pre-1.0.0-beta.2.tgz"
    )
    package = {
        "dependencies": {"hono": "^4.5.1", "zod": "^3.23.8", "ms": "^2", "pre": "^1.0.0-beta"},
        "devDependencies": {"@types/bun": "latest"},
    }
    files = {"package.json": json.dumps(package).encode(), "bun.lockb": lockb}
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is None
    pinned = json.loads(deps.package_json)
    assert pinned["dependencies"] == {
        "hono": "4.5.1",
        "zod": "3.23.8",
        "ms": "^2",
        "pre": "1.0.0-beta.2",
    }
    assert pinned["devDependencies"] == {"@types/bun": "1.1.6"}


def test_a_yarn_lock_pins_its_trees_packages_locked_at_one_version() -> None:
    """Those package.json does not list, locked at one version alone, as npm overrides
    (the app's own overrides win); one locked at two versions, an alias's and one from
    git are npm's to resolve. An override the registry lacks the version of is dropped
    (npmlock.restore_range)."""
    package = {
        "dependencies": {"@babel/node": "^7.5.5", "@babel/core": "^7.5.5"},
        "overrides": {"lodash": "4.17.21"},
    }
    lock = b"""# yarn lockfile v1

"@babel/core@^7.5.5":
  version "7.5.5"

"@babel/node@^7.5.5":
  version "7.5.5"

"@babel/register@^7.5.5", "@babel/register@^7.0.0":
  version "7.5.5"

debug@^2.6.9:
  version "2.6.9"

debug@^4.1.0:
  version "4.3.4"

lodash@^4.17.11:
  version "4.17.11"

"string-width-cjs@npm:string-width@^4.2.0":
  version "4.2.3"

"foo@git+https://github.com/a/foo.git", foo@^1.0.0:
  version "1.0.0"
"""
    files = {"package.json": json.dumps(package).encode(), "yarn.lock": lock}
    deps = node_dependencies(files)
    assert deps is not None and deps.overridden == ("@babel/register",)
    written = json.loads(deps.package_json)
    assert written["dependencies"] == {"@babel/node": "7.5.5", "@babel/core": "7.5.5"}
    assert written["overrides"] == {"@babel/register@7.5.5": "7.5.5", "lodash": "4.17.21"}


def test_a_yarn_lock_npm_wrote_pins_as_yarns_own() -> None:
    """SorielV's simple-nestjs-blog: a yarn.lock npm rewrote (its keys quoted, ``"version"
    "0.4.0"``) locks class-transformer at 0.4.0; read as none, npm installed 0.4.1, which
    lacks ``plainToClass`` (every route of its ValidationPipe 500)."""
    package = {"dependencies": {"class-transformer": "^0.4.0", "@nestjs/common": "^8.0.0"}}
    lock = b"""# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@nestjs/common@^8.0.0":
  "integrity" "sha512-x"
  "resolved" "https://registry.npmjs.org/@nestjs/common/-/common-8.4.7.tgz"
  "version" "8.4.7"
  dependencies:
    "tslib" "2.4.0"

"class-transformer@*", "class-transformer@^0.2.0 || ^0.3.0 || ^0.4.0", "class-transformer@^0.4.0":
  "integrity" "sha512-y"
  "resolved" "https://registry.npmjs.org/class-transformer/-/class-transformer-0.4.0.tgz"
  "version" "0.4.0"

"tslib@2.4.0":
  "version" "2.4.0"
"""
    files = {"package.json": json.dumps(package).encode(), "yarn.lock": lock}
    deps = node_dependencies(files)
    assert deps is not None
    written = json.loads(deps.package_json)
    assert written["dependencies"] == {"class-transformer": "0.4.0", "@nestjs/common": "8.4.7"}
    assert written["overrides"] == {"tslib@2.4.0": "2.4.0"}


# npm's own reading of an overrides table (its arborist's OverrideSet): the version each
# edge (a package asking for ``name@range``) is overridden to, "" where none applies.
_NPM_OVERRIDES = """
const root = require('child_process').execFileSync('npm', ['root', '-g']).toString().trim();
const OverrideSet = require(root + '/npm/node_modules/@npmcli/arborist/lib/override-set.js');
const [overrides, edges] = JSON.parse(process.argv[1]);
const set = new OverrideSet({ overrides });
const out = edges.map(([name, spec]) => {
  const rule = set.getEdgeRule({ name, rawSpec: spec, spec });
  return rule === set ? '' : rule.value;
});
console.log(JSON.stringify(out));
"""


def test_a_yarn_locks_pins_leave_a_package_the_build_adds_its_own_ranges() -> None:
    """tsurumure's koa-restful-api: a yarn.lock of 2019 (minimatch at 3.0.4 alone), nodemon
    listed nowhere, the build adding nodemon 3, which asks ``minimatch@^10``: overridden by
    name to 3.0.4, "minimatch is not a function". Keyed by the locked version, npm's own
    reading overrides the ranges that version meets (those the lockfile resolved), not
    the added package's."""
    package = {"dependencies": {"koa-router": "^7.4.0"}}
    lock = b"""# yarn lockfile v1

koa-router@^7.4.0:
  version "7.4.0"

minimatch@^3.0.4, minimatch@~3.0.2:
  version "3.0.4"
"""
    deps = node_dependencies({"package.json": json.dumps(package).encode(), "yarn.lock": lock})
    assert deps is not None and deps.overridden == ("minimatch",)
    overrides = json.loads(deps.package_json)["overrides"]
    edges = [["minimatch", "^3.0.4"], ["minimatch", "~3.0.2"], ["minimatch", "^10.2.1"]]
    read = subprocess.run(
        ["node", "-e", _NPM_OVERRIDES, json.dumps([overrides, edges])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(read.stdout) == ["3.0.4", "3.0.4", ""]


def test_a_yarn_locks_pins_leave_out_the_packages_the_build_adds() -> None:
    """ftm2626's Express-Ecommerce: its dev script ``tsnd`` run as ts-node, which the build
    adds (``ts-node@^10``, not listed), its yarn.lock holding ts-node-dev's ts-node at
    10.9.2: npm installs the tool as a direct dependency, which the override of its name
    contradicts ("Override for ts-node@^10 conflicts with direct dependency", EOVERRIDE).
    The tool keeps its range; the rest of the tree stays pinned."""
    package = {"devDependencies": {"ts-node-dev": "^2.0.0"}}
    lock = b"""# yarn lockfile v1

ts-node-dev@^2.0.0:
  version "2.0.0"

ts-node@^10.4.0:
  version "10.9.2"

minimist@^1.2.6:
  version "1.2.8"
"""
    files = {"package.json": json.dumps(package).encode(), "yarn.lock": lock}
    deps = node_dependencies(files, ("ts-node@^10", "typescript@^5"))
    assert deps is not None and deps.overridden == ("minimist",)
    assert json.loads(deps.package_json)["overrides"] == {"minimist@1.2.8": "1.2.8"}
    deps = node_dependencies(files)  # no tool of that name: pinned as the lockfile has it
    assert deps is not None and set(deps.overridden) == {"ts-node", "minimist"}


def test_an_override_the_registry_lacks_is_given_back_to_npm(tmp_path: Path) -> None:
    files = {p: t.encode() for p, t in app_files("node_yarn_locked_tree").items()}
    deps = node_dependencies(files)
    assert deps is not None and deps.overridden == ("ms",)
    (tmp_path / "package.json").write_bytes(deps.package_json)
    said = restore_range(tmp_path, deps, "ms")
    assert said is not None and "its override dropped" in said
    written = json.loads((tmp_path / "package.json").read_text())
    assert written["overrides"] == {} and written["dependencies"] == {"debug": "4.1.1"}
    assert restore_range(tmp_path, deps, "ms") is None  # dropped already


def test_a_package_listed_as_a_dependency_and_a_dev_dependency_is_listed_once() -> None:
    """clicker645's typeorm-express: ``"ts-node": "^8.4.1"`` in dependencies, ``"3.3.0"``
    in devDependencies, its package-lock.json at 8.4.1: npm installed 3.3.0 (today's npm
    takes the devDependencies'), which read ``--transpile-only`` as a file to run ("File
    '[eval].ts' is not under 'rootDir'"). The lockfile's range is kept, the dependencies'
    where it is no exact devDependencies' version; the same range twice is left as is."""
    package = {
        "dependencies": {"ts-node": "^8.4.1", "typescript": "^3.6.3", "a": "^1"},
        "devDependencies": {"ts-node": "3.3.0", "typescript": "3.3.3333", "a": "^1"},
    }
    lock = {
        "lockfileVersion": 1,
        "dependencies": {"ts-node": {"version": "8.4.1"}, "typescript": {"version": "3.3.3333"}},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "package-lock.json": json.dumps(lock).encode(),
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.note is not None and "ts-node ^8.4.1" in deps.note
    written = json.loads(deps.package_json)
    assert written["dependencies"] == {"ts-node": "^8.4.1", "a": "^1"}
    assert written["devDependencies"] == {"typescript": "3.3.3333", "a": "^1"}
    same = {**files, "package.json": json.dumps({"dependencies": {"a": "^1"}}).encode()}
    deps = node_dependencies(same)
    assert deps is not None and deps.package_json == same["package.json"]


def test_a_package_bringing_a_native_library_that_no_file_requires_is_left_out() -> None:
    """akihiko-ima's hono-clone-sns: identicon listed beside identicon.js, which its code
    imports alone; its lockfile has identicon depend on canvas 2, whose install failed
    (no binary reached, its source wanting pixman's headers). Left out, said; kept where
    a module requires it (or a path of it), or a script of its own runs it."""
    package = {"dependencies": {"identicon": "^3.1.1", "identicon.js": "^2.3.3", "hono": "^4"}}
    installed = {
        "identicon": {"version": "3.1.1", "dependencies": {"canvas": "^2"}},
        "identicon/node_modules/canvas": "2.11.2",
        "identicon.js": "2.3.3",
        "hono": "4.10.6",
    }
    files = {
        **_locked(package, installed),
        "lambda/utils/generateIdenticon.ts": b'import Identicon from "identicon.js";\n',
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.note is not None
    assert "identicon left out, which brings the native module canvas@2.11.2" in deps.note
    assert json.loads(deps.package_json)["dependencies"] == {"identicon.js": "^2.3.3", "hono": "^4"}
    for use in (b"const i = require('identicon');\n", b"import x from 'identicon/lib/a';\n"):
        deps = node_dependencies({**files, "src/a.js": use})
        assert deps is not None and "identicon" in json.loads(deps.package_json)["dependencies"]
    run = {**package, "scripts": {"icons": "identicon --out public"}}
    deps = node_dependencies({**files, "package.json": json.dumps(run).encode()})
    assert deps is not None and "identicon" in json.loads(deps.package_json)["dependencies"]


def test_a_package_bringing_a_git_dependency_that_no_file_requires_is_left_out() -> None:
    """Hamed-Ajaj's hono-tasks-api lists stocker beside stoker, which its code imports;
    its bun.lock has stocker 1.0.1 depend on ``secret-module:
    git+ssh://git@github.com/dwallach1/stocker.git``, which a build cannot fetch (npm:
    "An unknown git error occurred"). Left out, said; kept where a module requires it."""
    package = {"dependencies": {"stocker": "^1.0.1", "stoker": "^2.0.1", "hono": "^4"}}
    url = "git+ssh://git@github.com/someone/secret.git"
    bun = (
        '{\n  "lockfileVersion": 1,\n  "packages": {\n'
        '    "hono": ["hono@4.10.7", "", {}, "sha512-a"],\n'
        f'    "secret-module": ["secret@{url}#e2d4", {{}}, "e2d4"],\n'
        '    "stocker": ["stocker@1.0.1", "", { "dependencies": { "secret-module": '
        f'"{url}" }} }}, "sha512-b"],\n'
        '    "stoker": ["stoker@2.0.1", "", {}, "sha512-c"],\n  }\n}\n'
    )
    files = {
        "package.json": json.dumps(package).encode(),
        "bun.lock": bun.encode(),
        "src/app.ts": b'import { notFound } from "stoker/middlewares";\n',
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.note is not None
    assert f"stocker left out, which brings a dependency from the git repository {url}" in (
        deps.note
    )
    assert "stocker" not in json.loads(deps.package_json)["dependencies"]
    deps = node_dependencies({**files, "src/b.ts": b'import s from "stocker";\n'})
    assert deps is not None and "stocker" in json.loads(deps.package_json)["dependencies"]


def test_a_native_library_no_file_of_the_app_names_is_left_out() -> None:
    """cotcac's sequelize-express-boilerplate: sqlite3 ^4 listed, the app on MySQL
    throughout (no require of it, no dialect 'sqlite'): its newest release compiled from
    source for 92 s of a launch. Left out; kept where a module requires it or a config
    names its dialect; bcrypt kept where the app requires it (bcryptjs is another)."""
    package = {"dependencies": {"sqlite3": "^4.0.8", "bcrypt": "^5", "express": "^4"}}
    files = {
        "package.json": json.dumps(package).encode(),
        "app.js": b"const bcrypt = require('bcrypt');\nrequire('express')().listen(3000);\n",
        "config/config.js": b"module.exports = { development: { dialect: 'mysql' } };\n",
    }
    deps = node_dependencies(files)
    assert deps is not None and deps.note is not None and "sqlite3 left out" in deps.note
    assert json.loads(deps.package_json)["dependencies"] == {"bcrypt": "^5", "express": "^4"}
    named = {**files, "config/config.js": b"module.exports = { dialect: 'sqlite' };\n"}
    deps = node_dependencies(named)
    assert deps is not None and "sqlite3" in json.loads(deps.package_json)["dependencies"]
    js = {**files, "app.js": b"const hashing = require('bcryptjs');\n"}
    deps = node_dependencies(js)
    assert deps is not None and "bcrypt" not in json.loads(deps.package_json)["dependencies"]
    # nataljadj's express-user-service: ``*.sqlite`` in its .gitignore and .dockerignore
    # only, sqlite3 built from source past its time: no use of it.
    ignored = {**files, ".gitignore": b"db.sqlite\n", "api/.dockerignore": b"*.sqlite3\n"}
    deps = node_dependencies(ignored)
    assert deps is not None and "sqlite3" not in json.loads(deps.package_json)["dependencies"]
    # zstared's koa-admin-api: @tensorflow/tfjs-node listed, named nowhere; its install
    # downloads libtensorflow from a host the sandbox refuses. Kept where a module loads it.
    tensorflow = {**package, "dependencies": {"@tensorflow/tfjs-node": "^1.4.0", "koa": "^2"}}
    unused = {**files, "package.json": json.dumps(tensorflow).encode()}
    deps = node_dependencies(unused)
    assert deps is not None and json.loads(deps.package_json)["dependencies"] == {"koa": "^2"}
    # Its canvas named only by a stylesheet (the HTML element): no use of it either.
    pages = {**package, "dependencies": {"canvas": "^2.6.0", "koa": "^2"}}
    styled = {**files, "package.json": json.dumps(pages).encode(), "doc/a.css": b"canvas{}"}
    deps = node_dependencies(styled)
    assert deps is not None and json.loads(deps.package_json)["dependencies"] == {"koa": "^2"}
    # seif1000's nodejs-sequelize-app: node-sass and its middleware, their one use commented
    # out; kept where code or a script of its own runs it.
    sass = {**package, "dependencies": {"node-sass": "^4", "node-sass-middleware": "^0.11"}}
    commented = {
        **files,
        "package.json": json.dumps(sass).encode(),
        "app.js": b"//const sass = require('node-sass-middleware');\n/* app.use(sass()) */\n",
    }
    deps = node_dependencies(commented)
    assert deps is not None and json.loads(deps.package_json)["dependencies"] == {}
    scripted = {**sass, "scripts": {"css": "node-sass scss -o public"}}
    deps = node_dependencies({**commented, "package.json": json.dumps(scripted).encode()})
    assert deps is not None and "node-sass" in json.loads(deps.package_json)["dependencies"]
    # Used, it is Dart Sass under its name (node-sass 4 builds on no Node after 16:
    # nhannhan159's cart-express), its dependents' too (npm overrides).
    written = json.loads(deps.package_json)
    assert written["dependencies"]["node-sass"] == written["overrides"]["node-sass"] == DART_SASS
    assert deps.note is not None and "node-sass installed as Dart Sass" in deps.note
    loaded = {**unused, "model.js": b"const tf = require('@tensorflow/tfjs-node');\n"}
    deps = node_dependencies(loaded)
    assert (
        deps is not None
        and "@tensorflow/tfjs-node" in json.loads(deps.package_json)["dependencies"]
    )


def test_a_node_built_ins_name_is_left_out_unless_a_bundler_takes_its_polyfill() -> None:
    """pirela's sequelize-api lists ``"http": "0.0.0"``: the registry had no version of
    it (ENOVERSIONS) and the whole install failed, while require("http") loads Node's."""
    package = {"dependencies": {"http": "0.0.0", "fs": "^0.0.1", "express": "^4.17.1"}}
    files = _locked(package, {"http": "0.0.0", "fs": "0.0.1", "express": "4.17.1"})
    deps = node_dependencies(files)
    assert deps is not None and deps.lockfile is not None
    assert json.loads(deps.package_json)["dependencies"] == {"express": "^4.17.1"}
    locked = json.loads(deps.lockfile[1])["packages"]
    assert "node_modules/http" not in locked and "node_modules/express" in locked
    assert deps.note == (
        'package.json: left out "http", "fs", named as a Node built-in, which require() '
        "loads instead"
    )
    # A bundler's browser build takes the registry's polyfill of a built-in's name.
    bundled = {"dependencies": {"buffer": "^6.0.3", "webpack": "^5.0.0"}}
    files = {"package.json": json.dumps(bundled).encode()}
    polyfilled = node_dependencies(files)
    assert polyfilled is not None and json.loads(polyfilled.package_json) == bundled
    # But one no browser build has (Desuma's express-learning: "fs": "^0.0.1-security"
    # beside webpack, ENOVERSIONS): left out all the same.
    bundled["dependencies"]["fs"] = "^0.0.1-security"
    files = {"package.json": json.dumps(bundled).encode()}
    stubbed = node_dependencies(files)
    assert stubbed is not None and "fs" not in json.loads(stubbed.package_json)["dependencies"]
    assert "buffer" in json.loads(stubbed.package_json)["dependencies"]


NEST_DATABASE = b"""import { TypeOrmModule } from '@nestjs/typeorm';
@Module({ imports: [TypeOrmModule.forRootAsync({ useFactory: (config) => ({
  type: 'postgres', host: config.getOrThrow('DB_HOST'), autoLoadEntities: true,
}) })] })
export class DatabaseModule {}
"""


def test_the_driver_an_orms_options_name_and_the_app_does_not_list_is_added() -> None:
    """norbertturek's nestjs-recipe-api lists typeorm and @nestjs/typeorm, names ``type:
    'postgres'`` and lists no pg: "DriverPackageNotInstalledError: Postgres package has not
    been found installed" at every retry, never serving. The build adds the driver the
    ORM loads for the engine its options name, where the app lists none of it; a
    Sequelize dialect likewise (pg with pg-hstore), and an ormconfig's type."""
    package = {
        "scripts": {"build": "nest build", "start:prod": "node dist/main"},
        "dependencies": {"@nestjs/core": "^11", "@nestjs/typeorm": "^11", "typeorm": "^0.3.25"},
    }
    files = {
        "package.json": json.dumps(package).encode(),
        "src/database/database.module.ts": NEST_DATABASE,
        "src/main.ts": b"bootstrap();\n",
    }
    start = node_start(files)
    assert start is not None and "pg@^8" in start.tools
    listed = {**package["dependencies"], "pg": "^8.11"}
    assert orm_drivers_unlisted(files, listed) == ()
    # A test's options say nothing of the app's; an ormconfig's do.
    tests_only = {"test/db.spec.ts": files.pop("src/database/database.module.ts")}
    assert orm_drivers_unlisted({**files, **tests_only}, package["dependencies"]) == ()
    ormconfig = {"ormconfig.json": b'{"type": "mysql", "host": "db"}'}
    assert orm_drivers_unlisted({**files, **ormconfig}, package["dependencies"]) == ("mysql2@^3",)
    sequelize = {
        "src/db.js": b"const { Sequelize } = require('sequelize');\n"
        b"new Sequelize(url, { dialect: 'postgres' });\n"
    }
    assert orm_drivers_unlisted(sequelize, {"sequelize": "^6"}) == ("pg@^8", "pg-hstore@^2")
    # SQLite's driver (native code) only where it is the one engine named.
    both = {**ormconfig, "src/test-db.ts": b"import 'typeorm'; const o = { type: 'sqlite' };"}
    assert orm_drivers_unlisted(both, {"typeorm": "^0.3"}) == ("mysql2@^3",)


def test_a_typescript_of_no_upper_bound_is_held_below_6() -> None:
    """helder9991's serverless-express-api lists ``"typescript": "*"``: npm installed
    TypeScript 6, whose ts-node compile of its tsconfig (written for 5: ``moduleResolution:
    node``, no ``rootDir``) exited on TS5011 and TS5107. A range with no upper bound is
    held below 6, in each of its ``||`` sets that has none; a bounded range, or one a
    lockfile fixes, is the app's."""
    cases = {
        "*": "<6",
        "latest": "<6",
        ">=4.1": ">=4.1 <6",
        "^4 || >=5": "^4 || >=5 <6",
    }
    for given, held in cases.items():
        package = {"devDependencies": {"typescript": given, "ts-node": "^10"}}
        deps = node_dependencies({"package.json": json.dumps(package).encode()})
        assert deps is not None and deps.note is not None and "TypeScript 6" in deps.note
        assert json.loads(deps.package_json)["devDependencies"]["typescript"] == held, given
    for bounded in ("^5.2.2", "~4.9", "5.4.5"):
        package = {"devDependencies": {"typescript": bounded}}
        deps = node_dependencies({"package.json": json.dumps(package).encode()})
        assert deps is not None and json.loads(deps.package_json) == package
    locked = {
        "package.json": json.dumps({"devDependencies": {"typescript": "*"}}).encode(),
        "package-lock.json": b'{"lockfileVersion": 3, "packages": {}}',
    }
    deps = node_dependencies(locked)
    assert deps is not None and deps.package_json == locked["package.json"]
