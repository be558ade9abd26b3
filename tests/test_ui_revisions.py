"""A generation's revisions in a real browser: listed with what they changed, newest
first, each with its diff in the file viewer."""

from __future__ import annotations

from typing import Any

import httpx
import trio

from .conftest import SERVER_COMMAND, VERSIONED, Service, auth, server_app
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
            _open_revisions(page, None, gid)
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


async def test_a_revision_is_applied_to_the_running_preview_from_its_row(
    service: Service,
) -> None:
    require_browser()
    gid = await _running_with_a_second_revision(service)

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _open_revisions(page, url, gid)
            page.wait_for_selector("button[aria-label='Apply revision 2']")
            seen["before"] = page.eval_on_selector_all(
                "#revision-list li", "rows => rows.map(r => r.textContent)"
            )
            page.click("button[aria-label='Apply revision 2']")
            page.wait_for_selector("button[aria-label='Apply revision 1']", timeout=60_000)
            seen["after"] = page.eval_on_selector_all(
                "#revision-list li", "rows => rows.map(r => r.textContent)"
            )
            seen["outcome"] = page.text_content("#revision-outcome")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert "running" in seen["before"][1] and "Apply" in seen["before"][0]
    assert "running" in seen["after"][0] and "Apply" in seen["after"][1]
    assert seen["outcome"].startswith("revision 2: 1 file changed (notes.txt) — ready in ")
    with trio.fail_after(30):
        assert (await service.status(gid))["revision"] == 2
        await service.stop(gid)


async def test_a_swap_made_elsewhere_shows_on_the_open_page(service: Service) -> None:
    """A revision applied live by `preview watch` or the API (not this page): the page
    marks the new revision as running and says open app tabs need a reload."""
    require_browser()
    gid = await _running_with_a_second_revision(service)

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#revisions-card:not([hidden])")
            page.wait_for_selector("button[aria-label='Apply revision 2']", state="attached")
            seen["notice_before"] = page.is_hidden("#swap-notice")
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
                applied = client.post(
                    f"/api/generations/{gid}/revisions/2/apply", headers=auth()
                ).json()
            seen["applied"] = applied["applied"]
            page.wait_for_selector("#swap-notice:not([hidden])", timeout=30_000)
            seen["notice"] = page.text_content("#swap-notice-text")
            page.wait_for_selector("button[aria-label='Apply revision 1']", state="attached")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["notice_before"] is True and seen["applied"] is True
    assert seen["notice"].startswith("Revision 2 is live")
    with trio.fail_after(30):
        await service.stop(gid)


async def test_a_failed_swap_made_elsewhere_shows_on_the_open_page(service: Service) -> None:
    """A revision `preview watch` sent that fails to start (the old one keeps serving):
    the open page lists it and says it failed, not the last swap that worked."""
    require_browser()
    with trio.fail_after(60):
        gid = await service.upload(server_app(_BROKEN_UNTIL_FIXED, **{"notes.txt": "one\n"}))
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text
        swapped = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"notes.txt": "two\n"}},
            headers=auth(),
        )
        assert swapped.json()["applied"] is True, swapped.text

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _open_revisions(page, url, gid)
            page.wait_for_selector("#revision-outcome:has-text('revision 2: 1 file changed')")
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
                failed = client.post(
                    f"/api/generations/{gid}/revisions",
                    json={"files": {"notes.txt": "broken\n"}},
                    headers=auth(),
                ).json()
            seen["state"] = failed["apply"]["state"]
            page.wait_for_selector("#revision-list li[data-revision='3']", timeout=30_000)
            page.wait_for_selector("#revision-outcome:has-text('revision 3 failed')")
            seen["outcome"] = page.text_content("#revision-outcome")
            seen["rows"] = page.eval_on_selector_all(
                "#revision-list li", "rows => rows.map(r => r.textContent)"
            )
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["state"] == "failed"
    assert seen["outcome"].endswith("still serving revision 2"), seen["outcome"]
    assert "Apply" in seen["rows"][0] and "running" in seen["rows"][1], seen["rows"]
    with trio.fail_after(30):
        await service.stop(gid)


