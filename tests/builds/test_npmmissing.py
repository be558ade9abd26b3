"""A package a Node app's own module requires and does not list, added as a fix
(builds.remedies.npmmissing): read from the failure, checked against the registry."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import trio

from preview.builds.remedies import npmmissing
from preview.builds.remedies.npmmissing import (
    asked_package,
    missing_module_fix,
    missing_package,
    self_required_package,
)

from ..conftest import Service
from ..launching import BUILD_WAIT, launched, messages

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)

# wangxiang365's node-koa-typescript: src/utils/logUtil.ts requires callsite, which its
# package.json does not list (its author's machine had it).
LINES = [
    "Error: Cannot find module 'callsite'",
    "Require stack:",
    "- src/utils/logUtil.ts",
    "- src/app.ts",
]
FILES = {"package.json": b"{}", "src/utils/logUtil.ts": b"require('callsite')", "src/app.ts": b""}


def test_a_bare_module_the_apps_own_module_requires_is_the_package_to_add() -> None:
    message = "Error: Cannot find module 'callsite'"
    assert missing_package(message, LINES, FILES, set()) == ("callsite", "src/utils/logUtil.ts")
    scoped = [LINES[0].replace("callsite", "@scope/pkg/sub"), *LINES[1:]]
    assert missing_package("", scoped, FILES, set()) == ("@scope/pkg", "src/utils/logUtil.ts")
    esm = ["Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'chalk' imported from src/a.js"]
    assert missing_package("", esm, FILES, set()) == ("chalk", "src/a.js")
    # Bun's words (brnovasco's sse-hono), its module a .tsx one.
    bun = ["error: Cannot find package 'kafkajs' from 'src/index.tsx'"]
    tsx = {**FILES, "src/index.tsx": b"import { Kafka } from 'kafkajs'\n"}
    assert missing_package(bun[0], bun, tsx, set()) == ("kafkajs", "src/index.tsx")
    # A module of the app's, named by its path alone (Mat0wa3's Express-ejemplo: ESM's
    # "Cannot find module '/app/config.js'", the folder cut, ./config.js imported): none.
    own = ["Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'config.js' imported from index.js"]
    imports = {**FILES, "index.js": b"import { PORT } from './config.js'\n"}
    assert missing_package("", own, imports, set()) is None


@pytest.mark.parametrize(
    ("specifier", "listed", "files", "stack"),
    [
        ("callsite", {"callsite"}, FILES, "- src/utils/logUtil.ts"),  # listed: not this
        ("fs", set(), FILES, "- src/app.ts"),  # a built-in
        ("./config", set(), FILES, "- src/app.ts"),  # a path
        ("@/app", set(), FILES, "- src/app.ts"),  # an alias
        ("utils", set(), FILES, "- src/app.ts"),  # its own folder (src/utils), by NODE_PATH
        ("pg-native", set(), FILES, "- <environment>/node_modules/pg/lib/native/index.js"),
    ],
)
def test_not_listed_builtins_paths_own_folders_nor_a_dependencys_need(
    specifier: str, listed: set[str], files: dict[str, bytes], stack: str
) -> None:
    lines = [f"Error: Cannot find module '{specifier}'", "Require stack:", stack]
    assert missing_package(lines[0], lines, files, listed) is None


_PASSPORT = b"""const passport = require('passport');
passport.serializeUser((user, done) => done(null, user.id));
module.exports = passport;
"""


def test_a_module_requiring_its_own_name_means_the_package_of_that_name() -> None:
    """Dimitrius504's JeopardyGameExpressHBS: passport.js requires passport, which its
    folder's package.json does not list; by NODE_PATH Node gave it itself ("TypeError:
    passport.serializeUser is not a function"). Not where the package is listed, where
    the module binds the name to another module, nor where the frame is no file of it."""
    lines = [
        "TypeError: passport.serializeUser is not a function",
        "    at Object.<anonymous> (passport.js:2:10)",
        "    at Object.<anonymous> (server.js:2:18)",
    ]
    files = {"package.json": b"{}", "passport.js": _PASSPORT, "server.js": b""}
    assert self_required_package(lines[0], lines, files, set()) == ("passport", "passport.js")
    folder = {"package.json": b"{}", "redis/index.js": _PASSPORT.replace(b"passport", b"redis")}
    said = [line.replace("passport", "redis") for line in lines]
    said[1] = said[1].replace("redis.js", "redis/index.js")
    assert self_required_package(said[0], said, folder, set()) == ("redis", "redis/index.js")
    assert self_required_package(lines[0], lines, files, {"passport"}) is None
    other = {**files, "passport.js": _PASSPORT.replace(b"'passport'", b"'./auth'")}
    assert self_required_package(lines[0], lines, other, set()) is None
    elsewhere = [lines[0], "    at Object.<anonymous> (<environment>/node_modules/x/a.js:2:1)"]
    assert self_required_package(lines[0], elsewhere, files, set()) is None


@needs_npm
async def test_a_package_its_module_requires_by_its_own_name_is_added(
    builder_service: Service,
) -> None:
    """The same, launched: passport added, the app serves with passport's own API."""
    server = (
        "const http = require('http');\n"
        "const passport = require('./passport');\n"
        "http.createServer((req, res) => {\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({ use: typeof passport.use }));\n"
        "}).listen(process.env.PORT);\n"
    )
    package = {"name": "self-named", "scripts": {"start": "node server.js"}}
    files = {
        "package.json": json.dumps(package),
        "server.js": server,
        "passport.js": _PASSPORT.decode(),
    }
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/")).json() == {"use": "function"}
        system = messages(await builder_service.history(body["gid"]), "system")
        assert any(
            m.startswith("fix 1: passport added: passport.js requires it by its own name")
            for m in system
        ), system
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_the_fix_adds_it_where_the_registry_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    async def registry(name: str) -> bool:
        return name == "callsite"

    async def no_peers(name: str, installed: object) -> None:
        return None

    monkeypatch.setattr(npmmissing, "registry_has", registry)
    monkeypatch.setattr(npmmissing, "registry_peer_fit", no_peers)
    fix = await missing_module_fix(FILES, LINES[0], LINES, set())
    assert fix is not None and fix.add == "callsite" and fix.change == "+ callsite"
    assert "src/utils/logUtil.ts requires it" in fix.said
    typo = [LINES[0].replace("callsite", "calsite"), *LINES[1:]]
    assert await missing_module_fix(FILES, typo[0], typo, set()) is None


