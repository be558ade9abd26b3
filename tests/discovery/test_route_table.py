"""A running app's own route table (``apps.routes``): the routes an Express app made
at run time listed and smoke-checked, and the file it writes read as the app's data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from preview.apps.routes import read_route_table, route_table_env
from preview.discovery import endpoints_from_routes, endpoints_from_source

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched, messages

needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
LOOP_ROUTES = {
    ("GET", "/api/users"),
    ("GET", "/api/users/{id}"),
    ("POST", "/api/users"),
    ("GET", "/api/books"),
    ("DELETE", "/api/books/{id}"),
    ("GET", "/v2/ping"),
    ("GET", "/admin/stats"),
}


@needs_npm
async def test_routes_an_express_app_makes_at_run_time_are_listed_from_its_own_table(
    smoke_builder: Service,
) -> None:
    """sequelize/express-example's shape: routes made in a loop over an object's entries
    (template-literal paths, each verb only where its module has the handler), a router
    under a prefix computed at run time, a sub-app. Read from the source, a few; the
    running app (Express 5) lists all of them, with their source where it has one, the
    smoke check calls its GET routes, and a stopped preview keeps its last run's list."""
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("express_route_loop"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        gid = body["gid"]
        said = await service.first_system_line(gid, "smoke check:")
        assert said == "smoke check: 4 GET routes answer", said
        url = f"/api/generations/{gid}/endpoints"
        listing = (await service.client.get(url, headers=auth())).json()
        assert (listing["discoveredFrom"], listing["live"]) == ("app", True)
        assert {(e["method"], e["path"]) for e in listing["endpoints"]} == LOOP_ROUTES
        by_path = {(e["method"], e["path"]): e for e in listing["endpoints"]}
        assert by_path[("GET", "/api/users/{id}")]["parameters"][0]["name"] == "id"
        assert by_path[("GET", "/v2/ping")]["source"]["kind"] == "app"
        from_source = await service.client.get(url, params={"from": "source"}, headers=auth())
        assert len(from_source.json()["endpoints"]) < len(LOOP_ROUTES)
        proxied = [m for m in messages(await service.history(gid), "proxy") if "smoke" in m]
        assert any(m.startswith("GET /admin/stats -> 200") for m in proxied), proxied
        assert (await service.stop(gid)).status_code == 200
        after = (await service.client.get(url, headers=auth())).json()
        assert (after["discoveredFrom"], after["live"]) == ("app", False)
        assert {(e["method"], e["path"]) for e in after["endpoints"]} == LOOP_ROUTES


@pytest.mark.parametrize(
    ("fixture", "about"), [("django_debug_toolbar", "/about/"), ("flask_debug_toolbar", "/about")]
)
async def test_a_debug_toolbars_own_pages_are_not_the_apps_routes(
    smoke_builder: Service, fixture: str, about: str
) -> None:
    """djangox's shape: ``__debug__/`` includes django-debug-toolbar's URLs while DEBUG
    is on; docker-flask-example's: Flask-DebugToolbar's blueprint (``debugtoolbar``).
    They serve the tool (``render_panel/``, the SQLAlchemy panel's pages: a 500 without
    its toolbar's query): not listed from the app's resolver or ``Map``, so not called
    by the smoke check. Nor is a Django route given ``TemplateView.as_view()`` with no
    template (dj-rest-auth's ``account-email-verification-sent/``), which is there to be
    reversed: any GET of it is a 500."""
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files(fixture))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        gid = body["gid"]
        said = await service.first_system_line(gid, "smoke check:")
        assert said == "smoke check: 2 GET routes answer", said
        url = f"/api/generations/{gid}/endpoints"
        listing = (await service.client.get(url, headers=auth())).json()
        assert listing["discoveredFrom"] == "app"
        routes = {(e["method"], e["path"]) for e in listing["endpoints"]}
        assert routes == {("GET", "/"), ("GET", about)}, routes
        assert (await service.app_get(body, about)).json() == {"page": "about"}
        assert (await service.stop(gid)).status_code == 200


