"""Endpoint discovery: OpenAPI documents, and source files of four frameworks.

The framework fixtures are real projects under ``tests/discovery/discovery_fixtures/``. Where the
framework is installed here (FastAPI, Flask), the app is also imported from a temporary copy
to check that what the source parse finds agrees with what the framework itself serves.
"""

from __future__ import annotations

import copy
import importlib
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI, Header, Query
from pydantic import BaseModel

from preview.discovery import (
    MAX_ENDPOINTS,
    MAX_FILE_BYTES,
    endpoints_from_openapi,
    endpoints_from_source,
)
from preview.discovery.graph import join_path

FIXTURES = Path(__file__).resolve().parent / "discovery_fixtures"


def fixture_files(framework: str) -> dict[str, bytes]:
    root = FIXTURES / framework
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def pairs(endpoints: list[dict]) -> set[tuple[str, str]]:
    return {(e["method"], e["path"]) for e in endpoints}


def by_key(endpoints: list[dict]) -> dict[tuple[str, str], dict]:
    return {(e["method"], e["path"]): e for e in endpoints}


def params(endpoint: dict) -> dict[tuple[str, str], dict]:
    return {(p["name"], p["in"]): p for p in endpoint["parameters"]}


@contextmanager
def imported(tmp_path: Path, files: dict[str, bytes], module: str) -> Iterator[Any]:
    """Write ``files`` under ``tmp_path`` and import ``module`` from there (tests only: the
    discovery module itself never imports user code); forget the package afterwards."""
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    package = module.split(".")[0]
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(module)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]


# -- FastAPI source ------------------------------------------------------------------------

FASTAPI_PAIRS = {
    ("GET", "/admin/stats"),
    ("POST", "/admin/users"),
    ("GET", "/api/items/{item_id}"),
    ("PUT", "/api/items/{item_id}"),
    ("GET", "/api/items/{item_id}/reviews"),
    ("POST", "/api/items/{item_id}/reviews"),
    ("PATCH", "/api/items/{item_id}/stock"),
    ("DELETE", "/api/items/{item_id}/stock"),
    ("GET", "/api/v1/users/"),
    ("POST", "/api/v1/users/"),
    ("GET", "/api/v1/users/{user_id}"),
    ("DELETE", "/api/v1/users/{user_id}"),
    ("GET", "/echo"),
    ("POST", "/echo"),
    ("GET", "/health"),
}


def test_fastapi_routers_in_modules_with_prefixes_at_both_levels() -> None:
    found = endpoints_from_source(fixture_files("fastapi"))
    assert pairs(found) == FASTAPI_PAIRS
    assert len(found) == len(FASTAPI_PAIRS)
    assert all(e["source"]["framework"] == "fastapi" for e in found)
    json.dumps(found)  # JSON-ready as is


