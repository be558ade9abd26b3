"""Fastify's plugins: routes declared on the instance a plugin function receives are
served under the prefixes of the ``register(plugin, { prefix })`` calls that mount it,
across modules (imports, ``require``, ``import()``, ``fastify-plugin``'s wrapper, inline
plugins, nested registers). They were found without their prefixes (``/`` for
``/api/users``), and a plugin's parameter named other than ``fastify`` was not read."""

from __future__ import annotations

from preview.discovery.endpoints import endpoints_from_source

SERVER = b"""
import Fastify from "fastify";
import userRoutes from "@/routes/users";
import { health } from "./routes/health";
const app = Fastify({ logger: true });
app.register(userRoutes, { prefix: "/api/users" });
app.register(require("./routes/items"), { prefix: `/items` });
app.register(import("./routes/tags"), { prefix: "/tags" });
app.register(health);
app.register(async (inst) => { inst.get("/inline", h); }, { prefix: "/v1" });
app.get("/", async () => ({ ok: true }));
app.listen({ port: 3000 });
"""
USERS = b"""
import { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
async function comments(app: FastifyInstance): Promise<void> { app.get("/comments", h) }
export default async function userRoutes(fastify: FastifyInstance) {
  fastify.get("/", async () => []);
  fastify.post<{ Body: NewUser }>("/", async () => ({}));
  fastify.route({ method: ["PUT", "PATCH"], url: "/:id", handler: h });
  fastify.register(fp(comments), { prefix: "/:id" });
}
function helper(client) { client.get("/not-a-route") }
"""
ITEMS = b"""
module.exports = async function (server, opts) {
  server.delete("/:itemId", async () => []);
}
"""
TAGS = b"""
const tags: FastifyPluginAsync = async (f): Promise<void> => { f.get("/", h) };
export default tags;
"""
HEALTH = b"""
export const health = fp(async (app) => { app.get("/health", h) });
"""


def found(files: dict[str, bytes]) -> set[tuple[str, str]]:
    return {(e["method"], e["path"]) for e in endpoints_from_source(files)}


def test_plugins_are_served_under_their_registers_prefixes() -> None:
    files = {
        "package.json": b'{"dependencies": {"fastify": "^5", "fastify-plugin": "^5"}}',
        "tsconfig.json": b'{"compilerOptions": {"paths": {"@/*": ["./src/*"]}}}',
        "src/server.ts": SERVER,
        "src/routes/users.ts": USERS,
        "src/routes/items.js": ITEMS,
        "src/routes/tags.ts": TAGS,
        "src/routes/health.ts": HEALTH,
    }
    assert found(files) == {
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/v1/inline"),
        ("GET", "/api/users"),
        ("POST", "/api/users"),
        ("PUT", "/api/users/{id}"),
        ("PATCH", "/api/users/{id}"),
        ("GET", "/api/users/{id}/comments"),
        ("DELETE", "/items/{itemId}"),
        ("GET", "/tags"),
    }


def test_a_plugin_nobody_registers_keeps_its_own_routes_a_helper_none() -> None:
    """A plugin can be registered in ways not followed (a loop, autoload): its routes
    stay, unprefixed; a function that only calls ``client.get`` is no plugin."""
    files = {
        "package.json": b'{"dependencies": {"fastify": "^5"}}',
        "src/routes/users.ts": USERS,
    }
    assert found(files) == {
        ("GET", "/"),
        ("POST", "/"),
        ("PUT", "/{id}"),
        ("PATCH", "/{id}"),
        ("GET", "/{id}/comments"),
    }


def test_an_express_app_is_not_read_as_fastify() -> None:
    files = {
        "package.json": b'{"dependencies": {"express": "^4"}}',
        "src/app.js": b"""
const express = require("express");
const app = express();
function mount(router) { router.get("/x", h); }
app.get("/users", h);
""",
    }
    assert found(files) == {("GET", "/users"), ("GET", "/x")}


def test_a_template_literal_on_the_files_own_constant_is_a_path() -> None:
    """realworld-fastify-drizzle: ``const apiModule = '/articles'`` then ``url:
    `${apiModule}/feed``` in each ``fastify.route({ … })``, each plugin registered in a
    chain with ``_options`` (``{ prefix: API_PREFIX }``): 1 of its 19 routes was found."""
    articles = b"""
export default async function (fastify: FastifyInstance) {
  const apiModule = '/articles';
  fastify.route({ method: 'GET', url: `${apiModule}`, handler: h });
  fastify.route({ method: 'GET', url: `${apiModule}/feed`, handler: h });
  fastify.get(`${apiModule}/:slug/comments`, h);
  fastify.get(`${apiModule}/${dynamic()}`, h);
  fastify.get(`${unknown}/x`, h);
}
"""
    twice = b"""
export async function a(app) { const base = '/a'; app.get(`${base}/one`, h) }
export async function b(app) { const base = '/b'; app.get(`${base}/two`, h) }
"""
    server = b"""
import Fastify from 'fastify';
import articleRoutes from './modules/article';
import { a, b } from './twice';
const API_PREFIX = 'api';
const fastify = Fastify();
const _options = { prefix: API_PREFIX };
fastify.register(a).register(b).register(articleRoutes, _options);
"""
    files = {
        "package.json": b'{"dependencies": {"fastify": "^4"}}',
        "src/server.ts": server,
        "src/modules/article/index.ts": articles,
        "src/twice.ts": twice,
    }
    assert found(files) == {
        ("GET", "/api/articles"),
        ("GET", "/api/articles/feed"),
        ("GET", "/api/articles/{slug}/comments"),
    }
