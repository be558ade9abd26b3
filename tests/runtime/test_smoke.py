"""The smoke check: once running, each parameterless GET route is called once and any
answer of 500 or more (or none) is reported in the status and the log."""

from __future__ import annotations

import pytest
import trio

from preview import Settings

from ..conftest import Service, auth, eventually

APP = """
import asyncio
import time

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.get("/ok")
def ok() -> dict:
    return {"ok": True}


@app.get("/broken")
def broken() -> dict:
    raise RuntimeError("no such table: todos")


@app.get("/items/{item_id}")
def item(item_id: int) -> dict:  # needs a parameter: not called
    raise RuntimeError("called")


@app.get("/search")
def search(q: str) -> dict:  # a required query parameter: not called
    raise RuntimeError("called")


@app.get("/hidden", include_in_schema=False)
def hidden() -> dict:  # left out of its document: found in its own route table
    raise RuntimeError("hidden but broken")


@app.get("/slow")
def slow() -> dict:
    time.sleep(4)
    return {}


async def forever():
    while True:
        await asyncio.sleep(60)
        yield "data: tick\\n\\n"


@app.get("/events")
def events() -> StreamingResponse:  # an event stream: its answer never ends, yet it answered
    return StreamingResponse(forever(), media_type="text/event-stream")


STARTED = []


@app.get("/warming")
def warming() -> dict:  # its first call comes before its start is over (an unawaited sync)
    STARTED.append(1)
    if len(STARTED) == 1:
        raise RuntimeError("relation does not exist yet")
    return {}
"""


@pytest.fixture
def smoke_settings(settings: Settings) -> Settings:
    object.__setattr__(settings, "smoke_check", "on")
    return settings


async def test_smoke_check_reports_the_failing_routes(
    smoke_settings: Settings, service: Service
) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"main.py": APP})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        runtime = service.supervisor.for_generation(gid)
        await eventually(lambda: runtime.state.smoke is not None)
        health = (await service.status(gid))["health"]
        assert health["ok"] is False and health["checked"] == 6
        assert health["failing"] == [
            {"path": "/broken", "status": 500, "cause": "Internal Server Error"},
            {"path": "/hidden", "status": 500, "cause": "Internal Server Error"},
            {"path": "/slow", "status": None, "cause": "no answer within 2 s"},
        ]
        logs = await service.client.get(
            f"/api/generations/{gid}/preview/logs", headers=auth(), params={"limit": 1000}
        )
        events = logs.json()["events"]
        smoke = [e for e in events if e["message"].endswith("[smoke check]")]
        assert [e["source"] for e in smoke] == ["proxy"] * 6
        # A 500 is asked once more: /warming's start was not over, /broken is broken.
        again = [e["message"] for e in events if e["message"].endswith("[smoke check, again]")]
        assert [m.split(" in ")[0] for m in again] == [
            "GET /broken -> 500",
            "GET /hidden -> 500",
            "GET /warming -> 200",
        ]
        assert any(
            e["source"] == "system" and "3 of 6 GET routes fail: /broken (500)" in e["message"]
            for e in events
        )
        listing = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        listed = [e["path"] for e in listing.json()["endpoints"]]
        assert "/hidden" in listed and "/docs" not in listed, listed
        assert not any("called" in e["message"] for e in events)  # parameterised: not called
        assert (await service.stop(gid)).status_code == 200


# It answers before its start is over, and dies of a call that comes meanwhile, as a Node
# app listening before its unawaited createConnection() made its tables (melpcode's
# ts-typeorm-crud: ER_NO_SUCH_TABLE, an unhandled rejection, 80 ms after it answered).
SETTLING_APP = """
import os
import threading

from fastapi import FastAPI

app = FastAPI()
READY = threading.Event()


@app.on_event("startup")
def start() -> None:
    threading.Timer(0.5, READY.set).start()


@app.get("/items")
def items() -> list:
    if not READY.is_set():
        os._exit(1)
    return []
"""