def test_fastapi_parameters_body_tags_and_docs() -> None:
    found = by_key(endpoint_list := endpoints_from_source(fixture_files("fastapi")))
    listing = found[("GET", "/api/v1/users/")]
    assert listing["tags"] == ["users"]
    assert listing["summary"] == "List users, newest first."
    assert listing["source"] == {
        "kind": "source",
        "framework": "fastapi",
        "file": "shopapi/routers/users.py",
        "line": 14,
    }
    assert params(listing) == {
        ("limit", "query"): {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer"},
        },
        ("q", "query"): {
            "name": "q",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
        },
        ("order", "query"): {
            "name": "order",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
        },
        ("x-token", "header"): {
            "name": "x-token",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
        },
    }
    assert listing["requestBody"] is None

    create = found[("POST", "/api/v1/users/")]
    assert create["summary"] == "Create a user"
    assert create["parameters"] == []
    assert create["requestBody"] == {
        "$model": "UserCreate",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "email": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "email"],
    }
    admin = found[("POST", "/admin/users")]["requestBody"]
    assert admin["$model"] == "AdminUser"  # inherits UserCreate's fields
    assert list(admin["properties"]) == ["name", "age", "email", "tags", "is_root", "permissions"]
    assert admin["properties"]["permissions"] == {"type": "object"}
    assert found[("PUT", "/api/items/{item_id}")]["requestBody"] == {"type": "object"}

    detail = found[("GET", "/api/v1/users/{user_id}")]
    assert detail["parameters"] == [
        {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {"name": "verbose", "in": "query", "required": False, "schema": {"type": "boolean"}},
    ]
    # item_id comes from an include prefix, not the route's own path: still a path param.
    reviews = found[("GET", "/api/items/{item_id}/reviews")]
    assert [(p["name"], p["in"], p["schema"]) for p in reviews["parameters"]] == [
        ("item_id", "path", {"type": "integer"}),
        ("page", "query", {"type": "integer"}),
    ]
    assert reviews["tags"] == ["catalogue", "reviews"]
    assert found[("POST", "/api/items/{item_id}/reviews")]["requestBody"]["$model"] == "Review"

    echo = found[("POST", "/echo")]
    assert echo["summary"] == "Echo the text back."
    assert echo["description"].startswith("Echo the text back.\n\nHandy to check")
    assert found[("GET", "/health")]["summary"] == "Liveness probe"
    assert found[("GET", "/health")]["tags"] == ["ops"]
    # No description of its own: the summary stands in, as the seeds show it (issue 18).
    assert found[("GET", "/health")]["description"] == "Liveness probe"
    assert [e["method"] for e in endpoint_list if e["path"] == "/api/items/{item_id}/stock"] == [
        "PATCH",
        "DELETE",
    ]


@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_fastapi_source_agrees_with_the_apps_own_openapi(tmp_path: Path) -> None:
    files = fixture_files("fastapi")
    with imported(tmp_path, files, "shopapi.main") as main:
        spec = main.app.openapi()
    from_spec = by_key(endpoints_from_openapi(json.loads(json.dumps(spec))))
    from_source = by_key(endpoints_from_source(files))
    assert set(from_source) == set(from_spec) == FASTAPI_PAIRS
    for key, endpoint in from_source.items():
        served = from_spec[key]
        assert endpoint["tags"] == served["tags"], key
        assert set(params(endpoint)) == set(params(served)), key
        for name_in, param in params(endpoint).items():
            assert param["required"] == params(served)[name_in]["required"], (key, name_in)
        assert (endpoint["requestBody"] is None) == (served["requestBody"] is None), key
    model = from_spec[("POST", "/api/v1/users/")]["requestBody"]
    assert model["$model"] == "UserCreate"
    assert set(model["properties"]) == set(
        from_source[("POST", "/api/v1/users/")]["requestBody"]["properties"]
    )


def test_fastapi_patterns_in_the_wild() -> None:
    """Subdirectory import root, re-export, settings prefix, include loop, factory app."""
    files = {
        "backend/app/core/config.py": b"""
class Settings:
    API_V1_STR: str = "/api/v1"

settings = Settings()
""",
        "backend/app/main.py": b"""
from fastapi import FastAPI
from app.api import api_router
from app.core.config import settings

app = FastAPI()
app.include_router(api_router, prefix=settings.API_V1_STR)
""",
        "backend/app/api/__init__.py": b"from .main import api_router as api_router\n",
        "backend/app/api/main.py": b"""
from fastapi import APIRouter
from app.api.routes import items, login

api_router = APIRouter()
for module in (items, login):
    api_router.include_router(module.router)
""",
        "backend/app/api/routes/items.py": b"""
from fastapi import APIRouter
router = APIRouter(prefix="/items", tags=["items"])

@router.get("/{id}")
def read_item(id: "int", skip: int = 0): ...
""",
        "backend/app/api/routes/login.py": b"""
from fastapi import APIRouter
router = APIRouter(tags=["login"])
ROUTES = [router]

@router.post("/login/access-token")
def login(form_data: "OAuth2PasswordRequestForm") -> "Token": ...
""",
        "other/server.py": b"""
from fastapi import FastAPI
from other.factory import create_app

app = create_app()

@app.get("/made-by-factory")
async def hello(): ...

app.add_api_route("/added", hello, methods=["PUT"])
""",
        "other/factory.py": b"raise RuntimeError('user code must never run')\n",
    }
    found = by_key(endpoints_from_source(files))
    assert set(found) == {
        ("GET", "/api/v1/items/{id}"),
        ("POST", "/api/v1/login/access-token"),
        ("GET", "/made-by-factory"),
        ("PUT", "/added"),
    }
    item = found[("GET", "/api/v1/items/{id}")]
    assert item["source"]["file"] == "backend/app/api/routes/items.py"
    assert [(p["name"], p["in"], p["schema"]["type"]) for p in item["parameters"]] == [
        ("id", "path", "integer"),
        ("skip", "query", "integer"),
    ]
    assert found[("POST", "/api/v1/login/access-token")]["parameters"] == []


# -- Flask, Django, Express ------------------------------------------------------------------

FLASK_PAIRS = {
    ("GET", "/"),
    ("POST", "/account/login"),
    ("POST", "/account/logout"),
    ("GET", "/account/profile"),
    ("PATCH", "/account/profile"),
    ("GET", "/api/admin/stats/{ratio}"),
    ("GET", "/api/files/{name}"),
    ("GET", "/api/posts"),
    ("POST", "/api/posts"),
    ("GET", "/api/posts/{post_id}"),
    ("PUT", "/api/posts/{post_id}"),
    ("DELETE", "/api/posts/{post_id}"),
    ("GET", "/api/tags/{tag}/posts/"),
    ("GET", "/ping"),
    ("HEAD", "/ping"),
}


def test_flask_blueprints_prefix_override_methods_and_converters() -> None:
    found = by_key(endpoints_from_source(fixture_files("flask")))
    assert set(found) == FLASK_PAIRS
    assert found[("GET", "/")]["summary"] == "Home page."
    assert found[("GET", "/")]["source"] == {
        "kind": "source",
        "framework": "flask",
        "file": "blog/__init__.py",
        "line": 15,
    }
    assert found[("POST", "/api/posts")]["description"] == (
        "List or create posts.\n\nPOST takes a JSON body."
    )
    assert found[("GET", "/api/posts/{post_id}")]["parameters"] == [
        {"name": "post_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    assert params(found[("GET", "/api/admin/stats/{ratio}")])[("ratio", "path")]["schema"] == {
        "type": "number"
    }
    assert params(found[("GET", "/api/files/{name}")])[("name", "path")]["schema"] == {
        "type": "string"
    }


def test_flask_source_agrees_with_the_apps_url_map(tmp_path: Path) -> None:
    pytest.importorskip("flask")  # not a declared test dependency
    files = fixture_files("flask")
    with imported(tmp_path, files, "blog") as blog:
        app = blog.create_app()
        served = {
            (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
    assert {p for p in FLASK_PAIRS if p[0] != "HEAD"} == served


DJANGO_PAIRS = {
    ("ANY", "/"),
    ("ANY", "/admin/"),
    ("GET", "/api/"),  # the DefaultRouter's API root
    ("GET", "/api/comments/"),
    ("GET", "/api/comments/{uuid}/"),
    ("ANY", "/api/inline/ping/"),
    ("GET", "/api/posts/"),
    ("POST", "/api/posts/"),
    ("GET", "/api/posts/{pk}/"),
    ("PUT", "/api/posts/{pk}/"),
    ("DELETE", "/api/posts/{pk}/"),
    ("GET", "/api/posts/{slug}/edit/"),
    ("POST", "/api/posts/{slug}/edit/"),
    ("GET", "/api/tags/{tag}/"),
    ("POST", "/api/v2/charge/{token}/"),
    ("ANY", "/api/v2/reports/"),
    ("ANY", "/archive/{year}/{slug}/"),
}


def test_django_include_chain_re_path_and_view_methods() -> None:
    found = by_key(endpoints_from_source(fixture_files("django")))
    assert set(found) == DJANGO_PAIRS
    archive = found[("ANY", "/archive/{year}/{slug}/")]
    assert [(p["name"], p["schema"]["type"]) for p in archive["parameters"]] == [
        ("year", "integer"),
        ("slug", "string"),
    ]
    assert archive["source"] == {
        "kind": "source",
        "framework": "django",
        "file": "site/mysite/urls.py",
        "line": 8,
    }
    assert found[("GET", "/api/posts/")]["summary"] == "List posts, or create one."
    assert found[("ANY", "/")]["summary"] == "The landing page."
    assert found[("GET", "/api/posts/{pk}/")]["parameters"][0]["schema"] == {"type": "integer"}


def test_django_without_root_urlconf_starts_from_modules_nobody_includes() -> None:
    files = fixture_files("django")
    del files["site/mysite/settings.py"]
    assert pairs(endpoints_from_source(files)) == DJANGO_PAIRS


EXPRESS_PAIRS = {
    ("GET", "/"),
    ("POST", "/admin/reindex"),
    ("GET", "/admin/stats"),
    ("GET", "/api/items"),
    ("DELETE", "/api/items/{itemId}"),
    ("GET", "/api/items/{itemId}/reviews"),
    ("POST", "/api/items/{itemId}/reviews"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", "/api/users/{id}"),
    ("PATCH", "/api/users/{id}"),
    ("GET", "/books/{isbn}"),
    ("PUT", "/books/{isbn}"),
    ("DELETE", "/books/{isbn}"),
    ("ANY", "/echo/{word}"),
    ("GET", "/health"),
    ("GET", "/legacy/old/*"),
}


def test_express_routers_in_files_mounts_chains_and_comments() -> None:
    found = by_key(endpoints_from_source(fixture_files("express")))
    assert set(found) == EXPRESS_PAIRS  # nothing from comments, strings or regex literals
    user = found[("GET", "/api/users/{id}")]
    assert user["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert user["source"] == {
        "kind": "source",
        "framework": "express",
        "file": "src/routes/users.js",
        "line": 7,
    }
    assert found[("PUT", "/books/{isbn}")]["source"]["line"] == 28
    assert found[("POST", "/admin/reindex")]["source"]["file"] == "src/routes/admin.ts"


def test_javascript_tokenizer_edge_cases() -> None:
    source = r"""
const express = require('express');
const app = express();
const a = 10 / 2, b = a / 5; app.get("/after-division", h);
const re = /\/*[/"]/; app.put('/after-regex', h);
const s = 'it\'s // not a comment'; app.post("/after-quote", h);
const t = `multi
line ${"}" + `nested`} text`; app.patch(`/after-template`, h);
app.get(`/dynamic/${id}`, h);
app.get("settings-not-a-route");
cache.get("/not-a-router", h);
/* unterminated comment app.get("/x", h)
"""
    found = endpoints_from_source({"server.js": source.encode()})
    assert [(e["method"], e["path"], e["source"]["line"]) for e in found] == [
        ("GET", "/after-division", 4),
        ("POST", "/after-quote", 6),
        ("PUT", "/after-regex", 5),
        ("PATCH", "/after-template", 8),
    ]


# -- Robustness and limits ----------------------------------------------------------------


def test_bad_files_are_skipped_and_good_ones_still_read() -> None:
    files = fixture_files("fastapi") | fixture_files("express")
    files |= {
        "shopapi/broken.py": b"from fastapi import APIRouter\n@router.get('/x'\ndef oops(:\n",
        "shopapi/latin1.py": "from fastapi import FastAPI\napp = FastAPI()\n"
        "@app.get('/caf\xe9')\ndef f(): ...\n".encode("latin-1"),  # not UTF-8, no coding line
        "shopapi/nul.py": b"x = 1\x00\n",
        "shopapi/deep.py": b"x = " + b"(" * 500 + b")" * 500 + b"\n",
        "shopapi/huge.py": b"from fastapi import FastAPI\napp = FastAPI()\n"
        + b"@app.get('/huge')\ndef huge(): ...\n"
        + b"#" * MAX_FILE_BYTES,
        "node_modules/x/index.js": b"const app = require('express')(); app.get('/dep', h);",
        "src/bad.js": b"app.get('/bad', h) \xff\xfe",
        "not-bytes.py": "from fastapi import FastAPI",  # type: ignore[dict-item]
        7: b"",  # type: ignore[dict-item]
    }
    assert pairs(endpoints_from_source(files)) == FASTAPI_PAIRS | EXPRESS_PAIRS
    assert endpoints_from_source({}) == []
    assert endpoints_from_source(None) == []  # type: ignore[arg-type]


def test_sorted_by_path_then_method_and_deduplicated() -> None:
    source = b"""
from flask import Flask
app = Flask(__name__)

@app.route("/b", methods=["OPTIONS", "DELETE", "HEAD", "PATCH", "PUT", "POST", "GET"])
def b(): ...

@app.get("/a")
def a(): ...

@app.get("/a")
def a_again(): ...
"""
    found = endpoints_from_source({"app.py": source})
    assert [(e["method"], e["path"]) for e in found] == [
        ("GET", "/a"),
        ("GET", "/b"),
        ("POST", "/b"),
        ("PUT", "/b"),
        ("PATCH", "/b"),
        ("DELETE", "/b"),
        ("HEAD", "/b"),
        ("OPTIONS", "/b"),
    ]
    assert found[0]["source"]["line"] == 8  # the first declaration wins


def test_endpoint_cap_and_include_fan_out_are_bounded() -> None:
    many = "from fastapi import FastAPI\napp = FastAPI()\n" + "".join(
        f"@app.get('/r{i:04}')\ndef r{i}(): ...\n" for i in range(MAX_ENDPOINTS + 500)
    )
    found = endpoints_from_source({"main.py": many.encode()})
    assert len(found) == MAX_ENDPOINTS
    assert [e["path"] for e in found] == sorted(e["path"] for e in found)

    # 30 routers, each included twice by the one before it: 2**30 paths if walked naively;
    # plus an include cycle.
    lines = ["from fastapi import FastAPI, APIRouter", "app = FastAPI()"]
    lines += [f"r{i} = APIRouter()" for i in range(31)]
    lines += [f"@r{i}.get('/x')\ndef f{i}(): ..." for i in range(31)]
    for i in range(30):
        lines += [f"r{i}.include_router(r{i + 1}, prefix='/a')"]
        lines += [f"r{i}.include_router(r{i + 1}, prefix='/b')"]
    lines += ["r30.include_router(r0)", "app.include_router(r0)"]
    started = time.process_time()  # this process's CPU: a loaded machine does not count
    found = endpoints_from_source({"main.py": "\n".join(lines).encode()})
    assert time.process_time() - started < 20
    assert 0 < len(found) <= MAX_ENDPOINTS
    assert {("GET", "/x"), ("GET", "/a/x"), ("GET", "/a/a/x")} <= pairs(found)


def test_pathological_sources_finish_quickly() -> None:
    doubling = "".join(f"l{i} = [*l{i + 1}, *l{i + 1}, path('d{i}/', v)]\n" for i in range(60))
    files = {
        # Each "/" could start a regular expression that never closes on its line.
        "regex.js": b"(/[" * 200_000,
        "template.js": b"`${`${" * 100_000,
        "strings.js": b"'\\" * 200_000,
        # Calls and import lists that never close, or nest deeply.
        "unclosed.js": b"app.use(" * 50_000 + b"import {" * 50_000,
        "nested.js": b"app.use(" * 30_000 + b")" * 30_000,
        # Lists that double at each level, and an include in a loop over a long list.
        "urls.py": f"from django.urls import path\n{doubling}urlpatterns = l0\n".encode(),
        "loop.py": b"from fastapi import FastAPI, APIRouter\napp = FastAPI()\nr = APIRouter()\n"
        + b"@r.get('/x')\ndef f(): ...\nfor s in ["
        + b"r," * 50_000
        + b"]: pass\n"
        + b"app.include_router(s)\n" * 5_000,
    }
    started = time.process_time()  # this process's CPU (about 5 s): not the machine's load
    found = pairs(endpoints_from_source(files))
    assert time.process_time() - started < 20
    assert {("ANY", "/d0/"), ("ANY", "/d1/"), ("GET", "/x")} <= found


def test_join_path() -> None:
    assert join_path("", "") == "/"
    assert join_path("/api/", "/users") == "/api/users"
    assert join_path("api", "users/") == "/api/users/"
    assert join_path("/users", "") == "/users"
    assert join_path("/users", "/") == "/users/"
    assert join_path("api//v1", "", "/x//y") == "/api/v1/x/y"


# -- OpenAPI -------------------------------------------------------------------------------


class Address(BaseModel):
    street: str
    city: str


class User(BaseModel):
    name: str
    address: Address
    friends: list[User] = []


def real_spec() -> dict:
    app = FastAPI()

    @app.get("/users/{user_id}", summary="Fetch a user", tags=["users"])
    def get_user(
        user_id: int,
        verbose: bool = False,
        x_request_id: Annotated[str | None, Header()] = None,
    ) -> User:
        """Return one user.

        With friends."""
        raise NotImplementedError

    @app.post("/users", tags=["users", "write"], status_code=201)
    def create_user(user: User) -> User:
        raise NotImplementedError

    @app.put("/users/{user_id}/address")
    def move(
        user_id: int,
        address: Annotated[Address, Body(embed=True)],
        q: Annotated[list[str] | None, Query()] = None,
    ):
        raise NotImplementedError

    @app.delete("/users/{user_id}")
    def delete_user(user_id: int) -> None:
        raise NotImplementedError

    return json.loads(json.dumps(app.openapi()))


def test_openapi_from_a_real_fastapi_app() -> None:
    found = endpoints_from_openapi(real_spec())
    assert [(e["method"], e["path"]) for e in found] == [
        ("POST", "/users"),
        ("GET", "/users/{user_id}"),
        ("DELETE", "/users/{user_id}"),
        ("PUT", "/users/{user_id}/address"),
    ]
    json.dumps(found)
    create, get, delete, move = found
    assert get["summary"] == "Fetch a user"
    assert get["description"] == "Return one user.\n\nWith friends."
    assert get["tags"] == ["users"]
    assert get["source"] == {"kind": "openapi"}
    assert [(p["name"], p["in"], p["required"]) for p in get["parameters"]] == [
        ("user_id", "path", True),
        ("verbose", "query", False),
        ("x-request-id", "header", False),
    ]
    assert get["parameters"][0]["schema"] == {"type": "integer", "title": "User Id"}
    assert get["requestBody"] is None
    assert get["responses"]["200"]["description"] == "Successful Response"
    assert get["responses"]["200"]["schema"]["$model"] == "User-Output"  # pydantic 2 naming

    assert create["tags"] == ["users", "write"]
    assert create["summary"] == "Create User"
    body = create["requestBody"]
    assert body["$model"] == "User-Input"  # the component's name
    assert body["title"] == "User"
    assert body["type"] == "object"
    assert body["required"] == ["name", "address"]
    # Nested references are resolved (a request body's example needs them), but one back
    # to a schema it is inside stays a reference, so cycles cannot recurse.
    assert body["properties"]["address"]["$model"] == "Address"
    assert body["properties"]["address"]["type"] == "object"
    assert body["properties"]["friends"]["items"] == {"$ref": "#/components/schemas/User-Input"}
    assert set(create["responses"]) == {"201", "422"}
    error = create["responses"]["422"]["schema"]
    assert error["$model"] == "HTTPValidationError"
    assert error["properties"]["detail"]["items"]["$model"] == "ValidationError"

    assert delete["responses"]["200"] == {"description": "Successful Response", "schema": {}}
    assert move["requestBody"]["$model"].startswith("Body_move")
    assert move["requestBody"]["properties"]["address"]["$model"] == "Address"
    assert params(move)[("q", "query")]["schema"]["anyOf"][0]["type"] == "array"


def test_openapi_merges_path_level_parameters_and_resolves_component_refs() -> None:
    spec = {
        "openapi": "3.1.0",
        "paths": {
            "/files/{name}": {
                "parameters": [
                    {"name": "name", "in": "path", "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/Limit"},
                ],
                "get": {
                    "parameters": [{"name": "limit", "in": "query", "required": True}],
                    "responses": {
                        "200": {
                            "description": "the file",
                            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                        },
                        "404": {"$ref": "#/components/responses/NotFound"},
                    },
                },
                "post": {
                    "requestBody": {"$ref": "#/components/requestBodies/Upload"},
                    "responses": {},
                },
            }
        },
        "components": {
            "parameters": {
                "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}
            },
            "requestBodies": {
                "Upload": {
                    "content": {
                        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/Form"}}
                    }
                }
            },
            "responses": {
                "NotFound": {
                    "description": "missing",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem", "description": "x"}
                        }
                    },
                }
            },
            "schemas": {
                "Form": {"type": "object", "properties": {"file": {"type": "string"}}},
                "Problem": {"type": "object", "properties": {"title": {"type": "string"}}},
            },
        },
    }
    get, post = endpoints_from_openapi(spec)
    assert get["parameters"] == [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "required": True, "schema": None},  # operation's wins
    ]
    assert get["responses"]["200"] == {"description": "the file", "schema": None}
    assert get["responses"]["404"]["description"] == "missing"
    assert get["responses"]["404"]["schema"]["$model"] == "Problem"
    assert get["responses"]["404"]["schema"]["description"] == "x"
    assert post["requestBody"]["$model"] == "Form"  # no JSON: the first content type
    assert post["responses"] == {}


def cyclic_spec() -> dict:
    return {
        "paths": {
            "/a": {
                "get": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/c/A"}}}},
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/c/S"}}}}
                    },
                },
                "post": {
                    "requestBody": {"$ref": "#/rb/Loop"},
                    "parameters": [{"$ref": "#/p/Loop"}],
                },
            }
        },
        "c": {"A": {"$ref": "#/c/B"}, "B": {"$ref": "#/c/A"}, "S": {"items": {"$ref": "#/c/S"}}},
        "rb": {"Loop": {"$ref": "#/rb/Loop"}},
        "p": {"Loop": {"$ref": "#/p/Loop2"}, "Loop2": {"$ref": "#/p/Loop"}},
    }


