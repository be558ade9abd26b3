"""Signing in to the web UI in a real Chromium: the bearer token is traded for the
HttpOnly session cookie and kept nowhere a script could read it; the cookie alone
carries the page through a reload, its calls (CSRF header included) and sign-out."""

from __future__ import annotations

from typing import Any

from .conftest import Service, token
from .ui_helpers import browser_page, in_browser, require_browser

_READABLE = "JSON.stringify([{...sessionStorage}, {...localStorage}, document.cookie])"


async def test_a_pasted_token_is_traded_for_the_cookie_and_forgotten(service: Service) -> None:
    require_browser()
    bearer = token()

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            page.goto(f"{url}/")
            # No cookie yet: the form, with no error.
            page.wait_for_selector("#sign-in:not([hidden])")
            seen["first error hidden"] = page.is_hidden("#sign-in-error")
            page.fill("#sign-in-token", bearer)
            page.click("#sign-in button[type='submit']")
            page.wait_for_selector("#app:not([hidden])")
            seen["user"] = page.text_content("#user-label")
            seen["readable"] = page.evaluate(_READABLE)
            seen["field"] = page.input_value("#sign-in-token")
            # A change through the cookie (the page's fetch adds the CSRF header).
            seen["upload"] = page.evaluate(
                """() => fetch('/api/generations', {method: 'POST',
                    headers: {'Content-Type': 'application/json', 'X-Preview-CSRF': '1'},
                    body: JSON.stringify({projectId: 'p', files: {'a.py': 'x'}})})
                    .then(r => r.status)"""
            )
            # Without the header, the same call is refused.
            seen["forged"] = page.evaluate(
                """() => fetch('/api/generations', {method: 'POST',
                    headers: {'Content-Type': 'text/plain'},
                    body: JSON.stringify({projectId: 'p', files: {'a.py': 'x'}})})
                    .then(r => r.status)"""
            )
            page.reload()
            page.wait_for_selector("#app:not([hidden])")
            seen["after reload"] = page.text_content("#user-label")
            page.wait_for_selector("#generation-list button[data-gid]")
            page.click("#sign-out")
            page.wait_for_selector("#sign-in:not([hidden])")
            seen["cookies after sign-out"] = [c["name"] for c in page.context.cookies()]
            page.reload()
            page.wait_for_selector("#sign-in:not([hidden])")
            seen["error after sign-out"] = page.is_hidden("#sign-in-error")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url)
    assert seen["first error hidden"] and seen["error after sign-out"]
    assert seen["user"] == seen["after reload"] == "alice (free)"
    assert bearer not in seen["readable"] and seen["readable"] == '[{},{},""]', seen
    assert seen["field"] == ""
    assert seen["upload"] == 201 and seen["forged"] == 403
    assert "preview_session" not in seen["cookies after sign-out"]
