"""A TypeScript app's build run as TypeScript's emit without its type check
(``builds.typescript``), with real launches, real npm and the app's own TypeScript: the
JavaScript tsc would write is written where tsc writes it (the files its entry imports
beyond the tsconfig's ``files``, a JSON file it imports, a ``const enum`` read across
files), a ``nest build``'s imports by ``baseUrl`` rewritten as Nest rewrites them, a
type error does not stop the app, a relaunch reuses that output, and a project
the transpile cannot stand in for (ES modules not declared isolated) gets its own build,
said."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio

from preview import Settings
from preview.builds.typescript import TranspiledBuild, transpiled_build, type_check

from ...conftest import Service, auth
from ...launching import BUILD_WAIT, launched, messages
from ...ports_in_range import service_in_range

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)

_TSCONFIG = {
    "compilerOptions": {
        "target": "ES2020",
        "module": "commonjs",
        "outDir": "dist",
        "strict": True,
        "skipLibCheck": True,
        "resolveJsonModule": True,
        "esModuleInterop": True,
    },
    # The entry alone: tsc takes in what it imports, and so must the transpile.
    "files": ["src/index.ts"],
}
_INDEX = """import { createServer } from "node:http";
import { greeting } from "./greeting";
import { Colour } from "./colour";
import data from "./data.json";

createServer((_request, response) => {
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ greeting, colour: Colour.Red, count: data.count }));
}).listen(Number(process.env.PORT), "0.0.0.0");
"""


_TYPESCRIPT = {"typescript": "~5.4.5", "@types/node": "^20.11.0"}


def _package_json(name: str, build: str, start: str, **more: Any) -> str:
    """A fixture's package.json: its build and start scripts, the TypeScript it builds
    with (and ``more``'s devDependencies, or other keys, beside)."""
    dev = {**more.pop("devDependencies", {}), **_TYPESCRIPT}
    package = {"name": name, "version": "1.0.0", "private": True, **more}
    package |= {"scripts": {"build": build, "start": start}, "devDependencies": dev}
    return json.dumps(package, indent=2)


def _app() -> dict[str, str]:
    build = "tsc -p tsconfig.build.json"
    return {
        "package.json": _package_json("transpile-fixture", build, "node dist/index.js"),
        "tsconfig.build.json": json.dumps(_TSCONFIG, indent=2),
        # A type error tsc would stop at (TS2322); what runs does not care.
        "src/greeting.ts": 'export const greeting: number = "hello" as unknown as string;\n',
        "src/colour.ts": 'export const enum Colour {\n  Red = "red",\n}\n',
        "src/data.json": '{"count": 3}\n',
        "src/index.ts": _INDEX,
    }


_ESM_TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "outDir": "dist",
        "rootDir": "src",
        "strict": True,
        "skipLibCheck": True,
    },
    "include": ["src"],
}
_ESM_INDEX = """import { createServer } from "node:http";
import { greeting } from "./greeting.js";

createServer((_request, response) => {
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ greeting }));
}).listen(Number(process.env.PORT), "0.0.0.0");
"""


def _esm_app() -> dict[str, str]:
    package = _package_json("transpile-esm-fixture", "tsc", "node dist/index.js", type="module")
    return {
        "package.json": package,
        "tsconfig.json": json.dumps(_ESM_TSCONFIG, indent=2),
        "src/greeting.ts": 'export const greeting: string = "hej";\n',
        "src/index.ts": _ESM_INDEX,
    }


@pytest.fixture
async def service(build_settings: Settings) -> AsyncIterator[Service]:
    async with service_in_range(build_settings, 23200, 23299) as running:
        yield running


async def _run(service: Service, gid: str | None, files: dict[str, str]) -> tuple[Any, list[str]]:
    """Launch (a new generation of ``files``, or ``gid`` again): its gid, its answer at
    ``/`` and its log's system and set-up lines, once stopped."""
    if gid is None:
        body = await launched(service, files)
    else:
        response = await service.launch(gid, tier="pro")
        assert response.status_code == 200, response.text
        body = {"gid": gid, **response.json()}
    assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    answer = (await service.app_get(body, "/")).json()
    events = await service.history(body["gid"])
    assert (await service.stop(body["gid"])).status_code == 200
    return (body["gid"], answer), messages(events, "system") + messages(events, "setup")


