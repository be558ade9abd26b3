"""An upload whose only app sits one folder down (``backend/package.json``, the root a
README and a .gitignore) runs from that folder (:mod:`preview.apps.approot`)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import trio

from preview.apps.approot import app_folder, with_app_at_root
from preview.apps.detect import detect

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


def _encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def test_the_only_folder_with_a_package_json_becomes_the_root() -> None:
    """topherism's Hono-Auth-RBAC-Template: README.md beside backend/ (its package.json,
    Prisma schema and src/); refused 'nothing_to_run', nothing at the root saying how."""
    files = _encoded(app_files("node_backend_folder"))
    moved, folder = with_app_at_root(files)
    assert folder == "backend"
    assert sorted(moved) == [
        ".gitignore",
        "README.md",
        "package.json",
        "src/index.js",
        "src/notes.json",
    ]
    assert detect(moved).argv == ("npm", "start", "--silent")


def test_no_folder_is_the_app_where_the_root_or_python_says_otherwise() -> None:
    files = _encoded(app_files("node_backend_folder"))
    # Its own package.json at the root, two folders with one, a Python project: as it is.
    assert app_folder({**files, "package.json": b"{}"}) is None
    assert app_folder({**files, "frontend/package.json": b"{}"}) is None
    assert app_folder({**files, "ml/requirements.txt": b"flask\n"}) is None
    assert app_folder({**files, "tools/seed.py": b""}) is None
    # A package.json deeper down (a library's, an example's) or in a dot-folder is none.
    assert app_folder({"README.md": b"", "docs/examples/a/package.json": b"{}"}) is None
    assert app_folder({"README.md": b"", ".devcontainer/package.json": b"{}"}) is None
    assert with_app_at_root({"README.md": b""}) == ({"README.md": b""}, None)


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_an_app_one_folder_down_is_launched_from_there(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_backend_folder"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        # Its files read relative to its folder, as its README runs it.
        assert (await service.app_get(body, "/notes")).json() == [{"id": 1, "text": "first"}]
        system = messages(await service.history(body["gid"]), "system")
        said = "its app is in backend/, where its package.json is: run from there"
        assert any(said in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200


def _workspaces(api: dict, **more: bytes) -> dict[str, bytes]:
    """An npm workspaces monorepo (thiskevinwang's express-kysely-zod): its root's
    scripts start nothing, its API in apps/api, a front end and a migrations runner."""
    root = {
        "scripts": {"gen:db": "npm run gen:db -w 'apps/api'", "test": "jest"},
        "workspaces": ["apps/*", "cmd/*"],
    }
    web = {"name": "web", "scripts": {"dev": "next dev"}, "dependencies": {"next": "^14"}}
    migrations = {"name": "migrations", "scripts": {"migrate": "ts-node migrate.ts"}}
    return {
        "package.json": json.dumps(root).encode(),
        "package-lock.json": b'{"packages": {"": {"workspaces": ["apps/*", "cmd/*"]}}}',
        ".env.example": b"PORT=5000\n",
        "apps/api/package.json": json.dumps(api).encode(),
        "apps/api/server.js": b"require('express')().listen(process.env.PORT);\n",
        "apps/web/package.json": json.dumps(web).encode(),
        "cmd/migrations/package.json": json.dumps(migrations).encode(),
        **more,
    }


def test_a_workspaces_monorepos_backend_workspace_becomes_the_root() -> None:
    """thiskevinwang's express-kysely-zod: the root lists ``workspaces`` and starts
    nothing; apps/api starts the API (express listed), apps/web a front end: refused
    'nothing_to_run'. It runs from apps/api, the root's .env.example beside it, the
    root's lockfile (every workspace's) left out."""
    api = {"name": "api", "scripts": {"start": "node server.js"}, "dependencies": {"express": "*"}}
    files = _workspaces(api)
    moved, folder = with_app_at_root(files)
    assert folder == "apps/api"
    assert sorted(moved) == [".env.example", "package.json", "server.js"]
    assert detect(moved).argv == ("npm", "start", "--silent")
    # Named by the README (`npm run dev -w api`, its package's name) or a root script, no
    # framework listed; nothing naming it, it is none.
    plain = {"name": "api", "scripts": {"dev": "node server.js"}}
    readme = b"npm install\nnpm run dev -w api\n"
    assert app_folder(_workspaces(plain, **{"README.md": readme})) == "apps/api"
    assert app_folder(_workspaces(plain)) == "apps/api"  # (the root's gen:db names it)
    unnamed = {"workspaces": ["apps/*", "cmd/*"]}
    assert app_folder(_workspaces(plain, **{"package.json": json.dumps(unnamed).encode()})) is None
    # Not where the root starts it itself, nor where the API needs a sibling workspace.
    started = json.loads(files["package.json"]) | {"scripts": {"start": "npm start -w api"}}
    assert app_folder({**files, "package.json": json.dumps(started).encode()}) is None
    assert app_folder({**files, "server.js": b"require('http').createServer().listen(1)"}) is None
    shared = api | {"dependencies": {"express": "*", "migrations": "*"}}
    assert app_folder(_workspaces(shared)) is None


@pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
async def test_a_workspaces_monorepo_is_launched_from_its_backend_workspace(
    builder_service: Service,
) -> None:
    """Its README's ``npm run start -w apps/api`` names the workspace (apps/web starts a
    front end); its root's lockfile, every workspace's, is not the workspace's own."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_workspaces"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/")).json() == {"workspace": "api"}
        system = messages(await service.history(body["gid"]), "system")
        said = "its app is in apps/api/, where its package.json is: run from there"
        assert any(said in m for m in system), system
        assert (await service.stop(body["gid"])).status_code == 200
