"""What the page and the CLI say about a preview's state is true and in plain words
(issue 26, item 8): health only while it runs (never "unknown" once the readiness probe
answered, never "healthy" once it stopped); the start-up timeline of a failure reads
"Failed after …", of a stop "Stopped after …"; a user's stop reads "stopping (by the
user)", then "stopped by the user"; the CLI says "stopped by you" or "stopped: the
service shut down"; a page load asks nothing that answers 404."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import trio

from preview.settings import Settings

from .conftest import (
    SECRET,
    SERVER_COMMAND,
    Service,
    auth,
    eventually,
    example_files,
    server_app,
    token,
)
from .test_ui import _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

# Every text the health metric shows, with the badge's status at that moment.
_RECORD = """() => {
  window.__seen = [];
  const note = () => window.__seen.push([
    document.getElementById('status-badge').dataset.status,
    document.getElementById('metric-health').textContent,
  ]);
  const observer = new MutationObserver(note);
  for (const id of ['status-badge', 'metric-health']) {
    observer.observe(document.getElementById(id), {
      childList: true, characterData: true, subtree: true, attributes: true,
    });
  }
  note();
}"""


def _pick(page: Any, gid: str) -> None:
    page.click(f"#generation-list button[data-gid='{gid}']")
    page.wait_for_selector(f"#preview-subtitle:has-text('{gid}')")


def _not_found(log: Any) -> list[str]:
    return [line for line in log.console if "404" in line or "Failed to load" in line]


async def test_health_and_the_words_of_a_stop_and_a_failure(service: Service) -> None:
    require_browser()
    never = await service.upload(server_app())
    # Slow to answer: the readiness probe's 200 comes after a visible wait.
    slow = await service.upload(server_app(before_serving="time.sleep(1)"))
    broken = await service.upload(server_app(before_serving="1 / 0"))

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            # A generation never launched: the page does not ask for its status (404).
            _pick(page, never)
            page.wait_for_selector("#terminal-empty:has-text('No preview yet')")
            page.reload()
            page.wait_for_selector("#app:not([hidden])")
            page.wait_for_selector("#terminal-empty:has-text('No preview yet')")
            seen["not_found_never"] = _not_found(log)

            _pick(page, slow)
            page.evaluate(_RECORD)
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            page.wait_for_selector("#metric-health:text-is('healthy')")
            page.click("#stop")
            page.wait_for_selector("#status-badge[data-status='stopped']", timeout=30_000)
            page.wait_for_selector("#preview-subtitle:has-text('stopped by the user')")
            page.wait_for_selector("#terminal-rows .row:has-text('stopped by the user')")
            seen["stop_rows"] = page.eval_on_selector_all(
                "#terminal-rows .row",
                "rows => rows.map(r => r.textContent).filter(t => /stopp/.test(t))",
            )
            seen["stopped_summary"] = page.text_content("#phases-summary")
            seen["stopped_health"] = page.text_content("#metric-health")
            seen["subtitle"] = page.text_content("#preview-subtitle")
            seen["health_seen"] = page.evaluate("() => window.__seen")

            # A preview that stopped, after a reload: still no 404, no health.
            page.reload()
            page.wait_for_selector("#app:not([hidden])")
            page.wait_for_selector("#status-badge[data-status='stopped']")
            seen["reloaded_health"] = page.text_content("#metric-health")
            seen["not_found"] = _not_found(log)

            _pick(page, broken)
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#failure:not([hidden])", timeout=30_000)
            page.wait_for_selector("#phases-summary:has-text('after')")
            page.wait_for_selector("#status-badge[data-status='failed']")
            seen["failed_summary"] = page.text_content("#phases-summary")
            seen["failed_health"] = page.text_content("#metric-health")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["not_found_never"] == [] and seen["not_found"] == []
    running = [health for status, health in seen["health_seen"] if status == "running"]
    assert running and "unknown" not in running, seen["health_seen"]
    ended = [health for status, health in seen["health_seen"] if status in ("stopped", "none")]
    assert "healthy" not in ended, seen["health_seen"]
    assert seen["stopped_health"] == seen["reloaded_health"] == seen["failed_health"] == "–"
    rows = " | ".join(seen["stop_rows"])
    assert "stopping (by the user)" in rows and "stopped by the user" in rows, rows
    assert "stopping: stopped" not in rows and "stopped: stopped" not in rows, rows
    assert "stopped (SIGTERM)" not in seen["subtitle"], seen["subtitle"]
    assert seen["stopped_summary"].startswith(("Started in", "Stopped after"))
    assert seen["failed_summary"].startswith("Failed after"), seen["failed_summary"]
    assert "Ended" not in seen["failed_summary"] + seen["stopped_summary"]


async def _generation(service: Service, gid: str) -> dict[str, Any]:
    response = await service.client.get(f"/api/generations/{gid}", headers=auth())
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_api_has_no_health_for_a_stopped_preview_and_says_who_stopped_it(
    service: Service,
) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app())
        never = await _generation(service, gid)
        assert (never["status"], never["lastLaunchAt"], never["previewInstanceId"]) == (
            None,
            None,
            None,
        )
        body = (await service.launch(gid, command=SERVER_COMMAND)).json()
        service.children.append(body["processId"])
        status = await service.status(gid)
        assert (status["status"], status["healthStatus"]) == ("running", "healthy")
        shown = await _generation(service, gid)
        assert shown["status"] == "running" and shown["lastLaunchAt"]
        assert shown["previewInstanceId"] == body["previewInstanceId"]
        stopped = (await service.stop(gid)).json()
        assert stopped["status"] == "stopped"
        assert stopped["stopReason"] == "stopped by the user"
        status = await service.status(gid)
        assert (status["healthStatus"], status["stopReason"]) == ("unknown", "stopped by the user")
        assert (await _generation(service, gid))["status"] == "stopped"


async def _stop_with_the_cli(service: Service, gid: str) -> str:
    """``preview stop`` as a user runs it: its own process, its words on stdout."""
    done = await trio.run_process(
        [sys.executable, "-m", "preview", "stop", gid, "--url", service.url, "--token", token()],
        env={"PREVIEW_JWT_SECRET": SECRET, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


async def test_the_cli_says_who_stopped_it_not_the_signal(
    unsandboxed: Settings, service: Service
) -> None:
    # An app that ignores SIGTERM and ends on SIGUSR1: the CLI's stop arrives while the
    # service's own stop (its shutdown) is under way, and the test lets the app end.
    lingering = server_app(
        before_serving="""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, lambda *_: os._exit(0))
        """
    )
    with trio.fail_after(120):
        gid = await service.upload(server_app())
        launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
        service.children.append(launched["processId"])
        out = await _stop_with_the_cli(service, gid)
        assert out == f"{launched['previewInstanceId']}: stopped by you\n", out

        other = await service.upload(lingering)
        launched = (await service.launch(other, command=SERVER_COMMAND)).json()
        assert launched["status"] == "running", launched
        service.children.append(launched["processId"])
        runtime = service.supervisor.get(launched["previewInstanceId"])
        object.__setattr__(unsandboxed, "stop_grace", 100.0)  # the app ends when told
        runtime.request_stop("the service is shutting down")
        await eventually(lambda: runtime.status == "stopping")
        waiting = runtime.finished.statistics().tasks_waiting
        said: list[str] = []

        async def stop() -> None:
            said.append(await _stop_with_the_cli(service, other))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(stop)
            # The CLI's DELETE waits for the end: then the app may go.
            await eventually(lambda: runtime.finished.statistics().tasks_waiting > waiting, 0.05)
            os.kill(launched["processId"], signal.SIGUSR1)
        assert said == [f"{launched['previewInstanceId']}: stopped: the service shut down\n"]
        status = await service.status(other)
        assert (status["status"], status["healthStatus"]) == ("stopped", "unknown")


# The list's badge of one generation, each text it shows, with the header's at that moment.
_RECORD_LIST = """(gid) => {
  window.__listSeen = [];
  const note = () => window.__listSeen.push([
    document.querySelector(`#generation-list button[data-gid='${gid}'] .badge`)?.textContent,
    document.getElementById('status-badge').dataset.status,
  ]);
  new MutationObserver(note).observe(document.getElementById('generation-list'), {
    childList: true, characterData: true, subtree: true,
  });
  note();
}"""


async def test_a_launch_says_starting_in_the_list_and_clears_a_no_preview_error(
    service: Service,
) -> None:
    """Found by a newcomer's pass: while a preview started, the list still said "not
    launched" (or its last "stopped") until it ran; the request tester's
    "no_active_preview" error, from a Send before the launch, stayed under a running
    preview; and a stopped preview's subtitle still named the port it gave back."""
    require_browser()
    slow = await service.upload(server_app(before_serving="time.sleep(1.5)"))

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _pick(page, slow)
            page.click("#tester-send")
            page.wait_for_selector("#tester-error:has-text('no_active_preview')")
            page.evaluate(_RECORD_LIST, slow)
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            page.wait_for_selector(
                f"#generation-list button[data-gid='{slow}'] .badge:text-is('running')"
            )
            seen["list"] = page.evaluate("() => window.__listSeen")
            seen["tester_error"] = page.is_visible("#tester-error")
            seen["running_subtitle"] = page.text_content("#preview-subtitle")
            page.click("#stop")
            page.wait_for_selector("#preview-subtitle:has-text('stopped by the user')")
            seen["stopped_subtitle"] = page.text_content("#preview-subtitle")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    said = [list_badge for list_badge, _header in seen["list"]]
    assert "starting" in said, seen["list"]
    assert said.index("starting") < said.index("running"), seen["list"]
    assert seen["tester_error"] is False
    # Its port while it runs; once stopped, the port is the pool's again: not said.
    assert " · port " in seen["running_subtitle"], seen["running_subtitle"]
    assert seen["stopped_subtitle"] == f"{slow} · stopped by the user", seen["stopped_subtitle"]


