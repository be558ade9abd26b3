"""The service run the way `./dev serve` runs it: `PREVIEW_DATA_DIR=.preview-data`, a path
relative to where it started. Every path setting is made absolute once, at start
(``Settings.__post_init__``); before, the private PostgreSQL's `initdb` failed in its
sandbox ("bwrap: Can't find source path .preview-data/postgres/making-…/passwd"), while
every test, on an absolute temp dir, passed. Real builds, real servers, real sandboxes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from preview import Settings

from ..backing import test_app_postgres, test_backing
from ..conftest import Service, running_service


@pytest.fixture
def relative_settings(build_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    started_in = build_settings.data_dir.parent
    monkeypatch.chdir(started_in)
    relative = build_settings.data_dir.relative_to(started_in)
    return replace(
        build_settings,
        data_dir=Settings.from_env({"PREVIEW_DATA_DIR": str(relative)}).data_dir,
        # The session's shared environments, named relative to here.
        env_dir=os.path.relpath(build_settings.env_dir, started_in),
    )


@pytest.fixture
async def relative_service(relative_settings: Settings) -> AsyncIterator[Service]:
    async with running_service(relative_settings) as running:
        yield running


def test_every_path_setting_is_absolute_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(
        {
            "PREVIEW_DATA_DIR": ".preview-data",
            "PREVIEW_RUN_DIR": "run",
            "PREVIEW_ENV_DIR": "../envs",
            "PREVIEW_FIND_LINKS": "wheels",
            "PREVIEW_PYTHON": "bin/python",
            "PREVIEW_DB_URL": "sqlite:///state/preview.db",
        }
    )
    assert settings.data_dir == tmp_path / ".preview-data"
    assert settings.run_dir == str(tmp_path / "run")
    assert settings.previews_dir == tmp_path / "run"
    assert settings.env_dir == str(tmp_path / ".." / "envs")
    assert settings.find_links == str(tmp_path / "wheels")
    assert settings.python == str(tmp_path / "bin" / "python")
    assert settings.database_url == f"sqlite:///{tmp_path}/state/preview.db"
    # What names no path stays as given: a command on PATH, other databases, memory.
    kept = Settings.from_env(
        {
            "PREVIEW_PYTHON": "python3",
            "PREVIEW_DB_URL": "postgresql+psycopg://u@127.0.0.1/db",
        }
    )
    assert kept.python == "python3" and kept.db_url == "postgresql+psycopg://u@127.0.0.1/db"
    assert Settings(db_url="sqlite:///:memory:").db_url == "sqlite:///:memory:"
    assert Settings(db_url="sqlite:////abs/p.db").db_url == "sqlite:////abs/p.db"
    # Made once: a later change of the working directory changes nothing.
    monkeypatch.chdir("/")
    assert settings.data_dir == tmp_path / ".preview-data"
    assert replace(settings).data_dir == tmp_path / ".preview-data"


# The end-to-end tests of the private servers and the sandbox, run again on a service
# started the way `./dev serve` starts it.


async def test_postgres_and_redis_from_a_relative_data_dir(relative_service: Service) -> None:
    await test_backing.test_postgres_and_redis_by_their_compose_names(relative_service)


async def test_a_private_postgres_from_a_relative_data_dir(relative_service: Service) -> None:
    await test_app_postgres.test_compose_db_is_a_private_server(relative_service)


async def test_mariadb_from_a_relative_data_dir(relative_service: Service) -> None:
    await test_backing.test_its_own_mariadb_with_the_account_its_env_names(relative_service)