_JEOPARDY = {
    "package.json": b'{"dependencies": {"express": "^4", "mongoose": "^8"}}',
    "bin/www": b"const app = require('../app');\nrequire('http').createServer(app);\n",
    "app.js": b"const express = require('express');\nrequire('dotenv').config();\n"
    b"const session = require('express-session');\nconst index = require('./routes/index');\n",
    "routes/index.js": b"const passport = require('passport');\n"
    b"const Admin = require('../models/Admin');\nrequire('../passport');\n",
    "models/Admin.js": b"const mongoose = require('mongoose');\n"
    b"const plm = require('passport-local-mongoose');\n",
    "passport.js": b"const passport = require('passport');\n"
    b"const Google = require('passport-google-oauth20').Strategy;\n",
    "public/javascripts/script.js": b"import confetti from 'canvas-confetti';\n",
    "scripts/seed.js": b"const faker = require('@faker-js/faker');\n",
    "tests/app.test.js": b"const request = require('supertest');\n",
}
_JEOPARDY_FAILURE = [
    "Error: Cannot find module 'passport-local-mongoose'",
    "Require stack:",
    "- models/Admin.js",
    "- routes/index.js",
    "- app.js",
    "- bin/www",
]


async def test_the_other_packages_its_start_loads_unlisted_are_added_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dimitrius504's JeopardyGameExpressHBS, its app folder uploaded, lists none of five
    packages its modules require (its repository's root did): each failed the start in
    turn, and the fourth was past the fixes a launch takes. Those the start's modules load
    come with the first (passport too, which passport.js requires by its own name); not a
    browser's script's, a script beside the app's, a test's; each the registry has."""

    async def registry(name: str) -> bool:
        return name != "express-session"

    async def no_peers(name: str, installed: object) -> None:
        return None

    monkeypatch.setattr(npmmissing, "registry_has", registry)
    monkeypatch.setattr(npmmissing, "registry_peer_fit", no_peers)
    fix = await missing_module_fix(
        _JEOPARDY, _JEOPARDY_FAILURE[0], _JEOPARDY_FAILURE, {"express", "mongoose"}
    )
    assert fix is not None and fix.add is not None
    assert fix.add.split("\n") == [
        "passport-local-mongoose",
        "dotenv",
        "passport",
        "passport-google-oauth20",
    ]
    assert fix.said.endswith(
        "; with dotenv, passport, passport-google-oauth20, which its other modules require"
        " and it lists none of either"
    )
    assert fix.change == "+ passport-local-mongoose, dotenv, passport, passport-google-oauth20"


@needs_npm
async def test_packages_added_together_are_installed_together(builder_service: Service) -> None:
    """The same, launched: two packages its start's modules require and it does not list,
    added by one fix, installed together; the app serves."""
    server = (
        "const http = require('http');\n"
        "const ms = require('ms');\n"
        "const { lib } = require('./lib');\n"
        "http.createServer((req, res) => {\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({ ms: ms('1s'), bytes: lib('1kb') }));\n"
        "}).listen(process.env.PORT);\n"
    )
    lib = "const bytes = require('bytes');\nexports.lib = (text) => bytes(text);\n"
    package = {"name": "two-missing", "scripts": {"start": "node server.js"}}
    files = {"package.json": json.dumps(package), "server.js": server, "lib.js": lib}
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await builder_service.app_get(body, "/")).json()
        assert answer == {"ms": 1000, "bytes": 1024}
        system = messages(await builder_service.history(body["gid"]), "system")
        fixes = [m for m in system if m.startswith("fix ")]
        assert len(fixes) == 1 and fixes[0].startswith("fix 1: ms added"), system
        assert "; with bytes, which its other modules require" in fixes[0], system
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_an_older_major_in_place_of_one_added_keeps_those_added_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def latest(name: str) -> str:
        return "9.2.0"

    monkeypatch.setattr(npmmissing, "registry_latest", latest)
    lines = [
        'Error: First param to `schema.plugin()` must be a function, got "object"',
        "    at Object.<anonymous> (models/Admin.js:3:13)",
    ]
    files = {"models/Admin.js": _JEOPARDY["models/Admin.js"] + b"schema.plugin(plm);\n"}
    added = "passport-local-mongoose\ndotenv\npassport"
    fix = await npmmissing.older_major_fix(files, lines[0], lines, added)
    assert fix is not None and fix.add == "passport-local-mongoose@<9\ndotenv\npassport"


async def test_a_package_the_failure_asks_for_in_words_is_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """xpillx's orm-redis-koa: nunjucks' ``watch: true`` needs its optional peer chokidar,
    which npm does not install ("Error: watch requires chokidar to be installed")."""

    async def registry(name: str) -> bool:
        return name in ("chokidar", "pg")

    async def no_peers(name: str, installed: object) -> None:
        return None

    monkeypatch.setattr(npmmissing, "registry_has", registry)
    monkeypatch.setattr(npmmissing, "registry_peer_fit", no_peers)
    lines = [
        "Error: watch requires chokidar to be installed",
        "    at createEnv (templating.js:10:13)",
    ]
    fix = await missing_module_fix(FILES, lines[0], lines, set())
    assert fix is not None and fix.add == "chokidar" and "asks for it" in fix.said
    sequelize = "Error: Please install pg package manually"
    assert asked_package(sequelize, [], set()) == "pg"
    # pino's transport its logger names (llimllib's testing-render-fastify: pino-pretty).
    pino = 'Error: unable to determine transport target for "pino-pretty"'
    assert asked_package(pino, [], set()) == "pino-pretty"
    # Nest's package loader (JoseManuelYC's nestjswebsocket: its gateway's driver).
    nest = (
        "No driver (WebSockets) has been selected. In order to take advantage of the default"
        ' driver, please, ensure to install the "@nestjs/platform-socket.io" package ($ npm'
        " install @nestjs/platform-socket.io)."
    )
    assert asked_package(nest, [], set()) == "@nestjs/platform-socket.io"
    # TypeORM's driver (dkshi's nestjsHotel: typeorm came with @nestjs/typeorm, added).
    typeorm = (
        "DriverPackageNotInstalledError: Postgres package has not been found installed."
        ' Please run "npm install pg".'
    )
    assert asked_package(typeorm, [], set()) == "pg"
    assert asked_package('Please run "npm install" first', [], set()) is None
    # Listed already (its install failed otherwise), a built-in, or words asking for none.
    assert asked_package(lines[0], lines, {"chokidar"}) is None
    assert asked_package("this feature requires fs to be installed", [], set()) is None
    assert asked_package("Error: connect ECONNREFUSED 127.0.0.1:5432", [], set()) is None
    unknown = "Error: watch requires chokidr to be installed"
    assert await missing_module_fix(FILES, unknown, [unknown], set()) is None


def test_a_require_stack_cut_from_the_failures_lines_is_read_from_its_frames() -> None:
    """wangxiang365's node-koa-typescript, its second missing package: the failure's last
    lines kept (its trace is long) no longer hold "Require stack:"; the frame of the
    module that required it does (``at Object.<anonymous> (src/utils/email.ts:4:20)``),
    else the app's own module importing it."""
    frames = [
        "    at require (node:internal/modules/helpers:182:18)",
        "    at Object.<anonymous> (src/utils/email.ts:4:20)",
        "    at Module._compile (node:internal/modules/cjs/loader:1521:14)",
    ]
    message = "Error: Cannot find module 'nodemailer'"
    files = {**FILES, "src/utils/email.ts": b"const nodemailer = require('nodemailer');\n"}
    assert missing_package(message, frames, files, set()) == ("nodemailer", "src/utils/email.ts")
    assert missing_package(message, [], files, set()) == ("nodemailer", "src/utils/email.ts")
    assert missing_package(message, [], FILES, set()) is None


def test_a_frame_of_a_module_that_does_not_import_it_gives_way_to_the_one_that_does() -> None:
    """The kept lines' first frame is the module that imported the requiring one
    (src/utils/mysqlConect.ts imports src/utils/email.ts, which requires nodemailer):
    the module the upload shows requiring it is named."""
    frames = ["    at Object.<anonymous> (src/utils/mysqlConect.ts:5:13)"]
    files = {
        **FILES,
        "src/utils/mysqlConect.ts": b"import { send } from './email';\n",
        "src/utils/email.ts": b"import nodemailer from 'nodemailer';\n",
    }
    found = missing_package("Error: Cannot find module 'nodemailer'", frames, files, set())
    assert found == ("nodemailer", "src/utils/email.ts")


def test_a_default_export_called_is_read_from_the_apps_own_binding() -> None:
    files = {
        "app.js": b"const koaBody = require('koa-body');\napp.use(koaBody());\n",
        "esm.mjs": b'import parse from "body-parser";\n',
        "node_modules/x/index.js": b"const other = require('other');\n",
    }
    assert npmmissing.default_binding(files, "koa-body", "koaBody") == "app.js"
    assert npmmissing.default_binding(files, "body-parser", "parse") == "esm.mjs"
    # Bound otherwise (a named import, another package), or only a dependency's: none.
    assert npmmissing.default_binding(files, "koa-body", "body") is None
    assert npmmissing.default_binding(files, "other", "other") is None


@needs_npm
async def test_a_package_added_whose_newest_major_exports_no_default_is_taken_below_it(
    builder_service: Service,
) -> None:
    """cashon1120's koa-bookstroe requires koa-body, which it does not list: added at its
    newest release (6, exporting ``{ koaBody }`` alone), the start then failed "TypeError:
    koaBody is not a function" at the app's own ``koaBody({…})``. The fix takes it below
    its newest major, a major at a time, and the app serves."""
    server = (
        "const http = require('http');\n"
        "const koaBody = require('koa-body');\n"
        "const parse = koaBody({ multipart: true });\n"
        "http.createServer((req, res) => {\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({ parser: typeof parse }));\n"
        "}).listen(process.env.PORT);\n"
    )
    package = {"name": "koa-body-app", "scripts": {"start": "node server.js"}}
    files = {"package.json": json.dumps(package), "server.js": server}
    with trio.fail_after(BUILD_WAIT * 3):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/")).json() == {"parser": "function"}
        system = messages(await builder_service.history(body["gid"]), "system")
        fixes = [m for m in system if m.startswith("fix ")]
        assert fixes[0].startswith("fix 1: koa-body added"), system
        # In its place, a major at a time (8, 7 and 6 export none), the last in force.
        assert all(f.startswith("fix 1: koa-body@<") for f in fixes[1:]), system
        assert "server.js calls its default export (koaBody)" in fixes[1], system
        assert (await builder_service.stop(body["gid"])).status_code == 200


@needs_npm
async def test_a_package_added_whose_newest_major_exports_an_object_is_taken_below_it(
    builder_service: Service,
) -> None:
    """Dimitrius504's JeopardyGameExpressHBS requires passport-local-mongoose, which its
    app's package.json does not list: added at its newest release (9, exporting ``{
    default, errors }`` where 8 exported the plugin), the start then failed on mongoose's
    "First param to `schema.plugin()` must be a function, got "object"" at the app's own
    ``adminSchema.plugin(plm)``. Here Node's own check of a function wanted (promisify's)
    stands for mongoose's: taken below its newest major, the app serves."""
    server = (
        "const http = require('http');\n"
        "const plm = require('passport-local-mongoose');\n"
        "const registered = require('util').promisify(plm);\n"
        "http.createServer((req, res) => {\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({ plugin: typeof registered }));\n"
        "}).listen(process.env.PORT);\n"
    )
    package = {"name": "plm-app", "scripts": {"start": "node server.js"}}
    files = {"package.json": json.dumps(package), "server.js": server}
    with trio.fail_after(BUILD_WAIT * 3):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await builder_service.app_get(body, "/")).json() == {"plugin": "function"}
        system = messages(await builder_service.history(body["gid"]), "system")
        fixes = [m for m in system if m.startswith("fix ")]
        assert fixes[0].startswith("fix 1: passport-local-mongoose added"), system
        assert fixes[1].startswith("fix 1: passport-local-mongoose@<9 in place of"), system
        assert "server.js calls its default export (plm)" in fixes[1], system
        assert (await builder_service.stop(body["gid"])).status_code == 200


