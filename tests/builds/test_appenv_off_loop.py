"""``app_environment`` (it parses the upload's modules: tens of ms for a big app) runs in
a worker thread, never on the event loop every preview's calls share; a launch computes
the environment of its set-up steps once and starts the app with it."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from preview.builds import app_environment

from ..conftest import SERVER_COMMAND, VERSIONED, Service, auth, server_app


class SlowEnvironment:
    """``app_environment`` that, before it returns, waits for another trio task of the
    service's process to answer it: only possible while the event loop is free."""

    def __init__(self) -> None:
        self.calls = 0
        self.on_loop = 0  # calls made on the event loop (they would block every task)
        self._send, self._receive = trio.open_memory_channel[trio.Event](0)

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        self.calls += 1
        try:
            trio.from_thread.run(self._answered)
        except RuntimeError:  # ("this is a blocking function; call it from a thread")
            self.on_loop += 1
        return app_environment(*args, **kwargs)

    async def _answered(self) -> None:
        answer = trio.Event()
        await self._send.send(answer)
        await answer.wait()

    async def answer(self) -> None:
        """The other task: answers each call while it is under way."""
        async for answer in self._receive:
            answer.set()


@pytest.fixture
def slow_environment(monkeypatch: pytest.MonkeyPatch) -> SlowEnvironment:
    slow = SlowEnvironment()
    for module in ("preview.runtime.lifecycle.runtime", "preview.runtime.swaps.candidate"):
        monkeypatch.setattr(f"{module}.app_environment", slow)
    return slow


SET_UP = {"setup.py": "open('set-up', 'w').close()\n"}


async def test_app_environment_runs_off_the_event_loop(
    service: Service, slow_environment: SlowEnvironment
) -> None:
    with trio.fail_after(30):
        gid = await service.upload(server_app(**SET_UP))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(slow_environment.answer)
            response = await service.launch(
                gid, command=SERVER_COMMAND, setup=["{python}", "setup.py"]
            )
            nursery.cancel_scope.cancel()
        assert response.status_code == 200, response.text
        launched = response.json()
        assert launched["status"] == "running"
        assert (await service.app_get(launched, "/")).text == "ok"
        # The configuration's (names only), the set-up step's; the app reuses the step's.
        assert slow_environment.on_loop == 0
        assert slow_environment.calls == 2
        assert (await service.stop(gid)).status_code == 200


async def test_a_revisions_environment_is_made_off_the_event_loop(
    service: Service, slow_environment: SlowEnvironment
) -> None:
    with trio.fail_after(60):
        gid = await service.upload(server_app(VERSIONED, **{"version.txt": "one"}))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(slow_environment.answer)
            launched = (await service.launch(gid, command=SERVER_COMMAND)).json()
            assert launched["status"] == "running", launched
            calls, on_loop = slow_environment.calls, slow_environment.on_loop
            posted = await service.client.post(
                f"/api/generations/{gid}/revisions",
                json={"files": {"version.txt": "two"}},
                headers=auth(),
            )
            nursery.cancel_scope.cancel()
        assert posted.status_code == 201, posted.text
        assert posted.json()["apply"]["state"] == "switched", posted.json()
        assert slow_environment.calls > calls  # (the candidate's own)
        assert slow_environment.on_loop == on_loop == 0
        assert (await service.stop(gid)).status_code == 200