async def test_a_tsc_build_is_transpiled_where_tsc_writes_and_its_relaunch_reuses_it(
    service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT * 2):
        (gid, answer), first = await _run(service, None, _app())
        assert answer == {"greeting": "hello", "colour": "red", "count": 3}
        done = [line for line in first if line.startswith("transpiled ")]
        assert len(done) == 1, first
        assert done[0].startswith("transpiled 4 files to dist/ in ") and "TypeScript 5.4" in done[0]
        assert not any("the app's own build run instead" in line for line in first), first
        kept = [line for line in first if line.startswith("build: output kept for relaunches")]
        assert len(kept) == 1 and "transpiled without type check" in kept[0], first

        (_, answer), again = await _run(service, gid, _app())
        assert answer["greeting"] == "hello"
        assert any(line.startswith("build: reused") for line in again), again
        assert not any(line.startswith("transpiled ") for line in again), again


async def test_a_json_file_imported_from_above_its_root_dir_is_read_where_it_is(
    service: Service,
) -> None:
    """code-simple's typescript-expressJs-postgreSQL-boilerplate: rootDir src, and
    ``import { version } from "../../package.json"`` in src/docs/: the transpile refused
    ("package.json lies outside rootDir"), and its own build stopped at type errors. tsc
    leaves such a file unemitted; its import from dist/docs/ reads it where it is."""
    files = _app()
    config = {**_TSCONFIG, "compilerOptions": {**_TSCONFIG["compilerOptions"], "rootDir": "src"}}
    files["tsconfig.build.json"] = json.dumps(config)
    files["src/docs/version.ts"] = (
        'import { version } from "../../package.json";\nexport { version };\n'
    )
    files["src/index.ts"] = _INDEX.replace(
        'import data from "./data.json";',
        'import data from "./data.json";\nimport { version } from "./docs/version";',
    ).replace("count: data.count", "count: data.count, version")
    with trio.fail_after(BUILD_WAIT * 2):
        (_, answer), lines = await _run(service, None, files)
    assert answer == {"greeting": "hello", "colour": "red", "count": 3, "version": "1.0.0"}
    assert any(line.startswith("transpiled 5 files to dist/ in ") for line in lines), lines
    assert not any("the app's own build run instead" in line for line in lines), lines


async def test_a_json_module_resolved_by_tscs_own_default_is_written_as_tsc_writes_it(
    service: Service,
) -> None:
    """allenlin90's hono-drizzle-api: ``moduleResolution: bundler``, no
    ``resolveJsonModule`` (tsc's default there: on), ``import packageJson from
    "../../package.json" with { type: "json" }``; tsc wrote dist/package.json, the
    transpile did not ("Cannot find module 'dist/package.json'"), and its own build ran."""
    files = _esm_app()
    config = {
        "compilerOptions": {
            **_ESM_TSCONFIG["compilerOptions"],
            "module": "ESNext",
            "moduleResolution": "bundler",
            "verbatimModuleSyntax": True,  # (isolated modules, as its tsconfig says)
        },
        "include": ["src"],
    }
    del config["compilerOptions"]["rootDir"]
    files["tsconfig.json"] = json.dumps(config, indent=2)
    files["package.json"] = files["package.json"].replace(
        "node dist/index.js", "node dist/src/index.js"
    )
    files["src/index.ts"] = _ESM_INDEX.replace(
        'import { greeting } from "./greeting.js";',
        'import { greeting } from "./greeting.js";\n'
        'import pkg from "../package.json" with { type: "json" };',
    ).replace("JSON.stringify({ greeting })", "JSON.stringify({ greeting, name: pkg.name })")
    with trio.fail_after(BUILD_WAIT * 2):
        (_, answer), lines = await _run(service, None, files)
    assert answer == {"greeting": "hej", "name": "transpile-esm-fixture"}
    assert any(line.startswith("transpiled 3 files to dist/ in ") for line in lines), lines
    assert not any("its own TypeScript build run" in line for line in lines), lines