async def test_a_package_added_comes_at_the_release_whose_peers_its_packages_meet(
    builder_service: Service,
) -> None:
    """JoseManuelYC's nestjswebsocket runs Nest 10 and requires @nestjs/websockets, which
    it does not list: added at its newest (12, peers @nestjs/common 12), beside 10 with
    --legacy-peer-deps, it failed to load. Here react-dom, required beside the react 17
    the app lists: added at the newest release whose peer dependencies react 17 meets."""
    server = (
        "const http = require('http');\n"
        "const React = require('react');\n"
        "const { renderToString } = require('react-dom/server');\n"
        "const dom = require('react-dom/package.json').version;\n"
        "http.createServer((req, res) => {\n"
        "  const html = renderToString(React.createElement('b', null, 'hi'));\n"
        "  res.setHeader('content-type', 'application/json');\n"
        "  res.end(JSON.stringify({ dom, html }));\n"
        "}).listen(process.env.PORT);\n"
    )
    package = {
        "name": "react-dom-app",
        "scripts": {"start": "node server.js"},
        "dependencies": {"react": "17.0.2"},
    }
    files = {"package.json": json.dumps(package), "server.js": server}
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(builder_service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await builder_service.app_get(body, "/")).json()
        assert answer["dom"].startswith("17.") and "hi</b>" in answer["html"], answer
        system = messages(await builder_service.history(body["gid"]), "system")
        fixes = [m for m in system if m.startswith("fix ")]
        assert "the newest whose peer dependencies its packages meet" in fixes[0], system
        assert (await builder_service.stop(body["gid"])).status_code == 200


