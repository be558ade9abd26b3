"""Issue 69, item 7, the UI's part: the owner's Activity card lists what was done to the
generation and its previews, newest first, with who did it, read from the audit trail
when it is opened; "Older" pages back."""

from __future__ import annotations

from typing import Any

import trio

from .conftest import SERVER_COMMAND, Service, auth, server_app
from .test_ui import _sign_in
from .ui_helpers import browser_page, in_browser, require_browser


async def test_the_activity_card_lists_the_generations_actions_newest_first(
    service: Service,
) -> None:
    require_browser()
    with trio.fail_after(180):
        gid = await service.upload(server_app())
        for n in range(30):  # more than a page (30): "Older" has some to show
            saved = await service.client.put(
                f"/api/generations/{gid}/presets/dev", json={"env": {"A": str(n)}}, headers=auth()
            )
            assert saved.status_code in (200, 201), saved.text
        launched = await service.launch(gid, command=SERVER_COMMAND)
        assert launched.json()["status"] == "running", launched.text
        assert (await service.stop(gid)).status_code == 200
        everything = (
            await service.client.get("/api/audit", params={"generation": gid}, headers=auth())
        ).json()["entries"]

        def script(url: str) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            with browser_page() as (page, log):
                _sign_in(page, url)
                page.click(f"#generation-list button[data-gid='{gid}']")
                page.click("#activity-details summary")
                page.wait_for_selector("#activity-list li")
                seen["actions"] = page.eval_on_selector_all(
                    "#activity-list li", "e => e.map(x => x.dataset.action)"
                )
                seen["first"] = page.text_content("#activity-list li")
                page.click("#activity-more")
                page.wait_for_selector("#activity-more", state="hidden")
                seen["all"] = page.eval_on_selector_all(
                    "#activity-list li", "e => e.map(x => x.dataset.action)"
                )
                log.assert_clean()
            return seen

        seen = await in_browser(script, service.url, within=120)
    assert len(everything) == 33  # upload, 30 preset saves, launch, stop
    assert seen["actions"] == [entry["action"] for entry in everything[:30]]
    assert seen["actions"][:3] == ["stop", "launch", "preset_put"]
    assert seen["all"] == [entry["action"] for entry in everything]  # the older page after
    assert seen["all"][-1] == "upload"
    assert "alice" in seen["first"] and "stopped" in seen["first"]
