"""The request tester fills a request body from the endpoint's schema, as Swagger UI does,
and the endpoints of a stopped preview stay its last run's (live OpenAPI) list."""

from __future__ import annotations

import json

from .conftest import Service
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

TODO_APP = """
from enum import Enum

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Priority(str, Enum):
    low = "low"
    high = "high"


class TodoIn(BaseModel):
    title: str
    description: str | None = None
    priority: Priority = Priority.low
    tags: list[str] = []


@app.get("/api/todos")
def todos() -> list[dict]:
    return []


@app.post("/api/todos")
def create(todo: TodoIn) -> dict:
    return todo.model_dump()
"""


async def test_try_prefills_the_body_from_the_schema_and_a_stop_keeps_the_list(
    service: Service,
) -> None:
    require_browser()
    gid = await service.upload({"main.py": TODO_APP})
    launched = await service.launch(gid)
    assert launched.json()["status"] == "running", launched.text

    def script(url: str) -> tuple[dict, str, str, str]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#endpoints-origin:has-text('live OpenAPI')")
            page.click("button[aria-label='Try POST /api/todos']")
            body = json.loads(page.input_value("#tester-body"))
            page.click("#tester-send")
            page.wait_for_selector("#tester-response:not([hidden])")
            sent = page.text_content("#response-status")
            page.click("#stop")
            page.wait_for_selector("#status-badge[data-status='stopped']")
            page.reload()
            page.wait_for_selector("#app:not([hidden])")
            _select(page, gid)
            page.wait_for_selector("#endpoints-origin:has-text('last run')")
            listed = page.eval_on_selector_all(
                "#endpoint-list .endpoint-path", "e => e.map(x => x.textContent).join(' ')"
            )
            log.assert_clean()
            return body, page.text_content("#endpoints-origin"), listed, sent

    body, origin, listed, sent = await in_browser(script, service.url)
    assert body == {"title": "string", "description": "string", "priority": "low", "tags": []}
    assert sent == "200"  # the example is a valid body
    assert "last run" in origin and "/api/todos" in listed