async def test_a_django_apps_language_prefix_is_the_one_its_requests_get(
    smoke_builder: Service,
) -> None:
    """asanaIiev's DRFHospital: ``i18n_patterns`` with LocaleMiddleware, its LANGUAGE_CODE
    ``en-us`` and its LANGUAGES ``en`` and ``ru``. Its resolver, read at start, said
    ``en-us/``, the language active then; a request gets the variant its LANGUAGES list,
    ``en/``, and every route listed under ``/en-us/`` answered 404."""
    service = smoke_builder
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("django_i18n_patterns"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        gid = body["gid"]
        said = await service.first_system_line(gid, "smoke check:")
        assert said == "smoke check: 2 GET routes answer", said
        url = f"/api/generations/{gid}/endpoints"
        listing = (await service.client.get(url, headers=auth())).json()
        routes = {(e["method"], e["path"]) for e in listing["endpoints"]}
        assert routes == {("GET", "/en/"), ("GET", "/en/about/")}, routes
        answer = (await service.app_get(body, "/en/about/")).json()
        assert answer == {"page": "about", "language": "en"}
        assert (await service.stop(gid)).status_code == 200


def test_the_preloads_follow_the_apps_own_options_and_paths() -> None:
    env = route_table_env(
        {"NODE_OPTIONS": "--max-old-space-size=512"}, "node", "/run/tools", "/run/p"
    )
    preload = '--require "/run/tools/routetable/index.cjs"'
    assert env["NODE_OPTIONS"] == f"--max-old-space-size=512 {preload}"
    assert env["ROUTE_TABLE_PATH"] == "/run/p/routes.json"
    alone = route_table_env({}, "node", "/t", "/p")
    assert alone["NODE_OPTIONS"] == '--require "/t/routetable/index.cjs"'
    python = route_table_env({"PYTHONPATH": "/app/libs"}, "python", "/t", "/p")
    assert python["PYTHONPATH"] == "/app/libs:/t/site"
    assert route_table_env({}, "python", "/t", "/p")["PYTHONPATH"] == "/t/site"


def _table(framework: str, routes: list) -> str:
    return json.dumps({"framework": framework, "routes": routes})


def test_a_table_is_the_apps_data_read_with_care(tmp_path: Path) -> None:
    """The app wrote it: only a regular file (no link followed, no pipe waited on), a
    bounded size, a table of a known framework; entries of another shape skipped,
    duplicates once; Django's pattern parts joined, its regexes read."""
    table = tmp_path / "routes.json"
    assert read_route_table(table) is None
    good = [["GET", "/a"], ["POST", "/a/:id"], ["GET", "/a"]]
    bad = [["BREW", "/x"], ["GET", "no-slash"], ["GET", "/\x00"], ["GET"], "GET /y", ["GET", 5]]
    bad += [[["GET"], "/z"], [None, "/z"]]
    table.write_text(_table("express", [*good, *bad]))
    assert read_route_table(table) == ("express", [("GET", "/a"), ("POST", "/a/:id")])
    django = [
        ["GET", [["p", "api/"], ["r", "^users/(?P<pk>[^/.]+)/$"]]],
        ["GET", [["r", "^things/(?P<pk>\\d+)/$"]]],
        ["GET", [["p", "health"]]],
        ["GET", [["x", 5]]],
        ["GET", "/flat"],
    ]
    table.write_text(_table("django", django))
    assert read_route_table(table) == (
        "django",
        [("GET", "/api/users/<pk>/"), ("GET", "/things/<int:pk>/"), ("GET", "/health")],
    )
    secret = tmp_path / "secret.json"
    secret.write_text(_table("flask", [["GET", "/secret"]]))
    table.unlink()
    table.symlink_to(secret)
    assert read_route_table(table) is None
    table.unlink()
    os.mkfifo(table)
    assert read_route_table(table) is None  # at once: nothing opened for reading blocks
    table.unlink()
    table.write_text(_table("flask", [["GET", "/%s" % ("x" * 1000)]] * 2000))
    assert read_route_table(table) is None  # over a MiB
    # Nested past the decoder's limit (RecursionError, not ValueError), or just under it.
    deep = ['{"framework": "flask", "routes": ' + "[" * 100_000, "[" * 990 + "]" * 990]
    for other in ('[["GET", "/a"]]', '{"framework": "rails", "routes": []}', "{", *deep):
        table.write_text(other)
        assert read_route_table(table) is None


def test_the_table_is_the_list_and_the_source_adds_what_it_knows() -> None:
    source_files = {
        "package.json": b'{"dependencies": {"express": "^5.1.0"}}',
        "app.js": b'const app = require("express")();\n'
        b'app.get("/users/:id", (req, res) => res.json({}));\n'
        b'app.get("/gone", (req, res) => res.json({}));\n',
    }
    source = endpoints_from_source(source_files)
    routes = [("GET", "/users/:id"), ("GET", "/files{/:name}"), ("ANY", "/hook")]
    found = endpoints_from_routes("express", routes, source)
    assert [(e["method"], e["path"]) for e in found] == [
        ("GET", "/files"),
        ("ANY", "/hook"),
        ("GET", "/users/{id}"),
    ]
    known = found[-1]
    assert known["source"] == {"kind": "app", "framework": "express", "file": "app.js", "line": 2}
    assert found[0]["source"] == {"kind": "app", "framework": "express"}
    assert found[-1]["requestSchema"] == {"query": {}, "path": {"id": "string"}}
    flask = endpoints_from_routes("flask", [("GET", "/notes/<int:note_id>")], [])
    assert flask[0]["path"] == "/notes/{note_id}"
    assert flask[0]["requestSchema"]["path"] == {"note_id": "integer"}


SITE = Path(__file__).resolve().parents[2] / "preview" / "apps" / "routes" / "site"
_FLASK_APP = """
from flask import Flask
app = Flask("probe")
for name in ("users", "books"):  # made in a loop: beyond a reading of the source
    app.add_url_rule(f"/{name}/<int:item_id>", name, lambda item_id: "x")
print(app.test_client().get("/users/1").status_code)
"""


def _python(tmp_path: Path, program: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, **env},
    )