def test_malformed_and_cyclic_specs_never_raise() -> None:
    for spec in (None, [], "x", {}, {"paths": []}, {"paths": None}, {"paths": {"/x": []}}):
        assert endpoints_from_openapi(spec) == []  # type: ignore[arg-type]
    odd = {
        "paths": {
            "/x": {
                "get": "not an operation",
                "post": None,
                "put": {
                    "summary": 3,
                    "tags": "users",
                    "parameters": "nope",
                    "requestBody": [],
                    "responses": [],
                },
                "patch": {
                    "parameters": [None, 1, {"in": "query"}, {"name": 2, "in": "query"}],
                    "requestBody": {"content": {"application/json": "x"}},
                    "responses": {200: {"description": 5, "content": []}, "default": None},
                },
                "delete": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": 1}}}}
                },
            },
            7: {"get": {}},
            "/y": {"parameters": {"a": 1}, "get": {"parameters": [{"name": "q", "in": "nowhere"}]}},
        }
    }
    found = by_key(endpoints_from_openapi(odd))
    assert set(found) == {("PUT", "/x"), ("PATCH", "/x"), ("DELETE", "/x"), ("GET", "/y")}
    assert found[("PUT", "/x")]["summary"] is None
    assert found[("PUT", "/x")]["tags"] == []
    assert found[("PATCH", "/x")]["responses"] == {"200": {"description": None, "schema": None}}
    assert found[("GET", "/y")]["parameters"] == []
    json.dumps(list(found.values()))

    get, post = endpoints_from_openapi(cyclic_spec())
    assert get["requestBody"] == {"$ref": "#/c/A"}  # A, then B, then back to A: a $ref
    assert get["responses"]["200"]["schema"] == {"items": {"$ref": "#/c/S"}}
    assert post["requestBody"] is None
    assert post["parameters"] == []

    deep: dict = {"type": "string"}
    for _ in range(20_000):
        deep = {"items": deep}
    spec = {
        "paths": {
            "/d": {"get": {"requestBody": {"content": {"application/json": {"schema": deep}}}}}
        }
    }
    (endpoint,) = endpoints_from_openapi(spec)
    json.dumps(endpoint)


