"""Fields the seeds' frontend reads (issue 18): ``/config``'s ``environment`` and
``features``, the endpoints' ``count``, ``description``, ``requestSchema`` and
``responseSchema``, the request envelope's 503 with ``statusCode`` and the real status."""

from __future__ import annotations

import json

import trio

from ..conftest import SERVER_COMMAND, Service, auth, server_app

FASTAPI_SOURCE = '''
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/users", summary="List all users")
def list_users(page: int = 1, limit: int = 10, name: str | None = None):
    return {"status": "ok", "data": []}


@app.post("/api/users")
def create_user(user: dict):
    """Create new user.

    The body is the user."""
    return user


@app.get("/api/users/{user_id}")
def get_user(user_id: int):
    return {}
'''

OPENAPI = {
    "openapi": "3.0.2",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/api/users": {
            "get": {
                "summary": "List Users",
                "description": "List all users",
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "status": {"type": "string"},
                                        "data": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/User"},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "422": {"description": "bad"},
                },
            }
        },
        "/api/users/{id}": {
            "get": {
                "summary": "Get User",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                        },
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "User": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            }
        }
    },
}

# A stdlib app serving an OpenAPI document, as FastAPI would (fast to start, no install).
OPENAPI_APP = server_app(
    before_serving=f"""
    import json
    SPEC = json.dumps({OPENAPI!r}).encode()
    class WithSpec(Handler):
        def do_GET(self):
            if self.path == "/openapi.json":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(SPEC)))
                self.end_headers(); self.wfile.write(SPEC)
                return
            if self.path == "/env":
                say("NODE_ENV=" + os.environ.get("NODE_ENV", "<unset>"))
            super().do_GET()
    Handler = WithSpec
    """
)


async def test_config_has_the_environment_and_websocket_logs(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(OPENAPI_APP)
        response = await service.client.get(
            f"/api/generations/{gid}/preview/config", headers=auth()
        )
        config = response.json()
        assert config["environment"]["NODE_ENV"] == "development"
        assert all("/" not in value for value in config["environment"].values()), config
        assert config["limitations"]["features"]["websocketLogs"] is True
        # What /config says is what the app sees.
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running"
        token = {"X-Preview-Token": launched.json()["previewToken"]}
        called = await service.client.post(
            f"/api/generations/{gid}/preview/request",
            json={"method": "GET", "path": "/env"},
            headers={**auth(), **token},
        )
        assert called.json()["statusCode"] == 200, called.text
        await service.stop(gid)
        lines = [event["message"] for event in await service.history(gid, source="app")]
        assert "NODE_ENV=development" in lines


async def test_endpoints_from_source_have_count_description_and_request_schema(
    service: Service,
) -> None:
    with trio.fail_after(30):
        gid = await service.upload({"main.py": FASTAPI_SOURCE})
        response = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
    listing = response.json()
    assert listing["discoveredFrom"] == "source"
    assert listing["count"] == len(listing["endpoints"]) == 3
    found = {(e["method"], e["path"]): e for e in listing["endpoints"]}
    users = found[("GET", "/api/users")]
    assert users["description"] == "List all users"  # summary= stands in
    assert users["requestSchema"] == {
        "query": {"page": "integer", "limit": "integer", "name": "string"}
    }
    assert users["responseSchema"] is None  # source has none
    create = found[("POST", "/api/users")]
    assert create["description"].startswith("Create new user.")  # the docstring
    assert create["requestSchema"] == {"query": {}}
    one = found[("GET", "/api/users/{user_id}")]
    assert one["requestSchema"] == {"query": {}, "path": {"user_id": "integer"}}


async def test_endpoints_from_live_openapi_have_response_schema(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(OPENAPI_APP)
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running"
        response = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        status = await service.status(gid)
    listing = response.json()
    assert listing["discoveredFrom"] == "openapi" and listing["count"] == 2
    found = {(e["method"], e["path"]): e for e in listing["endpoints"]}
    users = found[("GET", "/api/users")]
    assert users["description"] == "List all users"
    assert users["requestSchema"] == {"query": {"page": "integer", "q": "string"}}
    assert users["responseSchema"] == {"status": "string", "data": "array"}
    one = found[("GET", "/api/users/{id}")]
    assert one["description"] == "Get User"
    assert one["responseSchema"] == {"id": "integer", "name": "string"}
    assert one["requestSchema"] == {"query": {}, "path": {"id": "integer"}}
    assert {e["path"] for e in status["generatedEndpoints"]} == {"/api/users", "/api/users/{id}"}


async def test_envelope_503_has_status_code_and_the_real_status(service: Service) -> None:
    envelope = {"method": "GET", "path": "/"}
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving="raise SystemExit(3)"))
        url = f"/api/generations/{gid}/preview/request"
        never = await service.client.post(url, json=envelope, headers=auth())
        assert never.status_code == 503
        assert never.json()["statusCode"] == 503
        assert never.json()["details"]["status"] is None  # no preview yet

        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "failed"
        token = {"X-Preview-Token": launched.json()["previewToken"]}
        response = await service.client.post(url, json=envelope, headers={**auth(), **token})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    assert body["statusCode"] == 503
    assert body["error"] == "preview_not_running"
    assert body["details"]["status"] == "failed"
    assert body["status"] == "failed" and body["message"]
