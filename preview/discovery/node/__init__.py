"""Endpoint discovery in Node backends (JavaScript and TypeScript), from their source: Express,
Koa and Hono routers (:mod:`.express`; the zod-openapi starters' shapes: :mod:`.hono`),
NestJS controllers (:mod:`.nest`), Feathers services (:mod:`.feathers`), Fastify and hapi
routes (:mod:`.fastify`), over one tokeniser (:mod:`.tokens`)."""

from .aliases import ImportAliases
from .express import express_endpoints
from .fastify import fastify_endpoints, hapi_endpoints
from .feathers import feathers_endpoints
from .nest import nest_endpoints

__all__ = [
    "ImportAliases",
    "express_endpoints",
    "fastify_endpoints",
    "feathers_endpoints",
    "hapi_endpoints",
    "nest_endpoints",
]
