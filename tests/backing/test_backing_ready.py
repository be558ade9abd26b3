"""An app that connects to its own MariaDB once, at start, while that server is still
starting (backing.servers.BackingServers.ready). A service's first MariaDB makes its
data-directory template first (mariadb-install-db: 6-9 s on a loaded machine); the app,
its environment reused, started before, its connection was retried by the sandbox's
forwarder for ~5 s and then closed, and PyMySQL said "Lost connection to MySQL server
during query" (the MariaDB tests, under a load average of 15)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import trio

from preview.backing.servers import mysql

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages
from ..sandbox.test_sandbox import require_sandbox
from .test_backing import _call

_WAITING = "waiting for the app's MariaDB to answer before it starts"


async def test_the_app_starts_once_its_slow_mariadb_answers(
    builder_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = builder_service
    require_sandbox(service)
    if mysql.mariadb_binary() is None:
        pytest.skip("mariadbd is not installed")
    # Its template is held until the service waits for it, or the app, started
    # meanwhile, has lost its connection (the forwarder gave it up).
    release, made = threading.Event(), mysql.ensure_template

    def held(data_dir: Path) -> Path:
        release.wait(BUILD_WAIT)
        return made(data_dir)

    monkeypatch.setattr(mysql, "ensure_template", held)
    try:
        with trio.fail_after(BUILD_WAIT):
            body = await launched(service, app_files("pymysql_app"), wait=False)
            gid = body["gid"]
            while not release.is_set():
                events = await service.history(gid)
                lost = any("Lost connection" in m for m in messages(events, "app"))
                if _WAITING in messages(events, "system") or lost:
                    release.set()
                await trio.sleep(0.05)
            status = await service.status(gid)
            while status["status"] not in ("running", "failed", "stopped"):
                await trio.sleep(0.05)
                status = await service.status(gid)
            assert status["status"] == "running", (status["errorMessage"], status["errorLines"])
            said = messages(await service.history(gid), "system")
            assert said.index(_WAITING) < next(
                i for i, m in enumerate(said) if m.startswith("process started")
            ), said
            await _call(service, body, "POST", "/", content=b"pear")
            assert (await _call(service, body, "GET", "/"))["items"] == ["pear"]
            assert (await service.stop(gid)).status_code == 200
    finally:
        release.set()
