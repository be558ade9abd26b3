"""The embedding example (examples/embedding/host.py): a host app mounts the service and
its own session cookie authenticates the API and the log stream, through the pluggable
``Authenticator``."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from preview import Settings

from .conftest import SERVER_COMMAND, auth, read_sse, server_app

HOST_FILE = Path(__file__).resolve().parent.parent / "examples" / "embedding" / "host.py"

FAILING = server_app(
    before_serving="""
    say("booting")
    say("reading settings", sys.stderr)
    time.sleep(0.3)
    say("connecting to the database")
    raise RuntimeError("no database configured")
    """
)


def load_host() -> ModuleType:
    spec = importlib.util.spec_from_file_location("embedding_host", HOST_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("embedding_host", module)
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def serving(app: Any, quart_app: Any) -> AsyncIterator[str]:
    """``app`` on a real Hypercorn on port 0 (as ``conftest.running_service``); its URL.
    ``quart_app`` is the service inside it, whose previews are stopped at the end."""
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.graceful_timeout = 2
    config.accesslog = None
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, shutdown_trigger=shutdown.wait))
        yield binds[0]
        with trio.fail_after(30):
            await quart_app.extensions["preview"].supervisor.aclose()
        shutdown.set()


async def test_the_hosts_own_cookie_authenticates_the_api_and_the_stream(
    settings: Settings,
) -> None:
    host = load_host().Host(settings)
    with trio.fail_after(60):
        async with (
            serving(host, host.preview) as url,
            httpx.AsyncClient(base_url=url, trust_env=False, timeout=30) as client,
        ):
            page = await client.get("/")
            assert page.status_code == 200 and "usePreviewLogs" in page.text
            signed_in = await client.post("/login", json={"user": "carol"})
            assert signed_in.status_code == 204
            assert "HttpOnly" in signed_in.headers["set-cookie"]
            upload = await client.post(
                "/api/generations", json={"projectId": "p", "files": FAILING}
            )
            assert upload.status_code == 201, upload.text
            gid = upload.json()["generationId"]
            launched = await client.post(
                f"/api/generations/{gid}/preview/launch",
                json={"wait": True, "command": SERVER_COMMAND},
            )
            assert launched.json()["status"] == "failed", launched.text
            stream_url = f"/api/generations/{gid}/preview/logs/stream"
            async with client.stream("GET", stream_url) as response:
                assert response.status_code == 200
                events = await read_sse(response)
            assert events[-1][0] == "end"
            messages = [data["message"] for _, data, _ in events[:-1]]
            assert "connecting to the database" in messages
            assert any(data.get("status") == "failed" for _, data, _ in events[:-1])

            # The generation is carol's: the service's own bearer for carol sees it too,
            # another user does not, and without the cookie nothing is accepted.
            assert (await client.get(f"/api/generations/{gid}", headers=auth("carol"))).is_success
            other = await client.get(f"/api/generations/{gid}", headers=auth("dave"))
            assert other.status_code == 404
            await client.post("/logout")
            client.cookies.clear()
            anonymous = await client.get(stream_url)
            assert anonymous.status_code == 401
            stale = await client.get(stream_url, headers={"Cookie": "host_session=ended-session"})
            assert stale.status_code == 401
            assert stale.json()["error"] == "session_expired"


_WRAPPED = """
import json, sys
from preview import Settings, create_app
from preview.proxy.hot.front import installed as hot_path_installed
from preview.transport import connection_guard
create_app(Settings(data_dir=sys.argv[1]), fast_paths=sys.argv[2] == "fast")
print(json.dumps([hot_path_installed(), sorted(connection_guard.installed())]))
"""


@pytest.mark.parametrize("asked", ["default", "fast"])
def test_an_embedders_hypercorn_is_wrapped_only_when_it_asks(tmp_path: Path, asked: str) -> None:
    """create_app() leaves the process's Hypercorn alone; fast_paths=True (preview serve's)
    wraps it for the hot path and the connection guard (issue 65, item 3). In a process
    of its own: a wrap, once made, is the process's."""
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPED, str(tmp_path / "data"), asked],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PREVIEW_JWT_SECRET": "x" * 32},
    )
    hot_path, guarded = json.loads(done.stdout.splitlines()[-1])
    if asked == "fast":
        assert hot_path is True and "TCPServer.run" in guarded
    else:
        assert hot_path is False and guarded == []
