"""What the page says stays true, in a real browser: a new action clears the old outcome,
a refused launch names the running previews with a Stop button, the tester's error
is shown above the previous answer, kept and labelled as such, the start-up timeline
keeps its steps and durations, a stop reads as a stop, "Open app" goes where the app has
something, and after a restart of the service the page recovers by itself."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from preview import create_app
from preview.settings import Settings

from .conftest import SERVER_COMMAND, Service, auth, server_app
from .test_ui import _sign_in, _until
from .ui_helpers import browser_page, in_browser, require_browser


async def _upload(client: httpx.AsyncClient, project: str, files: dict[str, str]) -> str:
    response = await client.post(
        "/api/generations", json={"projectId": project, "files": files}, headers=auth()
    )
    assert response.status_code == 201, response.text
    return response.json()["generationId"]


def _pick(page: Any, gid: str) -> None:
    page.click(f"#generation-list button[data-gid='{gid}']")
    page.wait_for_selector(f"#preview-subtitle:has-text('{gid}')")


async def test_a_new_action_clears_the_old_outcome(service: Service, settings) -> None:
    require_browser()
    broken = await _upload(service.client, "broken-one", server_app(before_serving="1 / 0"))
    # Slow to bind: the timeline shows the wait for HTTP counting up.
    slow = server_app(before_serving="time.sleep(2.5)")
    good = await _upload(service.client, "good-two", slow)

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            # 8. Launch the slow one: the steps as they happen, the wait counted.
            _pick(page, good)
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector(
                "#phase-list li.current:has-text('waiting for HTTP · 1 s of 20 s')"
            )
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            page.wait_for_selector("#phases-summary:has-text('Started in')")
            seen["phases_open"] = page.get_attribute("#phases", "open")
            seen["phases"] = page.eval_on_selector_all(
                "#phase-list li",
                "e => e.map(x => [x.querySelector('.phase-label').textContent,"
                " x.querySelector('.phase-duration')?.textContent || ''])",
            )
            seen["summary"] = page.text_content("#phases-summary")

            # 7. The tester: an answer, then an error shown above it (issue 63 (10)).
            page.click("#tester-send")
            page.wait_for_selector("#response-status:text-is('200')")
            trio.from_thread.run(service.stop, good)
            page.wait_for_selector("#status-badge[data-status='stopped']")
            # 10. A stop reads as a stop; the raw code is kept at hand.
            page.wait_for_selector("#preview-subtitle:has-text('stopped by the user')")
            seen["subtitle_title"] = page.get_attribute("#preview-subtitle", "title")
            seen["stop_line"] = page.is_visible("#terminal-rows .row:has-text('stopped (SIGTERM)')")
            page.click("#tester-send")
            page.wait_for_selector("#tester-error:not([hidden])")
            seen["previous"] = page.text_content("#response-previous")
            # 7. Not running any more: the endpoints come from the source.
            page.wait_for_selector("#endpoints-origin:text-is('from the source')")

            # 9. The broken one fails: its failure is pinned.
            _pick(page, broken)
            page.click("#launch")
            page.wait_for_selector("#failure:not([hidden])", timeout=30_000)
            seen["failure"] = page.text_content("#failure-message")
            page.wait_for_selector("#endpoints-origin:text-is('from the source')")

            # 6. Meanwhile the free tier's one preview runs elsewhere: the refused launch
            # is shown alone (the old traceback goes), naming what runs, with Stop.
            launched = trio.from_thread.run(
                partial(service.launch, good, command=SERVER_COMMAND)
            ).json()
            assert launched["status"] == "running", launched
            page.click("#launch")
            page.wait_for_selector("#running-list li")
            seen["failure_hidden"] = page.is_hidden("#failure")
            seen["refusal"] = page.text_content("#preview-error-text")
            seen["running"] = page.eval_on_selector_all(
                "#running-list li", "e => e.map(x => x.textContent)"
            )
            page.click("#running-list button:has-text('Stop')")
            page.wait_for_selector("#preview-error", state="hidden")
            seen["launch_enabled"] = page.is_enabled("#launch")

            # 15. Open app: an app without API docs opens at its root.
            _pick(page, good)
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            with page.context.expect_page() as opened:
                page.click("#open-app")
            app = opened.value
            app.wait_for_load_state("domcontentloaded")
            seen["app_url"] = app.url
            seen["app_text"] = app.text_content("body")
            app.close()
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    labels = [label for label, _ in seen["phases"]]
    assert any(label.startswith("process started") for label in labels), labels
    assert labels[-1].startswith("ready in ")
    # Every step but the last has its duration; the start waited about 2.5 s.
    assert all(duration for _, duration in seen["phases"][:-1]), seen["phases"]
    waited = next(d for label, d in seen["phases"] if label.startswith("process started"))
    assert waited.endswith(" s") and float(waited[:-2]) >= 2.5, seen["phases"]
    assert seen["summary"].startswith("Started in ") and seen["phases_open"] is None
    assert seen["subtitle_title"] == "exit code -15"
    assert seen["stop_line"]
    assert seen["previous"] == "The previous answer, to GET / (200), not to this request:"
    assert "ZeroDivisionError" in seen["failure"]
    assert seen["failure_hidden"]
    assert "free tier allows 1" in seen["refusal"]
    assert len(seen["running"]) == 1 and seen["running"][0].startswith("good-two")
    assert seen["launch_enabled"]
    # At the app's own origin, and its root: it has no docs.
    port = service.url.rsplit(":", 1)[1]
    assert re.fullmatch(rf"http://preview-[0-9a-f]+\.localhost:{port}/", seen["app_url"]), seen[
        "app_text"
    ]
    assert seen["app_text"] == "ok"
    await service.stop(good)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def _serving(settings: Settings, port: int) -> AsyncIterator[Any]:
    """The service on a fixed port (so a browser can come back to it after a restart)."""
    app = create_app(settings, fast_paths=True)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.graceful_timeout = 2
    config.accesslog = None
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(serve, app, config, shutdown_trigger=shutdown.wait))
        try:
            yield app
        finally:
            with trio.fail_after(30):
                await app.extensions["preview"].supervisor.aclose()
            shutdown.set()


async def test_after_a_restart_of_the_service_the_page_recovers_by_itself(
    settings: Settings,
) -> None:
    require_browser()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    down, up, stopped = trio.Event(), trio.Event(), trio.Event()

    async def first_life(task_status: trio.TaskStatus[str]) -> None:
        async with (
            _serving(settings, port),
            httpx.AsyncClient(base_url=url, trust_env=False, timeout=30) as client,
        ):
            gid = await _upload(client, "survivor", server_app())
            launched = await client.post(
                f"/api/generations/{gid}/preview/launch",
                json={"wait": True, "command": SERVER_COMMAND},
                headers=auth(),
            )
            assert launched.json()["status"] == "running", launched.text
            task_status.started(gid)
            await down.wait()
        stopped.set()

    async def second_life() -> None:
        await up.wait()
        async with _serving(settings, port):
            await trio.sleep_forever()

    def script(gid: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _pick(page, gid)
            page.wait_for_selector("#connection[data-state='live']")
            trio.from_thread.run_sync(down.set)
            trio.from_thread.run(stopped.wait)
            # The service is away: an action says so, and the page keeps trying.
            page.click("#generations-refresh")
            page.wait_for_selector("#preview-error-text:has-text('unreachable')")
            seen["while_down"] = page.text_content("#preview-error-text")
            # Picked while it is away, its preview is not known: not "not launched".
            _pick(page, gid)
            # The badge and the terminal's notice are set by separate steps of the pick:
            # both awaited (the notice read while "Loading…" failed CI once).
            _until(
                page,
                "document.getElementById('status-badge').dataset.status === 'unknown'"
                " && document.getElementById('terminal-empty').textContent !== 'Loading…'",
            )
            seen["picked_down"] = [
                page.text_content("#terminal-empty"),
                page.is_disabled("#launch"),
            ]
            trio.from_thread.run_sync(up.set)
            # Back: the notice goes by itself, the preview's true state is shown.
            page.wait_for_selector("#preview-error", state="hidden", timeout=40_000)
            page.wait_for_selector("#status-badge[data-status='stopped']")
            page.wait_for_selector("#connection[data-state='ended']")
            # And it works again without a reload.
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            page.wait_for_selector("#connection[data-state='live']")
            _until(page, "document.getElementById('preview-error').hidden")
            seen["reloads"] = page.evaluate("performance.getEntriesByType('navigation').length")
            log.errors = [e for e in log.errors if "ERR_CONNECTION_REFUSED" not in e]
            log.assert_clean()
        return seen

    with trio.fail_after(150):
        async with trio.open_nursery() as nursery:
            gid = await nursery.start(first_life)
            nursery.start_soon(second_life)
            seen = await in_browser(script, gid)
            nursery.cancel_scope.cancel()
    assert "unreachable" in seen["while_down"]
    assert seen["picked_down"] == ["Its preview could not be looked up yet.", True]
    assert seen["reloads"] == 1


_TIMELINE = """async () => {
    const { PhaseTimeline } = await import('/static/js/phases.js');
    const timeline = new PhaseTimeline();
    timeline.startupTimeout = 30;
    timeline.begin();
    const at = (ms) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
    const events = [
        {source: 'system', level: 'INFO', message: 'port 3001 allocated', timestamp: at(0)},
        {source: 'build', level: 'INFO', message: 'Resolved 12 packages', timestamp: at(100)},
        {source: 'build', level: 'INFO', message: 'Installed 12 packages', timestamp: at(1600)},
        {source: 'system', level: 'INFO', message: 'setup: python manage.py migrate',
         timestamp: at(1700)},
        {source: 'setup', level: 'INFO', message: 'Applying notes.0001_initial... OK',
         timestamp: at(1900)},
        {source: 'system', level: 'INFO', message: 'process started (pid 7): x',
         timestamp: at(2200)},
        {source: 'system', level: 'INFO', message: 'ready in 800 ms', status: 'running',
         timestamp: at(3000)},
    ];
    for (const event of events) timeline.event(event);
    return {
        steps: [...document.querySelectorAll('#phase-list li')].map(li => [
            li.querySelector('.phase-label').textContent,
            li.querySelector('.phase-detail')?.textContent || '',
            li.querySelector('.phase-duration')?.textContent || '',
        ]),
        summary: document.getElementById('phases-summary').textContent,
    };
}"""


async def test_the_timeline_groups_a_build_into_one_step_with_its_progress(
    service: Service,
) -> None:
    """Build events (issue 13's `source: "build"`) make one "building dependencies" step
    whose text is the build's latest line; the set-up steps' (`source: "setup"`, and the
    service's "setup: …" line) one "setup" step after it; each has its duration."""
    require_browser()

    def script(url: str) -> dict[str, Any]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            result = page.evaluate(_TIMELINE)
            log.assert_clean()
            return result

    seen = await in_browser(script, service.url)
    assert seen["steps"] == [
        ["port 3001 allocated", "", "100 ms"],
        ["building dependencies", "Installed 12 packages", "1.6 s"],
        ["setup", "Applying notes.0001_initial... OK", "500 ms"],
        ["process started (pid 7): x", "", "800 ms"],
        ["ready in 800 ms", "", ""],
    ]
    assert seen["summary"] == "Started in 3.0 s · 5 steps"


# A stream in the contract of issue 18: lifecycle lines are plain messages carrying a
# `status`, and a finished stream answers 204. Served by a real app (same origin through
# the proxy, as the page's CSP wants), read by the page's own LogStream.
_NEW_CONTRACT_APP = server_app(
    before_serving="""
    hits = []

    class Stream(Handler):
        def do_GET(self):
            if not self.path.startswith("/stream"):
                return super().do_GET()
            hits.append(self.path)
            if len(hits) > 1:
                self.send_response(204); self.end_headers(); return
            body = (
                'retry: 50\\n\\n'
                'id: 1\\ndata: {"id": 1, "message": "hello", "source": "app",'
                ' "level": "INFO"}\\n\\n'
                'id: 2\\ndata: {"id": 2, "message": "ready", "source": "system",'
                ' "level": "INFO", "status": "running"}\\n\\n'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)

    Handler = Stream
    """
)

_READ_STREAM = """async ([url]) => {
    const { LogStream } = await import('/static/js/logstream.js');
    const seen = { events: [], statuses: [], states: [], ended: false, asked: 0 };
    await new Promise((resolve) => {
        const stream = new LogStream({
            url: () => url,
            onEvent: (event) => seen.events.push(event.id),
            onStatus: (status) => seen.statuses.push(status),
            onState: (state) => seen.states.push(state),
            onEnd: () => { seen.ended = true; resolve(); },
            // What the page does: the preview is over, so no reopening.
            beforeReopen: async () => { seen.asked += 1; return false; },
        });
        stream.open();
    });
    return seen;
}"""


async def test_the_stream_reader_takes_status_messages_and_a_finished_204(
    service: Service,
) -> None:
    require_browser()
    gid = await service.upload(_NEW_CONTRACT_APP)
    launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
    assert launched["status"] == "running", launched
    proxy = f"/api/generations/{gid}/preview/proxy"

    def script(url: str) -> dict[str, Any]:
        with browser_page() as (page, log):
            _sign_in(page, url)
            # The preview token for a cookie on the proxy path (as "Open app" does).
            page.evaluate(
                "([u]) => fetch(u).then(r => r.status)",
                [f"{proxy}/?previewToken={launched['previewToken']}"],
            )
            result = page.evaluate(_READ_STREAM, [f"{proxy}/stream"])
            log.errors = [e for e in log.errors if "204" not in e]
            log.assert_clean()
            return result

    seen = await in_browser(script, service.url)
    assert seen["events"] == [1, 2]
    assert seen["statuses"] == ["running"]  # from a plain message's `status` field
    assert seen["ended"] and seen["asked"] == 1  # the 204: asked once, then ended
    assert seen["states"][-1] == "ended"
    await service.stop(gid)


async def test_an_answer_older_than_a_launch_does_not_replace_it(service: Service) -> None:
    """Picking a generation asks for its last preview's status; a launch clicked before
    that answer came (a loaded service) was replaced by it when it came: the page
    followed the stopped preview, and the new one never showed as running."""
    require_browser()
    gid = await _upload(service.client, "picked-then-launched", server_app())
    with trio.fail_after(60):
        first = await service.launch(gid, command=SERVER_COMMAND)
        assert first.json()["status"] == "running", first.text
        assert (await service.stop(gid)).status_code == 200

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        held: list[list[Any]] = []  # the status answers, held back until released
        with browser_page() as (page, log):
            _sign_in(page, url)

            def hold(route: Any) -> None:
                if held:  # only the pick's first ask is held
                    route.continue_()
                    return
                held.append([route, None])
                held[0][1] = route.fetch()  # answered now: the stopped one's status

            page.route(re.compile(r"/preview/status$"), hold)
            page.click(f"#generation-list button[data-gid='{gid}']")
            page.wait_for_selector(f"#preview-subtitle:has-text('{gid}')")
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.wait_for_function("() => !document.querySelector('#launch').disabled")
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            seen["held"] = len(held)
            with page.expect_response(re.compile(r"/preview/status$")):
                for route, answer in held:
                    route.fulfill(response=answer)  # the stopped preview's status, late
            page.unroute(re.compile(r"/preview/status$"))
            # Read by the page (an absence has no event to wait for: the answer is in, and
            # its handling takes microtasks; half a second bounds it): the badge and the
            # launch button still follow the new preview.
            page.wait_for_timeout(500)
            seen["badge"] = page.get_attribute("#status-badge", "data-status")
            seen["launch_disabled"] = page.is_disabled("#launch")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen == {"held": 1, "badge": "running", "launch_disabled": True}, seen
    assert (await service.stop(gid)).status_code == 200