async def test_the_smoke_check_lets_a_just_started_app_settle(
    smoke_settings: Settings, service: Service
) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"main.py": SETTLING_APP})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        runtime = service.supervisor.for_generation(gid)
        await eventually(lambda: runtime.state.smoke is not None)
        status = await service.status(gid)
        assert status["status"] == "running" and status["health"]["ok"] is True, status
        assert (await service.stop(gid)).status_code == 200


# Its routes answered only for the host it is bound to (as Flask before 3.1 with a
# SERVER_NAME): "not found" everywhere else.
HOST_BOUND_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.middleware("http")
async def only_its_host(request: Request, call_next):
    if request.headers.get("host") != "myapp.example.com":
        return JSONResponse({"error": "Not Found"}, status_code=404)
    return await call_next(request)


@app.get("/")
def index() -> dict:
    return {}


@app.get("/items")
def items() -> list:
    return []
"""


async def test_an_app_answering_404_on_every_route_is_reported(
    smoke_settings: Settings, service: Service
) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"main.py": HOST_BOUND_APP})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        said = await service.first_system_line(gid, "smoke check:")
        assert said == (
            "smoke check: all 2 GET routes it declares answer 404: the app serves none of them here"
        )
        health = (await service.status(gid))["health"]
        assert health == {"ok": True, "checked": 2, "notFound": 2, "failing": []}
        assert (await service.stop(gid)).status_code == 200


# Its routes answering 404 in their own words, its table empty (kaynanxd's
# fastapi-async-quiz-system: "Nenhuma questao encontrada no bd.").
EMPTY_TABLE_APP = """
from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/questions")
def questions() -> list:
    raise HTTPException(status_code=404, detail="No question in the database.")


@app.get("/quiz/random")
def random_quiz() -> list:
    raise HTTPException(status_code=404, detail="No question in the database.")
"""


async def test_routes_answering_404_in_their_own_words_are_served(
    smoke_settings: Settings, service: Service
) -> None:
    """A 404 in the app's own words is its route answering (a row not found), not a path
    it does not serve: the check says its routes answer."""
    with trio.fail_after(60):
        gid = await service.upload({"main.py": EMPTY_TABLE_APP})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        said = await service.first_system_line(gid, "smoke check:")
        assert said == "smoke check: 2 GET routes answer", said
        health = (await service.status(gid))["health"]
        assert health == {"ok": True, "checked": 2, "notFound": 0, "failing": []}
        assert (await service.stop(gid)).status_code == 200


# Every route failing slowly (JazzKriss21's Tourism-Django-Rest: Django's error page for a
# missing module, over 2 s each), twenty of them.
SLOW_APP = """
import time

from fastapi import FastAPI

app = FastAPI()
for number in range(6):
    app.get(f"/slow{number}")(lambda: time.sleep(4))
"""


async def test_the_smoke_check_calls_no_more_routes_after_a_few_gave_no_answer(
    smoke_settings: Settings, service: Service
) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"main.py": SLOW_APP})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        said = await service.first_system_line(gid, "smoke check:")
        assert said.startswith("smoke check: 3 of 3 GET routes fail: /slow0 (no answer)"), said
        health = (await service.status(gid))["health"]
        assert [f["path"] for f in health["failing"]] == ["/slow0", "/slow1", "/slow2"]
        assert (await service.stop(gid)).status_code == 200


# An app's OpenAPI document is the app's data: nested past Python's decoder (which raises
# RecursionError, not ValueError), it once failed the preview as "an error of the service".
DEEP_DOCUMENT_APP = """
from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI(openapi_url=None)


@app.get("/openapi.json")
def document() -> Response:
    return Response("[" * 100_000, media_type="application/json")


@app.get("/items")
def items() -> list:
    return []
"""


async def test_an_app_whose_document_nests_past_the_decoder_keeps_running(
    smoke_settings: Settings, service: Service
) -> None:
    with trio.fail_after(60):
        gid = await service.upload({"main.py": DEEP_DOCUMENT_APP})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        said = await service.first_system_line(gid, "smoke check:")
        assert said == "smoke check: 2 GET routes answer"  # /openapi.json is one of them
        status = await service.status(gid)
        assert status["status"] == "running" and status["health"]["ok"] is True, status
        listed = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        assert listed.status_code == 200, listed.text
        assert (await service.stop(gid)).status_code == 200
