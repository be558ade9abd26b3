"""Issue 24 §2, the UI's part: a launch that fails for want of configuration names every
variable in the status (``missingEnv``), the failure panel asks for each in a form, and
"Launch with these" launches again with them as the ``env`` option. Variables the app
requires that nobody set start on stand-ins (``configdefaults``); an app that refuses
them fails saying so, and they are what is asked for."""

from __future__ import annotations

from typing import Any

import trio

from preview.logs import missing_env
from preview.logs.causes import needed_variables, with_stand_ins

from .conftest import SERVER_COMMAND, Service, server_app
from .test_ui import _sign_in
from .ui_helpers import browser_page, in_browser, require_browser

# Dies at once without both, or given hosts that are no domain's (the stand-ins:
# localhost); prints what it was given when it has them.
_NEEDS_TWO = server_app(
    before_serving="""
    upstream = os.environ["UPSTREAM_HOST"]
    webhook = os.environ["WEBHOOK_HOST"]
    if "." not in upstream + webhook:
        raise SystemExit(f"no domain: {upstream} and {webhook}")
    say(f"configured: {upstream} and {webhook}")
    """
)


def test_missing_env_reads_every_name_the_failure_gives() -> None:
    one = needed_variables(["KeyError: 'WEBHOOK_HOST'"], 0, "KeyError: 'WEBHOOK_HOST'", ())
    assert one is None  # a KeyError with no os.environ in sight is not configuration
    lines = ['    webhook = os.environ["WEBHOOK_HOST"]', "KeyError: 'WEBHOOK_HOST'"]
    one = needed_variables(lines, 1, lines[1], ())
    many = needed_variables(lines, 1, lines[1], ("UPSTREAM_HOST", "WEBHOOK_HOST"))
    assert one is not None and many is not None
    assert missing_env(one) == ["WEBHOOK_HOST"]
    assert missing_env(many) == ["WEBHOOK_HOST", "UPSTREAM_HOST"]
    assert missing_env(f"set-up step `flask init-db` failed: {many}") == [
        "WEBHOOK_HOST",
        "UPSTREAM_HOST",
    ]
    assert missing_env("exited with code 1: ZeroDivisionError: division by zero") == []
    assert missing_env(None) == []
    stood = with_stand_ins("exited with code 1: no domain", ["UPSTREAM_HOST", "WEBHOOK_HOST"])
    assert missing_env(stood) == ["UPSTREAM_HOST", "WEBHOOK_HOST"]
    assert with_stand_ins(many, ["OTHER"]) == many  # what is needed is said already
    assert with_stand_ins("exited with code 1", []) == "exited with code 1"


async def test_the_status_names_every_missing_variable(service: Service) -> None:
    with trio.fail_after(60):
        gid = await service.upload(_NEEDS_TWO)
        failed = (await service.launch(gid, command=SERVER_COMMAND)).json()
        assert failed["status"] == "failed", failed
        status = await service.status(gid)
        assert sorted(status["missingEnv"]) == ["UPSTREAM_HOST", "WEBHOOK_HOST"], status
        env = {"UPSTREAM_HOST": "a.example", "WEBHOOK_HOST": "b.example"}
        ran = await service.launch(gid, command=SERVER_COMMAND, env=env)
        service.children.append(ran.json()["processId"])
        status = await service.status(gid)
        assert (status["status"], status["missingEnv"]) == ("running", []), status


async def test_the_failure_asks_for_the_variables_and_relaunches_with_them(
    service: Service,
) -> None:
    require_browser()
    gid = await service.upload(_NEEDS_TWO)

    def script(url: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with browser_page() as (page, log):
            _sign_in(page, url)
            page.click(f"#generation-list button[data-gid='{gid}']")
            page.click("summary:has-text('Launch options')")
            page.fill("#launch-command", " ".join(SERVER_COMMAND))
            page.click("#launch")
            page.wait_for_selector("#missing-env:not([hidden])", timeout=30_000)
            seen["message"] = page.text_content("#failure-message")
            seen["labels"] = page.eval_on_selector_all(
                "#missing-env-fields label", "e => e.map(x => x.textContent)"
            )
            # Each field is its variable's, by its label.
            page.get_by_label("UPSTREAM_HOST").fill("upstream.example")
            page.get_by_label("WEBHOOK_HOST").fill("hooks.example")
            page.click("#missing-env-launch")  # a second start: slow on a loaded machine
            page.wait_for_selector("#status-badge[data-status='running']", timeout=90_000)
            page.wait_for_selector(
                "#terminal-rows .row:has-text('configured: upstream.example and hooks.example')"
            )
            seen["form_hidden"] = page.is_hidden("#missing-env")
            seen["failure_hidden"] = page.is_hidden("#failure")
            log.assert_clean()
        return seen

    seen = await in_browser(script, service.url, within=180)
    assert sorted(seen["labels"]) == ["UPSTREAM_HOST", "WEBHOOK_HOST"], seen
    assert "WEBHOOK_HOST" in seen["message"] and "UPSTREAM_HOST" in seen["message"]
    assert seen["form_hidden"] and seen["failure_hidden"]
    status = await service.status(gid)
    service.children.append(status["processId"])
    assert status["status"] == "running"
