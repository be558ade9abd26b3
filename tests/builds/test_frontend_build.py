"""A Python app's JavaScript frontend, built before the app starts (``apps.frontend``,
``builds.steps.build_frontend``): found from the files alone, then built for real with
npm and Vite in the app's sandbox."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import trio

from preview.apps import detect
from preview.apps.frontend import Frontend, find_frontend
from preview.runtime.swaps import codedirs
from preview.runtime.swaps.codedirs import copy_built_frontend, frontend_unchanged

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, launched, messages

_needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)

_MOUNTED = """\
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

app = FastAPI()


@app.get("/api/items/{item_id}")
def item(item_id: int):
    return {"id": item_id, "name": "apple"}


app.mount("/", StaticFiles(directory="frontend/dist", html=True), name="pages")
"""
# The same app, mounting its pages only when they are there.
_TOLERANT = _MOUNTED.replace(
    'app.mount("/"', 'import os\n\nif os.path.isdir("frontend/dist"):\n    app.mount("/"'
)
# One package.json for every launch here: its packages are installed once (the cache's key).
_PACKAGE = {
    "name": "pages",
    "private": True,
    "type": "module",
    "scripts": {"build": "node build.js", "dev": "vite"},
    "devDependencies": {"vite": "5.4.11"},
}
# Vite's own build, or (with webpack4.txt beside it) first what webpack 4 says on Node 17+.
_BUILD = """\
import { existsSync } from "node:fs";
import { build } from "vite";

const legacy = (process.env.NODE_OPTIONS || "").includes("--openssl-legacy-provider");
if (existsSync("webpack4.txt") && !legacy) {
  console.error("Error: error:0308010C:digital envelope routines::unsupported");
  console.error("  code: 'ERR_OSSL_EVP_UNSUPPORTED'");
  process.exit(1);
}
await build();
"""
_INDEX = '<!doctype html><html><body><div id="app"></div><script type="module" src="/main.js"></script></body></html>\n'  # noqa: E501
_MAIN = 'document.getElementById("app").textContent = "built by vite";\n'


def _fullstack(main: str = _MOUNTED, script: str = _MAIN, **more: str) -> dict[str, str]:
    return {
        "main.py": main,
        "requirements.txt": "fastapi>=0.110\n",
        "frontend/package.json": json.dumps(_PACKAGE, indent=2),
        "frontend/build.js": _BUILD,
        "frontend/index.html": _INDEX,
        "frontend/main.js": script,
        **more,
    }


def _bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


# -- found from the files ------------------------------------------------------------------


def test_a_frontend_the_app_serves_and_the_upload_lacks_is_found() -> None:
    files = _bytes(_fullstack())
    assert find_frontend(files) == Frontend("frontend", "vite", "frontend/dist")
    assert detect(files).frontend == Frontend("frontend", "vite", "frontend/dist")


def test_vue_cli_at_a_django_projects_root_with_its_output_dir() -> None:
    """django-vue-template's shape: Vue CLI's package.json beside manage.py, its
    vue.config.js outputDir, and Django's TEMPLATES DIRS naming it."""
    package = {
        "scripts": {"build": "vue-cli-service build"},
        "devDependencies": {"@vue/cli-service": "^3.0.0"},
    }
    files = _bytes(
        {
            "manage.py": "import os\n",
            "backend/settings.py": "TEMPLATES = [{'DIRS': ['site']}]\n",
            "package.json": json.dumps(package),
            "vue.config.js": (
                "module.exports = {\n  outputDir: 'site',\n  assetsDir: 'static',\n}\n"
            ),
        }
    )
    assert find_frontend(files) == Frontend("", "@vue/cli-service", "site")


