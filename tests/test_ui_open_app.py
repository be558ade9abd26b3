""" "Open app" in a real browser goes to the app's own docs page, as its source sets it
(FastAPI's docs_url, which its OpenAPI does not list), and to its root when it has none."""

from __future__ import annotations

import re
from typing import Any

from .conftest import Service, auth
from .test_ui import _select, _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

CUSTOM_DOCS = """
from fastapi import FastAPI

REFERENCE = "/reference"
app = FastAPI(title="Custom docs", docs_url=f"{REFERENCE}/swagger")


@app.get("/items")
def items() -> list:
    return []
"""

NO_DOCS = """
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI(docs_url=None)


@app.get("/", response_class=PlainTextResponse)
def root() -> str:
    return "the app's own root"
"""


def _open_app(page: Any) -> tuple[str, str]:
    """Click "Open app": the URL the new tab lands on and its title."""
    page.wait_for_selector("#status-badge[data-status='running']")
    page.wait_for_selector("#endpoints-origin:has-text('live OpenAPI')")
    with page.context.expect_page() as opened:
        page.click("#open-app")
    tab = opened.value
    tab.wait_for_load_state("domcontentloaded")
    seen = tab.url, tab.title() or tab.text_content("body")
    tab.close()
    return seen


async def test_open_app_follows_the_apps_docs_url(service: Service) -> None:
    require_browser()
    answers = {}
    for name, source in (("custom", CUSTOM_DOCS), ("none", NO_DOCS)):
        gid = await service.upload({"main.py": source})
        launched = await service.launch(gid)
        assert launched.json()["status"] == "running", launched.text
        listing = await service.client.get(f"/api/generations/{gid}/endpoints", headers=auth())
        status = await service.status(gid)
        answers[name] = (listing.json()["docsPath"], status["docsPath"])

        def script(url: str, gid: str = gid) -> tuple[str, str]:
            with browser_page() as (page, log):
                _sign_in(page, url)
                _select(page, gid)
                seen = _open_app(page)
                log.assert_clean()
                return seen

        opened_url, text = await in_browser(script, service.url)
        answers[name] += (opened_url, text)
        assert (await service.stop(gid)).status_code == 200

    docs, docs_in_status, opened_url, title = answers["custom"]
    assert docs == docs_in_status == "/reference/swagger"
    assert re.fullmatch(r"http://preview-[0-9a-f]+\.localhost:\d+/reference/swagger", opened_url)
    assert "Custom docs" in title  # Swagger UI's page, whose assets (a CDN) are refused
    docs, docs_in_status, opened_url, text = answers["none"]
    assert docs is None and docs_in_status is None
    assert re.fullmatch(r"http://preview-[0-9a-f]+\.localhost:\d+/", opened_url)
    assert text == "the app's own root"
