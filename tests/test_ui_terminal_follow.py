"""The terminal follows the end until the user scrolls up (issue 63, items 4 and 5):
long lines under a horizontal scrollbar do not pause it, Resume resumes however often
it is clicked, an ended log offers nothing to resume, a relaunch with a fix marks the
failed attempt's lines, and a flood leaves the page answering."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import trio

from .conftest import SERVER_COMMAND, Service, server_app
from .test_ui import _model, _select, _sign_in, _until
from .ui_helpers import CHROMIUM, CHROMIUM_ARGS, BrowserLog, in_browser, require_browser

WIDE = "wide " + "0123456789" * 40
# Lines printed at start, every seventh one wider than the screen; then /emit?n=N more.
WIDE_APP = server_app(
    before_serving="""
    class Emit(Handler):
        def do_GET(self):
            if self.path.startswith("/emit"):
                for n in range(int(self.path.split("=")[1])):
                    sys.stdout.write(f"later {n}\\n")
                sys.stdout.flush()
            super().do_GET()
    Handler = Emit
    """,
    after_bind=f"""
    for n in range(150):
        say(f'line {{n}} ' + ({WIDE!r} if n % 7 == 0 else ''))
    say('last line')
    """,
)
VIEWPORT = "document.getElementById('terminal-viewport')"
# Two frames after now: what a scroll event or a render scheduled now has done by then.
TWO_FRAMES = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
)


@contextmanager
def page_with_scrollbars(width: int = 1280, height: int = 800) -> Iterator[tuple[Any, BrowserLog]]:
    """A page as ui_helpers.browser_page opens it, but with the scrollbars a desktop
    browser shows: Playwright's headless Chromium hides them (--hide-scrollbars), and a
    horizontal one taking 15 px of the viewport's height is what paused the terminal."""
    from playwright.sync_api import sync_playwright

    log = BrowserLog()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
            ignore_default_args=["--hide-scrollbars"],
        )
        try:
            context.set_default_timeout(20_000)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("pageerror", lambda error: log.errors.append(f"pageerror: {error}"))
            yield page, log
        finally:
            context.close()


# The terminal's state as the test reads it: what the bar says, and how far the view is
# from its end (``gap``).
_STATE = f"""() => {{ const v = {VIEWPORT}; const jump = document.getElementById('jump-latest');
    const pause = document.getElementById('pause');
    return {{connection: document.getElementById('connection').textContent,
             pause: pause.offsetParent === null ? null : pause.textContent,
             jump: jump.hidden ? null : jump.textContent,
             bar: v.offsetHeight - v.clientHeight,
             gap: v.scrollHeight - v.scrollTop - v.clientHeight}}; }}"""


def _state(page: Any) -> dict[str, Any]:
    page.wait_for_function(TWO_FRAMES)
    return page.evaluate(_STATE)


def _followed_state(page: Any) -> dict[str, Any]:
    """:func:`_state` as the view reaches its end, read in the same evaluation: a line that
    lands just after the one waited for (the owner's action said in the log, a health
    check) is followed on a later frame, which a loaded machine draws late (read apart,
    the end reached, then a line added before the state was read: "gap 20"); a view that
    stopped following never gets there, and the wait fails."""
    page.wait_for_function(TWO_FRAMES)
    reached = page.wait_for_function(f"() => {{ const s = ({_STATE})(); return s.gap <= 1 && s; }}")
    return reached.json_value()


def _wheel_up(page: Any) -> None:
    page.locator("#terminal-viewport").scroll_into_view_if_needed()
    box = page.locator("#terminal-viewport").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)


async def test_long_lines_do_not_pause_it_and_resume_always_resumes(service: Service) -> None:
    """Opened on a running preview whose lines are wider than the screen (a horizontal
    scrollbar), the terminal follows; new lines are followed; the user's wheel or
    PageUp pauses; Resume (and Jump, and Resume asked twice) follows again."""
    require_browser()
    gid = await service.upload(WIDE_APP)
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    emit, child_transport = service.direct_app(launched, "/emit")

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with (
            page_with_scrollbars() as (page, log),
            httpx.Client(trust_env=False, transport=child_transport) as child,
        ):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#terminal-rows .row:has-text('last line')")
            seen["opened"] = _followed_state(page)
            child.get(emit + "?n=30")
            page.wait_for_selector("#terminal-rows .row:has-text('later 29')")
            seen["grown"] = _followed_state(page)

            _wheel_up(page)
            page.wait_for_selector("#connection[data-paused='true']:text-is('paused')")
            child.get(emit + "?n=5")
            page.wait_for_selector("#jump-latest:has-text('(5 new)')")
            page.click("#pause")  # Resume
            seen["resumed"] = _followed_state(page)
            child.get(emit + "?n=3")
            page.wait_for_selector("#terminal-rows .row:has-text('later 2')")
            _until(page, "window.__previewTerminal.model.lastId > 0")
            seen["after_resume"] = _followed_state(page)

            page.focus("#terminal-viewport")
            page.keyboard.press("PageUp")
            page.wait_for_selector("#connection[data-paused='true']")
            page.click("#jump-latest")
            page.evaluate("window.__previewTerminal.view.setPaused(false)")  # Resume again
            page.evaluate("window.__previewTerminal.view.setPaused(false)")
            seen["resumed_twice"] = _followed_state(page)
            log.assert_clean()
            return seen

    seen = await in_browser(script, service.url)
    following = {"connection": "live", "pause": "Pause", "jump": None}
    assert seen["opened"]["bar"] > 0, seen  # a horizontal scrollbar under the rows
    for name in ("opened", "grown", "resumed", "after_resume", "resumed_twice"):
        state = {key: seen[name][key] for key in following}
        assert state == following, (name, seen[name])
        assert seen[name]["gap"] <= 1, (name, seen[name])  # at the very end
    await service.stop(gid)