def test_randomly_corrupted_specs_never_raise() -> None:
    junk: list[Any] = [None, [], {}, "x", 0, 1.5, True, {"$ref": "#/"}, {"$ref": "#/paths"}]
    junk += [{"$ref": "#/components/schemas/User"}, {"$ref": "http://elsewhere"}, [None, {}]]
    rng = random.Random(1234)
    original = real_spec()
    for _ in range(400):
        spec = copy.deepcopy(original)
        for _ in range(rng.randint(1, 6)):
            node, parents = spec, []
            while isinstance(node, dict | list) and node and rng.random() < 0.85:
                key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
                parents.append((node, key))
                node = node[key]
            if parents:
                parent, key = parents[-1]
                parent[key] = copy.deepcopy(rng.choice(junk))
        json.dumps(endpoints_from_openapi(spec))


def test_a_module_with_python_312_type_syntax_is_read_without_it() -> None:
    """fastapi-nano's auth module declares ``type UserRecord = …`` (Python 3.12): this
    interpreter's parser failed on it, and the module's POST /token went unseen."""
    files = {
        "svc/main.py": b"from fastapi import FastAPI\nfrom svc.auth import router\n"
        b"app = FastAPI()\napp.include_router(router)\n",
        "svc/auth.py": b"""from fastapi import APIRouter
router = APIRouter()
type UserRecord = dict[str, str]
class Box[T]:
    item: T
def first[T](items: list[T]) -> T:
    return items[0]
@router.post("/token")
def token() -> dict:
    return {}
""",
    }
    found = {(e["method"], e["path"]) for e in endpoints_from_source(files)}
    assert ("POST", "/token") in found
    broken = {**files, "svc/auth.py": files["svc/auth.py"] + b"def nope(:\n"}
    assert ("POST", "/token") not in {
        (e["method"], e["path"]) for e in endpoints_from_source(broken)
    }
