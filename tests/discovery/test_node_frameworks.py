"""Discovery from source for the Node frameworks beside Express: Hono (routers mounted with
``route``, a factory's ``initApp(app)``, ``basePath``), Koa's koa-router prefix, hapi's route
objects and TypeScript type arguments on route calls (Fastify, Express)."""

from __future__ import annotations

from preview.discovery.endpoints import endpoints_from_routes, endpoints_from_source


def found(files: dict[str, bytes]) -> set[tuple[str, str]]:
    return {(e["method"], e["path"]) for e in endpoints_from_source(files)}


HONO = {
    "package.json": b'{"dependencies": {"hono": "^4"}}',
    "src/modules/users.ts": b"""
import { Hono } from "hono";
import type { Env } from "../factory.js";

export const usersModule = new Hono<Env>();

usersModule.post("/login", async (c) => c.json({}));
usersModule.get("/:id", async (c) => c.json({}));
""",
    "src/modules/tags.ts": b"""
import { Hono } from "hono";
const tags = new Hono().basePath("/tags");
tags.get("/", (c) => c.json([]));
// tags.get("/commented-out", (c) => c.json([]));
export default tags;
""",
    "src/factory.ts": b"""
import { createFactory } from "hono/factory";
import { usersModule } from "./modules/users.js";
import tags from "./modules/tags";

export const factory = createFactory({
  initApp(app) {
    app.route("/api/users", usersModule);
    app.route("/api", tags);
  },
});
""",
    "src/index.ts": b"""
import { Hono } from "hono";
const app = new Hono();
app.get("/health", (c) => c.text("ok"));
export default app;
""",
}


def test_hono_routers_mounted_by_route_under_their_base_paths() -> None:
    assert found(HONO) == {
        ("POST", "/api/users/login"),
        ("GET", "/api/users/{id}"),
        ("GET", "/api/tags"),
        ("GET", "/health"),
    }


HONO_FACTORY = {
    "package.json": b'{"dependencies": {"hono": "^4", "zod": "^4"}}',
    "env.example": b"# the API's prefix\nAPI_PREFIX=api\nPORT=3000\n",
    "src/lib/create-app.ts": b"""
import { Hono } from "hono";
import env from "../env";

export function createRouter() {
  return new Hono<AppBindings>().basePath(env.API_PREFIX).use(limiter(100));
}

export function createRouteHandler() {
  return new Hono<AppBindings>();
}

export default function createApp() {
  const app = createRouter();
  app.notFound(notFound);
  return app;
}
""",
    "src/routes/health.route.ts": b"""
import { createRouteHandler } from "../lib/create-app";
const router = createRouteHandler();
router.get("/", (c) => c.json({ ok: true }));
router.get("/detailed", (c) => c.json({ ok: true }));
export default router;
""",
    "src/app.ts": b"""
import createApp from "./lib/create-app";
import health from "./routes/health.route";
const app = createApp();
app.route("/health", health);
export default app;
""",
}


def test_a_hono_factorys_base_path_read_from_the_environment_prefixes_its_routes() -> None:
    """zlmica's hono-backend-starter: ``createRouter()`` makes ``new Hono().basePath(
    env.API_PREFIX)`` (api in its env.example), ``createApp()`` calls it; every route
    found was probed without /api and answered 404."""
    assert found(HONO_FACTORY) == {("GET", "/api/health"), ("GET", "/api/health/detailed")}
    literal = HONO_FACTORY["src/lib/create-app.ts"].replace(b"env.API_PREFIX", b'"/v1"')
    assert found({**HONO_FACTORY, "src/lib/create-app.ts": literal}) == {
        ("GET", "/v1/health"),
        ("GET", "/v1/health/detailed"),
    }
    process = HONO_FACTORY["src/lib/create-app.ts"].replace(b"env.API", b"process.env.API")
    own = {**HONO_FACTORY, "src/lib/create-app.ts": process, ".env": b"API_PREFIX='/x'\n"}
    assert ("GET", "/x/health") in found(own)


