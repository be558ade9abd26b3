"""Retake the README's screenshot, docs/ui-main.png: ``python -m tests.screenshot``.

The example app uploaded, launched and tried in the web UI at 1440 x 900, as a new user
would, against a service of its own (a temporary data directory, nothing else touched).
The page is taken once the app is healthy, the request tester has its answer and that
request's line is marked in the terminal, with the endpoints card scrolled fully into
view. The log shows no host path: the service's own lines name the app's directory and
interpreter as the user knows them (``runtime.lifecycle``); checked before the page is
kept.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import trio

from preview import Settings

from .conftest import EXAMPLE_APP, SECRET
from .ports_in_range import service_in_range
from .test_ui import _sign_in, _until
from .ui_helpers import browser_page, in_browser

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "ui-main.png"
# What a host path looks like in the log: the temporary data dir, a virtualenv, a home.
_HOST_PATH = re.compile(r"/(?:tmp|var|home|root|work|usr)/|\.venv|site-packages")


def _take(url: str) -> list[str]:
    """The page taken; the log lines it shows."""
    with browser_page(width=1440, height=900) as (page, log):
        _sign_in(page, url)
        page.fill("#upload-project", "hello-fastapi")
        page.set_input_files("#upload-folder", str(EXAMPLE_APP))
        page.click("#upload-submit")
        page.wait_for_selector("#upload-status:has-text('Uploaded')")
        page.click("#launch")
        page.wait_for_selector("#status-badge[data-status='running']", timeout=60_000)
        page.wait_for_selector("#connection[data-state='live']")
        page.wait_for_selector("#endpoints-origin:has-text('live OpenAPI')")
        _until(page, "document.getElementById('metric-health').textContent === 'healthy'")
        page.click("button[aria-label='Try GET /api/items']")
        page.click("#tester-send")
        page.wait_for_selector("#response-status:text-is('200')")
        # One item of that list: its id filled in from the answer (and said so).
        page.click("button[aria-label='Try GET /api/items/{item_id}']")
        page.wait_for_selector("#tester-filled:has-text('the answer to GET /api/items')")
        page.click("#tester-send")
        page.wait_for_selector("#response-time:has-text('/api/items/')")
        page.click("#response-log")  # the request's line, marked in the terminal
        page.wait_for_selector("#terminal-rows .row.selected")
        # The endpoints card whole, the tester's answer below it.
        page.eval_on_selector(".side-panel", "panel => { panel.scrollTop = 0; }")
        page.mouse.move(0, 0)  # no hover highlight
        lines: list[str] = page.eval_on_selector_all(
            "#terminal-rows .row", "rows => rows.map(r => r.textContent)"
        )
        shown = [line for line in lines if _HOST_PATH.search(line)]
        if shown:
            raise SystemExit(f"a host path in the log, not kept: {shown}")
        log.assert_clean()
        page.screenshot(path=str(OUTPUT))
        return lines


async def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data),
            jwt_secret=SECRET,
            build="off",  # the service's interpreter runs the example (apps extra)
        )
        # Ports of their own (the service's and the preview's, whose port the page shows),
        # away from the test runs' (from 20000 up).
        async with service_in_range(settings, 23500, 23599) as service:
            lines = await in_browser(_take, service.url, within=180)
    print(f"{OUTPUT} ({len(lines)} log lines on screen)", file=sys.stderr)


if __name__ == "__main__":
    trio.run(main)
