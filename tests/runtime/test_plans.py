"""Plans, tried in order, judged by health (``preview.apps.plans``,
``preview.builds.plantries``): real launches of Node fixture apps, built by real npm
installs; each test names the shape that motivated its rule."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import trio

from preview import Settings
from preview.runtime import free_port_block

from ..conftest import Service, eventually
from ..launching import BUILD_WAIT, app_files, launched, messages

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


@pytest.fixture
def build_settings(settings: Settings, env_dir: Path) -> Settings:
    # This module's ports lie in 22000-22999: free_port_block starts its search at
    # lowest + (pid % 100) * 100, so lowest is chosen to make that start fall there.
    pid = os.getpid()
    first = free_port_block(8, lowest=22000 + (pid % 10) * 80 - (pid % 100) * 100)
    return replace(
        settings,
        build="on",
        env_dir=str(env_dir),
        startup_timeout=60.0,
        port_min=first,
        port_max=first + 7,
    )


async def test_a_built_start_that_cannot_run_gives_way_to_the_dev_script_the_readme_names(
    builder_service: Service,
) -> None:
    """The held-out Express-TS app's shape: ``"start": "node dist/index.js"`` after
    ``tsc``, whose output Node's ESM loader refuses (a JSON module imported without its
    import attribute, ERR_IMPORT_ATTRIBUTE_MISSING; the held-out app imported a
    directory, which the service now spells as tsc's ES modules do), while ``"dev": "tsx
    watch src/index.ts"``, which its README says to run, serves. Plan 2 runs and is
    kept: the generation's next launch starts with it."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_built_start_json_import"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/notes")).json()[0]["text"] == "buy milk"
        status = await service.status(body["gid"])
        plan = status["runtime"]["plan"]
        assert plan["inForce"] == 2 and plan["of"] == 2
        first, second = plan["plans"]
        assert first["command"] == "npm start" and first["from"] == "package.json script start"
        assert first["setup"] == [
            {"command": "npm run build", "from": "package.json script build", "optional": False}
        ]
        assert first["outcome"].startswith("left: ")
        assert "ERR_IMPORT_ATTRIBUTE_MISSING" in first["outcome"] or "attribute" in first["outcome"]
        assert second["from"] == "package.json script dev, named in the README"
        assert second["setup"] == [] and second["outcome"] == "in force"
        system = messages(await service.history(body["gid"]), "system")
        assert "plan 1 of 2: `npm start` (package.json script start)" in system
        said = "plan 2 of 2: `npm run dev` (package.json script dev, named in the README)"
        assert said in system
        assert (await service.stop(body["gid"])).status_code == 200
        # Relaunched: the plan that served, at once.
        again = await service.launch(body["gid"], tier="pro")
        assert again.json()["status"] == "running", again.text
        system = messages(await service.history(body["gid"]), "system")
        kept = f"with the plan an earlier launch of this generation kept: {said}"
        assert kept in system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_build_its_start_does_not_run_is_dropped_when_it_fails(
    builder_service: Service,
) -> None:
    """The held-out Express app's shape: ``"build": "babel src -d dist"`` with no
    ``@babel/cli`` among its dependencies (``babel: not found``), where ``"start":
    "babel-node src/server.js"`` runs the sources and never the build: a build whose
    output the start does not run is optional; its failure is said, the app starts."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_start_runs_source_build_missing"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/x")).json() == {"ok": True, "path": "/x"}
        system = messages(await service.history(body["gid"]), "system")
        dropped = [m for m in system if m.startswith("set-up step npm run build failed")]
        assert dropped and "dropped" in dropped[0], system
        status = await service.status(body["gid"])
        step = status["runtime"]["plan"]["plans"][0]["setup"][0]
        assert step == {
            "command": "npm run build",
            "from": "package.json script build",
            "optional": True,
        }
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_seed_that_fails_on_a_fresh_database_is_dropped(builder_service: Service) -> None:
    """The held-out app whose ``seed`` failed the launch (a dev-group dependency, rows a
    fresh database lacks): a seed is optional; the tables its set-up script made serve."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_seed_fails_fresh_db"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"users": ["ada", "grace"]}
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("set-up step npm run seed failed") for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_plan_that_answers_only_500s_at_the_smoke_check_gives_way(
    smoke_builder: Service,
) -> None:
    """A start that comes up but serves nothing (``NODE_ENV=production``, whose config
    file is its deployment's, not the repository's: every route 500) where ``"dev":
    "nodemon src/index.js"`` serves: the smoke check judges it, and the next
    plan is tried."""
    service = smoke_builder
    files = app_files("node_start_serves_500s")
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        runtime = service.supervisor.get(body["previewInstanceId"])
        assert runtime is not None
        await eventually(lambda: runtime.spec.detection.plan == 1 and runtime.status == "running")
        assert (await service.app_get(body, "/")).json() == {"greeting": "hello from development"}
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("plan 2 of 2: `npm run dev`") for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_start_that_sets_up_and_exits_cleanly_is_run_once_more(
    builder_service: Service,
) -> None:
    """peterdee's fastify-pg: its first start makes its database, applies its migrations,
    says "-- migrations: done" and exits with code 0 (``process.exit(0)``); its author's
    second start serves. Run once more, what the first run left kept (here a file it
    writes); an app whose quiet exit says a failure is not."""
    service = builder_service
    server = (
        "const fs = require('fs');\n"
        "if (!fs.existsSync('.initialised')) {\n"
        "  fs.writeFileSync('.initialised', 'yes');\n"
        "  console.log('-- migrations: done');\n"
        "  process.exit(0);\n"
        "}\n"
        "require('http').createServer((req, res) => res.end('served')).listen(process.env.PORT);\n"
    )
    package = '{"name": "first-run", "scripts": {"start": "node server.js"}}'
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, {"package.json": package, "server.js": server})
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).text == "served"
        system = messages(await service.history(body["gid"]), "system")
        assert any("started once more, its data as that run left it" in m for m in system)
        assert (await service.stop(body["gid"])).status_code == 200
        failing = server.replace("-- migrations: done", "connection error: ECONNREFUSED")
        body = await launched(service, {"package.json": package, "server.js": failing})
        assert body["status"] == "failed"
        system = messages(await service.history(body["gid"]), "system")
        assert not any("started once more" in m for m in system)


