"""A TypeScript app's build reused by the hash of its inputs (``builds.buildcache``), with
real launches and real npm: a relaunch of the same files does not run the build (tsc's
``--listEmittedFiles`` lines, which only a build that runs prints, are absent) and says
so; one source file changed rebuilds, incrementally where the tsconfig keeps a
``.tsbuildinfo`` (a file it does not reach not emitted again); a changed dependency set rebuilds; an
entry whose files were changed after it was kept is not used."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from preview import Settings
from preview.apps.node.buildsteps import pure_build
from preview.builds.buildcache import BUILD_CACHE
from preview.builds.typescript.transpile import transpiled_build

from ..conftest import Service
from ..launching import BUILD_WAIT, launched, messages
from ..ports_in_range import service_in_range

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)

_PACKAGE = {
    "name": "build-cache-fixture",
    "version": "1.0.0",
    "private": True,
    "scripts": {"build": "tsc --listEmittedFiles", "start": "node dist/index.js"},
    "devDependencies": {"typescript": "~5.4.5", "@types/node": "^20.11.0"},
}
_TSCONFIG = {
    "compilerOptions": {
        "target": "ES2020",
        "module": "commonjs",
        "outDir": "dist",
        "rootDir": "src",
        "strict": True,
        "skipLibCheck": True,
        "incremental": True,
    },
    "include": ["src"],
}
_INDEX = """import { createServer } from "node:http";
import { greeting } from "./greeting";
import { version } from "./version";

createServer((_request, response) => {
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ greeting, version }));
}).listen(Number(process.env.PORT), "0.0.0.0");
"""


def _app(greeting: str = "hello", **dependencies: str) -> dict[str, str]:
    package = {**_PACKAGE, "dependencies": dependencies} if dependencies else _PACKAGE
    return {
        "package.json": json.dumps(package, indent=2),
        "tsconfig.json": json.dumps(_TSCONFIG, indent=2),
        "src/index.ts": _INDEX,
        "src/greeting.ts": f'export const greeting: string = "{greeting}";\n',
        "src/version.ts": "export const version: number = 1;\n",
    }


@pytest.fixture
async def service(build_settings: Settings) -> AsyncIterator[Service]:
    async with service_in_range(build_settings, 24500, 24999) as running:
        yield running


async def _run(service: Service, gid: str | None, files: dict[str, str]) -> tuple[Any, list[str]]:
    """Launch (a new generation of ``files``, or ``gid`` again); its greeting and its
    log's messages (system and set-up lines), once stopped."""
    if gid is None:
        body = await launched(service, files)
    else:
        response = await service.launch(gid, tier="pro")
        assert response.status_code == 200, response.text
        body = {"gid": gid, **response.json()}
    assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    answer = (await service.app_get(body, "/")).json()["greeting"]
    events = await service.history(body["gid"])
    phases = {t["phase"]: t for t in (await service.status(body["gid"]))["phases"]}
    # The status says what a cache served: all of its build, where its log says reused.
    reused = any(e["message"].startswith("build: reused") for e in events)
    assert bool(phases["build"].get("cached")) == reused, phases
    assert (await service.stop(body["gid"])).status_code == 200
    return (body["gid"], answer), messages(events, "system") + messages(events, "setup")


def _emitted(lines: list[str]) -> list[str]:
    """The files tsc said it wrote (its ``--listEmittedFiles``), relative to dist/."""
    return sorted(
        line.rsplit("dist/", 1)[1]
        for line in lines
        if line.startswith("TSFILE:") and "dist/" in line
    )


async def test_a_relaunch_reuses_the_build_and_a_changed_file_rebuilds_incrementally(
    service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT * 2):
        (gid, said), first = await _run(service, None, _app())
        assert said == "hello"
        assert "setup: npm run build" in first
        assert any(line.startswith("TSFILE:") for line in first), first
        assert {"index.js", "greeting.js", "version.js"} <= set(_emitted(first)), first
        assert not any(line.startswith("build: reused") for line in first)
        kept = [line for line in first if line.startswith("build: output kept for relaunches")]
        assert len(kept) == 1 and "dist/" in kept[0] and "`tsc --listEmittedFiles`" in kept[0]

        # The same generation again: nothing the build reads changed.
        (_, said), again = await _run(service, gid, _app())
        assert said == "hello"
        reused = [line for line in again if line.startswith("build: reused")]
        assert len(reused) == 1, again
        assert "inputs unchanged since" in reused[0] and "dist/" in reused[0]
        assert "setup: npm run build" not in again and not _emitted(again)

        # Another upload of the very same files (another user's, say): the same key.
        (_, said), other = await _run(service, None, _app())
        assert said == "hello" and any(line.startswith("build: reused") for line in other)

        # One source file changed: built again, over the last output (its .tsbuildinfo),
        # so tsc writes only what the change reaches (the file and its importer), not
        # version.js.
        (_, said), changed = await _run(service, None, _app("bonjour"))
        assert said == "bonjour"
        assert "setup: npm run build" in changed
        assert not any(line.startswith("build: reused") for line in changed)
        assert any("incremental by its .tsbuildinfo" in line for line in changed), changed
        emitted = _emitted(changed)
        assert "greeting.js" in emitted and "version.js" not in emitted, emitted