def test_create_react_apps_build_and_vites_out_dir_beside_the_backend() -> None:
    cra = {"scripts": {"build": "react-scripts build"}, "dependencies": {"react-scripts": "5"}}
    files = _bytes(
        {
            "server/app.py": 'app = Flask(__name__, static_folder="../client/build")\n',
            "client/package.json": json.dumps(cra),
        }
    )
    assert find_frontend(files) == Frontend("client", "react-scripts", "client/build")
    vite = {"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5"}}
    files = _bytes(
        {
            "app/main.py": 'StaticFiles(directory="app/static")\n',
            "web/package.json": json.dumps(vite),
            "web/vite.config.ts": "export default { build: { outDir: '../app/static' } }\n",
        }
    )
    assert find_frontend(files) == Frontend("web", "vite", "app/static")


def test_no_frontend_is_built_where_none_is_needed() -> None:
    built = _bytes(_fullstack(**{"frontend/dist/index.html": "<p>built</p>"}))
    assert find_frontend(built) is None  # its output uploaded
    unnamed = _bytes(_fullstack(main="from fastapi import FastAPI\n\napp = FastAPI()\n"))
    assert find_frontend(unnamed) is None  # the app does not read it
    no_bundler = json.dumps({"scripts": {"build": "tsc"}, "devDependencies": {"typescript": "5"}})
    assert find_frontend(_bytes(_fullstack(**{"frontend/package.json": no_bundler}))) is None
    outside = _bytes(
        _fullstack(**{"frontend/vite.config.js": "export default {build: {outDir: '../../x'}}"})
    )
    assert find_frontend(outside) is None  # written outside the upload
    node_app = {"package.json": json.dumps(_PACKAGE), "build.js": _BUILD, "server.js": ""}
    assert detect(_bytes(node_app)).frontend is None  # a Node app builds as one


def test_heroku_nodejs_buildpack_builds_it_though_no_python_names_it() -> None:
    files = _fullstack(main="from fastapi import FastAPI\n\napp = FastAPI()\n")
    files["app.json"] = json.dumps(
        {"buildpacks": [{"url": "heroku/nodejs"}, {"url": "heroku/python"}]}
    )
    assert find_frontend(_bytes(files)) == Frontend("frontend", "vite", "frontend/dist")


# -- built for real --------------------------------------------------------------------------


