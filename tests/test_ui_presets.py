"""Issue 69, item 3, the UI's part: the launch options list the generation's environment
presets; a picked one shows its variables (a secret one masked: its value never reaches
the page), a switch-like one as a checkbox, and "Launch with preset" starts the app with
the preset's variables, a flipped switch's new value over them."""

from __future__ import annotations

from functools import partial
from typing import Any

import trio

from preview.store.presets import get_preset

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


async def test_a_preset_is_made_edited_with_its_secret_kept_and_deleted_in_the_page(
    service: Service,
) -> None:
    """New preset, Edit and Delete in the launch options: a secret typed once is stored and
    never shown again, an edit that leaves it empty keeps it, a name the API refuses is
    said in the editor, and Delete asks first."""
    require_browser()
    with trio.fail_after(240):
        gid = await service.upload(_SAYS_ITS_ENV)
        presets = f"/api/generations/{gid}/presets"

        def script(url: str) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            with browser_page() as (page, log):
                _sign_in(page, url)
                page.click(f"#generation-list button[data-gid='{gid}']")
                page.click("summary:has-text('Launch options')")
                page.click("#preset-new")
                page.fill("#preset-name", "dev")
                rows = "#preset-editor-rows .preset-variable"
                page.locator(f"{rows} input[aria-label='Variable name']").nth(0).fill("GREETING")
                page.locator(f"{rows} input[aria-label='Value']").nth(0).fill("hello")
                page.click("#preset-add-variable")
                page.locator(f"{rows} input[aria-label='Variable name']").nth(1).fill("API_KEY")
                page.locator(f"{rows} input[aria-label='Value']").nth(1).fill(SECRET_VALUE)
                page.locator(f"{rows} input[aria-label='Secret']").nth(1).check()
                page.click("#preset-save")
                page.wait_for_selector("#preset-editor", state="hidden")
                page.wait_for_selector("#preset-variables:not([hidden])")
                seen["picked"] = page.eval_on_selector("#launch-preset", "e => e.value")
                seen["rows"] = page.eval_on_selector_all(
                    "#preset-variables li", "e => e.map(x => x.textContent)"
                )
                page.click("#preset-edit")
                seen["name_read_only"] = page.eval_on_selector("#preset-name", "e => e.readOnly")
                values = page.locator(f"{rows} input[aria-label='Value']")
                seen["edit_values"] = [values.nth(i).input_value() for i in range(values.count())]
                seen["secret_in_page"] = SECRET_VALUE in page.content()
                names = page.locator(f"{rows} input[aria-label='Variable name']")
                greeting = [names.nth(i).input_value() for i in range(names.count())].index(
                    "GREETING"
                )
                values.nth(greeting).fill("hi")
                page.click("#preset-add-variable")
                names.nth(names.count() - 1).fill("not a name")
                page.click("#preset-save")
                page.wait_for_selector("#preset-editor-error:not([hidden])")
                seen["refused"] = page.text_content("#preset-editor-error")
                page.locator(f"{rows}").last.locator("button:has-text('Remove')").click()
                page.click("#preset-save")
                page.wait_for_selector("#preset-editor", state="hidden")
                page.wait_for_selector("#preset-variables li:has-text('GREETING = hi')")
                listed = trio.from_thread.run(partial(service.client.get, presets, headers=auth()))
                seen["after_edit"] = listed.json()
                seen["stored"] = trio.from_thread.run(
                    service.store.run_sync, get_preset, service.store.engine, gid, "dev"
                )
                page.once("dialog", lambda dialog: dialog.accept())
                page.click("#preset-delete")
                page.wait_for_selector("#launch-preset option[value='dev']", state="detached")
                log.assert_clean()
            return seen

        seen = await in_browser(script, service.url, within=180)
    assert seen["picked"] == "dev"
    assert "API_KEY = •••••• (secret)" in seen["rows"] and "GREETING = hello" in seen["rows"]
    assert seen["name_read_only"] is True
    assert sorted(seen["edit_values"]) == ["", "hello"]  # the secret's value is not shown
    assert seen["secret_in_page"] is False
    assert "env must be" in seen["refused"]  # the API's own words, in the editor
    [preset] = seen["after_edit"]["presets"]
    assert {v["name"]: v["value"] for v in preset["variables"]} == {
        "GREETING": "hi",
        "API_KEY": None,  # (a secret is never answered)
    }
    assert [v["name"] for v in preset["variables"] if v["secret"]] == ["API_KEY"]
    assert seen["stored"].env == {"GREETING": "hi", "API_KEY": SECRET_VALUE}  # kept
    assert await service.store.run_sync(get_preset, service.store.engine, gid, "dev") is None