# What a watcher prints when the app it runs died, and then waits for a file to change:
# nodemon's line after the app's error; ts-node-dev's the error itself, with its time.
_WATCHERS_WAITING = {
    "nodemon": (
        "console.error(\"Error: Cannot find module 'callsite'\");\n"
        "console.log('[nodemon] app crashed - waiting for file changes before starting...');\n"
    ),
    "ts-node-dev": "console.error(\"[ERROR] 05:16:07 Error: Cannot find module 'callsite'\");\n",
}


@pytest.mark.parametrize("watcher_name", sorted(_WATCHERS_WAITING))
async def test_a_watcher_waiting_after_its_app_crashed_ends_the_plan_at_once(
    builder_service: Service, watcher_name: str
) -> None:
    """hsarb's postgres-express-boilerplate (``nodemon --exec babel-node bin/start.js``)
    and wangxiang365's node-koa-typescript (``"start": "nodemon"``): the app died, nodemon
    said "app crashed - waiting for file changes before starting..." and lived on, so the
    launch waited to its start-up timeout; manishdubeit's typeorm-express-poc likewise under
    ``ts-node-dev --respawn``, which says only the error, with its time. The plan ends at
    that line, the app's error its cause, and the next plan starts (here a stand-in for the
    watcher: no install)."""
    service = builder_service
    watcher = _WATCHERS_WAITING[watcher_name] + "setInterval(() => {}, 1000);\n"
    server = "require('http').createServer((q, s) => s.end('dev')).listen(process.env.PORT);\n"
    package = '{"name": "w", "scripts": {"start": "node watcher.js", "dev": "node server.js"}}'
    files = {"package.json": package, "watcher.js": watcher, "server.js": server}
    began = trio.current_time()
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert trio.current_time() - began < 30  # not the start-up timeout (60 s here)
        assert (await service.app_get(body, "/")).text == "dev"
        status = await service.status(body["gid"])
        first = status["runtime"]["plan"]["plans"][0]
        assert "Cannot find module 'callsite'" in first["outcome"], first
        assert (await service.stop(body["gid"])).status_code == 200
