"""How a Node app's packages are installed, as uploaded, by real npm, pnpm and yarn
installs from the registry: its lockfile's versions (a version the registry lacks falling
back to the app's range), a peer conflict as pnpm resolves it, install scripts, Prisma's
client and engines, native modules built from source or taken newer, and a package it
lacks named. (Apart from test_node_apps.py: a test module runs in one process.)"""

from __future__ import annotations

import json
import os
import shutil
import socket

import pytest
import trio

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


async def test_a_peer_conflict_is_installed_as_pnpm_would(builder_service: Service) -> None:
    """npm refuses the tree (ERESOLVE: ajv-keywords 3 wants ajv 6, the project has 8);
    the install runs again with --legacy-peer-deps, saying so, and the app starts."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_peer_conflict"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"valid": True}
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if "--legacy-peer-deps" in m]
        assert said, system
        assert said[0].startswith("npm could not resolve the dependency tree: ")
        assert said[0].endswith("; installing again with --legacy-peer-deps")
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_pnpm_project_gets_its_locked_versions(builder_service: Service) -> None:
    """npm reads no pnpm-lock.yaml: the direct dependencies are pinned to its versions
    (ms 2.0.0, not the newest 2.x), said in a system line."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pnpm_locked"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"ms": "2.0.0"}
        system = messages(await service.history(body["gid"]), "system")
        assert "pnpm-lock.yaml: 1 dependencies at its locked versions (npm reads none)" in system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_locked_version_the_registry_lacks_falls_back_to_the_apps_range(
    builder_service: Service,
) -> None:
    """pnpm-lock.yaml locked ms 2.1.99, which the registry has not (unpublished, or a
    mirror's gap): the install runs again with package.json's own ^2.1.0, saying so."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pnpm_unpublished"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        installed = (await service.app_get(body, "/")).json()["ms"]
        assert installed.startswith("2.") and installed != "2.1.99", installed
        system = messages(await service.history(body["gid"]), "system")
        assert (
            "the registry has no ms 2.1.99 (its lockfile's): installing the range "
            "package.json gives it, ^2.1.0"
        ) in system, system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_scopes_packages_locked_together_get_their_ranges_back_together(
    builder_service: Service,
) -> None:
    """pnpm-lock.yaml locked @vue/reactivity 3.4.99, which the registry has not, and
    @vue/shared 3.4.0: both get package.json's ranges back, so the newest reactivity
    finds the shared it was released with at the top (MikroORM's core and driver)."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_pnpm_scope_unpublished"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        versions = (await service.app_get(body, "/")).json()
        assert versions["reactivity"] == versions["shared"] != "3.4.0", versions
        system = messages(await service.history(body["gid"]), "system")
        assert (
            "the registry has no @vue/reactivity 3.4.99 (its lockfile's): installing the "
            "range package.json gives it, ^3.4.0, and @vue/shared theirs (released with it)"
        ) in system, system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_lockfile_out_of_step_with_package_json_is_installed_by_npm_install(
    builder_service: Service,
) -> None:
    """package.json lists ms, its package-lock.json was never updated: npm ci refuses it
    (EUSAGE, followed by its usage text); npm install runs instead, saying why."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_lock_out_of_sync"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json()["ms"].startswith("2.")
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if m.endswith(": npm install instead of npm ci")]
        assert said and said[0].startswith(
            "package-lock.json is out of step with package.json (Missing: ms@"
        ), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_install_scripts_run_without_the_shared_download_cache_writable(
    builder_service: Service,
) -> None:
    """An outside tester's: a preinstall wrote into npm's cache, which every later build
    of any user's app reads. The packages are downloaded first with no script run, then
    the scripts run (the project's own here) with a cache of that build's own."""
    service = builder_service
    poison = (
        "node -e \"const fs = require('fs'); fs.writeFileSync("
        "process.env.npm_config_cache + '/POISON', 'x'); "
        "fs.writeFileSync('node_modules/.postinstall-ran', 'yes')\""
    )
    files = {
        "package.json": json.dumps(
            {
                "name": "poisoner",
                "version": "1.0.0",
                "scripts": {"postinstall": poison, "start": "node server.js"},
                "dependencies": {"ms": "^2.1.0"},
            }
        ),
        "server.js": (
            'const fs = require("fs");\n'
            'require("http").createServer((req, res) => res.end(JSON.stringify({\n'
            '  ran: fs.existsSync("node_modules/.postinstall-ran"),\n'
            '}))).listen(Number(process.env.PORT), "127.0.0.1");\n'
        ),
    }
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"ran": True}
        assert (await service.stop(body["gid"])).status_code == 200
    shared = service.settings.env_cache_dir / ".npm-cache"
    assert shared.is_dir() and not (shared / "POISON").exists()


async def test_a_yarn_project_gets_its_locked_versions(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_yarn_locked"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"ms": "2.0.0"}
        system = messages(await service.history(body["gid"]), "system")
        assert "yarn.lock: 1 dependencies at its locked versions (npm reads none)" in system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_yarn_projects_tree_gets_its_locked_versions(builder_service: Service) -> None:
    """Its dependencies' own dependencies too: debug's ms at the 2.1.1 yarn.lock locked,
    not the newest its range (^2.1.1) allows (julietezekwe's node-express-postgres-
    boilerplate: its locked @babel/node's @babel/register resolved anew called what its
    locked @babel/core lacked)."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_yarn_locked_tree"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"ms": "2.1.1", "debug": "4.1.1"}
        system = messages(await service.history(body["gid"]), "system")
        assert (
            "yarn.lock: 1 dependencies at its locked versions, 1 of their own dependencies "
            "too (npm reads none)"
        ) in system, system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_missing_npm_package_is_named(builder_service: Service) -> None:
    service = builder_service
    package = {"name": "broken", "main": "index.js", "dependencies": {"left-padd-nope-x": "^1.0.0"}}
    files = {"package.json": json.dumps(package), "index.js": ""}
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, files)
        assert body["status"] == "failed"
        # npm 11 names the package in its 404 (older ones with the range asked for).
        assert body["errorMessage"].startswith("package left-padd-nope-x")
        assert body["errorMessage"].endswith(" is not in the registry")
        assert not any("complete log" in line for line in body["errorLines"])