KOA = {
    "package.json": b'{"dependencies": {"koa": "^2", "@koa/router": "^12"}}',
    "src/routes.ts": b"""
import Router from "@koa/router";
const protectedRouter = new Router({ prefix: "/api" });
protectedRouter.get("/users", listUsers);
protectedRouter.del;
protectedRouter.delete("/users/:id", deleteUser);
export { protectedRouter };
""",
}


def test_koa_router_prefix_given_at_construction() -> None:
    assert found(KOA) == {("GET", "/api/users"), ("DELETE", "/api/users/{id}")}


HAPI = {
    "package.json": b'{"dependencies": {"@hapi/hapi": "^21"}}',
    "src/plugins/posts.ts": b"""
const plugin = {
  name: 'app/posts',
  register: async function (server: Hapi.Server) {
    server.route([
      { method: 'GET', path: '/feed', handler: feedHandler, options: { auth: false } },
      { method: ['PUT', 'PATCH'], path: '/post/{postId}', handler: updateHandler },
    ])
    server.route({ method: '*', path: '/any', handler: anyHandler })
    server.route({ method: 'GET', handler: noPath })
  },
}
""",
}


def test_hapi_route_objects_single_and_in_arrays() -> None:
    assert found(HAPI) == {
        ("GET", "/feed"),
        ("PUT", "/post/{postId}"),
        ("PATCH", "/post/{postId}"),
        ("ANY", "/any"),
    }


def test_hapi_shapes_are_not_read_without_hapi() -> None:
    assert found({**HAPI, "package.json": b'{"dependencies": {"express": "^4"}}'}) == set()


TYPED = {
    "package.json": b'{"dependencies": {"fastify": "^4"}}',
    "src/index.ts": b"""
import fastify from 'fastify'
const app = fastify()
app.post<{ Body: { name: string; posts?: Array<{ title: string }> } }>(`/signup`, async (req) => {})
app.get<{ Params: IdParams; Querystring: { sort?: 'asc' | 'desc' } }>('/post/:id', async () => {})
fastify.put<{ Params: { id: string } }>('/publish/:id', async () => {})
""",
}


def test_route_calls_with_typescript_type_arguments() -> None:
    assert found(TYPED) == {
        ("POST", "/signup"),
        ("GET", "/post/{id}"),
        ("PUT", "/publish/{id}"),
    }


FEATHERS_5 = {
    "package.json": b'{"dependencies": {"@feathersjs/feathers": "^5", "@feathersjs/koa": "^5"}}',
    "src/services/messages/messages.shared.ts": b"""
export const messagePath = 'messages'
export const messageMethods = ['find', 'get', 'create', 'patch', 'remove'] as const
export const messageClient = (client) => {
  const connection = client.get('connection')
  client.use(messagePath, connection.service(messagePath), { methods: messageMethods })
}
""",
    "src/services/messages/messages.ts": b"""
import { authenticate } from '@feathersjs/authentication'
import { MessageService, getOptions } from './messages.class'
import { messagePath, messageMethods } from './messages.shared'
export const message = (app) => {
  app.use(messagePath, new MessageService(getOptions(app)), {
    methods: messageMethods,
    events: []
  })
}
""",
    "src/authentication.ts": b"""
import { AuthenticationService, JWTStrategy } from '@feathersjs/authentication'
import { oauth } from '@feathersjs/authentication-oauth'
export const authentication = (app) => {
  const authentication = new AuthenticationService(app)
  authentication.register('jwt', new JWTStrategy())
  app.use('authentication', authentication)
  app.configure(oauth())
}
""",
    "src/app.ts": b"""
import { feathers } from '@feathersjs/feathers'
import { koa, rest, bodyParser, serveStatic } from '@feathersjs/koa'
const app = koa(feathers())
app.use(serveStatic(app.get('public')))
app.use(bodyParser())
app.configure(rest())
app.use('/stats', new StatsService(), { methods: ['find', 'summarise'] })
""",
}

