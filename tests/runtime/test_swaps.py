"""A revision applied to a running preview (runtime.swaps): the new code starts beside
the old and takes over once it answers, with no failed request under load; a revision
that fails leaves the old one serving; changed dependencies are built first; a
migration a revision adds runs once; ``apply: false`` leaves the preview as it is."""

from __future__ import annotations

from typing import Any

import psutil
import trio

from preview import Settings

from ..conftest import SERVER_COMMAND, Service, auth, eventually, server_app

# Answers GET /version.txt with that file's text: which revision's files it runs.
VERSIONED = """
class Versioned(Handler):
    def do_GET(self):
        body = open("version.txt", "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
Handler = Versioned
"""


def _revisions(gid: str, rest: str = "") -> str:
    return f"/api/generations/{gid}/revisions{rest}"


async def _launch(service: Service, files: dict[str, str], **options: Any) -> tuple[str, dict]:
    gid = await service.upload(files)
    launched = (await service.launch(gid, command=SERVER_COMMAND, **options)).json()
    assert launched["status"] == "running", (launched["errorMessage"], launched["errorLines"])
    return gid, launched


async def _proxied(service: Service, gid: str, token: str, path: str) -> str:
    response = await service.client.get(
        f"/api/generations/{gid}/preview/proxy/{path}",
        headers={**auth(), "X-Preview-Token": token},
    )
    assert response.status_code == 200, response.text
    return response.text


async def test_a_revision_takes_over_with_no_failed_request_under_load(service: Service) -> None:
    gid, _, _ = await _swap_under_load(service)
    assert (await service.stop(gid)).status_code == 200


async def test_unsandboxed_the_new_process_gets_a_port_of_its_own(
    unsandboxed: Settings, service: Service
) -> None:
    gid, old_port, new_port = await _swap_under_load(service)
    assert new_port != old_port  # both listened on the host's loopback meanwhile
    with trio.fail_after(30):
        await eventually(lambda: old_port not in service.supervisor.ports.in_use)
        assert (await service.stop(gid)).status_code == 200


async def _swap_under_load(service: Service) -> tuple[str, int, int]:
    """Revision 2 applied while ~50 requests a second go through the proxy: every one
    answered, by revision 1 then 2; its generation and the ports of the two processes."""
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        old_pid = launched["processId"]
        answers: dict[str, int] = {}
        failures: list[str] = []
        sending = True

        async def one() -> None:
            try:
                text = await _proxied(service, gid, token, "version.txt")
            except (AssertionError, OSError, Exception) as error:  # every way a call fails
                failures.append(repr(error))
                return
            answers[text] = answers.get(text, 0) + 1

        async def load(nursery: trio.Nursery) -> None:
            while sending:  # about 50 requests a second, each on its own
                nursery.start_soon(one)
                await trio.sleep(0.02)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(load, nursery)
            await eventually(lambda: answers.get("one", 0) >= 25)
            posted = await service.client.post(
                _revisions(gid), json={"files": {"version.txt": "two"}}, headers=auth()
            )
            assert posted.status_code == 201, posted.text
            body = posted.json()
            assert body["applied"] is True, body
            assert body["apply"]["state"] == "switched"
            assert body["apply"]["message"].startswith(
                "revision 2: 1 file changed (version.txt) — ready in "
            )
            assert body["apply"]["message"].endswith(" ms, switched")
            assert body["preview"]["revision"] == 2
            assert body["preview"]["previewInstanceId"] == launched["previewInstanceId"]
            seen_before = answers.get("two", 0)
            await eventually(lambda: answers.get("two", 0) >= seen_before + 50)
            sending = False
        assert failures == []
        assert answers["one"] >= 25 and answers["two"] >= 50

        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 2
        assert status["previewInstanceId"] == launched["previewInstanceId"]
        assert status["lastApply"]["state"] == "switched"
        assert status["processId"] != old_pid
        # The replaced process is drained, then stopped.
        await eventually(lambda: not psutil.pid_exists(old_pid))
        events = await service.history(gid)
        ids = [e["id"] for e in events]
        assert ids == list(range(1, len(ids) + 1))  # one sequence throughout
        system = [e["message"] for e in events if e["source"] == "system"]
        assert any(
            m.startswith("revision 2: 1 file changed (version.txt); starting") for m in system
        )
        switched = [e for e in events if e.get("status") == "running"]
        assert switched[-1]["message"] == body["apply"]["message"]
        assert "revision 1: stopping (replaced by revision 2)" in system
    return gid, launched["port"], status["port"]


async def test_a_revision_that_fails_leaves_the_old_one_serving(service: Service) -> None:
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        broken = server_app(VERSIONED)["server.py"] + "\ndef oops(:\n"
        posted = await service.client.post(
            _revisions(gid), json={"files": {"server.py": broken}}, headers=auth()
        )
        assert posted.status_code == 201, posted.text
        body = posted.json()
        assert body["applied"] is False and body["apply"]["state"] == "failed"
        assert body["apply"]["message"].endswith("; still serving revision 1")
        assert "SyntaxError" in body["apply"]["errorMessage"]
        assert body["preview"]["revision"] == 1
        assert await _proxied(service, gid, token, "version.txt") == "one"
        status = await service.status(gid)
        assert status["status"] == "running" and status["revision"] == 1
        assert status["errorMessage"] is None  # the preview has not failed: its swap has
        assert status["lastApply"]["state"] == "failed"  # kept until the next swap
        assert status["processId"] == launched["processId"]
        errors = [e["message"] for e in await service.history(gid) if e["level"] == "ERROR"]
        assert body["apply"]["message"] in errors
        # A fixed revision then takes over.
        posted = await service.client.post(
            _revisions(gid),
            json={"files": {"server.py": server_app(VERSIONED)["server.py"], "version.txt": "3"}},
            headers=auth(),
        )
        assert posted.json()["applied"] is True, posted.text
        assert await _proxied(service, gid, token, "version.txt") == "3"
        assert (await service.stop(gid)).status_code == 200


async def test_apply_false_keeps_the_running_revision_until_applied(service: Service) -> None:
    with trio.fail_after(120):
        gid, launched = await _launch(service, server_app(VERSIONED, **{"version.txt": "one"}))
        token = launched["previewToken"]
        posted = await service.client.post(
            _revisions(gid), json={"files": {"version.txt": "two"}, "apply": False}, headers=auth()
        )
        assert posted.status_code == 201
        assert posted.json()["applied"] is False and posted.json()["apply"] is None
        assert await _proxied(service, gid, token, "version.txt") == "one"
        assert (await service.status(gid))["revision"] == 1
        # Applied later by its number (the UI's Apply button).
        applied = await service.client.post(_revisions(gid, "/2/apply"), headers=auth())
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] is True and applied.json()["changed"] == ["version.txt"]
        assert await _proxied(service, gid, token, "version.txt") == "two"
        await service.stop(gid)
        refused = await service.client.post(_revisions(gid, "/1/apply"), headers=auth())
        assert refused.status_code == 409 and refused.json()["error"] == "preview_not_running"
