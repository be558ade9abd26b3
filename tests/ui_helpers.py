"""Driving Debian's Chromium with Playwright (sync API) from the trio tests.

Playwright's sync API cannot run inside the trio event loop, so each browser script is
a plain function run in a worker thread (``in_browser``) while the service keeps running
in the test's loop; the script reaches back into that loop with ``trio.from_thread``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio

CHROMIUM = os.environ.get("PREVIEW_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Previews' own origins (<preview>.localhost) are loopback too: Chromium resolves them so.
_NOT_LOOPBACK = re.compile(r"^(?!https?://(127\.0\.0\.1|([a-z0-9-]+\.)?localhost)[:/])[a-z]+://")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
T = TypeVar("T")


def require_browser() -> None:
    """Skip (with the reason) where the browser or Playwright is missing."""
    pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs it")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")


@dataclass
class BrowserLog:
    """What the page said on its console and the errors it raised."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # requests off this machine, refused

    def assert_clean(self) -> None:
        # A CSP violation, an uncaught exception or a failed module load all land here.
        assert not self.errors, self.errors


@contextmanager
def browser_page(*, width: int = 1280, height: int = 800) -> Iterator[tuple[Any, BrowserLog]]:
    """A page in a fresh headless Chromium profile, and the log of what went wrong in it."""
    from playwright.sync_api import sync_playwright

    log = BrowserLog()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            # A wait's bound in the page: 45 s, as a loaded CI run (the whole suite on two
            # cores beside Chromium) once took more than 20 s to show a start-up's step
            # the service had already said; in_browser's bound stays the absolute one.
            context.set_default_timeout(45_000)

            # These machines have no network but loopback; nothing should try anyway
            # (the UI fetches nothing from elsewhere). Refused at once, and recorded.
            def refuse(route: Any) -> None:
                log.external.append(route.request.url)
                route.abort()

            context.route(_NOT_LOOPBACK, refuse)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("pageerror", lambda error: log.errors.append(f"pageerror: {error}"))

            def on_console(message: Any) -> None:
                log.console.append(f"{message.type}: {message.text}")
                # "Failed to load resource" is an HTTP error status the page handles
                # (e.g. 404 no_active_preview); JS errors and CSP refusals are kept.
                if message.type == "error" and "Failed to load resource" not in message.text:
                    log.errors.append(f"console: {message.text}")

            page.on("console", on_console)
            yield page, log
        finally:
            context.close()


async def in_browser(script: Callable[..., T], *args: Any, within: float = 120) -> T:
    """Run a sync Playwright ``script(*args)`` in a worker thread, failing after ``within`` s."""
    with trio.fail_after(within):
        return await trio.to_thread.run_sync(lambda: script(*args), abandon_on_cancel=True)


# Milliseconds from running ``action`` in the page to the next frame (the change drawn).
_NEXT_FRAME = """() => new Promise(resolve => {{
    const began = performance.now();
    {action};
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - began)));
}})"""


def time_to_next_frame(page: Any, action: str) -> float:
    return page.evaluate(_NEXT_FRAME.format(action=action))


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path
