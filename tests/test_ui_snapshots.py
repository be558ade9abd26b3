"""The Snapshots card in a real browser: Save the running app's data, change it through
the service, Diff the two snapshots, Restore the first and the app has its rows back;
Restore and Delete ask first; at the preview's limit, Save says to delete one first
and each snapshot has its Delete (issue 63 §8)."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from preview import Settings

from .api.test_snapshots import items_app
from .conftest import SERVER_COMMAND, Service, auth, running_service
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
            page.once("dialog", lambda dialog: dialog.accept())
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


def _caller(service: Service, gid: str, preview_token: str) -> Any:
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

    return app_call


def _answer(page: Any, accept: bool, asked: list[str]) -> None:
    """The next window.confirm answered (OK or Cancel); its question kept."""

    def handle(dialog: Any) -> None:
        asked.append(f"{dialog.type}: {dialog.message}")
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", handle)


def _labels(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#snapshot-list li", "ls => ls.map(l => l.querySelector('.mono').textContent)"
    )


async def test_restore_and_delete_ask_first_and_the_limit_offers_delete(
    settings: Settings,
) -> None:
    require_browser()
    object.__setattr__(settings, "snapshots_per_preview", 2)
    async with running_service(settings) as service:
        with trio.fail_after(120):
            gid = await service.upload(items_app("sqlite"))
            launched = await service.launch(gid, command=SERVER_COMMAND)
            assert launched.json()["status"] == "running", launched.text
        app_call = _caller(service, gid, launched.json()["previewToken"])

        def script(url: str) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            asked: list[str] = []
            app_call("POST", "/items", {"name": "apple"})
            with browser_page() as (page, log):
                _sign_in(page, url)
                _select(page, gid)
                page.wait_for_selector("#snapshots-card:not([hidden])")
                page.click("#snapshots-details summary")
                for name in ("one", "two"):
                    page.fill("#snapshot-name", name)
                    page.click("#snapshot-save")
                    page.wait_for_selector(f"#snapshot-status:has-text('Saved {name}')")
                app_call("POST", "/items/1", {"name": "APPLE"})

                # The third is one too many: the card says to delete one, Delete is there.
                page.fill("#snapshot-name", "three")
                page.click("#snapshot-save")
                page.wait_for_selector("#snapshot-status:has-text('delete one first')")
                seen["limit"] = page.text_content("#snapshot-status")
                seen["at_limit"] = _labels(page)
                seen["deletes"] = page.eval_on_selector_all(
                    "#snapshot-list li button", "bs => bs.map(b => b.getAttribute('aria-label'))"
                )
                seen["focused"] = page.evaluate("document.activeElement.getAttribute('aria-label')")

                # Restore, cancelled: nothing restored.
                _answer(page, False, asked)
                page.click("button[aria-label='Restore one']")
                page.evaluate("new Promise(r => setTimeout(r, 300))")
                seen["status_dismissed"] = page.text_content("#snapshot-status")
                seen["items_dismissed"] = app_call("GET", "/items")
                # Restore, confirmed: restored.
                _answer(page, True, asked)
                page.click("button[aria-label='Restore one']")
                page.wait_for_selector("#snapshot-status:has-text('Restored one')")
                seen["items_restored"] = app_call("GET", "/items")

                # Delete, cancelled: still there; confirmed: gone, and Save works again.
                _answer(page, False, asked)
                page.click("button[aria-label='Delete two']")
                page.evaluate("new Promise(r => setTimeout(r, 300))")
                seen["kept"] = _labels(page)
                _answer(page, True, asked)
                page.click("button[aria-label='Delete two']")
                page.wait_for_selector("#snapshot-status:has-text('Deleted two')")
                # A function, not an expression: Playwright evaluates a bare expression
                # with eval, which the UI's Content-Security-Policy refuses.
                page.wait_for_function(
                    "() => document.querySelectorAll('#snapshot-list li').length === 1"
                )
                seen["after_delete"] = _labels(page)
                seen["count"] = page.text_content("#snapshots-count")
                page.fill("#snapshot-name", "three")
                page.click("#snapshot-save")
                page.wait_for_selector("#snapshot-status:has-text('Saved three')")
                # The status is said before the list is drawn again: read it once it is.
                page.wait_for_function(
                    "() => document.querySelectorAll('#snapshot-list li').length === 2"
                )
                seen["after_save"] = _labels(page)
                seen["asked"] = asked
                log.assert_clean()
            return seen

        seen = await in_browser(script, service.url)
        listed = (
            await service.client.get(f"/api/generations/{gid}/preview/snapshots", headers=auth())
        ).json()["snapshots"]
    assert "at most 2 snapshots" in seen["limit"] and "delete one first" in seen["limit"]
    assert seen["at_limit"] == ["two", "one"]
    assert {"Delete one", "Delete two"} <= set(seen["deletes"])
    assert seen["focused"] == "Delete one"  # the oldest: one key press to free a place
    assert "Restor" not in seen["status_dismissed"]
    assert seen["items_dismissed"] == [[1, "APPLE"]]
    assert seen["items_restored"] == [[1, "apple"]]
    assert seen["kept"] == ["two", "one"]
    assert seen["after_delete"] == ["one"] and seen["count"] == "(1)"
    assert seen["after_save"] == ["three", "one"]
    assert [s["name"] for s in listed] == ["one", "three"]
    assert [q.split(":")[0] for q in seen["asked"]] == ["confirm"] * 4
    assert all("Restore one?" in q for q in seen["asked"][:2]), seen["asked"]
    assert all("Delete the snapshot two?" in q for q in seen["asked"][2:]), seen["asked"]