FEATHERS_4 = {
    "package.json": b'{"dependencies": {"@feathersjs/feathers": "^4", "@feathersjs/express": "4"}}',
    "src/app.js": b"""
const feathers = require('@feathersjs/feathers');
const express = require('@feathersjs/express');
const app = express(feathers());
app.use('/docs', express.static('docs'));
app.use('/api', apiRouter());
""",
    "src/services/users/users.service.js": b"""
const { Users } = require('./users.class');
const createModel = require('../../models/users.model');
module.exports = function (app) {
  app.use('/users', new Users({ Model: createModel(app) }, app));
  app.use('/todos', createService({ Model: createModel(app) }));
};
""",
}


def test_feathers_services_at_their_rest_routes() -> None:
    """Feathers 5: a path and its methods named by constants of another file, the
    authentication service's two methods, OAuth's two GETs, an unknown custom method
    left out; the client's ``client.use`` of a connection's service is not the app's."""
    assert found(FEATHERS_5) == {
        ("GET", "/messages"),
        ("GET", "/messages/{id}"),
        ("POST", "/messages"),
        ("PATCH", "/messages/{id}"),
        ("DELETE", "/messages/{id}"),
        ("POST", "/authentication"),
        ("DELETE", "/authentication/{id}"),
        ("GET", "/oauth/{provider}"),
        ("GET", "/oauth/{provider}/callback"),
        ("GET", "/stats"),
    }


def test_feathers_4_services_all_six_methods_and_no_middleware() -> None:
    """Feathers 4 on Express: a service without ``methods`` serves all six; static files
    and a router factory mounted with a path are not services."""
    six = {"GET": ("", "/{id}"), "POST": ("",), "PUT": ("/{id}",), "PATCH": ("/{id}",)}
    expected = {
        (verb, base + sub)
        for base in ("/users", "/todos")
        for verb, subs in six.items()
        for sub in subs
    }
    expected |= {("DELETE", "/users/{id}"), ("DELETE", "/todos/{id}")}
    assert found(FEATHERS_4) == expected


def test_express_mounts_are_not_feathers_services() -> None:
    """Without Feathers, ``app.use('/users', new X())`` is Express's business (no routes
    of Feathers' invented)."""
    files = dict(FEATHERS_4)
    files["package.json"] = b'{"dependencies": {"express": "^4"}}'
    files["src/app.js"] = b"const express = require('express');\nconst app = express();\n"
    assert not {path for _, path in found(files)} & {"/users", "/todos"}


def test_feathers_services_stay_beside_a_running_apps_table() -> None:
    """A running app's table lacks Feathers 5's services (its REST transport is one
    middleware): they are kept from the source, the table's own routes as the app's."""
    source = endpoints_from_source(FEATHERS_5)
    listed = endpoints_from_routes("koa", [("GET", "/stats")], source)
    assert {(e["method"], e["path"]) for e in listed} == found(FEATHERS_5)
    kinds = {(e["method"], e["path"]): e["source"]["kind"] for e in listed}
    assert kinds[("GET", "/stats")] == "app" and kinds[("POST", "/messages")] == "source"


def test_feathers_4_table_routes_by_the_sources_names() -> None:
    """Feathers 4 on Express registers its services' routes with ``:__feathersId``:
    listed as the source names them (``{id}``, with its file and line), no duplicates."""
    source = endpoints_from_source(FEATHERS_4)
    table = [
        ("GET", "/users"),
        ("GET", "/users/:__feathersId"),
        ("POST", "/users"),
        ("PATCH", "/users/:__feathersId"),
        ("PATCH", "/users"),
    ]
    listed = {(e["method"], e["path"]): e for e in endpoints_from_routes("express", table, source)}
    assert not any("feathersId" in path for _, path in listed)
    assert listed[("GET", "/users/{id}")]["source"]["kind"] == "app"
    assert listed[("GET", "/users/{id}")]["source"]["line"] > 0
    assert ("PATCH", "/users") in listed  # a route of the app's that the source does not name
    assert set(listed) >= found(FEATHERS_4)
