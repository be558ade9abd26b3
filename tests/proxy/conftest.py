"""What the proxy tests share: the proxy target app (FastAPI, WebSockets), running."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from ..conftest import Service

TARGET = Path(__file__).resolve().parent / "apps" / "proxy_target"


def _target_files() -> dict[str, str]:
    return {
        str(p.relative_to(TARGET)): p.read_text()
        for p in TARGET.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture
async def running(service: Service):
    with trio.fail_after(60):
        gid = await service.upload(_target_files())
        body = (await service.launch(gid)).json()
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
    yield service, gid, body
    with trio.fail_after(30):
        await service.stop(gid)