async def test_the_type_check_the_build_was_run_without_runs_beside_the_app(
    service: Service,
) -> None:
    """A type error no longer stops the build, and is still told: the app's own ``tsc
    --noEmit`` runs once the app answers, its finding in the log as its lines, its exit
    said; the app serves throughout, and the check is listed as done."""
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(service, _app())
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        gid = body["gid"]
        while True:
            events = await service.history(gid)
            said = [line for line in messages(events, "system") if "check typecheck" in line]
            if any("exited" in line for line in said):
                break
            await trio.sleep(0.2)
        ended = [line for line in said if "exited" in line]
        assert ended == [
            "check typecheck exited with code 2 (what it found is above; the app runs regardless)"
        ], said
        assert any(line.startswith("check typecheck started (pid ") for line in said), said
        found = [e["message"] for e in events if e.get("process") == "typecheck"]
        assert any("src/greeting.ts(1,14): error TS2322" in line for line in found), found
        status = await service.status(gid)
        assert status["status"] == "running"
        checks = [p for p in status["processes"] if p["name"] == "typecheck"]
        assert [(p["role"], p["status"], p["exitCode"]) for p in checks] == [("check", "done", 2)]
        assert checks[0]["command"] == "tsc --noEmit --pretty false -p tsconfig.build.json"
        assert (await service.app_get(body, "/")).json()["greeting"] == "hello"
        assert (await service.stop(gid)).status_code == 200


