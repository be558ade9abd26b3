"""Issue 69 in a real browser: the endpoints card's latency table of the calls made so
far, a JSON log line's fields in the line detail, and a note pinned to a line from it."""

from __future__ import annotations

import json
from typing import Any

import trio

from .api.jsonlog_app import call, launched, observed_service
from .conftest import auth
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
                    # The note's line can reach the terminal through the stream before
                    # the pin's own answer fills the status: wait for that answer.
                    page.wait_for_function(
                        "() => document.querySelector('#line-detail-status').textContent"
                    )
                    seen["status"] = page.text_content("#line-detail-status")
                    log.assert_clean()
                return seen

            seen = await in_browser(script, service.url)
            await service.stop(gid)
    assert seen["rows"] == [["GET /items/{item_id}", "2", "0"], ["GET /boom", "1", "1"]]
    assert seen["fields"] == [
        "level",
        "error",
        "message",
        "boom",
        "userId",
        "7",
        "request",
        '{"path":"/boom"}',
    ]
    assert seen["plain_hidden"] is True
    seq = seen["line"].removeprefix("Line ")
    assert f"alice on line {seq}: where does this come from?" in seen["note"]
    assert seen["status"].startswith("Note pinned")


# The terminal's rows that are one of the app's records naming a user (JSON or logfmt).
USER_ROWS = """() => [...document.querySelectorAll('#terminal-rows .row')]
    .map(row => row.textContent).filter(text => /userId/.test(text) && !/plain line/.test(text))"""


async def test_a_fields_value_filters_the_terminal_and_its_comparison_can_change(
    settings: Any,
) -> None:
    """A JSON line's field clicked in its detail filters the terminal by it (a chip in
    the toolbar, the filtered download asking the same of the service); between numbers
    the chip's comparison changes to ≥ or > (a logfmt line's text that is a number
    compared as one); removing it shows every line again."""
    require_browser()
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            for path in ("/items/1", "/items/8", "/boom", "/gone"):
                await call(service, preview, path)

            def script(url: str) -> dict[str, Any]:
                seen: dict[str, Any] = {}
                with browser_page() as (page, log):
                    _sign_in(page, url)
                    _select(page, gid)
                    page.wait_for_selector("#terminal-rows .row:has-text('item gone')")
                    page.wait_for_selector(
                        f"#terminal-rows .row:has-text({json.dumps(BOOM_LINE)})"
                    ).click()
                    page.click("#line-detail-fields dd button:text-is('7')")
                    page.wait_for_selector("#field-filters:not([hidden]) .field-chip")
                    page.wait_for_function(f"() => ({USER_ROWS})().length === 1")
                    seen["equal"] = page.evaluate(USER_ROWS)
                    seen["chip"] = page.text_content(".field-chip")
                    for op in (">=", ">"):
                        page.select_option(".field-chip select", op)
                        page.wait_for_function(
                            f"() => ({USER_ROWS})().length === {3 if op == '>=' else 2}"
                        )
                        seen[op] = page.evaluate(USER_ROWS)
                        seen[f"href {op}"] = page.get_attribute("#download-filtered", "href")
                    page.click(".field-remove")
                    page.wait_for_function(f"() => ({USER_ROWS})().length === 4")
                    seen["chips_hidden"] = page.is_hidden("#field-filters")
                    log.assert_clean()
                return seen

            seen = await in_browser(script, service.url)
            answer = await service.client.get(seen["href >"], headers=auth())
            await service.stop(gid)
    assert len(seen["equal"]) == 1 and '"userId": 7' in seen["equal"][0]
    assert seen["chip"].startswith("userId") and seen["chip"].endswith("7×")
    assert ['"userId": 7' in r or '"userId": 8' in r or "userId=9" in r for r in seen[">="]] == [
        True
    ] * 3
    assert not any('"userId": 7' in row for row in seen[">"])
    assert "field.userId%3E=7" in seen["href >="]
    assert "field.userId%3E7=" in seen["href >"]
    assert answer.status_code == 200, answer.text
    downloaded = answer.text.splitlines()
    assert len(downloaded) == 2 and all("userId" in line for line in downloaded), downloaded
    assert seen["chips_hidden"] is True


async def test_an_alert_that_fires_while_the_page_is_open_is_a_toast(settings: Any) -> None:
    require_browser()
    with trio.fail_after(180):
        async with observed_service(settings) as service:
            preview = await launched(service)
            gid = preview["gid"]
            rules = f"/api/generations/{gid}/alerts"
            made = await service.client.post(
                rules, json={"pattern": "bo+m", "name": "booms"}, headers=auth()
            )
            assert made.status_code == 201, made.text

            def script(url: str) -> dict[str, Any]:
                with browser_page() as (page, log):
                    _sign_in(page, url)
                    _select(page, gid)
                    page.wait_for_selector("#status-badge[data-status='running']")
                    trio.from_thread.run(call, service, preview, "/boom")
                    toast = page.wait_for_selector(".toast:has-text(\"alert 'booms'\")")
                    seen = {"toast": toast.text_content(), "kind": toast.get_attribute("class")}
                    page.click(".toast-close")
                    page.wait_for_selector(".toast", state="detached")
                    log.assert_clean()
                    return seen

            seen = await in_browser(script, service.url)
            await service.stop(gid)
    assert seen["toast"].startswith("alert 'booms': line "), seen
    assert "toast-error" in seen["kind"]  # the app's line was an ERROR