def _prisma_engines_reachable() -> bool:
    try:
        socket.getaddrinfo("binaries.prisma.sh", 443)
    except OSError:
        return False
    return True


@pytest.mark.skipif(
    not _prisma_engines_reachable(),
    reason="binaries.prisma.sh (Prisma's engines, which prisma generate fetches) is unreachable",
)
async def test_prisma_client_generated_and_sqlite_database_pushed(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("prisma_sqlite"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        created = await service.app_request(body, "POST", "/")
        assert created.json() == [{"id": 1, "text": "hi"}]
        system = messages(await service.history(body["gid"]), "system")
        assert any(m.startswith("setup: node_modules/.bin/prisma db push") for m in system)
        assert (await service.stop(body["gid"])).status_code == 200


@pytest.mark.skipif(_prisma_engines_reachable(), reason="Prisma's engines are reachable here")
async def test_prisma_engines_out_of_reach_are_named(builder_service: Service) -> None:
    """Where the build cannot fetch Prisma's engines, the launch says so (not Prisma's
    'set PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING' advice)."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("prisma_sqlite"))
        assert body["status"] == "failed"
        message = body["errorMessage"]
        assert message.startswith("Prisma's engines could not be fetched from binaries.prisma.sh")
        system = messages(await service.history(body["gid"]), "system")
        assert any("prisma generate (prisma/schema.prisma)" in m for m in system), system


async def test_a_native_module_is_built_from_source_when_its_binary_is_out_of_reach(
    builder_service: Service,
) -> None:
    """bcrypt 5.1: node-pre-gyp's download from GitHub is refused to a build; it is built
    with node-gyp from Node's own headers instead of headers fetched from nodejs.org."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_native_module"))
        build = messages(await service.history(body["gid"]), "build")
        assert body["status"] == "running", "\n".join(build[-30:])
        assert not any("nodejs.org" in line for line in build)  # its headers are Node's own
        assert (await service.app_get(body, "/")).json() == {"matches": True}
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_native_module_older_than_this_node_gets_its_newest_release(
    builder_service: Service,
) -> None:
    """nestjs-typeorm-auth's bcrypt 3.0.6: node-gyp cannot build its native code on Node
    20 (nan's GetContents is gone); its newest release is installed in its place, saying
    so, and the app runs with it."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_native_too_old"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"matches": True}
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if "does not build on Node" in m]
        assert said and said[0].startswith("the native module bcrypt 3.0.6 "), system
        assert said[0].endswith("its newest release for this Node in its place, bcrypt@>3.0.6")
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_tree_holding_graceful_fs_3_runs_on_this_node(builder_service: Service) -> None:
    """vinyl-fs 0.3 requires graceful-fs ^3, which dies at require on Node 12+ ("primordials
    is not defined"): the install gives the tree graceful-fs 4.2's newest."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_graceful_fs3"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["src"] == "function" and answer["gracefulFs"].startswith("4.2."), answer
        system = messages(await service.history(body["gid"]), "system")
        said = [m for m in system if m.startswith("graceful-fs 1.2.3, 3.0.12 (installed)")]
        assert said and said[0].endswith("by an npm override"), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_an_old_lockfile_made_against_a_private_mirror_installs(
    builder_service: Service,
) -> None:
    """lockfileVersion 1, its tarball on a registry builds cannot reach: fetched from the
    public registry (checked by its integrity), npm's metadata fix-up widened, both said;
    the preload is npm's, not the app's."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_old_lockfile"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = (await service.app_get(body, "/")).json()
        assert answer["isNumber"] == "7.0.0" and answer["five"] is True
        assert not (answer["nodeOptions"] or "").count("npm-wide-queue")
        system = messages(await service.history(body["gid"]), "system")
        moved = [m for m in system if "names another registry" in m]
        assert moved == [
            "package-lock.json names another registry (npm.mirror.invalid) for 1 package: "
            "fetched from registry.npmjs.org instead (the same files, checked by their integrity)"
        ], system
        assert any("lockfileVersion 1" in m and "8 at a time" in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


async def test_a_tsconfig_emitting_declarations_builds_without_ts2742(
    builder_service: Service,
) -> None:
    """``declaration: true`` and a path mapping the root (Makhloufhleli's
    Rest-Api-Nestjs-Typeorm): with node_modules a link out of the project, tsc failed on
    TS2742 (its JavaScript tolerated); its tsconfig given preserveSymlinks
    (``apps.written.tsconfigs``), tsc passes, with no error to tolerate."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("ts_declaration_root_paths"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/health")).json() == {"ok": True}
        history = await service.history(body["gid"])
        system = messages(history, "system")
        assert any(m.startswith("tsconfig.json: preserveSymlinks set") for m in system), system
        said = [*system, *messages(history, "build")]
        tolerated = "none in what its code does"  # (tsc's errors, its JavaScript run)
        ts2742 = [m for m in said if "TS2742:" in m or tolerated in m]
        assert not ts2742, (ts2742, system)
        assert (await service.stop(body["gid"])).status_code == 200