async def test_a_revision_of_a_typescript_source_serves_the_new_code(service: Service) -> None:
    """A revision applied live builds again (its directory starts with the running
    revision's ``dist/``): the changed source's new JavaScript is what answers, and it
    alone is emitted again (the unchanged files' output is what their emit would write)."""
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(service, _app())
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json()["greeting"] == "hello"
        changed = {"src/greeting.ts": 'export const greeting: string = "bonjour";\n'}
        posted = await service.client.post(
            f"/api/generations/{body['gid']}/revisions",
            json={"files": changed},
            headers=auth(),
            timeout=BUILD_WAIT,
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["apply"]["state"] == "switched", posted.json()
        assert (await service.app_get(body, "/")).json()["greeting"] == "bonjour"
        events = await service.history(body["gid"])
        said = messages(events, "system")
        assert not any("run before, not again: npm run build" in line for line in said), said
        emits = [m for m in messages(events, "setup") if m.startswith("transpiled ")]
        assert emits[-1].startswith("transpiled 1 file to dist/"), emits
        assert emits[-1].endswith("(3 unchanged since its last emit there)"), emits
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_project_the_transpile_cannot_stand_in_for_gets_its_own_build(
    service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT):
        (_, answer), lines = await _run(service, None, _esm_app())
        assert answer == {"greeting": "hej"}
        fell_back = [line for line in lines if "the app's own build run instead" in line]
        assert len(fell_back) == 1, lines
        assert "not transpiled: ES module output" in fell_back[0], fell_back


def _ambient_enum_app() -> dict[str, str]:
    """An app tsc builds and the transpile does not: an ambient ``const enum`` (a
    ``.d.ts``'s, no object at run time) that tsc inlines and a file alone cannot."""
    package = _package_json("transpile-ambient-fixture", "tsc", "node dist/index.js")
    tsconfig = {**_ESM_TSCONFIG, "compilerOptions": {**_TSCONFIG["compilerOptions"]}}
    index = _ESM_INDEX.replace('import { greeting } from "./greeting.js";\n', "")
    return {
        "package.json": package,
        "tsconfig.json": json.dumps(tsconfig, indent=2),
        "src/levels.d.ts": 'declare const enum Level {\n  High = "high",\n}\n',
        "src/index.ts": "const greeting: string = Level.High;\n" + index,
    }


async def test_an_app_that_exits_when_transpiled_starts_again_from_its_own_build(
    service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT * 2):
        (_, answer), lines = await _run(service, None, _ambient_enum_app())
        assert answer == {"greeting": "high"}
        assert any(line.startswith("transpiled 1 file to dist/") for line in lines), lines
        fixed = [line for line in lines if "its own TypeScript build run" in line]
        assert len(fixed) == 1 and "exited during start-up" in fixed[0], lines


def _nest_base_url_app() -> dict[str, str]:
    """A ``nest build`` project importing its own module by ``baseUrl`` (``src/greeting``),
    which Nest's compile rewrites to a relative path (and Node alone would not find)."""
    cli = {"@nestjs/cli": "^10.4.0"}
    start = "node dist/main"
    package = _package_json("transpile-nest-fixture", "nest build", start, devDependencies=cli)
    tsconfig = {"compilerOptions": {**_TSCONFIG["compilerOptions"], "baseUrl": "./"}}
    index = _ESM_INDEX.replace('"./greeting.js"', '"src/greeting"')
    return {
        "package.json": package,
        "tsconfig.json": json.dumps(tsconfig, indent=2),
        "nest-cli.json": json.dumps({"sourceRoot": "src"}),
        "src/greeting.ts": 'export const greeting: string = "hallo";\n',
        "src/main.ts": index,
    }


async def test_a_nest_build_has_its_base_url_imports_rewritten_as_nest_does(
    service: Service,
) -> None:
    with trio.fail_after(BUILD_WAIT * 2):
        (_, answer), lines = await _run(service, None, _nest_base_url_app())
        assert answer == {"greeting": "hallo"}
        assert any(line.startswith("transpiled 2 files to dist/") for line in lines), lines
        assert not any("its own TypeScript build run" in line for line in lines), lines
        assert not any("the app's own build run instead" in line for line in lines), lines


_METADATA_TSCONFIG = {
    "compilerOptions": {
        **{k: v for k, v in _TSCONFIG["compilerOptions"].items() if "Json" not in k},
        "experimentalDecorators": True,
        "emitDecoratorMetadata": True,
    },
    "include": ["src"],
}
# A string enum and a numeric one, of another module than the entities naming them.
_METADATA_KINDS = (
    'export enum Status {\n  Open = "open",\n}\nexport enum Level {\n  Low,\n  High,\n}\n'
)
# What decorator metadata says of each member's type, as TypeORM reads a column's.
_METADATA_INDEX = """import { createServer } from "node:http";
import { Level, Status } from "./kinds";

const seen: Record<string, string> = {};
(Reflect as any).metadata = (key: string, value: { name: string }) =>
  (_target: object, member?: string) => {
    if (key === "design:type" && member) seen[member] = value.name;
  };
const Column = (): PropertyDecorator => () => undefined;

class Contract {
  @Column() status!: Status;
  @Column() level!: Level;
  @Column() name!: string;
}

createServer((_request, response) => {
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ ...seen, made: new Contract() instanceof Contract }));
}).listen(Number(process.env.PORT), "0.0.0.0");
"""


async def test_decorator_metadata_of_an_enum_type_is_what_tsc_emits(service: Service) -> None:
    """lavellewarren's nestjs-crm-apis: ``@Column() status: ContractStatus``, an enum of
    another module. The per-file emit wrote its metadata as ``Object`` (tsc: ``String``),
    and TypeORM refused it: "Data type "Object" in "Contract.status" is not supported by
    "postgres"". The project's enums are read first: a string enum's type is String, a
    numeric one's Number, as tsc emits them."""
    build = "tsc -p tsconfig.json"
    files = {
        "package.json": _package_json("transpile-metadata", build, "node dist/index.js"),
        "tsconfig.json": json.dumps(_METADATA_TSCONFIG, indent=2),
        "src/kinds.ts": _METADATA_KINDS,
        "src/index.ts": _METADATA_INDEX,
    }
    with trio.fail_after(BUILD_WAIT):
        (_gid, answer), lines = await _run(service, None, files)
    assert answer == {"status": "String", "level": "Number", "name": "String", "made": True}
    assert any("without its type check" in line for line in lines), lines


async def test_ts_nodes_emit_writes_an_enum_types_metadata_as_tsc_does(service: Service) -> None:
    """lavellewarren's nestjs-crm-apis runs ``ts-node --transpile-only src/main.ts`` (its
    ORM loads its .ts entities at run time): no build to transpile, and ts-node's per-file
    emit wrote ``Object`` for ``@Column() status: ContractStatus``. ts-node is given a
    compiler (TS_NODE_COMPILER), the project's TypeScript whose emit has the same hook."""
    files = {
        "package.json": _package_json(
            "ts-node-metadata",
            "",
            "ts-node --transpile-only src/index.ts",
            devDependencies={"ts-node": "^10.9.2"},
        ),
        "tsconfig.json": json.dumps(_METADATA_TSCONFIG, indent=2),
        "src/kinds.ts": _METADATA_KINDS,
        "src/index.ts": _METADATA_INDEX,
    }
    with trio.fail_after(BUILD_WAIT):
        (_gid, answer), lines = await _run(service, None, files)
    assert answer == {"status": "String", "level": "Number", "name": "String", "made": True}
    assert not any("without its type check" in line for line in lines), lines


def test_only_tsc_and_plain_nest_builds_are_transpiled() -> None:
    scripts = {
        "build": "rimraf dist && nest build",
        "compile": "tsc -p tsconfig.build.json && tsc-alias",
        "listed": "tsc --listEmittedFiles",
        "bundle": "tsup src/index.ts",
    }
    files = {"package.json": json.dumps({"scripts": scripts}).encode()}
    nest = transpiled_build(("npm", "run", "build"), "", files)
    assert nest is not None
    transpile = 'node -e "$PREVIEW_TS_TRANSPILE" --'
    assert nest.argv[2].endswith(f"rimraf dist && {transpile} tsconfig.json --nest")
    compile_ = transpiled_build(("npm", "run", "compile"), "", files)
    assert compile_ is not None
    assert compile_.argv[2].endswith("-- tsconfig.build.json && tsc-alias")
    for other in ("listed", "bundle"):  # another flag of tsc's; no tsc at all
        assert transpiled_build(("npm", "run", other), "", files) is None
    # Nest's compiler plugins read the types; webpack bundles.
    for options in ({"plugins": ["@nestjs/swagger"]}, {"webpack": True}):
        cli = {**files, "nest-cli.json": json.dumps({"compilerOptions": options}).encode()}
        assert transpiled_build(("npm", "run", "build"), "", cli) is None
    cleaned = {
        **files,
        "nest-cli.json": b'{"compilerOptions": {"deleteOutDir": true}} // its own',
        "tsconfig.build.json": b"{}",
    }
    found = transpiled_build(("npm", "run", "build"), "", cleaned)
    assert found is not None and found.argv[2].endswith("-- tsconfig.build.json --nest --clean")


def test_the_type_checks_heap_is_a_third_of_the_apps_memory() -> None:
    """The check shares the app's memory bound: tsc's heap is held below it, so a project
    whose types outgrow it ends the check (V8's "heap out of memory"), not the preview by
    the kernel's OOM kill (Oliverio12's ExpressCafe_Backend: googleapis' definitions)."""
    projects = ("tsconfig.json", "tsconfig.worker.json")
    build = TranspiledBuild(("tsc",), {}, "5", "tsc as TypeScript's emit", projects)
    check = type_check(build, "api", 512)
    assert check is not None
    script = check.argv[-1]
    assert 'export NODE_OPTIONS="$NODE_OPTIONS --max-old-space-size=170"; tsc' in script
    # (both projects under it: an export, not one command's assignment)
    assert script.endswith("tsc --noEmit --pretty false -p tsconfig.worker.json")
    assert "{" not in script  # a worker's command is a template
