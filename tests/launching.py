"""Launching the fixture apps (``tests/fixtures/apps``) on a running service, for the tests
of every package that launches one: their files, the launch, the wait a cold build may
take, the messages of a log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from preview.apps.spec import LaunchSpec
from preview.builds.appenv import app_environment

from .conftest import Service, auth

__all__ = [
    "APPS",
    "BUILD_WAIT",
    "app_files",
    "called",
    "launch_environment",
    "launched",
    "messages",
]

APPS = Path(__file__).resolve().parent / "fixtures" / "apps"
BUILD_WAIT = 240  # a cold build from the index; cached ones take well under a second


def app_files(name: str) -> dict[str, str]:
    """The files of fixture app ``name``, by their paths in it."""
    root = APPS / name
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and "node_modules" not in path.parts
    }


def launch_environment(spec: LaunchSpec, defaults: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a launch of ``spec`` gives its app in a sandbox with no way out and
    no database served, ``defaults`` filled in below the rest (``configdefaults``)."""
    return app_environment(
        spec,
        "python3",
        app_dir=Path("/previews/p1"),
        database_env={},
        egress_open=False,
        memory_limit_mb=512,
        defaults=defaults,
    )


async def launched(service: Service, files: dict[str, str], **options: Any) -> dict[str, Any]:
    """``files`` uploaded and launched (the pro tier's limits): the launch's answer and
    the generation's id (``gid``)."""
    gid = await service.upload(files)
    response = await service.launch(gid, tier="pro", **options)
    assert response.status_code == 200, response.text
    return {"gid": gid, **response.json()}


async def called(service: Service, body: dict[str, Any], path: str = "/") -> dict[str, Any]:
    """The request envelope's answer to a GET of ``path`` on the preview ``body`` (a
    :func:`launched` answer) runs: ``statusCode``, ``data`` …"""
    answer = await service.client.post(
        f"/api/generations/{body['gid']}/preview/request",
        json={"method": "GET", "path": path},
        headers={**auth(), "X-Preview-Token": body["previewToken"]},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def messages(events: list[dict[str, Any]], source: str | None = None) -> list[str]:
    """The messages of ``events``, of ``source`` only when given."""
    return [e["message"] for e in events if source is None or e["source"] == source]
