"""A TypeScript app's migrations run by TypeORM's CLI under ts-node
(``"typeorm": "ts-node ./node_modules/typeorm/cli.js"``, as NestJS boilerplates do), in a
set-up step. ts-node looks for its tsconfig.json from the real directory of the script it
runs, and the app's node_modules is a link to the built environment: it found none there,
compiled the app's data source with its own defaults (``module: node16``), whose ES-module
output Node ran as one: "__dirname is not defined in ES module scope" (brocoders'
nestjs-boilerplate, its ``release: npm run migration:run``)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest
import trio

from preview.apps.detect import detect
from preview.apps.spec import LaunchSpec

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launch_environment, launched, messages

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)


async def test_typeorm_cli_under_ts_node_reads_the_apps_tsconfig(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):  # typeorm, typescript and ts-node from the registry
        body = await launched(service, app_files("ts_typeorm_cli_migrations"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        setup = messages(await service.history(body["gid"]), "setup")
        assert any("Migration Notes1700000000000 has been executed" in m for m in setup), setup
        assert (await service.app_get(body, "/")).json() == {"notes": ["migrated"]}
        assert (await service.stop(body["gid"])).status_code == 200


def _node_env(files: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    encoded = {path: text.encode() for path, text in files.items()}
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1",
        "g1",
        None,
        "alice",
        encoded,
        [],
        3001,
        None,
        now,
        now,
        extra=extra or {},
        detection=detect(encoded),
    )
    return launch_environment(spec)


def test_ts_node_runs_without_its_type_check_unless_the_app_says() -> None:
    files = app_files("ts_typeorm_cli_migrations")
    assert _node_env(files)["TS_NODE_TRANSPILE_ONLY"] == "true"
    typed = _node_env(files, {"TS_NODE_TRANSPILE_ONLY": "false"})
    assert typed["TS_NODE_TRANSPILE_ONLY"] == "false"


def test_ts_node_is_told_the_apps_tsconfig_only_when_it_is_the_only_one() -> None:
    files = app_files("ts_typeorm_cli_migrations")
    assert _node_env(files)["TS_NODE_PROJECT"] == "/previews/p1/tsconfig.json"
    # The app's own choice stands.
    assert _node_env(files, {"TS_NODE_PROJECT": "tsconfig.cli.json"})["TS_NODE_PROJECT"] == (
        "tsconfig.cli.json"
    )
    # A folder with a tsconfig.json of its own: ts-node finds it for the scripts there.
    nested = {**files, "scripts/tsconfig.json": "{}"}
    assert "TS_NODE_PROJECT" not in _node_env(nested)
    assert "TS_NODE_PROJECT" not in _node_env(
        {k: v for k, v in files.items() if k != "tsconfig.json"}
    )
