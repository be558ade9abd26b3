"""The History card in a real browser: the kept requests listed, Replay all against the
relaunched revision, and the one changed answer shown side by side with its difference."""

from __future__ import annotations

from typing import Any

import trio

from .conftest import Service, auth
from .history.conftest import app_files, launched, proxied
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser


async def test_history_lists_requests_and_replays_them_with_a_diff(service: Service) -> None:
    require_browser()
    with trio.fail_after(120):
        first = await launched(service, app_files())
        gid = first["gid"]
        for path in ("/items/1", "/items/2", "/items/9"):
            assert (await proxied(service, first, "GET", path)).status_code in (200, 404)
        revised = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": app_files(second="blueberry")},
            headers=auth(),
        )
        assert revised.status_code == 201, revised.text
        await service.stop(gid)
        await launched(service, {}, gid=gid)

    def script(url: str) -> dict[str, Any]:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout  # (require_browser)

        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#history-list li >> nth=2")
            seen["rows"] = page.eval_on_selector_all(
                "#history-list li",
                "rows => rows.map(r => [...r.querySelectorAll('.history-method, .history-path,"
                " .status-code')].map(e => e.textContent))",
            )
            page.click("#history-replay-all")
            try:
                page.wait_for_selector("#history-diff:not([hidden])")
            except PlaywrightTimeout:  # what the page said instead, not a bare timeout
                notice = page.text_content("#preview-error-text")
                summary = page.text_content("#history-summary")
                raise AssertionError(f"no diff: notice {notice!r}, summary {summary!r}") from None
            seen["summary"] = page.text_content("#history-summary")
            seen["verdicts"] = page.eval_on_selector_all(
                "#history-list li", "rows => rows.map(r => r.className)"
            )
            seen["title"] = page.text_content("#history-diff-title")
            seen["differences"] = page.text_content("#history-differences")
            seen["before"] = page.text_content("#history-before")
            seen["after"] = page.text_content("#history-after")
            seen["har"] = page.get_attribute("#history-har", "href")
            # The changed value is one the user knows changes: ignored from then on.
            page.click("button[aria-label='Ignore $.name in replays']")
            page.wait_for_function(
                "() => document.querySelector('#history-marked').textContent.includes('$.name')"
            )
            page.click("#history-replay-all")
            page.wait_for_function(
                "() => document.querySelector('#history-summary').textContent.endsWith("
                "'3 same, 0 changed')"
            )
            seen["summary_marked"] = page.text_content("#history-summary")
            page.click("#history-list li:nth-child(2) .history-path")
            seen["ignored"] = page.text_content("#history-ignored")
            page.click("button[aria-label='Compare $.name again in replays']")
            page.wait_for_function(
                "() => document.querySelector('#history-marked').textContent === ''"
            )
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    await service.stop(gid)
    assert seen["rows"] == [
        ["GET", "/items/9", "404"],
        ["GET", "/items/2", "200"],
        ["GET", "/items/1", "200"],
    ]
    assert seen["summary"] == "replayed 3 on revision 2: 2 same, 1 changed"
    assert seen["verdicts"] == ["replayed same", "replayed changed", "replayed same"]
    assert seen["title"] == "GET /items/2"
    assert '$.name: "banana" → "blueberry"' in seen["differences"]
    assert '"banana"' in seen["before"] and '"blueberry"' in seen["after"]
    assert seen["har"].endswith(f"/api/generations/{gid}/preview/requests.har")
    assert seen["summary_marked"] == "replayed 3 on revision 2: 3 same, 0 changed"
    assert "$.name" in seen["ignored"]
    marked = await service.client.get(
        f"/api/generations/{gid}/preview/requests/volatile", headers=auth()
    )
    assert marked.json()["paths"] == []  # forgotten again through the UI