async def test_a_failed_swap_is_said_under_the_header_while_the_old_code_serves(
    service: Service,
) -> None:
    """Found by a newcomer's pass: a save with a syntax error (`preview watch`) failed to
    take over, and the header said only "running, healthy": the failure was in the log
    and in the revisions card, folded below the files. Now the notice under the header
    says it, on the open page and after a reload, until a revision takes over."""
    require_browser()
    with trio.fail_after(60):
        gid = await service.upload(server_app(_BROKEN_UNTIL_FIXED, **{"notes.txt": "one\n"}))
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text

    def post(url: str, text: str) -> dict[str, Any]:
        with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
            return client.post(
                f"/api/generations/{gid}/revisions",
                json={"files": {"notes.txt": text}},
                headers=auth(),
            ).json()

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#status-badge[data-status='running']")
            seen["apply"] = post(url, "broken\n")["apply"]
            page.wait_for_selector("#swap-notice:not([hidden])", timeout=30_000)
            seen["open"] = page.text_content("#swap-notice-text")
            seen["open_button"] = page.is_visible("#reopen-app")
            page.reload()
            _select(page, gid)
            page.wait_for_selector("#swap-notice:not([hidden])")
            seen["reloaded"] = page.text_content("#swap-notice-text")
            post(url, "fixed\n")  # revision 3 takes over
            page.wait_for_selector("#swap-notice-text:has-text('Revision 3 is live')")
            seen["fixed_button"] = page.is_visible("#reopen-app")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    apply = seen["apply"]
    assert apply["state"] == "failed" and apply["errorMessage"], apply
    said = f"Revision 2 failed to start: {apply['errorMessage']}. Revision 1 still serves."
    assert seen["open"] == seen["reloaded"] == said, seen
    assert seen["open_button"] is False and seen["fixed_button"] is True
    with trio.fail_after(30):
        await service.stop(gid)


async def test_a_file_edited_in_the_page_is_a_revision_the_running_preview_runs(
    service: Service,
) -> None:
    """No in-browser edit was a newcomer's first want: the file viewer edits a file, and
    Save makes it a revision that the running preview takes live (as `preview watch`)."""
    require_browser()
    with trio.fail_after(60):
        gid = await service.upload(server_app(VERSIONED, **{"version.txt": "one\n"}))
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#files-card:not([hidden])")
            page.click("#files-details summary")
            page.click("button[aria-label='View version.txt']")
            page.wait_for_selector("#file-viewer-edit:not([hidden])")
            page.click("#file-viewer-edit")
            seen["editing"] = page.input_value("#file-viewer-editor")
            page.fill("#file-viewer-editor", "two\n")
            page.keyboard.press("Control+s")  # as Save
            page.wait_for_selector("#file-viewer-status:has-text('Saved as')", timeout=60_000)
            seen["status"] = page.text_content("#file-viewer-status")
            seen["shown"] = page.text_content("#file-viewer-text")
            seen["editor_hidden"] = page.is_hidden("#file-viewer-editor")
            page.wait_for_selector("#revisions-card:not([hidden])")
            seen["revisions"] = page.text_content("#revisions-count")
            # Saved again unchanged: said so, no third revision.
            page.click("#file-viewer-edit")
            page.click("#file-viewer-save")
            page.wait_for_selector("#file-viewer-status:has-text('Nothing changed')")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["editing"] == "one\n"
    assert seen["status"] == "Saved as revision 2: the running preview runs it now.", seen
    assert seen["shown"] == "two\n" and seen["editor_hidden"]
    assert seen["revisions"] == "(2)"
    with trio.fail_after(30):
        status = await service.status(gid)
        assert status["revision"] == 2
        assert (await service.app_get(launched, "/version.txt")).text == "two\n"
        await service.stop(gid)