ENDING_APP = {
    "server.py": "import time\n"
    "for n in range(300):\n"
    "    print(f'line {n} ' + 'x' * (400 if n % 9 == 0 else 0), flush=True)\n"
    "time.sleep(0.2)\n"
    "raise SystemExit(3)\n"
}


async def test_an_ended_log_offers_nothing_to_resume(service: Service) -> None:
    """A log that is over (the app exited) scrolled up: no "paused", no Resume, no Jump
    (nothing new will come); the End key still goes to its end."""
    require_browser()
    gid = await service.upload(ENDING_APP)
    with trio.fail_after(60):
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "failed", launched

    def script(url: str) -> dict[str, Any]:
        with page_with_scrollbars() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#connection[data-state='ended']")
            page.wait_for_selector("#terminal-rows .row:has-text('exited with code 3')")
            opened = _state(page)
            _wheel_up(page)
            page.wait_for_function(  # moved up, by the wheel's 400 px
                f"() => {{ const v = {VIEWPORT}; return v.scrollHeight - v.scrollTop"
                " - v.clientHeight > 300; }"
            )
            scrolled = _state(page)
            page.focus("#terminal-viewport")
            page.keyboard.press("End")
            ended = _state(page)
            log.assert_clean()
            return {"opened": opened, "scrolled": scrolled, "end": ended}

    seen = await in_browser(script, service.url)
    for name in ("opened", "scrolled", "end"):
        state = seen[name]
        assert (state["connection"], state["pause"], state["jump"]) == ("ended", None, None), seen
    assert seen["scrolled"]["gap"] > 100 and seen["end"]["gap"] <= 1, seen


async def test_a_relaunch_with_a_fix_marks_the_failed_attempts_lines(service: Service) -> None:
    """The service's narration of a relaunch with a fix ("fix 1: …" as a WARN, then
    "starting again, with the fix above" as the preview goes back to starting), sent
    through the preview's log as the relaunch sends it (preview/builds/relaunch.py): the
    first attempt's red traceback is marked superseded, the fix line is not, and a
    divider says it was fixed and started again; the lines after it are as they were."""
    require_browser()
    gid = await service.upload(server_app())
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    runtime = service.supervisor.get(launched["previewInstanceId"])

    async def relaunch_narration() -> None:
        broadcast = runtime.broadcast
        for line in ("Traceback (most recent call last):", '  File "main.py", line 1'):
            await broadcast.publish("ERROR", line, "app")
        await broadcast.publish("ERROR", "ModuleNotFoundError: No module named 'yaml'", "app")
        await runtime.state.system("ERROR", "the process exited during start-up: yaml")
        await runtime.state.system("WARN", "fix 1: adding PyYAML")
        await broadcast.publish(
            "INFO", "starting again, with the fix above", "system", status="starting"
        )
        await broadcast.publish("ERROR", "ERROR a failure of the second attempt", "app")
        await broadcast.publish("INFO", "ready", "system", status="running")

    def script(url: str) -> dict[str, Any]:
        with page_with_scrollbars() as (page, log):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#connection[data-state='live']")
            trio.from_thread.run(relaunch_narration)
            page.wait_for_selector("#terminal-rows .row.restart")
            rows = page.eval_on_selector_all(
                "#terminal-rows .row",
                """rows => rows.map(r => [r.querySelector('.msg').textContent,
                    r.classList.contains('superseded'), getComputedStyle(r).backgroundColor,
                    r.querySelector('.restart-note')?.textContent || null])""",
            )
            log.assert_clean()
            return {"rows": rows}

    seen = await in_browser(script, service.url)
    rows = {
        text: (superseded, background, note) for text, superseded, background, note in seen["rows"]
    }
    red = "rgb(29, 15, 18)"  # an ERROR row's background
    assert rows["ModuleNotFoundError: No module named 'yaml'"][:2] == (True, "rgba(0, 0, 0, 0)")
    assert rows["the process exited during start-up: yaml"][0] is True
    assert rows["fix 1: adding PyYAML"][0] is False  # what was done about it stays bright
    restart = rows["starting again, with the fix above"]
    assert restart[0] is False and "fixed and started again" in restart[2], restart
    assert rows["ERROR a failure of the second attempt"][:2] == (False, red)
    await service.stop(gid)


