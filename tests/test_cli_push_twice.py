"""``preview push`` of a folder already pushed, unchanged: the generation its files made
is named again (nothing uploaded, no copy), and ``preview watch`` is suggested for
sending changes; ``--new`` still makes a copy, and a changed folder a new generation.
Against a real service (issue 63, item 10)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from preview.settings import Settings

from .conftest import EXAMPLE_APP, Service, auth, token
from .ports_in_range import service_in_range
from .test_cli import cli, cli_env  # noqa: F401 (a fixture)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    async with service_in_range(settings, 23100, 23199) as running:
        yield running


async def _listed(service: Service) -> list[str]:
    listed = await service.client.get("/api/generations", headers=auth())
    return [g["generationId"] for g in listed.json()["generations"]]


async def test_the_same_folder_pushed_twice_is_one_generation(
    service: Service,
    cli_env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    common = ["--url", service.url, "--token", token("alice")]
    folder = tmp_path / "hello"
    shutil.copytree(EXAMPLE_APP, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with trio.fail_after(60):
        assert await cli("push", str(folder), *common) == 0
        first = capsys.readouterr()
        gid = first.out.strip()
        assert "already has" not in first.err

        assert await cli("push", str(folder), *common) == 0
        again = capsys.readouterr()
        assert again.out.strip() == gid  # still the id alone: GID=$(preview push DIR)
        assert f"{gid} (hello) already has these same files: nothing uploaded" in again.err
        assert f"preview watch {folder} {gid}" in again.err, again.err
        assert await _listed(service) == [gid]

        # A user who wants a copy says so.
        assert await cli("push", str(folder), "--new", *common) == 0
        copy = capsys.readouterr().out.strip()
        assert copy != gid and sorted(await _listed(service)) == sorted([gid, copy])

        # A changed file is another generation's files.
        main = folder / "app" / "main.py"
        main.write_text(main.read_text() + "\n# changed\n")
        assert await cli("push", str(folder), *common) == 0
        changed = capsys.readouterr()
        assert changed.out.strip() not in (gid, copy) and "already has" not in changed.err

        # Another user's identical upload is theirs alone: never answered with alice's.
        bob = ["--url", service.url, "--token", token("bob")]
        assert await cli("push", str(folder), *bob) == 0
        assert capsys.readouterr().out.strip() not in (gid, copy, changed.out.strip())


async def test_the_api_reuses_only_when_asked(service: Service) -> None:
    """Without ``existing=reuse`` an upload is always a new generation (the page's, a
    script's); with it, the user's generation with exactly these files (its latest
    revision's) answers 200 with ``existing: true``."""
    files = {"server.py": "print('hi')\n"}
    with trio.fail_after(30):
        one = await service.upload(files)
        two = await service.upload(files)
        assert one != two
        asked = await service.client.post(
            "/api/generations",
            params={"existing": "reuse"},
            json={"projectId": "p", "files": files},
            headers=auth(),
        )
        assert asked.status_code == 200, asked.text
        assert asked.json()["existing"] is True and asked.json()["generationId"] == two
        # After a revision, its files are the latest revision's.
        revised = await service.client.post(
            f"/api/generations/{two}/revisions",
            json={"files": {"server.py": "print('bye')\n"}},
            headers=auth(),
        )
        assert revised.status_code == 201, revised.text
        asked = await service.client.post(
            "/api/generations",
            params={"existing": "reuse"},
            json={"files": {"server.py": "print('bye')\n"}},
            headers=auth(),
        )
        assert asked.status_code == 200 and asked.json()["generationId"] == two, asked.text