async def test_a_tampered_entry_is_not_used_and_changed_dependencies_rebuild(
    service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT * 3):
        (gid, _), first = await _run(service, None, _app("tampered"))
        assert "setup: npm run build" in first
        # Its kept output changed after the fact (on disk, by anyone): not used.
        root = Path(service.settings.env_cache_dir) / BUILD_CACHE
        kept = [p for p in root.glob("*/files/dist/greeting.js") if b"tampered" in p.read_bytes()]
        assert len(kept) == 1
        kept[0].write_bytes(b'exports.greeting = "not what tsc wrote";\n')
        (_, said), again = await _run(service, gid, _app("tampered"))
        assert said == "tampered"
        assert any(
            "was not used: dist/greeting.js no longer matches its hash" in line for line in again
        ), again
        assert "setup: npm run build" in again and "greeting.js" in _emitted(again)

        # A dependency added to package.json: another dependency set, built again.
        (_, said), deps = await _run(service, None, _app("tampered", ms="^2.1.3"))
        assert said == "tampered"
        assert "setup: npm run build" in deps
        assert not any(line.startswith("build: reused") for line in deps)
        assert {"index.js", "greeting.js", "version.js"} <= set(_emitted(deps))


def test_only_builds_whose_output_depends_on_their_files_are_kept() -> None:
    scripts = {
        "prebuild": "rimraf dist",
        "build": "nest build",
        "compile": "tsc && tsc-alias",
        "bundle": "vite build",
        "env": "NODE_ENV=production tsc -p tsconfig.build.json",
        "piped": "tsc | tee log",
        "migrate": "npm run migrate:run && tsc",
        "migrate:run": "knex migrate:latest",
    }
    files = {"package.json": json.dumps({"scripts": scripts}).encode()}
    assert pure_build(("npm", "run", "build"), "", files) == "rimraf dist && nest build"
    # Without its hooks (one of them started the app): the script alone.
    assert pure_build(("npm", "run", "build", "--ignore-scripts"), "", files) == "nest build"
    assert pure_build(("npm", "run", "compile"), "", files) == "tsc && tsc-alias"
    assert pure_build(("npm", "run", "env"), "", files) == "tsc -p tsconfig.build.json"
    shell = ("sh", "-c", 'export PATH="$PWD/node_modules/.bin:$PATH"; rm -rf dist && tsc')
    assert pure_build(shell, "", files) == "rm -rf dist && tsc"
    for impure in ("bundle", "piped", "migrate"):  # a bundler inlines the environment
        assert pure_build(("npm", "run", impure), "", files) is None
    assert pure_build(("node_modules/.bin/knex", "migrate:latest"), "", files) is None
    # A tool's configuration written as code that reads the environment: not kept.
    tsup = {**files, "tsup.config.ts": b"export default { env: { A: process.env.API_URL } }"}
    assert pure_build(("npm", "run", "compile"), "", tsup) is None
    node_env = {**files, "tsup.config.ts": b"export default { minify: process.env.NODE_ENV }"}
    assert pure_build(("npm", "run", "compile"), "", node_env) == "tsc && tsc-alias"


def test_a_build_running_its_compiler_through_npx_with_npxs_flags_is_kept() -> None:
    """gozonjoedaimar's scullery-api: ``"build": "npx -y tsc"``, read as no tool's, ran
    as written: its build step failed (exit 1). npx's own flags say nothing of the
    command; the compiler is then transpiled, as any tsc step is."""
    scripts = {"build": "npx -y tsc", "quiet": "npx --yes -q tsc -p tsconfig.build.json"}
    files = {"package.json": json.dumps({"scripts": scripts}).encode()}
    assert pure_build(("npm", "run", "build"), "", files) == "tsc"
    assert pure_build(("npm", "run", "quiet"), "", files) == "tsc -p tsconfig.build.json"
    files["tsconfig.json"] = b'{"compilerOptions": {"outDir": "dist"}}'
    transpiled = transpiled_build(("npm", "run", "build"), "", files)
    assert transpiled is not None and transpiled.said.startswith("tsc as TypeScript's emit")
    files["package.json"] = json.dumps({"scripts": {"build": "npx -p typescript tsc"}}).encode()
    assert pure_build(("npm", "run", "build"), "", files) is None


async def test_a_build_that_removes_files_first_is_kept_and_its_removals_redone(
    service: Service,
) -> None:
    """``rm -rf dist && tsc`` over a committed dist/ (or the placeholder the service
    writes in a run-time folder the app's .gitignore lists): the step removes a file that
    was there before it. Its output is kept with what it removed, and a relaunch removes
    it again as it writes the output back (before, a step that removed a file was never
    kept: a heldout7 app's `rm -rf builds && tsc` ran at every launch)."""
    files = _app("cleaned")
    package = json.loads(files["package.json"])
    package["scripts"]["build"] = "rm -rf dist && tsc --listEmittedFiles"
    files["package.json"] = json.dumps(package, indent=2)
    files["dist/stale.js"] = "// a committed build's leftover\n"
    files["src/index.ts"] = (
        files["src/index.ts"]
        .replace(
            'import { createServer } from "node:http";',
            'import { readdirSync } from "node:fs";\nimport { createServer } from "node:http";',
        )
        .replace("{ greeting, version }", "{ greeting, version, built: readdirSync(__dirname) }")
    )

    async def served(body: dict[str, Any]) -> tuple[list[str], list[str]]:
        """What its build left in dist/ as the app sees it, and what the launch said."""
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        built = (await service.app_get(body, "/")).json()["built"]
        said = messages(await service.history(body["gid"]), "system")
        assert (await service.stop(body["gid"])).status_code == 200
        return built, said

    with trio.fail_after(BUILD_WAIT * 2):
        first = await launched(service, files)
        built, said = await served(first)
        assert "stale.js" not in built and "index.js" in built, built
        assert any(m.startswith("build: output kept for relaunches") for m in said), said
        response = await service.launch(first["gid"], tier="pro")
        assert response.status_code == 200, response.text
        built, said = await served({"gid": first["gid"], **response.json()})
        assert "stale.js" not in built and "index.js" in built, built
        assert any(m.startswith("build: reused") for m in said), said
