"""Issue 69, item 3, the UI's part: the launch options list the generation's environment
presets; a picked one shows its variables (a secret one masked: its value never reaches
the page), a switch-like one as a checkbox, and "Launch with preset" starts the app with
the preset's variables, a flipped switch's new value over them."""

from __future__ import annotations

from typing import Any

import trio

from .conftest import SERVER_COMMAND, Service, auth, server_app
from .test_ui import _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

SECRET_VALUE = "sk_test_ui_0123456789"
_SAYS_ITS_ENV = server_app(
    before_serving="""
    say("configured: " + " ".join(
        f"{name}={os.environ.get(name)}" for name in ("FEATURE_NEW_UI", "GREETING", "API_KEY")
    ))
    """
)


async def test_launch_with_a_preset_and_a_flipped_switch(service: Service) -> None:
    require_browser()
    with trio.fail_after(240):
        gid = await service.upload(_SAYS_ITS_ENV)
        preset = {
            "env": {"FEATURE_NEW_UI": "false", "GREETING": "hello", "API_KEY": SECRET_VALUE},
            "secret": ["API_KEY"],
        }
        made = await service.client.put(
            f"/api/generations/{gid}/presets/dev", json=preset, headers=auth()
        )
        assert made.status_code == 201, made.text

        def script(url: str) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            with browser_page() as (page, log):
                _sign_in(page, url)
                page.click(f"#generation-list button[data-gid='{gid}']")
                page.click("summary:has-text('Launch options')")
                page.fill("#launch-command", " ".join(SERVER_COMMAND))
                page.wait_for_selector("#launch-preset option[value='dev']", state="attached")
                page.select_option("#launch-preset", "dev")
                page.wait_for_selector("#preset-variables:not([hidden])")
                seen["rows"] = page.eval_on_selector_all(
                    "#preset-variables li", "e => e.map(x => x.textContent)"
                )
                seen["toggles"] = page.eval_on_selector_all(
                    "#preset-variables input[type=checkbox]",
                    "e => e.map(x => x.getAttribute('aria-label'))",
                )
                seen["secret_in_page"] = SECRET_VALUE in page.content()
                page.get_by_label("FEATURE_NEW_UI").check()
                page.click("#launch-with-preset")
                page.wait_for_selector("#status-badge[data-status='running']", timeout=90_000)
                page.wait_for_selector(
                    "#terminal-rows .row:has-text('configured: FEATURE_NEW_UI=true GREETING=hello')"
                )
                log.assert_clean()
            return seen

        seen = await in_browser(script, service.url, within=180)
        status = await service.status(gid)
        service.children.append(status["processId"])
        assert status["status"] == "running"
        assert seen["toggles"] == ["FEATURE_NEW_UI"], seen
        assert "API_KEY = •••••• (secret)" in seen["rows"], seen
        assert "GREETING = hello" in seen["rows"], seen
        assert seen["secret_in_page"] is False
        logs = await service.client.get(f"/api/generations/{gid}/preview/logs", headers=auth())
        said = [
            e["message"] for e in logs.json()["events"] if e["message"].startswith("configured")
        ]
        assert said == [f"configured: FEATURE_NEW_UI=true GREETING=hello API_KEY={SECRET_VALUE}"]
