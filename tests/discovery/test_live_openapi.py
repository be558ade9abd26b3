"""Live discovery follows the app: its own openapi_url read from source, else the common
places probed, against a real running FastAPI app."""

from __future__ import annotations

import pytest
import trio

from preview.discovery import COMMON_OPENAPI_PATHS, docs_location, openapi_locations

from ..conftest import Service, auth

SETTINGS_APP = """
from fastapi import FastAPI


class Settings:
    API_V1_STR: str = "/api/v2"


settings = Settings()
app = FastAPI(openapi_url=f"{settings.API_V1_STR}/openapi.json")


@app.get("/api/v2/things/{thing_id}")
def thing(thing_id: int) -> dict:
    return {"id": thing_id}
"""

PROBED_APP = """
import os

from fastapi import FastAPI

app = FastAPI(openapi_url=os.environ.get("OPENAPI_AT", "/api/v1/openapi.json"))


@app.get("/api/v1/ping")
def ping() -> dict:
    return {}
"""


def test_a_node_apps_document_where_its_source_says() -> None:
    # w3cj/hono-open-api-starter (src/lib/configure-open-api.ts), and NestJS's docs setup.
    hono = b'export default function configureOpenAPI(app) {\n  app.doc("/doc", {\n'
    nest = b"SwaggerModule.setup('api', app, document);\n"
    found = openapi_locations({"src/lib/configure-open-api.ts": hono, "src/main.ts": nest})
    assert found[:2] == ["/doc", "/api-json"]
    assert found[2:] == list(COMMON_OPENAPI_PATHS)
    vendored = {"node_modules/x/index.js": hono, "package.json": b'{"name": "x"}'}
    assert openapi_locations(vendored) == []  # nothing of its own suggests a document


def test_the_common_places_are_probed_only_where_the_source_suggests_a_document() -> None:
    """Each probe is a 404 in the app's own log: an Express app with no document logged
    24 of them right after it started (8 places, asked 3 times)."""
    express = {
        "package.json": b'{"dependencies": {"express": "^4"}}',
        "app.js": b'const app = require("express")();\napp.get("/", (q, r) => r.send("hi"));\n',
    }
    assert openapi_locations(express) == []
    documented = {**express, "package.json": b'{"dependencies": {"swagger-ui-express": "^5"}}'}
    assert openapi_locations(documented) == list(COMMON_OPENAPI_PATHS)
    flask = {"app.py": b"from flask import Flask\napp = Flask(__name__)\n"}
    assert openapi_locations(flask) == []
    restx = {**flask, "requirements.txt": b"flask-restx\n"}
    assert openapi_locations(restx) == list(COMMON_OPENAPI_PATHS)


def test_locations_read_from_source() -> None:
    located = openapi_locations({"main.py": SETTINGS_APP.encode()})
    assert located[0] == "/api/v2/openapi.json"
    assert located[1:] == list(COMMON_OPENAPI_PATHS)
    assert openapi_locations({"main.py": PROBED_APP.encode()}) == list(COMMON_OPENAPI_PATHS)
    off = b"from fastapi import FastAPI\napp = FastAPI(openapi_url=None)\n"
    assert openapi_locations({"main.py": off}) == []
    joined = b'P = "/x"\nfrom fastapi import FastAPI\napp = FastAPI(openapi_url=P + "/o.json")\n'
    assert openapi_locations({"a.py": joined})[0] == "/x/o.json"


def test_docs_location_read_from_source() -> None:
    def docs(call: str, prefix: str = "") -> str | None:
        return docs_location(
            {"main.py": f"{prefix}from fastapi import FastAPI\napp = {call}\n".encode()}
        )

    assert docs("FastAPI()") == "/docs"  # FastAPI's default
    assert docs('FastAPI(docs_url="/reference")') == "/reference"
    assert docs('FastAPI(docs_url=f"{P}/swagger")', 'P = "/api"\n') == "/api/swagger"
    assert docs("FastAPI(docs_url=None)") is None
    assert docs("FastAPI(openapi_url=None)") is None  # the page needs the document
    assert docs('FastAPI(docs_url=os.environ["DOCS"])') is None  # known only at run time
    assert docs_location({"app.py": b"from flask import Flask\napp = Flask(__name__)\n"}) is None


# The endpoints asked for are the app's document, however slowly it is found: CI once
# listed a loaded app's route table after its three 404s took over 2 s.
SLOW_APP = """
import os
import time

from fastapi import FastAPI, HTTPException

app = FastAPI(openapi_url=os.environ.get("OPENAPI_AT", "/api/v1/openapi.json"))


@app.get("/api/v1/ping")
def ping() -> dict:
    return {}


@app.get("/openapi.json", include_in_schema=False)
@app.get("/api/openapi.json", include_in_schema=False)
def slow_nothing() -> None:
    time.sleep(1.5)  # a loaded machine's capped app: the first two places take 3 s
    raise HTTPException(404)
"""


@pytest.mark.parametrize(
    ("source", "path"),
    [
        (SETTINGS_APP, "/api/v2/things/{thing_id}"),
        (PROBED_APP, "/api/v1/ping"),
        (SLOW_APP, "/api/v1/ping"),
    ],
)
async def test_live_openapi_at_the_apps_own_place(service: Service, source: str, path: str) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"main.py": source})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        response = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        body = response.json()
        assert body["discoveredFrom"] == "openapi" and body["live"] is True, body
        assert [e["path"] for e in body["endpoints"]] == [path]
        assert (await service.stop(gid)).status_code == 200
        # Stopped: the last run's list, not the thinner source's.
        after = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        assert after.json()["discoveredFrom"] == "openapi" and after.json()["live"] is False
        assert after.json()["endpoints"] == body["endpoints"]


async def test_a_revision_applied_live_lists_its_own_routes_and_docs(service: Service) -> None:
    """The preview keeps its id through a swap, but not its routes: what was read from
    revision 1's process (its OpenAPI, its docs page) is not revision 2's."""
    first = (
        "from fastapi import FastAPI\napp = FastAPI()\n\n\n"
        "@app.get('/items')\ndef items() -> list:\n    return []\n"
    )
    second = first.replace("FastAPI()", "FastAPI(docs_url='/manual')") + (
        "\n\n@app.get('/stats')\ndef stats() -> dict:\n    return {}\n"
    )

    async def endpoints() -> dict:
        response = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        return response.json()

    with trio.fail_after(90):
        gid = await service.upload({"main.py": first})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        before = await endpoints()
        assert [e["path"] for e in before["endpoints"]] == ["/items"]
        assert before["docsPath"] == "/docs"
        posted = await service.client.post(
            f"/api/generations/{gid}/revisions", json={"files": {"main.py": second}}, headers=auth()
        )
        assert posted.status_code == 201 and posted.json()["applied"] is True, posted.text
        after = await endpoints()
        assert after["discoveredFrom"] == "openapi" and after["live"] is True
        assert [e["path"] for e in after["endpoints"]] == ["/items", "/stats"]
        assert after["docsPath"] == "/manual"
        assert (await service.stop(gid)).status_code == 200
        stopped = await endpoints()
        assert [e["path"] for e in stopped["endpoints"]] == ["/items", "/stats"]
