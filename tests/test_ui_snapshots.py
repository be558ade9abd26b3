"""The Snapshots card in a real browser: Save the running app's data, change it through
the service, Diff the two snapshots, Restore the first and the app has its rows back."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from .api.test_snapshots import items_app
from .conftest import SERVER_COMMAND, Service, auth
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser


async def test_save_diff_and_restore_from_the_card(service: Service) -> None:
    require_browser()
    with trio.fail_after(120):
        gid = await service.upload(items_app("sqlite"))
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text
    preview_token = launched.json()["previewToken"]

    def app_call(method: str, path: str, body: Any = None) -> Any:
        envelope = {"method": method, "path": path, **({"body": body} if body else {})}
        answer = httpx.post(
            f"{service.url}/api/generations/{gid}/preview/request",
            json=envelope,
            headers={**auth(), "X-Preview-Token": preview_token},
            trust_env=False,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        app_call("POST", "/items", {"name": "apple"})
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#snapshots-card:not([hidden])")
            page.click("#snapshots-details summary")
            # Said where a snapshot is made: a new launch starts without the app's data.
            seen["why"] = page.is_visible("#snapshot-why") and page.text_content("#snapshot-why")
            page.fill("#snapshot-name", "one apple")
            page.click("#snapshot-save")
            page.wait_for_selector("#snapshot-status:has-text('Saved one apple')")
            app_call("POST", "/items/1", {"name": "APPLE"})
            app_call("POST", "/items", {"name": "pear"})
            page.fill("#snapshot-name", "two")
            page.click("#snapshot-save")
            page.wait_for_selector("#snapshot-list li:nth-child(2)")
            seen["rows"] = page.eval_on_selector_all(
                "#snapshot-list li", "ls => ls.map(l => l.querySelector('.mono').textContent)"
            )
            seen["first_diff_disabled"] = page.is_disabled("button[aria-label='Diff of one apple']")
            page.click("button[aria-label='Diff of two']")
            page.wait_for_selector("#file-viewer:not([hidden])")
            seen["title"] = page.text_content("#file-viewer-path")
            seen["diff"] = page.text_content("#file-viewer-text")
            page.click("button[aria-label='Restore one apple']")
            page.wait_for_selector("#snapshot-status:has-text('Restored one apple')")
            seen["after_restore"] = app_call("GET", "/items")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert "not across a stop and a new launch" in " ".join(seen["why"].split()), seen["why"]
    assert seen["rows"] == ["two", "one apple"]  # newest first
    assert seen["first_diff_disabled"]
    assert seen["title"] == "two (from one apple)"
    assert "items (changed): +1 −0 ~1" in seen["diff"]
    assert '+ {"id":2,"name":"pear"}' in seen["diff"]
    assert '~ {"id":1,"name":"apple"} → {"id":1,"name":"APPLE"}' in seen["diff"]
    assert seen["after_restore"] == [[1, "apple"]]
