"""A start script running ``node dist/main`` where tsc writes ``dist/src/main.js`` (its
build's tsconfig takes in files beside ``src/``, so its rootDir is the project's root): the
file tsc writes is run, as Nest's own ``nest start`` finds it. Sairyss'
domain-driven-hexagon failed "Cannot find module 'dist/main'"."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
import trio

from preview.apps.detect import detect
from preview.apps.node.tscout import emitted_start

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


def _encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def test_the_start_runs_what_tsc_writes() -> None:
    found = detect(_encoded(app_files("ts_nest_rootdir")))
    assert found.argv[-1].endswith("; node dist/src/main"), found.argv
    assert found.setup == (("npm", "run", "build"),)
    assert found.notes == [
        "tsc writes its entry elsewhere than its start:prod runs: node dist/src/main"
    ]


def test_a_start_tsc_writes_where_it_runs_is_left_as_it_is() -> None:
    files = _encoded(app_files("ts_nest_rootdir"))
    build = "tsc -p tsconfig.build.json"
    # database/ left out by the build (or an explicit rootDir): dist/main.js it is.
    excluded = b'{"extends": "./tsconfig.json", "exclude": ["database", "**/*spec.ts"]}'
    assert (
        emitted_start("node dist/main", build, {**files, "tsconfig.build.json": excluded}) is None
    )
    rooted = json.dumps({"extends": "./tsconfig.json", "compilerOptions": {"rootDir": "src"}})
    assert (
        emitted_start("node dist/main", build, {**files, "tsconfig.build.json": rooted.encode()})
        is None
    )
    # nest build reads tsconfig.build.json too; an include of src/ alone keeps it there.
    only_src = b'{"extends": "./tsconfig.json", "include": ["src"]}'
    nest = {**files, "tsconfig.build.json": only_src, "nest-cli.json": b"{}"}
    assert emitted_start("node dist/main", "nest build", nest) is None
    assert emitted_start("node dist/main.js", "nest build", {**files, "nest-cli.json": b"{}"}) == (
        "node dist/src/main.js"
    )
    # Its variables set by cross-env (Shivam56291's music-backend-nestjs-learning:
    # ``"start:prod": "cross-env NODE_ENV=production node dist/main"``, "Cannot find module
    # 'dist/main'"): read alike, kept.
    crossed = "cross-env NODE_ENV=production node dist/main"
    assert emitted_start(crossed, "nest build", {**files, "nest-cli.json": b"{}"}) == (
        "cross-env NODE_ENV=production node dist/src/main"
    )
    # Not a build of tsc's, or not a plain node start: not read.
    assert emitted_start("node dist/main", "webpack", files) is None
    assert emitted_start("node dist/main && echo", build, files) is None


def test_a_json_file_its_sources_import_from_above_counts_for_the_root() -> None:
    """allenlin90's hono-drizzle-api's shape: src/ alone included, ``import pkg from
    "../package.json"``, JSON modules resolved (``moduleResolution: bundler``'s default,
    or ``resolveJsonModule``): tsc's root is the project's, its entry dist/src/index.js."""
    options = {"outDir": "dist", "module": "ESNext", "moduleResolution": "bundler"}
    files = {
        "package.json": b'{"name": "x"}',
        "tsconfig.json": json.dumps({"compilerOptions": options, "include": ["src"]}).encode(),
        "src/index.ts": b'import pkg from "../package.json" with { type: "json" };\n',
    }
    assert emitted_start("node dist/src/index.js", "tsc", files) is None
    assert emitted_start("node dist/index.js", "tsc", files) == "node dist/src/index.js"
    # JSON modules not resolved: tsc takes in src/ alone.
    options["resolveJsonModule"] = False
    off = {**files, "tsconfig.json": json.dumps({"compilerOptions": options}).encode()}
    assert emitted_start("node dist/src/index.js", "tsc", off) == "node dist/index.js"


def test_a_module_its_sources_import_from_outside_what_it_includes_counts_for_the_root() -> None:
    """nghia3110's nestjs-final: ``"include": ["src/**/*"]``, and src/main.ts imports
    ``../config-swagger`` (a .ts at the root, its committed .js beside it): tsc takes the
    imported file into its program, its root is the project's and its entry
    dist/src/main.js, where ``node dist/main`` found nothing. Followed through the
    imported module's own imports; a declaration file, or a folder's index, likewise."""
    config = {"compilerOptions": {"outDir": "./dist"}, "include": ["src/**/*"]}
    files = {
        "tsconfig.json": json.dumps(config).encode(),
        "nest-cli.json": b'{"sourceRoot": "src"}',
        "config-swagger.ts": b'import { tags } from "./docs/tags";\nexport const c = tags;\n',
        "config-swagger.js": b"exports.c = 1;\n",
        "src/main.ts": b'import { swaggerConfig } from "../config-swagger";\n',
    }
    assert emitted_start("node dist/main", "nest build", files) == "node dist/src/main"
    # Not imported: the root is src/ (``src/**/*`` takes src/'s own files too: read as
    # fnmatch reads it, it took none there, and ``node dist/main`` became dist/src/main).
    alone = {
        **files,
        "src/main.ts": b'import { a } from "./app.module";\n',
        "src/app.module.ts": b"",
    }
    assert emitted_start("node dist/main", "nest build", alone) is None
    assert emitted_start("node dist/main.js", "tsc", alone) is None
    # A declaration file imported from above writes nothing: the root stays src/.
    typed = {**alone, "src/main.ts": b'import type { T } from "../types";\n', "types.d.ts": b""}
    assert emitted_start("node dist/main", "nest build", typed) is None
    # The import of an imported module, in a folder of its own (its index), from within.
    deeper = {
        **alone,
        "src/app.module.ts": b'import { x } from "../shared";\n',
        "shared/index.ts": b"export const x = 1;\n",
    }
    assert emitted_start("node dist/main", "nest build", deeper) == "node dist/src/main"


@needs_npm
async def test_an_adonis_start_runs_in_the_folder_its_build_writes(
    builder_service: Service,
) -> None:
    """AdonisJS's ``node ace build`` writes the project into ``build/``, whose
    ``bin/server.js`` its ``"start": "node bin/server.js"`` runs there (its starter kit:
    "Cannot find module 'bin/server.js'"): the start runs ``build/bin/server.js``."""
    files = app_files("node_build_folder_start")
    found = detect(_encoded(files))
    assert found.argv[-1].endswith("; node build/bin/server.js"), found.argv
    assert found.setup == (("npm", "run", "build"),)
    del files["adonisrc.ts"]  # another project's build: its start as it is
    assert detect(_encoded(files)).argv == ("npm", "start", "--silent")
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_build_folder_start"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"built": "build"}
        assert (await service.stop(body["gid"])).status_code == 200


@needs_npm
async def test_a_start_of_a_file_tsc_writes_elsewhere_runs_it(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("ts_nest_rootdir"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"compiled": True}
        assert (await service.stop(body["gid"])).status_code == 200


# Detection reads the upload with re, which holds the GIL while it matches: a pattern that
# backtracks without end on an upload's text stops the whole service, not only its launch.
_DETECT = """
import json, sys
from preview.apps.detect import detect
files = {path: text.encode() for path, text in json.load(open(sys.argv[1])).items()}
print(" ".join(detect(files).argv))
"""


@pytest.mark.parametrize(
    "crafted",
    [
        # a start, and a script serving it under another name, of 60 options and no file
        {"start:prod": "node " + "--a " * 60 + "!", "server": "node " + "--a " * 60 + "!"},
        # a tsconfig.json of comments and strings left open
        {"tsconfig.json": "/*a" * 80_000},
        {"tsconfig.json": '"\\' * 120_000},
    ],
)
async def test_an_upload_made_to_backtrack_is_read_at_once(tmp_path, crafted) -> None:
    files = app_files("ts_nest_rootdir")
    package = json.loads(files["package.json"])
    package["scripts"].update({k: v for k, v in crafted.items() if "." not in k})
    files["package.json"] = json.dumps(package)
    files.update({k: v for k, v in crafted.items() if "." in k})
    (tmp_path / "files.json").write_text(json.dumps(files))
    with trio.fail_after(60):  # each took minutes to ages (2^60 steps) on the old patterns
        done = await trio.run_process(
            [sys.executable, "-c", _DETECT, str(tmp_path / "files.json")], capture_stdout=True
        )
    assert done.stdout.strip()


@pytest.mark.parametrize("project", [".", "./", "./tsconfig.json", "tsconfig.json"])
def test_a_build_naming_its_project_by_its_folder_reads_its_tsconfig(project: str) -> None:
    # ShawnStewart's node-koa-typescript: "build": "tsc -p .", no include, tests/ beside
    # src/: tsc writes dist/src/index.js; "start": "node dist/index.js" failed "Cannot
    # find module" (`-p .` was looked up as ./tsconfig.json, a name no upload has).
    files = {
        "tsconfig.json": b'{"compilerOptions": {"outDir": "./dist", /* why */ "baseUrl": "./src"}}',
        "src/index.ts": b"import app from './app';\n",
        "src/app.ts": b"export default 1;\n",
        "tests/app.spec.ts": b"import app from '../src/app';\n",
    }
    assert emitted_start("node dist/index.js", f"tsc -p {project}", files) == (
        "node dist/src/index.js"
    )


def test_a_start_of_a_file_no_source_makes_runs_the_one_module_that_listens() -> None:
    """Lactantius' express-cart: ``"start": "node dist/index.js"`` (npm init's main), tsc
    compiling src/ into dist/, its server src/server.ts (``app.listen(3000``) and no
    src/index.ts: "Cannot find module 'dist/index.js'". The start runs dist/server.js; a
    test file that listens is no entry, and two servers leave the start as it is."""
    files = {
        "package.json": json.dumps(
            {
                "main": "index.js",
                "scripts": {"build": "npx tsc", "start": "node dist/index.js"},
                "devDependencies": {"typescript": "^4.7.4"},
                "dependencies": {"express": "^4.18.1"},
            }
        ),
        "tsconfig.json": '{"compilerOptions": {"module": "commonjs", "rootDir": "./src",'
        ' "outDir": "./dist"}}',
        "src/app.ts": 'import express from "express";\nexport const app = express();\n',
        "src/server.ts": 'import { app } from "./app";\napp.listen(3000);\n',
        "src/routes.test.ts": 'import { app } from "./app";\napp.listen(0);\n',
    }
    assert emitted_start("node dist/index.js", "npx tsc", _encoded(files)) == "node dist/server.js"
    found = detect(_encoded(files))
    assert found.argv[-1].endswith("; node dist/server.js"), found.argv
    assert found.setup == (("npm", "run", "build"),)
    two = {**files, "src/admin.ts": 'import { app } from "./app";\napp.listen(3001);\n'}
    assert emitted_start("node dist/index.js", "npx tsc", _encoded(two)) is None


def test_a_start_naming_its_file_from_within_the_output_runs_the_outputs() -> None:
    """AndreiDiaconovici's express-weather-app: ``"start": "node index.js"``, its build
    ``npx tsc && cp package.json dist/package.json`` (dist is what it deploys, and runs
    there), src/index.ts compiled into dist: "Cannot find module 'index.js'". A file of
    its own at the root, or one no source makes, is left as it is."""
    files = {
        "package.json": json.dumps(
            {
                "main": "src/index.js",
                "scripts": {
                    "build": "npx tsc && cp package.json dist/package.json",
                    "start": "node index.js",
                },
                "devDependencies": {"typescript": "^4.9.3"},
            }
        ),
        "tsconfig.json": '{"include": ["./src/"], "compilerOptions": {"outDir": "./dist"}}',
        "src/index.ts": 'import express from "express";\nexpress().listen(3000);\n',
        "src/service.ts": "export const x = 1;\n",
    }
    build = "npx tsc && cp package.json dist/package.json"
    assert emitted_start("node index.js", build, _encoded(files)) == "node dist/index.js"
    found = detect(_encoded(files))
    assert found.argv[-1].endswith("node dist/index.js"), found.argv
    own = {**files, "index.js": "require('./dist/index.js');\n"}
    assert emitted_start("node index.js", build, _encoded(own)) is None
    assert emitted_start("node server.js", build, _encoded(files)) is None
