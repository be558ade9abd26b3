"""Issue 69, item 1, the UI's part, with three users in Chromium: the owner shares a
running preview (with a viewer, a caller, and as a link) and lists the shares; the viewer
opens it from "Shared with me", read-only (no launch, stop or tester), sees who watches
and the owner's app's lines live, and sees its access end when the owner revokes it; the
caller sends a request through the tester; a link opened by another user is redeemed."""

from __future__ import annotations

from typing import Any

import trio

from .api.jsonlog_app import APP, COMMAND
from .conftest import Service, auth, token
from .ui_helpers import browser_page, in_browser, require_browser


def _sign_in_as(page: Any, url: str, user: str, fragment: str = "") -> None:
    page.goto(f"{url}/#token={token(user)}{fragment}")
    page.wait_for_selector("#app:not([hidden])")


def _open_shared(page: Any, gid: str) -> None:
    page.click(f"#shared-list button[data-gid='{gid}']")
    page.wait_for_selector(f"#preview-subtitle:has-text('{gid}')")
    page.wait_for_selector("#status-badge[data-status='running']")


async def test_owner_shares_viewer_watches_live_caller_calls(service: Service) -> None:
    require_browser()
    with trio.fail_after(300):
        gid = await service.upload({"app.py": APP})
        launched = await service.launch(gid, command=COMMAND)
        assert launched.json()["status"] == "running", launched.text
        token_of_alice = launched.json()["previewToken"]

        def owner(url: str) -> dict[str, Any]:
            with browser_page() as (page, log):
                _sign_in_as(page, url, "alice")
                page.click(f"#generation-list button[data-gid='{gid}']")
                page.click("summary:has-text('Sharing')")
                for user, role in (("bob", "viewer"), ("carol", "caller")):
                    page.fill("#share-user", user)
                    page.select_option("#share-role", role)
                    page.click("#share-submit")
                    page.wait_for_selector(f"#share-list li:has-text('{user}: {role}')")
                page.select_option("#share-role", "viewer")
                page.click("#share-submit")  # no user: a link
                page.wait_for_selector("#share-link:not([hidden])")
                link = page.input_value("#share-link-url")
                page.wait_for_selector("#share-list li:has-text('a link: viewer')")
                rows = page.eval_on_selector_all("#share-list li", "e => e.map(x => x.textContent)")
                log.assert_clean()
                return {"link": link, "rows": rows}

        made = await in_browser(owner, service.url)
        assert len(made["rows"]) == 3 and "#share=" in made["link"], made

        async def app_line() -> None:  # the owner's call: the app prints "item read" 4242
            response = await service.client.post(
                f"/api/generations/{gid}/preview/request",
                json={"method": "GET", "path": "/items/4242"},
                headers={**auth(), "X-Preview-Token": token_of_alice},
            )
            assert response.status_code == 200, response.text

        async def revoke(user: str) -> None:
            listed = await service.client.get(f"/api/generations/{gid}/shares", headers=auth())
            (share,) = [s for s in listed.json()["shares"] if s["user"] == user]
            gone = await service.client.delete(
                f"/api/generations/{gid}/shares/{share['id']}", headers=auth()
            )
            assert gone.status_code == 200, gone.text

        def viewer(url: str) -> dict[str, Any]:
            with browser_page() as (page, log):
                _sign_in_as(page, url, "bob")
                _open_shared(page, gid)
                page.wait_for_selector("#presence:has-text('bob')")
                seen = {
                    "note": page.text_content("#access-note"),
                    "stop": page.is_visible("#stop"),
                    "launch": page.is_visible("#launch"),
                    "tester": page.is_visible("#tester-send"),
                    "sharing": page.is_visible("#share-card"),
                }
                trio.from_thread.run(app_line)
                page.wait_for_selector("#terminal-rows .row:has-text('4242')")
                trio.from_thread.run(revoke, "bob")
                page.wait_for_selector("text=Your access to this preview ended")
                log.assert_clean()
                return seen

        seen = await in_browser(viewer, service.url, within=150)
        assert seen == {
            "note": "Shared with you: you may watch (read-only).",
            "stop": False,
            "launch": False,
            "tester": False,
            "sharing": False,
        }, seen
        gone = await service.client.get(
            f"/api/generations/{gid}/preview/status", headers=auth("bob")
        )
        assert gone.status_code == 404

        def caller(url: str) -> dict[str, Any]:
            with browser_page() as (page, log):
                _sign_in_as(page, url, "carol")
                _open_shared(page, gid)
                stop_shown = page.is_visible("#stop")
                page.fill("#tester-path", "/items/7")
                page.click("#tester-send")
                page.wait_for_selector("#response-status:has-text('200')")
                log.assert_clean()
                return {"stop": stop_shown}

        assert await in_browser(caller, service.url, within=120) == {"stop": False}

        def link_holder(url: str, link: str) -> str:
            with browser_page() as (page, log):
                _sign_in_as(page, url, "dave", "&" + link.split("#", 1)[1])
                page.wait_for_selector(f"#preview-subtitle:has-text('{gid}')")
                page.wait_for_selector("#access-note:not([hidden])")
                log.assert_clean()
                return page.text_content("#access-note") or ""

        assert "read-only" in await in_browser(link_holder, service.url, made["link"])
        await service.stop(gid)
