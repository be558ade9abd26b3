"""The Node preload's route table (``apps/routes/routetable``) for the frameworks beside
Express: Fastify (as an ES module), Koa with koa-router and @koa/router, Hono as an ES
and a CommonJS module, Feathers 5 on Express. Each app, installed from the npm registry,
registers routes under prefixes, sub-routers and sub-apps, calls itself once and exits;
its table must be whole by that first call, and read back as the service reads it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from preview.apps.routes import read_route_table, route_table_env
from preview.discovery import endpoints_from_routes, endpoints_from_source

PRELOAD_DIR = Path(__file__).resolve().parents[2] / "preview" / "apps" / "routes"
pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("PREVIEW_TEST_REQUIRE_NPM"),
    reason="npm is not installed (PREVIEW_TEST_REQUIRE_NPM unset)",
)
PACKAGES = {
    "fastify": "^5.0.0",
    "koa": "^3.0.0",
    "koa-router": "^14.0.0",
    "@koa/router": "^15.0.0",
    "hono": "^4.6.0",
    "@hono/node-server": "^1.13.0",
    "@feathersjs/feathers": "^5.0.0",
    "@feathersjs/express": "^5.0.0",
    "express": "^4.21.0",
}
_CALL_SELF = """
const answer = await fetch(`http://127.0.0.1:${PORT}/health`);
console.log(answer.status);
"""
FASTIFY_APP = (
    """
import Fastify from 'fastify';
const app = Fastify();
app.get('/health', async () => 'ok');
app.register(async (api) => {
  api.get('/users', async () => []);
  api.get('/users/:id', async () => ({}));
  api.post('/users', async () => ({}));
  api.all('/hook', async () => ({}));
}, { prefix: '/api' });
app.setNotFoundHandler((request, reply) => reply.code(404).send('none'));
await app.listen({ port: 0, host: '127.0.0.1' });
const PORT = app.server.address().port;
"""
    + _CALL_SELF
    + "await app.close();\n"
)
KOA_APP = """
const Koa = require('koa');
const Router = require(process.env.ROUTER);
const app = new Koa();
const api = new Router({ prefix: '/api' });
const users = new Router();
users.get('/', (ctx) => { ctx.body = []; });
users.get('/:id', (ctx) => { ctx.body = {}; });
users.post('/', (ctx) => { ctx.body = {}; });
api.use('/users', users.routes());
const root = new Router();
root.get('/health', (ctx) => { ctx.body = 'ok'; });
root.all('/hook', (ctx) => { ctx.body = 'ok'; });
app.use(async (ctx, next) => next());
app.use(root.routes()).use(api.routes()).use(api.allowedMethods());
const server = app.listen(0, '127.0.0.1', async () => {
  const PORT = server.address().port;
  CALL
  server.close();
});
""".replace("CALL", _CALL_SELF.replace("\n", "\n  "))
HONO_APP = """
IMPORTS
const app = new Hono();
const users = new Hono();
users.get('/', (c) => c.json([]));
users.get('/:id{[0-9]+}', (c) => c.json({}));
users.post('/', (c) => c.json({}, 201));
app.use('*', async (c, next) => next());
app.get('/health', (c) => c.text('ok'));
app.all('/hook', (c) => c.text('ok'));
app.route('/api/users', users);
const server = serve({ fetch: app.fetch, port: 0 }, async (info) => {
  const PORT = info.port;
  CALL
  server.close();
});
""".replace("CALL", _CALL_SELF.replace("\n", "\n  "))
HONO_IMPORTS = {
    "mjs": "import { Hono } from 'hono';\nimport { serve } from '@hono/node-server';",
    "cjs": "const { Hono } = require('hono');\nconst { serve } = require('@hono/node-server');",
}
FEATHERS_APP = """
const { feathers } = require('@feathersjs/feathers');
const express = require('@feathersjs/express');
class MessageService {
  async find() { return []; }
  async get(id) { return { id }; }
  async create(data) { return data; }
}
const app = express.default(feathers());
app.use(express.json());
app.configure(express.rest());
app.get('/health', (req, res) => res.json({ ok: true }));
app.use('messages', new MessageService(), { methods: ['find', 'get', 'create'] });
app.use(express.notFound());
app.listen(0).then(async (server) => {
  const PORT = server.address().port;
  const listed = await fetch(`http://127.0.0.1:${PORT}/messages`);
  console.log(listed.status);
  server.close();
});
"""
ROUTES = [
    ("GET", "/health"),
    ("GET", "/api/users"),
    ("GET", "/api/users/:id"),
    ("POST", "/api/users"),
    ("ANY", "/hook"),
]


@pytest.fixture(scope="module")
def frameworks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with Fastify, Koa and its two routers, and Hono installed."""
    directory = tmp_path_factory.mktemp("frameworks")
    (directory / "package.json").write_text(json.dumps({"dependencies": PACKAGES}))
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return directory


