"""Issue 69 in a real browser: the endpoints card's latency table of the calls made so
far, a JSON log line's fields in the line detail, and a note pinned to a line from it."""

from __future__ import annotations

import json
from typing import Any

import trio

from .api.jsonlog_app import call, launched, observed_service
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

BOOM_LINE = '"message": "boom"'  # the app's JSON line (not the proxy's line of the call)


async def test_latency_table_and_a_json_lines_fields(settings: Any) -> None:
    require_browser()
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            for path in ("/items/1", "/items/2", "/boom"):
                await call(service, preview, path)

            def script(url: str) -> dict[str, Any]:
                seen: dict[str, Any] = {}
                with browser_page() as (page, log):
                    _sign_in(page, url)
                    _select(page, gid)
                    page.wait_for_selector("#latency:not([hidden]) #latency-rows tr >> nth=1")
                    seen["rows"] = page.eval_on_selector_all(
                        "#latency-rows tr",
                        "rows => rows.map(r => [...r.cells].slice(0, 3).map(c => c.textContent))",
                    )
                    row = page.wait_for_selector(
                        f"#terminal-rows .row:has-text({json.dumps(BOOM_LINE)})"
                    )
                    row.click()
                    page.wait_for_selector("#line-detail-fields:not([hidden])")
                    seen["fields"] = page.eval_on_selector_all(
                        "#line-detail-fields dt, #line-detail-fields dd",
                        "cells => cells.map(c => c.textContent)",
                    )
                    page.click("#line-detail-close")
                    page.wait_for_selector(
                        f"#terminal-rows .row:has-text({json.dumps('plain line')})"
                    ).click()
                    page.wait_for_selector("#line-detail:not([hidden])")
                    seen["plain_hidden"] = page.is_hidden("#line-detail-fields")
                    # A note pinned to that line: said in the terminal, to everyone watching.
                    seen["line"] = page.text_content("#line-detail-title")
                    page.fill("#line-detail-note-text", "where does this come from?")
                    page.click("#line-detail-note button[type=submit]")
                    said = page.wait_for_selector(
                        "#terminal-rows .row:has-text('where does this come from?')"
                    )
                    seen["note"] = said.text_content()
                    seen["status"] = page.text_content("#line-detail-status")
                    log.assert_clean()
                return seen

            seen = await in_browser(script, service.url)
            await service.stop(gid)
    assert seen["rows"] == [["GET /items/{item_id}", "2", "0"], ["GET /boom", "1", "1"]]
    assert seen["fields"] == [
        "level", "error", "message", "boom", "userId", "7", "request", '{"path":"/boom"}',
    ]  # fmt: skip
    assert seen["plain_hidden"] is True
    seq = seen["line"].removeprefix("Line ")
    assert f"alice on line {seq}: where does this come from?" in seen["note"]
    assert seen["status"].startswith("Note pinned")