def test_a_flask_apps_rules_are_written_before_its_first_request(tmp_path: Path) -> None:
    table = tmp_path / "routes.json"
    done = _python(tmp_path, _FLASK_APP, PYTHONPATH=str(SITE), ROUTE_TABLE_PATH=str(table))
    assert done.stdout.strip() == "200", done.stderr
    assert read_route_table(table) == (
        "flask",
        [("GET", "/users/<int:item_id>"), ("GET", "/books/<int:item_id>")],
    )


_FASTAPI_APP = """
import asyncio
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

app = FastAPI()
items = APIRouter(prefix="/items")
@items.get("/{item_id:int}")
def item(item_id: int): return {"id": item_id}
@app.get("/health", include_in_schema=False)  # hidden from its OpenAPI document
def health(): return {"ok": True}
for name in ("users", "books"):  # made in a loop
    app.add_api_route(f"/{name}", lambda: [], methods=["GET", "POST"])
@app.websocket("/ws")
async def socket(websocket): await websocket.close()
app.include_router(items)
admin = FastAPI()
@admin.delete("/cache")
def clear(): return {}
app.mount("/admin", admin)
class Admin:  # sqladmin's shape: its sign-in pages are there for a backend alone
    def __init__(self, app, authentication_backend=None):
        self.authentication_backend = authentication_backend
        routes = [Route("/", self.index), Route("/login", self.login, methods=["GET", "POST"])]
        routes.append(Route("/logout", self.logout))
        app.mount(f"/{'signed' if authentication_backend else 'tables'}", Starlette(routes=routes))
    async def index(self, request): return PlainTextResponse("tables")
    async def login(self, request):
        assert self.authentication_backend is not None
    async def logout(self, request):
        assert self.authentication_backend is not None
Admin(app)
Admin(app, authentication_backend=object())
app.mount("/static", StaticFiles(directory="."), name="static")
print(TestClient(app).get("/health").status_code, asyncio.iscoroutinefunction(Starlette(
).__call__))
"""


def test_a_fastapi_apps_routes_are_written_its_hidden_ones_too(tmp_path: Path) -> None:
    """Starlette's applications (FastAPI's): the routes its routers serve, under their
    mounts' prefixes, those its OpenAPI document leaves out among them; not its
    documentation pages, files or WebSocket routes, nor an admin's sign-in pages where it
    was given no authentication backend (sqladmin's: each asserts one). Its ``__call__``
    stays a coroutine function (servers tell ASGI 3 apps by it)."""
    table = tmp_path / "routes.json"
    done = _python(tmp_path, _FASTAPI_APP, PYTHONPATH=str(SITE), ROUTE_TABLE_PATH=str(table))
    assert done.stdout.split() == ["200", "True"], done.stderr
    framework, routes = read_route_table(table)
    assert framework == "starlette"
    assert sorted(routes) == [
        ("DELETE", "/admin/cache"),
        ("GET", "/books"),
        ("GET", "/health"),
        ("GET", "/items/{item_id:int}"),
        ("GET", "/signed/"),
        ("GET", "/signed/login"),
        ("GET", "/signed/logout"),
        ("GET", "/tables/"),  # not its sign-in pages: it signs no one in
        ("GET", "/users"),
        ("POST", "/books"),
        ("POST", "/signed/login"),
        ("POST", "/users"),
    ]
    found = endpoints_from_routes(framework, [("GET", "/items/{item_id:int}")], [])
    assert found[0]["path"] == "/items/{item_id}"
    assert found[0]["requestSchema"]["path"] == {"item_id": "integer"}
    # Beside its document: what it leaves out, not a single-page app's fallback.
    from preview.discovery import endpoints_beyond_openapi, endpoints_from_openapi

    document = {"openapi": "3.1.0", "paths": {"/items/{item_id}": {"get": {"summary": "One"}}}}
    beyond = endpoints_beyond_openapi(
        endpoints_from_openapi(document), framework, [*routes, ("GET", "/{full_path:path}")]
    )
    assert ("GET", "/health") in [(e["method"], e["path"]) for e in beyond]
    assert [e["path"] for e in beyond].count("/items/{item_id}") == 1
    assert not any("full_path" in e["path"] for e in beyond)


