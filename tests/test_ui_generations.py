"""The generations column in a real browser: drop to upload, the list's names, status
badges and last launch, rename, the file viewer, delete; disabled buttons that look it;
and the page at 390 px (a tap reaches the workspace, readable rows, 24 px targets)."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from typing import Any

import psutil
import trio

from .conftest import SERVER_COMMAND, Service, auth, server_app
from .test_ui import _sign_in, _until
from .ui_helpers import browser_page, in_browser, require_browser, screenshot

_DROP = """([name, data]) => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, {type: 'application/zip'}));
    const zone = document.getElementById('drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true}));
    zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));
}"""


def _zip(files: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


_TARGETS = "button, .chip, label.check, select, input[type=search], a, summary"


def _row_of(page: Any, gid: str) -> Any:
    return page.wait_for_selector(f"#generation-list li:has(button[data-gid='{gid}'])")


# Marks, in the page, when it has read the answer the test held back (its body read:
# what the page does with it runs in the microtasks that follow, before the next poll).
_MARK_HELD_READ = """
const read = Response.prototype.text;
window.__heldRead = new Promise((resolve) => { window.__markHeldRead = resolve; });
Response.prototype.text = async function () {
    const text = await read.call(this);
    if (this.headers.get('x-test-held')) Promise.resolve().then(() => window.__markHeldRead());
    return text;
};
"""


async def test_a_list_asked_before_a_delete_and_answered_after_it_does_not_bring_it_back(
    service: Service,
) -> None:
    """The list is asked again on many events (a preview's stop, a delete, a refresh), and
    answers may come out of order: one asked before a delete and answered after the
    delete's own drew the deleted generation back, for good (seen as a flaky delete)."""
    require_browser()
    kept = await service.upload(server_app())
    deleted = await service.upload(server_app())

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            page.add_init_script(_MARK_HELD_READ)
            _sign_in(page, url)
            page.wait_for_selector(f"#generation-list button[data-gid='{deleted}']")
            held: list[tuple[Any, Any]] = []

            def hold(route: Any) -> None:  # the first answered now (listing both), given later
                if held:
                    route.continue_()
                else:
                    held.append((route, route.fetch()))

            page.route("**/api/generations", hold)
            with page.expect_request("**/api/generations"):
                page.click("#generations-refresh")
            page.once("dialog", lambda dialog: dialog.accept())
            _row_of(page, deleted).query_selector("button[aria-label^='Delete']").click()
            gone = f"#generation-list button[data-gid='{deleted}']"
            page.wait_for_selector(gone, state="detached")
            route, answer = held[0]
            route.fulfill(response=answer, headers={**answer.headers, "x-test-held": "1"})
            # (a promise awaited, not a predicate polled: the page's CSP refuses eval)
            page.evaluate("() => window.__heldRead")
            seen["listed"] = page.eval_on_selector_all(
                "#generation-list button.generation", "e => e.map(b => b.dataset.gid)"
            )
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["listed"] == [kept], seen


async def test_drop_list_rename_view_and_delete(service: Service) -> None:
    require_browser()
    app = server_app()
    # Two that ran before: one stopped, one that failed to start.
    stopped = await service.upload(server_app())
    assert (await service.launch(stopped, command=SERVER_COMMAND)).json()["status"] == "running"
    assert (await service.stop(stopped)).status_code == 200
    failed = await service.upload(server_app(before_serving="raise SystemExit('no start')"))
    launched = (await service.launch(failed, command=SERVER_COMMAND)).json()
    assert launched["status"] == "failed", launched

    def badge(page: Any, gid: str) -> list[str]:
        return _row_of(page, gid).eval_on_selector(
            ".badge", "b => [b.dataset.status, b.textContent, getComputedStyle(b).color]"
        )

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            # 11. The status badges of what ran before: stopped (quiet), failed (red).
            seen["badge_stopped"] = badge(page, stopped)
            seen["badge_failed"] = badge(page, failed)
            seen["rows_ended"] = [_row_of(page, gid).text_content() for gid in (stopped, failed)]
            # 12. Styled pickers: the native inputs are hidden behind labelled buttons.
            seen["pickers"] = page.eval_on_selector_all(
                ".pickers label", "e => e.map(x => x.textContent)"
            )
            seen["native_width"] = page.eval_on_selector(
                "#upload-archive", "e => e.getBoundingClientRect().width"
            )
            # 12. Drop an archive on the upload card: uploaded at once.
            page.fill("#upload-project", "dropped-shop")
            page.evaluate(_DROP, ["shop.zip", _zip(app)])
            page.wait_for_selector("#upload-status:has-text('Uploaded 1 file as')")
            gid = page.get_attribute("#generation-list button[aria-current='true']", "data-gid")
            seen["gid"] = gid
            row = _row_of(page, gid)
            seen["row_new"] = row.text_content()
            seen["badge_new"] = badge(page, gid)

            # 12. Disabled looks disabled: grey, not the enabled colour.
            seen["stop_disabled"] = page.eval_on_selector(
                "#stop",
                "b => [b.disabled, getComputedStyle(b).backgroundColor,"
                " getComputedStyle(b).cursor]",
            )
            seen["launch_enabled"] = page.eval_on_selector(
                "#launch", "b => getComputedStyle(b).backgroundColor"
            )

            # 11. Launch: the badge and the last launch follow.
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            # (The list is drawn anew on each refresh: the badge is looked up in the page.)
            page.wait_for_selector(
                f"#generation-list li:has(button[data-gid='{gid}']) .badge[data-status='running']"
            )
            seen["row_running"] = _row_of(page, gid).text_content()
            seen["pid"] = trio.from_thread.run(service.status, gid)["processId"]

            # 11. Rename (a prompt), shown in the list and the title.
            page.once("dialog", lambda dialog: dialog.accept("Renamed shop"))
            page.click("button[aria-label='Rename dropped-shop']")
            page.wait_for_selector("#generation-list .generation-project:text-is('Renamed shop')")
            page.wait_for_selector("#preview-title:text-is('Renamed shop')")

            # 11. A file, read-only.
            page.click("#files-details summary")
            page.click("button[aria-label='View server.py']")
            page.wait_for_selector("#file-viewer:not([hidden])")
            seen["file"] = page.text_content("#file-viewer-text")
            seen["file_editable"] = page.evaluate(
                "document.getElementById('file-viewer-text').isContentEditable"
            )

            # 11. Delete, after a confirmation that says what goes.
            questions: list[str] = []

            def answer(dialog: Any) -> None:
                questions.append(dialog.message)
                dialog.accept()

            page.once("dialog", answer)
            page.click("button[aria-label='Delete Renamed shop']")
            page.wait_for_selector(f"#generation-list button[data-gid='{gid}']", state="detached")
            page.wait_for_selector("#no-selection:not([hidden])")
            seen["question"] = questions[0]
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["pickers"] == ["Choose a folder", "Choose an archive"]
    assert seen["native_width"] <= 1
    assert seen["row_new"].startswith("dropped-shop") and "never launched" in seen["row_new"]
    status, text, colour = seen["badge_new"]
    assert (status, text) == ("new", "not launched")
    assert seen["badge_stopped"][:2] == ["stopped", "stopped"]
    assert seen["badge_failed"][:2] == ["failed", "failed"]
    assert seen["badge_failed"][2] == "rgb(255, 123, 114)"  # --error
    assert seen["badge_stopped"][2] == colour != seen["badge_failed"][2]  # quiet, as new
    assert all(re.search(r"launched \d{4}-\d\d-\d\d", row) for row in seen["rows_ended"])
    disabled, grey, cursor = seen["stop_disabled"]
    assert disabled and cursor == "not-allowed"
    assert grey != seen["launch_enabled"] and grey == "rgb(28, 36, 53)"  # --panel-2
    assert re.search(r"launched \d{4}-\d\d-\d\d \d\d:\d\d", seen["row_running"])
    assert "running" in seen["row_running"]
    assert "ThreadingHTTPServer" in seen["file"] and not seen["file_editable"]
    assert "stopped" in seen["question"] and "history" in seen["question"]
    assert not psutil.pid_exists(seen["pid"]) or psutil.Process(seen["pid"]).status() == "zombie"
    gone = await service.client.get(f"/api/generations/{seen['gid']}", headers=auth())
    assert gone.status_code == 404


async def test_the_page_at_390_px(service: Service) -> None:
    require_browser()
    first = await service.upload(server_app())
    gid = await service.upload(server_app(after_bind="say('a message that should be readable')"))
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running"

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page(width=390, height=844) as (page, log):
            _sign_in(page, url)
            page.wait_for_selector(f"#generation-list button[data-gid='{first}']")
            # 13. A tap on a generation brings its workspace into view.
            page.click(f"#generation-list button[data-gid='{gid}']")
            page.wait_for_selector("#terminal-rows .row:has-text('should be readable')")
            _until(
                page,
                "Math.abs(document.getElementById('workspace').getBoundingClientRect().top) < 5",
            )
            seen["workspace_top"] = page.evaluate(
                "document.getElementById('workspace').getBoundingClientRect().top"
            )
            # 13. The message has most of the row (the timestamps start off here).
            seen["msg_share"] = page.eval_on_selector(
                "#terminal-rows .row:has-text('should be readable')",
                "r => { const m = r.querySelector('.msg').getBoundingClientRect();"
                " const b = r.getBoundingClientRect(); return (m.left - b.left) / b.width; }",
            )
            # 13. Every control one can tap is at least 24 x 24 px (WCAG 2.5.8): buttons,
            # chips, checkboxes' labels, selects, the search, links, summaries.
            page.click("#files-details summary")  # its file buttons shown too
            seen["checked"] = page.eval_on_selector_all(
                _TARGETS, "els => els.filter(e => e.offsetParent !== null).map(e => e.tagName)"
            )
            seen["small"] = page.eval_on_selector_all(
                _TARGETS,
                "els => els.filter(e => e.offsetParent !== null)"
                ".map(e => { const b = e.getBoundingClientRect();"
                " return [e.id || e.textContent.trim().slice(0, 20), b.width, b.height]; })"
                ".filter(([, w, h]) => w < 24 || h < 24)",
            )
            screenshot(page, "ui-390.png")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert abs(seen["workspace_top"]) < 5
    assert seen["msg_share"] < 0.2
    assert {"A", "SUMMARY", "BUTTON", "SELECT", "LABEL"} <= set(seen["checked"])
    assert seen["small"] == [], seen["small"]
    await service.stop(gid)