def test_a_packages_module_out_of_its_reach_in_a_yarn_tree_honours_peers() -> None:
    """valdenirtrevisan's poc-fastify: yarn-locked, installed by npm with
    --legacy-peer-deps, which hoisted ajv-draft-04 (its peer: ajv 8) beside eslint's ajv 6:
    "Cannot find module 'ajv/dist/core'" from ajv-draft-04's code. Installed again with
    its packages' peers honoured, once; not for an app whose tree is not yarn's, nor for
    a module the app's own code requires (the package to add: ``missing_package``)."""
    lines = [
        "Error: Cannot find module 'ajv/dist/core'",
        "Require stack:",
        "- /srv/p/node_modules/ajv-draft-04/dist/index.js",
        "- /srv/p/node_modules/@seriousme/openapi-schema-validator/index.js",
    ]
    yarn = {"package.json": b"{}", "yarn.lock": b"", "src/server.ts": b""}
    fix = npmmissing.peer_placement_fix(yarn, lines[0], lines)
    assert (
        fix is not None and fix.peers and fix.change == "its packages' peer dependencies honoured"
    )
    assert fix.said.startswith("ajv-draft-04 could not find ajv/dist/core: ")
    assert npmmissing.peer_placement_fix({"package.json": b"{}"}, lines[0], lines) is None
    pnpm = {**yarn, "pnpm-lock.yaml": b""}
    assert npmmissing.peer_placement_fix(pnpm, lines[0], lines) is None
    assert npmmissing.peer_placement_fix(yarn, LINES[0], LINES) is None  # the app's own
    # The stack above cut from the failure's lines (tsx's frames): the error's own
    # requireStack field, printed last, names the requirer.
    fields = [lines[0], "    at Module._load (node:internal/modules/cjs/loader:1038:27)"]
    fields += ["  code: 'MODULE_NOT_FOUND',", "  requireStack: [", f"    '{lines[2][2:]}'", "  ]"]
    fix = npmmissing.peer_placement_fix(yarn, lines[0], fields)
    assert fix is not None and fix.said.startswith("ajv-draft-04 could not find"), fix
