"""What the page shows of one generation stays with it, in Chromium (issue 63, item 10):
showing another one leaves nothing of the last (the tester's form and answer, the
history's replays, the upload's "Uploaded … as gen_…", a save's outcome, snapshots'
words); a message that spoke of the preview running goes when it stops; a relaunch with
a fix never leaves "Stopped after …" over a running preview; names in the sidebar wrap
between their words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trio

from preview.settings import Settings

from .conftest import SERVER_COMMAND, VERSIONED, Service, auth, running_service, server_app
from .ports_in_range import service_in_range
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

# Two frames after now: whatever a status event scheduled has been drawn by then.
TWO_FRAMES = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    async with service_in_range(settings, 23400, 23499) as running:
        yield running


def _texts(page: Any) -> dict[str, Any]:
    """Everything per-generation the page could still be showing."""
    return page.evaluate(
        """() => { const text = (id) => { const e = document.getElementById(id);
                return e.hidden ? null : e.textContent.trim(); };
            const value = (id) => document.getElementById(id).value;
            return {
              tester: [value('tester-method'), value('tester-path'), value('tester-query'),
                       value('tester-headers'), value('tester-body')],
              answer: text('tester-response'), testerError: text('tester-error'),
              requests: document.querySelectorAll('#request-list li').length,
              historySummary: text('history-summary'),
              historyRows: document.querySelectorAll('#history-list li').length,
              upload: text('upload-status'), viewer: text('file-viewer'),
              snapshots: text('snapshot-status'), revisions: text('revisions-card'),
              swap: text('swap-notice'), failure: text('failure'),
              notices: text('preview-error')}; }"""
    )


async def test_nothing_of_one_generation_stays_when_another_is_shown(
    service: Service, tmp_path: Path
) -> None:
    require_browser()
    with trio.fail_after(60):
        first = await service.upload(server_app(VERSIONED, **{"version.txt": "one\n"}))
        other = await service.upload(server_app())
        launched = (await service.launch(first, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    folder = tmp_path / "three-files"
    folder.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (folder / name).write_text("print('hi')\n")

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            # An upload: "Uploaded 3 files as gen_…", about the generation it made.
            page.set_input_files("#upload-folder", str(folder))
            page.click("#upload-submit")
            page.wait_for_selector("#upload-status:has-text('Uploaded 3 files as gen_')")
            seen["name_after_upload"] = page.input_value("#upload-project")

            _select(page, first)
            page.wait_for_selector("#status-badge[data-status='running']")
            seen["first_shown"] = _texts(page)
            # The tester: a request of this generation's, and its answer.
            page.fill("#tester-path", "/version.txt")
            page.fill("#tester-headers", "X-Mine: first")
            page.click("#tester-send")
            page.wait_for_selector("#response-status:text-is('200')")
            # The history: replayed, "replayed 1 … 1 same".
            page.click("#history-refresh")
            page.wait_for_selector("#history-list li")
            page.click("#history-replay-all")
            page.wait_for_selector("#history-summary:has-text('replayed')")
            # A file saved: "…the running preview runs it now".
            page.click("#files-details summary")
            page.click("button[aria-label='View version.txt']")
            page.click("#file-viewer-edit")
            page.fill("#file-viewer-editor", "two\n")
            page.click("#file-viewer-save")
            page.wait_for_selector("#file-viewer-status:has-text('runs it now')", timeout=60_000)
            # Stopped: the save's outcome may no longer say it runs.
            trio.from_thread.run(service.stop, first)
            page.wait_for_selector("#status-badge[data-status='stopped']")
            page.wait_for_function(TWO_FRAMES)
            seen["after_stop"] = page.text_content("#file-viewer-status")

            _select(page, other)
            page.wait_for_selector("#terminal-empty:has-text('No preview yet')")
            page.wait_for_selector("#history-empty:not([hidden])")
            seen["other_shown"] = _texts(page)
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["name_after_upload"] == ""  # the next upload is named after its own folder
    assert seen["first_shown"]["upload"] == "", seen["first_shown"]
    assert seen["after_stop"] == "Saved as revision 2.", seen
    assert seen["other_shown"] == {
        "tester": ["GET", "/", "", "", ""],
        "answer": None,
        "testerError": None,
        "requests": 0,
        "historySummary": "",
        "historyRows": 0,
        "upload": "",
        "viewer": None,
        "snapshots": "",
        "revisions": None,
        "swap": None,
        "failure": None,
        "notices": None,
    }, seen["other_shown"]


@pytest.fixture
async def slow_start_service(settings: Settings) -> AsyncIterator[Service]:
    """A service that waits 400 s for an app to answer: the start-up below stays under
    way however long the browser takes to open and sign in (with the tests' 20 s, an app
    binding after 15 s could be running before a loaded machine's page saw it start; one
    binding after 90 s was, on a CI run twice as slow as usual)."""
    async with running_service(replace(settings, startup_timeout=400.0)) as service:
        yield service


async def test_a_relaunch_with_a_fix_never_reads_stopped_while_it_runs(
    slow_start_service: Service,
) -> None:
    """A relaunch with a fix, narrated as the service narrates it (preview/builds/
    relaunch.py) while the start-up is under way: the first attempt's process exits
    (status "stopping"), a fix is taken, it starts again ("starting") and runs. The
    start-up timeline goes on through it and ends "Started in …", never "Stopped
    after …" over a RUNNING badge. (The app itself takes 4 minutes to bind, far longer than
    the test needs: the narration is what the page sees; it is stopped at the end.)"""
    require_browser()
    service = slow_start_service
    with trio.fail_after(60):
        gid = await service.upload(server_app(before_serving="time.sleep(240)"))
        launched = (await service.launch(gid, command=SERVER_COMMAND, wait=False)).json()
    runtime = service.supervisor.get(launched["previewInstanceId"])
    # The process is started before the page opens: on a loaded machine the launch's
    # environment alone can take longer than the page's 20 s wait for a selector.
    with trio.fail_after(80):
        await service.first_system_line(gid, "process started")

    async def relaunch_narration() -> None:
        broadcast, state = runtime.broadcast, runtime.state
        await broadcast.publish(
            "ERROR", "ModuleNotFoundError: No module named 'yaml'", "app", stream="stderr"
        )
        await broadcast.publish(
            "INFO", "stopping (the process exited during start-up)", "system", status="stopping"
        )
        await state.system("ERROR", "exited with code 1")
        await state.system("WARN", "fix 1: adding PyYAML")
        await broadcast.publish(
            "INFO", "starting again, with the fix above", "system", status="starting"
        )
        await state.system("INFO", "process started (pid 2): python server.py")
        await broadcast.publish("INFO", "ready in 41 ms (again)", "system", status="running")

    def script(url: str) -> dict[str, Any]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#phase-list li.current:has-text('process started')")
            trio.from_thread.run(relaunch_narration)
            page.wait_for_selector("#terminal-rows .row:has-text('ready in 41 ms (again)')")
            page.wait_for_selector("#status-badge[data-status='running']")
            page.wait_for_function(TWO_FRAMES)
            seen = {
                "badge": page.text_content("#status-badge"),
                "summary": page.text_content("#phases-summary"),
                "steps": page.eval_on_selector_all(
                    "#phase-list .phase-label", "e => e.map(x => x.textContent)"
                ),
            }
            log.assert_clean()
            return seen

    seen = await in_browser(script, service.url)
    assert seen["badge"] == "running", seen
    assert seen["summary"].startswith("Started in "), seen
    assert "starting again, with the fix above" in seen["steps"], seen
    assert seen["steps"][-1] == "ready in 41 ms (again)", seen
    await service.stop(gid)


# Each line break inside a name, as the characters either side of it: a break between
# words has a space (or a hyphen) before it.
_BREAKS = """(element) => {
    const text = element.firstChild; const breaks = []; let top = null;
    for (let i = 0; i < text.length; i++) {
        const range = document.createRange(); range.setStart(text, i); range.setEnd(text, i + 1);
        const rect = range.getClientRects()[0]; if (!rect) continue;
        if (top !== null && rect.top > top + 2) breaks.push(text.data.slice(i - 1, i + 1));
        top = rect.top;
    }
    const button = element.closest('button');
    return {breaks, overflows: button.scrollWidth > button.clientWidth + 1};
}"""
NAMES = {
    "words": "Authentication gateway for the inventory microservices",
    "one long word": "averyveryverylongnamewithoutanyspacesinsideitatall",
}


@pytest.mark.parametrize("width", [1280, 390])
async def test_names_in_the_sidebar_wrap_between_words(service: Service, width: int) -> None:
    require_browser()
    gids = {}
    with trio.fail_after(30):
        for kind, name in NAMES.items():
            response = await service.client.post(
                "/api/generations",
                json={"projectId": name, "files": server_app()},
                headers=auth(),
            )
            gids[kind] = response.json()["generationId"]

    def script(url: str) -> dict[str, Any]:
        with browser_page(width=width, height=800) as (page, log):
            _sign_in(page, url)
            seen = {}
            for kind, gid in gids.items():
                name = page.wait_for_selector(
                    f"#generation-list button[data-gid='{gid}'] .generation-project"
                )
                seen[kind] = name.evaluate(_BREAKS)
            log.assert_clean()
            return seen

    seen = await in_browser(script, service.url)
    words = seen["words"]
    assert words["breaks"], seen  # it does wrap: too long for one line
    assert all(pair[0] in " -" for pair in words["breaks"]), seen
    assert not words["overflows"], seen
    # One word longer than the line: broken, as a last resort, inside the button.
    assert seen["one long word"]["breaks"] and not seen["one long word"]["overflows"], seen
