"""Shapes of the fifteenth batch of real apps: a Django project's ``celery.py`` importing
the celery a dependency installs (not one it declares), and a TypeScript app run by
ts-node that imports through the paths its tsconfig maps. Real builds, real previews."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import trio

from preview.apps.imports import source_roots
from preview.apps.node import node_start
from preview.builds.appenv import _installed_modules

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched


def test_a_module_importing_its_own_name_imports_the_installed_package() -> None:
    """alireza0sfr's Django-Drf-Todo: ``core/core/celery.py`` does ``from celery import
    Celery``, celery installed by django-celery-beat, not listed; ``core/core`` was put
    on PYTHONPATH for it and the file imported itself: "cannot import name 'Celery' from
    partially initialized module 'celery'", at ``manage.py migrate``."""
    django = {
        "core/manage.py": b"import os\n",
        "core/core/__init__.py": b"from .celery import app as celery_app\n",
        "core/core/celery.py": b"from celery import Celery\napp = Celery('core')\n",
        "core/core/settings.py": b"import os\n",
        "requirements.txt": b"django\ndjango-celery-beat\n",
    }
    assert source_roots(django, {"django", "django-celery-beat"}) == []
    # Another module of the project importing it by that name does mean the local one.
    imports = {**django, "core/core/tasks.py": b"import celery\n"}
    assert source_roots(imports, {"django", "django-celery-beat"}) == ["core/core"]


def test_what_an_environment_installs_counts_with_its_dependencies_own() -> None:
    # The service's own environment: trio came with no line of the project's asking.
    installed = _installed_modules(Path(sys.prefix))
    assert {"trio", "h11", "sniffio", "quart-trio"} <= installed
    assert not any(name.endswith(("dist-info", "egg-info")) for name in installed)
    # A module the project has by a name installed that way is the installed one.
    files = {"proj/tasks.py": b"import sniffio\n", "proj/sniffio.py": b"", "app.py": b""}
    assert source_roots(files, set()) == ["proj"]
    assert source_roots(files, installed) == []
    assert _installed_modules(Path("/nonexistent")) == set()


def _encoded(name: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in app_files(name).items()}


def test_ts_node_registers_tsconfig_paths_where_the_tsconfig_maps_them() -> None:
    files = _encoded("ts_node_tsconfig_paths")
    start = node_start(files)
    assert start is not None
    assert start.argv == (
        "node_modules/.bin/ts-node", "--transpile-only", "-r", "tsconfig-paths/register",
        "src/server.ts",
    )  # fmt: skip
    assert start.tools == ("tsconfig-paths@^4",)  # the app does not list it
    listed = files["package.json"].replace(b'"ts-node"', b'"tsconfig-paths": "4.2.0", "ts-node"')
    assert node_start({**files, "package.json": listed}).tools == ()  # type: ignore[union-attr]
    # No mapped paths: ts-node as before.
    plain = files["tsconfig.json"].replace(b'"paths": { "@/*": ["*"] }', b'"strict": false')
    argv = node_start({**files, "tsconfig.json": plain}).argv  # type: ignore[union-attr]
    assert argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/server.ts")
    # tsc --init's template: what it leaves off is commented out, not asked for.
    template = (
        b'{\n  "compilerOptions": {\n    "target": "es2016",\n'
        b'    // "emitDecoratorMetadata": true,  /* Emit design-type metadata. */\n'
        b'    // "paths": { "@/*": ["*"] },\n  },\n}\n'
    )
    argv = node_start({**files, "tsconfig.json": template}).argv  # type: ignore[union-attr]
    assert argv == ("node_modules/.bin/tsx", "src/server.ts")
    on = template.replace(b'// "emitDecoratorMetadata"', b'"emitDecoratorMetadata"')
    argv = node_start({**files, "tsconfig.json": on}).argv  # type: ignore[union-attr]
    assert argv == ("node_modules/.bin/ts-node", "--transpile-only", "src/server.ts")


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_a_ts_node_app_importing_mapped_paths_runs(builder_service: Service) -> None:
    """beerjoa's express-sequelize-ts: "Cannot find module '@/app'" under ts-node."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):  # typescript, ts-node, tsconfig-paths from npm
        body = await launched(service, app_files("ts_node_tsconfig_paths"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"imported": "@/app"}
        assert (await service.stop(body["gid"])).status_code == 200