@_needs_npm
async def test_the_frontend_is_built_and_served_beside_the_api(builder_service: Service) -> None:
    """Built for real (npm, Vite) in its sandbox; a webpack 4's MD4 refused by this Node's
    OpenSSL (as build.js plays it) built again with the legacy provider."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, _fullstack(**{"frontend/webpack4.txt": "md4"}))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        page = await service.app_get(body, "/")
        assert page.status_code == 200 and '<div id="app">' in page.text
        script = page.text.split('src="')[1].split('"')[0]  # /assets/index-<hash>.js
        assert script.startswith("/assets/index-")
        bundle = await service.app_get(body, script)
        assert "built by vite" in bundle.text
        assert (await service.app_get(body, "/api/items/1")).json() == {"id": 1, "name": "apple"}
        said = messages(await service.history(body["gid"]), "system")
        assert any("vite frontend in frontend/" in m and "frontend/dist/" in m for m in said)
        assert any("NODE_OPTIONS=--openssl-legacy-provider" in m for m in said), said
        app_dir = service.settings.previews_dir / body["previewInstanceId"]
        modules = app_dir / "frontend" / "node_modules"
        assert not modules.exists() and not modules.is_symlink()  # linked for the build only


@_needs_npm
async def test_a_frontend_that_fails_to_build_leaves_the_api_running(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        broken = 'document.getElementById("app").textContent = ;\n'
        body = await launched(service, _fullstack(_TOLERANT, broken))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        assert (await service.app_get(body, "/api/items/2")).json() == {"id": 2, "name": "apple"}
        assert (await service.app_get(body, "/")).status_code == 404
        events = await service.history(body["gid"])
        warned = [e["message"] for e in events if e["level"] == "WARN"]
        assert any(
            m.startswith("the frontend's build failed: setup step failed") and "main.js" in m
            for m in warned
        ), warned


async def _applied(service: Service, gid: str, files: dict[str, str]) -> dict:
    """A revision of ``files`` applied to the running preview: its swap's outcome (once
    decided, when the answer came before it: 202)."""
    url = f"/api/generations/{gid}/revisions"
    posted = await service.client.post(url, json={"files": files}, headers=auth())
    assert posted.status_code in (201, 202), posted.text
    runtime = service.supervisor.for_generation(gid)
    assert runtime is not None and runtime.swaps.last is not None
    await runtime.swaps.last.done.wait()
    return (await service.status(gid))["lastApply"]


def _builds(events: list[dict]) -> int:
    said = messages(events, "system")  # (a revision's lines begin "revision N: ")
    return sum(re.match(r"(revision \d+: )?setup: npm run build", m) is not None for m in said)


@_needs_npm
async def test_a_revision_reuses_the_built_frontend_unless_a_frontend_file_changed(
    builder_service: Service,
) -> None:
    """A backend change: the running revision's built pages copied into the new
    revision's own directory (not built again, not linked to the old one's); a
    frontend file changed: built again there."""
    service = builder_service
    with trio.fail_after(BUILD_WAIT * 2):
        body = await launched(service, _fullstack())
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        gid, home = body["gid"], service.settings.previews_dir / body["previewInstanceId"]
        page = (await service.app_get(body, "/")).text
        assert _builds(await service.history(gid)) == 1

        pear = _MOUNTED.replace('"apple"', '"pear"')
        outcome = await _applied(service, gid, {"main.py": pear})
        assert outcome["state"] == "switched", outcome
        assert (await service.app_get(body, "/api/items/1")).json()["name"] == "pear"
        assert (await service.app_get(body, "/")).text == page  # the same bundle's
        events = await service.history(gid)
        assert _builds(events) == 1, messages(events, "system")
        said = messages(events, "system")
        copied = "revision 2: the frontend's sources did not change: its built frontend/dist/ ("
        assert any(m.startswith(copied) for m in said), said
        built = home / ".revisions" / "2.1" / "frontend" / "dist"
        assert built.is_dir() and not built.is_symlink()
        assert (built / "index.html").is_file() and not (built / "index.html").is_symlink()
        # The app's, as the rest of its directory (copied by the service as root).
        assert (built / "index.html").stat().st_uid == home.stat().st_uid

        again = _MAIN.replace("built by vite", "built again")
        outcome = await _applied(service, gid, {"frontend/main.js": again})
        assert outcome["state"] == "switched", outcome
        assert _builds(await service.history(gid)) == 2
        page = (await service.app_get(body, "/")).text
        script = page.split('src="')[1].split('"')[0]
        assert "built again" in (await service.app_get(body, script)).text
        assert (await service.stop(gid)).status_code == 200


def test_a_frontends_sources_are_its_folder_but_its_output_and_packages() -> None:
    files = _bytes(_fullstack())
    frontend = Frontend("frontend", "vite", "frontend/dist")
    built = {"frontend/dist/x.js": b"", "frontend/node_modules/a": b""}
    backend = {**files, "main.py": b"changed", **built}
    assert frontend_unchanged(frontend, backend, files)
    assert not frontend_unchanged(frontend, {**files, "frontend/main.js": b"changed"}, files)
    assert not frontend_unchanged(frontend, {**files, "frontend/new.css": b""}, files)
    # At the root (Vue CLI beside manage.py): the Python sources are not its.
    root = Frontend("", "@vue/cli-service", "dist")
    assert frontend_unchanged(root, {**files, "main.py": b"changed"}, files)
    assert not frontend_unchanged(root, {**files, "requirements.txt": b"changed"}, files)


def test_a_built_frontend_is_copied_without_following_a_link(tmp_path: Path) -> None:
    """The running revision's folder is the app's: a link in it (to a file, a folder,
    or in the output's own place) is not followed, and leaves nothing copied of it."""
    previews, outside = tmp_path / "previews", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("host")
    running, target = previews / "p1", previews / "p1" / ".revisions" / "2.1"
    dist = running / "frontend" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<p>built</p>")
    (dist / "assets" / "app.js").write_text("built()")
    (dist / "leak.txt").symlink_to(outside / "secret.txt")
    (dist / "assets" / "tree").symlink_to(outside)
    (target / "frontend").mkdir(parents=True)
    copied = copy_built_frontend(running, target, "frontend/dist", (previews,), None, _MIB)
    assert copied == 2
    out = target / "frontend" / "dist"
    assert (out / "index.html").read_text() == "<p>built</p>" and not out.is_symlink()
    assert (out / "assets" / "app.js").read_text() == "built()"
    assert not (out / "leak.txt").exists() and not (out / "assets" / "tree").exists()
    # The output's place a link (to a folder outside): nothing copied.
    shutil.rmtree(out)
    shutil.rmtree(dist)
    dist.symlink_to(outside)
    assert copy_built_frontend(running, target, "frontend/dist", (previews,), None, _MIB) == 0
    assert not out.exists()


_MIB = 2**20


def _running_dist(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(the previews' folder, a running revision's folder with a built dist, a new
    revision's folder)."""
    previews = tmp_path / "previews"
    running, target = previews / "p1", previews / "p1" / ".revisions" / "2.1"
    (running / "dist" / "assets").mkdir(parents=True)
    (running / "dist" / "index.html").write_text("<p>built</p>")
    target.mkdir(parents=True)
    return previews, running, target


def test_a_built_frontend_copy_is_bounded_in_files_and_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app may have put anything in its output folder, which the service copies with
    its own rights and disk: past the preview's disk limit (a sparse file's length, not
    its blocks) or a number of files and folders the copy stops, nothing of it left."""
    previews, running, target = _running_dist(tmp_path)
    out = target / "dist"
    sparse = running / "dist" / "assets" / "huge.bin"
    with sparse.open("wb") as file:  # 64 MiB long, no block written
        file.truncate(64 * _MIB)
    with pytest.raises(OSError) as refused:
        copy_built_frontend(running, target, "dist", (previews,), None, 4 * _MIB)
    assert refused.value.errno == errno.EFBIG and "disk limit" in refused.value.strerror
    assert not out.exists()
    sparse.unlink()

    monkeypatch.setattr(codedirs, "MOST_ENTRIES", 50)
    for n in range(60):  # empty files: no bytes, each an inode of the service's
        (running / "dist" / "assets" / f"{n}.js").touch()
    with pytest.raises(OSError) as refused:
        copy_built_frontend(running, target, "dist", (previews,), None, 4 * _MIB)
    assert refused.value.errno == errno.EFBIG and "50 files" in refused.value.strerror
    assert not out.exists()
    for n in range(20):
        (running / "dist" / "assets" / f"{n}.js").unlink()
    assert copy_built_frontend(running, target, "dist", (previews,), None, 4 * _MIB) == 41


@pytest.mark.skipif(os.geteuid() != 0, reason="files of another owner need root to make")
def test_a_built_frontend_copy_leaves_out_what_is_not_the_apps(tmp_path: Path) -> None:
    """A hard link in the output folder to another's file (one of the host's, where
    fs.protected_hardlinks is off) is the service's to read, not the app's: left out."""
    previews, running, target = _running_dist(tmp_path)
    app_uid = 1_900_012_345
    (running / "dist" / "other.txt").write_text("root's")  # (a hard link's stand-in)
    for path in (running / "dist", running / "dist" / "index.html", running / "dist" / "assets"):
        os.chown(path, app_uid, app_uid)
    assert copy_built_frontend(running, target, "dist", (previews,), app_uid, _MIB) == 1
    assert (target / "dist" / "index.html").read_text() == "<p>built</p>"
    assert (target / "dist" / "assets").is_dir()
    assert not (target / "dist" / "other.txt").exists()
    assert os.stat(target / "dist" / "index.html").st_uid == app_uid
