"""Routes declared by resource classes and objects, found from source: flask-restx's
``Resource`` classes under ``@api.route`` / ``@ns.route`` and given to ``add_resource``
(Flask-RESTful's too), namespaces added with their own path; Express routers made by
factory modules and mounted by calling them, resource-router-middleware's handlers. Each
fixture launched with a real build: the routes listed, its GET routes answering."""

from __future__ import annotations

import trio

from preview.discovery.endpoints import endpoints_from_source

from ..conftest import Service, auth
from ..launching import BUILD_WAIT, app_files, launched

RESTX = {
    ("GET", "/api/todo/"),
    ("POST", "/api/todo/"),
    ("GET", "/api/todo/{task_id}"),
    ("DELETE", "/api/todo/{task_id}"),
    ("GET", "/api/health"),
    ("GET", "/api/version"),
    ("GET", "/api/v"),
}


def _found(files: dict[str, bytes]) -> set[tuple[str, str]]:
    return {(e["method"], e["path"]) for e in endpoints_from_source(files)}


def test_flask_restx_resources_and_namespaces() -> None:
    files = {p: t.encode() for p, t in app_files("flask_restx").items()}
    assert _found(files) == RESTX


def test_flask_restful_add_resource_and_a_namespace_named_only() -> None:
    app = b"""
from flask import Flask
from flask_restful import Api, Resource
from flask_restx import Namespace

app = Flask(__name__)
api = Api(app)
users = Namespace("users")


class Item(Resource):
    def get(self, item_id):
        return {"id": item_id}

    def put(self, item_id):
        return {}


class NotAResource:
    def get(self):
        return None


@users.route("/<name>")
class User(Resource):
    def patch(self, name):
        return {}


api.add_resource(Item, "/items/<int:item_id>")
api.add_resource(NotAResource)
"""
    assert _found({"app.py": app}) == {
        ("GET", "/items/{item_id}"),
        ("PUT", "/items/{item_id}"),
        ("PATCH", "/users/{name}"),
    }


async def test_a_flask_restx_app_lists_and_answers_its_routes(builder_service: Service) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("flask_restx"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        listing = await service.client.get(
            f"/api/generations/{body['gid']}/endpoints", headers=auth()
        )
        listed = {(e["method"], e["path"]) for e in listing.json()["endpoints"]}
        # Its Swagger document, at /api/swagger.json (its prefix's: none of the common
        # places), found in the running app's own rules (apps.routes) and read; with
        # the one rule it leaves out, its Swagger UI's page (not the document itself).
        assert listing.json()["discoveredFrom"] == "openapi"
        assert listed == {*RESTX, ("GET", "/api")}, listed ^ {*RESTX, ("GET", "/api")}
        ui = next(e for e in listing.json()["endpoints"] if e["path"] == "/api")
        assert ui["source"] == {"kind": "app", "framework": "flask"}
        for path in ("/api/todo/", "/api/todo/1", "/api/health", "/api/version", "/api/v"):
            assert (await service.app_get(body, path)).status_code == 200, path
        assert (await service.app_get(body, "/api/todo/2")).json() == {"id": 2, "title": "test"}
        assert (await service.stop(body["gid"])).status_code == 200


EXPRESS_RESOURCE = {
    ("GET", "/api"),
    ("GET", "/api/notes"),
    ("POST", "/api/notes"),
    ("GET", "/api/notes/{note}"),
    ("DELETE", "/api/notes/{note}"),
}


def test_resource_router_middleware_mounted_through_factories() -> None:
    files = {p: t.encode() for p, t in app_files("express_resource").items()}
    assert _found(files) == EXPRESS_RESOURCE
    # ES modules: `export default ({ config }) => resource({...})`, a keyed `get` on /:id.
    esm = {
        "src/index.js": b'import express from "express";\nimport api from "./api";\n'
        b'let app = express();\napp.use("/api", api({ config }));\n',
        "src/api/index.js": b'import { Router } from "express";\nimport facets from "./facets";\n'
        b"export default ({ config }) => {\n  let api = Router();\n"
        b'  api.use("/facets", facets({ config }));\n  return api;\n};\n',
        "src/api/facets.js": b'import resource from "resource-router-middleware";\n'
        b'export default ({ config }) => resource({\n  id : "facet",\n'
        b"  list({ params }, res) { res.json([]); },\n  get: function (req, res) {},\n"
        b"  update({ facet, body }, res) { res.sendStatus(204); }\n});\n",
    }
    assert _found(esm) == {
        ("GET", "/api/facets"),
        ("GET", "/api/facets/{facet}"),
        ("PUT", "/api/facets/{facet}"),
    }


async def test_an_express_resource_app_lists_and_answers_its_routes(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("express_resource"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        listing = await service.client.get(
            f"/api/generations/{body['gid']}/endpoints", headers=auth()
        )
        listed = {(e["method"], e["path"]) for e in listing.json()["endpoints"]}
        assert listed == EXPRESS_RESOURCE, listing.json()
        assert (await service.app_get(body, "/api")).json() == {"greeting": "hello"}
        assert (await service.app_get(body, "/api/notes/1")).json() == {"id": "1", "text": "first"}
        assert (await service.app_get(body, "/api/notes")).status_code == 200
        assert (await service.stop(body["gid"])).status_code == 200