def _open_revisions(page: Any, url: str | None, gid: str, first: str | None = None) -> None:
    """Signed in at ``url`` (None: already), ``gid`` picked (``first`` shown, if given)
    and its revision list open."""
    if url is not None:
        _sign_in(page, url)
    _select(page, gid)
    if first is not None:
        page.wait_for_selector(first)
    page.wait_for_selector("#revisions-card:not([hidden])")
    page.click("#revisions-details summary")


async def _running_with_a_second_revision(service: Service) -> str:
    """A running preview of revision 1 whose generation has a revision 2 not applied."""
    with trio.fail_after(120):
        gid = await service.upload(server_app(**{"notes.txt": "one\n"}))
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text
        posted = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"notes.txt": "two\n"}, "apply": False},
            headers=auth(),
        )
        assert posted.status_code == 201, posted.text
    return gid


# Calls seconds apart, each on a new connection: a kept-alive one the service closed
# as idle just as the next POST went on it ("Server disconnected without sending a
# response": httpx sends no POST twice).
_NO_KEEP_ALIVE = httpx.Limits(max_keepalive_connections=0)

# Fails at its start while notes.txt says "broken"; serves otherwise.
_BROKEN_UNTIL_FIXED = (
    'if open("notes.txt").read() == "broken\\n":\n    raise SystemExit("broken")\n'
)


async def test_a_failed_preview_comes_back_on_the_open_page(service: Service) -> None:
    """The page shows a failed preview. A fix saved elsewhere (`preview watch`: a
    revision) relaunches it, and the open page follows the new preview on its own; from
    the revision list, Relaunch does the same on an older revision."""
    require_browser()
    with trio.fail_after(60):
        gid = await service.upload(server_app(_BROKEN_UNTIL_FIXED, **{"notes.txt": "broken\n"}))
        posted = await service.client.post(
            f"/api/generations/{gid}/revisions",
            json={"files": {"notes.txt": "fixed\n"}, "apply": False},
            headers=auth(),
        )
        assert posted.status_code == 201, posted.text
        failed = await service.launch(gid, command=SERVER_COMMAND, revision=1)
        assert failed.json()["status"] == "failed", failed.text

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _open_revisions(page, url, gid, "#status-badge[data-status='failed']")
            seen["buttons"] = page.eval_on_selector_all(
                "#revision-list li button.ghost", "bs => bs.map(b => b.textContent)"
            )
            page.click("button[aria-label='Relaunch on revision 2']")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=60_000)
            seen["outcome"] = page.text_content("#revision-outcome")
            fresh = {"trust_env": False, "timeout": 60, "limits": _NO_KEEP_ALIVE}
            with httpx.Client(base_url=url, **fresh) as client:
                client.delete(f"/api/generations/{gid}/preview", headers=auth())
                page.wait_for_selector("#status-badge[data-status='stopped']", timeout=30_000)
                # Broken again and launched elsewhere (failed), then fixed by a revision.
                client.post(
                    f"/api/generations/{gid}/preview/launch",
                    json={"wait": True, "command": SERVER_COMMAND, "revision": 1},
                    headers=auth(),
                )
                page.wait_for_selector("#status-badge[data-status='failed']", timeout=30_000)
                fixed = client.post(
                    f"/api/generations/{gid}/revisions",
                    json={"files": {"notes.txt": "fixed again\n"}},
                    headers=auth(),
                ).json()
            seen["relaunched"] = fixed.get("relaunched")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=60_000)
            seen["subtitle"] = page.text_content("#preview-subtitle")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["buttons"] == ["Relaunch", "Relaunch"]  # revisions 2 and 1
    assert seen["outcome"] == "revision 2: the preview had failed: relaunched on it"
    assert seen["relaunched"] is True
    with trio.fail_after(30):
        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 3
        await service.stop(gid)