async def test_a_status_answer_older_than_the_stop_does_not_bring_the_preview_back(
    service: Service,
) -> None:
    """A status poll asked while the preview ran, answered after the stream said it
    stopped (seen as a flaky subtitle: "gen · port N" again under a stopped preview):
    the page keeps "stopped"; a preview's states only go forward."""
    require_browser()
    gid = await service.upload(server_app())

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            _pick(page, gid)
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#status-badge[data-status='running']", timeout=30_000)
            held: list[tuple[Any, Any]] = []
            holding = [True]

            def hold(route: Any) -> None:  # answered now, given to the page later
                if holding[0]:
                    held.append((route, route.fetch()))
                else:
                    route.continue_()

            page.route("**/preview/status*", hold)
            with page.expect_request("**/preview/status*", timeout=10_000):
                pass  # the next poll (every 2 s while it runs): its answer says running
            page.evaluate(_RECORD)
            page.click("#stop")
            page.wait_for_selector("#status-badge[data-status='stopped']", timeout=30_000)
            holding[0] = False
            for route, answer in held:  # the oldest first: "running", then the others
                route.fulfill(response=answer)
            page.wait_for_selector("#preview-subtitle:has-text('stopped by the user')")
            seen["held"] = len(held)
            seen["after_stop"] = page.evaluate("() => window.__seen.map(([status]) => status)")
            seen["subtitle"] = page.text_content("#preview-subtitle")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["held"] >= 1
    statuses = seen["after_stop"]
    assert "running" not in statuses[statuses.index("stopped") :], statuses
    assert seen["subtitle"] == f"{gid} · stopped by the user", seen["subtitle"]


async def test_the_routes_metric_says_how_many_of_the_smoke_checks_calls_were_ok(
    service: Service, settings: Settings
) -> None:
    """ "3 of 3 OK" (it said "3 answer"): the example's three GET routes without
    parameters (/, /health, /api/items), each called once by the smoke check."""
    require_browser()
    object.__setattr__(settings, "smoke_check", "on")
    with trio.fail_after(60):
        gid = await service.upload(example_files())
        launched = (await service.launch(gid)).json()
        assert launched["status"] == "running", launched
        # (polled: the status has the smoke check's outcome once it ran)
        while (health := (await service.status(gid)).get("health")) is None:  # noqa: ASYNC110
            await trio.sleep(0.05)
        assert (health["checked"], health["failing"]) == (3, []), health

    def script(url: str) -> str:
        with browser_page() as (page, log):
            _sign_in(page, url)
            _pick(page, gid)
            page.wait_for_function(
                "() => document.getElementById('metric-routes').textContent !== '–'"
            )
            shown = page.text_content("#metric-routes")
            log.assert_clean()
            return shown

    assert await in_browser(script, service.url) == "3 of 3 OK"
    await service.stop(gid)