FLOOD_LINES = 200_000
FLOOD_RATE = 20_000  # lines a second, as in the issue (3.2 M of them there)
FLOOD_APP = server_app(
    before_serving="""
    import threading

    def flood(count, rate):
        out = sys.stdout
        began = time.monotonic()
        for n in range(count):
            out.write(f"flood line {n} with a little padding, like a real log line\\n")
            if n % 500 == 499:
                out.flush()
                ahead = (n + 1) / rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        out.write("flood done\\n")
        out.flush()

    class Flood(Handler):
        def do_GET(self):
            if self.path.startswith("/flood"):
                count, rate = (int(v) for v in self.path.split("?")[1].split(","))
                threading.Thread(target=flood, args=(count, rate), daemon=True).start()
            super().do_GET()
    Handler = Flood
    """
)


async def test_a_flood_leaves_the_page_answering(service: Service) -> None:
    """200,000 lines at 20,000 a second: the page keeps answering JS round trips
    (page.evaluate, which waits for the main thread) all through the flood, follows
    throughout, draws a screenful a frame (the DOM stays small) and says how many lines
    went by undrawn; every line reaches the page. The round trips' times are printed,
    not asserted: they measure the machine as much as the page (an idle one: a median of
    about 5 ms, a p95 about 20 ms, a maximum under 150 ms; the issue's bar, a p95 under
    100 ms; a loaded CI machine saw a 1.1 s maximum beside a 23 ms median)."""
    require_browser()
    gid = await service.upload(FLOOD_APP)
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    flood, child_transport = service.direct_app(launched, "/flood")

    def script(url: str) -> dict[str, Any]:
        with (
            page_with_scrollbars() as (page, log),
            httpx.Client(trust_env=False, transport=child_transport) as child,
        ):
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_selector("#connection[data-state='live']")
            child.get(f"{flood}?{FLOOD_LINES},{FLOOD_RATE}")
            began = time.monotonic()
            trips: list[float] = []
            skipped_seen = ""
            rows_most = 0
            done = False
            while not done and time.monotonic() - began < 90:
                sent = time.perf_counter()
                done, skipped, rows = page.evaluate(
                    """() => [window.__previewTerminal.model.entries.at(-1)?.plain === 'flood done',
                        document.getElementById('terminal-skipped').hidden ? ''
                            : document.getElementById('terminal-skipped').textContent,
                        document.querySelectorAll('#terminal-rows .row').length]"""
                )
                trips.append((time.perf_counter() - sent) * 1000)
                skipped_seen = skipped_seen or skipped
                rows_most = max(rows_most, rows)
            took = time.monotonic() - began
            state = _state(page)
            log.assert_clean()
            trips.sort()
            return {
                "done": done,
                "took_s": round(took, 1),
                "round_trips": len(trips),
                "median_ms": round(statistics.median(trips), 1),
                "p95_ms": round(trips[int(len(trips) * 0.95)], 1),
                "max_ms": round(trips[-1], 1),
                "lines": _model(page, "t.model.entries.length"),
                "skipped": skipped_seen,
                "rows_most": rows_most,
                "state": state,
            }

    measured = await in_browser(script, service.url, within=150)
    print("\nround trips during a flood:", measured)
    assert measured["done"], measured
    assert measured["lines"] >= FLOOD_LINES, measured
    assert measured["round_trips"] > 10, measured  # the page answered all along
    assert measured["rows_most"] < 120, measured  # a screenful and a margin, not 200,000
    assert "lines skipped" in measured["skipped"] and "all are kept" in measured["skipped"]
    assert measured["state"]["connection"] == "live", measured
    await service.stop(gid)


async def test_a_page_that_opens_on_a_long_log_says_nothing_was_skipped(service: Service) -> None:
    """The history a page catches up on when it opens (lines printed before it watched)
    is jumped past to the end, never called "skipped (too fast to draw)": that note is
    for a flood seen live (the test above)."""
    require_browser()
    gid = await service.upload(FLOOD_APP)
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    flood, child_transport = service.direct_app(launched, "/flood")

    def start_flood() -> None:
        with httpx.Client(trust_env=False, transport=child_transport) as child:
            child.get(f"{flood}?2000,20000")

    with trio.fail_after(60):
        await trio.to_thread.run_sync(start_flood)
        history = await service.history(gid)
        while not any(e["message"] == "flood done" for e in history):
            await trio.sleep(0.1)
            history = await service.history(gid)

    def script(url: str) -> dict[str, Any]:
        with page_with_scrollbars() as (page, log):
            # The page's clock a minute on: its lines are older than "just printed" (5 s).
            page.clock.set_system_time(datetime.now(UTC) + timedelta(minutes=1))
            _sign_in(page, url)
            _select(page, gid)
            page.wait_for_function(
                "() => window.__previewTerminal.model.entries.at(-1)?.plain === 'flood done'"
            )
            page.wait_for_function(TWO_FRAMES)
            seen = {"note_hidden": page.is_hidden("#terminal-skipped")}
            log.assert_clean()
            return seen

    seen = await in_browser(script, service.url)
    await service.stop(gid)
    assert seen["note_hidden"] is True, seen
