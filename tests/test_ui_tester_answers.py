"""The request tester, in Chromium (issue 63, item 10): "Try" fills a path parameter
(an Express app's `/items/:id`) with an id seen in the list route's answer, else a
guess, and says which part it filled in; a 204 reads "204 No Content" with an empty
body; a call that fails shows its error with the answer before it kept, labelled as the
previous request's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio

from preview.settings import Settings

from .conftest import SERVER_COMMAND, Service, server_app
from .ports_in_range import service_in_range
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

# A stdlib app answering JSON, with the source of an Express app beside it: its routes
# (and their `:id`) are what the service reads for the endpoints list.
ITEMS = """
import json
class Items(Handler):
    def answer(self, status, data=None):
        body = b"" if data is None else json.dumps(data).encode()
        self.send_response(status)
        if data is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/items":
            return self.answer(200, [{"id": 7, "name": "seven"}, {"id": 8, "name": "eight"}])
        if self.path.startswith("/items/"):
            return self.answer(200, {"id": int(self.path[7:]), "name": "seven"})
        super().do_GET()
    def do_DELETE(self):
        self.answer(204)
Handler = Items
"""
EXPRESS = """const express = require('express');
const app = express();
app.get('/items', (req, res) => res.json(items));
app.get('/items/:id', (req, res) => res.json(items[req.params.id]));
app.delete('/items/:id', (req, res) => res.status(204).end());
app.listen(process.env.PORT);
"""
APP = server_app(
    before_serving=ITEMS,
    **{
        "index.js": EXPRESS,
        "package.json": json.dumps({"name": "shop", "dependencies": {"express": "^4"}}),
    },
)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    async with service_in_range(settings, 23300, 23399) as running:
        yield running


def _try(page: Any, label: str) -> dict[str, Any]:
    page.click(f"button[aria-label='Try {label}']")
    return page.evaluate(
        """() => { const input = document.getElementById('tester-path');
            const filled = document.getElementById('tester-filled');
            return {path: input.value,
                    selected: input.value.slice(input.selectionStart, input.selectionEnd),
                    filled: filled && !filled.hidden ? filled.textContent : null}; }"""
    )


def _send(page: Any, status: str) -> None:
    page.click("#tester-send")
    page.wait_for_selector(f"#response-status:text-is('{status}')")


def _answer(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const text = (id) => { const e = document.getElementById(id);
                return e && !e.hidden ? e.textContent : null; };
            return {line: text('response-status') + ' ' + (text('response-reason') || ''),
                    body: text('response-body'), error: text('tester-error'),
                    previous: text('response-previous'),
                    shown: !document.getElementById('tester-response').hidden}; }"""
    )


async def test_an_id_filled_in_a_204_and_an_error_that_keeps_the_answer(service: Service) -> None:
    require_browser()
    with trio.fail_after(60):
        gid = await service.upload(APP)
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("button[aria-label='Try GET /items/{id}']")
            # No answer of the list yet: a guess, said to be one.
            seen["guessed"] = _try(page, "GET /items/{id}")
            _try(page, "GET /items")
            _send(page, "200")
            # The list answered: its first item's id, and where it came from.
            seen["seen"] = _try(page, "GET /items/{id}")
            _send(page, "200")
            seen["seen_answer"] = _answer(page)
            seen["delete"] = _try(page, "DELETE /items/{id}")
            _send(page, "204")
            seen["no_content"] = _answer(page)
            # The preview stops: the next call fails; the 204 stays, as the previous one.
            trio.from_thread.run(service.stop, gid)
            page.wait_for_selector("#status-badge[data-status='stopped']")
            page.click("#tester-send")
            page.wait_for_selector("#tester-error:not([hidden])")
            seen["failed"] = _answer(page)
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["guessed"] == {
        "path": "/items/1",
        "selected": "1",
        "filled": "Filled in: id = 1 (a guess)",
    }, seen
    assert seen["seen"] == {
        "path": "/items/7",
        "selected": "7",
        "filled": "Filled in: id = 7 (the answer to GET /items)",
    }, seen
    assert seen["seen_answer"]["line"] == "200 OK", seen
    assert seen["delete"]["path"] == "/items/7", seen
    no_content = seen["no_content"]
    assert no_content["line"] == "204 No Content", seen
    assert no_content["body"] == "(empty body: a 204 has none)", seen
    failed = seen["failed"]
    assert failed["error"].startswith(
        "This request failed (DELETE /items/7): 503 preview_not_running"
    ), failed
    assert failed["shown"] and failed["line"] == "204 No Content", failed
    assert failed["previous"] == (
        "The previous answer, to DELETE /items/7 (204), not to this request:"
    ), failed