def _preloaded(
    directory: Path, name: str, table: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """``node name`` run in ``directory`` with the preload writing its table to ``table``."""
    preload_env = route_table_env({}, "node", str(PRELOAD_DIR), str(directory))
    return subprocess.run(
        ["node", name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **preload_env, "ROUTE_TABLE_PATH": str(table), **env},
    )


def _run(directory: Path, name: str, program: str, **env: str) -> tuple[str, list]:
    """The app ``program`` run as ``name`` with the preload: what it printed, its table."""
    (directory / name).write_text(program)
    table = directory / f"{name}.routes.json"
    table.unlink(missing_ok=True)
    done = _preloaded(directory, name, table, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    read = read_route_table(table)
    assert read is not None, f"{name} wrote no table"
    framework, routes = read
    return done.stdout.strip(), [framework, routes]


def test_a_fastify_apps_routes_under_its_plugins_prefixes(frameworks: Path) -> None:
    """Its HEAD routes and its not-found router are Fastify's own: left out."""
    said, table = _run(frameworks, "fastify-app.mjs", FASTIFY_APP)
    assert said == "200"
    assert table == ["fastify", [*ROUTES[:4], ("ANY", "/api/hook")]]


@pytest.mark.parametrize("router", ["koa-router", "@koa/router"])
def test_a_koa_apps_routers_with_their_prefixes_and_nested_routers(
    frameworks: Path, router: str
) -> None:
    said, table = _run(frameworks, "koa-app.cjs", KOA_APP, ROUTER=router)
    assert said == "200"
    framework, routes = table
    assert framework == "koa" and sorted(routes) == sorted(ROUTES)


@pytest.mark.parametrize("kind", ["mjs", "cjs"])
def test_a_hono_apps_routes_with_its_sub_apps(frameworks: Path, kind: str) -> None:
    """An ES module's too, through the loader's hook; middleware (``use``) left out,
    a parameter's pattern dropped from its path."""
    program = HONO_APP.replace("IMPORTS", HONO_IMPORTS[kind])
    said, table = _run(frameworks, f"hono-app.{kind}", program)
    assert said == "200"
    framework, routes = table
    assert framework == "hono" and sorted(routes) == sorted(ROUTES)
    listed = endpoints_from_routes(framework, routes, [])
    assert ("GET", "/api/users/{id}") in {(e["method"], e["path"]) for e in listed}


def test_an_app_without_a_known_framework_runs_as_without_the_preload(
    frameworks: Path,
) -> None:
    program = "import http from 'node:http';\nconsole.log(typeof http.createServer);\n"
    (frameworks / "plain.mjs").write_text(program)
    table = frameworks / "plain.routes.json"
    done = _preloaded(frameworks, "plain.mjs", table)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "function", "")
    assert not table.exists()


def test_feathers_5_services_beside_an_express_apps_own_routes(frameworks: Path) -> None:
    """Feathers 5 serves its services through one middleware of its REST transport: the
    table holds the app's own Express routes only, and the source's services are listed
    beside them (a table of ``/health`` alone hid the app's whole API)."""
    said, table = _run(frameworks, "feathers-app.cjs", FEATHERS_APP)
    assert said == "200"  # the service answers at its REST route
    framework, routes = table
    assert (framework, routes) == ("express", [("GET", "/health")])
    source = endpoints_from_source(
        {
            "package.json": json.dumps({"dependencies": PACKAGES}).encode(),
            "src/app.js": FEATHERS_APP.encode(),
        }
    )
    listed = {(e["method"], e["path"]): e for e in endpoints_from_routes(*table, source)}
    assert set(listed) == {
        ("GET", "/health"),
        ("GET", "/messages"),
        ("GET", "/messages/{id}"),
        ("POST", "/messages"),
    }
    assert listed[("GET", "/health")]["source"]["kind"] == "app"
    assert listed[("POST", "/messages")]["source"]["file"] == "src/app.js"


ERROR_PAGE_APP = """
const express = require('express');
const app = express();
const api = express.Router();
app.get('/boom', (req, res) => { res.json({ items: missingItems }); });
app.get('/gone', (req, res, next) => {
  const error = new Error('no such page');
  error.status = 404;
  next(error);
});
app.get('/logged', (req, res, next) => next(new Error('logged by the app')));
api.get('/inner', (req, res, next) => next(new Error('the router answered it')));
api.use(function (err, req, res, next) { res.status(502).send(err.message); });
app.use('/api', api);
app.use(function (err, req, res, next) {
  if (err.message === 'logged by the app') console.error(err.stack);
  res.status(err.status || 500).json({ message: err.message });
});
const server = app.listen(0, '127.0.0.1', async () => {
  const PORT = server.address().port;
  const said = [];
  for (const path of ['/boom', '/gone', '/logged', '/api/inner']) {
    said.push((await fetch(`http://127.0.0.1:${PORT}${path}`)).status);
  }
  console.log(said.join(' '));
  server.close();
});
"""


def test_an_error_the_apps_error_handler_answers_silently_is_printed(frameworks: Path) -> None:
    """gulshank721's restaurentExpressServer renders its errors into its error page
    (express-generator's handler) and logs none: /users/logout's "ReferenceError: next is
    not defined" was in the page alone, the log a bare 500. The preload prints such an
    error's stack once, below the app's own frames; not an error answered below 500, nor
    one the handler printed itself."""
    done = _preloaded_program(frameworks, "error-page-app.cjs", ERROR_PAGE_APP)
    assert done.stdout.strip() == "500 404 500 502", done.stderr[-2000:]
    lines = done.stderr.splitlines()
    at = lines.index("ReferenceError: missingItems is not defined")
    assert "error-page-app.cjs:5:" in lines[at + 1], lines[at : at + 3]
    assert "no such page" not in done.stderr
    assert done.stderr.count("Error: logged by the app") == 1, done.stderr
    assert done.stderr.count("Error: the router answered it") == 1, done.stderr


def _preloaded_program(directory: Path, name: str, program: str) -> subprocess.CompletedProcess:
    (directory / name).write_text(program)
    done = _preloaded(directory, name, directory / f"{name}.routes.json")
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_modules_requiring_each_other_load_without_a_warning(tmp_path: Path) -> None:
    """A module's exports still loading in a require cycle have Node's warning proxy as
    their prototype: the preload's look for its own mark on them made Node warn
    "Accessing non-existent property 'Symbol(preview.routetable.patched)' of module
    exports inside circular dependency" for each, 40 lines of a NestJS app's start
    (miyachew's nestjs-sqlite-user-photo-tags)."""
    (tmp_path / "a.js").write_text("exports.name = 'a';\nconst b = require('./b');\n")
    (tmp_path / "b.js").write_text("const a = require('./a');\nexports.seen = typeof a;\n")
    (tmp_path / "main.js").write_text("console.log(require('./a').name);\n")
    done = _preloaded(tmp_path, "main.js", tmp_path / "routes.json")
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "a", "")
