"""A generation's revisions in a real browser: listed with what they changed, newest
first, each with its diff in the file viewer."""

from __future__ import annotations

from typing import Any

import trio

from .conftest import Service, auth, server_app
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser


async def test_revisions_are_listed_with_their_diffs(service: Service) -> None:
    require_browser()
    with trio.fail_after(60):
        plain = await service.upload(server_app())
        gid = await service.upload(server_app(**{"notes.txt": "one\n"}))
        for files in ({"notes.txt": "two\n"}, {"requirements.txt": "httpx\n", "notes.txt": None}):
            posted = await service.client.post(
                f"/api/generations/{gid}/revisions", json={"files": files}, headers=auth()
            )
            assert posted.status_code == 201, posted.text

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, plain)
            page.wait_for_selector("#files-card:not([hidden])")
            seen["plain_hidden"] = page.is_hidden("#revisions-card")  # only its upload
            _select(page, gid)
            page.wait_for_selector("#revisions-card:not([hidden])")
            page.click("#revisions-details summary")
            seen["rows"] = page.eval_on_selector_all(
                "#revision-list li button", "bs => bs.map(b => [b.textContent, b.disabled])"
            )
            page.click("button[aria-label='Diff of revision 2']")
            page.wait_for_selector("#file-viewer:not([hidden])")
            seen["title"] = page.text_content("#file-viewer-path")
            seen["diff"] = page.text_content("#file-viewer-text")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["plain_hidden"]
    assert seen["rows"] == [
        ["#3 · 2 files, dependencies", False],
        ["#2 · 1 file", False],
        ["#1 · upload", True],
    ]
    assert seen["title"] == "revision 2 (from 1)"
    assert "-one" in seen["diff"] and "+two" in seen["diff"]