_LISTINGS = """
import glob, json, os, pathlib
walked = [name for _, _, files in os.walk("pkg") for name in files]
globbed = [os.path.basename(p) for p in glob.glob("pkg/*")]
iterated = [p.name for p in pathlib.Path("pkg").iterdir()]
scanned = [e.name for e in os.scandir("pkg")]
class Accessor:  # Python 3.10's pathlib: os's functions as class attributes, called on self
    listdir, scandir = os.listdir, os.scandir
accessed = Accessor().listdir("pkg")
accessed_scan = [e.name for e in Accessor().scandir("pkg")]
print(json.dumps([os.listdir("pkg"), scanned, walked, globbed, iterated, accessed, accessed_scan]))
"""


def test_a_python_apps_directory_listings_answer_in_name_order(tmp_path: Path) -> None:
    """akoudad14's flaskProject imports each module under database/ as ``os.walk`` finds
    them, its models before the schemas mapping them on its author's machine (Windows,
    macOS: by name); here, in ext4's hash order, the schemas came first ("expression
    'Character' failed to locate a name"). Listings answer by name, case folded first."""
    names = [f"m{n:02d}.py" for n in range(30)] + ["Zeta.py", "alpha.py"]
    (tmp_path / "pkg").mkdir()
    for name in reversed(names):
        (tmp_path / "pkg" / name).touch()
    table = tmp_path / "routes.json"
    done = _python(tmp_path, _LISTINGS, PYTHONPATH=str(SITE), ROUTE_TABLE_PATH=str(table))
    listings = json.loads(done.stdout)
    by_name = sorted(names, key=lambda name: (name.lower(), name))
    assert by_name[0] == "alpha.py" and by_name[-1] == "Zeta.py"
    # (as a class's attributes they stay os's functions: Python 3.10's pathlib iterdir()
    # met "listdir() takes from 0 to 1 positional arguments but 2 were given" in
    # MariaChiquezi's CrudUsuarioFlaskSqlite, jsonschema listing its schemas at import)
    assert listings == [by_name] * 7, done.stderr


def test_the_preload_never_stands_in_an_apps_way(tmp_path: Path) -> None:
    """Its table cannot be written: the app runs as without it. The environment's own
    sitecustomize, which it hides on the path, still runs."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "sitecustomize.py").write_text("import builtins\nbuiltins.THEIRS = True\n")
    nowhere = str(tmp_path / "missing" / "routes.json")
    path = os.pathsep.join([str(SITE), str(theirs)])
    program = _FLASK_APP + "import builtins\nprint(builtins.THEIRS)\n"
    done = _python(tmp_path, program, PYTHONPATH=path, ROUTE_TABLE_PATH=nowhere)
    assert done.stdout.split() == ["200", "True"] and done.stderr == "", done.stderr
    quiet = _python(tmp_path, program, PYTHONPATH=path)  # no table asked for
    assert quiet.stdout.split() == ["200", "True"], quiet.stderr


def test_routes_a_partial_document_leaves_out_are_listed_beside_it() -> None:
    """@hono/zod-openapi documents its `openapi()` routes only: the app's plain routes come
    from its table, the document's own path and catch-alls do not."""
    from preview.discovery import endpoints_beyond_openapi, endpoints_from_openapi

    document = {"openapi": "3.0.0", "paths": {"/v1/users/{id}": {"get": {"summary": "One"}}}}
    documented = endpoints_from_openapi(document)
    routes = [
        ("GET", "/v1/users/:id"),
        ("GET", "/ping"),
        ("POST", "/v1/login"),
        ("GET", "/openapi.json"),
        ("GET", "/static/*"),
    ]
    found = endpoints_beyond_openapi(documented, "hono", routes)
    assert [(e["method"], e["path"]) for e in found] == [
        ("GET", "/ping"),
        ("POST", "/v1/login"),
        ("GET", "/v1/users/{id}"),
    ]
    assert found[-1]["summary"] == "One" and found[0]["source"]["kind"] == "app"
    assert endpoints_beyond_openapi(documented, "hono", routes[:1]) is documented
